"""PostgreSQL roles: auditors read views only; no role may change the ledger."""

from __future__ import annotations

import hashlib

import asyncpg
import orjson
import pytest

from shared.canonical import canonical_bytes
from shared.db import dsn_as
from tests.support import System, audit_event, publish, wait_committed


async def test_auditor_role_reads_views_and_nothing_else(system: System) -> None:
    await wait_committed(system.pg_dsn, (await publish(system.nats_url, [audit_event("SQLAUD")]))[0])
    conn = await asyncpg.connect(dsn_as(system.pg_dsn, "cadre_auditor"))
    try:
        row = await conn.fetchrow("SELECT cadre_id, leaf_hash, envelope FROM v_events WHERE cadre_id = 'SQLAUD'")
        assert row is not None and len(row["leaf_hash"]) == 64
        # the envelope as jsonb is read from the hashed bytes (the ledger stores no copy of it)
        envelope = orjson.loads(row["envelope"])
        assert envelope["subject"] == "SQLAUD" and envelope["type"] == "audit.completed"
        assert hashlib.sha256(b"\x00" + canonical_bytes(envelope)).hexdigest() == row["leaf_hash"]
        assert await conn.fetchval("SELECT count(*) FROM v_checkpoints") >= 0
        for forbidden in ("SELECT * FROM ledger_events LIMIT 1", "SELECT raw FROM quarantine LIMIT 1",
                          "INSERT INTO rm_cadres VALUES ('x', '431021', 1, now(), now(), 'x', 1)"):
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await conn.execute(forbidden)
    finally:
        await conn.close()


async def test_no_service_role_may_update_or_delete_ledger_tables(system: System) -> None:
    conn = await asyncpg.connect(system.pg_dsn)
    try:
        rows = await conn.fetch(
            """SELECT grantee, table_name, privilege_type FROM information_schema.role_table_grants
               WHERE table_name IN ('ledger_events', 'quarantine', 'merkle_nodes', 'checkpoints',
                                    'checkpoint_cosignatures', 'access_trail', 'access_rejected')
                 AND grantee LIKE 'cadre_%' AND privilege_type IN ('UPDATE', 'DELETE', 'TRUNCATE')""")
    finally:
        await conn.close()
    assert [dict(r) for r in rows] == []
