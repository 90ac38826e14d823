"""The vertical slice through real interfaces: HTTP command -> NATS -> ledger -> HTTP history.

An audit completes only after it was started and the cadre's opinion was requested and received (or its
window closed): `prepare_audit` records those steps first.
"""

from __future__ import annotations

import uuid

from tests.support import System, audit_body, call, new_cadre_id, prepare_audit, registered_cadre


async def test_completed_audit_appears_in_history_with_read_your_writes(system: System) -> None:
    cadre = await registered_cadre(system)
    await prepare_audit(system, cadre, "SJ-1")
    status, body, _ = await call("POST", f"{system.url('audit')}/v1/audits/SJ-1/complete?wait=committed",
                                 audit_body(cadre))
    assert status == 202, body
    assert body["committed"] is True and body["position"] >= 1
    assert body["ruleset"] == "431021@2024.3"
    assert uuid.UUID(body["event_id"]).version == 7, "the service gives the event a time-ordered id (shared.ids)"

    status, history, _ = await call("GET", f"{system.url('ledger')}/v1/cadres/{cadre}/history")
    assert status == 200
    assert [r["event"]["type"] for r in history["events"]] == [
        "cadre.registered", "audit.started", "audit.opinion_requested", "audit.opinion_received", "audit.completed"]
    first, *_, row = history["events"]
    assert first["cadre_version"] == 1 and first["prev_hash"] is None
    assert row["event"]["id"] == body["event_id"]
    assert row["position"] == body["position"]
    assert row["cadre_version"] == 5 and row["prev_hash"] == history["events"][-2]["leaf_hash"]
    assert row["event"]["data"]["findings"][0]["amount"] == "12000.50"
    assert (row["label_zh"], row["label_en"]) == ("经济责任审计完成", "Economic responsibility audit completed")


async def test_completing_an_audit_twice_is_a_rule_violation(system: System) -> None:
    cadre = await registered_cadre(system)
    await prepare_audit(system, cadre, "SJ-2")
    url = f"{system.url('audit')}/v1/audits/SJ-2/complete?wait=committed"
    status, problem, _ = await call("POST", url, audit_body(cadre, audit_type="in_office"))
    assert status == 422 and problem["rule"] == "audit.type_mismatch"
    # the clerk reads the audit types in Chinese (it said "开始时登记为 departure, 不是 in_office")
    assert "开始时登记为离任审计 (departure), 不是任中审计 (in_office)" in problem["message_zh"], problem["message_zh"]
    assert (await call("POST", url, audit_body(cadre)))[0] == 202
    status, problem, headers = await call("POST", url, audit_body(cadre))
    assert status == 422
    assert headers["Content-Type"].startswith("application/problem+json")
    assert problem["rule"] == "audit.complete_once"
    assert "已经完成" in problem["message_zh"] and "already completed" in problem["message_en"]


async def test_unknown_finding_category_names_the_rule_set(system: System) -> None:
    cadre = await registered_cadre(system)
    await prepare_audit(system, cadre, "SJ-3")
    body = audit_body(cadre, findings=[
        {"finding_id": "F1", "category": 21, "amount": "1.00", "responsibility": "direct"}])
    status, problem, _ = await call("POST", f"{system.url('audit')}/v1/audits/SJ-3/complete", body)
    assert status == 422
    assert problem["rule"] == "audit.finding_category"
    assert "431021@2024.3" in problem["message_en"]


async def test_bad_input_is_a_problem_naming_the_fields(system: System) -> None:
    url = f"{system.url('audit')}/v1/audits/SJ-4/complete"
    status, problem, _ = await call("POST", url, audit_body("not a valid id!", evaluation="excellent"))
    assert status == 422
    assert {e["field"] for e in problem["errors"]} == {"cadre_id", "evaluation"}

    status, problem, _ = await call("POST", url, data=b"{not json", headers={"Content-Type": "application/json"})
    assert status == 400 and "JSON" in problem["detail"]

    status, problem, _ = await call("POST", f"{system.url('audit')}/v1/audits/bad%20id/complete",
                                    audit_body(new_cadre_id()))
    assert status == 422 and problem["errors"][0]["field"] == "audit_id"

    status, problem, _ = await call("POST", f"{url}?wait=soon", audit_body(new_cadre_id()))
    assert status == 422 and problem["errors"][0]["field"] == "wait"


async def test_an_amount_is_plain_digits_as_the_catalogue_writes_it(system: System) -> None:
    """Decimal would read an exponent, full-width digits, a separator or a sign, and the event would carry "1E+5":
    each is a 422 naming the amount, in Chinese too; plain digits with up to two decimals are recorded as sent."""
    cadre = await registered_cadre(system)
    await prepare_audit(system, cadre, "SJ-AMT")
    url = f"{system.url('audit')}/v1/audits/SJ-AMT/complete"
    for amount in ("1e5", "1E+2", "１００", "1_000", "+5", " 10", "100.555", "NaN", "-1"):
        body = audit_body(cadre, findings=[
            {"finding_id": "F1", "category": 3, "amount": amount, "responsibility": "direct"}])
        status, problem, _ = await call("POST", url, body)
        assert status == 422, (amount, problem)
        [error] = problem["errors"]
        assert error["field"] == "findings.0.amount" and "金额须写作数字" in error["message_zh"], (amount, problem)
    body = audit_body(cadre, findings=[
        {"finding_id": "F1", "category": 3, "amount": "100000", "responsibility": "direct"}])
    status, answer, _ = await call("POST", f"{url}?wait=committed", body)
    assert status == 202, answer
    status, history, _ = await call("GET", f"{system.url('ledger')}/v1/cadres/{cadre}/history")
    assert history["events"][-1]["event"]["data"]["findings"][0]["amount"] == "100000", history


async def test_a_whole_number_is_a_json_integer_not_a_boolean_or_a_string(system: System) -> None:
    """pydantic's lax mode read true as 1 and "3" as 3, and the event carried the integer: a 422 naming the field."""
    cadre = await registered_cadre(system)
    await prepare_audit(system, cadre, "SJ-INT")
    url = f"{system.url('audit')}/v1/audits/SJ-INT/complete"
    for category in (True, "3", 3.0):
        body = audit_body(cadre, findings=[
            {"finding_id": "F1", "category": category, "amount": "1.00", "responsibility": "direct"}])
        status, problem, _ = await call("POST", url, body)
        assert status == 422, (category, problem)
        [error] = problem["errors"]
        assert (error["field"], error["message_zh"]) == ("findings.0.category", "须为整数"), (category, problem)
