"""A count of working days on a year whose holidays are not yet official is accepted with a warning (日历暂定).

The event records the years (`provisional_calendar_years`), and the read models and the dossier show them.
Given events, when a command, then the warnings and the event of its decision; here on an operator calendar in
which 2030 is official and 2031 provisional, so the cases do not change when the shipped calendar gains a year's
notice. The HTTP tests use the shipped calendar as the running service does.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from services.assessment.domain import fold, notices
from services.audit.domain import audits, supervision
from services.audit.domain import fold as audit_fold
from shared import workdays
from shared.decisions import Decision
from shared.envelope import CloudEvent, new_event
from shared.events.audit import AuditStarted
from shared.events.registry import spec_for
from shared.rulesets import ruleset_for
from tests.assessment_given import cmd, inspected, rules, voted
from tests.assessment_slice_support import ledger_get, projected, select
from tests.operator_calendar import write_calendar, year_entry
from tests.support import System, call, new_cadre_id, publish, registered_cadre, wait_committed, wait_until

COUNTY = "431021"


@pytest.fixture
def calendar_2031_provisional(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """2030 official, 2031 provisional (statutory holidays only), over the shipped calendar."""
    path = write_calendar(tmp_path, {"2030": year_entry(2030), "2031": year_entry(2031, provisional=True)})
    monkeypatch.setenv(workdays.ENV_FILE, str(path))
    workdays.clear_cache()
    yield
    monkeypatch.delenv(workdays.ENV_FILE)
    workdays.clear_cache()


def _started(on: str) -> CloudEvent:
    data = AuditStarted(audit_id="A1", audit_type="departure", period_from=date(2025, 1, 1),
                        period_to=date(2029, 12, 31), auditing_body="桂阳县审计局", post_id="P1")
    return new_event(event_type="audit.started", cadre_id="C1", county=COUNTY, service="audit", data=data,
                     occurred_on=date.fromisoformat(on), ruleset=rules().id)


def _notice(on: str, end: str) -> Any:
    return cmd(notices.PostNotice, on, selection_id="S1", notice_id="N1", start=on, end=end,
               channels=["县委组织部网站"])


def _assessment(decide: Callable[..., Decision]) -> Callable[[list[CloudEvent], Any], Decision]:
    return lambda given, command: decide(fold(given), command, rules())


def _audit(decide: Callable[..., Decision]) -> Callable[[list[CloudEvent], Any], Decision]:
    return lambda given, command: decide(audit_fold(given), command, rules())


SELECTED = [inspected("2030-11-01"), voted("2030-11-08")]
CASES: list[tuple[str, Callable[[list[CloudEvent], Any], Decision], list[CloudEvent], Any, list[int]]] = [
    ("a notice within an official year", _assessment(notices.decide_notice), SELECTED,
     _notice("2030-12-16", "2030-12-20"), []),
    ("a notice running into a provisional year", _assessment(notices.decide_notice), SELECTED,
     _notice("2030-12-27", "2031-01-08"), [2031]),
    ("an opinion window due within an official year", _audit(audits.decide_request_opinion),
     [_started("2030-05-06")], cmd(audits.RequestOpinion, "2030-06-03", audit_id="A1"), []),
    ("an opinion window due in a provisional year", _audit(audits.decide_request_opinion),
     [_started("2030-11-04")], cmd(audits.RequestOpinion, "2030-12-23", audit_id="A1"), [2031]),
    ("an inquiry answer due within an official year", _audit(supervision.decide_send_inquiry), [],
     cmd(supervision.SendInquiry, "2030-03-01", inquiry_id="Q1"), []),
    ("an inquiry answer due in a provisional year", _audit(supervision.decide_send_inquiry), [],
     cmd(supervision.SendInquiry, "2031-03-03", inquiry_id="Q1"), [2031]),
]


@pytest.mark.usefixtures("calendar_2031_provisional")
@pytest.mark.parametrize(("name", "when", "given", "command", "years"), CASES, ids=[c[0] for c in CASES])
def test_counts_on_a_provisional_year_are_accepted_with_a_warning(
        name: str, when: Callable[[list[CloudEvent], Any], Decision], given: list[CloudEvent], command: Any,
        years: list[int]) -> None:
    decision = when(given, command)
    assert [w.code for w in decision.warnings] == ["calendar.provisional"] * bool(years)
    assert decision.data.model_dump()["provisional_calendar_years"] == (years or None), "the event records them"
    for warning, year in zip(decision.warnings, years, strict=True):
        assert f"provisional working-day calendar of {year}" in warning.message_en
        assert f"{year}年暂定工作日历" in warning.message_zh and "国务院办公厅" in warning.message_zh


async def test_the_command_answer_carries_the_warning_in_both_languages(system: System) -> None:
    first = min(y for y in workdays.covered_years() if workdays.is_provisional(y))
    cadre = await registered_cadre(system, "CAL")
    await select(system, cadre, "XB-CAL", "2026-11-02", "2026-11-09")
    body = {"cadre_id": cadre, "county": COUNTY, "occurred_on": "2026-11-30", "notice_id": "GS-CAL",
            "start": "2026-11-30", "end": f"{first}-01-08", "channels": ["县委组织部网站"]}
    status, answer, _ = await call("POST", f"{system.url('assessment')}/v1/selections/XB-CAL/notice", body)
    assert status == 202, answer
    [warning] = answer["warnings"]
    assert warning["code"] == "calendar.provisional"
    assert f"{first}年暂定工作日历" in warning["message_zh"] and str(first) in warning["message_en"]
    other = await registered_cadre(system, "CAL")
    await select(system, other, "XB-CAL2", "2024-03-01", "2024-03-10")
    status, answer, _ = await call("POST", f"{system.url('assessment')}/v1/selections/XB-CAL2/notice", {
        **body, "cadre_id": other, "occurred_on": "2024-03-11", "notice_id": "GS-CAL2", "start": "2024-03-11",
        "end": "2024-03-15"})
    assert status == 202 and answer["warnings"] == [], answer

    counted = await projected(system, f"/v1/notices?cadre_id={cadre}&as_of=2026-12-01", "notices",
                              lambda n: n["notice_id"] == "GS-CAL")
    assert counted["provisional_calendar_years"] == [first]
    official = await projected(system, f"/v1/notices?cadre_id={other}&as_of=2024-03-12", "notices",
                               lambda n: n["notice_id"] == "GS-CAL2")
    assert official["provisional_calendar_years"] is None
    state = await ledger_get(system, f"/v1/cadres/{cadre}/state")
    assert state["assessment"]["notices"]["GS-CAL"]["provisional_calendar_years"] == [first]
    [posted] = [r["event"] for r in (await ledger_get(system, f"/v1/cadres/{cadre}/history"))["events"]
                if r["event"]["type"] == "notice.posted"]
    assert posted["data"]["provisional_calendar_years"] == [first]


async def test_a_deadline_counted_on_a_provisional_year_says_so_in_the_read_models(system: System) -> None:
    """An inquiry whose answer is due in a provisional year: the overdue list and the dossier name the year.

    Sent late in the last official year, which a command cannot date in the future: the audit service's decision
    is published over NATS as the service would publish it.
    """
    first = min(y for y in workdays.covered_years() if workdays.is_provisional(y))
    cadre, sent_on = new_cadre_id("CAL"), f"{first - 1}-12-21"
    decision = _audit(supervision.decide_send_inquiry)([], cmd(supervision.SendInquiry, sent_on, inquiry_id="HX-CAL"))
    assert [w.code for w in decision.warnings] == ["calendar.provisional"]
    event = new_event(event_type=decision.type, cadre_id=cadre, county=COUNTY, service="audit", data=decision.data,
                      occurred_on=decision.occurred_on, ruleset=rules().id)
    [seq] = await publish(system.nats_url, [event])
    await wait_committed(system.pg_dsn, seq)
    row = await projected(system, f"/v1/inquiries/overdue?cadre_id={cadre}&as_of={first}-06-01", "inquiries",
                          lambda i: i["inquiry_id"] == "HX-CAL")
    assert row["provisional_calendar_years"] == [first] and row["due"].startswith(f"{first}-01")
    state = await ledger_get(system, f"/v1/cadres/{cadre}/state")
    assert state["inquiries"]["HX-CAL"]["due_provisional_years"] == [first]


@pytest.mark.usefixtures("calendar_2031_provisional")
async def test_once_the_year_is_official_the_read_models_recount_what_was_counted_on_it(tmp_path: Path) -> None:
    """Recorded on a calendar where 2031 was provisional; read by a ledger whose calendar has the 2031 notice,
    which gives 2 January off as well: the notice list and the overdue list show the count made again beside
    the recorded one (复核), and leave counts made on official years alone."""
    (tmp_path / "official").mkdir()
    official = write_calendar(tmp_path / "official", {
        "2030": year_entry(2030), "2031": year_entry(2031, holidays=["2031-01-01", "2031-01-02"])})
    cadre, sent_on = new_cadre_id("CAL"), "2030-12-20"
    notice = _assessment(notices.decide_notice)(SELECTED, _notice("2030-12-27", "2031-01-08"))
    inquiry = _audit(supervision.decide_send_inquiry)([], cmd(supervision.SendInquiry, sent_on, inquiry_id="HX-R"))
    plain = _audit(supervision.decide_send_inquiry)([], cmd(supervision.SendInquiry, "2030-03-01", inquiry_id="HX-P"))
    # sent two days earlier and received on the day HX-R was sent: counted again from the receipt, as HX-R is
    received = _audit(supervision.decide_send_inquiry)([], cmd(supervision.SendInquiry, "2030-12-18",
                                                               inquiry_id="HX-RR", received_on=sent_on))
    # 30 Dec to 6 Jan: 5 working days while 2 January was worked, the least a notice may have; 4 once it is off
    short_on = [inspected("2030-11-01", "S2"), voted("2030-11-08", "S2")]
    short = _assessment(notices.decide_notice)(short_on, cmd(
        notices.PostNotice, "2030-12-30", selection_id="S2", notice_id="N2", start="2030-12-30", end="2031-01-06",
        channels=["县委组织部网站"]))
    assert notice.data.model_dump()["provisional_calendar_years"] == [2031] and not plain.warnings
    assert short.data.model_dump()["working_days"] == rules().assessment.notice_min_working_days
    short_cadre = new_cadre_id("CAL")
    events = [_as_cadre(e, c) for c, given in ((cadre, SELECTED), (short_cadre, short_on)) for e in given]
    events += [new_event(event_type=d.type, cadre_id=c, county=COUNTY, service=service, data=d.data,
                         occurred_on=d.occurred_on, ruleset=rules().id)
               for d, c, service in ((notice, cadre, "assessment"), (inquiry, cadre, "audit"),
                                     (plain, cadre, "audit"), (received, cadre, "audit"),
                                     (short, short_cadre, "assessment"))]
    system = await asyncio.to_thread(System(tmp_path / "sys", services=("ledger",),
                                            extra_env={workdays.ENV_FILE: str(official)}).start)
    try:
        await wait_committed(system.pg_dsn, max(await publish(system.nats_url, events)))
        listed = await projected(system, f"/v1/notices?cadre_id={cadre}&status=all&as_of=2030-12-28", "notices",
                                 lambda n: n["notice_id"] == "N1")
        recorded = notice.data.model_dump()["working_days"]
        assert listed["working_days"] == recorded and listed["working_days_recounted"] == recorded - 1

        def overdue(page: dict[str, Any]) -> dict[str, dict[str, Any]] | None:
            rows = {i["inquiry_id"]: i for i in page["inquiries"]}
            return rows if len(rows) == 3 else None

        rows = await wait_until(lambda: _page(system, f"/v1/inquiries/overdue?cadre_id={cadre}&as_of=2031-06-01",
                                              overdue))
        answer_days = ruleset_for(COUNTY, date.fromisoformat(sent_on)).audit.inquiry_answer_working_days
        with pytest.MonkeyPatch.context() as as_the_ledger:  # count it here on the ledger's calendar
            as_the_ledger.setenv(workdays.ENV_FILE, str(official))
            workdays.clear_cache()
            expected = workdays.add_working_days(date.fromisoformat(sent_on), answer_days)
        workdays.clear_cache()
        assert rows["HX-R"]["due"] == inquiry.data.model_dump(mode="json")["due"]
        assert rows["HX-R"]["due_recounted"] == expected.isoformat() != rows["HX-R"]["due"]
        assert rows["HX-P"]["provisional_calendar_years"] is None and rows["HX-P"]["due_recounted"] is None
        assert rows["HX-RR"]["received_on"] == sent_on and rows["HX-RR"]["due"] == rows["HX-R"]["due"]
        assert rows["HX-RR"]["due_recounted"] == expected.isoformat()

        flagged = await projected(system, f"/v1/appointments?cadre_id={short_cadre}", "appointments",
                                  lambda a: a["notice_id"] == "N2")
        assert flagged["notice_provisional_years"] == [2031] and not flagged["compliant"]
        [issue] = flagged["issues"]
        assert issue["rule"] == "notice.min_working_days_recounted" and "now it has 4, fewer than 5" in \
            issue["message_en"] and "按现行日历复核只有4个" in issue["message_zh"]
        sound = await projected(system, f"/v1/appointments?cadre_id={cadre}", "appointments",
                                lambda a: a["notice_id"] == "N1")
        assert sound["compliant"] and sound["notice_provisional_years"] == [2031]
    finally:
        await asyncio.to_thread(system.stop)


async def _page(system: System, path: str, ready: Callable[[dict[str, Any]], Any]) -> Any:
    return ready(await ledger_get(system, path))


def _as_cadre(event: CloudEvent, cadre: str) -> CloudEvent:
    """A given event of the table tests, recorded for `cadre` instead."""
    return new_event(event_type=event.type, cadre_id=cadre, county=COUNTY, service="assessment",
                     data=spec_for(event.type).model.model_validate(event.data), occurred_on=event.occurredon,
                     ruleset=rules().id)
