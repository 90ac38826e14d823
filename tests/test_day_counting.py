"""Day counting through HTTP and the ledger: a deferral (缓任) ends as a sanction's effect period of the same months
does, the day before its month-day; the audit opinion and inquiry windows count from the receipt (自收到之日起) when
it is recorded; a year's annual grade (年度考核等次) is recorded from its end (年末) on, never in its spring."""

from __future__ import annotations

from datetime import date
from typing import Any

from shared.envelope import new_event
from shared.events.assessment import AppointmentDeferred
from shared.rulesets import ruleset_for
from tests.assessment_slice_support import base, ledger_get, notice, post, projected, refused, select
from tests.support import System, call, publish, registered_cadre, wait_committed, wait_until

CURRENT = "431021@2024.3"
"""The seed county's rule set of 2024 as corrected for these counts (it supersedes 431021@2024.2)."""


async def audit(system: System, path: str, body: dict[str, Any], expect: int = 202) -> dict[str, Any]:
    """A command of the audit service: accepted and committed (202), or refused with `expect`."""
    status, answer, headers = await call("POST", f"{system.url('audit')}{path}?wait=committed", body)
    assert status == expect, answer
    if expect == 422:
        assert headers["Content-Type"].startswith("application/problem+json")
    return dict(answer)


async def test_a_deferral_and_a_sanction_end_the_day_before_their_month_day(system: System) -> None:
    """Decided on 14 March 2024, a 3-month deferral runs at most until 13 June (the appointment is free on 14 June),
    as a 6-month 政务警告 from 14 March runs at least until 13 September; until 14 June was accepted before."""
    cadre = await registered_cadre(system, "HT")
    await select(system, cadre, "XB-DC", "2024-03-01", "2024-03-08")
    await notice(system, cadre, "XB-DC", "GS-DC", "2024-03-11", "2024-03-15")
    problem = await refused(system, "assessment", "/v1/notices/GS-DC/deferral",
                            {**base(cadre, "2024-03-14"), "until": "2024-06-14"}, "appointment.deferral_max")
    assert problem["latest"] == "2024-06-13" and problem["field"] == "until" and problem["ruleset"] == CURRENT
    assert "缓任期限最长3个月" in problem["message_zh"] and "不晚于 2024-06-13" in problem["message_zh"]
    deferred = await post(system, "assessment", "/v1/notices/GS-DC/deferral",
                          {**base(cadre, "2024-03-14"), "until": "2024-06-13", "reason": "举报待核查"})
    assert deferred["type"] == "appointment.deferred" and deferred["ruleset"] == CURRENT

    sanction = {**base(cadre, "2024-03-14"), "category": "administrative", "measure": "warning",
                "effective_from": "2024-03-14"}
    short = await audit(system, "/v1/sanctions/CF-DC", {**sanction, "effective_until": "2024-09-12"}, expect=422)
    assert short["rule"] == "sanction.effect_period_short" and short["shortest_until"] == "2024-09-13"
    await audit(system, "/v1/sanctions/CF-DC", {**sanction, "effective_until": "2024-09-13"})


async def test_at_a_month_end_a_period_runs_to_the_last_day_of_the_month_that_has_no_such_day(system: System) -> None:
    """Found by review: a period whose first day has no month-day in its last month ended a day too early. Decided on
    30 Nov 2023, a 3-month deferral was refused until 29 Feb 2024, and a 6-month 政务警告 effective from 31 May 2024
    was accepted until 29 Nov, while 民法典 第二百零二条 (the count period_end says it equals, from the day before)
    ends them on 29 Feb and 30 Nov: a month with no such day ends on its last day (月末日为期间的最后一日)."""
    cadre = await registered_cadre(system, "ME")
    await select(system, cadre, "XB-ME", "2023-11-01", "2023-11-10")
    await notice(system, cadre, "XB-ME", "GS-ME", "2023-11-13", "2023-11-17")
    over = await refused(system, "assessment", "/v1/notices/GS-ME/deferral",
                         {**base(cadre, "2023-11-30"), "until": "2024-03-01"}, "appointment.deferral_max")
    assert over["latest"] == "2024-02-29", over
    deferred = await post(system, "assessment", "/v1/notices/GS-ME/deferral",
                          {**base(cadre, "2023-11-30"), "until": "2024-02-29", "reason": "举报待核查"})
    assert deferred["type"] == "appointment.deferred"

    sanction = {**base(cadre, "2024-05-31"), "category": "administrative", "measure": "warning",
                "effective_from": "2024-05-31"}
    short = await audit(system, "/v1/sanctions/CF-ME", {**sanction, "effective_until": "2024-11-29"}, expect=422)
    assert short["rule"] == "sanction.effect_period_short" and short["shortest_until"] == "2024-11-30", short
    await audit(system, "/v1/sanctions/CF-ME", {**sanction, "effective_until": "2024-11-30"})


async def test_a_years_grade_is_refused_before_the_years_end(system: System) -> None:
    cadre = await registered_cadre(system, "KH")
    problem = await refused(system, "assessment", "/v1/annual-grades",
                            {**base(cadre, "2024-03-01"), "year": 2024, "grade": "competent"},
                            "assessment.grade_before_year_end")
    assert problem["earliest"] == "2024-12-01" and problem["year"] == 2024 and problem["field"] == "year"
    assert problem["ruleset"] == CURRENT and "公务员考核规定" in problem["basis"]
    assert "年度考核一般每年年末或者翌年年初进行" in problem["basis"] and "考核年度未到年末" in problem["message_zh"]
    graded = await post(system, "assessment", "/v1/annual-grades",
                        {**base(cadre, "2025-01-10"), "year": 2024, "grade": "competent"})
    assert graded["type"] == "assessment.annual_graded"


async def test_the_opinion_window_counts_from_the_day_the_cadre_received_the_request(system: System) -> None:
    """Sent Mon 3 June 2024, received Thu 6 June: ten working days end on 21 June (10 June is the Dragon Boat
    holiday), not on 18 June as counted from the sending."""
    cadre, path = await registered_cadre(system, "SJ"), "/v1/audits/SJ-DC-1"
    who = {"cadre_id": cadre, "county": "431021"}
    await audit(system, f"{path}/start", {**who, "occurred_on": "2024-05-06", "audit_type": "in_office",
                                          "period_from": "2021-01-01", "period_to": "2023-12-31",
                                          "auditing_body": "桂阳县审计局经济责任审计室"})
    sent = {**who, "occurred_on": "2024-06-03"}
    future = await audit(system, f"{path}/opinion-request", {**sent, "received_on": "2099-06-06"}, expect=422)
    assert future["rule"] == "command.not_in_future" and future["field"] == "received_on"
    assert "收到日期" in future["message_zh"]
    early = await audit(system, f"{path}/opinion-request", {**sent, "received_on": "2024-06-02"}, expect=422)
    assert early["rule"] == "audit.chronology" and early["field"] == "received_on"
    await audit(system, f"{path}/opinion-request", {**sent, "received_on": "2024-06-06"})
    completion = {**who, "occurred_on": "2024-06-20", "audit_type": "in_office", "report_number": "桂审经责〔2024〕9号",
                  "evaluation": "good"}
    still_open = await audit(system, f"{path}/complete", completion, expect=422)
    assert still_open["rule"] == "audit.opinion_window_open" and "2024-06-21" in still_open["message_en"]
    # found by review: the cadre cannot answer a request before receiving it; the answer was accepted from the sending
    unread = await audit(system, f"{path}/opinion", {**who, "occurred_on": "2024-06-05", "agrees": True}, expect=422)
    assert unread["rule"] == "audit.chronology" and "2024-06-06" in unread["message_en"], unread
    opinion = await audit(system, f"{path}/opinion", {**who, "occurred_on": "2024-06-20", "agrees": True})
    assert opinion["type"] == "audit.opinion_received"
    state = await ledger_get(system, f"/v1/cadres/{cadre}/state")
    recorded = state["audits"]["SJ-DC-1"]
    assert recorded["opinion_request_received_on"] == "2024-06-06" and recorded["opinion_due"] == "2024-06-21"


async def test_an_inquiry_is_due_fifteen_working_days_after_its_receipt(system: System) -> None:
    """Sent Fri 1 March 2024 and received Tue 5 March: due Tue 26 March (from the sending it was Fri 22 March), so
    it is not overdue on 25 March and an answer on 26 March is on time."""
    cadre = await registered_cadre(system, "HX")
    who = {"cadre_id": cadre, "county": "431021"}
    sent = await audit(system, "/v1/inquiries/HX-DC/send", {**who, "occurred_on": "2024-03-01",
                                                             "received_on": "2024-03-05"})
    assert sent["type"] == "supervision.inquiry_sent"

    async def overdue(as_of: str) -> dict[str, Any]:
        return dict(await ledger_get(system, f"/v1/inquiries/overdue?cadre_id={cadre}&as_of={as_of}"))

    async def listed() -> dict[str, Any] | None:
        page = await overdue("2024-03-27")
        return page if page["total"] == 1 else None

    [row] = (await wait_until(listed))["inquiries"]
    assert row["received_on"] == "2024-03-05" and row["due"] == "2024-03-26" and row["days_overdue"] == 1
    assert (await overdue("2024-03-25"))["total"] == 0, "not overdue before its due day counted from the receipt"
    # found by review: an answer dated before the letter was received was accepted (it was checked against the sending)
    unread = await audit(system, "/v1/inquiries/HX-DC/answer", {**who, "occurred_on": "2024-03-04"}, expect=422)
    assert unread["rule"] == "supervision.chronology" and "2024-03-05" in unread["message_en"], unread
    answered = await audit(system, "/v1/inquiries/HX-DC/answer", {**who, "occurred_on": "2024-03-26"})
    assert answered["type"] == "supervision.inquiry_answered"
    state = await ledger_get(system, f"/v1/cadres/{cadre}/state")
    assert state["inquiries"]["HX-DC"]["late"] is False and state["inquiries"]["HX-DC"]["received_on"] == "2024-03-05"


async def test_the_compliance_read_model_flags_a_deferral_that_ends_before_it_begins(system: System) -> None:
    """Found by review: the compliance read model's `appointment.deferral_max` checked only the longest deferral, while
    the service's rule also refuses one not ending after its decision day (until must be after the decision). A
    deferral decided on 2024-10-08 until that same day, recorded by a producer that bypassed the service, showed as
    compliant."""
    cadre = await registered_cadre(system, "DFB")
    await select(system, cadre, "XB-DB", "2024-09-10", "2024-09-20")
    await notice(system, cadre, "XB-DB", "GS-DB", "2024-09-26", "2024-10-08")
    same_day = {**base(cadre, "2024-10-08"), "until": "2024-10-08"}
    await refused(system, "assessment", "/v1/notices/GS-DB/deferral", same_day, "appointment.deferral_max")
    on = date(2024, 10, 8)
    await wait_committed(system.pg_dsn, (await publish(system.nats_url, [new_event(
        event_type="appointment.deferred", cadre_id=cadre, county="431021", service="assessment",
        data=AppointmentDeferred(notice_id="GS-DB", until=on, reason="举报待核查"), occurred_on=on,
        ruleset=ruleset_for("431021", on).id)]))[0])
    entry = await projected(system, f"/v1/appointments?cadre_id={cadre}", "appointments",
                            lambda e: e["stage"] == "deferred")
    assert entry["compliant"] is False and [i["rule"] for i in entry["issues"]] == ["appointment.deferral_max"], entry
    assert "2024-10-08" in entry["issues"][0]["message_en"] and "决定日" in entry["issues"][0]["message_zh"], entry
