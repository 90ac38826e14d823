"""Nothing lost when NATS or PostgreSQL goes away during ingest; commands answer 503 meanwhile."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from shared.db import WRITER_ROLE, dsn_as
from tests.exactly_once_support import assert_exactly_once
from tests.pg_proxy import PgProxy
from tests.support import (
    System,
    audit_event,
    call,
    fetch,
    ledger_metrics,
    new_cadre_id,
    publish,
    registered_cadre,
    wait_committed,
    wait_until,
)


@pytest.fixture
def own_system(tmp_path: Path) -> Iterator[System]:
    """A private system whose servers these tests restart."""
    sys_ = System(tmp_path, services=("ledger", "audit")).start()
    yield sys_
    sys_.stop()


def start_body(cadre: str) -> dict[str, str]:
    return {"cadre_id": cadre, "county": "431021", "occurred_on": "2024-01-02", "audit_type": "in_office",
            "period_from": "2019-01-01", "period_to": "2023-12-31", "auditing_body": "桂阳县审计局"}


async def ready(system: System, service: str) -> bool:
    return (await call("GET", f"{system.url(service)}/readyz"))[0] == 200


async def test_nats_restart_during_ingest_loses_nothing(own_system: System) -> None:
    assert own_system.stack is not None
    first = [audit_event(f"N{n % 50:02d}", n) for n in range(3000)]
    await publish(own_system.nats_url, first)
    await asyncio.to_thread(own_system.stack.restart, "nats")  # mid-ingest: the writer is still appending
    second = [audit_event(f"N{n % 50:02d}", n) for n in range(3000, 6000)]
    seqs = await publish(own_system.nats_url, second)
    await wait_committed(own_system.pg_dsn, max(seqs), timeout=90)
    await assert_exactly_once(own_system, {str(e.id) for e in first + second})


async def test_postgres_restart_during_ingest_loses_nothing(own_system: System) -> None:
    assert own_system.stack is not None
    events = [audit_event(f"P{n % 50:02d}", n) for n in range(6000)]
    publishing = asyncio.create_task(publish(own_system.nats_url, events))
    await asyncio.sleep(0.3)
    await asyncio.to_thread(own_system.stack.restart, "postgres")
    seqs = await publishing
    await wait_committed(own_system.pg_dsn, max(seqs), timeout=90)
    await assert_exactly_once(own_system, {str(e.id) for e in events})
    assert await ready(own_system, "ledger"), "the ledger reconnected by itself"


async def test_commands_answer_503_while_nats_is_down_and_recover(own_system: System) -> None:
    assert own_system.stack is not None
    url = f"{own_system.url('audit')}/v1/audits/F1/start"
    cadre = new_cadre_id()
    await wait_committed(own_system.pg_dsn, (await publish(own_system.nats_url, [audit_event(cadre)]))[0])
    # registered while NATS is up: commands are refused (422) for a cadre nobody registered
    while_down, after = await registered_cadre(own_system), await registered_cadre(own_system)
    own_system.stack.server("nats").stop()
    try:
        status, problem, _ = await call("GET", f"{own_system.url('ledger')}/v1/cadres/{cadre}/history")
        assert status == 503 and "查阅" in problem["detail"], "a read that cannot be put on record is refused"
        for bulk in ("/v1/events?county=431021", "/v1/rotation/due"):  # ... and so is a read of many cadres
            status, problem, _ = await call("GET", f"{own_system.url('ledger')}{bulk}")
            assert status == 503 and "查阅" in problem["detail"], (bulk, problem)
        status, problem, headers = await call("POST", url, start_body(while_down))
        assert status == 503 and headers.get("Retry-After"), problem
        assert problem["status"] == 503 and "NATS" in problem["detail"]
        assert not await ready(own_system, "audit")
    finally:
        await asyncio.to_thread(own_system.stack.restart, "nats")
    await wait_until(lambda: ready(own_system, "audit"), timeout=30)
    status, body, _ = await call("POST", f"{url}?wait=committed", start_body(after))
    assert status == 202 and body["committed"] is True, body


async def test_a_writer_whose_connection_is_cut_while_idle_stands_down_and_is_elected_again(
        own_system: System) -> None:
    # The writer's session holds the advisory lock that elects it. Cut while the writer idled, it went on reporting
    # itself the writer (ledger_is_writer 1) with no lock, beside the standby that took over, until a batch failed.
    async def writer_pids() -> list[int]:
        rows = await fetch(own_system.pg_dsn, "SELECT pid FROM pg_stat_activity "
                                              "WHERE application_name = 'cadre-ledger-writer'")
        return [r["pid"] for r in rows]

    [first] = await wait_until(writer_pids)
    await fetch(own_system.pg_dsn, "SELECT pg_terminate_backend($1)", first)
    pids = await wait_until(lambda: _other_than(writer_pids, first), timeout=20)
    assert pids and first not in pids
    [seq] = await publish(own_system.nats_url, [audit_event(new_cadre_id())])
    await wait_committed(own_system.pg_dsn, seq)


async def _other_than(pids: Callable[[], Awaitable[list[int]]], gone: int) -> list[int]:
    return [p for p in await pids() if p != gone]


async def test_a_writer_whose_session_is_cut_on_the_way_stands_down(own_system: System) -> None:
    # A session closed by the server is seen at once; one cut on the way (a failover, a partition) tells the client
    # nothing, and the idle writer went on reporting itself the writer (ledger_is_writer 1) until a batch failed.
    proxy = PgProxy(urlsplit(own_system.pg_dsn).port or 5432)
    port = await proxy.start()
    try:
        own_system.procs["ledger"].stop()
        own_system.extra_env["CADRE_PG_WRITER_DSN"] = dsn_as(
            own_system.pg_dsn.replace(f":{urlsplit(own_system.pg_dsn).port}/", f":{port}/"), WRITER_ROLE)
        await asyncio.to_thread(own_system.start_service, "ledger")

        async def is_writer() -> float:
            return (await ledger_metrics(own_system))["ledger_is_writer"]

        assert await wait_until(is_writer, timeout=60) == 1
        [held] = await fetch(own_system.pg_dsn, "SELECT pid FROM pg_stat_activity "
                                                "WHERE application_name = 'cadre-ledger-writer'")
        proxy.freeze()
        assert await wait_until(lambda: _is_zero(is_writer), timeout=60), "the cut writer still calls itself one"
        await fetch(own_system.pg_dsn, "SELECT pg_terminate_backend($1)", held["pid"])  # the server's own timeout
        assert await wait_until(is_writer, timeout=60) == 1
        [seq] = await publish(own_system.nats_url, [audit_event(new_cadre_id())])
        await wait_committed(own_system.pg_dsn, seq)
    finally:
        await proxy.close()


async def _is_zero(value: Callable[[], Awaitable[float]]) -> bool:
    return await value() == 0
