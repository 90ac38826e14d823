"""A service starting against PostgreSQL, through its real entry point: a DSN PostgreSQL refuses (a wrong password, a
database that does not exist) ends the start at once with one line naming what is wrong, status 1, no traceback; a
PostgreSQL that does not answer is waited for, as NATS is, and the service starts once it answers
(`shared.db.connected`)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from services.ledger.background import _retried
from services.ledger.rebuild import _OUTDATED_LOCK
from shared.devstack import free_port
from shared.processes import SERVICES, ServiceProcess
from tests.support import System, call, wait_until

ROLE = "startup_wrong_password"


def _start(system: System, service: str, **env: str) -> subprocess.CompletedProcess[str]:
    spec = next(s for s in SERVICES if s.name == service)
    clean = {k: v for k, v in os.environ.items() if not k.startswith("CADRE_")}
    full = {**clean, **system.env_for(service), spec.port_setting: str(free_port()), **env}
    return subprocess.run([sys.executable, "-m", spec.module], env=full, capture_output=True, text=True, timeout=60,
                          check=False)


def _dsn(system: System, user: str | None = None, port: int | None = None, database: str | None = None) -> str:
    parts = urlsplit(system.pg_dsn)
    netloc = f"{user or parts.username}@127.0.0.1:{port or parts.port}"
    return urlunsplit((parts.scheme, netloc, f"/{database}" if database else parts.path, "", ""))


def _password_required(hba: Path) -> None:
    """The dev stack trusts every local login; `ROLE` must give its password, so a wrong one is refused."""
    if ROLE not in hba.read_text():
        hba.write_text(f"host all {ROLE} 127.0.0.1/32 scram-sha-256\n" + hba.read_text())


async def test_a_wrong_password_ends_the_start_naming_the_role(system: System) -> None:
    conn = await asyncpg.connect(system.pg_dsn)
    try:
        _password_required(Path(await conn.fetchval("SHOW hba_file")))
        await conn.execute(f"DROP ROLE IF EXISTS {ROLE}")
        await conn.execute(f"CREATE ROLE {ROLE} LOGIN PASSWORD 'right'")
        await conn.execute("SELECT pg_reload_conf()")
    finally:
        await conn.close()
    dsn = _dsn(system, f"{ROLE}:wrong")
    started = await asyncio.to_thread(_start, system, "audit", CADRE_PG_READER_DSN=dsn)
    assert started.returncode == 1, started.stderr
    assert "Traceback" not in started.stderr, started.stderr
    last = started.stderr.strip().splitlines()[-1]
    assert last.startswith(f"PostgreSQL at 127.0.0.1:{urlsplit(dsn).port} refused the login of role {ROLE}: "
                           f'password authentication failed for user "{ROLE}" (数据库拒绝登录); correct the role, '
                           "password or database in the DSN"), last
    assert "wrong" not in last.replace("wrong_password", ""), "the password is never printed"


async def test_a_database_that_does_not_exist_ends_the_ledgers_start(system: System) -> None:
    """The ledger's first connection is the migrations' (as the database owner, CADRE_PG_DSN)."""
    started = await asyncio.to_thread(_start, system, "ledger", CADRE_PG_DSN=_dsn(system, database="no_such_db"))
    assert started.returncode == 1, started.stderr
    assert "Traceback" not in started.stderr, started.stderr
    last = started.stderr.strip().splitlines()[-1]
    assert "refused role postgres the database no_such_db: database \"no_such_db\" does not exist (数据库拒绝连接)" \
        in last, last


async def _relay(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(ConnectionError):
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    writer.close()


async def test_an_unreachable_database_is_waited_for_at_start(system: System, tmp_path: Path) -> None:
    """Nothing answers on the DSN's port when the service starts; a relay to PostgreSQL opened there later is the
    database coming up: the service said it was unreachable, kept trying, and is ready once it answers."""
    port = free_port()
    spec = next(s for s in SERVICES if s.name == "audit")
    env = {**system.env_for("audit"), "CADRE_PG_READER_DSN": _dsn(system, "cadre_reader", port)}
    proc = ServiceProcess(spec, free_port(), env, tmp_path)
    pg_port = urlsplit(system.pg_dsn).port

    async def forward(client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        server_r, server_w = await asyncio.open_connection("127.0.0.1", pg_port)
        await asyncio.gather(_relay(client_r, server_w), _relay(server_r, client_w))

    try:
        await wait_until(lambda: asyncio.sleep(0, "is unreachable (数据库不可达)" in proc.log_tail(400)), timeout=30)
        await asyncio.sleep(1)
        assert proc.proc.poll() is None, proc.log_tail()
        relay = await asyncio.start_server(forward, "127.0.0.1", port)
        try:
            async def ready() -> bool:
                with contextlib.suppress(OSError):  # not listening until its pool is made
                    return (await call("GET", f"{proc.url}/readyz"))[0] == 200
                return False

            await wait_until(ready, timeout=30)
        finally:
            proc.stop()
            relay.close()
    finally:
        proc.stop()
    assert "Traceback" not in proc.log_tail(400), proc.log_tail()


async def test_the_ledgers_rebuild_is_tried_again_when_its_session_is_ended_not_when_cancelled(
        system: System, tmp_path: Path) -> None:
    """The background process of a ledger starting compares (and rebuilds) the read models under a lock; here the
    test holds it. Its session terminated (pg_terminate_backend, as by a server restart) is an outage: tried again.
    Its statement cancelled (57014, an operator's pg_cancel_backend) is not: logged as failed, not started over."""
    holder = await asyncpg.connect(system.pg_dsn)
    await holder.execute("SELECT pg_advisory_lock($1)", _OUTDATED_LOCK)
    spec = next(s for s in SERVICES if s.name == "ledger")
    proc = ServiceProcess(spec, free_port(), system.env_for("ledger"), tmp_path)

    async def waiting(other_than: int = 0) -> int | None:
        pid: int | None = await holder.fetchval(
            "SELECT pid FROM pg_stat_activity WHERE application_name = 'cadre-ledger-rebuild' "
            "AND wait_event_type = 'Lock' AND pid <> $1", other_than)
        return pid

    try:
        first = await wait_until(waiting, timeout=60)
        await holder.execute("SELECT pg_terminate_backend($1)", first)
        second = await wait_until(lambda: waiting(first), timeout=30)
        assert "cannot compare the read models' versions yet, retrying: ConnectionDoesNotExistError" in \
            proc.log_tail(400)
        await holder.execute("SELECT pg_cancel_backend($1)", second)
        await wait_until(lambda: asyncio.sleep(0, "(读模型重建失败): QueryCanceledError" in proc.log_tail(400)))
        await asyncio.sleep(2)
        assert await waiting() is None, "a cancelled rebuild is not started over"
        assert proc.proc.poll() is None, proc.log_tail()
    finally:
        await holder.close()
        proc.stop()


@pytest.mark.parametrize(("error", "retried"), [
    (asyncpg.ConnectionDoesNotExistError("closed"), True), (asyncpg.AdminShutdownError("57P01"), True),
    (asyncpg.DiskFullError("53100"), True), (asyncpg.OutOfMemoryError("53200"), True),
    (asyncpg.TooManyConnectionsError("53300"), True), (OSError("refused"), True),
    (asyncpg.QueryCanceledError("57014"), False), (asyncpg.InsufficientPrivilegeError("42501"), False),
    (asyncpg.InterfaceError("cannot perform operation: another operation is in progress"), False),
])
def test_which_failed_rebuilds_are_tried_again(error: BaseException, retried: bool) -> None:
    """`is_outage`, but for a cancelled statement (`services.ledger.background._retried`)."""
    assert _retried(error) is retried
