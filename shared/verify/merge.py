"""Joining range outcomes in position order: chains across ranges, the tree above them, checkpoint roots.

Pure: no I/O. `plan` cuts the ledger into ranges; `Merge.add` takes the outcomes of consecutive ranges
and says whether they still agree with one sound ledger.
"""

from __future__ import annotations

from collections.abc import Sequence

from shared.merkle import EMPTY_ROOT, CompactRange, root_of_subtrees
from shared.verify.ranges import Outcome, Span
from shared.verify.report import Signed


def plan(total: int, level: int, signed: Sequence[Signed]) -> list[Span] | None:
    """Ranges of ``2**level`` leaves covering positions 1..total, each with the checkpoint sizes inside it.

    None when a signed checkpoint cannot match this ledger at all (a size beyond its end, or an empty
    tree with a root other than the empty one): the row-by-row scan words that.
    """
    if any(s.size > total or (s.size == 0 and s.root != EMPTY_ROOT) for s in signed):
        return None
    size = 1 << level
    sizes = sorted({s.size for s in signed if s.size > 0})
    spans = []
    for start in range(0, total, size):
        end = min(start + size, total)
        spans.append(Span(start, end, level, tuple(s for s in sizes if start < s <= end),
                          _completes(start >> level, level) if end - start == size else ()))
    return spans


def _completes(index: int, level: int) -> tuple[tuple[int, int], ...]:
    """The (level, idx) of the nodes above the ranges that whole range `index` completes, lowest first."""
    out = []
    height = 0
    while index >> height & 1:
        height += 1
        out.append((level + height, index >> height))
    return tuple(out)


class Merge:
    """The state carried from range to range: each cadre's chain head and the tree of whole ranges."""

    def __init__(self, level: int, signed: Sequence[Signed]) -> None:
        """Ranges are ``2**level`` leaves; `signed` are the checkpoints whose roots must be met."""
        self.level = level
        self.heads: dict[str, tuple[int, bytes]] = {}
        self.upper = CompactRange()
        self.roots: dict[int, set[bytes]] = {}
        for s in signed:
            self.roots.setdefault(s.size, set()).add(s.root)
        self.size = 0

    def add(self, outcome: Outcome) -> bool:
        """Join the next range; False when anything differs from a sound ledger."""
        span = outcome.span
        if not outcome.clean or span.start != self.size:
            return False
        for cadre, (first, prev, last, leaf) in outcome.chains.items():
            seen, previous = self.heads.get(cadre, (0, None))
            if first != seen + 1 or prev != previous:
                return False
            self.heads[cadre] = (last, leaf)
        below = list(self.upper.frontier)
        for size, prefix in outcome.prefixes.items():
            if self.roots.get(size, set()) != {root_of_subtrees(below + prefix)}:
                return False
        self.size = span.end
        if span.end - span.start < 1 << self.level:
            return not outcome.upper
        (whole,) = outcome.frontier
        built = [(self.level + height, idx, value) for height, idx, value in self.upper.append(whole)[1:]]
        return built == outcome.upper
