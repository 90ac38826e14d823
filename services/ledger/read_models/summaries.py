"""Helpers the summary read models share (`reports.py`, `audit_summary.py`, `rotation_summary.py`,
`notice_summary.py`): a query of a county and a period, and counts over a closed set of values."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from shared.envelope import COUNTY_PATTERN


class PeriodQuery(BaseModel):
    """A county, a period and the day the figures are for: a subclass names the period's bounds `<what>_from` and
    `<what>_to`, in that order, and a `_to` before its `_from` is refused naming the `_to`."""

    model_config = ConfigDict(extra="forbid")
    county: str | None = Field(None, pattern=COUNTY_PATTERN, description="Only this county (县).")
    as_of: date | None = Field(None, description="The figures as they stood at the end of this day (截至, e.g. a "
                                                 "report's day): only what happened by then counts; default: "
                                                 "everything recorded.")

    @field_validator("*")
    @classmethod
    def _ordered(cls, value: Any, info: ValidationInfo) -> Any:
        if info.field_name and info.field_name.endswith("_to") and value is not None:
            start = info.field_name.removesuffix("_to") + "_from"
            if (first := info.data.get(start)) is not None and first > value:
                raise ValueError(f"{info.field_name} is before {start} {first} (截止日期早于起始日期)")
        return value


def counts_of(values: Iterable[str], counted: str) -> dict[str, int]:
    """Every value of a closed set with its count, 0 where none, from a JSON object of the values counted
    (`jsonb_object_agg`)."""
    found = orjson.loads(counted)
    return {value: int(found.get(value, 0)) for value in values}
