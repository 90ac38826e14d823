"""Events of the audit service: economic responsibility audits (经济责任审计) and supervision (监督).

Audit lifecycle: started -> opinion requested -> opinion received (or the window closes) -> completed
with findings -> findings rectified, result applied and filed. Supervision: reports (12380 举报)
received and verified, talks, written inquiries (函询) and sanctions (处分 / 组织处理).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, StrictBool, StrictInt

from shared.events.registry import EventData, event_type, premise, source
from shared.events.types import AmountCNY, Day, Identifier, LongText, ProvisionalCalendarYears, ShortText

AuditType = Literal["pre_appointment", "in_office", "departure"]
Responsibility = Literal["direct", "leadership"]
Evaluation = Literal["good", "fairly_good", "average", "poor"]
AppliedResult = Literal["none", "talk", "admonishment", "organisational_handling", "referral"]
ReportOutcome = Literal["unfounded", "partly", "verified"]
FOUNDED: tuple[ReportOutcome, ...] = ("partly", "verified")
"""The outcomes of a report's verification that find it wholly or partly true (属实, 部分属实)."""
TalkKind = Literal["reminder", "admonishment", "heart_to_heart", "integrity_before_appointment"]
SanctionCategory = Literal["party", "administrative", "organisational"]
SanctionMeasure = Literal[
    # party sanctions (党纪处分)
    "warning", "serious_warning", "removal_from_party_post", "party_probation", "expulsion_from_party",
    # administrative sanctions (政务处分); `warning` is shared with the party list
    "demerit", "major_demerit", "demotion_in_rank", "dismissal_from_post", "expulsion",
    # organisational handling (组织处理)
    "suspension", "job_adjustment", "ordered_resignation", "removal", "demotion",
]


# The earlier facts the events below rest on (EventSpec.rests_on): the steps of an audit and of a report.
_STARTED = premise("audit_id", ("audit.started", "audit_id"))
_COMPLETED = premise("audit_id", ("audit.completed", "audit_id"))
_RECEIVED = premise("report_id", ("report.received", "report_id"))
_VERIFIED = premise("report_id", ("report.verified", "report_id"))
_FOUNDED = premise("report_id", source("report.verified", "report_id", outcome=FOUNDED))


class Finding(EventData):
    """One audit finding (审计发现问题)."""

    finding_id: Identifier
    category: StrictInt = Field(ge=1, le=99, description="Category number in the county's rule set (问题类别).")
    amount: AmountCNY = Field(description="Amount involved, CNY (涉及金额, 元), a decimal string.")
    responsibility: Responsibility = Field(description="direct (直接责任) or leadership (领导责任).")
    description: LongText = ""


@event_type("audit.started", "audit", "经济责任审计开始", "Economic responsibility audit started",
            once_per=(("audit_id",),))
class AuditStarted(EventData):
    audit_id: Identifier
    audit_type: AuditType = Field(description="pre_appointment (任前), in_office (任中), departure (离任).")
    period_from: Day = Field(description="First day of the period audited (审计期间起).")
    period_to: Day = Field(description="Last day of the period audited (审计期间止).")
    auditing_body: ShortText = Field(description="Who audits (审计机关), e.g. 桂阳县审计局经济责任审计室.")
    post_id: Identifier | None = Field(None, description="The post the audit covers (离任审计: the post left).")


@event_type("audit.opinion_requested", "audit", "征求被审计人书面意见", "Audited cadre's written opinion requested",
            once_per=(("audit_id",),), rests_on=(_STARTED,))
class AuditOpinionRequested(EventData):
    audit_id: Identifier
    due: Day = Field(description="Last day for the written opinion (书面意见截止日), counted in working days (or in "
                                 "days, where the rule set's regulation counts days: 10日内, 2010 规定) from "
                                 "`received_on` when present, else from the day the request was sent (occurred_on).")
    provisional_calendar_years: ProvisionalCalendarYears = None
    received_on: Day | None = Field(None, description="The day the cadre received the request (收到征求意见稿之日), "
                                                       "from which the window counts (自收到之日起); absent when not "
                                                       "known, and the window counts from the day it was sent.")


@event_type("audit.opinion_received", "audit", "收到被审计人书面意见", "Audited cadre's written opinion received",
            once_per=(("audit_id",),), rests_on=(premise("audit_id", ("audit.opinion_requested", "audit_id")),))
class AuditOpinionReceived(EventData):
    audit_id: Identifier
    agrees: StrictBool = Field(description="True when the cadre raises no objection (无异议).")
    summary: LongText = ""


@event_type("audit.completed", "audit", "经济责任审计完成", "Economic responsibility audit completed",
            once_per=(("audit_id",),), rests_on=(_STARTED,))
class AuditCompleted(EventData):
    audit_id: Identifier
    audit_type: AuditType
    report_number: ShortText = Field(description="Audit report number (审计报告文号).")
    evaluation: Evaluation = Field(description="Overall evaluation: 好, 较好, 一般, 较差.")
    findings: list[Finding] = Field(default_factory=list, max_length=500)


@event_type("audit.finding_rectified", "audit", "审计发现问题已整改", "Audit finding rectified",
            once_per=(("audit_id", "finding_id"),),
            rests_on=(premise(("audit_id", "finding_id"), ("audit.completed", ("audit_id", "findings.finding_id"))),))
class AuditFindingRectified(EventData):
    audit_id: Identifier
    finding_id: Identifier
    measures: LongText = Field("", description="What was done (整改措施).")
    amount_recovered: AmountCNY | None = Field(None, description="Funds recovered, CNY (追回资金, 元).")


@event_type("audit.result_applied", "audit", "审计结果运用", "Audit result applied", rests_on=(_COMPLETED,))
class AuditResultApplied(EventData):
    audit_id: Identifier
    result: AppliedResult = Field(description="none (无), talk (谈话), admonishment (诫勉), organisational_handling "
                                              "(组织处理), referral (移送纪检监察).")
    filed_to_dossier: StrictBool = Field(description="The report and its use are filed in the cadre's dossier (归档). "
                                         "A result applied unfiled is filed later by a second event with the same "
                                         "result and true (补充归档): one result, not two.")
    reference: ShortText | None = Field(None, description="Decision document number (文号).")
    summary: LongText = ""


@event_type("report.received", "audit", "受理举报", "Report received",
            once_per=(("report_id",),))
class ReportReceived(EventData):
    report_id: Identifier
    channel: ShortText = Field(description='Reporting channel (举报渠道), e.g. "12380", "letter", "web".')
    named: StrictBool = Field(description="True for a named report (实名举报), false for anonymous (匿名).")
    summary: LongText = ""


@event_type("report.verified", "audit", "举报核查完毕", "Report verified",
            once_per=(("report_id",),), rests_on=(_RECEIVED,))
class ReportVerified(EventData):
    report_id: Identifier
    outcome: ReportOutcome = Field(description="unfounded (不属实), partly (部分属实), verified (属实).")
    summary: LongText = ""


@event_type("supervision.talk_held", "audit", "谈话", "Supervision talk held",
            once_per=(("talk_id",),), rests_on=(_VERIFIED, _COMPLETED))
class TalkHeld(EventData):
    talk_id: Identifier
    kind: TalkKind = Field(description="reminder (提醒谈话), admonishment (诫勉谈话), heart_to_heart (谈心谈话), "
                                       "integrity_before_appointment (任前廉政谈话).")
    report_id: Identifier | None = Field(None, description="The report the talk follows from, if any.")
    audit_id: Identifier | None = Field(None, description="The audit whose result the talk applies, if any.")
    summary: LongText = ""


@event_type("supervision.inquiry_sent", "audit", "函询", "Written inquiry sent",
            once_per=(("inquiry_id",),), rests_on=(_RECEIVED,))
class InquirySent(EventData):
    inquiry_id: Identifier
    due: Day = Field(description="Last day for the answer (函询回复截止日), counted in working days from "
                                 "`received_on` when present, else from the day the letter was sent (occurred_on).")
    provisional_calendar_years: ProvisionalCalendarYears = None
    report_id: Identifier | None = Field(None, description="The report the inquiry follows from, if any.")
    summary: LongText = ""
    received_on: Day | None = Field(None, description="The day the cadre received the letter (收到函件之日), from "
                                                       "which the answer window counts; absent when not known, and "
                                                       "the window counts from the day it was sent.")


@event_type("supervision.inquiry_answered", "audit", "函询回复", "Written inquiry answered",
            once_per=(("inquiry_id",),), rests_on=(premise("inquiry_id", ("supervision.inquiry_sent", "inquiry_id")),))
class InquiryAnswered(EventData):
    inquiry_id: Identifier
    late: StrictBool = Field(description="True when answered after the due day (逾期回复).")
    late_reason: LongText | None = Field(None, description="Why the answer came late (逾期原因); set when late.")
    summary: LongText = ""


@event_type("sanction.imposed", "audit", "处分 / 组织处理", "Sanction imposed",
            once_per=(("sanction_id",),), rests_on=(_FOUNDED,))
class SanctionImposed(EventData):
    sanction_id: Identifier
    category: SanctionCategory = Field(description="party (党纪处分), administrative (政务处分), organisational "
                                                   "(组织处理).")
    measure: SanctionMeasure = Field(description="The measure within its category (处分种类).")
    effective_from: Day = Field(description="First day of the effect period (影响期起).")
    effective_until: Day | None = Field(None, description="Last day of the effect period (影响期止); null when "
                                                           "open-ended.")
    report_id: Identifier | None = Field(None, description="The report the sanction follows from, if any.")
    reference: ShortText | None = Field(None, description="Decision document number (处分决定文号).")
