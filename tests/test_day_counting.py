"""Day counting through HTTP and the ledger: a deferral (缓任) ends as a sanction's effect period of the same months
does, the day before its month-day; a year's annual grade (年度考核等次) is recorded from its end (年末) on, never in
its spring."""

from __future__ import annotations

from typing import Any

from tests.support import System, call, registered_cadre
from tests.test_assessment_slice import base, notice, post, refused, select

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

