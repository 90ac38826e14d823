"""Table tests of shared.appointment_blockers (DOMAIN.md rule 3): given events, on a day, then the rules.

The module reads events by type string (it must not depend on the services that own them), so the
given events are envelopes built here directly, with data as it is stored on the ledger (JSON).
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

import pytest

from shared.appointment_blockers import appointment_blockers, deferral_runs, names_post
from shared.envelope import CloudEvent
from shared.rulesets import ruleset_by_id, ruleset_for


def ev(type_: str, occurred: str, **data: Any) -> CloudEvent:
    """An envelope of `type_` for cadre C1 in the seed county, occurred on `occurred`."""
    return CloudEvent(id=uuid.uuid4(), source="/counties/431021/test", type=type_, subject="C1",
                      time=datetime(2024, 1, 1, tzinfo=UTC),
                      dataschema=f"https://cadre-ledger.dev/schemas/events/v1/{type_}.json", county="431021",
                      occurredon=date.fromisoformat(occurred), ruleset="431021@2008.1", data=data)


RECEIVED = ev("report.received", "2024-03-01", report_id="R1", channel="12380", named=False, summary="收受礼金")
VERIFIED = ev("report.verified", "2024-03-10", report_id="R1", outcome="unfounded")
DEFERRED = ev("appointment.deferred", "2024-03-05", notice_id="N1", until="2024-06-05")
POSTED = ev("notice.posted", "2024-02-26", notice_id="N1", selection_id="S1", proposed_post="樟市镇党委书记",
            start="2024-02-26", end="2024-03-01", working_days=5, channels=["县委组织部网站"])
CANCELLED = ev("appointment.qualification_cancelled", "2024-03-05", notice_id="N1", reason="举报查实")
SANCTION = ev("sanction.imposed", "2024-02-01", sanction_id="S1", category="party", measure="警告",
              effective_from="2024-02-01", effective_until="2024-08-01")
OPEN_SANCTION = ev("sanction.imposed", "2024-02-01", sanction_id="S2", category="organisational",
                   measure="责令辞职", effective_from="2024-02-01")
BLOCK_YEARS = ruleset_by_id("431021@2008.1").assessment.promotion_block_years
BASES = ruleset_for("431021", date(2024, 3, 1)).bases
"""What the blockers of these 2024-2025 days cite: the rule set in force then, as a caller passes it."""
BASICALLY = ev("assessment.annual_graded", "2024-01-15", year=2023, grade="basically_competent",
               admonishment_required=True, promotion_blocked_years=[2023 + n for n in range(1, BLOCK_YEARS + 1)],
               dismissal_case=False, consecutive_incompetent_years=[])
COMPETENT = ev("assessment.annual_graded", "2024-01-15", year=2023, grade="competent", admonishment_required=False,
               promotion_blocked_years=[], dismissal_case=False, consecutive_incompetent_years=[])
BREACH = ev("assessment.threshold_breached", "2025-03-10", rule="dual_evaluation", year=2024, evaluations=[])
INCOMPETENT = [ev("assessment.annual_graded", on, year=year, grade="incompetent", admonishment_required=False,
                  promotion_blocked_years=[], dismissal_case=year == 2024, consecutive_incompetent_years=[],
                  demotion_required=True)
               for on, year in (("2024-01-20", 2023), ("2025-01-20", 2024))]
"""Two adjacent years graded 不称职: each demotes, and 2024's opens the dismissal case too."""
INCOMPETENT_BARRING = ev("assessment.annual_graded", "2024-01-20", year=2023, grade="incompetent",
                         admonishment_required=False, promotion_blocked_years=[2024], dismissal_case=False,
                         consecutive_incompetent_years=[], demotion_required=False)
"""不称职 of a cadre whose rank the ledger cannot lower (科员, 非领导职务): years without promotion, no demotion."""
UNSTATED = ev("assessment.annual_graded", "2024-01-20", year=2023, grade="incompetent", admonishment_required=False,
              promotion_blocked_years=[], dismissal_case=False, consecutive_incompetent_years=[])
"""不称职 recorded before a grade listed years without promotion or said whether it demotes (431021@2008.1)."""
UNRELATED = ev("audit.completed", "2024-01-01", audit_id="A1", audit_type="departure", report_number="R",
               evaluation="good", findings=[])

CASES: list[tuple[str, list[CloudEvent], str, list[str]]] = [
    ("no events, nothing blocks", [], "2024-04-01", []),
    ("other services' events do not block", [UNRELATED], "2024-04-01", []),
    ("unverified report blocks", [RECEIVED], "2024-03-05", ["appointment.unverified_report"]),
    ("verified report (any outcome) no longer blocks", [RECEIVED, VERIFIED], "2024-03-10", []),
    ("a verification after the day does not count", [RECEIVED, VERIFIED], "2024-03-09",
     ["appointment.unverified_report"]),
    ("a report received after the day does not count", [RECEIVED], "2024-02-28", []),
    ("verification of another report does not clear this one",
     [RECEIVED, ev("report.verified", "2024-03-02", report_id="R2", outcome="verified")], "2024-03-05",
     ["appointment.unverified_report"]),
    ("running deferral blocks", [DEFERRED], "2024-06-04", ["appointment.deferral_running"]),
    ("a deferral still runs on its until day (缓任至: its last day)", [DEFERRED], "2024-06-05",
     ["appointment.deferral_running"]),
    ("a deferral is over the day after its until day", [DEFERRED], "2024-06-06", []),
    ("a cancelled qualification does not bar the cadre's other appointments", [POSTED, CANCELLED], "2025-01-01",
     []),
    ("sanction blocks on its first day", [SANCTION], "2024-02-01", ["appointment.sanction_running"]),
    ("sanction blocks on its last day", [SANCTION], "2024-08-01", ["appointment.sanction_running"]),
    ("sanction over after its period", [SANCTION], "2024-08-02", []),
    ("sanction effective later does not block yet",
     [ev("sanction.imposed", "2024-01-15", sanction_id="S3", category="administrative", measure="记过",
         effective_from="2024-02-01", effective_until="2024-12-31")], "2024-01-20", []),
    ("open-ended sanction blocks indefinitely", [OPEN_SANCTION], "2030-01-01", ["appointment.sanction_running"]),
    ("every blocker of another appointment, in ledger order", [SANCTION, RECEIVED, DEFERRED, CANCELLED],
     "2024-03-06", ["appointment.sanction_running", "appointment.unverified_report", "appointment.deferral_running"]),
]


@pytest.mark.parametrize(("given", "on", "then"), [(g, o, t) for _, g, o, t in CASES],
                         ids=[name for name, *_ in CASES])
def test_appointment_blockers(given: list[CloudEvent], on: str, then: list[str]) -> None:
    assert [v.rule for v in appointment_blockers(given, date.fromisoformat(on), BASES)] == then


# A cancelled qualification (取消任职资格, S1) is for the appointment proposed: the notice it was cancelled under
# and the post that notice proposed (拟任职务); the cadre's other appointments are not barred by it.
FOR_CASES: list[tuple[str, list[CloudEvent], str, dict[str, Any], list[str]]] = [
    ("an appointment under the cancelled notice", [POSTED, CANCELLED], "2025-01-01", {"notice_id": "N1"},
     ["appointment.qualification_cancelled"]),
    ("an appointment to the post the cancelled notice proposed", [POSTED, CANCELLED], "2025-01-01",
     {"post": "樟市镇党委书记"}, ["appointment.qualification_cancelled"]),
    ("... however the title is spaced, in full-width or half-width forms", [POSTED, CANCELLED], "2025-01-01",
     {"post": " 樟市镇 党委书记\u3000"}, ["appointment.qualification_cancelled"]),
    ("... by a later selection and notice too", [POSTED, CANCELLED], "2025-01-01",
     {"notice_id": "N2", "post": "樟市镇党委书记"}, ["appointment.qualification_cancelled"]),
    ("... or the post's title with its township or unit apart", [POSTED, CANCELLED], "2025-01-01",
     {"post": "党委书记", "places": ("樟市镇", "樟市镇党委")}, ["appointment.qualification_cancelled"]),
    ("... but not the same title in another township", [POSTED, CANCELLED], "2025-01-01",
     {"post": "党委书记", "places": ("仁义镇", "仁义镇党委")}, []),
    ("an appointment under another notice to another post", [POSTED, CANCELLED], "2025-01-01",
     {"notice_id": "N2", "post": "仁义镇镇长"}, []),
    ("another post, no notice (an exemption)", [POSTED, CANCELLED], "2025-01-01", {"post": "仁义镇镇长"}, []),
    ("a cancellation recorded after the day does not count", [POSTED, CANCELLED], "2024-03-04",
     {"notice_id": "N1"}, []),
    ("every blocker, in ledger order", [SANCTION, RECEIVED, DEFERRED, POSTED, CANCELLED], "2024-03-06",
     {"notice_id": "N1"}, ["appointment.sanction_running", "appointment.unverified_report",
                           "appointment.deferral_running", "appointment.qualification_cancelled"]),
    # A posting that is neither a promotion nor made through a selection (bound_only): only what binds its post.
    ("a lateral posting: no sanction, no unverified report", [SANCTION, RECEIVED], "2024-03-06",
     {"post": "仁义镇镇长", "bound_only": True}, []),
    ("... but the deferral and the cancelled qualification of the appointment to its post",
     [SANCTION, RECEIVED, POSTED, DEFERRED, CANCELLED], "2024-03-06",
     {"post": "党委书记", "places": ("樟市镇", "樟市镇党委"), "bound_only": True},
     ["appointment.deferral_running", "appointment.qualification_cancelled"]),
    ("... not those of another post", [POSTED, DEFERRED, CANCELLED], "2024-03-06",
     {"post": "镇长", "places": ("樟市镇", "樟市镇人民政府"), "bound_only": True}, []),
]


@pytest.mark.parametrize(("given", "on", "appointment", "then"), [(g, o, a, t) for _, g, o, a, t in FOR_CASES],
                         ids=[name for name, *_ in FOR_CASES])
def test_a_cancelled_qualification_bars_the_appointment_it_was_cancelled_for(
        given: list[CloudEvent], on: str, appointment: dict[str, Any], then: list[str]) -> None:
    assert [v.rule for v in appointment_blockers(given, date.fromisoformat(on), BASES, **appointment)] == then


# DOMAIN.md rule 6: a 基本称职 (or, under the corrected rule sets, 不称职) grade bars promotion in the years it lists
# (the rule set's promotion_block_years, or incompetent_promotion_block_years, after the graded year, decided when the
# grade was recorded); it bars promotions only, after rule 3's blockers.
PROMOTION_CASES: list[tuple[str, list[CloudEvent], str, bool, list[str]]] = [
    ("basically competent in 2023 bars a promotion in 2024", [BASICALLY], "2024-03-01", True,
     ["assessment.promotion_blocked"]),
    ("... but not an appointment that is no promotion", [BASICALLY], "2024-03-01", False, []),
    ("... nor a promotion once the barred years are over", [BASICALLY], f"{2024 + BLOCK_YEARS}-01-02", True, []),
    ("... nor one decided before the grade was recorded", [BASICALLY], "2024-01-14", True, []),
    ("a competent grade bars nothing", [COMPETENT], "2024-03-01", True, []),
    ("incompetent in 2023, recorded with the year it bars (corrected rule sets), bars a promotion in 2024",
     [INCOMPETENT_BARRING], "2024-03-01", True, ["assessment.promotion_blocked"]),
    ("... but not an appointment that is no promotion", [INCOMPETENT_BARRING], "2024-03-01", False, []),
    ("... an incompetent grade recorded under 431021@2008.1 listed no year, and bars none as a grade", [UNSTATED],
     "2024-03-01", True, ["assessment.demotion_pending"]),
    ("rule 3's blockers come first", [BASICALLY, RECEIVED], "2024-03-05", True,
     ["appointment.unverified_report", "assessment.promotion_blocked"]),
    # rules 6 and 7: a demotion or removal the assessments require bars promotion until a decision answers it
    ("a breach awaiting its demotion or removal bars a promotion", [BREACH], "2025-06-01", True,
     ["assessment.demotion_pending"]),
    ("... but not an appointment that is no promotion", [BREACH], "2025-06-01", False, []),
    ("... nor a promotion decided before the breach was recorded", [BREACH], "2025-03-09", True, []),
    ("a demotion answers the breach", [BREACH, ev("post.assigned", "2025-04-01", post_id="P2", kind="demotion")],
     "2025-06-01", True, []),
    ("... as does a removal (post vacated, dismissal)", [BREACH, ev("post.vacated", "2025-04-01", post_id="P1",
                                                                      reason="dismissal")], "2025-06-01", True, []),
    ("... or the sanction organisational.demotion",
     [BREACH, ev("sanction.imposed", "2025-04-01", sanction_id="S9", category="organisational", measure="demotion",
                 effective_from="2025-04-01", effective_until="2025-04-02")], "2025-06-01", True, []),
    ("a demotion before the breach answers nothing",
     [ev("post.assigned", "2025-01-01", post_id="P2", kind="demotion"), BREACH], "2025-06-01", True,
     ["assessment.demotion_pending"]),
    ("two years graded incompetent: the dismissal case bars a promotion, beside each year's demotion",
     [*INCOMPETENT], "2025-06-01", True, ["assessment.demotion_pending"] * 3),
    ("... a demotion does not answer a dismissal case",
     [*INCOMPETENT, ev("post.assigned", "2025-04-01", post_id="P2", kind="demotion")], "2025-06-01", True,
     ["assessment.demotion_pending"]),
    ("... a removal does", [*INCOMPETENT, ev("sanction.imposed", "2025-04-01", sanction_id="S9",
                                              category="administrative", measure="dismissal_from_post",
                                              effective_from="2025-04-01", effective_until="2027-03-31")],
     "2025-06-01", True, ["appointment.sanction_running"]),
    ("a demotion recorded before the breach answers nothing, whatever its date (as on the watchlist)",
     [ev("post.assigned", "2025-04-01", post_id="P2", kind="demotion"), BREACH], "2025-06-01", True,
     ["assessment.demotion_pending"]),
    ("a dismissal case arises on the day of the grade that completes it, recorded second (as on the watchlist); "
     "the 2024 grade's demotion arose on its own day, after the removal",
     [INCOMPETENT[1], ev("assessment.annual_graded", "2024-01-20", year=2023, grade="incompetent",
                         admonishment_required=False, promotion_blocked_years=[], dismissal_case=True,
                         consecutive_incompetent_years=[2023, 2024]),
      ev("post.vacated", "2024-06-01", post_id="P1", reason="dismissal")], "2025-06-01", True,
     ["assessment.demotion_pending"]),
    ("incompetent in two years apart is no dismissal case", [INCOMPETENT_BARRING, ev(
        "assessment.annual_graded", "2025-01-20", year=2024, grade="competent", admonishment_required=False,
        promotion_blocked_years=[], dismissal_case=False, consecutive_incompetent_years=[])], "2025-06-01", True, []),
]


@pytest.mark.parametrize(("given", "on", "promotion", "then"), [(g, o, p, t) for _, g, o, p, t in PROMOTION_CASES],
                         ids=[name for name, *_ in PROMOTION_CASES])
def test_a_low_grade_bars_promotion(given: list[CloudEvent], on: str, promotion: bool, then: list[str]) -> None:
    assert [v.rule for v in appointment_blockers(given, date.fromisoformat(on), BASES, promotion=promotion)] == then


DEMOTES = ev("assessment.annual_graded", "2024-01-20", year=2023, grade="incompetent", admonishment_required=False,
             promotion_blocked_years=[2024], dismissal_case=False, consecutive_incompetent_years=[],
             demotion_required=True)
"""不称职 of a cadre whose rank can be lowered, as the assessment service records it now."""
PENDING = ("assessment.demotion_pending", "incompetent_demotion")
BARRED = ("assessment.promotion_blocked", None)

# rule 6: a 不称职 grade that demotes (降低一个职务或者职级层次任职) awaits its demotion as a breach does, answered
# by what answers a breach (a demotion or a removal), and bars promotion meanwhile, beside the years it lists
DEMOTION_CASES: list[tuple[str, list[CloudEvent], str, bool, list[tuple[str, str | None]]]] = [
    ("in the year it bars: the year and the demotion", [DEMOTES], "2024-03-01", True, [BARRED, PENDING]),
    ("after it: the demotion still awaited", [DEMOTES], "2025-06-01", True, [PENDING]),
    ("... not for an appointment that is no promotion", [DEMOTES], "2025-06-01", False, []),
    ("... nor a promotion decided before the grade was recorded", [DEMOTES], "2024-01-19", True, []),
    ("a demotion posting answers it", [DEMOTES, ev("post.assigned", "2024-04-01", post_id="P2", kind="demotion")],
     "2025-06-01", True, []),
    ("... as does a post vacated for demotion", [DEMOTES, ev("post.vacated", "2024-04-01", post_id="P1",
                                                              reason="demotion")], "2025-06-01", True, []),
    ("... the sanction organisational.demotion",
     [DEMOTES, ev("sanction.imposed", "2024-04-01", sanction_id="S9", category="organisational", measure="demotion",
                  effective_from="2024-04-01", effective_until="2024-04-02")], "2025-06-01", True, []),
    ("... or a removal (post vacated, dismissal)", [DEMOTES, ev("post.vacated", "2024-04-01", post_id="P1",
                                                                 reason="dismissal")], "2025-06-01", True, []),
    ("a demotion on the grade's day answers it", [DEMOTES, ev("post.vacated", "2024-01-20", post_id="P1",
                                                               reason="demotion")], "2025-06-01", True, []),
    ("a lateral posting answers nothing", [DEMOTES, ev("post.assigned", "2024-04-01", post_id="P2", kind="lateral")],
     "2025-06-01", True, [PENDING]),
    ("a demotion recorded before the grade answers nothing",
     [ev("post.assigned", "2023-10-01", post_id="P2", kind="demotion"), DEMOTES], "2025-06-01", True, [PENDING]),
    ("a grade that demotes no one (科员, 非领导职务) awaits nothing", [INCOMPETENT_BARRING], "2025-06-01", True, []),
    ("a grade recorded before it said: 不称职 without a dismissal case demotes", [UNSTATED], "2025-06-01", True,
     [PENDING]),
    ("one demotion answers the grade and a breach alike",
     [DEMOTES, BREACH, ev("post.vacated", "2025-04-01", post_id="P1", reason="demotion")], "2025-06-01", True, []),
    ("a demotion answers both years' grades, not the dismissal case",
     [*INCOMPETENT, ev("post.assigned", "2025-04-01", post_id="P2", kind="demotion")], "2025-06-01", True,
     [("assessment.demotion_pending", "dismissal_case")]),
]


@pytest.mark.parametrize(("given", "on", "promotion", "then"), [(g, o, p, t) for _, g, o, p, t in DEMOTION_CASES],
                         ids=[name for name, *_ in DEMOTION_CASES])
def test_an_incompetent_grade_awaits_its_demotion(given: list[CloudEvent], on: str, promotion: bool,
                                                  then: list[tuple[str, str | None]]) -> None:
    blockers = appointment_blockers(given, date.fromisoformat(on), BASES, promotion=promotion)
    assert [(v.rule, v.extra.get("item")) for v in blockers] == then


@pytest.mark.parametrize(("grade", "en", "zh"), [(BASICALLY, "basically competent", "基本称职"),
                                                 (INCOMPETENT_BARRING, "incompetent", "不称职")])
def test_the_barred_promotion_names_the_grade(grade: CloudEvent, en: str, zh: str) -> None:
    [barred] = appointment_blockers([grade], date(2024, 3, 1), BASES, promotion=True)
    assert f"the annual grade of 2023 is {en}" in barred.body()["message_en"]
    assert f"2023年度考核被确定为{zh}" in barred.body()["message_zh"]


def test_a_blocker_is_a_422_in_both_languages_naming_its_subject() -> None:
    [violation] = appointment_blockers([RECEIVED], date(2024, 3, 5), BASES)
    body = violation.body()
    assert violation.status == 422 and body["rule"] == "appointment.unverified_report"
    assert body["report_id"] == "R1" and "R1" in body["message_en"] and "未核查" in body["message_zh"]
    assert body["basis"]

    [sanction] = appointment_blockers([SANCTION], date(2024, 5, 1), BASES)
    assert sanction.body()["effective_until"] == "2024-08-01" and "影响期" in sanction.body()["message_zh"]
    [open_ended] = appointment_blockers([OPEN_SANCTION], date(2024, 5, 1), BASES)
    assert open_ended.body()["effective_until"] is None and "open-ended" in open_ended.body()["message_en"]

    [cancelled] = appointment_blockers([POSTED, CANCELLED], date(2024, 5, 1), BASES, post="樟市镇党委书记")
    assert cancelled.body()["notice_id"] == "N1" and cancelled.body()["proposed_post"] == "樟市镇党委书记"
    assert "取消任职资格" in cancelled.body()["message_zh"] and "樟市镇党委书记" in cancelled.body()["message_en"]

    [barred] = appointment_blockers([BASICALLY], date(2024, 3, 1), BASES, promotion=True)
    assert barred.body()["rule"] == "assessment.promotion_blocked" and barred.body()["graded_year"] == 2023
    assert "基本称职" in barred.body()["message_zh"] and "basically competent" in barred.body()["message_en"]
    assert barred.body()["basis"]

    demotion, _, case = appointment_blockers(INCOMPETENT, date(2025, 6, 1), BASES, promotion=True)
    body = case.body()
    assert body["item"] == "dismissal_case" and body["consecutive_incompetent_years"] == [2023, 2024]
    assert "连续两年考核不称职" in body["message_zh"] and "2025-01-20" in body["message_en"]
    body = demotion.body()
    assert body["rule"] == "assessment.demotion_pending" and body["item"] == "incompetent_demotion"
    assert body["year"] == 2023 and body["basis"] == BASES.grading
    assert "2023年度考核被确定为不称职" in body["message_zh"] and "降低一个职务或者职级层次任职" in body["message_zh"]
    assert "graded incompetent for 2023 (recorded 2024-01-20)" in body["message_en"]


@pytest.mark.parametrize(("until", "on", "runs"), [("2024-06-05", "2024-06-04", True),
                                                   ("2024-06-05", "2024-06-05", True),
                                                   ("2024-06-05", "2024-06-06", False)])
def test_a_deferral_runs_through_its_until_day(until: str, on: str, runs: bool) -> None:
    """The one count the blocker and the notices read model (deferral_overdue) share, like a sanction's end."""
    assert deferral_runs(date.fromisoformat(until), date.fromisoformat(on)) is runs


NAMES = [
    ("the same title", "副镇长", "副镇长", (), True),
    ("spaced and full-width alike", "樟市镇 副镇长", "樟市镇副镇长\u3000", (), True),
    ("the notice's title with the township before it", "樟市镇副镇长", "副镇长", ("樟市镇", "樟市镇人民政府"), True),
    ("... or the end of the unit", "县审计局局长", "局长", (None, "桂阳县审计局"), True),
    ("... or the posting's title with the place in it", "副镇长", "樟市镇副镇长", ("樟市镇", None), True),
    ("a deputy's title does not name the principal's", "副县长", "县长", (None, "桂阳县人民政府"), False),
    ("another township's post", "仁义镇镇长", "镇长", ("樟市镇", "樟市镇人民政府"), False),
    ("another post", "某镇党委书记", "某镇镇长", ("某镇", None), False),
    ("no place given", "樟市镇副镇长", "副镇长", (), False),
    ("a notice of two posts names the first", "樟市镇党委副书记、镇长", "党委副书记", ("樟市镇", "樟市镇党委"), True),
    ("... and the second", "樟市镇党委副书记、镇长", "镇长", ("樟市镇", "樟市镇人民政府"), True),
    ("... and no third", "樟市镇党委副书记、镇长", "副镇长", ("樟市镇", "樟市镇人民政府"), False),
]


@pytest.mark.parametrize(("proposed", "post", "places", "then"), [n[1:] for n in NAMES], ids=[n[0] for n in NAMES])
def test_which_post_a_notice_names(proposed: str, post: str, places: tuple[str | None, ...], then: bool) -> None:
    assert names_post(proposed, post, places) is then
