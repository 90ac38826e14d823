"""The selection pipeline (选拔任用) up to its notice: inspection -> committee vote (DOMAIN.md rule 2), or a
withdrawal before the notice. A selection (`selection_id`) is inspected with all four checks, then voted on;
only an approved vote can be followed by a notice (`notices`). An approved vote is refused while an appointment
blocker exists (shared.appointment_blockers); a rejected vote is always possible.
"""

from __future__ import annotations

from pydantic import Field, StrictInt

from services.assessment.domain.rules import (
    blockers,
    raise_blockers,
)
from services.assessment.domain.state import AssessmentState, Selection
from shared.decisions import CadreCommand, Decision
from shared.events.assessment import (
    AppointmentVoted,
    Reason,
    SelectionInspected,
    SelectionWithdrawn,
)
from shared.events.types import Identifier, LongText, ShortText
from shared.problems import RuleViolation
from shared.rulesets import RuleSet

# ---- commands (bodies; the id comes from the path) -----------------------------------------


class InspectionBody(CadreCommand):
    """Pre-appointment inspection (任前考察) with its four checks."""

    proposed_post: ShortText = Field(description="拟任职务.")
    promotion: bool = Field(True, description="The appointment is a promotion (提拔).")
    dossier_checked: bool = Field(description="干部档案审核 done.")
    personal_matters_checked: bool = Field(description="个人有关事项报告查核 done.")
    discipline_opinion_obtained: bool = Field(description="纪检监察机关意见 obtained.")
    petitions_checked: bool = Field(description="信访举报核查 done.")
    summary: LongText = ""


class Inspect(InspectionBody):
    selection_id: Identifier


class VoteBody(CadreCommand):
    """The Party committee's vote (常委会票决) on the selection."""

    members_entitled: StrictInt = Field(ge=1, le=1000, description="Members entitled to attend (应到会成员).")
    members_present: StrictInt = Field(ge=0, le=1000, description="Members present (实到会成员).")
    votes_for: StrictInt = Field(ge=0, le=1000, description="For (同意).")
    votes_against: StrictInt = Field(ge=0, le=1000, description="Against (不同意).")
    votes_deferred: StrictInt = Field(0, ge=0, le=1000, description="Deferred (缓议).")


class Vote(VoteBody):
    selection_id: Identifier


class WithdrawalBody(CadreCommand):
    """End the selection before its notice is posted (终止选拔), with the reason."""

    reason: Reason


class WithdrawSelection(WithdrawalBody):
    selection_id: Identifier


# ---- inspection and vote (rule 2) -----------------------------------------------------------

_CHECKS = {"dossier_checked": ("dossier", "干部档案审核"),
           "personal_matters_checked": ("personal matters report", "个人有关事项报告查核"),
           "discipline_opinion_obtained": ("discipline inspection opinion", "纪检监察机关意见"),
           "petitions_checked": ("petitions and reports", "信访举报核查")}


def out_of_order(rules: RuleSet, message_en: str, message_zh: str) -> RuleViolation:
    """`selection.order`: a step of the selection before the one it follows (citing `rules`' selection basis)."""
    return RuleViolation("selection.order", message_en, f"{message_zh} (选拔任用程序: 考察 -> 票决 -> 公示 -> 任职)",
                         basis=rules.bases.selection)


def decide_inspection(state: AssessmentState, cmd: Inspect, rules: RuleSet) -> Decision:
    """A selection is inspected once, with all four checks done."""
    if cmd.selection_id in state.selections:
        raise RuleViolation("selection.once", f"selection {cmd.selection_id} is already inspected",
                            f"选拔 {cmd.selection_id} 已经考察")
    missing = [k for k in _CHECKS if not getattr(cmd, k)]
    if missing:
        raise RuleViolation(
            "selection.inspection_incomplete",
            f"the inspection must check all four: missing {', '.join(_CHECKS[k][0] for k in missing)}",
            f"任前考察须完成四项查核, 缺少: {'、'.join(_CHECKS[k][1] for k in missing)}",
            basis=rules.bases.selection, missing=missing)
    data = SelectionInspected(selection_id=cmd.selection_id, proposed_post=cmd.proposed_post, promotion=cmd.promotion,
                              dossier_checked=True, personal_matters_checked=True, discipline_opinion_obtained=True,
                              petitions_checked=True, summary=cmd.summary)
    return Decision("selection.inspected", data, cmd.occurred_on)


def decide_vote(state: AssessmentState, cmd: Vote, rules: RuleSet) -> Decision:
    """After the inspection; quorum num/den present; approved with votes for > half of ALL members entitled."""
    sel = state.selections.get(cmd.selection_id)
    if sel is None:
        raise out_of_order(rules, f"selection {cmd.selection_id} has no inspection: the vote follows the inspection",
                           f"选拔 {cmd.selection_id} 尚未考察, 不能票决")
    not_withdrawn(sel, rules)
    if sel.voted_on is not None:
        raise RuleViolation("selection.vote_once", f"selection {cmd.selection_id} was voted on "
                            f"{sel.voted_on.isoformat()}", f"选拔 {cmd.selection_id} 已经票决")
    if cmd.occurred_on < sel.inspected_on:
        raise out_of_order(rules, f"the vote ({cmd.occurred_on.isoformat()}) cannot precede the inspection "
                           f"({sel.inspected_on.isoformat()})", "票决日期不能早于考察日期")
    cast = cmd.votes_for + cmd.votes_against + cmd.votes_deferred
    if cmd.members_present > cmd.members_entitled or cast > cmd.members_present:
        raise RuleViolation(
            "appointment.vote_tally",
            f"tally does not add up: {cmd.members_entitled} entitled, {cmd.members_present} present, {cast} votes",
            f"票数不符: 应到 {cmd.members_entitled} 人, 实到 {cmd.members_present} 人, 投票 {cast} 票",
            field="members_present")
    a = rules.assessment
    if cmd.members_present * a.vote_quorum_den < cmd.members_entitled * a.vote_quorum_num:
        raise RuleViolation(
            "appointment.vote_quorum",
            f"{cmd.members_present} of {cmd.members_entitled} present: a vote needs at least "
            f"{a.vote_quorum_num}/{a.vote_quorum_den} of the members present",
            f"到会成员 {cmd.members_present} 人, 不足应到会成员 {cmd.members_entitled} 人的"
            f"{a.vote_quorum_num}/{a.vote_quorum_den}, 不得票决", basis=rules.bases.selection)
    approved = cmd.votes_for * a.vote_majority_den > cmd.members_entitled * a.vote_majority_num
    if approved:
        raise_blockers(blockers(state, cmd.occurred_on, rules, promotion=sel.promotion, post=sel.proposed_post),
                       f"the committee cannot approve selection {cmd.selection_id}",
                       f"不能票决通过选拔 {cmd.selection_id}")
    data = AppointmentVoted(selection_id=cmd.selection_id, proposed_post=sel.proposed_post,
                            members_entitled=cmd.members_entitled, members_present=cmd.members_present,
                            votes_for=cmd.votes_for, votes_against=cmd.votes_against,
                            votes_deferred=cmd.votes_deferred, outcome="approved" if approved else "rejected")
    return Decision("appointment.voted", data, cmd.occurred_on)


def decide_withdrawal(state: AssessmentState, cmd: WithdrawSelection, rules: RuleSet) -> Decision:
    """End a selection before its notice is posted (终止选拔), once, not dated before its last step."""
    sel = state.selections.get(cmd.selection_id)
    if sel is None:
        raise out_of_order(rules, f"selection {cmd.selection_id} has no inspection: there is no selection to end",
                           f"选拔 {cmd.selection_id} 尚未考察, 无可终止")
    not_withdrawn(sel, rules)
    if sel.notice_id is not None:
        raise RuleViolation(
            "selection.withdraw_after_notice",
            f"selection {cmd.selection_id} has notice {sel.notice_id}: end it by closing the notice as not_appointed "
            "or by cancelling the qualification",
            f"选拔 {cmd.selection_id} 已经公示 ({sel.notice_id}): 请以不予任用结束公示, 或取消任职资格",
            basis=rules.bases.selection, notice_id=sel.notice_id)
    last = sel.voted_on or sel.inspected_on
    if cmd.occurred_on < last:
        raise out_of_order(rules, f"the withdrawal ({cmd.occurred_on.isoformat()}) cannot precede the selection's last "
                           f"step ({last.isoformat()})", "终止日期不能早于选拔的上一环节")
    data = SelectionWithdrawn(selection_id=cmd.selection_id, reason=cmd.reason)
    return Decision("selection.withdrawn", data, cmd.occurred_on)


def not_withdrawn(sel: Selection, rules: RuleSet) -> None:
    """`selection.withdrawn`: no step follows a withdrawn selection."""
    if sel.withdrawn_on is not None:
        raise RuleViolation("selection.withdrawn", f"selection {sel.selection_id} was withdrawn on "
                            f"{sel.withdrawn_on.isoformat()}", f"选拔 {sel.selection_id} 已于 "
                            f"{sel.withdrawn_on.isoformat()} 终止", basis=rules.bases.selection)
