"""HTTP adapter of the assessment service: validate, decide on the ledger, publish."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal, TypeVar

from aiohttp import web
from pydantic import BaseModel, Field

from services.assessment.domain import AssessmentState, fold, grading, notices, selection
from shared.clock import clock_from, not_in_future
from shared.commands import CommandBus, CommandResult, WaitQuery
from shared.decisions import CadreCommand, Decision
from shared.envelope import CloudEvent
from shared.http import Api
from shared.problems import Problem
from shared.request_input import ids_in
from shared.revocations import revocation_route
from shared.rulesets import RuleSet
from shared.trace import traceparent_of

_SELECTION, _NOTICE = ids_in("{selection_id}"), ids_in("{notice_id}")
GRADES = ("grades 考核",)
SELECTION = ("selection 选拔任用",)
ERRORS = (409,)

C = TypeVar("C", bound=CadreCommand)
Decide = Callable[[AssessmentState, C, RuleSet], Decision]


class EvaluationResult(BaseModel):
    """Answer to a recorded evaluation, and to the threshold check it may have triggered."""

    evaluation: CommandResult
    threshold_check: Literal["not_applicable", "not_principal", "recorded", "failed", "not_checked"] = Field(
        description="not_applicable: no breach with this evaluation; not_principal: the year's two evaluations "
                    "reach the threshold, but the rule is for unit principals (党政正职, S4) and the posts recorded "
                    "for the cadre in that year are all a deputy's (副职) or non-leadership ones, so no check runs "
                    "and nothing more is recorded (`threshold_problem` is the refusal POST /v1/threshold-checks "
                    "would give, rule `assessment.dual_evaluation_principals_only`, naming those posts; record the "
                    "principal's post if one is missing, then check again); recorded: "
                    "`assessment.threshold_breached` was published too; failed: the breach could not be recorded "
                    "now, POST /v1/threshold-checks again; not_checked: the evaluation was a correction (更正), after "
                    "which no check runs by itself (POST /v1/threshold-checks, or revoke a breach the corrected "
                    "figures no longer support).")
    threshold_breached: CommandResult | None = None
    threshold_problem: dict[str, Any] | None = Field(
        None, description="Why the check failed (`failed`) or does not apply (`not_principal`): a problem document.")


def _with_id(path: BaseModel, body: BaseModel, command: type[C]) -> C:
    return command(**dict(path), **dict(body))


def build_api(bus: CommandBus) -> Api:
    """The assessment service's routes, bound to a command bus."""
    api = Api("cadre-ledger assessment service (考核与选拔任用)", "1.0",
              "Records annual grades, democratic evaluations, competency tests, periodic scores and the selection "
              "pipeline (inspection, committee vote, pre-appointment notice, objections, outcome) as ledger events.")
    clock = clock_from(bus.settings)

    async def execute(request: web.Request, command: C, decide: Decide[C], query: WaitQuery,
                      observe: Callable[[AssessmentState, Decision, RuleSet], None] | None = None) -> CommandResult:
        not_in_future(command.occurred_on, clock.today())

        def decider(history: list[CloudEvent], rules: RuleSet) -> Decision:
            state = fold(history)
            decision = decide(state, command, rules)
            if observe is not None:
                observe(state, decision, rules)
            return decision

        return await bus.execute(cadre_id=command.cadre_id, county=command.county, rules_on=command.occurred_on,
                                 decide=decider,
                                 wait_committed=query.wait == "committed", traceparent=traceparent_of(request),
                                 correction=command.correction)

    # ---- grades -----------------------------------------------------------------------------

    @api.route("POST", "/v1/annual-grades", summary="Record an annual grade (年度考核定等)", body=grading.AnnualGrade,
               query=WaitQuery, response=CommandResult, status=202, tags=GRADES, errors=ERRORS)
    async def annual_grade(request: web.Request, *, body: grading.AnnualGrade, query: WaitQuery) -> CommandResult:
        """Publishes `assessment.annual_graded` with its consequences: 基本称职 -> admonishment and no promotion
        next year; 不称职 -> no promotion next year either, and a demotion one level (`demotion_required`, 待降职;
        not for a cadre whose posts held that day are all non-leadership ones at 科员, the lowest rank on record),
        which bars promotion until a demotion or removal is recorded; a second consecutive 不称职 -> dismissal case
        too. With
        `correction` (更正), the grade and its consequences are decided again on the grades recorded before the one
        corrected; a grade recorded after it keeps what was decided for it, and the grades recorded from then on
        are decided on the corrected one."""
        return await execute(request, body, grading.decide_annual_grade, query)

    @api.route("POST", "/v1/evaluations", summary="Record a democratic evaluation (民主测评)",
               body=grading.EvaluationRecord, query=WaitQuery, response=EvaluationResult, status=202, tags=GRADES,
               errors=ERRORS)
    async def evaluation(request: web.Request, *, body: grading.EvaluationRecord, query: WaitQuery) -> EvaluationResult:
        """Publishes `assessment.evaluation_recorded`. When it is the second evaluation of the year and the pair
        breaches the county's dual rule, a threshold check follows as its own command (`threshold_breached`),
        unless the posts recorded for the cadre in that year are all a deputy's (副职) or non-leadership ones: the
        rule is for unit principals (党政正职), and the answer says `threshold_check: not_principal`.

        With `correction` (更正) it publishes `assessment.evaluation_recorded.corrected` and runs no threshold
        check (`threshold_check: not_checked`): the correction is decided on the history before the evaluation
        it corrects, which may lack the year's other evaluation, and the breach already recorded for the year
        rests on the figures as they were. So the clerk decides: `POST /v1/threshold-checks` records a breach the
        corrected figures now make (it reads the corrected history); the same command with `correction` naming
        the recorded breach restates its figures; `POST /v1/revocations` revokes a breach they no longer support.

        附 `correction` 时记录更正（`assessment.evaluation_recorded.corrected`），不自动检查降免职线：由经办人
        按更正后的测评结果另行检查、更正或撤销已记录的触线事件。"""
        if body.correction is not None:
            corrected = await execute(request, body, grading.decide_evaluation, query)
            return EvaluationResult(evaluation=corrected, threshold_check="not_checked")
        breach = False
        refusal: Problem | None = None

        def observe(state: AssessmentState, decision: Decision, rules: RuleSet) -> None:
            # read on the history the evaluation was decided on; the check's command is dated the same day
            nonlocal breach, refusal
            breach = grading.completes_breach(state, decision, rules)
            refusal = grading.not_a_principal(state, body.year, body.occurred_on, rules) if breach else None

        recorded = await execute(request, body, grading.decide_evaluation, query, observe)
        if not breach:
            return EvaluationResult(evaluation=recorded, threshold_check="not_applicable")
        if refusal is not None:
            # not a failure to retry: the rule does not apply to a deputy (副职), so no check is run
            return EvaluationResult(evaluation=recorded, threshold_check="not_principal",
                                    threshold_problem=refusal.body())
        check = grading.ThresholdCheck(cadre_id=body.cadre_id, county=body.county, occurred_on=body.occurred_on,
                                       year=body.year)
        try:
            breached = await execute(request, check, grading.decide_threshold_check, query)
        except Problem as problem:
            return EvaluationResult(evaluation=recorded, threshold_check="failed", threshold_problem=problem.body())
        return EvaluationResult(evaluation=recorded, threshold_check="recorded", threshold_breached=breached)

    @api.route("POST", "/v1/threshold-checks", summary="Check the dual evaluation threshold (双重民主测评降免职线)",
               body=grading.ThresholdCheck, query=WaitQuery, response=CommandResult, status=202, tags=GRADES,
               errors=ERRORS)
    async def threshold_check(request: web.Request, *, body: grading.ThresholdCheck,
                              query: WaitQuery) -> CommandResult:
        """Publishes `assessment.threshold_breached` when the year's two evaluations breach the rule and the cadre
        held a principal's post (正职) in the year; 422 naming the rule otherwise
        (`assessment.dual_evaluation_principals_only` when the posts recorded for the year are all a deputy's or
        non-leadership ones). Safe to repeat: a year's breach is recorded once."""
        return await execute(request, body, grading.decide_threshold_check, query)

    @api.route("POST", "/v1/competency-tests", summary="Record a competency test (能力测试, 补测)",
               body=grading.CompetencyTest, query=WaitQuery, response=CommandResult, status=202, tags=GRADES,
               errors=ERRORS)
    async def competency_test(request: web.Request, *, body: grading.CompetencyTest,
                              query: WaitQuery) -> CommandResult:
        """Publishes `assessment.competency_tested`; a failed retest must name exactly one action."""
        return await execute(request, body, grading.decide_competency_test, query)

    @api.route("POST", "/v1/periodic-scores", summary="Record a monthly or quarterly score (平时考核计分)",
               body=grading.PeriodicScore, query=WaitQuery, response=CommandResult, status=202, tags=GRADES,
               errors=ERRORS)
    async def periodic_score(request: web.Request, *, body: grading.PeriodicScore, query: WaitQuery) -> CommandResult:
        """Publishes `assessment.periodic_scored`."""
        return await execute(request, body, grading.decide_periodic_score, query)

    # ---- selection --------------------------------------------------------------------------

    @api.route("POST", "/v1/selections/{selection_id}/inspection", summary="Record the inspection (任前考察)",
               path_params=_SELECTION, body=selection.InspectionBody, query=WaitQuery, response=CommandResult,
               status=202, tags=SELECTION, errors=ERRORS)
    async def inspection(request: web.Request, *, path: BaseModel, body: selection.InspectionBody,
                         query: WaitQuery) -> CommandResult:
        """Publishes `selection.inspected`: starts a selection; all four checks must be done."""
        command = _with_id(path, body, selection.Inspect)
        return await execute(request, command, selection.decide_inspection, query)

    @api.route("POST", "/v1/selections/{selection_id}/vote", summary="Record the committee vote (常委会票决)",
               path_params=_SELECTION, body=selection.VoteBody, query=WaitQuery, response=CommandResult, status=202,
               tags=SELECTION, errors=ERRORS)
    async def vote(request: web.Request, *, path: BaseModel, body: selection.VoteBody,
                   query: WaitQuery) -> CommandResult:
        """Publishes `appointment.voted` with the outcome the tally gives; 422 without quorum, and when an
        approval meets a blocker (unverified report, deferral, cancelled qualification, sanction)."""
        command = _with_id(path, body, selection.Vote)
        return await execute(request, command, selection.decide_vote, query)

    @api.route("POST", "/v1/selections/{selection_id}/withdrawal", summary="End the selection (终止选拔)",
               path_params=_SELECTION, body=selection.WithdrawalBody, query=WaitQuery, response=CommandResult,
               status=202, tags=SELECTION, errors=ERRORS)
    async def withdrawal(request: web.Request, *, path: BaseModel, body: selection.WithdrawalBody,
                         query: WaitQuery) -> CommandResult:
        """Publishes `selection.withdrawn`: the selection ends before its notice is posted (an inspection or a vote
        that should not go on, a proposal dropped); nothing more is recorded for it. After a notice, close the
        notice as not_appointed or cancel the qualification instead (422 `selection.withdraw_after_notice`)."""
        command = _with_id(path, body, selection.WithdrawSelection)
        return await execute(request, command, selection.decide_withdrawal, query)

    @api.route("POST", "/v1/selections/{selection_id}/notice", summary="Post the notice (任前公示)",
               path_params=_SELECTION, body=notices.NoticeBody, query=WaitQuery, response=CommandResult, status=202,
               tags=SELECTION, errors=ERRORS)
    async def notice(request: web.Request, *, path: BaseModel, body: notices.NoticeBody,
                     query: WaitQuery) -> CommandResult:
        """Publishes `notice.posted`; the period is counted in working days on the shipped calendar (at least 5,
        `notice.min_working_days`) or, before 2014-01-14 (2002 条例: 公示期一般为七至十五天), in calendar days, first
        and last counted (at least 7, `notice.min_calendar_days`), as the rule set of its day says."""
        command = _with_id(path, body, notices.PostNotice)
        return await execute(request, command, notices.decide_notice, query)

    @api.route("POST", "/v1/notices/{notice_id}/objections", summary="Record an objection (公示期间收到反映)",
               path_params=_NOTICE, body=notices.ObjectionBody, query=WaitQuery, response=CommandResult, status=202,
               tags=SELECTION, errors=ERRORS)
    async def objection(request: web.Request, *, path: BaseModel, body: notices.ObjectionBody,
                        query: WaitQuery) -> CommandResult:
        """Publishes `notice.objection_received`; it stays unresolved until the audit service verifies the report."""
        command = _with_id(path, body, notices.ReceiveObjection)
        return await execute(request, command, notices.decide_objection, query)

    @api.route("POST", "/v1/notices/{notice_id}/close", summary="Close the notice (公示结束)",
               path_params=_NOTICE, body=notices.CloseBody, query=WaitQuery, response=CommandResult, status=202,
               tags=SELECTION, errors=ERRORS)
    async def close(request: web.Request, *, path: BaseModel, body: notices.CloseBody,
                    query: WaitQuery) -> CommandResult:
        """Publishes `notice.closed`; `clear` needs the period over (from the day after its last day, which the
        period counts: 公示期满), every objection verified unfounded, and no blocker."""
        command = _with_id(path, body, notices.CloseNotice)
        return await execute(request, command, notices.decide_close, query)

    @api.route("POST", "/v1/notices/{notice_id}/deferral", summary="Defer the appointment (缓任)",
               path_params=_NOTICE, body=notices.DeferralBody, query=WaitQuery, response=CommandResult, status=202,
               tags=SELECTION, errors=ERRORS)
    async def deferral(request: web.Request, *, path: BaseModel, body: notices.DeferralBody,
                       query: WaitQuery) -> CommandResult:
        """Publishes `appointment.deferred`, at most the rule set's months."""
        command = _with_id(path, body, notices.Defer)
        return await execute(request, command, notices.decide_deferral, query)

    @api.route("POST", "/v1/notices/{notice_id}/cancellation", summary="Cancel the qualification (取消任职资格)",
               path_params=_NOTICE, body=notices.CancellationBody, query=WaitQuery, response=CommandResult, status=202,
               tags=SELECTION, errors=ERRORS)
    async def cancellation(request: web.Request, *, path: BaseModel, body: notices.CancellationBody,
                           query: WaitQuery) -> CommandResult:
        """Publishes `appointment.qualification_cancelled`; it ends the notice."""
        command = _with_id(path, body, notices.CancelQualification)
        return await execute(request, command, notices.decide_cancellation, query)

    revocation_route(api, bus)  # 撤销: POST /v1/revocations, this service's own types only
    return api
