"""Entry point of the rotation service: `python -m services.rotation.main`."""

from __future__ import annotations

import asyncio
import contextlib

from services.rotation.api import build_api
from services.rotation.persons import PersonStore
from services.rotation.scheduler import Scheduler
from shared.bus import close, connect, ensure_stream
from shared.clock import clock_from
from shared.commands import CommandBus
from shared.db import ROTATION_ROLE, create_pool, dsn_as
from shared.guard import guard_from_settings
from shared.http import create_app, serve
from shared.logs import configure_logging
from shared.service import nats_alive, nats_check, pool_check, reader_dsn
from shared.settings import Settings, get_settings


def person_dsn(settings: Settings) -> str:
    """DSN of the role that may read and write the erasable personal data (and nothing else)."""
    return settings.pg_rotation_dsn or dsn_as(settings.required("pg_dsn"), settings.pg_role_prefix + ROTATION_ROLE)


async def run_rotation(settings: Settings, stop: asyncio.Event | None = None) -> None:
    """Connect to NATS, the ledger (read-only) and the person table; serve; scan for due rotations."""
    nats_url = settings.required("nats_url")
    stop = stop or asyncio.Event()
    nc = await connect(nats_url, "cadre-rotation", settings.nats_timeout_s)
    await ensure_stream(nc.jetstream(), settings.stream, settings.duplicate_window_s, settings.nats_timeout_s,
                        replicas=settings.stream_replicas, counties=settings.counties)
    pool = await create_pool(reader_dsn(settings), application="cadre-rotation",
                             min_size=settings.pg_pool_min, max_size=settings.pg_pool_max,
                             command_timeout=settings.pg_command_timeout_s)
    person_pool = await create_pool(person_dsn(settings), application="cadre-rotation-personal",
                                    min_size=1, max_size=settings.pg_pool_max,
                                    command_timeout=settings.pg_command_timeout_s)
    bus = CommandBus("rotation", settings, pool, nc)
    clock = clock_from(settings)
    scheduler = Scheduler(bus, clock)
    persons = PersonStore(person_pool, settings.pg_acquire_timeout_s)
    app = create_app("rotation", build_api(bus, persons, clock, scheduler), guard=guard_from_settings(settings),
                     readiness=[
                         nats_check(nc), pool_check(pool, settings.pg_acquire_timeout_s),
                         pool_check(person_pool, settings.pg_acquire_timeout_s)], liveness=[nats_alive(nc)])
    tasks = []
    if settings.rotation_scan_interval_s > 0:
        tasks.append(asyncio.create_task(scheduler.run(settings.rotation_scan_interval_s, stop)))
    try:
        await serve(app, settings.host, settings.rotation_port, stop=stop)
    finally:
        stop.set()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                await asyncio.wait_for(task, 10)
        await close(nc)
        await pool.close()
        await person_pool.close()


def main() -> None:
    """Run the rotation service with settings from the environment."""
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_json)
    asyncio.run(run_rotation(settings))


if __name__ == "__main__":
    main()
