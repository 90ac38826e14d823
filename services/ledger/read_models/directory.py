"""The cadre directory (干部名录): every cadre in the ledger, its county and latest event."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

import asyncpg
from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from services.ledger.projections import ProjectedEvent, Span
from shared.access import answered_rows
from shared.db import acquire
from shared.envelope import COUNTY_PATTERN
from shared.events.registry import CATALOGUE
from shared.http import Api
from shared.settings import Settings

# per cadre of the span: its events counted and dated in SQL, county and type from its last event of the span
_GROUPED = """(SELECT cadre_id, count(*)::int AS events, min(occurred_on) AS first_on, max(occurred_on) AS last_on,
               max(position) AS last_position
        FROM ledger_events WHERE position > $1 AND position <= $2 GROUP BY cadre_id) g"""
# the same over the effective history, where corrections touch the span: $3/$4 the corrected events' positions
# and dates, $5 the positions left out (revoked events, the corrections and revocations themselves); joined,
# not compared with `= ANY` per row, so that a rebuild over the whole ledger hashes them once
_EFFECTIVE = """(SELECT e.cadre_id, count(*)::int AS events, min(coalesce(f.occurred_on, e.occurred_on)) AS first_on,
               max(coalesce(f.occurred_on, e.occurred_on)) AS last_on, max(e.position) AS last_position
        FROM ledger_events e LEFT JOIN unnest($3::bigint[], $4::date[]) AS f(position, occurred_on)
          ON f.position = e.position
        WHERE e.position > $1 AND e.position <= $2
          AND NOT EXISTS (SELECT 1 FROM unnest($5::bigint[]) AS x(position) WHERE x.position = e.position)
        GROUP BY e.cadre_id) g"""
_UPSERT = """
  INSERT INTO rm_cadres AS c (cadre_id, county, events, first_occurred_on, last_occurred_on, last_type, last_position)
  SELECT g.cadre_id, l.county, g.events, g.first_on, g.last_on, l.type, g.last_position
  FROM {grouped}
  JOIN ledger_events l ON l.position = g.last_position
  ON CONFLICT (cadre_id) DO UPDATE SET county = EXCLUDED.county, events = c.events + EXCLUDED.events,
    first_occurred_on = least(c.first_occurred_on, EXCLUDED.first_occurred_on),
    last_occurred_on = greatest(c.last_occurred_on, EXCLUDED.last_occurred_on),
    last_type = EXCLUDED.last_type, last_position = EXCLUDED.last_position"""
# from position 0 the table is empty (a rebuild empties it with its checkpoint): no conflict to look for
_INSERT = _UPSERT[:_UPSERT.index("  ON CONFLICT")]
_STATEMENTS = {(False, False): _UPSERT.format(grouped=_GROUPED), (True, False): _INSERT.format(grouped=_GROUPED),
               (False, True): _UPSERT.format(grouped=_EFFECTIVE), (True, True): _INSERT.format(grouped=_EFFECTIVE)}


class CadreDirectory:
    """`rm_cadres`: one row per cadre, computed in SQL from the ledger's own columns (no rows travel).

    Over the effective history (`services.ledger.corrected`): a correction or revocation is not one of the
    cadre's events (it is folded into the event it corrects, which keeps its place), so it is neither counted
    nor the cadre's last event; a revoked event is not counted either, and a corrected one counts at its own
    place with its corrected date. The rows are those of a ledger that recorded the corrected facts in the first
    place; a cadre every event of which was revoked has none.
    """

    name = "cadre_directory"
    version = 1
    tables: tuple[str, ...] = ("rm_cadres",)
    sql_types: frozenset[str] = frozenset()
    types: frozenset[str] = frozenset()

    async def apply(self, conn: asyncpg.Connection, span: Span, events: Sequence[ProjectedEvent]) -> None:
        """One upsert per cadre with events in the span (its last event there sets county and type); from
        position 0, one insert."""
        fixed = span.corrections.within(span.after, span.upto)
        skipped = span.corrections.rows_within(span.after, span.upto)
        if not fixed and not skipped:
            await conn.execute(_STATEMENTS[span.after == 0, False], span.after, span.upto)
            return
        dated = [(p, f.occurred_on) for p, f in fixed.items() if f is not None]
        await conn.execute(_STATEMENTS[span.after == 0, True], span.after, span.upto, [p for p, _ in dated],
                           [d for _, d in dated], [*skipped, *(p for p, f in fixed.items() if f is None)])


PROJECTIONS = [CadreDirectory()]


class DirectoryQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    county: str | None = Field(None, pattern=COUNTY_PATTERN, description="Only cadres of this county.")
    prefix: str | None = Field(None, max_length=64, description="Cadre ids starting with this.")
    after: str = Field("", max_length=64, description="Cadre id to continue after (pagination).")
    limit: int = Field(100, ge=1, le=1000)


class DirectoryEntry(BaseModel):
    cadre_id: str
    county: str
    events: int
    first_occurred_on: date
    last_occurred_on: date
    last_type: str
    last_label_zh: str
    last_position: int


class DirectoryPage(BaseModel):
    cadres: list[DirectoryEntry]
    next_after: str | None


def add_routes(api: Api, pool: asyncpg.Pool, settings: Settings) -> None:
    """`GET /v1/cadres`: find a cadre."""

    @api.route("GET", "/v1/cadres", summary="Find cadres (干部名录)", query=DirectoryQuery, response=DirectoryPage,
               tags=("read models 查询",), recorded="list")
    async def directory(request: web.Request, *, query: DirectoryQuery) -> dict[str, Any]:
        """Cadres in id order, filtered by county and id prefix."""
        async with acquire(pool, settings.pg_acquire_timeout_s) as conn:
            rows = await conn.fetch(
                """SELECT * FROM rm_cadres WHERE cadre_id > $1 AND ($2::text IS NULL OR county = $2)
                   AND ($3::text IS NULL OR starts_with(cadre_id, $3)) ORDER BY cadre_id LIMIT $4""",
                query.after, query.county, query.prefix, query.limit + 1)
        more = len(rows) > query.limit
        rows = rows[: query.limit]
        answered_rows(request, rows)
        cadres = [{**dict(r), "last_label_zh": CATALOGUE[r["last_type"]].label_zh if r["last_type"] in CATALOGUE
                   else r["last_type"]} for r in rows]
        return {"cadres": cadres, "next_after": rows[-1]["cadre_id"] if more else None}
