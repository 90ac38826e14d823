"""What the command services' pure domains speak: the fields every command carries, and a decision.

Kept apart from `shared.commands` (the write path, with its NATS and PostgreSQL adapters) so that a
service's `domain` imports no adapter, not even by way of a shared module.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from pydantic.fields import FieldInfo

from shared.envelope import CadreId, CloudEvent, CountyCode
from shared.events.registry import CorrectionReason, EventData
from shared.events.types import written_as_day
from shared.problems import RuleViolation
from shared.rulesets import RuleSet


@dataclass(frozen=True)
class DecisionWarning:
    """Something the clerk must know about an accepted command: not a rule broken, but a fact that may change."""

    code: str
    message_en: str
    message_zh: str


@dataclass(frozen=True)
class Decision:
    """What a pure `decide` returns: the one event a command yields (`event_id`: a deterministic id, else random),
    and what the answer must warn of."""

    type: str
    data: EventData
    occurred_on: date
    event_id: uuid.UUID | None = None
    warnings: tuple[DecisionWarning, ...] = ()


def provisional_calendar(years: Sequence[int], what_en: str, what_zh: str) -> tuple[DecisionWarning, ...]:
    """A warning when a count of working days touched `years`, whose calendar has no official notice yet.

    Such a year lists only the statutory holidays (shared/workdays): the State Council's notice may still
    move days off and make-up working days, and with them this count or deadline. The event records the
    same years (`provisional_calendar_years`), so that read models can say so long after the answer.
    """
    if not years:
        return ()
    listed = ", ".join(str(y) for y in years)
    listed_zh = "、".join(str(y) for y in years)
    return (DecisionWarning(
        "calendar.provisional",
        f"the {what_en} was counted on the provisional working-day calendar of {listed} (statutory holidays "
        "only): check it again once the State Council publishes that year's holiday arrangements",
        f"{what_zh}按{listed_zh}年暂定工作日历（仅含法定节假日）计算：国务院办公厅发布该年节假日安排后请复核"),)


Decider = Callable[[list[CloudEvent], RuleSet], Decision]
"""Given the cadre's history and the rule set in force for the command, decide (pure; raises RuleViolation)."""


class Correcting(BaseModel):
    """Which recorded event a command corrects (更正), and why."""

    model_config = ConfigDict(extra="forbid")

    event_id: uuid.UUID = Field(description="The id of the event recorded wrongly (被更正事件的标识), as the "
                                            "command's answer or the cadre's history gave it.")
    reason: CorrectionReason = Field(description="Why (更正理由), e.g. 录入错误: the grade was typed wrongly.")


class CadreCommand(BaseModel):
    """Fields every command body carries: whose record, which county, when the fact happened."""

    model_config = ConfigDict(extra="forbid")

    cadre_id: CadreId = Field(description="The cadre's id (干部编号), `[A-Za-z0-9_-]{1,64}`.")
    county: CountyCode = Field(description="6-digit GB/T 2260 county code (县级行政区划代码), e.g. 431021.")
    occurred_on: date = Field(description="The date the fact happened (发生日期), YYYY-MM-DD.")
    correction: Correcting | None = Field(
        None, description="Set to record this command as the correction (更正) of an event recorded wrongly: the "
        "command is decided again on the cadre's history before that event, and the ledger records "
        "`<type>.corrected` pointing at it (the wrong event stays, marked corrected). Refused with 422 by the "
        "`correction.*` rules (docs/integrator-guide.md, section 6): e.g. `correction.recorded_later` when the "
        "corrected fact is one recorded after that event, `correction.removes_premise` when a later fact rests on "
        "what the correction changes. Absent: a new fact.")

    @field_validator("*", mode="before")
    @classmethod
    def _days_written_as_days(cls, value: Any, info: ValidationInfo) -> Any:
        # Left to itself pydantic also reads a number as a Unix time (0 is 1970-01-01) and a date-time at
        # midnight as its day: a fact the ledger keeps for good is dated only as the clerk wrote a day.
        if is_day(cls.model_fields[str(info.field_name)]) and not written_as_day(value):
            raise ValueError("a day is written YYYY-MM-DD (日期须写作 YYYY-MM-DD)")
        return value


def is_day(field: FieldInfo) -> bool:
    """Whether a model field holds a day (`date`, or `date | None`)."""
    return field.annotation is date or date in get_args(field.annotation)


def not_registered(cadre_id: str) -> RuleViolation:
    """422 `cadre.registered_first`: a fact about a cadre the ledger has no registration of."""
    return RuleViolation("cadre.registered_first", f"cadre {cadre_id} is not registered; register first",
                         f"干部 {cadre_id} 尚未登记 (干部登记), 请先登记", field="cadre_id")


AT_ANY_TIME = frozenset({"cadre.registered", "person.erased"})
"""Facts not held to the cadre's working life: the registration (its command checks its own dates, against the
work start it states) and the erasure of personal data, which may come at any time."""


def work_start_of(registration: CloudEvent) -> date:
    """The day a cadre started work (参加工作时间), as their `cadre.registered` event states it."""
    return date.fromisoformat(str(registration.data["work_start"]))


def not_before_work_start(decision: Decision, registration: CloudEvent | None) -> None:
    """422 `cadre.before_work_start`: a fact about a cadre dated before the day they started work (参加工作时间),
    as their `registration` (what `on_record` found) states it. Every fact the catalogue records of a cadre (a
    posting, a grade, an audit, a talk, a sanction...) falls in their working life, so such a date is a mistyped
    one."""
    if decision.type in AT_ANY_TIME or registration is None:
        return
    work_start = work_start_of(registration)
    if decision.occurred_on < work_start:
        raise RuleViolation(
            "cadre.before_work_start",
            f"occurred_on {decision.occurred_on.isoformat()} is before the cadre started work "
            f"({work_start.isoformat()})",
            f"发生日期 {decision.occurred_on.isoformat()} 早于该干部参加工作时间 ({work_start.isoformat()})",
            field="occurred_on", work_start=work_start.isoformat())


def on_record(events: Sequence[CloudEvent], cadre_id: str, county: str, *,
              registers: bool = False) -> CloudEvent | None:
    """What every command keeps to about whose record it writes, whatever its service: the cadre is registered
    (unless the command registers them), and the command names the county the cadre is on record in. Returns the
    registration (None only for a command that registers).

    The ledger is append-only, so a fact recorded under a mistyped cadre id or county stays in it for good;
    and a token's county scope is checked against the county a command names, so that county must be the
    cadre's own (a recorder of one county cannot write another county's cadres by naming their own county).
    The cadre's county is its registration's (the catalogue has no move between counties), else its first
    event's.
    """
    registration = next((e for e in events if e.type == "cadre.registered"), None)
    if registration is None and not registers:
        raise not_registered(cadre_id)
    home = (registration or events[0]).county if events else county
    if county != home:
        raise RuleViolation("cadre.county", f"cadre {cadre_id} is not on record in county {county}",
                            f"干部 {cadre_id} 不属于县 {county} (所属县不符)", field="county")
    return registration
