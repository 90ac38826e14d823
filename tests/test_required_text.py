"""A reference or a reason a command must give, through HTTP: text that shows nothing is none, and text the event
could not hold is refused naming the field, never a 500.

The cadres' earlier facts are published as the services would have recorded them, so that each command reaches
the rule (and the event it makes) that these texts once slipped through.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from bench.workload import registration
from shared.envelope import CloudEvent, new_event
from shared.events.registry import spec_for
from tests.support import System, call, new_cadre_id, publish, wait_committed

COUNTY = "431021"
RULESET = "431021@2008.1"
SHOWS_NOTHING = ["\u3164", "\u2800 ", " \u3000 "]
"""A Hangul filler, a Braille blank, spaces: `str.strip()` leaves the first two, and none of them says anything."""


def _event(cadre: str, type_: str, on: str, service: str, **data: Any) -> CloudEvent:
    return new_event(event_type=type_, cadre_id=cadre, county=COUNTY, service=service, ruleset=RULESET,
                     data=spec_for(type_).model.model_validate(data), occurred_on=date.fromisoformat(on))


async def _recorded(system: System, *facts: tuple[str, str, str, dict[str, Any]]) -> str:
    """A new registered cadre with `facts` (type, day, service, data) committed in the ledger."""
    cadre = new_cadre_id("RT")
    events = [registration(cadre), *(_event(cadre, t, on, s, **data) for t, on, s, data in facts)]
    await wait_committed(system.pg_dsn, (await publish(system.nats_url, events))[-1])
    return cadre


_TOWNSHIP_POST = {"post_id": "P1", "post": "镇政府科员", "unit": "樟市镇人民政府", "township": "樟市镇",
                  "level": "clerk", "leadership": False}
_DUE = [("post.assigned", "2010-03-01", "rotation",
         {**_TOWNSHIP_POST, "kind": "lateral", "decision_date": "2010-03-01"}),
        ("rotation.due", "2018-03-01", "rotation", {"post_id": "P1", "rule": "township_8y", "since": "2010-03-01",
                                                    "years": 8, "due_on": "2018-03-01", "overdue_on": "2018-09-01"})]


def _deferral(cadre: str, reference: str) -> dict[str, Any]:
    return {"cadre_id": cadre, "county": COUNTY, "occurred_on": "2018-03-10", "rule": "township_8y",
            "until": "2018-08-01", "approval_reference": reference}


@pytest.mark.parametrize("reference", ["桂组干\u202e〔2018〕1号", "桂组干\u200b〔2018〕1号", "桂组干\n〔2018〕1号",
                                       "桂组干〔2018〕1号\u0007"])
async def test_an_approval_reference_the_event_cannot_hold_is_refused_naming_it(system: System,
                                                                                reference: str) -> None:
    """The body took any text up to 200 characters, the event only one line of visible text: a bidirectional
    control, a zero-width space, a line break or a bell made the deferral fail with a 500 after every rule passed."""
    cadre = await _recorded(system, *_DUE)
    status, problem, _ = await call("POST", f"{system.url('rotation')}/v1/posts/P1/rotation/defer",
                                    _deferral(cadre, reference))
    assert status == 422, problem
    assert [(e["field"], e["in"]) for e in problem["errors"]] == [("approval_reference", "body")], problem
    assert "单行文本" in problem["errors"][0]["message_zh"], problem


async def test_an_approval_reference_that_shows_nothing_is_no_approval(system: System) -> None:
    cadre = await _recorded(system, *_DUE)
    url = f"{system.url('rotation')}/v1/posts/P1/rotation/defer?wait=committed"
    for blank in SHOWS_NOTHING:
        status, problem, _ = await call("POST", url, _deferral(cadre, blank))
        assert status == 422 and problem["rule"] == "rotation.deferral_approval_required", (blank, problem)
    status, answer, _ = await call("POST", url, _deferral(cadre, " 桂组干〔2018〕1号 "))
    assert status == 202, answer


@pytest.mark.parametrize("reason", ["\u200b", *SHOWS_NOTHING])
async def test_a_late_answer_whose_reason_shows_nothing_gives_no_reason(system: System, reason: str) -> None:
    """A zero-width space or a filler passed `str.strip()`, so a late answer was recorded with a reason no one can
    read."""
    cadre = await _recorded(system, ("supervision.inquiry_sent", "2020-03-02", "audit",
                                     {"inquiry_id": "Q1", "due": "2020-03-20"}))
    answer = {"cadre_id": cadre, "county": COUNTY, "occurred_on": "2020-04-01", "late_reason": reason}
    status, problem, _ = await call("POST", f"{system.url('audit')}/v1/inquiries/Q1/answer", answer)
    assert status == 422 and problem["rule"] == "supervision.inquiry_answer_late", problem


@pytest.mark.parametrize("reason", ["\u200b", *SHOWS_NOTHING])
async def test_a_probation_ended_early_for_a_reason_that_shows_nothing_is_refused(system: System,
                                                                                  reason: str) -> None:
    cadre = await _recorded(system, ("post.assigned", "2010-03-01", "rotation", {
        **_TOWNSHIP_POST, "kind": "promotion", "decision_date": "2010-03-01", "probation_end": "2011-03-01"}))
    conclusion = {"cadre_id": cadre, "county": COUNTY, "occurred_on": "2010-09-01", "outcome": "ended_early",
                  "reason": reason}
    status, problem, _ = await call("POST", f"{system.url('rotation')}/v1/posts/P1/probation/conclude", conclusion)
    assert status == 422 and problem["rule"] == "probation.early_end_reason", problem


@pytest.mark.parametrize("name", ["\u3164", "\u2800\u2800"])
async def test_a_name_that_shows_nothing_is_refused(system: System, name: str) -> None:
    body = {"cadre_id": new_cadre_id("RT"), "county": COUNTY, "occurred_on": "2012-03-01", "name": name,
            "id_number": "431021198001010016", "sex": "male", "birth_month": "1980-01", "work_start": "2002-07-01",
            "unit": "桂阳县审计局"}
    status, problem, _ = await call("POST", f"{system.url('rotation')}/v1/cadres/register", body)
    assert status == 422, problem
    assert problem["errors"][0]["field"] == "name" and "姓名为空" in problem["errors"][0]["message_zh"], problem
