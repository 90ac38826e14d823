"""Replay (every read model rebuilt from position 0) and full-ledger verification."""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg

from services.ledger.projections import rebuild
from services.ledger.read_models import all_projections
from shared.db import WRITER_ROLE, dsn_as
from shared.merkle import CompactRange


@dataclass
class Replay:
    """Rebuilding every read model, one after the other, from position 0."""

    events: int
    seconds: float
    per_projection: dict[str, float] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        """Ledger events replayed per second, all read models together."""
        return self.events / self.seconds if self.seconds else 0.0


async def replay(pg_dsn: str) -> Replay:
    """projections.rebuild for each of read_models.all_projections(), as the writer role."""
    conn: asyncpg.Connection = await asyncpg.connect(dsn_as(pg_dsn, WRITER_ROLE))
    try:
        events = int(await conn.fetchval("SELECT coalesce(max(position), 0) FROM ledger_events"))
        result = Replay(events, 0.0)
        for projection in all_projections():
            t0 = time.perf_counter()
            try:
                await rebuild(conn, projection)
            except (asyncpg.PostgresError, ValueError, KeyError, TypeError) as exc:
                result.failed[projection.name] = f"{type(exc).__name__}: {exc}"[:200]
                continue
            took = time.perf_counter() - t0
            result.per_projection[projection.name] = events / took if took else 0.0
            result.seconds += took
        return result
    finally:
        await conn.close()


@dataclass
class Verify:
    """Full-ledger verification speed."""

    events: int
    rate: float
    ok: bool
    how: str


async def verify(pg_dsn: str, key_file: Path) -> Verify:
    """shared.verify.verify_ledger with the log's public key; a re-hash + tree rebuild when it is missing."""
    try:
        from shared.keys import load_verifier
        from shared.verify import verify_ledger
    except ImportError:
        return await _rehash(pg_dsn)
    report = await verify_ledger(pg_dsn, [load_verifier(str(key_file.with_suffix(".vkey")))])
    return Verify(report.count, report.events_per_s, report.ok,
                  "shared.verify.verify_ledger: leaf hashes, columns vs envelope, jsonb copy, chains, Merkle tree "
                  "rebuilt and every stored node compared, roots against every signed checkpoint")


async def _rehash(pg_dsn: str) -> Verify:
    """Fallback: re-hash every row, check chains, rebuild the tree (no signatures, no stored nodes)."""
    conn: asyncpg.Connection = await asyncpg.connect(pg_dsn)
    started = time.perf_counter()
    ok = True
    count = 0
    try:
        async with conn.transaction(isolation="repeatable_read", readonly=True):
            tree = CompactRange()
            heads: dict[str, bytes] = {}
            cursor = await conn.cursor("SELECT cadre_id, prev_hash, leaf_hash, canonical FROM ledger_events "
                                       "ORDER BY position")
            while rows := await cursor.fetch(5000):
                for r in rows:
                    leaf = hashlib.sha256(b"\x00" + r["canonical"]).digest()
                    prev = r["prev_hash"]
                    ok = ok and leaf == r["leaf_hash"] and (bytes(prev) if prev else None) == heads.get(r["cadre_id"])
                    heads[r["cadre_id"]] = leaf
                    tree.append(leaf)
                count += len(rows)
    finally:
        await conn.close()
    seconds = time.perf_counter() - started
    return Verify(count, count / seconds if seconds else 0.0, ok,
                  "fallback (shared.verify not available): re-hash, chains, tree rebuild; no signature check")
