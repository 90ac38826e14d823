"""What a request is checked for first: its path before its body, and a cadre's county scope before anything is
read or decided about it (a refusal must not depend on what a caller may not see)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from shared.db import READER_ROLE
from shared.http import Api
from shared.request_input import CadrePath
from tests.support import System, audit_event, call, new_cadre_id, publish, registered_cadre, wait_committed

# ---- the path before the body --------------------------------------------------------------------------------


@pytest.mark.parametrize(("service", "path", "fields"), [
    ("audit", "/v1/audits/bad%20id/complete", ["audit_id"]),
    ("audit", "/v1/audits/bad%20id/findings/F%201/rectify", ["audit_id", "finding_id"]),
    ("assessment", "/v1/notices/bad%20id/close", ["notice_id"]),
    ("rotation", "/v1/posts/bad%20id/assign", ["post_id"]),
])
async def test_a_malformed_path_id_is_named_whatever_the_body(system: System, service: str, path: str,
                                                              fields: list[str]) -> None:
    """The path names what the command is about: a malformed id there is the answer even to a body that is
    invalid too (it was named only once the body was valid), and every path parameter is named at once."""
    for body in ({}, {"cadre_id": "not a valid id!", "county": "431021"}):
        status, problem, _ = await call("POST", f"{system.url(service)}{path}", body)
        assert status == 422, problem
        assert [(e["field"], e["in"]) for e in problem["errors"]] == [(f, "path") for f in fields], problem
        assert "路径参数无效" in problem["detail"], problem


def test_a_route_types_every_path_parameter_it_has() -> None:
    """The endpoint checks the path from what the route declares: a parameter left undeclared would go unchecked."""
    api = Api("t", "1")
    with pytest.raises(TypeError, match="cadre_id"):
        api.route("GET", "/v1/cadres/{cadre_id}/history", summary="s")
    with pytest.raises(TypeError, match="post_id"):
        api.route("POST", "/v1/posts/{post_id}/vacate", summary="s", path_params=CadrePath)


async def test_a_read_names_its_malformed_path_before_its_query(system: System) -> None:
    status, problem, _ = await call("GET", f"{system.url('ledger')}/v1/cadres/bad%20id/history?limit=0")
    assert status == 422 and [(e["field"], e["in"]) for e in problem["errors"]] == [("cadre_id", "path")], problem


# ---- the access trail's cadre filter is an id ----------------------------------------------------------------

@pytest.mark.parametrize("cadre_id", ["bad%20id", "%E5%BC%A0%E4%B8%89", "x" * 65, "T1%25"])
async def test_the_access_trail_filter_by_cadre_is_an_id(system: System, cadre_id: str) -> None:
    """A cadre id no cadre can have listed nothing, as if nobody had read it: now it is a 422 naming the filter."""
    status, problem, _ = await call("GET", f"{system.url('ledger')}/v1/access?cadre_id={cadre_id}")
    assert status == 422, problem
    assert [(e["field"], e["in"]) for e in problem["errors"]] == [("cadre_id", "query")], problem


# ---- the cadre's county before the rules of the day ----------------------------------------------------------

_EARLY = "2015-06-01"  # before any rule set of county 110101 is in force (the national one starts 2019-03-01)


@pytest.mark.parametrize(("service", "path", "body"), [
    ("audit", "/v1/audits/ORDER-1/start", {"audit_type": "in_office", "period_from": "2012-01-01",
                                           "period_to": "2014-12-31", "auditing_body": "审计局"}),
    ("assessment", "/v1/annual-grades", {"year": 2014, "grade": "competent"}),
    ("rotation", "/v1/posts/ORDER-P/vacate", {"reason": "rotation"}),
    ("audit", "/v1/revocations", {"event_id": "0190f0d4-43a3-7000-8000-000000000000", "reason": "录错干部"}),
])
async def test_another_countys_cadre_is_refused_for_its_county_before_the_rules_of_the_day(
        system: System, service: str, path: str, body: dict[str, Any]) -> None:
    """A county-scoped recorder naming its own county for another county's cadre is refused for the cadre's county
    (`cadre.county`) whatever the day; a day no rule set of its county covers was answered `ruleset.in_force`
    first, a refusal about a fact on a cadre the recorder may not touch."""
    assert system.stack is not None
    cadre = await registered_cadre(system)  # registered in 431021
    elsewhere = system.stack.dev_token(["recorder"], ["110101"])
    command = {**body, "cadre_id": cadre, "county": "110101", "occurred_on": _EARLY}
    status, problem, _ = await call("POST", f"{system.url(service)}{path}", command, token=elsewhere)
    assert status == 422 and problem["rule"] == "cadre.county", problem
    # the same command about the recorder's own cadre is refused for the rules of the day, as before
    own = await registered_cadre(system, county="110101")
    status, problem, _ = await call("POST", f"{system.url(service)}{path}", {**command, "cadre_id": own},
                                    token=elsewhere)
    assert status == 422 and problem["rule"] == "ruleset.in_force", problem


# ---- the scope of a history or state read before the read ----------------------------------------------------

@pytest.fixture(scope="module")
async def own_system(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[System]:
    """A private system: a test here narrows the ledger's read role, which every other test's reads need."""
    root: Path = tmp_path_factory.mktemp("checked-first")
    sys_ = await asyncio.to_thread(System(root, services=("ledger", "rotation")).start)
    try:
        yield sys_
    finally:
        await asyncio.to_thread(sys_.stop)


async def test_a_refused_read_reads_nothing_of_the_cadre_but_its_counties(own_system: System) -> None:
    """A county-scoped reader asking for another county's cadre is answered as for an unknown id without reading the
    cadre's events: the history page, the state's events or (for personal data) the whole history were read first,
    making that 404 slower than an unknown id's and so telling that the id exists. Shown with the ledger's read role
    narrowed to the two columns the scope needs: a refused read still answers its 404, one that reads events cannot."""
    assert own_system.stack is not None
    cadre, missing = new_cadre_id(), new_cadre_id()
    await wait_committed(own_system.pg_dsn, (await publish(own_system.nats_url, [audit_event(cadre)]))[0])
    ledger, rotation = own_system.url("ledger"), own_system.url("rotation")
    reads = [f"{ledger}/v1/cadres/{{}}{path}" for path in (
        "/history", "/history?after_version=1", "/state", "/state?as_of=2024-01-01", "/bundle")]
    reads.append(f"{rotation}/v1/cadres/{{}}/person")
    outsider = own_system.stack.dev_token(["auditor"], ["430000"])
    conn = await asyncpg.connect(own_system.pg_dsn)
    try:
        await conn.execute(f"REVOKE SELECT ON ledger_events FROM {READER_ROLE}")
        await conn.execute(f"GRANT SELECT (cadre_id, county) ON ledger_events TO {READER_ROLE}")
        try:
            for read in reads:
                status, problem, _ = await call("GET", read.format(cadre), token=outsider)
                m_status, m_problem, _ = await call("GET", read.format(missing), token=outsider)
                assert (status, m_status) == (404, 404), (read, problem)
                assert problem["detail"].replace(cadre, "?") == m_problem["detail"].replace(missing, "?"), read
            for read in (reads[0], reads[-1]):
                status, _, _ = await call("GET", read.format(cadre))
                assert status >= 500, f"a read of the cadre's events cannot, with the role narrowed: {read}"
        finally:
            await conn.execute(f"GRANT SELECT ON ledger_events TO {READER_ROLE}")
    finally:
        await conn.close()
    for read in reads[:-1]:
        assert (await call("GET", read.format(cadre)))[0] == 200, read
    status, problem, _ = await call("GET", reads[-1].format(cadre))
    assert status == 404 and "无此干部个人信息" in problem["detail"], "recorded by the ledger only: no personal data"
