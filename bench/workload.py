"""Events for the benchmark, made fast (`bench.publisher` publishes them).

Envelopes are built as the canonical JSON a command service would publish (a template from
`new_event`, with id, cadre, time and dates replaced), so building a million costs seconds, not
minutes. `check_factory` holds the shortcut to `parse_event`: what we publish is a valid event whose
stored bytes are the published bytes.
"""

from __future__ import annotations

import functools
import itertools
import os
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
from shared.envelope import CONTENT_TYPE, CloudEvent, new_event, parse_event
from shared.events.audit import AuditCompleted
from shared.events.rotation import CadreRegistered
from shared.settings import Settings

COUNTY = "431021"
RULESET = "431021@2008.1"
PUBLISH_PENDING = 4000
_EPOCH = date(2015, 1, 1)
_ID_MASK = ~((0xF << 76) | (0x3 << 62)) & ((1 << 128) - 1)
_ID_BITS = (0x4 << 76) | (0x2 << 62)


def registration(cadre_id: str, county: str = COUNTY) -> CloudEvent:
    """`cadre.registered` as the rotation service publishes it (commitments to no one in particular): what a
    cadre needs before any service records a fact about them."""
    data = CadreRegistered(name_commitment="a" * 64, id_number_commitment="b" * 64, sex="male",
                           birth_month="1975-01", work_start=date(1997, 7, 1), unit="桂阳县审计局")
    return new_event(event_type="cadre.registered", cadre_id=cadre_id, county=county, service="rotation", data=data,
                     occurred_on=date(2010, 1, 4), ruleset=RULESET)


@dataclass(frozen=True)
class Event:
    """One envelope ready to publish."""

    subject: str
    payload: bytes
    headers: dict[str, str]


class EventFactory:
    """Audit-completed envelopes for cadres `<prefix><n>`: a cadre's k-th event occurred k days after 2015-01-01.

    It runs in the load generator, on the cores the ledger uses, so an event costs a few microseconds: ids
    are a random 64-bit prefix per factory and a counter (version-4 form, unique across factories with
    overwhelming probability), and the recorded time is formatted once per distinct `now` (the paced
    publisher stamps every event of a tick with the tick's time). uuid4 and strftime per event had cost
    about 12 of the 40 us an event took.
    """

    def __init__(self) -> None:
        data = AuditCompleted(audit_id="A1", audit_type="in_office", report_number="R1", evaluation="good",
                              findings=[])
        template = new_event(event_type="audit.completed", cadre_id="X", county=COUNTY, service="audit", data=data,
                             occurred_on=_EPOCH, ruleset=RULESET)
        self.template = template.json_obj()
        self._ids = itertools.count(int.from_bytes(os.urandom(8), "big") << 64)
        self._stamp: tuple[datetime | None, str] = (None, "")

    def _event_id(self) -> str:
        # version 4 and the RFC 4122 variant set over the counter, as uuid.uuid4() sets them over random bits
        return str(uuid.UUID(int=(next(self._ids) & _ID_MASK) | _ID_BITS))

    def _recorded(self, now: datetime | None) -> str:
        if now is None:
            now = datetime.now(UTC)
        elif now is self._stamp[0]:
            return self._stamp[1]
        text = now.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"
        self._stamp = (now, text)
        return text

    def make(self, cadre: str, k: int, now: datetime | None = None) -> Event:
        """The cadre's k-th event (1-based), recorded at `now` (default: the current time)."""
        obj: dict[str, Any] = dict(self.template)
        event_id = self._event_id()
        obj["id"] = event_id
        obj["subject"] = cadre
        obj["time"] = self._recorded(now)
        obj["occurredon"] = _occurred(k)
        obj["data"] = {**self.template["data"], "audit_id": f"A{k}", "report_number": f"R{k}"}
        return Event(f"cadre.{COUNTY}.{cadre}", orjson.dumps(obj, option=orjson.OPT_SORT_KEYS),
                     {"Content-Type": CONTENT_TYPE, "Nats-Msg-Id": event_id})


@functools.lru_cache(maxsize=4096)
def _occurred(k: int) -> str:
    return (_EPOCH + timedelta(days=k)).isoformat()


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
