"""Supervision (监督): reports, talks, written inquiries and sanctions. Commands and decide functions. Pure.

Reports (12380 举报) are received, then verified with an outcome; talks and sanctions may follow from a
verified report or an audit; a written inquiry (函询) is answered within the rule set's working days;
a sanction's effect period (影响期) is at least the rule set's minimum for its measure, and blocks
appointment while it runs (shared.appointment_blockers).
"""

from __future__ import annotations

from datetime import date

from pydantic import Field

from services.audit.domain.checks import not_before, working_day_deadline
from services.audit.domain.names import CATEGORY_ZH, MEASURE_ZH, OUTCOME_ZH, named_zh
from services.audit.domain.state import AuditState, ReportRecord
from shared.decisions import CadreCommand, Decision
from shared.events.audit import (
    InquiryAnswered,
    InquirySent,
    ReportOutcome,
    ReportReceived,
    ReportVerified,
    SanctionCategory,
    SanctionImposed,
    SanctionMeasure,
    TalkHeld,
    TalkKind,
)
from shared.events.types import Identifier, LongText, ShortText, shows_something
from shared.problems import RuleViolation
from shared.rulesets import RuleSet
from shared.tenure import period_end

MEASURES: dict[str, frozenset[str]] = {
    "party": frozenset({"warning", "serious_warning", "removal_from_party_post", "party_probation",
                        "expulsion_from_party"}),
    "administrative": frozenset({"warning", "demerit", "major_demerit", "demotion_in_rank", "dismissal_from_post",
                                 "expulsion"}),
    "organisational": frozenset({"suspension", "job_adjustment", "ordered_resignation", "removal", "demotion"}),
}
"""The measures of each category (党纪处分 / 政务处分 / 组织处理), as the regulations list them."""

REPORT_BASIS = "辽源市12380举报受理与查核 (S1): 举报经核查后方可据此谈话、处分, 不属实的不予处分"
"""Talks and sanctions follow a report once it is verified, and only a founded one leads to a sanction (S1). Not in
the rule sets' `bases`: its only source is the seed S1 practice, undated and the same for every period covered."""

# ---- commands -------------------------------------------------------------------------------------


class ReportReceipt(CadreCommand):
    """Body of `report received` (受理举报)."""

    channel: ShortText = Field(description='Reporting channel (举报渠道), e.g. "12380", "letter", "web".')
    named: bool = Field(description="Named (实名) or anonymous (匿名).")
    summary: LongText = ""


class ReceiveReport(ReportReceipt):
    report_id: Identifier


class ReportVerification(CadreCommand):
    """Body of `report verified` (核查完毕)."""

    outcome: ReportOutcome = Field(description="unfounded (不属实), partly (部分属实), verified (属实).")
    summary: LongText = ""


class VerifyReport(ReportVerification):
    report_id: Identifier


class Talk(CadreCommand):
    """Body of `talk held` (谈话)."""

    kind: TalkKind = Field(description="reminder (提醒), admonishment (诫勉), heart_to_heart (谈心), "
                                       "integrity_before_appointment (任前廉政).")
    report_id: Identifier | None = Field(None, description="The verified report it follows from.")
    audit_id: Identifier | None = Field(None, description="The completed audit whose result it applies.")
    summary: LongText = ""


class HoldTalk(Talk):
    talk_id: Identifier


class InquiryLetter(CadreCommand):
    """Body of `inquiry sent` (函询), sent on occurred_on; the answer's due day is counted by the service, from
    `received_on` when given."""

    report_id: Identifier | None = Field(None, description="The report it follows from.")
    summary: LongText = ""
    received_on: date | None = Field(None, description="The day the cadre received the letter (收到函件之日), on or "
                                                       "after the day it was sent: the answer window counts from it, "
                                                       "and the answer cannot be dated before it. "
                                                       "Absent when not known: the window counts from the day the "
                                                       "letter was sent.")


class SendInquiry(InquiryLetter):
    inquiry_id: Identifier


class InquiryAnswer(CadreCommand):
    """Body of `inquiry answered` (函询回复)."""

    summary: LongText = ""
    late_reason: LongText | None = Field(None, description="Required when the answer comes after the due day "
                                                           "(逾期原因).")


class AnswerInquiry(InquiryAnswer):
    inquiry_id: Identifier


class Sanction(CadreCommand):
    """Body of `sanction imposed` (处分 / 组织处理)."""

    category: SanctionCategory = Field(description="party (党纪处分), administrative (政务处分), organisational "
                                                   "(组织处理).")
    measure: SanctionMeasure = Field(description="The measure, one of its category's.")
    effective_from: date = Field(description="First day of the effect period (影响期起).")
    effective_until: date | None = Field(description="Last day of the effect period (影响期止); null: open-ended.")
    report_id: Identifier | None = Field(None, description="The verified report it follows from.")
    reference: ShortText | None = Field(None, description="Decision document number (处分决定文号).")


class ImposeSanction(Sanction):
    sanction_id: Identifier


# ---- decide -------------------------------------------------------------------------------------


def _report(state: AuditState, report_id: str) -> ReportRecord:
    report = state.reports.get(report_id)
    if report is None:
        raise RuleViolation("report.not_received", f"no report {report_id} was received about this cadre",
                            f"未受理过关于该干部的举报 {report_id}")
    return report


def _verified_report(state: AuditState, report_id: str, what_en: str, what_zh: str) -> ReportRecord:
    report = _report(state, report_id)
    if report.verified_on is None:
        raise RuleViolation("supervision.report_unverified",
                            f"{what_en} cannot follow from report {report_id} before it is verified",
                            f"举报 {report_id} 尚未核查完毕, 不能据此{what_zh}", basis=REPORT_BASIS)
    return report


def decide_receive_report(state: AuditState, cmd: ReceiveReport, rules: RuleSet) -> Decision:
    """A report id is received once per cadre."""
    if cmd.report_id in state.reports:
        raise RuleViolation("report.receive_once", f"report {cmd.report_id} was already received",
                            f"举报 {cmd.report_id} 已经受理")
    data = ReportReceived(report_id=cmd.report_id, channel=cmd.channel, named=cmd.named, summary=cmd.summary)
    return Decision("report.received", data, cmd.occurred_on)


def decide_verify_report(state: AuditState, cmd: VerifyReport, rules: RuleSet) -> Decision:
    """A received report is verified once, not before it was received."""
    report = _report(state, cmd.report_id)
    if report.verified_on is not None:
        raise RuleViolation("report.verify_once", f"report {cmd.report_id} was already verified on "
                                                  f"{report.verified_on} ({report.outcome})",
                            f"举报 {cmd.report_id} 已于 {report.verified_on} 核查完毕, 结论为"
                            f"{named_zh(OUTCOME_ZH, str(report.outcome))}")
    not_before(cmd.occurred_on, report.received_on, "report.chronology", "the verification", "核查")
    data = ReportVerified(report_id=cmd.report_id, outcome=cmd.outcome, summary=cmd.summary)
    return Decision("report.verified", data, cmd.occurred_on)


def decide_hold_talk(state: AuditState, cmd: HoldTalk, rules: RuleSet) -> Decision:
    """A talk id is held once; a talk following a report needs it verified, one applying an audit needs it done."""
    if cmd.talk_id in state.talks:
        raise RuleViolation("supervision.talk_once", f"talk {cmd.talk_id} was already recorded",
                            f"谈话 {cmd.talk_id} 已经登记")
    if cmd.report_id is not None:
        report = _verified_report(state, cmd.report_id, "a talk", "谈话")
        not_before(cmd.occurred_on, report.verified_on, "supervision.chronology", "the talk", "谈话")
    if cmd.audit_id is not None:
        audit = state.audits.get(cmd.audit_id)
        if audit is None or audit.completed_on is None:
            raise RuleViolation("supervision.audit_not_completed",
                                f"a talk cannot apply audit {cmd.audit_id}: it is not completed",
                                f"审计 {cmd.audit_id} 尚未完成, 不能据此谈话")
        not_before(cmd.occurred_on, audit.completed_on, "supervision.chronology", "the talk", "谈话")
    data = TalkHeld(talk_id=cmd.talk_id, kind=cmd.kind, report_id=cmd.report_id, audit_id=cmd.audit_id,
                    summary=cmd.summary)
    return Decision("supervision.talk_held", data, cmd.occurred_on)


def decide_send_inquiry(state: AuditState, cmd: SendInquiry, rules: RuleSet) -> Decision:
    """An inquiry id is sent once; the answer is due on the rule set's n-th working day after the cadre received the
    letter (`received_on`), or after it was sent when the receipt is not known."""
    if cmd.inquiry_id in state.inquiries:
        raise RuleViolation("supervision.inquiry_send_once", f"inquiry {cmd.inquiry_id} was already sent",
                            f"函询 {cmd.inquiry_id} 已经发出")
    if cmd.report_id is not None:
        report = _report(state, cmd.report_id)
        not_before(cmd.occurred_on, report.received_on, "supervision.chronology", "the inquiry", "函询")
    not_before(cmd.received_on or cmd.occurred_on, cmd.occurred_on, "supervision.chronology",
               "the receipt of the inquiry", "收到函询", field="received_on")
    days = rules.audit.inquiry_answer_working_days
    # 收到函件后 ... 工作日内: from the receipt when known, else (as before receipts were recorded) from the sending
    deadline = working_day_deadline(cmd.received_on or cmd.occurred_on, days, rules.bases.inquiry, "answer window",
                                    "函询回复期限")
    data = InquirySent(inquiry_id=cmd.inquiry_id, due=deadline.due, report_id=cmd.report_id, summary=cmd.summary,
                       provisional_calendar_years=deadline.provisional_years, received_on=cmd.received_on)
    return Decision("supervision.inquiry_sent", data, cmd.occurred_on, warnings=deadline.warnings)


def decide_answer_inquiry(state: AuditState, cmd: AnswerInquiry, rules: RuleSet) -> Decision:
    """A sent inquiry is answered once; an answer after the due day is recorded late and must say why."""
    inquiry = state.inquiries.get(cmd.inquiry_id)
    if inquiry is None:
        raise RuleViolation("supervision.inquiry_not_sent", f"inquiry {cmd.inquiry_id} was never sent",
                            f"未发出过函询 {cmd.inquiry_id}")
    if inquiry.answered_on is not None:
        raise RuleViolation("supervision.inquiry_answer_once", f"inquiry {cmd.inquiry_id} was already answered on "
                                                               f"{inquiry.answered_on}",
                            f"函询 {cmd.inquiry_id} 已于 {inquiry.answered_on} 回复")
    # answered once the letter was received (收到函件后), when the receipt is on record; else once it was sent
    not_before(cmd.occurred_on, inquiry.received_on or inquiry.sent_on, "supervision.chronology", "the answer",
               "函询回复")
    late = cmd.occurred_on > inquiry.due
    if late and not shows_something(cmd.late_reason, paragraphs=True):
        days = rules.audit.inquiry_answer_working_days
        raise RuleViolation(
            "supervision.inquiry_answer_late",
            f"inquiry {cmd.inquiry_id} was due within {days} working days, by {inquiry.due}; an answer on "
            f"{cmd.occurred_on} is late and must give late_reason",
            f"函询 {cmd.inquiry_id} 应在 {days} 个工作日内 (至 {inquiry.due}) 回复; {cmd.occurred_on} 回复已逾期, "
            "须说明逾期原因 (late_reason)", basis=rules.bases.inquiry)
    data = InquiryAnswered(inquiry_id=cmd.inquiry_id, late=late, late_reason=cmd.late_reason if late else None,
                           summary=cmd.summary)
    return Decision("supervision.inquiry_answered", data, cmd.occurred_on)


def decide_impose_sanction(state: AuditState, cmd: ImposeSanction, rules: RuleSet) -> Decision:
    """Once per id; the measure fits its category; the effect period is ordered and not below the minimum."""
    if cmd.sanction_id in state.sanctions:
        raise RuleViolation("sanction.impose_once", f"sanction {cmd.sanction_id} was already recorded",
                            f"处分 {cmd.sanction_id} 已经登记")
    if cmd.measure not in MEASURES[cmd.category]:
        raise RuleViolation("sanction.measure_category", f"{cmd.measure} is not a {cmd.category} measure; "
                                                         f"those are {', '.join(sorted(MEASURES[cmd.category]))}",
                            f"{named_zh(MEASURE_ZH, cmd.measure)} 不属于{named_zh(CATEGORY_ZH, cmd.category)} "
                            f"的处分种类 (处分种类与类别不符)", basis=rules.bases.sanction)
    if cmd.effective_from < cmd.occurred_on:
        # backdated, a sanction's period could end before it was imposed and so bar nothing it should
        raise RuleViolation("sanction.effect_from_decision",
                            f"the effect period cannot start ({cmd.effective_from}) before the sanction was decided "
                            f"({cmd.occurred_on}): it runs from the day the decision takes effect",
                            f"影响期起日 {cmd.effective_from} 不能早于处分决定日 {cmd.occurred_on}: "
                            "处分期自处分决定生效之日起计算", basis=rules.bases.effect_period, field="effective_from")
    if cmd.effective_until is not None and cmd.effective_until < cmd.effective_from:
        raise RuleViolation("sanction.period_order", f"the effect period {cmd.effective_from}..{cmd.effective_until}"
                                                     " ends before it starts",
                            f"影响期 {cmd.effective_from}..{cmd.effective_until} 的止日早于起日")
    months = rules.audit.sanction_min_effect_months.get(f"{cmd.category}.{cmd.measure}")
    if months is not None and cmd.effective_until is not None:
        shortest = period_end(cmd.effective_from, months)
        if cmd.effective_until < shortest:
            raise RuleViolation(
                "sanction.effect_period_short",
                f"a {cmd.category} {cmd.measure} bars promotion for {months} months: the effect period from "
                f"{cmd.effective_from} runs at least until {shortest}, not {cmd.effective_until}",
                f"{CATEGORY_ZH[cmd.category]}{MEASURE_ZH[cmd.measure]}的影响期为 {months} 个月: "
                f"自 {cmd.effective_from} 起至少至 {shortest}, "
                f"不能止于 {cmd.effective_until}", basis=rules.bases.effect_period, shortest_until=shortest.isoformat())
    if cmd.report_id is not None:
        report = _verified_report(state, cmd.report_id, "a sanction", "处分")
        if report.outcome == "unfounded":
            raise RuleViolation("sanction.report_unfounded", f"report {cmd.report_id} was verified as unfounded; "
                                                             "no sanction can follow from it",
                                f"举报 {cmd.report_id} 经核查不属实, 不能据此处分", basis=REPORT_BASIS)
        not_before(cmd.occurred_on, report.verified_on, "supervision.chronology", "the sanction", "处分")
    data = SanctionImposed(sanction_id=cmd.sanction_id, category=cmd.category, measure=cmd.measure,
                           effective_from=cmd.effective_from, effective_until=cmd.effective_until,
                           report_id=cmd.report_id, reference=cmd.reference)
    return Decision("sanction.imposed", data, cmd.occurred_on)
