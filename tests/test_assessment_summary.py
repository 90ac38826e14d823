"""The assessment summary over HTTP (`GET /v1/assessment/summary`): a year's grades and what they required."""

from __future__ import annotations

import random
from datetime import date
from typing import Any

from pydantic import BaseModel

from bench.workload import registration
from shared.envelope import CloudEvent, new_event
from shared.events.assessment import AnnualGraded, CompetencyTested
from shared.events.audit import TalkHeld
from tests.support import System, call, new_cadre_id, publish, wait_committed, wait_until

RULESET = "000000@2019.1"
GRADES = ["excellent"] * 3 + ["competent"] * 12 + ["basically_competent"] * 2 + ["incompetent"] * 2 + ["not_graded"]


def _event(type_: str, cadre: str, county: str, on: date, data: BaseModel, service: str = "assessment") -> CloudEvent:
    return new_event(event_type=type_, cadre_id=cadre, county=county, service=service, data=data, occurred_on=on,
                     ruleset=RULESET)


def _graded(cadre: str, county: str, year: int, grade: str, incompetent_before: bool = False) -> CloudEvent:
    low = grade == "basically_competent"
    twice = grade == "incompetent" and incompetent_before
    return _event("assessment.annual_graded", cadre, county, date(year + 1, 1, 20), AnnualGraded(
        year=year, grade=grade, admonishment_required=low, promotion_blocked_years=[year + 1] if low else [],
        dismissal_case=twice, consecutive_incompetent_years=[year - 1, year] if twice else [],
        demotion_required=grade == "incompetent"))


async def _summary(system: System, query: str) -> tuple[int, Any]:
    status, body, _ = await call("GET", f"{system.url('ledger')}/v1/assessment/summary?{query}")
    return status, body


async def test_a_years_grades_and_what_they_required(system: System) -> None:
    """20 cadres graded for 2023: 3 excellent, 12 competent, 2 basically competent (one since admonished), 2
    incompetent (each awaiting its demotion, one incompetent in 2022 too: a dismissal case and consecutive low
    grades), 1 not graded; one failed a competency test in 2023 (a retest due). The cadre incompetent
    twice counts once a year."""
    county = f"42{random.randrange(10_000):04d}"  # a county of its own, so counts are exact
    cadres = [new_cadre_id(f"AY{county}") for _ in GRADES]
    events = [registration(cadre, county) for cadre in cadres]
    twice = cadres[GRADES.index("incompetent")]
    events.append(_graded(twice, county, 2022, "incompetent"))
    events += [_graded(cadre, county, 2023, grade, incompetent_before=cadre == twice)
               for cadre, grade in zip(cadres, GRADES, strict=True)]
    admonished = cadres[GRADES.index("basically_competent")]
    events.append(_event("supervision.talk_held", admonished, county, date(2024, 3, 1),
                         TalkHeld(talk_id="T1", kind="admonishment"), service="audit"))
    events.append(_event("assessment.competency_tested", cadres[0], county, date(2023, 9, 1),
                         CompetencyTested(attempt=1, score=52, passed=False, retest_due=date(2023, 12, 1))))
    await wait_committed(system.pg_dsn, max(await publish(system.nats_url, events)))

    async def summarised() -> Any:
        status, body = await _summary(system, f"county={county}&year=2023")
        return body if status == 200 and body["graded"] == 20 and body["watch_items_open"] == 6 else None

    body = await wait_until(summarised)
    assert body["by_grade"] == {"excellent": 3, "competent": 12, "basically_competent": 2, "incompetent": 2,
                                "not_graded": 1}, body
    assert body["watch_items"] == {"threshold_breach": 0, "basically_competent": 2, "incompetent_demotion": 2,
                                   "dismissal_case": 1, "consecutive_low_grades": 1, "retest_due": 1,
                                   "second_failure": 0}, body
    assert body["as_of"] is None, body
    # As it stood on 2024-02-01: the grades (recorded 2024-01-20) in, the admonishment (2024-03-01) not yet held,
    # so the basically competent grade's item still open; on 2023-12-31, no grade yet, the retest due only.
    status, before_talk = await _summary(system, f"county={county}&year=2023&as_of=2024-02-01")
    assert status == 200 and before_talk["as_of"] == "2024-02-01" and before_talk["graded"] == 20, before_talk
    assert before_talk["watch_items"] == body["watch_items"] and before_talk["watch_items_open"] == 7, before_talk
    status, year_end = await _summary(system, f"county={county}&year=2023&as_of=2023-12-31")
    assert status == 200 and year_end["graded"] == 0 and year_end["watch_items_open"] == 1, year_end
    assert year_end["watch_items"]["retest_due"] == 1 and sum(year_end["watch_items"].values()) == 1, year_end
    # 2022: the one grade recorded, its demotion the one item of that year
    status, earlier = await _summary(system, f"county={county}&year=2022")
    assert status == 200 and earlier["graded"] == 1 and earlier["by_grade"]["incompetent"] == 1, earlier
    assert earlier["watch_items"]["incompetent_demotion"] == 1 and sum(earlier["watch_items"].values()) == 1, earlier
    status, problem = await _summary(system, f"county={county}")
    assert status == 422 and [e["field"] for e in problem["errors"]] == ["year"], problem
