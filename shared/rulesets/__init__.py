"""Versioned rule sets: every threshold the services enforce, per county, with validity dates.

Rule sets are data (`*.json` beside this module), never literals in code: every threshold is written out in
its file, and the models below have no defaults, so what a version id means cannot change with the code. The
national rule set (county `000000`) applies wherever no county-specific one is valid; each event records the id
of the rule set it was decided under (envelope extension `ruleset`).

A version found wrong is never edited, since events already recorded under it say what it meant: it is corrected
(更正) by new versions that name it in their `supersedes` and, together, cover exactly its days (split where the
documents in force change). `ruleset_for` never answers a superseded version, so every new decision takes the
correction; `ruleset_by_id` still answers it, for the events recorded under it. The correcting version carries
the claim and the reason (its `notes`), so correcting adds files and changes none: the list lives in the new
version rather than as a `corrected_by` in the old one, whose file would otherwise have to change.

A refusal cites the entry of its topic in `bases` (依据) of the rule set the decision is taken under, the one in
force on the fact's day, so it names what was in force then and no document's article is written in code. A field
the model gains is stated by every version, a shipped one with what the code did until then (for `bases`: the fixed
strings its refusals cited), so no id changes meaning.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

NATIONAL = "000000"
_DIR = Path(__file__).parent


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RotationRules(_Section):
    """任用与交流: tenure limits and probation."""

    township_years: int | None = Field(ge=1, description="General cadres: years in one township before rotation "
                                       "(乡镇一般干部交流); a local rule, None where the county has none (the national "
                                       "rules set no such limit).")
    leader_same_post_years: int | None = Field(ge=1, description="Leaders: years in the same post (同一职位).")
    internal_unit_years: int | None = Field(ge=1, description="Internal-unit leaders (内设机构领导).")
    sensitive_post_years: int | None = Field(ge=1, description="Sensitive posts (重要岗位).")
    probation_months: int = Field(ge=1, description="Probation of a newly promoted cadre (试用期).")
    deferral_max_months: int = Field(ge=1, description="Longest appointment deferral (缓任).")
    deferral_counts_decision_day: bool = Field(
        description="The day a deferral (缓任) is decided is its first day, counted: decided on D, it runs at most "
        "until the day before D's month-day deferral_max_months later, or that month's last day when it has no such "
        "day (the appointment is free the day after), counted "
        "as a sanction's effect period is (shared.tenure.period_end). False in the versions first shipped, which "
        "did not count the decision day (民法典 第二百零一条, 开始的当日不计入) and let a deferral run until D + "
        "deferral_max_months itself, barring the appointment from D for the months and a day.")
    rotation_deferral_max_months: int = Field(
        ge=1, description="Longest single deferral of a due rotation (暂缓交流), each with an approval reference.")
    overdue_after_months: int = Field(
        ge=0, description="A due rotation not carried out this many months after its due date (or after its "
        "deferral ends) is overdue (逾期未交流).")


Comparison = Literal["below", "at_or_below"]
"""How an excellent-vote rate is compared with the threshold: `below` (未达, < threshold) or `at_or_below`
(未过, <= threshold)."""


class ExcellentBreach(_Section):
    """Per evaluation (S4: 优秀票率未达40% county-wide, 优秀率未过40% in the own unit), how its excellent rate
    breaches `evaluation_excellent_min_pct`: the two wordings differ at exactly the threshold."""

    county_wide: Comparison = Field(description="The county-wide evaluation (全县统一民主测评).")
    own_unit: Comparison = Field(description="The own unit's evaluation (本单位民主测评).")


class AssessmentRules(_Section):
    """考核: notice, vote, evaluation and competency thresholds."""

    notice_min_working_days: int | None = Field(ge=1, description="任前公示 at least this many working days on the "
                                                "shipped calendar; None where the rules of the time count the "
                                                "notice in calendar days only.")
    notice_min_calendar_days: int | None = Field(ge=1, description="任前公示 at least this many calendar days, first "
                                                 "and last counted (2002 条例: 公示期一般为七至十五天); None where "
                                                 "the rules count working days only.")
    vote_quorum_num: int = Field(ge=1, description="Quorum: present >= num/den of members entitled (到会).")
    vote_quorum_den: int = Field(ge=1)
    vote_majority_num: int = Field(ge=1, description="Approved only with votes for > num/den of ALL members "
                                   "entitled (应到会成员过半数同意).")
    vote_majority_den: int = Field(ge=1)
    promotion_block_years: int = Field(ge=0, description="基本称职: years after the graded year without promotion.")
    annual_grade_open_months: int = Field(
        ge=0, le=12, description="A year's annual grade (年度考核等次) is recorded no earlier than this many months "
        "before the year ends: 1 from 1 December (年度考核一般每年年末或者翌年年初进行), 0 only once the year is over; "
        "12 (any day of the year itself) in the versions first shipped.")
    incompetent_promotion_block_years: int = Field(
        ge=0, description="不称职: years after the graded year without promotion (the grade demotes: "
                          "降低一个职务层次任职).")
    dual_evaluation_rule: bool = Field(description="The county applies the dual democratic evaluation rule "
                                       "(双重民主测评降免职, S4); a local rule, off in the national rule set.")
    evaluation_last_n: int = Field(ge=1, description="Ranked in the last N by excellent-vote rate (末位).")
    evaluation_excellent_min_pct: int = Field(ge=0, le=100, description="Excellent rate under this % breaches, "
                                              "compared as `evaluation_excellent_breach` says.")
    evaluation_excellent_breach: ExcellentBreach
    evaluation_incompetent_max_pct: int = Field(ge=0, le=100, description="Incompetent rate above this % breaches.")
    retest_after_months: int = Field(ge=0, description="Competency retest no earlier than this (补测).")
    periodic_max_score: int = Field(ge=1, description="Periodic (monthly/quarterly) score out of this (千分制).")

    @model_validator(mode="after")
    def _a_notice_has_a_minimum(self) -> AssessmentRules:
        if self.notice_min_working_days is None and self.notice_min_calendar_days is None:
            raise ValueError("notice_min_working_days or notice_min_calendar_days: a notice needs a minimum")
        return self


class AuditRules(_Section):
    """监督: audit and inquiry windows, finding categories."""

    opinion_working_days: int | None = Field(
        ge=1, description="Cadre's written opinion on an audit (书面意见), due on this working day after the receipt "
        "(10 in the versions first shipped, in every period); None where the regulation of the time counts days "
        "(`opinion_calendar_days`).")
    opinion_calendar_days: int | None = Field(
        ge=1, description="The same window in days, the day of receipt not counted (2010 规定 第二十七条: "
        "自接到审计组的审计报告之日起10日内提出书面意见; 10日内未提出书面意见的, 视同无异议); None in the versions "
        "first shipped, "
        "which counted working days in every period.")
    inquiry_answer_working_days: int = Field(ge=1, description="Answer to a written inquiry (函询).")
    finding_categories: dict[int, str] = Field(description="Finding categories: number -> Chinese label.")
    sanction_min_effect_months: dict[str, int] = Field(
        description="Shortest effect period (影响期, months) per `category.measure`; a sanction recorded with a "
                    "shorter period is refused. Measures not listed have no minimum.")

    @model_validator(mode="after")
    def _an_opinion_window_in_one_unit(self) -> AuditRules:
        if (self.opinion_working_days is None) == (self.opinion_calendar_days is None):
            raise ValueError("opinion_working_days or opinion_calendar_days: the opinion window is counted in one "
                             "unit, working days or days")
        return self


class Bases(_Section):
    """What a refusal cites as its `basis` (依据), per topic: the documents, and where known the articles, in force
    in the version's period. A rule quotes the entry of its topic from the rule set the decision is taken under (the
    one in force on the fact's day), so a refusal about a fact of 2010 cites what applied in 2010, not today's
    documents, and no document's article is written in code."""

    selection: str = Field(min_length=1, description="讨论决定: the inspection (考察), the committee vote (到会, "
                                                     "过半数) and the order of a selection's steps.")
    notice: str = Field(min_length=1, description="任前公示: the notice's period and length, objections, closing.")
    deferral: str = Field(min_length=1, description="缓任 and 取消任职资格: deferring an appointment or cancelling "
                                                    "the qualification after a notice.")
    blockers: str = Field(min_length=1, description="What blocks an appointment (DOMAIN rule 3): an unverified "
                                                    "report, a running deferral, a cancelled qualification, a running "
                                                    "sanction period.")
    appointment: str = Field(min_length=1, description="任职: the notice a posting names, the kind of posting against "
                                                       "the rank, probation (试用期).")
    rotation: str = Field(min_length=1, description="交流: tenure limits, deferral of a due rotation, the rotation.")
    grading: str = Field(min_length=1, description="年度考核: one grade a year, years without promotion after "
                                                   "基本称职 or 不称职, a demotion or removal the assessments require.")
    evaluation: str = Field(min_length=1, description="民主测评: the dual democratic evaluation rule "
                                                      "(双重民主测评降免职) and its figures.")
    competency: str = Field(min_length=1, description="能力测试: retest (补测) and the handling of a second failure.")
    periodic: str = Field(min_length=1, description="平时考核: the scale of periodic scores (千分制).")
    audit: str = Field(min_length=1, description="经济责任审计: departure audits, the cadre's written opinion and its "
                                                 "window.")
    inquiry: str = Field(min_length=1, description="函询: the answer window and a late answer.")
    sanction: str = Field(min_length=1, description="处分种类: the measures of each category (党纪处分, 政务处分, "
                                                    "组织处理).")
    effect_period: str = Field(min_length=1, description="处分影响期: when a sanction's period starts and its shortest "
                                                         "length per measure.")


class RuleSet(_Section):
    """One version of one county's rules."""

    id: str = Field(description="Recorded in every event as the `ruleset` extension, e.g. `431021@2024.1`.")
    county: str = Field(pattern=r"^[0-9]{6}$")
    valid_from: date
    valid_to: date | None
    supersedes: list[str] = Field(description="Ids of the versions this one corrects (更正): they are no longer in "
                                              "force for any day, and this version with the others naming them "
                                              "covers their days. Empty for a version that corrects none.")
    basis: str = Field(min_length=1, description="Documents the version's rules come from, as a whole (its sources). "
                                                 "A refusal cites the entry of its topic in `bases`, not this.")
    bases: Bases = Field(description="What a refusal under this version cites as its `basis` (依据), per topic: "
                                     "the documents in force in the version's period.")
    notes: str | None = Field(None, description="How this version came about (修订说明): what it changes from the one "
                                                "before and why, choices no document makes. Never cited by a rule.")
    rotation: RotationRules
    assessment: AssessmentRules
    audit: AuditRules

    def valid_on(self, day: date) -> bool:
        """True when this version is in force on `day`."""
        return self.valid_from <= day and (self.valid_to is None or day < self.valid_to)


class NoRuleSet(LookupError):
    """No rule set is in force for the county on the date."""


def check_supersessions(versions: tuple[RuleSet, ...]) -> None:
    """A version corrects only known versions of its own county, never itself."""
    by_id = {rs.id: rs for rs in versions}
    for rs in versions:
        for old in rs.supersedes:
            target = by_id.get(old)
            if target is None or target.county != rs.county or old == rs.id:
                raise ValueError(f"rule set {rs.id}: supersedes {old!r}, which is no other version of county "
                                 f"{rs.county}")


@lru_cache(maxsize=1)
def all_rulesets() -> tuple[RuleSet, ...]:
    """Every shipped rule set, superseded ones included (events recorded under them name them)."""
    versions = tuple(RuleSet.model_validate_json(p.read_bytes()) for p in sorted(_DIR.glob("*.json")))
    check_supersessions(versions)
    return versions


@lru_cache(maxsize=1)
def current_rulesets() -> tuple[RuleSet, ...]:
    """The versions no other version supersedes: the ones new decisions are taken under."""
    superseded = {old for rs in all_rulesets() for old in rs.supersedes}
    return tuple(rs for rs in all_rulesets() if rs.id not in superseded)


def ruleset_for(county: str, day: date) -> RuleSet:
    """The rule set in force in `county` on `day`: the county's own, else the national one; never a superseded one."""
    for scope in (county, NATIONAL):
        for rs in current_rulesets():
            if rs.county == scope and rs.valid_on(day):
                return rs
    raise NoRuleSet(f"no rule set in force for county {county} on {day.isoformat()}")


def ruleset_or_none(county: str, day: date) -> RuleSet | None:
    """`ruleset_for`, or None when no rule set is in force (read models show what they can without one)."""
    try:
        return ruleset_for(county, day)
    except NoRuleSet:
        return None


def ruleset_by_id(ruleset_id: str) -> RuleSet:
    """The rule set with this id (as recorded in an event), superseded or not."""
    for rs in all_rulesets():
        if rs.id == ruleset_id:
            return rs
    raise NoRuleSet(f"unknown rule set {ruleset_id!r}")
