"""What an operator watches on the ledger's /metrics: lag behind the stream, quarantine, checkpoint age,
and where the writer's batches spend their time.

A small poller reads the stream's last sequence from JetStream and the committed state from
PostgreSQL (read-only role), so every ledger replica, the standby included, reports the same lag.
Batch sizes and times are observed by the writer itself as it commits (`batch_metrics`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import asyncpg
import nats.errors
from nats.js import JetStreamContext
from prometheus_client import CollectorRegistry, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from shared.db import acquire

if TYPE_CHECKING:  # the background child imports this module (via backlog) and needs nothing of the writer
    from services.ledger.writer import BatchTiming

log = logging.getLogger(__name__)

BATCH_BUCKETS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000)
SECONDS_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
BATCH_PHASES = (
    ("waited", "ledger_batch_wait_seconds",
     "How long a batch's oldest message waited in the writer's inbox until the batch was taken (lingering included)"),
    ("planned", "ledger_batch_plan_seconds", "Validating, looking up and planning a batch"),
    ("queued", "ledger_batch_queue_seconds", "A planned batch waiting for the batch before it to commit"),
    ("committed", "ledger_batch_commit_seconds", "A batch's transaction"),
)
"""Each part of `BatchTiming` as the histogram that shows it: together the writer's share of the
publish-to-commit latency, batch by batch."""


def batch_metrics(registry: CollectorRegistry) -> Callable[[BatchTiming], None]:
    """The writer's batch histograms on `registry`; returns what the writer calls with each committed batch."""
    sizes = Histogram("ledger_batch_size", "Messages per committed writer batch", buckets=BATCH_BUCKETS,
                      registry=registry)
    phases = [(phase, Histogram(name, text, buckets=SECONDS_BUCKETS, registry=registry))
              for phase, name, text in BATCH_PHASES]

    def observe(timing: BatchTiming) -> None:
        sizes.observe(timing.received)
        for phase, histogram in phases:
            histogram.observe(getattr(timing, phase))

    return observe


@dataclass
class Observed:
    """The latest poll; NaN-free defaults so a scrape before the first poll reads zeros."""

    stream_last_seq: int = 0
    committed_seq: int = 0
    quarantined: int = 0
    access_rejected: int = 0
    checkpoint_at: float | None = None
    checkpoint_size: int = 0
    polled_at: float = 0.0
    witnesses: dict[str, tuple[float, int]] = field(default_factory=dict)
    """Each configured witness: when its latest cosignature was stored (0: never), and the size of the newest
    checkpoint it cosigned."""

    @property
    def lag(self) -> int:
        """Messages in the stream the ledger has not committed yet."""
        return max(0, self.stream_last_seq - self.committed_seq)

    def checkpoint_age(self) -> float:
        """Seconds since the latest signed checkpoint (-1 before the first one)."""
        return -1.0 if self.checkpoint_at is None else max(0.0, time.time() - self.checkpoint_at)


class LedgerMonitor:
    """Polls JetStream and PostgreSQL every `interval` seconds for the gauges."""

    def __init__(self, pool: asyncpg.Pool, js: JetStreamContext, stream: str, consumer: str,
                 acquire_timeout: float, interval: float = 2.0, witnesses: Sequence[str] = ()) -> None:
        self.pool = pool
        self.js = js
        self.stream = stream
        self.consumer = consumer
        self.acquire_timeout = acquire_timeout
        self.interval = interval
        self.witnesses = sorted(witnesses)
        self.observed = Observed()

    def register(self, registry: CollectorRegistry) -> None:
        """Create the gauges on `registry`."""
        seen = self.observed
        Gauge("ledger_stream_last_seq", "Last sequence in the JetStream stream",
              registry=registry).set_function(lambda: seen.stream_last_seq)
        Gauge("ledger_committed_seq", "Stream sequence the ledger has committed (consumer checkpoint)",
              registry=registry).set_function(lambda: seen.committed_seq)
        Gauge("ledger_lag_messages", "Stream messages not yet committed to the ledger (last seq - committed seq)",
              registry=registry).set_function(lambda: seen.lag)
        Gauge("ledger_quarantine_messages", "Messages in the quarantine table (all time)",
              registry=registry).set_function(lambda: seen.quarantined)
        Gauge("ledger_access_rejected_messages", "Messages of the ACCESS stream that are not access records (all time)",
              registry=registry).set_function(lambda: seen.access_rejected)
        Gauge("ledger_checkpoint_age_seconds", "Seconds since the latest signed checkpoint (-1: none yet)",
              registry=registry).set_function(seen.checkpoint_age)
        Gauge("ledger_monitor_last_poll_timestamp_seconds", "When the monitor last read the stream and database",
              registry=registry).set_function(lambda: seen.polled_at)
        registry.register(_WitnessCollector(seen))

    async def poll(self) -> None:
        """Read the stream's last sequence and the committed state once."""
        info = await asyncio.wait_for(self.js.stream_info(self.stream), 5)
        async with acquire(self.pool, self.acquire_timeout) as conn:
            row = await conn.fetchrow(
                """SELECT (SELECT stream_seq FROM consumer_checkpoint WHERE consumer = $1) AS committed,
                          (SELECT count(*) FROM quarantine) AS quarantined,
                          (SELECT count(*) FROM access_rejected) AS access_rejected,
                          (SELECT extract(epoch FROM created_at) FROM checkpoints ORDER BY id DESC LIMIT 1) AS cp_at,
                          (SELECT size FROM checkpoints ORDER BY id DESC LIMIT 1) AS cp_size""",
                self.consumer)
            witnessed = await conn.fetch(_WITNESSED, self.witnesses) if self.witnesses else []
        self.observed.stream_last_seq = int(info.state.last_seq)
        self.observed.committed_seq = int(row["committed"] or 0)
        self.observed.quarantined = int(row["quarantined"])
        self.observed.access_rejected = int(row["access_rejected"])
        self.observed.checkpoint_at = float(row["cp_at"]) if row["cp_at"] is not None else None
        self.observed.checkpoint_size = int(row["cp_size"] or 0)
        self.observed.witnesses = {w["witness"]: (float(w["at"] or 0), int(w["size"] or 0)) for w in witnessed}
        self.observed.polled_at = time.time()

    async def run(self, stop: asyncio.Event) -> None:
        """Poll until `stop`; a failed poll keeps the last values (the poll timestamp shows their age)."""
        while not stop.is_set():
            try:
                await self.poll()
            except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError, nats.errors.Error,
                    RuntimeError) as exc:
                log.warning("monitor poll failed", extra={"error": f"{type(exc).__name__}: {exc}"})
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.interval)


class _WitnessCollector(Collector):
    """Per-witness gauges from the latest poll, read at scrape time.

    A witness that stops cosigning, or falls behind, leaves the log open to a split view unnoticed: alert on
    time() - ledger_witness_last_cosigned_timestamp_seconds, or on ledger_witness_behind_leaves.
    """

    def __init__(self, seen: Observed) -> None:
        self.seen = seen

    def collect(self) -> Iterator[GaugeMetricFamily]:
        """The two gauge families, one sample per configured witness."""
        at = GaugeMetricFamily("ledger_witness_last_cosigned_timestamp_seconds", "When the ledger stored the "
                               "witness's latest cosignature or renewal (0: never)", labels=["witness"])
        behind = GaugeMetricFamily("ledger_witness_behind_leaves", "Leaves the latest checkpoint has beyond the "
                                   "newest checkpoint the witness cosigned", labels=["witness"])
        for name, (stored_at, size) in sorted(self.seen.witnesses.items()):
            at.add_metric([name], stored_at)
            behind.add_metric([name], self.seen.checkpoint_size - size)
        yield at
        yield behind


# Each configured witness ($1): when its latest cosignature or renewal was stored (an index probe on (witness,
# id)), and the size of the newest checkpoint it has a first cosignature of (renewals repeat a checkpoint, so the
# first cosignatures alone say how far it got: a probe of the index of first cosignatures by witness, migration
# 042). Taking the newest of its first cosignatures by row instead walked back over every renewal stored since,
# one per witness round while the log is idle, on every poll: 100,000 of them took 8.8-15 ms, now 0.4-0.6 ms.
_WITNESSED = """
  SELECT w.witness,
         (SELECT extract(epoch FROM s.created_at) FROM checkpoint_cosignatures s WHERE s.witness = w.witness
          ORDER BY s.id DESC LIMIT 1) AS at,
         (SELECT c.size FROM checkpoints c
          WHERE c.id = (SELECT max(s.checkpoint_id) FROM checkpoint_cosignatures s
                        WHERE s.witness = w.witness AND NOT s.renewal)) AS size
  FROM unnest($1::text[]) AS w(witness)"""
