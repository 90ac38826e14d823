"""Registration and postings (登记与任职): register, erase, assign, vacate, conclude a probation."""

from __future__ import annotations

from datetime import date

from services.rotation.commands import AssignPost, ConcludeProbation, Erasure, RegisterCadre, VacatePost
from services.rotation.domain.checks import (
    cadre_level,
    held,
    no_blockers,
    no_probation,
    principal_leads,
    rank,
    registered,
    rotation_allowed,
)
from services.rotation.domain.state import RotationState
from shared.appointment_blockers import names_post, proposed_posts
from shared.clock import not_in_future
from shared.decisions import Decision
from shared.events.rotation import (
    LEVEL_ZH,
    CadreRegistered,
    PersonErased,
    PostAssigned,
    PostVacated,
    ProbationConcluded,
)
from shared.events.types import shows_something
from shared.problems import RuleViolation
from shared.rulesets import RuleSet
from shared.tenure import add_months

PROMOTIONS = frozenset({"promotion", "out_of_sequence"})

NOT_RAISING = frozenset({"lateral", "rotation"})

KIND_ZH = {"promotion": "提拔", "lateral": "平级转任", "demotion": "降职", "rotation": "交流", "election": "选举",
           "out_of_sequence": "破格提拔"}


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
    registered(state, cmd.cadre_id)
    if state.erased:
        raise RuleViolation("person.erase_once", f"the personal data of cadre {cmd.cadre_id} is already erased",
                            f"干部 {cmd.cadre_id} 的个人信息已经删除")
    return Decision("person.erased", PersonErased(reason=cmd.reason, reference=cmd.reference), cmd.occurred_on)


def _check_notice(state: RotationState, cmd: AssignPost, rules: RuleSet, notice_id: str, rule: str) -> None:
    """`rule` unless the notice a posting names closed as clear or minor_issue_reminded by its day and was not
    used for another appointment; `posting.notice_post_matches` unless it proposed the post taken (公示的拟任职务):
    a notice clears the appointment it made public, not another post."""
    notice = state.cleared_notices.get(notice_id)
    if notice is None or notice.closed_on > cmd.occurred_on or notice_id in state.used_notices:
        why = ("was already used for another appointment" if notice_id in state.used_notices else
               "is not closed as clear or minor_issue_reminded before the decision")
        raise RuleViolation(rule, f"notice {notice_id} {why}",
                            f"任前公示 {notice_id} 未在任职决定前以无问题或提醒结束, 或已用于其他任职",
                            basis=rules.bases.appointment, notice_id=notice_id)
    proposed = proposed_posts(state.appointment_facts).get(notice_id)
    if proposed is not None and not names_post(proposed, cmd.post, (cmd.township, cmd.unit)):
        raise RuleViolation("posting.notice_post_matches",
                            f"notice {notice_id} made public the appointment to {proposed}, not to {cmd.post}",
                            f"任前公示 {notice_id} 的拟任职务为{proposed}, 与所任职务{cmd.post}不符 "
                            "(公示拟任职务与任职不符)",
                            basis=rules.bases.appointment, field="post", notice_id=notice_id, proposed_post=proposed)


def _check_promotion(state: RotationState, cmd: AssignPost, rules: RuleSet) -> None:
    no_probation(state, rules, "promotion.not_during_probation", "promotion", "提拔")
    if cmd.notice_id is not None:
        _check_notice(state, cmd, rules, cmd.notice_id, "promotion.notice_cleared")
    elif cmd.exemption_reason is None:
        raise RuleViolation("promotion.notice_cleared",
                            "a promotion needs a pre-appointment notice closed as clear (notice_id) or a recorded "
                            "exemption reason", "提拔任职须经任前公示且无问题 (notice_id), 或记录免于公示的理由",
                            basis=rules.bases.appointment)


def _check_kind(kind: str, before: str | None, level: str, rules: RuleSet) -> None:
    """posting.kind_matches_level: a promotion raises the rank, a demotion lowers it, a lateral posting or a
    rotation does not raise it (a rise under their name would escape the promotion rules)."""
    if before is None:
        return
    rise = rank(level) - rank(before)
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
                        basis=rules.bases.appointment, level=level, previous_level=before, kind=kind)


def is_promotion(kind: str, before: str | None, level: str) -> bool:
    """Held to the promotion rules (notice, blockers, no running probation): a promotion, or an election that raises
    the rank (选举产生的职务 raising the rank is a 提拔 all the same, though it starts no probation)."""
    return kind in PROMOTIONS or (kind == "election" and before is not None and rank(level) > rank(before))


def starts_probation(kind: str, leadership: bool, principal: bool | None, internal_unit: bool,
                     elected: bool | None) -> bool:
    """Whether a promotion to this post starts a probation (试用期, DOMAIN rule 4).

    选拔任用工作条例 (2019) 第四十三条 sets the year's trial for promotions to the non-elected (非选举产生) leadership
    posts it lists: 工作部门副职 and 内设机构领导职务 (an internal unit's principal or deputy). An elected post's term
    comes from the vote, whether the posting is recorded as the election or as the promotion that put the cadre up
    for it (a 副镇长 recommended and then elected, `elected: true`); a principal's post (正职) that is no internal
    unit's, the 局长 of a 工作部门 or the 书记 of a township, is not on the list. A post whose `principal` or
    `elected` is not stated keeps the probation: each rule reads a post it is not told about in the stricter way
    (the departure audit counts it as a principal's)."""
    if not leadership or kind == "election" or elected:
        return False
    return internal_unit or principal is not True


def _elected(cmd: AssignPost) -> bool | None:
    """Whether the post is filled by election (选举产生), as the posting records it: an election fills an elected
    post, so a posting of kind election says so (`elected` true) and one stating the post is not elected is refused
    (`posting.election_to_elected_post`) rather than recorded with the contradiction."""
    if cmd.kind != "election":
        return cmd.elected
    if cmd.elected is False:
        raise RuleViolation("posting.election_to_elected_post",
                            "a posting of kind election fills a post by election: elected cannot be false (record "
                            "an appointment to a non-elected post as a promotion, lateral posting or rotation)",
                            "选举任职的职务是选举产生的职务 (elected 不能为 false); "
                            "非选举产生的职务按提拔、平级转任或交流任职",
                            field="elected")
    return True


def decide_assign(state: RotationState, cmd: AssignPost, rules: RuleSet, today: date) -> Decision:
    """Take a post: registered cadre, a post not already held, rank consistent with the kind of posting;
    a promotion (or an election that raises the rank) needs a cleared notice (or an exemption), no appointment
    blocker and no running probation; a promotion to a leadership post on the list of `starts_probation` (not filled
    by election, 非选举产生) starts a probation."""
    not_in_future(cmd.occurred_on, today)
    registered(state, cmd.cadre_id)
    if cmd.post_id in state.tenure.posts:
        raise RuleViolation("posting.already_held", f"the cadre already holds post {cmd.post_id}",
                            f"该干部已担任职位 {cmd.post_id}", post_id=cmd.post_id)
    principal_leads(cmd.leadership, cmd.principal, "principal")
    elected = _elected(cmd)
    before = cadre_level(state)
    _check_kind(cmd.kind, before, cmd.level, rules)
    promotion = is_promotion(cmd.kind, before, cmd.level)
    if promotion:
        _check_promotion(state, cmd, rules)
    elif cmd.notice_id is not None:  # a posting that needs no notice may still name one: it is the real one
        _check_notice(state, cmd, rules, cmd.notice_id, "posting.notice_cleared")
    # Rule 3: a promotion, or an appointment made through a selection (its notice named: 提拔或者进一步使用),
    # meets every blocker; any other posting only those bound to the post it takes (appointment_blockers' bound_only).
    no_blockers(state, cmd.occurred_on, rules, post=cmd.post, places=(cmd.township, cmd.unit), notice_id=cmd.notice_id,
                promotion=promotion, bound_only=not promotion and cmd.notice_id is None)
    if cmd.kind == "rotation":
        rotation_allowed(state, cmd.occurred_on, rules)
    probation_end = (add_months(cmd.occurred_on, rules.rotation.probation_months)
                     if promotion and starts_probation(cmd.kind, cmd.leadership, cmd.principal, cmd.internal_unit,
                                                       elected)
                     else None)
    data = PostAssigned(post_id=cmd.post_id, post=cmd.post, unit=cmd.unit, township=cmd.township, level=cmd.level,
                        leadership=cmd.leadership, internal_unit=cmd.internal_unit, sensitive=cmd.sensitive,
                        principal=cmd.principal, elected=elected, kind=cmd.kind, decision_date=cmd.occurred_on,
                        probation_end=probation_end, notice_id=cmd.notice_id, exemption_reason=cmd.exemption_reason)
    return Decision("post.assigned", data, cmd.occurred_on)


def decide_vacate(state: RotationState, cmd: VacatePost, today: date) -> Decision:
    """Leave a held post, not before taking it."""
    not_in_future(cmd.occurred_on, today)
    held(state, cmd.post_id, cmd.occurred_on)
    return Decision("post.vacated", PostVacated(post_id=cmd.post_id, reason=cmd.reason), cmd.occurred_on)


def decide_conclude_probation(state: RotationState, cmd: ConcludeProbation, rules: RuleSet, today: date) -> Decision:
    """Conclude a running probation: on or after its end, unless ended early (with a reason)."""
    not_in_future(cmd.occurred_on, today)
    posting = held(state, cmd.post_id, cmd.occurred_on)
    if not posting.in_probation or posting.probation_end is None:
        raise RuleViolation("probation.none", f"post {cmd.post_id} has no running probation",
                            f"职位 {cmd.post_id} 没有进行中的试用期", post_id=cmd.post_id)
    end = posting.probation_end
    if cmd.outcome == "ended_early":
        if not shows_something(cmd.reason, paragraphs=True):
            raise RuleViolation("probation.early_end_reason", "ending a probation early needs a reason",
                                "提前结束试用期须说明理由", basis=rules.bases.appointment)
    elif cmd.occurred_on < end:
        raise RuleViolation("probation.before_end",
                            f"the probation of post {cmd.post_id} ends on {end.isoformat()}; it can be concluded "
                            f"({cmd.outcome}) only from that day, unless ended early",
                            f"职位 {cmd.post_id} 试用期至 {end.isoformat()} 届满, 届满前不能作出试用期满结论"
                            "(提前结束除外)", basis=rules.bases.appointment, probation_end=end.isoformat())
    data = ProbationConcluded(post_id=cmd.post_id, outcome=cmd.outcome, reason=cmd.reason)
    return Decision("probation.concluded", data, cmd.occurred_on)
