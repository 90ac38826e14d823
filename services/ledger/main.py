"""Entry point of the ledger: migrate, elect a writer, serve reads; read models and access filing run in a child."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from pathlib import Path

from prometheus_client import CollectorRegistry, Gauge

from services.ledger.api import build_api
from services.ledger.auditor_page import add_auditor_page
from services.ledger.background import supervise
from services.ledger.checkpointing import CheckpointPolicy, origin_of_log, same_origin
from services.ledger.flow_control import FlowControlWatch, answers_flow_control
from services.ledger.monitor import LedgerMonitor, batch_metrics
from services.ledger.proofs import Prover
from services.ledger.tree import StoredCheckpoint
from services.ledger.writer import LedgerWriter
from shared.access import ACCESS_STREAM, AccessTrail, access_stream_config
from shared.bus import (
    CHECKPOINT_STREAM,
    CHECKPOINT_SUBJECT,
    checkpoint_stream_config,
    close,
    connect,
    ensure_stream,
    publish_raw,
)
from shared.collector import tune_collector
from shared.db import acquire, create_pool, migrate
from shared.guard import guard_from_settings
from shared.http import create_app, serve
from shared.keys import KeyFileError, load_signer, load_verifier
from shared.logs import configure_logging
from shared.service import nats_alive, nats_check, pool_check, reader_dsn, writer_dsn
from shared.settings import Settings, get_settings
from shared.signednote import Signer, Verifier

MIGRATIONS = Path(__file__).parent / "migrations"
STOP_GRACE_S = 10.0
"""How long a shutdown waits for the writer (a commit in flight finishes and is acked) and the other tasks to stop
before it cancels them: a writer whose PostgreSQL session was cut on the way would otherwise wait for it as long as
CADRE_WRITER_PG_TIMEOUT_S (30 s by default) and hold the shutdown that long."""
CANCELLED_WITHIN_S = 5.0
"""How long a cancelled task may take to end (the writer ends its sessions without asking PostgreSQL anything)."""
log = logging.getLogger("services.ledger.main")  # by name: run as __main__


def witness_keys(keys: list[Verifier], log: Verifier) -> list[Verifier]:
    """The configured witness keys (CADRE_WITNESS_KEYS), or SystemExit naming what is wrong with them.

    A witness is known by its key name, so two keys of one name would leave one of them unused, and the
    log's own key as a witness would let the ledger vouch for itself (and makes every cosigned note
    carry two signatures of one key name).
    """
    names = [key.name for key in keys]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise SystemExit(f"CADRE_WITNESS_KEYS lists witness {', '.join(map(repr, twice))} more than once: one key "
                         "per witness name (每个见证方只配置一个公钥)")
    if log.name in names:
        raise SystemExit(f"CADRE_WITNESS_KEYS lists {log.name!r}, the name of the ledger's own checkpoint key: a "
                         "witness cosigns with a key of its own (见证方须使用自己的密钥, `cadre-ledger keygen "
                         "--cosignature NAME`)")
    return keys


def checkpoint_keys(settings: Settings) -> tuple[Signer, list[Verifier]]:
    """The key the ledger signs checkpoints with and the witnesses' keys, or SystemExit naming the variable at fault."""
    if settings.checkpoint_key_file is None:
        raise SystemExit("CADRE_CHECKPOINT_KEY_FILE is not set: the ledger signs its checkpoints with a key kept "
                         "outside the database (make one with `cadre-ledger keygen`)")
    try:
        signer = load_signer(settings.checkpoint_key_file)
    except KeyFileError as exc:
        raise SystemExit(f"CADRE_CHECKPOINT_KEY_FILE: {exc}") from None
    try:
        verifiers = [load_verifier(key) for key in settings.witness_keys]
    except KeyFileError as exc:
        raise SystemExit(f"CADRE_WITNESS_KEYS: {exc}") from None
    return signer, witness_keys(verifiers, signer.verifier())


async def run_ledger(settings: Settings, stop: asyncio.Event | None = None) -> None:
    """Run the ledger service until SIGTERM (or `stop`)."""
    nats_url, pg_dsn = settings.required("nats_url"), settings.required("pg_dsn")
    stop = stop or asyncio.Event()
    signer, witnesses = checkpoint_keys(settings)
    guard = guard_from_settings(settings)
    await migrate(pg_dsn, MIGRATIONS, settings.pg_role_prefix)
    nc = await connect(nats_url, "cadre-ledger", settings.nats_timeout_s)
    await answers_flow_control(nc, settings)
    await ensure_stream(nc.jetstream(), settings.stream, settings.duplicate_window_s, settings.nats_timeout_s,
                        replicas=settings.stream_replicas, counties=settings.counties)
    pool = await create_pool(reader_dsn(settings), application="cadre-ledger-api",
                             min_size=settings.pg_pool_min, max_size=settings.pg_pool_max,
                             command_timeout=settings.pg_command_timeout_s)
    async with acquire(pool, settings.pg_acquire_timeout_s) as conn:
        same_origin(settings.log_origin, await origin_of_log(conn))
    js = nc.jetstream()
    await ensure_stream(js, CHECKPOINT_STREAM, 120, settings.nats_timeout_s,
                        config=checkpoint_stream_config(settings.stream_replicas))

    async def publish_checkpoint(cp: StoredCheckpoint) -> None:
        await publish_raw(js, CHECKPOINT_STREAM, CHECKPOINT_SUBJECT, cp.note.encode(),
                          {"Nats-Msg-Id": f"checkpoint-{cp.id}", "Content-Type": "text/plain; charset=utf-8"},
                          settings.nats_timeout_s)

    policy = CheckpointPolicy(signer, settings.log_origin, settings.checkpoint_every_n, settings.checkpoint_every_s,
                              publish_checkpoint)
    registry = CollectorRegistry()
    monitor = LedgerMonitor(pool, js, settings.stream, settings.consumer, settings.pg_acquire_timeout_s,
                            witnesses=[w.name for w in witnesses])
    monitor.register(registry)
    flow_control = FlowControlWatch(nc, settings)
    flow_control.register(registry)
    writer = LedgerWriter(dsn=writer_dsn(settings), nc=nc, stream=settings.stream, consumer=settings.consumer,
                          batch_size=settings.batch_size,
                          backlog_batch_size=settings.backlog_batch_size, linger=settings.batch_linger_ms / 1000,
                          checkpoints=policy, pg_timeout=settings.writer_pg_timeout_s,
                          exit_after_commits=settings.fault_exit_after_commits, on_batch=batch_metrics(registry))
    status = writer.status
    Gauge("ledger_position", "Last committed ledger position", registry=registry).set_function(
        lambda: status.last_position)
    Gauge("ledger_stream_seq", "Last committed stream sequence", registry=registry).set_function(
        lambda: status.last_stream_seq)
    Gauge("ledger_appended_total", "Events appended by this process", registry=registry).set_function(
        lambda: status.appended)
    Gauge("ledger_quarantined_total", "Messages quarantined by this process", registry=registry).set_function(
        lambda: status.quarantined)
    Gauge("ledger_rechecked_batches_total", "Batches read again because they held an event id already stored "
          "(late duplicates)", registry=registry).set_function(lambda: status.rechecked)
    Gauge("ledger_is_writer", "1 when this process is the elected writer", registry=registry).set_function(
        lambda: int(status.is_leader))
    prover = Prover(pool, writer_dsn(settings), signer, settings.log_origin, settings.pg_acquire_timeout_s,
                    witnesses=witnesses, counties=settings.counties)
    await ensure_stream(js, ACCESS_STREAM, 120, settings.nats_timeout_s,
                        config=access_stream_config(settings.stream_replicas))
    trail = AccessTrail(nc, settings.nats_timeout_s)
    app = create_app("ledger", build_api(pool, settings, prover, trail), guard=guard, registry=registry,
                     readiness=[nats_check(nc), pool_check(pool, settings.pg_acquire_timeout_s),
                                flow_control.readiness], liveness=[nats_alive(nc)])
    add_auditor_page(app)
    tasks = [asyncio.create_task(writer.run(stop), name="writer"),
             asyncio.create_task(supervise(stop), name="background process"),
             asyncio.create_task(monitor.run(stop), name="monitor"),
             asyncio.create_task(flow_control.run(stop), name="flow control watch")]
    try:
        await serve(app, settings.host, settings.ledger_port, stop=stop)
    finally:
        stop.set()
        await stopped(tasks, STOP_GRACE_S)
        await close(nc)
        await pool.close()


async def stopped(tasks: Sequence[asyncio.Task[None]], grace: float) -> None:
    """Wait up to `grace` seconds for `tasks` (`stop` is set), then cancel those still running; every outcome is
    logged as one line, never raised, so that the shutdown goes on to close NATS and the pool."""
    _, running = await asyncio.wait(tasks, timeout=grace)
    for task in running:
        log.warning("the ledger's %s did not stop within %g s of the shutdown: cancelled, its PostgreSQL sessions "
                    "ended without waiting for them (停止超时，已取消)", task.get_name(), grace)
        task.cancel()
    if running:
        _, lingering = await asyncio.wait(running, timeout=CANCELLED_WITHIN_S)
        for task in lingering:
            log.error("the ledger's %s did not end within %g s of its cancellation; exiting without it",
                      task.get_name(), CANCELLED_WITHIN_S)
    for task in tasks:
        if task.done() and not task.cancelled() and (exc := task.exception()) is not None:
            log.error("the ledger's %s failed: %s: %s", task.get_name(), type(exc).__name__, exc, exc_info=exc)


def main() -> None:
    """Run the ledger with settings from the environment."""
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_json)
    tune_collector()
    asyncio.run(run_ledger(settings))


if __name__ == "__main__":
    main()
