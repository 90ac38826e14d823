"""Which day it is: injectable, so tests and demos can let years pass (CADRE_TODAY).

Rules that depend on "today" (a rotation falls due, a fact cannot be recorded before it happened)
ask a `Clock` instead of calling `date.today()`, so the same code runs on a fixed day in tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Protocol

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
