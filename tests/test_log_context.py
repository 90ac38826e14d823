"""The fields of a request on every line logged while serving it (`shared.logs.LogContext`), and only on those;
lines logged by a real service while serving a request are in tests/test_trace_context.py and
tests/test_database_down.py."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from shared.http import Api, create_app
from shared.logs import JsonFormatter, LogContext, add_to_log_context
from tests.support import served

log = logging.getLogger("tests.log_context")


@pytest.fixture
def written() -> Iterator[io.StringIO]:
    """What this module's logger writes, formatted as a service's lines are, when they are logged."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(JsonFormatter())
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    try:
        yield out
    finally:
        log.removeHandler(handler)


def lines(out: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_a_field_given_with_extra_wins_and_none_outlives_its_block(written: io.StringIO) -> None:
    with LogContext(request_id="r1", path="/a"):
        log.info("inside")
        log.info("its own", extra={"request_id": "mine"})
        with LogContext(trace_id="t1"):
            log.info("nested")
        add_to_log_context(trace_id="t2")
        log.info("added")
    log.info("after")
    add_to_log_context(trace_id="t3")  # outside any block: nothing to add to, and nothing leaks to later lines
    log.info("later")
    got = {line["msg"]: {k: line.get(k) for k in ("request_id", "path", "trace_id")} for line in lines(written)}
    assert got == {"inside": {"request_id": "r1", "path": "/a", "trace_id": None},
                   "its own": {"request_id": "mine", "path": "/a", "trace_id": None},
                   "nested": {"request_id": "r1", "path": "/a", "trace_id": "t1"},
                   "added": {"request_id": "r1", "path": "/a", "trace_id": "t2"},
                   "after": {"request_id": None, "path": None, "trace_id": None},
                   "later": {"request_id": None, "path": None, "trace_id": None}}


async def test_requests_on_one_connection_each_log_their_own_id(written: io.StringIO) -> None:
    """Keep-alive requests on one connection, one after another: each line carries the id of the request it was
    logged for, never the previous one's. (aiohttp serves each request in a task of its own, with a copy of the
    context, so this holds as long as the middleware sets the context inside the request's task.)"""
    api = Api("probe", "1")

    @api.route("GET", "/read", summary="A read that logs a line")
    async def read(request: web.Request) -> None:
        log.info("serving")

    async with served(create_app("probe", api, guard=None)) as url, aiohttp.ClientSession() as session:
        answered = []
        for _ in range(3):
            async with session.get(f"{url}/read") as resp:
                assert resp.status == 200
                answered.append(resp.headers["X-Request-Id"])
    assert len(set(answered)) == 3
    assert [(line["request_id"], line["path"]) for line in lines(written)] == [(r, "/read") for r in answered]
