"""Premises (前提事实) and holdings (在任): which facts of a cadre's history lack the earlier fact they rest on, and
which take what the cadre still holds. Pure.

The catalogue says what each type rests on (`EventSpec.rests_on`): a post left rests on its posting, an audit's
completion on its start, a sanction on the verified report it follows from. It also says what a cadre holds once at
a time (`HOLDINGS`: a post, from its taking to its leaving). The services refuse a fact without its premise on
record by its day, and a taking of what is held; a correction or a revocation could still bring either about
afterwards, and `shared.corrections` refuses one that would (`unsupported`, `taken_while_held`, before and after).
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from shared.envelope import FoldedEvent
from shared.events.registry import CATALOGUE, HOLDINGS, ID_PATH, Holding, Premise, Source


@dataclass(frozen=True)
class Unsupported:
    """A fact whose premise is not on record by its day: the premise's fields and the values the fact names."""

    event: FoldedEvent
    premise: Premise
    key: tuple[str, ...]

    @property
    def names(self) -> dict[str, str]:
        """What the fact names, field by field: `{"post_id": "P-1"}`."""
        return dict(zip(self.premise.fields, self.key, strict=True))

    @property
    def shown(self) -> str:
        """What the fact names, for a message: `post_id P-1`."""
        return ", ".join(f"{f} {v}" for f, v in self.names.items())

    @property
    def ident(self) -> tuple[Any, ...]:
        """The same lack in another reading of the history (before and after a correction) has the same ident."""
        return (self.event.id, self.premise, self.key)


@dataclass(frozen=True)
class Retaken:
    """A fact that takes what the cadre holds already (a post taken again before it was left)."""

    event: FoldedEvent
    holding: Holding
    source: Source
    key: str

    @property
    def names(self) -> dict[str, str]:
        """What the fact names: `{"post_id": "P-1"}` (`{"to.post_id": ...}` for a rotation's new post)."""
        return {self.source.paths[0]: self.key}

    @property
    def shown(self) -> str:
        """What the fact names, for a message: `post_id P-1`."""
        return f"{self.source.paths[0]} {self.key}"

    @property
    def ident(self) -> tuple[Any, ...]:
        """As `Unsupported.ident`."""
        return (self.event.id, self.holding.name, self.key)


Path = tuple[str, ...]
"""A dotted path, split into its steps; `(ID_PATH,)`: the event's own id."""


def _values(data: dict[str, Any], path: Path) -> list[str]:
    """The values at a path of `data`, as text: none when a field is absent or null, one per item of a list along
    the way."""
    found: list[Any] = [data]
    for step in path:
        found = [item for node in found if isinstance(node, dict) and (value := node.get(step)) is not None
                 for item in (value if isinstance(value, list) else [value])]
    return [str(v) for v in found]


def _keys(event: FoldedEvent, paths: tuple[Path, ...]) -> Iterator[tuple[str, ...]]:
    """Every combination of the values at `paths` of the event; none when a path has none."""
    return itertools.product(*([str(event.id)] if p == (ID_PATH,) else _values(event.data, p) for p in paths))


def _split(paths: tuple[str, ...]) -> tuple[Path, ...]:
    return tuple(tuple(p.split(".")) for p in paths)


def _counts(event: FoldedEvent, source: Source) -> bool:
    """Whether the event holds the values `source` requires of it to provide its premise."""
    return all(str(event.data.get(f)) in values for f, values in source.only_if)


@dataclass(frozen=True)
class _Plan:
    """What `unsupported` reads of one type: the premises its events rest on and those they provide (as which
    source)."""

    rests_on: tuple[tuple[Premise, tuple[Path, ...]], ...]
    provides: tuple[tuple[Premise, Source, tuple[Path, ...]], ...]


@functools.cache
def _plans() -> dict[str, _Plan]:
    """Per type of the catalogue, its `_Plan` (the paths split once)."""
    provides: dict[str, dict[tuple[Premise, Source, tuple[Path, ...]], None]] = {}
    for spec in CATALOGUE.values():
        for premise in spec.rests_on:  # several types may share one premise (an audit's completion): once each
            for source in premise.sources:
                provides.setdefault(source.type, {})[(premise, source, _split(source.paths))] = None
    return {type_: _Plan(tuple((p, _split(p.fields)) for p in spec.rests_on), tuple(provides.get(type_, ())))
            for type_, spec in CATALOGUE.items()}


def unsupported(history: Sequence[FoldedEvent]) -> list[Unsupported]:
    """The facts of `history` (in ledger order, as corrections say it reads) that name a premise no earlier fact
    provides on or before their day."""
    plans = _plans()
    earliest: dict[tuple[Premise, tuple[str, ...]], date] = {}
    out: list[Unsupported] = []
    for event in history:
        plan = plans.get(event.type)
        if plan is None:
            continue
        for premise, fields in plan.rests_on:
            for key in _keys(event, fields):
                since = earliest.get((premise, key))
                if since is None or since > event.occurredon:
                    out.append(Unsupported(event, premise, key))
        for premise, source, paths in plan.provides:
            if not _counts(event, source):
                continue
            for key in _keys(event, paths):
                since = earliest.get((premise, key))
                if since is None or event.occurredon < since:
                    earliest[(premise, key)] = event.occurredon
    return out


Step = tuple[Holding, Source, tuple[Path, ...]]
"""A holding an event leaves or takes, as which source, with the source's path split."""


@functools.cache
def _holding_steps(type_: str) -> tuple[tuple[Step, ...], tuple[Step, ...]]:
    """What an event of `type_` leaves and takes, of the catalogue's holdings."""
    leaves = tuple((h, s, _split(s.paths)) for h in HOLDINGS for s in h.left_by if s.type == type_)
    takes = tuple((h, s, _split(s.paths)) for h in HOLDINGS for s in h.taken_by if s.type == type_)
    return leaves, takes


def taken_while_held(history: Sequence[FoldedEvent]) -> list[Retaken]:
    """The facts of `history` (in ledger order, as corrections say it reads) that take what the cadre holds already,
    taken by an earlier fact and not left since (an event that both leaves and takes leaves first)."""
    held: set[tuple[str, str]] = set()
    out: list[Retaken] = []
    for event in history:
        leaves, takes = _holding_steps(event.type)
        for h, _, paths in leaves:
            for (key,) in _keys(event, paths):
                held.discard((h.name, key))
        for h, source, paths in takes:
            for (key,) in _keys(event, paths):
                if (h.name, key) in held:
                    out.append(Retaken(event, h, source, key))
                held.add((h.name, key))
    return out
