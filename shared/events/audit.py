"""Events of the audit service: economic responsibility audits (经济责任审计) and supervision (监督)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from shared.events.registry import EventData, event_type
from shared.events.types import AmountCNY, Identifier, LongText, ShortText

AuditType = Literal["pre_appointment", "in_office", "departure"]
Responsibility = Literal["direct", "leadership"]
Evaluation = Literal["good", "fairly_good", "average", "poor"]


class Finding(EventData):
    """One audit finding (审计发现问题)."""

    finding_id: Identifier
    category: int = Field(ge=1, le=99, description="Category number in the county's rule set (问题类别).")
    amount: AmountCNY = Field(description="Amount involved, CNY (涉及金额, 元).")
    responsibility: Responsibility = Field(description="direct (直接责任) or leadership (领导责任).")
    description: LongText = ""


@event_type("audit.completed", "audit", "经济责任审计完成", "Economic responsibility audit completed")
class AuditCompleted(EventData):
    audit_id: Identifier
    audit_type: AuditType
    report_number: ShortText = Field(description="Audit report number (审计报告文号).")
    evaluation: Evaluation = Field(description="Overall evaluation: 好, 较好, 一般, 较差.")
    findings: list[Finding] = Field(default_factory=list, max_length=500)
