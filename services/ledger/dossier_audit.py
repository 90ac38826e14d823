"""The dossier's audit and supervision parts (经济责任审计与监督): summaries and their reducers. Pure.

`services.ledger.dossier` holds these summaries in the `Dossier` and registers `REDUCERS`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from shared.envelope import FoldedEvent
from shared.events.types import ProvisionalCalendarYears

if TYPE_CHECKING:
    from services.ledger.dossier import Dossier


class AuditView(BaseModel):
    """An audit as the dossier shows it, step by step."""

    audit_id: str
    audit_type: str
    started_on: date | None = None
    period_from: date | None = None
    period_to: date | None = None
    auditing_body: str | None = None
    post_id: str | None = None
    opinion_requested_on: date | None = None
    opinion_request_received_on: date | None = Field(None, description="When the cadre received the request "
                                                                       "(收到征求意见稿之日), if recorded: the "
                                                                       "window counts from it.")
    opinion_due: date | None = None
    opinion_due_provisional_years: ProvisionalCalendarYears = None
    opinion_received_on: date | None = None
    opinion_agrees: bool | None = None
    completed_on: date | None = None
    report_number: str | None = None
    evaluation: str | None = None
    findings: list[dict[str, Any]] = Field(default_factory=list,
                                           description="As recorded, each with `rectified_on` once rectified.")
    open_findings: int = Field(0, description="Findings not rectified yet (未整改问题数).")
    result: str | None = None
    result_applied_on: date | None = None
    filed_to_dossier: bool | None = None
    filed_on: date | None = Field(None, description="When the result was filed to the dossier (归档): with its "
                                                    "application or later.")


class ReportSummary(BaseModel):
    """A report (举报) about the cadre."""

    report_id: str
    received_on: date
    channel: str
    named: bool
    verified_on: date | None = None
    outcome: str | None = None


class TalkSummary(BaseModel):
    """A supervision talk (谈话)."""

    talk_id: str
    held_on: date
    kind: str
    report_id: str | None = None
    audit_id: str | None = None


class InquirySummary(BaseModel):
    """A written inquiry (函询)."""

    inquiry_id: str
    sent_on: date
    received_on: date | None = Field(None, description="When the cadre received the letter (收到函件之日), if "
                                                       "recorded: the answer window counts from it.")
    due: date
    due_provisional_years: ProvisionalCalendarYears = None
    answered_on: date | None = None
    late: bool | None = None


class SanctionSummary(BaseModel):
    """A sanction or organisational handling (处分 / 组织处理) and its effect period (影响期)."""

    sanction_id: str
    imposed_on: date
    category: str
    measure: str
    effective_from: date
    effective_until: date | None = None
    report_id: str | None = None


def _day(value: Any) -> date:
    return date.fromisoformat(str(value))


def _audit(d: Dossier, e: FoldedEvent) -> AuditView:
    audit_id = str(e.data["audit_id"])
    if audit_id not in d.audits:
        d.audits[audit_id] = AuditView(audit_id=audit_id, audit_type=str(e.data.get("audit_type", "")))
    return d.audits[audit_id]


def _audit_started(d: Dossier, e: FoldedEvent) -> None:
    audit = _audit(d, e)
    audit.audit_type = e.data["audit_type"]
    audit.started_on = e.occurredon
    audit.period_from = _day(e.data["period_from"])
    audit.period_to = _day(e.data["period_to"])
    audit.auditing_body = e.data["auditing_body"]
    audit.post_id = e.data.get("post_id")


def _opinion_requested(d: Dossier, e: FoldedEvent) -> None:
    audit = _audit(d, e)
    audit.opinion_requested_on = e.occurredon
    audit.opinion_request_received_on = _day(e.data["received_on"]) if e.data.get("received_on") else None
    audit.opinion_due = _day(e.data["due"])
    audit.opinion_due_provisional_years = e.data.get("provisional_calendar_years")


def _opinion_received(d: Dossier, e: FoldedEvent) -> None:
    audit = _audit(d, e)
    audit.opinion_received_on = e.occurredon
    audit.opinion_agrees = e.data["agrees"]


def _audit_completed(d: Dossier, e: FoldedEvent) -> None:
    audit = _audit(d, e)
    audit.completed_on = e.occurredon
    audit.report_number = e.data["report_number"]
    audit.evaluation = e.data["evaluation"]
    audit.findings = [dict(f) for f in e.data.get("findings", [])]
    audit.open_findings = len(audit.findings)


def _finding_rectified(d: Dossier, e: FoldedEvent) -> None:
    audit = _audit(d, e)
    for finding in audit.findings:
        if finding["finding_id"] == e.data["finding_id"] and "rectified_on" not in finding:
            finding["rectified_on"] = e.occurredon.isoformat()
            audit.open_findings -= 1


def _result_applied(d: Dossier, e: FoldedEvent) -> None:
    audit = _audit(d, e)
    if audit.result is None:
        audit.result = e.data["result"]
        audit.result_applied_on = e.occurredon
    if e.data["filed_to_dossier"] and audit.filed_on is None:  # with its application, or later (补充归档)
        audit.filed_on = e.occurredon
    audit.filed_to_dossier = audit.filed_on is not None


def _report_received(d: Dossier, e: FoldedEvent) -> None:
    d.reports[e.data["report_id"]] = ReportSummary(report_id=e.data["report_id"], received_on=e.occurredon,
                                                   channel=e.data["channel"], named=e.data["named"])


def _report_verified(d: Dossier, e: FoldedEvent) -> None:
    report = d.reports.get(e.data["report_id"])
    if report is not None:
        report.verified_on = e.occurredon
        report.outcome = e.data["outcome"]


def _talk_held(d: Dossier, e: FoldedEvent) -> None:
    d.talks.append(TalkSummary(talk_id=e.data["talk_id"], held_on=e.occurredon, kind=e.data["kind"],
                               report_id=e.data.get("report_id"), audit_id=e.data.get("audit_id")))


def _inquiry_sent(d: Dossier, e: FoldedEvent) -> None:
    d.inquiries[e.data["inquiry_id"]] = InquirySummary(inquiry_id=e.data["inquiry_id"], sent_on=e.occurredon,
                                                       received_on=e.data.get("received_on"), due=e.data["due"],
                                                       due_provisional_years=e.data.get("provisional_calendar_years"))


def _inquiry_answered(d: Dossier, e: FoldedEvent) -> None:
    inquiry = d.inquiries.get(e.data["inquiry_id"])
    if inquiry is not None:
        inquiry.answered_on = e.occurredon
        inquiry.late = e.data["late"]


def _sanction_imposed(d: Dossier, e: FoldedEvent) -> None:
    d.sanctions[e.data["sanction_id"]] = SanctionSummary(
        sanction_id=e.data["sanction_id"], imposed_on=e.occurredon, category=e.data["category"],
        measure=e.data["measure"], effective_from=e.data["effective_from"],
        effective_until=e.data.get("effective_until"), report_id=e.data.get("report_id"))


REDUCERS: dict[str, Callable[[Dossier, FoldedEvent], None]] = {
    "audit.started": _audit_started,
    "audit.opinion_requested": _opinion_requested,
    "audit.opinion_received": _opinion_received,
    "audit.completed": _audit_completed,
    "audit.finding_rectified": _finding_rectified,
    "audit.result_applied": _result_applied,
    "report.received": _report_received,
    "report.verified": _report_verified,
    "supervision.talk_held": _talk_held,
    "supervision.inquiry_sent": _inquiry_sent,
    "supervision.inquiry_answered": _inquiry_answered,
    "sanction.imposed": _sanction_imposed,
}
"""The reducers of the audit service's events."""
