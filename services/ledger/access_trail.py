"""Files access records from the ACCESS stream into `access_trail`, and serves them to operators (the records
are made by `shared.access.AccessTrail` in every service that reads a dossier)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime
from typing import Any, Literal

import asyncpg
import nats.errors
import nats.js.errors
import orjson
from aiohttp import web
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.js.api import AckPolicy, ConsumerConfig
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from services.ledger.domain import storable
from shared.access import ACCESS_STREAM, ACCESS_SUBJECTS, AccessRecord
from shared.db import acquire, named
from shared.envelope import CADRE_ID_PATTERN, COUNTY_PATTERN, holds_nul
from shared.events.types import Cursor
from shared.http import Api
from shared.settings import Settings

log = logging.getLogger(__name__)
CONSUMER = "access-trail"
_FILE_BATCH = 500
_GATHER_S = 0.2


class AccessFiler:
    """Files access records from the ACCESS stream into `access_trail` (in the ledger's background process,
    so that batches of inserts and acks never hold up the loop that answers reads)."""

    def __init__(self, nc: NATS, writer_dsn: str, timeout: float) -> None:
        self.js = nc.jetstream()
        self.writer_dsn = writer_dsn
        self.timeout = timeout

    async def run(self, stop: asyncio.Event) -> None:
        """File records until `stop` is set, retrying after failures."""
        while not stop.is_set():
            try:
                await self._file(stop)
            except Exception as exc:
                log.warning("access trail interrupted: %s", exc)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 1.0)

    async def _file(self, stop: asyncio.Event) -> None:
        with contextlib.suppress(nats.js.errors.BadRequestError):
            await asyncio.wait_for(self.js.add_consumer(ACCESS_STREAM, ConsumerConfig(
                durable_name=CONSUMER, ack_policy=AckPolicy.EXPLICIT, filter_subject=ACCESS_SUBJECTS,
                max_deliver=-1, ack_wait=30)), self.timeout)
        sub = await self.js.pull_subscribe_bind(CONSUMER, ACCESS_STREAM)
        conn: asyncpg.Connection = await asyncpg.connect(self.writer_dsn, timeout=self.timeout,
                                                         server_settings=named("cadre-ledger-access-trail"))
        try:
            while not stop.is_set():
                try:
                    msgs = await sub.fetch(_FILE_BATCH, timeout=1.0)
                except (TimeoutError, nats.errors.TimeoutError):
                    continue
                if not msgs:
                    continue
                rows, rejected = _rows(msgs)
                # Both inserts are idempotent and the acks follow them, so a crash in between only files again.
                if rows:
                    await conn.execute(_FILE, (b"[" + b",".join(rows) + b"]").decode())
                if rejected:
                    await conn.executemany(
                        """INSERT INTO access_rejected (stream_seq, subject, reason, raw) VALUES ($1, $2, $3, $4)
                           ON CONFLICT DO NOTHING""", rejected)
                for msg in msgs:
                    await msg.ack()
                if len(msgs) < _FILE_BATCH:  # a trickle: let records gather rather than a round trip per read
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), _GATHER_S)
        finally:
            await sub.unsubscribe()
            await conn.close()


# A batch of records in one statement (one parse of one JSON array, instead of a Bind and an Execute per row).
_COLUMNS = """id uuid, stream_seq bigint, at timestamptz, principal text, roles text[], cadre_id text, what text,
  purpose text, request_id text, route text, county text, filters jsonb, returned integer, cadres integer,
  first_position bigint, last_position bigint"""
_NAMES = ", ".join(c.split()[0] for c in _COLUMNS.split(","))
_FILE = f"""
  INSERT INTO access_trail ({_NAMES}) SELECT {_NAMES} FROM jsonb_to_recordset($1::jsonb) AS r({_COLUMNS})
  ON CONFLICT DO NOTHING"""


def _rows(msgs: list[Msg]) -> tuple[list[bytes], list[tuple[int, str, str, bytes]]]:
    """The `access_trail` rows of the records among `msgs`, as JSON objects, and the `access_rejected` rows of
    the others.

    A row is the record as pydantic read it (ISO times), so PostgreSQL never parses a form pydantic accepted
    and it does not; text holding U+0000, which PostgreSQL cannot store, is rejected here rather than
    failing the whole batch again and again.
    """
    rows, rejected = [], []
    for msg in msgs:
        seq = msg.metadata.sequence.stream
        try:
            record = AccessRecord.model_validate_json(msg.data)
        except ValidationError as exc:
            why = str(exc)
        else:
            row = orjson.dumps({**record.model_dump(mode="json"), "stream_seq": seq})
            if holds_nul(row):
                why = "text must not contain U+0000 (NUL) (文本不能包含空字符)"
            elif msg.subject != record.subject:
                # NATS lets the rotation service publish on access.person.> only; that is a guard only if a
                # record is filed as the kind its subject says (a ledger read sent there would be forged).
                why = f"a record of this kind belongs on {record.subject}, not this subject (主题与记录不符)"
            else:
                rows.append(row)
                continue
        reason = f"not an access record (不是查阅记录): {why}"[:2000]
        subject = storable(msg.subject, exact=True)
        log.error("access message rejected", extra={"stream_seq": seq, "subject": subject, "reason": storable(reason)})
        rejected.append((seq, subject, storable(reason), msg.data))
    return rows, rejected


class AccessQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    county: str | None = Field(None, pattern=COUNTY_PATTERN, description=(
        "Reads of cadres on record in this county (县), and bulk reads filtered by it; a county-scoped operator "
        "must name one of its counties (reads of ids the ledger does not hold, e.g. answered 404, and bulk reads "
        "of every county are listed to all-county operators only)."))
    cadre_id: str | None = Field(None, pattern=CADRE_ID_PATTERN, description=(
        "Reads of this cadre (干部编号); an id no cadre can have is a 422 naming it, not an empty list."))
    principal: str | None = Field(None, max_length=200, description="Reads by this token subject.")
    kind: Literal["cadre", "bulk"] | None = Field(None, description=(
        "cadre: reads of one cadre's dossier (逐人查阅); bulk: reads of the event feed and of lists (批量读取)."))
    route: str | None = Field(None, pattern=r"^/[A-Za-z0-9/_{}-]{1,199}$", description=(
        "Bulk reads of this route (接口), e.g. /v1/events or /v1/rotation/due."))
    after: Cursor = Field(0, description="Continue after this stream sequence.")
    limit: int = Field(100, ge=1, le=1000)


class AccessEntry(BaseModel):
    stream_seq: int
    at: datetime
    principal: str = Field(description="Who read (查阅人): the token's subject.")
    roles: list[str]
    cadre_id: str | None = Field(description="The cadre read (被查阅干部); null for a bulk read.")
    what: str = Field(description="history | state | bundle | person with parameters; feed | list (批量读取).")
    purpose: str = Field(description="Why (查阅事由); a bulk read is not asked one.")
    request_id: str
    route: str | None = Field(description="A bulk read's route (接口).")
    county: str | None = Field(description="The county a bulk read was filtered by (县); null: every county.")
    filters: dict[str, Any] | None = Field(description="A bulk read's other query parameters, as given (筛选条件).")
    returned: int | None = Field(description="Rows a bulk read answered (返回条数); null: none (refused, failed).")
    cadres: int | None = Field(description="Distinct cadres those rows name (涉及干部人数).")
    first_position: int | None = Field(description="A feed read's first ledger position answered (起始账本位置).")
    last_position: int | None = Field(description="... and its last (截止账本位置): the events read, to list again.")


class AccessPage(BaseModel):
    entries: list[AccessEntry]
    next_after: int | None


_ENTRY = """SELECT stream_seq, at, principal, roles, cadre_id, what, purpose, request_id, route, county, filters::text,
  returned, cadres, first_position, last_position FROM access_trail"""
_FILTERS = """stream_seq > $1 AND ($2::text IS NULL OR cadre_id = $2) AND ($3::text IS NULL OR principal = $3)
  AND ($4::text IS NULL OR route = $4)"""
_KIND = {"bulk": "cadre_id IS NULL", "cadre": "cadre_id IS NOT NULL"}
_OF_COUNTY = {
    "bulk": "cadre_id IS NULL AND county = $6",  # access_trail_bulk_county, in stream order
    # the county's cadres by ledger_events_county (a char(6) column: compared with text, the index is not used), then
    # their reads by access_trail_cadre
    "cadre": "cadre_id = ANY (ARRAY(SELECT DISTINCT l.cadre_id FROM ledger_events l WHERE l.county = $6::char(6)))",
}


def listing(query: AccessQuery) -> tuple[str, list[Any]]:
    """The statement listing `query`'s page, and its arguments.

    A county's entries are its bulk reads and the reads of its cadres, each kind found by indexes of its own and
    the two merged in stream order. One condition `county = $5 OR EXISTS (an event of the read cadre in the county)`
    could use neither: it read the trail in stream order, testing every row against the county's cadres (gathered
    by a scan of the whole ledger), so listing a county read little or not at all read the whole trail. One
    statement per shape (a county or not, a kind or both), not conditions that switch a part off."""
    args: list[Any] = [query.after, query.cadre_id, query.principal, query.route, query.limit + 1]
    if query.county is None:
        kind = f" AND {_KIND[query.kind]}" if query.kind else ""
        return f"{_ENTRY} WHERE {_FILTERS}{kind} ORDER BY stream_seq LIMIT $5", args
    args.append(query.county)
    if query.kind:
        return f"{_ENTRY} WHERE {_FILTERS} AND {_OF_COUNTY[query.kind]} ORDER BY stream_seq LIMIT $5", args
    pages = [f"({_ENTRY} WHERE {_FILTERS} AND {_OF_COUNTY[kind]} ORDER BY stream_seq LIMIT $5)" for kind in _KIND]
    return "\nUNION ALL\n".join(pages) + " ORDER BY stream_seq LIMIT $5", args


def add_access_routes(api: Api, pool: asyncpg.Pool, settings: Settings) -> None:
    """`GET /v1/access`: the access trail, for operators."""

    @api.route("GET", "/v1/access", summary="Access trail (查阅记录)", query=AccessQuery, response=AccessPage,
               tags=("operators 运维",), access="operator")
    async def access(request: web.Request, *, query: AccessQuery) -> dict[str, Any]:
        """Who read which cadre's dossier, when and why, and who read the event feed or a list (one entry per
        request: the county and filters, how many rows and cadres it answered), in the order the reads were
        recorded."""
        sql, args = listing(query)
        async with acquire(pool, settings.pg_acquire_timeout_s) as conn:
            rows = await conn.fetch(sql, *args)
        more = len(rows) > query.limit
        rows = rows[: query.limit]
        entries = [{**dict(r), "filters": orjson.loads(r["filters"]) if r["filters"] is not None else None}
                   for r in rows]
        return {"entries": entries, "next_after": rows[-1]["stream_seq"] if more else None}
