"""Grades (考核): annual grade, democratic evaluation and its dual threshold, competency test, periodic score.

DOMAIN.md rules 6 (annual grade), 7 (dual democratic evaluation, S4) and 8 (competency test, S4).

The threshold breach is its own command, decided on the ledger: recording the second evaluation of a
year yields only `assessment.evaluation_recorded`; `decide_threshold_check` then reads both
evaluations from the ledger and yields `assessment.threshold_breached`. The service runs the check
right after an evaluation that completes a breach (`completes_breach`), and it can be run again at
any time (at most one breach per year), so a crash between the two commands loses nothing.

The breach is for unit principals (党政正职, S4) only: `not_a_principal` says when the ledger shows that the
cadre held no principal's post in the evaluated year (docs/assessment.md gives the reading and why). A 不称职
grade states whether it demotes the cadre (`demotion_required`, `can_be_demoted`), which the watchlist and the
promotion blockers read until a demotion or removal answers it.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from pydantic import Field, StrictInt

from services.assessment.domain.posts import posts_held_in, posts_held_on
from services.assessment.domain.state import AssessmentState, Evaluation
from shared.decisions import CadreCommand, Decision
from shared.events.assessment import (
    GRADE_ZH,
    AnnualGraded,
    CompetencyTested,
    EvaluationFigures,
    EvaluationRecorded,
    Grade,
    GradeCounts,
    HandlingAction,
    Indicator,
    Period,
    PeriodicScored,
    Scope,
    Score,
    ThresholdBreached,
    Year,
)
from shared.events.rotation import LEVEL_ORDER
from shared.problems import RuleViolation
from shared.rulesets import RuleSet
from shared.tenure import add_months

# ---- commands -------------------------------------------------------------------------------


class AnnualGrade(CadreCommand):
    """Record the annual assessment grade (年度考核等次) of a year."""

    year: Year = Field(description="The assessed year (考核年度). Its grade is recorded at its end or early the next "
                                   "year (年度考核一般每年年末或者翌年年初进行): from 1 December of the year under the "
                                   "rule sets in force (`assessment.grade_before_year_end`).")
    grade: Grade = Field(description="excellent 优秀, competent 称职, basically_competent 基本称职, "
                                     "incompetent 不称职, not_graded 不定等次.")


class EvaluationRecord(CadreCommand):
    """Record one democratic evaluation (民主测评) of a unit principal."""

    year: Year
    scope: Scope = Field(description="county_wide (全县统一测评) or own_unit (本单位测评).")
    ballots: StrictInt = Field(ge=1, le=1_000_000, description="Valid ballots (有效票).")
    counts: GradeCounts = Field(description="Votes per grade (各等次票数).")
    rank: StrictInt | None = Field(None, ge=1, description="Rank by excellent-vote rate (优秀票率排名); county_wide.")
    of: StrictInt | None = Field(None, ge=1, description="Principals ranked (参加排队人数); county_wide.")


class ThresholdCheck(CadreCommand):
    """Check the year's two evaluations against the dual threshold and record the breach."""

    year: Year


class CompetencyTest(CadreCommand):
    """Record a competency test (行政管理能力测试) or its retest (补测)."""

    attempt: StrictInt = Field(ge=1, le=2, description="1: the test; 2: the retest after a failure (补测).")
    score: Score
    passed: bool
    action: HandlingAction | None = Field(
        None, description="Required when the retest fails, exactly one of: reverse_rotation 逆向交流, demotion 降职, "
                          "non_leadership_post 改任非领导职务.")


class PeriodicScore(CadreCommand):
    """Record a monthly or quarterly score (平时考核, 千分制)."""

    period: Period = Field(description="Month `YYYY-MM` or quarter `YYYY-Qn`.")
    score: Score
    indicators: list[Indicator] = Field(default_factory=list, max_length=100,
                                        description="Score lines (指标得分); when given they add up to `score`.")


# ---- the years a cadre worked ----------------------------------------------------------------


def _worked_by(state: AssessmentState, last_day: date, what_en: str, what_zh: str, field: str) -> None:
    """`assessment.before_work_start`: a year or period that ended before the cadre started work has nothing to
    assess (a mistyped year: the fact's own date may well be later, so `cadre.before_work_start` lets it pass)."""
    if state.work_start is not None and last_day < state.work_start:
        raise RuleViolation(
            "assessment.before_work_start",
            f"{what_en} ended before the cadre started work ({state.work_start.isoformat()})",
            f"{what_zh}在该干部参加工作 ({state.work_start.isoformat()}) 之前已结束, 无可考核",
            field=field, work_start=state.work_start.isoformat())


# ---- annual grade (rule 6) ------------------------------------------------------------------


def decide_annual_grade(state: AssessmentState, cmd: AnnualGrade, rules: RuleSet) -> Decision:
    """One grade per year, recorded at the year's end or after (from the rule set's `annual_grade_open_months` before
    it ends); 基本称职 requires an admonishment and bars promotion, as 不称职 does (for the rule set's years of each);
    2 x 不称职 opens a dismissal case."""
    if cmd.year in state.grades:
        raise RuleViolation(
            "assessment.annual_grade_once",
            f"{cmd.year} is already graded {state.grades[cmd.year]}; one annual grade per cadre and year",
            f"{cmd.year}年度已确定为{GRADE_ZH[state.grades[cmd.year]]}, 每人每年只确定一个年度考核等次",
            basis=rules.bases.grading, year=cmd.year)
    _worked_by(state, date(cmd.year, 12, 31), f"year {cmd.year}", f"{cmd.year}年度", "year")
    if cmd.year > cmd.occurred_on.year:
        raise RuleViolation(
            "assessment.grade_year_not_begun", f"cannot grade {cmd.year} on {cmd.occurred_on.isoformat()}",
            f"{cmd.occurred_on.isoformat()} 不能确定 {cmd.year} 年度的考核等次 (考核年度尚未开始)",
            basis=rules.bases.grading)
    # annual assessment is held at the year's end or early the next (年末或者翌年年初): not in the year's spring
    earliest = add_months(date(cmd.year + 1, 1, 1), -rules.assessment.annual_grade_open_months)
    if cmd.occurred_on < earliest:
        raise RuleViolation(
            "assessment.grade_before_year_end",
            f"the {cmd.year} grade cannot be recorded on {cmd.occurred_on.isoformat()}: a year's annual assessment "
            f"is held at its end or early the next year, so its grade is recorded from {earliest.isoformat()} on",
            f"{cmd.occurred_on.isoformat()} 不能确定 {cmd.year} 年度的考核等次 (考核年度未到年末): 年度考核在年末或者"
            f"翌年年初进行, 自 {earliest.isoformat()} 起方可确定",
            basis=rules.bases.grading, field="year", year=cmd.year, earliest=earliest.isoformat())
    basically = cmd.grade == "basically_competent"
    consecutive: list[int] = []
    if cmd.grade == "incompetent":
        neighbours = [y for y in (cmd.year - 1, cmd.year + 1) if state.grades.get(y) == "incompetent"]
        if neighbours:
            consecutive = sorted([cmd.year, *neighbours])
    # 基本称职 bars promotion (一年内不得晋升职务); 不称职 demotes (降低一个职务层次任职), so it bars it too
    years = {"basically_competent": rules.assessment.promotion_block_years,
             "incompetent": rules.assessment.incompetent_promotion_block_years}.get(cmd.grade, 0)
    blocked = [cmd.year + n for n in range(1, years + 1)]
    # 不称职 demotes one level (降低一个职务层次任职), the second of two adjacent ones too: the regulation lists the
    # dismissal (辞退) beside the demotion, and a correction of the other year may leave this one alone
    demotion = cmd.grade == "incompetent" and can_be_demoted(state, cmd.occurred_on)
    data = AnnualGraded(year=cmd.year, grade=cmd.grade, admonishment_required=basically,
                        promotion_blocked_years=blocked, dismissal_case=bool(consecutive),
                        consecutive_incompetent_years=consecutive, demotion_required=demotion)
    return Decision("assessment.annual_graded", data, cmd.occurred_on)


def can_be_demoted(state: AssessmentState, day: date) -> bool:
    """Whether a 不称职 grade recorded on `day` can lower the cadre one level (降低一个职务或者职级层次任职).

    A leadership post can always be lowered (to a deputy's or a non-leadership post, 改任非领导职务), and so can any
    rank above the lowest the ledger records (科员及以下). A cadre whose posts held on that day, as recorded by then,
    are all non-leadership posts at 科员 has no lower rank on record: no demotion is required of the ledger. A cadre
    with no post on record that day is demoted all the same: the ledger keeps a career only from when the rotation
    service recorded it, and a gap in the record is not a rank that cannot be lowered.
    """
    held = posts_held_on(state.history, day)
    return not held or any(h.posting.leadership or h.posting.level != LEVEL_ORDER[0] for h in held)


# ---- democratic evaluation (rule 7) ---------------------------------------------------------


def decide_evaluation(state: AssessmentState, cmd: EvaluationRecord, rules: RuleSet) -> Decision:
    """One evaluation per year and scope; votes fit the ballots; a county-wide one is ranked."""
    if (cmd.year, cmd.scope) in state.evaluations:
        raise RuleViolation(
            "assessment.evaluation_once", f"the {cmd.scope} evaluation of {cmd.year} is already recorded",
            f"{cmd.year}年度{_scope_zh(cmd.scope)}已经记录, 不能重复记录")
    _worked_by(state, date(cmd.year, 12, 31), f"year {cmd.year}", f"{cmd.year}年度", "year")
    c = cmd.counts
    votes = c.excellent + c.competent + c.basically_competent + c.incompetent
    if votes > cmd.ballots:
        raise RuleViolation(
            "assessment.evaluation_counts", f"counts add up to {votes}, more than the {cmd.ballots} ballots",
            f"各等次票数之和 {votes} 超过有效票数 {cmd.ballots}", field="counts")
    if cmd.scope == "county_wide" and (cmd.rank is None or cmd.of is None):
        raise RuleViolation(
            "assessment.evaluation_rank", "a county-wide evaluation needs rank and of (the ranking by excellent rate)",
            "全县统一测评须填写按优秀票率的排名 (rank) 和参加排队人数 (of)", basis=rules.bases.evaluation, field="rank")
    if cmd.rank is not None and cmd.of is not None and cmd.rank > cmd.of:
        raise RuleViolation("assessment.evaluation_rank", f"rank {cmd.rank} is beyond the {cmd.of} ranked",
                            f"排名 {cmd.rank} 超出参加排队人数 {cmd.of}", basis=rules.bases.evaluation, field="rank")
    data = EvaluationRecorded(year=cmd.year, scope=cmd.scope, ballots=cmd.ballots, counts=cmd.counts, rank=cmd.rank,
                              of=cmd.of)
    return Decision("assessment.evaluation_recorded", data, cmd.occurred_on)


def _scope_zh(scope: str) -> str:
    return "全县统一民主测评" if scope == "county_wide" else "本单位民主测评"


def _rates_breach(ev: Evaluation, rules: RuleSet) -> bool:
    # Exact integer comparisons: a rate of exactly 40 % breaches "at or below 40 %" (S4's own unit: 未过40%), not
    # "below 40 %" (county-wide: 未达40%); the rule set says which applies to which evaluation.
    a = rules.assessment
    excellent, threshold = ev.excellent * 100, a.evaluation_excellent_min_pct * ev.ballots
    comparison = a.evaluation_excellent_breach.county_wide if ev.scope == "county_wide" else \
        a.evaluation_excellent_breach.own_unit
    low = excellent <= threshold if comparison == "at_or_below" else excellent < threshold
    return low or ev.incompetent * 100 > a.evaluation_incompetent_max_pct * ev.ballots


def _in_last_n(ev: Evaluation, rules: RuleSet) -> bool:
    return ev.rank is not None and ev.of is not None and ev.rank > ev.of - rules.assessment.evaluation_last_n


def dual_breach(county: Evaluation, own: Evaluation, rules: RuleSet) -> bool:
    """S4: last N county-wide by excellent rate, and in both evaluations a low excellent rate (county-wide < 40 %,
    own unit <= 40 %, as the rule set compares them) or incompetent > 20 %."""
    return _in_last_n(county, rules) and _rates_breach(county, rules) and _rates_breach(own, rules)


def completes_breach(state: AssessmentState, decision: Decision, rules: RuleSet) -> bool:
    """True when the evaluation `decision` is the second of its year and the pair breaches the dual rule."""
    if decision.type != "assessment.evaluation_recorded" or not rules.assessment.dual_evaluation_rule:
        return False
    data = decision.data
    assert isinstance(data, EvaluationRecorded)
    new = Evaluation("", data.year, data.scope, data.ballots, data.counts.excellent, data.counts.incompetent,
                     data.rank, data.of, decision.occurred_on)
    other = state.evaluations.get((data.year, "own_unit" if data.scope == "county_wide" else "county_wide"))
    if other is None or data.year in state.breached_years:
        return False
    county, own = (new, other) if data.scope == "county_wide" else (other, new)
    return dual_breach(county, own, rules)


def not_a_principal(state: AssessmentState, year: int, known_on: date, rules: RuleSet) -> RuleViolation | None:
    """`assessment.dual_evaluation_principals_only` when the rule does not apply to the cadre for `year`, else None.

    S4's demotion or removal is for 党政正职 (对党政正职优秀票率排在最后5位…给予降免职处理). It applies when a
    post the cadre held on some day of the year, as recorded by `known_on`, is a principal's (`principal` true,
    or not stated on a leadership post). It does not when the posts recorded for the year are all a deputy's or
    non-leadership ones. When the ledger records no post held in the year (a career kept before the rotation
    service, or elsewhere), it says nothing against the evaluations, which rank the cadre among the principals:
    the rule applies, as it does to a post whose `principal` is not stated.
    """
    held = posts_held_in(state.history, year, known_on)
    if not held or any(h.principal for h in held):
        return None
    titles = [f"{h.posting.unit} {h.posting.post}" for h in held]
    return RuleViolation(
        "assessment.dual_evaluation_principals_only",
        f"the dual evaluation's demotion or removal applies to unit principals (正职) only: in {year} the cadre "
        f"held {'; '.join(titles)}, none of them a principal's post (principal: false, or not a leadership post)",
        f"双重民主测评降免职仅适用于党政正职: 该干部{year}年度所任职务 ({'、'.join(titles)}) 均非正职",
        basis=rules.bases.evaluation, year=year, posts=[h.as_json() for h in held])


def _pct(part: int, whole: int) -> Decimal:
    return (Decimal(part * 100) / Decimal(whole)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _figures(ev: Evaluation) -> EvaluationFigures:
    return EvaluationFigures.model_validate({
        "event_id": ev.event_id, "scope": ev.scope, "ballots": ev.ballots, "rank": ev.rank, "of": ev.of,
        "excellent_pct": _pct(ev.excellent, ev.ballots), "incompetent_pct": _pct(ev.incompetent, ev.ballots)})


def decide_threshold_check(state: AssessmentState, cmd: ThresholdCheck, rules: RuleSet) -> Decision:
    """Both evaluations of the year recorded and breaching, for a cadre who held a principal's post in the year ->
    `assessment.threshold_breached` (once a year)."""
    a = rules.assessment
    if not a.dual_evaluation_rule:
        raise RuleViolation(
            "assessment.dual_evaluation_not_in_force", f"rule set {rules.id} has no dual evaluation rule",
            f"规则集 {rules.id} 未规定双重民主测评降免职", basis=rules.bases.evaluation)
    if cmd.year in state.breached_years:
        raise RuleViolation("assessment.breach_once", f"the breach of {cmd.year} is already recorded",
                            f"{cmd.year}年度民主测评触线已经记录")
    # before the figures: whatever they are, the rule does not apply to a deputy (副职)
    refusal = not_a_principal(state, cmd.year, cmd.occurred_on, rules)
    if refusal is not None:
        raise refusal
    # an evaluation recorded as of a later day than the check's is not yet there for it
    county, own = (ev if ev is not None and ev.on <= cmd.occurred_on else None
                   for ev in (state.evaluations.get((cmd.year, s)) for s in ("county_wide", "own_unit")))
    if county is None or own is None:
        missing = [s for s, e in (("county_wide", county), ("own_unit", own)) if e is None]
        raise RuleViolation(
            "assessment.evaluations_incomplete",
            f"the dual rule needs both evaluations of {cmd.year} recorded by {cmd.occurred_on.isoformat()}; "
            f"missing: {', '.join(missing)}",
            f"双重民主测评须有{cmd.year}年度两次测评结果 (截至 {cmd.occurred_on.isoformat()}), 缺少: "
            f"{'、'.join(_scope_zh(s) for s in missing)}", basis=rules.bases.evaluation, missing=missing)
    figures = [_figures(county), _figures(own)]
    if not dual_breach(county, own, rules):
        pct, most = a.evaluation_excellent_min_pct, a.evaluation_incompetent_max_pct
        en = {"below": "<", "at_or_below": "<="}
        zh = {"below": "未达", "at_or_below": "未过"}
        wide, unit = a.evaluation_excellent_breach.county_wide, a.evaluation_excellent_breach.own_unit
        raise RuleViolation(
            "assessment.threshold_not_breached",
            f"{cmd.year}: not breached (needs rank in the last {a.evaluation_last_n} county-wide and, county-wide, "
            f"excellent {en[wide]} {pct} % or incompetent > {most} %, and, in the own unit, excellent {en[unit]} "
            f"{pct} % or incompetent > {most} %)",
            f"{cmd.year}年度未触及降免职线 (须全县排名末{a.evaluation_last_n}位, 且全县测评优秀票率{zh[wide]}{pct}%"
            f"或不称职率超过{most}%, 且本单位测评优秀率{zh[unit]}{pct}%或不称职率超过{most}%)",
            basis=rules.bases.evaluation, evaluations=[f.model_dump(mode="json") for f in figures])
    data = ThresholdBreached(rule="dual_evaluation", year=cmd.year, evaluations=figures)
    return Decision("assessment.threshold_breached", data, cmd.occurred_on)


# ---- competency test (rule 8) ---------------------------------------------------------------


def decide_competency_test(state: AssessmentState, cmd: CompetencyTest, rules: RuleSet) -> Decision:
    """A failed test allows a retest no earlier than N months later; a failed retest requires one action."""
    last = state.competency[-1] if state.competency else None
    failed_retest = cmd.attempt == 2 and not cmd.passed
    if cmd.action is not None and not failed_retest:
        raise RuleViolation(
            "assessment.action_only_after_second_failure",
            "an organisational action is recorded only with a failed retest",
            "只有补测不合格时才记录组织处理方式", basis=rules.bases.competency, field="action")
    if cmd.attempt == 1:
        if last is not None and last.awaiting_retest:
            raise RuleViolation(
                "assessment.retest_pending",
                f"the test of {last.first_on.isoformat()} failed and its retest is not recorded yet",
                f"{last.first_on.isoformat()} 的测试不合格, 尚未补测", basis=rules.bases.competency)
        due = None if cmd.passed else add_months(cmd.occurred_on, rules.assessment.retest_after_months)
        data = CompetencyTested(attempt=1, score=cmd.score, passed=cmd.passed, retest_due=due)
        return Decision("assessment.competency_tested", data, cmd.occurred_on)
    if last is None or not last.awaiting_retest:
        raise RuleViolation("assessment.retest_without_failure", "a retest follows a failed test only",
                            "只有测试不合格才能补测", basis=rules.bases.competency)
    assert last.retest_due is not None
    if cmd.occurred_on < last.retest_due:
        months = rules.assessment.retest_after_months
        raise RuleViolation(
            "assessment.retest_too_early",
            f"retest no earlier than {months} months after the failed test: not before {last.retest_due.isoformat()}",
            f"测试不合格者自学{months}个月后补测, 补测不得早于 {last.retest_due.isoformat()}",
            basis=rules.bases.competency, retest_due=last.retest_due.isoformat())
    if failed_retest and cmd.action is None:
        raise RuleViolation(
            "assessment.second_failure_action",
            "a failed retest requires exactly one of reverse_rotation, demotion, non_leadership_post",
            "补测不合格者须采取逆向交流、降职、改任非领导职务中的一种方式组织处理", basis=rules.bases.competency,
            field="action")
    data = CompetencyTested(attempt=2, score=cmd.score, passed=cmd.passed, action=cmd.action)
    return Decision("assessment.competency_tested", data, cmd.occurred_on)


# ---- periodic score -------------------------------------------------------------------------


def period_start(period: str) -> date:
    """First day of a month `YYYY-MM` or a quarter `YYYY-Qn`."""
    year, part = period.split("-")
    month = (int(part[1]) - 1) * 3 + 1 if part.startswith("Q") else int(part)
    return date(int(year), month, 1)


def decide_periodic_score(state: AssessmentState, cmd: PeriodicScore, rules: RuleSet) -> Decision:
    """One score per period, within the rule set's maximum, equal to its indicators' sum when they are given."""
    top = rules.assessment.periodic_max_score
    if cmd.period in state.periods:
        raise RuleViolation("assessment.period_once", f"period {cmd.period} is already scored",
                            f"{cmd.period} 已经计分, 不能重复计分")
    start = period_start(cmd.period)
    _worked_by(state, add_months(start, 3 if "Q" in cmd.period else 1) - timedelta(days=1), f"period {cmd.period}",
               cmd.period, "period")
    if start > cmd.occurred_on:
        raise RuleViolation("assessment.period_not_begun", f"period {cmd.period} has not begun on "
                            f"{cmd.occurred_on.isoformat()}", f"{cmd.period} 尚未开始, 不能计分", field="period")
    if cmd.score > top:
        raise RuleViolation("assessment.periodic_max_score", f"score {cmd.score} is over the maximum {top}",
                            f"得分 {cmd.score} 超过满分 {top} 分", basis=rules.bases.periodic, field="score")
    total = sum((i.score for i in cmd.indicators), Decimal(0))
    if cmd.indicators and total != cmd.score:
        raise RuleViolation("assessment.indicator_sum", f"indicators add up to {total}, not {cmd.score}",
                            f"各项指标得分之和 {total} 与总分 {cmd.score} 不符", field="indicators")
    data = PeriodicScored(period=cmd.period, score=cmd.score, indicators=cmd.indicators)
    return Decision("assessment.periodic_scored", data, cmd.occurred_on)

