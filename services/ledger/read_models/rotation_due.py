"""Rotations due and overdue (应交流与逾期未交流): `rotation.due` not yet carried out, with deferrals.

The rows are kept by the `rotation` projection in `rotation_postings.py`; a row leaves when its post
is left (a rotation, a vacated post). Status on `as_of` (as `shared.tenure.due_status`): `deferred`
while an approved deferral runs, `overdue` from the rule set's overdue day or once a deferral has
ended, else `due`.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

import asyncpg
from aiohttp import web
from pydantic import BaseModel, Field

from services.ledger.read_models.rotation_postings import FILTER_SQL, RotationFilter, filter_args
from shared.access import answered_rows
from shared.clock import clock_from
from shared.db import acquire
from shared.events.rotation import RULE_ZH
from shared.http import Api
from shared.settings import Settings

Status = Literal["due", "overdue", "deferred"]
STATUS_ZH = {"due": "应交流", "overdue": "逾期未交流", "deferred": "暂缓交流"}
STATUS_SQL = """CASE WHEN deferred_until IS NOT NULL AND $5::date <= deferred_until THEN 'deferred'
                     WHEN deferred_until IS NOT NULL OR $5::date >= overdue_on THEN 'overdue'
                     ELSE 'due' END"""


class DueFilter(RotationFilter):
    status: Status | None = Field(None, description="due 应交流, overdue 逾期未交流, deferred 暂缓交流.")


class DueEntry(BaseModel):
    cadre_id: str
    county: str
    post_id: str
    post: str
    unit: str
    township: str | None
    rule: str
    rule_zh: str
    years: int = Field(description="The rule's limit in years (年限).")
    since: date = Field(description="Start of the tenure counted (起算日).")
    due_on: date = Field(description="Day the limit was reached (到期日).")
    overdue_on: date = Field(description="Overdue from this day unless deferred (逾期日).")
    status: Status
    status_zh: str
    days_since_due: int
    deferred_until: date | None
    approval_reference: str | None = Field(description="Approval of the latest deferral (批准文号).")
    deferrals: int


class DuePage(BaseModel):
    as_of: date
    total: int
    entries: list[DueEntry]
    next_offset: int | None


def add_routes(api: Api, pool: asyncpg.Pool, settings: Settings) -> None:
    """`GET /v1/rotation/due`: who must rotate, under which rule, since when."""
    clock = clock_from(settings)

    @api.route("GET", "/v1/rotation/due", summary="Rotations due and overdue (应交流与逾期未交流)", query=DueFilter,
               response=DuePage, tags=("read models 查询",), recorded="list")
    async def due(request: web.Request, *, query: DueFilter) -> dict[str, Any]:
        """Rotations due on `as_of` (default today) and not carried out, earliest due first; filterable."""
        as_of = query.as_of or clock.today()
        where = f"""{FILTER_SQL} AND due_on <= $5 AND ($6::text IS NULL OR rule = $6)
                    AND ($7::text IS NULL OR {STATUS_SQL} = $7)"""
        args = [*filter_args(query), as_of, query.rule, query.status]
        async with acquire(pool, settings.pg_acquire_timeout_s) as conn:
            total = await conn.fetchval(f"SELECT count(*) FROM rm_rotation_due WHERE {where}", *args)
            rows = await conn.fetch(f"""SELECT *, {STATUS_SQL} AS status FROM rm_rotation_due WHERE {where}
                                       ORDER BY due_on, cadre_id, post_id, rule OFFSET $8 LIMIT $9""",
                                    *args, query.offset, query.limit)
        answered_rows(request, rows)
        entries = []
        for r in rows:
            row = dict(r)
            row.pop("last_position")
            entries.append({**row, "rule_zh": RULE_ZH[row["rule"]], "status_zh": STATUS_ZH[row["status"]],
                            "days_since_due": (as_of - row["due_on"]).days})
        more = query.offset + len(rows) < total
        return {"as_of": as_of, "total": total, "entries": entries,
                "next_offset": query.offset + len(rows) if more else None}
