"""Read models yield to a writer backlog: the projector works a share of the time while the writer drains one."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import nats
import orjson
import pytest

from services.ledger.backlog import Pacer, WriterBacklog, YieldPolicy
from tests.support import System, audit_event, fetch, publish, wait_committed, wait_until


@pytest.mark.parametrize(("threshold", "share", "backlog", "worked", "rest"), [
    (20_000, 0.2, 0, 0.1, 0.0),  # no backlog: full speed
    (20_000, 0.2, 19_999, 0.1, 0.0),  # below the threshold
    (20_000, 0.2, 20_000, 0.1, 0.4),  # at it: work a fifth of the time
    (20_000, 0.5, 900_000, 0.1, 0.1),  # half the time
    (20_000, 1.0, 900_000, 0.1, 0.0),  # a share of 1 works all the time
    (0, 0.2, 900_000, 0.1, 0.0),  # threshold 0: never yield
])
def test_rest_after_a_round(threshold: int, share: float, backlog: int, worked: float, rest: float) -> None:
    assert YieldPolicy(threshold, share).rest(backlog, worked) == pytest.approx(rest)


async def _backlog_of(system: System, consumer: str) -> tuple[int, int]:
    """(WriterBacklog's reading for `consumer`, the stream's last sequence)."""
    nc = await nats.connect(system.nats_url)
    conn = await asyncpg.connect(system.pg_dsn)
    try:
        js = nc.jetstream()
        reading = await WriterBacklog(js, "CADRE", consumer).messages(conn)
        return reading, int((await js.stream_info("CADRE")).state.last_seq)
    finally:
        await conn.close()
        await nc.close()


async def test_writer_backlog_is_the_stream_past_the_committed_checkpoint(system: System) -> None:
    seqs = await publish(system.nats_url, [audit_event("BACKLOG", n) for n in range(3)])
    await wait_committed(system.pg_dsn, seqs[-1])
    uncommitted, last = await _backlog_of(system, "a-consumer-with-no-checkpoint")
    assert uncommitted == last >= seqs[-1], "a consumer that committed nothing has the whole stream ahead"
    [row] = await fetch(system.pg_dsn, "SELECT stream_seq FROM consumer_checkpoint WHERE consumer = 'ledger'")
    writer, last = await _backlog_of(system, "ledger")
    assert writer == max(0, last - row["stream_seq"]) and writer < uncommitted


async def test_an_unreachable_stream_counts_as_no_backlog(system: System) -> None:
    nc = await nats.connect(system.nats_url)
    js = nc.jetstream()
    await nc.close()
    conn = await asyncpg.connect(system.pg_dsn)
    try:
        pacer = Pacer(YieldPolicy(1, 0.2), WriterBacklog(js, "CADRE", "nobody", timeout=1))
        assert await pacer.rest_after(conn, 0.1) == 0.0 and not pacer.yielding
    finally:
        await conn.close()


@pytest.fixture
def yielding_system(tmp_path: Path) -> Iterator[System]:
    """A private ledger whose read models yield to any backlog of 1,000 messages or more; small batches make its
    writer drain slowly enough for the read models to see the backlog."""
    sys_ = System(tmp_path, services=("ledger",), extra_env={
        "CADRE_PROJECTION_YIELD_BACKLOG": "1000", "CADRE_PROJECTION_BACKLOG_SHARE": "0.2",
        "CADRE_BATCH_SIZE": "100", "CADRE_BACKLOG_BATCH_SIZE": "100"}).start()
    yield sys_
    sys_.stop()


def _logged(system: System) -> list[str]:
    lines = system.procs["ledger"].log_path.read_text(errors="replace").splitlines()
    return [orjson.loads(line).get("msg", "") for line in lines if line.startswith("{")]


async def test_read_models_yield_while_the_writer_drains_then_catch_up(yielding_system: System) -> None:
    yielding_system.procs["ledger"].stop()
    events = [audit_event(f"Y{n % 50:02d}", n) for n in range(20_000)]
    seqs = await publish(yielding_system.nats_url, events, chunk=2000)
    await asyncio.to_thread(yielding_system.start_service, "ledger")
    await wait_committed(yielding_system.pg_dsn, seqs[-1], timeout=120)

    async def caught_up() -> bool:
        [row] = await fetch(yielding_system.pg_dsn, """
            SELECT (SELECT min(position) FROM projection_checkpoints) AS projected,
                   (SELECT max(position) FROM ledger_events) AS tip,
                   (SELECT count(*) FROM rm_audits WHERE cadre_id LIKE 'Y%') AS audits""")
        return bool(row["projected"] == row["tip"] and row["audits"] == len(events))

    assert await wait_until(caught_up, timeout=120), "the read models are not starved: they catch up"
    messages = _logged(yielding_system)
    yielded = messages.index("read models (读模型) yield to the writer's backlog")
    assert "writer's backlog drained; read models at full speed" in messages[yielded:]
