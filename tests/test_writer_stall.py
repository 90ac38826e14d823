"""A commit that stalls (here: held on a row lock) holds back the commits behind it, loses nothing, and leaves a
ledger that verifies, with every event provable against a checkpoint signed after it."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest

from shared.db import READER_ROLE, dsn_as
from shared.keys import load_verifier
from shared.merkle import verify_inclusion
from shared.verify import verify_ledger
from tests.support import System, audit_event, call, fetch, new_cadre_id, publish, wait_committed, wait_until

BURSTS, PER_BURST = 5, 8


@pytest.fixture(scope="module")
def stall_system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    """A private ledger (the test holds its writer back) signing a checkpoint every 4 events, so batches
    planned during the stall carry checkpoints signed before the stalled batch committed."""
    sys_ = System(tmp_path_factory.mktemp("stall"), services=("ledger",),
                  extra_env={"CADRE_CHECKPOINT_EVERY_N": "4", "CADRE_BATCH_LINGER_MS": "10"}).start()
    yield sys_
    sys_.stop()


async def _writer_waits_for_a_lock(pg_dsn: str) -> bool:
    rows = await fetch(pg_dsn, "SELECT count(*) AS n FROM pg_locks WHERE NOT granted")
    return bool(rows[0]["n"])


async def test_a_stalled_commit_holds_back_the_batches_behind_it_and_loses_nothing(stall_system: System) -> None:
    system = stall_system
    await wait_committed(system.pg_dsn, max(await publish(system.nats_url, [audit_event(new_cadre_id())])))
    cadres = [new_cadre_id("S") for _ in range(3)]
    stalled = audit_event(cadres[0], 0)
    later = [audit_event(cadres[n % 3], n + 1) for n in range(BURSTS * PER_BURST)]

    locker: asyncpg.Connection = await asyncpg.connect(system.pg_dsn)
    try:
        async with locker.transaction():  # holds the writer's checkpoint row: its next commit waits for it
            await locker.execute("SELECT 1 FROM consumer_checkpoint WHERE consumer = 'ledger' FOR UPDATE")
            await publish(system.nats_url, [stalled])
            await wait_until(lambda: _writer_waits_for_a_lock(system.pg_dsn), timeout=10)
            seqs = []
            for i in range(0, len(later), PER_BURST):  # bursts further apart than the linger
                seqs += await publish(system.nats_url, later[i:i + PER_BURST])
                await asyncio.sleep(0.1)
            await asyncio.sleep(0.2)
            visible = await fetch(system.pg_dsn, "SELECT count(*) AS n FROM ledger_events WHERE cadre_id = ANY($1)",
                                  cadres)
            assert visible[0]["n"] == 0, "no batch commits ahead of the stalled one"
        await wait_committed(system.pg_dsn, max(seqs))
    finally:
        await locker.close()

    rows = await fetch(system.pg_dsn, "SELECT event_id::text AS id, position, xmin::text AS tx FROM ledger_events "
                                      "WHERE cadre_id = ANY($1) ORDER BY position", cadres)
    assert [r["id"] for r in rows] == [str(e.id) for e in [stalled, *later]], "all appended, in publish order"
    assert [r["position"] for r in rows] == list(range(rows[0]["position"], rows[0]["position"] + len(rows)))
    transactions = [r["tx"] for r in rows]
    assert transactions[0] != transactions[1], "the stalled batch committed on its own, before the rest"

    key = load_verifier(Path(system.env["CADRE_CHECKPOINT_KEY_FILE"]).with_suffix(".vkey").read_text().strip())
    report = await verify_ledger(dsn_as(system.pg_dsn, READER_ROLE), [key])
    assert report.ok, report.reason
    assert report.covered_size >= rows[-1]["position"] - 3, "the batches behind the stall stored their checkpoints"
    status, checkpoint, _ = await call("POST", f"{system.url('ledger')}/v1/checkpoints")
    assert status in (200, 201)  # 200: a checkpoint the ledger signed by itself covers the log
    for row in (rows[1], rows[-1]):
        status, inclusion, _ = await call("GET", f"{system.url('ledger')}/v1/proofs/inclusion?position="
                                                 f"{row['position']}&size={checkpoint['size']}")
        assert status == 200
        verify_inclusion(bytes.fromhex(inclusion["leaf_hash"]), row["position"] - 1, checkpoint["size"],
                         [bytes.fromhex(h) for h in inclusion["proof"]], bytes.fromhex(checkpoint["root"]))

