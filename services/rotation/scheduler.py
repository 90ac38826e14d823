"""The rotation-due scheduler: when a tenure limit is reached, record `rotation.due` exactly once.

Candidates come from the ledger's posting read model (so history loaded after the fact is found on
the next scan); each is then decided on the cadre's own ledger history like any command. Exactly
once, across restarts and racing instances, rests on the ledger and NATS, not on local memory:
- `decide_due` refuses a second `rotation.due` for the same post and rule (`rotation.due_once`);
- publishing expects the cadre's last stream sequence, so two instances deciding on the same
  history cannot both append (the loser re-reads and is refused);
- the event id is deterministic (`domain.due_event_id`) and is the `Nats-Msg-Id`, so a publish that
  raced within the de-duplication window is dropped by JetStream itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from datetime import date

from pydantic import BaseModel, Field

from services.rotation import domain
from services.rotation.commands import RaiseDue
from shared.clock import Clock
from shared.commands import CommandBus
from shared.db import acquire
from shared.logs import LogContext
from shared.problems import Conflict, RuleViolation
from shared.rulesets import RuleSet, all_rulesets, ruleset_or_none
from shared.tenure import RULES, Posting, Stint, TenureState, add_years, due_date, rule_years
from shared.trace import new_traceparent, trace_id

log = logging.getLogger(__name__)
CONCURRENCY = 8


class Emitted(BaseModel):
    cadre_id: str
    post_id: str
    rule: str
    due_on: date
    event_id: str
    position: int | None


class Skipped(BaseModel):
    cadre_id: str
    post_id: str
    rule: str
    reason: str = Field(description="The rule that refused it (e.g. rotation.due_once), `duplicate` (another "
                        "instance published it first) or `conflict`.")


class ScanResult(BaseModel):
    """What one scan did."""

    today: date
    candidates: int
    emitted: list[Emitted]
    skipped: list[Skipped]


@dataclass(frozen=True)
class Candidate:
    """A held post whose rule limit the read model says is reached, to be decided on the ledger."""

    cadre_id: str
    county: str
    post_id: str
    rule: str
    due_on: date
    rules: RuleSet


def shortest_limit() -> int:
    """The shortest tenure limit of any shipped rule set: postings younger than that cannot be due."""
    return min(y for rs in all_rulesets() for rule in RULES if (y := rule_years(rule, rs.rotation)) is not None)


@dataclass
class Scheduler:
    """Scans for reached tenure limits and records them through the command bus."""

    bus: CommandBus
    clock: Clock

    async def candidates(self, today: date, county: str | None = None) -> list[Candidate]:
        """Held posts (of `county`, when given) whose rule limit is reached under today's rules and has no
        `rotation.due` yet."""
        s = self.bus.settings
        async with acquire(self.bus.pool, s.pg_acquire_timeout_s) as conn:
            rows = await conn.fetch(
                """SELECT p.*, ARRAY(SELECT d.rule FROM rm_rotation_due d
                                     WHERE d.cadre_id = p.cadre_id AND d.post_id = p.post_id) AS raised
                   FROM rm_rotation_postings p WHERE least(p.since, p.township_since) <= $1
                     AND ($2::text IS NULL OR p.county = $2)
                   ORDER BY p.cadre_id, p.post_id""", add_years(today, -shortest_limit()), county)
        found = []
        for r in rows:
            rules = ruleset_or_none(r["county"], today)
            if rules is None:
                continue
            posting = Posting(r["post_id"], r["post"], r["unit"], r["township"], r["level"], r["leadership"],
                              r["internal_unit"], r["sensitive"], r["kind"], r["since"])
            stints = {r["township"]: Stint(r["township_since"])} if r["township"] and r["township_since"] else {}
            state = TenureState(posts={posting.post_id: posting}, stints=stints)
            for rule in r["rules"]:
                due = due_date(state, posting.post_id, rule, rules.rotation)
                if due is not None and due.due_on <= today and rule not in r["raised"]:
                    found.append(Candidate(r["cadre_id"], r["county"], posting.post_id, rule, due.due_on, rules))
        return found

    async def scan(self, traceparent: str, county: str | None = None) -> ScanResult:
        """One pass: record every reached, unrecorded limit (of `county`, when given) under one trace, the scan's
        request's or the one the timer started (`run`); cadres in parallel, each cadre's in order."""
        today = self.clock.today()
        found = await self.candidates(today, county)
        by_cadre: dict[str, list[Candidate]] = {}
        for c in found:
            by_cadre.setdefault(c.cadre_id, []).append(c)
        result = ScanResult(today=today, candidates=len(found), emitted=[], skipped=[])
        gate = asyncio.Semaphore(CONCURRENCY)

        async def one_cadre(items: list[Candidate]) -> None:
            async with gate:
                for c in items:
                    await self._raise(c, today, result, traceparent)

        await asyncio.gather(*(one_cadre(items) for items in by_cadre.values()))
        return result

    async def _raise(self, c: Candidate, today: date, result: ScanResult, traceparent: str) -> None:
        cmd = RaiseDue.model_validate({"cadre_id": c.cadre_id, "post_id": c.post_id, "rule": c.rule})
        try:
            done = await self.bus.execute(
                cadre_id=c.cadre_id, county=c.county, rules_on=today, wait_committed=True, traceparent=traceparent,
                decide=lambda history, rules: domain.decide_due(domain.fold(history), cmd, rules, today))
        except RuleViolation as violation:
            result.skipped.append(Skipped(cadre_id=c.cadre_id, post_id=c.post_id, rule=c.rule, reason=violation.rule))
            return
        except Conflict:
            result.skipped.append(Skipped(cadre_id=c.cadre_id, post_id=c.post_id, rule=c.rule, reason="conflict"))
            return
        if done.duplicate:
            result.skipped.append(Skipped(cadre_id=c.cadre_id, post_id=c.post_id, rule=c.rule, reason="duplicate"))
            return
        result.emitted.append(Emitted(cadre_id=c.cadre_id, post_id=c.post_id, rule=c.rule, due_on=c.due_on,
                                      event_id=done.event_id, position=done.position))

    async def run(self, interval_s: float, stop: asyncio.Event) -> None:
        """Scan every `interval_s` seconds until `stop`; a failed scan is logged and retried next time.

        Each scan starts a trace of its own, as a command sent without one gets (`shared.trace`): its dues and its
        log lines share the scan's trace id, and no two scans share one (a trace of the whole process's life would
        join unrelated scans, days apart, and never end)."""
        while not stop.is_set():
            traceparent = new_traceparent()
            with LogContext(trace_id=trace_id(traceparent)):
                try:
                    result = await self.scan(traceparent)
                    if result.emitted:
                        log.info("rotation scan", extra={"emitted": len(result.emitted), "today": str(result.today)})
                except Exception:
                    log.exception("rotation scan failed; retrying after the interval")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), interval_s)
