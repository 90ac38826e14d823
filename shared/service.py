"""Wiring shared by the command services: connect, build the app, serve until SIGTERM."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import asyncpg
from aiohttp import web
from nats.aio.client import Client as NATS

from shared.bus import close, connect, ensure_stream
from shared.commands import CommandBus
from shared.db import READER_ROLE, WRITER_ROLE, create_pool, dsn_as
from shared.guard import guard_from_settings
from shared.health import HealthCheck
from shared.http import Api, create_app, serve
from shared.settings import Settings

log = logging.getLogger(__name__)


def nats_check(nc: NATS) -> HealthCheck:
    """Readiness: NATS connected (while it reconnects, the service is not ready)."""

    async def check() -> str | None:
        return None if nc.is_connected or nc.is_closed else "NATS disconnected"

    return check


def nats_alive(nc: NATS) -> HealthCheck:
    """Liveness: the NATS connection is not closed for good. nats-py gives up on it when the server ends it for a
    login it now refuses (its configuration reloaded), and nothing but a restart opens it again."""

    async def check() -> str | None:
        if nc.is_closed:
            return "NATS connection closed for good: restart the service (NATS 连接已永久关闭，须重启服务)"
        return None

    return check


def pool_check(pool: asyncpg.Pool, timeout: float) -> HealthCheck:
    """Readiness: PostgreSQL answers through the pool."""

    async def check() -> str | None:
        try:
            async with pool.acquire(timeout=timeout) as conn:
                await conn.fetchval("SELECT 1")
        except Exception as exc:
            return f"PostgreSQL: {type(exc).__name__}"
        return None

    return check


def reader_dsn(settings: Settings) -> str:
    """DSN of the read-only role the command services use (derived from CADRE_PG_DSN)."""
    return settings.pg_reader_dsn or dsn_as(settings.required("pg_dsn"), settings.pg_role_prefix + READER_ROLE)


def writer_dsn(settings: Settings) -> str:
    """DSN of the ledger's writer role (INSERT and SELECT on the ledger, the read models' tables)."""
    return settings.pg_writer_dsn or dsn_as(settings.required("pg_dsn"), settings.pg_role_prefix + WRITER_ROLE)


async def run_command_service(service: str, port: int, settings: Settings,
                              build_api: Callable[[CommandBus], Api], stop: asyncio.Event | None = None) -> None:
    """Connect to NATS and the ledger (read-only), then serve the service's API."""
    nc = await connect(settings.required("nats_url"), f"cadre-{service}", settings.nats_timeout_s)
    await ensure_stream(nc.jetstream(), settings.stream, settings.duplicate_window_s, settings.nats_timeout_s,
                        replicas=settings.stream_replicas, counties=settings.counties)
    pool = await create_pool(reader_dsn(settings), application=f"cadre-{service}",
                             min_size=settings.pg_pool_min, max_size=settings.pg_pool_max,
                             command_timeout=settings.pg_command_timeout_s)
    bus = CommandBus(service, settings, pool, nc)
    app: web.Application = create_app(service, build_api(bus), guard=guard_from_settings(settings), readiness=[
        nats_check(nc), pool_check(pool, settings.pg_acquire_timeout_s)], liveness=[nats_alive(nc)])
    try:
        await serve(app, settings.host, port, stop=stop)
    finally:
        await close(nc)
        await pool.close()
