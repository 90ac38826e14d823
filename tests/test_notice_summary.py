"""The notice summary over HTTP (`GET /v1/notices/summary`): seed S4's notices from the ledger's read models."""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

from pydantic import BaseModel

from bench.workload import registration
from shared.envelope import CloudEvent, new_event
from shared.events.assessment import (
    AppointmentDeferred,
    NoticeClosed,
    NoticePosted,
    ObjectionReceived,
    QualificationCancelled,
)
from tests.support import System, call, new_cadre_id, publish, wait_committed, wait_until

RULESET = "000000@2019.1"
FIRST = date(2021, 1, 4)


def _event(type_: str, cadre: str, county: str, on: date, data: BaseModel) -> CloudEvent:
    return new_event(event_type=type_, cadre_id=cadre, county=county, service="assessment", data=data,
                     occurred_on=on, ruleset=RULESET)


def _posted(cadre: str, county: str, notice: str, on: date) -> CloudEvent:
    return _event("notice.posted", cadre, county, on, NoticePosted(
        notice_id=notice, selection_id=f"S-{notice}", proposed_post="某镇党委副书记", start=on,
        end=on + timedelta(days=6), working_days=5, channels=["县委组织部网站"]))


def _outcome(k: int) -> str | None:
    """How notice k was closed, if it was (see the test's docstring)."""
    if k < 160:
        return "clear"
    return {**dict.fromkeys(range(160, 166), "minor_issue_reminded"), 166: "not_appointed", 167: "not_appointed",
            168: "deferred"}.get(k)


async def _summary(system: System, query: str) -> tuple[int, Any]:
    status, body, _ = await call("GET", f"{system.url('ledger')}/v1/notices/summary?{query}")
    return status, body


async def test_the_notice_summary_reproduces_seed_s4(system: System) -> None:
    """S4: 175 cadres proposed for promotion noticed. Of their notices: 160 closed clear, 6 after a reminder, 2 not
    appointed, 1 closed deferred (and its appointment deferred), 1 deferred while open, 1 cancelled, 4 open; the first
    ten drew an objection, the first a second one. The first cadre is noticed again later: a notice more, no cadre
    more. A notice whose appointment is deferred is deferred, as the notice list shows it, though not closed."""
    county = f"45{random.randrange(10_000):04d}"  # a county of its own, so counts are exact
    cadres = [new_cadre_id(f"NS{county}") for _ in range(175)]
    events = []
    for k, cadre in enumerate(cadres):
        on, notice = FIRST + timedelta(days=3 * k), f"N-{k}"
        events += [registration(cadre, county), _posted(cadre, county, notice, on)]
        if k < 10:
            events.append(_event("notice.objection_received", cadre, county, on + timedelta(days=1), ObjectionReceived(
                notice_id=notice, report_id=f"R-{k}", channel="12380", named=True)))
        if k == 0:
            events.append(_event("notice.objection_received", cadre, county, on + timedelta(days=2), ObjectionReceived(
                notice_id=notice, report_id="R-again", channel="letter", named=False)))
        if k in (168, 169):
            events.append(_event("appointment.deferred", cadre, county, on + timedelta(days=7), AppointmentDeferred(
                notice_id=notice, until=on + timedelta(days=60))))
        if k == 170:
            events.append(_event("appointment.qualification_cancelled", cadre, county, on + timedelta(days=7),
                                 QualificationCancelled(notice_id=notice, reason="反映问题属实")))
        if (outcome := _outcome(k)) is not None:
            events.append(_event("notice.closed", cadre, county, on + timedelta(days=8),
                                 NoticeClosed(notice_id=notice, outcome=outcome)))
    events.append(_posted(cadres[0], county, "N-again", date(2023, 6, 1)))
    await wait_committed(system.pg_dsn, max(await publish(system.nats_url, events)))

    async def summarised() -> Any:
        status, body = await _summary(system, f"county={county}")
        return body if status == 200 and body["notices"] == 176 and body["by_status"]["closed"] == 168 else None

    body = await wait_until(summarised)
    assert body["cadres_noticed"] == 175, body
    assert body["by_status"] == {"open": 5, "deferred": 2, "closed": 168, "cancelled": 1}, body
    assert body["as_of"] is None, body
    assert body["outcomes"] == {"clear": 160, "minor_issue_reminded": 6, "deferred": 1, "not_appointed": 2}, body
    assert body["objections"] == 11 and body["notices_objected_to"] == 10, body
    assert body["deferred"] == 2 and body["cancelled"] == 1, body

    # Posted from 2022 on: notices 121..174 (every third day from 2021-01-04) and the second notice.
    status, narrow = await _summary(system, f"county={county}&posted_from=2022-01-01")
    assert status == 200 and narrow["notices"] == 55 and narrow["cadres_noticed"] == 55, narrow
    assert narrow["objections"] == 0 and narrow["by_status"]["open"] == 5, narrow

    # As it stood the day notice 10 was posted: notices 0..10; 0..7 closed clear (8 days after posting), 8..10
    # open; the objections to 0..9 received (a day after posting) and the first one's second.
    as_of = (FIRST + timedelta(days=30)).isoformat()
    status, then = await _summary(system, f"county={county}&as_of={as_of}")
    assert status == 200 and then["as_of"] == as_of and then["notices"] == 11, then
    assert then["by_status"] == {"open": 3, "deferred": 0, "closed": 8, "cancelled": 0}, then
    assert then["outcomes"] == {"clear": 8, "minor_issue_reminded": 0, "deferred": 0, "not_appointed": 0}, then
    assert then["objections"] == 11 and then["notices_objected_to"] == 10, then
    # The day the open notice 169's appointment was deferred: it counts as deferred from then on.
    deferred_on = FIRST + timedelta(days=3 * 169 + 7)
    before = await _summary(system, f"county={county}&as_of={deferred_on - timedelta(days=1)}")
    after = await _summary(system, f"county={county}&as_of={deferred_on}")
    assert after[1]["deferred"] == before[1]["deferred"] + 1, (before, after)
    assert after[1]["by_status"]["deferred"] == before[1]["by_status"]["deferred"] + 1, (before, after)
    status, problem = await _summary(system, "posted_from=2024-12-31&posted_to=2024-01-01")
    assert status == 422 and [e["field"] for e in problem["errors"]] == ["posted_to"], problem
