"""The catalogue registry: event type -> data model -> JSON Schema."""

from __future__ import annotations

import builtins
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, create_model

from shared.events.types import VISIBLE_PARAGRAPHS

SCHEMA_BASE = "https://cadre-ledger.dev/schemas/events/v1"


class EventData(BaseModel):
    """Base of every event's `data`: strict, immutable, no unknown fields."""

    model_config = ConfigDict(extra="forbid", frozen=True)


ID_PATH = "@id"
"""The path of an event's own id in a premise's `Source` (the events it provides are named by their ids)."""


@dataclass(frozen=True)
class Source:
    """A type whose events provide a premise: the dotted paths of the matching values in its `data`, one per field
    of the premise (`ID_PATH`: the event's own id), and the values a field of it must hold to count (`only_if`: a
    notice closed as clear, a report verified as founded)."""

    type: str
    paths: tuple[str, ...]
    only_if: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def as_json(self) -> dict[str, Any]:
        """How the catalogue's JSON Schemas and AsyncAPI document show it."""
        only_if = {"only_if": {f: list(v) for f, v in self.only_if}} if self.only_if else {}
        return {"type": self.type, "paths": list(self.paths), **only_if}


@dataclass(frozen=True)
class Premise:
    """An earlier fact that an event of a type rests on (前提事实): the service refuses the event unless such a fact is
    on record by its day, so a correction or a revocation may not take it away from under a fact recorded after it
    (`shared.premises`).

    `fields`: where the event names it, as dotted paths into its `data` (a list along the way names one premise per
    item; an absent or null field names none). `sources`: the types that provide it."""

    fields: tuple[str, ...]
    sources: tuple[Source, ...]

    def as_json(self) -> dict[str, Any]:
        """How the catalogue's JSON Schemas and AsyncAPI document show it (`x-rests-on`)."""
        return {"fields": list(self.fields), "sources": [s.as_json() for s in self.sources]}


def _paths(p: str | tuple[str, ...]) -> tuple[str, ...]:
    return (p,) if isinstance(p, str) else p


def source(type_: str, paths: str | tuple[str, ...], **only_if: tuple[str, ...]) -> Source:
    """A `Source` written briefly: `source("notice.closed", "notice_id", outcome=("clear", "minor_issue_reminded"))`."""
    return Source(type_, _paths(paths), tuple(only_if.items()))


def premise(fields: str | tuple[str, ...], *sources: Source | tuple[str, str | tuple[str, ...]]) -> Premise:
    """A `Premise` written briefly: `premise("post_id", ("post.assigned", "post_id"), ("rotation.completed",
    "to.post_id"))`; several fields as a tuple, with a tuple of paths per source; a `Source` where it counts only
    with certain values."""
    return Premise(_paths(fields), tuple(s if isinstance(s, Source) else source(*s) for s in sources))


@dataclass(frozen=True)
class Holding:
    """Something a cadre takes and leaves again, and holds at most once at a time per key (在任: a post): the service
    refuses taking it while it is held, so a correction or a revocation may not make a later taking fall while it is
    held (`shared.premises.taken_while_held`). `taken_by` and `left_by`: the types that take and leave it, with the
    path of the key in each; an event that does both (a rotation) leaves before it takes."""

    name: str
    taken_by: tuple[Source, ...]
    left_by: tuple[Source, ...]

    def as_json(self) -> dict[str, Any]:
        """How the AsyncAPI document shows it (`x-holdings`)."""
        return {"name": self.name, "taken_by": [s.as_json() for s in self.taken_by],
                "left_by": [s.as_json() for s in self.left_by]}


HOLDINGS: list[Holding] = []
"""Every `Holding` the catalogue declares (`holding`)."""


def holding(name: str, *, taken_by: tuple[Source, ...], left_by: tuple[Source, ...]) -> Holding:
    """Declare a `Holding` of the catalogue."""
    declared = Holding(name, taken_by, left_by)
    HOLDINGS.append(declared)
    return declared


@dataclass(frozen=True)
class EventSpec:
    """One catalogue entry."""

    type: str
    service: str
    model: builtins.type[EventData]
    label_zh: str
    label_en: str
    corrects: str | None = None
    """For a correction (`<type>.corrected`) or revocation (`<type>.revoked`): the type of the event it points at."""
    once_per: tuple[tuple[str, ...], ...] = ()
    """The fields that identify the fact: a cadre has at most one event of this type per value of each (the
    services' `*_once` rules, e.g. one annual grade per `year`), so a correction may not give a fact the value of
    one recorded after it (`shared.corrections`)."""
    rests_on: tuple[Premise, ...] = ()
    """The earlier facts an event of this type rests on (`Premise`)."""

    @property
    def dataschema(self) -> str:
        """The `dataschema` URI every event of this type carries."""
        return f"{SCHEMA_BASE}/{self.type}.json"

    def json_schema(self) -> dict[str, Any]:
        """The committed JSON Schema (2020-12) of this type's `data`; `x-rests-on` lists its premises (`Premise`)."""
        schema = self.model.model_json_schema()
        rests_on = {"x-rests-on": [p.as_json() for p in self.rests_on]} if self.rests_on else {}
        return {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": self.dataschema,
            "title": f"{self.type}: {self.label_en} ({self.label_zh})",
            **{k: v for k, v in schema.items() if k != "title"},
            **rests_on,
        }


CATALOGUE: dict[str, EventSpec] = {}


class UnknownEventType(KeyError):
    """The type is not in the catalogue."""

    def __str__(self) -> str:
        return f"unknown event type {self.args[0]!r} (not in catalogue v1)"


M = TypeVar("M", bound=type[EventData])


CORRECTED = ".corrected"
REVOKED = ".revoked"
CorrectionReason = Annotated[str, StringConstraints(min_length=1, max_length=2000, pattern=VISIBLE_PARAGRAPHS)]


def _register(spec: EventSpec) -> None:
    if spec.type in CATALOGUE:
        raise ValueError(f"event type {spec.type} registered twice")
    CATALOGUE[spec.type] = spec


def _corrections(type_: str, service: str, model: builtins.type[EventData], label_zh: str,
                 label_en: str) -> tuple[EventSpec, EventSpec]:
    """The `<type>.corrected` and `<type>.revoked` entries of a correctable type (DOMAIN.md: corrections are new
    events that point at the event they correct; the ledger itself stays append-only)."""
    name = model.__name__
    points_at = Field(description="The id of the event this one corrects (被更正事件的标识); it stays in the ledger.")
    reason = Field(description="Why (更正/撤销理由), e.g. 录入错误: the grade was typed wrongly.")
    corrected: builtins.type[EventData] = create_model(
        f"{name}Corrected", __base__=EventData, __doc__=f"{type_} as it should have been recorded (更正).",
        corrects=(uuid.UUID, points_at), reason=(CorrectionReason, reason),
        fact=(model, Field(description=f"The whole fact as it should have read: the `data` of {type_}, decided again "
                                       "by the service's rules on the history before it (更正后的记录).")))
    revoked: builtins.type[EventData] = create_model(
        f"{name}Revoked", __base__=EventData, __doc__=f"{type_} should never have been recorded (撤销).",
        revokes=(uuid.UUID, Field(description="The id of the event this one revokes (被撤销事件的标识); it stays "
                                              "in the ledger.")), reason=(CorrectionReason, reason))
    return (EventSpec(type_ + CORRECTED, service, corrected, f"{label_zh}（更正）", f"{label_en} (corrected)",
                      corrects=type_),
            EventSpec(type_ + REVOKED, service, revoked, f"{label_zh}（撤销）", f"{label_en} (revoked)",
                      corrects=type_))


def event_type(type_: str, service: str, label_zh: str, label_en: str, *, correctable: bool = True,
               once_per: tuple[tuple[str, ...], ...] = (), rests_on: tuple[Premise, ...] = ()) -> Callable[[M], M]:
    """Class decorator registering a data model as the catalogue entry for `type_` (`once_per`: the fields that
    identify its facts, `EventSpec.once_per`; `rests_on`: the earlier facts it presupposes, `EventSpec.rests_on`),
    and unless not `correctable` its correction and revocation (`<type>.corrected`, `<type>.revoked`)."""

    def register(model: M) -> M:
        _register(EventSpec(type_, service, model, label_zh, label_en, once_per=once_per, rests_on=rests_on))
        if correctable:
            for spec in _corrections(type_, service, model, label_zh, label_en):
                _register(spec)
        return model

    return register


def spec_for(type_: str) -> EventSpec:
    """The catalogue entry of `type_`, or UnknownEventType."""
    try:
        return CATALOGUE[type_]
    except KeyError:
        raise UnknownEventType(type_) from None
