"""Events for the benchmark, made fast, and published the fastest acknowledged way nats-py offers.

Envelopes are built as the canonical JSON a command service would publish (a template from
`new_event`, with id, cadre, time and dates replaced), so building a million costs seconds, not
minutes. `check_factory` holds the shortcut to `parse_event`: what we publish is a valid event whose
stored bytes are the published bytes.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import nats
import orjson
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext

from shared.bus import ensure_stream
from shared.envelope import CONTENT_TYPE, new_event, parse_event
from shared.events.audit import AuditCompleted
from shared.settings import Settings

COUNTY = "431021"
RULESET = "431021@2008.1"
PUBLISH_PENDING = 4000
_EPOCH = date(2015, 1, 1)


@dataclass(frozen=True)
class Event:
    """One envelope ready to publish."""

    subject: str
    payload: bytes
    headers: dict[str, str]


class EventFactory:
    """Audit-completed envelopes for cadres `<prefix><n>`: a cadre's k-th event occurred k days after 2015-01-01."""

    def __init__(self) -> None:
        data = AuditCompleted(audit_id="A1", audit_type="in_office", report_number="R1", evaluation="good",
                              findings=[])
        template = new_event(event_type="audit.completed", cadre_id="X", county=COUNTY, service="audit", data=data,
                             occurred_on=_EPOCH, ruleset=RULESET)
        self.template = template.json_obj()

    def make(self, cadre: str, k: int, now: datetime | None = None) -> Event:
        """The cadre's k-th event (1-based), recorded at `now` (default: the current time)."""
        obj: dict[str, Any] = dict(self.template)
        event_id = str(uuid.uuid4())
        obj["id"] = event_id
        obj["subject"] = cadre
        obj["time"] = (now or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        obj["occurredon"] = (_EPOCH + timedelta(days=k)).isoformat()
        obj["data"] = {**self.template["data"], "audit_id": f"A{k}", "report_number": f"R{k}"}
        return Event(f"cadre.{COUNTY}.{cadre}", orjson.dumps(obj, option=orjson.OPT_SORT_KEYS),
                     {"Content-Type": CONTENT_TYPE, "Nats-Msg-Id": event_id})


def check_factory(factory: EventFactory) -> int:
    """Assert that a factory event is valid and already canonical; returns its size in bytes."""
    event = factory.make("CHECK", 3)
    parsed = parse_event(event.payload, event.subject)
    assert parsed.canonical == event.payload, "the factory must publish canonical bytes"
    return len(event.payload)


@dataclass(frozen=True)
class Layout:
    """Which cadre each ledger event belongs to.

    The ledger is filled in chunks; in each chunk `chunk // 100` cadres get 100 events each,
    interleaved, so at every chunk boundary there are cadres with exactly 100 events spread over
    the whole chunk (the history read of the issue).
    """

    chunk: int

    @property
    def cadres_per_chunk(self) -> int:
        return max(self.chunk // 100, 1)

    def cadre(self, index: int) -> tuple[str, int]:
        """(cadre id, its event number k) of the ledger's index-th event (0-based)."""
        chunk_no, i = divmod(index, self.chunk)
        c = i % self.cadres_per_chunk
        return f"B{chunk_no}x{c}", i // self.cadres_per_chunk + 1

    def probes(self, chunks: int) -> list[str]:
        """Cadres with 100 events in the first `chunks` chunks."""
        return [f"B{n}x{c}" for n in range(chunks) for c in range(self.cadres_per_chunk)]

    def events(self, start: int, stop: int, factory: EventFactory) -> Iterator[Event]:
        """The ledger's events [start, stop)."""
        for index in range(start, stop):
            cadre, k = self.cadre(index)
            yield factory.make(cadre, k)


async def connect(url: str) -> tuple[NATS, JetStreamContext]:
    """A client with a publish window large enough to keep the server busy; the CADRE stream exists."""
    nc = await nats.connect(url, max_reconnect_attempts=0)
    js = nc.jetstream(publish_async_max_pending=PUBLISH_PENDING)
    settings = Settings()
    await ensure_stream(js, settings.stream, settings.duplicate_window_s)
    return nc, js


class Acks:
    """Counts acknowledgements and keeps the first error (every future's outcome is retrieved)."""

    def __init__(self) -> None:
        self.last_seq = 0
        self.error: BaseException | None = None

    def __call__(self, future: asyncio.Future[Any]) -> None:
        if future.cancelled():
            self.error = self.error or asyncio.CancelledError()
        elif (exc := future.exception()) is not None:
            self.error = self.error or exc
        else:
            self.last_seq = max(self.last_seq, int(future.result().seq))

    async def completed(self, js: JetStreamContext) -> None:
        """Wait for every pending acknowledgement; raise the first error."""
        await asyncio.wait_for(js.publish_async_completed(), 60)
        if self.error is not None:
            raise RuntimeError(f"a publish was not acknowledged: {self.error!r}") from self.error


async def publish_all(js: JetStreamContext, events: Iterator[Event]) -> tuple[int, float, int]:
    """Publish every event with acknowledgements (publish_async); returns (count, seconds, last stream seq)."""
    acks = Acks()
    started = time.perf_counter()
    count = 0
    for event in events:
        future = await js.publish_async(event.subject, event.payload, headers=event.headers)
        future.add_done_callback(acks)
        count += 1
    await acks.completed(js)
    return count, time.perf_counter() - started, acks.last_seq


async def publish_paced(js: JetStreamContext, layout: Layout, factory: EventFactory, start: int, rate: float,
                        seconds: float) -> list[tuple[float, int]]:
    """Publish at `rate` events/s for `seconds`, in 5 ms ticks; returns (publish time, stream sequence) per event.

    This is the load generator, not the system under test, so it runs without CPython's cyclic
    collector (reference counting still frees what it makes), and keeps only plain numbers per event:
    the collector's pauses (50-160 ms, longer as the run went on) stalled the publisher, whose late
    events then went out in bursts and came out as ledger latency.
    """
    with _collector_paused():
        return await _paced(js, layout, factory, start, rate, seconds)


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


async def _paced(js: JetStreamContext, layout: Layout, factory: EventFactory, start: int, rate: float,
                 seconds: float) -> list[tuple[float, int]]:
    sent: list[tuple[float, int]] = []
    acks = Acks()
    index = start
    began = time.time()
    tick = 0.005
    while True:
        now = time.time()
        elapsed = now - began
        if elapsed >= seconds:
            break
        due = int(elapsed * rate) - (index - start)
        for _ in range(max(due, 0)):
            cadre, k = layout.cadre(index)
            event = factory.make(cadre, k, datetime.fromtimestamp(now, UTC))
            future = await js.publish_async(event.subject, event.payload, headers=event.headers)
            future.add_done_callback(acks)
            future.add_done_callback(functools.partial(_sent_at, sent, now))
            index += 1
        await asyncio.sleep(tick)
    await acks.completed(js)
    return sent


def _sent_at(sent: list[tuple[float, int]], at: float, future: asyncio.Future[Any]) -> None:
    if not future.cancelled() and future.exception() is None:
        sent.append((at, int(future.result().seq)))
