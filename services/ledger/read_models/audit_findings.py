"""Audits with unresolved findings (未整改的审计发现问题): what each audit found, what is still open, what was done.

For each audit with findings open on `as_of` (found on or before it, not rectified by then): every open
finding with its age in days, amount, responsibility and category, and whether the audit's result had
been applied and filed to the dossier by then. A finding leaves the list on the day it is rectified.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any, Literal

import asyncpg
import orjson
from aiohttp import web
from pydantic import BaseModel, Field

from services.ledger.projections import ProjectedEvent, Statements, day
from services.ledger.read_models.audit_common import TAGS, ListQuery, yuan
from shared.clock import clock_from
from shared.db import acquire
from shared.http import Api
from shared.rulesets import NoRuleSet, ruleset_for
from shared.settings import Settings

_STARTED = """INSERT INTO rm_audits AS a (cadre_id, audit_id, county, audit_type, post_id, started_on, last_position)
              VALUES ($1, $2, $3, $4, $5, $6, $7)
              ON CONFLICT (cadre_id, audit_id) DO UPDATE SET audit_type = EXCLUDED.audit_type,
                post_id = EXCLUDED.post_id, started_on = EXCLUDED.started_on, last_position = EXCLUDED.last_position"""
_REQUESTED = """UPDATE rm_audits SET opinion_requested_on = $3, opinion_due = $4, last_position = $5
                WHERE cadre_id = $1 AND audit_id = $2"""
_RECEIVED = """UPDATE rm_audits SET opinion_received_on = $3, last_position = $4
               WHERE cadre_id = $1 AND audit_id = $2"""
# one statement per completion (audit row and its findings), so a run of completions is one executemany
_COMPLETED = """WITH audit AS (
                  INSERT INTO rm_audits AS a (cadre_id, audit_id, county, audit_type, completed_on, report_number,
                                              evaluation, last_position)
                  VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                  ON CONFLICT (cadre_id, audit_id) DO UPDATE SET completed_on = EXCLUDED.completed_on,
                    report_number = EXCLUDED.report_number, evaluation = EXCLUDED.evaluation,
                    last_position = EXCLUDED.last_position)
                INSERT INTO rm_audit_findings (cadre_id, audit_id, finding_id, county, category, amount, responsibility,
                                               description, found_on)
                SELECT $1, $2, f.finding_id, $3, f.category, f.amount, f.responsibility, coalesce(f.description, ''),
                       $5
                FROM jsonb_to_recordset($9::jsonb) AS f(finding_id text, category integer, amount numeric,
                                                       responsibility text, description text)
                ON CONFLICT (cadre_id, audit_id, finding_id) DO NOTHING"""
_RECTIFIED = """UPDATE rm_audit_findings SET rectified_on = $4, amount_recovered = $5
                WHERE cadre_id = $1 AND audit_id = $2 AND finding_id = $3 AND rectified_on IS NULL"""
_APPLIED = """UPDATE rm_audits SET result = $3, result_applied_on = $4, filed_to_dossier = $5, last_position = $6
              WHERE cadre_id = $1 AND audit_id = $2"""


class AuditFindingsProjection:
    """`rm_audits` and `rm_audit_findings`, upserted event by event."""

    name = "audit_findings"
    tables: tuple[str, ...] = ("rm_audit_findings", "rm_audits")

    async def apply(self, conn: asyncpg.Connection, events: Sequence[ProjectedEvent]) -> None:
        """Apply the audit events of the batch in position order."""
        todo = Statements()
        for e in events:
            d, key = e.data, (e.cadre_id, e.data.get("audit_id"))
            if e.type == "audit.started":
                todo.add(_STARTED, *key, e.county, d["audit_type"], d.get("post_id"), e.occurred_on, e.position)
            elif e.type == "audit.opinion_requested":
                todo.add(_REQUESTED, *key, e.occurred_on, day(d["due"]), e.position)
            elif e.type == "audit.opinion_received":
                todo.add(_RECEIVED, *key, e.occurred_on, e.position)
            elif e.type == "audit.completed":
                todo.add(_COMPLETED, *key, e.county, d["audit_type"], e.occurred_on, d["report_number"],
                         d["evaluation"], e.position, orjson.dumps(d.get("findings", [])).decode())
            elif e.type == "audit.finding_rectified":
                recovered = d.get("amount_recovered")
                todo.add(_RECTIFIED, *key, d["finding_id"], e.occurred_on,
                         None if recovered is None else Decimal(recovered))
            elif e.type == "audit.result_applied":
                todo.add(_APPLIED, *key, d["result"], e.occurred_on, d["filed_to_dossier"], e.position)
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


class AuditWithOpenFindings(BaseModel):
    cadre_id: str
    county: str
    audit_id: str
    audit_type: str
    report_number: str | None
    evaluation: str | None
    completed_on: date
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
         a.filed_to_dossier,
         (SELECT count(*) FROM rm_audit_findings f WHERE f.cadre_id = a.cadre_id AND f.audit_id = a.audit_id)
           AS findings
  FROM per_audit p JOIN rm_audits a USING (cadre_id, audit_id)
  ORDER BY a.completed_on, p.cadre_id, p.audit_id OFFSET $5 LIMIT $6"""


def _label(county: str, found_on: date, category: int) -> str | None:
    try:
        return ruleset_for(county, found_on).audit.finding_categories.get(category)
    except NoRuleSet:
        return None


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
            "filed_to_dossier": bool(applied and r["filed_to_dossier"]), "open": open_}


def add_routes(api: Api, pool: asyncpg.Pool, settings: Settings) -> None:
    """`GET /v1/audits/open-findings`."""
    clock = clock_from(settings)

    @api.route("GET", "/v1/audits/open-findings", summary="Audits with unresolved findings (未整改的审计问题)",
               query=OpenFindingsQuery, response=OpenFindingsPage, tags=TAGS, errors=(503,))
    async def open_findings(request: web.Request, *, query: OpenFindingsQuery) -> dict[str, Any]:
        """Audits with findings open on `as_of`, oldest completion first, each open finding with its age and
        amount, and whether the audit's result had been applied and filed by then."""
        as_of = query.as_of or clock.today()
        args = (as_of, query.county, query.cadre_id, query.responsibility)
        async with acquire(pool, settings.pg_acquire_timeout_s) as conn:
            totals = await conn.fetchrow(_TOTALS_SQL, *args)
            rows = await conn.fetch(_PAGE_SQL, *args, query.offset, query.limit)
        assert totals is not None
        more = query.offset + len(rows) < totals["audits"]
        return {"as_of": as_of, "total_audits": totals["audits"], "total_open_findings": totals["findings"],
                "total_open_amount": yuan(totals["amount"]), "audits": [_entry(r, as_of) for r in rows],
                "next_offset": query.offset + len(rows) if more else None}
