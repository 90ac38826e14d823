"""The rotation service's state of one cadre (任用与交流), folded from the ledger's events: its posts and
tenure, the notices cleared for an appointment and the facts that may block one."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date

from shared.appointment_blockers import FACT_TYPES
from shared.envelope import CloudEvent
from shared.events.assessment import CLEARING
from shared.tenure import TenureState, evolve_tenure


@dataclass(frozen=True)
class Notice:
    """A pre-appointment notice (任前公示) closed as clear, from the assessment service's events."""

    notice_id: str
    closed_on: date


@dataclass(frozen=True)
class RotationState:
    """One cadre as the rotation rules see it."""

    registered: bool = False
    erased: bool = False
    tenure: TenureState = field(default_factory=TenureState)
    cleared_notices: Mapping[str, Notice] = field(default_factory=dict)
    used_notices: frozenset[str] = frozenset()
    appointment_facts: tuple[CloudEvent, ...] = ()
    """Events that may block an appointment (reports, deferrals, notices and their cancellations, sanctions, annual
    grades, breaches, and the postings that answer them), for `appointment_blockers` (its FACT_TYPES)."""


def evolve(state: RotationState, event: CloudEvent) -> RotationState:
    """Fold one ledger event into the state (events of no interest leave it unchanged)."""
    data = event.data
    if event.type == "cadre.registered":
        return replace(state, registered=True)
    if event.type == "person.erased":
        return replace(state, erased=True)
    if event.type == "notice.closed" and data.get("outcome") in CLEARING:
        notice = Notice(str(data["notice_id"]), event.occurredon)
        return replace(state, cleared_notices={**state.cleared_notices, notice.notice_id: notice})
    if event.type in FACT_TYPES:  # postings among them, which the tenure folds too
        state = replace(state, appointment_facts=(*state.appointment_facts, event))
    tenure = evolve_tenure(state.tenure, event.type, event.occurredon, data)
    if event.type == "post.assigned" and data.get("notice_id"):
        return replace(state, tenure=tenure, used_notices=state.used_notices | {str(data["notice_id"])})
    return replace(state, tenure=tenure) if tenure is not state.tenure else state


def fold(events: Iterable[CloudEvent]) -> RotationState:
    """The state after all `events`, in ledger order."""
    state = RotationState()
    for event in events:
        state = evolve(state, event)
    return state
