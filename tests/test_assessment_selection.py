"""Table tests of the selection pipeline (DOMAIN.md rules 1, 2, 3): inspection -> vote -> notice -> outcome.

Given events, when a command, then the one event (its fields) or the violated rule. The notice cases
run on the shipped holiday calendar (shared.workdays): National Day weeks, make-up Saturdays.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from services.assessment.domain import fold
from services.assessment.domain import notices as n
from services.assessment.domain import selection as s
from shared.events import assessment as ev
from shared.problems import RuleViolation
from shared.rulesets import ruleset_by_id
from shared.tenure import period_end
from tests.assessment_given import (
    APPROVED,
    CHECKS,
    INSPECTED,
    POSTED,
    D,
    Expected,
    cancelled,
    check,
    closed,
    cmd,
    deferred,
    event,
    graded,
    inspected,
    objection,
    posted,
    raw,
    report,
    rules,
    verified,
    voted,
)

# ---- inspection -----------------------------------------------------------------------------

INSPECTION_CASES: list[tuple[str, list[Any], Any, Expected]] = [
    ("all four checks done", [], cmd(s.Inspect, "2024-03-01", selection_id="S1", proposed_post="某镇镇长", **CHECKS),
     {"type": "selection.inspected", "selection_id": "S1", "promotion": True, "petitions_checked": True}),
    ("a missing check is refused", [], cmd(s.Inspect, "2024-03-01", selection_id="S1", proposed_post="某镇镇长",
                                           **{**CHECKS, "discipline_opinion_obtained": False}),
     "selection.inspection_incomplete"),
    ("a selection is inspected once", [inspected("2024-03-01")],
     cmd(s.Inspect, "2024-03-02", selection_id="S1", proposed_post="某镇镇长", **CHECKS), "selection.once"),
]


@pytest.mark.parametrize(("name", "given", "command", "expected"), INSPECTION_CASES,
                         ids=[c[0] for c in INSPECTION_CASES])
def test_inspection(name: str, given: list[Any], command: Any, expected: Expected) -> None:
    check(given, s.decide_inspection, command, expected)


# ---- vote: order, quorum 2/3 present, approved by more than half of ALL entitled --------------

def _vote(on: str, entitled: int, present: int, yes: int, no: int = 0, later: int = 0, sid: str = "S1") -> Any:
    return cmd(s.Vote, on, selection_id=sid, members_entitled=entitled, members_present=present, votes_for=yes,
               votes_against=no, votes_deferred=later)


CANCELLED_N1 = [inspected("2024-03-01"), voted("2024-03-10"), posted("2024-03-11", "2024-03-11", "2024-03-15"),
                cancelled("2024-03-18")]
VOTE_CASES: list[tuple[str, list[Any], Any, Expected]] = [
    ("approved: 9 of 11 entitled", INSPECTED, _vote("2024-03-10", 11, 10, 9, 1),
     {"type": "appointment.voted", "outcome": "approved", "proposed_post": "某镇党委书记", "members_present": 10}),
    ("no vote without an inspection", [], _vote("2024-03-10", 11, 10, 9), "selection.order"),
    ("no vote before the inspection date", INSPECTED, _vote("2024-02-28", 11, 10, 9), "selection.order"),
    ("one vote per selection", [*INSPECTED, voted("2024-03-10")], _vote("2024-03-11", 11, 10, 9),
     "selection.vote_once"),
    ("quorum: 7 of 11 present is under 2/3", INSPECTED, _vote("2024-03-10", 11, 7, 7), "appointment.vote_quorum"),
    ("quorum: 8 of 11 present is enough", INSPECTED, _vote("2024-03-10", 11, 8, 6, 2),
     {"type": "appointment.voted", "outcome": "approved"}),
    ("quorum: exactly 2/3 (6 of 9) is enough", INSPECTED, _vote("2024-03-10", 9, 6, 5, 1),
     {"type": "appointment.voted", "outcome": "approved"}),
    ("majority of those present but not of all entitled: rejected", INSPECTED, _vote("2024-03-10", 11, 8, 5, 3),
     {"type": "appointment.voted", "outcome": "rejected"}),
    ("exactly half of all entitled is not more than half: rejected", INSPECTED, _vote("2024-03-10", 10, 10, 5, 5),
     {"type": "appointment.voted", "outcome": "rejected"}),
    ("deferred votes count for nothing", INSPECTED, _vote("2024-03-10", 11, 11, 5, 0, 6),
     {"type": "appointment.voted", "outcome": "rejected", "votes_deferred": 6}),
    ("more present than entitled", INSPECTED, _vote("2024-03-10", 11, 12, 9), "appointment.vote_tally"),
    ("more votes than present", INSPECTED, _vote("2024-03-10", 11, 9, 8, 2), "appointment.vote_tally"),
    ("an unverified report blocks an approval", [*INSPECTED, report("2024-03-05", "R1")],
     _vote("2024-03-10", 11, 10, 9), "appointment.unverified_report"),
    ("a rejection is recorded despite a blocker", [*INSPECTED, report("2024-03-05", "R1")],
     _vote("2024-03-10", 11, 10, 3, 7), {"type": "appointment.voted", "outcome": "rejected"}),
    ("a verified report no longer blocks", [*INSPECTED, report("2024-03-05", "R1"),
                                            verified("2024-03-08", "R1", "partly")],
     _vote("2024-03-10", 11, 10, 9), {"type": "appointment.voted", "outcome": "approved"}),
    ("basically competent last year bars a promotion this year", [graded(2023, "basically_competent"), *INSPECTED],
     _vote("2024-03-10", 11, 10, 9), "assessment.promotion_blocked"),
    ("... but not a lateral move", [graded(2023, "basically_competent"), inspected("2024-03-01", promotion=False)],
     _vote("2024-03-10", 11, 10, 9), {"type": "appointment.voted", "outcome": "approved"}),
    ("... nor a vote decided before the grade was recorded",
     [graded(2023, "basically_competent", on="2024-03-20"), *INSPECTED], _vote("2024-03-10", 11, 10, 9),
     {"type": "appointment.voted", "outcome": "approved"}),
    ("... and not the year after", [graded(2023, "basically_competent"), inspected("2025-01-10")],
     _vote("2025-01-20", 11, 10, 9), {"type": "appointment.voted", "outcome": "approved"}),
    ("a qualification cancelled for another post does not block this selection",
     [*CANCELLED_N1, inspected("2024-09-02", "S2", post="某局副局长")], _vote("2024-09-10", 11, 10, 9, sid="S2"),
     {"type": "appointment.voted", "outcome": "approved", "proposed_post": "某局副局长"}),
    ("... but it blocks a new selection for the post it was cancelled for",
     [*CANCELLED_N1, inspected("2024-09-02", "S2")], _vote("2024-09-10", 11, 10, 9, sid="S2"),
     "appointment.qualification_cancelled"),
    ("a running sanction blocks an approval",
     [*INSPECTED, raw("sanction.imposed", "2024-02-01", sanction_id="X1", category="party", measure="warning",
                      effective_from="2024-02-01", effective_until="2025-01-31")],
     _vote("2024-03-10", 11, 10, 9), "appointment.sanction_running"),
]


@pytest.mark.parametrize(("name", "given", "command", "expected"), VOTE_CASES, ids=[c[0] for c in VOTE_CASES])
def test_vote(name: str, given: list[Any], command: Any, expected: Expected) -> None:
    check(given, s.decide_vote, command, expected)


def test_a_blocked_approval_lists_every_blocker() -> None:
    state = fold([graded(2023, "basically_competent"), *INSPECTED, report("2024-03-05", "R1")])
    with pytest.raises(RuleViolation) as caught:
        s.decide_vote(state, _vote("2024-03-10", 11, 10, 9), rules())
    assert caught.value.extra["blockers"] == ["appointment.unverified_report", "assessment.promotion_blocked"]
    assert "不能票决通过" in caught.value.extra["message_zh"]


# ---- notice: order and at least 5 working days on the holiday calendar -----------------------

def _notice(on: str, start: str, end: str, nid: str = "N1", sid: str = "S1") -> Any:
    return cmd(n.PostNotice, on, selection_id=sid, notice_id=nid, start=start, end=end, channels=["县委组织部网站"])


NOTICE_CASES: list[tuple[str, list[Any], Any, Expected]] = [
    ("Monday to Friday is 5 working days", APPROVED, _notice("2024-03-11", "2024-03-11", "2024-03-15"),
     {"type": "notice.posted", "working_days": 5, "proposed_post": "某镇党委书记", "selection_id": "S1"}),
    ("Monday to Thursday is 4: refused", APPROVED, _notice("2024-03-11", "2024-03-11", "2024-03-14"),
     "notice.min_working_days"),
    ("over a weekend: Wed to Tue is 5", APPROVED, _notice("2024-03-13", "2024-03-13", "2024-03-19"),
     {"type": "notice.posted", "working_days": 5}),
    # National Day 2024: 1-7 Oct off, Sun 29 Sep and Sat 12 Oct worked.
    ("National Day week: Fri 27 Sep to Tue 8 Oct, 12 calendar days, only 4 working days", APPROVED,
     _notice("2024-09-27", "2024-09-27", "2024-10-08"), "notice.min_working_days"),
    ("National Day week: Thu 26 Sep to Tue 8 Oct is 5 (the worked Sunday 29 Sep counts)", APPROVED,
     _notice("2024-09-26", "2024-09-26", "2024-10-08"), {"type": "notice.posted", "working_days": 5}),
    ("make-up Saturday: Tue 8 to Sat 12 Oct 2024 is 5 working days", APPROVED,
     _notice("2024-10-08", "2024-10-08", "2024-10-12"), {"type": "notice.posted", "working_days": 5}),
    ("an ordinary Saturday does not count: Tue 15 to Sat 19 Oct 2024 is 4", APPROVED,
     _notice("2024-10-15", "2024-10-15", "2024-10-19"), "notice.min_working_days"),
    # Spring Festival 2025: 28 Jan - 4 Feb off, Sun 26 Jan and Sat 8 Feb worked.
    ("Spring Festival: Fri 24 Jan to Wed 5 Feb 2025 is 4 (24, Sun 26, 27 Jan, 5 Feb)", APPROVED,
     _notice("2025-01-24", "2025-01-24", "2025-02-05"), "notice.min_working_days"),
    ("a year the calendar does not cover", [inspected("2031-03-01"), voted("2031-03-10")],
     _notice("2031-03-11", "2031-03-11", "2031-03-21"), "notice.calendar_gap"),
    ("no notice without a vote", [inspected("2024-03-01")], _notice("2024-03-11", "2024-03-11", "2024-03-15"),
     "selection.order"),
    ("no notice after a rejected vote", [inspected("2024-03-01"), voted("2024-03-10", outcome="rejected")],
     _notice("2024-03-11", "2024-03-11", "2024-03-15"), "selection.order"),
    ("no notice without any selection", [], _notice("2024-03-11", "2024-03-11", "2024-03-15"), "selection.order"),
    ("no notice dated before the vote", APPROVED, _notice("2024-03-08", "2024-03-11", "2024-03-15"),
     "selection.order"),
    ("one notice per selection", [*APPROVED, posted("2024-03-11", "2024-03-11", "2024-03-15")],
     _notice("2024-03-18", "2024-03-18", "2024-03-22", nid="N2"), "notice.once_per_selection"),
    ("a notice id is not reused", [*APPROVED, posted("2024-03-11", "2024-03-11", "2024-03-15"),
                                   inspected("2024-04-01", "S2"), voted("2024-04-10", "S2")],
     _notice("2024-04-11", "2024-04-11", "2024-04-17", sid="S2"), "notice.id_taken"),
    ("a notice cannot start before it is posted", APPROVED, _notice("2024-03-12", "2024-03-11", "2024-03-18"),
     "notice.period"),
    ("a notice cannot end before it starts", APPROVED, _notice("2024-03-11", "2024-03-15", "2024-03-11"),
     "notice.period"),
]


@pytest.mark.parametrize(("name", "given", "command", "expected"), NOTICE_CASES, ids=[c[0] for c in NOTICE_CASES])
def test_notice(name: str, given: list[Any], command: Any, expected: Expected) -> None:
    check(given, n.decide_notice, command, expected)


# The notice under the rules of its day: the 2002 条例 (to 2014-01-13) 公示期一般为七至十五天, calendar days; the 2014
# and 2019 条例 不少于五个工作日 (431021@2008.1 asked 5 working days throughout, and is corrected for it).
APPROVED_2010 = [inspected("2010-04-20"), voted("2010-05-04")]
NOTICE_PERIOD_CASES: list[tuple[str, str, list[Any], Any, Expected]] = [
    ("2010, Mon 10 to Fri 14 May: 5 working days, but 5 calendar days of the 7", "431021", APPROVED_2010,
     _notice("2010-05-10", "2010-05-10", "2010-05-14"), "notice.min_calendar_days"),
    ("2010, Mon 10 to Sun 16 May: 7 calendar days (5 working)", "431021", APPROVED_2010,
     _notice("2010-05-10", "2010-05-10", "2010-05-16"), {"type": "notice.posted", "working_days": 5}),
    ("2013, Mon 2 to Sat 7 Dec: 6 calendar days", "431021", [inspected("2013-11-01"), voted("2013-11-20")],
     _notice("2013-12-02", "2013-12-02", "2013-12-07"), "notice.min_calendar_days"),
    ("2014 条例 from 14 Jan 2014: Mon 20 to Fri 24 Jan is 5 working days", "431021",
     [inspected("2014-01-06"), voted("2014-01-15")], _notice("2014-01-20", "2014-01-20", "2014-01-24"),
     {"type": "notice.posted", "working_days": 5}),
    ("2016: Mon 7 to Thu 10 Mar is 4 working days", "431021", [inspected("2016-02-01"), voted("2016-03-01")],
     _notice("2016-03-07", "2016-03-07", "2016-03-10"), "notice.min_working_days"),
    ("national rules, 2020: Mon 9 to Fri 13 Mar is 5 working days", "110101",
     [inspected("2020-02-01"), voted("2020-03-02")], _notice("2020-03-09", "2020-03-09", "2020-03-13"),
     {"type": "notice.posted", "working_days": 5}),
]


@pytest.mark.parametrize(("name", "county", "given", "command", "expected"), NOTICE_PERIOD_CASES,
                         ids=[c[0] for c in NOTICE_PERIOD_CASES])
def test_a_notice_is_counted_as_the_rules_of_its_day_count_it(name: str, county: str, given: list[Any], command: Any,
                                                              expected: Expected) -> None:
    check(given, n.decide_notice, command, expected, ruleset=rules(county, command.occurred_on.isoformat()))


def test_a_2010_notice_of_five_working_days_cites_the_2002_regulation() -> None:
    with pytest.raises(RuleViolation) as caught:
        n.decide_notice(fold(APPROVED_2010), _notice("2010-05-10", "2010-05-10", "2010-05-14"),
                        rules(on="2010-05-10"))
    body = caught.value.body()
    assert body["rule"] == "notice.min_calendar_days"
    assert body["calendar_days"] == 5 and body["required"] == 7
    assert "公示期一般为七至十五天" in body["basis"] and "(2002)" in body["basis"]
    assert "(2019)" not in body["basis"] and "(2023" not in body["basis"]
    assert "任前公示期不少于7天" in body["message_zh"] and "at least 7 calendar days" in body["message_en"]
    # under the version it corrects (as the events recorded under it were decided), the same notice passed
    decision = n.decide_notice(fold(APPROVED_2010), _notice("2010-05-10", "2010-05-10", "2010-05-14"),
                               ruleset_by_id("431021@2008.1"))
    assert decision.type == "notice.posted"


def test_the_four_day_notice_names_the_rule_in_both_languages() -> None:
    with pytest.raises(RuleViolation) as caught:
        n.decide_notice(fold(APPROVED), _notice("2024-03-11", "2024-03-11", "2024-03-14"), rules())
    body = caught.value.body()
    assert body["status"] == 422 and body["rule"] == "notice.min_working_days"
    assert "任前公示期不少于5个工作日" in body["message_zh"]
    assert "notice period must be at least 5 working days" in body["message_en"]
    assert "党政领导干部选拔任用工作条例" in body["basis"] and body["working_days"] == 4


# ---- ending a selection before its notice (终止选拔) --------------------------------------------

def _withdraw(on: str, sid: str = "S1") -> Any:
    return cmd(s.WithdrawSelection, on, selection_id=sid, reason="考察发现不宜提拔")


WITHDRAWN = event("selection.withdrawn", "2024-03-12",
                  ev.SelectionWithdrawn(selection_id="S1", reason="考察发现不宜提拔"))

WITHDRAWAL_CASES: list[tuple[str, list[Any], Callable[..., Any], Any, Expected]] = [
    ("after the inspection", INSPECTED, s.decide_withdrawal, _withdraw("2024-03-05"),
     {"type": "selection.withdrawn", "selection_id": "S1", "reason": "考察发现不宜提拔"}),
    ("after the vote", APPROVED, s.decide_withdrawal, _withdraw("2024-03-12"), {"type": "selection.withdrawn"}),
    ("not dated before its last step", APPROVED, s.decide_withdrawal, _withdraw("2024-03-09"), "selection.order"),
    ("not a selection never inspected", [], s.decide_withdrawal, _withdraw("2024-03-05"), "selection.order"),
    ("once", [*APPROVED, WITHDRAWN], s.decide_withdrawal, _withdraw("2024-03-13"), "selection.withdrawn"),
    ("not after its notice: the notice's close or a cancellation ends it",
     [*APPROVED, posted("2024-03-11", "2024-03-11", "2024-03-15")], s.decide_withdrawal, _withdraw("2024-03-12"),
     "selection.withdraw_after_notice"),
    ("no vote on a withdrawn selection", [*INSPECTED, WITHDRAWN], s.decide_vote, _vote("2024-03-13", 11, 10, 9),
     "selection.withdrawn"),
    ("no notice of a withdrawn selection", [*APPROVED, WITHDRAWN], n.decide_notice,
     _notice("2024-03-13", "2024-03-13", "2024-03-19"), "selection.withdrawn"),
]


@pytest.mark.parametrize(("name", "given", "decide", "command", "expected"), WITHDRAWAL_CASES,
                         ids=[c[0] for c in WITHDRAWAL_CASES])
def test_withdrawal(name: str, given: list[Any], decide: Callable[..., Any], command: Any,
                    expected: Expected) -> None:
    check(given, decide, command, expected)


# ---- objections, deferral, cancellation, close ----------------------------------------------

def _objection(on: str, report_id: str = "R1", nid: str = "N1") -> Any:
    return cmd(n.ReceiveObjection, on, notice_id=nid, report_id=report_id, channel="12380", named=False)


OBJECTION_CASES: list[tuple[str, list[Any], Any, Expected]] = [
    ("an objection during the notice", POSTED, _objection("2024-03-12"),
     {"type": "notice.objection_received", "report_id": "R1", "channel": "12380", "named": False}),
    ("to an unknown notice", POSTED, _objection("2024-03-12", nid="N9"), "notice.unknown"),
    ("once per report", [*POSTED, objection("2024-03-12", "R1")], _objection("2024-03-13"),
     "notice.objection_once"),
    ("not after the notice is closed", [*POSTED, closed("2024-03-16", "clear")], _objection("2024-03-18"),
     "notice.not_open"),
    ("not dated before the notice was posted", POSTED, _objection("2024-03-10"), "selection.order"),
    ("while the appointment is deferred", [*POSTED, deferred("2024-03-14", "2024-05-14"),
                                           closed("2024-03-15", "deferred")], _objection("2024-03-20"),
     {"type": "notice.objection_received"}),
]


@pytest.mark.parametrize(("name", "given", "command", "expected"), OBJECTION_CASES,
                         ids=[c[0] for c in OBJECTION_CASES])
def test_objection(name: str, given: list[Any], command: Any, expected: Expected) -> None:
    check(given, n.decide_objection, command, expected)


@pytest.mark.parametrize(("given", "warned"), [
    (POSTED, ["notice.report_not_on_record"]),
    ([*POSTED, report("2024-03-12", "R2")], ["notice.report_not_on_record"]),
    ([*POSTED, report("2024-03-12", "R1")], []),
], ids=["no report on record", "another report on record", "its report on record"])
def test_an_objection_naming_a_report_not_on_record_is_recorded_with_a_warning(given: list[Any],
                                                                               warned: list[str]) -> None:
    """Not refused (the audit service may receive the report later), but a mistyped id would hold the notice open
    until a report of that id is received and verified: the clerk is told to look again."""
    decision = n.decide_objection(fold(given), _objection("2024-03-12"), rules())
    assert decision.type == "notice.objection_received" and [w.code for w in decision.warnings] == warned


def _defer(on: str, until: str) -> Any:
    return cmd(n.Defer, on, notice_id="N1", until=until)


NOV_POSTED = [inspected("2023-11-01"), voted("2023-11-10"), posted("2023-11-13", "2023-11-13", "2023-11-17")]
# A deferral bars the appointment from the day it is decided, so that day is its first (counted): 3 months decided on
# 14 March cover 14 March .. 13 June and the appointment is free on 14 June, as a sanction's effect period is counted
# (shared.tenure.period_end: 6 months from 2024-01-15 end on 2024-07-14).
DEFERRAL_CASES: list[tuple[str, list[Any], Any, Expected]] = [
    ("exactly 3 months: until the day before the month-day", POSTED, _defer("2024-03-14", "2024-06-13"),
     {"type": "appointment.deferred", "until": "2024-06-13", "notice_id": "N1"}),
    ("one day over 3 months: until the month-day itself", POSTED, _defer("2024-03-14", "2024-06-14"),
     "appointment.deferral_max"),
    # February has no 30th: the period runs to its last day (民法典 第二百零二条, 月末日为期间的最后一日)
    ("3 months from 30 Nov 2023 end on 29 Feb 2024", NOV_POSTED, _defer("2023-11-30", "2024-02-29"),
     {"type": "appointment.deferred", "until": "2024-02-29"}),
    ("3 months from 30 Nov 2023 do not reach 1 Mar 2024", NOV_POSTED, _defer("2023-11-30", "2024-03-01"),
     "appointment.deferral_max"),
    ("until must be after the decision", POSTED, _defer("2024-03-14", "2024-03-14"), "appointment.deferral_max"),
    ("a deferral is not extended", [*POSTED, deferred("2024-03-14", "2024-04-14")], _defer("2024-04-10",
                                                                                            "2024-06-10"),
     "appointment.deferral_once"),
    ("not on a closed notice", [*POSTED, closed("2024-03-16", "clear")], _defer("2024-03-17", "2024-04-17"),
     "notice.not_open"),
    ("not on an unknown notice", APPROVED, _defer("2024-03-16", "2024-04-16"), "notice.unknown"),
]


@pytest.mark.parametrize(("name", "given", "command", "expected"), DEFERRAL_CASES, ids=[c[0] for c in DEFERRAL_CASES])
def test_deferral(name: str, given: list[Any], command: Any, expected: Expected) -> None:
    check(given, n.decide_deferral, command, expected)


def test_deferral_limit_is_the_rule_sets() -> None:
    assert rules().rotation.deferral_max_months == 3


def test_a_deferral_ends_as_a_sanctions_effect_period_of_the_same_months_does() -> None:
    """One count for both bars: the latest 缓任至 a refusal names is `period_end` of the decision day, the helper the
    sanction's shortest 影响期止 comes from (the day before the month-day)."""
    with pytest.raises(RuleViolation) as refused:
        n.decide_deferral(fold(POSTED), _defer("2024-03-14", "2024-06-14"), rules())
    assert refused.value.extra["latest"] == period_end(D("2024-03-14"), 3).isoformat() == "2024-06-13"
    assert "不晚于 2024-06-13" in refused.value.extra["message_zh"]


@pytest.mark.parametrize("version", ["431021@2008.1", "431021@2024.2", "000000@2024.2"])
def test_a_superseded_version_still_counts_the_deferral_as_it_did(version: str) -> None:
    """Deferrals recorded under the versions first shipped keep their meaning: they did not count the decision day
    and let a deferral run until the month-day itself."""
    old = ruleset_by_id(version)
    assert old.rotation.deferral_counts_decision_day is False
    decision = n.decide_deferral(fold(POSTED), _defer("2024-03-14", "2024-06-14"), old)
    assert decision.data.model_dump(mode="json")["until"] == "2024-06-14"


def _cancel(on: str) -> Any:
    return cmd(n.CancelQualification, on, notice_id="N1", reason="举报查实, 取消任职资格")


CANCEL_CASES: list[tuple[str, list[Any], Any, Expected]] = [
    ("during the notice", POSTED, _cancel("2024-03-14"),
     {"type": "appointment.qualification_cancelled", "notice_id": "N1"}),
    ("while deferred", [*POSTED, deferred("2024-03-14", "2024-05-14"), closed("2024-03-15", "deferred")],
     _cancel("2024-04-01"), {"type": "appointment.qualification_cancelled"}),
    ("not twice", [*POSTED, cancelled("2024-03-14")], _cancel("2024-03-15"), "notice.not_open"),
    ("not after a final close", [*POSTED, closed("2024-03-16", "clear")], _cancel("2024-03-17"), "notice.not_open"),
]


@pytest.mark.parametrize(("name", "given", "command", "expected"), CANCEL_CASES, ids=[c[0] for c in CANCEL_CASES])
def test_cancellation(name: str, given: list[Any], command: Any, expected: Expected) -> None:
    check(given, n.decide_cancellation, command, expected)


def _close(on: str, outcome: str) -> Any:
    return cmd(n.CloseNotice, on, notice_id="N1", outcome=outcome)


DEFERRED = [*POSTED, objection("2024-03-12", "R1"), deferred("2024-03-14", "2024-05-14"),
            closed("2024-03-15", "deferred")]
CLOSE_CASES: list[tuple[str, list[Any], Any, Expected]] = [
    # POSTED runs from Mon 11 to Fri 15 March 2024, both counted: 5 working days, not over before the 15th has run
    ("clear the day after the last day", POSTED, _close("2024-03-16", "clear"),
     {"type": "notice.closed", "outcome": "clear", "notice_id": "N1"}),
    ("not clear on the last day: the period runs through it (公示期含截止日)", POSTED, _close("2024-03-15", "clear"),
     "notice.period_not_over"),
    ("nor minor_issue_reminded on the last day", POSTED, _close("2024-03-15", "minor_issue_reminded"),
     "notice.period_not_over"),
    ("not clear before the last day", POSTED, _close("2024-03-14", "clear"), "notice.period_not_over"),
    ("not minor_issue_reminded before the last day either", POSTED, _close("2024-03-14", "minor_issue_reminded"),
     "notice.period_not_over"),
    ("an objection not yet verified: not clear", [*POSTED, objection("2024-03-12", "R1")],
     _close("2024-03-16", "clear"), "notice.unresolved_objection"),
    ("... nor minor_issue_reminded", [*POSTED, objection("2024-03-12", "R1")],
     _close("2024-03-16", "minor_issue_reminded"), "notice.unresolved_objection"),
    ("a report received by the audit service during the notice is an objection too",
     [*POSTED, report("2024-03-13", "R7")], _close("2024-03-16", "clear"), "notice.unresolved_objection"),
    ("an objection verified unfounded: clear", [*POSTED, objection("2024-03-12", "R1"),
                                                report("2024-03-12", "R1"), verified("2024-03-15", "R1")],
     _close("2024-03-16", "clear"), {"type": "notice.closed", "outcome": "clear"}),
    ("a verification dated after the close does not count",
     [*POSTED, objection("2024-03-12", "R1"), verified("2024-03-20", "R1")], _close("2024-03-16", "clear"),
     "notice.unresolved_objection"),
    ("an objection found true: not clear", [*POSTED, objection("2024-03-12", "R1"),
                                            verified("2024-03-14", "R1", "verified")],
     _close("2024-03-16", "clear"), "notice.founded_objection"),
    ("... partly true: not clear", [*POSTED, objection("2024-03-12", "R1"), verified("2024-03-14", "R1", "partly")],
     _close("2024-03-16", "clear"), "notice.founded_objection"),
    ("... but minor_issue_reminded", [*POSTED, objection("2024-03-12", "R1"),
                                      verified("2024-03-14", "R1", "partly")],
     _close("2024-03-16", "minor_issue_reminded"), {"type": "notice.closed", "outcome": "minor_issue_reminded"}),
    ("a report from before the notice, unverified, blocks the appointment", [report("2024-02-01", "R0"), *POSTED],
     _close("2024-03-16", "clear"), "appointment.unverified_report"),
    ("not_appointed at any time, objections or not", [*POSTED, objection("2024-03-12", "R1")],
     _close("2024-03-12", "not_appointed"), {"type": "notice.closed", "outcome": "not_appointed"}),
    ("deferred needs the deferral first", POSTED, _close("2024-03-15", "deferred"), "notice.deferral_missing"),
    ("deferred after the deferral, on the last day too", [*POSTED, deferred("2024-03-14", "2024-05-14")],
     _close("2024-03-15", "deferred"),
     {"type": "notice.closed", "outcome": "deferred"}),
    ("not deferred twice", DEFERRED, _close("2024-04-01", "deferred"), "notice.not_open"),
    ("deferred then cleared, but not while the deferral runs",
     [*DEFERRED, verified("2024-04-01", "R1")], _close("2024-05-13", "clear"), "appointment.deferral_running"),
    ("deferred then not cleared on the deferral's last day (缓任至 is inclusive)",
     [*DEFERRED, verified("2024-04-01", "R1")], _close("2024-05-14", "clear"), "appointment.deferral_running"),
    ("deferred then cleared once the deferral has run out", [*DEFERRED, verified("2024-04-01", "R1")],
     _close("2024-05-15", "clear"), {"type": "notice.closed", "outcome": "clear"}),
    ("deferred then not cleared while the objection is unresolved", DEFERRED, _close("2024-05-15", "clear"),
     "notice.unresolved_objection"),
    ("deferred then not appointed", DEFERRED, _close("2024-04-01", "not_appointed"),
     {"type": "notice.closed", "outcome": "not_appointed"}),
    ("a final close is final", [*POSTED, closed("2024-03-16", "clear")], _close("2024-03-17", "not_appointed"),
     "notice.not_open"),
    ("a cancelled qualification ends the notice", [*POSTED, cancelled("2024-03-14")], _close("2024-03-16", "clear"),
     "notice.not_open"),
    ("a running sanction blocks a clear close",
     [*POSTED, raw("sanction.imposed", "2024-03-13", sanction_id="X1", category="administrative", measure="demerit",
                   effective_from="2024-03-13", effective_until="2025-03-12")],
     _close("2024-03-16", "clear"), "appointment.sanction_running"),
    ("basically competent in 2023 bars the promotion in 2024", [graded(2023, "basically_competent"), *POSTED],
     _close("2024-03-16", "clear"), "assessment.promotion_blocked"),
    ("a notice without its inspection on the ledger is held to the promotion rules",
     [graded(2023, "basically_competent"), posted("2024-03-11", "2024-03-11", "2024-03-15")],
     _close("2024-03-16", "clear"), "assessment.promotion_blocked"),
    ("closing an unknown notice", POSTED, cmd(n.CloseNotice, "2024-03-16", notice_id="N2", outcome="clear"),
     "notice.unknown"),
]


@pytest.mark.parametrize(("name", "given", "command", "expected"), CLOSE_CASES, ids=[c[0] for c in CLOSE_CASES])
def test_close(name: str, given: list[Any], command: Any, expected: Expected) -> None:
    check(given, n.decide_close, command, expected)


@pytest.mark.parametrize(("ruleset_day", "start", "end", "cited"), [
    ("2024-03-11", "2024-03-11", "2024-03-15", "公示期不少于五个工作日"),  # 2019 条例: Mon to Fri, 5 working days
    ("2010-03-08", "2010-03-08", "2010-03-14", "公示期一般为七至十五天"),  # 2002 条例: Mon to Sun, 7 calendar days
])
def test_a_notice_closes_only_once_its_last_day_has_run(ruleset_day: str, start: str, end: str, cited: str) -> None:
    """The notice period counts its last day (its minimum is met only with it), so a clear close on that day would
    end the notice before its period has run: refused naming the rule, 公示期未满, the rule set's notice basis and
    the first day a close is possible; the day after, it closes."""
    given = [inspected(start, promotion=False), voted(start), posted(start, start, end)]
    in_force = rules(on=ruleset_day)
    last = cmd(n.CloseNotice, end, notice_id="N1", outcome="clear")
    with pytest.raises(RuleViolation) as caught:
        n.decide_close(fold(given), last, in_force)
    problem = caught.value
    assert problem.rule == "notice.period_not_over" and problem.status == 422
    assert "公示期未满" in problem.extra["message_zh"] and end in problem.extra["message_zh"]
    assert "runs through" in problem.extra["message_en"], problem.extra
    assert problem.extra["basis"] == in_force.bases.notice and cited in problem.extra["basis"]
    after = (D(end) + timedelta(days=1)).isoformat()
    assert problem.extra["closable_from"] == after
    closed_after = n.decide_close(fold(given), cmd(n.CloseNotice, after, notice_id="N1", outcome="clear"), in_force)
    assert closed_after.type == "notice.closed" and closed_after.occurred_on == D(after)
