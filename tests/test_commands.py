"""The shared write path: rules every command service enforces the same way."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path

import asyncpg
import orjson
import pytest

from bench.workload import registration
from shared.decisions import Decision, not_before_work_start, on_record
from shared.devstack import free_port
from shared.envelope import holds_nul
from shared.events.registry import EventData
from shared.ledger_reader import fate_of
from shared.problems import Quarantined, RuleViolation
from shared.processes import SERVICES, ServiceProcess
from tests.support import (
    System,
    audit_event,
    call,
    fetch,
    new_cadre_id,
    publish,
    publish_raw,
    registered_cadre,
    wait_committed,
)


async def test_a_fact_dated_after_today_is_refused(system: System) -> None:
    tomorrow = (date.today() + timedelta(days=1)).isoformat()
    body = {"cadre_id": await registered_cadre(system), "county": "431021", "occurred_on": tomorrow,
            "audit_type": "in_office", "period_from": "2020-01-01", "period_to": "2023-12-31",
            "auditing_body": "桂阳县审计局"}
    status, problem, _ = await call("POST", f"{system.url('audit')}/v1/audits/FUT-1/start", body)
    assert status == 422, problem
    assert problem["rule"] == "command.not_in_future" and "不能记录尚未发生的事实" in problem["message_zh"]


async def test_a_fact_dated_before_the_cadre_started_work_is_refused(system: System) -> None:
    cadre = new_cadre_id()
    status, answer, _ = await call("POST", f"{system.url('rotation')}/v1/cadres/register?wait=committed", {
        "cadre_id": cadre, "county": "431021", "occurred_on": "2012-03-01", "name": "张三",
        "id_number": "431021198801010014", "sex": "male", "birth_month": "1988-01", "work_start": "2010-07-01",
        "unit": "桂阳县审计局"})
    assert status == 202, answer
    body = {"cadre_id": cadre, "county": "431021", "occurred_on": "2010-06-30", "audit_type": "in_office",
            "period_from": "2010-07-01", "period_to": "2010-12-31", "auditing_body": "桂阳县审计局"}
    status, problem, _ = await call("POST", f"{system.url('audit')}/v1/audits/WS-1/start", body)
    assert status == 422, problem
    assert problem["rule"] == "cadre.before_work_start" and problem["work_start"] == "2010-07-01", problem
    assert "早于该干部参加工作时间" in problem["message_zh"]
    status, answer, _ = await call("POST", f"{system.url('audit')}/v1/audits/WS-1/start",
                                   {**body, "occurred_on": "2010-07-01"})
    assert status == 202, answer
    # An audited period that begins before the cadre worked, started on a later day: the audit service's own rule.
    status, problem, _ = await call("POST", f"{system.url('audit')}/v1/audits/WS-2/start",
                                    {**body, "occurred_on": "2011-01-10", "period_from": "2009-01-01"})
    assert status == 422 and problem["rule"] == "audit.period_before_work_start", problem
    assert problem["field"] == "period_from" and "早于该干部参加工作时间" in problem["message_zh"]
    # A year that ended before, graded on a later day (a mistyped year): the assessment service's own rule.
    grade = {"cadre_id": cadre, "county": "431021", "occurred_on": "2024-01-10", "year": 2009, "grade": "competent"}
    status, problem, _ = await call("POST", f"{system.url('assessment')}/v1/annual-grades", grade)
    assert status == 422 and problem["rule"] == "assessment.before_work_start" and problem["field"] == "year", problem
    status, answer, _ = await call("POST", f"{system.url('assessment')}/v1/annual-grades", {**grade, "year": 2010})
    assert status == 202, answer


@pytest.mark.parametrize(("event_type", "occurred_on", "refused"), [
    ("post.assigned", date(1997, 6, 30), True),
    ("post.assigned", date(1997, 7, 1), False),
    ("sanction.imposed", date(1990, 1, 1), True),
    ("person.erased", date(1990, 1, 1), False),  # an erasure is not a fact of the cadre's working life
])
def test_facts_fall_in_the_cadres_working_life(event_type: str, occurred_on: date, refused: bool) -> None:
    given = [registration("WL1")]  # started work 1997-07-01
    registered = on_record(given, "WL1", "431021")
    decision = Decision(event_type, _Nothing(), occurred_on)
    if refused:
        with pytest.raises(RuleViolation) as caught:
            not_before_work_start(decision, registered)
        assert caught.value.rule == "cadre.before_work_start"
    else:
        not_before_work_start(decision, registered)
    not_before_work_start(decision, None)  # no registration: on_record answers for that, not this rule


class _Nothing(EventData):
    """Data no rule here reads."""


async def test_nul_characters_are_refused_at_the_edge(system: System) -> None:
    body = {"cadre_id": new_cadre_id(), "county": "431021", "occurred_on": "2024-01-02", "audit_type": "in_office",
            "period_from": "2020-01-01", "period_to": "2023-12-31", "auditing_body": "审计局\u0000"}
    status, problem, _ = await call("POST", f"{system.url('audit')}/v1/audits/NUL-1/start", body)
    assert status == 422 and problem["errors"][0]["field"] == "body"
    status, problem, _ = await call("GET", f"{system.url('ledger')}/v1/cadres?prefix=a%00b")
    assert status == 422 and problem["errors"][0]["field"] == "prefix"


@pytest.mark.parametrize(("text", "nul"), [
    ("a\u0000b", True),
    ("\\\u0000", True),  # an escaped backslash, then U+0000
    ("C:\\u0000", False),  # a backslash, then the letters u0000: a Windows path, no NUL
    ("C:\\\\u0000", False),
    ("plain", False),
])
def test_only_an_escaped_nul_is_a_nul(text: str, nul: bool) -> None:
    assert ("\u0000" in text) is nul, "the table itself"
    assert holds_nul(orjson.dumps({"summary": text})) is nul


async def test_text_spelling_a_nul_escape_is_recorded_and_committed(system: System) -> None:
    body = {"cadre_id": await registered_cadre(system), "county": "431021", "occurred_on": "2024-01-02",
            "audit_type": "in_office", "period_from": "2020-01-01", "period_to": "2023-12-31",
            "auditing_body": "C:\\u0000 审计局"}
    status, result, _ = await call("POST", f"{system.url('audit')}/v1/audits/NUL-2/start?wait=committed", body)
    assert status == 202 and result["committed"] and result["position"], result
    status, history, _ = await call("GET", f"{system.url('ledger')}/v1/cadres/{body['cadre_id']}/history")
    assert history["events"][-1]["event"]["data"]["auditing_body"] == "C:\\u0000 审计局"


async def test_a_committed_message_is_known_as_appended_or_quarantined_with_its_reason(system: System) -> None:
    # `?wait=committed` answers from this: a quarantined event is an error naming why, never `committed: true`.
    cadre = new_cadre_id()
    junk = await publish_raw(system.nats_url, f"cadre.431021.{cadre}", b"not an event")
    [good] = await publish(system.nats_url, [audit_event(cadre)])
    await wait_committed(system.pg_dsn, good)
    pool = await asyncpg.create_pool(system.pg_dsn, min_size=1, max_size=1)
    try:
        position, why = await fate_of(pool, junk, 5)
        assert position is None and why is not None and why.startswith("not_json: ")
        position, why = await fate_of(pool, good, 5)
        assert position is not None and why is None
    finally:
        await pool.close()
    problem = Quarantined(junk, "not_json: x").body()
    assert problem["status"] == 422 and problem["stream_seq"] == junk and "账本已隔离" in problem["detail"]


async def test_a_command_expects_the_cadres_last_message_even_when_it_was_quarantined(system: System) -> None:
    # The stream refuses a publish that does not expect the last sequence on the cadre's subjects, and a
    # message the ledger quarantined is on them too: the command's read must count it, or it conflicts
    # until it gives up (409).
    cadre = await registered_cadre(system)
    start = {"cadre_id": cadre, "county": "431021", "occurred_on": "2024-01-02", "audit_type": "in_office",
             "period_from": "2020-01-01", "period_to": "2023-12-31", "auditing_body": "桂阳县审计局"}
    status, first, _ = await call("POST", f"{system.url('audit')}/v1/audits/Q-1/start?wait=committed", start)
    assert status == 202 and first["committed"], first
    junk = await publish_raw(system.nats_url, f"cadre.431021.{cadre}", b"not an event")
    await wait_committed(system.pg_dsn, junk)
    assert await fetch(system.pg_dsn, "SELECT 1 FROM quarantine WHERE stream_seq = $1", junk)
    status, second, _ = await call("POST", f"{system.url('audit')}/v1/audits/Q-2/start?wait=committed",
                                   {**start, "occurred_on": "2024-02-01"})
    assert status == 202, second
    assert second["stream_seq"] > junk and second["committed"]
    status, history, _ = await call("GET", f"{system.url('ledger')}/v1/cadres/{cadre}/history")
    registration, *audits = history["events"]
    assert registration["event"]["type"] == "cadre.registered"
    assert [e["event"]["data"]["audit_id"] for e in audits] == ["Q-1", "Q-2"]


async def test_a_command_is_for_a_registered_cadre_in_the_county_of_its_registration(system: System) -> None:
    # Before any service's own rules (shared.decisions.on_record): a fact about a cadre nobody registered, or
    # naming a county the cadre is not on record in, would stay in the append-only ledger for good.
    url = f"{system.url('audit')}/v1/audits/REG-1/start?wait=committed"
    start = {"county": "431021", "occurred_on": "2024-01-02", "audit_type": "in_office", "period_from": "2020-01-01",
             "period_to": "2023-12-31", "auditing_body": "桂阳县审计局"}
    status, problem, headers = await call("POST", url, {**start, "cadre_id": new_cadre_id()})
    assert status == 422 and headers["Content-Type"].startswith("application/problem+json"), problem
    assert problem["rule"] == "cadre.registered_first", problem
    assert "尚未登记" in problem["message_zh"] and "尚未登记" in problem["detail"]

    cadre = await registered_cadre(system)
    assert system.stack is not None
    other_county_recorder = system.stack.dev_token(["recorder"], ["110101"])
    status, problem, _ = await call("POST", url, {**start, "cadre_id": cadre, "county": "110101"},
                                    token=other_county_recorder)
    assert status == 422 and problem["rule"] == "cadre.county", problem
    assert "所属县不符" in problem["message_zh"]
    status, history, _ = await call("GET", f"{system.url('ledger')}/v1/cadres/{cadre}/history")
    assert status == 200 and [r["event"]["type"] for r in history["events"]] == ["cadre.registered"], history

    status, answer, _ = await call("POST", url, {**start, "cadre_id": cadre})
    assert status == 202 and answer["committed"] and answer["type"] == "audit.started", answer


# ---- a refusal is decided on the cadre's whole history, as an acceptance is ----------------------------------

@contextlib.contextmanager
def ledger_paused(system: System) -> Iterator[Callable[[], None]]:
    """Hold the ledger process (SIGSTOP): events reach the stream, and the ledger commits none of them until
    the function yielded (or the end of the block) lets it go on."""
    pid = system.procs["ledger"].proc.pid

    def resume() -> None:
        os.kill(pid, signal.SIGCONT)

    os.kill(pid, signal.SIGSTOP)
    try:
        yield resume
    finally:
        resume()


async def later(seconds: float, action: Callable[[], None]) -> None:
    await asyncio.sleep(seconds)
    action()


START = {"county": "431021", "occurred_on": "2024-05-06", "audit_type": "in_office", "period_from": "2020-01-01",
         "period_to": "2023-12-31", "auditing_body": "桂阳县审计局"}


async def test_a_command_refused_on_a_history_the_ledger_has_not_caught_up_with_waits_for_it(system: System) -> None:
    """The registration is in the stream, not yet in the ledger: the audit service does not refuse the cadre as
    unregistered (cadre.registered_first) but waits for the ledger and decides again."""
    cadre = new_cadre_id("LAG")
    with ledger_paused(system) as resume:
        await publish(system.nats_url, [registration(cadre, "431021")])
        resuming = asyncio.create_task(later(1.0, resume))
        status, answer, _ = await call("POST", f"{system.url('audit')}/v1/audits/LAG-1/start?wait=committed",
                                       {"cadre_id": cadre, **START})
        await resuming
    assert status == 202 and answer["committed"] is True, answer


async def test_the_automatic_threshold_check_sees_the_evaluation_it_follows(system: System) -> None:
    """Two evaluations recorded without `?wait=committed` while the ledger lags: the second one's threshold check
    is decided once the ledger holds it, and the breach is recorded."""
    cadre = await registered_cadre(system, "LAGE")
    base = {"cadre_id": cadre, "county": "431021", "year": 2024}
    with ledger_paused(system) as resume:
        status, first, _ = await call("POST", f"{system.url('assessment')}/v1/evaluations", {
            **base, "occurred_on": "2024-12-20", "scope": "county_wide", "ballots": 120, "rank": 58, "of": 60,
            "counts": {"excellent": 36, "competent": 70, "basically_competent": 6, "incompetent": 8}})
        assert status == 202 and first["evaluation"]["committed"] is False, first
        resuming = asyncio.create_task(later(1.0, resume))
        status, second, _ = await call("POST", f"{system.url('assessment')}/v1/evaluations", {
            **base, "occurred_on": "2024-12-22", "scope": "own_unit", "ballots": 40,
            "counts": {"excellent": 12, "competent": 18, "basically_competent": 1, "incompetent": 9}})
        await resuming
    assert status == 202 and second["threshold_check"] == "recorded", second
    assert second["threshold_breached"]["type"] == "assessment.threshold_breached"


async def test_a_refusal_the_ledger_cannot_confirm_in_time_is_503(system: System, tmp_path: Path) -> None:
    """The ledger stays behind past CADRE_COMMIT_WAIT_S: no refusal on a history known to be incomplete."""
    spec = next(s for s in SERVICES if s.name == "audit")
    audit = ServiceProcess(spec, free_port(), {**system.env_for("audit"), "CADRE_COMMIT_WAIT_S": "0.5"}, tmp_path)
    try:
        await asyncio.to_thread(audit.wait_ready)
        cadre = new_cadre_id("LAGU")
        with ledger_paused(system):
            seq = (await publish(system.nats_url, [registration(cadre, "431021")]))[0]
            status, problem, headers = await call("POST", f"{audit.url}/v1/audits/LAGU-1/start",
                                                  {"cadre_id": cadre, **START})
        assert status == 503 and problem["cadre_id"] == cadre, problem
        assert "台账尚未写入该干部的最新事件" in problem["detail"] and headers["Retry-After"], problem
        await wait_committed(system.pg_dsn, seq)
        status, answer, _ = await call("POST", f"{audit.url}/v1/audits/LAGU-1/start", {"cadre_id": cadre, **START})
        assert status == 202, answer
    finally:
        audit.stop()
