"""Read-only access to the ledger for the command services (their write path decides on it).

An unavailable database raises DatabaseUnavailable (`shared.db.acquire` tells an outage from a fault); a statement
PostgreSQL refuses (a privilege revoked from the reader role) is raised as it is: a 500, not a 503."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import asyncpg
import orjson

from shared.db import acquire
from shared.envelope import CloudEvent
from shared.events.types import STORED


@dataclass(frozen=True)
class CadreHistory:
    """A cadre's events in ledger order, and the stream sequence that publishing must expect."""

    events: list[CloudEvent]
    last_subject_seq: int


# One round trip for a command's read (it decides on what this returns): the events in order, and the
# last stream sequence on the cadre's subjects, stored or quarantined.
_CADRE = """
  SELECT array_agg(canonical ORDER BY position) AS events,
         coalesce(greatest(max(stream_seq), (SELECT max(stream_seq) FROM quarantine WHERE cadre_id = $1)), 0) AS last
  FROM ledger_events WHERE cadre_id = $1"""


async def load_cadre(pool: asyncpg.Pool, cadre_id: str, timeout: float) -> CadreHistory:
    """Every event of the cadre, plus the last stream sequence on its subjects (quarantine included)."""
    async with acquire(pool, timeout) as conn:
        row = await conn.fetchrow(_CADRE, cadre_id)
    assert row is not None  # an aggregate without GROUP BY answers one row
    # As stored: an event the ledger appended before its intake grew stricter must not stop every command on the cadre.
    events = [CloudEvent.model_validate(orjson.loads(b), context=STORED) for b in row["events"] or ()]
    return CadreHistory(events, int(row["last"]))


async def counties_of(conn: asyncpg.Connection, cadre_id: str) -> set[str]:
    """The counties a cadre's events were recorded in (none for a cadre the ledger does not hold): what a read for
    a county-scoped token decides on before it reads anything more of the cadre."""
    rows = await conn.fetch("SELECT DISTINCT county FROM ledger_events WHERE cadre_id = $1", cadre_id)
    return {r["county"] for r in rows}


async def load_counties(pool: asyncpg.Pool, cadre_id: str, timeout: float) -> set[str]:
    """`counties_of` on a pooled connection; DatabaseUnavailable when the ledger cannot be read."""
    async with acquire(pool, timeout) as conn:
        return await counties_of(conn, cadre_id)


async def committed_seq(pool: asyncpg.Pool, consumer: str, timeout: float) -> int:
    """The last stream sequence the ledger writer has committed."""
    async with acquire(pool, timeout) as conn:
        value = await conn.fetchval("SELECT stream_seq FROM consumer_checkpoint WHERE consumer = $1", consumer)
    return int(value or 0)


async def wait_for_seq(pool: asyncpg.Pool, consumer: str, stream_seq: int, timeout: float) -> bool:
    """Wait until the ledger has committed `stream_seq`; False when `timeout` passes first."""
    deadline = time.monotonic() + timeout
    delay = 0.005
    while True:
        if await committed_seq(pool, consumer, timeout) >= stream_seq:
            return True
        if time.monotonic() >= deadline:
            return False
        await asyncio.sleep(delay)
        delay = min(delay * 2, 0.1)


async def fate_of(pool: asyncpg.Pool, stream_seq: int, timeout: float) -> tuple[int | None, str | None]:
    """What the ledger did with the committed message `stream_seq`: the position it was appended at, or why it
    was quarantined (`reason: detail`)."""
    async with acquire(pool, timeout) as conn:
        row = await conn.fetchrow(
            """SELECT (SELECT position FROM ledger_events WHERE stream_seq = $1) AS position,
                      (SELECT reason || ': ' || detail FROM quarantine WHERE stream_seq = $1) AS why""", stream_seq)
    assert row is not None  # a SELECT without FROM answers one row
    return (int(row["position"]) if row["position"] is not None else None), row["why"]
