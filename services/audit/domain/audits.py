"""The economic responsibility audit (经济责任审计) lifecycle: commands and decide functions. Pure.

started -> opinion requested (due in the rule set's working days, or days where its regulation counts days) ->
opinion received within the window, or the window closes -> completed with findings -> each finding rectified;
the result applied (and filed to the dossier) once.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import Field

from services.audit.domain.checks import Deadline, day_deadline, not_before, working_day_deadline
from services.audit.domain.names import AUDIT_TYPE_ZH, RESULT_ZH, named_zh
from services.audit.domain.state import AuditRecord, AuditState
from shared.decisions import CadreCommand, Decision, DecisionWarning
from shared.events.audit import (
    AppliedResult,
    AuditCompleted,
    AuditFindingRectified,
    AuditOpinionReceived,
    AuditOpinionRequested,
    AuditResultApplied,
    AuditStarted,
    AuditType,
    Evaluation,
    Finding,
)
from shared.events.types import AmountCNY, Identifier, LongText, ShortText
from shared.problems import RuleViolation
from shared.rulesets import RuleSet


def _violation(rules: RuleSet, rule: str, message_en: str, message_zh: str, **fields: object) -> RuleViolation:
    """A rule of the audit regulation, citing the one in force on the fact's day (`rules.bases.audit`)."""
    return RuleViolation(rule, message_en, message_zh, basis=rules.bases.audit, **fields)


def _record_keeping(rule: str, message_en: str, message_zh: str, **fields: Any) -> RuleViolation:
    """A rule that keeps the audit's record consistent (an id once, a step of an audit on record): `RECORD_KEEPING`."""
    return RuleViolation(rule, message_en, message_zh, **fields)

# ---- commands (bodies over HTTP; the command adds the ids from the path) ---------------------


class AuditStart(CadreCommand):
    """Body of `start audit` (审计开始)."""

    audit_type: AuditType = Field(description="pre_appointment (任前), in_office (任中), departure (离任).")
    period_from: date = Field(description="First day of the period audited (审计期间起).")
    period_to: date = Field(description="Last day of the period audited (审计期间止).")
    auditing_body: ShortText = Field(description="Who audits (审计机关).")
    post_id: Identifier | None = Field(None, description="The post audited; required for a departure audit "
                                                         "(离任审计须写明所离岗位).")


class StartAudit(AuditStart):
    audit_id: Identifier


class OpinionRequest(CadreCommand):
    """Body of `request the cadre's written opinion` (征求书面意见), sent on occurred_on; the due day is counted by
    the service, from `received_on` when given."""

    received_on: date | None = Field(None, description="The day the cadre received the request (收到征求意见稿之日), "
                                                       "on or after the day it was sent: the window counts from it "
                                                       "(自收到之日起), and the opinion cannot be dated before it. "
                                                       "Absent when not known: the window counts from the day the "
                                                       "request was sent.")


class RequestOpinion(OpinionRequest):
    audit_id: Identifier


class OpinionReceipt(CadreCommand):
    """Body of `written opinion received` (收到书面意见)."""

    agrees: bool = Field(description="True when the cadre raises no objection (无异议).")
    summary: LongText = ""


class ReceiveOpinion(OpinionReceipt):
    audit_id: Identifier


class AuditCompletion(CadreCommand):
    """Body of `complete audit`: report, evaluation and findings of a finished audit (审计完成)."""

    audit_type: AuditType = Field(description="pre_appointment (任前), in_office (任中), departure (离任); "
                                              "as the audit was started.")
    report_number: ShortText = Field(description="Audit report number (审计报告文号).")
    evaluation: Evaluation = Field(description="good (好), fairly_good (较好), average (一般), poor (较差).")
    findings: list[Finding] = Field(default_factory=list, max_length=500, description="Findings (审计发现问题).")


class CompleteAudit(AuditCompletion):
    audit_id: Identifier


class Rectification(CadreCommand):
    """Body of `finding rectified` (问题整改到位)."""

    measures: LongText = Field("", description="What was done (整改措施).")
    amount_recovered: AmountCNY | None = Field(None, description="Funds recovered, CNY (追回资金), a decimal string.")


class RectifyFinding(Rectification):
    audit_id: Identifier
    finding_id: Identifier


class ResultApplication(CadreCommand):
    """Body of `result applied` (审计结果运用)."""

    result: AppliedResult = Field(description="none (无), talk (谈话), admonishment (诫勉), organisational_handling "
                                              "(组织处理), referral (移送纪检监察).")
    filed_to_dossier: bool = Field(description="Filed in the cadre's dossier (归入干部档案).")
    reference: ShortText | None = Field(None, description="Decision document number (文号).")
    summary: LongText = ""


class ApplyResult(ResultApplication):
    audit_id: Identifier


# ---- decide -------------------------------------------------------------------------------------


def _started(state: AuditState, audit_id: str) -> AuditRecord:
    audit = state.audits.get(audit_id)
    if audit is None or audit.started_on is None:
        raise _record_keeping("audit.not_started", f"audit {audit_id} has not been started",
                              f"审计 {audit_id} 尚未开始 (未登记审计开始)")
    return audit


def _open(state: AuditState, audit_id: str) -> AuditRecord:
    audit = _started(state, audit_id)
    if audit.completed_on is not None:
        raise _record_keeping("audit.already_completed", f"audit {audit_id} is already completed",
                              f"审计 {audit_id} 已经完成")
    return audit


def _completed(state: AuditState, audit_id: str, rules: RuleSet) -> AuditRecord:
    audit = state.audits.get(audit_id)
    if audit is None:  # not even a completion on record (a completion without start still counts: older data)
        raise _record_keeping("audit.not_started", f"audit {audit_id} is not on record: it has not been started",
                              f"审计 {audit_id} 无记录 (尚未开始)")
    if audit.completed_on is None:
        raise _violation(rules, "audit.not_completed", f"audit {audit_id} is not completed yet",
                         f"审计 {audit_id} 尚未完成")
    return audit


def decide_start(state: AuditState, cmd: StartAudit, rules: RuleSet) -> Decision:
    """An audit id starts once; its period is ordered; a departure audit names the post left."""
    if cmd.audit_id in state.audits:
        raise _record_keeping("audit.start_once", f"audit {cmd.audit_id} already exists",
                              f"审计 {cmd.audit_id} 已经登记, 不能重复开始")
    if cmd.period_from > cmd.period_to:
        raise _record_keeping("audit.period_order", f"the audited period {cmd.period_from}..{cmd.period_to} ends "
                                                    "before it starts",
                              f"审计期间 {cmd.period_from}..{cmd.period_to} 的止日早于起日")
    if state.work_start is not None and cmd.period_from < state.work_start:
        raise _record_keeping("audit.period_before_work_start",
                              f"the audited period begins on {cmd.period_from}, before the cadre started work "
                              f"({state.work_start})",
                              f"审计期间起日 {cmd.period_from} 早于该干部参加工作时间 ({state.work_start}), "
                              "经济责任审计只涵盖其任职期间",
                              field="period_from", work_start=state.work_start.isoformat())
    if cmd.audit_type == "departure" and cmd.post_id is None:
        raise _violation(rules, "audit.departure_post", "a departure audit names the post being left (post_id)",
                         "离任经济责任审计须写明所离开的岗位 (post_id)")
    data = AuditStarted(audit_id=cmd.audit_id, audit_type=cmd.audit_type, period_from=cmd.period_from,
                        period_to=cmd.period_to, auditing_body=cmd.auditing_body, post_id=cmd.post_id)
    # Not refused: a posting may predate the ledger (records kept on paper), but the clerk should look again.
    warnings = () if cmd.post_id is None or cmd.post_id in state.posts else (DecisionWarning(
        "audit.post_not_on_record",
        f"the ledger records no posting of the cadre to {cmd.post_id}: check the post id, or that the posting "
        "predates the ledger",
        f"台账中没有该干部担任岗位 {cmd.post_id} 的任职记录：请核对岗位编号，或确认该任职早于台账"),)
    return Decision("audit.started", data, cmd.occurred_on, warnings=warnings)


def _opinion_deadline(start: date, rules: RuleSet) -> Deadline:
    """The opinion's last day, in the unit the rule set's regulation counts: working days (on the holiday calendar),
    or days (2010 规定 第二十七条: 自接到审计组的审计报告之日起10日内)."""
    if rules.audit.opinion_calendar_days is not None:
        return day_deadline(start, rules.audit.opinion_calendar_days)
    assert rules.audit.opinion_working_days is not None  # the rule set's validator: one unit is stated
    return working_day_deadline(start, rules.audit.opinion_working_days, rules.bases.audit, "opinion window",
                                "书面意见期限")


def _window_counted(audit: AuditRecord) -> tuple[str, str]:
    """The opinion window as refusals name it, English and Chinese: by the day it counts from, its last day being the
    `due` the request recorded. Not by a count of the rule set of the refusal's day: that version may count other
    units than the one the request was decided under (10 days requested under 431021@2014.3, refused under @2019.2,
    which counts working days), and a version since corrected counted differently again (state keeps no rule set)."""
    start = audit.opinion_request_received_on or audit.opinion_requested_on
    return (f"the opinion window counted from {start} (its last day as recorded when the opinion was requested)",
            f"自 {start} 起算的书面意见期限 (截止日以征求意见时的记录为准)")


def decide_request_opinion(state: AuditState, cmd: RequestOpinion, rules: RuleSet) -> Decision:
    """Once per open audit; the answer is due on the rule set's n-th working day (or n-th day, where its regulation
    counts days) after the cadre received the request (`received_on`), or after it was sent when the receipt is not
    known."""
    audit = _open(state, cmd.audit_id)
    if audit.opinion_requested_on is not None:
        raise _record_keeping("audit.opinion_request_once", f"the opinion on audit {cmd.audit_id} was already "
                                                            f"requested on {audit.opinion_requested_on}",
                              f"审计 {cmd.audit_id} 已于 {audit.opinion_requested_on} 征求过书面意见")
    not_before(cmd.occurred_on, audit.last_step_on, "audit.chronology", "the opinion request", "征求意见")
    not_before(cmd.received_on or cmd.occurred_on, cmd.occurred_on, "audit.chronology",
               "the receipt of the opinion request", "收到征求意见稿", field="received_on")
    # 自收到之日起: from the receipt when known, else (as before receipts were recorded) from the sending
    deadline = _opinion_deadline(cmd.received_on or cmd.occurred_on, rules)
    data = AuditOpinionRequested(audit_id=cmd.audit_id, due=deadline.due,
                                 provisional_calendar_years=deadline.provisional_years, received_on=cmd.received_on)
    return Decision("audit.opinion_requested", data, cmd.occurred_on, warnings=deadline.warnings)


def decide_receive_opinion(state: AuditState, cmd: ReceiveOpinion, rules: RuleSet) -> Decision:
    """Received once, after the request and no later than its due day (after it, silence counts as consent)."""
    audit = _open(state, cmd.audit_id)
    if audit.opinion_requested_on is None or audit.opinion_due is None:
        raise _violation(rules, "audit.opinion_not_requested", f"no opinion was requested on audit {cmd.audit_id}",
                         f"审计 {cmd.audit_id} 尚未征求书面意见")
    if audit.opinion_received_on is not None:
        raise _record_keeping("audit.opinion_receive_once", f"the opinion on audit {cmd.audit_id} was already "
                                                            f"received on {audit.opinion_received_on}",
                              f"审计 {cmd.audit_id} 的书面意见已于 {audit.opinion_received_on} 收到")
    not_before(cmd.occurred_on, audit.last_step_on, "audit.chronology", "the opinion", "收到书面意见")
    if cmd.occurred_on > audit.opinion_due:
        window_en, window_zh = _window_counted(audit)
        raise _violation(
            rules, "audit.opinion_late",
            f"{window_en} closed on {audit.opinion_due}; an opinion received on {cmd.occurred_on} is late and the "
            "audit proceeds as if there were no objection",
            f"{window_zh}已于 {audit.opinion_due} 届满; {cmd.occurred_on} 收到的意见逾期, 视同无异议")
    data = AuditOpinionReceived(audit_id=cmd.audit_id, agrees=cmd.agrees, summary=cmd.summary)
    return Decision("audit.opinion_received", data, cmd.occurred_on)


def _check_findings(cmd: CompleteAudit, rules: RuleSet) -> None:
    ids = [f.finding_id for f in cmd.findings]
    if len(set(ids)) != len(ids):
        raise _record_keeping("audit.finding_ids_unique", "finding ids must be unique within an audit",
                              "同一审计的问题编号不能重复")
    categories = rules.audit.finding_categories
    for finding in cmd.findings:
        if categories and finding.category not in categories:
            raise _violation(
                rules, "audit.finding_category",
                f"finding {finding.finding_id}: category {finding.category} is not one of the "
                f"{len(categories)} categories of rule set {rules.id}",
                f"问题 {finding.finding_id} 的类别 {finding.category} 不在规则集 {rules.id} 的 "
                f"{len(categories)} 种情形之内")


def decide_complete(state: AuditState, cmd: CompleteAudit, rules: RuleSet) -> Decision:
    """Completes once a started audit whose opinion arrived or whose opinion window has closed."""
    if cmd.audit_id in state.completed:
        raise _record_keeping("audit.complete_once", f"audit {cmd.audit_id} is already completed",
                              f"审计 {cmd.audit_id} 已经完成, 不能重复完成")
    audit = _started(state, cmd.audit_id)
    if cmd.audit_type != audit.audit_type:
        raise _record_keeping("audit.type_mismatch", f"audit {cmd.audit_id} was started as {audit.audit_type}, "
                                                     f"not {cmd.audit_type}",
                              f"审计 {cmd.audit_id} 开始时登记为{named_zh(AUDIT_TYPE_ZH, audit.audit_type)}, "
                              f"不是{named_zh(AUDIT_TYPE_ZH, cmd.audit_type)}")
    if audit.opinion_due is None:
        raise _violation(rules, "audit.opinion_not_requested", f"audit {cmd.audit_id} cannot complete before the "
                                                        "cadre's written opinion has been requested",
                         f"审计 {cmd.audit_id} 尚未征求被审计人书面意见, 不能完成")
    not_before(cmd.occurred_on, audit.last_step_on, "audit.chronology", "the completion", "审计完成")
    if audit.opinion_received_on is None and cmd.occurred_on <= audit.opinion_due:
        window_en, window_zh = _window_counted(audit)
        raise _violation(
            rules, "audit.opinion_window_open",
            f"audit {cmd.audit_id} cannot complete on {cmd.occurred_on}: the cadre's opinion has not arrived and "
            f"{window_en} runs until {audit.opinion_due}",
            f"审计 {cmd.audit_id} 不能于 {cmd.occurred_on} 完成: 被审计人书面意见未到, 且{window_zh}至 "
            f"{audit.opinion_due} 才届满")
    _check_findings(cmd, rules)
    data = AuditCompleted(audit_id=cmd.audit_id, audit_type=cmd.audit_type, report_number=cmd.report_number,
                          evaluation=cmd.evaluation, findings=cmd.findings)
    return Decision("audit.completed", data, cmd.occurred_on)


def decide_rectify(state: AuditState, cmd: RectifyFinding, rules: RuleSet) -> Decision:
    """A finding of a completed audit is rectified once, not before the audit completed."""
    audit = _completed(state, cmd.audit_id, rules)
    if cmd.finding_id not in audit.findings:
        raise _record_keeping("audit.finding_unknown", f"audit {cmd.audit_id} has no finding {cmd.finding_id}",
                              f"审计 {cmd.audit_id} 没有问题 {cmd.finding_id}")
    if cmd.finding_id in audit.rectified:
        raise _record_keeping("audit.rectify_once", f"finding {cmd.finding_id} of audit {cmd.audit_id} is already "
                                                    "rectified",
                              f"审计 {cmd.audit_id} 的问题 {cmd.finding_id} 已经整改")
    not_before(cmd.occurred_on, audit.completed_on, "audit.chronology", "the rectification", "整改")
    data = AuditFindingRectified(audit_id=cmd.audit_id, finding_id=cmd.finding_id, measures=cmd.measures,
                                 amount_recovered=cmd.amount_recovered)
    involved = audit.findings[cmd.finding_id]
    # Recovered funds may exceed what a finding involved (interest, fines), so this is no refusal; but far more
    # often it is a figure typed wrongly, and the audit summary would add it up as recovered
    warnings = () if cmd.amount_recovered is None or cmd.amount_recovered <= involved else (DecisionWarning(
        "audit.recovered_beyond_amount",
        f"the amount recovered ({cmd.amount_recovered}) is more than finding {cmd.finding_id} involved ({involved}): "
        "check the figure, and correct the rectification if it was typed wrongly",
        f"追回资金 ({cmd.amount_recovered} 元) 超过问题 {cmd.finding_id} 的涉及金额 ({involved} 元): "
        "请核对, 录入有误的请更正"),)
    return Decision("audit.finding_rectified", data, cmd.occurred_on, warnings=warnings)


def decide_apply_result(state: AuditState, cmd: ApplyResult, rules: RuleSet) -> Decision:
    """The result of a completed audit is applied once, not before the audit completed (rule 9: applied and
    filed). A result applied without being filed to the dossier may be recorded again, the same result with
    `filed_to_dossier`, when it is filed (补充归档); nothing else follows an applied result."""
    audit = _completed(state, cmd.audit_id, rules)
    if audit.result is not None:
        filing = audit.filed_on is None and cmd.filed_to_dossier and cmd.result == audit.result
        if not filing:
            raise _record_keeping(
                "audit.result_apply_once", f"the result of audit {cmd.audit_id} was already applied "
                f"({audit.result}, {audit.result_applied_on})" + ("" if audit.filed_on else
                                                               "; only its filing to the dossier may follow"),
                f"审计 {cmd.audit_id} 的结果已于 {audit.result_applied_on} 运用 "
                f"({named_zh(RESULT_ZH, str(audit.result))})"
                + ("" if audit.filed_on else "; 此后只能补记归档"))
        not_before(cmd.occurred_on, audit.result_applied_on, "audit.chronology", "the filing", "归档")
    not_before(cmd.occurred_on, audit.completed_on, "audit.chronology", "the result", "结果运用")
    data = AuditResultApplied(audit_id=cmd.audit_id, result=cmd.result, filed_to_dossier=cmd.filed_to_dossier,
                              reference=cmd.reference, summary=cmd.summary)
    return Decision("audit.result_applied", data, cmd.occurred_on)
