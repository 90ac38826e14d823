"""Read queries of the ledger API (read-only role)."""

from __future__ import annotations

from typing import Any

import asyncpg
import orjson

from shared.events.registry import CATALOGUE

_EVENT_FIELDS = """position, stream_seq, event_id, cadre_id, county, type, occurred_on, recorded_at, ruleset,
                   cadre_version, prev_hash, leaf_hash, canonical, committed_at"""


def event_row(r: asyncpg.Record) -> dict[str, Any]:
    """A ledger row as the API shows it: metadata, hashes in hex, the envelope as stored."""
    spec = CATALOGUE.get(r["type"])
    return {
        "position": r["position"],
        "stream_seq": r["stream_seq"],
        "cadre_id": r["cadre_id"],
        "cadre_version": r["cadre_version"],
        "type": r["type"],
        "label_zh": spec.label_zh if spec else r["type"],
        "label_en": spec.label_en if spec else r["type"],
        "occurred_on": r["occurred_on"].isoformat(),
        "recorded_at": r["recorded_at"].isoformat(),
        "committed_at": r["committed_at"].isoformat(),
        "prev_hash": r["prev_hash"].hex() if r["prev_hash"] is not None else None,
        "leaf_hash": r["leaf_hash"].hex(),
        # The stored RFC 8785 bytes are valid JSON: embedded as they are, not parsed and encoded again.
        "event": orjson.Fragment(r["canonical"]),
    }


async def history(conn: asyncpg.Connection, cadre_id: str, after_version: int, limit: int) -> list[asyncpg.Record]:
    """A page of one cadre's events, in chain order."""
    return list(await conn.fetch(
        f"SELECT {_EVENT_FIELDS} FROM ledger_events WHERE cadre_id = $1 AND cadre_version > $2 "
        "ORDER BY cadre_version LIMIT $3", cadre_id, after_version, limit))


async def all_of_cadre(conn: asyncpg.Connection, cadre_id: str) -> list[asyncpg.Record]:
    """Every event of one cadre, in ledger order."""
    return list(await conn.fetch(
        f"SELECT {_EVENT_FIELDS} FROM ledger_events WHERE cadre_id = $1 ORDER BY position", cadre_id))


async def events_after(conn: asyncpg.Connection, after: int, limit: int,
                       county: str | None = None) -> list[asyncpg.Record]:
    """A page of the ledger (or of one county) in position order."""
    if county is None:
        return list(await conn.fetch(
            f"SELECT {_EVENT_FIELDS} FROM ledger_events WHERE position > $1 ORDER BY position LIMIT $2", after, limit))
    return list(await conn.fetch(
        f"SELECT {_EVENT_FIELDS} FROM ledger_events WHERE county = $3 AND position > $1 ORDER BY position LIMIT $2",
        after, limit, county))


async def quarantine_after(conn: asyncpg.Connection, after: int, limit: int) -> list[dict[str, Any]]:
    """A page of quarantined messages (raw bytes as text when UTF-8, else hex)."""
    rows = await conn.fetch(
        """SELECT id, stream_seq, nats_subject, cadre_id, reason, detail, headers, raw, received_at
           FROM quarantine WHERE id > $1 ORDER BY id LIMIT $2""", after, limit)
    out = []
    for r in rows:
        raw = bytes(r["raw"])
        try:
            raw_text, raw_hex = raw.decode("utf-8"), None
        except UnicodeDecodeError:
            raw_text, raw_hex = None, raw.hex()
        out.append({"id": r["id"], "stream_seq": r["stream_seq"], "subject": r["nats_subject"],
                    "cadre_id": r["cadre_id"], "reason": r["reason"], "detail": r["detail"],
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
