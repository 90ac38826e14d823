"""The benchmark's load generator: valid, unique, canonical events made cheaply, and acknowledgements counted."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta, timezone

import nats
import pytest
from nats.js.api import StreamConfig

from bench.mixed import clones
from bench.publisher import Publisher
from bench.workload import Event, EventFactory, Layout, check_factory
from shared.envelope import new_event, parse_event
from shared.events import CATALOGUE
from tests.support import System


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


async def test_the_publisher_keeps_each_acknowledged_events_time_and_sequence(system: System) -> None:
    """Through a real JetStream: every answer is matched to its event, and a refused publish is an error."""
    nc = await nats.connect(system.nats_url)
    js = nc.jetstream()
    await js.add_stream(StreamConfig(name="BENCHPUB", subjects=["benchpub.>"], duplicate_window=60))
    try:
        publisher = await Publisher.open(system.nats_url, window=3)
        try:
            for i in range(10):
                await publisher.publish(Event(f"benchpub.{i}", b"x", {"Nats-Msg-Id": f"m{i}"}), 100.0 + i // 4)
            await publisher.publish(Event("benchpub.untimed", b"x", {"Nats-Msg-Id": "m10"}))
            await publisher.completed(10)
            stored = (await js.stream_info("BENCHPUB")).state.last_seq
            assert sorted(publisher.sent) == [(100.0 + i // 4, stored - 10 + i) for i in range(10)]
            assert publisher.last_seq == stored
            await publisher.publish(Event("benchpub.1", b"y", {"Nats-Msg-Id": "m11", "Nats-Expected-Stream": "OTHER"}))
            with pytest.raises(RuntimeError, match="not acknowledged"):
                await publisher.completed(10)
        finally:
            await publisher.close()
    finally:
        await js.delete_stream("BENCHPUB")
        await nc.close()


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


def test_a_corrections_clones_correct_the_clones_of_its_target() -> None:
    """The demo county corrects a grade: each clone of the correction points at the same clone of the grade."""
    factory = EventFactory()
    target = parse_event(factory.make("GY0002", 1).payload, factory.make("GY0002", 1).subject).event
    revocation = new_event(event_type="audit.completed.revoked", cadre_id="GY0002", county=target.county,
                           service="audit", occurred_on=target.occurredon, ruleset=target.ruleset,
                           data=CATALOGUE["audit.completed.revoked"].model.model_validate(
                               {"revokes": target.id, "reason": "重复录入"}))
    copied = [parse_event(e.payload, e.subject).event for e in clones([target.canonical(), revocation.canonical()], 2)]
    targets, revocations = copied[:2], copied[2:]
    assert [r.data["revokes"] for r in revocations] == [str(t.id) for t in targets]
    assert [r.subject for r in revocations] == [t.subject for t in targets] == ["GY0002x1", "GY0002x2"]
