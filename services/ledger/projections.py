"""Read models: checkpointed projections fed from the ledger in position order.

A projection owns some `rm_*` tables, declares the event types it consumes and applies spans of the
ledger; the runner commits each span together with the projection's checkpoint, so a crash replays
at most the uncommitted span. Rebuilding from position 0 is `services.ledger.rebuild`; SQL helpers for
projections are in `services.ledger.statements`.

Read models show the effective history (corrections applied, `services.ledger.corrected`): every span carries
the ledger's corrections, and a round that meets a correction of events already applied rebuilds the read
models from position 0 instead of applying it (`catch_up`).
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import functools
import hashlib
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, NamedTuple, Protocol, runtime_checkable

import asyncpg

from services.ledger import corrected
from services.ledger.backlog import Pacer
from services.ledger.corrected import NO_CORRECTIONS, Corrections
from shared.db import named
from shared.envelope import envelope_data

log = logging.getLogger(__name__)


class ProjectedEvent(NamedTuple):
    """What a projection sees of a ledger row (its envelope's `data` only, decoded)."""

    position: int
    cadre_id: str
    county: str
    type: str
    occurred_on: date
    data: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Span:
    """The ledger positions a batch covers: after < position <= upto, and the corrections recorded up to at least
    `upto`, which everything the projection reads of the ledger for it must apply (`decoded`)."""

    after: int
    upto: int
    corrections: Corrections = NO_CORRECTIONS


class Projection(Protocol):
    """A read model (which may also be a `HoldsBack`)."""

    name: str
    version: int
    """The version of its rules: raised whenever `apply` would make other rows from the same events. The ledger
    rebuilds a read model whose stored version differs when it starts (`services.ledger.rebuild.rebuild_outdated`)."""
    tables: tuple[str, ...]
    types: frozenset[str]
    """The event types whose rows `apply` is given; empty: it reads `ledger_events` over the span itself."""
    sql_types: frozenset[str]
    """Event types `apply` reads from `ledger_events` over the span itself, in SQL, besides `types`.

    Their rows are neither fetched nor decoded for it, and `apply` is called for every span.
    """

    async def apply(self, conn: asyncpg.Connection, span: Span, events: Sequence[ProjectedEvent]) -> None:
        """Apply the span: `events` are its rows of `types`, in position order, inside the runner's transaction.

        The `data` dicts are shared by every projection of the batch: projections must not change them.
        """


@runtime_checkable
class HoldsBack(Protocol):
    """A projection that may hold back writes from `apply` (to write each row once for many spans)."""

    async def flush(self, conn: asyncpg.Connection) -> None:
        """Write what `apply` held back; called in the same transaction before the checkpoint is saved."""


def corrected_by(projection: Projection) -> frozenset[str] | None:
    """The event types whose corrections change the projection's rows: those it reads (None: every type, for
    one that reads the ledger over its spans itself)."""
    return projection.types | projection.sql_types if projection.types or projection.sql_types else None


async def flush(conn: asyncpg.Connection, projection: Projection) -> None:
    """Let `projection` write what it held back, if it holds anything back."""
    if isinstance(projection, HoldsBack):
        await projection.flush(conn)


def default_projections() -> list[Projection]:
    """Every read model the ledger maintains (collected from `services.ledger.read_models`)."""
    from services.ledger.read_models import all_projections

    return all_projections()


def lock_key(name: str) -> int:
    """The advisory lock key of a projection: its steps, runners and rebuilds serialise on it."""
    return int.from_bytes(hashlib.sha256(f"cadre-ledger projection {name}".encode()).digest()[:8], "big", signed=True)


async def _checkpoint(conn: asyncpg.Connection, name: str) -> int:
    value = await conn.fetchval("SELECT position FROM projection_checkpoints WHERE name = $1", name)
    return int(value or 0)


async def ledger_tip(conn: asyncpg.Connection) -> int:
    """The ledger's last position."""
    # positions are committed in order by the one writer, so every position up to the tip is visible
    return int(await conn.fetchval("SELECT coalesce(max(position), 0) FROM ledger_events"))


EVENT_COLUMNS = "position, cadre_id, county, type, occurred_on, canonical"
"""What a query selects from `ledger_events` for `decoded`."""


def decoded(rows: Sequence[asyncpg.Record], corrections: Corrections = NO_CORRECTIONS) -> list[ProjectedEvent]:
    """Rows selected as `EVENT_COLUMNS` in position order, as projected events (`data` parsed here from the
    hashed bytes), as `corrections` say they read: a corrected one with its fact and date, a revoked one left
    out."""
    facts = corrections.facts
    # the usual ledger, and a live span past every corrected event: nothing to look up per row
    if not facts or not rows or not corrections.within(rows[0][0] - 1, rows[-1][0]):
        return [ProjectedEvent(p, c, k, t, o, envelope_data(b)) for p, c, k, t, o, b in rows]
    out = []
    for p, c, k, t, o, b in rows:
        if p not in facts:
            out.append(ProjectedEvent(p, c, k, t, o, envelope_data(b)))
        elif (fact := facts[p]) is not None:
            out.append(ProjectedEvent(p, *fact))
    return out


async def fetch_events(conn: asyncpg.Connection, span: Span, types: frozenset[str]) -> list[ProjectedEvent]:
    """The span's rows of these types, their envelopes' `data` decoded, as the span's corrections say they read."""
    if not types or span.upto <= span.after:
        return []
    return decoded(await conn.fetch(
        f"""SELECT {EVENT_COLUMNS} FROM ledger_events
            WHERE position > $1 AND position <= $2 AND type = ANY($3::text[]) ORDER BY position""",
        span.after, span.upto, sorted(types)), span.corrections)


def span_events(events: Sequence[ProjectedEvent], after: int, types: frozenset[str],
                present: frozenset[str]) -> Sequence[ProjectedEvent]:
    """The events after `after` of these types; `present`: every type in `events`.

    The same list when none is left out.
    """
    if events and events[0].position <= after:
        events = events[bisect.bisect_right([e.position for e in events], after):]
    if present <= types:
        return events
    if present.isdisjoint(types):
        return []
    return [e for e in events if e.type in types]


async def save_checkpoints(conn: asyncpg.Connection, names: Sequence[str], position: int) -> None:
    """Record that the named projections have applied the ledger up to `position` (in the caller's transaction)."""
    await conn.executemany(
        """INSERT INTO projection_checkpoints (name, position) VALUES ($1, $2)
           ON CONFLICT (name) DO UPDATE SET position = $2, updated_at = now()""",
        [(name, position) for name in names])


async def save_versions(conn: asyncpg.Connection, projections: Sequence[Projection]) -> None:
    """Record the version of their rules the projections' rows are now built under (in the caller's transaction)."""
    await conn.executemany(
        """INSERT INTO read_model_versions (name, version) VALUES ($1, $2)
           ON CONFLICT (name) DO UPDATE SET version = $2, recorded_at = now()""",
        [(p.name, p.version) for p in projections])


@dataclass(frozen=True)
class Fetched:
    """One shared read: the span's rows of `types` (the union of the projections' types)."""

    span: Span
    types: frozenset[str]
    events: Sequence[ProjectedEvent]

    @functools.cached_property
    def present(self) -> frozenset[str]:
        """The types the read found."""
        return frozenset(e.type for e in self.events)


# A step locks its projection and commits without waiting for the WAL to reach the disk: a read model is
# derived data whose checkpoint commits with it, so a crash can only lose its last steps whole, which the
# runner applies again from the checkpoint that survived. The writer's commits stay synchronous; the read
# models' (up to one per read model per round) no longer each wait for, and queue at, a WAL flush of their own.
_STEP_BEGINS = "SELECT set_config('synchronous_commit', 'off', true), pg_advisory_xact_lock($1)"


async def step(conn: asyncpg.Connection, projection: Projection, batch: int, fetched: Fetched | None = None,
               corrections: Corrections | None = None) -> int:
    """Bring one projection up to `fetched`'s end (or the next `batch` positions); returns positions advanced.

    The projection's transaction-level advisory lock serialises concurrent runners and rebuilds.
    `fetched`: a read the caller already made; used when it covers this projection's checkpoint, so
    projections share one read and one decode per round. A projection with no events of its types in
    the span only advances its checkpoint. `corrections`: the ledger's up to the position the step may
    reach at most (by default `fetched`'s, else read here up to the span's end). When one recorded after the
    checkpoint changed an event of a type the projection reads, the projection is rebuilt from position 0
    up to there instead (`rebuild.rebuild_all`), as `catch_up` does.
    """
    async with conn.transaction():
        await conn.execute(_STEP_BEGINS, lock_key(projection.name))
        after = await _checkpoint(conn, projection.name)
        if corrections is None:
            corrections = fetched.span.corrections if fetched is not None else await corrected.load(
                conn, min(await ledger_tip(conn), after + batch))
        covered = (fetched is not None and fetched.span.after <= after < fetched.span.upto
                   and projection.types <= fetched.types)
        span = Span(after, fetched.span.upto if fetched is not None and covered else
                    min(corrections.upto, after + batch), corrections)
        if span.upto <= after:
            return 0
        if corrections.changed(after, corrections.upto, corrected_by(projection)):
            # a checkpoint set back under the round (by a rebuild to an older tip), or a step on its own
            from services.ledger.rebuild import rebuild_all  # rebuild builds on this module

            return await rebuild_all(conn, [projection], corrections=corrections) - after
        if fetched is not None and covered:
            events = span_events(fetched.events, after, projection.types, fetched.present)
        else:
            events = await fetch_events(conn, span, projection.types)
        if events or not projection.types or projection.sql_types:
            await projection.apply(conn, span, events)
            await flush(conn, projection)  # only after an apply: what a rolled-back one held must not be written
        await save_checkpoints(conn, [projection.name], span.upto)
    return span.upto - after


@dataclass
class Seen:
    """The corrections a runner has read, kept between its rounds (read again only when new ones come)."""

    corrections: Corrections = field(default_factory=Corrections)


Rebuild = Callable[[Sequence[Projection], Corrections], Awaitable[int]]
"""Rebuilds projections from position 0 up to the corrections' `upto`, applying them; returns that position."""


async def catch_up(conn: asyncpg.Connection, projections: Sequence[Projection], batch: int, seen: Seen | None = None,
                   rebuild: Rebuild | None = None) -> bool:
    """One round of the runner: every projection brought up to `batch` positions past the one furthest behind.

    One read of the ledger per round, of the types the projections still short of its end consume,
    shared by all. Returns whether the round reached the tip (nothing more to do right now).

    A projection whose rows are recorded as built under another version of its rules is left alone: during a
    rolling upgrade, an older ledger process must not add rows of its rules to a read model a newer one rebuilt.

    Corrections: the ledger's tip is read together with whether a correction came after those in `seen` (one
    index probe; the runner keeps `seen` between rounds, so they are read again only when one came). When a
    correction after a projection's checkpoint changed an event recorded before it, of a type the projection
    reads (`corrected_by`), the round rebuilds every such projection from position 0 up to the tip instead
    (`rebuild`, by default `rebuild.rebuild_all` on `conn`, over one read of the ledger): their rows then read
    as if the corrected facts had been recorded so in the first place.
    """
    at = await _positions(conn, projections)
    current = [p for p in projections if p.name in at]
    if not current:
        return True
    seen = seen or Seen()
    behind = min(at.values(), default=0)
    tip, news = await corrected.tip_and_news(conn, seen.corrections)
    known = seen.corrections = await corrected.load(conn, tip) if news else seen.corrections.reaching(tip)
    if _stale(current, at, known):
        await _rebuild_stale(conn, current, known, rebuild)
        return False
    if behind < tip:
        span = Span(behind, min(tip, behind + batch), known)
        types = frozenset().union(*(p.types for p in current if at[p.name] < span.upto))
        fetched = Fetched(span, types, await fetch_events(conn, span, types))
        for projection in current:
            await step(conn, projection, batch, fetched, known)
    return behind + batch >= tip


async def _positions(conn: asyncpg.Connection, projections: Sequence[Projection]) -> dict[str, int]:
    """The checkpoint of each projection whose rows are built under its version of the rules (or none yet)."""
    rows = await conn.fetch(
        """SELECT p.name, coalesce(c.position, 0) AS position, coalesce(v.version <> p.version, false) AS other_rules
           FROM unnest($1::text[], $2::integer[]) AS p(name, version)
           LEFT JOIN projection_checkpoints c ON c.name = p.name LEFT JOIN read_model_versions v ON v.name = p.name""",
        [p.name for p in projections], [p.version for p in projections])
    return {r["name"]: r["position"] for r in rows if not r["other_rules"]}


def _stale(projections: Sequence[Projection], at: dict[str, int], known: Corrections) -> list[Projection]:
    # a read model never built (checkpoint 0) has applied nothing a correction could change: it catches up instead
    return [p for p in projections if p.name in at and known.changed(at[p.name], known.upto, corrected_by(p))]


_REBUILDING = lock_key("rebuild after corrections")


async def _rebuild_stale(conn: asyncpg.Connection, projections: Sequence[Projection], known: Corrections,
                         rebuild: Rebuild | None) -> None:
    """Rebuild the projections `known` made stale, unless another runner has meanwhile.

    Every ledger replica runs a runner, and each sees the same correction: under a session lock one rebuilds, and
    the others, reading the checkpoints again once they hold it, find the rows rebuilt past it.
    """
    await conn.execute("SELECT pg_advisory_lock($1)", _REBUILDING)
    try:
        if not (stale := _stale(projections, await _positions(conn, projections), known)):
            return
        log.warning("a correction changed events the read models have applied; rebuilding them from position 0 "
                    "(更正已记录, 正在重建读模型)", extra={"read_models": [p.name for p in stale], "upto": known.upto})
        if rebuild is None:
            from services.ledger.rebuild import rebuild_all  # rebuild builds on this module

            await rebuild_all(conn, stale, corrections=known)
        else:
            await rebuild(stale, known)
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", _REBUILDING)


READ_MODELS = "cadre-ledger-read-models"  # the application_name of the runner's connection


class ProjectionRunner:
    """Keeps every projection caught up with the ledger (several runners may run; steps serialise)."""

    def __init__(self, dsn: str, projections: list[Projection], batch: int = 2000, idle_s: float = 0.2,
                 pacer: Pacer | None = None) -> None:
        self.dsn = dsn
        self.projections = projections
        self.batch = batch
        self.idle_s = idle_s
        self.pacer = pacer
        self.seen = Seen()  # the corrections read so far, kept across rounds and reconnections

    async def rebuild(self, projections: Sequence[Projection], corrections: Corrections) -> int:
        """Rebuild projections a correction made stale, on connections of their own (`rebuild.rebuild_connected`,
        as `python -m services.ledger.rebuild` does): PostgreSQL applies one read model while the next is
        prepared here, and each read model's tables are free again as soon as its own rebuild commits."""
        from services.ledger.rebuild import rebuild_connected  # rebuild builds on this module

        return await rebuild_connected(self.dsn, projections, corrections=corrections)

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
        conn: asyncpg.Connection = await asyncpg.connect(self.dsn, timeout=5, server_settings=named(READ_MODELS))
        try:
            while not stop.is_set():
                began = time.monotonic()
                # caught up: let events gather instead of a round per commit
                caught_up = await catch_up(conn, self.projections, self.batch, self.seen, self.rebuild)
                rest = self.idle_s if caught_up else 0.0
                if self.pacer is not None:
                    rest = max(rest, await self.pacer.rest_after(conn, time.monotonic() - began))
                if rest > 0:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), rest)
        finally:
            await conn.close(timeout=5)
