"""Signed checkpoints reach the LEDGER_CHECKPOINTS stream in signing order, and the writer never waits for them."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

import nats
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from services.ledger import checkpointing
from services.ledger.checkpointing import CheckpointPolicy
from services.ledger.tree import StoredCheckpoint
from shared.bus import CHECKPOINT_STREAM
from shared.devstack import free_port
from shared.notekeys import Signer
from tests.support import System, audit_event, call, fetch, new_cadre_id, publish, wait_committed, wait_until


def stored(size: int) -> StoredCheckpoint:
    return StoredCheckpoint(size, size, bytes(32), f"note {size}")


def policy(publish: checkpointing.Publish) -> CheckpointPolicy:
    return CheckpointPolicy(Signer("test", Ed25519PrivateKey.generate()), "test", 1000, 5.0, publish)


def held() -> tuple[CheckpointPolicy, asyncio.Event, list[int]]:
    """A policy whose publications (sizes noted in order) wait until the event is set, as JetStream's answers
    would while the stream is slow or unreachable."""
    release = asyncio.Event()
    published: list[int] = []

    async def publish(checkpoint: StoredCheckpoint) -> None:
        await release.wait()
        published.append(checkpoint.size)

    return policy(publish), release, published


async def test_publication_does_not_hold_up_the_caller_and_keeps_signing_order() -> None:
    checkpoints, release, published = held()
    for size in (1000, 2000, 3000):
        checkpoints.publish_soon(stored(size))  # returns at once, though JetStream has not answered
    await asyncio.sleep(0.01)
    assert published == []
    release.set()
    await wait_until(lambda: asyncio.sleep(0.01, len(published) == 3), timeout=2)
    assert published == [1000, 2000, 3000]


async def test_an_unreachable_stream_drops_the_oldest_waiting_past_the_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(checkpointing, "UNPUBLISHED_LIMIT", 2)
    checkpoints, release, published = held()
    checkpoints.publish_soon(stored(1))
    await asyncio.sleep(0.01)  # 1 is being published; 2, 3 and 4 wait, and 2 is dropped for 4
    for size in (2, 3, 4):
        checkpoints.publish_soon(stored(size))
    release.set()
    await wait_until(lambda: asyncio.sleep(0.01, len(published) == 3), timeout=2)
    assert published == [1, 3, 4]


async def test_every_checkpoint_signed_while_ingesting_is_published_in_order(system: System) -> None:
    before = (await fetch(system.pg_dsn, "SELECT coalesce(max(id), 0) AS id FROM checkpoints"))[0]["id"]
    cadre = new_cadre_id("CKP")
    seqs = await publish(system.nats_url, [audit_event(cadre, k) for k in range(1, 2501)])
    await wait_committed(system.pg_dsn, max(seqs))
    rows = await fetch(system.pg_dsn, "SELECT size, note FROM checkpoints WHERE id > $1 ORDER BY id", before)
    assert len(rows) >= 2, "2,500 events sign at least two checkpoints (one per 1,000)"
    nc = await nats.connect(system.nats_url)
    try:
        js = nc.jetstream()

        async def published_notes() -> list[str]:
            info = await js.stream_info(CHECKPOINT_STREAM)
            notes = [(await js.get_msg(CHECKPOINT_STREAM, seq)).data or b""
                     for seq in range(info.state.first_seq, info.state.last_seq + 1)]
            return [n.decode() for n in notes]

        async def all_published() -> bool:
            return rows[-1]["note"] in await published_notes()

        await wait_until(all_published, timeout=10)
        notes = await published_notes()
    finally:
        await nc.close()
    ours = [n for n in notes if n in {r["note"] for r in rows}]
    assert ours == [r["note"] for r in rows], "each stored checkpoint once, in the order it was signed"


async def test_a_failed_publication_is_logged_and_the_next_one_still_goes(caplog: pytest.LogCaptureFixture) -> None:
    published: list[int] = []

    async def flaky_publish(checkpoint: StoredCheckpoint) -> None:
        if checkpoint.size == 1:
            raise nats.errors.NoRespondersError
        published.append(checkpoint.size)

    checkpoints = policy(flaky_publish)
    for size in (1, 2):
        checkpoints.publish_soon(stored(size))
    await wait_until(lambda: asyncio.sleep(0.01, published == [2]), timeout=2)
    assert any("checkpoint not published" in r.getMessage() and getattr(r, "size", None) == 1 for r in caplog.records)


async def test_a_ledger_refuses_to_start_under_another_origin_than_its_log_s(system: System) -> None:
    """A log keeps its origin for good: witnesses would refuse its checkpoints as another log's, and an auditor's
    browser remembers the log by it."""
    await wait_committed(system.pg_dsn, (await publish(system.nats_url, [audit_event(new_cadre_id())]))[0])
    status, latest, _ = await call("POST", f"{system.url('ledger')}/v1/checkpoints")
    assert status in (200, 201), latest
    env = {**os.environ, **system.env_for("ledger"), "CADRE_LEDGER_PORT": str(free_port()),
           "CADRE_LOG_ORIGIN": "another.example/log/CADRE"}
    started = await asyncio.to_thread(subprocess.run, [sys.executable, "-m", "services.ledger.main"], env=env,
                                      capture_output=True, text=True, timeout=120)
    assert started.returncode != 0
    assert "CADRE_LOG_ORIGIN='another.example/log/CADRE' is not this log's origin" in started.stderr, started.stderr
    assert "日志名称不符" in started.stderr and "Traceback" not in started.stderr


def test_the_same_origin_or_a_log_without_checkpoints_starts() -> None:
    checkpointing.same_origin("gy.example/log/CADRE", "gy.example/log/CADRE")
    checkpointing.same_origin("gy.example/log/CADRE", None)
    with pytest.raises(SystemExit, match="日志名称不符"):
        checkpointing.same_origin("gy.example/log/CADRE", "cadre-ledger.example/log/CADRE")
