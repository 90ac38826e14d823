"""Premises (前提事实): which facts of a cadre's history lack the earlier fact they rest on. Pure.

The catalogue says what each type rests on (`EventSpec.rests_on`): a post left rests on its posting, an audit's
completion on its start, a sanction on the verified report it follows from. The services refuse a fact without
its premise on record by its day; a correction or a revocation could still take the premise away afterwards,
and `shared.corrections` refuses one that would (`unsupported` before and after it).
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from shared.envelope import FoldedEvent
from shared.events.registry import CATALOGUE, Premise

ID_PATH = "@id"
"""The path of an event's own id in a `Premise` source."""


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


def _values(data: Mapping[str, Any], path: str) -> list[str]:
    """The values at a dotted path of `data`, as text: none when a field is absent or null, one per item of a list
    along the way."""
    found: list[Any] = [data]
    for step in path.split("."):
        found = [item for node in found if isinstance(node, Mapping) and (value := node.get(step)) is not None
                 for item in (value if isinstance(value, list) else [value])]
    return [str(v) for v in found]


def _keys(event: FoldedEvent, paths: tuple[str, ...]) -> Iterator[tuple[str, ...]]:
    """Every combination of the values at `paths` of the event (its id at `ID_PATH`); none when a path has none."""
    return itertools.product(*([str(event.id)] if p == ID_PATH else _values(event.data, p) for p in paths))


@functools.cache
def _provides() -> dict[str, list[tuple[Premise, tuple[str, ...]]]]:
    """Per type, the premises its events provide, with the paths of the values they provide them under."""
    out: dict[str, list[tuple[Premise, tuple[str, ...]]]] = {}
    for spec in CATALOGUE.values():
        for premise in spec.rests_on:
            for type_, paths in premise.sources:
                out.setdefault(type_, []).append((premise, paths))
    return out


def unsupported(history: Sequence[FoldedEvent]) -> list[Unsupported]:
    """The facts of `history` (in ledger order, as corrections say it reads) that name a premise no earlier fact
    provides on or before their day."""
    provides = _provides()
    earliest: dict[tuple[Premise, tuple[str, ...]], date] = {}
    out: list[Unsupported] = []
    for event in history:
        spec = CATALOGUE.get(event.type)
        for premise in spec.rests_on if spec is not None else ():
            for key in _keys(event, premise.fields):
                since = earliest.get((premise, key))
                if since is None or since > event.occurredon:
                    out.append(Unsupported(event, premise, key))
        for premise, paths in provides.get(event.type, ()):
            for key in _keys(event, paths):
                since = earliest.get((premise, key))
                if since is None or event.occurredon < since:
                    earliest[(premise, key)] = event.occurredon
    return out
