"""Where PostgreSQL spends its time: pg_stat_statements, enabled on the benchmark's own server."""

from __future__ import annotations

import re
from dataclasses import dataclass

import asyncpg

_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class Statement:
    """One normalised statement's share of the server's execution time."""

    query: str
    calls: int
    rows: int
    ms: float
    share: float


async def enable(conn: asyncpg.Connection) -> bool:
    """Ask for the extension at the next server start (the caller restarts it); False when unavailable."""
    try:
        await conn.execute("ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'")
        await conn.execute("ALTER SYSTEM SET pg_stat_statements.track = 'all'")
    except asyncpg.PostgresError:
        return False
    return True


async def reset(conn: asyncpg.Connection) -> bool:
    """Start counting from zero; False when the extension is not loaded."""
    try:
        await conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        await conn.execute("SELECT pg_stat_statements_reset()")
    except asyncpg.PostgresError:
        return False
    return True


async def top(conn: asyncpg.Connection, limit: int = 12) -> list[Statement]:
    """The statements that took the most execution time since `reset`."""
    try:
        rows = await conn.fetch(
            """SELECT query, calls, rows, total_exec_time AS ms, sum(total_exec_time) OVER () AS total
               FROM pg_stat_statements WHERE query NOT LIKE '%pg_stat_statements%'
               ORDER BY total_exec_time DESC LIMIT $1""", limit)
    except asyncpg.PostgresError:
        return []
    return [Statement(_SPACES.sub(" ", r["query"]).strip()[:110], int(r["calls"]), int(r["rows"]), float(r["ms"]),
                      float(r["ms"]) / float(r["total"]) if r["total"] else 0.0) for r in rows]


@dataclass(frozen=True)
class PageReads:
    """Where one statement's pages came from since `reset`: PostgreSQL's shared buffers, or outside them (the
    operating system's cache or the disk, a read system call and a buffer to evict for each)."""

    calls: int
    ms: float  # execution time in all
    hit: int
    read: int

    @property
    def pages_per_call(self) -> float:
        """Pages a call touched."""
        return (self.hit + self.read) / self.calls if self.calls else 0.0

    @property
    def read_share(self) -> float:
        """Share of those pages that were not in shared buffers."""
        return self.read / (self.hit + self.read) if self.hit + self.read else 0.0


async def page_reads(conn: asyncpg.Connection, fragment: str) -> PageReads | None:
    """The summed page reads of the statements containing `fragment` since `reset` (None: none ran, or the
    extension is not loaded)."""
    try:
        row = await conn.fetchrow(
            """SELECT sum(calls) AS calls, sum(total_exec_time) AS ms, sum(shared_blks_hit) AS hit,
                      sum(shared_blks_read) AS read
               FROM pg_stat_statements WHERE strpos(query, $1) > 0 AND query NOT LIKE '%pg_stat_statements%'""",
            fragment)
    except asyncpg.PostgresError:
        return None
    if row is None or not row["calls"]:
        return None
    return PageReads(int(row["calls"]), float(row["ms"]), int(row["hit"]), int(row["read"]))


async def checkpoints(conn: asyncpg.Connection) -> int:
    """Checkpoints PostgreSQL has completed so far (each writes out dirty pages and makes the next writes of
    every page carry a full-page image in the WAL: a burst of I/O that commits wait behind)."""
    for sql in ("SELECT num_timed + num_requested FROM pg_stat_checkpointer",
                "SELECT checkpoints_timed + checkpoints_req FROM pg_stat_bgwriter"):
        try:
            return int(await conn.fetchval(sql))
        except asyncpg.PostgresError:
            continue
    return 0
