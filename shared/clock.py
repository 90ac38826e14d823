"""Which day it is: injectable, so tests and demos can let years pass (CADRE_TODAY).

Rules that depend on "today" (a rotation falls due, a fact cannot be recorded before it happened)
ask a `Clock` instead of calling `date.today()`, so the same code runs on a fixed day in tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Protocol

from shared.problems import RuleViolation
from shared.settings import Settings


class Clock(Protocol):
    """Something that knows today's date."""

    def today(self) -> date:
        """The current day."""


@dataclass(frozen=True)
class SystemClock:
    """The machine's local date (deployments set TZ=Asia/Shanghai so days turn at Beijing midnight)."""

    def today(self) -> date:
        """`date.today()`."""
        return date.today()


@dataclass(frozen=True)
class FixedClock:
    """Always the same day (CADRE_TODAY): for tests and demonstrations only."""

    day: date

    def today(self) -> date:
        """The fixed day."""
        return self.day


def clock_from(settings: Settings) -> Clock:
    """The fixed clock when CADRE_TODAY is set, else the system clock."""
    return FixedClock(settings.today) if settings.today is not None else SystemClock()


def not_in_future(occurred_on: date, today: date, field: str = "occurred_on", field_zh: str = "发生日期") -> None:
    """`command.not_in_future`: a fact is recorded on or after the day it happened, never before; `field` (in Chinese
    `field_zh`) names another day the command states as past (a receipt, `received_on`)."""
    if occurred_on > today:
        raise RuleViolation("command.not_in_future",
                            f"{field} {occurred_on.isoformat()} is after today ({today.isoformat()}): facts are "
                            "recorded once they happened",
                            f"{field_zh} {occurred_on.isoformat()} 晚于今天 ({today.isoformat()}), "
                            "不能记录尚未发生的事实",
                            field=field)
