"""Exactly once, checked on the ledger's table after faults (a kill -9 mid-ingest, a crash between commit and ack,
NATS or PostgreSQL gone, a writer's session cut): shared by the ledger, server and writer fault tests."""

from __future__ import annotations

import hashlib

from tests.support import System, fetch


async def assert_exactly_once(system: System, expected_ids: set[str]) -> None:
    """Every published event is in the ledger once; positions gap-free; every chain unbroken."""
    rows = await fetch(system.pg_dsn, """SELECT position, event_id::text AS id, cadre_id, cadre_version, prev_hash,
                                                leaf_hash, canonical FROM ledger_events ORDER BY position""")
    ids = [r["id"] for r in rows]
    assert len(ids) == len(set(ids)), "no event appended twice"
    assert set(ids) == expected_ids, "every published event appended"
    assert [r["position"] for r in rows] == list(range(1, len(rows) + 1)), "positions gap-free"
    heads: dict[str, tuple[int, bytes]] = {}
    for r in rows:
        assert bytes(r["leaf_hash"]) == hashlib.sha256(b"\x00" + bytes(r["canonical"])).digest()
        version, prev = heads.get(r["cadre_id"], (0, None))
        assert r["cadre_version"] == version + 1
        assert (bytes(r["prev_hash"]) if r["prev_hash"] is not None else None) == prev
        heads[r["cadre_id"]] = (r["cadre_version"], bytes(r["leaf_hash"]))
