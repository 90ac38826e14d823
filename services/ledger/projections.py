"""Read models: checkpointed projections fed from the ledger in position order, rebuildable from 0.

A projection owns some `rm_*` tables and applies batches of events; the runner commits each batch
together with the projection's checkpoint, so a crash replays at most the uncommitted batch.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

import asyncpg
import orjson

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ProjectedEvent:
    """What a projection sees of a ledger row."""

    position: int
    cadre_id: str
    county: str
    type: str
    occurred_on: date
    data: dict[str, Any]


class Statements:
    """SQL statements to run in event order; consecutive runs of one statement go as one executemany."""

    def __init__(self) -> None:
        self.runs: list[tuple[str, list[tuple[Any, ...]]]] = []

    def add(self, sql: str, *args: Any) -> None:
        """Queue one execution of `sql`."""
        if self.runs and self.runs[-1][0] == sql:
            self.runs[-1][1].append(args)
        else:
            self.runs.append((sql, [args]))

    async def run(self, conn: asyncpg.Connection) -> None:
        """Execute every queued statement, in order."""
        for sql, rows in self.runs:
            await conn.executemany(sql, rows)


def day(value: Any) -> date | None:
    """An ISO date from event data (None stays None)."""
    return None if value is None else date.fromisoformat(str(value))


class Projection(Protocol):
    """A read model."""

    name: str
    tables: tuple[str, ...]

    async def apply(self, conn: asyncpg.Connection, events: Sequence[ProjectedEvent]) -> None:
        """Apply events (in position order) inside the runner's transaction."""


def default_projections() -> list[Projection]:
    """Every read model the ledger maintains (collected from `services.ledger.read_models`)."""
    from services.ledger.read_models import all_projections

    return all_projections()


def _lock_key(name: str) -> int:
    return int.from_bytes(hashlib.sha256(f"cadre-ledger projection {name}".encode()).digest()[:8], "big", signed=True)


async def _checkpoint(conn: asyncpg.Connection, name: str) -> int:
    value = await conn.fetchval("SELECT position FROM projection_checkpoints WHERE name = $1", name)
    return int(value or 0)


async def _fetch(conn: asyncpg.Connection, after: int, limit: int) -> list[ProjectedEvent]:
    rows = await conn.fetch(
        """SELECT position, cadre_id, county, type, occurred_on, canonical FROM ledger_events
           WHERE position > $1 ORDER BY position LIMIT $2""", after, limit)
    return [ProjectedEvent(r["position"], r["cadre_id"], r["county"], r["type"], r["occurred_on"],
                           orjson.loads(r["canonical"])["data"]) for r in rows]


async def step(conn: asyncpg.Connection, projection: Projection, batch: int,
               fetched: Sequence[ProjectedEvent] = ()) -> int:
    """Apply the next batch to one projection; returns how many events it applied.

    The projection's transaction-level advisory lock serialises concurrent runners and rebuilds.
    `fetched`: events the caller already read (contiguous positions); used when they continue this
    projection's checkpoint, so projections at the same position share one read and one decode
    (their `data` dicts are shared too: projections must not change them).
    """
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", _lock_key(projection.name))
        after = await _checkpoint(conn, projection.name)
        if fetched and fetched[0].position <= after + 1 <= fetched[-1].position:
            events: Sequence[ProjectedEvent] = fetched[after + 1 - fetched[0].position:]
        else:
            events = await _fetch(conn, after, batch)
        if not events:
            return 0
        await projection.apply(conn, events)
        await conn.execute(
            """INSERT INTO projection_checkpoints (name, position) VALUES ($1, $2)
               ON CONFLICT (name) DO UPDATE SET position = $2, updated_at = now()""",
            projection.name, events[-1].position)
    return len(events)


async def rebuild(conn: asyncpg.Connection, projection: Projection, batch: int = 5000,
                  progress: Callable[[int, int], None] | None = None) -> int:
    """Empty the projection's tables and replay it from position 0, in one transaction.

    Readers see the old read model until the rebuilt one commits; runners wait on the lock.
    """
    return await rebuild_all(conn, [projection], batch, progress)


async def rebuild_all(conn: asyncpg.Connection, projections: Sequence[Projection], batch: int = 5000,
                      progress: Callable[[int, int], None] | None = None) -> int:
    """Rebuild several projections from position 0 in one pass and one transaction; returns events replayed.

    Each batch of the ledger is read and decoded once and fed to every projection in turn (rebuilding
    them one by one reads and decodes the whole ledger once per read model). Locks are taken in name
    order, so concurrent rebuilds cannot deadlock.
    """
    total = int(await conn.fetchval("SELECT coalesce(max(position), 0) FROM ledger_events"))
    ordered = sorted(projections, key=lambda p: p.name)
    done = 0
    async with conn.transaction():
        for projection in ordered:
            await conn.execute("SELECT pg_advisory_xact_lock($1)", _lock_key(projection.name))
            for table in projection.tables:
                await conn.execute(f"DELETE FROM {table}")
            await conn.execute("DELETE FROM projection_checkpoints WHERE name = $1", projection.name)
        while events := await _fetch(conn, done, batch):
            for projection in ordered:
                await projection.apply(conn, events)
            done = events[-1].position
            if progress:
                progress(done, total)
        if done:
            await conn.executemany(
                """INSERT INTO projection_checkpoints (name, position) VALUES ($1, $2)
                   ON CONFLICT (name) DO UPDATE SET position = $2, updated_at = now()""",
                [(projection.name, done) for projection in ordered])
    return done


class ProjectionRunner:
    """Keeps every projection caught up with the ledger (several runners may run; steps serialise)."""

    def __init__(self, dsn: str, projections: list[Projection], batch: int = 2000, idle_s: float = 0.2) -> None:
        self.dsn = dsn
        self.projections = projections
        self.batch = batch
        self.idle_s = idle_s

    async def run(self, stop: asyncio.Event) -> None:
        """Project until `stop` is set, reconnecting after failures."""
        while not stop.is_set():
            try:
                await self._run_once(stop)
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError) as exc:
                log.warning("projection runner interrupted: %s", exc)
            if not stop.is_set():
                with_timeout = asyncio.wait_for(stop.wait(), 1.0)
                with contextlib.suppress(TimeoutError):
                    await with_timeout

    async def _run_once(self, stop: asyncio.Event) -> None:
        conn: asyncpg.Connection = await asyncpg.connect(self.dsn, timeout=5)
        try:
            names = [p.name for p in self.projections]
            while not stop.is_set():
                # One read of the ledger per round, from the projection furthest behind, shared by all.
                behind = await conn.fetchval(
                    """SELECT coalesce(min(coalesce(c.position, 0)), 0) FROM unnest($1::text[]) AS p(name)
                       LEFT JOIN projection_checkpoints c ON c.name = p.name""", names)
                fetched = await _fetch(conn, int(behind), self.batch)
                for projection in self.projections if fetched else ():  # nothing new: all are at the tip
                    await step(conn, projection, self.batch, fetched)
                if len(fetched) < self.batch:  # caught up: let events gather instead of a round per commit
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), self.idle_s)
        finally:
            await conn.close(timeout=5)
