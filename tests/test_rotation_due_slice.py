"""The rotation service's dues through HTTP, NATS and the ledger, with the clock injected (CADRE_TODAY): the scan
recording rotation.due once (racing instances, a county-scoped recorder), a deferral (暂缓交流), a rotation
completed (and two conflicting ones), a due that follows the corrected day of its posting, and the rotation read
models rebuilt from position 0. Postings, promotions, probation and elected posts are in
tests/test_rotation_postings_slice.py.

Extra rotation processes run on fixed days (years after the real date, so the session's own rotation
process, on the real date, never finds these cadres due): one for recording the posting, others for
the days the tenure limit is or is not yet reached.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

import pytest

from services.ledger.read_models.rotation_postings import RotationProjection
from shared.devstack import free_port
from shared.envelope import new_event
from shared.events.rotation import RotationDue
from shared.processes import SERVICES, ServiceProcess
from shared.rulesets import ruleset_for
from tests.rotation_slice_support import COUNTY, ID_NUMBER, post_ok, projected, registration, township_post
from tests.support import System, call, log_records, new_cadre_id, publish, rebuilt, wait_committed, wait_until

RULESET = "431021@2008.1"
Clocks = Callable[..., str]


@pytest.fixture(scope="module")
def clocks(system: System) -> Iterator[Clocks]:
    """`clocks(day, instance=0)`: the URL of a rotation process whose today is `day` (started on first use)."""
    spec = next(s for s in SERVICES if s.name == "rotation")
    running: dict[tuple[str, int], ServiceProcess] = {}

    def at(day: str, instance: int = 0) -> str:
        if (day, instance) not in running:
            env = {**system.env, "CADRE_TODAY": day, "CADRE_ROTATION_SCAN_INTERVAL_S": "0"}
            proc = ServiceProcess(spec, free_port(), env, system.root / f"logs-rotation-{day}-{instance}")
            running[(day, instance)] = proc
            proc.wait_ready()
        return running[(day, instance)].url

    yield at
    for proc in running.values():
        proc.stop()


async def scan(url: str) -> dict[str, Any]:
    """Run the scheduler of the rotation process at `url` now."""
    status, answer, _ = await call("POST", f"{url}/v1/rotation/scan")
    assert status == 200, answer
    return dict(answer)


async def recorded_cadre_in_township(url: str, cadre: str, post_id: str, on: str = "2030-03-01") -> None:
    """Register a cadre and post them to a township on `on`, both committed in the ledger."""
    await post_ok(f"{url}/v1/cadres/register?wait=committed", registration(cadre))
    await post_ok(f"{url}/v1/posts/{post_id}/assign?wait=committed", township_post(cadre, on))


def mine(result: dict[str, Any], cadre: str) -> list[dict[str, Any]]:
    return [e for e in result["emitted"] if e["cadre_id"] == cadre]


async def test_eight_years_in_a_township_fall_due_then_a_deferral_and_a_rotation(system: System,
                                                                                  clocks: Clocks) -> None:
    cadre, post_id = new_cadre_id("R"), "ZS-KY-01"
    start = clocks("2030-03-01")
    await recorded_cadre_in_township(start, cadre, post_id)

    status, person, _ = await call("GET", f"{start}/v1/cadres/{cadre}/person")
    assert status == 200, person
    assert person["name"] == "李桂芳" and person["id_number_masked"] == "4310**********0027"
    assert person["commitments_match"] is True and person["erased"] is False

    postings = await projected(system, f"/v1/rotation/postings?cadre_id={cadre}&as_of=2038-02-28", "postings",
                               lambda rows: len(rows) == 1)
    assert postings[0]["township_since"] == "2030-03-01" and postings[0]["rules"] == ["township_8y"]
    assert postings[0]["township_years"] == 7 and postings[0]["level"] == "clerk"

    # the day before 8 years complete: nothing is due
    before = await scan(clocks("2038-02-28"))
    assert mine(before, cadre) == []
    status, due, _ = await call("GET", f"{system.url('ledger')}/v1/rotation/due?cadre_id={cadre}&as_of=2038-02-28")
    assert status == 200 and due["entries"] == []

    # the day they complete: rotation.due, once
    day = clocks("2038-03-01")
    scanned = await scan(day)
    [emitted] = mine(scanned, cadre)
    assert emitted["rule"] == "township_8y" and emitted["due_on"] == "2038-03-01" and emitted["position"] >= 1
    listed = await projected(system, f"/v1/rotation/due?cadre_id={cadre}&as_of=2038-03-01", "entries",
                             lambda rows: len(rows) == 1)
    assert listed[0]["status"] == "due" and listed[0]["rule"] == "township_8y" and listed[0]["years"] == 8
    assert listed[0]["township"] == "樟市镇" and listed[0]["since"] == "2030-03-01"
    for query, hits in [("township=樟市镇&rule=township_8y", 1), (f"county={COUNTY}&unit=樟市镇人民政府", 1),
                        ("rule=leader_same_post_10y", 0), ("township=仁义镇", 0), ("status=overdue", 0)]:
        status, page, _ = await call(
            "GET", f"{system.url('ledger')}/v1/rotation/due?cadre_id={cadre}&as_of=2038-03-01&{query}")
        assert status == 200 and len(page["entries"]) == hits, query
    status, late, _ = await call("GET", f"{system.url('ledger')}/v1/rotation/due?cadre_id={cadre}&as_of=2038-09-01")
    assert late["entries"][0]["status"] == "overdue"

    # a deferral without an approval reference is refused, naming the rule
    deferral = {"cadre_id": cadre, "county": COUNTY, "occurred_on": "2038-03-01", "rule": "township_8y",
                "until": "2038-12-31"}
    status, problem, headers = await call("POST", f"{day}/v1/posts/{post_id}/rotation/defer", deferral)
    assert status == 422 and headers["Content-Type"].startswith("application/problem+json")
    assert problem["rule"] == "rotation.deferral_approval_required"
    assert "approval reference" in problem["message_en"] and "批准文号" in problem["message_zh"]
    # ... and one dated before the rotation fell due defers nothing
    status, problem, _ = await call("POST", f"{day}/v1/posts/{post_id}/rotation/defer", {
        **deferral, "occurred_on": "2038-02-28", "until": "2038-06-30", "approval_reference": "桂组干〔2038〕11号"})
    assert status == 422 and problem["rule"] == "rotation.deferral_needs_due" and problem["due_on"] == "2038-03-01"
    await post_ok(f"{day}/v1/posts/{post_id}/rotation/defer?wait=committed",
                  {**deferral, "approval_reference": "桂组干〔2038〕12号", "reason": "防汛任务"})
    listed = await projected(system, f"/v1/rotation/due?cadre_id={cadre}&as_of=2038-03-02", "entries",
                             lambda rows: len(rows) == 1 and rows[0]["status"] == "deferred")
    assert listed[0]["deferred_until"] == "2038-12-31" and listed[0]["approval_reference"] == "桂组干〔2038〕12号"

    # the rotation: to another township; the cadre leaves the list
    rotation = {"cadre_id": cadre, "county": COUNTY, "occurred_on": "2038-03-01",
                "to": {"post_id": "RY-KY-02", "post": "镇政府科员", "unit": "仁义镇人民政府", "township": "仁义镇",
                       "level": "clerk", "leadership": False}}
    done = await post_ok(f"{day}/v1/posts/{post_id}/rotation/complete?wait=committed", rotation)
    assert done["committed"] is True
    await projected(system, f"/v1/rotation/due?cadre_id={cadre}&as_of=2038-03-02", "entries", lambda rows: not rows)
    postings = await projected(system, f"/v1/rotation/postings?cadre_id={cadre}&as_of=2038-03-02", "postings",
                               lambda rows: [r["post_id"] for r in rows] == ["RY-KY-02"])
    assert postings[0]["township_since"] == "2038-03-01" and postings[0]["kind"] == "rotation"

    # the history shows every step, versions gap-free, each under the county's rule set
    status, history, _ = await call("GET", f"{system.url('ledger')}/v1/cadres/{cadre}/history")
    assert status == 200
    rows = history["events"]
    assert [r["type"] for r in rows] == ["cadre.registered", "post.assigned", "rotation.due", "rotation.deferred",
                                         "rotation.completed"]
    assert [r["cadre_version"] for r in rows] == [1, 2, 3, 4, 5]
    assert [r["event"]["ruleset"] for r in rows] == [
        ruleset_for("431021", date.fromisoformat(r["event"]["occurredon"])).id for r in rows]
    assert {r["event"]["ruleset"].partition("@")[0] for r in rows} == {"431021"}
    assert rows[2]["event"]["id"] == emitted["event_id"] and rows[2]["occurred_on"] == "2038-03-01"
    completed = rows[4]["event"]["data"]
    assert completed["trigger_rule"] == "township_8y" and completed["years_in_old_post"] == 8
    registered = rows[0]["event"]["data"]
    assert "李桂芳" not in str(rows[0]["event"]) and ID_NUMBER not in str(rows[0]["event"])
    assert len(registered["name_commitment"]) == 64

    # the dossier on a date: before, the township post; after, the new one and the old one left
    ledger = system.url("ledger")
    status, before_state, _ = await call("GET", f"{ledger}/v1/cadres/{cadre}/state?as_of=2038-02-28")
    assert status == 200
    part = before_state["rotation"]
    assert list(part["posts"]) == [post_id] and part["rotations_due"] == [] and part["registered_on"] == "2030-01-02"
    status, now_state, _ = await call("GET", f"{ledger}/v1/cadres/{cadre}/state")
    part = now_state["rotation"]
    assert list(part["posts"]) == ["RY-KY-02"] and part["posts"]["RY-KY-02"]["township_since"] == "2038-03-01"
    assert part["former_posts"] == [{"post_id": post_id, "post": "镇政府科员", "township": "樟市镇", "principal": None,
                                     "elected": None, "elected_zh": "未说明", "since": "2030-03-01",
                                     "left_on": "2038-03-01", "reason": "rotation"}]
    assert part["rotations"][0]["trigger_rule"] == "township_8y" and part["rotations_due"] == []


async def test_two_scans_racing_on_two_instances_record_rotation_due_once(system: System, clocks: Clocks) -> None:
    cadre, post_id = new_cadre_id("R"), "ZS-KY-03"
    await recorded_cadre_in_township(clocks("2030-04-01"), cadre, post_id, on="2030-04-01")
    await projected(system, f"/v1/rotation/postings?cadre_id={cadre}", "postings", lambda rows: len(rows) == 1)

    first, second = clocks("2038-04-01", 0), clocks("2038-04-01", 1)
    results = await asyncio.gather(*(call("POST", f"{url}/v1/rotation/scan") for url in (first, second, first,
                                                                                          second)))
    assert all(status == 200 for status, _, _ in results), results
    emitted = [e for _, body, _ in results for e in mine(body, cadre)]
    assert len(emitted) == 1 and emitted[0]["rule"] == "township_8y"
    skipped = [s for _, body, _ in results for s in body["skipped"] if s["cadre_id"] == cadre]
    assert {s["reason"] for s in skipped} <= {"duplicate", "rotation.due_once"}

    # a restarted instance (a later scan) does not record it again
    again = await scan(clocks("2038-04-02"))
    assert mine(again, cadre) == []
    status, history, _ = await call("GET", f"{system.url('ledger')}/v1/cadres/{cadre}/history")
    assert status == 200
    assert [r["type"] for r in history["events"]].count("rotation.due") == 1
    assert [r["cadre_version"] for r in history["events"]] == [1, 2, 3]


async def test_a_county_scoped_recorder_scans_only_its_counties(system: System, clocks: Clocks) -> None:
    """A scan records facts and answers with cadre ids and posts: a recorder of another county neither records
    this county's dues nor learns of its cadres; a recorder of this county, naming it, records them."""
    assert system.stack is not None
    cadre, post_id = new_cadre_id("R"), "ZS-KY-05"
    await recorded_cadre_in_township(clocks("2030-05-01"), cadre, post_id, on="2030-05-01")
    await projected(system, f"/v1/rotation/postings?cadre_id={cadre}", "postings", lambda rows: len(rows) == 1)
    url = clocks("2038-05-01")
    elsewhere = system.stack.dev_token(["recorder"], ["430000"])
    status, problem, _ = await call("POST", f"{url}/v1/rotation/scan", token=elsewhere)
    assert status == 403 and "须指定授权县域" in problem["detail"], problem
    status, problem, _ = await call("POST", f"{url}/v1/rotation/scan?county={COUNTY}", token=elsewhere)
    assert status == 403 and problem["counties"] == [COUNTY], problem
    status, answer, _ = await call("POST", f"{url}/v1/rotation/scan?county=430000", token=elsewhere)
    assert status == 200, answer
    assert all(e["cadre_id"] != cadre for e in answer["emitted"] + answer["skipped"]), answer
    status, history, _ = await call("GET", f"{system.url('ledger')}/v1/cadres/{cadre}/history")
    assert status == 200 and "rotation.due" not in [e["type"] for e in history["events"]]

    here = system.stack.dev_token(["recorder"], [COUNTY])
    status, answer, _ = await call("POST", f"{url}/v1/rotation/scan?county={COUNTY}", token=here)
    assert status == 200 and [e["rule"] for e in mine(answer, cadre)] == ["township_8y"], answer


async def test_two_conflicting_rotations_of_one_cadre_one_wins(system: System) -> None:
    url = system.url("rotation")
    cadre, post_id = new_cadre_id("R"), "ZS-KY-04"
    await post_ok(f"{url}/v1/cadres/register?wait=committed", registration(cadre, occurred_on="2019-01-02"))
    await post_ok(f"{url}/v1/posts/{post_id}/assign?wait=committed", township_post(cadre, "2019-03-01"))

    def to(township: str, to_post: str) -> dict[str, Any]:
        return {"cadre_id": cadre, "county": COUNTY, "occurred_on": "2021-03-01",
                "to": {"post_id": to_post, "post": "镇政府科员", "unit": f"{township}人民政府",
                       "township": township, "level": "clerk", "leadership": False}}

    answers = await asyncio.gather(*(call("POST", f"{url}/v1/posts/{post_id}/rotation/complete?wait=committed",
                                          to(t, p)) for t, p in (("仁义镇", "RY-KY"), ("洋市镇", "YS-KY"))))
    statuses = sorted(status for status, _, _ in answers)
    assert statuses[0] == 202 and statuses[1] in (409, 422), answers
    loser = next(body for status, body, _ in answers if status != 202)
    assert loser.get("rule") == "posting.not_held" or loser["status"] == 409

    status, history, _ = await call("GET", f"{system.url('ledger')}/v1/cadres/{cadre}/history")
    assert status == 200
    types = [r["type"] for r in history["events"]]
    assert types.count("rotation.completed") == 1
    assert [r["cadre_version"] for r in history["events"]] == list(range(1, len(types) + 1))
    chain = history["events"]
    assert all(chain[i]["prev_hash"] == chain[i - 1]["leaf_hash"] for i in range(1, len(chain)))


async def test_rotation_read_models_rebuild_from_position_zero_to_the_same_rows(system: System,
                                                                              clocks: Clocks) -> None:
    url = clocks("2038-05-01")
    cadre, post_id = new_cadre_id("R"), "ZS-KY-05"
    await recorded_cadre_in_township(url, cadre, post_id, on="2030-05-01")
    await projected(system, f"/v1/rotation/postings?cadre_id={cadre}", "postings", lambda rows: len(rows) == 1)
    assert [e["cadre_id"] for e in (await scan(url))["emitted"]].count(cadre) == 1
    projection = RotationProjection()
    before, after, replayed = await rebuilt(system, projection)
    assert replayed > 0 and after == before
    assert any(r["cadre_id"] == cadre for r in before["rm_rotation_due"])


async def test_a_due_follows_the_corrected_day_of_its_posting(system: System) -> None:
    """The scan recorded a leader's due from the posting's day; the day was typed a year early and corrected: the
    due rested on the old start, so the due list, a deferral and a rotation's trigger no longer see it."""
    url, cadre = system.url("rotation"), new_cadre_id("RC")
    await post_ok(f"{url}/v1/cadres/register?wait=committed", registration(cadre, occurred_on="2010-01-04"))
    leader = {"cadre_id": cadre, "county": COUNTY, "occurred_on": "2014-03-01", "post": "局长", "unit": "桂阳县林业局",
              "level": "section", "leadership": True, "kind": "lateral"}
    posted = await post_ok(f"{url}/v1/posts/LY-JZ/assign?wait=committed", leader)
    # as the scan records it on 2024-03-01 (published here: the scan would record every cadre's dues of the day)
    [seq] = await publish(system.nats_url, [new_event(
        event_type="rotation.due", cadre_id=cadre, county=COUNTY, service="rotation", occurred_on=date(2024, 3, 1),
        ruleset=RULESET, data=RotationDue(post_id="LY-JZ", rule="leader_same_post_10y", since=date(2014, 3, 1),
                                          years=10, due_on=date(2024, 3, 1), overdue_on=date(2024, 9, 1)))])
    await wait_committed(system.pg_dsn, seq)
    listed = f"/v1/rotation/due?cadre_id={cadre}&as_of=2024-06-01"
    await projected(system, listed, "entries", lambda rows: len(rows) == 1)

    await post_ok(f"{url}/v1/posts/LY-JZ/assign?wait=committed", {
        **leader, "occurred_on": "2015-03-01",
        "correction": {"event_id": posted["event_id"], "reason": "录入错误: 任职日期早录一年"}})
    await projected(system, listed, "entries", lambda rows: not rows)
    to = {"post_id": "SL-JZ", "post": "局长", "unit": "桂阳县水利局", "level": "section", "leadership": True}
    rotation = {"cadre_id": cadre, "county": COUNTY, "occurred_on": "2024-06-01",
                "trigger_rule": "leader_same_post_10y", "to": to}
    status, problem, _ = await call("POST", f"{url}/v1/posts/LY-JZ/rotation/complete", rotation)
    assert status == 422 and problem["rule"] == "rotation.trigger_not_due", problem
    status, problem, _ = await call("POST", f"{url}/v1/posts/LY-JZ/rotation/defer", {
        "cadre_id": cadre, "county": COUNTY, "occurred_on": "2024-06-01", "rule": "leader_same_post_10y",
        "until": "2024-12-31", "approval_reference": "桂组干〔2024〕9号"})
    assert status == 422 and problem["rule"] == "rotation.deferral_needs_due", problem


async def _recorded_due(system: System, cadre: str) -> dict[str, Any] | None:
    """The cadre's `rotation.due` event as the ledger's history serves it, once recorded."""
    status, history, _ = await call("GET", f"{system.url('ledger')}/v1/cadres/{cadre}/history")
    assert status == 200, history
    return next((r["event"] for r in history["events"] if r["type"] == "rotation.due"), None)


async def test_a_scan_over_http_records_its_dues_under_the_requests_trace(system: System, clocks: Clocks) -> None:
    """Found by review: the scan's `rotation.due` events had no `traceparent`, while every other command's event
    carries its request's, so nothing joined a scan's request (its log lines) to the facts it recorded."""
    url = clocks("2038-05-01")
    cadre, post_id = new_cadre_id("R"), "ZS-KY-06"
    await recorded_cadre_in_township(url, cadre, post_id, on="2030-05-01")
    await projected(system, f"/v1/rotation/postings?cadre_id={cadre}", "postings", lambda rows: len(rows) == 1)
    sent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    status, answer, headers = await call("POST", f"{url}/v1/rotation/scan", headers={"traceparent": sent})
    assert status == 200 and headers.get("traceparent") == sent, (answer, headers)
    [emitted] = mine(answer, cadre)
    due = await _recorded_due(system, cadre)
    assert due is not None and due["id"] == emitted["event_id"] and due.get("traceparent") == sent, due


async def test_the_periodic_scan_records_its_dues_under_a_trace_of_its_own(system: System, clocks: Clocks) -> None:
    """The scheduler's own scan, which no request started, starts a trace per scan: its dues carry it, and so do
    its log lines (`rotation scan`), as a command's do."""
    cadre, post_id = new_cadre_id("R"), "ZS-KY-07"
    await recorded_cadre_in_township(clocks("2038-05-01"), cadre, post_id, on="2030-05-01")
    await projected(system, f"/v1/rotation/postings?cadre_id={cadre}", "postings", lambda rows: len(rows) == 1)
    spec = next(s for s in SERVICES if s.name == "rotation")
    env = {**system.env, "CADRE_TODAY": "2038-05-01", "CADRE_ROTATION_SCAN_INTERVAL_S": "0.2"}
    timer = ServiceProcess(spec, free_port(), env, system.root / "logs-rotation-timer")
    try:
        timer.wait_ready()
        due = await wait_until(lambda: _recorded_due(system, cadre), timeout=30)
    finally:
        timer.stop()
    assert re.match(r"^00-[0-9a-f]{32}-[0-9a-f]{16}-01$", due.get("traceparent") or ""), due
    lines = await log_records(timer.log_path, "rotation scan")
    assert due["traceparent"].split("-")[1] in [line.get("trace_id") for line in lines], lines
