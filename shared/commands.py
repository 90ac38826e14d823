"""The command services' write path: decide on the ledger, publish with optimistic concurrency.

1. load the cadre's events from the ledger (read-only), 2. a pure decide turns them and the
command into one new event or a rule violation, 3. publish it expecting the cadre's last stream
sequence; a conflict waits for the ledger to catch up and decides again, then answers 409. A refusal is
checked the same way: when the stream holds an event of the cadre the ledger had not committed, the
command waits for it and is decided again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import date
from typing import Literal

import asyncpg
from nats.aio.client import Client as NATS
from pydantic import BaseModel, ConfigDict, Field

from shared.bus import (
    BusUnavailable,
    PublishRejected,
    WrongLastSequence,
    cadre_last_seq,
    publish_event,
    stream_last_seq,
)
from shared.clock import clock_from, not_in_future
from shared.corrections import Revocation, as_correction, before_target, decide_revocation, effective
from shared.db import DatabaseUnavailable
from shared.decisions import Correcting, Decider, Decision, not_before_work_start, on_record
from shared.envelope import CloudEvent, new_event
from shared.ledger_reader import fate_of, load_cadre, wait_for_seq
from shared.problems import Conflict, Problem, Quarantined, RuleViolation, Unavailable, database_unavailable
from shared.rulesets import NATIONAL, NoRuleSet, RuleSet, current_rulesets, ruleset_for
from shared.settings import Settings

MAX_ATTEMPTS = 4


class CommandWarning(BaseModel):
    """A warning on an accepted command (the command was recorded)."""

    code: str = Field(description="What kind, e.g. `calendar.provisional`.")
    message_en: str
    message_zh: str


class CommandResult(BaseModel):
    """Answer to an accepted command."""

    event_id: str
    type: str
    cadre_id: str
    stream_seq: int
    committed: bool
    position: int | None = None
    ruleset: str
    duplicate: bool = Field(False, description="JetStream already held this event id: nothing new was recorded.")
    warnings: list[CommandWarning] = Field(
        default_factory=list, description="What the clerk must know about the accepted fact, e.g. "
        "`calendar.provisional`: a count of working days on a year whose holidays are not yet official (日历暂定).")


def decided_under(rules: RuleSet, decide: Decider, history: list[CloudEvent]) -> Decision:
    """`decide` on `history` under `rules`; its refusal names that rule set (`ruleset`), as an accepted command's
    answer does, so that a refusal's `basis` can be read with the version it was quoted from."""
    try:
        return decide(history, rules)
    except RuleViolation as exc:
        exc.extra.setdefault("ruleset", rules.id)
        raise


@dataclass
class CommandBus:
    """What a command service needs to record facts."""

    service: str
    settings: Settings
    pool: asyncpg.Pool
    nc: NATS

    async def execute(self, *, cadre_id: str, county: str, rules_on: date, decide: Decider,
                      wait_committed: bool = False, traceparent: str | None = None,
                      registers: bool = False, correction: Correcting | None = None) -> CommandResult:
        """Decide and publish; raise 409 after repeated conflicts, 503 when NATS or PostgreSQL is down.

        Before any service's own rules: 422 unless the cadre is registered (or `registers`: this command
        registers them) and `county` is the county the cadre is on record in (`decisions.on_record`); then
        the rule set in force in `county` on `rules_on` (the command's day), 422 `ruleset.in_force` when none is.
        `decide` sees the cadre's effective history (`shared.corrections.effective`) and that rule set; with
        `correction`, the history before the event it corrects, and its decision is recorded as that event's
        correction."""

        def on_effective(recorded: list[CloudEvent], rules: RuleSet) -> Decision:
            if correction is None:
                return decide(effective(recorded), rules)
            target = before_target(recorded, correction.event_id, self.service)
            return as_correction(target, decide(target.before, rules), correction)

        return await self._record(cadre_id=cadre_id, county=county, rules_on=rules_on, decide=on_effective,
                                  wait_committed=wait_committed, traceparent=traceparent, registers=registers)

    async def revoke(self, command: Revocation, *, wait_committed: bool = False,
                     traceparent: str | None = None) -> CommandResult:
        """Record `<type>.revoked` (撤销) for the command's event, which this service must have recorded, under
        the rule set in force on the day the revocation was decided.

        Decided on the history *as recorded*, not the effective one: a revoked event is still found there
        (422 `correction.revoked`, not `correction.target_unknown`), and so is a correction or revocation
        (422 `correction.target_is_correction`); the same 409 and 503 as `execute`."""
        return await self._record(cadre_id=command.cadre_id, county=command.county, rules_on=command.occurred_on,
                                  decide=lambda recorded, _: decide_revocation(recorded, command, self.service),
                                  wait_committed=wait_committed, traceparent=traceparent)

    async def _record(self, *, cadre_id: str, county: str, rules_on: date, decide: Decider, wait_committed: bool,
                      traceparent: str | None, registers: bool = False) -> CommandResult:
        """The one write loop: load the cadre's history as recorded, `decide` on it, publish expecting its last
        sequence; on a conflict catch up and decide again (at most MAX_ATTEMPTS times).

        Whose record it is comes first (`on_record`), then the rules of the command's day: a recorder naming its
        own county for another county's cadre is refused for the cadre's county (`cadre.county`) whatever the
        day, not for a rule set of a fact about a cadre it may not write."""
        s = self.settings
        served(county, s.counties)
        js = self.nc.jetstream()
        try:
            for _ in range(MAX_ATTEMPTS):
                history = await load_cadre(self.pool, cadre_id, s.pg_acquire_timeout_s)
                try:
                    registration = on_record(history.events, cadre_id, county, registers=registers)
                    rules = rules_in_force(county, rules_on)
                    decision = decided_under(rules, decide, history.events)
                except RuleViolation:
                    if await self._caught_up_with(cadre_id, history.last_subject_seq):
                        continue
                    raise
                not_in_future(decision.occurred_on, clock_from(s).today())
                not_before_work_start(decision, registration)
                event = new_event(event_type=decision.type, cadre_id=cadre_id, county=county, service=self.service,
                                  data=decision.data, occurred_on=decision.occurred_on, ruleset=rules.id,
                                  traceparent=traceparent, event_id=decision.event_id)
                try:
                    published = await publish_event(js, s.stream, event, history.last_subject_seq, s.nats_timeout_s)
                except WrongLastSequence:
                    await self._catch_up()
                    continue
                result = CommandResult(event_id=str(event.id), type=event.type, cadre_id=cadre_id,
                                       stream_seq=published.stream_seq, committed=False, ruleset=rules.id,
                                       duplicate=published.duplicate,
                                       warnings=[CommandWarning(**asdict(w)) for w in decision.warnings])
                if wait_committed and await wait_for_seq(self.pool, s.consumer, published.stream_seq,
                                                         s.commit_wait_s):
                    result.position, why = await fate_of(self.pool, published.stream_seq, s.pg_acquire_timeout_s)
                    if why is not None:
                        raise Quarantined(published.stream_seq, why)
                    result.committed = True
                return result
        except BusUnavailable as exc:
            raise Unavailable(f"NATS unavailable (消息总线不可用): {exc}") from exc
        except DatabaseUnavailable as exc:
            raise database_unavailable(exc) from exc
        except PublishRejected as exc:
            raise Problem(f"event rejected by the stream: {exc}", status_override=500) from exc
        raise Conflict(f"cadre {cadre_id} changed concurrently {MAX_ATTEMPTS} times; reload and retry "
                       "(干部记录被并发修改)", cadre_id=cadre_id)

    async def _caught_up_with(self, cadre_id: str, loaded: int) -> bool:
        """After a refusal: whether the stream held a newer event of the cadre than the history decided on
        (`loaded`, its last stream sequence), which the ledger has now committed, so that deciding again may
        answer otherwise. A refusal is final only on the cadre's whole history, as an acceptance is (the
        publish expects that sequence); a client that records facts without `?wait=committed` meets this.
        503 when the ledger does not commit it within `commit_wait_s`."""
        s = self.settings
        last = await cadre_last_seq(self.nc.jetstream(), s.stream, cadre_id, s.nats_timeout_s)
        if last <= loaded:
            return False
        if not await wait_for_seq(self.pool, s.consumer, last, s.commit_wait_s):
            raise Unavailable(f"the ledger has not yet recorded the latest event of cadre {cadre_id} (stream "
                              f"sequence {last}), which the decision must see (台账尚未写入该干部的最新事件); retry",
                              cadre_id=cadre_id, stream_seq=last)
        return True

    async def _catch_up(self) -> None:
        """After a conflict, wait (bounded) until the ledger holds everything the stream has now."""
        s = self.settings
        target = await stream_last_seq(self.nc.jetstream(), s.stream, s.nats_timeout_s)
        await wait_for_seq(self.pool, s.consumer, target, s.commit_wait_s)


PARTITION_BASIS = ("部署配置: 本部署所辖县 (CADRE_COUNTIES, 分区) / deployment configuration: the counties this "
                   "partition of the ledger records")


def served(county: str, counties: Sequence[str]) -> None:
    """county.not_served: a deployment that is one partition of a larger ledger (`Settings.counties`) records only
    its own counties; another county's facts belong in the partition that holds that county's cadres."""
    if counties and county not in counties:
        raise RuleViolation("county.not_served",
                            f"county {county} is recorded by another partition of the ledger, not by this "
                            f"deployment (its counties: {', '.join(counties)}); send the command to that county's "
                            "services",
                            f"县 {county} 不由本部署记录 (本部署所辖县: {', '.join(counties)}); "
                            "请向该县所在分区的服务提交",
                            basis=PARTITION_BASIS, field="county", county=county, counties=list(counties))


class WaitQuery(BaseModel):
    """`?wait=committed`: answer only once the ledger has committed the event (read-your-writes)."""

    model_config = ConfigDict(extra="forbid")

    wait: Literal["committed"] | None = Field(
        None, description="`committed`: wait (bounded by CADRE_COMMIT_WAIT_S) until the ledger holds the event.")


def rules_in_force(county: str, day: date) -> RuleSet:
    """The rule set for a command; 422 naming the missing rule set, and the first day one is in force, when none is."""
    try:
        return ruleset_for(county, day)
    except NoRuleSet as exc:
        starts = [rs.valid_from for rs in current_rulesets() if rs.county in (county, NATIONAL)]
        first = min(starts).isoformat() if starts else None
        raise RuleViolation(
            "ruleset.in_force",
            f"{exc}: facts are decided under the rules of their day, and the first rule set for this county is in "
            f"force from {first}; a fact dated earlier needs a rule set that covers it (docs/operating-guide.md, "
            "Rule sets)",
            f"县 {county} 在 {day.isoformat()} 没有生效的规则集: 事实按其发生日的规则判断, 本县最早的规则集自 {first} "
            "起生效; 更早的事实须先增加涵盖该日期的规则集版本", first_in_force=first) from exc
