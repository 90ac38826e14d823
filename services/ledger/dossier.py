"""A cadre's dossier: the state folded from ledger events (pure), for `state?as_of=`.

Each event type that shapes the dossier has a small reducer here; types without one are counted
and listed, so nothing recorded is hidden.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from typing import Any

from pydantic import BaseModel, Field

from shared.envelope import CloudEvent
from shared.events.registry import CATALOGUE


class AuditSummary(BaseModel):
    """An audit as the dossier shows it."""

    audit_id: str
    audit_type: str
    completed_on: date | None = None
    report_number: str | None = None
    evaluation: str | None = None
    findings: list[dict[str, Any]] = Field(default_factory=list)


class Dossier(BaseModel):
    """The cadre's state on a date."""

    cadre_id: str
    as_of: date | None = None
    events: int = 0
    first_occurred_on: date | None = None
    last_occurred_on: date | None = None
    counties: list[str] = Field(default_factory=list)
    audits: dict[str, AuditSummary] = Field(default_factory=dict)
    event_counts: dict[str, int] = Field(default_factory=dict, description="Events per type (按类型计数).")
    last_event: dict[str, Any] | None = None


Reducer = Callable[[Dossier, CloudEvent], None]


def _audit_completed(d: Dossier, e: CloudEvent) -> None:
    audit = d.audits.setdefault(e.data["audit_id"], AuditSummary(audit_id=e.data["audit_id"],
                                                                 audit_type=e.data["audit_type"]))
    audit.completed_on = e.occurredon
    audit.report_number = e.data["report_number"]
    audit.evaluation = e.data["evaluation"]
    audit.findings = list(e.data.get("findings", []))


REDUCERS: dict[str, Reducer] = {"audit.completed": _audit_completed}


def fold_dossier(cadre_id: str, events: Iterable[CloudEvent], as_of: date | None = None) -> Dossier:
    """Fold the events (in ledger order) that occurred on or before `as_of` (all when None)."""
    d = Dossier(cadre_id=cadre_id, as_of=as_of)
    for e in events:
        if as_of is not None and e.occurredon > as_of:
            continue
        d.events += 1
        d.first_occurred_on = min(d.first_occurred_on or e.occurredon, e.occurredon)
        d.last_occurred_on = max(d.last_occurred_on or e.occurredon, e.occurredon)
        if e.county not in d.counties:
            d.counties.append(e.county)
        d.event_counts[e.type] = d.event_counts.get(e.type, 0) + 1
        spec = CATALOGUE.get(e.type)
        d.last_event = {"type": e.type, "label_zh": spec.label_zh if spec else e.type,
                        "occurred_on": e.occurredon.isoformat(), "id": str(e.id)}
        reducer = REDUCERS.get(e.type)
        if reducer:
            reducer(d, e)
    return d
