"""Corrections (更正) and revocations (撤销): how a cadre's history reads once they are applied. Pure.

The ledger is append-only: an event recorded wrongly stays where it was recorded, and a later
`<type>.corrected` (the fact as it should have read) or `<type>.revoked` (it should never have been
recorded) points at it (DOMAIN.md). Whatever decides or reports on a cadre reads the *effective*
history: each corrected event at its own place with its last correction's fact and date, revoked events
left out, the corrections themselves folded away. The history API still shows every event as recorded.

A correction is made through the command that records its type, decided again on the effective history
before the event it corrects (`before_target`, `as_correction`), so the fact's derived fields and the
rules of its day are those of the command; the facts recorded after it are not decided again, and the answer
warns of them (`correction.later_facts`). What they rest on is kept, though: a correction or revocation that would
leave one of them without its premise, or make one take a post the cadre would still hold (`shared.premises`), is
refused (`correction.removes_premise`, `correction.held_twice`).
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic import Field

from shared.decisions import CadreCommand, Correcting, Decision, DecisionWarning
from shared.envelope import FoldedEvent
from shared.events.registry import CATALOGUE, CORRECTED, REVOKED, CorrectionReason, spec_for
from shared.premises import Retaken, Unsupported, taken_while_held, unsupported
from shared.problems import RuleViolation

E = TypeVar("E", bound=FoldedEvent)

BASIS = "DOMAIN.md: corrections are new events that point at the event they correct (更正、撤销以新事件记录)"


@functools.cache
def correction_types() -> frozenset[str]:
    """Every `<type>.corrected` and `<type>.revoked` of the catalogue."""
    return frozenset(t for t, spec in CATALOGUE.items() if spec.corrects is not None)


def points_at(data: dict[str, Any]) -> uuid.UUID | None:
    """The id a correction's or revocation's `data` names (None when it names none); whether it counts is
    `counted`'s to say."""
    try:
        return uuid.UUID(str(data.get("corrects", data.get("revokes"))))
    except ValueError:
        return None


def counted(events: Sequence[E]) -> list[tuple[E, uuid.UUID]]:
    """The corrections and revocations among `events` that count, each with the id of the event it points at.

    One counts only when it points at an earlier event of the type it is named for: a producer that bypassed
    the services cannot correct what is not there.
    """
    kinds = correction_types()
    seen: dict[uuid.UUID, str] = {}
    out: list[tuple[E, uuid.UUID]] = []
    for e in events:
        if e.type not in kinds:
            seen[e.id] = e.type
        elif (target := points_at(e.data)) is not None and seen.get(target) == CATALOGUE[e.type].corrects:
            out.append((e, target))
    return out


def effective(events: Sequence[E]) -> list[E]:
    """The history as corrections and revocations say it should read, in ledger order.

    Only the corrections that count (`counted`) apply; a revoked event stays out whatever corrects it, and of
    several corrections the last one counts.
    """
    kinds = correction_types()
    if not any(e.type in kinds for e in events):
        return list(events)
    latest: dict[uuid.UUID, E] = {}
    revoked: set[uuid.UUID] = set()
    for e, target in counted(events):
        if e.type.endswith(REVOKED):
            revoked.add(target)
        else:
            latest[target] = e
    out: list[E] = []
    for e in events:
        if e.type in kinds or e.id in revoked:
            continue
        correction = latest.get(e.id)
        out.append(e if correction is None else e.with_fact(correction.data["fact"], correction.occurredon))
    return out


def _violation_at(field: str, rule: str, message_en: str, message_zh: str, **extra: object) -> RuleViolation:
    return RuleViolation(rule, message_en, message_zh, basis=BASIS, field=field, **extra)


def not_correctable(event_type: str, field: str = "correction") -> RuleViolation:
    """422 `correction.not_correctable`: `event_type` (a registration, an erasure, a `rotation.due`) has no
    correction or revocation in the catalogue; what names it is `field`."""
    label = spec_for(event_type).label_zh
    # `event_type`, not `type`: the extra fields join the problem document, whose `type` is the problem's
    return _violation_at(field, "correction.not_correctable", f"{event_type} cannot be corrected or revoked",
                         f"{label}记录不能更正或撤销", event_type=event_type)


def _correctable(events: Sequence[E], event_id: uuid.UUID, service: str, field: str) -> None:
    """422 unless `event_id` is an event of this cadre's history, of a type `service` may correct or revoke."""
    recorded = next((e for e in events if e.id == event_id), None)
    if recorded is None:
        raise _violation_at(field, "correction.target_unknown", f"event {event_id} is not in this cadre's history",
                            f"该干部的记录中没有事件 {event_id}")
    spec = spec_for(recorded.type)
    if spec.corrects is not None:
        raise _violation_at(field, "correction.target_is_correction",
                            f"event {event_id} is itself a {recorded.type}: correct or revoke the event it points at",
                            f"事件 {event_id} 本身是更正或撤销记录, 请更正或撤销原事件")
    if spec.type + CORRECTED not in CATALOGUE:
        raise not_correctable(spec.type, field)
    if spec.service != service:
        raise _violation_at(field, "correction.other_service",
                            f"{spec.type} is recorded by the {spec.service} service: correct or revoke it there",
                            f"{spec.label_zh}由 {spec.service} 服务记录, 请向该服务提交更正或撤销",
                            service=spec.service)


@dataclass(frozen=True)
class Target(Generic[E]):
    """The event a correction names, as it now reads, and the effective history around it."""

    before: list[E]
    """What the correcting command is decided on: the facts the event was recorded after, as corrected."""
    event: E
    later: list[E]
    """The facts recorded after it, which the correction does not decide again."""


def before_target(events: Sequence[E], event_id: uuid.UUID, service: str,
                  field: str = "correction.event_id") -> Target[E]:
    """The event `event_id` of this cadre's history that `service` may correct or revoke, as it now reads,
    between the effective history before and after it; 422 naming why not (`field`: where the command names it)."""
    _correctable(events, event_id, service, field)
    now = effective(events)
    at = next((i for i, e in enumerate(now) if e.id == event_id), None)
    if at is None:
        raise _violation_at(field, "correction.revoked", f"event {event_id} was revoked: record the fact anew instead",
                            f"事件 {event_id} 已撤销, 请重新录入")
    return Target(now[:at], now[at], now[at + 1:])


def later_facts(later: Sequence[FoldedEvent], revoking: bool = False) -> tuple[DecisionWarning, ...]:
    """A warning when facts were recorded after the corrected (or revoked) event: they were decided on it as it
    read then."""
    if not later:
        return ()
    types = sorted({e.type for e in later})
    labels = "、".join(dict.fromkeys(spec_for(t).label_zh for t in types))
    done, done_zh = ("revoked", "撤销") if revoking else ("corrected", "更正")
    return (DecisionWarning(
        "correction.later_facts",
        f"the {done} event has {len(later)} later fact{'s' if len(later) > 1 else ''} on record "
        f"({', '.join(types)}), decided on it as it read then and not decided again: correct or revoke any the "
        f"{'revocation' if revoking else 'correction'} makes wrong",
        f"被{done_zh}事件之后已记录 {len(later)} 项事实（{labels}）, 系按原记录判定, 不随本次{done_zh}重新判定; "
        "如受影响, 请逐项更正或撤销"),)


def as_correction(named: Target[E], decision: Decision, correcting: Correcting) -> Decision:
    """The correcting command's decision recorded as `<type>.corrected`, warning of the facts recorded after the
    event (`later_facts`); 422 when it records another type of fact or the same fact again."""
    target = named.event
    if decision.type != target.type:
        raise _violation_at("correction.event_id", "correction.other_type",
                            f"this command records {decision.type}, but event {target.id} is a {target.type}: "
                            "correct it through the command that records its type",
                            f"此命令记录的是 {decision.type}, 而事件 {target.id} 是 {target.type}: "
                            "请通过记录该类事件的命令更正")
    fact = decision.data.model_dump(mode="json", exclude_none=True)
    if fact == target.data and decision.occurred_on == target.occurredon:
        raise _violation_at("correction", "correction.no_change",
                            f"event {target.id} already reads so: nothing to correct",
                            f"事件 {target.id} 的记录与更正内容相同, 无需更正")
    _not_recorded_later(named, fact)
    _keeps_later_facts(named, [target.with_fact(fact, decision.occurred_on)], "correction.event_id")
    model = spec_for(target.type + CORRECTED).model
    return Decision(target.type + CORRECTED,
                    model.model_validate({"corrects": target.id, "reason": correcting.reason, "fact": decision.data}),
                    decision.occurred_on, warnings=(*decision.warnings, *later_facts(named.later)))


def _not_recorded_later(named: Target[E], fact: dict[str, Any]) -> None:
    """422 when the corrected fact takes the identity (`EventSpec.once_per`) of a fact recorded after the event:
    the correcting command was decided on the history before the event, where its service's `*_once` rule does
    not see that one, and the history would then hold the fact twice (two grades of one year, say)."""
    target = named.event
    for fields in spec_for(target.type).once_per:
        key = {f: fact.get(f) for f in fields}
        if key == {f: target.data.get(f) for f in fields}:
            continue
        clash = next((e for e in named.later if e.type == target.type
                      and all(e.data.get(f) == v for f, v in key.items())), None)
        if clash is not None:
            shown = ", ".join(f"{f} {v}" for f, v in key.items())
            raise _violation_at("correction", "correction.recorded_later",
                                f"{shown} is already recorded by event {clash.id}, after event {target.id}: correct "
                                "or revoke that one instead",
                                f"{shown} 已由其后的事件 {clash.id} 记录, 不能重复记录; 请更正或撤销该事件",
                                event_id=str(clash.id), key=key)


F = TypeVar("F", Unsupported, Retaken)


def _made_by(find: Callable[[list[E]], list[F]], named: Target[E], replaced_by: list[E]) -> list[F]:
    """What `find` sees wrong with the facts recorded after the event once it reads as `replaced_by` (as corrected,
    or nothing when revoked) that it did not see before: one per fact."""
    had = {flaw.ident for flaw in find([*named.before, named.event, *named.later])}
    later = {e.id for e in named.later}
    return list({flaw.event.id: flaw for flaw in find([*named.before, *replaced_by, *named.later])
                 if flaw.event.id in later and flaw.ident not in had}.values())


def _keeps_later_facts(named: Target[E], replaced_by: list[E], field: str) -> None:
    """422 when the event read as `replaced_by` (as corrected, or nothing when revoked) would leave a fact recorded
    after it without the premise it rests on (`correction.removes_premise`), or make one take a post the cadre still
    holds (`correction.held_twice`), which it did not before (`shared.premises`); each such fact is named, to be
    revoked or corrected first (`field`: where the command names the event)."""
    target = named.event
    done, done_zh = ("revoking", "撤销") if not replaced_by else ("correcting", "更正")
    lost = _made_by(unsupported, named, replaced_by)
    twice = _made_by(taken_while_held, named, replaced_by)
    if lost:
        rule, what, what_zh = ("correction.removes_premise", "without the fact they rest on", "失去所依据的记录")
    elif twice:
        rule, what, what_zh = ("correction.held_twice", "taking what the cadre would still hold",
                               "在该干部仍担任该职时再次任职")
    else:
        return
    facts: list[Unsupported] | list[Retaken] = lost or twice
    shown = "; ".join(f"{u.event.type} {u.event.id} ({u.shown})" for u in facts)
    shown_zh = "; ".join(f"{spec_for(u.event.type).label_zh} {u.event.id}（{u.shown}）" for u in facts)
    raise _violation_at(
        field, rule,
        f"{done} event {target.id} would leave later facts ({len(facts)}) {what}: {shown}. "
        "Revoke or correct these first, each at the service that records it",
        f"{done_zh}事件 {target.id} 将使其后 {len(facts)} 项事实{what_zh}: {shown_zh}。请先撤销或更正这些事实"
        "（各向记录该类事件的服务提交）",
        later_events=[{"event_id": str(u.event.id), "type": u.event.type, "service": spec_for(u.event.type).service,
                       "names": u.names} for u in facts])


class Revocation(CadreCommand):
    """Revoke (撤销) an event recorded wrongly: it should never have been recorded. `occurred_on`: the day the
    revocation was decided."""

    event_id: uuid.UUID = Field(description="The id of the event to revoke (被撤销事件的标识).")
    reason: CorrectionReason = Field(description="Why (撤销理由), e.g. 重复录入: recorded twice.")
    correction: Correcting | None = Field(
        None, description="Leave out: a revocation is not itself corrected (422 `correction.revocation`); to undo "
        "a revocation, record the fact anew (撤销记录不能更正, 请重新录入).")


def decide_revocation(events: Sequence[FoldedEvent], command: Revocation, service: str) -> Decision:
    """`<type>.revoked` for the command's event, warning of the facts recorded after it (`later_facts`); 422 when
    this service may not revoke it, it is revoked already, or the revocation is dated before the event."""
    if command.correction is not None:
        raise _violation_at("correction", "correction.revocation", "a revocation is not corrected: revoke or "
                            "correct the original event", "撤销记录不能更正, 请直接撤销或更正原事件")
    named = before_target(events, command.event_id, service, field="event_id")
    target = named.event
    if command.occurred_on < target.occurredon:
        raise _violation_at("occurred_on", "correction.revocation_before_event",
                            f"a revocation is decided on or after the day of the event it revokes "
                            f"({target.occurredon})",
                            f"撤销决定日期不能早于被撤销事件的发生日期（{target.occurredon}）",
                            event_occurred_on=target.occurredon.isoformat())
    _keeps_later_facts(named, [], "event_id")
    model = spec_for(target.type + REVOKED).model
    data = model.model_validate({"revokes": target.id, "reason": command.reason})
    return Decision(target.type + REVOKED, data, command.occurred_on, warnings=later_facts(named.later, revoking=True))
