"""The writer's SQL: load what a batch plan needs, append a plan in one transaction."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterable

import asyncpg
import orjson

from services.ledger.domain import BatchPlan, ChainHead
from services.ledger.tree import SignedCheckpoint

COMMIT_CHANNEL = "ledger_committed"
EVENT_ID_KEY = "ledger_events_event_id_key"
"""The unique index that catches an event appended twice (migration 001)."""
_EVENT_COLUMNS = ("position", "stream_seq", "event_id", "cadre_id", "county", "type", "occurred_on", "recorded_at",
                  "ruleset", "cadre_version", "prev_hash", "leaf_hash", "canonical")
_QUARANTINE_COLUMNS = ("stream_seq", "nats_subject", "cadre_id", "reason", "detail", "headers", "raw")


async def load_checkpoint(conn: asyncpg.Connection, consumer: str) -> tuple[int, int]:
    """(last committed stream sequence, last position) of the writer; (0, 0) on an empty ledger."""
    row = await conn.fetchrow("SELECT stream_seq, position FROM consumer_checkpoint WHERE consumer = $1", consumer)
    last_position = await conn.fetchval("SELECT coalesce(max(position), 0) FROM ledger_events")
    if row is None:
        return 0, int(last_position)
    if int(row["position"]) != int(last_position):
        raise RuntimeError(f"checkpoint position {row['position']} disagrees with ledger tail {last_position}")
    return int(row["stream_seq"]), int(row["position"])


async def load_heads(conn: asyncpg.Connection, cadre_ids: Iterable[str]) -> dict[str, ChainHead]:
    """Chain heads of the given cadres (absent: the cadre has no events yet)."""
    rows = await conn.fetch(
        """SELECT DISTINCT ON (cadre_id) cadre_id, cadre_version, leaf_hash FROM ledger_events
           WHERE cadre_id = ANY($1::text[]) ORDER BY cadre_id, cadre_version DESC""", list(cadre_ids))
    return {r["cadre_id"]: ChainHead(r["cadre_version"], bytes(r["leaf_hash"])) for r in rows}


async def load_stored_ids(conn: asyncpg.Connection, ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
    """Which of `ids` are already in the ledger, with their stream sequences."""
    if not ids:
        return {}
    rows = await conn.fetch("SELECT event_id, stream_seq FROM ledger_events WHERE event_id = ANY($1::uuid[])", ids)
    return {r["event_id"]: int(r["stream_seq"]) for r in rows}


async def append(conn: asyncpg.Connection, consumer: str, plan: BatchPlan, nodes: list[tuple[int, int, bytes]],
                 checkpoint: SignedCheckpoint | None = None) -> int | None:
    """Write the plan, its Merkle nodes, the consumer checkpoint and (when one is due) the signed checkpoint
    of the log it grows to, in one transaction; the stored checkpoint's id.

    A statement PostgreSQL does not answer within the connection's command timeout raises TimeoutError with the
    session ended (`conn.terminate()`): asked to roll back, a session cut on the way would keep the caller waiting
    as long again, and PostgreSQL rolls back the transaction itself when the session ends. Cancelled (a shutdown
    that stopped waiting for the batch), the session is ended likewise: the cancellation may be what a cut session
    never answered."""
    transaction = conn.transaction()
    await transaction.start()
    committing = False  # a COMMIT that fails ends the transaction: nothing is left to roll back
    try:
        if nodes:
            await conn.copy_records_to_table("merkle_nodes", columns=("level", "idx", "hash"), records=nodes)
        if plan.events:
            await conn.copy_records_to_table("ledger_events", columns=_EVENT_COLUMNS, records=[
                (e.position, e.stream_seq, e.event_id, e.cadre_id, e.county, e.type, e.occurred_on, e.recorded_at,
                 e.ruleset, e.cadre_version, e.prev_hash, e.leaf_hash, e.canonical)
                for e in plan.events])
        if plan.quarantined:
            await conn.copy_records_to_table("quarantine", columns=_QUARANTINE_COLUMNS, records=[
                (q.stream_seq, q.nats_subject, q.cadre_id, q.reason, q.detail, orjson.dumps(dict(q.headers)).decode(),
                 q.raw) for q in plan.quarantined])
        # One round trip for all three: while the writer plans the next batch, every round trip of this
        # transaction waits for the event loop, and PostgreSQL idles meanwhile.
        signed = (checkpoint.origin, checkpoint.size, checkpoint.root, checkpoint.note) if checkpoint else (None,) * 4
        row_id = await conn.fetchval(
            """WITH moved AS (
                 INSERT INTO consumer_checkpoint (consumer, stream_seq, position) VALUES ($1, $2, $3)
                 ON CONFLICT (consumer) DO UPDATE SET stream_seq = $2, position = $3, updated_at = now()
                 RETURNING 1),
               signed AS (
                 INSERT INTO checkpoints (origin, size, root, note)
                 SELECT $6::text, $7::bigint, $8::bytea, $9::text WHERE $9::text IS NOT NULL RETURNING id)
               SELECT (SELECT id FROM signed) FROM moved, pg_notify($4, $5)""",
            consumer, plan.last_stream_seq, plan.next_position - 1, COMMIT_CHANNEL,
            f"{plan.next_position - 1} {plan.last_stream_seq}", *signed)
        committing = True
        await transaction.commit()
    except (TimeoutError, asyncio.CancelledError):
        conn.terminate()
        raise
    except BaseException:
        if not committing:
            await transaction.rollback()
        raise
    return None if row_id is None else int(row_id)
