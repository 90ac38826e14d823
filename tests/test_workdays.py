"""Working-day calendar: shipped data, deadline arithmetic, gaps, the operator file and data validation."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared import workdays
from shared.workdays import (
    CalendarDataError,
    CalendarGap,
    add_working_days,
    covered_years,
    is_provisional,
    is_working_day,
    validate_calendar,
    working_days_between,
)
from shared.workdays.__main__ import main as check_files
from tests.operator_calendar import write_calendar, year_entry

D = date.fromisoformat


@pytest.fixture(autouse=True)
def shipped_calendar(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every test starts from the shipped data alone, whatever the environment says."""
    monkeypatch.delenv(workdays.ENV_FILE, raising=False)
    workdays.clear_cache()
    yield
    workdays.clear_cache()


# --- the shipped data ---------------------------------------------------------------------------

def test_covered_years_official_and_provisional() -> None:
    assert covered_years() == tuple(range(2008, 2031))
    assert [y for y in covered_years() if not is_provisional(y)] == list(range(2008, 2027))
    assert [y for y in covered_years() if is_provisional(y)] == [2027, 2028, 2029, 2030]


# Counted by hand from the notices (365 or 366 - weekend days - weekday holidays + make-up days) and
# cross-checked against an independent holiday table; a transcription slip changes the count.
@pytest.mark.parametrize(("year", "working_days"), [
    (2020, 249), (2021, 250), (2022, 249), (2023, 249), (2024, 251), (2025, 248), (2026, 248),
])
def test_working_days_per_official_year(year: int, working_days: int) -> None:
    assert working_days_between(date(year, 1, 1), date(year, 12, 31)) == working_days


# Gregorian dates of 元旦, 春节 (正月初一), 清明, 劳动节, 端午 (五月初五), 中秋 (八月十五), 国庆.
FESTIVALS = {
    2020: ["2020-01-01", "2020-01-25", "2020-04-04", "2020-05-01", "2020-06-25", "2020-10-01"],
    2021: ["2021-01-01", "2021-02-12", "2021-04-04", "2021-05-01", "2021-06-14", "2021-09-21", "2021-10-01"],
    2022: ["2022-01-01", "2022-02-01", "2022-04-05", "2022-05-01", "2022-06-03", "2022-09-10", "2022-10-01"],
    2023: ["2023-01-01", "2023-01-22", "2023-04-05", "2023-05-01", "2023-06-22", "2023-09-29", "2023-10-01"],
    2024: ["2024-01-01", "2024-02-10", "2024-04-04", "2024-05-01", "2024-06-10", "2024-09-17", "2024-10-01"],
    2025: ["2025-01-01", "2025-01-29", "2025-04-04", "2025-05-01", "2025-05-31", "2025-10-06", "2025-10-01"],
    2026: ["2026-01-01", "2026-02-17", "2026-04-05", "2026-05-01", "2026-06-19", "2026-09-25", "2026-10-01"],
    2027: ["2027-01-01", "2027-02-06", "2027-04-05", "2027-05-01", "2027-06-09", "2027-09-15", "2027-10-01"],
    2028: ["2028-01-01", "2028-01-26", "2028-04-04", "2028-05-01", "2028-05-28", "2028-10-03", "2028-10-01"],
    2029: ["2029-01-01", "2029-02-13", "2029-04-04", "2029-05-01", "2029-06-16", "2029-09-22", "2029-10-01"],
    2030: ["2030-01-01", "2030-02-03", "2030-04-05", "2030-05-01", "2030-06-05", "2030-09-12", "2030-10-01"],
}


@pytest.mark.parametrize("year", sorted(FESTIVALS))
def test_every_festival_is_a_holiday(year: int) -> None:
    holidays = workdays.load_calendar_file(workdays.SHIPPED_FILE)[year].holidays
    assert {D(s) for s in FESTIVALS[year]} <= holidays


# Provisional years: exactly the statutory days of the 2024 regulation (元旦 1, 春节 除夕..初三 4,
# 清明 1, 劳动节 2, 端午 1, 中秋 1, 国庆 3), no make-up days; in 2028 中秋 is 3 October.
@pytest.mark.parametrize(("year", "eve", "qingming", "dragon_boat", "mid_autumn"), [
    (2027, "2027-02-05", "2027-04-05", "2027-06-09", "2027-09-15"),
    (2028, "2028-01-25", "2028-04-04", "2028-05-28", "2028-10-03"),
    (2029, "2029-02-12", "2029-04-04", "2029-06-16", "2029-09-22"),
    (2030, "2030-02-02", "2030-04-05", "2030-06-05", "2030-09-12"),
])
def test_provisional_year_has_statutory_days_only(year: int, eve: str, qingming: str, dragon_boat: str,
                                                  mid_autumn: str) -> None:
    cal = workdays.load_calendar_file(workdays.SHIPPED_FILE)[year]
    spring = {D(eve) + timedelta(days=i) for i in range(4)}
    fixed = {date(year, 1, 1), date(year, 5, 1), date(year, 5, 2), date(year, 10, 1), date(year, 10, 2),
             date(year, 10, 3)}
    assert cal.holidays == spring | fixed | {D(qingming), D(dragon_boat), D(mid_autumn)}
    assert cal.makeup_workdays == frozenset()
    assert cal.provisional


# --- single days --------------------------------------------------------------------------------

@pytest.mark.parametrize(("day", "working"), [
    ("2023-10-07", True),   # Saturday, 调休上班 after the National Day + Mid-Autumn week
    ("2023-10-08", True),   # Sunday, 调休上班
    ("2023-09-29", False),  # Friday, Mid-Autumn
    ("2023-10-06", False),  # Friday, last day of the 8-day break
    ("2023-10-09", True),   # ordinary Monday
    ("2024-02-04", True),   # Sunday before Spring Festival, worked
    ("2024-02-09", True),   # Friday, New Year's Eve: only encouraged off, officially a working day
    ("2024-02-10", False),  # 正月初一 (Saturday)
    ("2024-02-16", False),  # Friday inside the break
    ("2024-02-18", True),   # Sunday after Spring Festival, worked
    ("2020-01-19", True),   # Sunday before Spring Festival 2020, worked
    ("2020-01-31", False),  # Friday, COVID-19 extension (国办发明电〔2020〕1号)
    ("2020-02-01", False),  # Saturday once to be worked; the extension cancelled it
    ("2020-02-03", True),   # back to work
    ("2025-10-08", False),  # Wednesday, last day of National Day + Mid-Autumn 2025
    ("2025-10-11", True),   # Saturday, 调休上班
    ("2025-09-28", True),   # Sunday, 调休上班
    ("2026-01-04", True),   # Sunday, 调休上班 after New Year 2026
    ("2023-06-24", False),  # Saturday inside the Dragon Boat break
    ("2023-06-17", False),  # ordinary Saturday
    ("2027-02-08", False),  # provisional: 正月初三 2027 (Monday)
    ("2027-02-09", True),   # provisional: no 调休 known yet, an ordinary Tuesday
])
def test_is_working_day(day: str, working: bool) -> None:
    assert is_working_day(D(day)) is working


# --- counting working days ----------------------------------------------------------------------

@pytest.mark.parametrize(("start", "n", "expected"), [
    # A 任前公示 posted Thursday 2023-09-28: 29 Sep - 6 Oct are off, Sat 7 and Sun 8 Oct are worked
    # (days 1 and 2), then Mon 9, Tue 10, Wed 11 (days 3, 4, 5).
    ("2023-09-28", 5, "2023-10-11"),
    ("2023-09-28", 1, "2023-10-07"),
    # Spring Festival 2024: Fri 9 Feb is day 1, 10-17 Feb off, Sun 18 Feb (worked) is day 2.
    ("2024-02-08", 2, "2024-02-18"),
    # 2020: the break ran to Sun 2 Feb; Sat 1 Feb no longer worked.
    ("2020-01-23", 1, "2020-02-03"),
    # Audit opinion, 10 working days from Fri 2025-09-26: Sun 28 Sep, 29, 30 Sep (1-3), 1-8 Oct off,
    # 9, 10 Oct, Sat 11 Oct (4-6), 13-16 Oct (7-10).
    ("2025-09-26", 10, "2025-10-16"),
    # Inquiry answer, 15 working days from Mon 2025-01-20: 21-24 Jan, Sun 26 Jan, 27 Jan (1-6),
    # 28 Jan - 4 Feb off, 5-7 Feb, Sat 8 Feb (7-10), 10-14 Feb (11-15).
    ("2025-01-20", 15, "2025-02-14"),
    # Year boundaries.
    ("2024-12-31", 1, "2025-01-02"),   # 1 Jan 2025 off
    ("2025-12-30", 3, "2026-01-05"),   # Wed 31 Dec, Sun 4 Jan (worked), Mon 5 Jan
    ("2022-12-29", 2, "2023-01-03"),   # Fri 30 Dec, then 31 Dec - 2 Jan off
    ("2019-12-31", 1, "2020-01-02"),
    ("2007-12-31", 1, "2008-01-02"),   # the start itself is never looked up
    # The older notices (2008-2019): National Day 2008 with Sat 27 and Sun 28 Sep worked; the 2015 anniversary
    # (3-5 Sep off, Sun 6 Sep worked, a notice of its own); the 2019 New Year break from Sun 30 Dec 2018, Sat
    # 29 Dec worked; 2012's New Year with Sat 31 Dec 2011 worked.
    ("2008-09-26", 1, "2008-09-27"),
    ("2008-09-28", 1, "2008-10-06"),
    ("2015-09-02", 1, "2015-09-06"),
    ("2018-12-28", 2, "2019-01-02"),
    ("2011-12-30", 1, "2011-12-31"),
    ("2026-12-31", 1, "2027-01-04"),   # into a provisional year: Fri 1 Jan 2027 off, then the weekend
    ("2023-10-06", 1, "2023-10-07"),   # start on a holiday
])
def test_add_working_days(start: str, n: int, expected: str) -> None:
    assert add_working_days(D(start), n) == D(expected)


@pytest.mark.parametrize(("start", "end", "count"), [
    ("2023-09-29", "2023-10-11", 5),   # the notice above, counted from the day after posting
    ("2023-09-28", "2023-10-11", 6),   # posting day included
    ("2024-02-01", "2024-02-29", 18),  # 21 weekdays - 5 weekday holidays + 2 worked Sundays
    ("2025-12-29", "2026-01-05", 5),   # across the year end
    ("2023-10-07", "2023-10-07", 1),
    ("2023-10-01", "2023-10-01", 0),
    ("2023-10-11", "2023-09-28", 0),   # end before start
    ("2031-03-01", "2019-03-01", 0),   # end before start: nothing is looked up
])
def test_working_days_between(start: str, end: str, count: int) -> None:
    assert working_days_between(D(start), D(end)) == count


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        add_working_days(D("2024-01-02"), 0)
    with pytest.raises(TypeError, match=r"datetime\.date"):
        is_working_day(datetime(2023, 10, 1, 9, 0))


@given(st.dates(min_value=date(2008, 1, 1), max_value=date(2030, 10, 31)), st.integers(1, 40))
def test_add_working_days_property(start: date, n: int) -> None:
    end = add_working_days(start, n)
    assert end > start
    assert is_working_day(end)
    assert working_days_between(start + timedelta(days=1), end) == n
    assert add_working_days(start, n + 1) == add_working_days(end, 1)


# --- years without data -------------------------------------------------------------------------

@pytest.mark.parametrize(("call", "year"), [
    (lambda: is_working_day(D("2007-12-31")), 2007),
    (lambda: is_working_day(D("2031-01-01")), 2031),
    (lambda: add_working_days(D("2030-12-30"), 5), 2031),
    (lambda: working_days_between(D("2007-12-30"), D("2008-01-03")), 2007),
    (lambda: is_provisional(2031), 2031),
])
def test_calendar_gap(call: Any, year: int) -> None:
    with pytest.raises(CalendarGap) as caught:
        call()
    gap = caught.value
    assert isinstance(gap, LookupError)
    assert gap.year == year
    assert f"no data for {year}" in gap.message_en
    assert workdays.ENV_FILE in gap.message_en
    assert f"国务院办公厅关于{year}年部分节假日安排的通知" in gap.message_zh
    assert f"缺少{year}年" in str(gap)


# --- the operator file (CADRE_CALENDAR_FILE) -----------------------------------------------------

def test_operator_file_extends_and_overrides(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A hypothetical notice for 2027 (break 5-11 Feb, Sat 20 Feb worked) and data for 2031.
    spring = [f"2027-02-{d:02d}" for d in range(5, 12)]
    path = write_calendar(tmp_path, {
        "2027": year_entry(2027, holidays=["2027-01-01", *spring], makeup_workdays=["2027-02-20"]),
        "2031": year_entry(2031, provisional=True),
    })
    assert is_working_day(D("2027-02-09"))  # shipped provisional data before the override
    monkeypatch.setenv(workdays.ENV_FILE, str(path))
    assert is_working_day(D("2027-02-09"))  # cached until cleared
    workdays.clear_cache()
    assert covered_years() == tuple(range(2008, 2032))
    assert not is_provisional(2027)
    assert is_provisional(2031)
    assert not is_working_day(D("2027-02-09"))
    assert is_working_day(D("2027-02-20"))
    assert is_working_day(D("2027-10-01"))  # the year is replaced wholesale: Friday 1 Oct is not in the file
    assert not is_working_day(D("2031-01-01"))
    assert add_working_days(D("2030-12-31"), 1) == D("2031-01-02")
    assert is_working_day(D("2026-10-10"))  # years not in the file keep the shipped data


def test_operator_file_missing_or_invalid(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    missing = tmp_path / "nope.json"
    monkeypatch.setenv(workdays.ENV_FILE, str(missing))
    workdays.clear_cache()
    with pytest.raises(CalendarDataError, match="cannot read the file") as caught:
        is_working_day(D("2024-01-02"))
    assert str(missing) in str(caught.value)

    broken = tmp_path / "broken.json"
    broken.write_text("{", encoding="utf-8")
    monkeypatch.setenv(workdays.ENV_FILE, str(broken))
    workdays.clear_cache()
    with pytest.raises(CalendarDataError, match="not valid JSON"):
        covered_years()

    bad = write_calendar(tmp_path, {"2031": year_entry(2031, makeup_workdays=["2031-01-06"])})
    monkeypatch.setenv(workdays.ENV_FILE, str(bad))
    workdays.clear_cache()
    with pytest.raises(CalendarDataError, match="2031-01-06 is a Monday"):
        covered_years()


# --- validation ---------------------------------------------------------------------------------

def _doc(**changes: Any) -> dict[str, Any]:
    return {"years": {"2027": year_entry(2027, **changes)}}


@pytest.mark.parametrize(("doc", "problem"), [
    (_doc(makeup_workdays=["2027-02-03"]),
     "year 2027: makeup_workdays: 2027-02-03 is a Wednesday, but a make-up working day (调休上班日) must be a "
     "Saturday or Sunday"),
    (_doc(holidays=["2027-01-01", "2027-10-01", "2027-01-01"]), "year 2027: holidays: 2027-01-01 is listed twice"),
    (_doc(holidays=["2027-01-01", "2026-12-31"]),
     "year 2027: holidays: 2026-12-31 is not in 2027 (list it under 2026)"),
    (_doc(makeup_workdays=["2028-01-01"]), "year 2027: makeup_workdays: 2028-01-01 is not in 2027"),
    (_doc(holidays=["2027-1-1"]), "year 2027: holidays: '2027-1-1' is not a date \"YYYY-MM-DD\""),
    (_doc(holidays=["2027-02-30"]), "year 2027: holidays: '2027-02-30' is not a date"),
    (_doc(holidays=["2027-W01-1"]), "'2027-W01-1' is not a date"),
    (_doc(holidays=[20270101]), "20270101 is not a date"),
    (_doc(holidays="2027-01-01"), "year 2027: holidays must be a list"),
    (_doc(holidays=[]), "year 2027: holidays is empty"),
    (_doc(holidays=["2027-01-01", "2027-02-06"], makeup_workdays=["2027-02-06"]),
     "year 2027: 2027-02-06 is listed both as a holiday and as a make-up working day"),
    (_doc(provisional="no"), "year 2027: provisional must be true or false"),
    (_doc(source=""), "year 2027: source must name the notice"),
    (_doc(notes="see notice"), "year 2027: notes must be a list of strings"),
    (_doc(makeup_workday=["2027-02-20"]), "year 2027: unknown key 'makeup_workday'"),
    ({"years": {"2027": {"holidays": ["2027-01-01"]}}}, "year 2027: missing key 'makeup_workdays'"),
    ({"years": {"27": year_entry(2027)}}, "year key '27' is not a four-digit year"),
    ({"years": {"2027": ["2027-01-01"]}}, "year 2027: must be an object"),
    ({"years": [], "about": "x"}, "\"years\" must be an object"),
    ({"year": {}}, "unknown top-level key 'year'"),
    ([], "the top level must be an object"),
])
def test_validation_rejects(doc: Any, problem: str) -> None:
    with pytest.raises(CalendarDataError) as caught:
        validate_calendar(doc, "operator.json")
    assert any(problem in p for p in caught.value.problems), caught.value.problems
    assert str(caught.value).startswith("invalid working-day calendar data (工作日历数据有误) in operator.json")


def test_validation_reports_every_problem_at_once() -> None:
    doc = {"years": {
        "2027": year_entry(2027, makeup_workdays=["2027-02-03"]),
        "2028": year_entry(2028, holidays=["2028-01-01", "2028-01-01"]),
    }}
    with pytest.raises(CalendarDataError) as caught:
        validate_calendar(doc, "operator.json")
    assert len(caught.value.problems) == 2


def test_validation_accepts_the_shipped_format() -> None:
    shipped = json.loads(workdays.SHIPPED_FILE.read_text(encoding="utf-8"))
    years = validate_calendar(copy.deepcopy(shipped), "copy")
    assert sorted(years) == list(range(2008, 2031))
    assert years[2024].makeup_workdays == {D(s) for s in shipped["years"]["2024"]["makeup_workdays"]}


def test_check_command_help_is_help_not_a_file_name() -> None:
    """`python -m shared.workdays --help` explains the command (it read `--help` as a calendar file and failed)."""
    result = subprocess.run([sys.executable, "-m", "shared.workdays", "--help"], capture_output=True, text=True,
                            cwd=Path(__file__).resolve().parents[1], timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Usage: python -m shared.workdays [FILE ...]")
    assert "CADRE_CALENDAR_FILE" in result.stdout and result.stderr == ""


def test_check_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert check_files([]) == 0
    out = capsys.readouterr().out
    assert "2024  official (正式)" in out and "working days 251" in out
    assert "2030  provisional (暂定)" in out
    bad = write_calendar(tmp_path, {"2031": year_entry(2031, holidays=["2031-01-01", "2031-01-01"])})
    assert check_files([str(bad)]) == 1
    assert "2031-01-01 is listed twice" in capsys.readouterr().err
