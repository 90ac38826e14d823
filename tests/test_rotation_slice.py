"""The rotation service through HTTP, NATS and the ledger, with the clock injected (CADRE_TODAY).

Extra rotation processes run on fixed days (years after the real date, so the session's own rotation
process, on the real date, never finds these cadres due): one for recording the posting, others for
the days the tenure limit is or is not yet reached.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

import asyncpg
import pytest

from services.ledger.main import writer_dsn
from services.ledger.read_models.rotation_postings import RotationProjection
from services.ledger.rebuild import rebuild
from shared.devstack import free_port
from shared.envelope import new_event
from shared.events.rotation import RotationDue
from shared.problems import RECORD_KEEPING
from shared.processes import SERVICES, ServiceProcess
from shared.rulesets import ruleset_for
from shared.settings import Settings
from tests.support import System, call, new_cadre_id, publish, wait_committed, wait_until

COUNTY = "431021"
RULESET = "431021@2008.1"
ID_NUMBER = "431021198503150027"  # valid check digit; born 1985-03; female
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


def registration(cadre: str, **overrides: Any) -> dict[str, Any]:
    body = {"cadre_id": cadre, "county": COUNTY, "occurred_on": "2030-01-02", "name": "李桂芳", "sex": "female",
            "birth_month": "1985-03", "id_number": ID_NUMBER, "work_start": "2007-07-01",
            "unit": "桂阳县樟市镇人民政府"}
    body.update(overrides)
    return body


def township_post(cadre: str, on: str, township: str = "樟市镇", **overrides: Any) -> dict[str, Any]:
    body = {"cadre_id": cadre, "county": COUNTY, "occurred_on": on, "post": "镇政府科员", "unit": f"{township}人民政府",
            "township": township, "level": "clerk", "leadership": False, "kind": "lateral"}
    body.update(overrides)
    return body


async def post_ok(url: str, body: dict[str, Any]) -> dict[str, Any]:
    status, answer, _ = await call("POST", url, body)
    assert status == 202, answer
    return dict(answer)


async def scan(url: str) -> dict[str, Any]:
    """Run the scheduler of the rotation process at `url` now."""
    status, answer, _ = await call("POST", f"{url}/v1/rotation/scan")
    assert status == 200, answer
    return dict(answer)


async def recorded_cadre_in_township(url: str, cadre: str, post_id: str, on: str = "2030-03-01") -> None:
    """Register a cadre and post them to a township on `on`, both committed in the ledger."""
    await post_ok(f"{url}/v1/cadres/register?wait=committed", registration(cadre))
    await post_ok(f"{url}/v1/posts/{post_id}/assign?wait=committed", township_post(cadre, on))


async def projected(system: System, path: str, key: str, predicate: Callable[[list[dict[str, Any]]], bool]
                    ) -> list[dict[str, Any]]:
    """Poll a ledger read model until its `key` list satisfies `predicate`; returns the list."""
    seen: list[dict[str, Any]] = []

    async def check() -> bool:
        nonlocal seen
        status, body, _ = await call("GET", f"{system.url('ledger')}{path}")
        assert status == 200, body
        seen = body[key]
        return predicate(seen)

    await wait_until(check, timeout=15)
    return seen


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


async def test_registration_guards_personal_data_and_the_calendar(system: System) -> None:
    url = system.url("rotation")
    cadre = new_cadre_id("R")
    status, problem, _ = await call("POST", f"{url}/v1/cadres/register",
                                    registration(cadre, id_number="431021198503150028"))
    assert status == 422 and [e["field"] for e in problem["errors"]] == ["id_number"]
    status, problem, _ = await call("POST", f"{url}/v1/cadres/register", registration(cadre, sex="male"))
    assert status == 422 and "sex does not match" in problem["errors"][0]["message"]

    await post_ok(f"{url}/v1/cadres/register?wait=committed", registration(cadre, occurred_on="2020-01-02"))
    status, problem, _ = await call("POST", f"{url}/v1/cadres/register", registration(cadre, occurred_on="2020-01-02"))
    assert status == 422 and problem["rule"] == "cadre.register_once" and problem["basis"] == RECORD_KEEPING

    status, problem, _ = await call("POST", f"{url}/v1/posts/P-future/assign",
                                    township_post(cadre, "2099-01-01"))
    assert status == 422 and problem["rule"] == "command.not_in_future"
    status, problem, _ = await call("POST", f"{url}/v1/posts/P-X/assign",
                                    township_post(new_cadre_id("R"), "2020-03-01"))
    assert status == 422 and problem["rule"] == "cadre.registered_first"
    status, problem, _ = await call("POST", f"{url}/v1/posts/P-X/assign",
                                    township_post(cadre, "2020-03-01", kind="promotion", level="deputy_section"))
    assert status == 422 and problem["rule"] == "promotion.notice_cleared"
    assert "任前公示" in problem["message_zh"] and problem["basis"]
    # an exemption of blanks (spaces, an ideographic space) gives no reason: refused naming the field
    for blank in ("   ", "\u3000"):
        status, problem, _ = await call("POST", f"{url}/v1/posts/P-X/assign", township_post(
            cadre, "2020-03-01", kind="promotion", level="deputy_section", exemption_reason=blank))
        assert status == 422 and [e["field"] for e in problem["errors"]] == ["exemption_reason"], problem
    # a title that shows otherwise than it is stored (a right-to-left override) is refused, naming the field
    status, problem, _ = await call("POST", f"{url}/v1/posts/P-X/assign",
                                    township_post(cadre, "2020-03-01", post="镇政府\u202e员科"))
    assert status == 422 and [(e["field"], e["message_zh"]) for e in problem["errors"]] == [
        ("post", "须为一行可见文字: 不能全是空白, 不能含换行、控制字符、双向控制符或不可见字符")]

    status, problem, _ = await call("GET", f"{url}/v1/cadres/{new_cadre_id('R')}/person")
    assert status == 404
    assert system.stack is not None
    elsewhere = system.stack.dev_token(["auditor"], ["110101"])
    status, problem, _ = await call("GET", f"{url}/v1/cadres/{cadre}/person", token=elsewhere)
    assert status == 404, problem
    status, person, _ = await call("GET", f"{url}/v1/cadres/{cadre}/person",
                                   token=system.stack.dev_token(["auditor"], [COUNTY]))
    assert status == 200 and person["commitments_match"] is True


async def test_rotation_read_models_rebuild_from_position_zero_to_the_same_rows(system: System,
                                                                              clocks: Clocks) -> None:
    url = clocks("2038-05-01")
    cadre, post_id = new_cadre_id("R"), "ZS-KY-05"
    await recorded_cadre_in_township(url, cadre, post_id, on="2030-05-01")
    await projected(system, f"/v1/rotation/postings?cadre_id={cadre}", "postings", lambda rows: len(rows) == 1)
    assert [e["cadre_id"] for e in (await scan(url))["emitted"]].count(cadre) == 1
    projection = RotationProjection()
    conn = await asyncpg.connect(writer_dsn(Settings(pg_dsn=system.pg_dsn)))
    try:
        async def caught_up() -> bool:
            last = await conn.fetchval("SELECT max(position) FROM ledger_events")
            mine = await conn.fetchval("SELECT position FROM projection_checkpoints WHERE name = $1",
                                       projection.name)
            return bool(mine is not None and mine >= last)

        await wait_until(caught_up)
        order = {"rm_rotation_postings": "cadre_id, post_id", "rm_rotation_due": "cadre_id, post_id, rule"}
        before = {t: [dict(r) for r in await conn.fetch(f"SELECT * FROM {t} ORDER BY {order[t]}")]
                  for t in projection.tables}
        replayed = await rebuild(conn, projection)
        after = {t: [dict(r) for r in await conn.fetch(f"SELECT * FROM {t} ORDER BY {order[t]}")]
                 for t in projection.tables}
    finally:
        await conn.close()
    assert replayed > 0 and after == before
    assert any(r["cadre_id"] == cadre for r in before["rm_rotation_due"])


async def test_a_promotion_consumes_the_assessment_services_cleared_notice(system: System) -> None:
    rotation, assessment = system.url("rotation"), system.url("assessment")
    cadre = new_cadre_id("R")
    await post_ok(f"{rotation}/v1/cadres/register?wait=committed", registration(cadre, occurred_on="2016-01-04"))
    await post_ok(f"{rotation}/v1/posts/ZS-KY-06/assign?wait=committed", township_post(cadre, "2016-03-01"))

    def at(on: str, **body: Any) -> dict[str, Any]:
        return {"cadre_id": cadre, "county": COUNTY, "occurred_on": on, **body}

    promotion = township_post(cadre, "2024-10-15", post="副镇长", level="deputy_section", leadership=True,
                              kind="promotion", notice_id="GS-2024-R1")
    status, problem, _ = await call("POST", f"{rotation}/v1/posts/ZS-FZZ-01/assign", promotion)
    assert status == 422 and problem["rule"] == "promotion.notice_cleared"

    # the selection in the assessment service: inspection, vote, a 5-working-day notice closed as clear
    await post_ok(f"{assessment}/v1/selections/XB-R1/inspection?wait=committed", at(
        "2024-09-10", proposed_post="樟市镇副镇长", dossier_checked=True, personal_matters_checked=True,
        discipline_opinion_obtained=True, petitions_checked=True))
    await post_ok(f"{assessment}/v1/selections/XB-R1/vote?wait=committed", at(
        "2024-09-20", members_entitled=11, members_present=10, votes_for=9, votes_against=1))
    await post_ok(f"{assessment}/v1/selections/XB-R1/notice?wait=committed", at(
        "2024-09-26", notice_id="GS-2024-R1", start="2024-09-26", end="2024-10-08", channels=["县委组织部网站"]))
    await post_ok(f"{assessment}/v1/notices/GS-2024-R1/close?wait=committed", at("2024-10-09", outcome="clear"))

    # an unverified report (audit service) blocks it; once verified, the promotion goes through
    await post_ok(f"{system.url('audit')}/v1/reports/JB-R1/receive?wait=committed",
                  at("2024-10-10", channel="12380", named=True))
    status, problem, _ = await call("POST", f"{rotation}/v1/posts/ZS-FZZ-01/assign", promotion)
    assert status == 422 and problem["rule"] == "appointment.unverified_report"
    await post_ok(f"{system.url('audit')}/v1/reports/JB-R1/verify?wait=committed",
                  at("2024-10-12", outcome="unfounded"))
    done = await post_ok(f"{rotation}/v1/posts/ZS-FZZ-01/assign?wait=committed", promotion)
    assert done["committed"] is True

    status, problem, _ = await call("POST", f"{rotation}/v1/posts/ZS-FZZ-02/assign",
                                    {**promotion, "occurred_on": "2026-01-05", "level": "section"})
    assert status == 422 and problem["rule"] == "promotion.not_during_probation"
    conclude = at("2025-10-14", outcome="confirmed")
    status, problem, _ = await call("POST", f"{rotation}/v1/posts/ZS-FZZ-01/probation/conclude", conclude)
    assert status == 422 and problem["rule"] == "probation.before_end" and problem["probation_end"] == "2025-10-15"
    await post_ok(f"{rotation}/v1/posts/ZS-FZZ-01/probation/conclude?wait=committed",
                  {**conclude, "occurred_on": "2025-10-15"})
    status, problem, _ = await call("POST", f"{rotation}/v1/posts/ZS-FZZ-02/assign",
                                    {**promotion, "occurred_on": "2026-01-05", "level": "section"})
    assert status == 422 and problem["rule"] == "promotion.notice_cleared"  # the notice served once

    status, history, _ = await call("GET", f"{system.url('ledger')}/v1/cadres/{cadre}/history")
    assert status == 200
    assigned = [r["event"]["data"] for r in history["events"] if r["type"] == "post.assigned"]
    assert assigned[-1]["notice_id"] == "GS-2024-R1" and assigned[-1]["probation_end"] == "2025-10-15"


async def test_a_departments_principal_is_promoted_without_probation_a_deputy_with_one(system: System) -> None:
    """DOMAIN.md rule 4 as 选拔任用工作条例 (2019) 第四十三条 lists the posts with a probation (试用期):
    工作部门副职 and 内设机构领导职务, not a department's principal (局长, 正职); the refusals cite 第四十二条 and
    第四十三条."""
    rotation = system.url("rotation")
    chief, deputy = new_cadre_id("R"), new_cadre_id("R")
    for cadre in (chief, deputy):
        await post_ok(f"{rotation}/v1/cadres/register?wait=committed",
                      registration(cadre, occurred_on="2016-01-04", unit="桂阳县审计局"))

    def post(cadre: str, **fields: Any) -> dict[str, Any]:
        return {"cadre_id": cadre, "county": COUNTY, "occurred_on": "2024-06-03", "unit": "桂阳县审计局",
                "level": "section", "leadership": True, "kind": "promotion", **fields}

    status, problem, _ = await call("POST", f"{rotation}/v1/posts/SJJ-JZ/assign",
                                    post(chief, post="局长", principal=True))
    assert status == 422 and problem["rule"] == "promotion.notice_cleared", problem
    assert "第四十二条" in problem["basis"] and "第五十二条" not in problem["basis"], problem
    await post_ok(f"{rotation}/v1/posts/SJJ-JZ/assign?wait=committed",
                  post(chief, post="局长", principal=True, exemption_reason="县人大常委会任命"))
    await post_ok(f"{rotation}/v1/posts/SJJ-FJZ/assign?wait=committed",
                  post(deputy, post="副局长", principal=False, exemption_reason="换届"))

    status, history, _ = await call("GET", f"{system.url('ledger')}/v1/cadres/{chief}/history")
    assert status == 200
    assigned = [r["event"]["data"] for r in history["events"] if r["type"] == "post.assigned"]
    assert assigned[-1]["principal"] is True and "probation_end" not in assigned[-1], assigned[-1]
    status, problem, _ = await call("POST", f"{rotation}/v1/posts/SJJ-JZ/probation/conclude",
                                    {"cadre_id": chief, "county": COUNTY, "occurred_on": "2025-06-03",
                                     "outcome": "confirmed"})
    assert status == 422 and problem["rule"] == "probation.none", problem

    early = {"cadre_id": deputy, "county": COUNTY, "occurred_on": "2025-06-02", "outcome": "confirmed"}
    status, problem, _ = await call("POST", f"{rotation}/v1/posts/SJJ-FJZ/probation/conclude", early)
    assert status == 422 and problem["rule"] == "probation.before_end" and problem["probation_end"] == "2025-06-03"
    assert "第四十三条 (任职试用期制度)" in problem["basis"], problem


async def test_a_basically_competent_grade_bars_the_rotation_services_promotions_in_the_barred_year(
        system: System) -> None:
    """DOMAIN.md rule 6 across services: the grade is the assessment service's, the promotion the rotation service's."""
    rotation, assessment = system.url("rotation"), system.url("assessment")
    cadre = new_cadre_id("R")
    await post_ok(f"{rotation}/v1/cadres/register?wait=committed", registration(cadre, occurred_on="2016-01-04"))
    await post_ok(f"{rotation}/v1/posts/ZS-KY-07/assign?wait=committed", township_post(cadre, "2016-03-01"))
    await post_ok(f"{assessment}/v1/annual-grades?wait=committed", {
        "cadre_id": cadre, "county": COUNTY, "occurred_on": "2024-01-15", "year": 2023,
        "grade": "basically_competent"})
    years = ruleset_for(COUNTY, date(2024, 1, 15)).assessment.promotion_block_years

    promotion = township_post(cadre, "2024-06-03", post="副镇长", level="deputy_section", leadership=True,
                              kind="promotion", exemption_reason="换届选举")
    status, problem, _ = await call("POST", f"{rotation}/v1/posts/ZS-FZZ-07/assign", promotion)
    assert status == 422 and problem["rule"] == "assessment.promotion_blocked", problem
    assert problem["graded_year"] == 2023 and "基本称职" in problem["message_zh"] and problem["basis"]
    assert "basically competent" in problem["message_en"]
    # a posting that is no promotion is not barred; a promotion once the barred years are over is
    await post_ok(f"{rotation}/v1/posts/ZS-KY-08/assign?wait=committed",
                  township_post(cadre, "2024-06-03", post="镇政府办公室科员"))
    done = await post_ok(f"{rotation}/v1/posts/ZS-FZZ-07/assign?wait=committed",
                         {**promotion, "occurred_on": f"{2024 + years}-01-05"})
    assert done["committed"] is True


async def test_a_fact_dated_before_any_rule_set_says_from_when_one_is_in_force(system: System) -> None:
    status, problem, _ = await call("POST", f"{system.url('rotation')}/v1/cadres/register",
                                    registration(new_cadre_id("R"), occurred_on="2005-06-01", work_start="2003-07-01"))
    assert status == 422 and problem.get("rule") == "ruleset.in_force", problem
    assert problem["first_in_force"] == "2008-01-01" and "2008-01-01" in problem["message_zh"]


async def test_a_rise_in_rank_is_held_to_the_promotion_rules_whatever_the_posting_is_called(system: System) -> None:
    """DOMAIN.md rules 1, 3, 4: a lateral posting or a rotation cannot raise the rank; an election that does is a
    promotion (notice or exemption, blockers, probation)."""
    rotation = system.url("rotation")
    cadre = new_cadre_id("R")
    await post_ok(f"{rotation}/v1/cadres/register?wait=committed", registration(cadre, occurred_on="2016-01-04"))
    await post_ok(f"{rotation}/v1/posts/ZS-KY-09/assign?wait=committed", township_post(cadre, "2016-03-01"))

    head = township_post(cadre, "2024-06-03", post="樟市镇镇长", level="section", leadership=True)
    for kind in ("lateral", "rotation"):
        status, problem, headers = await call("POST", f"{rotation}/v1/posts/ZS-ZZ-09/assign", {**head, "kind": kind})
        assert status == 422 and headers["Content-Type"].startswith("application/problem+json"), problem
        assert problem["rule"] == "posting.kind_matches_level" and problem["previous_level"] == "clerk", problem
        assert "不能提高职级" in problem["message_zh"] and "cannot raise" in problem["message_en"]
    status, problem, _ = await call("POST", f"{rotation}/v1/posts/ZS-ZZ-09/assign", {**head, "kind": "election"})
    assert status == 422 and problem["rule"] == "promotion.notice_cleared", problem
    assert "任前公示" in problem["message_zh"]

    # with a recorded exemption (换届选举) the election goes through; an elected post starts no probation
    elected = {**head, "kind": "election", "exemption_reason": "换届选举, 人大选举产生"}
    await post_ok(f"{rotation}/v1/posts/ZS-ZZ-09/assign?wait=committed", elected)
    status, history, _ = await call("GET", f"{system.url('ledger')}/v1/cadres/{cadre}/history")
    assert status == 200
    data = [r["event"]["data"] for r in history["events"] if r["type"] == "post.assigned"][-1]
    assert data["kind"] == "election" and "probation_end" not in data, data


async def test_a_promotion_to_an_elected_post_starts_no_probation(system: System) -> None:
    """选拔任用工作条例 (2019) 第四十三条: 任职试用期 is for promotions to 非选举产生的领导职务. A 副镇长 (elected by
    the township people's congress) promoted to and recorded as a promotion with `elected: true` keeps every
    promotion rule but has no probation to conclude; the same promotion not stated to be elected starts one."""
    rotation = system.url("rotation")
    elected_cadre, other = new_cadre_id("RE"), new_cadre_id("RE")
    for cadre in (elected_cadre, other):
        await post_ok(f"{rotation}/v1/cadres/register?wait=committed", registration(cadre, occurred_on="2016-01-04"))
        await post_ok(f"{rotation}/v1/posts/ZS-KY-{cadre}/assign?wait=committed", township_post(cadre, "2016-03-01"))
    deputy = {"post": "副镇长", "level": "deputy_section", "leadership": True, "principal": False,
              "kind": "promotion", "exemption_reason": "换届选举, 镇人民代表大会选举产生"}
    await post_ok(f"{rotation}/v1/posts/ZS-FZZ-{elected_cadre}/assign?wait=committed",
                  township_post(elected_cadre, "2024-06-03", **deputy, elected=True))
    await post_ok(f"{rotation}/v1/posts/ZS-FZZ-{other}/assign?wait=committed",
                  township_post(other, "2024-06-03", **deputy))

    data = {}
    for cadre in (elected_cadre, other):
        status, history, _ = await call("GET", f"{system.url('ledger')}/v1/cadres/{cadre}/history")
        assert status == 200, history
        data[cadre] = [r["event"]["data"] for r in history["events"] if r["type"] == "post.assigned"][-1]
    assert data[elected_cadre]["elected"] is True and data[elected_cadre]["kind"] == "promotion", data
    assert "probation_end" not in data[elected_cadre], data
    assert "elected" not in data[other] and data[other]["probation_end"] == "2025-06-03", data

    conclusion = {"cadre_id": elected_cadre, "county": COUNTY, "occurred_on": "2025-06-03", "outcome": "confirmed"}
    status, problem, headers = await call("POST", f"{rotation}/v1/posts/ZS-FZZ-{elected_cadre}/probation/conclude",
                                          conclusion)
    assert status == 422 and headers["Content-Type"].startswith("application/problem+json"), problem
    assert problem["rule"] == "probation.none" and "试用期" in problem["message_zh"], problem

    # a posting of kind election is to an elected post: stating otherwise is refused, naming the field
    status, problem, _ = await call("POST", f"{rotation}/v1/posts/ZS-ZZ-{other}/assign", township_post(
        other, "2024-06-04", post="镇长", level="deputy_section", leadership=True, kind="election", elected=False))
    assert status == 422 and problem["rule"] == "posting.election_to_elected_post", problem
    assert problem["field"] == "elected" and "选举产生" in problem["message_zh"], problem

    # a posting recorded without `elected` and so put on probation is corrected (更正) with it: no probation then
    status, history, _ = await call("GET", f"{system.url('ledger')}/v1/cadres/{other}/history")
    other_assigned = [r for r in history["events"] if r["type"] == "post.assigned"][-1]
    assert other_assigned["event"]["data"]["post_id"] == f"ZS-FZZ-{other}", other_assigned
    await post_ok(f"{rotation}/v1/posts/ZS-FZZ-{other}/assign?wait=committed", {
        **township_post(other, "2024-06-03", **deputy, elected=True),
        "correction": {"event_id": other_assigned["event"]["id"], "reason": "录入遗漏: 副镇长为选举产生的职务"}})
    status, problem, _ = await call("POST", f"{rotation}/v1/posts/ZS-FZZ-{other}/probation/conclude",
                                    {**conclusion, "cadre_id": other})
    assert status == 422 and problem["rule"] == "probation.none", problem


async def test_postings_and_the_dossier_show_whether_a_post_is_elected(system: System) -> None:
    """An auditor reads elected (选举产生) where a cadre's postings are: the postings read model and the dossier's
    posts, held and left, with its words (elected_zh). A posting of kind election is to an elected post, one may
    state it is not (委任), and one that does not say shows null (未说明), not false. A post left keeps principal
    (正职) too, as it was recorded."""
    rotation = system.url("rotation")
    cadres = {new_cadre_id("RE"): True, new_cadre_id("RE"): False, new_cadre_id("RE"): None}
    postings = {True: {"post": "副镇长", "level": "deputy_section", "leadership": True, "principal": False,
                       "kind": "election"},
                False: {"elected": False}, None: {}}
    for cadre, elected in cadres.items():
        await post_ok(f"{rotation}/v1/cadres/register?wait=committed", registration(cadre, occurred_on="2016-01-04"))
        await post_ok(f"{rotation}/v1/posts/ZS-{cadre}/assign?wait=committed",
                      township_post(cadre, "2016-03-01", **postings[elected]))
    words = {True: "选举产生", False: "委任", None: "未说明"}
    for cadre, elected in cadres.items():
        [row] = await projected(system, f"/v1/rotation/postings?cadre_id={cadre}", "postings", lambda rows: rows != [])
        assert row["elected"] is elected and row["elected_zh"] == words[elected], row
        status, state, _ = await call("GET", f"{system.url('ledger')}/v1/cadres/{cadre}/state")
        assert status == 200, state
        held = state["rotation"]["posts"][f"ZS-{cadre}"]
        assert held["elected"] is elected and held["elected_zh"] == words[elected], held
        await post_ok(f"{rotation}/v1/posts/ZS-{cadre}/vacate?wait=committed",
                      {"cadre_id": cadre, "county": COUNTY, "occurred_on": "2019-03-01", "reason": "term_end"})
        status, state, _ = await call("GET", f"{system.url('ledger')}/v1/cadres/{cadre}/state")
        [left] = state["rotation"]["former_posts"]
        assert (left["post_id"], left["left_on"], left["principal"], left["elected"], left["elected_zh"]) == (
            f"ZS-{cadre}", "2019-03-01", False if elected else None, elected, words[elected]), left


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
