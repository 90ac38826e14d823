"""Trace context of command requests: a client's valid traceparent is kept, else one is started; either way the
event carries it, the answer returns it, and the request's log lines carry its trace id."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import re
from pathlib import Path

import pytest
from aiohttp import web

from shared.devstack import free_port
from shared.envelope import TRACEPARENT_PATTERN
from shared.http import Api, create_app
from shared.logs import JsonFormatter
from shared.processes import SERVICES, ServiceProcess
from tests.support import System, call, log_records, registered_cadre, served, wait_until

STARTED = re.compile(r"^00-[0-9a-f]{32}-[0-9a-f]{16}-01$")
"""A trace started by the service: version 00, sampled (`shared.trace.SAMPLED`)."""
AUDIT = {"county": "431021", "audit_type": "in_office", "period_from": "2020-01-01", "period_to": "2022-12-31",
         "auditing_body": "桂阳县审计局", "occurred_on": "2023-03-01"}


async def _recorded_traceparent(system: System, cadre: str, event_id: str) -> str | None:
    """The traceparent of the event as the ledger's history of the cadre serves it."""
    status, history, _ = await call("GET", f"{system.url('ledger')}/v1/cadres/{cadre}/history")
    assert status == 200, history
    [event] = [e["event"] for e in history["events"] if e["event"]["id"] == event_id]
    traceparent: str | None = event.get("traceparent")
    return traceparent


async def test_a_command_without_traceparent_starts_one_returns_it_and_records_it(system: System) -> None:
    """Found by review: with no traceparent sent the event had none, and nothing joined the request to it."""
    cadre = await registered_cadre(system)
    status, answer, headers = await call("POST", f"{system.url('audit')}/v1/audits/SJ-T1/start?wait=committed",
                                         {"cadre_id": cadre, **AUDIT})
    assert status == 202, answer
    assert STARTED.match(headers.get("traceparent", "")), headers
    assert await _recorded_traceparent(system, cadre, answer["event_id"]) == headers["traceparent"]
    status, again, other = await call("POST", f"{system.url('audit')}/v1/audits/SJ-T2/start?wait=committed",
                                      {"cadre_id": cadre, **AUDIT})
    assert status == 202, again
    assert other["traceparent"].split("-")[1] != headers["traceparent"].split("-")[1]  # a new trace per request


async def test_a_clients_traceparent_is_kept_returned_and_recorded(system: System) -> None:
    sent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00"  # not sampled: kept so, not re-flagged
    cadre = await registered_cadre(system)
    status, answer, headers = await call("POST", f"{system.url('rotation')}/v1/posts/P-T1/assign?wait=committed",
                                         {"cadre_id": cadre, "county": "431021", "occurred_on": "2021-03-01",
                                          "post": "科员", "unit": "桂阳县审计局", "level": "clerk",
                                          "leadership": False, "kind": "lateral"},
                                         headers={"traceparent": sent})
    assert status == 202, answer
    assert headers["traceparent"] == sent
    assert await _recorded_traceparent(system, cadre, answer["event_id"]) == sent


@pytest.mark.parametrize("sent", [
    "not-a-trace",
    "00-00000000000000000000000000000000-b7ad6b7169203331-01",  # all-zero trace id: invalid (W3C)
    "00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01",  # all-zero parent id: invalid
    "ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",  # version ff: invalid
    "00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01",  # uppercase: not the lowercase hex W3C allows
])
async def test_an_invalid_traceparent_is_ignored_and_a_new_one_started(system: System, sent: str) -> None:
    cadre = await registered_cadre(system)
    status, answer, headers = await call("POST", f"{system.url('audit')}/v1/audits/SJ-T3/start?wait=committed",
                                         {"cadre_id": cadre, **AUDIT}, headers={"traceparent": sent})
    assert status == 202, answer
    assert STARTED.match(headers["traceparent"]) and headers["traceparent"] != sent, headers
    assert headers["traceparent"].split("-")[1] != sent.split("-")[1].lower(), "a new trace, not the sent one"
    assert await _recorded_traceparent(system, cadre, answer["event_id"]) == headers["traceparent"]


async def test_a_refused_command_returns_its_traceparent_and_a_read_none(system: System) -> None:
    status, problem, headers = await call("POST", f"{system.url('audit')}/v1/audits/SJ-T4/start",
                                          {"cadre_id": "x"})
    assert status == 422 and STARTED.match(headers.get("traceparent", "")), (problem, headers)
    status, _, headers = await call("GET", f"{system.url('ledger')}/v1/tip")
    assert status == 200 and "traceparent" not in headers


async def test_a_commands_log_lines_carry_its_trace_id_and_openapi_documents_the_header() -> None:
    api = Api("probe", "1")

    @api.route("POST", "/command", summary="A command that fails", status=202)
    async def command(request: web.Request) -> None:
        raise RuntimeError("a fault")

    sent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    written = io.StringIO()
    handler = logging.StreamHandler(written)  # formatted as it is logged, within the request, as a service's are
    handler.setFormatter(JsonFormatter())
    logging.getLogger("shared.http").addHandler(handler)
    try:
        async with served(create_app("probe", api, guard=None)) as url:
            status, _, headers = await call("POST", f"{url}/command", headers={"traceparent": sent})
            _, document, _ = await call("GET", f"{url}/openapi.json")
    finally:
        logging.getLogger("shared.http").removeHandler(handler)
    assert status == 500 and headers["traceparent"] == sent, headers
    [line] = [json.loads(line) for line in written.getvalue().splitlines() if '"unhandled error"' in line]
    assert line["trace_id"] == "0af7651916cd43dd8448eb211c80319c" and line["path"] == "/command", line
    assert line["request_id"] == headers["X-Request-ID"], line
    operation = document["paths"]["/command"]["post"]
    [parameter] = [p for p in operation["parameters"] if p["name"] == "traceparent"]
    assert parameter["in"] == "header" and parameter["schema"]["pattern"] == TRACEPARENT_PATTERN
    for code, answer in operation["responses"].items():
        assert "traceparent" in answer["headers"], code


async def test_a_line_logged_while_serving_a_read_carries_its_request_id(system: System) -> None:
    """Found by review: only the middleware's own lines carried `request_id`; a line logged by the code serving the
    request (here the guard's note of a read outside the token's counties) carried neither it nor the path, so an
    operator could not find a request's lines by the id its client got. A read has no trace: no `trace_id`."""
    assert system.stack is not None
    cadre = await registered_cadre(system)
    elsewhere = system.stack.dev_token(["auditor"], ["430000"])
    path = f"/v1/cadres/{cadre}/history"
    status, problem, headers = await call("GET", system.url("ledger") + path, token=elsewhere)
    assert status == 404, problem

    async def logged() -> list[dict[str, object]]:
        lines = await log_records(system.procs["ledger"].log_path, "outside its scope")
        return [line for line in lines if line.get("request_id") == headers["X-Request-ID"]]

    [line] = await wait_until(logged, timeout=5)
    assert line["logger"] == "shared.guard" and line["path"] == path and "trace_id" not in line, line


async def test_a_plain_text_line_carries_its_requests_fields_too(system: System, tmp_path: Path) -> None:
    """Found by review: with CADRE_LOG_JSON=false (plain text, for a person at a terminal) no line carried its
    request's id, nor any other field given beside the message; a second ledger process (a standby, which serves
    reads) logs in plain text here."""
    assert system.stack is not None
    cadre = await registered_cadre(system)
    spec = next(s for s in SERVICES if s.name == "ledger")
    standby = ServiceProcess(spec, free_port(), {**system.env_for("ledger"), "CADRE_LOG_JSON": "false"}, tmp_path)
    try:
        standby.wait_ready()
        path = f"/v1/cadres/{cadre}/history"
        elsewhere = system.stack.dev_token(["auditor"], ["430000"])
        status, _, headers = await call("GET", standby.url + path, token=elsewhere)
        assert status == 404

        async def logged() -> list[str]:
            text = await asyncio.to_thread(standby.log_path.read_text, errors="replace")
            return [line for line in text.splitlines() if "outside its scope" in line]

        [line] = await wait_until(logged, timeout=5)
        assert " INFO shared.guard: " in line and f"request_id={headers['X-Request-ID']}" in line, line
        assert f"path={path}" in line, line
    finally:
        standby.stop()
