"""What the command services' pure domains speak: the fields every command carries, and a decision.

Kept apart from `shared.commands` (the write path, with its NATS and PostgreSQL adapters) so that a
service's `domain` imports no adapter, not even by way of a shared module.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from shared.envelope import CadreId, CloudEvent, CountyCode
from shared.events.registry import EventData


@dataclass(frozen=True)
class Decision:
    """What a pure `decide` returns: the one event a command yields (`event_id`: a deterministic id, else random)."""

    type: str
    data: EventData
    occurred_on: date
    event_id: uuid.UUID | None = None


Decider = Callable[[list[CloudEvent]], Decision]
"""Given the cadre's history, decide (pure; raises RuleViolation)."""


class CadreCommand(BaseModel):
    """Fields every command body carries: whose record, which county, when the fact happened."""

    model_config = ConfigDict(extra="forbid")

    cadre_id: CadreId = Field(description="The cadre's id (干部编号), `[A-Za-z0-9_-]{1,64}`.")
    county: CountyCode = Field(description="6-digit GB/T 2260 county code (县级行政区划代码), e.g. 431021.")
    occurred_on: date = Field(description="The date the fact happened (发生日期), YYYY-MM-DD.")
