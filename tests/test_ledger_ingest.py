"""The ledger's storage invariants through NATS and PostgreSQL (real servers)."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import asyncpg
import orjson
import pytest

from bench.workload import registration
from shared.bus import event_headers
from shared.envelope import CloudEvent, cadre_subject, new_event
from shared.events.audit import AuditStarted, ReportReceived
from shared.events.registry import EventData
from tests.support import (
    System,
    audit_event,
    call,
    fetch,
    ledger_metrics,
    new_cadre_id,
    publish,
    publish_raw,
    publish_wire,
    wait_committed,
)


async def test_history_is_in_order_with_versions_and_an_unbroken_chain(system: System) -> None:
    cadre = new_cadre_id()
    events = [audit_event(cadre, n) for n in range(1, 26)]
    seqs = await publish(system.nats_url, events)
    await wait_committed(system.pg_dsn, max(seqs))

    rows: list[dict[str, Any]] = []
    after = 0
    while True:  # paginate, to exercise the cursor too
        status, page, _ = await call("GET", f"{system.url('ledger')}/v1/cadres/{cadre}/history?after_version={after}"
                                            "&limit=10")
        assert status == 200
        rows += page["events"]
        if page["next_after_version"] is None:
            break
        after = page["next_after_version"]
    assert [r["event"]["id"] for r in rows] == [str(e.id) for e in events]
    assert [r["cadre_version"] for r in rows] == list(range(1, 26))
    previous = None
    for row, event in zip(rows, events, strict=True):
        leaf = hashlib.sha256(b"\x00" + event.canonical()).hexdigest()
        assert row["leaf_hash"] == leaf, "the hashed bytes are the canonical envelope"
        assert row["prev_hash"] == previous
        previous = leaf
    positions = [r["position"] for r in rows]
    assert positions == sorted(positions)


async def test_a_duplicate_inside_and_outside_the_window_appears_once(system: System) -> None:
    cadre = new_cadre_id()
    event = audit_event(cadre)
    first = (await publish(system.nats_url, [event]))[0]
    again = (await publish(system.nats_url, [event]))[0]
    assert again == first, "JetStream de-duplicates by Nats-Msg-Id inside the window"
    await wait_committed(system.pg_dsn, first)  # else the batch below may linger long enough to take it too
    # Outside the window (simulated by another message id): the ledger's unique event id catches it, and the
    # writer, which does not look every id up, reads the batch again with lookups.
    # (Another batch first: the writer remembers the batch before the one it plans, committed or not.)
    await wait_committed(system.pg_dsn, (await publish(system.nats_url, [audit_event(new_cadre_id())]))[0])
    rechecked = (await ledger_metrics(system))["ledger_rechecked_batches_total"]
    headers = {**event_headers(event, None), "Nats-Msg-Id": str(uuid.uuid4())}
    late = await publish_raw(system.nats_url, event.nats_subject, event.canonical(), headers)
    assert late > first
    await wait_committed(system.pg_dsn, late)
    rows = await fetch(system.pg_dsn, "SELECT stream_seq FROM ledger_events WHERE event_id = $1", event.id)
    assert [r["stream_seq"] for r in rows] == [first]
    [q] = await fetch(system.pg_dsn, "SELECT reason, detail FROM quarantine WHERE stream_seq = $1", late)
    assert q["reason"] == "duplicate" and str(first) in q["detail"]
    assert (await ledger_metrics(system))["ledger_rechecked_batches_total"] == rechecked + 1


@pytest.mark.parametrize(("payload", "subject_cadre", "reason"), [
    (b"\xff\xfe garbage \x00", None, "not_json"),
    (b'{"hello": "world"}', None, "not_cloudevent"),
    (b"[1, 2, 3]", None, "not_cloudevent"),
    ("unknown_type", None, "unknown_type"),
    ("schema", None, "schema"),
    ("subject", "OTHER", "subject_mismatch"),
    ("nul", None, "schema"),
    ("bidi", None, "schema"),
    ("upper_id", None, "not_cloudevent"),
    ("duplicate_key", None, "not_json"),
    ("exponent", None, "schema"),
    ("amount_line_break", None, "schema"),
])
async def test_invalid_messages_are_quarantined_and_do_not_block(system: System, payload: object,
                                                                 subject_cadre: str | None, reason: str) -> None:
    cadre = new_cadre_id()
    good = audit_event(cadre)
    obj = orjson.loads(good.canonical())
    if payload == "unknown_type":
        obj["type"] = "audit.exploded"
        data = orjson.dumps(obj)
    elif payload == "schema":
        obj["data"]["evaluation"] = "superb"
        obj["id"] = str(uuid.uuid4())
        data = orjson.dumps(obj)
    elif payload == "subject":
        data = good.canonical()
    elif payload == "nul":  # jsonb cannot hold U+0000: it must not reach the append and wedge the writer
        obj["data"]["report_number"] = "R\u0000"
        obj["id"] = str(uuid.uuid4())
        data = orjson.dumps(obj)
    elif payload == "bidi":  # a right-to-left override would show auditors another report number than stored
        obj["data"]["report_number"] = "R-2024-\u202e10"
        obj["id"] = str(uuid.uuid4())
        data = orjson.dumps(obj)
    elif payload in ("exponent", "amount_line_break"):  # the catalogue's schema writes amounts in plain digits
        amount = "1E+5" if payload == "exponent" else "12.50\n"
        obj["data"]["findings"] = [{"finding_id": "F1", "category": 3, "amount": amount, "responsibility": "direct"}]
        obj["id"] = str(uuid.uuid4())
        data = orjson.dumps(obj)
    elif payload == "duplicate_key":  # stored, the bytes would lack the value the parser dropped
        obj["id"] = str(uuid.uuid4())
        data = orjson.dumps(obj).replace(b'"evaluation":', b'"evaluation":"poor","evaluation":', 1)
    elif payload == "upper_id":  # the hashed bytes and the uuid column would disagree as text: verify would fail
        obj["id"] = str(uuid.uuid4()).upper()
        data = orjson.dumps(obj)
    else:
        assert isinstance(payload, bytes)
        data = payload
    bad_seq = await publish_raw(system.nats_url, cadre_subject("431021", subject_cadre or cadre), data)
    after = audit_event(cadre, 2)
    [good_seq] = await publish(system.nats_url, [after])
    await wait_committed(system.pg_dsn, good_seq)

    [q] = await fetch(system.pg_dsn, "SELECT reason, detail, raw FROM quarantine WHERE stream_seq = $1", bad_seq)
    assert q["reason"] == reason
    assert bytes(q["raw"]) == data, "the raw bytes are kept as received"
    if payload == "bidi":
        assert "report_number: one line of visible text" in q["detail"], q["detail"]
    if payload in ("exponent", "amount_line_break"):
        assert "amount" in q["detail"] and "at most two decimals" in q["detail"], q["detail"]
    [row] = await fetch(system.pg_dsn, "SELECT cadre_version FROM ledger_events WHERE stream_seq = $1", good_seq)
    assert row["cadre_version"] == 1

    status, page, _ = await call("GET", f"{system.url('ledger')}/v1/quarantine?limit=1000")
    assert status == 200
    [entry] = [e for e in page["entries"] if e["stream_seq"] == bad_seq]
    assert entry["reason"] == reason and entry["reason_text"] != reason, "its meaning, in English and Chinese"


def _audit(cadre: str, event_type: str, data: EventData, **envelope: object) -> tuple[CloudEvent, bytes]:
    """An audit event and its bytes with envelope fields, or `data` fields (keys in `data.`), written otherwise."""
    event = new_event(event_type=event_type, cadre_id=cadre, county="431021", service="audit", data=data,
                      occurred_on=date(2024, 7, 1), ruleset="431021@2008.1")
    obj = orjson.loads(event.canonical())
    for key, value in envelope.items():
        if key.startswith("data."):
            obj["data"][key.removeprefix("data.")] = value
        else:
            obj[key] = value
    return event, orjson.dumps(obj)


async def test_values_the_schema_does_not_allow_are_quarantined_not_read_as_something_else(system: System) -> None:
    # The ledger hashes the bytes as they came and every reader parses them, not what pydantic's lax mode made of
    # them: such a day made verify fail (the occurred_on column disagreed with the envelope's text) and answered
    # 500 to every read of the cadre's state; "false" was read as true by every fold.
    cadre = new_cadre_id()
    started = AuditStarted(audit_id="A1", audit_type="in_office", period_from=date(2020, 1, 1),
                           period_to=date(2023, 12, 31), auditing_body="审计局")
    report = ReportReceived(report_id="R1", channel="12380", named=True)
    bad = [_audit(cadre, "audit.started", started, occurredon=1719792000),
           _audit(cadre, "audit.started", started, occurredon="2024-07-01T00:00:00Z"),
           _audit(cadre, "audit.started", started, **{"data.period_from": "1577836800"}),
           _audit(cadre, "report.received", report, **{"data.named": "false"}),
           _audit(cadre, "audit.started", started, time=1719792000),
           _audit(cadre, "audit.started", started, time="2024-07-01 08:00:00Z")]
    seqs = [await publish_raw(system.nats_url, event.nats_subject, raw, event_headers(event, None))
            for event, raw in bad]
    [good] = await publish(system.nats_url, [audit_event(cadre)])
    await wait_committed(system.pg_dsn, good)
    rows = await fetch(system.pg_dsn, "SELECT stream_seq, reason, detail FROM quarantine WHERE stream_seq = ANY($1) "
                                      "ORDER BY stream_seq", seqs)
    assert [(r["stream_seq"], r["reason"]) for r in rows] == [
        (seqs[0], "not_cloudevent"), (seqs[1], "not_cloudevent"), (seqs[2], "schema"), (seqs[3], "schema"),
        (seqs[4], "not_cloudevent"), (seqs[5], "not_cloudevent")]
    assert all("日期须写作 YYYY-MM-DD" in r["detail"] for r in rows[:3]), rows
    assert "named" in rows[3]["detail"], rows[3]
    assert all("RFC 3339" in r["detail"] and "time" in r["detail"] for r in rows[4:]), rows
    status, _, _ = await call("GET", f"{system.url('ledger')}/v1/cadres/{cadre}/state")
    assert status == 200


async def test_a_message_with_a_nul_in_its_headers_is_quarantined_and_does_not_block(system: System) -> None:
    # PostgreSQL's text and jsonb refuse U+0000: kept as it came, the quarantine row could never be stored, and
    # the writer would retry its batch, and hold up every message behind it, for good.
    cadre = new_cadre_id()
    bad_seq = await publish_raw(system.nats_url, cadre_subject("431021", cadre), b"not json",
                                {"X-Probe": "a\x00b"})
    [good_seq] = await publish(system.nats_url, [audit_event(cadre)])
    await wait_committed(system.pg_dsn, good_seq)
    [q] = await fetch(system.pg_dsn, "SELECT reason, headers, raw FROM quarantine WHERE stream_seq = $1", bad_seq)
    assert q["reason"] == "not_json" and bytes(q["raw"]) == b"not json"
    assert orjson.loads(q["headers"])["X-Probe"] == "a\\u0000b"


async def test_a_subject_that_is_not_utf8_is_quarantined_and_does_not_block(system: System) -> None:
    # NATS passes a subject's bytes on as published; nats-py decoded them strictly inside its read loop, which
    # raised on every delivery of such a message, and the writer received nothing after it, for good.
    cadre = new_cadre_id()
    await publish_wire(system.nats_url, cadre_subject("431021", cadre).encode() + b"\xc3(", b"not json")
    [good_seq] = await publish(system.nats_url, [audit_event(cadre)])
    await wait_committed(system.pg_dsn, good_seq)
    [q] = await fetch(system.pg_dsn, "SELECT stream_seq, reason, raw FROM quarantine WHERE nats_subject = $1",
                      f"{cadre_subject('431021', cadre)}\\xc3(")
    assert q["reason"] == "not_json" and bytes(q["raw"]) == b"not json" and q["stream_seq"] < good_seq


@pytest.mark.parametrize("statement", [
    "UPDATE ledger_events SET type = 'x' WHERE position = 1",
    "DELETE FROM ledger_events WHERE position = 1",
    "TRUNCATE ledger_events",
    "UPDATE quarantine SET reason = 'x'",
    "DELETE FROM quarantine",
    "TRUNCATE quarantine",
])
@pytest.mark.parametrize("role", ["superuser", "cadre_writer", "cadre_reader"])
async def test_ledger_tables_are_append_only(system: System, statement: str, role: str) -> None:
    cadre = new_cadre_id()
    await publish_raw(system.nats_url, cadre_subject("431021", cadre), b"not json")  # a quarantine row to touch
    await wait_committed(system.pg_dsn, (await publish(system.nats_url, [audit_event(cadre)]))[0])
    before = await fetch(system.pg_dsn, "SELECT count(*) AS n FROM ledger_events")
    conn = await asyncpg.connect(system.pg_dsn)
    try:
        if role != "superuser":
            await conn.execute(f"SET ROLE {role}")
        with pytest.raises(asyncpg.InsufficientPrivilegeError) as exc:
            await conn.execute(statement)
        if role == "superuser":
            assert "append-only" in str(exc.value), "the trigger, not a privilege, stops the superuser"
    finally:
        await conn.close()
    after = await fetch(system.pg_dsn, "SELECT count(*) AS n FROM ledger_events")
    assert after[0]["n"] >= before[0]["n"]


@pytest.fixture
async def own_system(tmp_path: Path) -> AsyncIterator[System]:
    """A private system: a test here rewrites a stored row, which a shared ledger's verification would notice."""
    sys_ = await asyncio.to_thread(System(tmp_path, services=("ledger", "audit")).start)
    try:
        yield sys_
    finally:
        await asyncio.to_thread(sys_.stop)


async def test_an_event_appended_before_days_were_checked_still_reads(own_system: System) -> None:
    # Until the intake checked how a day and a time are written, the ledger appended an envelope whose occurredon and
    # time were Unix times (pydantic's lax mode read them as the day and the instant). Those bytes are in the ledger
    # for good, and the command services decide on them: read back with the intake's stricter checks, every command
    # about the cadre answered 500.
    cadre = new_cadre_id()
    event = registration(cadre)
    [seq] = await publish(own_system.nats_url, [event])
    await wait_committed(own_system.pg_dsn, seq)
    midnight = int(datetime(2010, 1, 4, tzinfo=UTC).timestamp())
    conn = await asyncpg.connect(own_system.pg_dsn)
    try:  # the row as the ledger appended such a message: its bytes, and the leaf hash of those bytes
        async with conn.transaction():
            await conn.execute("ALTER TABLE ledger_events DISABLE TRIGGER USER")
            await conn.execute("""UPDATE ledger_events SET canonical = convert_to(regexp_replace(replace(
                                    convert_from(canonical, 'UTF8'), '"occurredon":"2010-01-04"',
                                    '"occurredon":' || $2), '"time":"[^"]*"', '"time":' || $2), 'UTF8')
                                  WHERE event_id = $1""", event.id, str(midnight))
            await conn.execute("UPDATE ledger_events SET leaf_hash = sha256('\\x00'::bytea || canonical) "
                               "WHERE event_id = $1", event.id)
            await conn.execute("ALTER TABLE ledger_events ENABLE TRIGGER USER")
        stored = await conn.fetchval("SELECT convert_from(canonical, 'UTF8') FROM ledger_events WHERE event_id = $1",
                                     event.id)
    finally:
        await conn.close()
    assert f'"occurredon":{midnight}' in stored and f'"time":{midnight}' in stored
    status, answer, _ = await call("POST", f"{own_system.url('audit')}/v1/audits/A1/start?wait=committed", {
        "cadre_id": cadre, "county": "431021", "occurred_on": "2024-03-01", "audit_type": "in_office",
        "period_from": "2021-01-01", "period_to": "2023-12-31", "auditing_body": "桂阳县审计局"})
    assert status == 202 and answer["committed"], answer
