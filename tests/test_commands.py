"""The shared write path: rules every command service enforces the same way."""

from __future__ import annotations

from datetime import date, timedelta

from tests.support import System, call, new_cadre_id


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
