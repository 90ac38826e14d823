"""Rebuild read models from position 0 (重建读模型): `python -m services.ledger.rebuild [NAME ...]`.

For an operator: to repair a read model. After an upgrade that changes a read model's rules (its `version`), the
ledger rebuilds it by itself when it starts (`rebuild_outdated`).
Each read model is emptied and replayed from the ledger in a transaction of its own, on a connection of its
own, over one shared read of the ledger, so its queries wait for its rebuilt tables (they never see half of
them) and the ledger's own projection runner waits on the same locks; the ledger may keep running meanwhile.
A rebuild applies the corrections recorded up to the tip it replays to (`services.ledger.corrected`), as the
runner does; the runner itself rebuilds the read models when a correction changes events they have applied.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from collections.abc import Callable, Sequence

import asyncpg
import click

from services.ledger import corrected
from services.ledger.corrected import Corrections
from services.ledger.projections import (
    ProjectedEvent,
    Projection,
    Span,
    fetch_events,
    flush,
    ledger_tip,
    lock_key,
    save_checkpoints,
    save_versions,
    span_events,
)
from services.ledger.read_models import all_projections
from shared.collector import tune_collector
from shared.db import named
from shared.service import writer_dsn
from shared.settings import get_settings

log = logging.getLogger(__name__)


async def rebuild(conn: asyncpg.Connection, projection: Projection, batch: int = 5000,
                  progress: Callable[[int, int], None] | None = None) -> int:
    """Empty the projection's tables and replay it from position 0, in one transaction.

    Queries of the read model wait until the rebuilt one commits; runners wait on the lock.
    """
    return await rebuild_all(conn, [projection], batch, progress)


async def rebuild_all(conn: asyncpg.Connection, projections: Sequence[Projection], batch: int = 5000,
                      progress: Callable[[int, int], None] | None = None,
                      reader: asyncpg.Connection | None = None, others: Sequence[asyncpg.Connection] = (),
                      corrections: Corrections | None = None) -> int:
    """Rebuild several projections from position 0 in one pass over the ledger; returns positions replayed.

    The ledger is read in spans of `batch` positions, once for every projection, fetching only the
    event types some projection consumes (not its `sql_types`); a projection that reads the ledger
    itself (neither `types` nor `sql_types`) is applied once over the whole ledger. `reader`: a
    connection to read the ledger with, so that the next spans are read and decoded while this one is
    applied (the ledger is append-only and read only up to the tip seen at the start, so every
    connection sees the same rows).

    The projections are rebuilt in one transaction on `conn`, or, with `others` (which needs `reader`),
    dealt out by name over `conn` and `others`, each connection rebuilding its share in a transaction of
    its own: one read model's statements then run in PostgreSQL while the next one's are built here.
    Read models keep to their own tables, so each share commits on its own (the runner, too, commits
    each read model separately); when one share fails, the others are cancelled and roll back unless
    they have already committed.
    The rows read as the corrections recorded up to the tip say (`corrections`: those read already, up to
    the tip to replay to; by default read here up to the ledger's tip).
    Locks are taken in name order, so concurrent rebuilds cannot deadlock. The read models' tables are
    emptied with TRUNCATE, which holds them exclusively: a query of them waits until their rebuild
    commits (or rolls back, leaving them as they were).
    """
    if others and reader is None:
        raise ValueError("a rebuild on several connections reads the ledger on a reader connection")
    connections = [conn, *others]
    ordered = sorted(projections, key=lambda p: p.name)
    shares = [share for share in (ordered[i::len(connections)] for i in range(len(connections))) if share]
    if corrections is None:
        corrections = await corrected.load(reader or conn, await ledger_tip(reader or conn))
    tip = corrections.upto
    spans = [Span(after, min(after + batch, tip), corrections) for after in range(0, tip, batch)]
    types = frozenset().union(*(p.types for p in ordered))
    feed = _Feed(reader, spans, types, len(shares), progress) if reader is not None and shares else None

    async def rebuild_share(c: asyncpg.Connection, share: list[Projection]) -> None:
        async with c.transaction():
            await _empty(c, share)
            for projection in share:
                if tip and not projection.types and not projection.sql_types:
                    await projection.apply(c, Span(0, tip, corrections), [])
            readers = [p for p in share if p.types or p.sql_types]
            for i, span in enumerate(spans):
                events, present = await feed.take(i) if feed else _with_types(await fetch_events(c, span, types))
                for projection in readers:
                    mine = span_events(events, span.after, projection.types, present)
                    if mine or projection.sql_types:
                        await projection.apply(c, span, mine)
                if feed:
                    feed.release(i)
                elif progress:
                    progress(span.upto, tip)
            for projection in share:
                await flush(c, projection)
            if tip:
                await save_checkpoints(c, [p.name for p in share], tip)
            await save_versions(c, share)

    tasks = [asyncio.ensure_future(rebuild_share(c, share)) for c, share in zip(connections, shares, strict=False)]
    if feed:
        tasks.append(asyncio.ensure_future(feed.read()))
    try:
        await asyncio.gather(*tasks)
    except BaseException:
        for task in tasks:  # the shares still running roll back; the failure is the caller's to see
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise
    return tip


async def rebuild_connected(dsn: str, projections: Sequence[Projection],
                            progress: Callable[[int, int], None] | None = None, batch: int = 20_000,
                            corrections: Corrections | None = None) -> int:
    """`rebuild_all` on connections of its own to `dsn`: one per read model, so that PostgreSQL applies one
    while the next is prepared here, and one more to read the ledger with; returns positions replayed.

    Spans of 20,000 positions by default: each read model sends a few statements per span whatever its
    size; alternated with spans of 5,000, they replayed the demo county's mix (56,186 events) at a median
    43.4k against 38.6k events/s over six pairs, and 100,000 `audit.completed` at 100k against 89k over
    four (spans of 50,000 left too few to overlap). The read then holds at most five spans decoded.
    """
    connections: list[asyncpg.Connection] = []
    try:
        for _ in range(len(projections) + 1):
            connections.append(await asyncpg.connect(dsn, server_settings=named("cadre-ledger-rebuild")))
        return await rebuild_all(connections[0], projections, batch, progress, reader=connections[-1],
                                 others=connections[1:-1], corrections=corrections)
    finally:
        for conn in connections:
            await conn.close()


_OUTDATED_LOCK = lock_key("read model versions")  # one ledger process at a time compares and rebuilds


async def rebuild_outdated(dsn: str, projections: Sequence[Projection]) -> list[str]:
    """Rebuild from position 0 every read model whose rows were built under another version of its rules than
    the code's (`Projection.version`); returns their names. A read model never built yet (no checkpoint, no
    version) is only recorded at the code's version: the projection runner builds it from position 0 anyway.

    Under a session lock, so that of several ledger processes starting together one rebuilds and the others
    then find the versions current.
    """
    conn: asyncpg.Connection = await asyncpg.connect(dsn, server_settings=named("cadre-ledger-rebuild"))
    try:
        await conn.execute("SELECT pg_advisory_lock($1)", _OUTDATED_LOCK)
        stored = dict(await conn.fetch("SELECT name, version FROM read_model_versions"))
        built = {r["name"] for r in await conn.fetch("SELECT name FROM projection_checkpoints WHERE position > 0")}
        unbuilt = [p for p in projections if p.name not in stored and p.name not in built]
        outdated = [p for p in projections if p not in unbuilt and stored.get(p.name) != p.version]
        await save_versions(conn, unbuilt)
        if outdated:
            log.warning("read models built under other rules; rebuilding them from position 0 (读模型规则已变更, "
                        "正在重建)", extra={"read_models": [p.name for p in outdated],
                               "versions": {p.name: [stored.get(p.name), p.version] for p in outdated}})
            await rebuild_connected(dsn, outdated)
        return [p.name for p in outdated]
    finally:
        await conn.close()


async def _empty(conn: asyncpg.Connection, projections: Sequence[Projection]) -> None:
    """Take the projections' locks (in name order), drop their checkpoints and TRUNCATE their tables."""
    for projection in projections:
        await conn.execute("SELECT pg_advisory_xact_lock($1)", lock_key(projection.name))
        await conn.execute("DELETE FROM projection_checkpoints WHERE name = $1", projection.name)
    # TRUNCATE, not DELETE: the rebuild writes the same keys again, and every insert would meet the
    # deleted row's index entry and visit its heap tuple (measured: 16 against 10 us per audit row).
    tables = sorted({table for projection in projections for table in projection.tables})
    if tables:
        await conn.execute(f"TRUNCATE {', '.join(tables)}")


SpanRead = tuple[list[ProjectedEvent], frozenset[str]]
"""A span's events of the wanted types, and which of those types it holds."""


def _with_types(events: list[ProjectedEvent]) -> SpanRead:
    return events, frozenset(e.type for e in events)


class _Feed:
    """The spans of a rebuild, each read and decoded once and shared by every share of the projections.

    Reading stays at most `window` spans ahead of the share furthest behind, so memory holds a few
    spans, not the ledger; `progress` is told of a span once every share is done with it.
    """

    def __init__(self, reader: asyncpg.Connection, spans: Sequence[Span], types: frozenset[str], takers: int,
                 progress: Callable[[int, int], None] | None, window: int = 4) -> None:
        self.reader, self.spans, self.types, self.takers = reader, spans, types, takers
        self.progress, self.window = progress, window
        loop = asyncio.get_running_loop()
        self.read_spans: list[asyncio.Future[SpanRead] | None] = [loop.create_future() for _ in spans]
        self.done = [0] * len(spans)
        self.released = 0  # spans every share is done with (shares go in order, so these are the first ones)
        self.room = asyncio.Event()

    async def read(self) -> None:
        """Read every span in order, never more than `window` ahead of the slowest share."""
        for i, span in enumerate(self.spans):
            while i >= self.released + self.window:
                self.room.clear()
                await self.room.wait()
            events = _with_types(await fetch_events(self.reader, span, self.types))
            read = self.read_spans[i]
            assert read is not None
            read.set_result(events)

    async def take(self, i: int) -> SpanRead:
        """Span `i`'s events and their types (the same for every share: read only)."""
        read = self.read_spans[i]
        assert read is not None, "a share takes each span once, before it releases it"
        return await read

    def release(self, i: int) -> None:
        """One share is done with span `i`."""
        self.done[i] += 1
        if self.done[i] == self.takers:
            self.read_spans[i] = None  # drop the events
            self.released = i + 1
            self.room.set()
            if self.progress:
                self.progress(self.spans[i].upto, self.spans[-1].upto)


async def _rebuild(dsn: str, projections: list[Projection]) -> int:
    def progress(at: int, tip: int) -> None:
        click.echo(f"\r  {at:,} / {tip:,} positions", nl=False, err=True)

    return await rebuild_connected(dsn, projections, progress if sys.stderr.isatty() else None)


@click.command(help="Rebuild read models from position 0 (重建读模型): every one, or those NAMEd. Each is emptied "
               "and replayed from the ledger in a transaction of its own, so its queries wait for its rebuilt "
               "tables instead of seeing half of them; the ledger may keep running. Exit 0: rebuilt; 2: unknown "
               "name or PostgreSQL unreachable (a read model whose rebuild failed keeps its rows).")
@click.argument("names", nargs=-1)
@click.option("--dsn", default=None, help="PostgreSQL DSN of the ledger's writer role (写入角色), which owns the read "
              "models' tables; default: CADRE_PG_WRITER_DSN, else CADRE_PG_DSN as cadre_writer.")
@click.option("--list", "list_only", is_flag=True, help="List the read models' names and exit (列出读模型).")
def main(names: tuple[str, ...], dsn: str | None, list_only: bool) -> None:
    """Rebuild the named read models, or all."""
    projections = {p.name: p for p in all_projections()}
    if list_only:
        for name in sorted(projections):
            click.echo(name)
        return
    if unknown := sorted(set(names) - set(projections)):
        raise click.UsageError(f"no read model named {', '.join(unknown)} (无此读模型); the read models: "
                               f"{', '.join(sorted(projections))}")
    chosen = [projections[n] for n in dict.fromkeys(names)] or list(projections.values())
    settings = get_settings()
    if dsn is None and not (settings.pg_writer_dsn or settings.pg_dsn):
        raise click.UsageError("no database: pass --dsn or set CADRE_PG_WRITER_DSN or CADRE_PG_DSN (需要数据库连接)")
    tune_collector()
    began = time.perf_counter()
    try:
        tip = asyncio.run(_rebuild(dsn or writer_dsn(settings), chosen))
    except (OSError, asyncpg.PostgresError) as exc:
        click.echo(f"cannot rebuild (无法重建): {type(exc).__name__}: {exc}", err=True)
        sys.exit(2)
    click.echo(f"rebuilt (已重建) {', '.join(p.name for p in chosen)}: positions 1..{tip:,} in "
               f"{time.perf_counter() - began:.1f} s")


if __name__ == "__main__":
    main()
