"""The assessment service's grades, evaluations and tests through HTTP, NATS and the ledger: annual grades,
democratic evaluations (民主测评) and competency tests reaching the watchlist, the dual threshold for unit
principals (党政正职) only, and a demotion, removal or rotation another service records resolving the watchlist's
items, with the watchlist read model rebuilt from position 0. Selections and notices are in
tests/test_assessment_selection_slice.py."""

from __future__ import annotations

from datetime import date
from typing import Any

from services.ledger.read_models.assessment_watchlist import WatchlistProjection
from shared.envelope import new_event
from shared.events.rotation import PostFields, RotationCompleted
from shared.rulesets import ruleset_for
from tests.assessment_slice_support import COUNTY, _rebuilt_equal, base, ledger_get, post, refused
from tests.support import System, call, publish, registered_cadre, wait_committed, wait_until


async def test_grades_evaluations_and_tests_reach_the_watchlist(system: System) -> None:
    cadre = await registered_cadre(system, "WL")
    for year, grade in ((2021, "basically_competent"), (2022, "incompetent")):
        await post(system, "assessment", "/v1/annual-grades", {**base(cadre, f"{year + 1}-01-20"), "year": year,
                                                              "grade": grade})
    graded = await post(system, "assessment", "/v1/annual-grades",
                        {**base(cadre, "2024-01-20"), "year": 2023, "grade": "incompetent"})
    await refused(system, "assessment", "/v1/annual-grades", {**base(cadre, "2024-02-01"), "year": 2023,
                                                             "grade": "competent"}, "assessment.annual_grade_once")

    status, first, _ = await call("POST", f"{system.url('assessment')}/v1/evaluations?wait=committed", {
        **base(cadre, "2024-12-20"), "year": 2024, "scope": "county_wide", "ballots": 120, "rank": 58, "of": 60,
        "counts": {"excellent": 36, "competent": 70, "basically_competent": 6, "incompetent": 8}})
    assert status == 202 and first["threshold_check"] == "not_applicable", first
    status, second, _ = await call("POST", f"{system.url('assessment')}/v1/evaluations?wait=committed", {
        **base(cadre, "2024-12-22"), "year": 2024, "scope": "own_unit", "ballots": 40,
        "counts": {"excellent": 12, "competent": 18, "basically_competent": 1, "incompetent": 9}})
    assert status == 202 and second["threshold_check"] == "recorded", second
    assert second["threshold_breached"]["type"] == "assessment.threshold_breached"
    await refused(system, "assessment", "/v1/threshold-checks", {**base(cadre, "2024-12-23"), "year": 2024},
                  "assessment.breach_once")

    await post(system, "assessment", "/v1/competency-tests", {**base(cadre, "2024-03-15"), "attempt": 1,
                                                             "score": "52.5", "passed": False})
    await refused(system, "assessment", "/v1/competency-tests", {**base(cadre, "2024-06-14"), "attempt": 2,
                                                                "score": "70", "passed": True},
                  "assessment.retest_too_early")
    await refused(system, "assessment", "/v1/competency-tests", {**base(cadre, "2024-06-20"), "attempt": 2,
                                                                "score": "48", "passed": False},
                  "assessment.second_failure_action")
    await post(system, "assessment", "/v1/competency-tests", {**base(cadre, "2024-06-20"), "attempt": 2,
                                                             "score": "48", "passed": False, "action": "demotion"})
    await post(system, "assessment", "/v1/periodic-scores", {**base(cadre, "2024-04-03"), "period": "2024-Q1",
                                                            "score": "912.5"})

    history = await ledger_get(system, f"/v1/cadres/{cadre}/history")
    types = [r["event"]["type"] for r in history["events"]]
    assert types.count("assessment.threshold_breached") == 1
    assert history["events"][3]["event"]["id"] == graded["event_id"]
    assert history["events"][3]["event"]["data"]["dismissal_case"] is True

    async def items() -> list[dict[str, Any]] | None:
        page = await ledger_get(system, f"/v1/watchlist/assessment?cadre_id={cadre}&state=all&as_of=2025-01-01")
        found = page["items"]
        return found if len(found) == 9 else None

    # each 不称职 awaits its demotion (the cadre has no post on record to say it cannot be lowered); 2023's opens
    # the dismissal case too
    listed = sorted((i["kind"], i["year"], i["status"]) for i in await wait_until(items))
    assert listed == [("basically_competent", 2021, "open"), ("consecutive_low_grades", 2022, "open"),
                      ("consecutive_low_grades", 2023, "open"), ("dismissal_case", 2023, "open"),
                      ("incompetent_demotion", 2022, "open"), ("incompetent_demotion", 2023, "open"),
                      ("retest_due", None, "resolved"), ("second_failure", None, "open"),
                      ("threshold_breach", 2024, "open")]
    # as it stood on 2024-06-16: the retest due since the day before, no second failure, no breach yet
    earlier = await ledger_get(system, f"/v1/watchlist/assessment?cadre_id={cadre}&state=all&as_of=2024-06-16")
    assert sorted((i["kind"], i["status"], i["resolved_on"]) for i in earlier["items"]) == [
        ("basically_competent", "open", None), ("consecutive_low_grades", "open", None),
        ("consecutive_low_grades", "open", None), ("dismissal_case", "open", None),
        ("incompetent_demotion", "open", None), ("incompetent_demotion", "open", None), ("retest_due", "due", None)]
    open_page = await ledger_get(system, f"/v1/watchlist/assessment?cadre_id={cadre}&kind=second_failure")
    assert open_page["items"][0]["detail"]["action"] == "demotion"
    state = await ledger_get(system, f"/v1/cadres/{cadre}/state")
    assert state["assessment"]["annual_grades"]["2023"]["dismissal_case"] is True
    assert state["assessment"]["threshold_breaches"]["2024"]["required_decision"] == "demotion_or_removal"
    assert state["assessment"]["periodic_scores"] == {"2024-Q1": "912.5"}


COUNTY_WIDE = {"scope": "county_wide", "ballots": 120, "rank": 58, "of": 60,
               "counts": {"excellent": 36, "competent": 70, "basically_competent": 6, "incompetent": 8}}
OWN_UNIT = {"scope": "own_unit", "ballots": 40,
            "counts": {"excellent": 12, "competent": 18, "basically_competent": 1, "incompetent": 9}}


async def test_the_dual_threshold_is_for_unit_principals(system: System) -> None:
    """Rule 7's demotion or removal is for 党政正职 (S4): a deputy (副职, `principal: false`) with the same figures as
    a principal has both evaluations recorded, but no breach: the automatic check answers `not_principal` and the
    explicit one is a 422 naming `assessment.dual_evaluation_principals_only`."""
    deputy, principal = await registered_cadre(system, "DP"), await registered_cadre(system, "PR")
    post_fields = {"unit": "桂阳县财政局", "level": "section", "leadership": True, "kind": "lateral"}
    await post(system, "rotation", "/v1/posts/CZJ-FJZ/assign",
               {**base(deputy, "2021-03-01"), **post_fields, "post": "副局长", "principal": False})
    await post(system, "rotation", "/v1/posts/CZJ-JZ/assign",
               {**base(principal, "2021-03-01"), **post_fields, "post": "局长", "principal": True})
    answers = {}
    for cadre in (deputy, principal):
        for on, scope in (("2024-12-20", COUNTY_WIDE), ("2024-12-22", OWN_UNIT)):
            status, answers[cadre], _ = await call("POST", f"{system.url('assessment')}/v1/evaluations?wait=committed",
                                                   {**base(cadre, on), "year": 2024, **scope})
            assert status == 202, answers[cadre]
            if scope is COUNTY_WIDE:
                assert answers[cadre]["threshold_check"] == "not_applicable", answers[cadre]

    told = answers[deputy]
    assert told["evaluation"]["type"] == "assessment.evaluation_recorded" and told["evaluation"]["committed"]
    assert told["threshold_check"] == "not_principal" and told["threshold_breached"] is None, told
    problem = told["threshold_problem"]
    assert problem["rule"] == "assessment.dual_evaluation_principals_only" and problem["status"] == 422
    assert [p["post_id"] for p in problem["posts"]] == ["CZJ-FJZ"] and "党政正职" in problem["message_zh"]
    refusal = await refused(system, "assessment", "/v1/threshold-checks", {**base(deputy, "2024-12-23"), "year": 2024},
                            "assessment.dual_evaluation_principals_only")
    assert "副局长" in refusal["message_zh"] and "principals (正职) only" in refusal["message_en"]
    assert "对党政正职优秀票率排在最后5位" in refusal["basis"] and refusal["year"] == 2024
    assert answers[principal]["threshold_check"] == "recorded", answers[principal]

    for cadre, breaches in ((deputy, 0), (principal, 1)):
        history = await ledger_get(system, f"/v1/cadres/{cadre}/history")
        types = [r["event"]["type"] for r in history["events"]]
        assert types.count("assessment.evaluation_recorded") == 2
        assert types.count("assessment.threshold_breached") == breaches, types

    # moved on 2024-12-27 (平级转任) to the principal's post of another bureau: from then on the cadre held a
    # principal's post in 2024, which a check dated before the move does not know of
    await post(system, "rotation", "/v1/posts/CZJ-FJZ/vacate", {**base(deputy, "2024-12-27"), "reason": "rotation"})
    await post(system, "rotation", "/v1/posts/SJJ-JZ/assign",
               {**base(deputy, "2024-12-27"), **post_fields, "unit": "桂阳县审计局", "post": "局长", "principal": True})
    await refused(system, "assessment", "/v1/threshold-checks", {**base(deputy, "2024-12-26"), "year": 2024},
                  "assessment.dual_evaluation_principals_only")
    breached = await post(system, "assessment", "/v1/threshold-checks", {**base(deputy, "2024-12-28"), "year": 2024})
    assert breached["type"] == "assessment.threshold_breached"


async def test_a_demotion_removal_or_rotation_another_service_records_resolves_the_watchlist_item(
        system: System) -> None:
    breached, failed = await registered_cadre(system, "WR"), await registered_cadre(system, "WR")
    for year in (2022, 2023):
        await post(system, "assessment", "/v1/annual-grades",
                   {**base(breached, f"{year + 1}-01-20"), "year": year, "grade": "incompetent"})
    for scope, extra in (("county_wide", {"ballots": 120, "rank": 58, "of": 60, "counts": {
            "excellent": 36, "competent": 70, "basically_competent": 6, "incompetent": 8}}),
                         ("own_unit", {"ballots": 40, "counts": {
            "excellent": 12, "competent": 18, "basically_competent": 1, "incompetent": 9}})):
        status, answer, _ = await call("POST", f"{system.url('assessment')}/v1/evaluations?wait=committed",
                                       {**base(breached, "2024-12-20"), "year": 2024, "scope": scope, **extra})
        assert status == 202, answer
    sanction = {**base(breached, "2025-02-10"), "effective_from": "2025-02-10", "effective_until": "2027-02-09"}
    # a party warning is not the decision a breach requires; an organisational removal (免职) is
    await post(system, "audit", "/v1/sanctions/CF-WR-1", {**sanction, "category": "party", "measure": "warning"})
    await post(system, "audit", "/v1/sanctions/CF-WR-2", {**sanction, "category": "organisational",
                                                         "measure": "removal"})

    await post(system, "assessment", "/v1/competency-tests", {**base(failed, "2024-03-15"), "attempt": 1,
                                                             "score": "52.5", "passed": False})
    await post(system, "assessment", "/v1/competency-tests", {**base(failed, "2024-06-20"), "attempt": 2,
                                                             "score": "48", "passed": False,
                                                             "action": "reverse_rotation"})
    seqs = await publish(system.nats_url, [new_event(
        event_type="rotation.completed", cadre_id=failed, county=COUNTY, service="rotation",
        occurred_on=date(2024, 8, 1), ruleset=ruleset_for(COUNTY, date(2024, 8, 1)).id, data=RotationCompleted(
            from_post_id="P-WR-1", from_post="县财政局副局长", decision_date=date(2024, 7, 25), years_in_old_post=3,
            days_in_old_post=1200, trigger_rule="by_need", to=PostFields(
                post_id="P-WR-2", post="某镇副镇长", unit="某镇人民政府", township="某镇", level="deputy_section",
                leadership=True)))])
    await wait_committed(system.pg_dsn, max(seqs))

    async def resolved(cadre: str, count: int) -> dict[str, str] | None:
        page = await ledger_get(system, f"/v1/watchlist/assessment?cadre_id={cadre}&state=all&as_of=2025-03-01")
        done = {i["kind"]: i["resolution"] for i in page["items"] if i["status"] == "resolved"}
        return done if len(done) == count else None

    assert await wait_until(lambda: resolved(breached, 3)) == {
        "threshold_breach": "removed (免职, 组织处理)", "dismissal_case": "removed (免职, 组织处理)",
        "incompetent_demotion": "removed (免职, 组织处理)"}
    assert await wait_until(lambda: resolved(failed, 2)) == {
        "retest_due": "retest failed (补测不合格)", "second_failure": "reverse rotation (逆向交流)"}
    await _rebuilt_equal(system, [WatchlistProjection()])
