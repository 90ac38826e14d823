"""Corrected rule sets through HTTP, NATS and the ledger: a version found wrong (431021@2008.1) is superseded by
new ones (431021@2008.2, @2014.1, @2019.1) for new decisions, while the facts recorded under it stay as recorded and
the compliance read model checks them against the correction."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from pydantic import BaseModel

from shared.envelope import CloudEvent, new_event
from shared.events import assessment as ev
from shared.rulesets import ruleset_by_id, ruleset_for
from tests.assessment_slice_support import CHECKS, COUNTY, base, post, projected, refused, select
from tests.support import System, fetch, publish, registered_cadre, wait_committed


async def test_a_2010_notice_of_five_working_days_is_refused_under_the_2002_regulation(system: System) -> None:
    """431021@2008.1 asked 5 working days from 2008; until 2014-01-14 the 2002 条例 applied, 公示期一般为七至十五天,
    in calendar days: its correction (431021@2008.2, now 431021@2008.3) refuses Mon 10 to Fri 14 May 2010 and cites
    the 2002 条例."""
    cadre = await registered_cadre(system, "SEL")
    await select(system, cadre, "XB-2010", "2010-04-20", "2010-05-04")
    problem = await refused(system, "assessment", "/v1/selections/XB-2010/notice",
                            {**base(cadre, "2010-05-10"), "notice_id": "GS-2010", "start": "2010-05-10",
                             "end": "2010-05-14", "channels": ["县委组织部公示栏"]}, "notice.min_calendar_days")
    assert problem["ruleset"] == "431021@2008.3" and problem["calendar_days"] == 5 and problem["required"] == 7
    assert problem["basis"] == ruleset_by_id("431021@2008.3").bases.notice
    assert "党政领导干部选拔任用工作条例 (2002)" in problem["basis"] and "公示期一般为七至十五天" in problem["basis"]
    assert "(2019)" not in problem["basis"]
    assert problem["detail"].startswith("任前公示期不少于7天")
    # seven calendar days (five working days) are enough, and the notice is recorded under the correction
    answer = await post(system, "assessment", "/v1/selections/XB-2010/notice",
                        {**base(cadre, "2010-05-10"), "notice_id": "GS-2010", "start": "2010-05-10",
                         "end": "2010-05-16", "channels": ["县委组织部公示栏"]})
    assert answer["ruleset"] == "431021@2008.3"


def _recorded_under_the_version_corrected(cadre: str) -> list[CloudEvent]:
    """A selection of 2010 whose Monday-to-Friday notice 431021@2008.1 let through (5 working days)."""
    old = "431021@2008.1"
    assert ruleset_for(COUNTY, date(2010, 5, 10)).id != old

    def recorded(type_: str, on: str, data: BaseModel) -> CloudEvent:
        return new_event(event_type=type_, cadre_id=cadre, county=COUNTY, service="assessment", data=data,
                         occurred_on=date.fromisoformat(on), ruleset=old)

    return [
        recorded("selection.inspected", "2010-04-20", ev.SelectionInspected(
            selection_id="XB-OLD", proposed_post="某镇副镇长", promotion=True, **CHECKS)),
        recorded("appointment.voted", "2010-05-04", ev.AppointmentVoted(
            selection_id="XB-OLD", proposed_post="某镇副镇长", members_entitled=11, members_present=11, votes_for=9,
            votes_against=2, votes_deferred=0, outcome="approved")),
        recorded("notice.posted", "2010-05-10", ev.NoticePosted(
            notice_id="GS-OLD", selection_id="XB-OLD", proposed_post="某镇副镇长", start=date(2010, 5, 10),
            end=date(2010, 5, 14), working_days=5, channels=["县委组织部公示栏"]))]


async def test_a_notice_recorded_under_the_version_corrected_shows_as_an_issue(system: System) -> None:
    """A Monday-to-Friday notice of 2010 recorded under 431021@2008.1 (before its correction) stays on the ledger
    as recorded; the compliance read model, which checks each step under the rules of its day, flags it."""
    cadre = await registered_cadre(system, "SEL")
    facts = _recorded_under_the_version_corrected(cadre)
    await wait_committed(system.pg_dsn, max(await publish(system.nats_url, facts)))
    entry = await projected(system, f"/v1/appointments?cadre_id={cadre}", "appointments",
                            lambda e: e["notice_id"] == "GS-OLD")
    assert entry["compliant"] is False
    assert [i["rule"] for i in entry["issues"]] == ["notice.min_calendar_days"], entry["issues"]
    assert "任前公示期不少于7天" in entry["issues"][0]["message_zh"]


@pytest.fixture
def own_system(tmp_path: Path) -> Iterator[System]:
    """A private ledger: the test restarts it."""
    sys_ = System(tmp_path, services=("ledger",)).start()
    yield sys_
    sys_.stop()


async def test_an_upgrade_checks_the_notices_already_projected_against_the_correction(own_system: System) -> None:
    """The compliance rows of the release before the corrections (read model version 3) were checked under
    431021@2008.1, which let a Monday-to-Friday notice of 2010 through: the ledger of this release rebuilds them when
    it starts, so the notice shows as an issue without waiting for an event of its selection."""
    cadre = await registered_cadre(own_system, "SEL")
    facts = _recorded_under_the_version_corrected(cadre)
    await wait_committed(own_system.pg_dsn, max(await publish(own_system.nats_url, facts)))
    path = f"/v1/appointments?cadre_id={cadre}"
    await projected(own_system, path, "appointments", lambda e: e["issues"])
    # the rows as the release before left them: the notice checked in working days, no issue
    await fetch(own_system.pg_dsn, "UPDATE rm_appointments SET issues = '[]' WHERE cadre_id = $1", cadre)
    await fetch(own_system.pg_dsn, "UPDATE read_model_versions SET version = 3 WHERE name = 'appointment_compliance'")
    own_system.procs["ledger"].stop()
    await asyncio.to_thread(own_system.start_service, "ledger")

    entry = await projected(own_system, path, "appointments", lambda e: e["issues"])
    assert [i["rule"] for i in entry["issues"]] == ["notice.min_calendar_days"], entry["issues"]
