"""HTTP adapter of the audit service: validate, decide on the ledger, publish. One route per command."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiohttp import web
from pydantic import BaseModel

from services.audit.domain import AuditState, audits, fold, supervision
from shared.clock import clock_from, not_in_future
from shared.commands import CommandBus, CommandResult, WaitQuery
from shared.decisions import CadreCommand, Decision
from shared.http import Api
from shared.request_input import ids_in
from shared.revocations import revocation_route
from shared.rulesets import RuleSet
from shared.trace import traceparent_of

AUDITS = ("audits 经济责任审计",)
SUPERVISION = ("supervision 监督",)
Decide = Callable[[AuditState, Any, RuleSet], Decision]
PAST_DAYS = {"received_on": "收到日期"}
"""Days a body states as past besides occurred_on (the receipt of an opinion request or an inquiry, which its window
counts from): refused as occurred_on is when after today (`command.not_in_future`, naming the field)."""


def _command_route(api: Api, bus: CommandBus, path: str, *, summary: str, body: type[CadreCommand],
                   command: type[CadreCommand], decide: Decide, event: str, tags: tuple[str, ...]) -> None:
    """Declare `POST path`: body + path ids -> command -> decide on the cadre's ledger history -> `event` (or,
    with the body's `correction`, `<event>.corrected`)."""
    clock = clock_from(bus.settings)

    async def handler(request: web.Request, *, path: BaseModel, body: CadreCommand, query: WaitQuery) -> CommandResult:
        cmd = command(**dict(path), **dict(body))
        for field, field_zh in PAST_DAYS.items():
            if (day := getattr(cmd, field, None)) is not None:
                not_in_future(day, clock.today(), field, field_zh)
        return await bus.execute(
            cadre_id=cmd.cadre_id, county=cmd.county, rules_on=cmd.occurred_on,
            decide=lambda history, rules: decide(fold(history), cmd, rules),
            wait_committed=query.wait == "committed", traceparent=traceparent_of(request), correction=cmd.correction)

    description = (f"Publishes `{event}`. {(decide.__doc__ or '').strip()} With `correction`, publishes "
                   f"`{event}.corrected` instead (更正): the command decided again on the history before the event it "
                   "corrects. With `?wait=committed` the answer comes once the ledger holds the event.")
    api.route("POST", path, summary=summary, path_params=ids_in(path), body=body, query=WaitQuery,
              response=CommandResult, status=202, tags=tags, description=description, errors=(409,))(handler)


def build_api(bus: CommandBus) -> Api:
    """The audit service's routes, bound to a command bus."""
    api = Api("cadre-ledger audit service (审计与监督)", "1.0",
              "Records economic responsibility audits and supervision actions as ledger events.")
    a, s = audits, supervision
    routes: list[tuple[str, str, type[CadreCommand], type[CadreCommand], Decide, str, tuple[str, ...]]] = [
        ("/v1/audits/{audit_id}/start", "Start an audit (审计开始)", a.AuditStart, a.StartAudit, a.decide_start,
         "audit.started", AUDITS),
        ("/v1/audits/{audit_id}/opinion-request", "Request the cadre's written opinion (征求书面意见)",
         a.OpinionRequest, a.RequestOpinion, a.decide_request_opinion, "audit.opinion_requested", AUDITS),
        ("/v1/audits/{audit_id}/opinion", "Written opinion received (收到书面意见)", a.OpinionReceipt,
         a.ReceiveOpinion, a.decide_receive_opinion, "audit.opinion_received", AUDITS),
        ("/v1/audits/{audit_id}/complete", "Complete an audit (审计完成)", a.AuditCompletion, a.CompleteAudit,
         a.decide_complete, "audit.completed", AUDITS),
        ("/v1/audits/{audit_id}/findings/{finding_id}/rectify", "Finding rectified (问题整改)", a.Rectification,
         a.RectifyFinding, a.decide_rectify, "audit.finding_rectified", AUDITS),
        ("/v1/audits/{audit_id}/result", "Apply the audit result (审计结果运用)", a.ResultApplication,
         a.ApplyResult, a.decide_apply_result, "audit.result_applied", AUDITS),
        ("/v1/reports/{report_id}/receive", "Report received (受理举报)", s.ReportReceipt, s.ReceiveReport,
         s.decide_receive_report, "report.received", SUPERVISION),
        ("/v1/reports/{report_id}/verify", "Report verified (核查完毕)", s.ReportVerification, s.VerifyReport,
         s.decide_verify_report, "report.verified", SUPERVISION),
        ("/v1/talks/{talk_id}", "Talk held (谈话)", s.Talk, s.HoldTalk, s.decide_hold_talk,
         "supervision.talk_held", SUPERVISION),
        ("/v1/inquiries/{inquiry_id}/send", "Written inquiry sent (函询)", s.InquiryLetter, s.SendInquiry,
         s.decide_send_inquiry, "supervision.inquiry_sent", SUPERVISION),
        ("/v1/inquiries/{inquiry_id}/answer", "Written inquiry answered (函询回复)", s.InquiryAnswer,
         s.AnswerInquiry, s.decide_answer_inquiry, "supervision.inquiry_answered", SUPERVISION),
        ("/v1/sanctions/{sanction_id}", "Sanction imposed (处分 / 组织处理)", s.Sanction, s.ImposeSanction,
         s.decide_impose_sanction, "sanction.imposed", SUPERVISION),
    ]
    for path, summary, body, command, decide, event, tags in routes:
        _command_route(api, bus, path, summary=summary, body=body, command=command, decide=decide, event=event,
                       tags=tags)
    revocation_route(api, bus)
    return api
