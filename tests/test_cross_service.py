"""Across services, through events only: a report recorded by the audit service during a pre-appointment
notice blocks the appointment in the assessment service (DOMAIN.md rule 3; shared.appointment_blockers)."""

from __future__ import annotations

from typing import Any

from tests.support import System, call, registered_cadre, wait_until


async def command(system: System, service: str, path: str, cadre: str, body: dict[str, Any],
                  expect: int = 202) -> dict[str, Any]:
    status, answer, _ = await call("POST", f"{system.url(service)}{path}?wait=committed",
                                   {"cadre_id": cadre, "county": "431021", **body})
    assert status == expect, answer
    return dict(answer)


async def notice_posted(system: System, cadre: str, selection_id: str, notice_id: str) -> str:
    """A promotion to 某镇党委书记 inspected (2024-04-08), voted (04-15) and noticed from 04-16 to 04-22; the
    notice's path."""
    selection = f"/v1/selections/{selection_id}"
    await command(system, "assessment", f"{selection}/inspection", cadre, {
        "occurred_on": "2024-04-08", "proposed_post": "某镇党委书记", "promotion": True, "dossier_checked": True,
        "personal_matters_checked": True, "discipline_opinion_obtained": True, "petitions_checked": True})
    await command(system, "assessment", f"{selection}/vote", cadre, {
        "occurred_on": "2024-04-15", "members_entitled": 11, "members_present": 10, "votes_for": 9,
        "votes_against": 1})
    await command(system, "assessment", f"{selection}/notice", cadre, {
        "occurred_on": "2024-04-16", "notice_id": notice_id, "start": "2024-04-16", "end": "2024-04-22",
        "channels": ["桂阳县人民政府网", "12380举报网站"]})
    return f"/v1/notices/{notice_id}"


async def test_a_report_verified_during_a_notice_blocks_the_appointment_in_assessment(system: System) -> None:
    cadre = await registered_cadre(system, "XS")
    notice = await notice_posted(system, cadre, "XS-1", "GS-2024-17")

    # during the notice a 12380 report arrives; discipline staff record it in the audit service
    await command(system, "audit", "/v1/reports/JB-2024-301/receive", cadre, {
        "occurred_on": "2024-04-18", "channel": "12380", "named": True, "summary": "反映其在原单位违规发放补贴"})

    await command(system, "assessment", f"{notice}/objections", cadre, {
        "occurred_on": "2024-04-18", "report_id": "JB-2024-301", "channel": "12380", "named": True})

    # unverified, it blocks closing the notice for the appointment
    problem = await command(system, "assessment", f"{notice}/close", cadre, {"occurred_on": "2024-04-23",
                                                                             "outcome": "clear"}, expect=422)
    # the assessment service names its own rule for an objection not yet verified; the shared blocker
    # (appointment.unverified_report) stands behind it
    assert problem["rule"] in ("notice.unresolved_objection", "appointment.unverified_report"), problem
    assert "JB-2024-301" in problem["message_en"]

    # verified as true: it still blocks the appointment
    await command(system, "audit", "/v1/reports/JB-2024-301/verify", cadre, {
        "occurred_on": "2024-04-26", "outcome": "verified", "summary": "经核查基本属实"})
    problem = await command(system, "assessment", f"{notice}/close", cadre, {"occurred_on": "2024-04-29",
                                                                             "outcome": "clear"}, expect=422)
    assert problem["rule"] == "notice.founded_objection" and "JB-2024-301" in problem["message_en"]

    # the organisation department defers the appointment; the deferral now blocks it in turn
    await command(system, "assessment", f"{notice}/deferral", cadre, {"occurred_on": "2024-04-29",
                                                                      "until": "2024-07-28", "reason": "举报属实"})
    await command(system, "assessment", f"{notice}/close", cadre, {"occurred_on": "2024-04-29",
                                                                   "outcome": "deferred"})
    await command(system, "audit", "/v1/talks/TH-2024-301", cadre, {
        "occurred_on": "2024-05-06", "kind": "admonishment", "report_id": "JB-2024-301"})

    status, history, _ = await call("GET", f"{system.url('ledger')}/v1/cadres/{cadre}/history")
    assert status == 200
    assert [r["event"]["type"] for r in history["events"]] == [
        "cadre.registered", "selection.inspected", "appointment.voted", "notice.posted", "report.received",
        "notice.objection_received", "report.verified",
        "appointment.deferred", "notice.closed", "supervision.talk_held"]


async def test_a_notice_a_promotion_rests_on_is_not_corrected_away_under_it(system: System) -> None:
    """A promotion (rotation service) rests on the notice it names, closed as clear (assessment service): correcting
    the close to not_appointed is refused while the promotion stands (correction.removes_premise, naming it and
    its service); once the rotation service revokes the promotion, the correction goes through."""
    cadre = await registered_cadre(system, "XP")
    notice = await notice_posted(system, cadre, "XP-1", "GS-2024-31")
    closed = await command(system, "assessment", f"{notice}/close", cadre, {"occurred_on": "2024-04-23",
                                                                            "outcome": "clear"})
    promoted = await command(system, "rotation", "/v1/posts/P-XP-1/assign", cadre, {
        "occurred_on": "2024-04-26", "post": "某镇党委书记", "unit": "樟市镇党委", "township": "樟市镇",
        "level": "section", "leadership": True, "kind": "promotion", "notice_id": "GS-2024-31"})

    fix = {"occurred_on": "2024-04-23", "outcome": "not_appointed", "reason": "公示结果录错",
           "correction": {"event_id": closed["event_id"], "reason": "公示结果录错"}}
    problem = await command(system, "assessment", f"{notice}/close", cadre, fix, expect=422)
    assert (problem["rule"], problem["field"]) == ("correction.removes_premise", "correction.event_id"), problem
    assert problem["later_events"] == [{"event_id": promoted["event_id"], "type": "post.assigned",
                                        "service": "rotation", "names": {"notice_id": "GS-2024-31"}}], problem

    await command(system, "rotation", "/v1/revocations", cadre, {
        "occurred_on": "2024-05-06", "event_id": promoted["event_id"], "reason": "公示未通过, 任职未生效"})
    fixed = await command(system, "assessment", f"{notice}/close", cadre, fix)
    assert fixed["type"] == "notice.closed.corrected"


async def test_a_notice_clears_the_post_it_made_public_and_no_other(system: System) -> None:
    """The assessment service's notice proposed 某镇党委书记: the rotation service refuses a promotion under it to
    another post (posting.notice_post_matches, naming the post and the one proposed), and takes the one proposed."""
    cadre = await registered_cadre(system, "XN")
    notice = await notice_posted(system, cadre, "XN-1", "GS-2024-41")
    await command(system, "assessment", f"{notice}/close", cadre, {"occurred_on": "2024-04-23", "outcome": "clear"})
    post = {"occurred_on": "2024-04-26", "unit": "樟市镇党委", "township": "樟市镇", "level": "section",
            "leadership": True, "kind": "promotion", "notice_id": "GS-2024-41"}
    problem = await command(system, "rotation", "/v1/posts/P-XN-1/assign", cadre, {**post, "post": "某镇镇长"},
                            expect=422)
    assert (problem["rule"], problem["field"], problem["proposed_post"]) == (
        "posting.notice_post_matches", "post", "某镇党委书记"), problem
    assert "公示拟任职务与任职不符" in problem["message_zh"]
    promoted = await command(system, "rotation", "/v1/posts/P-XN-1/assign", cadre, {**post, "post": "某镇党委书记"})
    assert promoted["type"] == "post.assigned"


async def test_a_cancelled_qualification_bars_the_post_to_a_lateral_posting_and_a_sanction_does_not(
        system: System) -> None:
    """Rule 3 beyond promotions: the qualification for 某镇党委书记 cancelled in the assessment service bars a lateral
    posting to that post in the rotation service (written 党委书记 of 某镇党委, in 某镇), though it names no notice; a
    running sanction (audit service) bars no lateral posting, only one made through a selection."""
    cadre = await registered_cadre(system, "XL")
    notice = await notice_posted(system, cadre, "XL-1", "GS-2024-51")
    await command(system, "assessment", f"{notice}/cancellation", cadre, {"occurred_on": "2024-04-23",
                                                                          "reason": "经核查举报属实"})
    await command(system, "audit", "/v1/sanctions/CF-XL-1", cadre, {
        "occurred_on": "2024-04-24", "category": "party", "measure": "warning", "effective_from": "2024-04-24",
        "effective_until": "2025-04-23"})
    lateral = {"occurred_on": "2024-04-26", "unit": "某镇党委", "township": "某镇", "level": "section",
               "leadership": True, "kind": "lateral"}
    problem = await command(system, "rotation", "/v1/posts/P-XL-1/assign", cadre, {**lateral, "post": "党委书记"},
                            expect=422)
    assert (problem["rule"], problem["notice_id"]) == ("appointment.qualification_cancelled", "GS-2024-51"), problem
    assert problem["blockers"] == ["appointment.qualification_cancelled"], problem
    moved = await command(system, "rotation", "/v1/posts/P-XL-2/assign", cadre, {**lateral, "post": "镇长"})
    assert moved["type"] == "post.assigned"


async def test_a_breach_awaiting_its_demotion_bars_a_promotion_until_the_demotion(system: System) -> None:
    """Rule 7 across services: the assessment service records the breach, the rotation service refuses a promotion
    while no demotion or removal answers it (assessment.demotion_pending), and takes one after the demotion."""
    cadre = await registered_cadre(system, "DM")
    head = {"unit": "桂阳县统计局", "leadership": True, "principal": True}
    await command(system, "rotation", "/v1/posts/TJJ-JZ/assign", cadre, {
        **head, "occurred_on": "2021-03-01", "post": "局长", "level": "section", "kind": "lateral"})
    for on, figures in (("2024-12-20", {"scope": "county_wide", "ballots": 120, "rank": 58, "of": 60, "counts": {
            "excellent": 36, "competent": 70, "basically_competent": 6, "incompetent": 8}}),
                        ("2024-12-22", {"scope": "own_unit", "ballots": 40, "counts": {
                            "excellent": 12, "competent": 18, "basically_competent": 1, "incompetent": 9}})):
        answer = await command(system, "assessment", "/v1/evaluations", cadre, {
            "occurred_on": on, "year": 2024, **figures})
    assert answer["threshold_check"] == "recorded", answer

    promotion = {**head, "unit": "桂阳县人民政府", "post": "副县长", "level": "deputy_division", "kind": "promotion",
                 "exemption_reason": "补录历史任职"}
    problem = await command(system, "rotation", "/v1/posts/XZF-FXZ/assign", cadre,
                            {**promotion, "occurred_on": "2025-02-01"}, expect=422)
    assert problem["rule"] == "assessment.demotion_pending" and problem["year"] == 2024, problem
    assert "降免职" in problem["message_zh"]

    await command(system, "rotation", "/v1/posts/TJJ-JZ/vacate", cadre, {"occurred_on": "2025-02-10",
                                                                          "reason": "demotion"})
    promoted = await command(system, "rotation", "/v1/posts/XZF-FXZ/assign", cadre,
                             {**promotion, "occurred_on": "2025-03-01"})
    assert promoted["type"] == "post.assigned"


async def test_an_incompetent_grade_awaits_its_demotion_and_bars_a_promotion_until_it(system: System) -> None:
    """Rule 6 across services: a bureau chief graded 不称职 is to be demoted one level (降低一个职务或者职级层次任职).
    The assessment service records the grade, the watchlist lists it as awaiting its demotion (待降职), the rotation
    service refuses a promotion once the year the grade bars is over while no demotion answers it
    (assessment.demotion_pending), and the demotion posting resolves both. A 科员 in a non-leadership post, whom no
    demotion can lower, awaits none and is promoted."""
    chief, clerk = await registered_cadre(system, "ID"), await registered_cadre(system, "ID")
    bureau = {"unit": "桂阳县统计局", "kind": "lateral", "occurred_on": "2021-03-01"}
    await command(system, "rotation", "/v1/posts/TJJ-JZ-ID/assign", chief, {
        **bureau, "post": "局长", "level": "section", "leadership": True, "principal": True})
    await command(system, "rotation", "/v1/posts/TJJ-KY-ID/assign", clerk, {
        **bureau, "post": "科员", "level": "clerk", "leadership": False})
    for cadre in (chief, clerk):
        await command(system, "assessment", "/v1/annual-grades", cadre, {
            "occurred_on": "2024-01-20", "year": 2023, "grade": "incompetent"})

    async def watched(cadre: str, as_of: str) -> list[dict[str, Any]]:
        status, page, _ = await call("GET", f"{system.url('ledger')}/v1/watchlist/assessment?cadre_id={cadre}"
                                            f"&kind=incompetent_demotion&state=all&as_of={as_of}")
        assert status == 200, page
        return list(page["items"])

    [item] = await wait_until(lambda: watched(chief, "2025-02-01"))
    assert (item["year"], item["since"], item["status"]) == (2023, "2024-01-20", "open"), item
    assert item["kind_zh"] == "不称职 (降低一个职务或者职级层次, 待降职)" and item["promotion_blocked"] is True
    assert item["detail"]["required_decision"] == "demotion"
    for cadre, demotes in ((chief, True), (clerk, False)):
        status, history, _ = await call("GET", f"{system.url('ledger')}/v1/cadres/{cadre}/history")
        assert status == 200 and history["events"][-1]["event"]["data"]["demotion_required"] is demotes, history

    promotion = {"unit": "桂阳县人民政府", "post": "副县长", "level": "deputy_division", "leadership": True,
                 "kind": "promotion", "exemption_reason": "补录历史任职", "occurred_on": "2025-02-01"}
    problem = await command(system, "rotation", "/v1/posts/XZF-FXZ-ID/assign", chief, promotion, expect=422)
    assert problem["rule"] == "assessment.demotion_pending" and problem["item"] == "incompetent_demotion", problem
    assert problem["blockers"] == ["assessment.demotion_pending"] and problem["year"] == 2023
    assert "2023年度考核被确定为不称职" in problem["message_zh"] and "降低一个职务或者职级层次任职" in problem["basis"]
    promoted = await command(system, "rotation", "/v1/posts/TJJ-FKZ-ID/assign", clerk, {
        **promotion, "unit": "桂阳县统计局", "post": "综合股股长", "level": "deputy_section"})
    assert promoted["type"] == "post.assigned"

    # demoted to deputy chief (降职), then the promotion is no longer refused for the grade
    await command(system, "rotation", "/v1/posts/TJJ-FJZ-ID/assign", chief, {
        **bureau, "occurred_on": "2025-02-10", "post": "副局长", "level": "deputy_section", "leadership": True,
        "principal": False, "kind": "demotion"})
    await command(system, "rotation", "/v1/posts/TJJ-JZ-ID/vacate", chief, {"occurred_on": "2025-02-10",
                                                                             "reason": "demotion"})
    promoted = await command(system, "rotation", "/v1/posts/XZF-FXZ-ID/assign", chief,
                             {**promotion, "occurred_on": "2025-03-01"})
    assert promoted["type"] == "post.assigned"

    async def resolved() -> dict[str, Any] | None:
        [item] = await watched(chief, "2025-03-01")
        return item if item["status"] == "resolved" else None

    item = await wait_until(resolved)
    assert (item["resolved_on"], item["resolution"]) == ("2025-02-10", "demoted (降职)")
    assert item["promotion_blocked"] is False
    [before] = await watched(chief, "2025-02-09")
    assert before["status"] == "open" and before["resolved_on"] is None
    assert await watched(clerk, "2025-03-01") == []
