"""Given events for the assessment table tests: envelopes as the services publish them, built from the models."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar

from pydantic import BaseModel

from services.assessment.domain import fold, grading
from shared.decisions import Decision
from shared.envelope import CloudEvent, new_event
from shared.events import assessment as ev
from shared.events.audit import ReportReceived, ReportVerified
from shared.events.registry import SCHEMA_BASE
from shared.events.rotation import CadreRegistered, PostAssigned, PostFields, PostVacated, RotationCompleted
from shared.problems import RECORD_KEEPING, RuleViolation
from shared.rulesets import RuleSet, ruleset_for

COUNTY = "431021"
CADRE = "C1"
Command = TypeVar("Command", bound=BaseModel)


def D(text: str) -> date:
    """A date from `YYYY-MM-DD`."""
    return date.fromisoformat(text)


def rules(county: str = COUNTY, on: str = "2024-01-01") -> RuleSet:
    """The rule set in force."""
    return ruleset_for(county, D(on))


def event(type_: str, on: str, data: BaseModel, service: str = "assessment") -> CloudEvent:
    """One envelope of the cadre, occurred on `on`."""
    return new_event(event_type=type_, cadre_id=CADRE, county=COUNTY, service=service, data=data,
                     occurred_on=D(on), ruleset="431021@2008.1")


def cmd(model: type[Command], on: str, **fields: Any) -> Command:
    """A command of the cadre, occurred on `on`."""
    return model(cadre_id=CADRE, county=COUNTY, occurred_on=D(on), **fields)


def registered(work_start: str, on: str = "2012-03-01") -> CloudEvent:
    """The cadre's registration (the rotation service's), stating when they started work."""
    return event("cadre.registered", on, CadreRegistered(
        name_commitment="0" * 64, id_number_commitment="1" * 64, sex="female", birth_month="1988-05",
        work_start=D(work_start), unit="桂阳县直机关"), service="rotation")


def _post(post_id: str, principal: bool | None, leadership: bool) -> dict[str, Any]:
    """A post's fields: a bureau chief (局长, principal: true), a deputy (副局长, principal: false), one whose
    `principal` is not stated (None), or a clerk's (leadership: false)."""
    title = "科员" if not leadership else "局长" if principal is not False else "副局长"
    return {"post_id": post_id, "post": title, "unit": "桂阳县财政局", "level": "section" if leadership else "clerk",
            "leadership": leadership, "principal": principal}


def assigned(on: str, post_id: str, principal: bool | None, leadership: bool = True) -> CloudEvent:
    """The rotation service's `post.assigned` (a lateral posting decided on `on`)."""
    return event("post.assigned", on, PostAssigned(**_post(post_id, principal, leadership), kind="lateral",
                                                   decision_date=D(on)), service="rotation")


def vacated(on: str, post_id: str) -> CloudEvent:
    """The rotation service's `post.vacated` on `on`."""
    return event("post.vacated", on, PostVacated(post_id=post_id, reason="term_end"), service="rotation")


def rotated(on: str, from_post_id: str, to_post_id: str, principal: bool | None) -> CloudEvent:
    """The rotation service's `rotation.completed` decided on `on` (recorded a week later)."""
    recorded = (D(on) + timedelta(days=7)).isoformat()
    return event("rotation.completed", recorded, RotationCompleted(
        from_post_id=from_post_id, from_post="局长", to=PostFields(**_post(to_post_id, principal, True)),
        decision_date=D(on), years_in_old_post=3, days_in_old_post=1100, trigger_rule="by_need"), service="rotation")


def graded(year: int, grade: ev.Grade, on: str | None = None) -> CloudEvent:
    """The grade as the service records it now, opening no dismissal case: 基本称职 and 不称职 bar the next year's
    promotion, and 不称职 demotes (as for a cadre whose rank can be lowered, or who has no post on record)."""
    return event("assessment.annual_graded", on or f"{year + 1}-01-15", ev.AnnualGraded(
        year=year, grade=grade, admonishment_required=grade == "basically_competent",
        promotion_blocked_years=[year + 1] if grade in ("basically_competent", "incompetent") else [],
        dismissal_case=False, demotion_required=grade == "incompetent"))


def evaluation(year: int, scope: ev.Scope, ballots: int, excellent: int, incompetent: int,
               rank: int | None = None, of: int | None = None) -> CloudEvent:
    competent = ballots - excellent - incompetent
    return event("assessment.evaluation_recorded", f"{year}-12-20", ev.EvaluationRecorded(
        year=year, scope=scope, ballots=ballots, rank=rank, of=of,
        counts=ev.GradeCounts(excellent=excellent, competent=competent, basically_competent=0,
                              incompetent=incompetent)))


def competency(on: str, attempt: int, passed: bool, retest_due: str | None = None) -> CloudEvent:
    return event("assessment.competency_tested", on, ev.CompetencyTested.model_validate(
        {"attempt": attempt, "score": "55.0", "passed": passed, "retest_due": retest_due}))


def inspected(on: str, sid: str = "S1", promotion: bool = True, post: str = "某镇党委书记") -> CloudEvent:
    return event("selection.inspected", on, ev.SelectionInspected(
        selection_id=sid, proposed_post=post, promotion=promotion, dossier_checked=True,
        personal_matters_checked=True, discipline_opinion_obtained=True, petitions_checked=True))


def voted(on: str, sid: str = "S1", outcome: ev.VoteOutcome = "approved") -> CloudEvent:
    return event("appointment.voted", on, ev.AppointmentVoted(
        selection_id=sid, proposed_post="某镇党委书记", members_entitled=11, members_present=10,
        votes_for=9 if outcome == "approved" else 3, votes_against=1, votes_deferred=0, outcome=outcome))


def posted(on: str, start: str, end: str, nid: str = "N1", sid: str = "S1") -> CloudEvent:
    return event("notice.posted", on, ev.NoticePosted(
        notice_id=nid, selection_id=sid, proposed_post="某镇党委书记", start=D(start), end=D(end), working_days=5,
        channels=["县委组织部网站"]))


def objection(on: str, report_id: str, nid: str = "N1") -> CloudEvent:
    return event("notice.objection_received", on, ev.ObjectionReceived(notice_id=nid, report_id=report_id,
                                                                       channel="12380", named=True))


def closed(on: str, outcome: ev.NoticeOutcome, nid: str = "N1") -> CloudEvent:
    return event("notice.closed", on, ev.NoticeClosed(notice_id=nid, outcome=outcome))


def deferred(on: str, until: str, nid: str = "N1") -> CloudEvent:
    return event("appointment.deferred", on, ev.AppointmentDeferred(notice_id=nid, until=D(until)))


def cancelled(on: str, nid: str = "N1") -> CloudEvent:
    return event("appointment.qualification_cancelled", on, ev.QualificationCancelled(notice_id=nid, reason="举报属实"))


def report(on: str, report_id: str) -> CloudEvent:
    return event("report.received", on, ReportReceived(report_id=report_id, channel="12380", named=False),
                 service="audit")


def raw(type_: str, on: str, **data: Any) -> CloudEvent:
    """An envelope of another service's event with data as stored on the ledger (no model needed)."""
    return CloudEvent(id=uuid.uuid4(), source=f"/counties/{COUNTY}/audit", type=type_, subject=CADRE,
                      time=datetime(2024, 1, 1, tzinfo=UTC), dataschema=f"{SCHEMA_BASE}/{type_}.json",
                      county=COUNTY, occurredon=D(on), ruleset="431021@2008.1", data=data)


def verified(on: str, report_id: str, outcome: str = "unfounded") -> CloudEvent:
    return event("report.verified", on, ReportVerified.model_validate({"report_id": report_id, "outcome": outcome}),
                 service="audit")


Expected = str | dict[str, Any]
"""A rule id the command must violate, or the fields the one event's data must carry (with `type`)."""


RECORD_KEEPING_RULES = frozenset({
    "appointment.vote_tally", "assessment.before_work_start", "assessment.breach_once", "assessment.evaluation_counts",
    "assessment.evaluation_once", "assessment.indicator_sum", "assessment.period_not_begun", "assessment.period_once",
    "notice.id_taken", "notice.not_open", "notice.objection_once", "notice.period", "notice.unknown", "selection.once",
    "selection.vote_once"})
"""The assessment rules that keep the record consistent (an id once, figures that add up, a fact after the cadre
started work); every other refusal cites a regulation or source document (依据)."""


def check(given: list[CloudEvent], decide: Callable[..., Decision], command: Any, expected: Expected,
          ruleset: RuleSet | None = None) -> None:
    """Given events, when the command, then the event (fields) or the violation (rule id)."""
    state = fold(given)
    rs = ruleset or rules()
    if isinstance(expected, str):
        try:
            decision = decide(state, command, rs)
        except RuleViolation as violation:
            assert violation.rule == expected, violation.body()
            assert violation.extra["message_en"] and violation.extra["message_zh"]
            assert (violation.extra["basis"] == RECORD_KEEPING) == (expected in RECORD_KEEPING_RULES), expected
            return
        raise AssertionError(f"expected {expected}, got {decision.type} {decision.data}")
    decision = decide(state, command, rs)
    data = decision.data.model_dump(mode="json")
    assert decision.type == expected["type"], decision
    for key, value in expected.items():
        if key != "type":
            assert data[key] == value, (key, data)


# Given events and histories shared by the grading, selection and catalogue-conformance tests.
BREACHING_COUNTY = evaluation(2024, "county_wide", 100, 30, 10, rank=56, of=60)   # last 5, excellent 30 %
BREACHING_OWN = evaluation(2024, "own_unit", 40, 20, 9)                            # incompetent 22.5 %
CHECK = cmd(grading.ThresholdCheck, "2024-12-28", year=2024)

CHECKS = {"dossier_checked": True, "personal_matters_checked": True, "discipline_opinion_obtained": True,
          "petitions_checked": True}
"""The four checks of an inspection (考察), all done."""
INSPECTED = [inspected("2024-03-01")]  # selection S1
APPROVED = [inspected("2024-03-01"), voted("2024-03-10")]
POSTED = [*APPROVED, posted("2024-03-11", "2024-03-11", "2024-03-15")]  # notice N1
