"""Working days counted on the calendar as it is now, for read models (复核): None where it does not reach.

A count recorded in an event was made on the calendar of its day; when a year it touched was still
provisional (`provisional_calendar_years`, 日历暂定), the State Council's notice may since have moved a day.
The read models show the recorded count and, beside it, the same count made again now.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from shared.workdays import CalendarGap, add_working_days, working_days_between


def working_days_now(start: date, end: date) -> int | None:
    """Working days of [start, end] on the calendar now; None when the calendar does not cover them."""
    try:
        return working_days_between(start, end)
    except CalendarGap:
        return None


def recounted_working_days(start: date, end: date, provisional: Sequence[int] | None) -> int | None:
    """The working days of [start, end] counted again now, when the recorded count touched a provisional year."""
    return working_days_now(start, end) if provisional else None


def recounted_deadline(start: date, days: int | None, provisional: Sequence[int] | None) -> date | None:
    """The `days`-th working day after `start` counted again now, when the recorded one touched a provisional
    year (None otherwise, without a rule set's count, or beyond the calendar)."""
    if not provisional or days is None:
        return None
    try:
        return add_working_days(start, days)
    except CalendarGap:
        return None
