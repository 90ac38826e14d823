"""A cadre's audits and supervision records as the audit service's rules need them: state and evolve.

Pure: folded from the cadre's ledger events; of other services' events only the postings count (which posts the
cadre held, for the departure audit's warning).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from typing import Any

from shared.decisions import work_start_of
from shared.envelope import CloudEvent


@dataclass(frozen=True)
class AuditRecord:
    """One audit (经济责任审计) of the cadre, step by step."""

    audit_id: str
    audit_type: str
    started_on: date | None = None
    opinion_requested_on: date | None = None
    opinion_due: date | None = None
    opinion_request_received_on: date | None = None
    """When the cadre received the request (收到征求意见稿之日), if recorded: the opinion cannot come before it."""
    opinion_received_on: date | None = None
    completed_on: date | None = None
    findings: Mapping[str, Decimal] = field(default_factory=dict)
    """Each finding's id and the amount it involves (涉及金额)."""
    rectified: frozenset[str] = frozenset()
    result: str | None = None
    result_applied_on: date | None = None
    filed_on: date | None = None  # when the result went into the cadre's dossier (归档), with it or later

    @property
    def last_step_on(self) -> date | None:
        """The date of the latest recorded step (steps cannot be dated before it)."""
        days = [d for d in (self.started_on, self.opinion_requested_on, self.opinion_request_received_on,
                            self.opinion_received_on, self.completed_on, self.result_applied_on, self.filed_on)
                if d is not None]
        return max(days) if days else None


@dataclass(frozen=True)
class ReportRecord:
    """One report (举报) about the cadre."""

    received_on: date
    verified_on: date | None = None
    outcome: str | None = None


@dataclass(frozen=True)
class InquiryRecord:
    """One written inquiry (函询) to the cadre."""

    sent_on: date
    due: date
    received_on: date | None = None
    """When the cadre received the letter (收到函件之日), if recorded: the answer cannot come before it."""
    answered_on: date | None = None


@dataclass(frozen=True)
class AuditState:
    """One cadre's audits and supervision records."""

    audits: dict[str, AuditRecord] = field(default_factory=dict)
    reports: dict[str, ReportRecord] = field(default_factory=dict)
    inquiries: dict[str, InquiryRecord] = field(default_factory=dict)
    talks: frozenset[str] = frozenset()
    sanctions: frozenset[str] = frozenset()
    posts: frozenset[str] = frozenset()
    """Every post the ledger records the cadre as holding, now or before (post.assigned, rotation.completed)."""
    work_start: date | None = None
    """When the cadre started work (参加工作时间), as their registration states it."""

    @property
    def completed(self) -> frozenset[str]:
        """Ids of the completed audits."""
        return frozenset(a for a, r in self.audits.items() if r.completed_on is not None)


def _day(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _optional_day(value: Any) -> date | None:
    """A day an event may leave out (older events, a receipt not known)."""
    return None if value is None else _day(value)


def _with_audit(state: AuditState, audit: AuditRecord) -> AuditState:
    return replace(state, audits={**state.audits, audit.audit_id: audit})


def _evolve_audit(state: AuditState, event: CloudEvent) -> AuditState:
    data, on = event.data, event.occurredon
    audit_id = str(data["audit_id"])
    # audit.completed was once recorded without audit.started (the first slice): it then opens the record
    audit = state.audits.get(audit_id) or AuditRecord(audit_id, str(data.get("audit_type", "")))
    if event.type == "audit.started":
        audit = replace(audit, audit_type=str(data["audit_type"]), started_on=on)
    elif event.type == "audit.opinion_requested":
        audit = replace(audit, opinion_requested_on=on, opinion_due=_day(data["due"]),
                        opinion_request_received_on=_optional_day(data.get("received_on")))
    elif event.type == "audit.opinion_received":
        audit = replace(audit, opinion_received_on=on)
    elif event.type == "audit.completed":
        amounts = {str(f["finding_id"]): Decimal(str(f["amount"])) for f in data["findings"]}
        audit = replace(audit, completed_on=on, findings=amounts)
    elif event.type == "audit.finding_rectified":
        audit = replace(audit, rectified=audit.rectified | {str(data["finding_id"])})
    elif event.type == "audit.result_applied":
        filed_on = audit.filed_on or (on if data["filed_to_dossier"] else None)
        if audit.result is None:
            audit = replace(audit, result=str(data["result"]), result_applied_on=on, filed_on=filed_on)
        else:  # the filing of a result applied before (补充归档)
            audit = replace(audit, filed_on=filed_on)
    return _with_audit(state, audit)


def evolve(state: AuditState, event: CloudEvent) -> AuditState:
    """Fold one ledger event into the state."""
    data, on = event.data, event.occurredon
    if event.type.startswith("audit."):
        return _evolve_audit(state, event)
    if event.type == "cadre.registered":
        return replace(state, work_start=work_start_of(event))
    if event.type == "report.received":
        return replace(state, reports={**state.reports, str(data["report_id"]): ReportRecord(received_on=on)})
    if event.type == "report.verified":
        report_id = str(data["report_id"])
        report = replace(state.reports.get(report_id) or ReportRecord(received_on=on), verified_on=on,
                         outcome=str(data["outcome"]))
        return replace(state, reports={**state.reports, report_id: report})
    if event.type == "supervision.inquiry_sent":
        inquiry = InquiryRecord(sent_on=on, due=_day(data["due"]), received_on=_optional_day(data.get("received_on")))
        return replace(state, inquiries={**state.inquiries, str(data["inquiry_id"]): inquiry})
    if event.type == "supervision.inquiry_answered":
        inquiry_id = str(data["inquiry_id"])
        if inquiry_id in state.inquiries:
            answered = replace(state.inquiries[inquiry_id], answered_on=on)
            return replace(state, inquiries={**state.inquiries, inquiry_id: answered})
        return state
    if event.type == "supervision.talk_held":
        return replace(state, talks=state.talks | {str(data["talk_id"])})
    if event.type == "sanction.imposed":
        return replace(state, sanctions=state.sanctions | {str(data["sanction_id"])})
    if event.type == "post.assigned":
        return replace(state, posts=state.posts | {str(data["post_id"])})
    if event.type == "rotation.completed":
        return replace(state, posts=state.posts | {str(data["to"]["post_id"])})
    return state


def fold(events: list[CloudEvent]) -> AuditState:
    """The state after all `events`, in ledger order."""
    state = AuditState()
    for event in events:
        state = evolve(state, event)
    return state
