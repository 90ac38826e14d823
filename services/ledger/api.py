"""HTTP adapter of the ledger: history, state as of a date, the event feed, quarantine."""

from __future__ import annotations

from datetime import date
from typing import Any

import asyncpg
from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from services.ledger import queries
from services.ledger.access_trail import add_access_routes
from services.ledger.dossier import Dossier, fold_dossier
from services.ledger.proofs import Prover
from services.ledger.proofs_api import add_proof_routes
from services.ledger.read_models import add_all_routes
from shared.access import PURPOSE, AccessTrail, Answered, answered
from shared.db import acquire
from shared.envelope import COUNTY_PATTERN, StoredEvent, envelope_data
from shared.events.types import Cursor
from shared.guard import county_scoped, require_cadre_visible, require_counties
from shared.http import Api
from shared.ledger_reader import counties_of
from shared.problems import Problem
from shared.request_input import CadrePath
from shared.settings import Settings

MAX_PAGE = 1000


class LedgerEvent(BaseModel):
    """One ledger row: where it stands, its hashes, and the envelope exactly as hashed."""

    position: int = Field(description="Ledger position (账本位置), gap-free, commit order.")
    stream_seq: int = Field(description="JetStream sequence the event arrived with.")
    cadre_id: str
    cadre_version: int = Field(description="The cadre's event number, 1..n (干部记录版本).")
    type: str
    label_zh: str
    label_en: str
    occurred_on: date
    recorded_at: str
    committed_at: str
    prev_hash: str | None = Field(description="Leaf hash of the cadre's previous event (hash chain), hex.")
    leaf_hash: str = Field(description="SHA-256(0x00 || canonical envelope bytes), hex.")
    event: dict[str, Any] = Field(description="The CloudEvents envelope (RFC 8785 canonical form).")


class HistoryPage(BaseModel):
    cadre_id: str
    events: list[LedgerEvent]
    next_after_version: int | None = Field(description="Pass as `after_version` for the next page; null at the end.")


class EventsPage(BaseModel):
    events: list[LedgerEvent]
    next_after: int | None


class QuarantineEntry(BaseModel):
    id: int
    stream_seq: int
    subject: str
    cadre_id: str | None
    reason: str = Field(description="not_json | not_cloudevent | unknown_type | schema | source_mismatch | "
                        "subject_mismatch | not_canonicalisable | duplicate | unstorable (the database refused to "
                        "store it: `detail` gives its error)")
    reason_text: str = Field(description="What the reason means, in English and Chinese (隔离原因说明).")
    detail: str
    headers: dict[str, Any]
    raw_text: str | None
    raw_hex: str | None
    received_at: str


class QuarantinePage(BaseModel):
    entries: list[QuarantineEntry]
    next_after: int | None


class Tip(BaseModel):
    stream_seq: int
    position: int
    updated_at: str | None


class HistoryQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    purpose: str | None = PURPOSE
    after_version: int = Field(0, ge=0, le=2**31 - 1, description="Return events after this cadre version.")
    limit: int = Field(100, ge=1, le=MAX_PAGE)


class StateQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    purpose: str | None = PURPOSE
    as_of: date | None = Field(None, description="YYYY-MM-DD: fold events that occurred on or before this date.")


class FeedQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    county: str | None = Field(None, pattern=COUNTY_PATTERN, description="Only events of this county.")
    after: Cursor = Field(0, description="Return entries after this position (or quarantine id).")
    limit: int = Field(100, ge=1, le=MAX_PAGE)


class QuarantineQuery(FeedQuery):
    county: str | None = Field(None, pattern=COUNTY_PATTERN, description=(
        "Only messages published on this county's subjects (`cadre.<county>.<cadre_id>`); a county-scoped operator "
        "must name one of its counties (messages on other subjects are listed to all-county operators only)."))


TAGS = ("ledger 台账",)


async def _placed(request: web.Request, conn: asyncpg.Connection, cadre_id: str, unknown: Problem) -> set[str] | None:
    """For a county-scoped caller, the counties the cadre is on record in, `unknown` when it may read none of them.

    Decided before anything else of the cadre is read, as for personal data and bundles: a history page built first
    made another county's 404 slower than an unknown id's (by the page: 1.4 ms for 100 events, measured), telling
    that the id exists. None for a caller of every county, which has no scope to decide.
    """
    if not county_scoped(request):
        return None
    counties = await counties_of(conn, cadre_id)
    require_cadre_visible(request, counties, unknown)
    return counties


def build_api(pool: asyncpg.Pool, settings: Settings, prover: Prover, trail: AccessTrail) -> Api:
    """The ledger's read routes."""
    api = Api("cadre-ledger ledger (干部任用监督台账)", "1.0",
              "Reads of the append-only, hash-chained ledger of cadre events.", recorder=trail.bulk)
    timeout = settings.pg_acquire_timeout_s

    @api.route("GET", "/v1/cadres/{cadre_id}/history", summary="A cadre's history (干部履历)",
               path_params=CadrePath, query=HistoryQuery, response=HistoryPage, tags=TAGS, errors=(404,))
    async def history(request: web.Request, *, path: CadrePath, query: HistoryQuery) -> dict[str, Any]:
        """The cadre's events in chain order (versions 1..n), paginated by `after_version`.

        A county-scoped token gets for a cadre of another county the 404 of an id never recorded, decided before
        any of the cadre's events is read (先定查阅范围, 再读履历); 403 naming the county when the page would show
        events of a county outside its scope."""
        cadre_id = path.cadre_id
        what = f"history after_version={query.after_version}"
        unknown = queries.unknown_cadre(cadre_id, settings.counties)
        async with trail.recording(request, cadre_id, what, query.purpose), acquire(pool, timeout) as conn:
            counties = await _placed(request, conn, cadre_id, unknown)
            page = await queries.history(conn, cadre_id, query.after_version, query.limit)
            # A page past the end is answered as the cadre's whole record would be: 404 for a cadre with none.
            if not page.count and not (counties or await counties_of(conn, cadre_id)):
                raise unknown
        require_counties(request, page.counties)
        return {"cadre_id": cadre_id, "events": page.events,
                "next_after_version": page.last_key if page.more else None}

    @api.route("GET", "/v1/cadres/{cadre_id}/state", summary="A cadre's state on a date (某日状态)",
               path_params=CadrePath, query=StateQuery, response=Dossier, tags=TAGS, errors=(404,))
    async def state(request: web.Request, *, path: CadrePath, query: StateQuery) -> Dossier:
        """The dossier folded from events whose occurred-on date is on or before `as_of`.

        A county-scoped token gets for a cadre of another county the 404 of an id never recorded, decided before
        any of the cadre's events is read (先定查阅范围, 再读履历); 403 naming the county when the cadre has events
        of a county outside its scope."""
        cadre_id = path.cadre_id
        what = f"state as_of={query.as_of or 'now'}"
        unknown = queries.unknown_cadre(cadre_id, settings.counties)
        async with trail.recording(request, cadre_id, what, query.purpose), acquire(pool, timeout) as conn:
            await _placed(request, conn, cadre_id, unknown)
            rows = await queries.all_of_cadre(conn, cadre_id, query.as_of)
            if query.as_of is not None and queries.corrected_after(rows):
                rows = await queries.all_of_cadre(conn, cadre_id, None)
        if not rows:
            raise unknown
        require_counties(request, {r["county"] for r in rows})
        events = [StoredEvent(i, t, c, o, envelope_data(b)) for i, t, c, o, b in rows if b is not None]
        return fold_dossier(cadre_id, events, query.as_of)

    @api.route("GET", "/v1/events", summary="The ledger feed (全部事件)", query=FeedQuery, response=EventsPage,
               tags=TAGS, recorded="feed")
    async def events(request: web.Request, *, query: FeedQuery) -> dict[str, Any]:
        """Every event in position order after `after`."""
        async with acquire(pool, timeout) as conn:
            page = await queries.events_after(conn, query.after, query.limit, query.county)
        answered(request, Answered(page.count, page.cadres, page.first_key, page.last_key))
        return {"events": page.events, "next_after": page.last_key if page.more else None}

    @api.route("GET", "/v1/quarantine", summary="Quarantined messages (隔离消息)", query=QuarantineQuery,
               response=QuarantinePage, tags=("operators 运维",), access="operator")
    async def quarantine(request: web.Request, *, query: QuarantineQuery) -> dict[str, Any]:
        """Messages that were not valid events, with their raw bytes and reason."""
        async with acquire(pool, timeout) as conn:
            entries = await queries.quarantine_after(conn, query.after, query.limit + 1, query.county)
        more = len(entries) > query.limit
        entries = entries[: query.limit]
        return {"entries": entries, "next_after": entries[-1]["id"] if more else None}

    @api.route("GET", "/v1/tip", summary="What the ledger has committed (已提交位置)", response=Tip,
               tags=TAGS)
    async def tip(request: web.Request) -> dict[str, Any]:
        """The writer's checkpoint: last stream sequence and ledger position committed."""
        async with acquire(pool, timeout) as conn:
            return await queries.tip(conn, settings.consumer)

    add_proof_routes(api, prover, trail)
    add_access_routes(api, pool, settings)
    add_all_routes(api, pool, settings)
    return api
