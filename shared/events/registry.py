"""The catalogue registry: event type -> data model -> JSON Schema."""

from __future__ import annotations

import builtins
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict

SCHEMA_BASE = "https://cadre-ledger.dev/schemas/events/v1"


class EventData(BaseModel):
    """Base of every event's `data`: strict, immutable, no unknown fields."""

    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass(frozen=True)
class EventSpec:
    """One catalogue entry."""

    type: str
    service: str
    model: builtins.type[EventData]
    label_zh: str
    label_en: str

    @property
    def dataschema(self) -> str:
        """The `dataschema` URI every event of this type carries."""
        return f"{SCHEMA_BASE}/{self.type}.json"

    def json_schema(self) -> dict[str, Any]:
        """The committed JSON Schema (2020-12) of this type's `data`."""
        schema = self.model.model_json_schema()
        return {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": self.dataschema,
            "title": f"{self.type}: {self.label_en} ({self.label_zh})",
            **{k: v for k, v in schema.items() if k != "title"},
        }


CATALOGUE: dict[str, EventSpec] = {}


class UnknownEventType(KeyError):
    """The type is not in the catalogue."""

    def __str__(self) -> str:
        return f"unknown event type {self.args[0]!r} (not in catalogue v1)"


M = TypeVar("M", bound=type[EventData])


def event_type(type_: str, service: str, label_zh: str, label_en: str) -> Callable[[M], M]:
    """Class decorator registering a data model as the catalogue entry for `type_`."""

    def register(model: M) -> M:
        if type_ in CATALOGUE:
            raise ValueError(f"event type {type_} registered twice")
        CATALOGUE[type_] = EventSpec(type_, service, model, label_zh, label_en)
        return model

    return register


def spec_for(type_: str) -> EventSpec:
    """The catalogue entry of `type_`, or UnknownEventType."""
    try:
        return CATALOGUE[type_]
    except KeyError:
        raise UnknownEventType(type_) from None
