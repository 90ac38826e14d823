"""Table tests of corrections (更正) and revocations (撤销), `shared.corrections`: given events, when a correction or
a revocation, then the effective history, the event recorded, or the rule (422) that refuses it. No servers.

A correction is decided here as the write path decides it (`shared.commands.CommandBus.execute`): the command
of the event's type on the effective history before the event it corrects (`before_target`), recorded as its
`<type>.corrected` (`as_correction`); a revocation on the history as recorded (`decide_revocation`).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest

from services.assessment.domain import fold
from services.assessment.domain import grading as g
from shared.corrections import Revocation, as_correction, before_target, decide_revocation, effective
from shared.decisions import Correcting, Decision
from shared.envelope import CloudEvent
from shared.events.registry import spec_for
from shared.problems import RuleViolation
from tests.assessment_given import D, cmd, evaluation, event, graded, rules
from tests.rotation_support import assigned, due, registered


def corrected(target: CloudEvent, on: str, fact: CloudEvent, reason: str = "录入错误") -> CloudEvent:
    """`<type>.corrected` pointing at `target`, whose fact is `fact`'s data (the rest of `fact` is not used)."""
    model = spec_for(target.type + ".corrected").model
    data = model.model_validate({"corrects": target.id, "reason": reason, "fact": fact.data})
    return event(target.type + ".corrected", on, data, service=target.source.rsplit("/", 1)[1])


def revoked(target: CloudEvent, on: str, reason: str = "重复录入") -> CloudEvent:
    """`<type>.revoked` pointing at `target`."""
    model = spec_for(target.type + ".revoked").model
    return event(target.type + ".revoked", on, model.model_validate({"revokes": target.id, "reason": reason}),
                 service=target.source.rsplit("/", 1)[1])


def pointing_at(type_: str, target: uuid.UUID, on: str, fact: CloudEvent) -> CloudEvent:
    """A `type_` (a correction) pointing at an id of the caller's choosing, as a producer bypassing the services
    could publish it."""
    data = spec_for(type_).model.model_validate({"corrects": target, "reason": "绕过服务", "fact": fact.data})
    return event(type_, on, data)


REGISTERED = registered()
G2020 = graded(2020, "incompetent", "2021-01-15")
G2020_AS_COMPETENT = graded(2020, "competent", "2021-01-20")  # only its data and date are used as a fact
G2020_AS_EXCELLENT = graded(2020, "excellent", "2021-02-01")
G2021 = graded(2021, "basically_competent", "2022-01-15")
FIX_2020 = corrected(G2020, "2021-01-20", G2020_AS_COMPETENT)
FIX_2020_AGAIN = corrected(G2020, "2021-02-01", G2020_AS_EXCELLENT)
REVOKE_2021 = revoked(G2021, "2022-02-01")
EVAL = evaluation(2020, "own_unit", 30, 10, 2)
LATER = graded(2023, "excellent", "2024-01-15")


@dataclass(frozen=True)
class Reads:
    """What an event of the effective history reads: its id, type, day and the data fields named."""

    id: uuid.UUID
    occurredon: date
    fields: tuple[tuple[str, Any], ...] = ()


def reads(e: CloudEvent, on: str | None = None, **fields: Any) -> Reads:
    return Reads(e.id, D(on) if on else e.occurredon, tuple(sorted(fields.items())))


EFFECTIVE: list[tuple[str, list[CloudEvent], list[Reads]]] = [
    ("nothing corrected: the history as recorded", [REGISTERED, G2020, G2021],
     [reads(REGISTERED), reads(G2020, grade="incompetent"), reads(G2021)]),
    ("a correction replaces the fact and the date, at the original's place", [REGISTERED, G2020, G2021, FIX_2020],
     [reads(REGISTERED), reads(G2020, "2021-01-20", grade="competent"), reads(G2021)]),
    ("of several corrections the last one counts", [G2020, FIX_2020, G2021, FIX_2020_AGAIN],
     [reads(G2020, "2021-02-01", grade="excellent"), reads(G2021)]),
    ("a revoked event is left out", [G2020, G2021, REVOKE_2021], [reads(G2020)]),
    ("a revoked event stays out whatever corrects it", [G2020, revoked(G2020, "2021-01-16"), FIX_2020, G2021],
     [reads(G2021)]),
    ("a correction pointing at nothing is ignored",
     [G2020, pointing_at("assessment.annual_graded.corrected", uuid.uuid4(), "2021-01-20", G2020_AS_COMPETENT)],
     [reads(G2020, grade="incompetent")]),
    ("a correction pointing at a later event is ignored (it cannot have been made through a service)",
     [pointing_at("assessment.annual_graded.corrected", LATER.id, "2023-12-01", G2020_AS_COMPETENT), LATER],
     [reads(LATER, grade="excellent")]),
    ("a correction pointing at an event of another type is ignored",
     [EVAL, pointing_at("assessment.annual_graded.corrected", EVAL.id, "2021-01-20", G2020_AS_COMPETENT)],
     [reads(EVAL, scope="own_unit")]),
    ("the corrections and revocations themselves are left out", [FIX_2020, REVOKE_2021], []),
]


@pytest.mark.parametrize(("given", "then"), [c[1:] for c in EFFECTIVE], ids=[c[0] for c in EFFECTIVE])
def test_effective_history(given: list[CloudEvent], then: list[Reads]) -> None:
    history = effective(given)
    assert [e.id for e in history] == [r.id for r in then]
    for e, expected in zip(history, then, strict=True):
        assert e.occurredon == expected.occurredon, e
        assert {k: e.data[k] for k, _ in expected.fields} == dict(expected.fields), e.data


def test_effective_history_leaves_the_recorded_events_as_they_were() -> None:
    before = G2020.model_dump()
    effective([G2020, FIX_2020])
    assert G2020.model_dump() == before


# ---- when a correction or a revocation --------------------------------------------------------

When = Callable[[list[CloudEvent]], Decision]


def correct(command: Any, decide: Callable[..., Decision], target: uuid.UUID, service: str = "assessment") -> When:
    """The assessment command `command` as the correction of `target`, decided as the write path does."""
    correcting = Correcting(event_id=target, reason="录入错误")

    def when(recorded: list[CloudEvent]) -> Decision:
        target = before_target(recorded, correcting.event_id, service)
        return as_correction(target, decide(fold(target.before), command, rules()), correcting)

    return when


def grade(year: int, grade_: str, on: str) -> g.AnnualGrade:
    return cmd(g.AnnualGrade, on, year=year, grade=grade_)


def revoke(target: uuid.UUID, on: str = "2024-03-01", service: str = "assessment", **extra: Any) -> When:
    command = cmd(Revocation, on, event_id=target, reason="重复录入", **extra)
    return lambda recorded: decide_revocation(recorded, command, service)


G2019 = graded(2019, "incompetent", "2020-01-15")
AUDIT_COMPLETION = event("audit.completed", "2024-06-30", spec_for("audit.completed").model.model_validate(
    {"audit_id": "A1", "audit_type": "in_office", "report_number": "R1", "evaluation": "good", "findings": []}),
    service="audit")
POSTING = assigned("2016-03-01")
DUE = due("P1", "township_8y", "2016-03-01", 8, "2024-03-01", "2025-03-01")

Then = str | dict[str, Any]
"""A rule id (and the field it names, after `@`), or what the decision's data must carry (with `type`)."""


def unflagged(year: int, grade_: str) -> dict[str, Any]:
    """The fact of a grade that raises no admonishment and no dismissal case (不称职 still bars next year's
    promotion, and demotes the cadre, who has no post on record)."""
    return {"year": year, "grade": grade_, "admonishment_required": False,
            "promotion_blocked_years": [year + 1] if grade_ == "incompetent" else [],
            "dismissal_case": False, "consecutive_incompetent_years": [], "demotion_required": grade_ == "incompetent"}


CASES: list[tuple[str, list[CloudEvent], When, Then]] = [
    # corrections
    ("a correction records <type>.corrected, pointing at the event, with the whole fact decided again",
     [REGISTERED, G2020], correct(grade(2020, "competent", "2021-01-20"), g.decide_annual_grade, G2020.id),
     {"type": "assessment.annual_graded.corrected", "corrects": str(G2020.id), "reason": "录入错误",
      "fact": unflagged(2020, "competent")}),
    ("... decided on the history before it: the year is graded once, but not by the grade corrected",
     [REGISTERED, G2020, G2021], correct(grade(2021, "incompetent", "2022-01-16"), g.decide_annual_grade, G2021.id),
     {"type": "assessment.annual_graded.corrected",
      "fact": {"year": 2021, "grade": "incompetent", "admonishment_required": False, "promotion_blocked_years": [2022],
               "dismissal_case": True, "consecutive_incompetent_years": [2020, 2021], "demotion_required": True}}),
    ("... and on the corrections before it: 2019 was not 不称职 after all, so 2020's 不称职 opens no case",
     [REGISTERED, G2019, corrected(G2019, "2020-02-01", graded(2019, "competent")), G2020],
     correct(grade(2020, "incompetent", "2021-01-16"), g.decide_annual_grade, G2020.id),
     {"type": "assessment.annual_graded.corrected", "fact": unflagged(2020, "incompetent")}),
    ("... the facts recorded after it are not decided again: 2021's grade does not count for 2020's correction, "
     "and the answer warns of them",
     [REGISTERED, G2020, graded(2021, "incompetent")],
     correct(grade(2020, "incompetent", "2021-01-16"), g.decide_annual_grade, G2020.id),
     {"type": "assessment.annual_graded.corrected", "warnings": ["correction.later_facts"],
      "fact": unflagged(2020, "incompetent")}),
    ("the date alone may be corrected", [REGISTERED, G2020],
     correct(grade(2020, "incompetent", "2021-01-16"), g.decide_annual_grade, G2020.id),
     {"type": "assessment.annual_graded.corrected", "fact": unflagged(2020, "incompetent")}),
    ("a corrected event may be corrected again", [REGISTERED, G2020, FIX_2020],
     correct(grade(2020, "excellent", "2021-02-01"), g.decide_annual_grade, G2020.id),
     {"type": "assessment.annual_graded.corrected", "corrects": str(G2020.id)}),
    ("an id not in the cadre's history", [REGISTERED, G2020],
     correct(grade(2020, "competent", "2021-01-20"), g.decide_annual_grade, uuid.uuid4()),
     "correction.target_unknown@correction.event_id"),
    ("a correction is not corrected: correct the event it points at", [REGISTERED, G2020, FIX_2020],
     correct(grade(2020, "excellent", "2021-02-01"), g.decide_annual_grade, FIX_2020.id),
     "correction.target_is_correction@correction.event_id"),
    ("a registration is not corrected", [REGISTERED, G2020],
     correct(grade(2020, "competent", "2021-01-20"), g.decide_annual_grade, REGISTERED.id),
     "correction.not_correctable@correction.event_id"),
    ("another service's event is corrected by that service", [REGISTERED, AUDIT_COMPLETION],
     correct(grade(2023, "competent", "2024-07-01"), g.decide_annual_grade, AUDIT_COMPLETION.id),
     "correction.other_service@correction.event_id"),
    ("... a rotation event too", [REGISTERED, POSTING],
     correct(grade(2016, "competent", "2017-01-15"), g.decide_annual_grade, POSTING.id),
     "correction.other_service@correction.event_id"),
    ("a revoked event is not corrected: record the fact anew", [REGISTERED, G2020, revoked(G2020, "2021-01-16")],
     correct(grade(2020, "competent", "2021-01-20"), g.decide_annual_grade, G2020.id),
     "correction.revoked@correction.event_id"),
    ("a correction is made through the command of the event's type", [REGISTERED, EVAL],
     correct(grade(2020, "competent", "2021-01-20"), g.decide_annual_grade, EVAL.id),
     "correction.other_type@correction.event_id"),
    ("a correction that changes nothing", [REGISTERED, G2020],
     correct(grade(2020, "incompetent", "2021-01-15"), g.decide_annual_grade, G2020.id),
     "correction.no_change@correction"),
    ("... nothing as it now reads, after an earlier correction", [REGISTERED, G2020, FIX_2020],
     correct(grade(2020, "competent", "2021-01-20"), g.decide_annual_grade, G2020.id),
     "correction.no_change@correction"),
    ("a correction may not record again a fact recorded after the event: 2021 is graded already",
     [REGISTERED, G2020, G2021], correct(grade(2021, "competent", "2022-01-20"), g.decide_annual_grade, G2020.id),
     "correction.recorded_later@correction"),
    ("... unless that one was revoked", [REGISTERED, G2020, G2021, REVOKE_2021],
     correct(grade(2021, "competent", "2022-01-20"), g.decide_annual_grade, G2020.id),
     {"type": "assessment.annual_graded.corrected", "fact": unflagged(2021, "competent")}),
    ("... or a correction gave it another year", [REGISTERED, G2020, G2021,
                                                  corrected(G2021, "2023-01-15", graded(2022, "competent"))],
     correct(grade(2021, "competent", "2022-01-20"), g.decide_annual_grade, G2020.id),
     {"type": "assessment.annual_graded.corrected", "warnings": ["correction.later_facts"],
      "fact": unflagged(2021, "competent")}),
    ("the year kept, a later grade of another year is no clash", [REGISTERED, G2020, G2021],
     correct(grade(2020, "competent", "2021-01-20"), g.decide_annual_grade, G2020.id),
     {"type": "assessment.annual_graded.corrected", "warnings": ["correction.later_facts"]}),
    ("the correcting command keeps to its own rules", [REGISTERED, G2020],
     correct(grade(2022, "competent", "2021-01-20"), g.decide_annual_grade, G2020.id),
     "assessment.grade_year_not_begun"),
    # revocations
    ("a revocation records <type>.revoked, pointing at the event", [REGISTERED, G2020], revoke(G2020.id),
     {"type": "assessment.annual_graded.revoked", "revokes": str(G2020.id), "reason": "重复录入"}),
    ("a corrected event may be revoked", [REGISTERED, G2020, FIX_2020], revoke(G2020.id),
     {"type": "assessment.annual_graded.revoked", "revokes": str(G2020.id)}),
    ("an event is revoked once", [REGISTERED, G2020, revoked(G2020, "2021-01-16")], revoke(G2020.id),
     "correction.revoked@event_id"),
    ("a correction is not revoked: correct or revoke the event it points at", [REGISTERED, G2020, FIX_2020],
     revoke(FIX_2020.id), "correction.target_is_correction@event_id"),
    ("a revocation is not revoked: record the fact anew", [REGISTERED, G2020, REVOKE_2021], revoke(REVOKE_2021.id),
     "correction.target_is_correction@event_id"),
    ("a registration is not revoked", [REGISTERED, G2020], revoke(REGISTERED.id),
     "correction.not_correctable@event_id"),
    ("an id not in the cadre's history", [REGISTERED], revoke(uuid.uuid4()), "correction.target_unknown@event_id"),
    ("the scheduler's due is not revoked: it follows the postings (correct the posting)", [REGISTERED, POSTING, DUE],
     revoke(DUE.id, service="rotation"), "correction.not_correctable@event_id"),
    ("a service revokes only its own types", [REGISTERED, POSTING], revoke(POSTING.id),
     "correction.other_service@event_id"),
    ("... the service that records it may", [REGISTERED, POSTING], revoke(POSTING.id, service="rotation"),
     {"type": "post.assigned.revoked", "revokes": str(POSTING.id)}),
    ("a revocation warns of the facts recorded after the event: they were decided with it on record",
     [REGISTERED, G2020, G2021], revoke(G2020.id),
     {"type": "assessment.annual_graded.revoked", "warnings": ["correction.later_facts"]}),
    ("a revocation may be decided on the day of the event", [REGISTERED, G2020], revoke(G2020.id, on="2021-01-15"),
     {"type": "assessment.annual_graded.revoked", "revokes": str(G2020.id)}),
    ("... not before it", [REGISTERED, G2020], revoke(G2020.id, on="2021-01-14"),
     "correction.revocation_before_event@occurred_on"),
    ("... nor before the day a correction gave it", [REGISTERED, G2020, FIX_2020], revoke(G2020.id, on="2021-01-19"),
     "correction.revocation_before_event@occurred_on"),
    ("a revocation is not itself a correction", [REGISTERED, G2020],
     revoke(G2020.id, correction={"event_id": str(G2020.id), "reason": "x"}), "correction.revocation@correction"),
]


@pytest.mark.parametrize(("given", "when", "then"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_corrections_and_revocations(given: list[CloudEvent], when: When, then: Then) -> None:
    if isinstance(then, str):
        rule, _, field = then.partition("@")
        with pytest.raises(RuleViolation) as caught:
            when(given)
        problem = caught.value.body()
        assert caught.value.rule == rule, problem
        assert caught.value.status == 422 and problem["message_zh"] and problem["message_en"]
        assert problem["type"] == "https://cadre-ledger.dev/problems/rule-violation", problem
        if field:
            assert problem["field"] == field, problem
        return
    decision = when(given)
    data = decision.data.model_dump(mode="json", exclude_none=True)
    assert decision.type == then["type"], decision
    assert spec_for(decision.type).model is type(decision.data)
    assert [w.code for w in decision.warnings] == then.get("warnings", []), decision.warnings
    for key, value in then.items():
        if key not in ("type", "warnings"):
            assert data[key] == value, (key, data)


def test_a_correction_is_dated_as_its_command_and_gets_an_id_of_its_own() -> None:
    decision = correct(grade(2020, "competent", "2021-01-20"), g.decide_annual_grade, G2020.id)([REGISTERED, G2020])
    assert decision.occurred_on == D("2021-01-20")
    assert decision.event_id is None  # a random id: never de-duplicated against the event it corrects


def test_other_service_names_the_service_to_ask() -> None:
    with pytest.raises(RuleViolation) as caught:
        revoke(POSTING.id)([REGISTERED, POSTING])
    assert caught.value.body()["service"] == "rotation"
    assert "rotation" in caught.value.body()["message_zh"]


def test_a_correction_that_records_a_later_fact_again_names_it() -> None:
    with pytest.raises(RuleViolation) as caught:
        correct(grade(2021, "competent", "2022-01-20"), g.decide_annual_grade, G2020.id)([REGISTERED, G2020, G2021])
    problem = caught.value.body()
    assert problem["event_id"] == str(G2021.id) and problem["key"] == {"year": 2021}, problem
    assert str(G2021.id) in problem["message_zh"] and str(G2021.id) in problem["message_en"]
