"""The single ledger writer: a durable pull consumer that appends batches and acks after commit.

One writer per stream at a time: a PostgreSQL advisory lock, held on the connection that also
appends, elects it. If that connection drops, the lock and any open transaction go with it, and a
standby writer takes over from the committed checkpoint.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field

import asyncpg
import nats.errors
import nats.js.errors
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from services.ledger import store, tree
from services.ledger.checkpointing import CheckpointPolicy
from services.ledger.domain import ChainHead, StreamMessage, cadres, classify, event_ids, plan_batch
from shared.merkle import CompactRange

log = logging.getLogger(__name__)

HEAD_CACHE_LIMIT = 500_000


def writer_lock_key(stream: str) -> int:
    """The advisory lock id electing the writer of `stream` (a signed 64-bit int)."""
    return int.from_bytes(hashlib.sha256(f"cadre-ledger writer {stream}".encode()).digest()[:8], "big", signed=True)


@dataclass
class WriterStatus:
    """What the writer has done, for readiness and metrics."""

    is_leader: bool = False
    last_stream_seq: int = 0
    last_position: int = 0
    appended: int = 0
    quarantined: int = 0
    redelivered: int = 0
    batches: int = 0
    last_error: str | None = None
    batch_sizes: list[int] = field(default_factory=list)


class LedgerWriter:
    """Consumes the stream and appends to the ledger until `stop` is set."""

    def __init__(self, *, dsn: str, nc: NATS, stream: str, consumer: str, batch_size: int,
                 checkpoints: CheckpointPolicy, fetch_timeout: float = 1.0,
                 exit_after_commits: int | None = None, on_batch: Callable[[int], None] | None = None) -> None:
        self.dsn = dsn
        self.nc = nc
        self.js = nc.jetstream()
        self.stream = stream
        self.consumer = consumer
        self.batch_size = batch_size
        self.fetch_timeout = fetch_timeout
        self.status = WriterStatus()
        self._heads: dict[str, ChainHead] = {}
        self._exit_after_commits = exit_after_commits
        self.checkpoints = checkpoints
        self._tree = CompactRange()
        self._on_batch = on_batch

    async def run(self, stop: asyncio.Event) -> None:
        """Lead when elected, retry after any failure, return when `stop` is set."""
        while not stop.is_set():
            try:
                await self._lead(stop)
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, nats.errors.Error,
                    TimeoutError) as exc:
                self.status.last_error = f"{type(exc).__name__}: {exc}"
                log.warning("writer interrupted, retrying", extra={"error": self.status.last_error})
            except Exception as exc:  # the writer must outlive any surprise; nothing is acked before commit
                self.status.last_error = f"{type(exc).__name__}: {exc}"
                log.exception("writer failed unexpectedly, re-electing", extra={"error": self.status.last_error})
            finally:
                self.status.is_leader = False
            if not stop.is_set():
                await _sleep_or_stop(stop, 1.0)

    async def _lead(self, stop: asyncio.Event) -> None:
        conn: asyncpg.Connection = await asyncpg.connect(self.dsn, timeout=5)
        try:
            while not await conn.fetchval("SELECT pg_try_advisory_lock($1)", writer_lock_key(self.stream)):
                if await _sleep_or_stop(stop, 1.0):
                    return
            self.status.is_leader = True
            self._heads.clear()
            checkpoint_seq, position = await store.load_checkpoint(conn, self.consumer)
            self.status.last_stream_seq, self.status.last_position = checkpoint_seq, position
            self._tree = await tree.backfill(conn, position)
            await self.checkpoints.resume(conn)
            log.info("writer elected", extra={"stream_seq": checkpoint_seq, "position": position})
            sub = await self._subscribe(checkpoint_seq)
            try:
                while not stop.is_set():
                    try:
                        msgs = await sub.fetch(self.batch_size, timeout=self.fetch_timeout)
                    except (TimeoutError, nats.errors.TimeoutError):
                        msgs = []
                    if not msgs:  # nothing new (a fetch can also come back empty after a reconnect)
                        await self.checkpoints.maybe_sign(conn, self._tree)
                        continue
                    if not await self._append(conn, msgs):
                        return  # out-of-order delivery: re-elect, which re-creates the consumer
                    await self.checkpoints.maybe_sign(conn, self._tree)
            finally:
                await sub.unsubscribe()
        finally:
            await conn.close(timeout=5)

    async def _subscribe(self, checkpoint_seq: int) -> nats.js.JetStreamContext.PullSubscription:
        """(Re)create the durable consumer to start right after the committed checkpoint.

        The database, not the consumer's ack floor, is the truth: a previous writer's unacked
        messages would otherwise come back only after ack_wait, behind newer ones.
        """
        with contextlib.suppress(nats.js.errors.NotFoundError):
            await asyncio.wait_for(self.js.delete_consumer(self.stream, self.consumer), 5)
        await asyncio.wait_for(self.js.add_consumer(self.stream, ConsumerConfig(
            durable_name=self.consumer, ack_policy=AckPolicy.ALL, ack_wait=30, max_deliver=-1,
            max_ack_pending=-1, filter_subject="cadre.>", deliver_policy=DeliverPolicy.BY_START_SEQUENCE,
            opt_start_seq=checkpoint_seq + 1, description="cadre-ledger writer")), 5)
        return await self.js.pull_subscribe_bind(self.consumer, self.stream)

    async def _append(self, conn: asyncpg.Connection, msgs: list[Msg]) -> bool:
        """Append one fetched batch; False when delivery skipped a sequence (nothing past it is acked)."""
        batch = classify([StreamMessage(m.metadata.sequence.stream, m.subject, m.data, dict(m.headers or {}))
                          for m in msgs])
        missing = cadres(batch) - self._heads.keys()
        if missing:
            self._heads.update(await store.load_heads(conn, missing))
        stored = await store.load_stored_ids(conn, event_ids(batch))
        plan = plan_batch(batch, checkpoint_seq=self.status.last_stream_seq,
                          next_position=self.status.last_position + 1, heads=self._heads, stored_ids=stored)
        if plan.events or plan.quarantined:
            grown = CompactRange.from_frontier(self._tree.size, self._tree.frontier)
            nodes = grown.extend(e.leaf_hash for e in plan.events)
            await store.append(conn, self.consumer, plan, nodes)
            self._tree = grown
            if self._exit_after_commits is not None and self.status.batches + 1 >= self._exit_after_commits:
                os._exit(137)  # fault injection: die between commit and ack, as kill -9 would
        if len(self._heads) > HEAD_CACHE_LIMIT:
            self._heads.clear()
        self._heads.update(plan.heads)
        self.status.last_stream_seq = plan.last_stream_seq
        self.status.last_position = plan.next_position - 1
        self.status.appended += len(plan.events)
        self.status.quarantined += len(plan.quarantined)
        self.status.redelivered += plan.redelivered
        self.status.batches += 1
        if self._on_batch is not None:
            self._on_batch(len(msgs))
        for q in plan.quarantined:
            log.warning("message quarantined", extra={
                "event_id": q.headers.get("Nats-Msg-Id"), "stream_seq": q.stream_seq, "subject": q.nats_subject,
                "cadre_id": q.cadre_id, "reason": q.reason, "detail": q.detail})
        if log.isEnabledFor(logging.DEBUG):  # per-event lines cost at full speed; only when asked for
            for e in plan.events:
                log.debug("event appended", extra={
                    "event_id": str(e.event_id), "subject": f"cadre.{e.county}.{e.cadre_id}", "position": e.position,
                    "stream_seq": e.stream_seq, "type": e.type, "cadre_version": e.cadre_version})
        if plan.gap_after is not None:
            log.warning("stream delivered out of order; re-creating the consumer", extra={"after": plan.gap_after})
            return False
        await msgs[-1].ack()  # AckPolicy.ALL: acknowledges the whole batch, only after commit
        return True


async def _sleep_or_stop(stop: asyncio.Event, seconds: float) -> bool:
    """Sleep up to `seconds`; True when `stop` was set meanwhile."""
    try:
        await asyncio.wait_for(stop.wait(), seconds)
        return True
    except TimeoutError:
        return False
