"""The demo loader's HTTP client: it waits out the per-principal rate limit instead of failing."""

from __future__ import annotations

import asyncio

import pytest
from aiohttp import web

from shared.demo import post
from tests.support import served


def app_answering(statuses: list[int]) -> tuple[web.Application, list[str]]:
    seen: list[str] = []

    async def handler(request: web.Request) -> web.Response:
        seen.append(request.headers["Authorization"])
        status = statuses.pop(0)
        if status == 429:
            return web.json_response({"status": 429}, status=429, headers={"Retry-After": "0"})
        return web.json_response({"ok": True}, status=status)

    app = web.Application()
    app.router.add_post("/x", handler)
    return app, seen


async def test_a_rate_limited_post_is_retried_after_retry_after() -> None:
    app, seen = app_answering([429, 429, 200])
    async with served(app) as base:
        assert await asyncio.to_thread(post, f"{base}/x", {"a": 1}, "t") == {"ok": True}
        assert seen == ["Bearer t"] * 3


async def test_other_errors_and_endless_429s_are_raised_with_the_status() -> None:
    app, seen = app_answering([422, 429, 429])
    async with served(app) as base:
        with pytest.raises(RuntimeError, match="422 from"):
            await asyncio.to_thread(post, f"{base}/x", {}, "t")
        with pytest.raises(RuntimeError, match="429 from"):
            await asyncio.to_thread(post, f"{base}/x", {}, "t", 2)
        assert len(seen) == 3
