"""A cadre's dossier: the state folded from ledger events (pure), for `state?as_of=`.

Each event type that shapes the dossier has a small reducer here; types without one are counted
and listed, so nothing recorded is hidden. The fold reads the effective history (`shared.corrections`):
corrected facts as corrected, revoked ones left out; the corrections themselves are listed apart.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, Field

from services.ledger import dossier_assessment, dossier_audit, dossier_rotation
from services.ledger.dossier_assessment import AssessmentPart
from services.ledger.dossier_audit import AuditView, InquirySummary, ReportSummary, SanctionSummary, TalkSummary
from services.ledger.dossier_rotation import RotationPart
from shared.corrections import counted, effective
from shared.envelope import FoldedEvent
from shared.events.registry import CATALOGUE, REVOKED


class CorrectionSummary(BaseModel):
    """A correction (更正) or revocation (撤销) the dossier's facts already take in."""

    event_id: str = Field(description="The correction's own event id.")
    kind: Literal["corrected", "revoked"] = Field(description="corrected 更正, revoked 撤销.")
    target_id: str = Field(description="The event it corrects or revokes, which stays in the history.")
    target_type: str
    label_zh: str
    reason: str = Field(description="更正/撤销理由.")
    occurred_on: date = Field(description="corrected: the fact's corrected date; revoked: the day it was revoked.")


class Dossier(BaseModel):
    """The cadre's state on a date."""

    cadre_id: str
    as_of: date | None = None
    events: int = 0
    first_occurred_on: date | None = None
    last_occurred_on: date | None = None
    counties: list[str] = Field(default_factory=list)
    audits: dict[str, AuditView] = Field(default_factory=dict)
    reports: dict[str, ReportSummary] = Field(default_factory=dict, description="Reports (举报) and their outcome.")
    talks: list[TalkSummary] = Field(default_factory=list, description="Supervision talks (谈话).")
    inquiries: dict[str, InquirySummary] = Field(default_factory=dict, description="Written inquiries (函询).")
    sanctions: dict[str, SanctionSummary] = Field(default_factory=dict, description="Sanctions (处分 / 组织处理).")
    assessment: AssessmentPart = Field(default_factory=AssessmentPart,
                                       description="Grades, evaluations, tests, selections, notices (考核与选拔任用).")
    rotation: RotationPart = Field(default_factory=RotationPart,
                                   description="Registration, posts, tenure and rotations (任用与交流).")
    event_counts: dict[str, int] = Field(default_factory=dict, description="Events per type (按类型计数).")
    last_event: dict[str, Any] | None = None
    corrections: list[CorrectionSummary] = Field(
        default_factory=list, description="Corrections and revocations (更正与撤销) in the history, whatever their "
        "date: the facts above read as corrected, without the revoked ones, and `events` counts neither.")


Reducer = Callable[[Dossier, FoldedEvent], None]


REDUCERS: dict[str, Reducer] = {**dossier_audit.REDUCERS, **dossier_assessment.REDUCERS, **dossier_rotation.REDUCERS}


def _corrections(events: list[FoldedEvent]) -> list[CorrectionSummary]:
    out = []
    for e, target in counted(events):
        spec = CATALOGUE[e.type]
        kind: Literal["corrected", "revoked"] = "revoked" if e.type.endswith(REVOKED) else "corrected"
        out.append(CorrectionSummary(event_id=str(e.id), kind=kind, target_id=str(target),
                                     target_type=str(spec.corrects), label_zh=spec.label_zh,
                                     reason=e.data["reason"], occurred_on=e.occurredon))
    return out


def fold_dossier(cadre_id: str, recorded: Iterable[FoldedEvent], as_of: date | None = None) -> Dossier:
    """Fold the effective history of the events as recorded (in ledger order): those that occurred on or before
    `as_of` (all when None), as corrected."""
    d = Dossier(cadre_id=cadre_id, as_of=as_of)
    history = list(recorded)
    events = effective(history)
    if len(events) != len(history):
        d.corrections = _corrections(history)
    # The running summary stays in locals and is set once: assigning a pydantic field costs about a
    # microsecond, four of them per event were a fifth of a state read's CPU.
    count = 0
    first: date | None = None
    last: date | None = None
    latest: FoldedEvent | None = None
    for e in events:
        if as_of is not None and e.occurredon > as_of:
            continue
        count += 1
        first = min(first or e.occurredon, e.occurredon)
        last = max(last or e.occurredon, e.occurredon)
        if e.county not in d.counties:
            d.counties.append(e.county)
        d.event_counts[e.type] = d.event_counts.get(e.type, 0) + 1
        latest = e
        reducer = REDUCERS.get(e.type)
        if reducer:
            reducer(d, e)
    d.events, d.first_occurred_on, d.last_occurred_on = count, first, last
    if latest is not None:
        spec = CATALOGUE.get(latest.type)
        d.last_event = {"type": latest.type, "label_zh": spec.label_zh if spec else latest.type,
                        "occurred_on": latest.occurredon.isoformat(), "id": str(latest.id)}
    return d
