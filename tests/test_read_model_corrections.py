"""Read models follow corrections: once a correction or revocation is applied, every `rm_*` table reads as if the
corrected facts had been recorded so in the first place.

Ledger A records careers with wrong facts, then corrects and revokes them (through the ledger's writer, as a
service publishes); ledger B, beside it in the same database, records the same careers as they should have
read from the start (other cadre ids). Every read model's rows of A's cadres must be those of B's, but for
`last_position`, the only column that holds a ledger position: A's events and B's sit at other positions (and
a corrected event keeps its own). They are compared as the ledger's own runner keeps them (the correction
arrives after it applied the wrong facts: it rebuilds), and rebuilt, caught up and applied event by event on a
copy of the ledger.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import asyncpg

from bench.workload import registration
from services.ledger import corrected
from services.ledger.corrected import Corrections, Fact
from services.ledger.projections import (
    Projection,
    Seen,
    Span,
    catch_up,
    corrected_by,
    decoded,
    fetch_events,
    flush,
    save_checkpoints,
    step,
)
from services.ledger.read_models import all_projections
from services.ledger.read_models.audit_findings import AuditFindingsProjection
from services.ledger.read_models.rotation_postings import RotationProjection
from services.ledger.rebuild import rebuild_all, rebuild_connected
from shared.corrections import correction_types, effective
from shared.db import WRITER_ROLE, dsn_as
from shared.envelope import CloudEvent, StoredEvent, envelope_data, new_event
from shared.events.registry import CATALOGUE, CORRECTED, REVOKED, spec_for
from tests import support
from tests.support import System, event_by_event, new_cadre_id, publish, wait_committed, wait_until

COUNTY, RULESET = "431021", "431021@2008.1"
Rows = dict[str, list[tuple[Any, ...]]]


@dataclass(frozen=True)
class Recorded:
    """An event as ledger A records it, and what is recorded about it later: ("correct", day, data) or
    ("revoke",), in order. Ledger B records it as those leave it (`effective`'s rules: the last correction
    counts, a revocation whatever follows)."""

    type: str
    on: str
    data: dict[str, Any]
    then: tuple[tuple[Any, ...], ...] = ()

    def reads(self) -> tuple[str, dict[str, Any]] | None:
        if any(action[0] == "revoke" for action in self.then):
            return None
        fixes = [action for action in self.then if action[0] == "correct"]
        return (fixes[-1][1], fixes[-1][2]) if fixes else (self.on, self.data)


def _event(type_: str, cadre: str, on: str, data: dict[str, Any]) -> CloudEvent:
    spec = spec_for(type_)
    return new_event(event_type=type_, cadre_id=cadre, county=COUNTY, service=spec.service,
                     data=spec.model.model_validate(data), occurred_on=date.fromisoformat(on), ruleset=RULESET)


def _leader(on: str, unit: str = "樟市镇人民政府") -> dict[str, Any]:
    return {"post_id": "L1", "post": "镇长", "unit": unit, "township": "樟市镇", "level": "section", "leadership": True,
            "kind": "lateral", "decision_date": on}


def _rotation(on: str, township: str) -> dict[str, Any]:
    return {"from_post_id": "L1", "from_post": "镇长", "from_township": "樟市镇", "decision_date": on,
            "to": {"post_id": "L2", "post": "党委书记", "unit": f"{township}党委", "township": township,
                   "level": "section", "leadership": True},
            "years_in_old_post": 1, "days_in_old_post": 550, "trigger_rule": "by_need"}


def _graded(year: int, grade: str) -> dict[str, Any]:
    low = grade == "basically_competent"
    return {"year": year, "grade": grade, "admonishment_required": low,
            "promotion_blocked_years": [year + 1] if low else [], "dismissal_case": False}


def _completed(audit: str, audit_type: str, report: str, evaluation: str, *amounts: str) -> dict[str, Any]:
    return {"audit_id": audit, "audit_type": audit_type, "report_number": report, "evaluation": evaluation,
            "findings": [{"finding_id": f"F{i}", "category": 3, "amount": a, "responsibility": "direct"}
                         for i, a in enumerate(amounts, 1)]}


def _report(report: str, channel: str) -> dict[str, Any]:
    return {"report_id": report, "channel": channel, "named": True}


CORRECT, REVOKE = "correct", ("revoke",)
CAREER = [
    Recorded("cadre.registered", "2010-01-04", registration("x").data),
    Recorded("assessment.annual_graded", "2023-01-20", _graded(2022, "basically_competent")),
    # a leader's posting typed with the wrong unit and day: the postings, the leaders' posts, the directory
    Recorded("post.assigned", "2023-02-01", _leader("2023-02-01", "樟市镇人民政府(误)"),
             ((CORRECT, "2023-03-01", _leader("2023-03-01")),)),
    # a wrong grade: no second low year, so no consecutive low grades on the watchlist
    Recorded("assessment.annual_graded", "2024-01-20", _graded(2023, "basically_competent"),
             ((CORRECT, "2024-01-22", _graded(2023, "competent")),)),
    Recorded("post.vacated", "2024-02-01", {"post_id": "L1", "reason": "term_end"}, (REVOKE,)),
    Recorded("audit.started", "2024-03-01", {"audit_id": "A1", "audit_type": "departure", "post_id": "L1",
                                             "period_from": "2021-01-01", "period_to": "2023-12-31",
                                             "auditing_body": "桂阳县审计局"}),
    # completions: of an audit other events of the span touch (A1), alone (A2: applied in SQL but for the
    # correction), revoked (A3), untouched (A4), corrected to name another audit (A5 -> A6), corrected before a
    # second completion of the same audit (A7: the first one's type counts, the last one's report)
    Recorded("audit.completed", "2024-04-01", _completed("A1", "departure", "R1(误)", "good", "100.00"),
             ((CORRECT, "2024-04-02", _completed("A1", "departure", "R1", "average", "120.00", "5.50")),)),
    Recorded("audit.result_applied", "2024-05-01", {"audit_id": "A1", "result": "talk", "filed_to_dossier": False}),
    Recorded("audit.completed", "2024-05-02", _completed("A2", "in_office", "R2", "good", "10.00"),
             ((CORRECT, "2024-05-02", _completed("A2", "in_office", "R2", "poor", "10.00", "20.00")),)),
    Recorded("audit.completed", "2024-05-03", _completed("A3", "in_office", "R3", "good", "30.00"), (REVOKE,)),
    Recorded("audit.completed", "2024-05-04", _completed("A4", "in_office", "R4", "fairly_good", "40.00")),
    Recorded("audit.completed", "2024-05-05", _completed("A5", "in_office", "R5", "good", "50.00"),
             ((CORRECT, "2024-05-05", _completed("A6", "in_office", "R5", "good", "50.00")),)),
    Recorded("audit.completed", "2024-05-06", _completed("A7", "in_office", "R7a", "good"),
             ((CORRECT, "2024-05-06", _completed("A7", "departure", "R7a", "good", "70.00")),)),
    Recorded("audit.completed", "2024-05-07", _completed("A7", "in_office", "R7b", "average")),
    # reports: one revoked (the funnel and the notices' reports), one whose channel is corrected and whose
    # verification is corrected twice (the last correction counts), one revoked and corrected after (revoked)
    Recorded("report.received", "2024-06-01", _report("R-1", "12380"), (REVOKE,)),
    Recorded("report.received", "2024-06-02", _report("R-2", "letter"),
             ((CORRECT, "2024-06-02", _report("R-2", "web")),)),
    Recorded("report.verified", "2024-06-20", {"report_id": "R-2", "outcome": "verified"},
             ((CORRECT, "2024-06-21", {"report_id": "R-2", "outcome": "unfounded"}),
              (CORRECT, "2024-06-22", {"report_id": "R-2", "outcome": "partly"}))),
    Recorded("supervision.talk_held", "2024-07-01", {"talk_id": "T1", "kind": "admonishment", "report_id": "R-2"}),
    Recorded("report.received", "2024-08-01", _report("R-3", "12380"),
             (REVOKE, (CORRECT, "2024-08-01", _report("R-3", "web")))),
    # a rotation to the wrong township on the wrong day: the postings, the rotations carried out
    Recorded("rotation.completed", "2024-09-01", _rotation("2024-09-01", "樟市镇"),
             ((CORRECT, "2024-09-03", _rotation("2024-09-03", "流峰镇")),)),
]
ALL_REVOKED = [Recorded("audit.completed", "2024-05-08", _completed("A1", "in_office", "R9", "good"), (REVOKE,))]
"""A cadre (never registered) whose one fact is revoked: no read model has a row of it."""


def _action(event: CloudEvent, action: tuple[Any, ...]) -> CloudEvent:
    if action[0] == "revoke":
        data = spec_for(event.type + REVOKED).model.model_validate({"revokes": event.id, "reason": "重复录入"})
        return new_event(event_type=event.type + REVOKED, cadre_id=event.subject, county=COUNTY,
                         service=spec_for(event.type).service, data=data, occurred_on=date(2024, 12, 1),
                         ruleset=RULESET)
    _, on, fact = action
    return _event(event.type + CORRECTED, event.subject, on,
                  {"corrects": event.id, "reason": "录入错误", "fact": spec_for(event.type).model.model_validate(fact)})


@dataclass
class Careers:
    """Ledger A's events and, round by round, its corrections; ledger B's events; the cadres (A's -> B's)."""

    wrong: list[CloudEvent]
    rounds: list[list[CloudEvent]]
    right: list[CloudEvent]
    cadres: dict[str, str]


def careers() -> Careers:
    """Two careers in ledger A and B, and corrections that count for nothing on top (they must change nothing):
    one of another cadre's event, one of an event of another type, one of no event at all."""
    out = Careers([], [], [], {})
    for career in (CAREER, ALL_REVOKED):
        a, b = new_cadre_id("CA"), new_cadre_id("CB")
        out.cadres[a] = b
        recorded = [(r, _event(r.type, a, r.on, r.data)) for r in career]
        out.wrong += [e for _, e in recorded]
        out.right += [_event(r.type, b, *reads) for r, _ in recorded if (reads := r.reads()) is not None]
        for r, e in recorded:
            for i, action in enumerate(r.then):
                while len(out.rounds) <= i:
                    out.rounds.append([])
                out.rounds[i].append(_action(e, action))
    first, second = list(out.cadres)
    completion = next(e for e in out.wrong if e.subject == first and e.data.get("audit_id") == "A4")
    posting = _leader("2023-03-01")
    out.rounds[0] += [
        _event("audit.completed" + CORRECTED, second, "2024-05-04",
               {"corrects": completion.id, "reason": "别人的", "fact": _completed("A4", "in_office", "X", "poor")}),
        _event("post.assigned" + CORRECTED, first, "2023-03-01", {"corrects": completion.id, "reason": "类型不符",
                                                                 "fact": posting}),
        _action(CloudEvent.model_validate({**completion.model_dump(), "id": uuid.uuid4()}), REVOKE)]
    return out


async def _rows(conn: asyncpg.Connection, projections: list[Projection], cadres: list[str]) -> Rows:
    """Every read model's rows of these cadres."""
    return {t: sorted(tuple(r.values()) for r in await conn.fetch(
        f"SELECT * FROM {t} WHERE cadre_id = ANY($1::text[])", cadres)) for p in projections for t in p.tables}


def _as_b(conn_rows: Rows, cadres: dict[str, str], columns: dict[str, list[str]]) -> tuple[Rows, Rows]:
    """A's rows with B's cadre ids, and B's rows, both without `last_position`."""
    def strip(table: str, row: tuple[Any, ...]) -> tuple[Any, ...]:
        named = dict(zip(columns[table], row, strict=True))
        named.pop("last_position", None)
        named["cadre_id"] = cadres.get(named["cadre_id"], named["cadre_id"])
        return tuple(named.items())

    a = {t: sorted(strip(t, r) for r in rows if r[0] in cadres) for t, rows in conn_rows.items()}
    b = {t: sorted(strip(t, r) for r in rows if r[0] in cadres.values()) for t, rows in conn_rows.items()}
    return a, b


async def _columns(conn: asyncpg.Connection, projections: list[Projection]) -> dict[str, list[str]]:
    return {t: [r["column_name"] for r in await conn.fetch(
        "SELECT column_name FROM information_schema.columns WHERE table_name = $1 ORDER BY ordinal_position", t)]
        for p in projections for t in p.tables}


async def _applied_up_to_tip(conn: asyncpg.Connection, projections: list[Projection]) -> bool:
    tip = await conn.fetchval("SELECT max(position) FROM ledger_events")
    done = await conn.fetchval("SELECT count(*) FROM projection_checkpoints WHERE position >= $1 AND name = ANY($2)",
                               tip, [p.name for p in projections])
    return bool(done == len(projections))


async def _copy(source: asyncpg.Connection, target: asyncpg.Connection, after: int, upto: int) -> None:
    rows = await source.fetch("SELECT * FROM ledger_events WHERE position > $1 AND position <= $2 ORDER BY position",
                              after, upto)
    await target.copy_records_to_table("ledger_events", records=[tuple(r.values()) for r in rows],
                                       columns=list(rows[0].keys()))


async def _empty(conn: asyncpg.Connection, projections: list[Projection]) -> None:
    await conn.execute(f"TRUNCATE {', '.join(t for p in projections for t in p.tables)}")
    await conn.execute("DELETE FROM projection_checkpoints")


async def _effective_agrees(conn: asyncpg.Connection, cadres: list[str]) -> None:
    """What the read models decode of each cadre's events is `shared.corrections.effective` of its history."""
    corrections = await corrected.load(conn, await conn.fetchval("SELECT max(position) FROM ledger_events"))
    for cadre in cadres:
        rows = await conn.fetch("""SELECT position, cadre_id, county, type, occurred_on, canonical, event_id
                                   FROM ledger_events WHERE cadre_id = $1 ORDER BY position""", cadre)
        history = [StoredEvent(r["event_id"], r["type"], r["county"], r["occurred_on"], envelope_data(r["canonical"]))
                   for r in rows]
        ids = {r["position"]: r["event_id"] for r in rows}
        seen = decoded([tuple(r.values())[:6] for r in rows if r["type"] not in correction_types()], corrections)
        assert [(ids[e.position], e.type, e.occurred_on, e.data) for e in seen] == [
            (e.id, e.type, e.occurredon, e.data) for e in effective(history)], cadre


async def test_read_models_read_as_if_the_corrected_facts_had_been_recorded_so(system: System) -> None:
    c = careers()
    projections = all_projections()
    cadres = [*c.cadres, *c.cadres.values()]
    conn = await asyncpg.connect(system.pg_dsn)
    try:
        columns = await _columns(conn, projections)
        await wait_committed(system.pg_dsn, max(await publish(system.nats_url, c.wrong + c.right)))
        await wait_until(lambda: _applied_up_to_tip(conn, projections), 60)
        wrong, right = _as_b(await _rows(conn, projections, cadres), c.cadres, columns)
        assert wrong != right, "the wrong facts show before they are corrected"
        assert sum(map(len, right.values())) > 15 and all(right[t] for t in (
            "rm_cadres", "rm_rotation_postings", "rm_leadership_posts", "rm_assessment_watch", "rm_audits",
            "rm_audit_findings", "rm_reports", "rm_assessment_reports")), right
        before = await conn.fetchval("SELECT max(position) FROM ledger_events")
        for corrections in c.rounds:  # each round after the one before it is in the ledger
            await wait_committed(system.pg_dsn, max(await publish(system.nats_url, corrections)))
        await wait_until(lambda: _applied_up_to_tip(conn, projections), 120)
        live = await _rows(conn, projections, cadres)
        tip = await conn.fetchval("SELECT max(position) FROM ledger_events")
        await _effective_agrees(conn, list(c.cadres))
        # a later posting: a rotation projection that has not folded the cadre reads its earlier postings back
        await wait_committed(system.pg_dsn, max(await publish(system.nats_url, [
            _event("post.assigned", cadre, "2024-09-02", {**_leader("2024-09-02"), "post_id": "P2", "post": "书记"})
            for cadre in cadres])))
        await wait_until(lambda: _applied_up_to_tip(conn, projections), 60)
        later = await _rows(conn, projections, cadres)
        last = await conn.fetchval("SELECT max(position) FROM ledger_events")
    finally:
        await conn.close()
    a, b = _as_b(live, c.cadres, columns)
    assert a == b, "as the ledger's runner keeps them once the corrections came"
    a, b = _as_b(later, c.cadres, columns)
    assert a == b, "and once a later posting came"
    assert "正在重建读模型" in system.procs["ledger"].log_tail(2000), "the runner rebuilt the read models"
    # the same on a copy of the ledger: rebuilt in several ways, caught up across the corrections, step by step
    dsn = dsn_as(await support.scratch_database(system, "read_model_corrections"), WRITER_ROLE)
    found: dict[str, Rows] = {}
    source, work = await asyncpg.connect(system.pg_dsn), await asyncpg.connect(dsn)
    others = [await asyncpg.connect(dsn) for _ in range(3)]
    try:
        await _copy(source, work, 0, before)
        seen = Seen()
        while not await catch_up(work, projections, 700, seen):
            pass
        assert seen.corrections.upto == before
        await _copy(source, work, before, tip)
        # two runners (two ledger replicas) meet the corrections at once: one rebuilds, the other finds it done
        rebuilt: list[list[str]] = []

        async def rebuild(stale: Sequence[Projection], known: Corrections) -> int:
            rebuilt.append([p.name for p in stale])
            return await rebuild_connected(dsn, stale, corrections=known)

        other = Seen(await corrected.load(others[0], before))
        await asyncio.gather(catch_up(work, projections, 700, seen, rebuild),
                             catch_up(others[0], projections, 700, other, rebuild))
        # every read model but the inquiries', which reads none of the types corrected
        assert len(rebuilt) == 1 and set(rebuilt[0]) == {p.name for p in projections} - {"inquiries"}, rebuilt
        while not await catch_up(work, projections, 700, seen, rebuild):
            pass
        assert seen.corrections.upto == tip and seen.corrections.facts and len(rebuilt) == 1
        assert await _applied_up_to_tip(work, projections)
        found["caught up across the corrections (a runner rebuilds)"] = await _rows(work, projections, cadres)
        for batch in (3, 1000):
            assert await rebuild_all(work, projections, batch=batch) == tip
            found[f"rebuilt in spans of {batch}"] = await _rows(work, projections, cadres)
        assert await rebuild_all(work, projections, batch=50, reader=others[0], others=others[1:]) == tip
        found["rebuilt on several connections"] = await _rows(work, projections, cadres)
        assert await rebuild_connected(dsn, projections) == tip
        found["rebuilt as python -m services.ledger.rebuild does"] = await _rows(work, projections, cadres)
        # the rows as they were before the corrections came, then one projection at a time, step by step
        assert await rebuild_all(work, projections, corrections=await corrected.load(work, before)) == before
        assert await _rows(work, projections, cadres) != live
        for p in projections:
            while await step(work, p, 37):
                pass
        found["one projection at a time, step by step across the corrections"] = await _rows(work, projections,
                                                                                            cadres)
        await _empty(work, projections)
        await event_by_event(work, [AuditFindingsProjection(completed_in_sql=False) if p.name == "audit_findings"
                                    else p for p in projections], tip)
        await save_checkpoints(work, [p.name for p in projections], tip)
        found["event by event, audit completions in Python"] = await _rows(work, projections, cadres)
        await _copy(source, work, tip, last)
        fresh = [RotationProjection() if p.name == "rotation" else p for p in projections]
        while not await catch_up(work, fresh, 5, seen):
            pass
        after_restart = await _rows(work, projections, cadres)
        # A second runner's rotation read model folded the careers before the corrections came (its transaction
        # rolled back); another rebuilt the read model after them; the later posting comes to the second one.
        second = RotationProjection()
        with contextlib.suppress(_RolledBack):
            async with work.transaction():
                old = Span(0, before, await corrected.load(work, before))
                await second.apply(work, old, await fetch_events(work, old, second.types))
                await flush(work, second)
                raise _RolledBack
        assert await rebuild_all(work, [RotationProjection()], corrections=await corrected.load(work, tip)) == tip
        assert await step(work, second, 10_000) == last - tip
        second_runner = await _rows(work, [second], cadres)
    finally:
        for conn in (*others, work, source):
            await conn.close()
    for how, rows in found.items():
        assert rows == live, how
    assert after_restart == later, "a runner started after the corrections, then a later posting"
    assert second_runner == {t: later[t] for t in second.tables}, "a fold made before the corrections is not reused"


class _RolledBack(Exception):
    """Rolls a test's transaction back."""


async def test_the_runner_reads_corrections_again_only_when_one_came(system: System) -> None:
    """Between rounds the runner keeps what it read; one in the ledger after it is read with the tip."""
    cadre = await support.registered_cadre(system, "CK")
    conn = await asyncpg.connect(system.pg_dsn)
    try:
        tip, news = await corrected.tip_and_news(conn, Corrections(0))
        seen = await corrected.load(conn, tip)
        assert (await corrected.tip_and_news(conn, seen))[1] is False
        completion = _event("audit.completed", cadre, "2024-05-01", _completed("A1", "in_office", "R1", "good"))
        await wait_committed(system.pg_dsn, max(await publish(system.nats_url, [completion])))
        assert (await corrected.tip_and_news(conn, seen))[1] is False, "not a correction"
        await wait_committed(system.pg_dsn, max(await publish(system.nats_url, [_action(completion, REVOKE)])))
        later, news = await corrected.tip_and_news(conn, seen)
        assert news and later > tip
        now = await corrected.load(conn, later)
        position = await conn.fetchval("SELECT position FROM ledger_events WHERE event_id = $1", completion.id)
        assert now.facts[position] is None and now.changed(position, later) and not now.changed(later, later + 9)
    finally:
        await conn.close()


def test_corrections_answer_by_position() -> None:
    fact = Fact("C1", COUNTY, "audit.completed", date(2024, 1, 1), {"audit_id": "A1"})
    c = Corrections(20, {3: None, 7: fact}, changes=(9, 12), changed_types=("report.received", "audit.completed"),
                    changed_targets=(3, 7), rows=(9, 11, 12), targets=(3, 7))
    assert [c.changed(a, b) for a, b in ((0, 8), (8, 9), (9, 11), (11, 20), (12, 20))] == [False, True, False,
                                                                                          True, False]
    audits, reports = frozenset({"audit.completed", "audit.started"}), frozenset({"report.received"})
    assert [c.changed(8, 20, audits), c.changed(8, 11, audits), c.changed(8, 20, reports), c.changed(9, 20, reports)] \
        == [True, False, True, False], "only corrections of the types a read model reads"
    assert not c.changed(0, 20) and not c.changed(5, 20, audits), "an event not yet applied is read corrected"
    assert c.within(0, 3) == {3: None} and c.within(3, 20) == {7: fact} and c.within(7, 20) == {}
    assert c.rows_within(9, 12) == (11, 12) and c.rows_within(0, 8) == ()
    assert c.reaching(30).upto == 30 and c.reaching(30).facts is c.facts
    assert corrected.NO_CORRECTIONS.within(0, 99) == {} and not corrected.NO_CORRECTIONS.changed(0, 99)


def test_a_correction_makes_stale_the_read_models_that_read_its_type() -> None:
    """A corrected grade leaves the rotation and audit read models as they are; the directory counts every event."""
    of = {p.name: corrected_by(p) for p in all_projections()}
    assert of["cadre_directory"] is None
    assert "audit.completed" in (of["audit_findings"] or ()) and "post.assigned" in (of["rotation"] or ())
    assert [name for name, types in of.items() if types is None or "assessment.annual_graded" in types] == [
        "assessment_watchlist", "cadre_directory"]


def test_no_read_model_consumes_corrections_themselves() -> None:
    """They are folded into the events they correct (`decoded`); the directory leaves them out in SQL."""
    for p in all_projections():
        assert not (p.types | p.sql_types) & correction_types(), p.name


async def test_a_round_reads_the_tip_with_one_index_probe(system: System) -> None:
    """On a ledger of some size the probe searches the (type, position) index, even in the generic plan of a
    prepared statement (asyncpg prepares every statement): never a scan of the ledger per round. A temporary
    table shadows the ledger's (the session's own schema is searched first): 200,000 rows of the catalogue's
    other types."""
    kinds = sorted(t for t in CATALOGUE if t not in correction_types())
    conn = await asyncpg.connect(system.pg_dsn)
    try:
        await conn.execute("""CREATE TEMP TABLE ledger_events (position bigint PRIMARY KEY, type text NOT NULL);
                              CREATE INDEX ledger_events_type ON ledger_events (type, position)""")
        await conn.execute("""INSERT INTO ledger_events SELECT g, ($1::text[])[1 + g % array_length($1::text[], 1)]
                              FROM generate_series(1, 200000) AS g""", kinds)
        await conn.execute("ANALYZE ledger_events")
        await conn.execute("SET plan_cache_mode = force_generic_plan")
        await conn.execute(f"PREPARE probe(bigint) AS {corrected.TIP_AND_NEWS}")
        plan = "\n".join(r[0] for r in await conn.fetch("EXPLAIN EXECUTE probe(199000)"))
    finally:
        await conn.close()
    assert "Index Only Scan using ledger_events_type" in plan and "Seq Scan" not in plan, plan
