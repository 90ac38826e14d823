"""A backlog of large messages that are not events: quarantined at the pace of the disk, in bounded memory.

Found by a review: 800 messages of 1 MB of garbage on a cadre's subject took the ledger from 75 MB to 1.73 GB,
past its 1 GiB limit in Kubernetes, and after each restart it met the same backlog again. Two causes: JetStream
pushed up to `max_ack_pending` messages at once, more bytes than NATS lets wait for a connection, so NATS cut the
ledger off as a slow consumer and the messages came back only after `ack_wait` (seconds per message); and each
batch's rejected messages stayed in memory until Python's cyclic garbage collector happened to run.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import nats
import pytest

from shared.envelope import cadre_subject
from tests.support import System, audit_event, fetch, new_cadre_id, publish, wait_committed

MESSAGES = 300
SIZE = 1_000_000  # NATS's default max_payload is 1 MiB
GROWTH_MIB = 160  # 300 MB of messages; fixed, the ledger grows by about 60 MiB (by as much for 800)


@pytest.fixture
def own_system(tmp_path: Path) -> Iterator[System]:
    """A private system: its ledger is stopped while the backlog is published."""
    sys_ = System(tmp_path, services=("ledger",)).start()
    yield sys_
    sys_.stop()


def memory_mib(pid: int, field: str) -> int:
    """VmRSS (resident now) or VmHWM (the most ever resident) of a process, in MiB."""
    with open(f"/proc/{pid}/status") as status:
        line = next(line for line in status if line.startswith(f"{field}:"))
    return int(line.split()[1]) // 1024


async def test_a_backlog_of_large_invalid_messages_is_quarantined_quickly_in_bounded_memory(
        own_system: System) -> None:
    started_at = memory_mib(own_system.procs["ledger"].proc.pid, "VmRSS")  # a ledger with nothing to do
    own_system.procs["ledger"].stop()
    cadre = new_cadre_id("BIG")
    nc = await nats.connect(own_system.nats_url)
    try:
        js = nc.jetstream()
        garbage = bytes(range(256)) * (SIZE // 256)  # not UTF-8, not JSON
        for n in range(MESSAGES):
            await js.publish(cadre_subject("431021", cadre), n.to_bytes(4, "big") + garbage, timeout=10)
    finally:
        await nc.close()
    [last] = await publish(own_system.nats_url, [audit_event(cadre)])

    began = time.monotonic()
    ledger = await asyncio.to_thread(own_system.start_service, "ledger")
    await wait_committed(own_system.pg_dsn, last, timeout=45)
    took = time.monotonic() - began
    peak = memory_mib(ledger.proc.pid, "VmHWM")

    [row] = await fetch(own_system.pg_dsn, "SELECT count(*) AS n, min(reason) AS reason, max(length(raw)) AS size "
                                           "FROM quarantine")
    assert (row["n"], row["reason"], row["size"]) == (MESSAGES, "not_json", len(garbage) + 4)
    [event] = await fetch(own_system.pg_dsn, "SELECT count(*) AS n FROM ledger_events WHERE cadre_id = $1", cadre)
    assert event["n"] == 1, "the event behind the backlog is appended"
    assert peak - started_at < GROWTH_MIB, f"the ledger grew from {started_at} to {peak} MiB"
    # Before the fix each cut-off connection cost ack_wait (30 s): 76-100 s for 150 messages; here under 10 s.
    assert took < 30, f"quarantining {MESSAGES} MB took {took:.0f} s"
