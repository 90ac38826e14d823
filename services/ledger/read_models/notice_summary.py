"""The notice summary (任前公示情况): pre-appointment notices posted in a period, the objections they drew and how
they ended.

Seed S4 (2003): "对175名拟提拔任职的干部进行了任前公示": 175 cadres proposed for promotion were publicly noticed.
Counted in notices and in cadres; objections (公示期间反映) in objections, whether recorded against the notice or a
report received while it was open. It reads the rows the notices read model keeps (`rm_notices`,
`rm_notice_objections`, `notices.py`): the notices posted in the period, and where they stand now, or stood at the
end of `as_of` (a report's day), told as the notice list tells it (`notices.notices_on`).
"""

from __future__ import annotations

from datetime import date
from typing import Any, get_args

import asyncpg
from aiohttp import web
from pydantic import BaseModel, Field

from services.ledger.read_models.notices import Status, notices_on
from services.ledger.read_models.summaries import PeriodQuery, counts_of
from shared.db import acquire
from shared.events.assessment import NoticeOutcome
from shared.http import Api
from shared.settings import Settings


class NoticeSummaryQuery(PeriodQuery):
    posted_from: date | None = Field(None, description="Notices posted on or after this day.")
    posted_to: date | None = Field(None, description="Notices posted on or before this day.")


class NoticeSummary(BaseModel):
    county: str | None
    posted_from: date | None
    posted_to: date | None
    as_of: date | None
    notices: int = Field(description="Notices posted in the period (任前公示, 次).")
    cadres_noticed: int = Field(description="Cadres noticed (公示干部, 人): S4's count.")
    by_status: dict[str, int] = Field(description="Notices per status now, or on `as_of` (公示状态): open 公示中, "
                                                  "deferred 缓任, closed 已结束, cancelled 取消任职资格.")
    outcomes: dict[str, int] = Field(description="Closed notices per outcome, closed by `as_of` if given (公示结果): "
                                                 "clear 无异议, minor_issue_reminded 提醒后任用, deferred 缓任, "
                                                 "not_appointed 不予任用.")
    objections: int = Field(description="Objections to those notices (公示期间反映, 件).")
    notices_objected_to: int = Field(description="Notices that drew at least one objection (有反映的公示).")
    deferred: int = Field(description="Notices whose appointment was deferred at some point (缓任).")
    cancelled: int = Field(description="Notices whose cadre's qualification was cancelled (取消任职资格).")


# $4: the day the figures are for (date.max: everything recorded).
_SUMMARY_SQL = f"""
  WITH n AS (SELECT * FROM ({notices_on("$4")}) n WHERE ($1::text IS NULL OR county = $1)
               AND ($2::date IS NULL OR posted_on >= $2) AND ($3::date IS NULL OR posted_on <= $3)),
       o AS (SELECT o.* FROM rm_notice_objections o JOIN n USING (cadre_id, notice_id) WHERE o.received_on <= $4)
  SELECT count(*) AS notices, count(DISTINCT cadre_id) AS cadres,
         count(*) FILTER (WHERE deferred_on <= $4) AS deferred,
         count(*) FILTER (WHERE cancelled_on <= $4) AS cancelled,
         (SELECT count(*) FROM o) AS objections,
         (SELECT count(DISTINCT (cadre_id, notice_id)) FROM o) AS objected_to,
         (SELECT coalesce(jsonb_object_agg(status_then, c), '{{}}') FROM
            (SELECT status_then, count(*) AS c FROM n GROUP BY status_then) t)::text AS by_status,
         (SELECT coalesce(jsonb_object_agg(outcome, c), '{{}}') FROM
            (SELECT outcome, count(*) AS c FROM n WHERE outcome IS NOT NULL AND outcome_known GROUP BY outcome) t
         )::text AS outcomes
  FROM n"""


def add_routes(api: Api, pool: asyncpg.Pool, settings: Settings) -> None:
    """`GET /v1/notices/summary`."""

    @api.route("GET", "/v1/notices/summary", summary="Pre-appointment notices posted (任前公示情况)",
               query=NoticeSummaryQuery, response=NoticeSummary, tags=("read models 查询",))
    async def summary(request: web.Request, *, query: NoticeSummaryQuery) -> dict[str, Any]:
        """Notices posted in the period and the cadres noticed; where they stand now (status, outcome), the
        objections they drew, the deferrals and the cancelled qualifications; with `as_of`, as all of it stood at
        the end of that day."""
        async with acquire(pool, settings.pg_acquire_timeout_s) as conn:
            r = await conn.fetchrow(_SUMMARY_SQL, query.county, query.posted_from, query.posted_to,
                                    query.as_of or date.max)
        assert r is not None
        return {"county": query.county, "posted_from": query.posted_from, "posted_to": query.posted_to,
                "as_of": query.as_of,
                "notices": r["notices"], "cadres_noticed": r["cadres"],
                "by_status": counts_of(get_args(Status), r["by_status"]),
                "outcomes": counts_of(get_args(NoticeOutcome), r["outcomes"]),
                "objections": r["objections"], "notices_objected_to": r["objected_to"],
                "deferred": r["deferred"], "cancelled": r["cancelled"]}
