"""The harness's lean HTTP client reads aiohttp's answers whole, over one kept-alive connection."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from bench.http_client import HttpConnection, HttpError
from tests.support import served

BIG = {"events": [{"position": i, "event": "x" * 900} for i in range(100)]}  # about 96 KB, as a history page


@pytest.fixture
async def server() -> AsyncIterator[tuple[str, list[tuple[str, str, str | None, int]]]]:
    """An aiohttp server that notes each request's method, path, token and client port."""
    seen: list[tuple[str, str, str | None, int]] = []

    def note(request: web.Request) -> None:
        peer = request.transport.get_extra_info("peername") if request.transport else None
        seen.append((request.method, request.path_qs, request.headers.get("Authorization"), peer[1] if peer else 0))

    async def big(request: web.Request) -> web.Response:
        note(request)
        return web.json_response(BIG)

    async def missing(request: web.Request) -> web.Response:
        note(request)
        return web.json_response({"title": "not found"}, status=404, content_type="application/problem+json")

    async def created(request: web.Request) -> web.Response:
        note(request)
        return web.json_response({"size": 3}, status=201)

    async def streamed(request: web.Request) -> web.StreamResponse:
        note(request)
        response = web.StreamResponse()
        response.enable_chunked_encoding()
        await response.prepare(request)
        await response.write(b"{}")
        await response.write_eof()
        return response

    app = web.Application()
    app.router.add_get("/big", big)
    app.router.add_get("/missing", missing)
    app.router.add_post("/made", created)
    app.router.add_get("/streamed", streamed)
    async with served(app) as base:
        yield base, seen


async def test_answers_are_read_whole_in_sequence_over_one_connection(
        server: tuple[str, list[tuple[str, str, str | None, int]]]) -> None:
    base, seen = server
    async with await HttpConnection.open(base, {"Authorization": "Bearer t"}) as http:
        first = await http.request("GET", "/big?limit=100")
        missing = await http.request("GET", "/missing")
        made = await http.request("POST", "/made")
        again = await http.request("GET", "/big")
    assert first.status == 200 and first.json() == BIG and len(first.body) > 90_000
    assert first.headers["content-type"].startswith("application/json")
    assert missing.status == 404 and missing.json() == {"title": "not found"}
    assert made.status == 201 and made.json() == {"size": 3}
    assert again.body == first.body
    assert [(method, path) for method, path, _, _ in seen] == [
        ("GET", "/big?limit=100"), ("GET", "/missing"), ("POST", "/made"), ("GET", "/big")]
    assert {token for _, _, token, _ in seen} == {"Bearer t"}
    assert len({port for *_, port in seen}) == 1, "every request went over the same kept-alive connection"


async def test_an_answer_without_content_length_is_refused_not_misread(
        server: tuple[str, list[tuple[str, str, str | None, int]]]) -> None:
    base, _ = server
    async with await HttpConnection.open(base) as http:
        with pytest.raises(HttpError, match="GET /streamed: the answer has no Content-Length"):
            await http.request("GET", "/streamed")


async def test_a_closed_connection_is_an_error_naming_the_request() -> None:
    async def close_at_once(request: web.Request) -> web.Response:
        assert request.transport is not None
        request.transport.close()
        return web.Response()

    app = web.Application()
    app.router.add_get("/gone", close_at_once)
    async with served(app) as base, await HttpConnection.open(base) as http:
        with pytest.raises(HttpError, match="GET /gone: the connection ended mid-answer"):
            await http.request("GET", "/gone")


async def test_only_plain_http_urls_with_a_port_are_taken() -> None:
    for base in ("https://127.0.0.1:1", "http://127.0.0.1", "127.0.0.1:80"):
        with pytest.raises(ValueError, match="expected http://host:port"):
            await HttpConnection.open(base)
