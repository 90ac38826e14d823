"""The audit lifecycle through HTTP and the ledger: commands -> events -> history, dossier and read models."""

from __future__ import annotations

from typing import Any

from shared.problems import RECORD_KEEPING
from tests.support import System, call, registered_cadre, wait_until

FINDINGS = [
    {"finding_id": "F1", "category": 3, "amount": "12000.50", "responsibility": "direct",
     "description": "违规发放津贴补贴"},
    {"finding_id": "F2", "category": 7, "amount": "3000.00", "responsibility": "leadership"},
    {"finding_id": "F3", "category": 20, "amount": "150000.00", "responsibility": "direct"},
]


async def post(system: System, path: str, cadre: str, body: dict[str, Any], expect: int = 202) -> dict[str, Any]:
    """POST a command for `cadre` in the seed county; assert the status; return the answer."""
    status, answer, _ = await call("POST", f"{system.url('audit')}{path}?wait=committed",
                                   {"cadre_id": cadre, "county": "431021", **body})
    assert status == expect, answer
    return dict(answer)


async def open_findings(system: System, cadre: str, as_of: str | None = None) -> dict[str, Any]:
    query = f"cadre_id={cadre}" + (f"&as_of={as_of}" if as_of else "")
    status, page, _ = await call("GET", f"{system.url('ledger')}/v1/audits/open-findings?{query}")
    assert status == 200, page
    return dict(page)


async def test_departure_audit_with_three_findings_one_rectified_result_applied_as_admonishment(
        system: System) -> None:
    cadre, audit = await registered_cadre(system, "SJ"), "/v1/audits/SJ-2024-088"
    await post(system, f"{audit}/start", cadre, {
        "occurred_on": "2024-05-06", "audit_type": "departure", "period_from": "2019-01-01",
        "period_to": "2024-03-31", "auditing_body": "桂阳县审计局经济责任审计室", "post_id": "P-TOWN-1"})
    requested = await post(system, f"{audit}/opinion-request", cadre, {"occurred_on": "2024-06-03"})
    assert requested["type"] == "audit.opinion_requested"

    completion = {"occurred_on": "2024-06-17", "audit_type": "departure", "report_number": "桂审经责〔2024〕88号",
                  "evaluation": "average", "findings": FINDINGS}
    # the window runs to 18 June (10 working days; 10 June is the Dragon Boat holiday) and no opinion came
    early = await post(system, f"{audit}/complete", cadre, completion, expect=422)
    assert early["rule"] == "audit.opinion_window_open" and "2024-06-18" in early["message_en"]
    assert "书面意见" in early["message_zh"]

    await post(system, f"{audit}/opinion", cadre, {"occurred_on": "2024-06-14", "agrees": False,
                                                   "summary": "对第2项问题的责任认定有异议"})
    await post(system, f"{audit}/complete", cadre, completion)

    page = await wait_until(lambda: _with_open(system, cadre, 3))
    [entry] = page["audits"]
    assert entry["audit_id"] == "SJ-2024-088" and entry["audit_type"] == "departure"
    assert entry["open_amount"] == "165000.50" and entry["findings"] == 3
    assert entry["result_applied"] is False and entry["filed_to_dossier"] is False
    f1 = next(f for f in entry["open"] if f["finding_id"] == "F1")
    assert f1["amount"] == "12000.50" and f1["responsibility"] == "direct" and f1["category_label"] == "第3种情形"

    rectified = await post(system, f"{audit}/findings/F2/rectify", cadre, {
        "occurred_on": "2024-07-10", "measures": "已追回资金", "amount_recovered": "3000.00"})
    assert rectified["warnings"] == [], "exactly what the finding involved"
    await post(system, f"{audit}/result", cadre, {"occurred_on": "2024-07-15", "result": "admonishment",
                                                  "filed_to_dossier": True, "reference": "桂组干〔2024〕31号"})
    await post(system, "/v1/talks/TH-2024-088", cadre, {"occurred_on": "2024-07-18", "kind": "admonishment",
                                                        "audit_id": "SJ-2024-088", "summary": "诫勉谈话"})

    status, history, _ = await call("GET", f"{system.url('ledger')}/v1/cadres/{cadre}/history")
    assert status == 200
    assert [r["event"]["type"] for r in history["events"]] == [
        "cadre.registered", "audit.started", "audit.opinion_requested", "audit.opinion_received", "audit.completed",
        "audit.finding_rectified", "audit.result_applied", "supervision.talk_held"]
    assert history["events"][4]["event"]["data"]["findings"][2]["amount"] == "150000.00"
    assert history["events"][2]["event"]["data"]["due"] == "2024-06-18"
    assert history["events"][6]["event"]["data"]["result"] == "admonishment"

    page = await wait_until(lambda: _with_open(system, cadre, 2, as_of="2024-08-01"))
    [entry] = page["audits"]
    assert sorted(f["finding_id"] for f in entry["open"]) == ["F1", "F3"]
    assert entry["open_amount"] == "162000.50" and entry["oldest_open_days"] == 45
    assert entry["result_applied"] is True and entry["result"] == "admonishment" and entry["filed_to_dossier"]
    # as it stood before the rectification and the result
    [before] = (await open_findings(system, cadre, "2024-07-01"))["audits"]
    assert before["open_findings"] == 3 and before["result_applied"] is False
    assert (await open_findings(system, cadre, "2024-06-16"))["audits"] == []

    status, state, _ = await call("GET", f"{system.url('ledger')}/v1/cadres/{cadre}/state")
    dossier_audit = state["audits"]["SJ-2024-088"]
    assert dossier_audit["open_findings"] == 2 and dossier_audit["result"] == "admonishment"
    assert dossier_audit["opinion_due"] == "2024-06-18" and dossier_audit["opinion_agrees"] is False
    assert [t["kind"] for t in state["talks"]] == ["admonishment"]

    await post(system, f"{audit}/findings/F3/rectify", cadre, {"occurred_on": "2024-09-02"})
    # F1 involved 12000.50: recovering 99999.00 is recorded, with a warning that the figure is likely mistyped
    beyond = await post(system, f"{audit}/findings/F1/rectify", cadre, {"occurred_on": "2024-08-20",
                                                                        "amount_recovered": "99999.00"})
    assert [w["code"] for w in beyond["warnings"]] == ["audit.recovered_beyond_amount"], beyond
    assert "12000.50" in beyond["warnings"][0]["message_zh"]
    await wait_until(lambda: _with_open(system, cadre, 0, as_of="2024-09-02"))
    [still] = (await open_findings(system, cadre, "2024-09-01"))["audits"]
    assert [f["finding_id"] for f in still["open"]] == ["F3"]


async def _with_open(system: System, cadre: str, n: int, as_of: str = "2024-06-30") -> dict[str, Any] | None:
    page = await open_findings(system, cadre, as_of)
    count = sum(a["open_findings"] for a in page["audits"])
    return page if count == n and page["total_open_findings"] == n else None


async def test_lifecycle_rules_answer_422_naming_the_rule(system: System) -> None:
    cadre, audit = await registered_cadre(system, "SJ"), "/v1/audits/SJ-R1"
    start = {"occurred_on": "2024-03-01", "audit_type": "in_office", "period_from": "2021-01-01",
             "period_to": "2023-12-31", "auditing_body": "桂阳县审计局"}
    problem = await post(system, f"{audit}/opinion-request", cadre, {"occurred_on": "2024-03-04"}, expect=422)
    assert problem["rule"] == "audit.not_started" and problem["basis"] == RECORD_KEEPING
    problem = await post(system, f"{audit}/start", cadre, {**start, "audit_type": "departure"}, expect=422)
    assert problem["rule"] == "audit.departure_post" and "经济责任审计规定" in problem["basis"]
    await post(system, f"{audit}/start", cadre, start)
    problem = await post(system, f"{audit}/complete", cadre, {
        "occurred_on": "2024-05-01", "audit_type": "in_office", "report_number": "R", "evaluation": "good"},
        expect=422)
    assert problem["rule"] == "audit.opinion_not_requested"
    await post(system, f"{audit}/opinion-request", cadre, {"occurred_on": "2024-03-04"})
    problem = await post(system, f"{audit}/opinion", cadre, {"occurred_on": "2024-03-19", "agrees": True},
                         expect=422)
    assert problem["rule"] == "audit.opinion_late" and "视同无异议" in problem["message_zh"]
    # no opinion came: once the window has closed (18 March) the audit completes
    await post(system, f"{audit}/complete", cadre, {"occurred_on": "2024-03-19", "audit_type": "in_office",
                                                    "report_number": "R", "evaluation": "good", "findings": []})
    problem = await post(system, f"{audit}/findings/F1/rectify", cadre, {"occurred_on": "2024-03-20"}, expect=422)
    assert problem["rule"] == "audit.finding_unknown"

    status, bad, _ = await call("POST", f"{system.url('audit')}/v1/audits/SJ-R2/complete", {
        "cadre_id": cadre, "county": "431021", "occurred_on": "2024-03-19", "audit_type": "in_office",
        "report_number": "R", "evaluation": "good",
        "findings": [{"finding_id": "F1", "category": 1, "amount": 12.5, "responsibility": "direct"}]})
    assert status == 422 and bad["errors"][0]["field"] == "findings.0.amount"


async def results_pending(system: System, cadre: str, as_of: str) -> list[tuple[str, str | None]]:
    status, page, _ = await call("GET", f"{system.url('ledger')}/v1/audits/results-pending?cadre_id={cadre}"
                                        f"&as_of={as_of}")
    assert status == 200, page
    return [(a["pending"], a["result"]) for a in page["audits"]]


async def test_a_completed_audit_is_listed_until_its_result_is_applied_and_filed(system: System) -> None:
    """Rule 9: results are applied and filed (审计结果运用, 归档); a result applied unfiled is filed later."""
    cadre, audit = await registered_cadre(system, "SJ"), "/v1/audits/SJ-P1"
    await post(system, f"{audit}/start", cadre, {"occurred_on": "2024-03-01", "audit_type": "in_office",
                                                 "period_from": "2021-01-01", "period_to": "2023-12-31",
                                                 "auditing_body": "桂阳县审计局"})
    await post(system, f"{audit}/opinion-request", cadre, {"occurred_on": "2024-03-04"})
    await post(system, f"{audit}/complete", cadre, {"occurred_on": "2024-03-19", "audit_type": "in_office",
                                                    "report_number": "R", "evaluation": "good", "findings": []})

    async def listed() -> list[tuple[str, str | None]] | None:
        return await results_pending(system, cadre, "2024-03-20") or None

    assert await wait_until(listed) == [("not_applied", None)]
    await post(system, f"{audit}/result", cadre, {"occurred_on": "2024-04-01", "result": "talk",
                                                  "filed_to_dossier": False})
    refused = await post(system, f"{audit}/result", cadre, {"occurred_on": "2024-04-10", "result": "admonishment",
                                                            "filed_to_dossier": True}, expect=422)
    assert refused["rule"] == "audit.result_apply_once" and "补记归档" in refused["message_zh"]
    assert "运用 (谈话 (talk))" in refused["message_zh"], "the result by its Chinese name, not its code alone"
    await post(system, f"{audit}/result", cadre, {"occurred_on": "2024-04-15", "result": "talk",
                                                  "filed_to_dossier": True})

    async def filed() -> bool:
        return await results_pending(system, cadre, "2024-04-16") == []

    await wait_until(filed)
    assert await results_pending(system, cadre, "2024-04-02") == [("not_filed", "talk")]
    assert await results_pending(system, cadre, "2024-03-25") == [("not_applied", None)]
    assert await results_pending(system, cadre, "2024-03-18") == [], "not completed yet"
    status, state, _ = await call("GET", f"{system.url('ledger')}/v1/cadres/{cadre}/state")
    assert status == 200
    dossier = state["audits"]["SJ-P1"]
    assert (dossier["result"], dossier["result_applied_on"], dossier["filed_on"]) == ("talk", "2024-04-01",
                                                                                     "2024-04-15")
    status, problem, _ = await call("GET", f"{system.url('ledger')}/v1/audits/results-pending?pending=lost")
    assert status == 422 and problem["errors"][0]["field"] == "pending", problem
