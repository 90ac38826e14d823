"""Replay (every read model rebuilt from position 0) and full-ledger verification."""

from __future__ import annotations

import contextlib
import dataclasses
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Protocol, TypeVar

import asyncpg

from services.ledger.projections import ProjectedEvent, Projection, Span, flush
from services.ledger.read_models import all_projections
from services.ledger.rebuild import rebuild_connected
from shared.collector import tune_collector
from shared.db import WRITER_ROLE, dsn_as
from shared.keys import load_verifier
from shared.verify import verify_ledger


@dataclass
class Replay:
    """Rebuilding every read model from position 0 in one pass (`rebuild.rebuild_all`)."""

    events: int
    seconds: float
    models: int
    apply_seconds: dict[str, float] = field(default_factory=dict)
    passes: list[float] = field(default_factory=list)
    """The rate of every pass, in the order run, when this is the median one of several (`median_pass`)."""

    @property
    def rate(self) -> float:
        """Ledger events replayed per second, all read models together."""
        return self.events / self.seconds if self.seconds else 0.0

    def per_model(self) -> str:
        """How long each read model's applies took, longest first (they overlap: each has a connection of its own,
        and the ledger is read and decoded meanwhile on another)."""
        return ", ".join(f"{name} {sec:.1f} s" for name, sec in self.apply_seconds.items())


PASSES = 3
"""Passes of each replay and verification: one of a second or two swings by a third from run to run on a
shared 2-core host, so the report gives the median pass and every pass's rate."""


class _Rated(Protocol):
    """A dataclass of one pass's result, with its rate."""

    __dataclass_fields__: ClassVar[dict[str, Any]]

    @property
    def rate(self) -> float: ...

    @property
    def passes(self) -> list[float]: ...


R = TypeVar("R", bound=_Rated)


async def median_pass(passes: int, once: Callable[[], Awaitable[R]]) -> R:
    """Run `once` `passes` times, one after another; the pass of median rate (the lower of the middle two for an
    even count), with every pass's rate in `passes`."""
    if passes < 1:
        raise ValueError("at least one pass")
    results = [await once() for _ in range(passes)]
    median = sorted(results, key=lambda r: r.rate)[(passes - 1) // 2]
    return dataclasses.replace(median, passes=[r.rate for r in results])


class _Timed:
    """A projection whose `apply` and `flush` time is added up (to tell which read model costs what)."""

    def __init__(self, inner: Projection, spent: dict[str, float]) -> None:
        self.inner = inner
        self.name = inner.name
        self.version = inner.version
        self.tables = inner.tables
        self.types = inner.types
        self.sql_types = inner.sql_types
        self.spent = spent

    async def apply(self, conn: asyncpg.Connection, span: Span, events: Sequence[ProjectedEvent]) -> None:
        async with self._timed():
            await self.inner.apply(conn, span, events)

    async def flush(self, conn: asyncpg.Connection) -> None:
        async with self._timed():
            await flush(conn, self.inner)

    @contextlib.asynccontextmanager
    async def _timed(self) -> AsyncIterator[None]:
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self.spent[self.name] = self.spent.get(self.name, 0.0) + time.perf_counter() - t0


async def replay(pg_dsn: str) -> Replay:
    """rebuild.rebuild_connected over read_models.all_projections(), as the writer role, as the rebuild
    command runs it: each read model on a connection of its own, the ledger read on one more."""
    projections = all_projections()
    spent: dict[str, float] = {}
    tune_collector()  # as the rebuild command does
    t0 = time.perf_counter()
    events = await rebuild_connected(dsn_as(pg_dsn, WRITER_ROLE), [_Timed(p, spent) for p in projections])
    return Replay(events, time.perf_counter() - t0, len(projections),
                  dict(sorted(spent.items(), key=lambda kv: -kv[1])))


@dataclass
class Verify:
    """Full-ledger verification speed."""

    events: int
    rate: float
    ok: bool
    how: str
    passes: list[float] = field(default_factory=list)
    """The rate of every pass, in the order run, when this is the median one of several (`median_pass`)."""


async def verify(pg_dsn: str, key_file: Path) -> Verify:
    """shared.verify.verify_ledger with the log's public key (worker processes, one per core)."""
    report = await verify_ledger(pg_dsn, [load_verifier(str(key_file.with_suffix(".vkey")))])
    return Verify(report.count, report.events_per_s, report.ok,
                  "shared.verify.verify_ledger: leaf hashes, columns vs envelope, chains, Merkle tree "
                  "rebuilt and every stored node compared, roots against every signed checkpoint")
