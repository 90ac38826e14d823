"""Helpers the audit and supervision read models share (audit_*.py, reports.py, inquiries.py)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from shared.envelope import CADRE_ID_PATTERN, COUNTY_PATTERN

TAGS = ("read models 查询",)


def yuan(amount: Decimal | None) -> str | None:
    """An amount as the API shows it: a decimal string with fen (元, 两位小数), never a float."""
    return None if amount is None else f"{amount:.2f}"


class ListQuery(BaseModel):
    """Filters and paging common to the audit and supervision lists."""

    model_config = ConfigDict(extra="forbid")
    county: str | None = Field(None, pattern=COUNTY_PATTERN, description="Only this county (县).")
    cadre_id: str | None = Field(None, pattern=CADRE_ID_PATTERN, description="Only this cadre.")
    as_of: date | None = Field(None, description="The day the list is for (default: today).")
    offset: int = Field(0, ge=0, le=1_000_000)
    limit: int = Field(100, ge=1, le=1000)


class CompletedAudit(BaseModel):
    """What every list of completed audits shows of one (经济责任审计)."""

    cadre_id: str = Field(description="The cadre (干部编号).")
    county: str = Field(description="The county's GB/T 2260 code (县).")
    audit_id: str = Field(description="The audit's id (审计编号).")
    audit_type: str = Field(description="pre_appointment, in_office or departure (审计类型).")
    report_number: str | None = Field(description="The audit report's number (审计报告文号).")
    evaluation: str | None = Field(description="good, fairly_good, average or poor (审计评价).")
    completed_on: date = Field(description="The day the audit completed (审计完成日期).")
