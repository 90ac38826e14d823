"""The rotation summary (干部交流情况): rotations carried out in a period, per the rule that made them due.

Seed S4 (2003): "对同一个乡镇连续工作8年以上的86名一般干部……进行了交流": 86 general cadres rotated after 8 years in
one township (`township_8y`). Counted in rotations and in cadres; a rotation that leads out of its township is
counted apart (乡镇任职满年限的交流须离开原乡镇). One row per `rotation.completed` (`rm_rotations`), as corrections
leave it (the runner rebuilds the read model when one changes a rotation it applied).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any, get_args

import asyncpg
from aiohttp import web
from pydantic import BaseModel, Field

from services.ledger.projections import ProjectedEvent, Span
from services.ledger.read_models.summaries import PeriodQuery, counts_of
from services.ledger.statements import bulk, execute_bulk
from shared.db import acquire
from shared.events.rotation import Trigger
from shared.http import Api
from shared.settings import Settings

# A row is one event (`last_position` is its position), so a span's rows go in one statement in any order.
_ROTATED = bulk("""cadre_id text, county text, from_post_id text, from_township text, to_post_id text,
                   to_township text, completed_on date, trigger_rule text, years_in_old_post integer,
                   last_position bigint""", """
  INSERT INTO rm_rotations SELECT * FROM {rows} ON CONFLICT (cadre_id, last_position) DO NOTHING""")


class RotationsProjection:
    """`rm_rotations`: every rotation carried out."""

    name = "rotations_completed"
    version = 1
    tables: tuple[str, ...] = ("rm_rotations",)
    sql_types: frozenset[str] = frozenset()
    types = frozenset({"rotation.completed"})

    async def apply(self, conn: asyncpg.Connection, span: Span, events: Sequence[ProjectedEvent]) -> None:
        """One row per rotation of the span."""
        rows = [(e.cadre_id, e.county, e.data["from_post_id"], e.data.get("from_township"), e.data["to"]["post_id"],
                 e.data["to"].get("township"), e.occurred_on, e.data["trigger_rule"], e.data["years_in_old_post"],
                 e.position) for e in events]
        if rows:
            await execute_bulk(conn, _ROTATED, rows)


PROJECTIONS = [RotationsProjection()]


class RotationSummaryQuery(PeriodQuery):
    completed_from: date | None = Field(None, description="Rotations decided on or after this day.")
    completed_to: date | None = Field(None, description="Rotations decided on or before this day.")


class RotationSummary(BaseModel):
    county: str | None
    completed_from: date | None
    completed_to: date | None
    as_of: date | None
    rotations: int = Field(description="Rotations carried out in the period (交流, 次).")
    cadres_rotated: int = Field(description="Cadres rotated (交流干部, 人).")
    by_rule: dict[str, int] = Field(description="Rotations per the rule that made them due (交流事由): township_8y "
                                                "乡镇一般干部满8年, leader_same_post_10y 领导干部同一职位满10年, "
                                                "internal_unit_10y 内设机构领导满10年, sensitive_post_10y 重要岗位"
                                                "满10年, by_need 工作需要.")
    cadres_by_rule: dict[str, int] = Field(description="Cadres rotated per rule (按规则交流干部, 人): S4's count for "
                                                       "township_8y.")
    out_of_township: int = Field(description="Rotations from a township post to a post outside that township "
                                             "(交流出原乡镇).")


# $4: the day the figures are for (date.max: everything recorded).
_SUMMARY_SQL = """
  WITH r AS (SELECT * FROM rm_rotations WHERE ($1::text IS NULL OR county = $1)
               AND ($2::date IS NULL OR completed_on >= $2) AND ($3::date IS NULL OR completed_on <= $3)
               AND completed_on <= $4)
  SELECT count(*) AS rotations, count(DISTINCT cadre_id) AS cadres,
         count(*) FILTER (WHERE from_township IS NOT NULL AND to_township IS DISTINCT FROM from_township) AS out,
         (SELECT coalesce(jsonb_object_agg(trigger_rule, n), '{}') FROM
            (SELECT trigger_rule, count(*) AS n FROM r GROUP BY trigger_rule) t)::text AS by_rule,
         (SELECT coalesce(jsonb_object_agg(trigger_rule, n), '{}') FROM
            (SELECT trigger_rule, count(DISTINCT cadre_id) AS n FROM r GROUP BY trigger_rule) t)::text AS cadres_by_rule
  FROM r"""


def add_routes(api: Api, pool: asyncpg.Pool, settings: Settings) -> None:
    """`GET /v1/rotation/summary`."""

    @api.route("GET", "/v1/rotation/summary", summary="Rotations carried out (干部交流情况)",
               query=RotationSummaryQuery, response=RotationSummary, tags=("read models 查询",))
    async def summary(request: web.Request, *, query: RotationSummaryQuery) -> dict[str, Any]:
        """Rotations decided in the period, and the cadres rotated, per the rule that made them due; those that led
        out of the township."""
        async with acquire(pool, settings.pg_acquire_timeout_s) as conn:
            r = await conn.fetchrow(_SUMMARY_SQL, query.county, query.completed_from, query.completed_to,
                                    query.as_of or date.max)
        assert r is not None
        rules = get_args(Trigger)
        return {"county": query.county, "completed_from": query.completed_from, "completed_to": query.completed_to,
                "as_of": query.as_of,
                "rotations": r["rotations"], "cadres_rotated": r["cadres"], "out_of_township": r["out"],
                "by_rule": counts_of(rules, r["by_rule"]), "cadres_by_rule": counts_of(rules, r["cadres_by_rule"])}
