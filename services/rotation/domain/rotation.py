"""Rotation (交流): a rule falling due, its deferral, the rotation carried out."""

from __future__ import annotations

import uuid
from datetime import date

from services.rotation.commands import CompleteRotation, DeferRotation, RaiseDue
from services.rotation.domain.checks import (
    cadre_level,
    held,
    no_blockers,
    principal_leads,
    rank,
    rotation_allowed,
)
from services.rotation.domain.state import RotationState
from shared.clock import not_in_future
from shared.decisions import Decision
from shared.events.rotation import LEVEL_ZH, RULE_ZH, PostFields, RotationCompleted, RotationDeferred, RotationDue
from shared.events.types import shows_something
from shared.problems import RuleViolation
from shared.rulesets import RuleSet
from shared.tenure import add_months, completed_years, due_date

DUE_NAMESPACE = uuid.UUID("5b0f1e3c-93c4-4b53-9a52-2a6e0c1d4310")


def due_event_id(cadre_id: str, post_id: str, rule: str, since: date) -> uuid.UUID:
    """The deterministic id of a `rotation.due`: every scheduler instance computes the same one, so
    JetStream de-duplicates racing publishes (Nats-Msg-Id). The tenure start is part of it so a later,
    separate tenure in the same post gets its own id."""
    return uuid.uuid5(DUE_NAMESPACE, f"rotation.due/{cadre_id}/{post_id}/{rule}/{since.isoformat()}")


def decide_due(state: RotationState, cmd: RaiseDue, rules: RuleSet, today: date) -> Decision:
    """Record that a rule fell due: once per held post and rule, only once the day has come."""
    held(state, cmd.post_id, today)
    due = due_date(state.tenure, cmd.post_id, cmd.rule, rules.rotation)
    if due is None:
        raise RuleViolation("rotation.rule_not_applicable",
                            f"rule {cmd.rule} does not apply to post {cmd.post_id} under rule set {rules.id}",
                            f"规则 {RULE_ZH[cmd.rule]} 不适用于职位 {cmd.post_id} (规则集 {rules.id})",
                            basis=rules.bases.rotation, rotation_rule=cmd.rule)
    if (cmd.post_id, cmd.rule) in state.tenure.dues:
        raise RuleViolation("rotation.due_once", f"rotation under {cmd.rule} is already due for post {cmd.post_id}",
                            f"职位 {cmd.post_id} 的{RULE_ZH[cmd.rule]}到期已记录", post_id=cmd.post_id)
    if due.due_on > today:
        raise RuleViolation("rotation.not_yet_due", f"{cmd.rule} falls due on {due.due_on.isoformat()}",
                            f"{RULE_ZH[cmd.rule]}于 {due.due_on.isoformat()} 到期, 尚未到期",
                            basis=rules.bases.rotation, due_on=due.due_on.isoformat())
    data = RotationDue(post_id=cmd.post_id, rule=cmd.rule, since=due.since, years=due.years, due_on=due.due_on,
                       overdue_on=due.overdue_on)
    return Decision("rotation.due", data, due.due_on, event_id=due_event_id(cmd.cadre_id, cmd.post_id, cmd.rule,
                                                                            due.since))


def decide_defer(state: RotationState, cmd: DeferRotation, rules: RuleSet, today: date) -> Decision:
    """Defer a due rotation: an approval reference is mandatory; bounded by the rule set."""
    not_in_future(cmd.occurred_on, today)
    if not shows_something(cmd.approval_reference):
        raise RuleViolation("rotation.deferral_approval_required",
                            f"deferring the rotation due under {cmd.rule} needs an approval reference",
                            f"暂缓交流 ({RULE_ZH[cmd.rule]}) 须有批准文号", basis=rules.bases.rotation,
                            rotation_rule=cmd.rule)
    held(state, cmd.post_id, cmd.occurred_on)
    raised = state.tenure.dues.get((cmd.post_id, cmd.rule))
    if raised is None:
        raise RuleViolation("rotation.deferral_needs_due",
                            f"no rotation is due under {cmd.rule} for post {cmd.post_id}; nothing to defer",
                            f"职位 {cmd.post_id} 没有到期应交流记录 ({RULE_ZH[cmd.rule]}), 无需暂缓",
                            rotation_rule=cmd.rule)
    if cmd.occurred_on < raised.due_on:
        # the scan records a due on its due day, possibly later: a deferral dated before that day deferred a
        # rotation that was not yet due, and its `until` could lie before the due day itself
        raise RuleViolation("rotation.deferral_needs_due",
                            f"the rotation under {cmd.rule} for post {cmd.post_id} fell due on "
                            f"{raised.due_on.isoformat()}; a deferral dated {cmd.occurred_on.isoformat()} came "
                            "before it and defers nothing",
                            f"职位 {cmd.post_id} 的{RULE_ZH[cmd.rule]}于 {raised.due_on.isoformat()} 到期, "
                            f"{cmd.occurred_on.isoformat()} 尚未到期, 不能暂缓", rotation_rule=cmd.rule,
                            due_on=raised.due_on.isoformat(), field="occurred_on")
    latest = add_months(cmd.occurred_on, rules.rotation.rotation_deferral_max_months)
    if not cmd.occurred_on < cmd.until <= latest:
        raise RuleViolation("rotation.deferral_until",
                            f"until must be after {cmd.occurred_on.isoformat()} and at most "
                            f"{rules.rotation.rotation_deferral_max_months} months later ({latest.isoformat()})",
                            f"暂缓期限须晚于 {cmd.occurred_on.isoformat()} 且不超过 "
                            f"{rules.rotation.rotation_deferral_max_months} 个月 ({latest.isoformat()})",
                            basis=rules.bases.rotation, latest=latest.isoformat())
    data = RotationDeferred(post_id=cmd.post_id, rule=cmd.rule, until=cmd.until,
                            approval_reference=(cmd.approval_reference or "").strip(), reason=cmd.reason)
    return Decision("rotation.deferred", data, cmd.occurred_on)


def decide_complete(state: RotationState, cmd: CompleteRotation, rules: RuleSet, today: date) -> Decision:
    """Rotate: leave the post and take another in one event; not in probation nor under investigation;
    to another post (another township for township_8y), not a promotion."""
    not_in_future(cmd.occurred_on, today)
    old = held(state, cmd.post_id, cmd.occurred_on)
    rotation_allowed(state, cmd.occurred_on, rules)
    to: PostFields = cmd.to
    principal_leads(to.leadership, to.principal, "to.principal")
    no_blockers(state, cmd.occurred_on, rules, post=to.post, places=(to.township, to.unit), bound_only=True)
    if to.post_id == cmd.post_id or to.post_id in state.tenure.posts:
        raise RuleViolation("rotation.same_post", f"a rotation leads to another post than {to.post_id}",
                            f"交流须到其他职位, 不能是 {to.post_id}", basis=rules.bases.rotation, post_id=to.post_id)
    raised = sorted((d for (post_id, _), d in state.tenure.dues.items() if post_id == cmd.post_id),
                    key=lambda d: d.due_on)
    trigger = cmd.trigger_rule or (raised[0].rule if raised else "by_need")
    if trigger != "by_need" and all(d.rule != trigger for d in raised):
        raise RuleViolation("rotation.trigger_not_due",
                            f"no rotation is due under {trigger} for post {cmd.post_id}: a due rotation is recorded "
                            "by the scan (POST /v1/rotation/scan, or its timer) once the limit is reached; scan "
                            "first, or leave trigger_rule out to record a rotation by need",
                            f"职位 {cmd.post_id} 没有 {RULE_ZH.get(trigger, trigger)} 到期记录: 到期由交流扫描记录 "
                            "(POST /v1/rotation/scan 或定时扫描); 请先扫描, 或不填 trigger_rule 按工作需要交流",
                            basis=rules.bases.rotation, rotation_rule=trigger)
    if trigger == "township_8y" and to.township is not None and to.township == old.township:
        raise RuleViolation("rotation.same_township",
                            f"a rotation after {trigger} leads out of township {old.township}",
                            f"乡镇任职满年限的交流须离开 {old.township}", basis=rules.bases.rotation,
                            township=old.township)
    before = cadre_level(state) or old.level  # as a posting of kind rotation compares (posting.kind_matches_level)
    if rank(to.level) > rank(before):
        raise RuleViolation("rotation.no_promotion",
                            f"a rotation keeps or lowers the rank ({before}); record a promotion as a post "
                            "assignment with its notice", f"交流不能提高职级 ({LEVEL_ZH[before]}); 提拔须经任前公示",
                            basis=rules.bases.appointment, level=to.level, previous_level=before)
    years = completed_years(old.since, cmd.occurred_on)
    data = RotationCompleted(from_post_id=cmd.post_id, from_post=old.post, from_township=old.township, to=to,
                             decision_date=cmd.occurred_on, years_in_old_post=years,
                             days_in_old_post=max((cmd.occurred_on - old.since).days, 0), trigger_rule=trigger)
    return Decision("rotation.completed", data, cmd.occurred_on)
