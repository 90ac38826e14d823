"""Replay of a county's mix of events, on a stack of its own.

The main run's ledger holds one event type (`audit.completed`), which every read model but one ignores
and the one that reads it applies in SQL: a replay of it measures the fastest path there is. This step
records the demo county through every service's HTTP API (careers, postings and rotations, selections and
notices, assessments, audits, reports and inquiries: about thirty event types), clones those events onto
more cadres (new event ids, each clone's cadre id suffixed) until the ledger holds the wanted number, lets
the ledger take them in, stops every service and times the replay of all read models from position 0.
"""

from __future__ import annotations

import asyncio
import math
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import orjson

from bench.ingest import read_models_caught_up, wait_committed
from bench.integrity import PASSES, Replay, median_pass, replay
from bench.publisher import publish_all
from bench.stack import HARNESS, BenchStack, CpuMeter
from bench.workload import Event
from services.ledger.main import MIGRATIONS
from shared.db import migrate
from shared.demo import load_demo
from shared.envelope import CONTENT_TYPE, cadre_subject

SERVICES = ("ledger", "rotation", "assessment", "audit")


@dataclass
class MixedReplay:
    """The replay of a ledger holding the demo county's events `copies + 1` times over."""

    recorded: int
    """Events the demo recorded through the services' APIs."""
    types: int
    copies: int
    replay: Replay
    cpu: dict[str, float]
    """Cores per component while the replay ran (this process: the read models' Python)."""


_CLONES = uuid.UUID("5b0c52a1-7d1e-4c55-9a53-0f6c2f3b8e11")
_POINTERS = frozenset({"corrects", "revokes"})


def _clone_id(event_id: str, k: int) -> str:
    # derived, not random: a correction's k-th clone must point at its target's k-th clone
    return str(uuid.uuid5(_CLONES, f"{event_id}/{k}"))


def clones(originals: list[bytes], copies: int) -> Iterator[Event]:
    """`copies` clones of every event in `originals` (canonical envelopes): the k-th clone of an event is
    the same fact about cadre `<cadre>x<k>`, with an event id of its own (derived from the original's and k,
    so that a correction's clone corrects its target's clone).

    An event's clones follow one another, event after event, so every cloned career spreads over the whole
    ledger among the others, as a county's careers do over the years (not one copy of the county after
    another, which would keep each cadre's events within a few thousand positions).
    """
    envelopes = [orjson.loads(raw) for raw in originals]
    for envelope in envelopes:
        for k in range(1, copies + 1):
            clone = {**envelope, "id": _clone_id(envelope["id"], k), "subject": f"{envelope['subject']}x{k}"}
            if points_at := _POINTERS & envelope["data"].keys():  # a correction (更正/撤销): its clone's target
                clone["data"] = {**envelope["data"], **{key: _clone_id(envelope["data"][key], k) for key in points_at}}
            yield Event(cadre_subject(clone["county"], clone["subject"]),
                        orjson.dumps(clone, option=orjson.OPT_SORT_KEYS),
                        {"Content-Type": CONTENT_TYPE, "Nats-Msg-Id": clone["id"]})


async def mixed_replay(root: Path, events: int, rotation_cadres: int, audit_cadres: int,
                       timeout: float) -> MixedReplay:
    """Record the demo county on a fresh stack under `root`, clone it up to about `events` events, replay."""
    stack = BenchStack(root)
    await asyncio.to_thread(stack.start)
    try:
        await migrate(stack.pg_dsn, MIGRATIONS)
        for name in SERVICES:
            await asyncio.to_thread(stack.start_service, name)
        urls = {name: stack.url(name) for name in SERVICES if name != "ledger"}
        assert stack.stack is not None
        token = stack.stack.dev_token(["recorder"])
        await asyncio.to_thread(load_demo, urls, token, audit_cadres, rotation_cadres=rotation_cadres)
        conn = await stack.connect()
        try:
            originals = [bytes(r["canonical"]) for r in
                         await conn.fetch("SELECT canonical FROM ledger_events ORDER BY position")]
            copies = max(math.ceil(events / len(originals)) - 1, 0)
            _, _, last_seq = await publish_all(stack.nats_url, clones(originals, copies))
            await wait_committed(conn, last_seq, timeout)
            quarantined = await conn.fetchval("SELECT count(*) FROM quarantine")
            if quarantined:
                raise RuntimeError(f"{quarantined} cloned events were quarantined: the clones must be valid events")
            await read_models_caught_up(conn, timeout)
            for name in SERVICES:  # the replay has the machine to itself, as the main run's does
                await asyncio.to_thread(stack.stop_service, name)
            await conn.execute("VACUUM (ANALYZE)")
            types = int(await conn.fetchval("SELECT count(DISTINCT type) FROM ledger_events"))
        finally:
            await conn.close()
        meter = CpuMeter(stack)
        meter.start()
        began = time.perf_counter()
        replayed = await median_pass(PASSES, lambda: replay(stack.pg_dsn))
        cpu = meter.stop(time.perf_counter() - began)
        cpu["bench (the read models' Python)"] = cpu.pop(HARNESS, 0.0)  # this process only replays meanwhile
        return MixedReplay(len(originals), types, copies, replayed, cpu)
    finally:
        await asyncio.to_thread(stack.stop)
