"""Premises (前提事实), `shared.premises`, and the corrections that would take one away (`correction.removes_premise`).

Given events, then the facts that lack their premise; given events, when a correction or a revocation, then the
event recorded or the rule that refuses it. No servers: the HTTP path is in tests/test_corrections_api.py.
"""

from __future__ import annotations

import json
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from services.audit.domain import fold as audit_fold
from services.audit.domain import supervision
from services.rotation import domain
from shared.corrections import Revocation, as_correction, before_target, decide_revocation
from shared.decisions import Correcting, Decision
from shared.envelope import CloudEvent
from shared.events.registry import CATALOGUE, HOLDINGS, ID_PATH
from shared.premises import taken_while_held, unsupported
from shared.problems import RuleViolation
from shared.rulesets import ruleset_by_id
from tests.rotation_support import (
    CADRE,
    COUNTY,
    POSTING,
    ROTATED,
    D,
    assign_cmd,
    assigned,
    ev,
    foreign,
    notice_closed,
    registered,
    report_received,
    report_verified,
    vacated,
)

ROOT = Path(__file__).resolve().parent.parent
LOCAL = ruleset_by_id("431021@2008.1")
TODAY = D("2030-01-01")

REGISTERED = registered()
LEFT = vacated("2014-03-01")


def audit(type_: str, on: str, **data: Any) -> CloudEvent:
    return foreign(type_, on, "audit", **data)


def evaluation(on: str, scope: str) -> CloudEvent:
    return foreign("assessment.evaluation_recorded", on, "assessment", year=2023, scope=scope, ballots=30,
                   counts={"excellent": 5, "competent": 15, "basically_competent": 4, "incompetent": 6})


def breach(on: str, *evaluations: CloudEvent) -> CloudEvent:
    return foreign("assessment.threshold_breached", on, "assessment", rule="dual_evaluation", year=2023,
                   evaluations=[{"event_id": str(e.id), "scope": e.data["scope"], "ballots": 30,
                                 "excellent_pct": "16.7", "incompetent_pct": "20.0"} for e in evaluations])


COUNTY_WIDE, OWN_UNIT = evaluation("2024-01-10", "county_wide"), evaluation("2024-01-12", "own_unit")
STARTED = audit("audit.started", "2024-03-01", audit_id="A1", audit_type="in_office", period_from="2020-01-01",
                period_to="2023-12-31", auditing_body="桂阳县审计局")
COMPLETED = audit("audit.completed", "2024-06-30", audit_id="A1", audit_type="in_office", report_number="R1",
                  evaluation="good", findings=[{"finding_id": "F1", "category": 3, "amount": "1000.00",
                                                "responsibility": "direct"}])


def rectified(finding: str) -> CloudEvent:
    return audit("audit.finding_rectified", "2024-08-01", audit_id="A1", finding_id=finding, measures="已整改")


# ---- given events, then the facts without their premise ----------------------------------------

UNSUPPORTED: list[tuple[str, list[CloudEvent], list[tuple[CloudEvent, dict[str, str]]]]] = [
    ("a post left rests on its posting", [REGISTERED, POSTING, LEFT], []),
    ("... without one, it lacks its premise", [REGISTERED, LEFT], [(LEFT, {"post_id": "P1"})]),
    ("a post taken by a rotation is held from it", [REGISTERED, POSTING, ROTATED, vacated("2014-03-01", "P9")], []),
    ("the premise is on record by the fact's day", [REGISTERED, assigned("2014-04-01"), LEFT],
     [(LEFT, {"post_id": "P1"})]),
    ("... and earlier in the ledger: a posting recorded after the fact does not carry it",
     [REGISTERED, LEFT, assigned("2010-03-01")], [(LEFT, {"post_id": "P1"})]),
    ("an absent optional field names no premise: a talk of no report and no audit",
     [REGISTERED, audit("supervision.talk_held", "2024-01-05", talk_id="T1", kind="reminder")], []),
    ("each item of a list names a premise: a breach rests on both evaluations by their ids",
     [REGISTERED, COUNTY_WIDE, OWN_UNIT, breach("2024-01-15", COUNTY_WIDE, OWN_UNIT)], []),
    ("... one missing is named", [REGISTERED, COUNTY_WIDE, half := breach("2024-01-15", COUNTY_WIDE, OWN_UNIT)],
     [(half, {"evaluations.event_id": str(OWN_UNIT.id)})]),
    ("several fields name one premise together: a rectified finding is one of the audit's findings",
     [REGISTERED, STARTED, COMPLETED, rectified("F1")], []),
    ("... another audit's finding, or none, is not", [REGISTERED, STARTED, COMPLETED, wrong := rectified("F2")],
     [(wrong, {"audit_id": "A1", "finding_id": "F2"})]),
    ("a premise of another service's event: a promotion rests on the notice it names (and here the notice's close "
     "lacks its posting too: each fact is judged by itself)",
     [REGISTERED, closed := notice_closed("2015-06-01"),
      promoted := assigned("2015-06-10", "L1", "promotion", notice_id="N2", level="deputy_section")],
     [(closed, {"notice_id": "N1"}), (promoted, {"notice_id": "N2"})]),
    ("a source counts only with the values it must hold: a sanction follows from a report verified as founded",
     [REGISTERED, report_received("2023-03-01"), report_verified("2023-04-01", outcome="partly"),
      audit("sanction.imposed", "2023-05-01", sanction_id="S1", report_id="R1")], []),
    ("... not from one found unfounded", [REGISTERED, report_received("2023-03-01"), report_verified("2023-04-01"),
                                          baseless := audit("sanction.imposed", "2023-05-01", sanction_id="S1",
                                                            report_id="R1")],
     [(baseless, {"report_id": "R1"})]),
]


@pytest.mark.parametrize(("given", "then"), [c[1:] for c in UNSUPPORTED], ids=[c[0] for c in UNSUPPORTED])
def test_unsupported_facts(given: list[CloudEvent], then: list[tuple[CloudEvent, dict[str, str]]]) -> None:
    assert [(u.event.id, u.names) for u in unsupported(given)] == [(e.id, names) for e, names in then]


TAKEN_AGAIN = assigned("2016-03-01")  # P1 once more

RETAKEN: list[tuple[str, list[CloudEvent], list[tuple[CloudEvent, dict[str, str]]]]] = [
    ("a post taken again while held", [REGISTERED, POSTING, TAKEN_AGAIN], [(TAKEN_AGAIN, {"post_id": "P1"})]),
    ("... not once it was left", [REGISTERED, POSTING, LEFT, TAKEN_AGAIN], []),
    ("... nor once a rotation led away from it", [REGISTERED, POSTING, ROTATED, TAKEN_AGAIN], []),
    ("a rotation to a post held already", [REGISTERED, assigned("2011-01-01", "P9"), POSTING, ROTATED],
     [(ROTATED, {"to.post_id": "P9"})]),
    ("other posts are other holdings", [REGISTERED, POSTING, assigned("2011-01-01", "P2")], []),
]


@pytest.mark.parametrize(("given", "then"), [c[1:] for c in RETAKEN], ids=[c[0] for c in RETAKEN])
def test_taken_while_held(given: list[CloudEvent], then: list[tuple[CloudEvent, dict[str, str]]]) -> None:
    assert [(r.event.id, r.names) for r in taken_while_held(given)] == [(e.id, names) for e, names in then]


def _field_at(model: type[BaseModel], path: str) -> bool:
    """Whether a dotted path leads through `model`'s fields (into nested models and lists of them)."""
    step, _, rest = path.partition(".")
    field = model.model_fields.get(step)
    if field is None:
        return False
    if not rest:
        return True
    inner = [a for t in (field.annotation, *typing.get_args(field.annotation)) for a in (t, *typing.get_args(t))
             if isinstance(a, type) and issubclass(a, BaseModel)]
    return any(_field_at(m, rest) for m in inner)


def test_every_premise_names_fields_and_types_of_the_catalogue() -> None:
    declared = [(spec, p) for spec in CATALOGUE.values() for p in spec.rests_on]
    assert len(declared) >= 20, "the services' order rules (a vacate needs the posting...) are declared"
    for spec, premise in declared:
        for path in premise.fields:
            assert _field_at(spec.model, path), (spec.type, path)
        for source in premise.sources:
            provider = CATALOGUE.get(source.type)
            assert provider is not None and provider.corrects is None, (spec.type, source)
            assert len(source.paths) == len(premise.fields), (spec.type, source)
            for path in source.paths:
                assert path == ID_PATH or _field_at(provider.model, path), (spec.type, source, path)
            for field, values in source.only_if:
                allowed = typing.get_args(provider.model.model_fields[field].annotation)
                assert values and set(values) <= set(allowed), (spec.type, source, allowed)


def test_every_holding_is_taken_and_left_by_one_field_of_catalogue_types() -> None:
    assert HOLDINGS, "a post is held once at a time (posting.already_held)"
    for held in HOLDINGS:
        for source in (*held.taken_by, *held.left_by):
            spec = CATALOGUE.get(source.type)
            assert spec is not None and spec.corrects is None, (held.name, source)
            assert len(source.paths) == 1 and _field_at(spec.model, source.paths[0]), (held.name, source)
            assert not source.only_if, (held.name, source)


# ---- when a correction or a revocation would take a premise away --------------------------------

When = Callable[[list[CloudEvent]], Decision]


def revoke(target: CloudEvent, service: str = "rotation", on: str = "2024-09-01") -> When:
    command = Revocation(cadre_id=CADRE, county=COUNTY, occurred_on=D(on), event_id=target.id, reason="录错干部")
    return lambda recorded: decide_revocation(recorded, command, service)


def correct_posting(target: CloudEvent, on: str = "2010-03-01", post_id: str = "P1", **fields: Any) -> When:
    """The posting `target` corrected through the rotation service's assign command, as the write path decides it."""
    correcting = Correcting(event_id=target.id, reason="录入错误")

    def when(recorded: list[CloudEvent]) -> Decision:
        named = before_target(recorded, target.id, "rotation")
        return as_correction(named, domain.decide_assign(domain.fold(named.before),
                                                         assign_cmd(on, post_id, **fields), LOCAL, TODAY), correcting)

    return when


def correct_verification(target: CloudEvent, outcome: str) -> When:
    """The report verification `target` corrected through the audit service's verify command."""
    correcting = Correcting(event_id=target.id, reason="录入错误")
    command = supervision.VerifyReport(cadre_id=CADRE, county=COUNTY, occurred_on=target.occurredon, report_id="R1",
                                       outcome=outcome)

    def when(recorded: list[CloudEvent]) -> Decision:
        named = before_target(recorded, target.id, "audit")
        return as_correction(named, supervision.decide_verify_report(audit_fold(named.before), command, LOCAL),
                             correcting)

    return when


def revoked(target: CloudEvent, on: str = "2024-08-01") -> CloudEvent:
    return ev(target.type + ".revoked", on, revokes=target.id, reason="重复录入")


REPORT, VERIFIED = report_received("2023-03-01"), report_verified("2023-04-01", outcome="verified")
SANCTION = audit("sanction.imposed", "2023-05-01", sanction_id="S1", category="party", measure="warning",
                 effective_from="2023-05-01", effective_until="2024-04-30", report_id="R1")
CLEARED = notice_closed("2015-06-01")
PROMOTED = assigned("2015-06-10", "L1", "promotion", notice_id="N1", level="deputy_section")

CASES: list[tuple[str, list[CloudEvent], When, str | dict[str, Any]]] = [
    ("a posting left later is not revoked: the vacate would rest on nothing", [REGISTERED, POSTING, LEFT],
     revoke(POSTING), "correction.removes_premise@event_id"),
    ("... once the vacate is revoked, it may be", [REGISTERED, POSTING, LEFT, revoked(LEFT)], revoke(POSTING),
     {"type": "post.assigned.revoked"}),
    ("a posting corrected to another post would leave the vacate of the first without it",
     [REGISTERED, POSTING, LEFT], correct_posting(POSTING, post_id="P2"),
     "correction.removes_premise@correction.event_id"),
    ("... and so would a posting dated after its vacate", [REGISTERED, POSTING, LEFT],
     correct_posting(POSTING, on="2014-06-01"), "correction.removes_premise@correction.event_id"),
    ("a posting corrected otherwise keeps the vacate's premise (the answer warns of the later facts)",
     [REGISTERED, POSTING, LEFT], correct_posting(POSTING, post="镇政府办公室科员"),
     {"type": "post.assigned.corrected", "warnings": ["correction.later_facts"]}),
    ("a later fact that lacked its premise already does not stand in the way",
     [REGISTERED, POSTING, vacated("2014-03-01", "P7")], revoke(POSTING),
     {"type": "post.assigned.revoked", "warnings": ["correction.later_facts"]}),
    ("a premise another service's fact rests on: the notice a promotion names",
     [REGISTERED, CLEARED, PROMOTED], revoke(CLEARED, "assessment"), "correction.removes_premise@event_id"),
    ("the verified report a sanction follows from", [REGISTERED, REPORT, VERIFIED, SANCTION],
     revoke(VERIFIED, "audit"), "correction.removes_premise@event_id"),
    ("an evaluation a breach rests on",
     [REGISTERED, COUNTY_WIDE, OWN_UNIT, breach("2024-01-15", COUNTY_WIDE, OWN_UNIT)],
     revoke(OWN_UNIT, "assessment"), "correction.removes_premise@event_id"),
    ("a report verified as founded, corrected to unfounded, would leave the sanction that followed from it "
     "without its premise", [REGISTERED, REPORT, VERIFIED, SANCTION], correct_verification(VERIFIED, "unfounded"),
     "correction.removes_premise@correction.event_id"),
    ("... corrected to partly founded, it still carries it", [REGISTERED, REPORT, VERIFIED, SANCTION],
     correct_verification(VERIFIED, "partly"), {"type": "report.verified.corrected",
                                                "warnings": ["correction.later_facts"]}),
    ("a posting corrected to a post the cadre takes later, never leaving the first, would hold it twice",
     [REGISTERED, POSTING, P2 := assigned("2011-01-01", "P2")], correct_posting(POSTING, post_id="P2"),
     "correction.held_twice@correction.event_id"),
    ("... once the later posting is revoked, it may be", [REGISTERED, POSTING, P2, revoked(P2)],
     correct_posting(POSTING, post_id="P2"), {"type": "post.assigned.corrected"}),
    ("the vacate between two postings of a post is not revoked while the second stands",
     [REGISTERED, POSTING, LEFT, TAKEN_AGAIN], revoke(LEFT), "correction.held_twice@event_id"),
    ("a fact no later fact rests on is revoked as before", [REGISTERED, REPORT, VERIFIED, SANCTION],
     revoke(SANCTION, "audit"), {"type": "sanction.imposed.revoked"}),
]


@pytest.mark.parametrize(("given", "when", "then"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_corrections_keep_later_facts_premises(given: list[CloudEvent], when: When,
                                               then: str | dict[str, Any]) -> None:
    if isinstance(then, str):
        rule, _, field = then.partition("@")
        with pytest.raises(RuleViolation) as caught:
            when(given)
        problem = caught.value.body()
        assert (caught.value.rule, problem["field"]) == (rule, field), problem
        return
    decision = when(given)
    assert decision.type == then["type"], decision
    assert [w.code for w in decision.warnings] == then.get("warnings", []), decision.warnings


def test_the_refusal_names_each_fact_and_the_service_that_records_it() -> None:
    with pytest.raises(RuleViolation) as caught:
        revoke(CLEARED, "assessment")([REGISTERED, CLEARED, PROMOTED])
    problem = caught.value.body()
    assert problem["later_events"] == [{"event_id": str(PROMOTED.id), "type": "post.assigned", "service": "rotation",
                                        "names": {"notice_id": "N1"}}], problem
    assert str(PROMOTED.id) in problem["message_en"] and "notice_id N1" in problem["message_en"]
    assert f"任职 {PROMOTED.id}" in problem["message_zh"], problem["message_zh"]


def test_a_rotation_carries_the_posts_premise_forward() -> None:
    """A vacate of the post a rotation led to rests on the rotation, not the first posting: the posting still may
    not go (the rotation rests on it), the rotation may not either (the vacate rests on it)."""
    left = vacated("2014-03-01", "P9")
    given = [REGISTERED, POSTING, ROTATED, left]
    for target, service in ((POSTING, "rotation"), (ROTATED, "rotation")):
        with pytest.raises(RuleViolation) as caught:
            revoke(target, service)(given)
        named = {e["event_id"] for e in caught.value.body()["later_events"]}
        assert named == ({str(ROTATED.id)} if target is POSTING else {str(left.id)}), caught.value.body()


def test_the_event_catalogue_shows_what_each_type_rests_on() -> None:
    """The committed JSON Schema and the AsyncAPI message of a type list its premises (`x-rests-on`)."""
    schema = json.loads((ROOT / "schemas/events/post.vacated.json").read_text(encoding="utf-8"))
    assert schema["x-rests-on"] == [{"fields": ["post_id"], "sources": [
        {"type": "post.assigned", "paths": ["post_id"]}, {"type": "rotation.completed", "paths": ["to.post_id"]}]}]
    messages = json.loads((ROOT / "docs/asyncapi.json").read_text(encoding="utf-8"))["components"]["messages"]
    rests_on = {m["name"]: m.get("x-rests-on") for m in messages.values()}
    assert rests_on["sanction.imposed"] == [{"fields": ["report_id"], "sources": [
        {"type": "report.verified", "paths": ["report_id"], "only_if": {"outcome": ["partly", "verified"]}}]}]
    assert rests_on["cadre.registered"] is None
    holdings = json.loads((ROOT / "docs/asyncapi.json").read_text(encoding="utf-8"))["x-holdings"]
    assert holdings == [{"name": "post", "taken_by": [{"type": "post.assigned", "paths": ["post_id"]},
                                                      {"type": "rotation.completed", "paths": ["to.post_id"]}],
                         "left_by": [{"type": "post.vacated", "paths": ["post_id"]},
                                     {"type": "rotation.completed", "paths": ["from_post_id"]}]}]


def test_a_taking_while_held_is_named_with_what_it_takes() -> None:
    with pytest.raises(RuleViolation) as caught:
        revoke(LEFT)([REGISTERED, POSTING, LEFT, TAKEN_AGAIN])
    problem = caught.value.body()
    assert problem["later_events"] == [{"event_id": str(TAKEN_AGAIN.id), "type": "post.assigned",
                                        "service": "rotation", "names": {"post_id": "P1"}}], problem
    assert "仍担任该职" in problem["message_zh"] and "post_id P1" in problem["message_en"], problem
