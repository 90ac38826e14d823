"""Table tests of the grading rules (DOMAIN.md rules 6, 7, 8): given events, when a command, then event or rule."""

from __future__ import annotations

from typing import Any

import pytest

from services.assessment.domain import fold
from services.assessment.domain import grading as g
from shared.clock import not_in_future
from shared.events.rotation import PostAssigned
from shared.problems import RECORD_KEEPING, RuleViolation
from shared.rulesets import ruleset_by_id
from shared.tenure import add_months
from tests.assessment_given import (
    BREACHING_COUNTY,
    BREACHING_OWN,
    CHECK,
    COUNTY,
    D,
    Expected,
    assigned,
    check,
    cmd,
    competency,
    evaluation,
    event,
    graded,
    registered,
    rotated,
    rules,
    vacated,
)

# ---- rule 6: annual grade -------------------------------------------------------------------

GRADE_CASES: list[tuple[str, list[Any], Any, Expected]] = [
    ("a first grade is recorded without consequences", [], cmd(g.AnnualGrade, "2024-01-10", year=2023,
                                                               grade="competent"),
     {"type": "assessment.annual_graded", "grade": "competent", "admonishment_required": False,
      "promotion_blocked_years": [], "dismissal_case": False}),
    ("one grade per cadre and year", [graded(2023, "excellent")],
     cmd(g.AnnualGrade, "2024-02-01", year=2023, grade="competent"), "assessment.annual_grade_once"),
    ("a year that has not begun cannot be graded", [], cmd(g.AnnualGrade, "2024-12-31", year=2025, grade="competent"),
     "assessment.grade_year_not_begun"),
    ("the year in progress can be graded (year-end assessment)", [],
     cmd(g.AnnualGrade, "2024-12-20", year=2024, grade="excellent"),
     {"type": "assessment.annual_graded", "grade": "excellent"}),
    # 年度考核一般每年年末或者翌年年初进行: a year's grade is determined at its end, from December (the rule set's
    # annual_grade_open_months), never in its spring
    ("a year's grade is not recorded in its spring", [], cmd(g.AnnualGrade, "2024-03-01", year=2024, grade="competent"),
     "assessment.grade_before_year_end"),
    ("nor on the eve of its last month", [], cmd(g.AnnualGrade, "2024-11-30", year=2024, grade="competent"),
     "assessment.grade_before_year_end"),
    ("its year-end assessment opens on 1 December", [], cmd(g.AnnualGrade, "2024-12-01", year=2024, grade="competent"),
     {"type": "assessment.annual_graded", "year": 2024}),
    ("basically competent: admonishment and no promotion next year", [],
     cmd(g.AnnualGrade, "2024-01-10", year=2023, grade="basically_competent"),
     {"type": "assessment.annual_graded", "admonishment_required": True, "promotion_blocked_years": [2024],
      "dismissal_case": False}),
    ("second consecutive incompetent opens a dismissal case", [graded(2022, "incompetent")],
     cmd(g.AnnualGrade, "2024-01-10", year=2023, grade="incompetent"),
     {"type": "assessment.annual_graded", "dismissal_case": True, "consecutive_incompetent_years": [2022, 2023]}),
    ("consecutive also when the earlier year is recorded late", [graded(2023, "incompetent")],
     cmd(g.AnnualGrade, "2024-03-01", year=2022, grade="incompetent"),
     {"type": "assessment.annual_graded", "dismissal_case": True, "consecutive_incompetent_years": [2022, 2023]}),
    ("incompetent with a gap year is not consecutive", [graded(2021, "incompetent"), graded(2022, "competent")],
     cmd(g.AnnualGrade, "2024-01-10", year=2023, grade="incompetent"),
     {"type": "assessment.annual_graded", "dismissal_case": False, "consecutive_incompetent_years": []}),
    ("a not-graded year breaks the sequence", [graded(2022, "not_graded")],
     cmd(g.AnnualGrade, "2024-01-10", year=2023, grade="incompetent"),
     {"type": "assessment.annual_graded", "dismissal_case": False}),
    ("basically competent then incompetent is no dismissal case", [graded(2022, "basically_competent")],
     cmd(g.AnnualGrade, "2024-01-10", year=2023, grade="incompetent"),
     {"type": "assessment.annual_graded", "dismissal_case": False, "admonishment_required": False}),
    ("a year that ended before the cadre started work has nothing to grade", [registered("2010-07-01")],
     cmd(g.AnnualGrade, "2024-01-10", year=2009, grade="competent"), "assessment.before_work_start"),
    ("the year the cadre started work is graded", [registered("2010-07-01")],
     cmd(g.AnnualGrade, "2011-01-10", year=2010, grade="competent"),
     {"type": "assessment.annual_graded", "year": 2010}),
    # 不称职 demotes (降低一个职务层次任职): it bars the next year's promotion, as 基本称职 does
    ("incompetent: no promotion next year either", [], cmd(g.AnnualGrade, "2024-01-10", year=2023, grade="incompetent"),
     {"type": "assessment.annual_graded", "admonishment_required": False, "promotion_blocked_years": [2024],
      "dismissal_case": False}),
]


@pytest.mark.parametrize(("name", "given", "command", "expected"), GRADE_CASES, ids=[c[0] for c in GRADE_CASES])
def test_annual_grade(name: str, given: list[Any], command: Any, expected: Expected) -> None:
    check(given, g.decide_annual_grade, command, expected)


def test_an_early_grade_names_the_first_day_and_cites_the_assessment_regulation() -> None:
    with pytest.raises(RuleViolation) as refused:
        g.decide_annual_grade(fold([]), cmd(g.AnnualGrade, "2024-03-01", year=2024, grade="competent"), rules())
    body = refused.value.body()
    assert body["earliest"] == "2024-12-01" and body["year"] == 2024 and body["field"] == "year"
    assert "考核年度未到年末" in body["message_zh"] and "年度考核一般每年年末或者翌年年初进行" in body["basis"]
    assert "公务员考核规定" in body["basis"]


@pytest.mark.parametrize("version", ["431021@2008.1", "431021@2024.2", "000000@2024.2"])
def test_a_superseded_version_still_took_a_grade_on_any_day_of_its_year(version: str) -> None:
    """Grades recorded under the versions first shipped keep their meaning: those took one on any day of the year."""
    old = ruleset_by_id(version)
    assert old.assessment.annual_grade_open_months == 12
    check([], g.decide_annual_grade, cmd(g.AnnualGrade, "2024-03-01", year=2024, grade="competent"),
          {"type": "assessment.annual_graded", "year": 2024}, ruleset=old)


def _posted(on: str, post_id: str, level: str, leadership: bool) -> Any:
    """The rotation service's lateral `post.assigned` of a post of `level` (非领导职务 when not `leadership`)."""
    return event("post.assigned", on, PostAssigned(
        post_id=post_id, post="股长" if leadership else "科员", unit="桂阳县财政局", level=level, leadership=leadership,
        kind="lateral", decision_date=D(on)), service="rotation")


CLERK = _posted("2019-03-01", "P-KY", "clerk", False)               # 科员, 非领导职务: the lowest rank on record
INCOMPETENT_2023 = cmd(g.AnnualGrade, "2024-01-10", year=2023, grade="incompetent")
DEMOTES = {"type": "assessment.annual_graded", "demotion_required": True}
STAYS = {"type": "assessment.annual_graded", "demotion_required": False}

# 不称职 demotes one level (降低一个职务或者职级层次任职, 公务员考核规定): whom the posts held on the grade's day let
# the ledger lower (a leadership post, or a rank above 科员), or whom it knows no post of
DEMOTION_CASES: list[tuple[str, list[Any], Any, Expected]] = [
    ("a principal's post: demoted", [assigned("2021-03-01", "P1", True)], INCOMPETENT_2023, DEMOTES),
    ("a deputy's post (a leadership post): demoted", [assigned("2021-03-01", "P1", False)], INCOMPETENT_2023,
     DEMOTES),
    ("a leadership post at 科员 (股长) can be lowered to a non-leadership one",
     [_posted("2021-03-01", "P1", "clerk", True)], INCOMPETENT_2023, DEMOTES),
    ("a non-leadership post above 科员 (主任科员, 正科级): demoted", [_posted("2021-03-01", "P1", "section", False)],
     INCOMPETENT_2023, DEMOTES),
    ("a non-leadership post at 科员: no lower rank on record, no demotion", [CLERK], INCOMPETENT_2023, STAYS),
    ("... unless a leadership post is held beside it", [CLERK, assigned("2022-03-01", "P1", False)],
     INCOMPETENT_2023, DEMOTES),
    ("... a leadership post left before the grade's day does not count", [
        assigned("2019-03-01", "P1", True), vacated("2023-06-30", "P1"), CLERK], INCOMPETENT_2023, STAYS),
    ("... nor one recorded as taken after it", [CLERK, assigned("2024-02-01", "P1", True)], INCOMPETENT_2023, STAYS),
    ("no post on record: demoted (the record may begin later than the career)", [], INCOMPETENT_2023, DEMOTES),
    ("no post held on the grade's day: demoted", [CLERK, vacated("2023-12-31", "P-KY")], INCOMPETENT_2023, DEMOTES),
    ("the second of two adjacent 不称职 opens a dismissal case beside its demotion (辞退 is listed with 降职)",
     [assigned("2021-03-01", "P1", True), graded(2022, "incompetent")], INCOMPETENT_2023,
     {**DEMOTES, "dismissal_case": True}),
    ("basically competent demotes no one", [assigned("2021-03-01", "P1", True)],
     cmd(g.AnnualGrade, "2024-01-10", year=2023, grade="basically_competent"), STAYS),
    ("nor does competent", [], cmd(g.AnnualGrade, "2024-01-10", year=2023, grade="competent"), STAYS),
]


@pytest.mark.parametrize(("name", "given", "command", "expected"), DEMOTION_CASES, ids=[c[0] for c in DEMOTION_CASES])
def test_an_incompetent_grade_demotes(name: str, given: list[Any], command: Any, expected: Expected) -> None:
    check(given, g.decide_annual_grade, command, expected)


# 不称职 under each version: the corrections bar the next year; the versions they correct (as recorded) did not
@pytest.mark.parametrize(("graded_on", "year", "ruleset", "blocked"), [
    ("2013-01-10", 2012, "431021@2008.3", [2013]),
    ("2013-01-10", 2012, "431021@2008.1", []),
    ("2017-01-10", 2016, "431021@2014.3", [2017]),
    ("2021-01-10", 2020, "431021@2019.2", [2021]),
    ("2021-01-10", 2020, "000000@2019.3", [2021]),
    ("2024-01-10", 2023, "431021@2024.3", [2024]),
    ("2024-01-10", 2023, "431021@2024.1", []),
])
def test_an_incompetent_grade_bars_promotion_under_the_corrected_versions(graded_on: str, year: int, ruleset: str,
                                                                         blocked: list[int]) -> None:
    check([], g.decide_annual_grade, cmd(g.AnnualGrade, graded_on, year=year, grade="incompetent"),
          {"type": "assessment.annual_graded", "promotion_blocked_years": blocked}, ruleset=ruleset_by_id(ruleset))
    if ruleset_by_id(ruleset).county == COUNTY and blocked:
        assert rules(on=graded_on).id == ruleset, "the corrected version is the one in force on the day"


# ---- rule 7: democratic evaluation and the dual threshold -------------------------------------

def _eval_cmd(scope: str, ballots: int, excellent: int, incompetent: int, rank: int | None = None,
              of: int | None = None, year: int = 2024) -> Any:
    return cmd(g.EvaluationRecord, f"{year}-12-20", year=year, scope=scope, ballots=ballots, rank=rank, of=of,
               counts={"excellent": excellent, "competent": ballots - excellent - incompetent,
                       "basically_competent": 0, "incompetent": incompetent})


EVALUATION_CASES: list[tuple[str, list[Any], Any, Expected]] = [
    ("a county-wide evaluation is recorded", [], _eval_cmd("county_wide", 100, 30, 10, rank=58, of=60),
     {"type": "assessment.evaluation_recorded", "scope": "county_wide", "rank": 58, "of": 60}),
    ("one evaluation per year and scope", [evaluation(2024, "own_unit", 40, 20, 2)],
     _eval_cmd("own_unit", 40, 10, 2), "assessment.evaluation_once"),
    ("votes cannot exceed ballots", [], cmd(g.EvaluationRecord, "2024-12-20", year=2024, scope="own_unit",
                                           ballots=10, counts={"excellent": 6, "competent": 5,
                                                               "basically_competent": 0, "incompetent": 0}),
     "assessment.evaluation_counts"),
    ("a county-wide evaluation needs its rank", [], _eval_cmd("county_wide", 100, 30, 10),
     "assessment.evaluation_rank"),
    ("rank within those ranked", [], _eval_cmd("county_wide", 100, 30, 10, rank=61, of=60),
     "assessment.evaluation_rank"),
    ("no evaluation of a year before the cadre started work", [registered("2010-07-01")],
     _eval_cmd("own_unit", 40, 20, 2, year=2009), "assessment.before_work_start"),
]


@pytest.mark.parametrize(("name", "given", "command", "expected"), EVALUATION_CASES,
                         ids=[c[0] for c in EVALUATION_CASES])
def test_evaluation(name: str, given: list[Any], command: Any, expected: Expected) -> None:
    check(given, g.decide_evaluation, command, expected)


@pytest.mark.parametrize(("command", "rule", "cites_rule_set"), [
    (_eval_cmd("county_wide", 100, 30, 10), "assessment.evaluation_rank", True),
    (cmd(g.EvaluationRecord, "2024-12-20", year=2024, scope="own_unit", ballots=10,
         counts={"excellent": 6, "competent": 5, "basically_competent": 0, "incompetent": 0}),
     "assessment.evaluation_counts", False),
])
def test_a_refusal_cites_its_basis(command: Any, rule: str, cites_rule_set: bool) -> None:
    """The rank rule 7 reads cites the rule set's documents on the evaluation (`bases.evaluation`); counts that do
    not add up break a record-keeping rule (记录规则)."""
    with pytest.raises(RuleViolation) as caught:
        g.decide_evaluation(fold([]), command, rules())
    assert caught.value.rule == rule
    assert caught.value.extra["basis"] == (rules().bases.evaluation if cites_rule_set else RECORD_KEEPING)


THRESHOLD_CASES: list[tuple[str, list[Any], Expected]] = [
    ("both evaluations breach: last 5, excellent < 40 % county-wide, incompetent > 20 % in own unit",
     [BREACHING_COUNTY, BREACHING_OWN],
     {"type": "assessment.threshold_breached", "rule": "dual_evaluation", "year": 2024,
      "required_decision": "demotion_or_removal"}),
    ("one evaluation is not enough", [BREACHING_COUNTY], "assessment.evaluations_incomplete"),
    ("rank 55 of 60 is not in the last 5", [evaluation(2024, "county_wide", 100, 30, 10, rank=55, of=60),
                                            BREACHING_OWN], "assessment.threshold_not_breached"),
    ("rank 56 of 60 is in the last 5", [evaluation(2024, "county_wide", 100, 30, 10, rank=56, of=60),
                                        BREACHING_OWN], {"type": "assessment.threshold_breached"}),
    ("excellent exactly 40 % and incompetent exactly 20 % county-wide do not breach",
     [evaluation(2024, "county_wide", 100, 40, 20, rank=60, of=60), BREACHING_OWN],
     "assessment.threshold_not_breached"),
    ("incompetent over 20 % county-wide breaches even with excellent at 40 %",
     [evaluation(2024, "county_wide", 100, 40, 21, rank=60, of=60), BREACHING_OWN],
     {"type": "assessment.threshold_breached"}),
    ("own unit fine (excellent 50 %, incompetent 5 %): no breach",
     [BREACHING_COUNTY, evaluation(2024, "own_unit", 40, 20, 2)], "assessment.threshold_not_breached"),
    ("own unit excellent 39 % breaches", [BREACHING_COUNTY, evaluation(2024, "own_unit", 100, 39, 0)],
     {"type": "assessment.threshold_breached"}),
    # S4: county-wide 优秀票票率未达40% (below), own unit 优秀率未过40% (not above): exactly 40.00 % breaches there
    ("own unit excellent exactly 40 % breaches (未过40%)", [BREACHING_COUNTY, evaluation(2024, "own_unit", 100, 40, 0)],
     {"type": "assessment.threshold_breached"}),
    ("own unit excellent 41 % does not", [BREACHING_COUNTY, evaluation(2024, "own_unit", 100, 41, 0)],
     "assessment.threshold_not_breached"),
    ("evaluations of another year do not count",
     [evaluation(2023, "county_wide", 100, 30, 10, rank=60, of=60), BREACHING_OWN],
     "assessment.evaluations_incomplete"),
    ("a year's breach is recorded once", [BREACHING_COUNTY, BREACHING_OWN, "breach"], "assessment.breach_once"),
]


@pytest.mark.parametrize(("name", "given", "expected"), THRESHOLD_CASES, ids=[c[0] for c in THRESHOLD_CASES])
def test_dual_threshold(name: str, given: list[Any], expected: Expected) -> None:
    events = [e for e in given if e != "breach"]
    if "breach" in given:
        decision = g.decide_threshold_check(fold(events), CHECK, rules())
        events.append(event(decision.type, "2024-12-28", decision.data))
    check(events, g.decide_threshold_check, CHECK, expected)


def test_breach_figures_point_at_both_evaluations() -> None:
    decision = g.decide_threshold_check(fold([BREACHING_COUNTY, BREACHING_OWN]), CHECK, rules())
    figures = decision.data.model_dump(mode="json")["evaluations"]
    assert [f["event_id"] for f in figures] == [str(BREACHING_COUNTY.id), str(BREACHING_OWN.id)]
    assert figures[0]["excellent_pct"] == "30.00" and figures[1]["incompetent_pct"] == "22.50"


def test_the_version_corrected_compared_the_own_unit_as_below() -> None:
    """Events recorded under 431021@2024.1 keep its meaning: there, an own unit at exactly 40 % did not breach."""
    exactly = [BREACHING_COUNTY, evaluation(2024, "own_unit", 100, 40, 0)]
    check(exactly, g.decide_threshold_check, CHECK, "assessment.threshold_not_breached",
          ruleset=ruleset_by_id("431021@2024.1"))
    with pytest.raises(RuleViolation) as caught:
        g.decide_threshold_check(fold([BREACHING_COUNTY, evaluation(2024, "own_unit", 100, 41, 0)]), CHECK, rules())
    assert "本单位测评优秀率未过40%" in caught.value.extra["message_zh"] and "excellent <= 40 %" in \
        caught.value.extra["message_en"]


def test_dual_rule_is_local_to_the_seed_county() -> None:
    check([BREACHING_COUNTY, BREACHING_OWN], g.decide_threshold_check, CHECK,
          "assessment.dual_evaluation_not_in_force", ruleset=rules("430000"))


@pytest.mark.parametrize(("given", "command", "county", "expected"), [
    ([BREACHING_COUNTY], _eval_cmd("own_unit", 40, 20, 9), "431021", True),
    ([BREACHING_OWN], _eval_cmd("county_wide", 100, 30, 10, rank=56, of=60), "431021", True),
    ([], _eval_cmd("own_unit", 40, 20, 9), "431021", False),                       # first of the two
    ([BREACHING_COUNTY], _eval_cmd("own_unit", 40, 20, 2), "431021", False),       # pair does not breach
    ([BREACHING_COUNTY], _eval_cmd("own_unit", 40, 20, 9), "430000", False),       # no dual rule there
])
def test_the_second_evaluation_says_when_a_breach_follows(given: list[Any], command: Any, county: str,
                                                          expected: bool) -> None:
    state = fold(given)
    rs = rules(county)
    decision = g.decide_evaluation(state, command, rs)
    assert g.completes_breach(state, decision, rs) is expected


# ---- rule 7 is for unit principals (党政正职, S4) ----------------------------------------------------

BREACHED: Expected = {"type": "assessment.threshold_breached", "rule": "dual_evaluation", "year": 2024}
PRINCIPALS_ONLY = "assessment.dual_evaluation_principals_only"

PRINCIPAL_CASES: list[tuple[str, list[Any], Expected]] = [
    ("a deputy (principal: false) all year: the rule is not for them", [assigned("2021-03-01", "P1", False)],
     PRINCIPALS_ONLY),
    ("a principal (principal: true)", [assigned("2021-03-01", "P1", True)], BREACHED),
    ("a leadership post whose principal is not stated counts as a principal's (older records)",
     [assigned("2021-03-01", "P1", None)], BREACHED),
    ("a non-leadership post is no principal's", [assigned("2021-03-01", "P1", None, leadership=False)],
     PRINCIPALS_ONLY),
    ("a deputy's and a principal's post at once", [assigned("2021-03-01", "P1", False),
                                                   assigned("2022-03-01", "P2", True)], BREACHED),
    ("no post on record: the evaluations stand, as with a principal not stated", [], BREACHED),
    ("no post on record for the year (the deputy's post ended in 2023): the record says nothing of 2024",
     [assigned("2020-03-01", "P1", False), vacated("2023-06-30", "P1")], BREACHED),
    ("a principal until 30 June, then a deputy: held a principal's post in the year",
     [assigned("2020-03-01", "P1", True), vacated("2024-06-30", "P1"), assigned("2024-06-30", "P2", False)],
     BREACHED),
    ("a principal's post left on 1 January was not held in the year (the day left is the next post's)",
     [assigned("2020-03-01", "P1", True), vacated("2024-01-01", "P1"), assigned("2024-01-01", "P2", False)],
     PRINCIPALS_ONLY),
    ("a principal's post left on 2 January was held on 1 January",
     [assigned("2020-03-01", "P1", True), vacated("2024-01-02", "P1"), assigned("2024-01-02", "P2", False)],
     BREACHED),
    ("a principal's post left in 2023 does not count for 2024",
     [assigned("2020-03-01", "P1", True), vacated("2023-12-31", "P1"), assigned("2023-12-31", "P2", False)],
     PRINCIPALS_ONLY),
    ("a deputy made principal in December held a principal's post in the year",
     [assigned("2020-03-01", "P1", False), vacated("2024-12-15", "P1"), assigned("2024-12-15", "P2", True)],
     BREACHED),
    ("a principal's post recorded after the check's day is not known to it",
     [assigned("2020-03-01", "P1", False), assigned("2024-12-30", "P2", True)], PRINCIPALS_ONLY),
    ("rotated from a principal's post to a deputy's in May", [assigned("2020-03-01", "P1", True),
                                                              rotated("2024-05-10", "P1", "P2", False)], BREACHED),
    ("rotated from a principal's post to a deputy's on 1 January", [assigned("2020-03-01", "P1", True),
                                                                    rotated("2024-01-01", "P1", "P2", False)],
     PRINCIPALS_ONLY),
]


@pytest.mark.parametrize(("name", "given", "expected"), PRINCIPAL_CASES, ids=[c[0] for c in PRINCIPAL_CASES])
def test_the_dual_threshold_is_for_principals(name: str, given: list[Any], expected: Expected) -> None:
    check([*given, BREACHING_COUNTY, BREACHING_OWN], g.decide_threshold_check, CHECK, expected)


def test_a_deputy_is_refused_before_the_figures_are_read() -> None:
    """Whatever the figures, or with one evaluation missing, the answer to a deputy is that the rule is not for them."""
    deputy = assigned("2021-03-01", "P1", False)
    check([deputy, BREACHING_COUNTY, evaluation(2024, "own_unit", 40, 20, 2)], g.decide_threshold_check, CHECK,
          PRINCIPALS_ONLY)
    check([deputy, BREACHING_COUNTY], g.decide_threshold_check, CHECK, PRINCIPALS_ONLY)


def test_the_refusal_names_the_posts_and_cites_s4() -> None:
    given = [assigned("2020-03-01", "P1", False), vacated("2024-03-01", "P1"),
             assigned("2024-03-01", "P2", None, leadership=False), BREACHING_COUNTY, BREACHING_OWN]
    with pytest.raises(RuleViolation) as caught:
        g.decide_threshold_check(fold(given), CHECK, rules())
    extra = caught.value.extra
    assert caught.value.rule == PRINCIPALS_ONLY and extra["year"] == 2024
    assert extra["basis"] == rules().bases.evaluation and "对党政正职优秀票率排在最后5位" in extra["basis"]
    assert "党政正职" in extra["message_zh"] and "principals (正职) only" in extra["message_en"]
    assert [(p["post_id"], p["principal"], p["leadership"], p["since"], p["left_on"]) for p in extra["posts"]] == [
        ("P1", False, True, "2020-03-01", "2024-03-01"), ("P2", None, False, "2024-03-01", None)]


@pytest.mark.parametrize(("given", "applies"), [
    ([assigned("2021-03-01", "P1", False)], False),
    ([assigned("2021-03-01", "P1", True)], True),
    ([], True),
])
def test_the_automatic_check_learns_when_the_rule_is_not_for_the_cadre(given: list[Any], applies: bool) -> None:
    """After the second evaluation the service runs the check only when it applies (else `not_principal`)."""
    state = fold([*given, BREACHING_COUNTY])
    command = _eval_cmd("own_unit", 40, 20, 9)
    decision = g.decide_evaluation(state, command, rules())
    assert g.completes_breach(state, decision, rules()) is True
    refusal = g.not_a_principal(state, 2024, command.occurred_on, rules())
    assert (refusal is None) is applies
    if refusal is not None:
        assert refusal.rule == PRINCIPALS_ONLY and refusal.status == 422


# ---- rule 8: competency test ----------------------------------------------------------------

def _test_cmd(on: str, attempt: int, passed: bool, action: str | None = None) -> Any:
    return cmd(g.CompetencyTest, on, attempt=attempt, score="55.0", passed=passed, action=action)


COMPETENCY_CASES: list[tuple[str, list[Any], Any, Expected]] = [
    ("a failed test sets the retest 3 months later", [], _test_cmd("2024-03-15", 1, False),
     {"type": "assessment.competency_tested", "attempt": 1, "passed": False, "retest_due": "2024-06-15"}),
    ("month ends clamp: 30 Nov + 3 months is 29 Feb in a leap year", [], _test_cmd("2023-11-30", 1, False),
     {"type": "assessment.competency_tested", "retest_due": "2024-02-29"}),
    ("a passed test has no retest", [], _test_cmd("2024-03-15", 1, True),
     {"type": "assessment.competency_tested", "passed": True, "retest_due": None}),
    ("retest one day early is refused", [competency("2024-03-15", 1, False, "2024-06-15")],
     _test_cmd("2024-06-14", 2, True), "assessment.retest_too_early"),
    ("retest on the due day is allowed", [competency("2024-03-15", 1, False, "2024-06-15")],
     _test_cmd("2024-06-15", 2, True), {"type": "assessment.competency_tested", "attempt": 2, "passed": True}),
    ("a retest needs a failed test", [competency("2024-03-15", 1, True)], _test_cmd("2024-07-01", 2, True),
     "assessment.retest_without_failure"),
    ("no retest without any test", [], _test_cmd("2024-07-01", 2, True), "assessment.retest_without_failure"),
    ("a second failure requires an action", [competency("2024-03-15", 1, False, "2024-06-15")],
     _test_cmd("2024-07-01", 2, False), "assessment.second_failure_action"),
    ("a second failure with exactly one action", [competency("2024-03-15", 1, False, "2024-06-15")],
     _test_cmd("2024-07-01", 2, False, "reverse_rotation"),
     {"type": "assessment.competency_tested", "passed": False, "action": "reverse_rotation"}),
    ("no action after a pass", [competency("2024-03-15", 1, False, "2024-06-15")],
     _test_cmd("2024-07-01", 2, True, "demotion"), "assessment.action_only_after_second_failure"),
    ("no action on a first attempt", [], _test_cmd("2024-03-15", 1, False, "demotion"),
     "assessment.action_only_after_second_failure"),
    ("a new test waits for the pending retest", [competency("2024-03-15", 1, False, "2024-06-15")],
     _test_cmd("2024-09-01", 1, True), "assessment.retest_pending"),
    ("a stray retest on the ledger with no test before it is ignored", [competency("2024-03-15", 2, True)],
     _test_cmd("2024-04-01", 1, True), {"type": "assessment.competency_tested", "attempt": 1}),
    ("a new round after a completed one", [competency("2024-03-15", 1, False, "2024-06-15"),
                                           competency("2024-07-01", 2, True)],
     _test_cmd("2025-03-01", 1, True), {"type": "assessment.competency_tested", "attempt": 1}),
]


@pytest.mark.parametrize(("name", "given", "command", "expected"), COMPETENCY_CASES,
                         ids=[c[0] for c in COMPETENCY_CASES])
def test_competency(name: str, given: list[Any], command: Any, expected: Expected) -> None:
    check(given, g.decide_competency_test, command, expected)


def test_retest_rule_is_the_rule_sets_value() -> None:
    assert rules().assessment.retest_after_months == 3
    assert add_months(D("2024-01-31"), 1) == D("2024-02-29") and add_months(D("2024-11-15"), 3) == D("2025-02-15")


# ---- periodic score -------------------------------------------------------------------------

def _score_cmd(on: str, period: str, score: str, indicators: list[dict[str, str]] | None = None) -> Any:
    return cmd(g.PeriodicScore, on, period=period, score=score, indicators=indicators or [])


PERIODIC_CASES: list[tuple[str, list[Any], Any, Expected]] = [
    ("a monthly score", [], _score_cmd("2024-04-05", "2024-03", "912.5"),
     {"type": "assessment.periodic_scored", "period": "2024-03", "score": "912.5"}),
    ("a quarterly score with indicators adding up", [], _score_cmd(
        "2024-04-05", "2024-Q1", "900", [{"name": "经济指标", "score": "600"}, {"name": "计生", "score": "300"}]),
     {"type": "assessment.periodic_scored", "period": "2024-Q1"}),
    ("indicators must add up", [], _score_cmd(
        "2024-04-05", "2024-Q1", "900", [{"name": "经济指标", "score": "600"}]), "assessment.indicator_sum"),
    ("over 1000 points", [], _score_cmd("2024-04-05", "2024-03", "1000.5"), "assessment.periodic_max_score"),
    ("a period not begun", [], _score_cmd("2024-03-31", "2024-Q2", "900"), "assessment.period_not_begun"),
    ("a quarter that ended before the cadre started work", [registered("2010-07-01")],
     _score_cmd("2024-04-05", "2010-Q2", "900"), "assessment.before_work_start"),
    ("a month that ended before the cadre started work", [registered("2010-07-01")],
     _score_cmd("2024-04-05", "2010-06", "900"), "assessment.before_work_start"),
    ("the quarter the cadre started work in", [registered("2010-07-01")],
     _score_cmd("2010-10-05", "2010-Q3", "900"), {"type": "assessment.periodic_scored", "period": "2010-Q3"}),
]


@pytest.mark.parametrize(("name", "given", "command", "expected"), PERIODIC_CASES, ids=[c[0] for c in PERIODIC_CASES])
def test_periodic(name: str, given: list[Any], command: Any, expected: Expected) -> None:
    check(given, g.decide_periodic_score, command, expected)


def test_one_score_per_period() -> None:
    first = g.decide_periodic_score(fold([]), _score_cmd("2024-04-05", "2024-03", "900"), rules())
    check([event(first.type, "2024-04-05", first.data)], g.decide_periodic_score,
          _score_cmd("2024-04-06", "2024-03", "910"), "assessment.period_once")


def test_a_fact_cannot_be_recorded_before_it_happens() -> None:
    not_in_future(D("2024-05-01"), D("2024-05-01"))
    with pytest.raises(RuleViolation) as caught:
        not_in_future(D("2024-05-02"), D("2024-05-01"))
    assert caught.value.rule == "command.not_in_future" and caught.value.extra["field"] == "occurred_on"
