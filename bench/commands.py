"""The command path: HTTP command -> load the cadre from the ledger -> decide -> publish, one service process."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

import aiohttp
import asyncpg

from bench.ingest import percentile, wait_committed
from bench.publisher import publish_all
from bench.workload import COUNTY, Event, registration
from shared.bus import event_headers

_COMPLETE = {"county": COUNTY, "occurred_on": "2024-06-30", "audit_type": "in_office", "report_number": "R-1",
             "evaluation": "good", "findings": []}
# What must be recorded before an audit can complete (the audit lifecycle of shared/events/audit.py).
_LIFECYCLE: list[tuple[str, dict[str, Any]]] = [
    ("start", {"county": COUNTY, "occurred_on": "2024-06-03", "audit_type": "in_office", "period_from": "2023-01-01",
               "period_to": "2023-12-31", "auditing_body": "桂阳县审计局"}),
    ("opinion-request", {"county": COUNTY, "occurred_on": "2024-06-04"}),
    ("opinion", {"county": COUNTY, "occurred_on": "2024-06-05", "agrees": True}),
]


@dataclass
class CommandPath:
    """POST /v1/audits/{id}/complete at a fixed concurrency."""

    requests: int
    concurrency: int
    per_s: float
    p50: float
    p99: float
    prepared_with: str


async def _post(session: aiohttp.ClientSession, url: str, body: dict[str, Any]) -> tuple[int, Any]:
    async with session.post(url, json=body) as resp:
        return resp.status, await resp.json(content_type=None)


async def register(nats_url: str, conn: asyncpg.Connection, cadres: list[str]) -> None:
    """Register every cadre, as the rotation service would (commands are only for registered cadres): their
    `cadre.registered` events published straight to the stream, and committed by the ledger."""
    events = [registration(cadre) for cadre in cadres]
    _, _, last = await publish_all(nats_url, (Event(e.nats_subject, e.canonical(), event_headers(e, None))
                                              for e in events))
    await wait_committed(conn, last, 120)


async def _prepare(session: aiohttp.ClientSession, base: str, cadres: list[str], concurrency: int) -> str:
    """Bring every (registered) cadre's audit A1 to where it may complete; returns what that took."""
    status, _ = await _post(session, f"{base}/v1/audits/A0/complete", {**_COMPLETE, "cadre_id": cadres[0]})
    if status == 202:
        return "registration (nothing else: complete needs no earlier step)"
    gate = asyncio.Semaphore(concurrency)

    async def lifecycle(cadre: str) -> None:
        async with gate:
            for step, step_body in _LIFECYCLE:
                status, answer = await _post(session, f"{base}/v1/audits/A1/{step}?wait=committed",
                                              {**step_body, "cadre_id": cadre})
                if status != 202:
                    raise RuntimeError(f"preparing {cadre}: {step} answered {status}: {answer}")

    await asyncio.gather(*(lifecycle(c) for c in cadres))
    return "registration, start, opinion-request, opinion (untimed, before the run)"


async def command_path(base: str, auth: dict[str, str], requests: int, concurrency: int, run_id: str,
                       nats_url: str, conn: asyncpg.Connection) -> CommandPath:
    """Complete one audit per cadre, `concurrency` requests in flight; every answer must be 202."""
    cadres = [f"CMD{run_id}x{i}" for i in range(requests)]
    await register(nats_url, conn, cadres)
    times: list[float] = []
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector, headers=auth) as session:
        prepared = await _prepare(session, base, cadres, concurrency)
        queue = list(reversed(cadres))

        async def worker() -> None:
            while queue:
                cadre = queue.pop()
                t0 = time.perf_counter()
                status, answer = await _post(session, f"{base}/v1/audits/A1/complete", {**_COMPLETE,
                                                                                       "cadre_id": cadre})
                if status != 202:
                    raise RuntimeError(f"complete for {cadre} answered {status}: {answer}")
                times.append((time.perf_counter() - t0) * 1000)

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - began
    return CommandPath(requests, concurrency, requests / elapsed, percentile(times, 0.5), percentile(times, 0.99),
                       prepared)
