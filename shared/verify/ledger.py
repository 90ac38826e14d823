"""The coordinator of a full-ledger verification: `verify_ledger` (the package's docstring says how it works)."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Sequence
from pathlib import Path

import asyncpg
import orjson

from shared.signednote import SIGNATURE_PREFIX, Checkpoint, NoteError, Verifier
from shared.verify.checkpoints import load_checkpoints
from shared.verify.merge import Merge, plan
from shared.verify.parallel import Workers, in_process
from shared.verify.report import Collector, Progress, Signed, VerifyReport
from shared.verify.rowscan import scan

# Rows and nodes that no range asks for: positions below 1 (max(position) is the end), and nodes whose
# (level, idx) is not a complete subtree of a tree of $1 leaves. Index probes, not a count of everything:
# each level's two bounds are probed apart, since `idx < 0 OR idx >= n` is no index condition and walked
# every stored node of the level instead (0.1-0.2 s of PostgreSQL at 1,000,000 events, against 1 ms).
_OUTSIDE = """
SELECT (SELECT count(*) FROM ledger_events WHERE position < 1 OR position IS NULL)
     + (SELECT count(*) FROM merkle_nodes WHERE level < 0 OR level > 62 OR level IS NULL OR idx IS NULL)
     + (SELECT count(*) FROM generate_series(0, 62) AS l(level), LATERAL (
          (SELECT 1 FROM merkle_nodes n WHERE n.level = l.level AND n.idx < 0 LIMIT 1)
          UNION ALL
          (SELECT 1 FROM merkle_nodes n WHERE n.level = l.level AND n.idx >= ($1::bigint >> l.level) LIMIT 1))
        AS outside)"""
_MIN_LEVEL, _MAX_LEVEL = 10, 13
_PER_WORKER = 8
"""Ranges per worker at least, so that one slow range does not leave the other workers idle for long."""
_WORKERS_FROM = 50_000
"""Below this many events, starting processes costs more than it saves."""


async def verify_ledger(dsn: str, verifiers: Sequence[Verifier], *, witnesses: Sequence[Verifier] = (),
                        external: Sequence[tuple[str, str]] = (), progress: Progress | None = None,
                        max_problems: int = 50, workers: int | None = None,
                        range_size: int | None = None) -> VerifyReport:
    """Verify the whole ledger at `dsn` read-only; checkpoints must verify with one of `verifiers`.

    `witnesses` are keys whose cosignatures must verify when present; `external` holds (label, note)
    checkpoints obtained elsewhere (a witness's state, the NATS feed) that the rows must also match,
    which catches a truncation that also deleted the stored checkpoints. The scan stops after
    `max_problems` findings (at least 1). `workers` (worker processes; 0 checks in this process) and `range_size`
    (positions per range, a power of two) are chosen from the ledger's size and the CPUs unless given.
    """
    if range_size is not None and (range_size < 1 or range_size & (range_size - 1)):
        raise ValueError(f"range_size must be a power of two, got {range_size}")
    report = VerifyReport()
    found = Collector(report, max_problems)
    started = time.perf_counter()
    conn: asyncpg.Connection = await asyncpg.connect(dsn)
    pool: Workers | None = None
    try:
        async with conn.transaction(isolation="repeatable_read", readonly=True):
            total = int(await conn.fetchval("SELECT coalesce(max(position), 0) FROM ledger_events"))
            count = _workers(total) if workers is None else workers
            level = (range_size.bit_length() - 1) if range_size else _level(total, max(count, 1))
            count = min(count, -(-total // (1 << level)))  # no more workers than ranges
            if count > 0:
                pool = Workers(count)
                await pool.spawn()  # they start up while the checkpoints are verified
            signed = await load_checkpoints(conn, verifiers, witnesses, external, report, found)
            if found.full or not await _by_ranges(conn, dsn, signed, total, report, progress, pool, level):
                report.count = report.nodes_checked = 0
                report.row_by_row = True
                await scan(conn, signed, report, found, total, progress)
    finally:
        if pool:
            await pool.stop()
        await conn.close()
    report.seconds = time.perf_counter() - started
    return report


def _workers(total: int) -> int:
    if total < _WORKERS_FROM:
        return 0
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return cpus if cpus > 1 else 0


def _level(total: int, workers: int) -> int:
    wanted = max(total // (workers * _PER_WORKER), 1)
    return min(max(wanted.bit_length() - 1, _MIN_LEVEL), _MAX_LEVEL)


async def _by_ranges(conn: asyncpg.Connection, dsn: str, signed: list[Signed], total: int, report: VerifyReport,
                     progress: Progress | None, pool: Workers | None, level: int) -> bool:
    """Check the ledger range by range (in `pool`, or on `conn`); True only when everything is as a sound
    ledger has it."""
    try:
        spans = plan(total, level, signed)
        if spans is None:
            return False
        merged = Merge(level, signed)
        if pool:
            await pool.start(dsn, str(await conn.fetchval("SELECT pg_export_snapshot()")), spans)
        if await conn.fetchval(_OUTSIDE, total):  # while the workers check their first ranges
            return False
        async with contextlib.aclosing(pool.outcomes() if pool else in_process(conn, spans)) as outcomes:
            async for outcome in outcomes:
                if not merged.add(outcome):
                    return False
                if progress:
                    progress(merged.size, total)
    finally:
        if pool:  # before any row-by-row scan, which then has the cores to itself
            await pool.stop()
    if merged.size != total:
        return False
    if progress and total == 0:
        progress(0, 0)
    report.count = report.nodes_checked = total
    return True


def external_checkpoint(path: Path) -> tuple[str, str]:
    """A checkpoint note kept outside the database: a note file, or a witness state file holding one.

    Raises ValueError when the file holds no checkpoint note at all: that is a wrong file given, not a ledger
    that fails its check. A note of the right shape whose signature does not verify is left to the check.
    """
    text = path.read_text()
    if text.lstrip().startswith("{"):
        data = orjson.loads(text)
        text = str(data.get("note", "")) if isinstance(data, dict) else ""
    separator = text.rfind("\n\n")  # a signed note's text ends at its last blank line, its signatures follow
    try:
        if separator < 0 or not text[separator + 2:].startswith(SIGNATURE_PREFIX):
            raise NoteError("no signature lines after a blank line")
        Checkpoint.parse(text[: separator + 1])
    except ValueError as exc:  # NoteError, or a size or root Checkpoint.parse cannot read
        raise ValueError(f"{path} holds no checkpoint note (不是检查点): {exc}") from exc
    return f"external checkpoint {path}", text
