"""What a full-ledger verification reports: findings, counts, and the collector the checks add to."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

Progress = Callable[[int, int], None]
"""Called with (rows verified, rows expected) as the scan advances."""


@dataclass(frozen=True)
class Finding:
    """One problem; `exact` when `position` is the row at fault, not the start of a range holding it."""

    position: int | None
    reason: str
    exact: bool = True


@dataclass
class VerifyReport:
    """The outcome of a full-ledger verification."""

    count: int = 0
    seconds: float = 0.0
    origin: str | None = None
    checkpoints: int = 0
    covered_size: int = 0
    nodes_checked: int = 0
    cosignatures: int = 0  # whose witness signature verified with a given witness key
    witnessed: dict[str, tuple[int, int | None]] = field(default_factory=dict)
    """Each given witness key's name: the largest checkpoint size it verifiably cosigned, and the latest time
    one of its cosignature/v1 signatures states (None: none states a time)."""
    signed_by: list[str] = field(default_factory=list)
    problems: list[Finding] = field(default_factory=list)
    stopped_early: bool = False
    row_by_row: bool = False
    """True when the row-by-row scan ran: something differed (or the findings were full before the rows)."""

    @property
    def ok(self) -> bool:
        """True when nothing is wrong."""
        return not self.problems

    @property
    def events_per_s(self) -> float:
        """Scan speed."""
        return self.count / self.seconds if self.seconds > 0 else 0.0

    @property
    def uncovered(self) -> int:
        """Rows after the largest signed checkpoint: checked, but not yet vouched for by a signature."""
        return max(0, self.count - self.covered_size)

    @property
    def first(self) -> Finding | None:
        """The first bad position: exact findings before ranges, then by position."""
        ranked = sorted(self.problems, key=lambda f: (not f.exact, f.position is None, f.position or 0))
        return ranked[0] if ranked else None

    @property
    def first_bad_position(self) -> int | None:
        """Position of the first finding (None when the ledger verifies)."""
        return self.first.position if self.first else None

    @property
    def reason(self) -> str | None:
        """Reason of the first finding."""
        return self.first.reason if self.first else None


@dataclass(frozen=True)
class Signed:
    """A checkpoint whose note verified: the (size, root) a key holder vouches for."""

    label: str
    size: int
    root: bytes


class Collector:
    """Adds findings to a report until `limit` of them are there."""

    def __init__(self, report: VerifyReport, limit: int) -> None:
        if limit < 1:  # a collector full from the start stops the scan before its first row, and nothing is found
            raise ValueError(f"the number of problems to stop at must be at least 1, not {limit}")
        self.report = report
        self.limit = limit

    def add(self, position: int | None, reason: str, exact: bool = True) -> None:
        """Record one finding."""
        self.report.problems.append(Finding(position, reason, exact))

    @property
    def full(self) -> bool:
        """True once the scan should stop."""
        return len(self.report.problems) >= self.limit
