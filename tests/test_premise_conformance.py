"""Premise conformance: every premise the catalogue declares (`EventSpec.rests_on`) is one its service enforces.

`shared.premises.unsupported` and `shared.corrections` (`correction.removes_premise`) take the declarations on trust:
nothing on the write path checks a premise but the pure decide function of the service that records the type. A
premise declared but not enforced lets facts without it into the ledger (and a correction cannot protect what was
never there); a premise enforced but not declared can be corrected away from under a later fact. So, for every type
and every premise of it (a table test: given events, when the command, then the event or a 422):

- given the premise, from each of its sources in turn, the service records the type, `unsupported` finds the fact
  it decided supported, and finds it unsupported once the source's events are taken out (the source named is the
  one that carries it);
- given the history without it (nothing, another id, a source outside `only_if`, one dated after the command), the
  service refuses with its rule, and `unsupported` names that same fact on that history for this premise (the row
  is about the premise, not about some other rule).

What a service records without the premise is in GAPS, asserted as it is: a row there fails once the gap is closed,
to be moved into PREMISES. A premise declared without a row in PREMISES fails `test_every_declared_premise_has_a_row`.
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
from services.rotation import domain as rd
from services.rotation.domain import RotationState
from shared.decisions import Decision
from shared.envelope import CloudEvent
from shared.events import CATALOGUE
from shared.premises import unsupported
from shared.problems import RuleViolation
from shared.rulesets import RuleSet, ruleset_by_id
from tests import audit_support as ad
from tests import supervision_support as sd
from tests.assessment_given import (
    APPROVED,
    BREACHING_COUNTY,
    BREACHING_OWN,
    CHECK,
    INSPECTED,
    POSTED,
    cmd,
    evaluation,
    inspected,
    posted,
    voted,
)
from tests.audit_support import AUDIT_DONE, UP_TO_OPINION
from tests.conformance_support import When, as_event, assessment, audit
from tests.rotation_support import (
    POSTING,
    PROMOTED,
    ROTATED,
    D,
    assign_cmd,
    assigned,
    conclude_cmd,
    defer_cmd,
    due,
    notice_closed,
    promote_cmd,
    registered,
    rotate_cmd,
    vacate_cmd,
)

LOCAL = ruleset_by_id("431021@2008.1")  # the rotation tests' rule set
TODAY = D("2030-01-01")
REG = registered()

Present = tuple[str, list[CloudEvent]]
"""The source type that provides the premise, and a history with it."""
Absent = tuple[str, list[CloudEvent], str]
"""What is missing, a history without the premise, and the rule the service refuses with."""


def rotation(decide: Callable[[RotationState, Any, date], Decision], command: Any) -> When:
    return lambda given: decide(rd.fold(given), command, TODAY)


def rotation_ruled(decide: Callable[[RotationState, Any, RuleSet, date], Decision], command: Any) -> When:
    return lambda given: decide(rd.fold(given), command, LOCAL, TODAY)


def moved(event: CloudEvent, on: str | None = None, **data: Any) -> CloudEvent:
    """The same event (same id) dated `on` or naming other values."""
    return event.with_fact({**event.data, **data}, D(on) if on else event.occurredon)


@dataclass(frozen=True)
class Row:
    """Premise `premise` (its index in `rests_on`) of `type`: when the command, given each of `present`, the
    service records the type; given each of `absent`, it refuses."""

    type: str
    premise: int
    when: When
    present: tuple[Present, ...]
    absent: tuple[Absent, ...]


# ---- rotation -----------------------------------------------------------------------------------

DUE_P9 = due("P9", "township_8y", "2012-05-01", 8, "2020-05-01", "2020-11-01")
P9_BY_POSTING, P9_BY_ROTATION = [REG, assigned("2010-03-01", "P9")], [REG, POSTING, ROTATED]  # ROTATED: P1 -> P9
NOT_P9 = [REG, POSTING]  # holds P1, never P9

ROTATION = [
    Row("post.assigned", 0, rotation_ruled(rd.decide_assign, promote_cmd("2020-03-01")),  # a promotion naming N1
        (("notice.closed", [REG, notice_closed("2020-02-20")]),
         ("notice.closed", [REG, notice_closed("2020-02-20", outcome="minor_issue_reminded")])),
        (("no notice closed", [REG], "promotion.notice_cleared"),
         ("another notice closed", [REG, notice_closed("2020-02-20", "N2")], "promotion.notice_cleared"),
         ("closed as deferred (only_if)", [REG, notice_closed("2020-02-20", outcome="deferred")],
          "promotion.notice_cleared"),
         ("closed as not_appointed (only_if)", [REG, notice_closed("2020-02-20", outcome="not_appointed")],
          "promotion.notice_cleared"),
         ("closed after the day", [REG, notice_closed("2020-03-02")], "promotion.notice_cleared"))),
    Row("post.assigned", 0, rotation_ruled(rd.decide_assign, assign_cmd("2020-03-01", notice_id="N1")),  # lateral
        (("notice.closed", [REG, notice_closed("2020-02-20")]),),
        (("a lateral posting's: no notice closed", [REG], "posting.notice_cleared"),
         ("a lateral posting's: closed as not_appointed (only_if)",
          [REG, notice_closed("2020-02-20", outcome="not_appointed")], "posting.notice_cleared"),
         ("a lateral posting's: closed after the day", [REG, notice_closed("2020-03-02")],
          "posting.notice_cleared"))),
    Row("post.vacated", 0, rotation(rd.decide_vacate, vacate_cmd("2014-03-01", "P9")),
        (("post.assigned", P9_BY_POSTING), ("rotation.completed", P9_BY_ROTATION)),
        (("no posting", [REG], "posting.not_held"), ("another post", NOT_P9, "posting.not_held"),
         ("posted after the day", [REG, assigned("2014-06-01", "P9")], "posting.not_held"))),
    Row("probation.concluded", 0, rotation_ruled(rd.decide_conclude_probation, conclude_cmd("2021-03-01")),  # L2
        (("post.assigned", PROMOTED),),
        (("no posting", [REG], "posting.not_held"), ("another post", [REG, POSTING], "posting.not_held"),
         ("posted after the day", [REG, assigned("2021-06-01", "L2", kind="promotion", probation_end="2022-06-01",
                                                 level="deputy_division", leadership=True)], "posting.not_held"))),
    Row("rotation.deferred", 0, rotation_ruled(rd.decide_defer, defer_cmd("2020-05-10", "2020-12-31", "P9")),
        # the due counts from the day the posting or the rotation took P9 (2012-05-01), or it is no due of it
        (("post.assigned", [REG, assigned("2012-05-01", "P9"), DUE_P9]),
         ("rotation.completed", [*P9_BY_ROTATION, DUE_P9])),
        (("no posting", [REG, DUE_P9], "posting.not_held"),
         ("another post", [*NOT_P9, DUE_P9], "posting.not_held"),
         ("posted after the day", [REG, assigned("2021-01-01", "P9"), DUE_P9], "posting.not_held"))),
    Row("rotation.completed", 0, rotation_ruled(rd.decide_complete, rotate_cmd("2014-05-01", "P9", to_post_id="P10")),
        (("post.assigned", P9_BY_POSTING), ("rotation.completed", P9_BY_ROTATION)),
        (("no posting", [REG], "posting.not_held"), ("another post", NOT_P9, "posting.not_held"),
         ("posted after the day", [REG, assigned("2015-01-01", "P9")], "posting.not_held"))),
]

# ---- assessment ---------------------------------------------------------------------------------

VOTE = cmd(sel.Vote, "2024-03-10", selection_id="S1", members_entitled=11, members_present=10, votes_for=9,
           votes_against=1)
NOT_INSPECTED: tuple[Absent, ...] = (
    ("no inspection", [], "selection.order"),
    ("another selection inspected", [inspected("2024-03-01", "S2")], "selection.order"),
    ("inspected after the day", [inspected("2024-03-11")], "selection.order"))
NOT_POSTED: tuple[Absent, ...] = (  # the commands below are dated 12-15 March 2024
    ("no notice", APPROVED, "notice.unknown"),
    ("another notice", [*APPROVED, posted("2024-03-11", "2024-03-11", "2024-03-15", nid="N2")], "notice.unknown"),
    ("posted after the day", [*APPROVED, posted("2024-03-18", "2024-03-18", "2024-03-22")], "selection.order"))

ASSESSMENT = [
    Row("assessment.threshold_breached", 0, assessment(grading.decide_threshold_check, CHECK),
        (("assessment.evaluation_recorded", [BREACHING_COUNTY, BREACHING_OWN]),),
        (("no evaluation", [], "assessment.evaluations_incomplete"),
         ("no own-unit evaluation", [BREACHING_COUNTY], "assessment.evaluations_incomplete"),
         ("no county-wide evaluation", [BREACHING_OWN], "assessment.evaluations_incomplete"),
         ("the own-unit one of another year", [BREACHING_COUNTY, evaluation(2023, "own_unit", 40, 20, 9)],
          "assessment.evaluations_incomplete"),
         ("the own-unit one recorded after the day", [BREACHING_COUNTY, moved(BREACHING_OWN, "2024-12-29")],
          "assessment.evaluations_incomplete"))),
    Row("appointment.voted", 0, assessment(sel.decide_vote, VOTE), (("selection.inspected", INSPECTED),),
        NOT_INSPECTED),
    Row("selection.withdrawn", 0, assessment(sel.decide_withdrawal, cmd(sel.WithdrawSelection, "2024-03-05",
                                                                         selection_id="S1", reason="考察发现不宜提拔")),
        (("selection.inspected", INSPECTED),), NOT_INSPECTED),
    Row("notice.posted", 0, assessment(nt.decide_notice, cmd(nt.PostNotice, "2024-03-11", selection_id="S1",
                                                              notice_id="N1", start="2024-03-11", end="2024-03-15",
                                                              channels=["县委组织部网站"])),
        (("appointment.voted", APPROVED),),
        (("no vote", INSPECTED, "selection.order"),
         ("a rejected vote (only_if)", [*INSPECTED, voted("2024-03-10", outcome="rejected")], "selection.order"),
         ("another selection approved", [*INSPECTED, inspected("2024-03-01", "S2"), voted("2024-03-10", "S2")],
          "selection.order"),
         ("voted after the day", [*INSPECTED, voted("2024-03-12")], "selection.order"))),
    *(Row(type_, 0, assessment(decide, command), (("notice.posted", POSTED),), NOT_POSTED)
      for type_, decide, command in (
        ("notice.objection_received", nt.decide_objection,
         cmd(nt.ReceiveObjection, "2024-03-12", notice_id="N1", report_id="R1", channel="12380", named=False)),
        ("notice.closed", nt.decide_close, cmd(nt.CloseNotice, "2024-03-16", notice_id="N1", outcome="clear")),
        ("appointment.deferred", nt.decide_deferral, cmd(nt.Defer, "2024-03-14", notice_id="N1", until="2024-06-13")),
        ("appointment.qualification_cancelled", nt.decide_cancellation,
         cmd(nt.CancelQualification, "2024-03-14", notice_id="N1", reason="举报查实, 取消任职资格")))),
]

# ---- audit --------------------------------------------------------------------------------------

NOT_COMPLETED: tuple[Absent, ...] = (  # the commands below are dated July 2024
    ("nothing of the audit", [], "audit.not_started"),
    ("not completed", UP_TO_OPINION, "audit.not_completed"),
    ("another audit completed", [*UP_TO_OPINION, moved(ad.COMPLETED, audit_id="A2")], "audit.not_completed"),
    ("completed after the day", [*UP_TO_OPINION, moved(ad.COMPLETED, "2024-07-13")], "audit.chronology"))

AUDIT = [
    Row("audit.opinion_requested", 0, audit(audits.decide_request_opinion, ad.request("2024-06-03")),
        (("audit.started", [ad.STARTED]),),
        (("not started", [], "audit.not_started"),
         ("only completed (older data)", [sd.AUDITED], "audit.not_started"),
         ("another audit started", [moved(ad.STARTED, audit_id="A2")], "audit.not_started"),
         ("started after the day", [moved(ad.STARTED, "2024-06-04")], "audit.chronology"))),
    Row("audit.opinion_received", 0, audit(audits.decide_receive_opinion, ad.receive("2024-06-12")),
        (("audit.opinion_requested", [ad.STARTED, ad.REQUESTED]),),
        (("not requested", [ad.STARTED], "audit.opinion_not_requested"),
         ("requested for another audit", [ad.STARTED, moved(ad.REQUESTED, audit_id="A2")],
          "audit.opinion_not_requested"),
         ("requested after the day", [ad.STARTED, moved(ad.REQUESTED, "2024-06-13")], "audit.chronology"))),
    Row("audit.completed", 0, audit(audits.decide_complete, ad.complete("2024-06-20")),
        (("audit.started", UP_TO_OPINION),),
        (("not started", [ad.REQUESTED, ad.RECEIVED], "audit.not_started"),
         ("another audit started", [moved(ad.STARTED, audit_id="A2"), ad.REQUESTED, ad.RECEIVED],
          "audit.not_started"),
         ("started after the day", [moved(ad.STARTED, "2024-06-21"), ad.REQUESTED, ad.RECEIVED],
          "audit.chronology"))),
    Row("audit.finding_rectified", 0, audit(audits.decide_rectify, ad.rectify("F1", "2024-07-12")),
        (("audit.completed", AUDIT_DONE),),
        (*NOT_COMPLETED,
         ("completed without that finding",
          [*UP_TO_OPINION, moved(ad.COMPLETED, findings=ad.COMPLETED.data["findings"][1:])],
          "audit.finding_unknown"))),
    Row("audit.result_applied", 0, audit(audits.decide_apply_result, ad.apply("2024-07-12")),
        (("audit.completed", AUDIT_DONE), ("audit.completed", [sd.AUDITED])),  # also completed without a start
        NOT_COMPLETED),
    Row("report.verified", 0, audit(sup.decide_verify_report, sd.verify("2024-03-20")),
        (("report.received", [sd.RECEIVED]),),
        (("not received", [], "report.not_received"),
         ("another report received", [moved(sd.RECEIVED, report_id="R2")], "report.not_received"),
         ("received after the day", [moved(sd.RECEIVED, "2024-03-21")], "report.chronology"))),
    Row("supervision.talk_held", 0, audit(sup.decide_hold_talk, sd.talk("2024-03-25", report_id="R1")),
        (("report.verified", [sd.RECEIVED, sd.VERIFIED]),),
        (("not received", [], "report.not_received"),
         ("received, not verified", [sd.RECEIVED], "supervision.report_unverified"),
         ("verified after the day", [sd.RECEIVED, moved(sd.VERIFIED, "2024-03-26")], "supervision.chronology"))),
    Row("supervision.talk_held", 1,
        audit(sup.decide_hold_talk, sd.talk("2024-03-25", kind="admonishment", audit_id="A1")),
        (("audit.completed", [sd.AUDITED]),),
        (("no audit", [], "supervision.audit_not_completed"),
         ("started, not completed", [ad.STARTED], "supervision.audit_not_completed"),
         ("another audit completed", [moved(sd.AUDITED, audit_id="A2")], "supervision.audit_not_completed"),
         ("completed after the day", [moved(sd.AUDITED, "2024-03-26")], "supervision.chronology"))),
    Row("supervision.inquiry_sent", 0, audit(sup.decide_send_inquiry, sd.send("2024-03-05", report_id="R1")),
        (("report.received", [sd.RECEIVED]),),
        (("not received", [], "report.not_received"),
         ("another report received", [moved(sd.RECEIVED, report_id="R2")], "report.not_received"),
         ("received after the day", [moved(sd.RECEIVED, "2024-03-06")], "supervision.chronology"))),
    Row("supervision.inquiry_answered", 0, audit(sup.decide_answer_inquiry, sd.answer("2024-03-10")),
        (("supervision.inquiry_sent", [sd.SENT]),),
        (("not sent", [], "supervision.inquiry_not_sent"),
         ("another inquiry sent", [moved(sd.SENT, inquiry_id="Q2")], "supervision.inquiry_not_sent"),
         ("sent after the day", [moved(sd.SENT, "2024-03-11")], "supervision.chronology"))),
    Row("sanction.imposed", 0, audit(sup.decide_impose_sanction, sd.sanction("2024-04-01", report_id="R1")),
        (("report.verified", [sd.RECEIVED, sd.VERIFIED]),  # partly
         ("report.verified", [sd.RECEIVED, moved(sd.VERIFIED, outcome="verified")])),
        (("not received", [], "report.not_received"),
         ("received, not verified", [sd.RECEIVED], "supervision.report_unverified"),
         ("verified as unfounded (only_if)", [sd.RECEIVED, sd.UNFOUNDED], "sanction.report_unfounded"),
         ("verified after the day", [sd.RECEIVED, moved(sd.VERIFIED, "2024-04-02")], "supervision.chronology"))),
]

PREMISES = [*ROTATION, *ASSESSMENT, *AUDIT]


def lacks(given: list[CloudEvent], fact: CloudEvent, type_: str, premise: int) -> bool:
    """Whether `unsupported` names `fact`, recorded after `given`, as lacking premise `premise` of `type_`."""
    declared = CATALOGUE[type_].rests_on[premise]
    return any(u.event.id == fact.id and u.premise == declared for u in unsupported([*given, fact]))


ACCEPTED = [pytest.param(row, source, given, id=f"{row.type}#{row.premise} given {source} ({n})")
            for row in PREMISES for n, (source, given) in enumerate(row.present)]
REFUSED = [pytest.param(row, given, rule, id=f"{row.type}#{row.premise} {missing}")
           for row in PREMISES for missing, given, rule in row.absent]


@pytest.mark.parametrize(("row", "source", "given"), ACCEPTED)
def test_recorded_given_the_premise(row: Row, source: str, given: list[CloudEvent]) -> None:
    decision = row.when(given)
    assert decision.type == row.type, decision
    fact = as_event(decision)
    assert not lacks(given, fact, row.type, row.premise), "the history given lacks the premise"
    assert lacks([e for e in given if e.type != source], fact, row.type, row.premise), f"{source} does not carry it"


@pytest.mark.parametrize(("row", "given", "rule"), REFUSED)
def test_refused_without_the_premise(row: Row, given: list[CloudEvent], rule: str) -> None:
    with pytest.raises(RuleViolation) as caught:
        row.when(given)
    assert (caught.value.rule, caught.value.status) == (rule, 422), caught.value.body()
    fact = as_event(row.when(row.present[0][1]))
    assert lacks(given, fact, row.type, row.premise), "this history has the premise: the row tests another rule"


# ---- what the services record without the premise ---------------------------------------------

GAPS = [
    pytest.param("supervision.inquiry_sent", 0, [sd.VERIFIED],
                 audit(sup.decide_send_inquiry, sd.send("2024-03-25", report_id="R1")),
                 id="supervision.inquiry_sent: a report verified but never received"),
]


@pytest.mark.parametrize(("type_", "premise", "given", "when"), GAPS)
def test_known_gaps_are_still_gaps(type_: str, premise: int, given: list[CloudEvent], when: When) -> None:
    """The service records the fact though `unsupported` names it as lacking its premise. When one of these fails,
    the gap is closed: move it into PREMISES as a refusal."""
    decision = when(given)
    assert decision.type == type_
    assert lacks(given, as_event(decision), type_, premise)


def test_every_declared_premise_has_a_row() -> None:
    declared = {(t, i) for t, spec in CATALOGUE.items() for i in range(len(spec.rests_on))}
    covered = [(row.type, row.premise) for row in PREMISES]  # a premise may have several rows (a promotion, a lateral)
    assert set(covered) == declared, {"without a row": declared - set(covered), "not declared": set(covered) - declared}
    for row in PREMISES:
        premise = CATALOGUE[row.type].rests_on[row.premise]
        assert {source for source, _ in row.present} == {s.type for s in premise.sources}, (row.type, "a source")
        assert row.absent, (row.type, "no refusal")
        for s in premise.sources:
            for field, values in s.only_if:
                outside = [e for _, given, _ in row.absent for e in given
                           if e.type == s.type and str(e.data.get(field)) not in values]
                assert outside, (row.type, f"no {s.type} with {field} outside {values}")
