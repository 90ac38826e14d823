"""Corrections (更正) and revocations (撤销) through each command service's HTTP API, NATS and the ledger.

A correction is the command of the event's type with `correction: {event_id, reason}`; a revocation is
`POST /v1/revocations` on the service that records the type. Both are new events pointing at the original,
which stays in the ledger; the next command is decided on the history as they say it reads.
"""

from __future__ import annotations

import uuid
from typing import Any

from tests.support import System, call, prepare_audit, registered_cadre, wait_until

COUNTY = "431021"


def base(cadre: str, on: str) -> dict[str, Any]:
    return {"cadre_id": cadre, "county": COUNTY, "occurred_on": on}


def fixing(event_id: str, reason: str = "录入错误: 等次录错") -> dict[str, Any]:
    return {"correction": {"event_id": event_id, "reason": reason}}


async def accepted(system: System, service: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
    """A command that must be accepted and committed."""
    status, answer, _ = await call("POST", f"{system.url(service)}{path}?wait=committed", body)
    assert status == 202, answer
    assert answer["committed"] is True, answer
    return dict(answer)


async def refused(system: System, service: str, path: str, body: dict[str, Any], rule: str,
                  field: str) -> dict[str, Any]:
    """A command that must be refused: 422 problem+json naming `rule` and `field`."""
    status, problem, headers = await call("POST", f"{system.url(service)}{path}", body)
    assert status == 422, problem
    assert headers["Content-Type"].startswith("application/problem+json")
    assert problem["type"] == "https://cadre-ledger.dev/problems/rule-violation", problem
    assert problem["rule"] == rule, problem
    assert problem["field"] == field, problem
    assert problem["message_zh"] and problem["message_en"], problem
    return dict(problem)


async def history(system: System, cadre: str) -> list[dict[str, Any]]:
    """The cadre's events as the ledger recorded them (envelopes, in order)."""
    status, page, _ = await call("GET", f"{system.url('ledger')}/v1/cadres/{cadre}/history")
    assert status == 200, page
    return [row["event"] for row in page["events"]]


def grade(cadre: str, year: int, grade_: str, on: str) -> dict[str, Any]:
    return {**base(cadre, on), "year": year, "grade": grade_}


def revocation(cadre: str, event_id: str, on: str = "2024-03-01", reason: str = "重复录入") -> dict[str, Any]:
    return {**base(cadre, on), "event_id": event_id, "reason": reason}


# ---- assessment: an annual grade ------------------------------------------------------------------

async def test_a_corrected_grade_is_what_the_next_grade_is_decided_on(system: System) -> None:
    """2020 was typed 不称职 and corrected to 称职: 2021's 不称职 is no second consecutive one, no dismissal case."""
    cadre = await registered_cadre(system, "COR")
    wrong = await accepted(system, "assessment", "/v1/annual-grades", grade(cadre, 2020, "incompetent", "2021-01-15"))
    fixed = await accepted(system, "assessment", "/v1/annual-grades",
                           {**grade(cadre, 2020, "competent", "2021-01-15"), **fixing(wrong["event_id"])})
    assert fixed["type"] == "assessment.annual_graded.corrected" and fixed["event_id"] != wrong["event_id"]
    await accepted(system, "assessment", "/v1/annual-grades", grade(cadre, 2021, "incompetent", "2022-01-15"))

    events = await history(system, cadre)
    assert [e["type"] for e in events] == ["cadre.registered", "assessment.annual_graded",
                                           "assessment.annual_graded.corrected", "assessment.annual_graded"]
    original, correction, later = events[1:]
    assert original["id"] == wrong["event_id"] and original["data"]["grade"] == "incompetent"  # it stays
    assert correction["id"] == fixed["event_id"]
    assert correction["data"]["corrects"] == wrong["event_id"] and correction["data"]["reason"] == "录入错误: 等次录错"
    assert correction["data"]["fact"] == {"year": 2020, "grade": "competent", "admonishment_required": False,
                                          "promotion_blocked_years": [], "dismissal_case": False,
                                          "consecutive_incompetent_years": [], "demotion_required": False}
    assert later["data"]["dismissal_case"] is False and later["data"]["consecutive_incompetent_years"] == []

    # the same grades without the correction: the second 不称职 opens the case (the check above can fail)
    other = await registered_cadre(system, "COR")
    await accepted(system, "assessment", "/v1/annual-grades", grade(other, 2020, "incompetent", "2021-01-15"))
    second = await accepted(system, "assessment", "/v1/annual-grades", grade(other, 2021, "incompetent", "2022-01-15"))
    assert (await history(system, other))[-1]["id"] == second["event_id"]
    assert (await history(system, other))[-1]["data"]["dismissal_case"] is True
    assert fixed["warnings"] == [], "nothing was recorded after the first cadre's 2020 grade when it was corrected"
    both = [("consecutive_low_grades", 2021), ("dismissal_case", 2021), ("incompetent_demotion", 2020),
            ("incompetent_demotion", 2021)]
    assert await wait_until(lambda: watched(system, other, both), timeout=20)
    first = (await history(system, other))[1]["id"]
    late = await accepted(system, "assessment", "/v1/annual-grades",
                          {**grade(other, 2020, "competent", "2021-01-15"), **fixing(first)})
    [warning] = late["warnings"]
    assert warning["code"] == "correction.later_facts" and "年度考核定等" in warning["message_zh"], warning
    assert "1 later fact on record" in warning["message_en"], "2021's grade, decided on the wrong 2020 one"
    # 2021's grade still says dismissal_case (later facts are not decided again), but the watchlist reads the
    # grades as corrected: one 不称职 year is no dismissal case, nor two low years in a row; it still demotes
    assert (await history(system, other))[2]["data"]["dismissal_case"] is True
    assert await wait_until(lambda: watched(system, other, [("incompetent_demotion", 2021)]), timeout=20)


async def watched(system: System, cadre: str, items: list[tuple[str, int]]) -> bool | None:
    """True once the assessment watchlist lists exactly these (kind, year) items of the cadre, open or not."""
    status, page, _ = await call("GET", f"{system.url('ledger')}/v1/watchlist/assessment?cadre_id={cadre}&state=all")
    assert status == 200, page
    return sorted((i["kind"], i["year"]) for i in page["items"]) == items or None


async def test_corrections_the_assessment_service_refuses(system: System) -> None:
    cadre = await registered_cadre(system, "COR")
    graded = await accepted(system, "assessment", "/v1/annual-grades", grade(cadre, 2020, "excellent", "2021-01-15"))
    grades = "/v1/annual-grades"
    # an unchanged fact: nothing to correct
    await refused(system, "assessment", grades, {**grade(cadre, 2020, "excellent", "2021-01-15"),
                                                 **fixing(graded["event_id"])}, "correction.no_change", "correction")
    # an id not in this cadre's history
    await refused(system, "assessment", grades, {**grade(cadre, 2020, "competent", "2021-01-15"),
                                                 **fixing(str(uuid.uuid4()))},
                  "correction.target_unknown", "correction.event_id")
    # through the command of another type (a competency test does not correct a grade)
    await refused(system, "assessment", "/v1/competency-tests",
                  {**base(cadre, "2021-03-01"), "attempt": 1, "score": "80.0", "passed": True,
                   **fixing(graded["event_id"])}, "correction.other_type", "correction.event_id")
    # a registration is not corrected (and the assessment service does not record it either)
    registration = (await history(system, cadre))[0]
    await refused(system, "assessment", grades, {**grade(cadre, 2020, "competent", "2021-01-15"),
                                                 **fixing(registration["id"])},
                  "correction.not_correctable", "correction.event_id")
    # a year graded after the event is not graded again by correcting the event's year
    later = await accepted(system, "assessment", grades, grade(cadre, 2021, "competent", "2022-01-15"))
    problem = await refused(system, "assessment", grades, {**grade(cadre, 2021, "excellent", "2022-01-10"),
                                                           **fixing(graded["event_id"])},
                            "correction.recorded_later", "correction")
    assert problem["event_id"] == later["event_id"] and problem["key"] == {"year": 2021}, problem
    # nothing was recorded by any of them
    assert [e["type"] for e in await history(system, cadre)] == ["cadre.registered", "assessment.annual_graded",
                                                                 "assessment.annual_graded"]


async def test_a_revoked_grade_is_no_longer_there_for_the_next_command(system: System) -> None:
    cadre = await registered_cadre(system, "COR")
    stray = await accepted(system, "assessment", "/v1/annual-grades", grade(cadre, 2022, "excellent", "2023-01-10"))
    # the year is graded: a second grade is refused until the stray one is revoked
    status, problem, _ = await call("POST", f"{system.url('assessment')}/v1/annual-grades",
                                    grade(cadre, 2022, "competent", "2023-01-12"))
    assert status == 422 and problem["rule"] == "assessment.annual_grade_once", problem

    await refused(system, "assessment", "/v1/revocations", revocation(cadre, stray["event_id"], "2023-01-09"),
                  "correction.revocation_before_event", "occurred_on")
    revoked = await accepted(system, "assessment", "/v1/revocations",
                             revocation(cadre, stray["event_id"], "2023-01-11", "录入了其他干部的等次"))
    assert revoked["warnings"] == [], revoked
    # decided under the rules of its day: 431021@2019.2 (correcting 431021@2019.1, itself correcting 431021@2008.1)
    assert revoked["type"] == "assessment.annual_graded.revoked" and revoked["ruleset"] == "431021@2019.2"
    regraded = await accepted(system, "assessment", "/v1/annual-grades", grade(cadre, 2022, "competent", "2023-01-12"))

    events = await history(system, cadre)
    assert [e["type"] for e in events] == ["cadre.registered", "assessment.annual_graded",
                                           "assessment.annual_graded.revoked", "assessment.annual_graded"]
    assert events[2]["data"] == {"revokes": stray["event_id"], "reason": "录入了其他干部的等次"}
    assert events[3]["id"] == regraded["event_id"]

    # revoked once; a revoked event is not corrected (record the fact anew); a revocation is not revoked
    await refused(system, "assessment", "/v1/revocations", revocation(cadre, stray["event_id"]),
                  "correction.revoked", "event_id")
    await refused(system, "assessment", "/v1/annual-grades", {**grade(cadre, 2022, "basically_competent",
                                                                     "2023-01-10"), **fixing(stray["event_id"])},
                  "correction.revoked", "correction.event_id")
    await refused(system, "assessment", "/v1/revocations", revocation(cadre, revoked["event_id"]),
                  "correction.target_is_correction", "event_id")
    await refused(system, "assessment", "/v1/revocations", revocation(cadre, str(uuid.uuid4())),
                  "correction.target_unknown", "event_id")
    registration = events[0]["id"]
    await refused(system, "assessment", "/v1/revocations", revocation(cadre, registration),
                  "correction.not_correctable", "event_id")
    assert len(await history(system, cadre)) == 4


async def test_an_evaluation_corrected_runs_no_threshold_check(system: System) -> None:
    cadre = await registered_cadre(system, "COR")
    body = {**base(cadre, "2023-12-20"), "year": 2023, "scope": "own_unit", "ballots": 40,
            "counts": {"excellent": 30, "competent": 10, "basically_competent": 0, "incompetent": 0}}
    status, first, _ = await call("POST", f"{system.url('assessment')}/v1/evaluations?wait=committed", body)
    assert status == 202 and first["threshold_check"] == "not_applicable", first
    fixed = {**body, "counts": {"excellent": 29, "competent": 11, "basically_competent": 0, "incompetent": 0},
             **fixing(first["evaluation"]["event_id"], "票数录错")}
    status, answer, _ = await call("POST", f"{system.url('assessment')}/v1/evaluations?wait=committed", fixed)
    assert status == 202, answer
    assert answer["evaluation"]["type"] == "assessment.evaluation_recorded.corrected"
    assert answer["threshold_check"] == "not_checked" and answer["threshold_breached"] is None


# ---- another service's events ----------------------------------------------------------------------

async def test_an_audit_completion_is_corrected_by_the_audit_service_only(system: System) -> None:
    cadre = await registered_cadre(system, "COR")
    await prepare_audit(system, cadre, "SJ-COR-1")
    findings = [{"finding_id": "F1", "category": 3, "amount": "12000.50", "responsibility": "direct"}]
    body = {**base(cadre, "2024-06-30"), "audit_type": "departure", "report_number": "桂审经责〔2024〕7号",
            "evaluation": "fairly_good", "findings": findings}
    path = "/v1/audits/SJ-COR-1/complete"
    completed = await accepted(system, "audit", path, body)

    # the assessment service neither corrects nor revokes it: it names the service that does
    problem = await refused(system, "assessment", "/v1/annual-grades",
                            {**grade(cadre, 2023, "competent", "2024-07-01"), **fixing(completed["event_id"])},
                            "correction.other_service", "correction.event_id")
    assert problem["service"] == "audit"
    problem = await refused(system, "assessment", "/v1/revocations", revocation(cadre, completed["event_id"],
                                                                                "2024-07-01"),
                            "correction.other_service", "event_id")
    assert problem["service"] == "audit"

    # the amount was mistyped, and a second finding left out
    right = [{**findings[0], "amount": "1200.50"},
             {"finding_id": "F2", "category": 7, "amount": "300.00", "responsibility": "leadership"}]
    fixed = await accepted(system, "audit", path, {**body, "findings": right, **fixing(completed["event_id"],
                                                                                     "审计报告金额录错")})
    assert fixed["type"] == "audit.completed.corrected"
    correction = (await history(system, cadre))[-1]
    assert correction["data"]["corrects"] == completed["event_id"]
    assert [(f["finding_id"], f["amount"]) for f in correction["data"]["fact"]["findings"]] == [
        ("F1", "1200.50"), ("F2", "300.00")]
    assert correction["data"]["fact"]["report_number"] == "桂审经责〔2024〕7号"

    # the next command reads the corrected findings: F2 exists now
    await accepted(system, "audit", "/v1/audits/SJ-COR-1/findings/F2/rectify",
                   {**base(cadre, "2024-07-10"), "measures": "已整改"})
    # a correction is made through the command of the event's type (a talk does not correct a completion)
    await refused(system, "audit", "/v1/talks/T-COR-1",
                  {**base(cadre, "2024-07-12"), "kind": "reminder", **fixing(completed["event_id"])},
                  "correction.other_type", "correction.event_id")


async def test_a_posting_is_corrected_and_revoked_through_the_rotation_service(system: System) -> None:
    cadre = await registered_cadre(system, "COR")
    posting = {**base(cadre, "2015-03-01"), "post": "审计局科员", "unit": "桂阳县审计局", "level": "clerk",
               "leadership": False, "kind": "lateral"}
    assigned = await accepted(system, "rotation", "/v1/posts/P-COR-1/assign", posting)
    fixed = await accepted(system, "rotation", "/v1/posts/P-COR-1/assign",
                           {**posting, "occurred_on": "2015-04-01", "post": "审计局办公室科员",
                            **fixing(assigned["event_id"], "任职时间与职务名称录错")})
    assert fixed["type"] == "post.assigned.corrected"
    correction = (await history(system, cadre))[-1]
    assert correction["occurredon"] == "2015-04-01" and correction["data"]["corrects"] == assigned["event_id"]
    assert correction["data"]["fact"]["post"] == "审计局办公室科员"
    assert correction["data"]["fact"]["decision_date"] == "2015-04-01"

    # the rotation service does not revoke another service's events
    graded = await accepted(system, "assessment", "/v1/annual-grades", grade(cadre, 2015, "competent", "2016-01-15"))
    problem = await refused(system, "rotation", "/v1/revocations", revocation(cadre, graded["event_id"]),
                            "correction.other_service", "event_id")
    assert problem["service"] == "assessment"
    # a registration is neither corrected nor revoked
    await refused(system, "rotation", "/v1/cadres/register",
                  {**base(cadre, "2010-01-04"), "name": "李桂芳", "sex": "female", "birth_month": "1985-03",
                   "id_number": "431021198503150027", "work_start": "2007-07-01", "unit": "桂阳县审计局",
                   **fixing((await history(system, cadre))[0]["id"])}, "correction.not_correctable", "correction")
    await refused(system, "rotation", "/v1/cadres/erase-personal-data",
                  {**base(cadre, "2016-01-20"), "reason": "本人申请", "reference": "桂组〔2016〕1号",
                   **fixing((await history(system, cadre))[0]["id"])}, "correction.not_correctable", "correction")

    # a revocation is decided on or after the day of the event, as corrected (2015-04-01)
    problem = await refused(system, "rotation", "/v1/revocations",
                            revocation(cadre, assigned["event_id"], "2015-03-15"),
                            "correction.revocation_before_event", "occurred_on")
    assert problem["event_occurred_on"] == "2015-04-01"
    revoked = await accepted(system, "rotation", "/v1/revocations", revocation(cadre, assigned["event_id"],
                                                                               "2016-02-01", "任职未实际发生"))
    assert revoked["type"] == "post.assigned.revoked"
    # the grade recorded after the posting was decided with it on record: the answer says so
    assert [w["code"] for w in revoked["warnings"]] == ["correction.later_facts"], revoked
    assert "assessment.annual_graded" in revoked["warnings"][0]["message_en"]
    # the post is no longer held: vacating it is refused, assigning it again is not
    status, problem, _ = await call("POST", f"{system.url('rotation')}/v1/posts/P-COR-1/vacate",
                                    {**base(cadre, "2016-03-01"), "reason": "term_end"})
    assert status == 422 and problem["rule"] == "posting.not_held", problem
    await accepted(system, "rotation", "/v1/posts/P-COR-1/assign", {**posting, "occurred_on": "2016-03-01"})


async def test_a_fact_later_facts_rest_on_stays_until_they_go(system: System) -> None:
    """A correction or revocation that would leave a later fact without its premise is refused, naming that fact
    (correction.removes_premise); once that fact is revoked, it goes through."""
    cadre = await registered_cadre(system, "COR")
    await prepare_audit(system, cadre, "SJ-PRE-1")
    findings = [{"finding_id": f, "category": 3, "amount": "100.00", "responsibility": "direct"} for f in ("F1", "F2")]
    body = {**base(cadre, "2024-06-30"), "audit_type": "departure", "report_number": "桂审经责〔2024〕9号",
            "evaluation": "good", "findings": findings}
    completed = await accepted(system, "audit", "/v1/audits/SJ-PRE-1/complete", body)
    rectified = await accepted(system, "audit", "/v1/audits/SJ-PRE-1/findings/F2/rectify",
                               {**base(cadre, "2024-07-10"), "measures": "已整改"})
    recorded = len(await history(system, cadre))

    # F2 was listed by mistake, but its rectification is on record
    fix = {**body, "findings": findings[:1], **fixing(completed["event_id"], "审计发现问题录入重复")}
    problem = await refused(system, "audit", "/v1/audits/SJ-PRE-1/complete", fix, "correction.removes_premise",
                            "correction.event_id")
    assert problem["later_events"] == [{"event_id": rectified["event_id"], "type": "audit.finding_rectified",
                                        "service": "audit", "names": {"audit_id": "SJ-PRE-1", "finding_id": "F2"}}]
    assert "审计发现问题已整改" in problem["message_zh"], problem
    # the audit's start carries every later step of it
    start = (await history(system, cadre))[1]
    problem = await refused(system, "audit", "/v1/revocations", revocation(cadre, start["id"], "2024-08-01"),
                            "correction.removes_premise", "event_id")
    assert {e["type"] for e in problem["later_events"]} == {"audit.opinion_requested", "audit.completed"}, problem
    assert len(await history(system, cadre)) == recorded, "a refused correction records nothing"

    await accepted(system, "audit", "/v1/revocations", revocation(cadre, rectified["event_id"], "2024-08-01"))
    fixed = await accepted(system, "audit", "/v1/audits/SJ-PRE-1/complete", fix)
    assert fixed["type"] == "audit.completed.corrected"


async def test_a_posting_is_not_corrected_onto_a_post_the_cadre_takes_later(system: System) -> None:
    """The first posting's post id was typed as the one the cadre took a year later, never leaving the first:
    the correction would have the cadre hold that post twice (correction.held_twice)."""
    cadre = await registered_cadre(system, "COR")
    posting = {**base(cadre, "2015-03-01"), "post": "审计局科员", "unit": "桂阳县审计局", "level": "clerk",
               "leadership": False, "kind": "lateral"}
    first = await accepted(system, "rotation", "/v1/posts/P-HT-1/assign", posting)
    later = await accepted(system, "rotation", "/v1/posts/P-HT-2/assign", {**posting, "occurred_on": "2016-03-01"})
    problem = await refused(system, "rotation", "/v1/posts/P-HT-2/assign",
                            {**posting, **fixing(first["event_id"], "职位编号录错")}, "correction.held_twice",
                            "correction.event_id")
    assert problem["later_events"] == [{"event_id": later["event_id"], "type": "post.assigned", "service": "rotation",
                                        "names": {"post_id": "P-HT-2"}}], problem


async def test_revocations_are_documented_on_every_command_service(system: System) -> None:
    for service in ("assessment", "audit", "rotation"):
        status, document, _ = await call("GET", f"{system.url(service)}/openapi.json")
        assert status == 200
        operation = document["paths"]["/v1/revocations"]["post"]
        assert "撤销" in operation["summary"] and "202" in operation["responses"]
        assert "correction.other_service" in operation["description"]
        assert "correction.removes_premise" in operation["description"]
