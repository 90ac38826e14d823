"""Table tests of the audit lifecycle rules (DOMAIN.md rule 9): given events, when a command, then an event or a rule.

No servers: the given events are envelopes built with `new_event`, folded as the service folds the ledger.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from pydantic import ValidationError

from services.audit.domain import audits as a
from services.audit.domain import fold
from shared.decisions import Decision
from shared.envelope import CloudEvent, new_event
from shared.events.audit import AuditCompleted, AuditOpinionRequested
from shared.events.registry import CATALOGUE
from shared.events.rotation import PostAssigned
from shared.problems import RECORD_KEEPING, RuleViolation
from shared.rulesets import RuleSet
from tests.audit_support import (
    APPLIED,
    APPLIED_UNFILED,
    BASE,
    COMPLETED,
    FILED_LATER,
    RECEIVED,
    RECTIFIED,
    REGISTERED,
    REQUESTED,
    RULES,
    STARTED,
    apply,
    complete,
    ev,
    finding,
    receive,
    rectify,
    request,
    start,
)

When = Callable[[Any, Any, RuleSet], Decision]
CASES: list[tuple[str, list[CloudEvent], When, Any, str]] = [
    # start
    ("start an audit", [], a.decide_start, start(), "audit.started"),
    ("an audit id starts once", [STARTED], a.decide_start, start(), "audit.start_once"),
    ("audited period must be ordered", [], a.decide_start, start(period_from="2025-01-01"), "audit.period_order"),
    ("the audited period lies in the cadre's working life", [REGISTERED], a.decide_start,
     start(period_from="2012-06-30"), "audit.period_before_work_start"),
    ("a period from the day the cadre started work", [REGISTERED], a.decide_start, start(period_from="2012-07-01"),
     "audit.started"),
    ("a departure audit names the post left", [], a.decide_start, start(post_id=None), "audit.departure_post"),
    ("an in-office audit needs no post", [], a.decide_start, start(audit_type="in_office", post_id=None),
     "audit.started"),
    # opinion requested
    ("request the opinion", [STARTED], a.decide_request_opinion, request(), "audit.opinion_requested"),
    ("no opinion request before the start", [], a.decide_request_opinion, request(), "audit.not_started"),
    ("the opinion is requested once", [STARTED, REQUESTED], a.decide_request_opinion, request("2024-06-04"),
     "audit.opinion_request_once"),
    ("a request cannot predate the start", [STARTED], a.decide_request_opinion, request("2024-05-01"),
     "audit.chronology"),
    ("no request after completion", [STARTED, REQUESTED, RECEIVED, COMPLETED], a.decide_request_opinion,
     request("2024-06-21"), "audit.already_completed"),
    ("a window beyond the calendar is refused, never guessed", [STARTED], a.decide_request_opinion,
     request("2031-12-20"), "calendar.gap"),
    # opinion received
    ("opinion received within the window", [STARTED, REQUESTED], a.decide_receive_opinion, receive(),
     "audit.opinion_received"),
    ("opinion received on the last day of the window", [STARTED, REQUESTED], a.decide_receive_opinion,
     receive("2024-06-18"), "audit.opinion_received"),
    ("opinion after the 10th working day is late", [STARTED, REQUESTED], a.decide_receive_opinion,
     receive("2024-06-19"), "audit.opinion_late"),
    ("opinion needs a request", [STARTED], a.decide_receive_opinion, receive(), "audit.opinion_not_requested"),
    ("opinion received once", [STARTED, REQUESTED, RECEIVED], a.decide_receive_opinion, receive("2024-06-13"),
     "audit.opinion_receive_once"),
    ("opinion cannot predate its request", [STARTED, REQUESTED], a.decide_receive_opinion, receive("2024-06-01"),
     "audit.chronology"),
    # complete
    ("complete after the opinion arrived", [STARTED, REQUESTED, RECEIVED], a.decide_complete, complete("2024-06-13"),
     "audit.completed"),
    ("complete without an opinion once the window closed", [STARTED, REQUESTED], a.decide_complete,
     complete("2024-06-19"), "audit.completed"),
    ("no completion while the window is open and no opinion came", [STARTED, REQUESTED], a.decide_complete,
     complete("2024-06-18"), "audit.opinion_window_open"),
    ("no completion before the opinion was requested", [STARTED], a.decide_complete, complete(),
     "audit.opinion_not_requested"),
    ("no completion of an audit never started", [], a.decide_complete, complete(), "audit.not_started"),
    ("an audit completes once", [STARTED, REQUESTED, RECEIVED, COMPLETED], a.decide_complete, complete("2024-06-21"),
     "audit.complete_once"),
    ("the audit type is the one started", [STARTED, REQUESTED, RECEIVED], a.decide_complete,
     complete(audit_type="in_office"), "audit.type_mismatch"),
    ("completion cannot predate the opinion", [STARTED, REQUESTED, RECEIVED], a.decide_complete,
     complete("2024-06-11"), "audit.chronology"),
    ("finding ids are unique", [STARTED, REQUESTED, RECEIVED], a.decide_complete,
     complete(findings=[{"finding_id": "F1", "category": 1, "amount": "1.00", "responsibility": "direct"}] * 2),
     "audit.finding_ids_unique"),
    ("a finding's category is one of the county's 20", [STARTED, REQUESTED, RECEIVED], a.decide_complete,
     complete(findings=[{"finding_id": "F1", "category": 21, "amount": "1.00", "responsibility": "leadership"}]),
     "audit.finding_category"),
    # rectify
    ("rectify a finding", [STARTED, REQUESTED, RECEIVED, COMPLETED], a.decide_rectify, rectify(),
     "audit.finding_rectified"),
    ("no rectification before completion", [STARTED, REQUESTED, RECEIVED], a.decide_rectify, rectify(),
     "audit.not_completed"),
    ("only the audit's findings are rectified", [STARTED, REQUESTED, RECEIVED, COMPLETED], a.decide_rectify,
     rectify("F9"), "audit.finding_unknown"),
    ("a finding is rectified once", [STARTED, REQUESTED, RECEIVED, COMPLETED, RECTIFIED], a.decide_rectify,
     rectify(), "audit.rectify_once"),
    ("a rectification cannot predate the report", [STARTED, REQUESTED, RECEIVED, COMPLETED], a.decide_rectify,
     rectify(on="2024-06-19"), "audit.chronology"),
    # result applied
    ("apply the result", [STARTED, REQUESTED, RECEIVED, COMPLETED], a.decide_apply_result, apply(),
     "audit.result_applied"),
    ("the result is applied once", [STARTED, REQUESTED, RECEIVED, COMPLETED, APPLIED], a.decide_apply_result,
     apply("2024-07-06"), "audit.result_apply_once"),
    ("a result applied but not filed is filed later: the same result, filed (补充归档)",
     [STARTED, REQUESTED, RECEIVED, COMPLETED, APPLIED_UNFILED], a.decide_apply_result, apply("2024-07-20"),
     "audit.result_applied"),
    ("... only the same result", [STARTED, REQUESTED, RECEIVED, COMPLETED, APPLIED_UNFILED], a.decide_apply_result,
     apply("2024-07-20", result="talk"), "audit.result_apply_once"),
    ("... only to file it", [STARTED, REQUESTED, RECEIVED, COMPLETED, APPLIED_UNFILED], a.decide_apply_result,
     apply("2024-07-20", filed=False), "audit.result_apply_once"),
    ("... not dated before the result was applied", [STARTED, REQUESTED, RECEIVED, COMPLETED, APPLIED_UNFILED],
     a.decide_apply_result, apply("2024-07-04"), "audit.chronology"),
    ("... and once", [STARTED, REQUESTED, RECEIVED, COMPLETED, APPLIED_UNFILED, FILED_LATER], a.decide_apply_result,
     apply("2024-07-25"), "audit.result_apply_once"),
    ("no result before completion", [STARTED, REQUESTED], a.decide_apply_result, apply(), "audit.not_completed"),
    ("an audit not on record is not started, not 'not completed'", [], a.decide_apply_result, apply(),
     "audit.not_started"),
    ("a result cannot predate the completion", [STARTED, REQUESTED, RECEIVED, COMPLETED], a.decide_apply_result,
     apply("2024-06-01"), "audit.chronology"),
]


REGULATION = frozenset({"audit.departure_post", "audit.finding_category", "audit.not_completed", "audit.opinion_late",
                        "audit.opinion_not_requested", "audit.opinion_window_open"})
"""The rules that apply the audit regulation, as does `calendar.gap` of the opinion window: they cite the rule set's
`bases.audit`; every other rule is a record-keeping rule (记录规则: an id once, a step after the one it follows)."""


def _basis(rule: str) -> str:
    return RULES.bases.audit if rule in REGULATION or rule == "calendar.gap" else RECORD_KEEPING


@pytest.mark.parametrize(("given", "decide", "command", "then"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_audit_rules(given: list[CloudEvent], decide: When, command: Any, then: str) -> None:
    state = fold(given)
    if then in CATALOGUE:
        decision = decide(state, command, RULES)
        assert decision.type == then
        assert decision.occurred_on == command.occurred_on
    else:
        with pytest.raises(RuleViolation) as caught:
            decide(state, command, RULES)
        assert caught.value.rule == then
        assert caught.value.status == 422 and caught.value.body()["message_zh"]
        assert caught.value.body()["basis"] == _basis(then)


def test_opinion_due_is_the_tenth_working_day_on_the_holiday_calendar() -> None:
    decision = a.decide_request_opinion(fold([STARTED]), request("2024-06-03"), RULES)
    assert decision.data.model_dump()["due"] == date(2024, 6, 18)
    # across the National Day week and its make-up Saturday (12 October 2024)
    decision = a.decide_request_opinion(fold([STARTED]), request("2024-09-30"), RULES)
    assert decision.data.model_dump()["due"] == date(2024, 10, 18)


# 被审计领导干部 ... 自收到征求意见稿之日起 10 个工作日内提出书面意见: the window counts from the day the cadre
# received the draft (received_on) when it is known, else from the day it was sent (the request's occurred_on)
OPINION_WINDOWS: list[tuple[str, dict[str, Any], str]] = [
    ("counted from the day sent when the receipt is not known", {}, "2024-06-18"),
    ("counted from the receipt (Thu 6 June, across the Dragon Boat Festival)", {"received_on": "2024-06-06"},
     "2024-06-21"),
    ("received the day it was sent", {"received_on": "2024-06-03"}, "2024-06-18"),
]


@pytest.mark.parametrize(("name", "receipt", "due"), OPINION_WINDOWS, ids=[c[0] for c in OPINION_WINDOWS])
def test_the_opinion_window_counts_from_the_receipt(name: str, receipt: dict[str, Any], due: str) -> None:
    command = a.RequestOpinion.model_validate({**BASE, "occurred_on": "2024-06-03", "audit_id": "A1", **receipt})
    data = a.decide_request_opinion(fold([STARTED]), command, RULES).data.model_dump(mode="json")
    assert data["due"] == due and data["received_on"] == receipt.get("received_on")


def test_an_opinion_within_the_window_counted_from_the_receipt_is_not_late() -> None:
    """Given the request received on 6 June (due 21 June), when the opinion comes on 20 June, then it is received:
    counted from the sending (due 18 June) it was refused as late."""
    requested = ev("audit.opinion_requested", AuditOpinionRequested(
        audit_id="A1", due=date(2024, 6, 21), received_on=date(2024, 6, 6)), "2024-06-03")
    assert a.decide_receive_opinion(fold([STARTED, requested]), receive("2024-06-20"), RULES).type == \
        "audit.opinion_received"


def test_an_opinion_dated_before_the_request_was_received_is_refused() -> None:
    """Given the request sent on 3 June and received on 6 June, when an opinion dated 5 June is recorded, then
    audit.chronology: the cadre answers what reached them (found by review: it was checked against the sending)."""
    requested = ev("audit.opinion_requested", AuditOpinionRequested(
        audit_id="A1", due=date(2024, 6, 21), received_on=date(2024, 6, 6)), "2024-06-03")
    with pytest.raises(RuleViolation) as refused:
        a.decide_receive_opinion(fold([STARTED, requested]), receive("2024-06-05"), RULES)
    assert refused.value.rule == "audit.chronology" and "2024-06-06" in str(refused.value.extra["message_en"])
    assert a.decide_receive_opinion(fold([STARTED, requested]), receive("2024-06-06"), RULES).type == \
        "audit.opinion_received", "on the day of the receipt"


def test_a_receipt_before_the_request_was_sent_is_refused_naming_the_field() -> None:
    command = a.RequestOpinion.model_validate({**BASE, "occurred_on": "2024-06-03", "audit_id": "A1",
                                               "received_on": "2024-06-02"})
    with pytest.raises(RuleViolation) as refused:
        a.decide_request_opinion(fold([STARTED]), command, RULES)
    assert refused.value.rule == "audit.chronology" and refused.value.extra["field"] == "received_on"
    assert "收到征求意见稿" in refused.value.extra["message_zh"]


def test_completed_event_carries_findings_with_decimal_amounts() -> None:
    decision = a.decide_complete(fold([STARTED, REQUESTED, RECEIVED]), complete("2024-06-13"), RULES)
    data = decision.data.model_dump(mode="json")
    assert [f["amount"] for f in data["findings"]] == ["100.00"] * 3
    assert {f["responsibility"] for f in data["findings"]} == {"direct"}


@pytest.mark.parametrize("bad", [{"amount": 100.5}, {"amount": 100}, {"amount": "1.234"}, {"amount": "-1.00"},
                                 {"responsibility": None}, {"responsibility": "collective"}])
def test_a_finding_needs_a_decimal_string_amount_and_a_responsibility_type(bad: dict[str, Any]) -> None:
    raw = {"finding_id": "F1", "category": 3, "amount": "100.00", "responsibility": "direct", **bad}
    with pytest.raises(ValidationError) as caught:
        complete(findings=[raw])
    assert caught.value.errors()[0]["loc"][:2] == ("findings", 0)


def test_a_legacy_completion_without_start_still_counts_as_completed() -> None:
    legacy = ev("audit.completed", AuditCompleted(audit_id="A1", audit_type="in_office", report_number="R",
                                                  evaluation="good", findings=[finding(1)]), "2020-01-01")
    state = fold([legacy])
    assert state.completed == {"A1"}
    assert a.decide_rectify(state, rectify(on="2020-02-01"), RULES).type == "audit.finding_rectified"


def test_a_departure_audit_of_a_post_the_ledger_has_no_posting_of_is_recorded_with_a_warning() -> None:
    """Not refused (a posting may predate the ledger), but the clerk is told to look again."""
    unknown = a.decide_start(fold([]), start(), RULES)
    assert unknown.type == "audit.started"
    assert [w.code for w in unknown.warnings] == ["audit.post_not_on_record"]
    assert "P1" in unknown.warnings[0].message_en and "台账中没有该干部担任岗位 P1" in unknown.warnings[0].message_zh
    held = new_event(event_type="post.assigned", cadre_id="C1", county="431021", service="rotation",
                     data=PostAssigned(post_id="P1", post="镇长", unit="龙潭镇人民政府", township="龙潭镇",
                                       level="section", leadership=True, kind="promotion",
                                       decision_date=date(2016, 3, 1), exemption_reason="历史任免记录补录"),
                     occurred_on=date(2016, 3, 1), ruleset=RULES.id)
    assert a.decide_start(fold([held]), start(), RULES).warnings == ()
    assert a.decide_start(fold([]), start(audit_type="in_office", post_id=None), RULES).warnings == ()



@pytest.mark.parametrize(("recovered", "warned"), [("100.00", []), ("99.99", []),
                                                  ("100.01", ["audit.recovered_beyond_amount"])])
def test_recovering_more_than_a_finding_involved_is_recorded_with_a_warning(recovered: str, warned: list[str]) -> None:
    """Not refused (interest or fines may be recovered with the funds), but a figure most likely typed wrongly."""
    decision = a.decide_rectify(fold([STARTED, REQUESTED, RECEIVED, COMPLETED]), rectify(recovered=recovered), RULES)
    assert decision.type == "audit.finding_rectified" and [w.code for w in decision.warnings] == warned
    if warned:
        assert "100.01" in decision.warnings[0].message_en and "涉及金额 (100.00 元)" in decision.warnings[0].message_zh
