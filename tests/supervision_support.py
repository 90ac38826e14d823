"""Builders for the supervision tests (DOMAIN.md rules 3 and 10): ledger events (given) and commands (when) of
report R1, talk T1, inquiry Q1 and sanction S1 of cadre C1, without servers. Shared by the supervision table tests
and the catalogue-conformance tests."""

from __future__ import annotations

from datetime import date
from typing import Any, TypeVar

from pydantic import BaseModel

from services.audit.domain import supervision as s
from shared.envelope import CloudEvent, new_event
from shared.events.audit import (
    AuditCompleted,
    InquiryAnswered,
    InquirySent,
    ReportReceived,
    ReportVerified,
    SanctionImposed,
    TalkHeld,
)
from shared.rulesets import ruleset_for

RULES = ruleset_for("431021", date(2024, 1, 1))
BASE: dict[str, Any] = {"cadre_id": "C1", "county": "431021"}
Command = TypeVar("Command", bound=BaseModel)


def ev(type_: str, data: BaseModel, on: str) -> CloudEvent:
    return new_event(event_type=type_, cadre_id="C1", county="431021", service="audit", data=data,
                     occurred_on=date.fromisoformat(on), ruleset=RULES.id)


RECEIVED = ev("report.received", ReportReceived(report_id="R1", channel="12380", named=False), "2024-03-01")
VERIFIED = ev("report.verified", ReportVerified(report_id="R1", outcome="partly"), "2024-03-20")
UNFOUNDED = ev("report.verified", ReportVerified(report_id="R1", outcome="unfounded"), "2024-03-20")
TALKED = ev("supervision.talk_held", TalkHeld(talk_id="T1", kind="reminder"), "2024-03-25")
# sent Fri 1 March 2024: the 15th working day is Fri 22 March
SENT = ev("supervision.inquiry_sent", InquirySent(inquiry_id="Q1", due=date(2024, 3, 22), report_id="R1"),
          "2024-03-01")
ANSWERED = ev("supervision.inquiry_answered", InquiryAnswered(inquiry_id="Q1", late=False), "2024-03-10")
SANCTIONED = ev("sanction.imposed", SanctionImposed(sanction_id="S1", category="party", measure="warning",
                                                    effective_from=date(2024, 4, 1),
                                                    effective_until=date(2025, 3, 31)), "2024-04-01")
AUDITED = ev("audit.completed", AuditCompleted(audit_id="A1", audit_type="in_office", report_number="R",
                                               evaluation="average", findings=[]), "2024-02-01")


def cmd(model: type[Command], on: str, **fields: Any) -> Command:
    return model.model_validate({**BASE, "occurred_on": on, **fields})


def receive(on: str = "2024-03-01") -> s.ReceiveReport:
    return cmd(s.ReceiveReport, on, report_id="R1", channel="12380", named=True, summary="违规收受礼金")


def verify(on: str = "2024-03-20", outcome: str = "verified") -> s.VerifyReport:
    return cmd(s.VerifyReport, on, report_id="R1", outcome=outcome)


def talk(on: str = "2024-03-25", **kw: Any) -> s.HoldTalk:
    return cmd(s.HoldTalk, on, **{"talk_id": "T1", "kind": "reminder", **kw})


def send(on: str = "2024-03-01", **kw: Any) -> s.SendInquiry:
    return cmd(s.SendInquiry, on, **{"inquiry_id": "Q1", **kw})


def answer(on: str = "2024-03-10", **kw: Any) -> s.AnswerInquiry:
    return cmd(s.AnswerInquiry, on, **{"inquiry_id": "Q1", **kw})


def sanction(on: str = "2024-04-01", **kw: Any) -> s.ImposeSanction:
    fields = {"sanction_id": "S1", "category": "party", "measure": "warning", "effective_from": "2024-04-01",
              "effective_until": "2025-03-31", **kw}
    return cmd(s.ImposeSanction, on, **fields)
