"""The ledger's background work, run as a child process: the read models' projector and the access-trail filer.

The writer is one Python thread; a projector sharing its event loop took about a tenth of that
thread during ingest and, when it applied a large batch, held the loop while commits waited; filing
access records in batches did the same to reads. In a process of their own they use the second core
instead, and the ledger's loop only appends, acks and serves. The ledger supervises the child:
started with the ledger, restarted when it exits, stopped with it; the child stops by itself when
its parent is gone (a kill -9 of the ledger leaves no orphan). Projection steps serialise on
advisory locks and filing is idempotent (records keep their id), so a restarted or duplicated child
cannot apply a batch twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys

import asyncpg

from services.ledger.access_trail import AccessFiler
from services.ledger.backlog import Pacer, WriterBacklog, YieldPolicy
from services.ledger.projections import Projection, ProjectionRunner, default_projections
from services.ledger.rebuild import rebuild_outdated
from shared.bus import close, connect
from shared.collector import tune_collector
from shared.db import DRIVER_ERRORS, is_outage
from shared.logs import configure_logging
from shared.service import writer_dsn
from shared.settings import Settings, get_settings

log = logging.getLogger(__name__)
RESTART_AFTER_S = 1.0
STOP_GRACE_S = 10.0


async def supervise(stop: asyncio.Event) -> None:
    """Keep one background child running until `stop` is set, then stop it (SIGTERM, then SIGKILL)."""
    while not stop.is_set():
        child = await asyncio.create_subprocess_exec(sys.executable, "-m", __name__, str(os.getpid()))
        stopping = asyncio.create_task(stop.wait())
        exited = asyncio.create_task(child.wait())
        await asyncio.wait({stopping, exited}, return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        if exited.done():
            log.warning("the ledger's background process exited with %s; restarting", child.returncode)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), RESTART_AFTER_S)
            continue
        with contextlib.suppress(ProcessLookupError):
            child.terminate()
        try:
            await asyncio.wait_for(exited, STOP_GRACE_S)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                child.kill()
            await exited


async def _orphaned(stop: asyncio.Event, parent: int) -> None:
    while not stop.is_set():
        if os.getppid() != parent:
            log.warning("the ledger process is gone; its background process stops")
            stop.set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 1.0)


async def run_background(settings: Settings, parent: int) -> None:
    """Project every read model and file access records until SIGTERM or the exit of the process `parent`."""
    nats_url = settings.required("nats_url")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    watchdog = asyncio.create_task(_orphaned(stop, parent))
    nc = await connect(nats_url, "cadre-ledger-background", settings.nats_timeout_s)
    try:
        backlog = WriterBacklog(nc.jetstream(), settings.stream, settings.consumer, timeout=settings.nats_timeout_s)
        pacer = Pacer(YieldPolicy(settings.projection_yield_backlog, settings.projection_backlog_share), backlog)
        projections = default_projections()
        runner = ProjectionRunner(writer_dsn(settings), projections, pacer=pacer)
        await asyncio.gather(_current_then(runner, projections, writer_dsn(settings), stop),
                             AccessFiler(nc, writer_dsn(settings), settings.nats_timeout_s).run(stop))
    finally:
        await close(nc)
    await watchdog


def _retried(exc: BaseException) -> bool:
    """Whether a rebuild that failed with `exc` is tried again: when PostgreSQL is unavailable (`is_outage`: gone,
    restarting, a session terminated, too many connections, out of memory or disk), but not when its statement was
    cancelled (57014). Nothing in the ledger times a rebuild out, so a cancellation is an operator's
    (pg_cancel_backend) or a statement_timeout set for the writer role: tried again, the rebuild would start over,
    every time to the same end, and an operator could not stop it short of stopping the ledger."""
    return is_outage(exc) and not isinstance(exc, asyncpg.QueryCanceledError)


async def _current_then(runner: ProjectionRunner, projections: list[Projection], dsn: str,
                        stop: asyncio.Event) -> None:
    """Rebuild the read models whose rules changed since their rows were built, then keep them projecting.

    Retried while PostgreSQL is unavailable (`_retried`). A rebuild PostgreSQL refuses, or that is cancelled, is
    logged, and the runner starts all the same: it leaves a read model of another version alone (`catch_up`), so the
    others go on. Stopping cancels a rebuild in flight, which rolls back.
    """
    while not stop.is_set():
        rebuilding = asyncio.ensure_future(rebuild_outdated(dsn, projections))
        stopping = asyncio.ensure_future(stop.wait())
        await asyncio.wait({rebuilding, stopping}, return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        if not rebuilding.done():
            rebuilding.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await rebuilding
            return
        try:
            rebuilding.result()
            break
        except DRIVER_ERRORS as exc:
            if _retried(exc):
                log.warning("cannot compare the read models' versions yet, retrying: %s: %s", type(exc).__name__, exc)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), 1.0)
                continue
            log.error("rebuilding read models of changed rules failed; they are not projected until rebuilt "
                      "(python -m services.ledger.rebuild) (读模型重建失败): %s: %s", type(exc).__name__, exc)
            break
    await runner.run(stop)


def lower_priority(by: int) -> None:
    """Make this process `by` nicer (lower CPU priority); where that is refused (a sandbox that forbids
    setpriority), log it and go on at the priority it has."""
    try:
        os.nice(by)
    except OSError as exc:
        log.warning("the background process keeps the ledger's CPU priority (无法降低后台进程优先级): %s", exc)


def main() -> None:
    """Run the background work with settings from the environment; the ledger starts it with its own pid as
    the one argument (taken by the parent, since the parent may already be gone when the child starts)."""
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_json)
    # Background work yields the cores to the ledger's loop: a filing or projection round that runs beside a
    # read otherwise lengthens it (held 1,000,000-event stack: history and state p99 4.75-5.69 ms at the same
    # priority, 3.80-5.41 ms ten lower, eight alternations).
    lower_priority(settings.background_nice)
    tune_collector()
    asyncio.run(run_background(settings, int(sys.argv[1])))


if __name__ == "__main__":
    main()
