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

    cadre_id: str
    county: str
    audit_id: str
    audit_type: str
    report_number: str | None
    evaluation: str | None
    completed_on: date
