"""Rotation domain (任用与交流): state, evolve, decide. Pure: no I/O, thresholds from the rule set.

Rules (ids as in the 422 answers):
- `command.not_in_future`: a fact is recorded on or after the day it happened.
- `cadre.register_once`, `cadre.registered_first`.
- `posting.already_held`, `posting.not_held`, `posting.kind_matches_level` (a promotion raises the rank, a
  demotion lowers it, a lateral posting or a rotation does not raise it).
- For a promotion, and an election that raises the rank: `promotion.notice_cleared` (DOMAIN rule 1), the
  `appointment.*` blockers (rule 3, shared), `assessment.promotion_blocked` (rule 6, shared: a 基本称职 grade),
  `promotion.not_during_probation` (rule 4).
- `probation.none`, `probation.before_end`, `probation.early_end_reason` (rule 4).
- `rotation.rule_not_applicable`, `rotation.not_yet_due`, `rotation.due_once` (rule 5, the scheduler).
- `rotation.deferral_approval_required`, `rotation.deferral_needs_due`, `rotation.deferral_until`.
- `rotation.not_during_probation`, `rotation.under_investigation`, `rotation.trigger_not_due`,
  `rotation.same_post`, `rotation.same_township`, `rotation.no_promotion` (rule 5).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date

from services.rotation.commands import (
    AssignPost,
    CompleteRotation,
    ConcludeProbation,
    DeferRotation,
    Erasure,
    RaiseDue,
    RegisterCadre,
    VacatePost,
)
from shared.appointment_blockers import FACT_TYPES, appointment_blockers
from shared.clock import not_in_future
from shared.decisions import Decision, not_registered
from shared.envelope import CloudEvent
from shared.events.rotation import (
    LEVEL_ORDER,
    LEVEL_ZH,
    RULE_ZH,
    CadreRegistered,
    PersonErased,
    PostAssigned,
    PostFields,
    PostVacated,
    ProbationConcluded,
    RotationCompleted,
    RotationDeferred,
    RotationDue,
)
from shared.problems import RuleViolation
from shared.rulesets import RuleSet
from shared.tenure import Posting, TenureState, add_months, completed_years, due_date, evolve_tenure

CLEARED = frozenset({"clear", "minor_issue_reminded"})
PROMOTIONS = frozenset({"promotion", "out_of_sequence"})
NOT_RAISING = frozenset({"lateral", "rotation"})
KIND_ZH = {"promotion": "提拔", "lateral": "平级转任", "demotion": "降职", "rotation": "交流", "election": "选举",
           "out_of_sequence": "破格提拔"}
DUE_NAMESPACE = uuid.UUID("5b0f1e3c-93c4-4b53-9a52-2a6e0c1d4310")
BASIS_APPOINTMENT = "党政领导干部选拔任用工作条例 (2019) 第五十二条 (任前公示), 第五十四条 (试用期)"
BASIS_ROTATION = "党政领导干部交流工作规定 (2006); 桂阳县乡镇干部交流暂行办法 (2003, S4)"

# ---- state ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Notice:
    """A pre-appointment notice (任前公示) closed as clear, from the assessment service's events."""

    notice_id: str
    closed_on: date


@dataclass(frozen=True)
class RotationState:
    """One cadre as the rotation rules see it."""

    registered: bool = False
    erased: bool = False
    tenure: TenureState = field(default_factory=TenureState)
    cleared_notices: Mapping[str, Notice] = field(default_factory=dict)
    used_notices: frozenset[str] = frozenset()
    appointment_facts: tuple[CloudEvent, ...] = ()
    """Events that may block an appointment (reports, deferrals, notices and their cancellations, sanctions, annual
    grades), for `appointment_blockers` (its FACT_TYPES)."""


def evolve(state: RotationState, event: CloudEvent) -> RotationState:
    """Fold one ledger event into the state (events of no interest leave it unchanged)."""
    data = event.data
    if event.type == "cadre.registered":
        return replace(state, registered=True)
    if event.type == "person.erased":
        return replace(state, erased=True)
    if event.type == "notice.closed" and data.get("outcome") in CLEARED:
        notice = Notice(str(data["notice_id"]), event.occurredon)
        return replace(state, cleared_notices={**state.cleared_notices, notice.notice_id: notice})
    if event.type in FACT_TYPES:
        return replace(state, appointment_facts=(*state.appointment_facts, event))
    tenure = evolve_tenure(state.tenure, event.type, event.occurredon, data)
    if event.type == "post.assigned" and data.get("notice_id"):
        return replace(state, tenure=tenure, used_notices=state.used_notices | {str(data["notice_id"])})
    return replace(state, tenure=tenure) if tenure is not state.tenure else state


def fold(events: Iterable[CloudEvent]) -> RotationState:
    """The state after all `events`, in ledger order."""
    state = RotationState()
    for event in events:
        state = evolve(state, event)
    return state


# ---- checks shared by several commands -------------------------------------------------------


def _registered(state: RotationState, cadre_id: str) -> None:
    if not state.registered:
        raise not_registered(cadre_id)


def _held(state: RotationState, post_id: str, on: date) -> Posting:
    """The posting of a post the cadre holds, taken on or before `on` (posting.not_held otherwise)."""
    posting = state.tenure.posts.get(post_id)
    if posting is None:
        raise RuleViolation("posting.not_held", f"the cadre does not hold post {post_id}",
                            f"该干部未担任职位 {post_id} (未任该职)", post_id=post_id)
    if on < posting.since:
        raise RuleViolation("posting.not_held", f"post {post_id} was taken on {posting.since.isoformat()}, after "
                            f"{on.isoformat()}: a step of the posting is not dated before it",
                            f"职位 {post_id} 任职于 {posting.since.isoformat()}, 该职位的后续事项日期不能早于任职日期",
                            post_id=post_id, since=posting.since.isoformat())
    return posting


def _no_probation(state: RotationState, rule: str, what_en: str, what_zh: str) -> None:
    for posting in state.tenure.posts.values():
        if posting.in_probation:
            end = posting.probation_end.isoformat() if posting.probation_end else "?"
            raise RuleViolation(rule, f"no {what_en} during probation: post {posting.post_id} is on probation "
                                f"until {end} and not concluded", f"试用期内不得{what_zh}: 职位 {posting.post_id} "
                                f"试用期至 {end}, 尚未考核转正", basis=BASIS_APPOINTMENT, post_id=posting.post_id)


def _rank(level: str) -> int:
    return LEVEL_ORDER.index(level)


# ---- decide ---------------------------------------------------------------------------------


def decide_register(state: RotationState, cmd: RegisterCadre, today: date) -> Decision:
    """A cadre is registered once; the person enters the ledger only as commitments."""
    not_in_future(cmd.occurred_on, today)
    if state.registered:
        raise RuleViolation("cadre.register_once", f"cadre {cmd.cadre_id} is already registered",
                            f"干部 {cmd.cadre_id} 已经登记, 不能重复登记")
    data = CadreRegistered(name_commitment=cmd.name_commitment, id_number_commitment=cmd.id_number_commitment,
                           sex=cmd.sex, birth_month=cmd.birth_month, work_start=cmd.work_start, unit=cmd.unit)
    return Decision("cadre.registered", data, cmd.occurred_on)


def decide_erase(state: RotationState, cmd: Erasure, today: date) -> Decision:
    """A registered cadre's clear personal data is erased once, with a reason and a reference."""
    not_in_future(cmd.occurred_on, today)
    _registered(state, cmd.cadre_id)
    if state.erased:
        raise RuleViolation("person.erase_once", f"the personal data of cadre {cmd.cadre_id} is already erased",
                            f"干部 {cmd.cadre_id} 的个人信息已经删除")
    return Decision("person.erased", PersonErased(reason=cmd.reason, reference=cmd.reference), cmd.occurred_on)


def _check_notice(state: RotationState, notice_id: str, on: date, rule: str) -> None:
    """`rule` unless the notice a posting names closed as clear or minor_issue_reminded by its day `on` and was not
    used for another appointment."""
    notice = state.cleared_notices.get(notice_id)
    if notice is None or notice.closed_on > on or notice_id in state.used_notices:
        why = ("was already used for another appointment" if notice_id in state.used_notices else
               "is not closed as clear or minor_issue_reminded before the decision")
        raise RuleViolation(rule, f"notice {notice_id} {why}",
                            f"任前公示 {notice_id} 未在任职决定前以无问题或提醒结束, 或已用于其他任职",
                            basis=BASIS_APPOINTMENT, notice_id=notice_id)


def _check_promotion(state: RotationState, cmd: AssignPost) -> None:
    _no_probation(state, "promotion.not_during_probation", "promotion", "提拔")
    if cmd.notice_id is not None:
        _check_notice(state, cmd.notice_id, cmd.occurred_on, "promotion.notice_cleared")
    elif cmd.exemption_reason is None:
        raise RuleViolation("promotion.notice_cleared",
                            "a promotion needs a pre-appointment notice closed as clear (notice_id) or a recorded "
                            "exemption reason", "提拔任职须经任前公示且无问题 (notice_id), 或记录免于公示的理由",
                            basis=BASIS_APPOINTMENT)
    blockers = appointment_blockers(state.appointment_facts, cmd.occurred_on, notice_id=cmd.notice_id, post=cmd.post,
                                    promotion=True)
    if blockers:
        first = blockers[0]
        first.extra["blockers"] = [b.rule for b in blockers]
        raise first


def cadre_level(state: RotationState) -> str | None:
    """The cadre's rank before a new posting: the highest of the posts held, else the last post's (None: none yet)."""
    held = [p.level for p in state.tenure.posts.values()]
    return max(held, key=_rank) if held else state.tenure.last_level


def _check_kind(kind: str, before: str | None, level: str) -> None:
    """posting.kind_matches_level: a promotion raises the rank, a demotion lowers it, a lateral posting or a
    rotation does not raise it (a rise under their name would escape the promotion rules)."""
    if before is None:
        return
    rise = _rank(level) - _rank(before)
    if kind in PROMOTIONS and rise <= 0:
        en, zh = "a promotion must raise it", "提拔须提高职级"
    elif kind == "demotion" and rise >= 0:
        en, zh = "a demotion must lower it", "降职须降低职级"
    elif kind in NOT_RAISING and rise > 0:
        en = f"a {kind} posting cannot raise it: record a promotion (with its notice)"
        zh = f"{KIND_ZH[kind]}不能提高职级, 提高职级须按提拔任职 (经任前公示)"
    else:
        return
    raise RuleViolation("posting.kind_matches_level",
                        f"a {kind} from {before} to {level} does not match the change of rank: {en}",
                        f"{zh}: 由{LEVEL_ZH[before]}到{LEVEL_ZH[level]}与任职方式 ({KIND_ZH[kind]}) 不符",
                        basis=BASIS_APPOINTMENT, level=level, previous_level=before, kind=kind)


def _principal_leads(leadership: bool, principal: bool | None, field: str) -> None:
    """posting.principal_needs_leadership: a principal's post (正职) is a leadership post."""
    if principal and not leadership:
        raise RuleViolation("posting.principal_needs_leadership",
                            "a principal's post (principal: true) is a leadership post (leadership: true)",
                            "正职须为领导职务 (principal 为 true 时 leadership 须为 true)", field=field)


def is_promotion(kind: str, before: str | None, level: str) -> bool:
    """Held to the promotion rules (notice, blockers, no running probation): a promotion, or an election that raises
    the rank (选举产生的职务 raising the rank is a 提拔 all the same, though it starts no probation)."""
    return kind in PROMOTIONS or (kind == "election" and before is not None and _rank(level) > _rank(before))


def decide_assign(state: RotationState, cmd: AssignPost, rules: RuleSet, today: date) -> Decision:
    """Take a post: registered cadre, a post not already held, rank consistent with the kind of posting;
    a promotion (or an election that raises the rank) needs a cleared notice (or an exemption), no appointment
    blocker and no running probation; a promotion to a leadership post, not an election, starts a probation."""
    not_in_future(cmd.occurred_on, today)
    _registered(state, cmd.cadre_id)
    if cmd.post_id in state.tenure.posts:
        raise RuleViolation("posting.already_held", f"the cadre already holds post {cmd.post_id}",
                            f"该干部已担任职位 {cmd.post_id}", post_id=cmd.post_id)
    _principal_leads(cmd.leadership, cmd.principal, "principal")
    before = cadre_level(state)
    _check_kind(cmd.kind, before, cmd.level)
    promotion = is_promotion(cmd.kind, before, cmd.level)
    if promotion:
        _check_promotion(state, cmd)
    elif cmd.notice_id is not None:  # a posting that needs no notice may still name one: it is the real one
        _check_notice(state, cmd.notice_id, cmd.occurred_on, "posting.notice_cleared")
    if cmd.kind == "rotation":
        _rotation_allowed(state, cmd.occurred_on)
    # 试用期 is for promotions to leadership posts that are not elected (提拔担任非选举产生的领导职务): an elected
    # post's term comes from the vote, not from a trial (选拔任用工作条例 2019)
    probation_end = (add_months(cmd.occurred_on, rules.rotation.probation_months)
                     if promotion and cmd.leadership and cmd.kind != "election" else None)
    data = PostAssigned(post_id=cmd.post_id, post=cmd.post, unit=cmd.unit, township=cmd.township, level=cmd.level,
                        leadership=cmd.leadership, internal_unit=cmd.internal_unit, sensitive=cmd.sensitive,
                        principal=cmd.principal, kind=cmd.kind, decision_date=cmd.occurred_on,
                        probation_end=probation_end, notice_id=cmd.notice_id, exemption_reason=cmd.exemption_reason)
    return Decision("post.assigned", data, cmd.occurred_on)


def decide_vacate(state: RotationState, cmd: VacatePost, today: date) -> Decision:
    """Leave a held post, not before taking it."""
    not_in_future(cmd.occurred_on, today)
    _held(state, cmd.post_id, cmd.occurred_on)
    return Decision("post.vacated", PostVacated(post_id=cmd.post_id, reason=cmd.reason), cmd.occurred_on)


def decide_conclude_probation(state: RotationState, cmd: ConcludeProbation, today: date) -> Decision:
    """Conclude a running probation: on or after its end, unless ended early (with a reason)."""
    not_in_future(cmd.occurred_on, today)
    posting = _held(state, cmd.post_id, cmd.occurred_on)
    if not posting.in_probation or posting.probation_end is None:
        raise RuleViolation("probation.none", f"post {cmd.post_id} has no running probation",
                            f"职位 {cmd.post_id} 没有进行中的试用期", post_id=cmd.post_id)
    end = posting.probation_end
    if cmd.outcome == "ended_early":
        if not (cmd.reason or "").strip():
            raise RuleViolation("probation.early_end_reason", "ending a probation early needs a reason",
                                "提前结束试用期须说明理由", basis=BASIS_APPOINTMENT)
    elif cmd.occurred_on < end:
        raise RuleViolation("probation.before_end",
                            f"the probation of post {cmd.post_id} ends on {end.isoformat()}; it can be concluded "
                            f"({cmd.outcome}) only from that day, unless ended early",
                            f"职位 {cmd.post_id} 试用期至 {end.isoformat()} 届满, 届满前不能作出试用期满结论"
                            "(提前结束除外)", basis=BASIS_APPOINTMENT, probation_end=end.isoformat())
    data = ProbationConcluded(post_id=cmd.post_id, outcome=cmd.outcome, reason=cmd.reason)
    return Decision("probation.concluded", data, cmd.occurred_on)


def due_event_id(cadre_id: str, post_id: str, rule: str, since: date) -> uuid.UUID:
    """The deterministic id of a `rotation.due`: every scheduler instance computes the same one, so
    JetStream de-duplicates racing publishes (Nats-Msg-Id). The tenure start is part of it so a later,
    separate tenure in the same post gets its own id."""
    return uuid.uuid5(DUE_NAMESPACE, f"rotation.due/{cadre_id}/{post_id}/{rule}/{since.isoformat()}")


def decide_due(state: RotationState, cmd: RaiseDue, rules: RuleSet, today: date) -> Decision:
    """Record that a rule fell due: once per held post and rule, only once the day has come."""
    _held(state, cmd.post_id, today)
    due = due_date(state.tenure, cmd.post_id, cmd.rule, rules.rotation)
    if due is None:
        raise RuleViolation("rotation.rule_not_applicable",
                            f"rule {cmd.rule} does not apply to post {cmd.post_id} under rule set {rules.id}",
                            f"规则 {RULE_ZH[cmd.rule]} 不适用于职位 {cmd.post_id} (规则集 {rules.id})",
                            rotation_rule=cmd.rule)
    if (cmd.post_id, cmd.rule) in state.tenure.dues:
        raise RuleViolation("rotation.due_once", f"rotation under {cmd.rule} is already due for post {cmd.post_id}",
                            f"职位 {cmd.post_id} 的{RULE_ZH[cmd.rule]}到期已记录", post_id=cmd.post_id)
    if due.due_on > today:
        raise RuleViolation("rotation.not_yet_due", f"{cmd.rule} falls due on {due.due_on.isoformat()}",
                            f"{RULE_ZH[cmd.rule]}于 {due.due_on.isoformat()} 到期, 尚未到期",
                            due_on=due.due_on.isoformat())
    data = RotationDue(post_id=cmd.post_id, rule=cmd.rule, since=due.since, years=due.years, due_on=due.due_on,
                       overdue_on=due.overdue_on)
    return Decision("rotation.due", data, due.due_on, event_id=due_event_id(cmd.cadre_id, cmd.post_id, cmd.rule,
                                                                            due.since))


def decide_defer(state: RotationState, cmd: DeferRotation, rules: RuleSet, today: date) -> Decision:
    """Defer a due rotation: an approval reference is mandatory; bounded by the rule set."""
    not_in_future(cmd.occurred_on, today)
    if not (cmd.approval_reference or "").strip():
        raise RuleViolation("rotation.deferral_approval_required",
                            f"deferring the rotation due under {cmd.rule} needs an approval reference",
                            f"暂缓交流 ({RULE_ZH[cmd.rule]}) 须有批准文号", basis=BASIS_ROTATION,
                            rotation_rule=cmd.rule)
    _held(state, cmd.post_id, cmd.occurred_on)
    if (cmd.post_id, cmd.rule) not in state.tenure.dues:
        raise RuleViolation("rotation.deferral_needs_due",
                            f"no rotation is due under {cmd.rule} for post {cmd.post_id}; nothing to defer",
                            f"职位 {cmd.post_id} 没有到期应交流记录 ({RULE_ZH[cmd.rule]}), 无需暂缓",
                            rotation_rule=cmd.rule)
    latest = add_months(cmd.occurred_on, rules.rotation.rotation_deferral_max_months)
    if not cmd.occurred_on < cmd.until <= latest:
        raise RuleViolation("rotation.deferral_until",
                            f"until must be after {cmd.occurred_on.isoformat()} and at most "
                            f"{rules.rotation.rotation_deferral_max_months} months later ({latest.isoformat()})",
                            f"暂缓期限须晚于 {cmd.occurred_on.isoformat()} 且不超过 "
                            f"{rules.rotation.rotation_deferral_max_months} 个月 ({latest.isoformat()})",
                            basis=rules.basis, latest=latest.isoformat())
    data = RotationDeferred(post_id=cmd.post_id, rule=cmd.rule, until=cmd.until,
                            approval_reference=(cmd.approval_reference or "").strip(), reason=cmd.reason)
    return Decision("rotation.deferred", data, cmd.occurred_on)


def _rotation_allowed(state: RotationState, on: date) -> None:
    _no_probation(state, "rotation.not_during_probation", "rotation", "交流")
    investigations = [b for b in appointment_blockers(state.appointment_facts, on)
                      if b.rule == "appointment.unverified_report"]
    if investigations:
        report = investigations[0].extra.get("report_id")
        raise RuleViolation("rotation.under_investigation",
                            f"no rotation while under investigation: report {report} is not verified",
                            f"核查期间不得交流: 举报 {report} 尚未核查", basis=BASIS_ROTATION, report_id=report)


def decide_complete(state: RotationState, cmd: CompleteRotation, today: date) -> Decision:
    """Rotate: leave the post and take another in one event; not in probation nor under investigation;
    to another post (another township for township_8y), not a promotion."""
    not_in_future(cmd.occurred_on, today)
    old = _held(state, cmd.post_id, cmd.occurred_on)
    _rotation_allowed(state, cmd.occurred_on)
    to: PostFields = cmd.to
    _principal_leads(to.leadership, to.principal, "to.principal")
    if to.post_id == cmd.post_id or to.post_id in state.tenure.posts:
        raise RuleViolation("rotation.same_post", f"a rotation leads to another post than {to.post_id}",
                            f"交流须到其他职位, 不能是 {to.post_id}", post_id=to.post_id)
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
                            basis=BASIS_ROTATION, rotation_rule=trigger)
    if trigger == "township_8y" and to.township is not None and to.township == old.township:
        raise RuleViolation("rotation.same_township",
                            f"a rotation after {trigger} leads out of township {old.township}",
                            f"乡镇任职满年限的交流须离开 {old.township}", basis=BASIS_ROTATION, township=old.township)
    before = cadre_level(state) or old.level  # as a posting of kind rotation compares (posting.kind_matches_level)
    if _rank(to.level) > _rank(before):
        raise RuleViolation("rotation.no_promotion",
                            f"a rotation keeps or lowers the rank ({before}); record a promotion as a post "
                            "assignment with its notice", f"交流不能提高职级 ({LEVEL_ZH[before]}); 提拔须经任前公示",
                            level=to.level, previous_level=before)
    years = completed_years(old.since, cmd.occurred_on)
    data = RotationCompleted(from_post_id=cmd.post_id, from_post=old.post, from_township=old.township, to=to,
                             decision_date=cmd.occurred_on, years_in_old_post=years,
                             days_in_old_post=max((cmd.occurred_on - old.since).days, 0), trigger_rule=trigger)
    return Decision("rotation.completed", data, cmd.occurred_on)

