"""Once-per conformance: every identity the catalogue declares (`EventSpec.once_per`) is one its service enforces.

`shared.corrections` (`correction.recorded_later`) takes the declarations on trust: a correction is decided on the
history before the corrected event, where the service's own `*_once` rule cannot see a fact recorded after it, so
the correction refuses to give the corrected fact the identity of such a later fact. That is only sound when the
service that records the type refuses, on its folded state, a second fact with the same values of those fields:
otherwise the two sides disagree on what a duplicate is. Nothing else checks that they agree. So, for every type and
every key of it (a table test: given events, when the command, then the event or a 422):

- given a history with a fact of the type, a command naming the same key values (and other values elsewhere) is
  refused with the service's rule; on the same history without the facts of the type it is recorded (the refusal is
  for that fact, not for something else in the history);
- the command naming another value of (one of) the key fields is recorded: the key is the identity, not something
  coarser. Where another rule necessarily refuses it (the other key of `notice.posted`), the row says so and names
  that rule.

Where a service refuses the key's values with no fact of the type on the history (it reads them from other types
too) is in WIDER. A key declared without a row fails `test_every_declared_key_has_a_row`; a key its service stops
enforcing fails its row's refusal.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest

from services.assessment.domain import grading
from services.assessment.domain import notices as nt
from services.assessment.domain import selection as sel
from services.audit.domain import audits
from services.audit.domain import supervision as sup
from shared.decisions import Decision
from shared.envelope import CloudEvent, new_event
from shared.events import CATALOGUE
from shared.events.assessment import PeriodicScored
from shared.problems import RuleViolation
from tests import audit_support as ad
from tests import supervision_support as sd
from tests.assessment_given import (
    APPROVED,
    BREACHING_COUNTY,
    BREACHING_OWN,
    CHECK,
    CHECKS,
    POSTED,
    cmd,
    deferred,
    event,
    graded,
    inspected,
    objection,
    posted,
    voted,
)
from tests.audit_support import AUDIT_DONE, UP_TO_OPINION
from tests.conformance_support import When, as_event, assessment, audit

Command = Callable[..., When]
"""The command naming these values of the key fields (and, with defaults, of the other ids it needs)."""
Other = tuple[dict[str, Any], str | None]
"""Other values of the command's ids, and None (recorded) or the rule that necessarily refuses them."""


def another(fact: CloudEvent, on: str | None = None, **data: Any) -> CloudEvent:
    """Another fact (a new id) like `fact`, dated `on` or naming other values."""
    spec = CATALOGUE[fact.type]
    return new_event(event_type=fact.type, cadre_id=fact.subject, county=fact.county, service=spec.service,
                     data=spec.model.model_validate({**fact.data, **data}),
                     occurred_on=date.fromisoformat(on) if on else fact.occurredon, ruleset=fact.ruleset)


@dataclass(frozen=True)
class Row:
    """`type` is once per `key`: given `given`, which holds a fact of it with the key values `same`, `when(**same)`
    is refused with `rule`; `when` with each of `others` is recorded (or refused by the other rule named)."""

    type: str
    key: tuple[str, ...]
    given: list[CloudEvent]
    when: Command
    same: dict[str, Any]
    rule: str
    others: tuple[Other, ...]


# ---- assessment ---------------------------------------------------------------------------------

BREACH_2024 = as_event(assessment(grading.decide_threshold_check, CHECK)([BREACHING_COUNTY, BREACHING_OWN]))
BREACHING_2023 = [another(BREACHING_COUNTY, "2023-12-20", year=2023), another(BREACHING_OWN, "2023-12-20", year=2023)]
SCORED = event("assessment.periodic_scored", "2024-04-05",
               PeriodicScored.model_validate({"period": "2024-03", "score": "900"}))
S2_APPROVED = [inspected("2024-03-01", "S2"), voted("2024-03-10", "S2")]
N2_POSTED = [*S2_APPROVED, posted("2024-03-18", "2024-03-18", "2024-03-22", nid="N2", sid="S2")]


def evaluate(year: int, scope: str) -> When:
    return assessment(grading.decide_evaluation, cmd(
        grading.EvaluationRecord, f"{year}-12-21", year=year, scope=scope, ballots=80, rank=10, of=60,
        counts={"excellent": 50, "competent": 30, "basically_competent": 0, "incompetent": 0}))


def post(selection_id: str, notice_id: str) -> When:
    return assessment(nt.decide_notice, cmd(nt.PostNotice, "2024-03-25", selection_id=selection_id,
                                             notice_id=notice_id, start="2024-03-25", end="2024-03-29",
                                             channels=["政府网站"]))


ASSESSMENT = [
    Row("assessment.annual_graded", ("year",), [graded(2023, "excellent")],
        lambda year: assessment(grading.decide_annual_grade, cmd(grading.AnnualGrade, "2024-02-01", year=year,
                                                                  grade="competent")),
        {"year": 2023}, "assessment.annual_grade_once", (({"year": 2022}, None),)),
    Row("assessment.evaluation_recorded", ("year", "scope"), [BREACHING_COUNTY], evaluate,
        {"year": 2024, "scope": "county_wide"}, "assessment.evaluation_once",
        (({"year": 2023}, None), ({"scope": "own_unit"}, None))),
    Row("assessment.threshold_breached", ("year",), [BREACHING_COUNTY, BREACHING_OWN, BREACH_2024, *BREACHING_2023],
        lambda year: assessment(grading.decide_threshold_check, cmd(grading.ThresholdCheck, "2025-01-06", year=year)),
        {"year": 2024}, "assessment.breach_once", (({"year": 2023}, None),)),
    Row("assessment.periodic_scored", ("period",), [SCORED],
        lambda period: assessment(grading.decide_periodic_score, cmd(grading.PeriodicScore, "2024-06-03",
                                                                      period=period, score="880.5")),
        {"period": "2024-03"}, "assessment.period_once",
        (({"period": "2024-04"}, None), ({"period": "2024-Q1"}, None))),  # an overlapping quarter is another period
    Row("selection.inspected", ("selection_id",), [inspected("2024-03-01")],
        lambda selection_id: assessment(sel.decide_inspection, cmd(
            sel.Inspect, "2024-03-02", selection_id=selection_id, proposed_post="某镇镇长", promotion=False, **CHECKS)),
        {"selection_id": "S1"}, "selection.once", (({"selection_id": "S2"}, None),)),
    Row("appointment.voted", ("selection_id",), [*APPROVED, inspected("2024-03-01", "S2")],
        lambda selection_id: assessment(sel.decide_vote, cmd(sel.Vote, "2024-03-12", selection_id=selection_id,
                                                             members_entitled=11, members_present=9, votes_for=3,
                                                             votes_against=6)),
        {"selection_id": "S1"}, "selection.vote_once", (({"selection_id": "S2"}, None),)),
    # notice.posted has two keys: the command naming another value of one names the fact's value of the other, and
    # that key's rule refuses it; so each key is shown by a command naming other values of both as well.
    Row("notice.posted", ("selection_id",), [*POSTED, *S2_APPROVED],
        lambda selection_id, notice_id="N2": post(selection_id, notice_id),
        {"selection_id": "S1"}, "notice.once_per_selection",
        (({"selection_id": "S2"}, None), ({"selection_id": "S2", "notice_id": "N1"}, "notice.id_taken"))),
    Row("notice.posted", ("notice_id",), [*POSTED, *S2_APPROVED],
        lambda notice_id, selection_id="S2": post(selection_id, notice_id),
        {"notice_id": "N1"}, "notice.id_taken",
        (({"notice_id": "N2"}, None), ({"notice_id": "N2", "selection_id": "S1"}, "notice.once_per_selection"))),
    Row("notice.objection_received", ("notice_id", "report_id"), [*POSTED, objection("2024-03-12", "R1"), *N2_POSTED],
        lambda notice_id, report_id: assessment(nt.decide_objection, cmd(
            nt.ReceiveObjection, "2024-03-19", notice_id=notice_id, report_id=report_id, channel="letter",
            named=False)),
        {"notice_id": "N1", "report_id": "R1"}, "notice.objection_once",
        (({"report_id": "R2"}, None), ({"notice_id": "N2"}, None))),
    Row("appointment.deferred", ("notice_id",), [*POSTED, deferred("2024-03-14", "2024-05-14"), *N2_POSTED],
        lambda notice_id: assessment(nt.decide_deferral, cmd(nt.Defer, "2024-03-20", notice_id=notice_id,
                                                              until="2024-05-20", reason="待核查")),
        {"notice_id": "N1"}, "appointment.deferral_once", (({"notice_id": "N2"}, None),)),
]

# ---- audit --------------------------------------------------------------------------------------

A2_STARTED = another(ad.STARTED, audit_id="A2")
A2_REQUESTED = [A2_STARTED, another(ad.REQUESTED, audit_id="A2")]
A2_RECEIVED = [*A2_REQUESTED, another(ad.RECEIVED, audit_id="A2")]

AUDIT = [
    Row("audit.started", ("audit_id",), [ad.STARTED],
        lambda audit_id: audit(audits.decide_start, ad.start("2024-05-08", audit_id=audit_id, audit_type="in_office",
                                                             post_id=None)),
        {"audit_id": "A1"}, "audit.start_once", (({"audit_id": "A2"}, None),)),
    Row("audit.opinion_requested", ("audit_id",), [ad.STARTED, ad.REQUESTED, A2_STARTED],
        lambda audit_id: audit(audits.decide_request_opinion, sd.cmd(audits.RequestOpinion, "2024-06-05",
                                                                     audit_id=audit_id)),
        {"audit_id": "A1"}, "audit.opinion_request_once", (({"audit_id": "A2"}, None),)),
    Row("audit.opinion_received", ("audit_id",), [*UP_TO_OPINION, *A2_REQUESTED],
        lambda audit_id: audit(audits.decide_receive_opinion, sd.cmd(
            audits.ReceiveOpinion, "2024-06-13", audit_id=audit_id, agrees=False, summary="有异议")),
        {"audit_id": "A1"}, "audit.opinion_receive_once", (({"audit_id": "A2"}, None),)),
    Row("audit.completed", ("audit_id",), [*AUDIT_DONE, *A2_RECEIVED],
        lambda audit_id: audit(audits.decide_complete, ad.complete("2024-06-21", audit_id=audit_id,
                                                                   report_number="桂审〔2024〕9号")),
        {"audit_id": "A1"}, "audit.complete_once", (({"audit_id": "A2"}, None),)),
    Row("audit.finding_rectified", ("audit_id", "finding_id"), [*AUDIT_DONE, ad.RECTIFIED, *A2_RECEIVED,
                                                                another(ad.COMPLETED, audit_id="A2")],
        lambda audit_id, finding_id: audit(audits.decide_rectify, sd.cmd(
            audits.RectifyFinding, "2024-07-02", audit_id=audit_id, finding_id=finding_id, measures="完善制度")),
        {"audit_id": "A1", "finding_id": "F1"}, "audit.rectify_once",
        (({"finding_id": "F2"}, None), ({"audit_id": "A2"}, None))),
    Row("report.received", ("report_id",), [sd.RECEIVED],
        lambda report_id: audit(sup.decide_receive_report, sd.cmd(sup.ReceiveReport, "2024-03-02", report_id=report_id,
                                                                  channel="letter", named=True)),
        {"report_id": "R1"}, "report.receive_once", (({"report_id": "R2"}, None),)),
    Row("report.verified", ("report_id",), [sd.RECEIVED, sd.VERIFIED, another(sd.RECEIVED, report_id="R2")],
        lambda report_id: audit(sup.decide_verify_report, sd.cmd(sup.VerifyReport, "2024-03-21", report_id=report_id,
                                                                 outcome="unfounded")),
        {"report_id": "R1"}, "report.verify_once", (({"report_id": "R2"}, None),)),
    Row("supervision.talk_held", ("talk_id",), [sd.TALKED],
        lambda talk_id: audit(sup.decide_hold_talk, sd.talk("2024-03-26", talk_id=talk_id, kind="heart_to_heart")),
        {"talk_id": "T1"}, "supervision.talk_once", (({"talk_id": "T2"}, None),)),
    Row("supervision.inquiry_sent", ("inquiry_id",), [sd.RECEIVED, sd.SENT],
        lambda inquiry_id: audit(sup.decide_send_inquiry, sd.send("2024-03-04", inquiry_id=inquiry_id)),
        {"inquiry_id": "Q1"}, "supervision.inquiry_send_once", (({"inquiry_id": "Q2"}, None),)),
    Row("supervision.inquiry_answered", ("inquiry_id",), [sd.SENT, sd.ANSWERED, another(sd.SENT, inquiry_id="Q2")],
        lambda inquiry_id: audit(sup.decide_answer_inquiry, sd.answer("2024-03-11", inquiry_id=inquiry_id,
                                                                      summary="已说明")),
        {"inquiry_id": "Q1"}, "supervision.inquiry_answer_once", (({"inquiry_id": "Q2"}, None),)),
    Row("sanction.imposed", ("sanction_id",), [sd.SANCTIONED],
        lambda sanction_id: audit(sup.decide_impose_sanction, sd.sanction(
            "2024-05-06", sanction_id=sanction_id, effective_from="2024-05-06", effective_until="2025-05-05")),
        {"sanction_id": "S1"}, "sanction.impose_once", (({"sanction_id": "S2"}, None),)),
]

ROWS = [*ASSESSMENT, *AUDIT]


def key_of(decision: Decision, key: tuple[str, ...]) -> dict[str, Any]:
    data = decision.data.model_dump(mode="json")
    return {f: data.get(f) for f in key}


def name(row: Row) -> str:
    return f"{row.type} once per {'+'.join(row.key)}"


SAME = [pytest.param(row, id=name(row)) for row in ROWS]
OTHERS = [pytest.param(row, change, rule, id=f"{name(row)}: {change} {rule or 'recorded'}")
          for row in ROWS for change, rule in row.others]


@pytest.mark.parametrize("row", SAME)
def test_a_second_fact_with_the_same_key_is_refused(row: Row) -> None:
    facts = [e for e in row.given if e.type == row.type and {f: e.data.get(f) for f in row.key} == row.same]
    assert set(row.same) == set(row.key) and facts, "the history given has no fact of the type with these values"
    with pytest.raises(RuleViolation) as caught:
        row.when(**row.same)(row.given)
    assert (caught.value.rule, caught.value.status) == (row.rule, 422), caught.value.body()
    decision = row.when(**row.same)([e for e in row.given if e.type != row.type])
    assert decision.type == row.type, "refused for something else in the history, not for the fact"
    assert key_of(decision, row.key) == row.same
    fact = decision.data.model_dump(mode="json", exclude_none=True), decision.occurred_on
    assert all(fact != (e.data, e.occurredon) for e in facts), "the command repeats the fact: name other values"


@pytest.mark.parametrize(("row", "change", "rule"), OTHERS)
def test_another_value_of_the_key_is_no_duplicate(row: Row, change: dict[str, Any], rule: str | None) -> None:
    values = {**row.same, **change}
    assert any(values[f] != row.same[f] for f in row.key), "the row names the same key values"
    when = row.when(**values)
    if rule is None:
        decision = when(row.given)
        assert decision.type == row.type, decision
        assert key_of(decision, row.key) == {f: values[f] for f in row.key}
        return
    assert rule != row.rule
    with pytest.raises(RuleViolation) as caught:
        when(row.given)
    assert (caught.value.rule, caught.value.status) == (rule, 422), caught.value.body()


# ---- where a service's identity is wider than the catalogue's ---------------------------------

def row_of(type_: str) -> Row:
    return next(row for row in ROWS if row.type == type_)


WIDER = [  # histories the services wrote before they recorded the first step (test_a_legacy_completion_...)
    pytest.param(row_of("report.received"), [sd.VERIFIED], id="report.received given only its report verified"),
    pytest.param(row_of("audit.started"), [sd.AUDITED], id="audit.started given only its audit completed"),
]


@pytest.mark.parametrize(("row", "given"), WIDER)
def test_where_the_service_refuses_more_than_the_declared_key(row: Row, given: list[CloudEvent]) -> None:
    """The service refuses the key's values though the history holds no fact of the type: it takes them from facts
    of other types too (state it folds from them). Safe for `correction.recorded_later` (the service is stricter),
    but no fact of the type can be recorded for these values. A row fails once the service's identity is narrowed."""
    assert not any(e.type == row.type for e in given)
    with pytest.raises(RuleViolation) as caught:
        row.when(**row.same)(given)
    assert (caught.value.rule, caught.value.status) == (row.rule, 422), caught.value.body()


def test_every_declared_key_has_a_row() -> None:
    declared = {(t, key) for t, spec in CATALOGUE.items() for key in spec.once_per}
    covered = [(row.type, row.key) for row in ROWS]
    assert len(covered) == len(set(covered)), "a key with two rows"
    assert set(covered) == declared, {"without a row": declared - set(covered), "not declared": set(covered) - declared}
    for row in ROWS:
        varied = {f for change, _ in row.others for f in change if f in row.key}
        assert varied == set(row.key), (name(row), "a key field never given another value")
        assert any(rule is None for _, rule in row.others), (name(row), "another value never recorded")
