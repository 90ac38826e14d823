"""Ingest: a backlog drained by the ledger, a live run, and publish-to-committed latency at half load."""

from __future__ import annotations

import asyncio
import bisect
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import asyncpg
from prometheus_client.parser import text_string_to_metric_families

from bench import pgstats
from bench.profile import Profile, record
from bench.publisher import publish_all, publish_paced
from bench.stack import BenchStack, CpuMeter, cpu_seconds
from bench.workload import EventFactory, Layout
from services.ledger.monitor import BATCH_PHASES
from services.ledger.read_models import all_projections
from services.ledger.store import COMMIT_CHANNEL


async def committed(conn: asyncpg.Connection) -> tuple[int, int]:
    """(stream sequence, position) the ledger writer has committed."""
    row = await conn.fetchrow("SELECT stream_seq, position FROM consumer_checkpoint WHERE consumer = 'ledger'")
    return (int(row["stream_seq"]), int(row["position"])) if row else (0, 0)


async def wait_committed(conn: asyncpg.Connection, stream_seq: int, timeout: float, interval: float = 0.05) -> float:
    """Poll until the ledger committed `stream_seq`; returns the wall time (time.time()) it was seen."""
    deadline = time.monotonic() + timeout
    while (await committed(conn))[0] < stream_seq:
        if time.monotonic() > deadline:
            raise TimeoutError(f"the ledger did not commit stream sequence {stream_seq} within {timeout:.0f}s "
                               f"(at {(await committed(conn))[0]})")
        await asyncio.sleep(interval)
    return time.time()


async def commit_rate(conn: asyncpg.Connection, first: int, last: int) -> float:
    """Events/s over positions [first, last] from the rows' commit stamps (the writer's pace, not start-up)."""
    row = await conn.fetchrow(
        """SELECT min(committed_at) AS t0, max(committed_at) AS t1 FROM ledger_events
           WHERE position BETWEEN $1 AND $2""", first, last)
    t0, t1 = row["t0"], row["t1"]
    if t0 is None or t1 <= t0:
        return 0.0
    done = await conn.fetchval("SELECT count(*) FROM ledger_events WHERE position BETWEEN $1 AND $2 "
                               "AND committed_at < $3", first, last, t1)
    return float(done) / float((t1 - t0).total_seconds())


async def read_models_position(conn: asyncpg.Connection) -> int:
    """The position every read model has applied: the lowest of their checkpoints (0 before each has one)."""
    names = [p.name for p in all_projections()]
    rows = await conn.fetch("SELECT position FROM projection_checkpoints WHERE name = ANY($1)", names)
    return min(int(r["position"]) for r in rows) if len(rows) == len(names) else 0


async def read_models_caught_up(conn: asyncpg.Connection, timeout: float) -> float:
    """Wait until every read model has applied the whole ledger; returns the wall time (time.time()) it was seen."""
    deadline = time.monotonic() + timeout
    while True:
        tip = int(await conn.fetchval("SELECT coalesce(max(position), 0) FROM ledger_events"))
        if await read_models_position(conn) >= tip:
            return time.time()
        if time.monotonic() > deadline:
            raise TimeoutError(f"read models still behind after {timeout:.0f}s")
        await asyncio.sleep(0.2)


@dataclass
class Drain:
    """A backlog published with the ledger stopped, then drained."""

    events: int
    publish_rate: float
    drain_seconds: float
    rate: float
    cpu: dict[str, float] = field(default_factory=dict)
    profile: Profile | None = None
    statements: list[pgstats.Statement] = field(default_factory=list)
    checkpoints: int = 0
    read_models_behind: int = 0
    """Positions the read models had still to apply when the drain ended (they yield to a writer backlog)."""
    read_models_after: float = 0.0
    """Seconds after the drain ended until they had applied all of it."""

    @property
    def cpu_us(self) -> dict[str, float]:
        """CPU microseconds per event, per component: what bounds the rate when the cores are busy."""
        return {name: cores * self.drain_seconds / self.events * 1e6 for name, cores in self.cpu.items()}


async def drain(stack: BenchStack, conn: asyncpg.Connection, layout: Layout, factory: EventFactory, start: int,
                stop: int, profile_to: Path | None = None, timeout: float = 900) -> Drain:
    """Publish events [start, stop) while the ledger is stopped, start it, time the drain."""
    stack.stop_service("ledger")
    count, seconds, last_seq = await publish_all(stack.nats_url, layout.events(start, stop, factory))
    _, base = await committed(conn)
    counting = await pgstats.reset(conn)
    checkpoints = await pgstats.checkpoints(conn)
    meter = CpuMeter(stack)
    ledger = await asyncio.to_thread(stack.start_service, "ledger")
    began = time.time()
    meter.start()
    spy: asyncio.Task[Profile] | None = None
    if profile_to is not None:
        expected = max(count / 20_000, 2)
        spy = asyncio.create_task(record(ledger.proc.pid, min(max(expected * 0.6, 2), 20), profile_to))
    done_at = await wait_committed(conn, last_seq, timeout)
    cpu = meter.stop(done_at - began)
    profile = await spy if spy else None
    statements = await pgstats.top(conn) if counting else []
    behind = (await committed(conn))[1] - await read_models_position(conn)
    caught_up = await read_models_caught_up(conn, timeout)
    rate = await commit_rate(conn, base + 1, base + count) or count / (done_at - began)  # one batch: no pace
    return Drain(count, count / seconds, done_at - began, rate, cpu, profile, statements,
                 await pgstats.checkpoints(conn) - checkpoints, behind, max(0.0, caught_up - done_at))


@dataclass
class Live:
    """Publishing at full speed while the ledger ingests."""

    events: int
    publish_rate: float
    rate: float
    cpu: dict[str, float] = field(default_factory=dict)

    @property
    def cpu_us(self) -> dict[str, float]:
        """CPU microseconds per event, per component."""
        return {name: cores / self.rate * 1e6 for name, cores in self.cpu.items()} if self.rate else {}


async def live(stack: BenchStack, conn: asyncpg.Connection, layout: Layout, factory: EventFactory, start: int,
               count: int) -> Live:
    """End-to-end rate: first publish to last commit, publisher and ledger sharing the machine."""
    meter = CpuMeter(stack)
    began = time.time()
    meter.start()
    n, seconds, last_seq = await publish_all(stack.nats_url, layout.events(start, start + count, factory))
    done_at = await wait_committed(conn, last_seq, 600, interval=0.02)
    return Live(n, n / seconds, n / (done_at - began), meter.stop(done_at - began))


@dataclass(frozen=True)
class BatchTimes:
    """The writer's batches over a run, from the ledger's `ledger_batch_*` histograms."""

    batches: int
    mean_size: float
    mean_ms: dict[str, float]  # per part of a batch's time (`BatchTiming` field): its mean, ms


async def batch_histograms(ledger_url: str) -> dict[str, float]:
    """The `_sum` and `_count` of the ledger's batch histograms, by sample name."""
    async with aiohttp.ClientSession() as session, session.get(f"{ledger_url}/metrics") as response:
        text = await response.text()
    return {sample.name: sample.value for family in text_string_to_metric_families(text)
            if family.name.startswith("ledger_batch_") for sample in family.samples
            if sample.name.endswith(("_sum", "_count"))}


def batch_times(before: dict[str, float], after: dict[str, float]) -> BatchTimes | None:
    """What the batch histograms added between two readings; None when no batch was committed between them."""
    def added(name: str) -> float:
        return after.get(name, 0.0) - before.get(name, 0.0)

    batches = int(added("ledger_batch_size_count"))
    if batches <= 0:
        return None
    return BatchTimes(batches, added("ledger_batch_size_sum") / batches,
                      {field: added(f"{name}_sum") * 1000 / batches for field, name, _ in BATCH_PHASES})


class BackendCpu:
    """PostgreSQL's CPU per connection name (`application_name`; background processes by their type), over
    the processes that were there when it started."""

    def __init__(self) -> None:
        self.names: dict[int, str] = {}
        self.before: dict[int, float] = {}

    async def start(self, conn: asyncpg.Connection) -> None:
        """Note every PostgreSQL process's name and CPU time."""
        rows = await conn.fetch("SELECT pid, coalesce(nullif(application_name, ''), backend_type) AS name "
                                "FROM pg_stat_activity")
        self.names = {int(r["pid"]): str(r["name"]) for r in rows}
        self.before = {pid: cpu_seconds(pid) for pid in self.names}

    def stop(self, wall: float) -> dict[str, float]:
        """Cores used per name since `start` (a process gone meanwhile counts as none)."""
        used: dict[str, float] = {}
        for pid, name in self.names.items():
            used[name] = used.get(name, 0.0) + max(cpu_seconds(pid) - self.before[pid], 0.0)
        return {name: round(sec / wall, 2) for name, sec in used.items() if wall > 0 and sec / wall >= 0.005}


@dataclass(frozen=True)
class Episodes:
    """How a latency step's slow commits were spread over time: windows of `width` seconds by publish time,
    those in which some event committed more than `limit` ms after it was published, and runs of such windows
    (episodes: the ledger fell behind, then caught up)."""

    width: float
    limit: float
    windows: int
    slow: int
    episodes: int
    longest: int  # windows in the longest episode


def episodes(points: Sequence[tuple[float, float]], width: float = 0.25, limit: float = 100.0) -> Episodes:
    """The episodes of (publish time s, latency ms) points."""
    if not points:
        return Episodes(width, limit, 0, 0, 0, 0)
    first = min(t for t, _ in points)
    worst: dict[int, float] = {}
    for t, ms in points:
        window = int((t - first) / width)
        worst[window] = max(worst.get(window, 0.0), ms)
    count = max(worst) + 1
    slow = [worst.get(w, 0.0) > limit for w in range(count)]
    runs, run, longest = 0, 0, 0
    for is_slow in slow:
        run = run + 1 if is_slow else 0
        runs += run == 1
        longest = max(longest, run)
    return Episodes(width, limit, count, sum(slow), runs, longest)


@dataclass
class Latency:
    """Publish-to-committed latency at a fixed publish rate, ms."""

    rate: float
    events: int
    committed_p50: float
    committed_p99: float
    visible_p50: float
    visible_p99: float
    cpu: dict[str, float] = field(default_factory=dict)
    checkpoints: int = 0
    batches: BatchTimes | None = None
    episodes: Episodes | None = None
    statements: list[pgstats.Statement] = field(default_factory=list)
    pg_cpu: dict[str, float] = field(default_factory=dict)  # cores per PostgreSQL connection name


def percentile(values: list[float], q: float) -> float:
    """The q-quantile (nearest rank) of `values`."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered) + 0.5) - 1))]


async def latency(stack: BenchStack, conn: asyncpg.Connection, layout: Layout, factory: EventFactory, start: int,
                  rate: float, seconds: float) -> Latency:
    """Paced publishing; latency by the rows' `committed_at - recorded_at` (the envelope time, same clock)
    and as seen by a LISTENer on the writer's commit notification (includes the commit itself)."""
    notes: list[tuple[int, float]] = []

    def on_commit(_c: object, _pid: int, _channel: str, payload: str) -> None:
        notes.append((int(payload.split()[1]), time.time()))

    listener: asyncpg.Connection = await asyncpg.connect(stack.pg_dsn)
    await listener.add_listener(COMMIT_CHANNEL, on_commit)
    meter = CpuMeter(stack)
    _, first_position = await committed(conn)
    counting = await pgstats.reset(conn)
    checkpoints = await pgstats.checkpoints(conn)
    histograms = await batch_histograms(stack.url("ledger"))
    backends = BackendCpu()
    await backends.start(conn)
    meter.start()
    began = time.time()
    acks = await publish_paced(stack.nats_url, layout, factory, start, rate, seconds)
    done_at = await wait_committed(conn, max(s for _, s in acks), 120, interval=0.02)
    cpu = meter.stop(done_at - began)
    pg_cpu = backends.stop(done_at - began)
    batches = batch_times(histograms, await batch_histograms(stack.url("ledger")))
    await asyncio.sleep(0.2)
    await listener.close()
    statements = await pgstats.top(conn) if counting else []
    rows = await conn.fetch(
        """SELECT extract(epoch FROM recorded_at) AS at, extract(epoch FROM committed_at - recorded_at) * 1000 AS ms
           FROM ledger_events WHERE position > $1 AND stream_seq <= $2""", first_position, max(s for _, s in acks))
    by_commit = [float(r["ms"]) for r in rows]
    notes.sort()
    seqs = [s for s, _ in notes]
    visible = []
    for t, seq in acks:
        i = bisect.bisect_left(seqs, seq)
        if i < len(notes):
            visible.append((notes[i][1] - t) * 1000)
    return Latency(len(acks) / seconds, len(acks), percentile(by_commit, 0.5), percentile(by_commit, 0.99),
                   percentile(visible, 0.5), percentile(visible, 0.99), cpu,
                   await pgstats.checkpoints(conn) - checkpoints, batches,
                   episodes([(float(r["at"]), float(r["ms"])) for r in rows]), statements, pg_cpu)
