"""The health endpoints every service serves: `/livez` (restart me when failing) and `/readyz` (send me requests)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence

import orjson
from aiohttp import web

HealthCheck = Callable[[], Awaitable[str | None]]
"""Returns None when healthy, else a short reason."""
CHECK_TIMEOUT_S = 2.0
"""A check that takes longer fails with the time-out as its reason (a probe must answer within its own time-out)."""


async def _reasons(checks: Sequence[HealthCheck]) -> list[str]:
    reasons = []
    for check in checks:
        try:
            reason = await asyncio.wait_for(check(), CHECK_TIMEOUT_S)
        except Exception as exc:
            reason = f"{type(exc).__name__}: {exc}"
        if reason:
            reasons.append(reason)
    return reasons


def _answer(service: str, reasons: list[str], healthy: str, failing: str) -> web.Response:
    if reasons:
        return web.Response(body=orjson.dumps({"status": failing, "reasons": reasons}), status=503,
                            headers={"Retry-After": "2"}, content_type="application/json")
    return web.Response(body=orjson.dumps({"status": healthy, "service": service}), content_type="application/json")


def add_health_routes(app: web.Application, service: str, *, shutting_down: Callable[[], bool],
                      readiness: Sequence[HealthCheck], liveness: Sequence[HealthCheck]) -> None:
    """`/livez` fails on a `liveness` check: a state the process cannot leave without a restart (its NATS connection
    closed for good), so an orchestrator restarts it. `/readyz` fails on those, on a `readiness` check (a server it
    needs unreachable for now: it reconnects by itself) and while it shuts down."""

    async def livez(request: web.Request) -> web.Response:
        return _answer(service, await _reasons(liveness), "ok", "failing")

    async def readyz(request: web.Request) -> web.Response:
        reasons = ["shutting down"] if shutting_down() else []
        return _answer(service, reasons + await _reasons([*liveness, *readiness]), "ready", "unavailable")

    app.router.add_get("/livez", livez)
    app.router.add_get("/readyz", readyz)
