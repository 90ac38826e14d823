"""The single ledger writer: a durable push consumer that appends batches and acks after commit.

One writer per stream at a time: a PostgreSQL advisory lock, held on the connection that also
appends, elects it. If that connection drops, the lock and any open transaction go with it, and a
standby writer takes over from the committed checkpoint.

The writer is a two-stage pipeline. While batch k commits (COPY, checkpoint, fsync, then the ack),
batch k+1 is validated, looked up (chain heads, stored event ids, on a second connection) and
planned (positions, hashes, Merkle nodes, and the signed checkpoint when one is due, which commits in
the batch's transaction) on top of batch k's plan. Commits and acks stay strictly
in order, one transaction per batch, and nothing is acked before its commit. A failed commit ends
the leadership: everything planned but not committed is dropped and the next election starts over
from the database. PostgreSQL silent for longer than `pg_timeout` (CADRE_WRITER_PG_TIMEOUT_S) on any statement
ends it too (`sessions.SessionCut`): a session cut on the way (a failover, a network that drops packets) otherwise held
the writer inside its batch until TCP gave up, many minutes later. A batch PostgreSQL refuses for what it holds
(a value it cannot store) is read again one message per batch, and the message it refuses alone is
quarantined as `unstorable` (`refusals`): one bad message never holds up the ones behind it. JetStream pushes
messages to the writer (nats-py's pull `fetch` costs more per message than validating it); `max_ack_pending` bounds
how far delivery runs ahead of the commits.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass

import asyncpg
import nats.errors
import nats.js.errors
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from services.ledger import sessions, store, tree
from services.ledger.checkpointing import CheckpointPolicy
from services.ledger.domain import BatchPlan, ChainHead, StreamMessage, cadres, classify, event_ids, plan_batch
from services.ledger.inbox import Inbox, stream_seq
from services.ledger.refusals import UNSTORABLE, Refusals
from services.ledger.tree import SignedCheckpoint
from shared.merkle import CompactRange

log = logging.getLogger(__name__)

WRITER = "cadre-ledger-writer"  # the application_name of its connections
HEAD_CACHE_LIMIT = 500_000
# Messages validated between two yields to the event loop. The batch before this one commits meanwhile, and
# each of its round trips waits for the next yield: with 100, a live batch (under 100 messages) was planned
# without one, and its commit took 30 against 23-32 ms at 4,000 events/s (interleaved, ninth round).
CLASSIFY_SLICE = 25
FLOW_CONTROL_HEARTBEAT_S = 5.0
"""How long the consumer stays silent before it sends a heartbeat, which names a flow control request still
unanswered (JetStream requires heartbeats with flow control)."""


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
    rechecked: int = 0  # batches read again because they held an event id already stored
    last_error: str | None = None


@dataclass(frozen=True, slots=True)
class BatchTiming:
    """Where a committed batch's time went, in seconds: the parts of its events' publish-to-commit latency
    that the writer spends (the `ledger_batch_*` histograms)."""

    received: int  # stream messages in the batch
    waited: float  # its oldest message, in the writer's inbox until the batch was taken (lingering included)
    planned: float  # validating, looking up and planning it (the commit before it runs meanwhile)
    queued: float  # then waiting for the batch before it to commit
    committed: float  # its transaction


@dataclass
class _Planned:
    """A batch planned on top of the batches before it, waiting for (or in) its commit."""

    plan: BatchPlan
    nodes: list[tuple[int, int, bytes]]
    tree: CompactRange
    checkpoint: SignedCheckpoint | None  # stored with the batch when one is due
    last: Msg
    received: int
    waited: float = 0.0  # the parts of BatchTiming known before the commit, set by the loop that plans it
    planned: float = 0.0
    queued: float = 0.0


class LedgerWriter:
    """Consumes the stream and appends to the ledger until `stop` is set."""

    def __init__(self, *, dsn: str, nc: NATS, stream: str, consumer: str, batch_size: int, backlog_batch_size: int,
                 checkpoints: CheckpointPolicy, fetch_timeout: float = 1.0, linger: float = 0.0,
                 pg_timeout: float = 30.0, exit_after_commits: int | None = None,
                 on_batch: Callable[[BatchTiming], None] | None = None) -> None:
        self.dsn = dsn
        self.pg_timeout = pg_timeout
        self.nc = nc
        self.js = nc.jetstream()
        self.stream = stream
        self.consumer = consumer
        self.batch_size = batch_size
        # Larger batches only for a backlog: they drain it with fewer transactions, but every event in a batch
        # waits for all of it to be planned and committed (measured at 8,000 events/s on 2 cores: publish to
        # commit p99 about 190 ms with batches of up to 1000, 330 ms with up to 3000).
        self.backlog_batch_size = max(batch_size, backlog_batch_size)
        self.fetch_timeout = fetch_timeout
        self.linger = linger
        self.status = WriterStatus()
        self._heads: dict[str, ChainHead] = {}
        self._exit_after_commits = exit_after_commits
        self.checkpoints = checkpoints
        self._tree = CompactRange()  # the tree as planned (may run one batch ahead of the commits)
        self._committed_tree = CompactRange()
        self._planned_seq = 0
        self._planned_position = 0
        self._on_batch = on_batch
        # Batches look their event ids up among stored events only up to this stream sequence: a late duplicate
        # (outside JetStream's de-duplication window) is rare, and the unique event id catches it anyway.
        self._look_up_until = 0
        self._refusals = Refusals()

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
        conn = await sessions.connect(self.dsn, WRITER, self.pg_timeout,
                                      **sessions.server_gives_up(self.pg_timeout))
        reader: asyncpg.Connection | None = None
        try:
            checkpoint_seq = await self._elect(conn, stop)
            if checkpoint_seq is not None:
                # Lookups for the next batch run beside the current commit, so on their own connection.
                reader = await sessions.connect(self.dsn, f"{WRITER}-lookups", self.pg_timeout)
                inbox = Inbox(self._answer_flow_control)
                sub = await self._subscribe(checkpoint_seq, inbox)
                try:
                    await self._consume(conn, reader, inbox, stop)
                finally:
                    with contextlib.suppress(nats.errors.Error):
                        await sub.unsubscribe()
        except BaseException:
            sessions.end([reader, conn])
            raise
        # The session holding the writer lock first: a close that fails ends its session all the same (asyncpg aborts
        # it), but raises, and a lock left to the garbage collector would keep the next election waiting.
        try:
            await conn.close(timeout=5)
        finally:
            if reader is not None:
                await reader.close(timeout=5)

    async def _elect(self, conn: asyncpg.Connection, stop: asyncio.Event) -> int | None:
        """Wait for the writer lock, then load where the ledger stands; the committed stream sequence to consume
        after, or None when `stop` was set first."""
        with sessions.answered(self.pg_timeout):
            while not await conn.fetchval("SELECT pg_try_advisory_lock($1)", writer_lock_key(self.stream)):
                if await _sleep_or_stop(stop, 1.0):
                    return None
            self.status.is_leader = True
            self._heads.clear()
            checkpoint_seq, position = await store.load_checkpoint(conn, self.consumer)
            self.status.last_stream_seq, self.status.last_position = checkpoint_seq, position
            self._planned_seq, self._planned_position = checkpoint_seq, position
            self._tree = await tree.backfill(conn, position)
            self._committed_tree = self._tree
            await self.checkpoints.resume(conn)
        log.info("writer elected", extra={"stream_seq": checkpoint_seq, "position": position})
        return checkpoint_seq

    async def _consume(self, conn: asyncpg.Connection, reader: asyncpg.Connection, inbox: Inbox,
                       stop: asyncio.Event) -> None:
        """Plan batch k+1 while batch k commits; return to re-create the consumer after a sequence gap or a
        batch that held a stored event id."""
        committing: asyncio.Task[bool] | None = None
        in_flight: BatchPlan | None = None
        idle = 0
        try:
            while not stop.is_set():
                one_by_one = self._refusals.one_by_one(self._planned_seq)
                msgs = await inbox.take(1 if one_by_one else self.batch_size,
                                        1 if one_by_one else self.backlog_batch_size, self.fetch_timeout, self.linger)
                if not msgs:
                    if committing is not None:
                        if not await committing:
                            return
                        committing, in_flight = None, None
                    with sessions.answered(self.pg_timeout):
                        await self.checkpoints.maybe_sign(conn, self._committed_tree)
                    idle += 1
                    if idle % 10 == 0:
                        await self._check_consumer()
                        await sessions.check(conn)
                    continue
                idle = 0
                taken_at = time.perf_counter()
                planned = await self._plan(reader, msgs, in_flight)
                planned_at = time.perf_counter()
                if committing is not None and not await committing:
                    return
                planned.waited, planned.planned = inbox.waited, planned_at - taken_at
                planned.queued = time.perf_counter() - planned_at
                committing = asyncio.create_task(self._commit(conn, planned))
                in_flight = planned.plan
                await asyncio.sleep(0)  # let the commit start writing before the next batch is planned
                if planned.plan.gap_after is not None:
                    await committing
                    return  # out-of-order delivery: re-elect, which re-creates the consumer
            if committing is not None:
                await committing
        finally:
            if committing is not None and not committing.done():
                # Only a failure leaves a commit running. Its session is ended rather than asked to roll back, which
                # on a session cut on the way would wait `pg_timeout` again; the server rolls back what it began.
                conn.terminate()
                committing.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await committing

    async def _subscribe(self, checkpoint_seq: int, inbox: Inbox) -> Subscription:
        """(Re)create the durable consumer to push from right after the committed checkpoint.

        The database, not the consumer's ack floor, is the truth: a previous writer's unacked
        messages would otherwise come back only after ack_wait, behind newer ones. Each election
        delivers to a fresh inbox, so nothing of a previous consumer reaches this one.
        """
        with contextlib.suppress(nats.js.errors.NotFoundError):
            await asyncio.wait_for(self.js.delete_consumer(self.stream, self.consumer), 5)
        deliver = self.nc.new_inbox()
        sub = await self.nc.subscribe(deliver, cb=inbox.on_msg)
        await asyncio.wait_for(self.js.add_consumer(self.stream, ConsumerConfig(
            durable_name=self.consumer, deliver_subject=deliver, ack_policy=AckPolicy.ALL, ack_wait=30,
            max_deliver=-1, max_ack_pending=3 * self.backlog_batch_size,
            deliver_policy=DeliverPolicy.BY_START_SEQUENCE, opt_start_seq=checkpoint_seq + 1,
            flow_control=True, idle_heartbeat=FLOW_CONTROL_HEARTBEAT_S, description="cadre-ledger writer")), 5)
        return sub

    async def _answer_flow_control(self, subject: str) -> None:
        """Let the consumer push its next window (`Inbox`); a lost answer is asked again by the next heartbeat."""
        with contextlib.suppress(nats.errors.Error):
            await self.nc.publish(subject, b"")

    async def _check_consumer(self) -> None:
        """While idle: the consumer must still exist (else raise, and the next election re-creates it)."""
        try:
            await asyncio.wait_for(self.js.consumer_info(self.stream, self.consumer), 5)
        except nats.js.errors.NotFoundError as exc:
            raise RuntimeError("the writer's consumer disappeared") from exc

    async def _plan(self, reader: asyncpg.Connection, msgs: list[Msg], in_flight: BatchPlan | None) -> _Planned:
        """Validate, look up and plan a batch on top of the planned (maybe not yet committed) one."""
        messages = sorted((StreamMessage(stream_seq(m.reply), m.subject, m.data, m.headers or {}) for m in msgs),
                          key=lambda m: m.stream_seq)
        batch = []
        for i in range(0, len(messages), CLASSIFY_SLICE):
            batch += classify(messages[i:i + CLASSIFY_SLICE])
            await asyncio.sleep(0)  # let the commit in flight answer PostgreSQL, ack and sign meanwhile
        missing = cadres(batch) - self._heads.keys()
        looked_up = bool(messages) and messages[0].stream_seq <= self._look_up_until
        with sessions.answered(self.pg_timeout):
            if missing:
                self._heads.update(await store.load_heads(reader, missing))
            stored = await store.load_stored_ids(reader, event_ids(batch)) if looked_up else {}
        if in_flight is not None:  # not visible to the reader until it commits
            stored.update({e.event_id: e.stream_seq for e in in_flight.events})
        plan = plan_batch(batch, checkpoint_seq=self._planned_seq, next_position=self._planned_position + 1,
                          heads=self._heads, stored_ids=stored, unstorable=self._refusals.unstorable)
        grown = CompactRange.from_frontier(self._tree.size, self._tree.frontier)
        nodes = grown.extend((e.leaf_hash for e in plan.events), with_leaves=False)  # leaves are the rows'
        if len(self._heads) > HEAD_CACHE_LIMIT:
            self._heads.clear()  # the heads of a batch still committing come back with the update below
            if in_flight is not None:
                self._heads.update(in_flight.heads)
        self._heads.update(plan.heads)
        self._tree = grown
        self._planned_seq, self._planned_position = plan.last_stream_seq, plan.next_position - 1
        signs = bool(plan.events) and self._refusals.may_sign(plan.last_stream_seq)
        checkpoint = self.checkpoints.plan(grown) if signs else None
        return _Planned(plan, nodes, grown, checkpoint, msgs[-1], len(msgs))

    async def _commit(self, conn: asyncpg.Connection, planned: _Planned) -> bool:
        """Append one planned batch, then ack it; False when the stream must be read again from the committed
        checkpoint: delivery skipped a sequence (nothing past it is acked), or the batch held an event id
        already stored (nothing of it was written)."""
        plan = planned.plan
        checkpoint_id = None
        began = time.perf_counter()
        if plan.events or plan.quarantined:
            try:
                with sessions.answered(self.pg_timeout):
                    checkpoint_id = await store.append(conn, self.consumer, plan, planned.nodes, planned.checkpoint)
            except asyncpg.UniqueViolationError as exc:
                if exc.constraint_name != store.EVENT_ID_KEY:
                    raise
                # Nothing of the batch was written or acked: read again from the committed checkpoint, this
                # time looking the ids up, so the duplicate is quarantined and the rest appended.
                self._look_up_until = plan.last_stream_seq
                self.status.rechecked += 1
                log.info("an event id already in the ledger arrived again; re-reading the batch with lookups",
                         extra={"stream_seq": plan.last_stream_seq})
                return False
            except UNSTORABLE as exc:
                self._refusals.refused([e.stream_seq for e in plan.events] + [q.stream_seq for q in plan.quarantined],
                                       plan.last_stream_seq, planned.checkpoint is not None, exc)
                return False
            if self._exit_after_commits is not None and self.status.batches + 1 >= self._exit_after_commits:
                os._exit(137)  # fault injection: die between commit and ack, as kill -9 would
        self._committed_tree = planned.tree
        self._refusals.committed(plan.last_stream_seq, appended=bool(plan.events))
        self.status.last_stream_seq = plan.last_stream_seq
        self.status.last_position = plan.next_position - 1
        self.status.appended += len(plan.events)
        self.status.quarantined += len(plan.quarantined)
        self.status.redelivered += plan.redelivered
        self.status.batches += 1
        if self._on_batch is not None:
            self._on_batch(BatchTiming(planned.received, planned.waited, planned.planned, planned.queued,
                                       time.perf_counter() - began))
        for q in plan.quarantined:
            log.warning("message quarantined", extra={
                "event_id": q.headers.get("Nats-Msg-Id"), "stream_seq": q.stream_seq, "subject": q.nats_subject,
                "cadre_id": q.cadre_id, "reason": q.reason, "detail": q.detail})
        if log.isEnabledFor(logging.DEBUG):  # per-event lines cost at full speed; only when asked for
            for e in plan.events:
                log.debug("event appended", extra={
                    "event_id": str(e.event_id), "subject": f"cadre.{e.county}.{e.cadre_id}", "position": e.position,
                    "stream_seq": e.stream_seq, "type": e.type, "cadre_version": e.cadre_version})
        if plan.gap_after is None:
            await planned.last.ack()  # AckPolicy.ALL: acknowledges the whole batch, only after commit
        if planned.checkpoint is not None and checkpoint_id is not None:
            self.checkpoints.publish_soon(planned.checkpoint.stored_as(checkpoint_id))
        if plan.gap_after is not None:
            log.warning("stream delivered out of order; re-creating the consumer", extra={"after": plan.gap_after})
            return False
        return True


async def _sleep_or_stop(stop: asyncio.Event, seconds: float) -> bool:
    """Sleep up to `seconds`; True when `stop` was set meanwhile."""
    try:
        await asyncio.wait_for(stop.wait(), seconds)
        return True
    except TimeoutError:
        return False
