"""Working days in China (工作日): public holidays (放假) and make-up working days (调休上班) as data.

Deadlines counted in working days use this calendar: the pre-appointment notice (任前公示, at least
5 working days), a cadre's written opinion on an audit (10; not where a rule set counts it in days,
`audit.opinion_calendar_days`) and the answer to an inquiry (函询, 15).
A day is a working day when it is a make-up working day, or a Monday to Friday that is not a holiday.

The data is `cn.json` beside this module, one entry per calendar year:

- `holidays`: every date the State Council notice gives off (放假), weekend days inside a break included;
- `makeup_workdays`: the Saturdays and Sundays the notice makes working days (调休上班);
- `source`: the notice (国务院办公厅关于<year>年部分节假日安排的通知, with its document number);
- `provisional`: true while no notice is known for the year; such a year lists only the statutory
  holidays of 全国年节及纪念日放假办法 (2024 revision) and no make-up days, so deadlines in it may
  move once the notice appears;
- `notes` (optional): anything an auditor of the data should know.

Updating a year needs no code: when the notice appears (usually in October to December of the year
before), replace the year's entry in `cn.json` with the notice's dates and set `provisional` to false,
or add the year to an operator file named by the environment variable `CADRE_CALENDAR_FILE` (same
format; each year in it replaces the shipped year wholesale). Check the file with
`python -m shared.workdays [FILE]`, then restart the services: the data is read once, on first use,
and cached (`clear_cache` forgets it). docs/calendar.md has the step by step.

A date in a year present in neither file raises `CalendarGap`: a deadline is never guessed.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

__all__ = [
    "ENV_FILE",
    "SHIPPED_FILE",
    "CalendarDataError",
    "CalendarGap",
    "YearCalendar",
    "add_working_days",
    "clear_cache",
    "covered_years",
    "is_provisional",
    "is_working_day",
    "load_calendar_file",
    "provisional_years",
    "validate_calendar",
    "working_days_between",
]

ENV_FILE = "CADRE_CALENDAR_FILE"
SHIPPED_FILE = Path(__file__).with_name("cn.json")

_ISO_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
_YEAR_KEY = re.compile(r"^[0-9]{4}$")
_REQUIRED = frozenset({"holidays", "makeup_workdays", "source", "provisional"})
_OPTIONAL = frozenset({"notes"})
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


class CalendarGap(LookupError):
    """The calendar has no data for the year of a date; `year`, `message_en` and `message_zh` say which."""

    def __init__(self, year: int) -> None:
        self.year = year
        self.message_en = (
            f"the working-day calendar has no data for {year}: add the year from the State Council notice "
            f"(国务院办公厅关于{year}年部分节假日安排的通知) to shared/workdays/cn.json or to the file named "
            f"by {ENV_FILE} (see docs/calendar.md)"
        )
        self.message_zh = (
            f"工作日历缺少{year}年的数据：请根据《国务院办公厅关于{year}年部分节假日安排的通知》"
            f"在 shared/workdays/cn.json 或环境变量 {ENV_FILE} 指定的文件中补充该年（见 docs/calendar.md）"
        )
        super().__init__(f"{self.message_en} / {self.message_zh}")


class CalendarDataError(ValueError):
    """Calendar data is malformed; `problems` lists every problem found, each naming its year and entry."""

    def __init__(self, origin: str, problems: list[str]) -> None:
        self.origin = origin
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"invalid working-day calendar data (工作日历数据有误) in {origin}:\n{lines}")


@dataclass(frozen=True)
class YearCalendar:
    """One year's holidays and make-up working days, as validated from the data."""

    year: int
    holidays: frozenset[date]
    makeup_workdays: frozenset[date]
    source: str
    provisional: bool
    notes: tuple[str, ...] = ()

    def is_working_day(self, day: date) -> bool:
        """True for a make-up working day, or Monday to Friday when not a holiday; `day` is in `year`."""
        if day in self.makeup_workdays:
            return True
        return day.weekday() < 5 and day not in self.holidays


def validate_calendar(raw: object, origin: str) -> dict[int, YearCalendar]:
    """Check parsed calendar JSON and return its years; raise `CalendarDataError` listing every problem.

    Rejected: a missing or unknown key, a date that is not `YYYY-MM-DD`, a date outside its year,
    a date listed twice, a date that is both a holiday and a make-up day, a make-up day that is not a
    Saturday or Sunday, a year without holidays.
    """
    problems: list[str] = []
    if not isinstance(raw, dict):
        raise CalendarDataError(origin, ["the top level must be an object with a \"years\" object"])
    for key in sorted(set(raw) - {"years", "about"}):
        problems.append(f"unknown top-level key {key!r} (expected \"years\" and optionally \"about\")")
    years = raw.get("years")
    if not isinstance(years, dict):
        raise CalendarDataError(origin, [*problems, "\"years\" must be an object keyed by year, e.g. \"2027\""])
    result: dict[int, YearCalendar] = {}
    for key, entry in years.items():
        if not _YEAR_KEY.match(key):
            problems.append(f"year key {key!r} is not a four-digit year")
            continue
        parsed = _validate_year(int(key), entry, problems)
        if parsed is not None:
            result[parsed.year] = parsed
    if problems:
        raise CalendarDataError(origin, problems)
    return result


def _validate_year(year: int, entry: object, problems: list[str]) -> YearCalendar | None:
    where = f"year {year}"
    if not isinstance(entry, dict):
        problems.append(f"{where}: must be an object with {', '.join(sorted(_REQUIRED))}")
        return None
    before = len(problems)
    problems.extend(f"{where}: missing key {k!r}" for k in sorted(_REQUIRED - set(entry)))
    problems.extend(f"{where}: unknown key {k!r}" for k in sorted(set(entry) - _REQUIRED - _OPTIONAL))
    source, provisional, notes = entry.get("source"), entry.get("provisional"), entry.get("notes", [])
    if "source" in entry and not (isinstance(source, str) and source.strip()):
        problems.append(f"{where}: source must name the notice (a non-empty string)")
    if "provisional" in entry and not isinstance(provisional, bool):
        problems.append(f"{where}: provisional must be true or false")
    if not (isinstance(notes, list) and all(isinstance(n, str) for n in notes)):
        problems.append(f"{where}: notes must be a list of strings")
    if entry.get("holidays") == []:
        problems.append(f"{where}: holidays is empty, but every year has statutory holidays (法定节假日)")
    holidays = _validate_dates(year, "holidays", entry.get("holidays", []), problems)
    makeups = _validate_dates(year, "makeup_workdays", entry.get("makeup_workdays", []), problems)
    for day in sorted(makeups):
        if day.weekday() < 5:
            problems.append(f"{where}: makeup_workdays: {day} is a {_WEEKDAYS[day.weekday()]}, but a make-up "
                            "working day (调休上班日) must be a Saturday or Sunday")
    for day in sorted(holidays & makeups):
        problems.append(f"{where}: {day} is listed both as a holiday and as a make-up working day")
    if len(problems) > before:
        return None
    # Past the checks above both keys are present with the right types.
    return YearCalendar(year, frozenset(holidays), frozenset(makeups), entry["source"], entry["provisional"],
                        tuple(notes))


def _validate_dates(year: int, field: str, raw: object, problems: list[str]) -> set[date]:
    where = f"year {year}: {field}"
    if not isinstance(raw, list):
        problems.append(f"{where} must be a list of dates \"YYYY-MM-DD\"")
        return set()
    seen: set[date] = set()
    for item in raw:
        day = _parse_date(item)
        if day is None:
            problems.append(f"{where}: {item!r} is not a date \"YYYY-MM-DD\"")
        elif day.year != year:
            problems.append(f"{where}: {day} is not in {year} (list it under {day.year})")
        elif day in seen:
            problems.append(f"{where}: {day} is listed twice")
        else:
            seen.add(day)
    return seen


def _parse_date(item: object) -> date | None:
    # Only the plain form: date.fromisoformat would also take week dates and compact forms.
    if not isinstance(item, str) or not _ISO_DATE.match(item):
        return None
    try:
        return date.fromisoformat(item)
    except ValueError:
        return None


def load_calendar_file(path: str | os.PathLike[str]) -> dict[int, YearCalendar]:
    """Read and validate one calendar file; raise `CalendarDataError` naming the file when it is unusable."""
    origin = str(path)
    try:
        raw: Any = json.loads(Path(path).read_bytes())
    except OSError as exc:
        raise CalendarDataError(origin, [f"cannot read the file: {exc.strerror or exc}"]) from exc
    except ValueError as exc:
        raise CalendarDataError(origin, [f"not valid JSON: {exc}"]) from exc
    return validate_calendar(raw, origin)


@lru_cache(maxsize=1)
def _calendar() -> Mapping[int, YearCalendar]:
    years = load_calendar_file(SHIPPED_FILE)
    override = os.environ.get(ENV_FILE, "").strip()
    if override:
        years.update(load_calendar_file(override))
    return years


def clear_cache() -> None:
    """Forget the loaded calendar, so the next call reads the files (and `CADRE_CALENDAR_FILE`) again."""
    _calendar.cache_clear()


def _year(year: int) -> YearCalendar:
    found = _calendar().get(year)
    if found is None:
        raise CalendarGap(year)
    return found


def _plain_date(day: date) -> date:
    # A datetime never equals a date, so it would silently miss every holiday.
    if isinstance(day, datetime) or not isinstance(day, date):
        raise TypeError(f"expected a datetime.date, got {type(day).__name__}")
    return day


def covered_years() -> tuple[int, ...]:
    """The years the calendar has data for, ascending (shipped file and operator file together)."""
    return tuple(sorted(_calendar()))


def is_provisional(year: int) -> bool:
    """True when `year` has no official notice yet (statutory holidays only); `CalendarGap` if not covered."""
    return _year(year).provisional


def provisional_years(start: date, end: date) -> list[int]:
    """The years from `start`'s to `end`'s that have no official notice yet (a count over them may change)."""
    return [year for year in range(_plain_date(start).year, _plain_date(end).year + 1) if is_provisional(year)]


def is_working_day(day: date) -> bool:
    """True when `day` is a working day: a make-up working day, or Monday to Friday and not a holiday."""
    day = _plain_date(day)
    return _year(day.year).is_working_day(day)


def add_working_days(start: date, n: int) -> date:
    """The n-th working day after `start` (`start` itself not counted); n must be at least 1.

    Raises `CalendarGap` when the count runs into a year the calendar does not cover.
    """
    day = _plain_date(start)
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    left = n
    while left:
        day += timedelta(days=1)
        if is_working_day(day):
            left -= 1
    return day


def working_days_between(start: date, end: date) -> int:
    """How many working days lie in [start, end], both ends included; 0 when `end` is before `start`.

    Raises `CalendarGap` when the range touches a year the calendar does not cover.
    """
    day, end = _plain_date(start), _plain_date(end)
    count = 0
    while day <= end:
        count += is_working_day(day)
        day += timedelta(days=1)
    return count
