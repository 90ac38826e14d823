"""Read queries of the ledger API (read-only role)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import asyncpg
import orjson

from services.ledger.domain import reason_text
from shared.corrections import correction_types
from shared.events.registry import CATALOGUE
from shared.problems import NotFound

# PostgreSQL writes each answer's JSON array, so the ledger's Python never touches the rows of a page:
# hashes in hex, times in UTC with microseconds, labels from the catalogue (a constant, below), and
# the stored RFC 8785 bytes embedded verbatim. The array is concatenated text rather than json_agg,
# which parses every envelope again (a third less PostgreSQL CPU per page); text values go through
# to_json for their escapes. The array comes back as UTF-8 bytes (bytea), which the answer embeds as
# they are: as text, asyncpg would decode it to str and orjson encode it again (0.1 ms per page).
# Every column but prev_hash is NOT NULL (and prev_hash is coalesced), so no row's text can turn NULL
# and drop out of string_agg.
_TIME = """'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"'"""
# The catalogue's labels as a jsonb constant of the statement: PostgreSQL reads it once, when it plans
# the statement. As a parameter it went with every query and, under the generic plan a prepared
# statement settles on, was read again for every row (0.2 ms of a 100-event page).
_LABELS = orjson.dumps({t: [spec.label_zh, spec.label_en] for t, spec in CATALOGUE.items()}).decode()
_LABELS_SQL = "'" + _LABELS.replace("'", "''") + "'::jsonb"
_EVENT_JSON = f"""'{{"position":' || position || ',"stream_seq":' || stream_seq
    || ',"cadre_id":' || to_json(cadre_id) || ',"cadre_version":' || cadre_version || ',"type":' || to_json(type)
    || ',"label_zh":' || coalesce({_LABELS_SQL} -> type -> 0, to_jsonb(type))
    || ',"label_en":' || coalesce({_LABELS_SQL} -> type -> 1, to_jsonb(type))
    || ',"occurred_on":"' || to_char(occurred_on, 'YYYY-MM-DD')
    || '","recorded_at":"' || to_char(recorded_at AT TIME ZONE 'UTC', {_TIME})
    || '","committed_at":"' || to_char(committed_at AT TIME ZONE 'UTC', {_TIME})
    || '","prev_hash":' || coalesce('"' || encode(prev_hash, 'hex') || '"', 'null')
    || ',"leaf_hash":"' || encode(leaf_hash, 'hex') || '","event":' || convert_from(canonical, 'UTF8') || '}}'"""


def unknown_cadre(cadre_id: str, counties: Sequence[str]) -> NotFound:
    """The 404 for a cadre this ledger holds no events of.

    A deployment that is one partition (`Settings.counties`) says which counties it holds: the cadre may be
    recorded in the partition of another county, whose ledger is another deployment.
    """
    if not counties:
        return NotFound(f"no events for cadre {cadre_id} (无此干部记录)", cadre_id=cadre_id)
    return NotFound(f"no events for cadre {cadre_id} in this partition, which holds counties {', '.join(counties)} "
                    "(本分区无此干部记录; CADRE_COUNTIES): a cadre of another county is in its partition's ledger",
                    cadre_id=cadre_id, counties=list(counties))


@dataclass(frozen=True)
class EventPage:
    """A page of ledger rows as the API shows them, built by PostgreSQL."""

    events: orjson.Fragment  # the JSON array, embedded in the answer as it is
    count: int
    counties: frozenset[str]
    last_key: int | None  # cadre version (history) or position (feed) of the page's last row
    more: bool  # rows follow the page
    first_key: int | None  # ... and of its first row
    cadres: int  # distinct cadres of the page (what the access trail files of a feed read)


def _page_sql(where: str, key: str, cadres: str = "count(DISTINCT cadre_id)") -> str:
    """The page of rows matching `where` in `key` order after `$1`, at most `$2` of them; `cadres` counts the
    page's cadres (a history page's one cadre needs no DISTINCT over its rows)."""
    return f"""
      WITH page AS (
        SELECT * FROM ledger_events WHERE {where} AND {key} > $1 ORDER BY {key} LIMIT $2)
      SELECT count(*) AS n, min({key}) AS first, max({key}) AS last, {cadres} AS cadres,
             coalesce(array_agg(DISTINCT county), '{{}}') AS counties,
             convert_to('[' || coalesce(string_agg({_EVENT_JSON}, ',' ORDER BY {key}), '') || ']', 'UTF8') AS events,
             EXISTS (SELECT 1 FROM ledger_events WHERE {where} AND {key} > (SELECT max({key}) FROM page)) AS more
      FROM page"""


_HISTORY = _page_sql("cadre_id = $3", "cadre_version", cadres="least(count(*), 1)")
_FEED = _page_sql("true", "position")
_FEED_OF_COUNTY = _page_sql("county = $3", "position")


async def _page(conn: asyncpg.Connection, sql: str, *args: Any) -> EventPage:
    row = await conn.fetchrow(sql, *args)
    assert row is not None  # an aggregate always answers one row
    return EventPage(orjson.Fragment(row["events"]), row["n"], frozenset(row["counties"]), row["last"], row["more"],
                     row["first"], row["cadres"])


async def history(conn: asyncpg.Connection, cadre_id: str, after_version: int, limit: int) -> EventPage:
    """A page of one cadre's events, in chain order."""
    return await _page(conn, _HISTORY, after_version, limit, cadre_id)


async def events_after(conn: asyncpg.Connection, after: int, limit: int, county: str | None = None) -> EventPage:
    """A page of the ledger (or of one county) in position order."""
    if county is None:
        return await _page(conn, _FEED, after, limit)
    return await _page(conn, _FEED_OF_COUNTY, after, limit, county)


async def all_of_cadre(conn: asyncpg.Connection, cadre_id: str, as_of: date | None) -> list[asyncpg.Record]:
    """Every event of one cadre in ledger order: its id, type, county and date, and its canonical bytes when
    it occurred on or before `as_of` (null for later ones, which a fold as of that date skips anyway)."""
    return list(await conn.fetch(
        """SELECT event_id, type, county, occurred_on,
                  CASE WHEN $2::date IS NULL OR occurred_on <= $2 THEN canonical END AS canonical
           FROM ledger_events WHERE cadre_id = $1 ORDER BY position""", cadre_id, as_of))


def corrected_after(rows: Sequence[asyncpg.Record]) -> bool:
    """Whether rows of `all_of_cadre` as of a date hold a correction while leaving some event's bytes out: a
    correction may move a fact's date across `as_of` either way, so the fold needs every event then."""
    kinds = correction_types()
    return any(r["type"] in kinds for r in rows) and any(r["canonical"] is None for r in rows)


async def quarantine_after(conn: asyncpg.Connection, after: int, limit: int,
                           county: str | None = None) -> list[dict[str, Any]]:
    """A page of quarantined messages (raw bytes as text when UTF-8, else hex); with `county`, only those published
    on that county's subjects (`cadre.<county>.…`, a 6-digit code: no LIKE wildcard in it)."""
    rows = await conn.fetch(
        """SELECT id, stream_seq, nats_subject, cadre_id, reason, detail, headers, raw, received_at
           FROM quarantine WHERE id > $1 AND ($3::text IS NULL OR nats_subject LIKE 'cadre.' || $3 || '.%')
           ORDER BY id LIMIT $2""", after, limit, county)
    out = []
    for r in rows:
        raw = bytes(r["raw"])
        try:
            raw_text, raw_hex = raw.decode("utf-8"), None
        except UnicodeDecodeError:
            raw_text, raw_hex = None, raw.hex()
        out.append({"id": r["id"], "stream_seq": r["stream_seq"], "subject": r["nats_subject"],
                    "cadre_id": r["cadre_id"], "reason": r["reason"], "reason_text": reason_text(r["reason"]),
                    "detail": r["detail"],
                    "headers": orjson.loads(r["headers"]), "raw_text": raw_text, "raw_hex": raw_hex,
                    "received_at": r["received_at"].isoformat()})
    return out


async def tip(conn: asyncpg.Connection, consumer: str) -> dict[str, Any]:
    """The writer's committed checkpoint."""
    row = await conn.fetchrow("SELECT stream_seq, position, updated_at FROM consumer_checkpoint WHERE consumer = $1",
                              consumer)
    if row is None:
        return {"stream_seq": 0, "position": 0, "updated_at": None}
    return {"stream_seq": row["stream_seq"], "position": row["position"], "updated_at": row["updated_at"].isoformat()}
