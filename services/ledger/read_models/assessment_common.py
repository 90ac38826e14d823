"""Helpers the assessment read models share (notices.py, compliance.py, assessment_watchlist.py)."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from services.ledger.read_models.recount import working_days_now
from shared.envelope import CADRE_ID_PATTERN, COUNTY_PATTERN

TAGS = ("read models 查询",)


def working_days_left(start: date, end: date, as_of: date) -> int | None:
    """Working days of [start, end] still ahead on `as_of` (today counted); None beyond the shipped calendar."""
    return working_days_now(max(start, as_of), end)


class AssessmentQuery(BaseModel):
    """Filters and paging common to the assessment lists."""

    model_config = ConfigDict(extra="forbid")
    county: str | None = Field(None, pattern=COUNTY_PATTERN, description="Only this county (县).")
    cadre_id: str | None = Field(None, pattern=CADRE_ID_PATTERN, description="Only this cadre.")
    offset: int = Field(0, ge=0, le=1_000_000)
    limit: int = Field(100, ge=1, le=1000)
