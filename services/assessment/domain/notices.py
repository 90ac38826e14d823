"""The pre-appointment notice (任前公示, DOMAIN.md rules 1 and 3): posted after an approved committee vote
(`selection`), for at least N working days on the shipped calendar, or N calendar days where the rule set of
its day says so (before 2014: 公示期一般为七至十五天); objections received meanwhile; then one end:

- `clear` / `minor_issue_reminded`: only once its period has run, from the day after its last day (the period
  counts its last day), with every objection resolved
  (the report it names verified by the audit service; for `clear`, none found true or partly true)
  and nothing blocking the appointment (shared.appointment_blockers, and a promotion barred by a
  基本称职 grade);
- `deferred` (缓任): after an `appointment.deferred` of at most N months; the notice is then closed
  again, finally, once the deferral is resolved (`clear` only after the deferral has run out);
- `not_appointed`, at any time; or the qualification is cancelled (取消任职资格), which ends it.

A `clear` or `minor_issue_reminded` close is refused while an appointment blocker exists; a deferral, a
`not_appointed` close or a cancellation are always possible.
"""

from __future__ import annotations

from datetime import date, timedelta

from pydantic import Field

from services.assessment.domain.rules import blockers, raise_blockers
from services.assessment.domain.selection import not_withdrawn, out_of_order
from services.assessment.domain.state import AssessmentState, Notice
from shared.decisions import CadreCommand, Decision, DecisionWarning, provisional_calendar
from shared.events.assessment import (
    CLEARING,
    AppointmentDeferred,
    NoticeClosed,
    NoticeOutcome,
    NoticePosted,
    ObjectionReceived,
    QualificationCancelled,
    Reason,
)
from shared.events.audit import FOUNDED
from shared.events.types import Identifier, LongText, ShortText
from shared.problems import RuleViolation
from shared.rulesets import RuleSet
from shared.tenure import deferral_latest
from shared.workdays import CalendarGap, provisional_years, working_days_between

# ---- commands (bodies; the id comes from the path) -----------------------------------------


class NoticeBody(CadreCommand):
    """Post the pre-appointment notice (任前公示); `occurred_on` is the day it is posted."""

    notice_id: Identifier
    start: date = Field(description="First day of the notice (公示开始).")
    end: date = Field(description="Last day of the notice (公示截止).")
    channels: list[ShortText] = Field(min_length=1, max_length=20, description="Where it is posted (公示渠道).")


class PostNotice(NoticeBody):
    selection_id: Identifier


class ObjectionBody(CadreCommand):
    """An objection (反映, 举报) received about the proposed appointment."""

    report_id: Identifier = Field(description="The report's id as the audit service records it.")
    channel: ShortText = Field(description='e.g. "12380", "letter", "visit".')
    named: bool = Field(description="实名 (true) or 匿名 (false).")


class ReceiveObjection(ObjectionBody):
    notice_id: Identifier


class CloseBody(CadreCommand):
    """How the notice ends (公示结果)."""

    outcome: NoticeOutcome = Field(description="clear 无异议, minor_issue_reminded 提醒后任用, deferred 缓任, "
                                               "not_appointed 不予任用.")
    reason: LongText = ""


class CloseNotice(CloseBody):
    notice_id: Identifier


class DeferralBody(CadreCommand):
    """Defer the appointment (缓任) until a day."""

    until: date = Field(description="Last day of the deferral (缓任至), that day included; the appointment is free "
                                    "from the day after. The decision day is the deferral's first: N months decided "
                                    "on D run at most until the day before D's month-day N months later, or to the "
                                    "last day of a month without it (a sanction's effect period "
                                    "is counted alike).")
    reason: LongText = ""


class Defer(DeferralBody):
    notice_id: Identifier


class CancellationBody(CadreCommand):
    """Cancel the cadre's qualification for the appointment (取消任职资格)."""

    reason: Reason


class CancelQualification(CancellationBody):
    notice_id: Identifier


# ---- decide ---------------------------------------------------------------------------------


def decide_notice(state: AssessmentState, cmd: PostNotice, rules: RuleSet) -> Decision:
    """After an approved vote, once per selection, at least the rule set's working days on the shipped calendar
    and calendar days (whichever it states)."""
    sel = state.selections.get(cmd.selection_id)
    if sel is None or sel.vote_outcome != "approved" or sel.voted_on is None:
        why = "has no inspection" if sel is None else "has no approved vote"
        raise out_of_order(rules, f"selection {cmd.selection_id} {why}: a notice follows an approved committee vote",
                           f"选拔 {cmd.selection_id} 未经票决通过, 不能公示")
    not_withdrawn(sel, rules)
    if sel.notice_id is not None:
        raise RuleViolation("notice.once_per_selection", f"selection {cmd.selection_id} already has notice "
                            f"{sel.notice_id}", f"选拔 {cmd.selection_id} 已经公示 ({sel.notice_id})",
                            basis=rules.bases.notice)
    if cmd.notice_id in state.notices:
        raise RuleViolation("notice.id_taken", f"notice {cmd.notice_id} already exists",
                            f"公示编号 {cmd.notice_id} 已被使用", field="notice_id")
    if cmd.occurred_on < sel.voted_on:
        raise out_of_order(rules, f"the notice ({cmd.occurred_on.isoformat()}) cannot precede the vote "
                           f"({sel.voted_on.isoformat()})", "公示日期不能早于票决日期")
    if cmd.start < cmd.occurred_on or cmd.end < cmd.start:
        raise RuleViolation(
            "notice.period", f"the notice runs from its posting day on: posted {cmd.occurred_on.isoformat()}, "
            f"start {cmd.start.isoformat()}, end {cmd.end.isoformat()}",
            f"公示期无效: 发布 {cmd.occurred_on.isoformat()}, 开始 {cmd.start.isoformat()}, 截止 {cmd.end.isoformat()}",
            field="start" if cmd.start < cmd.occurred_on else "end")
    try:
        days = working_days_between(cmd.start, cmd.end)
    except CalendarGap as gap:
        raise RuleViolation("notice.calendar_gap", gap.message_en, gap.message_zh, basis=rules.bases.notice,
                            year=gap.year) from gap
    short = notice_too_short(cmd.start, cmd.end, days, rules)
    if short is not None:
        raise short
    provisional = provisional_years(cmd.start, cmd.end)
    data = NoticePosted(notice_id=cmd.notice_id, selection_id=cmd.selection_id, proposed_post=sel.proposed_post,
                        start=cmd.start, end=cmd.end, working_days=days, channels=cmd.channels,
                        provisional_calendar_years=provisional or None)
    return Decision("notice.posted", data, cmd.occurred_on,
                    warnings=provisional_calendar(provisional, "notice period", "公示期"))


def notice_too_short(start: date, end: date, working_days: int, rules: RuleSet) -> RuleViolation | None:
    """The notice period against the rule set's minimum, in the kind of day its documents count (the 2002 条例 in
    calendar days, 一般为七至十五天; the 2014 and 2019 条例 in working days, 不少于五个工作日); None when long enough.
    The refusal quotes the rule set's notice basis (`bases.notice`): the 条例 in force on the notice's day, not
    today's."""
    a = rules.assessment
    span = f"{start.isoformat()} 至 {end.isoformat()}"
    if a.notice_min_working_days is not None and working_days < a.notice_min_working_days:
        least = a.notice_min_working_days
        return RuleViolation(
            "notice.min_working_days",
            f"notice period must be at least {least} working days: {start.isoformat()} to {end.isoformat()} has "
            f"{working_days}",
            f"任前公示期不少于{least}个工作日: {span} 只有 {working_days} 个工作日",
            basis=rules.bases.notice, working_days=working_days, required=least)
    calendar_days = (end - start).days + 1
    if a.notice_min_calendar_days is not None and calendar_days < a.notice_min_calendar_days:
        least = a.notice_min_calendar_days
        return RuleViolation(
            "notice.min_calendar_days",
            f"notice period must be at least {least} calendar days, first and last counted: {start.isoformat()} to "
            f"{end.isoformat()} has {calendar_days}",
            f"任前公示期不少于{least}天 (首尾两日均计入): {span} 只有 {calendar_days} 天",
            basis=rules.bases.notice, calendar_days=calendar_days, required=least)
    return None


def _notice(state: AssessmentState, notice_id: str, day: date, rules: RuleSet, *, allow: tuple[str, ...]) -> Notice:
    notice = state.notices.get(notice_id)
    if notice is None:
        raise RuleViolation("notice.unknown", f"no notice {notice_id} for this cadre",
                            f"该干部没有编号为 {notice_id} 的任前公示")
    if notice.status not in allow:
        state_zh = {"open": "公示中", "deferred": "已缓任", "closed": f"已结束 ({notice.outcome})",
                    "cancelled": "已取消任职资格"}[notice.status]
        raise RuleViolation("notice.not_open", f"notice {notice_id} is {notice.status}"
                            + (f" ({notice.outcome})" if notice.status == "closed" else ""),
                            f"任前公示 {notice_id} {state_zh}", notice_status=notice.status)
    if day < notice.posted_on:
        raise out_of_order(rules, f"{day.isoformat()} is before notice {notice_id} was posted "
                           f"({notice.posted_on.isoformat()})", "日期不能早于公示发布日期")
    return notice


def decide_objection(state: AssessmentState, cmd: ReceiveObjection, rules: RuleSet) -> Decision:
    """An objection to a notice that is not finally closed, once per report."""
    notice = _notice(state, cmd.notice_id, cmd.occurred_on, rules, allow=("open", "deferred"))
    if cmd.report_id in notice.objections:
        raise RuleViolation("notice.objection_once", f"report {cmd.report_id} is already an objection to "
                            f"{cmd.notice_id}", f"举报 {cmd.report_id} 已登记为该公示的反映", field="report_id")
    data = ObjectionReceived(notice_id=cmd.notice_id, report_id=cmd.report_id, channel=cmd.channel, named=cmd.named)
    # Not refused: the objection may come in before the audit service receives its report; but a mistyped id would
    # hold the notice open until a report of that id is received and verified, so the clerk should look again.
    report = state.reports.get(cmd.report_id)
    warnings = () if report is not None and report.received_on is not None else (DecisionWarning(
        "notice.report_not_on_record",
        f"the ledger records no report {cmd.report_id} about the cadre yet: check the id; the notice closes clear "
        "only once a report of that id is received and verified (audit service)",
        f"台账中尚无该干部的举报 {cmd.report_id} 的受理记录：请核对编号；该编号的举报受理并核查完毕后，"
        "公示才能以无异议结束"),)
    return Decision("notice.objection_received", data, cmd.occurred_on, warnings=warnings)


def objections_of(state: AssessmentState, notice: Notice, on: date) -> list[str]:
    """Report ids that object to the notice: its recorded objections and every report received during it."""
    during = [r for r, rep in state.reports.items()
              if rep.received_on is not None and notice.start <= rep.received_on <= on]
    return list(dict.fromkeys([*notice.objections, *during]))


def _check_objections(state: AssessmentState, notice: Notice, cmd: CloseNotice, rules: RuleSet) -> None:
    on = cmd.occurred_on
    reports = objections_of(state, notice, on)
    unresolved = [r for r in reports if (rep := state.reports.get(r)) is None or rep.verified_on is None
                  or rep.verified_on > on]
    if unresolved:
        raise RuleViolation(
            "notice.unresolved_objection",
            f"notice {notice.notice_id} has unresolved objections ({', '.join(unresolved)}): it cannot close as "
            f"{cmd.outcome} before they are verified",
            f"任前公示 {notice.notice_id} 有未核查完毕的反映 ({', '.join(unresolved)}), 不能以"
            f"{'无异议' if cmd.outcome == 'clear' else '提醒后任用'}结束", basis=rules.bases.notice,
            reports=unresolved)
    founded = [r for r in reports if state.reports[r].outcome in FOUNDED]
    if cmd.outcome == "clear" and founded:
        raise RuleViolation(
            "notice.founded_objection",
            f"objections {', '.join(founded)} were found true or partly true: the notice cannot close as clear",
            f"反映 {', '.join(founded)} 经查属实或部分属实, 公示不能以无异议结束", basis=rules.bases.notice,
            reports=founded)


def period_not_over(notice: Notice, cmd: CloseNotice, rules: RuleSet) -> None:
    """`notice.period_not_over` (公示期未满) unless the notice's period has run in full by the close's day.

    The period counts its last day: the minimum (不少于五个工作日 in the 2014 and 2019 条例, 七至十五天 in the 2002
    条例) is met only with it (`notice_too_short` counts first and last). A close is recorded by its day, not its
    hour, so one dated on the last day would end the notice while it is still up and an objection could still
    come in that day; the notice closes from the day after its last day."""
    closable_from = notice.end + timedelta(days=1)
    if cmd.occurred_on < closable_from:
        end = notice.end.isoformat()
        raise RuleViolation(
            "notice.period_not_over",
            f"notice {cmd.notice_id} runs through {end}, its last day counted: it can close as {cmd.outcome} only "
            f"once the period has run, from {closable_from.isoformat()}",
            f"任前公示 {cmd.notice_id} 公示期至 {end} (含截止日), 公示期未满不能结束; "
            f"公示期满后 ({closable_from.isoformat()} 起) 方可结束",
            basis=rules.bases.notice, field="occurred_on", notice_end=end, closable_from=closable_from.isoformat())


def decide_close(state: AssessmentState, cmd: CloseNotice, rules: RuleSet) -> Decision:
    """End the notice; `clear` and `minor_issue_reminded` only when nothing stands in the appointment's way."""
    notice = _notice(state, cmd.notice_id, cmd.occurred_on, rules, allow=("open", "deferred"))
    if cmd.outcome == "deferred":
        if notice.status == "deferred":
            raise RuleViolation("notice.not_open", f"notice {cmd.notice_id} is already closed as deferred",
                                f"任前公示 {cmd.notice_id} 已以缓任结束", notice_status=notice.status)
        if notice.deferred_until is None:
            raise RuleViolation(
                "notice.deferral_missing", "record the deferral (appointment.deferred, with its end) first",
                "以缓任结束公示前须先作出缓任决定 (缓任期限)", basis=rules.bases.deferral)
    elif cmd.outcome in CLEARING:
        period_not_over(notice, cmd, rules)
        _check_objections(state, notice, cmd, rules)
        sel = state.selections.get(notice.selection_id)
        # a notice whose inspection is not on the ledger is held to the stricter, promotion, rules
        raise_blockers(blockers(state, cmd.occurred_on, rules, promotion=sel is None or sel.promotion,
                                post=notice.proposed_post, notice_id=notice.notice_id),
                       f"notice {cmd.notice_id} cannot close as {cmd.outcome}",
                       f"任前公示 {cmd.notice_id} 不能结束并任用")
    data = NoticeClosed(notice_id=cmd.notice_id, outcome=cmd.outcome, reason=cmd.reason)
    return Decision("notice.closed", data, cmd.occurred_on)


def decide_deferral(state: AssessmentState, cmd: Defer, rules: RuleSet) -> Decision:
    """Defer the appointment under an open notice, once, for at most the rule set's months counted from the decision
    day, that day included (`appointment.deferral_max` names the latest 缓任至)."""
    notice = _notice(state, cmd.notice_id, cmd.occurred_on, rules, allow=("open",))
    if notice.deferred_until is not None:
        raise RuleViolation("appointment.deferral_once", f"the appointment under {cmd.notice_id} is already "
                            f"deferred until {notice.deferred_until.isoformat()}",
                            f"已缓任至 {notice.deferred_until.isoformat()}, 缓任不能延长", basis=rules.bases.deferral)
    months = rules.rotation.deferral_max_months
    # the deferral bars the appointment from the day it is decided: counted as a sanction's effect period is
    latest = deferral_latest(cmd.occurred_on, rules.rotation)
    if cmd.until <= cmd.occurred_on or cmd.until > latest:
        raise RuleViolation(
            "appointment.deferral_max",
            f"a deferral lasts at most {months} months: until must be after {cmd.occurred_on.isoformat()} and "
            f"no later than {latest.isoformat()}",
            f"缓任期限最长{months}个月: 缓任至须晚于 {cmd.occurred_on.isoformat()} 且不晚于 {latest.isoformat()}",
            basis=rules.bases.deferral, field="until", latest=latest.isoformat())
    data = AppointmentDeferred(notice_id=cmd.notice_id, until=cmd.until, reason=cmd.reason)
    return Decision("appointment.deferred", data, cmd.occurred_on)


def decide_cancellation(state: AssessmentState, cmd: CancelQualification, rules: RuleSet) -> Decision:
    """Cancel the qualification while the notice is open or deferred; it ends the notice."""
    _notice(state, cmd.notice_id, cmd.occurred_on, rules, allow=("open", "deferred"))
    data = QualificationCancelled(notice_id=cmd.notice_id, reason=cmd.reason)
    return Decision("appointment.qualification_cancelled", data, cmd.occurred_on)
