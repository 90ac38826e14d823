"""Checks several audit and supervision rules share: chronology, working-day deadlines."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from shared.decisions import DecisionWarning, provisional_calendar
from shared.problems import RuleViolation
from shared.workdays import CalendarGap, add_working_days, provisional_years


def not_before(day: date, earlier: date | None, rule: str, what_en: str, what_zh: str,
               field: str | None = None) -> None:
    """A step cannot be dated before the step it follows (`earlier`), else `rule` (a record-keeping rule), naming
    `field` when the day is not the command's occurred_on."""
    if earlier is not None and day < earlier:
        named = {} if field is None else {"field": field}
        raise RuleViolation(rule, f"{what_en} on {day.isoformat()} is dated before {earlier.isoformat()}, "
                                  "the step it follows",
                            f"{what_zh}日期 {day.isoformat()} 早于前一环节的日期 {earlier.isoformat()}", **named)


@dataclass(frozen=True)
class Deadline:
    """A due day (counted in working days, or in days), with what the event and the answer say about its calendar."""

    due: date
    provisional_years: list[int] | None
    """The provisional calendar years the count touched (the event's `provisional_calendar_years`); None: none."""
    warnings: tuple[DecisionWarning, ...]


def working_day_deadline(start: date, days: int, basis: str, what_en: str, what_zh: str) -> Deadline:
    """The `days`-th working day after `start` (the last day allowed); 422 `calendar.gap` when not covered, citing
    `basis` (the rule set's basis of the window counted)."""
    try:
        due = add_working_days(start, days)
    except CalendarGap as gap:
        raise RuleViolation("calendar.gap", f"cannot count the {what_en} ({days} working days from "
                                            f"{start.isoformat()}): {gap.message_en}",
                            f"无法计算{what_zh} (自 {start.isoformat()} 起 {days} 个工作日): {gap.message_zh}",
                            basis=basis) from gap
    years = provisional_years(start, due)
    return Deadline(due, years or None, provisional_calendar(years, f"{what_en}'s due day", what_zh))


def day_deadline(start: date, days: int) -> Deadline:
    """The `days`-th day after `start`, the day of `start` not counted (自接到之日起N日内; 民法典 第二百零一条:
    开始的当日不计入): no calendar is read, so no year is provisional and no count falls outside the calendar."""
    return Deadline(start + timedelta(days=days), None, ())
