"""Audits whose result is still to be applied or filed (审计结果待运用、待归档), DOMAIN.md rule 9.

A completed audit's result is applied (审计结果运用: a talk, an admonishment, organisational handling, a
referral, or none) and filed to the cadre's dossier (归档). This list reads the audit rows the audit findings
read model keeps (`rm_audits`, `audit_findings.py`): every audit completed by `as_of` whose result had not been
applied by then, or had been applied but not filed. An audit whose findings are all rectified stays on it
until its result is applied and filed.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

import asyncpg
from aiohttp import web
from pydantic import BaseModel, Field

from services.ledger.read_models.audit_common import TAGS, CompletedAudit, ListQuery
from shared.access import answered_rows
from shared.clock import clock_from
from shared.db import acquire
from shared.http import Api
from shared.settings import Settings

Pending = Literal["not_applied", "not_filed"]
PENDING_ZH = {"not_applied": "结果待运用", "not_filed": "已运用, 待归档"}


class ResultsPendingQuery(ListQuery):
    pending: Pending | None = Field(None, description="Only audits pending this: not_applied (结果待运用) or "
                                                      "not_filed (已运用, 待归档).")


class AuditResultPending(CompletedAudit):
    days_since_completed: int = Field(description="Days from the completion to as_of (完成后天数).")
    pending: Pending
    pending_zh: str
    result: str | None = Field(description="The result applied by as_of, if any: none | talk | admonishment | "
                                           "organisational_handling | referral.")
    result_applied_on: date | None


class ResultsPendingPage(BaseModel):
    as_of: date
    total: int
    audits: list[AuditResultPending]
    next_offset: int | None


_PENDING = """
  WITH p AS (
    SELECT *, CASE WHEN result_applied_on IS NULL OR result_applied_on > $1 THEN 'not_applied'
                   ELSE 'not_filed' END AS pending
    FROM rm_audits
    WHERE completed_on <= $1 AND (filed_on IS NULL OR filed_on > $1)
      AND ($2::text IS NULL OR county = $2) AND ($3::text IS NULL OR cadre_id = $3))"""
_TOTAL_SQL = _PENDING + " SELECT count(*) FROM p WHERE $4::text IS NULL OR pending = $4"
_PAGE_SQL = _PENDING + """
  SELECT * FROM p WHERE $4::text IS NULL OR pending = $4
  ORDER BY completed_on, cadre_id, audit_id OFFSET $5 LIMIT $6"""


def _entry(r: asyncpg.Record, as_of: date) -> dict[str, Any]:
    applied = r["pending"] == "not_filed"
    return {**{k: r[k] for k in ("cadre_id", "county", "audit_id", "audit_type", "report_number", "evaluation",
                                 "completed_on", "pending")},
            "days_since_completed": (as_of - r["completed_on"]).days, "pending_zh": PENDING_ZH[r["pending"]],
            "result": r["result"] if applied else None,
            "result_applied_on": r["result_applied_on"] if applied else None}


def add_routes(api: Api, pool: asyncpg.Pool, settings: Settings) -> None:
    """`GET /v1/audits/results-pending`."""
    clock = clock_from(settings)

    @api.route("GET", "/v1/audits/results-pending", summary="Audits whose result is to be applied or filed "
               "(审计结果待运用、待归档)", query=ResultsPendingQuery, response=ResultsPendingPage, tags=TAGS,
               recorded="list")
    async def results_pending(request: web.Request, *, query: ResultsPendingQuery) -> dict[str, Any]:
        """Audits completed by `as_of` whose result had not been applied by then, or had been applied but not
        filed to the cadre's dossier; oldest completion first."""
        as_of = query.as_of or clock.today()
        args = (as_of, query.county, query.cadre_id, query.pending)
        async with acquire(pool, settings.pg_acquire_timeout_s) as conn:
            total = await conn.fetchval(_TOTAL_SQL, *args)
            rows = await conn.fetch(_PAGE_SQL, *args, query.offset, query.limit)
        answered_rows(request, rows)
        more = query.offset + len(rows) < total
        return {"as_of": as_of, "total": total, "audits": [_entry(r, as_of) for r in rows],
                "next_offset": query.offset + len(rows) if more else None}
