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
