"""A cadre's assessments and selections as the assessment service's rules need them: state and evolve.

Pure: folded from the cadre's ledger events. Besides its own events it reads the audit service's
`report.received` / `report.verified` by type string (an objection to a notice is resolved when the
report it names is verified); every other event leaves the state unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any, Literal

from shared.decisions import work_start_of
from shared.envelope import CloudEvent

NoticeStatus = Literal["open", "deferred", "closed", "cancelled"]
"""open: running or ended but not closed; deferred: closed as 缓任, to be resolved; closed: final; cancelled."""


def as_date(value: Any) -> date:
    """A date from an event's JSON data (ISO string) or a date."""
    return value if isinstance(value, date) else date.fromisoformat(str(value))


@dataclass(frozen=True)
class Evaluation:
    """One democratic evaluation (民主测评) as recorded."""

    event_id: str
    year: int
    scope: str
    ballots: int
    excellent: int
    incompetent: int
    rank: int | None
    of: int | None
    on: date
    """The day it was recorded as of (the event's `occurredon`)."""


@dataclass(frozen=True)
class CompetencyRound:
    """A competency test and, after a failure, its retest (补测)."""

    first_on: date
    first_passed: bool
    retest_due: date | None
    second_on: date | None = None
    second_passed: bool | None = None

    @property
    def awaiting_retest(self) -> bool:
        """The first attempt failed and no retest is recorded yet."""
        return not self.first_passed and self.second_on is None


@dataclass(frozen=True)
class Selection:
    """One selection (选拔任用) of the cadre for a proposed post: inspection, then the vote."""

    selection_id: str
    proposed_post: str
    promotion: bool
    inspected_on: date
    voted_on: date | None = None
    vote_outcome: str | None = None
    notice_id: str | None = None
    withdrawn_on: date | None = None  # ended before a notice (终止选拔)


@dataclass(frozen=True)
class Notice:
    """One pre-appointment notice (任前公示)."""

    notice_id: str
    selection_id: str
    proposed_post: str
    posted_on: date
    start: date
    end: date
    status: NoticeStatus = "open"
    outcome: str | None = None
    objections: tuple[str, ...] = ()
    deferred_until: date | None = None


@dataclass(frozen=True)
class Report:
    """A report (举报) about the cadre, as the audit service recorded it."""

    received_on: date | None = None
    verified_on: date | None = None
    outcome: str | None = None


@dataclass(frozen=True)
class AssessmentState:
    """One cadre's grades, evaluations, tests, scores, selections and notices."""

    grades: dict[int, str] = field(default_factory=dict)
    evaluations: dict[tuple[int, str], Evaluation] = field(default_factory=dict)
    breached_years: frozenset[int] = frozenset()
    competency: tuple[CompetencyRound, ...] = ()
    periods: frozenset[str] = frozenset()
    selections: dict[str, Selection] = field(default_factory=dict)
    notices: dict[str, Notice] = field(default_factory=dict)
    reports: dict[str, Report] = field(default_factory=dict)
    history: tuple[CloudEvent, ...] = ()
    """The cadre's events in ledger order, as `fold` got them (shared.appointment_blockers reads them)."""
    work_start: date | None = None
    """When the cadre started work (参加工作时间), as their registration states it."""


def _with_notice(state: AssessmentState, notice_id: str, **changes: Any) -> AssessmentState:
    notice = state.notices.get(notice_id)
    if notice is None:
        return state
    return replace(state, notices={**state.notices, notice_id: replace(notice, **changes)})


def _with_selection(state: AssessmentState, selection_id: str, **changes: Any) -> AssessmentState:
    selection = state.selections.get(selection_id)
    if selection is None:
        return state
    return replace(state, selections={**state.selections, selection_id: replace(selection, **changes)})


def _evolve_grading(state: AssessmentState, e: CloudEvent) -> AssessmentState:
    d = e.data
    if e.type == "assessment.annual_graded":
        # the years it bars promotion in are read from the history by shared.appointment_blockers
        return replace(state, grades={**state.grades, int(d["year"]): str(d["grade"])})
    if e.type == "assessment.evaluation_recorded":
        counts = d["counts"]
        ev = Evaluation(str(e.id), int(d["year"]), str(d["scope"]), int(d["ballots"]), int(counts["excellent"]),
                        int(counts["incompetent"]), d.get("rank"), d.get("of"), e.occurredon)
        return replace(state, evaluations={**state.evaluations, (ev.year, ev.scope): ev})
    if e.type == "assessment.threshold_breached":
        return replace(state, breached_years=state.breached_years | {int(d["year"])})
    if e.type == "assessment.competency_tested":
        passed = bool(d["passed"])
        if int(d["attempt"]) == 1:
            due = as_date(d["retest_due"]) if d.get("retest_due") else None
            return replace(state, competency=(*state.competency, CompetencyRound(e.occurredon, passed, due)))
        if not state.competency:
            # a retest with no test before it (only another producer could record one): nothing to attach it to
            return state
        *done, last = state.competency
        return replace(state, competency=(*done, replace(last, second_on=e.occurredon, second_passed=passed)))
    if e.type == "assessment.periodic_scored":
        return replace(state, periods=state.periods | {str(d["period"])})
    return state


def _evolve_selection(state: AssessmentState, e: CloudEvent) -> AssessmentState:
    d = e.data
    if e.type == "selection.inspected":
        sel = Selection(str(d["selection_id"]), str(d["proposed_post"]), bool(d["promotion"]), e.occurredon)
        return replace(state, selections={**state.selections, sel.selection_id: sel})
    if e.type == "appointment.voted":
        return _with_selection(state, str(d["selection_id"]), voted_on=e.occurredon, vote_outcome=str(d["outcome"]))
    if e.type == "selection.withdrawn":
        return _with_selection(state, str(d["selection_id"]), withdrawn_on=e.occurredon)
    if e.type == "notice.posted":
        notice = Notice(str(d["notice_id"]), str(d["selection_id"]), str(d["proposed_post"]), e.occurredon,
                        as_date(d["start"]), as_date(d["end"]))
        state = replace(state, notices={**state.notices, notice.notice_id: notice})
        return _with_selection(state, notice.selection_id, notice_id=notice.notice_id)
    if e.type == "notice.objection_received":
        target = state.notices.get(str(d["notice_id"]))
        if target is None:
            return state
        return _with_notice(state, target.notice_id, objections=(*target.objections, str(d["report_id"])))
    if e.type == "notice.closed":
        outcome = str(d["outcome"])
        return _with_notice(state, str(d["notice_id"]), outcome=outcome,
                            status="deferred" if outcome == "deferred" else "closed")
    if e.type == "appointment.deferred":
        return _with_notice(state, str(d["notice_id"]), deferred_until=as_date(d["until"]))
    if e.type == "appointment.qualification_cancelled":
        return _with_notice(state, str(d["notice_id"]), status="cancelled")
    return state


def _evolve_reports(state: AssessmentState, e: CloudEvent) -> AssessmentState:
    report_id = str(e.data["report_id"])
    old = state.reports.get(report_id, Report())
    if e.type == "report.received":
        new = replace(old, received_on=e.occurredon)
    else:
        new = replace(old, verified_on=e.occurredon, outcome=str(e.data["outcome"]))
    return replace(state, reports={**state.reports, report_id: new})


def evolve(state: AssessmentState, event: CloudEvent) -> AssessmentState:
    """Fold one ledger event into the state (`history` is left to `fold`)."""
    prefix = event.type.split(".", 1)[0]
    if event.type == "cadre.registered":
        return replace(state, work_start=work_start_of(event))
    if prefix == "assessment":
        return _evolve_grading(state, event)
    if prefix in ("selection", "appointment", "notice"):
        return _evolve_selection(state, event)
    if event.type in ("report.received", "report.verified"):
        return _evolve_reports(state, event)
    return state


def fold(events: Sequence[CloudEvent]) -> AssessmentState:
    """The state after all `events`, in ledger order."""
    state = AssessmentState()
    for event in events:
        state = evolve(state, event)
    return replace(state, history=tuple(events))
