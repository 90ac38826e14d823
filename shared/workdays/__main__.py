"""Check calendar files before deploying them: `python -m shared.workdays [FILE ...]`.

Without arguments it checks the shipped cn.json and the file named by CADRE_CALENDAR_FILE, if any.
Prints one line per year (official or provisional, counts, working days); exits 1 on invalid data.
"""

from __future__ import annotations

import os
import sys
from datetime import date, timedelta

from shared.workdays import ENV_FILE, SHIPPED_FILE, CalendarDataError, YearCalendar, load_calendar_file

USAGE = """Usage: python -m shared.workdays [FILE ...]

  Check working-day calendar files (校验工作日历文件) before deploying them (docs/calendar.md).
  Without FILE: the shipped shared/workdays/cn.json and the file named by CADRE_CALENDAR_FILE, if any.
  Prints each year (official 正式 or provisional 暂定, holidays, make-up days, working days).
  Exit 0: every file valid; 1: a file is invalid, every problem listed.
"""


def _working_days(cal: YearCalendar) -> int:
    first = date(cal.year, 1, 1)
    days = (first + timedelta(days=i) for i in range((date(cal.year + 1, 1, 1) - first).days))
    return sum(cal.is_working_day(day) for day in days)


def main(argv: list[str]) -> int:
    """Validate each file and summarise its years; return the process exit status."""
    if any(arg in ("-h", "--help") for arg in argv):
        print(USAGE, end="")
        return 0
    paths = argv or [str(SHIPPED_FILE), *filter(None, [os.environ.get(ENV_FILE, "").strip()])]
    status = 0
    for path in paths:
        try:
            years = load_calendar_file(path)
        except CalendarDataError as exc:
            print(exc, file=sys.stderr)
            status = 1
            continue
        print(f"{path}: valid (有效), {len(years)} years")
        for cal in sorted(years.values(), key=lambda c: c.year):
            kind = "provisional (暂定)" if cal.provisional else "official (正式)"
            print(f"  {cal.year}  {kind:<18} holidays {len(cal.holidays):>2}  makeup {len(cal.makeup_workdays)}  "
                  f"working days {_working_days(cal)}  {cal.source}")
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
