"""The demo county's assessments (`make run`) load through the real APIs and show in the read models."""

from __future__ import annotations

import asyncio
from typing import Any

from shared import demo
from shared.demo_assessment import cadre_ids, load_assessment_demo
from shared.demo_rotation import register_cadres
from tests import support
from tests.support import System, call, wait_until


async def test_the_assessment_demo_loads_once_and_fills_the_read_models(system: System) -> None:
    assert support.DEFAULT_TOKEN
    token = support.DEFAULT_TOKEN
    urls = {name: system.url(name) for name in ("assessment", "audit", "rotation")}

    def send(url: str, body: dict[str, Any]) -> dict[str, Any]:
        return demo.post(url, body, token)

    await asyncio.to_thread(register_cadres, system.url("rotation"), send, cadre_ids())  # as load_demo does
    loaded = await asyncio.to_thread(load_assessment_demo, urls, send)
    assert loaded >= 250
    assert await asyncio.to_thread(load_assessment_demo, urls, send) == 0, "a second run records nothing"

    ledger = system.url("ledger")

    async def pending() -> Any:
        _, page, _ = await call("GET", f"{ledger}/v1/notices?county=431021&cadre_id=GYX030&as_of=2026-01-01")
        return page["notices"] or None

    [waiting] = await wait_until(pending)
    assert waiting["period_over"] is True and waiting["unresolved_objections"] == 1

    async def appointments() -> Any:
        _, page, _ = await call("GET", f"{ledger}/v1/appointments?county=431021&cadre_id=GYX021")
        return page["appointments"] if page["appointments"] and page["appointments"][0]["outcome"] == "clear" \
            else None

    [deferred] = await wait_until(appointments)
    assert "closed_deferred" in [s["step"] for s in deferred["steps"]] and deferred["compliant"]

    async def breach() -> Any:
        _, page, _ = await call("GET", f"{ledger}/v1/watchlist/assessment?county=431021&kind=threshold_breach"
                                       "&cadre_id=GYX040")
        return page["items"] or None

    [item] = await wait_until(breach)
    assert item["year"] == 2024 and item["status"] == "open"
    # GYX048, a deputy chief (副局长, principal: false), has the same kind of figures but no breach: rule 7 is for
    # 党政正职; its evaluations are recorded all the same
    _, deputy, _ = await call("GET", f"{ledger}/v1/cadres/GYX048/history")
    types = [r["event"]["type"] for r in deputy["events"]]
    assert types.count("assessment.evaluation_recorded") == 2 and "assessment.threshold_breached" not in types
    _, page, _ = await call("GET", f"{ledger}/v1/watchlist/assessment?county=431021&cadre_id=GYX048&state=all")
    assert page["items"] == []
    # a bureau's deputy chief is appointed (委任, 第四十三条's 政府工作部门副职), as the demo's posting says
    _, state, _ = await call("GET", f"{ledger}/v1/cadres/GYX048/state")
    deputy_post = state["rotation"]["posts"]["GY-PA-01-F"]
    assert (deputy_post["elected"], deputy_post["elected_zh"]) == (False, "委任")

    # GYX037's 2024 grade was typed as 基本称职 and corrected to 称职: the state and the watchlist read the correction
    _, state, _ = await call("GET", f"{ledger}/v1/cadres/GYX037/state")
    grade = state["assessment"]["annual_grades"]["2024"]
    assert (grade["grade"], grade["admonishment_required"]) == ("competent", False)
    assert [c["kind"] for c in state["corrections"]] == ["corrected"]

    async def low_grades_of(cadre: str) -> Any:
        _, page, _ = await call("GET", f"{ledger}/v1/watchlist/assessment?county=431021&kind=basically_competent"
                                       f"&cadre_id={cadre}")
        return page["items"]

    # the watchlist has applied GYX040's breach, recorded after the correction; GYX031's 基本称职 shows the query works
    assert await low_grades_of("GYX031") and await low_grades_of("GYX037") == []
