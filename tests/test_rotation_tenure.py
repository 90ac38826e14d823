"""Tenure arithmetic, due status and personal-data commitments (pure functions)."""

from __future__ import annotations

from datetime import date

import pytest

from shared.personal import (
    commit_value,
    mask_resident_id,
    new_salt,
    resident_id_birth_month,
    resident_id_problem,
    resident_id_sex,
    verify_commitment,
)
from shared.rulesets import ruleset_by_id, ruleset_for
from shared.tenure import Due, add_months, add_years, completed_years, due_status

D = date.fromisoformat


@pytest.mark.parametrize(("start", "years", "expected"), [
    ("2016-03-01", 8, "2024-03-01"),
    ("2016-02-29", 8, "2024-02-29"),   # leap to leap: the same day
    ("2016-02-29", 9, "2025-02-28"),   # leap to common: 28 February
    ("2016-02-29", 10, "2026-02-28"),
    ("2015-02-28", 1, "2016-02-28"),
    ("2024-12-31", 8, "2032-12-31"),
])
def test_add_years(start: str, years: int, expected: str) -> None:
    assert add_years(D(start), years) == D(expected)


@pytest.mark.parametrize(("start", "months", "expected"), [
    ("2020-03-01", 12, "2021-03-01"),
    ("2020-01-31", 1, "2020-02-29"),
    ("2021-01-31", 1, "2021-02-28"),
    ("2020-08-31", 6, "2021-02-28"),
    ("2020-11-15", 3, "2021-02-15"),
    ("2024-03-01", -1, "2024-02-01"),
])
def test_add_months(start: str, months: int, expected: str) -> None:
    assert add_months(D(start), months) == D(expected)


@pytest.mark.parametrize(("since", "on", "years"), [
    ("2016-03-01", "2024-02-29", 7),   # the day before 8 years
    ("2016-03-01", "2024-03-01", 8),   # the day 8 years complete
    ("2016-02-29", "2024-02-28", 7),
    ("2016-02-29", "2024-02-29", 8),
    ("2016-02-29", "2025-02-27", 8),
    ("2016-02-29", "2025-02-28", 9),   # common year: 28 February completes the year
    ("2016-03-01", "2016-03-01", 0),
    ("2016-03-01", "2015-01-01", 0),   # before the start: no tenure
])
def test_completed_years(since: str, on: str, years: int) -> None:
    assert completed_years(D(since), D(on)) == years


def _due(deferred_until: str | None = None) -> Due:
    return Due("P1", "township_8y", D("2016-03-01"), 8, D("2024-03-01"), D("2024-09-01"),
               D(deferred_until) if deferred_until else None)


@pytest.mark.parametrize(("deferred_until", "on", "status"), [
    (None, "2024-03-01", "due"),
    (None, "2024-08-31", "due"),
    (None, "2024-09-01", "overdue"),
    ("2024-12-31", "2024-12-31", "deferred"),
    ("2024-12-31", "2025-01-01", "overdue"),
])
def test_due_status(deferred_until: str | None, on: str, status: str) -> None:
    assert due_status(_due(deferred_until), D(on)) == status


def test_rule_sets_scope_the_township_rule() -> None:
    assert ruleset_for("431021", D("2020-01-01")).rotation.township_years == 8
    national = ruleset_by_id("000000@2019.1").rotation
    assert national.township_years is None and national.leader_same_post_years == 10
    assert ruleset_for("110101", D("2020-01-01")).id == "000000@2019.3"  # 000000@2019.1 as corrected (2019.2, 2019.3)


# ---- personal data ------------------------------------------------------------------------------

ID = "43102119850315006X"  # a valid check character (X), born March 1985, female (2nd-last digit even)


def test_commitments_verify_only_with_their_salt() -> None:
    salt = new_salt()
    commitment = commit_value(salt, "张三")
    assert len(commitment) == 64 and commitment == commit_value(salt, "张三")
    assert verify_commitment(salt, "张三", commitment)
    assert not verify_commitment(salt, "张四", commitment)
    assert not verify_commitment(new_salt(), "张三", commitment)
    assert commit_value(new_salt(), "张三") != commitment
    with pytest.raises(ValueError, match="32 bytes"):
        commit_value(b"short", "张三")


def test_commitments_normalise_unicode() -> None:
    salt = new_salt()
    assert commit_value(salt, "e\u0301") == commit_value(salt, "\u00e9")


def test_resident_id_checks() -> None:
    assert resident_id_problem(ID) is None
    assert resident_id_birth_month(ID) == "1985-03" and resident_id_sex(ID) == "female"
    assert "check digit" in (resident_id_problem(ID[:-1] + "1") or "")
    assert "birth date" in (resident_id_problem("431021198502300011") or "")
    assert "17 digits" in (resident_id_problem("4310211985") or "")
    assert mask_resident_id(ID) == "4310**********006X"
