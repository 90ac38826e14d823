"""The load generator's publisher: acknowledged JetStream publishing at half the CPU of nats-py's `publish_async`.

JetStream acknowledges a message by answering on its reply subject. nats-py's `publish_async` gives every
message a future, two done callbacks, a random token (`os.urandom`) and a semaphore permit, and builds a
`PubAck` object from each answer: 46 us of the publishing process's CPU per 470-byte event against 25 us
here (a loop of 100,000 events on this machine, the event's making included), and 21,000 against 37,000
acknowledged events/s. The publisher shares the benchmark's 2 cores with the ledger, so what it spends is
taken from the system under test: here each event gets a reply subject of its own under one inbox, and one
subscription takes every answer. Semantics are those of `publish_async`: at most `window` messages
unacknowledged, every answer checked (a JetStream error or no stream answering is an error), the stream
sequence of each kept.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import time
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

import orjson
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg

from bench.workload import PUBLISH_PENDING, Event, EventFactory, Layout, connect


class Publisher:
    """Acknowledged publishing over one NATS connection: `publish`, then `completed` to wait for every answer.

    `sent`: (publish time, stream sequence) of every acknowledged event published with a time.
    """

    def __init__(self, nc: NATS, window: int = PUBLISH_PENDING) -> None:
        self.nc = nc
        self.sent: list[tuple[float, int]] = []
        self.last_seq = 0
        self.error: str | None = None
        self._window = asyncio.Semaphore(window)
        self._inbox = ""
        self._next = 0
        self._times: dict[int, float] = {}
        self._pending = 0
        self._idle = asyncio.Event()
        self._idle.set()

    @classmethod
    async def open(cls, url: str, window: int = PUBLISH_PENDING) -> Publisher:
        """Connect (the CADRE stream exists afterwards) and subscribe to the answers."""
        nc, _ = await connect(url)
        publisher = cls(nc, window)
        publisher._inbox = nc.new_inbox() + "."
        await nc.subscribe(publisher._inbox + "*", cb=publisher._on_answer, pending_msgs_limit=4 * window)
        return publisher

    async def publish(self, event: Event, at: float | None = None) -> None:
        """Send one event (waiting while `window` are unacknowledged); `at`: its publish time, kept in `sent`."""
        await self._window.acquire()
        n = self._next
        self._next += 1
        if at is not None:
            self._times[n] = at
        self._pending += 1
        self._idle.clear()
        await self.nc.publish(event.subject, event.payload, reply=self._inbox + str(n), headers=event.headers)

    async def _on_answer(self, msg: Msg) -> None:
        n = int(msg.subject[len(self._inbox):])
        at = self._times.pop(n, None)
        try:
            answer: Any = orjson.loads(msg.data) if msg.data else {"error": f"no stream answered: {msg.headers}"}
        except orjson.JSONDecodeError:
            answer = None
        seq = answer.get("seq") if isinstance(answer, dict) and "error" not in answer else None
        if isinstance(seq, int):
            self.last_seq = max(self.last_seq, seq)
            if at is not None:
                self.sent.append((at, seq))
        else:  # an error, or not a JetStream answer at all: either way the event is not known to be stored
            self.error = self.error or f"message {n}: {answer if answer is not None else msg.data[:100]!r}"
        self._pending -= 1
        if not self._pending:
            self._idle.set()
        self._window.release()

    async def completed(self, timeout: float = 60) -> None:
        """Wait for every answer; raise if one was an error."""
        await asyncio.wait_for(self._idle.wait(), timeout)
        if self.error is not None:
            raise RuntimeError(f"a publish was not acknowledged: {self.error}")

    async def close(self) -> None:
        """Close the connection (without waiting for answers: `completed` does)."""
        await self.nc.close()


async def publish_all(url: str, events: Iterable[Event]) -> tuple[int, float, int]:
    """Publish every event and wait for the acknowledgements; returns (count, seconds, last stream seq)."""
    publisher = await Publisher.open(url)
    try:
        started = time.perf_counter()
        count = 0
        for event in events:
            await publisher.publish(event)
            count += 1
        await publisher.completed()
        return count, time.perf_counter() - started, publisher.last_seq
    finally:
        await publisher.close()


async def publish_paced(url: str, layout: Layout, factory: EventFactory, start: int, rate: float,
                        seconds: float) -> list[tuple[float, int]]:
    """Publish at `rate` events/s for `seconds`, in 5 ms ticks; returns (publish time, stream sequence) per event.

    This is the load generator, not the system under test, so it runs without CPython's cyclic
    collector (reference counting still frees what it makes), and keeps only plain numbers per event:
    the collector's pauses (50-160 ms, longer as the run went on) stalled the publisher, whose late
    events then went out in bursts and came out as ledger latency.
    """
    publisher = await Publisher.open(url)
    try:
        with _collector_paused():
            await _paced(publisher, layout, factory, start, rate, seconds)
        return publisher.sent
    finally:
        await publisher.close()


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


async def _paced(publisher: Publisher, layout: Layout, factory: EventFactory, start: int, rate: float,
                 seconds: float) -> None:
    index = start
    began = time.time()
    tick = 0.005
    while True:
        now = time.time()
        elapsed = now - began
        if elapsed >= seconds:
            break
        due = int(elapsed * rate) - (index - start)
        if due > 0:
            recorded = datetime.fromtimestamp(now, UTC)
            for _ in range(due):
                cadre, k = layout.cadre(index)
                await publisher.publish(factory.make(cadre, k, recorded), now)
                index += 1
        await asyncio.sleep(tick)
    await publisher.completed()
