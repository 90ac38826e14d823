"""The engines' ceiling on this machine: raw JetStream publish and consume, raw PostgreSQL COPY."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime

import asyncpg
import nats.errors
import nats.js.errors
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, StorageType, StreamConfig

from bench.publisher import publish_all
from bench.workload import Event, connect

RAW_STREAM = "BENCHRAW"
RAW_PAYLOAD = 300
COPY_BATCH = 1000


async def _raw_stream(js: JetStreamContext) -> None:
    with contextlib.suppress(nats.js.errors.NotFoundError):
        await js.delete_stream(RAW_STREAM)
    await js.add_stream(StreamConfig(name=RAW_STREAM, subjects=["benchraw.>"], storage=StorageType.FILE,
                                     duplicate_window=120))


def _raw_events(count: int) -> Iterator[Event]:
    payload = os.urandom(RAW_PAYLOAD // 2).hex().encode()
    return (Event(f"benchraw.{i % 1000}", payload, {"Nats-Msg-Id": str(uuid.uuid4())}) for i in range(count))


async def raw_publish(nats_url: str, count: int) -> float:
    """Acknowledged publish of `count` 300-byte messages with a de-duplication id (as events carry), events/s,
    by nats-py's `publish_async` (a future per message): the ceiling as issue 8 defines it."""
    nc, js = await connect(nats_url)
    try:
        await _raw_stream(js)
        started = time.perf_counter()
        futures = [await js.publish_async(e.subject, e.payload, headers=e.headers) for e in _raw_events(count)]
        await asyncio.wait_for(js.publish_async_completed(), 60)
        elapsed = time.perf_counter() - started
        if failed := [f.exception() for f in futures if f.exception() is not None]:
            raise RuntimeError(f"{len(failed)} publishes were not acknowledged: {failed[0]!r}")
        return count / elapsed
    finally:
        await nc.close()


async def raw_publish_inbox(nats_url: str, count: int) -> float:
    """The same by the harness's publisher (`bench.publisher`: a reply subject per message), events/s."""
    nc, js = await connect(nats_url)
    try:
        await _raw_stream(js)
    finally:
        await nc.close()
    n, seconds, _ = await publish_all(nats_url, _raw_events(count))
    return n / seconds


async def raw_fetch(nats_url: str, count: int, batch: int = 1000) -> float:
    """nats-py's pull `fetch` of `batch` messages, acking each batch (AckPolicy.ALL), msg/s."""
    nc, js = await connect(nats_url)
    try:
        await js.add_consumer(RAW_STREAM, ConsumerConfig(durable_name="bench_fetch", ack_policy=AckPolicy.ALL,
                                                         max_ack_pending=-1))
        sub = await js.pull_subscribe_bind("bench_fetch", RAW_STREAM)
        got = 0
        started = time.perf_counter()
        while got < count:
            msgs = await sub.fetch(min(batch, count - got), timeout=5)
            got += len(msgs)
            await msgs[-1].ack()
        elapsed = time.perf_counter() - started
        await sub.unsubscribe()
        return got / elapsed
    finally:
        await nc.close()


async def raw_ordered(nats_url: str, count: int) -> float:
    """nats-py's ordered push consumer (no acks, flow control), msg/s: the client's receive ceiling."""
    nc, js = await connect(nats_url)
    try:
        done = asyncio.Event()
        got = 0

        async def on_msg(msg: Msg) -> None:
            nonlocal got
            got += 1
            if got >= count:
                done.set()

        started = time.perf_counter()
        sub = await js.subscribe("benchraw.>", cb=on_msg, ordered_consumer=True, stream=RAW_STREAM)
        await asyncio.wait_for(done.wait(), 120)
        elapsed = time.perf_counter() - started
        await sub.unsubscribe()
        return got / elapsed
    finally:
        await nc.close()


_SHAPE = """position bigint NOT NULL, stream_seq bigint NOT NULL, event_id uuid NOT NULL, cadre_id text NOT NULL,
            county char(6) NOT NULL, type text NOT NULL, occurred_on date NOT NULL, recorded_at timestamptz NOT NULL,
            ruleset text NOT NULL, cadre_version integer NOT NULL, prev_hash bytea, leaf_hash bytea NOT NULL,
            canonical bytea NOT NULL, committed_at timestamptz NOT NULL DEFAULT now()"""
_COLUMNS = ("position", "stream_seq", "event_id", "cadre_id", "county", "type", "occurred_on", "recorded_at",
            "ruleset", "cadre_version", "prev_hash", "leaf_hash", "canonical")


async def raw_copy(conn: asyncpg.Connection, payloads: list[bytes], indexed: bool) -> float:
    """Binary COPY of ledger-shaped rows, 1000 per transaction (the writer's batch), rows/s.

    `indexed`: into a copy of `ledger_events` with all its constraints and indexes; else into a
    table of the same columns without any.
    """
    await conn.execute("DROP TABLE IF EXISTS bench_copy")
    if indexed:
        await conn.execute("CREATE TABLE bench_copy (LIKE ledger_events INCLUDING ALL)")
    else:
        await conn.execute(f"CREATE TABLE bench_copy ({_SHAPE})")
    now = datetime.now(UTC)
    rows = [(i + 1, i + 1, uuid.uuid4(), f"C{i % 1000}", "431021", "audit.completed", date(2020, 1, 1), now,
             "431021@2008.1", i // 1000 + 1, None if i < 1000 else b"\x01" * 32,
             hashlib.sha256(b"\x00" + p).digest(), p) for i, p in enumerate(payloads)]
    started = time.perf_counter()
    for i in range(0, len(rows), COPY_BATCH):
        async with conn.transaction():
            await conn.copy_records_to_table("bench_copy", columns=_COLUMNS, records=rows[i:i + COPY_BATCH])
    elapsed = time.perf_counter() - started
    await conn.execute("DROP TABLE bench_copy")
    return len(rows) / elapsed


async def delete_raw_stream(nats_url: str) -> None:
    """Free the raw stream's disk before the ledger's own runs."""
    nc, js = await connect(nats_url)
    try:
        with contextlib.suppress(nats.js.errors.NotFoundError, nats.errors.TimeoutError):
            await js.delete_stream(RAW_STREAM)
    finally:
        await nc.close()
