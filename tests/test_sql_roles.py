"""PostgreSQL roles: auditors read views only; no role may change the ledger."""

from __future__ import annotations

import hashlib
from datetime import date

import asyncpg
import orjson
import pytest

from bench.workload import registration
from shared.canonical import canonical_bytes
from shared.db import dsn_as
from shared.envelope import CloudEvent, new_event
from shared.events.registry import EventData
from shared.events.rotation import PostAssigned, RotationDue
from shared.rulesets import ruleset_for
from tests.support import System, audit_event, new_cadre_id, publish, wait_committed, wait_until


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


async def test_every_read_model_is_a_view_the_auditor_role_reads(system: System) -> None:
    """Each rm_* table has a v_* view over it (a read model added without one fails here); cadre_auditor reads
    every view and no read-model table, and the guide's overdue-rotation query runs as written."""
    owner = await asyncpg.connect(system.pg_dsn)
    try:
        tables = {r["relname"] for r in await owner.fetch(
            "SELECT relname FROM pg_class WHERE relkind = 'r' AND relname LIKE 'rm\\_%'")}
        used = {r["table_name"]: r["view_name"] for r in await owner.fetch(
            "SELECT view_name, table_name FROM information_schema.view_table_usage WHERE view_name LIKE 'v\\_%'")}
        views = [r["viewname"] for r in await owner.fetch("SELECT viewname FROM pg_views WHERE viewname LIKE 'v\\_%'")]
        columns: dict[str, list[str]] = {}
        for r in await owner.fetch("""SELECT table_name, column_name FROM information_schema.columns
                                      WHERE table_schema = 'public' ORDER BY table_name, ordinal_position"""):
            columns.setdefault(r["table_name"], []).append(r["column_name"])
    finally:
        await owner.close()
    assert tables and tables <= set(used), f"read models without a view: {sorted(tables - set(used))}"
    # a view lists its table's columns as they were when it was made: one a migration did not make again after
    # adding a column hides that column from the auditors
    over = {t: v for t, v in used.items() if t in tables}
    assert {v: columns[v] for v in over.values()} == {v: columns[t] for t, v in over.items()}, "views behind tables"
    conn = await asyncpg.connect(dsn_as(system.pg_dsn, "cadre_auditor"))
    try:
        for view in views:
            await conn.fetch(f"SELECT * FROM {view} LIMIT 1")
        for table in sorted(tables):
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await conn.fetch(f"SELECT * FROM {table} LIMIT 1")
    finally:
        await conn.close()


async def test_the_auditor_guide_s_overdue_rotation_query_finds_an_overdue_rotation(system: System) -> None:
    """A township clerk since 2010, due under township_8y in 2018: the guide's query, as cadre_auditor, lists it."""
    cadre = new_cadre_id("SQLDUE")

    def at(day: date, type_: str, data: EventData) -> CloudEvent:
        return new_event(event_type=type_, cadre_id=cadre, county="431021", service="rotation", data=data,
                         occurred_on=day, ruleset=ruleset_for("431021", day).id)

    posted = PostAssigned(post_id="P1", post="镇政府科员", unit="樟市镇人民政府", township="樟市镇", level="clerk",
                          leadership=False, kind="lateral", decision_date=date(2010, 3, 1))
    due = RotationDue(post_id="P1", rule="township_8y", since=date(2010, 3, 1), years=8, due_on=date(2018, 3, 1),
                      overdue_on=date(2018, 9, 1))
    seqs = await publish(system.nats_url, [registration(cadre, "431021"), at(date(2010, 3, 1), "post.assigned", posted),
                                           at(date(2018, 3, 1), "rotation.due", due)])
    await wait_committed(system.pg_dsn, seqs[-1])
    overdue = """SELECT cadre_id, post, unit, rule, due_on, overdue_on FROM v_rotation_due
                 WHERE county = '431021' AND (CASE WHEN deferred_until IS NOT NULL THEN current_date > deferred_until
                                                   ELSE current_date >= overdue_on END)"""
    conn = await asyncpg.connect(dsn_as(system.pg_dsn, "cadre_auditor"))
    try:
        async def listed() -> list[asyncpg.Record] | None:
            rows = [r for r in await conn.fetch(overdue) if r["cadre_id"] == cadre]
            return rows or None

        [row] = await wait_until(listed)
    finally:
        await conn.close()
    assert (row["rule"], row["unit"], row["overdue_on"]) == ("township_8y", "樟市镇人民政府", date(2018, 9, 1))


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
