"""The writer's validation workers: the same outcome as validating on the writer's thread, and never stuck."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import orjson
import pytest

from services.ledger.domain import StreamMessage, classify, plan_batch
from services.ledger.validation import Validator
from shared.merkle import leaf_hash
from tests.support import audit_event


def mixed_batch() -> list[StreamMessage]:
    """Valid events of two cadres, and one message for each way a message is not an event."""
    wrong_type = orjson.loads(audit_event("V1").canonical())
    wrong_type["type"] = "audit.nonsense"
    no_data = orjson.loads(audit_event("V1").canonical())
    del no_data["data"]
    upper_id = orjson.loads(audit_event("V1").canonical())
    upper_id["id"] = str(uuid.uuid4()).upper()
    raw = [(audit_event("V1", 1).canonical(), "cadre.431021.V1"), (b"\xff not json", "cadre.431021.V1"),
           (b"[1, 2]", "cadre.431021.V1"), (orjson.dumps(wrong_type), "cadre.431021.V1"),
           (orjson.dumps(no_data), "cadre.431021.V1"), (orjson.dumps(upper_id), "cadre.431021.V1"),
           (audit_event("V2", 1).canonical(), "cadre.431021.V1"), (audit_event("V2", 1).canonical(), "cadre.431021.V2"),
           (audit_event("V1", 2).canonical(), "cadre.431021.V1")]
    # Delivered out of order: the outcome is in stream order either way.
    return [StreamMessage(seq, subject, data) for seq, (data, subject) in reversed(list(enumerate(raw, 100)))]


async def test_workers_classify_exactly_as_the_writers_thread_does() -> None:
    messages = mixed_batch()
    expected = classify(messages)
    for workers in (0, 1, 3):
        validator = Validator(workers)
        try:
            got = await validator.classify(messages)
        finally:
            validator.close()
        assert [c.msg.stream_seq for c in got] == list(range(100, 109)), workers
        assert [c.event for c in got] == [c.event for c in expected], workers
        assert [(c.rejection.reason, c.rejection.detail) if c.rejection else None for c in got] == [
            (c.rejection.reason, c.rejection.detail) if c.rejection else None for c in expected], workers
    reasons = [c.rejection.reason if c.rejection else "ok" for c in expected]
    assert reasons == ["ok", "not_json", "not_cloudevent", "unknown_type", "not_cloudevent", "not_cloudevent",
                       "subject_mismatch", "ok", "ok"]
    first = expected[0].event
    assert first is not None and first.leaf_hash == leaf_hash(first.canonical) and first.cadre_id == "V1"


async def test_a_plan_from_workers_outcomes_is_the_plan_from_the_writers_thread() -> None:
    messages = mixed_batch()
    validator = Validator(1)
    try:
        from_workers = plan_batch(await validator.classify(messages), checkpoint_seq=99, next_position=1, heads={},
                                  stored_ids={})
    finally:
        validator.close()
    here = plan_batch(classify(messages), checkpoint_seq=99, next_position=1, heads={}, stored_ids={})
    assert from_workers.events == here.events and from_workers.quarantined == here.quarantined
    assert [(e.cadre_id, e.cadre_version) for e in from_workers.events] == [("V1", 1), ("V2", 1), ("V1", 2)]


async def test_a_dead_worker_is_replaced_and_its_batch_validated_anyway() -> None:
    messages = mixed_batch()
    expected = [c.event for c in classify(messages)]
    validator = Validator(1)
    try:
        assert [c.event for c in await validator.classify(messages)] == expected
        pool = validator._pool
        assert pool is not None
        for pid in list(pool._processes):  # the pool's own record of its workers
            os.kill(pid, signal.SIGKILL)
        time.sleep(0.2)
        assert [c.event for c in await validator.classify(messages)] == expected
        assert [c.event for c in await validator.classify(messages)] == expected
        assert validator._pool is not None and validator._pool is not pool, "a new pool took over"
    finally:
        validator.close()


def test_workers_leave_with_a_ledger_killed_outright(tmp_path: Path) -> None:
    script = tmp_path / "parent.py"
    script.write_text(
        "import asyncio, sys, time\n"
        "from services.ledger.domain import StreamMessage\n"
        "from services.ledger.validation import Validator\n"
        "async def main():\n"
        "    validator = Validator(1)\n"
        "    await validator.classify([StreamMessage(1, 'cadre.431021.V1', b'{}')])\n"
        "    print(*validator._pool._processes, flush=True)\n"
        "    time.sleep(60)\n"
        "if __name__ == '__main__':\n"
        "    asyncio.run(main())\n")
    parent = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True,
                              cwd=Path(__file__).parent.parent, env={**os.environ, "PYTHONPATH": "."})
    try:
        assert parent.stdout is not None
        workers = [int(pid) for pid in parent.stdout.readline().split()]
        assert workers and all(_alive(pid) for pid in workers)
        parent.kill()
        parent.wait()
        deadline = time.monotonic() + 10
        while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not any(_alive(pid) for pid in workers), "a validation worker outlived its ledger"
    finally:
        parent.kill()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as stat:  # a zombie has exited: only its parent's wait is missing
        return stat.read().rsplit(")", 1)[1].split()[0] != "Z"


@pytest.mark.parametrize("workers", [0, 2])
async def test_an_empty_batch_is_an_empty_outcome(workers: int) -> None:
    validator = Validator(workers)
    try:
        assert await validator.classify([]) == []
    finally:
        validator.close()
