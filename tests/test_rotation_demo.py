"""The demo county's careers: the plan's shape, and a slice of it loaded through the real services."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from shared.demo import post
from shared.demo_rotation import TOWNSHIPS, load_rotation_demo, plan
from tests import support
from tests.support import System, call

TODAY = date(2026, 11, 22)


@pytest.fixture
def own_system(tmp_path: Path) -> Iterator[System]:
    """A system of its own: the demo's cadre ids are fixed, and other tests load the demo into the shared one."""
    sys_ = System(tmp_path, services=("ledger", "rotation")).start()
    yield sys_
    sys_.stop()


def test_the_plan_is_shaped_like_the_seed_county() -> None:
    assert len(TOWNSHIPS) == 39 and len({name for name, _ in TOWNSHIPS}) == 39
    assert Counter(cls for _, cls in TOWNSHIPS) == {1: 13, 2: 13, 3: 13}
    careers = plan(400, 431021, TODAY)
    assert len(careers) == 400 and len({c.cadre_id for c in careers}) == 400
    steps = Counter(s.path.rsplit("/", 1)[-1] for c in careers for s in c.steps)
    assert steps["register"] == 400 and steps["complete"] >= 80 and steps["defer"] >= 10
    for career in careers:
        days = [s.body["occurred_on"] for s in career.steps]
        assert career.steps[0].path == "/v1/cadres/register"
        assert min(days) >= "2008-01-02" and max(days) <= TODAY.isoformat()
    first_year = min(s.body["occurred_on"] for c in careers for s in c.steps if s.path.endswith("/assign"))
    assert first_year < "2010-01-01"  # careers over more than ten years
    assert plan(400, 431021, TODAY)[7].steps == careers[7].steps  # deterministic


def test_the_plan_says_which_posts_are_elected_and_tries_only_the_appointed() -> None:
    """Every posting states elected as its title tells; a probation is concluded only on an appointed post
    (第四十三条 tries promotions to 非选举产生的领导职务: the departments' internal units, not the townships')."""
    careers = plan(400, 431021, TODAY)
    postings = [s.body.get("to", s.body) for c in careers for s in c.steps
                if s.path.endswith(("/assign", "/rotation/complete"))]
    assert {(p["post"], p["elected"]) for p in postings} == {
        ("副乡镇长", True), ("乡镇党委副书记", True), ("乡镇党委书记", True),
        ("乡镇机关干部", False), ("办公室主任", False), ("财务股股长", False)}
    elected = {f"/v1/posts/{s.path.split('/')[3]}" for c in careers for s in c.steps
               if s.path.endswith("/assign") and s.body["elected"]}
    concluded = [s.path.removesuffix("/probation/conclude") for c in careers for s in c.steps
                 if s.path.endswith("/probation/conclude")]
    assert len(concluded) >= 20 and not elected & set(concluded)


async def test_a_slice_of_the_demo_loads_through_the_services(own_system: System) -> None:
    system = own_system
    token = support.DEFAULT_TOKEN or ""

    def send(url: str, body: dict[str, Any]) -> dict[str, Any]:
        return post(url, body, token)

    recorded = load_rotation_demo(system.url("rotation"), send, cadres=80)
    assert recorded > 80 * 2
    assert load_rotation_demo(system.url("rotation"), send, cadres=80) == 0  # a rerun is a no-op

    status, page, _ = await call("GET", f"{system.url('ledger')}/v1/rotation/due?county=431021&limit=1000")
    assert status == 200
    demo = [e for e in page["entries"] if e["cadre_id"].startswith("GY")]
    assert demo and {e["status"] for e in demo} <= {"due", "overdue", "deferred"}
    status, page, _ = await call("GET", f"{system.url('ledger')}/v1/rotation/postings?county=431021&limit=1000")
    postings = [p for p in page["postings"] if p["cadre_id"].startswith("GY")]
    assert len({p["cadre_id"] for p in postings}) > 60
    # a promotion to an elected township post starts no probation; one to a department's internal unit does
    promoted = [p for p in postings if p["kind"] == "promotion"]
    township = [p for p in promoted if p["township"] is not None]
    assert township and all(p["elected"] is True and p["elected_zh"] == "选举产生" and p["probation"] == "none"
                            and p["probation_end"] is None for p in township)
    internal = [p for p in promoted if p["township"] is None]
    assert internal and all(p["elected"] is False and p["elected_zh"] == "委任" and p["probation_end"] is not None
                            for p in internal)
