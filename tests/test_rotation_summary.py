"""The rotation summary over HTTP (`GET /v1/rotation/summary`): seed S4's rotations from the ledger's read models."""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

from pydantic import BaseModel

from bench.workload import registration
from shared.envelope import CloudEvent, new_event
from shared.events.rotation import PostAssigned, PostFields, RotationCompleted
from tests.support import System, call, new_cadre_id, publish, wait_committed, wait_until

RULESET = "000000@2019.1"


def _event(type_: str, cadre: str, county: str, on: date, data: BaseModel) -> CloudEvent:
    return new_event(event_type=type_, cadre_id=cadre, county=county, service="rotation", data=data, occurred_on=on,
                     ruleset=RULESET)


def _post(post_id: str, township: str | None) -> PostFields:
    return PostFields(post_id=post_id, post=f"{township or '县直'}党政办科员", unit=f"{township or '县'}党政办",
                      township=township, level="clerk", leadership=False)


def _assigned(cadre: str, county: str, on: date, post: PostFields) -> CloudEvent:
    return _event("post.assigned", cadre, county, on, PostAssigned(**post.model_dump(), kind="lateral",
                                                                   decision_date=on))


def _rotated(cadre: str, county: str, on: date, old: PostFields, since: date, to: PostFields,
             rule: str) -> CloudEvent:
    return _event("rotation.completed", cadre, county, on, RotationCompleted(
        from_post_id=old.post_id, from_post=old.post, from_township=old.township, to=to, decision_date=on,
        years_in_old_post=(on - since).days // 366, days_in_old_post=(on - since).days, trigger_rule=rule))


async def _summary(system: System, query: str) -> tuple[int, Any]:
    status, body, _ = await call("GET", f"{system.url('ledger')}/v1/rotation/summary?{query}")
    return status, body


async def test_the_rotation_summary_reproduces_seed_s4(system: System) -> None:
    """S4: 86 general cadres rotated after 8 years in one township. Besides: one cadre rotated twice by need, within
    the township and then to the county's organs."""
    county = f"46{random.randrange(10_000):04d}"  # a county of its own, so counts are exact
    since, rotated_on = date(2012, 3, 1), date(2021, 4, 1)
    events = []
    for k in range(86):
        cadre = new_cadre_id(f"RS{county}")
        old, new = _post(f"P-{k}", f"甲{k % 9}镇"), _post(f"Q-{k}", f"乙{k % 7}乡")
        events += [registration(cadre, county), _assigned(cadre, county, since, old),
                   _rotated(cadre, county, rotated_on + timedelta(days=k), old, since, new, "township_8y")]
    cadre = new_cadre_id(f"RS{county}")
    first, second, third = _post("N-1", "丙镇"), _post("N-2", "丙镇"), _post("N-3", None)
    events += [registration(cadre, county), _assigned(cadre, county, since, first),
               _rotated(cadre, county, date(2019, 5, 1), first, since, second, "by_need"),
               _rotated(cadre, county, date(2022, 5, 1), second, date(2019, 5, 1), third, "by_need")]
    await wait_committed(system.pg_dsn, max(await publish(system.nats_url, events)))

    async def summarised() -> Any:
        status, body = await _summary(system, f"county={county}")
        return body if status == 200 and body["rotations"] == 88 else None

    body = await wait_until(summarised)
    assert body["by_rule"] == {"township_8y": 86, "leader_same_post_10y": 0, "internal_unit_10y": 0,
                               "sensitive_post_10y": 0, "by_need": 2}, body
    assert body["cadres_by_rule"]["township_8y"] == 86 and body["cadres_by_rule"]["by_need"] == 1, body
    assert body["cadres_rotated"] == 87, body
    assert body["out_of_township"] == 87, body  # all but the move within 丙镇

    status, narrow = await _summary(system, f"county={county}&completed_from=2022-01-01")
    assert status == 200 and narrow["rotations"] == 1 and narrow["by_rule"]["by_need"] == 1, narrow
    # As it stood on 2021-04-10: the first by-need move (2019) and the first ten township rotations (one a day from
    # 2021-04-01).
    status, then = await _summary(system, f"county={county}&as_of=2021-04-10")
    assert status == 200 and then["as_of"] == "2021-04-10" and then["rotations"] == 11, then
    assert then["by_rule"]["township_8y"] == 10 and then["by_rule"]["by_need"] == 1, then
    status, problem = await _summary(system, "completed_from=2024-12-31&completed_to=2024-01-01")
    assert status == 422 and [e["field"] for e in problem["errors"]] == ["completed_to"], problem
