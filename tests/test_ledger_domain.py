"""The ledger's pure batch planner: given messages and writer state, then rows (no servers)."""

from __future__ import annotations

import gc
import hashlib
import inspect
import re
import sys
from collections.abc import Callable

import orjson
import pytest

import services.ledger.domain
import shared.envelope
from services.ledger.domain import (
    QUARANTINE_REASONS,
    ChainHead,
    StreamMessage,
    cadres,
    classify,
    event_ids,
    plan_batch,
)
from tests.support import audit_event


def msg(seq: int, data: bytes, subject: str = "cadre.431021.C1") -> StreamMessage:
    return StreamMessage(seq, subject, data)


def _not_a_cloudevent() -> bytes:
    return orjson.dumps({"specversion": "1.0", "pad": "x" * 100_000})


def _breaking_its_schema() -> bytes:
    envelope = orjson.loads(audit_event("C1").canonical())
    envelope["data"] = {"pad": "x" * 100_000}
    return orjson.dumps(envelope)


@pytest.mark.parametrize("payload", [
    lambda: b"\xff not json" * 10_000, _not_a_cloudevent, _breaking_its_schema, lambda: audit_event("C1").canonical(),
], ids=["not_json", "not_cloudevent", "schema", "valid"])
def test_a_planned_batch_is_freed_without_the_cycle_collector(payload: Callable[[], bytes]) -> None:
    """A rejection kept its exception's traceback, whose frames held the batch: a reference cycle that only the
    cyclic collector breaks, and payload bytes do not count towards when it runs. The ledger quarantining 800
    messages of 1 MB grew to 1.7 GB."""
    data = payload()
    alone = sys.getrefcount(data)
    gc.disable()
    try:
        plan = plan_batch(classify([msg(1, data), msg(2, data)]), checkpoint_seq=0, next_position=1, heads={},
                          stored_ids={})
        assert len(plan.quarantined) + len(plan.events) == 2
        del plan
        assert sys.getrefcount(data) == alone, "the batch's messages are freed as soon as it is"
    finally:
        gc.enable()


def test_new_cadre_starts_a_chain_and_positions_follow_the_writer() -> None:
    e1, e2 = audit_event("C1", 1), audit_event("C1", 2)
    plan = plan_batch(classify([msg(11, e2.canonical()), msg(10, e1.canonical())]), checkpoint_seq=9,
                      next_position=5, heads={}, stored_ids={})
    assert [(r.position, r.stream_seq, r.cadre_version) for r in plan.events] == [(5, 10, 1), (6, 11, 2)]
    leaf1 = hashlib.sha256(b"\x00" + e1.canonical()).digest()
    assert plan.events[0].prev_hash is None and plan.events[0].leaf_hash == leaf1
    assert plan.events[1].prev_hash == leaf1
    assert plan.last_stream_seq == 11 and plan.next_position == 7
    assert plan.heads["C1"].version == 2


def test_existing_chain_continues_from_its_head() -> None:
    head = ChainHead(7, b"\x01" * 32)
    plan = plan_batch(classify([msg(1, audit_event("C1").canonical())]), checkpoint_seq=0, next_position=1,
                      heads={"C1": head}, stored_ids={})
    assert plan.events[0].cadre_version == 8 and plan.events[0].prev_hash == head.leaf_hash


def test_redelivered_messages_are_skipped() -> None:
    plan = plan_batch(classify([msg(3, audit_event("C1").canonical())]), checkpoint_seq=3, next_position=4,
                      heads={}, stored_ids={})
    assert plan.events == [] and plan.quarantined == [] and plan.redelivered == 1


def test_a_stored_event_id_arriving_again_is_quarantined_as_duplicate() -> None:
    event = audit_event("C1")
    batch = classify([msg(8, event.canonical())])
    assert event_ids(batch) == [event.id] and cadres(batch) == {"C1"}
    plan = plan_batch(batch, checkpoint_seq=7, next_position=3, heads={}, stored_ids={event.id: 2})
    assert plan.events == []
    [q] = plan.quarantined
    assert q.reason == "duplicate" and q.cadre_id == "C1" and plan.last_stream_seq == 8


def test_the_same_event_twice_in_one_batch_is_appended_once() -> None:
    data = audit_event("C1").canonical()
    plan = plan_batch(classify([msg(1, data), msg(2, data)]), checkpoint_seq=0, next_position=1, heads={},
                      stored_ids={})
    assert len(plan.events) == 1 and [q.reason for q in plan.quarantined] == ["duplicate"]


@pytest.mark.parametrize(("data", "subject", "reason"), [
    (b"\x00\xff", "cadre.431021.C1", "not_json"),
    (b'"a string"', "cadre.431021.C1", "not_cloudevent"),
    (b"{}", "cadre.431021.C1", "not_cloudevent"),
    (None, "cadre.431021.C2", "subject_mismatch"),
    (None, "cadre.430000.C1", "subject_mismatch"),
])
def test_invalid_messages_are_quarantined_with_reason(data: bytes | None, subject: str, reason: str) -> None:
    raw = data if data is not None else audit_event("C1").canonical()
    plan = plan_batch(classify([msg(1, raw, subject)]), checkpoint_seq=0, next_position=1, heads={}, stored_ids={})
    [q] = plan.quarantined
    assert q.reason == reason and q.raw == raw and plan.events == [] and plan.last_stream_seq == 1


@pytest.mark.parametrize("source", ["/counties/431021/rotation", "/counties/430000/audit"])
def test_an_event_from_the_wrong_service_or_county_is_quarantined(source: str) -> None:
    obj = orjson.loads(audit_event("C1").canonical())
    obj["source"] = source
    plan = plan_batch(classify([msg(1, orjson.dumps(obj))]), checkpoint_seq=0, next_position=1, heads={},
                      stored_ids={})
    assert [q.reason for q in plan.quarantined] == ["source_mismatch"] and plan.events == []


@pytest.mark.parametrize("spelling", [str.upper, lambda i: i.replace("-", ""), lambda i: "{" + i + "}",
                                      lambda i: "urn:uuid:" + i])
def test_an_event_id_not_in_the_stored_spelling_is_quarantined(spelling: Callable[[str], str]) -> None:
    obj = orjson.loads(audit_event("C1").canonical())
    obj["id"] = spelling(obj["id"])
    plan = plan_batch(classify([msg(1, orjson.dumps(obj))]), checkpoint_seq=0, next_position=1, heads={},
                      stored_ids={})
    [q] = plan.quarantined
    assert q.reason == "not_cloudevent" and "事件标识" in q.detail and plan.events == []


def test_planning_stops_at_a_sequence_gap() -> None:
    plan = plan_batch(classify([msg(5, audit_event("C1", 1).canonical()), msg(7, audit_event("C1", 2).canonical())]),
                      checkpoint_seq=4, next_position=1, heads={}, stored_ids={})
    assert [r.stream_seq for r in plan.events] == [5]
    assert plan.gap_after == 5 and plan.last_stream_seq == 5


@pytest.mark.parametrize(("subject", "headers", "stored_subject", "stored_headers"), [
    ("cadre.431021.C1", {"X-Probe": "a\x00b"}, "cadre.431021.C1", {"X-Probe": "a\\u0000b"}),
    # a subject byte that was not UTF-8, as the bus hands it on (surrogateescape): kept as \xNN
    ("cadre.431021.C1\udcc3(", {}, "cadre.431021.C1\\xc3(", {}),
    ("cadre.431021.\ud800", {"X-\udcff": "\udcff"}, "cadre.431021.\\ud800", {"X-\\xff": "\\xff"}),
    ("cadre.431021.岗位", {"X-Name": "张三"}, "cadre.431021.岗位", {"X-Name": "张三"}),
    # what the message carried keeps its backslashes doubled, so an escape is never mistaken for text spelling one
    ("cadre.431021.C1\\xc3", {"X-Probe": "a\\u0000"}, "cadre.431021.C1\\\\xc3", {"X-Probe": "a\\\\u0000"}),
    ("cadre.431021.C1\\xc3\udcc3", {"X-Probe": "\\u0000\x00"}, "cadre.431021.C1\\\\xc3\\xc3",
     {"X-Probe": "\\\\u0000\\u0000"}),
])
def test_a_quarantine_row_holds_only_what_postgresql_can_store(
        subject: str, headers: dict[str, str], stored_subject: str, stored_headers: dict[str, str]) -> None:
    plan = plan_batch(classify([StreamMessage(1, subject, b"not json", headers)]), checkpoint_seq=0, next_position=1,
                      heads={}, stored_ids={})
    [q] = plan.quarantined
    assert (q.nats_subject, dict(q.headers)) == (stored_subject, stored_headers)
    assert q.raw == b"not json"
    stored = q.nats_subject + q.detail + orjson.dumps(dict(q.headers)).decode()
    assert not any(c == "\x00" or 0xD800 <= ord(c) <= 0xDFFF for c in stored), "text PostgreSQL would refuse"


def test_a_message_the_database_refused_alone_is_quarantined_as_unstorable() -> None:
    given = [msg(1, audit_event("C1", 1).canonical()), msg(2, audit_event("C1", 2).canonical()),
             msg(3, audit_event("C1", 3).canonical())]
    plan = plan_batch(classify(given), checkpoint_seq=0, next_position=1, heads={}, stored_ids={},
                      unstorable={2: "refused: DataError"})
    [q] = plan.quarantined
    assert (q.stream_seq, q.reason, q.detail, q.raw) == (2, "unstorable", "refused: DataError", given[1].data)
    assert [(e.stream_seq, e.position, e.cadre_version) for e in plan.events] == [(1, 1, 1), (3, 2, 2)]
    assert plan.events[1].prev_hash == plan.events[0].leaf_hash and plan.last_stream_seq == 3


def test_every_quarantine_reason_says_what_it_means_in_english_and_chinese() -> None:
    sources = inspect.getsource(shared.envelope) + inspect.getsource(services.ledger.domain)
    given = {*re.findall(r'InvalidEvent\(\s*"(\w+)"', sources), *re.findall(r'_quarantine\(\s*msg, "(\w+)"', sources)}
    assert {"not_json", "schema", "duplicate", "unstorable"} <= given
    assert sorted(given - QUARANTINE_REASONS.keys()) == []
    assert all(re.search(r"[a-z]", text) and re.search(r"[\u4e00-\u9fff]", text)
               for text in QUARANTINE_REASONS.values())
