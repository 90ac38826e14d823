"""Events of the assessment service: grades and evaluations (考核), selection and notices (考察, 票决, 任前公示)."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from pydantic import Field, StrictBool, StrictInt, StringConstraints

from shared.events.registry import ID_PATH, EventData, event_type, premise, source
from shared.events.types import VISIBLE_PARAGRAPHS, Day, Identifier, LongText, ProvisionalCalendarYears, ShortText

Grade = Literal["excellent", "competent", "basically_competent", "incompetent", "not_graded"]
"""Annual grade: 优秀, 称职, 基本称职, 不称职, 不定等次."""
GRADE_ZH = {"excellent": "优秀", "competent": "称职", "basically_competent": "基本称职", "incompetent": "不称职",
            "not_graded": "不定等次"}
Scope = Literal["county_wide", "own_unit"]
"""Whose votes: 全县统一测评 (county_wide) or 本单位测评 (own_unit)."""
HandlingAction = Literal["reverse_rotation", "demotion", "non_leadership_post"]
"""After a second failed competency test: 逆向交流, 降职, 改任非领导职务."""
VoteOutcome = Literal["approved", "rejected"]
NoticeOutcome = Literal["clear", "minor_issue_reminded", "deferred", "not_appointed"]
"""How a notice ends: 无异议 (clear), 有问题但不影响任职, 提醒 (minor_issue_reminded), 缓任 (deferred), 不予任用."""
CLEARING: tuple[NoticeOutcome, ...] = ("clear", "minor_issue_reminded")
"""The outcomes of a notice after which the appointment may be made (公示无异议或提醒后任用)."""
Period = Annotated[str, StringConstraints(pattern=r"^(19|20)[0-9]{2}-(0[1-9]|1[0-2]|Q[1-4])$")]
"""A month `YYYY-MM` or a quarter `YYYY-Qn`."""
Year = Annotated[StrictInt, Field(ge=1949, le=2100)]
Percent = Annotated[Decimal, Field(ge=0, le=100, max_digits=5, decimal_places=2)]
Score = Annotated[Decimal, Field(ge=0, max_digits=6, decimal_places=1)]
Reason = Annotated[str, StringConstraints(min_length=1, max_length=4000, pattern=VISIBLE_PARAGRAPHS)]


class GradeCounts(EventData):
    """Votes per grade in a democratic evaluation (民主测评票数)."""

    excellent: StrictInt = Field(ge=0, description="优秀票.")
    competent: StrictInt = Field(ge=0, description="称职票.")
    basically_competent: StrictInt = Field(ge=0, description="基本称职票.")
    incompetent: StrictInt = Field(ge=0, description="不称职票.")


@event_type("assessment.annual_graded", "assessment", "年度考核定等", "Annual assessment graded",
            once_per=(("year",),))
class AnnualGraded(EventData):
    year: Year
    grade: Grade = Field(description="excellent 优秀, competent 称职, basically_competent 基本称职, "
                                     "incompetent 不称职, not_graded 不定等次.")
    admonishment_required: StrictBool = Field(description="基本称职: an admonishment talk is due (诫勉谈话).")
    promotion_blocked_years: list[Year] = Field(
        default_factory=list, description="基本称职 or 不称职: the years without promotion (次年不得提拔).")
    dismissal_case: StrictBool = Field(
        description="Second consecutive 不称职: a dismissal case is opened (启动免职程序).")
    consecutive_incompetent_years: list[Year] = Field(
        default_factory=list, description="The consecutive 不称职 years the dismissal case rests on.")
    demotion_required: StrictBool | None = Field(
        None, description="不称职: the cadre is to be demoted one level (降低一个职务或者职级层次任职, 待降职), "
                          "unless the posts the cadre holds on the grade's day are all non-leadership posts of the "
                          "lowest rank (科员), which no demotion can lower; a dismissal case the grade opens is "
                          "beside it. Left out: not stated (a grade recorded before the field existed), read as "
                          "true of every 不称职 grade (shared.appointment_blockers.grade_demotes).")


@event_type("assessment.evaluation_recorded", "assessment", "民主测评", "Democratic evaluation recorded",
            once_per=(("year", "scope"),))
class EvaluationRecorded(EventData):
    year: Year
    scope: Scope = Field(description="county_wide (全县统一测评) or own_unit (本单位测评).")
    ballots: StrictInt = Field(ge=1, description="Valid ballots (有效票).")
    counts: GradeCounts
    rank: StrictInt | None = Field(None, ge=1, description="Rank by excellent-vote rate (按优秀票率排名), county_wide.")
    of: StrictInt | None = Field(None, ge=1, description="Number of principals ranked (参加排队人数), county_wide.")


class EvaluationFigures(EventData):
    """One evaluation as a breach rests on it."""

    event_id: str = Field(description="The `assessment.evaluation_recorded` event.")
    scope: Scope
    ballots: StrictInt
    excellent_pct: Percent = Field(description="优秀票率 %.")
    incompetent_pct: Percent = Field(description="不称职票率 %.")
    rank: StrictInt | None = None
    of: StrictInt | None = None


@event_type("assessment.threshold_breached", "assessment", "民主测评触及降免职线",
            "Evaluation threshold breached", once_per=(("year",),),
            rests_on=(premise("evaluations.event_id", ("assessment.evaluation_recorded", ID_PATH)),))
class ThresholdBreached(EventData):
    rule: Literal["dual_evaluation"] = Field(description="双重民主测评: 末位 N 名, 优秀率 < 40 % or 不称职率 > 20 % "
                                                         "in both evaluations.")
    year: Year
    evaluations: list[EvaluationFigures] = Field(min_length=2, max_length=2)
    required_decision: Literal["demotion_or_removal"] = Field(
        "demotion_or_removal", description="A demotion or removal decision is required (给予降免职处理).")


@event_type("assessment.competency_tested", "assessment", "能力测试", "Competency tested")
class CompetencyTested(EventData):
    attempt: Literal[1, 2] = Field(description="1: the test, 2: the retest (补测).")
    score: Score
    passed: StrictBool
    retest_due: Day | None = Field(None, description="Failed first attempt: earliest retest day (补测日期).")
    action: HandlingAction | None = Field(
        None, description="Failed retest, one of: reverse_rotation 逆向交流, demotion 降职, "
                          "non_leadership_post 改任非领导职务.")


class Indicator(EventData):
    """One line of a periodic score sheet (考核指标)."""

    name: ShortText
    score: Score


@event_type("assessment.periodic_scored", "assessment", "平时考核计分", "Periodic score recorded",
            once_per=(("period",),))
class PeriodicScored(EventData):
    period: Period = Field(description="Month `YYYY-MM` (按月) or quarter `YYYY-Qn` (按季度).")
    score: Score = Field(description="Points out of the rule set's maximum (千分制).")
    indicators: list[Indicator] = Field(default_factory=list, max_length=100)


# The earlier facts the events below rest on (EventSpec.rests_on): a selection's inspection, a notice's posting.
_INSPECTED = premise("selection_id", ("selection.inspected", "selection_id"))
_POSTED = premise("notice_id", ("notice.posted", "notice_id"))


@event_type("selection.inspected", "assessment", "任前考察", "Pre-appointment inspection",
            once_per=(("selection_id",),))
class SelectionInspected(EventData):
    selection_id: Identifier
    proposed_post: ShortText = Field(description="拟任职务.")
    promotion: StrictBool = Field(description="The appointment is a promotion (提拔).")
    dossier_checked: StrictBool = Field(description="干部档案审核.")
    personal_matters_checked: StrictBool = Field(description="个人有关事项报告查核.")
    discipline_opinion_obtained: StrictBool = Field(description="纪检监察机关意见.")
    petitions_checked: StrictBool = Field(description="信访举报核查.")
    summary: LongText = ""


@event_type("appointment.voted", "assessment", "常委会票决", "Appointment voted",
            once_per=(("selection_id",),), rests_on=(_INSPECTED,))
class AppointmentVoted(EventData):
    selection_id: Identifier
    proposed_post: ShortText
    members_entitled: StrictInt = Field(ge=1, description="应到会成员.")
    members_present: StrictInt = Field(ge=0, description="实到会成员.")
    votes_for: StrictInt = Field(ge=0, description="同意.")
    votes_against: StrictInt = Field(ge=0, description="不同意.")
    votes_deferred: StrictInt = Field(ge=0, description="缓议.")
    outcome: VoteOutcome = Field(description="approved (通过): more than half of all members entitled voted for.")


@event_type("selection.withdrawn", "assessment", "终止选拔", "Selection withdrawn", rests_on=(_INSPECTED,))
class SelectionWithdrawn(EventData):
    """A selection ended before its notice was posted (终止): the inspection or the vote found it should not go on,
    or the proposal was dropped. After a notice, a selection ends with the notice's close (不予任用) or a cancelled
    qualification instead."""

    selection_id: Identifier
    reason: Reason


@event_type("notice.posted", "assessment", "任前公示", "Pre-appointment notice posted",
            once_per=(("selection_id",), ("notice_id",)),
            rests_on=(premise("selection_id", source("appointment.voted", "selection_id", outcome=("approved",))),))
class NoticePosted(EventData):
    notice_id: Identifier
    selection_id: Identifier = Field(description="The selection whose approved vote the notice follows.")
    proposed_post: ShortText
    start: Day = Field(description="First day of the notice (公示开始).")
    end: Day = Field(description="Last day of the notice (公示截止).")
    working_days: StrictInt = Field(ge=0, description="Working days in [start, end] on the shipped calendar (工作日).")
    provisional_calendar_years: ProvisionalCalendarYears = None
    channels: list[ShortText] = Field(min_length=1, max_length=20, description="Where it is posted (公示渠道).")


@event_type("notice.objection_received", "assessment", "公示期间收到反映", "Objection to a notice received",
            once_per=(("notice_id", "report_id"),), rests_on=(_POSTED,))
class ObjectionReceived(EventData):
    notice_id: Identifier
    report_id: Identifier = Field(description="The report (举报) as the audit service records it.")
    channel: ShortText = Field(description='e.g. "12380", "letter", "visit".')
    named: StrictBool = Field(description="实名 (true) or 匿名 (false).")


@event_type("notice.closed", "assessment", "公示结束", "Notice closed", rests_on=(_POSTED,))
class NoticeClosed(EventData):
    notice_id: Identifier
    outcome: NoticeOutcome = Field(description="clear 无异议, minor_issue_reminded 提醒后任用, deferred 缓任, "
                                               "not_appointed 不予任用.")
    reason: LongText = ""


@event_type("appointment.deferred", "assessment", "缓任", "Appointment deferred",
            once_per=(("notice_id",),), rests_on=(_POSTED,))
class AppointmentDeferred(EventData):
    notice_id: Identifier
    until: Day = Field(description="The deferral ends on this day (缓任至), at most the rule set's months.")
    reason: LongText = ""


@event_type("appointment.qualification_cancelled", "assessment", "取消任职资格", "Qualification cancelled",
            rests_on=(_POSTED,))
class QualificationCancelled(EventData):
    notice_id: Identifier
    reason: Reason
