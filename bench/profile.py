"""Why a figure is what it is: py-spy samples of a running process, and cProfile of the writer's pure path."""

from __future__ import annotations

import asyncio
import cProfile
import pstats
import re
import shutil
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from bench.workload import EventFactory, Layout
from services.ledger.domain import ChainHead, StreamMessage, classify, plan_batch
from shared.merkle import CompactRange

_FRAME = re.compile(r"^(?P<func>.*) \((?P<file>[^():]+)(?::\d+)?\)$")


@dataclass
class Profile:
    """Where a process spent its on-CPU samples."""

    samples: int = 0
    seconds: float = 0.0
    rate: int = 0
    own: list[tuple[str, float]] = field(default_factory=list)
    inclusive: list[tuple[str, float]] = field(default_factory=list)
    error: str | None = None

    @property
    def busy(self) -> float:
        """Fraction of one core the sampled process's Python threads were on CPU."""
        return self.samples / (self.seconds * self.rate) if self.seconds and self.rate else 0.0


def py_spy() -> str | None:
    """The py-spy executable next to this interpreter, or on PATH."""
    beside = Path(sys.executable).with_name("py-spy")
    return str(beside) if beside.exists() else shutil.which("py-spy")


async def record(pid: int, seconds: float, out: Path, rate: int = 100) -> Profile:
    """Sample `pid` for `seconds` (non-blocking, so the process is not paused) and summarise."""
    exe = py_spy()
    if exe is None:
        return Profile(error="py-spy not installed")
    proc = await asyncio.create_subprocess_exec(
        exe, "record", "--pid", str(pid), "--duration", str(max(int(seconds), 1)), "--rate", str(rate),
        "--format", "raw", "--nonblocking", "-o", str(out), stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE)
    _, err = await proc.communicate()
    if proc.returncode != 0:
        return Profile(error=f"py-spy failed: {err.decode(errors='replace').strip()[-300:]}")
    return summarise(out, max(int(seconds), 1), rate)


_ROOT = f"{Path(__file__).resolve().parents[1]}/"


def _label(frame: str) -> str:
    match = _FRAME.match(frame.strip())
    if not match:
        return frame.strip()
    path = match["file"]
    for marker in ("site-packages/", _ROOT, "lib/python3"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    return f"{match['func']} ({path})"


def summarise(path: Path, seconds: float, rate: int, top: int = 14) -> Profile:
    """Own and inclusive sample shares per function from py-spy's collapsed stacks."""
    if not path.exists():
        return Profile(seconds=seconds, rate=rate, error="py-spy wrote nothing")
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [_label(f) for f in stack.split(";")]
        total += count
        own[frames[-1]] += count
        for name in set(frames):
            inclusive[name] += count
    if not total:
        return Profile(seconds=seconds, rate=rate, error="no samples")
    share = [(name, n / total) for name, n in own.most_common(top)]
    ours = [(name, n / total) for name, n in inclusive.most_common()
            if name.split(" (", 1)[-1].startswith(("services/", "shared/", "bench/")) and n / total >= 0.02][:top]
    return Profile(samples=total, seconds=seconds, rate=rate, own=share, inclusive=ours)


@dataclass
class PurePath:
    """The writer's CPU cost per event without I/O: classify, plan (hashes, chain), Merkle nodes."""

    us_per_event: float
    parse_share: float
    top: list[tuple[str, float]]


def pure_path(events: int = 20_000, batch: int = 1000) -> PurePath:
    """cProfile and time classify -> plan_batch -> CompactRange.extend over `events` messages."""
    layout = Layout(chunk=events)
    factory = EventFactory()
    now = datetime.now(UTC)
    messages = []
    for i in range(events):
        cadre, k = layout.cadre(i)
        e = factory.make(cadre, k, now)
        messages.append(StreamMessage(i + 1, e.subject, e.payload, e.headers))

    def run() -> None:
        heads: dict[str, ChainHead] = {}
        tree = CompactRange()
        position = 1
        for i in range(0, events, batch):
            plan = plan_batch(classify(messages[i:i + batch]), checkpoint_seq=i, next_position=position,
                              heads=heads, stored_ids={})
            tree.extend((e.leaf_hash for e in plan.events), with_leaves=False)
            heads.update(plan.heads)
            position = plan.next_position

    started = time.perf_counter()
    run()
    elapsed = time.perf_counter() - started
    profiler = cProfile.Profile()
    profiler.runcall(run)
    stats = pstats.Stats(profiler)
    total = sum(v[2] for v in stats.stats.values())  # type: ignore[attr-defined]
    rows = sorted(stats.stats.items(), key=lambda kv: kv[1][3], reverse=True)  # type: ignore[attr-defined]
    top: list[tuple[str, float]] = []
    parse = 0.0
    for (file, _, func), (_, _, _, cumulative, _) in rows:
        if func == "parse_event":
            parse = cumulative
        if file.startswith(_ROOT) or "site-packages" in file or file.startswith("~"):
            label = f"{func} ({file.removeprefix(_ROOT).split('site-packages/')[-1]})"
            if len(top) < 12 and func not in ("run", "<lambda>"):
                top.append((label, cumulative / total if total else 0.0))
    whole = next((v[3] for (f, _, fn), v in rows if fn == "run"), total)
    return PurePath(elapsed / events * 1e6, parse / whole if whole else 0.0, top)
