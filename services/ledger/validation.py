"""Validating the writer's batches beside it: in worker processes, or on the writer's own thread.

The writer is one Python thread, and validating an event (JSON, the pydantic envelope and data, the
canonical bytes, the leaf hash) was a third of its CPU: the drain stopped where that thread did, with
part of the second core idle. A worker process validates batch k+1 while the writer's thread
commits batch k and takes the messages of batch k+2; what crosses the process boundary is plain
values (a message's bytes and subject one way, the checked event's fields or the rejection's
reason the other), about a microsecond per event to pickle and less to unpickle, against about 13
of validation. The outcome is the same either way (`domain.classify` is the one definition of it);
a worker that dies is replaced, and its batch is validated on the writer's thread instead, so no
message waits on a broken pool.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from asyncpg.pgproto.pgproto import UUID

from services.ledger.domain import CheckedEvent, Classified, StreamMessage, check, classify
from shared.collector import tune_collector
from shared.envelope import InvalidEvent

log = logging.getLogger(__name__)

# Messages validated on the writer's thread between two yields to the event loop. The batch before this one
# commits meanwhile, and each of its round trips waits for the next yield: with 100, a live batch (under 100
# messages) was planned without one, and its commit took 30 against 23-32 ms at 4,000 events/s (interleaved,
# ninth round).
CLASSIFY_SLICE = 25
ORPHAN_CHECK_S = 0.5

Outcome = tuple[Any, ...]
"""A message's outcome as a worker returns it: (reason, detail) of a rejection, or a checked event's fields
with the id as its 16 bytes (asyncpg's UUID is made from them faster than pickle rebuilds a uuid.UUID)."""


def _start_worker(parent: int) -> None:
    # Ctrl-C reaches the whole process group; the ledger stops its workers itself.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    tune_collector()
    threading.Thread(target=_exit_with, args=(parent,), name="orphan-watch", daemon=True).start()


def _exit_with(parent: int) -> None:
    # A worker holds both ends of its task queue's pipe, so a ledger killed with -9 (or by the fault injection's
    # os._exit) would leave it waiting forever: it leaves as soon as its parent is gone.
    while os.getppid() == parent:
        time.sleep(ORPHAN_CHECK_S)
    os._exit(0)


def _ready() -> bool:
    return True


def check_all(items: list[tuple[bytes, str]]) -> list[Outcome]:
    """In a worker: each (bytes, subject)'s outcome, as plain values."""
    out: list[Outcome] = []
    for data, subject in items:
        try:
            e = check(data, subject)
        except InvalidEvent as exc:
            out.append((exc.reason, exc.detail))
        else:
            out.append((e.id.bytes, e.cadre_id, e.county, e.type, e.occurred_on, e.recorded_at, e.ruleset,
                        e.canonical, e.leaf_hash))
    return out


def _classified(msg: StreamMessage, outcome: Outcome) -> Classified:
    if len(outcome) == 2:
        return Classified(msg, None, InvalidEvent(*outcome))
    return Classified(msg, CheckedEvent(UUID(outcome[0]), *outcome[1:]), None)


class Validator:
    """Classifies batches of stream messages with `workers` processes (0: on the calling thread)."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self._pool: ProcessPoolExecutor | None = None

    def start(self) -> None:
        """Start the workers now (spawning and importing takes about a second) rather than on the first batch."""
        if self.workers and self._pool is None:
            self._pool = ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("spawn"),
                                             initializer=_start_worker, initargs=(os.getpid(),))
            for _ in range(self.workers):
                self._pool.submit(_ready)

    def close(self) -> None:
        """Stop the workers (batches being validated are abandoned: nothing of them was committed or acked)."""
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    async def classify(self, messages: Sequence[StreamMessage]) -> list[Classified]:
        """Every message's outcome, in stream order, as `domain.classify` decides it."""
        ordered = sorted(messages, key=lambda m: m.stream_seq)
        if not self.workers or not ordered:
            return await self._here(ordered)
        self.start()
        assert self._pool is not None
        pool = self._pool
        loop = asyncio.get_running_loop()
        size = -(-len(ordered) // self.workers)
        parts = [ordered[i:i + size] for i in range(0, len(ordered), size)]
        try:
            outcomes = await asyncio.gather(*(loop.run_in_executor(pool, check_all, [(m.data, m.subject) for m in part])
                                              for part in parts))
        except BrokenProcessPool:
            log.warning("a validation worker died; starting new ones, and this batch is validated by the writer")
            pool.shutdown(wait=False, cancel_futures=True)
            if self._pool is pool:
                self._pool = None
            return await self._here(ordered)
        return [_classified(msg, outcome) for part, done in zip(parts, outcomes, strict=True)
                for msg, outcome in zip(part, done, strict=True)]

    @staticmethod
    async def _here(ordered: list[StreamMessage]) -> list[Classified]:
        batch: list[Classified] = []
        for i in range(0, len(ordered), CLASSIFY_SLICE):
            batch += classify(ordered[i:i + CLASSIFY_SLICE])
            await asyncio.sleep(0)  # let the commit in flight answer PostgreSQL, ack and sign meanwhile
        return batch
