"""The rotation service's postings through HTTP, NATS and the ledger: registration and its guards (personal data,
the calendar, the rule set in force), promotions held to their rules whatever the posting is called (任前公示 from
the assessment service, an unverified report, a 基本称职 grade, probation 试用期 for some posts and not others),
elected posts (选举产生) with no probation, and how postings and the dossier show them. The dues, deferrals and
rotations are in tests/test_rotation_due_slice.py."""

from __future__ import annotations

from datetime import date
from typing import Any

from shared.problems import RECORD_KEEPING
from shared.rulesets import ruleset_for
from tests.rotation_slice_support import COUNTY, post_ok, projected, registration, township_post
from tests.support import System, call, new_cadre_id


async def test_registration_guards_personal_data_and_the_calendar(system: System) -> None:
    url = system.url("rotation")
    cadre = new_cadre_id("R")
    status, problem, _ = await call("POST", f"{url}/v1/cadres/register",
                                    registration(cadre, id_number="431021198503150028"))
    assert status == 422 and [e["field"] for e in problem["errors"]] == ["id_number"]
    status, problem, _ = await call("POST", f"{url}/v1/cadres/register", registration(cadre, sex="male"))
    assert status == 422 and "sex does not match" in problem["errors"][0]["message"]

    await post_ok(f"{url}/v1/cadres/register?wait=committed", registration(cadre, occurred_on="2020-01-02"))
    status, problem, _ = await call("POST", f"{url}/v1/cadres/register", registration(cadre, occurred_on="2020-01-02"))
    assert status == 422 and problem["rule"] == "cadre.register_once" and problem["basis"] == RECORD_KEEPING

    status, problem, _ = await call("POST", f"{url}/v1/posts/P-future/assign",
                                    township_post(cadre, "2099-01-01"))
    assert status == 422 and problem["rule"] == "command.not_in_future"
    status, problem, _ = await call("POST", f"{url}/v1/posts/P-X/assign",
                                    township_post(new_cadre_id("R"), "2020-03-01"))
    assert status == 422 and problem["rule"] == "cadre.registered_first"
    status, problem, _ = await call("POST", f"{url}/v1/posts/P-X/assign",
                                    township_post(cadre, "2020-03-01", kind="promotion", level="deputy_section"))
    assert status == 422 and problem["rule"] == "promotion.notice_cleared"
    assert "任前公示" in problem["message_zh"] and problem["basis"]
    # an exemption of blanks (spaces, an ideographic space) gives no reason: refused naming the field
    for blank in ("   ", "\u3000"):
        status, problem, _ = await call("POST", f"{url}/v1/posts/P-X/assign", township_post(
            cadre, "2020-03-01", kind="promotion", level="deputy_section", exemption_reason=blank))
        assert status == 422 and [e["field"] for e in problem["errors"]] == ["exemption_reason"], problem
    # a title that shows otherwise than it is stored (a right-to-left override) is refused, naming the field
    status, problem, _ = await call("POST", f"{url}/v1/posts/P-X/assign",
                                    township_post(cadre, "2020-03-01", post="镇政府\u202e员科"))
    assert status == 422 and [(e["field"], e["message_zh"]) for e in problem["errors"]] == [
        ("post", "须为一行可见文字: 不能全是空白, 不能含换行、控制字符、双向控制符或不可见字符")]

    status, problem, _ = await call("GET", f"{url}/v1/cadres/{new_cadre_id('R')}/person")
    assert status == 404
    assert system.stack is not None
    elsewhere = system.stack.dev_token(["auditor"], ["110101"])
    status, problem, _ = await call("GET", f"{url}/v1/cadres/{cadre}/person", token=elsewhere)
    assert status == 404, problem
    status, person, _ = await call("GET", f"{url}/v1/cadres/{cadre}/person",
                                   token=system.stack.dev_token(["auditor"], [COUNTY]))
    assert status == 200 and person["commitments_match"] is True


async def test_a_promotion_consumes_the_assessment_services_cleared_notice(system: System) -> None:
    rotation, assessment = system.url("rotation"), system.url("assessment")
    cadre = new_cadre_id("R")
    await post_ok(f"{rotation}/v1/cadres/register?wait=committed", registration(cadre, occurred_on="2016-01-04"))
    await post_ok(f"{rotation}/v1/posts/ZS-KY-06/assign?wait=committed", township_post(cadre, "2016-03-01"))

    def at(on: str, **body: Any) -> dict[str, Any]:
        return {"cadre_id": cadre, "county": COUNTY, "occurred_on": on, **body}

    promotion = township_post(cadre, "2024-10-15", post="副镇长", level="deputy_section", leadership=True,
                              kind="promotion", notice_id="GS-2024-R1")
    status, problem, _ = await call("POST", f"{rotation}/v1/posts/ZS-FZZ-01/assign", promotion)
    assert status == 422 and problem["rule"] == "promotion.notice_cleared"

    # the selection in the assessment service: inspection, vote, a 5-working-day notice closed as clear
    await post_ok(f"{assessment}/v1/selections/XB-R1/inspection?wait=committed", at(
        "2024-09-10", proposed_post="樟市镇副镇长", dossier_checked=True, personal_matters_checked=True,
        discipline_opinion_obtained=True, petitions_checked=True))
    await post_ok(f"{assessment}/v1/selections/XB-R1/vote?wait=committed", at(
        "2024-09-20", members_entitled=11, members_present=10, votes_for=9, votes_against=1))
    await post_ok(f"{assessment}/v1/selections/XB-R1/notice?wait=committed", at(
        "2024-09-26", notice_id="GS-2024-R1", start="2024-09-26", end="2024-10-08", channels=["县委组织部网站"]))
    await post_ok(f"{assessment}/v1/notices/GS-2024-R1/close?wait=committed", at("2024-10-09", outcome="clear"))

    # an unverified report (audit service) blocks it; once verified, the promotion goes through
    await post_ok(f"{system.url('audit')}/v1/reports/JB-R1/receive?wait=committed",
                  at("2024-10-10", channel="12380", named=True))
    status, problem, _ = await call("POST", f"{rotation}/v1/posts/ZS-FZZ-01/assign", promotion)
    assert status == 422 and problem["rule"] == "appointment.unverified_report"
    await post_ok(f"{system.url('audit')}/v1/reports/JB-R1/verify?wait=committed",
                  at("2024-10-12", outcome="unfounded"))
    done = await post_ok(f"{rotation}/v1/posts/ZS-FZZ-01/assign?wait=committed", promotion)
    assert done["committed"] is True

    status, problem, _ = await call("POST", f"{rotation}/v1/posts/ZS-FZZ-02/assign",
                                    {**promotion, "occurred_on": "2026-01-05", "level": "section"})
    assert status == 422 and problem["rule"] == "promotion.not_during_probation"
    conclude = at("2025-10-14", outcome="confirmed")
    status, problem, _ = await call("POST", f"{rotation}/v1/posts/ZS-FZZ-01/probation/conclude", conclude)
    assert status == 422 and problem["rule"] == "probation.before_end" and problem["probation_end"] == "2025-10-15"
    await post_ok(f"{rotation}/v1/posts/ZS-FZZ-01/probation/conclude?wait=committed",
                  {**conclude, "occurred_on": "2025-10-15"})
    status, problem, _ = await call("POST", f"{rotation}/v1/posts/ZS-FZZ-02/assign",
                                    {**promotion, "occurred_on": "2026-01-05", "level": "section"})
    assert status == 422 and problem["rule"] == "promotion.notice_cleared"  # the notice served once

    status, history, _ = await call("GET", f"{system.url('ledger')}/v1/cadres/{cadre}/history")
    assert status == 200
    assigned = [r["event"]["data"] for r in history["events"] if r["type"] == "post.assigned"]
    assert assigned[-1]["notice_id"] == "GS-2024-R1" and assigned[-1]["probation_end"] == "2025-10-15"


async def test_a_departments_principal_is_promoted_without_probation_a_deputy_with_one(system: System) -> None:
    """DOMAIN.md rule 4 as 选拔任用工作条例 (2019) 第四十三条 lists the posts with a probation (试用期):
    工作部门副职 and 内设机构领导职务, not a department's principal (局长, 正职); the refusals cite 第四十二条 and
    第四十三条."""
    rotation = system.url("rotation")
    chief, deputy = new_cadre_id("R"), new_cadre_id("R")
    for cadre in (chief, deputy):
        await post_ok(f"{rotation}/v1/cadres/register?wait=committed",
                      registration(cadre, occurred_on="2016-01-04", unit="桂阳县审计局"))

    def post(cadre: str, **fields: Any) -> dict[str, Any]:
        return {"cadre_id": cadre, "county": COUNTY, "occurred_on": "2024-06-03", "unit": "桂阳县审计局",
                "level": "section", "leadership": True, "kind": "promotion", **fields}

    status, problem, _ = await call("POST", f"{rotation}/v1/posts/SJJ-JZ/assign",
                                    post(chief, post="局长", principal=True))
    assert status == 422 and problem["rule"] == "promotion.notice_cleared", problem
    assert "第四十二条" in problem["basis"] and "第五十二条" not in problem["basis"], problem
    await post_ok(f"{rotation}/v1/posts/SJJ-JZ/assign?wait=committed",
                  post(chief, post="局长", principal=True, exemption_reason="县人大常委会任命"))
    await post_ok(f"{rotation}/v1/posts/SJJ-FJZ/assign?wait=committed",
                  post(deputy, post="副局长", principal=False, exemption_reason="换届"))

    status, history, _ = await call("GET", f"{system.url('ledger')}/v1/cadres/{chief}/history")
    assert status == 200
    assigned = [r["event"]["data"] for r in history["events"] if r["type"] == "post.assigned"]
    assert assigned[-1]["principal"] is True and "probation_end" not in assigned[-1], assigned[-1]
    status, problem, _ = await call("POST", f"{rotation}/v1/posts/SJJ-JZ/probation/conclude",
                                    {"cadre_id": chief, "county": COUNTY, "occurred_on": "2025-06-03",
                                     "outcome": "confirmed"})
    assert status == 422 and problem["rule"] == "probation.none", problem

    early = {"cadre_id": deputy, "county": COUNTY, "occurred_on": "2025-06-02", "outcome": "confirmed"}
    status, problem, _ = await call("POST", f"{rotation}/v1/posts/SJJ-FJZ/probation/conclude", early)
    assert status == 422 and problem["rule"] == "probation.before_end" and problem["probation_end"] == "2025-06-03"
    assert "第四十三条 (任职试用期制度)" in problem["basis"], problem


async def test_a_basically_competent_grade_bars_the_rotation_services_promotions_in_the_barred_year(
        system: System) -> None:
    """DOMAIN.md rule 6 across services: the grade is the assessment service's, the promotion the rotation service's."""
    rotation, assessment = system.url("rotation"), system.url("assessment")
    cadre = new_cadre_id("R")
    await post_ok(f"{rotation}/v1/cadres/register?wait=committed", registration(cadre, occurred_on="2016-01-04"))
    await post_ok(f"{rotation}/v1/posts/ZS-KY-07/assign?wait=committed", township_post(cadre, "2016-03-01"))
    await post_ok(f"{assessment}/v1/annual-grades?wait=committed", {
        "cadre_id": cadre, "county": COUNTY, "occurred_on": "2024-01-15", "year": 2023,
        "grade": "basically_competent"})
    years = ruleset_for(COUNTY, date(2024, 1, 15)).assessment.promotion_block_years

    promotion = township_post(cadre, "2024-06-03", post="副镇长", level="deputy_section", leadership=True,
                              kind="promotion", exemption_reason="换届选举")
    status, problem, _ = await call("POST", f"{rotation}/v1/posts/ZS-FZZ-07/assign", promotion)
    assert status == 422 and problem["rule"] == "assessment.promotion_blocked", problem
    assert problem["graded_year"] == 2023 and "基本称职" in problem["message_zh"] and problem["basis"]
    assert "basically competent" in problem["message_en"]
    # a posting that is no promotion is not barred; a promotion once the barred years are over is
    await post_ok(f"{rotation}/v1/posts/ZS-KY-08/assign?wait=committed",
                  township_post(cadre, "2024-06-03", post="镇政府办公室科员"))
    done = await post_ok(f"{rotation}/v1/posts/ZS-FZZ-07/assign?wait=committed",
                         {**promotion, "occurred_on": f"{2024 + years}-01-05"})
    assert done["committed"] is True


async def test_a_fact_dated_before_any_rule_set_says_from_when_one_is_in_force(system: System) -> None:
    status, problem, _ = await call("POST", f"{system.url('rotation')}/v1/cadres/register",
                                    registration(new_cadre_id("R"), occurred_on="2005-06-01", work_start="2003-07-01"))
    assert status == 422 and problem.get("rule") == "ruleset.in_force", problem
    assert problem["first_in_force"] == "2008-01-01" and "2008-01-01" in problem["message_zh"]


async def test_a_rise_in_rank_is_held_to_the_promotion_rules_whatever_the_posting_is_called(system: System) -> None:
    """DOMAIN.md rules 1, 3, 4: a lateral posting or a rotation cannot raise the rank; an election that does is a
    promotion (notice or exemption, blockers, probation)."""
    rotation = system.url("rotation")
    cadre = new_cadre_id("R")
    await post_ok(f"{rotation}/v1/cadres/register?wait=committed", registration(cadre, occurred_on="2016-01-04"))
    await post_ok(f"{rotation}/v1/posts/ZS-KY-09/assign?wait=committed", township_post(cadre, "2016-03-01"))

    head = township_post(cadre, "2024-06-03", post="樟市镇镇长", level="section", leadership=True)
    for kind in ("lateral", "rotation"):
        status, problem, headers = await call("POST", f"{rotation}/v1/posts/ZS-ZZ-09/assign", {**head, "kind": kind})
        assert status == 422 and headers["Content-Type"].startswith("application/problem+json"), problem
        assert problem["rule"] == "posting.kind_matches_level" and problem["previous_level"] == "clerk", problem
        assert "不能提高职级" in problem["message_zh"] and "cannot raise" in problem["message_en"]
    status, problem, _ = await call("POST", f"{rotation}/v1/posts/ZS-ZZ-09/assign", {**head, "kind": "election"})
    assert status == 422 and problem["rule"] == "promotion.notice_cleared", problem
    assert "任前公示" in problem["message_zh"]

    # with a recorded exemption (换届选举) the election goes through; an elected post starts no probation
    elected = {**head, "kind": "election", "exemption_reason": "换届选举, 人大选举产生"}
    await post_ok(f"{rotation}/v1/posts/ZS-ZZ-09/assign?wait=committed", elected)
    status, history, _ = await call("GET", f"{system.url('ledger')}/v1/cadres/{cadre}/history")
    assert status == 200
    data = [r["event"]["data"] for r in history["events"] if r["type"] == "post.assigned"][-1]
    assert data["kind"] == "election" and "probation_end" not in data, data


async def test_a_promotion_to_an_elected_post_starts_no_probation(system: System) -> None:
    """选拔任用工作条例 (2019) 第四十三条: 任职试用期 is for promotions to 非选举产生的领导职务. A 副镇长 (elected by
    the township people's congress) promoted to and recorded as a promotion with `elected: true` keeps every
    promotion rule but has no probation to conclude; the same promotion not stated to be elected starts one."""
    rotation = system.url("rotation")
    elected_cadre, other = new_cadre_id("RE"), new_cadre_id("RE")
    for cadre in (elected_cadre, other):
        await post_ok(f"{rotation}/v1/cadres/register?wait=committed", registration(cadre, occurred_on="2016-01-04"))
        await post_ok(f"{rotation}/v1/posts/ZS-KY-{cadre}/assign?wait=committed", township_post(cadre, "2016-03-01"))
    deputy: dict[str, Any] = {"post": "副镇长", "level": "deputy_section", "leadership": True, "principal": False,
                              "kind": "promotion", "exemption_reason": "换届选举, 镇人民代表大会选举产生"}
    await post_ok(f"{rotation}/v1/posts/ZS-FZZ-{elected_cadre}/assign?wait=committed",
                  township_post(elected_cadre, "2024-06-03", **deputy, elected=True))
    await post_ok(f"{rotation}/v1/posts/ZS-FZZ-{other}/assign?wait=committed",
                  township_post(other, "2024-06-03", **deputy))

    data = {}
    for cadre in (elected_cadre, other):
        status, history, _ = await call("GET", f"{system.url('ledger')}/v1/cadres/{cadre}/history")
        assert status == 200, history
        data[cadre] = [r["event"]["data"] for r in history["events"] if r["type"] == "post.assigned"][-1]
    assert data[elected_cadre]["elected"] is True and data[elected_cadre]["kind"] == "promotion", data
    assert "probation_end" not in data[elected_cadre], data
    assert "elected" not in data[other] and data[other]["probation_end"] == "2025-06-03", data

    conclusion = {"cadre_id": elected_cadre, "county": COUNTY, "occurred_on": "2025-06-03", "outcome": "confirmed"}
    status, problem, headers = await call("POST", f"{rotation}/v1/posts/ZS-FZZ-{elected_cadre}/probation/conclude",
                                          conclusion)
    assert status == 422 and headers["Content-Type"].startswith("application/problem+json"), problem
    assert problem["rule"] == "probation.none" and "试用期" in problem["message_zh"], problem

    # a posting of kind election is to an elected post: stating otherwise is refused, naming the field
    status, problem, _ = await call("POST", f"{rotation}/v1/posts/ZS-ZZ-{other}/assign", township_post(
        other, "2024-06-04", post="镇长", level="deputy_section", leadership=True, kind="election", elected=False))
    assert status == 422 and problem["rule"] == "posting.election_to_elected_post", problem
    assert problem["field"] == "elected" and "选举产生" in problem["message_zh"], problem

    # a posting recorded without `elected` and so put on probation is corrected (更正) with it: no probation then
    status, history, _ = await call("GET", f"{system.url('ledger')}/v1/cadres/{other}/history")
    other_assigned = [r for r in history["events"] if r["type"] == "post.assigned"][-1]
    assert other_assigned["event"]["data"]["post_id"] == f"ZS-FZZ-{other}", other_assigned
    await post_ok(f"{rotation}/v1/posts/ZS-FZZ-{other}/assign?wait=committed", {
        **township_post(other, "2024-06-03", **deputy, elected=True),
        "correction": {"event_id": other_assigned["event"]["id"], "reason": "录入遗漏: 副镇长为选举产生的职务"}})
    status, problem, _ = await call("POST", f"{rotation}/v1/posts/ZS-FZZ-{other}/probation/conclude",
                                    {**conclusion, "cadre_id": other})
    assert status == 422 and problem["rule"] == "probation.none", problem


async def test_postings_and_the_dossier_show_whether_a_post_is_elected(system: System) -> None:
    """An auditor reads elected (选举产生) where a cadre's postings are: the postings read model and the dossier's
    posts, held and left, with its words (elected_zh). A posting of kind election is to an elected post, one may
    state it is not (委任), and one that does not say shows null (未说明), not false. A post left keeps principal
    (正职) too, as it was recorded."""
    rotation = system.url("rotation")
    cadres = {new_cadre_id("RE"): True, new_cadre_id("RE"): False, new_cadre_id("RE"): None}
    postings: dict[bool | None, dict[str, Any]] = {
        True: {"post": "副镇长", "level": "deputy_section", "leadership": True, "principal": False, "kind": "election"},
        False: {"elected": False}, None: {}}
    for cadre, elected in cadres.items():
        await post_ok(f"{rotation}/v1/cadres/register?wait=committed", registration(cadre, occurred_on="2016-01-04"))
        await post_ok(f"{rotation}/v1/posts/ZS-{cadre}/assign?wait=committed",
                      township_post(cadre, "2016-03-01", **postings[elected]))
    words = {True: "选举产生", False: "委任", None: "未说明"}
    for cadre, elected in cadres.items():
        [row] = await projected(system, f"/v1/rotation/postings?cadre_id={cadre}", "postings", lambda rows: rows != [])
        assert row["elected"] is elected and row["elected_zh"] == words[elected], row
        status, state, _ = await call("GET", f"{system.url('ledger')}/v1/cadres/{cadre}/state")
        assert status == 200, state
        held = state["rotation"]["posts"][f"ZS-{cadre}"]
        assert held["elected"] is elected and held["elected_zh"] == words[elected], held
        await post_ok(f"{rotation}/v1/posts/ZS-{cadre}/vacate?wait=committed",
                      {"cadre_id": cadre, "county": COUNTY, "occurred_on": "2019-03-01", "reason": "term_end"})
        status, state, _ = await call("GET", f"{system.url('ledger')}/v1/cadres/{cadre}/state")
        [left] = state["rotation"]["former_posts"]
        assert (left["post_id"], left["left_on"], left["principal"], left["elected"], left["elected_zh"]) == (
            f"ZS-{cadre}", "2019-03-01", False if elected else None, elected, words[elected]), left
