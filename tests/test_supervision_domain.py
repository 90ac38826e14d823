"""Table tests of the supervision rules (DOMAIN.md rules 3 and 10): reports, talks, inquiries, sanctions.

Given events (built with `new_event`), when a command, then an event type or the violated rule.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

from services.audit.domain import fold
from services.audit.domain import supervision as s
from services.audit.domain.names import CATEGORY_ZH, MEASURE_ZH
from shared.decisions import Decision
from shared.envelope import CloudEvent
from shared.events.audit import InquirySent
from shared.events.registry import CATALOGUE
from shared.problems import RECORD_KEEPING, RuleViolation
from shared.rulesets import RuleSet, ruleset_by_id, ruleset_for
from shared.tenure import add_months, period_end
from tests.supervision_support import (
    ANSWERED,
    AUDITED,
    RECEIVED,
    RULES,
    SANCTIONED,
    SENT,
    TALKED,
    UNFOUNDED,
    VERIFIED,
    answer,
    ev,
    receive,
    sanction,
    send,
    talk,
    verify,
)

When = Callable[[Any, Any, RuleSet], Decision]
CASES: list[tuple[str, list[CloudEvent], When, Any, str]] = [
    # reports
    ("receive a report", [], s.decide_receive_report, receive(), "report.received"),
    ("a report id is received once", [RECEIVED], s.decide_receive_report, receive(), "report.receive_once"),
    ("verify a received report", [RECEIVED], s.decide_verify_report, verify(), "report.verified"),
    ("verify only a received report", [], s.decide_verify_report, verify(), "report.not_received"),
    ("a report is verified once", [RECEIVED, VERIFIED], s.decide_verify_report, verify("2024-03-21"),
     "report.verify_once"),
    ("a verification cannot predate the report", [RECEIVED], s.decide_verify_report, verify("2024-02-28"),
     "report.chronology"),
    # talks
    ("hold a talk", [], s.decide_hold_talk, talk(kind="integrity_before_appointment"), "supervision.talk_held"),
    ("a talk after a verified report", [RECEIVED, VERIFIED], s.decide_hold_talk, talk(report_id="R1"),
     "supervision.talk_held"),
    ("a talk id is held once", [TALKED], s.decide_hold_talk, talk(), "supervision.talk_once"),
    ("a talk on an unverified report", [RECEIVED], s.decide_hold_talk, talk(report_id="R1"),
     "supervision.report_unverified"),
    ("a talk on an unknown report", [], s.decide_hold_talk, talk(report_id="R9"), "report.not_received"),
    ("a talk cannot predate the verification", [RECEIVED, VERIFIED], s.decide_hold_talk,
     talk("2024-03-19", report_id="R1"), "supervision.chronology"),
    ("a talk applying a completed audit", [AUDITED], s.decide_hold_talk, talk(kind="admonishment", audit_id="A1"),
     "supervision.talk_held"),
    ("a talk applying an audit not completed", [], s.decide_hold_talk, talk(audit_id="A1"),
     "supervision.audit_not_completed"),
    # inquiries
    ("send an inquiry", [], s.decide_send_inquiry, send(), "supervision.inquiry_sent"),
    ("an inquiry id is sent once", [SENT], s.decide_send_inquiry, send(), "supervision.inquiry_send_once"),
    ("an inquiry on an unknown report", [], s.decide_send_inquiry, send(report_id="R1"), "report.not_received"),
    ("an inquiry cannot predate its report", [RECEIVED], s.decide_send_inquiry, send("2024-02-01", report_id="R1"),
     "supervision.chronology"),
    ("an answer window beyond the calendar is refused", [], s.decide_send_inquiry, send("2031-12-20"),
     "calendar.gap"),
    ("answer within 15 working days", [SENT], s.decide_answer_inquiry, answer(), "supervision.inquiry_answered"),
    ("answer on the 15th working day", [SENT], s.decide_answer_inquiry, answer("2024-03-22"),
     "supervision.inquiry_answered"),
    ("a late answer without a reason", [SENT], s.decide_answer_inquiry, answer("2024-03-25"),
     "supervision.inquiry_answer_late"),
    ("a late answer with its reason is recorded late", [SENT], s.decide_answer_inquiry,
     answer("2024-03-25", late_reason="出差在外"), "supervision.inquiry_answered"),
    ("answer only a sent inquiry", [], s.decide_answer_inquiry, answer(), "supervision.inquiry_not_sent"),
    ("an inquiry is answered once", [SENT, ANSWERED], s.decide_answer_inquiry, answer("2024-03-11"),
     "supervision.inquiry_answer_once"),
    ("an answer cannot predate the inquiry", [SENT], s.decide_answer_inquiry, answer("2024-02-29"),
     "supervision.chronology"),
    # sanctions
    ("impose a sanction", [], s.decide_impose_sanction, sanction(), "sanction.imposed"),
    ("impose an open-ended sanction", [], s.decide_impose_sanction,
     sanction(category="party", measure="expulsion_from_party", effective_until=None), "sanction.imposed"),
    ("a sanction id is recorded once", [SANCTIONED], s.decide_impose_sanction, sanction(), "sanction.impose_once"),
    ("the measure belongs to its category", [], s.decide_impose_sanction,
     sanction(category="organisational", measure="serious_warning"), "sanction.measure_category"),
    ("the effect period is ordered", [], s.decide_impose_sanction, sanction(effective_until="2024-03-01"),
     "sanction.period_order"),
    ("a backdated effect period is refused: it runs from the decision", [], s.decide_impose_sanction,
     sanction("2024-05-01"), "sanction.effect_from_decision"),
    ("an effect period may start after the decision", [], s.decide_impose_sanction, sanction("2024-03-25"),
     "sanction.imposed"),
    ("a party warning bars promotion for 12 months", [], s.decide_impose_sanction,
     sanction(effective_until="2025-03-30"), "sanction.effect_period_short"),
    ("an administrative warning needs only 6 months", [], s.decide_impose_sanction,
     sanction(category="administrative", effective_until="2024-09-30"), "sanction.imposed"),
    ("a measure without a minimum", [], s.decide_impose_sanction,
     sanction(category="organisational", measure="suspension", effective_until="2024-04-30"), "sanction.imposed"),
    ("a sanction following a verified report", [RECEIVED, VERIFIED], s.decide_impose_sanction,
     sanction(report_id="R1"), "sanction.imposed"),
    ("a sanction on an unverified report", [RECEIVED], s.decide_impose_sanction, sanction(report_id="R1"),
     "supervision.report_unverified"),
    ("no sanction on an unfounded report", [RECEIVED, UNFOUNDED], s.decide_impose_sanction, sanction(report_id="R1"),
     "sanction.report_unfounded"),
    ("a sanction cannot predate the verification", [RECEIVED, VERIFIED], s.decide_impose_sanction,
     sanction("2024-03-19", report_id="R1"), "supervision.chronology"),
]


BASES = {
    "supervision.report_unverified": s.REPORT_BASIS, "sanction.report_unfounded": s.REPORT_BASIS,
    "sanction.measure_category": RULES.bases.sanction, "sanction.effect_period_short": RULES.bases.effect_period,
    "sanction.effect_from_decision": RULES.bases.effect_period,
    "supervision.inquiry_answer_late": RULES.bases.inquiry, "calendar.gap": RULES.bases.inquiry,
}
"""The basis (依据) a refusal cites: the regulation a rule applies, from the rule set decided under (the report rules
cite the seed S1 practice, the same in every period); every other rule is a record-keeping rule."""


def test_every_category_and_measure_has_its_chinese_name() -> None:
    """The Chinese messages name categories and measures in Chinese (党纪处分, 严重警告), never by the API's code."""
    assert set(CATEGORY_ZH) == set(s.MEASURES)
    assert set(MEASURE_ZH) == set().union(*s.MEASURES.values())


@pytest.mark.parametrize(("given", "decide", "command", "then"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_supervision_rules(given: list[CloudEvent], decide: When, command: Any, then: str) -> None:
    state = fold(given)
    if then in CATALOGUE:
        decision = decide(state, command, RULES)
        assert decision.type == then and decision.occurred_on == command.occurred_on
    else:
        with pytest.raises(RuleViolation) as caught:
            decide(state, command, RULES)
        assert caught.value.rule == then
        assert caught.value.status == 422 and caught.value.body()["message_zh"]
        assert caught.value.body()["basis"] == BASES.get(then, RECORD_KEEPING)


def test_a_second_verification_names_the_first_ones_outcome_in_chinese() -> None:
    with pytest.raises(RuleViolation) as caught:
        s.decide_verify_report(fold([RECEIVED, VERIFIED]), verify("2024-03-21"), RULES)
    assert "结论为部分属实 (partly)" in caught.value.body()["message_zh"], caught.value.body()


def test_inquiry_due_is_the_fifteenth_working_day() -> None:
    decision = s.decide_send_inquiry(fold([]), send("2024-03-01"), RULES)
    assert decision.data.model_dump()["due"] == date(2024, 3, 22)
    # across the Spring Festival break of 2024 (10-17 Feb off, 4 and 18 Feb worked)
    decision = s.decide_send_inquiry(fold([]), send("2024-02-02"), RULES)
    assert decision.data.model_dump()["due"] == date(2024, 2, 28)


# 被函询人应当在收到函件后十五个工作日内 ... 回复: counted from the receipt (received_on) when it is known, else from
# the day the letter was sent (the inquiry's occurred_on)
INQUIRY_WINDOWS: list[tuple[str, dict[str, Any], str]] = [
    ("counted from the day sent when the receipt is not known", {}, "2024-03-22"),
    ("counted from the receipt (Tue 5 March)", {"received_on": "2024-03-05"}, "2024-03-26"),
]


@pytest.mark.parametrize(("name", "receipt", "due"), INQUIRY_WINDOWS, ids=[c[0] for c in INQUIRY_WINDOWS])
def test_the_answer_window_counts_from_the_receipt(name: str, receipt: dict[str, Any], due: str) -> None:
    data = s.decide_send_inquiry(fold([]), send("2024-03-01", **receipt), RULES).data.model_dump(mode="json")
    assert data["due"] == due and data["received_on"] == receipt.get("received_on")


def test_an_answer_within_the_window_counted_from_the_receipt_is_not_late() -> None:
    received = ev("supervision.inquiry_sent", InquirySent(inquiry_id="Q1", due=date(2024, 3, 26), report_id="R1",
                                                          received_on=date(2024, 3, 5)), "2024-03-01")
    assert s.decide_answer_inquiry(fold([received]), answer("2024-03-25"), RULES).data.model_dump()["late"] is False


def test_an_answer_dated_before_the_letter_was_received_is_refused() -> None:
    """Found by review: the answer was checked against the sending only, so one dated between the sending and the
    receipt was recorded as on time."""
    received = ev("supervision.inquiry_sent", InquirySent(inquiry_id="Q1", due=date(2024, 3, 26), report_id="R1",
                                                          received_on=date(2024, 3, 5)), "2024-03-01")
    with pytest.raises(RuleViolation) as refused:
        s.decide_answer_inquiry(fold([received]), answer("2024-03-04"), RULES)
    assert refused.value.rule == "supervision.chronology" and "2024-03-05" in str(refused.value.extra["message_en"])
    assert s.decide_answer_inquiry(fold([received]), answer("2024-03-05"), RULES).data.model_dump()["late"] is False


def test_a_letter_received_before_it_was_sent_is_refused_naming_the_field() -> None:
    with pytest.raises(RuleViolation) as refused:
        s.decide_send_inquiry(fold([]), send("2024-03-01", received_on="2024-02-29"), RULES)
    assert refused.value.rule == "supervision.chronology" and refused.value.extra["field"] == "received_on"
    assert "收到函询" in refused.value.extra["message_zh"]


def test_a_late_answer_is_marked_late_with_its_reason_and_a_timely_one_is_not() -> None:
    late = s.decide_answer_inquiry(fold([SENT]), answer("2024-03-25", late_reason="出差在外"), RULES)
    assert late.data.model_dump()["late"] is True and late.data.model_dump()["late_reason"] == "出差在外"
    timely = s.decide_answer_inquiry(fold([SENT]), answer("2024-03-22", late_reason="n/a"), RULES)
    assert timely.data.model_dump()["late"] is False and timely.data.model_dump()["late_reason"] is None


def test_short_sanction_names_the_shortest_allowed_end() -> None:
    with pytest.raises(RuleViolation) as caught:
        s.decide_impose_sanction(fold([]), sanction(effective_until="2024-12-31"), RULES)
    assert caught.value.body()["shortest_until"] == "2025-03-31"


@pytest.mark.parametrize(("start", "months", "then"), [
    ("2024-01-31", 1, "2024-02-29"), ("2023-01-31", 1, "2023-02-28"), ("2024-11-15", 3, "2025-02-15"),
    ("2024-04-01", 12, "2025-04-01"), ("2024-01-01", 0, "2024-01-01")])
def test_add_months_clamps_to_month_end(start: str, months: int, then: str) -> None:
    assert add_months(date.fromisoformat(start), months) == date.fromisoformat(then)


def test_a_period_of_months_ends_the_day_before_the_same_date() -> None:
    assert period_end(date(2024, 4, 1), 12) == date(2025, 3, 31)


# A month with no such day ends the period on its last day (民法典 第二百零二条, counted from the day before: found by
# review, the day before the clamped month-day was a day short), leap years included; the 1st keeps its full months.
@pytest.mark.parametrize(("first", "months", "last"), [
    ("2024-01-31", 1, "2024-02-29"), ("2023-01-31", 1, "2023-02-28"), ("2024-01-30", 1, "2024-02-29"),
    ("2024-01-29", 1, "2024-02-28"), ("2023-11-30", 3, "2024-02-29"), ("2024-11-30", 3, "2025-02-28"),
    ("2024-05-31", 6, "2024-11-30"), ("2023-08-31", 6, "2024-02-29"), ("2024-02-29", 12, "2025-02-28"),
    ("2024-02-29", 48, "2028-02-28"), ("2024-03-01", 1, "2024-03-31"), ("2023-03-01", 1, "2023-03-31"),
    ("2024-12-31", 2, "2025-02-28"), ("2024-03-31", 1, "2024-04-30"), ("2024-04-30", 1, "2024-05-29")])
def test_a_period_ends_on_the_last_day_of_a_month_without_its_month_day(first: str, months: int, last: str) -> None:
    assert period_end(date.fromisoformat(first), months) == date.fromisoformat(last)


# A year's probation and two years after it: 36 months at least, in every 纪律处分条例 since 2004 (2003, 2015,
# 2018, 2023); the versions that said 12 (431021@2008.1, 000000@2019.1) are corrected for the days they covered.
@pytest.mark.parametrize(("county", "on", "until", "then", "ruleset"), [
    ("431021", "2010-06-01", "2011-05-31", "sanction.effect_period_short", "431021@2008.3"),
    ("431021", "2016-06-01", "2018-05-31", "sanction.effect_period_short", "431021@2014.3"),
    ("431021", "2023-06-01", "2024-05-31", "sanction.effect_period_short", "431021@2019.2"),
    ("110101", "2020-06-01", "2021-05-31", "sanction.effect_period_short", "000000@2019.3"),
    ("431021", "2024-06-01", "2026-05-31", "sanction.effect_period_short", "431021@2024.3"),
    ("431021", "2010-06-01", "2013-05-31", "sanction.imposed", "431021@2008.3"),
    ("110101", "2020-06-01", "2023-05-31", "sanction.imposed", "000000@2019.3"),
    ("431021", "2024-06-01", "2027-05-31", "sanction.imposed", "431021@2024.3"),
])
def test_party_probation_bars_promotion_for_the_probation_and_two_years_after(
        county: str, on: str, until: str, then: str, ruleset: str) -> None:
    rules = ruleset_for(county, date.fromisoformat(on))
    assert rules.id == ruleset
    command = sanction(on, measure="party_probation", effective_from=on, effective_until=until)
    command = command.model_copy(update={"county": county})
    if then == "sanction.imposed":
        assert s.decide_impose_sanction(fold([]), command, rules).type == then
        return
    with pytest.raises(RuleViolation) as caught:
        s.decide_impose_sanction(fold([]), command, rules)
    assert caught.value.rule == then
    assert caught.value.body()["shortest_until"] == period_end(date.fromisoformat(on), 36).isoformat()
    assert "恢复党员权利后二年内" in caught.value.body()["basis"]


def test_the_superseded_versions_still_say_what_they_said() -> None:
    """Events recorded under 431021@2008.1 and 000000@2019.1 keep their meaning: 12 months, as they were decided."""
    for old in ("431021@2008.1", "000000@2019.1"):
        assert ruleset_by_id(old).audit.sanction_min_effect_months["party.party_probation"] == 12
