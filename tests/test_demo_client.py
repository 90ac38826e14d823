"""The demo loader's HTTP client: it waits out the per-principal rate limit instead of failing."""

from __future__ import annotations

import asyncio

import pytest
from aiohttp import web

from shared.demo import post


async def serve(statuses: list[int]) -> tuple[web.AppRunner, str, list[str]]:
    seen: list[str] = []

    async def handler(request: web.Request) -> web.Response:
        seen.append(request.headers["Authorization"])
        status = statuses.pop(0)
        if status == 429:
            return web.json_response({"status": 429}, status=429, headers={"Retry-After": "0"})
        return web.json_response({"ok": True}, status=status)

    app = web.Application()
    app.router.add_post("/x", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    return runner, f"http://127.0.0.1:{port}/x", seen


async def test_a_rate_limited_post_is_retried_after_retry_after() -> None:
    runner, url, seen = await serve([429, 429, 200])
    try:
        assert await asyncio.to_thread(post, url, {"a": 1}, "t") == {"ok": True}
        assert seen == ["Bearer t"] * 3
    finally:
        await runner.cleanup()


async def test_other_errors_and_endless_429s_are_raised_with_the_status() -> None:
    runner, url, seen = await serve([422, 429, 429])
    try:
        with pytest.raises(RuntimeError, match="422 from"):
            await asyncio.to_thread(post, url, {}, "t")
        with pytest.raises(RuntimeError, match="429 from"):
            await asyncio.to_thread(post, url, {}, "t", 2)
        assert len(seen) == 3
    finally:
        await runner.cleanup()
