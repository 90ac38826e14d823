"""Helpers the summary read models share (`reports.py`, `audit_summary.py`, `rotation_summary.py`): a period's
bounds in a query, and counts over a closed set of values."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

import orjson


def period_end(start: date | None, end: date | None, start_name: str, end_name: str) -> date | None:
    """A period's last day, refused when it comes before its first (a query's `..._from` and `..._to`)."""
    if start and end and start > end:
        raise ValueError(f"{end_name} is before {start_name} {start} (截止日期早于起始日期)")
    return end


def counts_of(values: Iterable[str], counted: str) -> dict[str, int]:
    """Every value of a closed set with its count, 0 where none, from a JSON object of the values counted
    (`jsonb_object_agg`)."""
    found = orjson.loads(counted)
    return {value: int(found.get(value, 0)) for value in values}
