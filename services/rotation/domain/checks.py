"""Checks several rotation commands share: registered, the post held, no probation running, the cadre's rank,
a principal's post, a rotation allowed, no appointment blocker. Each raises the 422 of its rule, citing the `bases`
of the rule set the command is decided under (the one in force on the fact's day)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from services.rotation.domain.state import RotationState
from shared.appointment_blockers import appointment_blockers
from shared.decisions import not_registered
from shared.events.rotation import LEVEL_ORDER
from shared.problems import RuleViolation
from shared.rulesets import RuleSet
from shared.tenure import Posting


def registered(state: RotationState, cadre_id: str) -> None:
    """cadre.registered_first unless the cadre is registered."""
    if not state.registered:
        raise not_registered(cadre_id)


def held(state: RotationState, post_id: str, on: date) -> Posting:
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


def no_probation(state: RotationState, rules: RuleSet, rule: str, what_en: str, what_zh: str) -> None:
    """`rule` while a probation of a post the cadre holds runs (no promotion or rotation then, DOMAIN rule 4)."""
    for posting in state.tenure.posts.values():
        if posting.in_probation:
            end = posting.probation_end.isoformat() if posting.probation_end else "?"
            raise RuleViolation(rule, f"no {what_en} during probation: post {posting.post_id} is on probation "
                                f"until {end} and not concluded", f"试用期内不得{what_zh}: 职位 {posting.post_id} "
                                f"试用期至 {end}, 尚未考核转正", basis=rules.bases.appointment, post_id=posting.post_id)


def rank(level: str) -> int:
    """The order of a rank (职级), lowest first."""
    return LEVEL_ORDER.index(level)


def cadre_level(state: RotationState) -> str | None:
    """The cadre's rank before a new posting: the highest of the posts held, else the last post's (None: none yet)."""
    levels = [p.level for p in state.tenure.posts.values()]
    return max(levels, key=rank) if levels else state.tenure.last_level


def principal_leads(leadership: bool, principal: bool | None, field: str) -> None:
    """posting.principal_needs_leadership: a principal's post (正职) is a leadership post."""
    if principal and not leadership:
        raise RuleViolation("posting.principal_needs_leadership",
                            "a principal's post (principal: true) is a leadership post (leadership: true)",
                            "正职须为领导职务 (principal 为 true 时 leadership 须为 true)", field=field)


def rotation_allowed(state: RotationState, on: date, rules: RuleSet) -> None:
    """A rotation is not made during a probation (rotation.not_during_probation) nor while a report about the cadre
    is unverified (rotation.under_investigation)."""
    no_probation(state, rules, "rotation.not_during_probation", "rotation", "交流")
    investigations = [b for b in appointment_blockers(state.appointment_facts, on, rules.bases)
                      if b.rule == "appointment.unverified_report"]
    if investigations:
        report = investigations[0].extra.get("report_id")
        raise RuleViolation("rotation.under_investigation",
                            f"no rotation while under investigation: report {report} is not verified",
                            f"核查期间不得交流: 举报 {report} 尚未核查", basis=rules.bases.rotation, report_id=report)


def no_blockers(state: RotationState, on: date, rules: RuleSet, *, post: str, places: Sequence[str | None],
                notice_id: str | None = None, promotion: bool = False, bound_only: bool = False) -> None:
    """The first appointment blocker of taking `post` on `on` (`shared.appointment_blockers`, with its arguments),
    as the 422, which lists every blocker's rule in `blockers`."""
    found = appointment_blockers(state.appointment_facts, on, rules.bases, notice_id=notice_id, post=post,
                                 places=places, promotion=promotion, bound_only=bound_only)
    if found:
        first = found[0]
        first.extra["blockers"] = [b.rule for b in found]
        raise first
