"""The dossier's assessment part (考核与选拔任用): grades, evaluations, tests, selections, notices. Pure.

`services.ledger.dossier` holds an `AssessmentPart` in the `Dossier` (`assessment`) and registers
`REDUCERS`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from shared.appointment_blockers import grade_demotes
from shared.envelope import FoldedEvent
from shared.events.types import ProvisionalCalendarYears

if TYPE_CHECKING:
    from services.ledger.dossier import Dossier


class GradeSummary(BaseModel):
    """An annual grade (年度考核等次) and its consequences."""

    grade: str
    graded_on: date
    admonishment_required: bool = False
    promotion_blocked_years: list[int] = Field(default_factory=list)
    dismissal_case: bool = False
    demotion_required: bool = Field(False, description="不称职: the cadre is to be demoted one level (待降职), as the "
                                                       "grade states it or, recorded before it did, as the "
                                                       "regulation reads it (shared.appointment_blockers).")


class SelectionSummary(BaseModel):
    """A selection (选拔任用) step by step."""

    proposed_post: str
    promotion: bool
    inspected_on: date
    voted_on: date | None = None
    vote: dict[str, Any] | None = Field(None, description="Tally and outcome (票决结果).")
    notice_id: str | None = None
    withdrawn_on: date | None = Field(None, description="Ended before a notice (终止选拔).")
    withdraw_reason: str | None = None


class NoticeView(BaseModel):
    """A pre-appointment notice (任前公示)."""

    selection_id: str
    proposed_post: str
    posted_on: date
    start: date
    end: date
    working_days: int
    provisional_calendar_years: ProvisionalCalendarYears = None
    status: str = "open"
    outcome: str | None = None
    closed_on: date | None = None
    objections: list[str] = Field(default_factory=list, description="Report ids objected with (反映).")
    deferred_until: date | None = None
    cancelled_on: date | None = None


class AssessmentPart(BaseModel):
    """Everything the assessment service recorded about the cadre."""

    annual_grades: dict[int, GradeSummary] = Field(default_factory=dict, description="By year (年度考核).")
    evaluations: list[dict[str, Any]] = Field(default_factory=list, description="Democratic evaluations (民主测评).")
    threshold_breaches: dict[int, dict[str, Any]] = Field(default_factory=dict,
                                                          description="By year (民主测评触及降免职线).")
    competency_tests: list[dict[str, Any]] = Field(default_factory=list, description="Tests and retests (能力测试).")
    periodic_scores: dict[str, str] = Field(default_factory=dict, description="Period -> score (平时考核计分).")
    selections: dict[str, SelectionSummary] = Field(default_factory=dict, description="Selections (选拔任用).")
    notices: dict[str, NoticeView] = Field(default_factory=dict, description="Notices (任前公示).")


Reducer = Callable[["Dossier", FoldedEvent], None]


def _graded(d: Dossier, e: FoldedEvent) -> None:
    x = e.data
    d.assessment.annual_grades[int(x["year"])] = GradeSummary(
        grade=x["grade"], graded_on=e.occurredon, admonishment_required=x.get("admonishment_required", False),
        promotion_blocked_years=x.get("promotion_blocked_years", []), dismissal_case=x.get("dismissal_case", False),
        demotion_required=grade_demotes(x))


def _evaluated(d: Dossier, e: FoldedEvent) -> None:
    d.assessment.evaluations.append({**e.data, "recorded_on": e.occurredon.isoformat(), "event_id": str(e.id)})


def _breached(d: Dossier, e: FoldedEvent) -> None:
    d.assessment.threshold_breaches[int(e.data["year"])] = {**e.data, "recorded_on": e.occurredon.isoformat()}


def _tested(d: Dossier, e: FoldedEvent) -> None:
    d.assessment.competency_tests.append({**e.data, "tested_on": e.occurredon.isoformat()})


def _scored(d: Dossier, e: FoldedEvent) -> None:
    d.assessment.periodic_scores[str(e.data["period"])] = str(e.data["score"])


def _inspected(d: Dossier, e: FoldedEvent) -> None:
    x = e.data
    d.assessment.selections[x["selection_id"]] = SelectionSummary(
        proposed_post=x["proposed_post"], promotion=x["promotion"], inspected_on=e.occurredon)


def _voted(d: Dossier, e: FoldedEvent) -> None:
    selection = d.assessment.selections.get(e.data["selection_id"])
    if selection is not None:
        selection.voted_on = e.occurredon
        selection.vote = {k: v for k, v in e.data.items() if k not in ("selection_id", "proposed_post")}


def _withdrawn(d: Dossier, e: FoldedEvent) -> None:
    selection = d.assessment.selections.get(e.data["selection_id"])
    if selection is not None:
        selection.withdrawn_on = e.occurredon
        selection.withdraw_reason = e.data["reason"]


def _posted(d: Dossier, e: FoldedEvent) -> None:
    x = e.data
    d.assessment.notices[x["notice_id"]] = NoticeView(
        selection_id=x["selection_id"], proposed_post=x["proposed_post"], posted_on=e.occurredon,
        start=x["start"], end=x["end"], working_days=x["working_days"],
        provisional_calendar_years=x.get("provisional_calendar_years"))
    selection = d.assessment.selections.get(x["selection_id"])
    if selection is not None:
        selection.notice_id = x["notice_id"]


def _objection(d: Dossier, e: FoldedEvent) -> None:
    notice = d.assessment.notices.get(e.data["notice_id"])
    if notice is not None:
        notice.objections.append(e.data["report_id"])


def _closed(d: Dossier, e: FoldedEvent) -> None:
    notice = d.assessment.notices.get(e.data["notice_id"])
    if notice is not None:
        notice.outcome = e.data["outcome"]
        notice.status = "deferred" if notice.outcome == "deferred" else "closed"
        notice.closed_on = e.occurredon


def _deferred(d: Dossier, e: FoldedEvent) -> None:
    notice = d.assessment.notices.get(e.data["notice_id"])
    if notice is not None:
        notice.deferred_until = date.fromisoformat(str(e.data["until"]))


def _cancelled(d: Dossier, e: FoldedEvent) -> None:
    notice = d.assessment.notices.get(e.data["notice_id"])
    if notice is not None:
        notice.status = "cancelled"
        notice.cancelled_on = e.occurredon


REDUCERS: dict[str, Reducer] = {
    "assessment.annual_graded": _graded, "assessment.evaluation_recorded": _evaluated,
    "assessment.threshold_breached": _breached, "assessment.competency_tested": _tested,
    "assessment.periodic_scored": _scored, "selection.inspected": _inspected, "appointment.voted": _voted,
    "selection.withdrawn": _withdrawn, "notice.posted": _posted, "notice.objection_received": _objection,
    "notice.closed": _closed, "appointment.deferred": _deferred, "appointment.qualification_cancelled": _cancelled,
}
