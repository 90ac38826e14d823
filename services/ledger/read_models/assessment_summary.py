"""The assessment summary (年度考核情况): a year's annual grades, and the watchlist items that arose in it.

The figures a county reports after its annual assessment (年度考核结果): how many cadres were graded, how many at
each grade (优秀, 称职, 基本称职, 不称职, 不定等次), and what the year's grades and evaluations required (the
watchlist's items keyed by that year: threshold breaches, admonishments after a basically competent grade,
demotions after an incompetent one, dismissal cases, consecutive low grades; and the competency tests' retests and
second failures that arose in it), with how many of those are still open. It reads the grades and items the
assessment watchlist read model keeps (`rm_assessment_grades`, `rm_assessment_watch`), and the cadres' county
from the directory (`rm_cadres`): grades as corrections leave them. With `as_of` (a report's day), as it all stood
at the end of that day: the grades and items recorded by then, and those items not resolved by then.
"""

from __future__ import annotations

from datetime import date
from typing import Any, get_args

import asyncpg
from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from services.ledger.read_models.assessment_common import TAGS
from services.ledger.read_models.assessment_watchlist import Kind
from services.ledger.read_models.summaries import counts_of
from shared.db import acquire
from shared.envelope import COUNTY_PATTERN
from shared.events.assessment import Grade
from shared.http import Api
from shared.settings import Settings


class YearQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    county: str | None = Field(None, pattern=COUNTY_PATTERN, description="Only this county (县).")
    year: int = Field(ge=1949, le=2100, description="The assessment year (考核年度).")
    as_of: date | None = Field(None, description="The figures as they stood at the end of this day (截至): grades "
                                                 "and items recorded by then, open if not resolved by then; "
                                                 "default: everything recorded.")


class AssessmentSummary(BaseModel):
    county: str | None
    year: int
    as_of: date | None
    graded: int = Field(description="Cadres graded for the year (参加年度考核, 人).")
    by_grade: dict[str, int] = Field(description="Cadres per grade (考核等次, 人): excellent 优秀, competent 称职, "
                                                 "basically_competent 基本称职, incompetent 不称职, not_graded "
                                                 "不定等次.")
    watch_items: dict[str, int] = Field(description="Watchlist items of the year, per kind (考核预警事项): those a "
                                                    "grade or an evaluation of the year gave (threshold_breach, "
                                                    "basically_competent, incompetent_demotion, dismissal_case, "
                                                    "consecutive_low_grades), "
                                                    "and the competency tests' that arose in it (retest_due, "
                                                    "second_failure).")
    watch_items_open: int = Field(description="Of those, the ones not resolved yet, or by `as_of` (尚未处理).")


# $3: the day the figures are for (date.max: everything recorded).
_SUMMARY_SQL = """
  WITH g AS (SELECT g.* FROM rm_assessment_grades g JOIN rm_cadres c USING (cadre_id)
               WHERE g.year = $2 AND ($1::text IS NULL OR c.county = $1) AND g.graded_on <= $3),
       w AS (SELECT * FROM rm_assessment_watch WHERE ($1::text IS NULL OR county = $1) AND since <= $3
               AND (year = $2 OR (year IS NULL AND since >= make_date($2, 1, 1) AND since <= make_date($2, 12, 31))))
  SELECT (SELECT count(*) FROM g) AS graded,
         (SELECT coalesce(jsonb_object_agg(grade, n), '{}') FROM
            (SELECT grade, count(*) AS n FROM g GROUP BY grade) t)::text AS by_grade,
         (SELECT coalesce(jsonb_object_agg(kind, n), '{}') FROM
            (SELECT kind, count(*) AS n FROM w GROUP BY kind) t)::text AS watch_items,
         (SELECT count(*) FROM w WHERE resolved_on IS NULL OR resolved_on > $3) AS still_open"""


def add_routes(api: Api, pool: asyncpg.Pool, settings: Settings) -> None:
    """`GET /v1/assessment/summary`."""

    @api.route("GET", "/v1/assessment/summary", summary="A year's annual assessment (年度考核情况)", query=YearQuery,
               response=AssessmentSummary, tags=TAGS)
    async def summary(request: web.Request, *, query: YearQuery) -> dict[str, Any]:
        """The cadres graded for the year, per grade; the watchlist items that arose in it, per kind, and how many
        are still open; with `as_of`, as all of it stood at the end of that day."""
        async with acquire(pool, settings.pg_acquire_timeout_s) as conn:
            r = await conn.fetchrow(_SUMMARY_SQL, query.county, query.year, query.as_of or date.max)
        assert r is not None
        return {"county": query.county, "year": query.year, "as_of": query.as_of, "graded": r["graded"],
                "by_grade": counts_of(get_args(Grade), r["by_grade"]),
                "watch_items": counts_of(get_args(Kind), r["watch_items"]), "watch_items_open": r["still_open"]}
