"""The audit summary over HTTP (`GET /v1/audits/summary`): seed S1's audit figures from the ledger's read models."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from pydantic import BaseModel

from bench.workload import registration
from shared.envelope import CloudEvent, new_event
from shared.events.audit import AuditCompleted, AuditFindingRectified, AuditResultApplied, AuditStarted, Finding
from shared.rulesets import ruleset_for
from tests.support import System, call, new_cadre_id, publish, wait_committed, wait_until

TYPES = ("pre_appointment", "in_office", "departure")
EVALUATIONS = ("good", "fairly_good", "average", "poor")


def _audit_event(type_: str, cadre: str, county: str, on: date, data: BaseModel) -> CloudEvent:
    return new_event(event_type=type_, cadre_id=cadre, county=county, service="audit", data=data, occurred_on=on,
                     ruleset=ruleset_for(county, on).id)


def _audit(cadre: str, county: str, audit_id: str, k: int, completed_on: date, result: str | None,
           findings: Sequence[Finding] = ()) -> list[CloudEvent]:
    """An audit started, completed (its type and evaluation from `k`) and, with `result`, its result applied."""
    audit_type = TYPES[k % 3]
    events = [
        _audit_event("audit.started", cadre, county, completed_on - timedelta(days=60), AuditStarted(
            audit_id=audit_id, audit_type=audit_type, period_from=date(2018, 1, 1), period_to=date(2020, 12, 31),
            auditing_body="县审计局经济责任审计室")),
        _audit_event("audit.completed", cadre, county, completed_on, AuditCompleted(
            audit_id=audit_id, audit_type=audit_type, report_number=f"审经责〔{completed_on.year}〕{k}号",
            evaluation=EVALUATIONS[k % 4], findings=list(findings)))]
    if result is not None:
        events.append(_audit_event("audit.result_applied", cadre, county, completed_on + timedelta(days=20),
                                   AuditResultApplied(audit_id=audit_id, result=result, filed_to_dossier=k % 2 == 0)))
    return events


async def _summary(system: System, query: str) -> tuple[int, Any]:
    status, body, _ = await call("GET", f"{system.url('ledger')}/v1/audits/summary?{query}")
    return status, body


async def test_the_audit_summary_reproduces_seed_s1(system: System) -> None:
    """S1 over three years: 60 leaders audited (pre-appointment, in office, departure), 8 demoted, removed or
    disciplined, 5 talked to. One cadre has a second audit, also ending in a talk: an audit more, no cadre more."""
    county = f"48{random.randrange(10_000):04d}"  # a county of its own (national rule set), so counts are exact
    cadres = [new_cadre_id(f"AS{county}") for _ in range(60)]
    results = ["talk"] * 3 + ["admonishment"] * 2 + ["organisational_handling"] * 5 + ["referral"] * 3 + \
        [None] * 7 + ["none"] * 40
    events = [registration(cadre, county) for cadre in cadres]
    for k, (cadre, result) in enumerate(zip(cadres, results, strict=True)):
        completed_on = date(2021 + k % 3, 6, 1) + timedelta(days=k)
        findings = [Finding(finding_id="F1", category=3, amount=Decimal("1000.50"), responsibility="direct"),
                    Finding(finding_id="F2", category=7, amount=Decimal("200.00"), responsibility="leadership")] \
            if k < 10 else []
        events += _audit(cadre, county, f"SJ-{k}", k, completed_on, result, findings)
        if k < 4:
            events.append(_audit_event("audit.finding_rectified", cadre, county, completed_on + timedelta(days=30),
                                       AuditFindingRectified(audit_id=f"SJ-{k}", finding_id="F1",
                                                             amount_recovered=Decimal("800.00"))))
    events += _audit(cadres[0], county, "SJ-again", 61, date(2023, 11, 1), "talk")
    await wait_committed(system.pg_dsn, max(await publish(system.nats_url, events)))

    async def summarised() -> Any:
        status, body = await _summary(system, f"county={county}")
        return body if status == 200 and body["audits"] == 61 and body["results_pending"] == 7 else None

    body = await wait_until(summarised)
    assert body["cadres_audited"] == 60, body
    assert body["cadres_talked_to"] == 5 and body["cadres_handled_or_disciplined"] == 8, body
    assert body["by_type"] == {"pre_appointment": 20, "in_office": 21, "departure": 20}, body  # 61 % 3 == 1
    assert sum(body["by_evaluation"].values()) == 61 and set(body["by_evaluation"]) == set(EVALUATIONS), body
    assert body["results"] == {"none": 40, "talk": 4, "admonishment": 2, "organisational_handling": 5,
                               "referral": 3}, body
    assert body["filed_to_dossier"] == sum(1 for k, r in enumerate(results) if r is not None and k % 2 == 0), body
    assert body["findings"] == 20 and body["findings_amount"] == "12005.00", body
    assert body["findings_by_responsibility"] == {"direct": 10, "leadership": 10}, body
    assert body["findings_rectified"] == 4 and body["amount_recovered"] == "3200.00", body

    # The period narrows by completion day: 2023's audits only (k % 3 == 2, and the second audit, of a cadre first
    # audited in 2021).
    status, narrow = await _summary(system, f"county={county}&completed_from=2023-01-01&completed_to=2023-12-31")
    assert status == 200 and narrow["audits"] == 21 and narrow["cadres_audited"] == 21, narrow
    assert narrow["results"]["talk"] == 2 and narrow["cadres_talked_to"] == 2, narrow  # k == 2 and the second
    assert narrow["completed_from"] == "2023-01-01" and narrow["completed_to"] == "2023-12-31", narrow
    assert body["as_of"] is None and narrow["as_of"] is None, narrow

    # As it stood on a report's day: audits completed by then, results applied (20 days after completion), filed
    # and findings rectified (30 days after) by then. 2021-06-11: audits 0, 3, 6 and 9, nothing applied yet.
    status, early = await _summary(system, f"county={county}&as_of=2021-06-11")
    assert status == 200 and early["as_of"] == "2021-06-11" and early["audits"] == 4, early
    assert early["results_pending"] == 4 and sum(early["results"].values()) == 0, early
    assert early["findings"] == 8 and early["findings_rectified"] == 0 and early["amount_recovered"] == "0.00", early
    # 2021-07-01: audits 0, 3, ..., 30; results of 0 (talk), 3 (admonishment), 6 and 9 (organisational handling)
    # applied, 0 and 6 filed; audit 0's first finding rectified.
    status, later = await _summary(system, f"county={county}&as_of=2021-07-01")
    assert status == 200 and later["audits"] == 11 and later["results_pending"] == 7, later
    assert later["results"] == {"none": 0, "talk": 1, "admonishment": 1, "organisational_handling": 2,
                                "referral": 0}, later
    assert later["cadres_talked_to"] == 2 and later["cadres_handled_or_disciplined"] == 2, later
    assert later["filed_to_dossier"] == 2, later
    assert later["findings_rectified"] == 1 and later["amount_recovered"] == "800.00", later


async def test_an_empty_county_and_a_reversed_period(system: System) -> None:
    status, body = await _summary(system, "county=470000")
    assert status == 200 and body["audits"] == 0 and body["findings_amount"] == "0.00", body
    assert body["by_type"] == {"pre_appointment": 0, "in_office": 0, "departure": 0}, body
    status, problem = await _summary(system, "completed_from=2024-12-31&completed_to=2024-01-01")
    assert status == 422, problem
    assert [e["field"] for e in problem["errors"]] == ["completed_to"], problem
    assert "截止日期早于起始日期" in problem["errors"][0]["message"], problem
