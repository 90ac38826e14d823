"""Builders for the audit lifecycle tests (DOMAIN.md rule 9): ledger events (given) and commands (when) of audit A1
of cadre C1, without servers. Shared by the audit table tests and the catalogue-conformance tests."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from pydantic import BaseModel

from services.audit.domain import audits as a
from shared.envelope import CloudEvent, new_event
from shared.events.audit import (
    AuditCompleted,
    AuditFindingRectified,
    AuditOpinionReceived,
    AuditOpinionRequested,
    AuditResultApplied,
    AuditStarted,
    Finding,
)
from shared.events.rotation import CadreRegistered
from shared.rulesets import ruleset_for

RULES = ruleset_for("431021", date(2024, 1, 1))
BASE: dict[str, Any] = {"cadre_id": "C1", "county": "431021"}


def ev(type_: str, data: BaseModel, on: str) -> CloudEvent:
    """A ledger event of cadre C1 in the seed county."""
    return new_event(event_type=type_, cadre_id="C1", county="431021", service="audit", data=data,
                     occurred_on=date.fromisoformat(on), ruleset=RULES.id)


def finding(n: int, category: int = 3, amount: str = "100.00") -> Finding:
    return Finding(finding_id=f"F{n}", category=category, amount=Decimal(amount), responsibility="direct")


STARTED = ev("audit.started", AuditStarted(audit_id="A1", audit_type="departure", period_from=date(2019, 1, 1),
                                           period_to=date(2024, 3, 31), auditing_body="桂阳县审计局",
                                           post_id="P1"), "2024-05-06")
# requested on Mon 3 June 2024: 10 June is the Dragon Boat holiday, so the 10th working day is 18 June
REQUESTED = ev("audit.opinion_requested", AuditOpinionRequested(audit_id="A1", due=date(2024, 6, 18)), "2024-06-03")
RECEIVED = ev("audit.opinion_received", AuditOpinionReceived(audit_id="A1", agrees=True), "2024-06-12")
COMPLETED = ev("audit.completed", AuditCompleted(audit_id="A1", audit_type="departure", report_number="桂审〔2024〕7号",
                                                 evaluation="fairly_good",
                                                 findings=[finding(1), finding(2), finding(3)]), "2024-06-20")
RECTIFIED = ev("audit.finding_rectified", AuditFindingRectified(audit_id="A1", finding_id="F1"), "2024-07-01")
APPLIED = ev("audit.result_applied", AuditResultApplied(audit_id="A1", result="admonishment", filed_to_dossier=True),
             "2024-07-05")
APPLIED_UNFILED = ev("audit.result_applied", AuditResultApplied(audit_id="A1", result="admonishment",
                                                                 filed_to_dossier=False), "2024-07-05")
FILED_LATER = ev("audit.result_applied", AuditResultApplied(audit_id="A1", result="admonishment",
                                                             filed_to_dossier=True), "2024-07-20")


REGISTERED = new_event(event_type="cadre.registered", cadre_id="C1", county="431021", service="rotation",
                       data=CadreRegistered(name_commitment="0" * 64, id_number_commitment="1" * 64, sex="male",
                                            birth_month="1990-02", work_start=date(2012, 7, 1), unit="桂阳县审计局"),
                       occurred_on=date(2013, 1, 2), ruleset=RULES.id)


def start(on: str = "2024-05-06", **kw: Any) -> a.StartAudit:
    fields: dict[str, Any] = {"audit_id": "A1", "audit_type": "departure", "period_from": "2019-01-01",
                              "period_to": "2024-03-31", "auditing_body": "桂阳县审计局", "post_id": "P1"}
    return a.StartAudit.model_validate({**BASE, "occurred_on": on, **fields, **kw})


def request(on: str = "2024-06-03") -> a.RequestOpinion:
    return a.RequestOpinion.model_validate({**BASE, "occurred_on": on, "audit_id": "A1"})


def receive(on: str = "2024-06-12") -> a.ReceiveOpinion:
    return a.ReceiveOpinion.model_validate({**BASE, "occurred_on": on, "audit_id": "A1", "agrees": False,
                                            "summary": "对第2项有异议"})


def complete(on: str = "2024-06-20", findings: list[dict[str, Any]] | None = None, **kw: Any) -> a.CompleteAudit:
    fs = findings if findings is not None else [
        {"finding_id": f"F{n}", "category": 3, "amount": "100.00", "responsibility": "direct"} for n in (1, 2, 3)]
    fields: dict[str, Any] = {"audit_id": "A1", "audit_type": "departure", "report_number": "桂审〔2024〕7号",
                              "evaluation": "fairly_good", "findings": fs}
    return a.CompleteAudit.model_validate({**BASE, "occurred_on": on, **fields, **kw})


def rectify(finding_id: str = "F1", on: str = "2024-07-01", recovered: str = "100.00") -> a.RectifyFinding:
    return a.RectifyFinding.model_validate({**BASE, "occurred_on": on, "audit_id": "A1", "finding_id": finding_id,
                                            "measures": "退回资金", "amount_recovered": recovered})


def apply(on: str = "2024-07-05", audit_id: str = "A1", result: str = "admonishment",
          filed: bool = True) -> a.ApplyResult:
    return a.ApplyResult.model_validate({**BASE, "occurred_on": on, "audit_id": audit_id, "result": result,
                                         "filed_to_dossier": filed})


UP_TO_OPINION = [STARTED, REQUESTED, RECEIVED]  # A1, opinion received 12 June 2024
AUDIT_DONE = [*UP_TO_OPINION, COMPLETED]  # completed 20 June 2024 with findings F1-F3
