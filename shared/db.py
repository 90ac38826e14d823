"""PostgreSQL adapter: pools with acquire timeouts, plain-SQL migrations applied in order."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit, urlunsplit

import asyncpg

log = logging.getLogger(__name__)
T = TypeVar("T")

MIGRATION_LOCK = 0x6361_6472_6501  # advisory lock key: one migrator at a time
WRITER_ROLE = "cadre_writer"
READER_ROLE = "cadre_reader"
ROTATION_ROLE = "cadre_rotation"
AUDITOR_ROLE = "cadre_auditor"
# The roles the migrations name: roles belong to a PostgreSQL cluster, not to a database, so partitions (分区)
# sharing a cluster each give theirs a prefix (Settings.pg_role_prefix) that the migrations are applied with.
_ROLE_NAMES = re.compile(rf"\b({'|'.join((WRITER_ROLE, READER_ROLE, ROTATION_ROLE, AUDITOR_ROLE))})\b")


def with_role_prefix(sql: str, prefix: str) -> str:
    """`sql` with each of the ledger's role names given `prefix` (unchanged when it is empty)."""
    return _ROLE_NAMES.sub(lambda m: prefix + m[1], sql) if prefix else sql


class DatabaseUnavailable(RuntimeError):
    """PostgreSQL did not answer or no pooled connection was free in time: the HTTP layer answers 503 for it
    (`shared.http`), as for any dependency that is down, not 500 as for a fault of ours."""


OUTAGE_ERRORS = (OSError, TimeoutError, asyncpg.PostgresConnectionError, asyncpg.AdminShutdownError,
                 asyncpg.CrashShutdownError, asyncpg.CannotConnectNowError, asyncpg.IdleSessionTimeoutError,
                 asyncpg.QueryCanceledError, asyncpg.InsufficientResourcesError)
"""What PostgreSQL raises when it is gone, going or overwhelmed rather than the statement wrong: no connection (refused,
reset: OSError), no answer within the command or acquire timeout (TimeoutError; a block's TimeoutError is
PostgreSQL's, as `shared.bus` raises NATS's as BusUnavailable), the session closed under a statement (a terminated
backend, a server stopping: ConnectionDoesNotExistError and the rest of class 08), a server shutting down, crashed or
starting up (57P01-57P03), a session ended as idle (57P05), a statement cancelled by `statement_timeout` or an
operator (57014, as the command timeout is), and too many connections, memory or disk (class 53). Waiting may end
each of them, so a client is told 503 and when to retry."""
DRIVER_ERRORS = (asyncpg.PostgresError, asyncpg.InterfaceError)
"""Everything asyncpg raises of its own: what the HTTP layer sorts with `is_outage` when it reaches it raw."""
_CLOSED = ("connection is closed", "pool is closing", "pool is closed")
"""asyncpg's InterfaceError messages for a session already lost (a backend terminated while the connection was idle)
or a pool closed by a shutdown; its other InterfaceErrors are misuse (an operation already in progress, a value it
cannot encode)."""


def is_outage(exc: BaseException) -> bool:
    """Whether `exc`, met while using PostgreSQL, means the database is unavailable (503 with Retry-After: retry) rather
    than that it refused what was asked: a missing privilege (42501), a table or column a migration did not create
    (42P01, 42703), a syntax error (42601), a wrong password or role. Those are deployment or programming faults that
    no retry mends: they stay what they are and reach the HTTP layer as a 500 logged with the cause (`shared.http`).
    The one classification of database errors, for every route (`acquire`, `session`, the HTTP middleware)."""
    if isinstance(exc, asyncpg.InterfaceError):
        return str(exc).endswith(_CLOSED)
    return isinstance(exc, OUTAGE_ERRORS)


def dsn_as(dsn: str, role: str) -> str:
    """The same DSN with another user name (how the dev stack derives the service roles' DSNs)."""
    parts = urlsplit(dsn)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, f"{role}@{host}", parts.path, parts.query, parts.fragment))


def named(application: str) -> dict[str, str]:
    """Server settings that name a connection (`application_name`, shown in pg_stat_activity and the server's
    logs), so that an operator, or the benchmark, can tell the ledger's writer from its read models."""
    return {"application_name": application}


class DatabaseRefused(SystemExit):
    """PostgreSQL answered and refused the connection itself: a wrong password, a role or database that does not
    exist, a role without CONNECT. A configuration fault that no retry mends, so a service met with it at start-up
    ends (status 1) with this one line, as for a setting that is missing, rather than wait for a fix that only a
    changed DSN brings."""


START_RETRY_S = (0.5, 5.0)
"""The first and the longest wait between attempts to reach PostgreSQL at start-up (doubling in between)."""


def _where(dsn: str) -> tuple[str, str, str]:
    """The role, server and database a DSN names, for messages (never its password)."""
    parts = urlsplit(dsn)
    server = f"{parts.hostname or 'localhost'}:{parts.port or 5432}"
    return parts.username or "(default)", server, parts.path.lstrip("/") or "(default)"


def refused(exc: asyncpg.PostgresError, dsn: str) -> DatabaseRefused:
    """The one line that says what PostgreSQL refused (`DatabaseRefused`) and which DSN to correct."""
    role, server, database = _where(dsn)
    if isinstance(exc, asyncpg.InvalidAuthorizationSpecificationError):  # class 28: a password, a role, pg_hba.conf
        what = f"PostgreSQL at {server} refused the login of role {role}: {exc} (数据库拒绝登录)"
    else:
        what = f"PostgreSQL at {server} refused role {role} the database {database}: {exc} (数据库拒绝连接)"
    return DatabaseRefused(f"{what}; correct the role, password or database in the DSN (CADRE_PG_DSN, or "
                           "CADRE_PG_READER_DSN / CADRE_PG_WRITER_DSN / CADRE_PG_ROTATION_DSN where set)")


async def connected(dsn: str, connect: Callable[[], Awaitable[T]]) -> T:
    """`connect()`, at start-up: retried while PostgreSQL is unreachable (`is_outage`), with a warning per attempt,
    as a service waits for NATS at start (`shared.bus.connect`), so that a database that comes up after the service,
    or is restarted as it starts, is waited for; DatabaseRefused when PostgreSQL refuses the connection."""
    delay, longest = START_RETRY_S
    while True:
        try:
            return await connect()
        except asyncpg.PostgresError as exc:
            if not is_outage(exc):
                raise refused(exc, dsn) from None
            cause: Exception = exc
        except Exception as exc:
            if not is_outage(exc):
                raise
            cause = exc
        role, server, database = _where(dsn)
        log.warning("PostgreSQL at %s is unreachable (数据库不可达); database %s as role %s, trying again in %g s: "
                    "%s: %s", server, database, role, delay, type(cause).__name__, cause)
        await asyncio.sleep(delay)
        delay = min(2 * delay, longest)


async def create_pool(dsn: str, *, application: str, min_size: int = 1, max_size: int = 10,
                      command_timeout: float = 30.0, connect_timeout: float = 5.0) -> asyncpg.Pool:
    """A pool of connections named `application`, made at start-up (`connected`: waits while PostgreSQL is
    unreachable, DatabaseRefused when it refuses the DSN)."""
    pool = await connected(dsn, lambda: asyncpg.create_pool(
        dsn, min_size=min_size, max_size=max_size, reset=_no_session_reset, command_timeout=command_timeout,
        timeout=connect_timeout, server_settings=named(application)))
    assert pool is not None
    return pool


async def _no_session_reset(conn: asyncpg.Connection) -> None:
    """Skip asyncpg's default reset query on release (UNLISTEN, RESET ALL, CLOSE ALL, advisory unlock).

    That query is one more round trip on every release, which each read waits for. asyncpg still rolls
    back a transaction left open and drops listeners before calling this; pooled connections here never
    keep other session state (SET, session-level locks, cursors outside a transaction).
    """


@asynccontextmanager
async def acquire(pool: asyncpg.Pool, timeout: float) -> AsyncIterator[asyncpg.Connection]:
    """A pooled connection within `timeout` seconds, or DatabaseUnavailable; so is the session lost while the block
    uses it. Only an outage (`is_outage`) becomes DatabaseUnavailable: a statement PostgreSQL refuses, or a connection
    it refuses for a wrong password, is raised as it is."""
    with _outage_as(lambda exc: DatabaseUnavailable(f"no database connection: {type(exc).__name__} {exc}")):
        conn = await pool.acquire(timeout=timeout)
    try:
        with _outage_as(_lost):
            yield conn
    finally:
        await pool.release(conn)


@asynccontextmanager
async def session(dsn: str, *, application: str, timeout: float) -> AsyncIterator[asyncpg.Connection]:
    """A connection of its own named `application` (a role no pool serves), closed after the block: connected within
    `timeout` seconds, else DatabaseUnavailable, as is the session lost while the block uses it."""
    with _outage_as(lambda exc: DatabaseUnavailable(f"cannot connect to PostgreSQL: {type(exc).__name__} {exc}")):
        conn: asyncpg.Connection = await asyncpg.connect(dsn, timeout=timeout, server_settings=named(application))
    try:
        with _outage_as(_lost):
            yield conn
    finally:
        await conn.close()


@contextmanager
def _outage_as(unavailable: Callable[[Exception], DatabaseUnavailable]) -> Iterator[None]:
    """An outage (`is_outage`) met in the block raised as `unavailable(exc)`; anything else as it is."""
    try:
        yield
    except Exception as exc:
        if is_outage(exc):
            raise unavailable(exc) from exc
        raise


def _lost(exc: Exception) -> DatabaseUnavailable:
    if isinstance(exc, TimeoutError):
        return DatabaseUnavailable("PostgreSQL did not answer within the command timeout")
    return DatabaseUnavailable(f"database session lost: {type(exc).__name__} {exc}")


@dataclass(frozen=True)
class Migration:
    """One `NNN_name.sql` file."""

    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        """SHA-256 of the file: an applied migration must never change."""
        return hashlib.sha256(self.sql.encode()).hexdigest()


_NAME = re.compile(r"^(\d{3,})_([a-z0-9_]+)\.sql$")


def load_migrations(directory: Path) -> list[Migration]:
    """Migrations in version order; a malformed file name is an error, not a silent skip."""
    migrations = []
    for path in sorted(directory.glob("*.sql")):
        match = _NAME.match(path.name)
        if not match:
            raise ValueError(f"migration file name must look like 001_name.sql: {path.name}")
        migrations.append(Migration(int(match[1]), match[2], path.read_text()))
    versions = [m.version for m in migrations]
    if len(set(versions)) != len(versions):
        raise ValueError(f"duplicate migration versions in {directory}")
    return migrations


async def migrate(dsn: str, directory: Path, role_prefix: str = "") -> list[int]:
    """Apply pending migrations in order, each in its own transaction; returns versions applied.

    The roles they create and grant to carry `role_prefix` (`with_role_prefix`); the checksum that keeps an applied
    migration from changing is the file's. Connects as a service starts (`connected`)."""
    conn: asyncpg.Connection = await connected(dsn, lambda: asyncpg.connect(dsn))
    applied_now: list[int] = []
    try:
        await conn.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK)
        await conn.execute(
            """CREATE TABLE IF NOT EXISTS schema_migrations (
                   version int PRIMARY KEY, name text NOT NULL, checksum text NOT NULL,
                   applied_at timestamptz NOT NULL DEFAULT now())""")
        rows = await conn.fetch("SELECT version, checksum FROM schema_migrations")
        done = {r["version"]: r["checksum"] for r in rows}
        for m in load_migrations(directory):
            if m.version in done:
                if done[m.version] != m.checksum:
                    raise RuntimeError(f"migration {m.version}_{m.name} changed after it was applied")
                continue
            async with conn.transaction():
                await conn.execute(with_role_prefix(m.sql, role_prefix))
                await conn.execute("INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                                   m.version, m.name, m.checksum)
            applied_now.append(m.version)
            log.info("migration applied", extra={"version": m.version, "migration": m.name})
    finally:
        try:
            await conn.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK)
        finally:
            await conn.close()
    return applied_now
