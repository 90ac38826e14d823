"""What a request is checked for first: its path before its body, and a cadre's county scope before anything is
read or decided about it (a refusal must not depend on what a caller may not see)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from shared.db import READER_ROLE
from tests.support import System, audit_event, call, new_cadre_id, publish, wait_committed

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


# ---- the scope of a history or state read before the read ----------------------------------------------------

@pytest.fixture(scope="module")
async def own_system(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[System]:
    """A private system: a test here narrows the ledger's read role, which every other test's reads need."""
    root: Path = tmp_path_factory.mktemp("checked-first")
    sys_ = await asyncio.to_thread(System(root, services=("ledger",)).start)
    try:
        yield sys_
    finally:
        await asyncio.to_thread(sys_.stop)


async def test_a_refused_read_reads_nothing_of_the_cadre_but_its_counties(own_system: System) -> None:
    """A county-scoped reader asking for another county's cadre is answered as for an unknown id without a page
    being built: the history page (or the state's events) was read first, making that 404 slower than an unknown
    id's and so telling that the id exists. Shown with the ledger's read role narrowed to the two columns the
    scope needs: a refused read still answers its 404, one that builds the page cannot."""
    assert own_system.stack is not None
    cadre, missing = new_cadre_id(), new_cadre_id()
    await wait_committed(own_system.pg_dsn, (await publish(own_system.nats_url, [audit_event(cadre)]))[0])
    ledger = own_system.url("ledger")
    outsider = own_system.stack.dev_token(["auditor"], ["430000"])
    paths = ("/history", "/history?after_version=1", "/state", "/state?as_of=2024-01-01", "/bundle")
    conn = await asyncpg.connect(own_system.pg_dsn)
    try:
        await conn.execute(f"REVOKE SELECT ON ledger_events FROM {READER_ROLE}")
        await conn.execute(f"GRANT SELECT (cadre_id, county) ON ledger_events TO {READER_ROLE}")
        try:
            for path in paths:
                status, problem, _ = await call("GET", f"{ledger}/v1/cadres/{cadre}{path}", token=outsider)
                m_status, m_problem, _ = await call("GET", f"{ledger}/v1/cadres/{missing}{path}", token=outsider)
                assert (status, m_status) == (404, 404), (path, problem)
                assert problem["detail"].replace(cadre, "?") == m_problem["detail"].replace(missing, "?"), path
            status, _, _ = await call("GET", f"{ledger}/v1/cadres/{cadre}/history")
            assert status == 500, "a read that builds the page cannot, with the role narrowed"
        finally:
            await conn.execute(f"GRANT SELECT ON ledger_events TO {READER_ROLE}")
    finally:
        await conn.close()
    for path in paths:
        status, _, _ = await call("GET", f"{ledger}/v1/cadres/{cadre}{path}")
        assert status == 200, path
