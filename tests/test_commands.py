"""The shared write path: rules every command service enforces the same way."""

from __future__ import annotations

from datetime import date, timedelta

from tests.support import System, call, fetch, new_cadre_id, publish_raw, wait_committed


async def test_a_fact_dated_after_today_is_refused(system: System) -> None:
    tomorrow = (date.today() + timedelta(days=1)).isoformat()
    body = {"cadre_id": new_cadre_id(), "county": "431021", "occurred_on": tomorrow, "audit_type": "in_office",
            "period_from": "2020-01-01", "period_to": "2023-12-31", "auditing_body": "桂阳县审计局"}
    status, problem, _ = await call("POST", f"{system.url('audit')}/v1/audits/FUT-1/start", body)
    assert status == 422, problem
    assert problem["rule"] == "command.not_in_future" and "不能记录尚未发生的事实" in problem["message_zh"]


async def test_nul_characters_are_refused_at_the_edge(system: System) -> None:
    body = {"cadre_id": new_cadre_id(), "county": "431021", "occurred_on": "2024-01-02", "audit_type": "in_office",
            "period_from": "2020-01-01", "period_to": "2023-12-31", "auditing_body": "审计局\u0000"}
    status, problem, _ = await call("POST", f"{system.url('audit')}/v1/audits/NUL-1/start", body)
    assert status == 422 and problem["errors"][0]["field"] == "body"
    status, problem, _ = await call("GET", f"{system.url('ledger')}/v1/cadres?prefix=a%00b")
    assert status == 422 and problem["errors"][0]["field"] == "prefix"


async def test_a_command_expects_the_cadres_last_message_even_when_it_was_quarantined(system: System) -> None:
    # The stream refuses a publish that does not expect the last sequence on the cadre's subjects, and a
    # message the ledger quarantined is on them too: the command's read must count it, or it conflicts
    # until it gives up (409).
    cadre = new_cadre_id()
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
    assert [e["event"]["data"]["audit_id"] for e in history["events"]] == ["Q-1", "Q-2"]
