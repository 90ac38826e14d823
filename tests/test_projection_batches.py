"""Read models come out the same however the ledger is cut: event by event, in live rounds of any size,
one projection at a time, and rebuilt from position 0 (with and without a second reading connection).

The set-based statements of a batch must keep the effect of applying its events in position order,
including when one key (a cadre, an audit, a finding) comes back several times in one batch. The
reference applies audit.completed in Python, event by event; every other way applies it straight
from the ledger in SQL wherever no other kind of event of the span touches the audit.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from services.ledger.projections import Projection, Span, catch_up, fetch_events, step
from services.ledger.read_models import all_projections
from services.ledger.read_models.audit_findings import AuditFindingsProjection
from services.ledger.read_models.rotation_postings import RotationProjection
from services.ledger.rebuild import rebuild_all
from services.ledger.statements import Bulk, Statements, bulk
from shared import demo
from shared.db import WRITER_ROLE, dsn_as
from shared.envelope import CloudEvent, new_event
from shared.events import audit
from shared.events.rotation import PostAssigned
from shared.rulesets import ruleset_for
from shared.tenure import TENURE_EVENTS, Posting, applicable_rules
from tests import support
from tests.support import System, event_by_event, new_cadre_id, publish, wait_committed, wait_until

Snapshot = dict[str, list[tuple[Any, ...]]]


def _repeated_keys(cadre: str) -> list[CloudEvent]:
    """One audit's whole life, with its audit and findings coming back, published together (so in one batch).

    Before it, an audit is rectified and answered before it exists (nothing to change yet), then completed.
    """
    f = [audit.Finding(finding_id=f"F{i}", category=1, amount=f"{i}000.50", responsibility="direct")
         for i in range(1, 4)]
    steps: list[tuple[str, Any]] = [
        ("audit.finding_rectified", audit.AuditFindingRectified(audit_id="A0", finding_id="F1")),
        ("audit.opinion_received", audit.AuditOpinionReceived(audit_id="A0", agrees=True)),
        ("audit.completed", audit.AuditCompleted(audit_id="A0", audit_type="in_office", report_number="R0",
                                                 evaluation="good", findings=f[:1])),
        ("audit.started", audit.AuditStarted(audit_id="A1", audit_type="departure", period_from=date(2020, 1, 1),
                                             period_to=date(2021, 1, 1), auditing_body="审计局", post_id="P1")),
        ("audit.opinion_requested", audit.AuditOpinionRequested(audit_id="A1", due=date(2021, 3, 1))),
        ("audit.completed", audit.AuditCompleted(audit_id="A1", audit_type="departure", report_number="R1",
                                                 evaluation="good", findings=f[:2])),
        ("audit.finding_rectified", audit.AuditFindingRectified(audit_id="A1", finding_id="F1",
                                                                amount_recovered="10.00")),
        ("audit.opinion_received", audit.AuditOpinionReceived(audit_id="A1", agrees=True)),
        ("audit.completed", audit.AuditCompleted(audit_id="A1", audit_type="departure", report_number="R2",
                                                 evaluation="poor", findings=[f[1], f[2], f[2]])),
        ("audit.finding_rectified", audit.AuditFindingRectified(audit_id="A1", finding_id="F1",
                                                                amount_recovered="99.00")),
        ("audit.result_applied", audit.AuditResultApplied(audit_id="A1", result="talk", filed_to_dossier=False)),
        ("audit.finding_rectified", audit.AuditFindingRectified(audit_id="A1", finding_id="F3")),
        ("audit.result_applied", audit.AuditResultApplied(audit_id="A1", result="referral", filed_to_dossier=True)),
        ("audit.started", audit.AuditStarted(audit_id="A2", audit_type="in_office", period_from=date(2020, 1, 1),
                                             period_to=date(2021, 1, 1), auditing_body="审计局")),
        ("audit.completed", audit.AuditCompleted(audit_id="A2", audit_type="in_office", report_number="R3",
                                                 evaluation="average")),
    ]
    return [new_event(event_type=t, cadre_id=cadre, county="431021", service="audit", data=d,
                      occurred_on=date(2021, 1, 4) + timedelta(days=i), ruleset="431021@2008.1")
            for i, (t, d) in enumerate(steps)]


def _completions_only(cadre: str) -> list[CloudEvent]:
    """Audits completed again and again with nothing else in between: in one batch, all in the SQL path.

    The repeats change the type, report and evaluation, list findings again with other data and list
    one finding twice in one completion: the first listing of a finding and the last completion count.
    """
    def finding(f: str, category: int, amount: str) -> audit.Finding:
        return audit.Finding(finding_id=f, category=category, amount=amount, responsibility="leadership",
                             description=f"{f} {category}")

    steps = [
        audit.AuditCompleted(audit_id="A3", audit_type="in_office", report_number="R4", evaluation="good",
                             findings=[finding("F1", 1, "1.00"), finding("F2", 2, "2.00"), finding("F1", 3, "3.00")]),
        audit.AuditCompleted(audit_id="A4", audit_type="departure", report_number="R5", evaluation="good",
                             findings=[finding("F1", 4, "4.00")]),
        audit.AuditCompleted(audit_id="A3", audit_type="departure", report_number="R6", evaluation="poor",
                             findings=[finding("F2", 5, "5.00"), finding("F4", 6, "6.00")]),
        audit.AuditCompleted(audit_id="A3", audit_type="departure", report_number="R7", evaluation="average"),
    ]
    return [new_event(event_type="audit.completed", cadre_id=cadre, county="431021", service="audit", data=d,
                      occurred_on=date(2022, 5, 1) + timedelta(days=i), ruleset="431021@2008.1")
            for i, d in enumerate(steps)]


def _elected_or_not(cadre: str) -> list[CloudEvent]:
    """Postings that say their post is filled by election (选举产生), by appointment, or do not say (the demo states
    it on every posting, so the null an older posting leaves comes from here)."""
    on = date(2016, 3, 1)
    return [new_event(event_type="post.assigned", cadre_id=cadre, county="431021", service="rotation", occurred_on=on,
                      data=PostAssigned(post_id=f"EL-{elected}", post="副镇长", unit="樟市镇人民政府",
                                        township="樟市镇", level="deputy_section", leadership=True, principal=False,
                                        elected=elected, kind="election" if elected else "lateral",
                                        decision_date=on), ruleset=ruleset_for("431021", on).id)
            for elected in (True, False, None)]


def _reference(projections: list[Projection]) -> list[Projection]:
    """The projections, audit findings applying audit.completed in Python like every other event."""
    return [AuditFindingsProjection(completed_in_sql=False) if p.name == "audit_findings" else p
            for p in projections]


async def _snapshot(conn: asyncpg.Connection, projections: list[Projection]) -> Snapshot:
    return {t: sorted(tuple(r.values()) for r in await conn.fetch(f"SELECT * FROM {t}"))
            for p in projections for t in p.tables}


async def _empty(conn: asyncpg.Connection, projections: list[Projection]) -> None:
    for p in projections:
        for t in p.tables:
            await conn.execute(f"DELETE FROM {t}")
    await conn.execute("DELETE FROM projection_checkpoints WHERE name = ANY($1::text[])", [p.name for p in projections])


async def _copy_of_the_ledger(system: System, name: str) -> str:
    """A scratch database with the system's migrations and a copy of its ledger rows (no read model rows)."""
    dsn = await support.scratch_database(system, name)
    source, target = await asyncpg.connect(system.pg_dsn), await asyncpg.connect(dsn)
    try:
        rows = await source.fetch("SELECT * FROM ledger_events ORDER BY position")
        await target.copy_records_to_table("ledger_events", records=[tuple(r.values()) for r in rows],
                                           columns=list(rows[0].keys()))
    finally:
        await source.close()
        await target.close()
    return dsn


@pytest.fixture
def demo_system(tmp_path: Path) -> Iterator[System]:
    """A private system for the demo county: loaded into the session's, it would be there already when
    test_assessment_demo loads it and checks that the first run records it and a second records nothing."""
    sys_ = System(tmp_path, services=("ledger", "assessment", "audit", "rotation")).start()
    yield sys_
    sys_.stop()


async def test_read_models_are_the_same_event_by_event_in_batches_and_rebuilt(demo_system: System) -> None:
    system = demo_system
    token = support.DEFAULT_TOKEN
    assert token
    urls = {name: system.url(name) for name in ("rotation", "assessment", "audit")}
    await asyncio.to_thread(demo.load_demo, urls, token, 12)
    twice = new_cadre_id("EQ")
    seqs = await publish(system.nats_url, _repeated_keys(new_cadre_id("EQ")) + _repeated_keys(twice)
                         + _completions_only(new_cadre_id("EQ")) + _completions_only(twice)
                         + _elected_or_not(await support.registered_cadre(system, "EQ")))
    await wait_committed(system.pg_dsn, max(seqs))
    projections = all_projections()
    assert {p.name for p in projections if "audit.completed" in p.sql_types} == {"audit_findings"}
    assert not any("audit.completed" in p.types for p in projections), "no read model needs its rows decoded"
    conn = await asyncpg.connect(system.pg_dsn)
    try:
        tip = await conn.fetchval("SELECT max(position) FROM ledger_events")

        async def live_caught_up() -> bool:
            done = await conn.fetchval("SELECT count(*) FROM projection_checkpoints WHERE position >= $1", tip)
            return bool(done == len(projections))

        await wait_until(live_caught_up, 30)
        live = await _snapshot(conn, projections)  # as the ledger process's runner keeps them
        assert {r["elected"] for r in await conn.fetch("SELECT elected FROM rm_rotation_postings")} == {
            True, False, None}, "postings elected, not elected and not saying so are compared"
    finally:
        await conn.close()
    dsn = await _copy_of_the_ledger(system, "projection_batches")
    found: dict[str, Snapshot] = {}
    writer = dsn_as(dsn, WRITER_ROLE)  # as the ledger rebuilds: its role may empty the read models
    conn, reader = await asyncpg.connect(writer), await asyncpg.connect(writer)
    others = [await asyncpg.connect(writer) for _ in range(len(projections) - 1)]
    try:
        await event_by_event(conn, _reference(projections), tip)
        found["event by event"] = await _snapshot(conn, projections)
        assert await rebuild_all(conn, projections, batch=400) == tip
        found["rebuilt"] = await _snapshot(conn, projections)
        assert await rebuild_all(conn, projections, batch=1000, reader=reader) == tip
        found["rebuilt, read ahead on a second connection"] = await _snapshot(conn, projections)
        assert await rebuild_all(conn, projections, batch=50, reader=reader, others=others[:2]) == tip
        found["rebuilt in three shares, spans of 50"] = await _snapshot(conn, projections)
        assert await rebuild_all(conn, projections, batch=1000, reader=reader, others=others) == tip
        found["rebuilt, one connection per read model"] = await _snapshot(conn, projections)
        for batch in (5, 64, 3000):
            await _empty(conn, projections)
            while not await catch_up(conn, projections, batch):
                pass
            found[f"live rounds of {batch}"] = await _snapshot(conn, projections)
        await _empty(conn, projections)
        for p in projections:
            while await step(conn, p, 37):
                pass
        found["one projection at a time, 37 positions a step"] = await _snapshot(conn, projections)
        # Two runners' instances of the rotation read model taking turns, a few positions at a time, so that a
        # career runs across spans the other applied: what one instance folded must not miss them.
        turns: list[Projection] = [RotationProjection(), RotationProjection()]
        await _empty(conn, turns[:1])
        while any([await step(conn, p, 3) for p in turns]):
            pass
        rotation_tables = await _snapshot(conn, turns[:1])
        # A runner whose transaction rolled back between its apply and its flush, while another runner went on:
        # the rows it held back are older than the other's by then, and must not overwrite them unrefreshed.
        late, other = RotationProjection(), RotationProjection()
        await _empty(conn, [late])
        with contextlib.suppress(_RolledBack):
            async with conn.transaction():
                await late.apply(conn, Span(0, tip // 3), await fetch_events(conn, Span(0, tip // 3), late.types))
                raise _RolledBack
        await step(conn, other, 2 * tip // 3)
        while await step(conn, late, 3):
            pass
        rotation_after_rollback = await _snapshot(conn, [late])
        # Nor may a later step that applies nothing (no posting event in its span) write what it held.
        quiet = await conn.fetchval("""SELECT min(position) FROM ledger_events
                                       WHERE position > $1 AND NOT (type = ANY($2::text[]))""",
                                    tip // 3, sorted(TENURE_EVENTS))
        held = RotationProjection()
        await _empty(conn, [held])
        await step(conn, held, quiet - 1)
        with contextlib.suppress(_RolledBack):
            async with conn.transaction():
                await held.apply(conn, Span(quiet - 1, tip), await fetch_events(conn, Span(quiet - 1, tip), held.types))
                raise _RolledBack
        before_quiet_step = await _snapshot(conn, [held])
        assert await step(conn, held, 1) == 1
        after_quiet_step = await _snapshot(conn, [held])
    finally:
        for c in (*others, reader, conn):
            await c.close()
    assert rotation_tables == {t: live[t] for t in turns[0].tables}, "two rotation runners taking turns"
    assert rotation_after_rollback == {t: live[t] for t in turns[0].tables}, "rows held back, then rolled back"
    assert after_quiet_step == before_quiet_step, "a step that applied nothing wrote rows held by a rolled-back one"
    assert sum(map(len, live.values())) > 200, "the workload fills the read models"
    assert any(r[0].startswith("EQ") for r in live["rm_audit_findings"])
    repeated = {(r[0], r[1]): r[2:] for r in live["rm_audits"] if r[0] == twice}
    assert {k[1]: (v[1], v[8], v[9]) for k, v in repeated.items()} == {
        "A0": ("in_office", "R0", "good"), "A1": ("departure", "R2", "poor"), "A2": ("in_office", "R3", "average"),
        "A3": ("in_office", "R7", "average"), "A4": ("departure", "R5", "good"),
    }, "the first completion's type, the last one's report and evaluation"
    rules = {len(r[15] or ()) for r in live["rm_rotation_postings"]}
    assert {1, 2} <= rules, "postings under one rule and under two"
    for r in live["rm_rotation_postings"]:
        posting = Posting(post_id=r[1], post=r[3], unit=r[4], township=r[5], level=r[6], leadership=r[7],
                          internal_unit=r[8], sensitive=r[9], kind=r[10], since=r[11])
        assert r[15] == applicable_rules(posting), r
    for how, snapshot in found.items():
        assert snapshot == live, how



async def test_audit_read_model_keys_compare_bytewise_and_join_the_ledger(system: System) -> None:
    """Migration 041: the audit read models' identifiers are collated "C", their indexes among them, and they still
    compare with the ledger's columns and with parameters, which carry the database's collation."""
    cadre = new_cadre_id("BW")
    events = _completions_only(cadre)
    audits = {e.data["audit_id"] for e in events}
    await wait_committed(system.pg_dsn, max(await publish(system.nats_url, events)))
    conn = await asyncpg.connect(system.pg_dsn)
    try:
        collations = {(r["table"], r["column"]): r["collation"] for r in await conn.fetch(
            """SELECT c.relname AS table, a.attname AS column, co.collname AS collation
               FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_collation co ON co.oid = a.attcollation
               WHERE c.relname IN ('rm_audits', 'rm_audit_findings', 'rm_audits_pkey', 'rm_audit_findings_pkey')
                 AND a.attnum > 0 AND NOT a.attisdropped""")}
        keys = {("rm_audits", "cadre_id"), ("rm_audits", "audit_id"), ("rm_audits", "county"),
                ("rm_audit_findings", "cadre_id"), ("rm_audit_findings", "audit_id"),
                ("rm_audit_findings", "finding_id"), ("rm_audit_findings", "county"),
                ("rm_audits_pkey", "cadre_id"), ("rm_audit_findings_pkey", "finding_id")}
        assert {k: collations.get(k) for k in keys} == dict.fromkeys(keys, "C")
        assert collations[("rm_audits", "report_number")] == "default", "only the identifiers change"

        async def projected() -> bool:
            return bool(await conn.fetchval("SELECT count(*) FROM rm_audits WHERE cadre_id = $1", cadre) == len(audits))

        await wait_until(projected, 30)
        joined = await conn.fetchval(
            """SELECT count(*) FROM rm_audits a JOIN ledger_events l ON l.cadre_id = a.cadre_id AND l.county = a.county
               WHERE a.cadre_id = $1 AND l.type = 'audit.completed'""", cadre)
        assert joined == len(events) * len(audits), "every audit row meets each of the cadre's completions"
    finally:
        await conn.close()


class _RolledBack(Exception):
    """Rolls a test's transaction back."""


class _Failing:
    """A read model whose apply fails on its first span."""

    name = "zz_failing"
    version = 1
    tables: tuple[str, ...] = ()
    types = frozenset({"audit.completed"})
    sql_types: frozenset[str] = frozenset()

    async def apply(self, conn: asyncpg.Connection, span: Span, events: Any) -> None:
        raise RuntimeError("this read model cannot be applied")


async def test_a_rebuild_on_several_connections_that_fails_leaves_every_read_model_as_it_was(system: System) -> None:
    """One share's failure cancels the others before they commit; the caller sees the failure itself."""
    cadre = new_cadre_id("RF")
    await wait_committed(system.pg_dsn, max(await publish(system.nats_url, _completions_only(cadre))))
    dsn = await _copy_of_the_ledger(system, "projection_rebuild_fails")
    writer = dsn_as(dsn, WRITER_ROLE)
    projections = all_projections()
    connections = [await asyncpg.connect(writer) for _ in range(len(projections) + 2)]
    conn, reader, others = connections[0], connections[1], connections[2:]
    try:
        tip = await conn.fetchval("SELECT max(position) FROM ledger_events")
        assert await rebuild_all(conn, projections, reader=reader) == tip
        assert await asyncio.wait_for(rebuild_all(conn, [], batch=1, reader=reader), 10) == tip, "nothing to rebuild"
        before = await _snapshot(conn, projections)
        checkpoints = await conn.fetch("SELECT name, position FROM projection_checkpoints ORDER BY name")
        assert any(before.values()) and len(checkpoints) == len(projections)
        with pytest.raises(RuntimeError, match="cannot be applied"):
            await rebuild_all(conn, [*projections, _Failing()], batch=1, reader=reader, others=others)
        assert await _snapshot(conn, projections) == before
        assert await conn.fetch("SELECT name, position FROM projection_checkpoints ORDER BY name") == checkpoints
    finally:
        for c in connections:
            await c.close()

class _CommitProbe:
    """A read model that notes how its step's transaction commits."""

    name = "zz_commit_probe"
    version = 1
    tables: tuple[str, ...] = ()
    types = frozenset({"audit.completed"})
    sql_types: frozenset[str] = frozenset()

    def __init__(self) -> None:
        self.seen: list[str] = []

    async def apply(self, conn: asyncpg.Connection, span: Span, events: Any) -> None:
        self.seen.append(await conn.fetchval("SELECT current_setting('synchronous_commit')"))


async def test_a_runner_step_commits_asynchronously_and_only_its_own_transaction(system: System) -> None:
    """Read models are derived and their checkpoint commits with them: a step need not wait for the WAL flush."""
    cadre = new_cadre_id("AC")
    await wait_committed(system.pg_dsn, max(await publish(system.nats_url, _completions_only(cadre))))
    conn = await asyncpg.connect(dsn_as(await _copy_of_the_ledger(system, "projection_async_commit"), WRITER_ROLE))
    try:
        await conn.execute("SET synchronous_commit TO on")  # the session's own setting (the test server's is off)
        probe = _CommitProbe()
        assert await step(conn, probe, 1_000_000) > 0
        assert probe.seen == ["off"]
        assert await conn.fetchval("SELECT current_setting('synchronous_commit')") == "on", "SET LOCAL only"
        assert await conn.fetchval("SELECT position FROM projection_checkpoints WHERE name = $1", probe.name) > 0
    finally:
        await conn.close()


def test_runs_keep_each_keys_order_and_never_repeat_a_key_in_a_run() -> None:
    a, b = bulk("k text", "SELECT {rows}"), "UPDATE t SET x = $2 WHERE k = $1"
    todo = Statements()
    adds: list[tuple[str, str | Bulk]] = [("k1", a), ("k2", a), ("k1", a), ("k1", b), ("k2", b), ("k3", a),
                                          ("k2", a), ("k3", b)]
    for key, sql in adds:
        todo.add(sql, key)
    assert [(sql, [r[0] for r in rows]) for sql, rows in todo.runs] == [
        (a, ["k1", "k2", "k3"]), (a, ["k1"]), (b, ["k1", "k2", "k3"]), (a, ["k2"])]


def test_bulk_reads_its_rows_from_one_json_array() -> None:
    sql = bulk("cadre_id text, amount numeric, on_day date", "INSERT INTO t SELECT * FROM {rows}").sql
    assert sql == ("INSERT INTO t SELECT * FROM (SELECT (r.value ->> 0)::text AS cadre_id, "
                   "(r.value ->> 1)::numeric AS amount, (r.value ->> 2)::date AS on_day "
                   "FROM jsonb_array_elements($1::jsonb) AS r(value)) AS v")
    with pytest.raises(ValueError):
        bulk("cadre_id", "SELECT {rows}")


async def test_a_bulk_run_matches_row_by_row_execution(system: System) -> None:
    todo = Statements()
    upsert = bulk("k text, n numeric, d date, b boolean, s text", """
        INSERT INTO pg_temp.t AS t SELECT * FROM {rows}
        ON CONFLICT (k) DO UPDATE SET n = t.n + EXCLUDED.n, d = EXCLUDED.d, b = EXCLUDED.b, s = EXCLUDED.s""")
    odd = 'quote " back \\ 审计局 \n'
    for k, n, d, b, text in [("a", "1.10", date(2020, 1, 1), True, None), ("b", "2", None, None, odd),
                             ("a", "3.05", date(2021, 2, 3), False, "x"), ("a", "4", None, True, odd),
                             ("c", "5", date(1999, 12, 31), None, ""), ("b", "6.5", date(2020, 2, 29), False, None)]:
        todo.add(upsert, k, Decimal(n), d, b, text)
    conn = await asyncpg.connect(system.pg_dsn)
    try:
        await conn.execute("CREATE TEMP TABLE t (k text PRIMARY KEY, n numeric NOT NULL, d date, b boolean, s text)")
        await todo.run(conn)
        assert {r["k"]: tuple(r.values())[1:] for r in await conn.fetch("SELECT * FROM pg_temp.t")} == {
            "a": (Decimal("8.15"), None, True, odd), "b": (Decimal("8.5"), date(2020, 2, 29), False, None),
            "c": (Decimal(5), date(1999, 12, 31), None, "")}
    finally:
        await conn.close()
