"""Principal leaders who left a post without a departure audit (离任未审计): DOMAIN.md rule 9.

Fed by the rotation service's events (`post.assigned` with `leadership: true` and not `principal: false`: a
deputy's post (副职) needs no departure audit, an unstated one is counted as a principal's; `post.vacated`; and
`rotation.completed`, which leaves one post and takes another) and the audit service's `audit.started`
of type departure naming the post. A post vacated on or before `as_of` is flagged until a departure
audit of it (started on or after the cadre took the post) has been started by `as_of`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

import asyncpg
from aiohttp import web
from pydantic import BaseModel, Field

from services.ledger.projections import ProjectedEvent, Span
from services.ledger.read_models.audit_common import TAGS, ListQuery
from services.ledger.statements import Statements, bulk, day
from shared.access import answered_rows
from shared.clock import clock_from
from shared.db import acquire
from shared.http import Api
from shared.settings import Settings

# every statement reads and writes only its first column's cadre's rows: each run goes as one statement
_ASSIGNED = bulk("cadre_id text, post_id text, county text, post text, unit text, assigned_on date", """
  INSERT INTO rm_leadership_posts (cadre_id, post_id, county, post, unit, assigned_on) SELECT * FROM {rows}
  ON CONFLICT (cadre_id, post_id) DO UPDATE SET county = EXCLUDED.county, post = EXCLUDED.post,
    unit = EXCLUDED.unit, assigned_on = EXCLUDED.assigned_on, vacated_on = NULL, vacate_reason = NULL""")
_VACATED = bulk("cadre_id text, post_id text, vacated_on date, vacate_reason text", """
  UPDATE rm_leadership_posts p SET vacated_on = v.vacated_on, vacate_reason = v.vacate_reason
  FROM {rows} WHERE p.cadre_id = v.cadre_id AND p.post_id = v.post_id""")
_AUDIT = bulk("cadre_id text, audit_id text, post_id text, started_on date", """
  INSERT INTO rm_departure_audits (cadre_id, audit_id, post_id, started_on) SELECT * FROM {rows}
  ON CONFLICT (cadre_id, audit_id) DO NOTHING""")


def _needs_departure_audit(post: dict[str, Any]) -> bool:
    """Whether leaving the post needs a departure audit: a leadership post not stated to be a deputy's."""
    return bool(post.get("leadership")) and post.get("principal") is not False


class DepartureAuditsProjection:
    """`rm_leadership_posts` and `rm_departure_audits`."""

    name = "audit_departures"
    version = 2
    tables: tuple[str, ...] = ("rm_leadership_posts", "rm_departure_audits")
    sql_types: frozenset[str] = frozenset()
    types = frozenset({"post.assigned", "post.vacated", "rotation.completed", "audit.started"})

    async def apply(self, conn: asyncpg.Connection, span: Span, events: Sequence[ProjectedEvent]) -> None:
        """Record principals' posts taken and left, and departure audits started, with the effect of position order.

        Every statement keeps to its cadre's rows.
        """
        todo = Statements()
        for e in events:
            d = e.data
            if e.type == "post.assigned" and _needs_departure_audit(d):
                todo.add(_ASSIGNED, e.cadre_id, d["post_id"], e.county, d["post"], d["unit"],
                         day(d.get("decision_date")) or e.occurred_on)
            elif e.type == "post.vacated":
                todo.add(_VACATED, e.cadre_id, d["post_id"], e.occurred_on, d["reason"])
            elif e.type == "rotation.completed":
                todo.add(_VACATED, e.cadre_id, d["from_post_id"], e.occurred_on, "rotation")
                to = d["to"]
                if _needs_departure_audit(to):
                    todo.add(_ASSIGNED, e.cadre_id, to["post_id"], e.county, to["post"], to["unit"],
                             day(d.get("decision_date")) or e.occurred_on)
            elif e.type == "audit.started" and d["audit_type"] == "departure" and d.get("post_id"):
                todo.add(_AUDIT, e.cadre_id, d["audit_id"], d["post_id"], e.occurred_on)
        await todo.run(conn)


PROJECTIONS = [DepartureAuditsProjection()]


class UnauditedDeparture(BaseModel):
    cadre_id: str
    county: str
    post_id: str
    post: str
    unit: str
    assigned_on: date
    vacated_on: date
    vacate_reason: str | None
    days_since_vacated: int = Field(description="Days since the post was left, on as_of (离任天数).")


class UnauditedDeparturesPage(BaseModel):
    as_of: date
    total: int
    departures: list[UnauditedDeparture]
    next_offset: int | None


_WHERE = """p.vacated_on IS NOT NULL AND p.vacated_on <= $1
            AND ($2::text IS NULL OR p.county = $2) AND ($3::text IS NULL OR p.cadre_id = $3)
            AND NOT EXISTS (SELECT 1 FROM rm_departure_audits d
                            WHERE d.cadre_id = p.cadre_id AND d.post_id = p.post_id
                              AND d.started_on >= p.assigned_on AND d.started_on <= $1)"""


def add_routes(api: Api, pool: asyncpg.Pool, settings: Settings) -> None:
    """`GET /v1/audits/departures-unaudited`."""
    clock = clock_from(settings)

    @api.route("GET", "/v1/audits/departures-unaudited",
               summary="Principal leaders who left a post without a departure audit (离任未审计)", query=ListQuery,
               response=UnauditedDeparturesPage, tags=TAGS, recorded="list")
    async def unaudited(request: web.Request, *, query: ListQuery) -> dict[str, Any]:
        """Principals' posts (leadership posts not stated to be a deputy's, 正职) vacated by `as_of` with no
        departure audit of the post started by then, the longest-standing first."""
        as_of = query.as_of or clock.today()
        args = (as_of, query.county, query.cadre_id)
        async with acquire(pool, settings.pg_acquire_timeout_s) as conn:
            total = int(await conn.fetchval(f"SELECT count(*) FROM rm_leadership_posts p WHERE {_WHERE}", *args))
            rows = await conn.fetch(f"""SELECT * FROM rm_leadership_posts p WHERE {_WHERE}
                                       ORDER BY p.vacated_on, p.cadre_id, p.post_id OFFSET $4 LIMIT $5""",
                                    *args, query.offset, query.limit)
        answered_rows(request, rows)
        departures = [{**dict(r), "days_since_vacated": (as_of - r["vacated_on"]).days} for r in rows]
        more = query.offset + len(rows) < total
        return {"as_of": as_of, "total": total, "departures": departures,
                "next_offset": query.offset + len(rows) if more else None}
