"""PostgreSQL down, or a session lost under a read: every route answers 503 problem+json (数据库不可用) with
Retry-After, as OpenAPI says, not 500; readiness says not ready; reads answer again once PostgreSQL is back. A
statement that is wrong, or refused for a privilege the role lacks, stays a 500 logged with its cause: only "the
database is unavailable" is an outage (`shared.db.is_outage`)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import pytest
from aiohttp import web

from shared.db import acquire, create_pool, is_outage
from shared.http import Api, create_app
from tests.support import System, call, fetch, log_records, new_cadre_id, served, wait_until

READS = [
    ("ledger", "/v1/cadres/{cadre}/history"), ("ledger", "/v1/cadres/{cadre}/state"),
    ("ledger", "/v1/cadres/{cadre}/bundle"), ("ledger", "/v1/events"), ("ledger", "/v1/quarantine"),
    ("ledger", "/v1/tip"), ("ledger", "/v1/checkpoints/latest"), ("ledger", "/v1/proofs/inclusion?position=1"),
    ("ledger", "/v1/proofs/consistency?first=1&second=1"), ("ledger", "/v1/access"),
    ("ledger", "/v1/assessment/summary?year=2024"), ("ledger", "/v1/watchlist/assessment"),
    ("ledger", "/v1/audits/departures-unaudited"), ("ledger", "/v1/audits/open-findings"),
    ("ledger", "/v1/audits/results-pending"), ("ledger", "/v1/audits/summary"), ("ledger", "/v1/appointments"),
    ("ledger", "/v1/cadres"), ("ledger", "/v1/inquiries/overdue"), ("ledger", "/v1/notices/summary"),
    ("ledger", "/v1/notices"), ("ledger", "/v1/reports/funnel"), ("ledger", "/v1/rotation/due"),
    ("ledger", "/v1/rotation/postings"), ("ledger", "/v1/rotation/summary"),
    ("rotation", "/v1/cadres/{cadre}/person"),
]
"""Every read route of the ledger and of the command services (`test_every_read_route_is_listed`)."""

REGISTRATION = {"county": "431021", "occurred_on": "2015-03-01", "name": "王五", "sex": "male",
                "birth_month": "1980-01", "id_number": "431021198001010016", "work_start": "2002-07-01",
                "unit": "桂阳县审计局"}
WRITES: list[tuple[str, str, dict[str, Any] | None]] = [
    ("ledger", "/v1/checkpoints", None),  # its own connection as the writer role, not the pool
    ("rotation", "/v1/cadres/register", {"cadre_id": "PGDOWN1", **REGISTRATION}),  # person_data before the bus
    ("rotation", "/v1/cadres/erase-personal-data",
     {"cadre_id": "{cadre}", "county": "431021", "occurred_on": "2024-01-02", "reason": "本人申请", "reference": "R1"}),
]
"""Commands that reach PostgreSQL before (or beside) the command bus, which maps its own 503."""
COMMAND_TIMEOUT_S = 3


@dataclass
class Outage:
    """One system for the module, and PostgreSQL stopped or running as a test needs it (stopped once, started once
    again, when the tests run in file order)."""

    system: System
    cadre: str
    down_now: bool = False

    async def down(self) -> None:
        if not self.down_now:
            assert self.system.stack is not None
            await asyncio.to_thread(self.system.stack.server("postgres").stop)
            self.down_now = True

    async def up(self) -> None:
        if self.down_now:
            assert self.system.stack is not None
            await asyncio.to_thread(self.system.stack.restart, "postgres")
            self.down_now = False
        for service in ("ledger", "rotation"):
            await wait_until(partial(_ready, self.system, service), timeout=60)


async def _ready(system: System, service: str) -> bool:
    return (await call("GET", f"{system.url(service)}/readyz"))[0] == 200


@pytest.fixture(scope="module")
def outage(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Outage]:
    root: Path = tmp_path_factory.mktemp("database-down")
    system = System(root, services=("ledger", "rotation"),
                    extra_env={"CADRE_PG_COMMAND_TIMEOUT_S": str(COMMAND_TIMEOUT_S)}).start()
    try:
        yield Outage(system, asyncio.run(_seeded(system)))
    finally:
        system.stop()


async def _seeded(system: System) -> str:
    """A cadre registered with personal data, and a checkpoint: every read answers 200 while PostgreSQL is up."""
    cadre = new_cadre_id()
    status, body, _ = await call("POST", f"{system.url('rotation')}/v1/cadres/register?wait=committed",
                                 {"cadre_id": cadre, **REGISTRATION})
    assert status == 202 and body["committed"], body
    status, body, _ = await call("POST", f"{system.url('ledger')}/v1/checkpoints")
    assert status == 201, body
    return cadre


def _url(outage: Outage, service: str, path: str) -> str:
    return outage.system.url(service) + path.format(cadre=outage.cadre)


async def test_every_read_route_is_listed(outage: Outage) -> None:
    """A read route added later is in READS, or this fails: each must answer 503 while PostgreSQL is down, as its
    OpenAPI operation says."""
    await outage.up()
    listed = {(service, path.split("?")[0].replace("{cadre}", "{cadre_id}")) for service, path in READS}
    for service in ("ledger", "rotation"):
        _, document, _ = await call("GET", f"{outage.system.url(service)}/openapi.json")
        reads = {p: ops["get"] for p, ops in document["paths"].items() if "get" in ops}
        assert {(service, p) for p in reads} <= listed, sorted({(service, p) for p in reads} - listed)
        assert [p for p, op in reads.items() if "503" not in op["responses"]] == []


async def test_a_wrong_statement_is_still_a_fault(outage: Outage) -> None:
    """Only an unavailable database is a 503: a statement PostgreSQL refuses (here a table that does not exist) is
    our fault, logged and answered 500."""
    await outage.up()
    pool = await create_pool(outage.system.pg_dsn, application="database-down-test", min_size=1, max_size=1)
    api = Api("probe", "1")

    @api.route("GET", "/wrong", summary="A statement PostgreSQL refuses")
    async def wrong(request: web.Request) -> None:
        async with acquire(pool, 5) as conn:
            await conn.fetch("SELECT * FROM no_such_table")

    try:
        async with served(create_app("probe", api, guard=None)) as url:
            status, problem, headers = await call("GET", f"{url}/wrong")
    finally:
        await pool.close()
    assert status == 500 and headers["Content-Type"].startswith("application/problem+json"), problem
    assert "Retry-After" not in headers and "内部错误" in problem["detail"], problem


async def test_the_openapi_500_says_it_may_be_an_internal_fault() -> None:
    """Found by review: a route's documented 500 said only "Stored data inconsistent", while a statement PostgreSQL
    refuses is now a 500 `internal` on every route, told apart from an outage (503) by the absent Retry-After."""
    api = Api("probe", "1")

    @api.route("GET", "/proof", summary="A route that documents its 500", errors=(500,))
    async def proof(request: web.Request) -> None:
        return None

    async with served(create_app("probe", api, guard=None)) as url:
        _, document, _ = await call("GET", f"{url}/openapi.json")
    described = document["paths"]["/proof"]["get"]["responses"]["500"]["description"]
    assert "存储数据不一致" in described and "内部错误" in described and "request_id" in described, described


@pytest.fixture
async def reader_without_ledger(outage: Outage) -> AsyncIterator[None]:
    """SELECT on ledger_events revoked from the reader role (a grant a deployment lost), granted again after."""
    await outage.up()
    await fetch(outage.system.pg_dsn, "REVOKE SELECT ON ledger_events FROM cadre_reader")
    try:
        yield
    finally:
        await fetch(outage.system.pg_dsn, "GRANT SELECT ON ledger_events TO cadre_reader")


async def _logged(outage: Outage, service: str, request_id: str) -> list[dict[str, Any]]:
    lines = await log_records(outage.system.procs[service].log_path, "")
    return [line for line in lines if line.get("request_id") == request_id]


async def test_a_privilege_the_role_lacks_is_a_fault_not_an_outage(outage: Outage, reader_without_ledger: None) -> None:
    """Found by review: the command services' reads of the ledger (shared.ledger_reader: a cadre's counties, its
    history before a command) and the rotation service's person_data store turned every PostgreSQL error into
    DatabaseUnavailable, so a privilege revoked from the reader role answered 503 with Retry-After, and was logged as
    an outage once every ten seconds at most: clients retried for good a fault no retry mends. It is a 500 like any
    internal error, naming no table, and each one is logged as an error naming the privilege."""
    requests = [("ledger", "GET", f"/v1/cadres/{outage.cadre}/history", None),
                ("rotation", "GET", f"/v1/cadres/{outage.cadre}/person", None),
                ("rotation", "POST", "/v1/cadres/register", {"cadre_id": new_cadre_id(), **REGISTRATION})]
    answers = [await call(method, outage.system.url(service) + path, body) for service, method, path, body in requests]
    assert [(status, headers.get("Retry-After")) for status, _, headers in answers] == [(500, None)] * 3, answers
    for (service, _, path, _), (_, problem, headers) in zip(requests, answers, strict=True):
        assert headers["Content-Type"].startswith("application/problem+json"), (path, problem)
        assert problem["detail"] == "internal error; it has been logged (内部错误)", problem
        assert "ledger_events" not in json.dumps(problem), problem
        logged = await wait_until(partial(_logged, outage, service, problem["request_id"]), timeout=5)
        assert logged[0]["level"] == "error" and logged[0].get("sqlstate") == "42501", logged
        assert "permission denied for table ledger_events" in logged[0]["msg"], logged


@pytest.mark.parametrize(("error", "outage_"), [
    (asyncpg.ConnectionDoesNotExistError("connection was closed in the middle of operation"), True),
    (asyncpg.InterfaceError("connection is closed"), True),  # a pooled session ended while idle
    (asyncpg.InterfaceError("pool is closing"), True),
    (asyncpg.AdminShutdownError("terminating connection due to administrator command"), True),
    (asyncpg.CannotConnectNowError("the database system is starting up"), True),
    (asyncpg.TooManyConnectionsError("sorry, too many clients already"), True),
    (asyncpg.QueryCanceledError("canceling statement due to statement timeout"), True),
    (ConnectionRefusedError(111, "Connect call failed"), True), (TimeoutError(), True),
    (asyncpg.InsufficientPrivilegeError("permission denied for table ledger_events"), False),
    (asyncpg.UndefinedTableError('relation "rm_directory" does not exist'), False),
    (asyncpg.UndefinedColumnError('column "filed_on" does not exist'), False),
    (asyncpg.PostgresSyntaxError('syntax error at or near "SELEC"'), False),
    (asyncpg.InvalidPasswordError('password authentication failed for user "cadre_reader"'), False),
    (asyncpg.InterfaceError("cannot perform operation: another operation is in progress"), False),
], ids=lambda v: type(v).__name__ if isinstance(v, BaseException) else str(v))
def test_what_is_an_outage(error: BaseException, outage_: bool) -> None:
    """The one classification every route uses: 503 with Retry-After for these outages, a 500 for the rest."""
    assert is_outage(error) is outage_


@pytest.fixture
async def tip_locked(outage: Outage) -> AsyncIterator[None]:
    """The table GET /v1/tip reads locked by another session: the read waits on the lock until released."""
    await outage.up()
    admin = await asyncpg.connect(outage.system.pg_dsn)
    try:
        async with admin.transaction():
            await admin.execute("LOCK TABLE consumer_checkpoint IN ACCESS EXCLUSIVE MODE")
            yield
    finally:
        await admin.close()


async def _waiting_tip_reads(outage: Outage) -> list[asyncpg.Record]:
    # by the statement's text: the ledger's monitor polls consumer_checkpoint through the same pool
    return await fetch(outage.system.pg_dsn, "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                                             "AND query LIKE 'SELECT stream_seq, position, updated_at FROM%'")


@pytest.mark.parametrize("loss", ["terminated", "silent"])
async def test_a_read_whose_session_is_lost_answers_503(outage: Outage, tip_locked: None, loss: str) -> None:
    """The session closed under the statement (ConnectionDoesNotExistError, as when PostgreSQL stops or an
    operator ends the backend), or no answer within the command timeout (TimeoutError): both escaped raw, as 500."""
    read = asyncio.create_task(call("GET", f"{outage.system.url('ledger')}/v1/tip"))
    for waiting in await wait_until(lambda: _waiting_tip_reads(outage), timeout=10):
        if loss == "terminated":
            await fetch(outage.system.pg_dsn, "SELECT pg_terminate_backend($1)", waiting["pid"])
    status, problem, headers = await asyncio.wait_for(read, COMMAND_TIMEOUT_S + 10)
    assert status == 503 and headers.get("Retry-After"), problem
    assert problem["status"] == 503 and "数据库不可用" in problem["detail"], problem


@pytest.mark.parametrize(("service", "path"), READS, ids=[f"{s}:{p.split('?')[0]}" for s, p in READS])
async def test_a_read_answers_503_while_postgres_is_down(outage: Outage, service: str, path: str) -> None:
    await outage.down()
    status, problem, headers = await asyncio.wait_for(call("GET", _url(outage, service, path)), 20)
    assert status == 503, problem
    assert headers["Content-Type"].startswith("application/problem+json") and headers.get("Retry-After"), headers
    assert problem["status"] == 503 and "数据库不可用" in problem["detail"], problem
    port = urlsplit(outage.system.pg_dsn).port
    assert port and str(port) not in problem["detail"], problem  # the database's address stays in the log


@pytest.mark.parametrize(("service", "path", "body"), WRITES, ids=[f"{s}:{p}" for s, p, _ in WRITES])
async def test_a_command_answers_503_while_postgres_is_down(outage: Outage, service: str, path: str,
                                                           body: dict[str, Any] | None) -> None:
    await outage.down()
    given = {k: v.format(cadre=outage.cadre) if isinstance(v, str) else v for k, v in (body or {}).items()}
    status, problem, headers = await call("POST", _url(outage, service, path), given if body else None)
    assert status == 503 and headers.get("Retry-After"), problem
    assert "数据库不可用" in problem["detail"], problem


async def test_a_commands_outage_line_carries_its_request_and_trace_id(outage: Outage) -> None:
    """Found by review: the command bus logs the outage it meets (`ledger database unavailable`) while serving the
    request, outside the middleware, and the line carried neither the request's id nor its trace id. The line is
    written at most once every ten seconds, so commands are sent until one of them writes it."""
    await outage.down()
    sent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    assign = {"cadre_id": outage.cadre, "county": "431021", "occurred_on": "2021-03-01", "post": "科员",
              "unit": "桂阳县审计局", "level": "clerk", "leadership": False, "kind": "lateral"}
    answered: set[str] = set()

    async def logged() -> list[dict[str, Any]]:
        status, problem, headers = await call("POST", _url(outage, "rotation", "/v1/posts/P-LOG/assign"), assign,
                                              headers={"traceparent": sent})
        assert status == 503 and headers["traceparent"] == sent, problem
        answered.add(headers["X-Request-ID"])
        lines = await log_records(outage.system.procs["rotation"].log_path, "ledger database unavailable")
        return [line for line in lines if line.get("request_id") in answered]

    [line, *_] = await wait_until(logged, timeout=3 * 10, interval=1)
    assert line["logger"] == "shared.problems" and line["trace_id"] == sent.split("-")[1], line
    assert line["path"] == "/v1/posts/P-LOG/assign", line


async def test_readiness_says_not_ready_while_postgres_is_down(outage: Outage) -> None:
    await outage.down()
    for service in ("ledger", "rotation"):
        status, body, headers = await call("GET", f"{outage.system.url(service)}/readyz")
        assert status == 503 and headers.get("Retry-After"), body
        assert any("PostgreSQL" in reason for reason in body["reasons"]), body


async def test_reads_answer_again_once_postgres_is_back(outage: Outage) -> None:
    await outage.up()
    answers = await asyncio.gather(*(call("GET", _url(outage, service, path)) for service, path in READS))
    assert [status for status, _, _ in answers] == [200] * len(READS), [
        (path, status, body) for (_, path), (status, body, _) in zip(READS, answers, strict=True) if status != 200]
