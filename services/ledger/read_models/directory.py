"""The cadre directory (干部名录): every cadre in the ledger, its county and latest event."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

import asyncpg
from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from services.ledger.projections import ProjectedEvent
from shared.db import acquire
from shared.envelope import COUNTY_PATTERN
from shared.events.registry import CATALOGUE
from shared.http import Api
from shared.settings import Settings


class CadreDirectory:
    """`rm_cadres`: one row per cadre."""

    name = "cadre_directory"
    tables: tuple[str, ...] = ("rm_cadres",)

    async def apply(self, conn: asyncpg.Connection, events: Sequence[ProjectedEvent]) -> None:
        """One upsert per cadre of the batch (in position order, so its last event sets county and type)."""
        rows: dict[str, list[Any]] = {}
        for e in events:
            row = rows.get(e.cadre_id)
            if row is None:
                rows[e.cadre_id] = [e.cadre_id, e.county, 1, e.occurred_on, e.occurred_on, e.type, e.position]
            else:
                row[1], row[5], row[6] = e.county, e.type, e.position
                row[2] += 1
                row[3] = min(row[3], e.occurred_on)
                row[4] = max(row[4], e.occurred_on)
        if not rows:
            return
        await conn.execute(
            """INSERT INTO rm_cadres AS c (cadre_id, county, events, first_occurred_on, last_occurred_on, last_type,
                                           last_position)
               SELECT * FROM unnest($1::text[], $2::text[], $3::int[], $4::date[], $5::date[], $6::text[],
                                    $7::bigint[])
               ON CONFLICT (cadre_id) DO UPDATE SET county = EXCLUDED.county, events = c.events + EXCLUDED.events,
                 first_occurred_on = least(c.first_occurred_on, EXCLUDED.first_occurred_on),
                 last_occurred_on = greatest(c.last_occurred_on, EXCLUDED.last_occurred_on),
                 last_type = EXCLUDED.last_type, last_position = EXCLUDED.last_position""",
            *(list(column) for column in zip(*rows.values(), strict=True)))


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
               tags=("read models 查询",), errors=(503,))
    async def directory(request: web.Request, *, query: DirectoryQuery) -> dict[str, Any]:
        """Cadres in id order, filtered by county and id prefix."""
        async with acquire(pool, settings.pg_acquire_timeout_s) as conn:
            rows = await conn.fetch(
                """SELECT * FROM rm_cadres WHERE cadre_id > $1 AND ($2::text IS NULL OR county = $2)
                   AND ($3::text IS NULL OR starts_with(cadre_id, $3)) ORDER BY cadre_id LIMIT $4""",
                query.after, query.county, query.prefix, query.limit + 1)
        more = len(rows) > query.limit
        rows = rows[: query.limit]
        cadres = [{**dict(r), "last_label_zh": CATALOGUE[r["last_type"]].label_zh if r["last_type"] in CATALOGUE
                   else r["last_type"]} for r in rows]
        return {"cadres": cadres, "next_after": rows[-1]["cadre_id"] if more else None}
