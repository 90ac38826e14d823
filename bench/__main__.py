"""`python -m bench`: start the embedded servers, measure everything issue 8 lists in one run, write BENCHMARKS.md."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Awaitable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import asyncpg

from bench import engines, pgstats
from bench.commands import command_path
from bench.ingest import commit_rate, drain, latency, live, read_models_caught_up
from bench.integrity import PASSES, median_pass, replay, verify
from bench.markdown import render, with_record
from bench.mixed import mixed_replay
from bench.profile import pure_path, record
from bench.reads import inclusion_proofs, read_latency
from bench.report import REPLAY, VERIFY, Results, table_text
from bench.stack import BenchStack, CpuMeter, machine_busy_seconds
from bench.workload import EventFactory, Layout, check_factory
from services.ledger.main import MIGRATIONS
from shared.db import migrate

T = TypeVar("T")
CATCH_UP_S = 600
"""Longest wait for the read models to apply the whole ledger before a step that should run on a quiet system."""
HISTORY = "/v1/cadres/{cadre}/history?limit=100"
STATE = "/v1/cadres/{cadre}/state?as_of=2015-03-01"
HISTORY_STATEMENT = "FROM ledger_events WHERE cadre_id = $3 AND cadre_version > $1"  # the page query's text


@dataclass(frozen=True)
class Sizes:
    """How much each step does."""

    events: int
    raw: int
    live: int
    latency_s: float
    reads: int
    proofs: int
    commands: int
    mixed: int = 100_000
    """Events in the ledger whose replay the county's-mix step measures (as many as a full run's main replay)."""
    demo: int = 400
    """Cadres whose careers the demo records for that step (a tenth of them also get an audit)."""
    concurrency: int = 16

    @property
    def chunk(self) -> int:
        return max(self.events // 10, 1000)


def sizes(quick: bool, events: int | None) -> Sizes:
    """Full run: a 1,000,000-event ledger; quick: a smoke run of under a minute."""
    if quick:
        n = events or 20_000
        few = min(100, max(n // 50, 30))
        return Sizes(events=n, raw=min(n, 20_000), live=max(n // 10, 500), latency_s=2, reads=few, proofs=few,
                     commands=min(n // 100, 100), mixed=min(n, 2_000), demo=40)
    n = events or 1_000_000
    return Sizes(events=n, raw=200_000, live=min(100_000, n // 5), latency_s=20, reads=2000, proofs=2000,
                 commands=2000)


class Run:
    """One benchmark run against one freshly started stack."""

    def __init__(self, s: Sizes, stack: BenchStack, results: Results, keep_going: bool = True,
                 ingest_only: bool = False) -> None:
        self.ingest_only = ingest_only
        self.workdir = stack.root
        self.s = s
        self.stack = stack
        self.r = results
        self.keep_going = keep_going

    async def step(self, name: str, work: Awaitable[T]) -> T | None:
        """Run one measurement; a failure is recorded in the report instead of ending the run."""
        t0 = time.perf_counter()
        print(f"[bench] {name} ...", file=sys.stderr, flush=True)
        try:
            result = await work
        except Exception as exc:
            if not self.keep_going:
                raise
            self.r.errors.append(f"{name}: {type(exc).__name__}: {exc}"[:500])
            print(f"[bench] {name} FAILED: {exc}", file=sys.stderr, flush=True)
            return None
        print(f"[bench] {name} done in {time.perf_counter() - t0:.1f}s", file=sys.stderr, flush=True)
        return result

    async def metered(self, label: str, work: Awaitable[T]) -> T:
        """Run `work`, recording the CPU each component spent meanwhile."""
        meter = CpuMeter(self.stack)
        meter.start()
        began = time.perf_counter()
        try:
            return await work
        finally:
            self.r.cpu[label] = meter.stop(time.perf_counter() - began)

    async def sampled(self, label: str, pid: int, seconds: float, work: Awaitable[T]) -> T:
        """Run `work` while py-spy samples `pid` for `seconds` (keep it shorter than the work)."""
        spy = asyncio.create_task(record(pid, seconds, self.workdir / f"spy-{len(self.r.profiles)}.txt"))
        try:
            return await work
        finally:
            self.r.profiles[label] = await spy

    async def settled(self, conn: asyncpg.Connection) -> None:
        """Wait for the read models, then vacuum what the drain wrote, as an operator would after a bulk load:
        otherwise autovacuum works through the fresh rows while reads are measured."""
        await read_models_caught_up(conn, CATCH_UP_S)
        await conn.execute("VACUUM (ANALYZE) ledger_events, merkle_nodes")
        row = await conn.fetchrow("SELECT count(*) AS n, pg_table_size('ledger_events') AS heap, "
                                  "pg_indexes_size('ledger_events') AS indexes FROM ledger_events")
        self.r.ledger_bytes[int(row["n"])] = (int(row["heap"]), int(row["indexes"]))

    async def latencies(self, conn: asyncpg.Connection, layout: Layout, factory: EventFactory) -> None:
        """Publish-to-commit latency at half the drain rate (the issue's half load), then at half the live rate.

        The drain runs with no publisher on the machine; with one, the machine sustains about half of that
        (the live figure), so half the drain rate is close to full load on 2 cores. Half the live rate is half
        of what the machine sustains with the publisher on it, given for reference beside the issue's figure.
        The caller lets the read models catch up before the first; they catch up again before the second.
        """
        r, s = self.r, self.s
        start, rate = s.events + s.live, (r.rest.rate if r.rest else 5000) / 2
        r.latency = await self.step("latency at half load", latency(
            self.stack, conn, layout, factory, start, rate, s.latency_s))
        if r.live is None:
            return
        await self.step("read models catch up", read_models_caught_up(conn, CATCH_UP_S))
        r.latency_live = await self.step("latency at half the live rate", latency(
            self.stack, conn, layout, factory, start + int(rate * s.latency_s) + 1, r.live.rate / 2, s.latency_s))

    async def reads(self, conn: asyncpg.Connection, chunks: int, profile: bool = False) -> tuple[object, object]:
        layout = Layout(self.s.chunk)
        probes = layout.probes(chunks)
        base = self.stack.url("ledger")
        history_reads = read_latency(base, self.stack.auth(), probes, self.s.reads, HISTORY)
        state_reads = read_latency(base, self.stack.auth(), probes, self.s.reads, STATE)
        labels = {HISTORY: "history reads (the ledger process)", STATE: "state reads (the ledger process)"}
        counting = await pgstats.reset(conn)
        history = await (self.metered(labels[HISTORY], history_reads) if profile else history_reads)
        pages = await pgstats.page_reads(conn, HISTORY_STATEMENT) if counting else None
        if pages is not None:
            self.r.history_pages[chunks * self.s.chunk] = pages
        if not profile:
            return history, await state_reads
        state = await self.metered(labels[STATE], state_reads)
        # py-spy gets passes of its own, untimed: its sampling would take CPU from the same 2 cores as the
        # timed requests and lengthen their tail.
        pid = self.stack.procs["ledger"].proc.pid
        seconds = 1 if self.r.quick else 4
        for path, label in labels.items():
            await self.sampled(label, pid, seconds, read_latency(base, self.stack.auth(), probes, self.s.reads, path,
                                                                 seed=2))
        return history, state

    async def main(self, workdir: Path) -> None:
        s, r, stack = self.s, self.r, self.stack
        factory = EventFactory()
        r.event_bytes = check_factory(factory)
        layout = Layout(s.chunk)
        await migrate(stack.pg_dsn, MIGRATIONS)
        conn = await stack.connect()
        try:
            e = r.engines
            e.publish = await self.step("raw JetStream publish", engines.raw_publish(stack.nats_url, s.raw)) or 0.0
            e.publish_inbox = await self.step("the harness's publisher",
                                              engines.raw_publish_inbox(stack.nats_url, s.raw)) or 0.0
            e.fetch = await self.step("nats-py pull fetch", engines.raw_fetch(stack.nats_url, s.raw // 2)) or 0.0
            e.ordered = await self.step("nats-py ordered consumer",
                                        engines.raw_ordered(stack.nats_url, s.raw // 2)) or 0.0
            await engines.delete_raw_stream(stack.nats_url)
            payloads = [ev.payload for ev in layout.events(0, s.raw, factory)]
            e.copy_bare = await self.step("raw COPY, bare", engines.raw_copy(conn, payloads, False)) or 0.0
            e.copy_indexed = await self.step("raw COPY, indexed", engines.raw_copy(conn, payloads, True)) or 0.0
            del payloads
            r.pure = await self.step("writer pure path", asyncio.to_thread(pure_path, min(s.events // 4, 20_000)))

            r.first = await self.step(f"ingest first chunk 0 -> {s.chunk:,}",
                                      drain(stack, conn, layout, factory, 0, s.chunk))
            r.rate_small = r.first.rate if r.first else 0.0
            if self.ingest_only:
                r.rest = await self.step(f"ingest sustained {s.chunk:,} -> {s.events:,}", drain(
                    stack, conn, layout, factory, s.chunk, s.events, workdir / "spy.txt"))
                r.live = await self.step("ingest live", live(stack, conn, layout, factory, s.events, s.live))
                await self.step("read models catch up", read_models_caught_up(conn, CATCH_UP_S))
                await self.latencies(conn, layout, factory)
                return
            await self.step("read models catch up, vacuum", self.settled(conn))
            small = await self.step(f"reads at {s.chunk:,}", self.reads(conn, 1))
            if small:
                r.history_small, r.state_small = small  # type: ignore[assignment]
            # Replay runs on the first chunk: rebuilding is all-or-nothing from position 0, and at a million
            # events it would take most of the run's time budget; events/s is what the target is about.
            # Replay and verify run without py-spy: PostgreSQL and the verify workers keep both cores busy,
            # and sampling would take its share of them; this process, all it could sample, only waits.
            r.replay = await self.step("replay", self.metered(
                REPLAY, median_pass(PASSES, lambda: replay(stack.pg_dsn))))

            r.rest = await self.step(f"ingest sustained {s.chunk:,} -> {s.events:,}",
                                     drain(stack, conn, layout, factory, s.chunk, s.events, workdir / "spy.txt"))
            r.rate_large = await commit_rate(conn, s.events - s.chunk + 1, s.events)
            await self.step("read models catch up, vacuum", self.settled(conn))
            large = await self.step(f"reads at {s.events:,}", self.reads(conn, s.events // s.chunk, profile=True))
            if large:
                r.history_large, r.state_large = large  # type: ignore[assignment]
            r.proofs = await self.step("inclusion proofs",
                                       inclusion_proofs(stack.url("ledger"), stack.auth(), s.proofs))
            key = Path(stack.service_env()["CADRE_CHECKPOINT_KEY_FILE"])
            r.verify = await self.step("verify", self.metered(
                VERIFY, median_pass(PASSES, lambda: verify(stack.pg_dsn, key))))

            r.live = await self.step("ingest live", live(stack, conn, layout, factory, s.events, s.live))
            # The latency run starts on a quiet system, as every other measurement does: not while the read
            # models are still applying the live run's 100,000 events.
            await self.step("read models catch up", read_models_caught_up(conn, CATCH_UP_S))
            await self.latencies(conn, layout, factory)
            await self.step("start audit service", asyncio.to_thread(stack.start_service, "audit"))
            r.command = await self.step("command path", command_path(
                stack.url("audit"), stack.auth(), s.commands, s.concurrency, str(os.getpid()), stack.nats_url, conn))
        finally:
            await conn.close()


async def _watch_load(results: Results, stop: asyncio.Event) -> None:
    while not stop.is_set():
        results.load_max = max(results.load_max, os.getloadavg()[0])
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 2)


async def background_cores(seconds: float = 2.0) -> float:
    """Cores the machine keeps busy while this harness does nothing (other users' work)."""
    busy, began = machine_busy_seconds(), time.monotonic()
    await asyncio.sleep(seconds)
    return round((machine_busy_seconds() - busy) / (time.monotonic() - began), 2)


async def run(args: argparse.Namespace) -> Results:
    """Start the stack, measure, stop the stack; the results (failed steps listed in `errors`)."""
    s = sizes(args.quick, args.events)
    results = Results(quick=args.quick, events=s.events, chunk=s.chunk, durable=not args.fast)
    results.load_before = os.getloadavg()
    before = await background_cores()
    workdir = Path(tempfile.mkdtemp(prefix="cadre-bench-"))
    stack = BenchStack(workdir, fast=args.fast)
    stop = asyncio.Event()
    watcher = asyncio.create_task(_watch_load(results, stop))
    main_task = asyncio.current_task()
    assert main_task is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, main_task.cancel)  # stop the servers on TERM
    runner = Run(s, stack, results, keep_going=not args.strict, ingest_only=args.ingest_only)
    try:
        try:
            await asyncio.to_thread(stack.start)
            await runner.main(workdir)
        finally:
            await asyncio.to_thread(stack.stop)  # the county's mix is replayed on servers of its own
        if not args.ingest_only:
            results.mixed = await runner.step("replay of the demo county's mix", mixed_replay(
                workdir / "mixed", s.mixed, s.demo, s.demo // 10, CATCH_UP_S))
    finally:
        stop.set()
        await watcher
        if args.keep:
            print(f"[bench] kept {workdir}", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    results.load_after = os.getloadavg()
    results.background = (before, await background_cores())
    return results


def main(argv: list[str] | None = None) -> int:
    """Parse options, run, print the table, write the report."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--events", type=int, default=None,
                        help="ledger size to fill (default 1,000,000; --quick: 20,000); growth is measured at a "
                             "tenth of it and at all of it")
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run of under a minute")
    parser.add_argument("--output", type=Path, default=None,
                        help="where to write the report (default: BENCHMARKS.md; --quick: no file)")
    parser.add_argument("--fast", action="store_true", help="PostgreSQL with fsync off (not durable)")
    parser.add_argument("--strict", action="store_true", help="stop at the first failing step")
    parser.add_argument("--ingest-only", action="store_true", help="engines and ingest only (for tuning the writer)")
    parser.add_argument("--keep", action="store_true", help="keep the servers' data directory")
    parser.add_argument("--record-only", action="store_true",
                        help="measure nothing: replace the optimisation record in the report (--output, default "
                             "BENCHMARKS.md) with bench/rounds.py's, keeping the run's figures and profiles")
    args = parser.parse_args(argv)
    if args.record_only:
        path = args.output or Path("BENCHMARKS.md")
        try:
            path.write_text(with_record(path.read_text(encoding="utf-8")), encoding="utf-8")
        except (OSError, ValueError) as exc:
            print(f"[bench] {path}: {exc}", file=sys.stderr)
            return 2
        print(f"[bench] rewrote the optimisation record in {path}", file=sys.stderr)
        return 0
    results = asyncio.run(run(args))
    print(table_text(results))
    output = args.output or (None if args.quick else Path("BENCHMARKS.md"))
    if output is not None:
        output.write_text(render(results))
        print(f"[bench] wrote {output}", file=sys.stderr)
    return 1 if results.errors else 0


if __name__ == "__main__":
    sys.exit(main())
