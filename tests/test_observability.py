"""Observability: trace context from HTTP request to ledger row, the ledger's gauges, and its logs."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from typing import Any

import nats

from services.ledger.monitor import Observed
from tests.support import (
    System,
    call,
    fetch,
    ledger_metrics,
    new_cadre_id,
    publish_raw,
    registered_cadre,
    wait_committed,
    wait_until,
)

TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


async def test_traceparent_of_the_command_request_reaches_the_nats_header_and_the_ledger_row(system: System) -> None:
    cadre = await registered_cadre(system)
    body = {"cadre_id": cadre, "county": "431021", "audit_type": "in_office", "period_from": "2020-01-01",
            "period_to": "2022-12-31", "auditing_body": "桂阳县审计局", "occurred_on": "2023-03-01"}
    status, answer, headers = await call("POST", f"{system.url('audit')}/v1/audits/SJ-TRACE/start?wait=committed", body,
                                   headers={"traceparent": TRACEPARENT})
    assert status == 202, answer
    assert headers["traceparent"] == TRACEPARENT  # the client's, kept unchanged, told back
    [row] = await fetch(system.pg_dsn, "SELECT stream_seq, canonical FROM ledger_events WHERE event_id = $1",
                        uuid.UUID(answer["event_id"]))
    assert json.loads(row["canonical"])["traceparent"] == TRACEPARENT  # the row as hashed carries it
    nc = await nats.connect(system.nats_url)
    try:
        message = await nc.jetstream().get_msg("CADRE", int(row["stream_seq"]))
    finally:
        await nc.close()
    assert (message.headers or {})["traceparent"] == TRACEPARENT
    status, history, _ = await call("GET", f"{system.url('ledger')}/v1/cadres/{cadre}/history")
    assert status == 200 and history["events"][1]["event"]["traceparent"] == TRACEPARENT


async def test_metrics_show_lag_batch_sizes_and_times_quarantine_and_checkpoint_age(system: System) -> None:
    cadre = new_cadre_id()
    seq = await publish_raw(system.nats_url, f"cadre.431021.{cadre}", b"not an event",
                            {"Nats-Msg-Id": str(uuid.uuid4())})
    await wait_committed(system.pg_dsn, seq)
    status, _, _ = await call("POST", f"{system.url('ledger')}/v1/checkpoints")
    assert status in (200, 201)  # 200: a checkpoint the ledger signed by itself covers the log

    async def caught_up() -> dict[str, float] | None:
        metrics = await ledger_metrics(system)
        fresh = metrics.get("ledger_monitor_last_poll_timestamp_seconds", 0) > time.time() - 1.5
        return metrics if fresh and metrics["ledger_committed_seq"] >= seq else None

    metrics: dict[str, Any] = await wait_until(caught_up, timeout=20, interval=0.3)
    [count] = await fetch(system.pg_dsn, "SELECT count(*) AS n FROM quarantine")
    assert metrics["ledger_quarantine_messages"] >= 1 and metrics["ledger_quarantine_messages"] <= count["n"]
    assert metrics["ledger_stream_last_seq"] >= seq
    assert metrics["ledger_lag_messages"] == max(0, metrics["ledger_stream_last_seq"] - metrics["ledger_committed_seq"])
    assert 0 <= metrics["ledger_checkpoint_age_seconds"] < 60
    assert metrics["ledger_batch_size_count"] >= 1 and metrics["ledger_batch_size_sum"] >= 1
    for phase in ("wait", "plan", "queue", "commit"):  # where a batch's time went, one sample per batch
        assert metrics[f"ledger_batch_{phase}_seconds_count"] == metrics["ledger_batch_size_count"]
    assert metrics["ledger_batch_commit_seconds_sum"] > 0 and metrics["ledger_batch_plan_seconds_sum"] > 0
    assert (await call("GET", f"{system.url('ledger')}/v1/tip"))[0] == 200
    status, text, _ = await call("GET", f"{system.url('ledger')}/metrics")
    assert any(line.startswith("http_request_duration_seconds_bucket") and 'route="/v1/tip"' in line
               for line in text.splitlines())  # latency per route


def test_lag_and_checkpoint_age_arithmetic() -> None:
    observed = Observed(stream_last_seq=120, committed_seq=100)
    assert observed.lag == 20
    assert Observed(stream_last_seq=5, committed_seq=9).lag == 0  # a fresh poll may see the commit first
    assert Observed().checkpoint_age() == -1.0
    assert 9.0 <= Observed(checkpoint_at=time.time() - 10).checkpoint_age() < 12.0


async def test_quarantine_log_line_names_event_id_subject_and_sequence(system: System) -> None:
    cadre = new_cadre_id()
    event_id = str(uuid.uuid4())
    subject = f"cadre.431021.{cadre}"
    seq = await publish_raw(system.nats_url, subject, b"{}", {"Nats-Msg-Id": event_id})
    await wait_committed(system.pg_dsn, seq)
    log_path = system.procs["ledger"].log_path

    async def logged() -> dict[str, Any] | None:
        lines = (await asyncio.to_thread(log_path.read_text)).splitlines()
        for line in lines:
            if event_id in line:
                entry: dict[str, Any] = json.loads(line)
                return entry
        return None

    entry = await wait_until(logged, timeout=10)
    assert entry["msg"] == "message quarantined" and entry["level"] == "warning"
    assert entry["event_id"] == event_id and entry["subject"] == subject and entry["stream_seq"] == seq
    assert entry["cadre_id"] == cadre and entry["reason"] == "not_cloudevent"
