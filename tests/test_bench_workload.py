"""The benchmark's load generator: valid, unique, canonical events made cheaply, and acknowledgements counted."""

from __future__ import annotations

import asyncio
import re
import uuid
from datetime import UTC, datetime, timedelta, timezone
from types import SimpleNamespace

from bench.mixed import clones
from bench.workload import Acks, EventFactory, Layout, check_factory
from shared.envelope import parse_event


def test_events_are_valid_canonical_and_their_ids_unique_v4() -> None:
    factory, other = EventFactory(), EventFactory()
    assert check_factory(factory) > 0
    layout = Layout(1000)
    events = [factory.make(*layout.cadre(i)) for i in range(2000)] + [other.make("B0x1", 1) for _ in range(10)]
    ids = [e.headers["Nats-Msg-Id"] for e in events]
    assert len(set(ids)) == len(ids)
    for event in events[:50] + events[-10:]:
        parsed = parse_event(event.payload, event.subject)
        assert parsed.canonical == event.payload
        assert str(parsed.event.id) == event.headers["Nats-Msg-Id"]
        assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}",
                            event.headers["Nats-Msg-Id"])
        assert uuid.UUID(event.headers["Nats-Msg-Id"]).version == 4


def test_the_recorded_time_is_the_given_instant_in_utc_to_the_microsecond() -> None:
    factory = EventFactory()
    beijing = timezone(timedelta(hours=8))
    for now in (datetime(2026, 12, 3, 18, 33, 30, 5, tzinfo=UTC), datetime(2026, 12, 4, 2, 0, tzinfo=beijing)):
        first, again = factory.make("B0x1", 1, now), factory.make("B0x2", 2, now)
        for event in (first, again):
            assert parse_event(event.payload, event.subject).event.time == now
        assert f'"time":"{now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")}"'.encode() in first.payload


def test_a_cadres_kth_event_occurred_k_days_after_2015() -> None:
    event = EventFactory().make("B0x7", 40)
    assert parse_event(event.payload, event.subject).event.occurredon.isoformat() == "2015-02-10"


async def test_stamped_acks_keep_publish_times_and_the_first_error() -> None:
    loop = asyncio.get_running_loop()
    sent: list[tuple[float, int]] = []
    acks = Acks(sent)
    outcomes = []
    for at, seq in ((1.5, 7), (1.5, 8), (2.0, 9)):
        future = loop.create_future()
        future.add_done_callback(acks.stamped(at))
        future.set_result(SimpleNamespace(seq=seq))
        outcomes.append(future)
    failed = loop.create_future()
    failed.add_done_callback(acks.stamped(3.0))
    failed.set_exception(TimeoutError("no ack"))
    await asyncio.sleep(0)
    assert sorted(sent) == [(1.5, 7), (1.5, 8), (2.0, 9)]
    assert acks.last_seq == 9
    assert isinstance(acks.error, TimeoutError)


def test_clones_of_a_countys_events_are_valid_events_of_other_cadres() -> None:
    """The county's-mix replay clones recorded events: each clone is the same fact about another cadre."""
    factory = EventFactory()
    originals = [parse_event(e.payload, e.subject) for e in (factory.make("GY0001", k) for k in (1, 2))]
    copied = list(clones([p.canonical for p in originals], 3))
    assert len(copied) == 3 * len(originals)
    parsed = [parse_event(e.payload, e.subject) for e in copied]  # raises if a clone is not a valid event
    assert [p.event.subject for p in parsed] == [f"GY0001x{k}" for _ in originals for k in (1, 2, 3)]
    assert len({p.event.id for p in parsed} | {p.event.id for p in originals}) == len(parsed) + len(originals)
    assert [p.event.data for p in parsed] == [p.event.data for p in originals for _ in (1, 2, 3)]
    assert all(e.headers["Nats-Msg-Id"] == str(p.event.id) for e, p in zip(copied, parsed, strict=True))
    assert all(p.canonical == e.payload for e, p in zip(copied, parsed, strict=True)), "published canonical"
