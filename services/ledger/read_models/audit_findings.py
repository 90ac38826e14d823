"""Audits with unresolved findings (未整改的审计发现问题): what each audit found, what is still open, what was done.

For each audit with findings open on `as_of` (found on or before it, not rectified by then): every open
finding with its age in days, amount, responsibility and category, and whether the audit's result had
been applied and filed to the dossier by then. A finding leaves the list on the day it is rectified.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any, Literal

import asyncpg
import orjson
from aiohttp import web
from pydantic import BaseModel, Field

from services.ledger.projections import EVENT_COLUMNS, ProjectedEvent, Span, decoded
from services.ledger.read_models.audit_common import TAGS, CompletedAudit, ListQuery, yuan
from services.ledger.statements import Statements, bulk, day
from shared.access import answered_rows
from shared.clock import clock_from
from shared.db import acquire
from shared.http import Api
from shared.rulesets import ruleset_or_none
from shared.settings import Settings

# rm_audits rows are keyed ("audit", cadre, audit) and rm_audit_findings rows ("finding", cadre, audit, finding):
# no statement reads or writes rows of another key, so each run goes as one statement (statements.py)
_AUDIT = "cadre_id text, audit_id text"
_STARTED = bulk(f"{_AUDIT}, county text, audit_type text, post_id text, started_on date, last_position bigint", """
  INSERT INTO rm_audits AS a (cadre_id, audit_id, county, audit_type, post_id, started_on, last_position)
  SELECT * FROM {rows}
  ON CONFLICT (cadre_id, audit_id) DO UPDATE SET audit_type = EXCLUDED.audit_type, post_id = EXCLUDED.post_id,
    started_on = EXCLUDED.started_on, last_position = EXCLUDED.last_position""")
_REQUESTED = bulk(f"{_AUDIT}, requested_on date, due date, last_position bigint", """
  UPDATE rm_audits a SET opinion_requested_on = v.requested_on, opinion_due = v.due, last_position = v.last_position
  FROM {rows} WHERE a.cadre_id = v.cadre_id AND a.audit_id = v.audit_id""")
_RECEIVED = bulk(f"{_AUDIT}, received_on date, last_position bigint", """
  UPDATE rm_audits a SET opinion_received_on = v.received_on, last_position = v.last_position
  FROM {rows} WHERE a.cadre_id = v.cadre_id AND a.audit_id = v.audit_id""")
_COMPLETED = bulk(f"{_AUDIT}, county text, audit_type text, completed_on date, report_number text, evaluation text, "
                  "last_position bigint", """
  INSERT INTO rm_audits AS a (cadre_id, audit_id, county, audit_type, completed_on, report_number, evaluation,
                              last_position)
  SELECT * FROM {rows}
  ON CONFLICT (cadre_id, audit_id) DO UPDATE SET completed_on = EXCLUDED.completed_on,
    report_number = EXCLUDED.report_number, evaluation = EXCLUDED.evaluation, last_position = EXCLUDED.last_position""")
_FINDING = bulk(f"{_AUDIT}, finding_id text, county text, category integer, amount numeric, responsibility text, "
                "description text, found_on date", """
  INSERT INTO rm_audit_findings (cadre_id, audit_id, finding_id, county, category, amount, responsibility, description,
                                 found_on)
  SELECT * FROM {rows}
  ON CONFLICT (cadre_id, audit_id, finding_id) DO NOTHING""")
_RECTIFIED = bulk(f"{_AUDIT}, finding_id text, rectified_on date, amount_recovered numeric", """
  UPDATE rm_audit_findings f SET rectified_on = v.rectified_on, amount_recovered = v.amount_recovered
  FROM {rows} WHERE f.cadre_id = v.cadre_id AND f.audit_id = v.audit_id AND f.finding_id = v.finding_id
    AND f.rectified_on IS NULL""")
_APPLIED = bulk(f"{_AUDIT}, result text, applied_on date, filed boolean, last_position bigint", """
  UPDATE rm_audits a SET result = coalesce(a.result, v.result),
    result_applied_on = coalesce(a.result_applied_on, v.applied_on),
    filed_to_dossier = coalesce(a.filed_to_dossier, false) OR v.filed,
    filed_on = coalesce(a.filed_on, CASE WHEN v.filed THEN v.applied_on END), last_position = v.last_position
  FROM {rows} WHERE a.cadre_id = v.cadre_id AND a.audit_id = v.audit_id""")


_TYPES = frozenset({"audit.started", "audit.opinion_requested", "audit.opinion_received", "audit.completed",
                    "audit.finding_rectified", "audit.result_applied"})
_DONE = "audit.completed"
# The span's audit.completed rows of audits no other event of the span touches ($3/$4: the audits that are
# touched), applied straight from the ledger. Only completions then meet those rows within the span, so the
# effect of applying them one by one is: the first one's county and type if the audit is new, the last one's
# completion, and each finding as the first completion to list it recorded it. The data fields are taken
# with `->>` from one `data`, read from the hashed bytes once per row by ledger_event_data (migration 034:
# only the bytes of `data` are parsed); OFFSET 0 keeps the planner from pulling the subquery up and reading
# the bytes again for every field. Only completions that list
# findings go on to the findings insert (together a tenth faster than jsonb_to_record and a function scan
# per completion). The keys are sorted in the "C" collation (byte order): grouping needs only their equality,
# which every deterministic collation takes from the bytes, while the database's own (C.UTF-8 in the dev stack)
# sorts through strcoll without abbreviated keys (5,000 completions: the sorts 5.9 ms in "C", 7.1 ms without).
# The audits go in by MERGE, not INSERT ... ON CONFLICT: only the read models' runner or a rebuild writes
# rm_audits, each holding the read model's lock, so no insert can race this one, and MERGE inserts a new audit
# without a speculative insertion (one WAL record fewer a row; 100,000 completions replayed into emptied
# tables: 0.79 against 0.89 s, medians of eight alternated passes). PostgreSQL plans its join by the tables'
# sizes: a hash join over a small rm_audits, index probes into a large one.
_COMPLETED_IN_SQL = """
  WITH done AS (
    SELECT l.position, l.cadre_id COLLATE "C" AS cadre_id, l.county, l.occurred_on,
           d.audit_id COLLATE "C" AS audit_id, d.audit_type, d.report_number, d.evaluation, d.findings
    FROM ledger_events l,
      LATERAL (SELECT ledger_event_data(l.canonical) AS j OFFSET 0) AS x,
      LATERAL (SELECT x.j ->> 'audit_id' AS audit_id, x.j ->> 'audit_type' AS audit_type,
                      x.j ->> 'report_number' AS report_number, x.j ->> 'evaluation' AS evaluation,
                      x.j -> 'findings' AS findings) AS d
    WHERE l.position > $1 AND l.position <= $2 AND l.type = 'audit.completed'
      AND NOT EXISTS (SELECT 1 FROM unnest($3::text[], $4::text[]) AS t(cadre_id, audit_id)
                      WHERE t.cadre_id = l.cadre_id AND t.audit_id = d.audit_id)),
  findings AS (
    INSERT INTO rm_audit_findings (cadre_id, audit_id, finding_id, county, category, amount, responsibility,
                                   description, found_on)
    SELECT DISTINCT ON (done.cadre_id, done.audit_id, f.value ->> 'finding_id') done.cadre_id, done.audit_id,
           f.value ->> 'finding_id', done.county, (f.value ->> 'category')::integer,
           (f.value ->> 'amount')::numeric, f.value ->> 'responsibility', coalesce(f.value ->> 'description', ''),
           done.occurred_on
    FROM (SELECT * FROM done WHERE jsonb_typeof(done.findings) = 'array' AND done.findings <> '[]'::jsonb) AS done,
      jsonb_array_elements(done.findings) WITH ORDINALITY AS f(value, n)
    ORDER BY done.cadre_id, done.audit_id, f.value ->> 'finding_id', done.position, f.n
    ON CONFLICT (cadre_id, audit_id, finding_id) DO NOTHING)
  MERGE INTO rm_audits AS a
  USING (SELECT DISTINCT ON (cadre_id, audit_id) cadre_id, audit_id, first_value(county) OVER first AS county,
                first_value(audit_type) OVER first AS audit_type, occurred_on, report_number, evaluation, position
         FROM done WINDOW first AS (PARTITION BY cadre_id, audit_id ORDER BY position)
         ORDER BY cadre_id, audit_id, position DESC) AS v
  ON a.cadre_id = v.cadre_id AND a.audit_id = v.audit_id
  WHEN MATCHED THEN UPDATE SET completed_on = v.occurred_on, report_number = v.report_number,
    evaluation = v.evaluation, last_position = v.position
  WHEN NOT MATCHED THEN INSERT (cadre_id, audit_id, county, audit_type, completed_on, report_number, evaluation,
                                last_position)
    VALUES (v.cadre_id, v.audit_id, v.county, v.audit_type, v.occurred_on, v.report_number, v.evaluation,
            v.position)"""
# the same leaving out the positions $5 (completions a correction changed or revoked: applied as they now read,
# in Python, with the audits they now name); an anti-join rather than `<> ALL` per row, so that a rebuild over
# many corrections hashes them once
_COMPLETED_IN_SQL_SKIPPING = _COMPLETED_IN_SQL.replace(
    "AND l.type = 'audit.completed'\n", "AND l.type = 'audit.completed'\n      AND NOT EXISTS (SELECT 1 FROM "
    "unnest($5::bigint[]) AS s(position) WHERE s.position = l.position)\n", 1)
assert _COMPLETED_IN_SQL_SKIPPING != _COMPLETED_IN_SQL
_COMPLETED_OF = f"""
  SELECT {EVENT_COLUMNS} FROM ledger_events l
  WHERE l.position > $1 AND l.position <= $2 AND l.type = 'audit.completed'
    AND EXISTS (SELECT 1 FROM unnest($3::text[], $4::text[]) AS t(cadre_id, audit_id)
                WHERE t.cadre_id = l.cadre_id
                  AND t.audit_id = ledger_event_data(l.canonical) ->> 'audit_id')
  ORDER BY l.position"""


class AuditFindingsProjection:
    """`rm_audits` and `rm_audit_findings`, with the effect of upserting event by event.

    `completed_in_sql`: audit.completed rows are applied straight from the ledger in SQL (they are most
    of the audit events, and a replay then moves none of their data through Python), except those of
    audits another event of the same span touches, which join the span's events in position order.
    A completion a correction changed or revoked is never applied in SQL: a corrected one joins the span's
    events as it now reads, and the audit it now names counts as touched (its other completions of the span
    join them too, so they keep their order); a revoked one is left out (`decoded`).
    """

    name = "audit_findings"
    version = 2
    tables: tuple[str, ...] = ("rm_audit_findings", "rm_audits")

    def __init__(self, completed_in_sql: bool = True) -> None:
        self.sql_types: frozenset[str] = frozenset({_DONE}) if completed_in_sql else frozenset()
        self.types: frozenset[str] = _TYPES - self.sql_types

    async def _completed_in_sql(self, conn: asyncpg.Connection, span: Span,
                                events: Sequence[ProjectedEvent]) -> Sequence[ProjectedEvent]:
        """Apply the span's completions in SQL but for audits `events` touch and completions corrections
        changed; `events` with those added."""
        fixed = span.corrections.within(span.after, span.upto)  # empty but where corrections touch the span
        redone = [ProjectedEvent(p, *f) for p, f in fixed.items() if f is not None and f.type == _DONE]
        touched = {(e.cadre_id, e.data.get("audit_id")) for e in (*events, *redone)}
        cadres, audits = [c for c, _ in touched], [a for _, a in touched]
        if fixed:
            await conn.execute(_COMPLETED_IN_SQL_SKIPPING, span.after, span.upto, cadres, audits, sorted(fixed))
        else:
            await conn.execute(_COMPLETED_IN_SQL, span.after, span.upto, cadres, audits)
        if not touched:
            return events
        also = decoded(await conn.fetch(_COMPLETED_OF, span.after, span.upto, cadres, audits), span.corrections)
        if redone:  # the corrected completions that named another audit before
            have = {e.position for e in also}
            also = sorted([*also, *(e for e in redone if e.position not in have)], key=lambda e: e.position)
        return list(heapq.merge(events, also, key=lambda e: e.position)) if also else events

    async def apply(self, conn: asyncpg.Connection, span: Span, events: Sequence[ProjectedEvent]) -> None:
        """Apply the audit events of the batch with the effect of position order."""
        if self.sql_types:
            events = await self._completed_in_sql(conn, span, events)
        todo = Statements()
        add = todo.add_for
        for e in events:
            d, t = e.data, e.type
            c, a = e.cadre_id, d.get("audit_id")
            key = ("audit", c, a)
            if t == "audit.completed":
                add(key, _COMPLETED, c, a, e.county, d["audit_type"], e.occurred_on, d["report_number"],
                    d["evaluation"], e.position)
                for f in d.get("findings") or ():
                    add(("finding", c, a, f["finding_id"]), _FINDING, c, a, f["finding_id"], e.county, f["category"],
                        Decimal(f["amount"]), f["responsibility"], f.get("description") or "", e.occurred_on)
            elif t == "audit.started":
                add(key, _STARTED, c, a, e.county, d["audit_type"], d.get("post_id"), e.occurred_on, e.position)
            elif t == "audit.opinion_requested":
                add(key, _REQUESTED, c, a, e.occurred_on, day(d["due"]), e.position)
            elif t == "audit.opinion_received":
                add(key, _RECEIVED, c, a, e.occurred_on, e.position)
            elif t == "audit.finding_rectified":
                recovered = d.get("amount_recovered")
                add(("finding", c, a, d["finding_id"]), _RECTIFIED, c, a, d["finding_id"], e.occurred_on,
                    None if recovered is None else Decimal(recovered))
            elif t == "audit.result_applied":
                add(key, _APPLIED, c, a, d["result"], e.occurred_on, d["filed_to_dossier"], e.position)
        await todo.run(conn)


PROJECTIONS = [AuditFindingsProjection()]


class OpenFindingsQuery(ListQuery):
    responsibility: Literal["direct", "leadership"] | None = Field(
        None, description="Only findings of this responsibility: direct (直接责任), leadership (领导责任).")


class OpenFinding(BaseModel):
    finding_id: str
    category: int
    category_label: str | None = Field(description="The category's label in the county's rule set (问题类别).")
    amount: str = Field(description="Amount involved, CNY, decimal string (涉及金额).")
    responsibility: str
    description: str
    found_on: date
    age_days: int = Field(description="Days open on as_of (未整改天数).")


class AuditWithOpenFindings(CompletedAudit):
    findings: int = Field(description="Findings the audit recorded (问题总数).")
    open_findings: int = Field(description="Still open on as_of (未整改).")
    open_amount: str = Field(description="Amount of the open findings, CNY (未整改金额).")
    oldest_open_days: int
    result_applied: bool = Field(description="The result was applied by as_of (结果已运用).")
    result: str | None = Field(description="none | talk | admonishment | organisational_handling | referral.")
    result_applied_on: date | None
    filed_to_dossier: bool = Field(description="Applied and filed to the dossier by as_of (已归档).")
    open: list[OpenFinding]


class OpenFindingsPage(BaseModel):
    as_of: date
    total_audits: int
    total_open_findings: int
    total_open_amount: str
    audits: list[AuditWithOpenFindings]
    next_offset: int | None


_OPEN = """
  WITH open AS (
    SELECT * FROM rm_audit_findings
    WHERE found_on <= $1 AND (rectified_on IS NULL OR rectified_on > $1)
      AND ($2::text IS NULL OR county = $2) AND ($3::text IS NULL OR cadre_id = $3)
      AND ($4::text IS NULL OR responsibility = $4))"""
_TOTALS_SQL = _OPEN + """
  SELECT count(DISTINCT (cadre_id, audit_id)) AS audits, count(*) AS findings, coalesce(sum(amount), 0) AS amount
  FROM open"""
_PAGE_SQL = _OPEN + """,
  per_audit AS (
    SELECT cadre_id, audit_id, count(*) AS open_findings, sum(amount) AS open_amount, min(found_on) AS found_on,
           jsonb_agg(jsonb_build_object('finding_id', finding_id, 'category', category, 'amount', amount::text,
                                        'responsibility', responsibility, 'description', description,
                                        'found_on', found_on) ORDER BY finding_id) AS open
    FROM open GROUP BY cadre_id, audit_id)
  SELECT p.*, a.county, a.audit_type, a.report_number, a.evaluation, a.completed_on, a.result, a.result_applied_on,
         a.filed_on,
         (SELECT count(*) FROM rm_audit_findings f WHERE f.cadre_id = a.cadre_id AND f.audit_id = a.audit_id)
           AS findings
  FROM per_audit p JOIN rm_audits a USING (cadre_id, audit_id)
  ORDER BY a.completed_on, p.cadre_id, p.audit_id OFFSET $5 LIMIT $6"""


def _label(county: str, found_on: date, category: int) -> str | None:
    rules = ruleset_or_none(county, found_on)
    return None if rules is None else rules.audit.finding_categories.get(category)


def _entry(r: asyncpg.Record, as_of: date) -> dict[str, Any]:
    applied = r["result_applied_on"] is not None and r["result_applied_on"] <= as_of
    open_ = [{**f, "found_on": date.fromisoformat(f["found_on"]),
              "amount": yuan(Decimal(f["amount"])),
              "category_label": _label(r["county"], date.fromisoformat(f["found_on"]), f["category"]),
              "age_days": (as_of - date.fromisoformat(f["found_on"])).days} for f in orjson.loads(r["open"])]
    return {"cadre_id": r["cadre_id"], "county": r["county"], "audit_id": r["audit_id"],
            "audit_type": r["audit_type"], "report_number": r["report_number"], "evaluation": r["evaluation"],
            "completed_on": r["completed_on"], "findings": r["findings"], "open_findings": r["open_findings"],
            "open_amount": yuan(r["open_amount"]), "oldest_open_days": (as_of - r["found_on"]).days,
            "result_applied": applied, "result": r["result"] if applied else None,
            "result_applied_on": r["result_applied_on"] if applied else None,
            "filed_to_dossier": r["filed_on"] is not None and r["filed_on"] <= as_of, "open": open_}


def add_routes(api: Api, pool: asyncpg.Pool, settings: Settings) -> None:
    """`GET /v1/audits/open-findings`."""
    clock = clock_from(settings)

    @api.route("GET", "/v1/audits/open-findings", summary="Audits with unresolved findings (未整改的审计问题)",
               query=OpenFindingsQuery, response=OpenFindingsPage, tags=TAGS, recorded="list")
    async def open_findings(request: web.Request, *, query: OpenFindingsQuery) -> dict[str, Any]:
        """Audits with findings open on `as_of`, oldest completion first, each open finding with its age and
        amount, and whether the audit's result had been applied and filed by then."""
        as_of = query.as_of or clock.today()
        args = (as_of, query.county, query.cadre_id, query.responsibility)
        async with acquire(pool, settings.pg_acquire_timeout_s) as conn:
            totals = await conn.fetchrow(_TOTALS_SQL, *args)
            rows = await conn.fetch(_PAGE_SQL, *args, query.offset, query.limit)
        answered_rows(request, rows)
        assert totals is not None
        more = query.offset + len(rows) < totals["audits"]
        return {"as_of": as_of, "total_audits": totals["audits"], "total_open_findings": totals["findings"],
                "total_open_amount": yuan(totals["amount"]), "audits": [_entry(r, as_of) for r in rows],
                "next_offset": query.offset + len(rows) if more else None}
