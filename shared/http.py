"""aiohttp app factory: declared routes, problem+json errors, request ids, health, metrics, OpenAPI.

Handlers are declared on an `Api` with their body, query and response models; the factory parses and
validates input (422 naming each field), serialises output, and builds `/openapi.json` from the same
declarations, so the document cannot drift from the code.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import signal
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Any, Literal

import orjson
from aiohttp import web
from aiohttp.web_protocol import RequestHandler
from aiohttp.web_request import BaseRequest
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from pydantic import BaseModel, ConfigDict

from shared.auth import Role
from shared.db import DRIVER_ERRORS, DatabaseUnavailable, is_outage
from shared.docs_page import STATIC_DIR, STATIC_PATH, docs_html
from shared.guard import PRINCIPAL, Guard, require_counties, require_county_filter
from shared.health import HealthCheck, add_health_routes
from shared.logs import LogContext, add_to_log_context
from shared.problems import Problem, database_fault, database_unavailable
from shared.request_input import MAX_BODY_BYTES, client_request_id, parse_body, parse_path, parse_query
from shared.trace import TRACEPARENT, continue_or_start, trace_id

log = logging.getLogger(__name__)

SERVICE = web.AppKey("service", str)
"""The name of the service an application serves."""
SHUTTING_DOWN = web.AppKey("shutting_down", bool)
"""Set when SIGTERM arrives: readiness fails at once while connections drain."""
REQUEST_ID = web.RequestKey("request_id", str)
"""The request's id (the client's X-Request-Id when usable), in its log lines, problems and access records."""

PROBLEM_JSON = "application/problem+json"

Handler = Callable[..., Awaitable[Any]]
BulkRead = Literal["feed", "list"]
"""What the access trail calls a bulk read: the event feed, or a list that names cadres."""
ReadRecorder = Callable[[web.Request, BulkRead, str, BaseModel | None], AbstractAsyncContextManager[None]]
"""Puts a bulk read on record around its county check and handler (`shared.access.AccessTrail.bulk`)."""
COMMON_HEADERS = {"Server": "cadre-ledger", "X-Content-Type-Options": "nosniff"}
"""On every answer: no guessing a JSON answer's type as something a browser would run, and no Python and aiohttp
versions for a scanner to match against known flaws (aiohttp's own Server header names both)."""


def json_response(payload: Any, status: int = 200, headers: dict[str, str] | None = None,
                  content_type: str = "application/json") -> web.Response:
    """A JSON response: pydantic models by their own serialiser (no dict of the model in between), else orjson."""
    body = payload.model_dump_json().encode() if isinstance(payload, BaseModel) else orjson.dumps(payload)
    return web.Response(body=body, status=status, headers=headers, content_type=content_type)


def problem_response(problem: Problem, instance: str | None = None) -> web.Response:
    """The RFC 9457 response for a Problem."""
    return web.Response(body=orjson.dumps(problem.body(instance)), status=problem.status,
                        headers=problem.headers, content_type=PROBLEM_JSON)


@dataclass
class Route:
    """One declared endpoint: how to call it and what it answers, for routing and OpenAPI."""

    method: str
    path: str
    handler: Handler
    summary: str
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    response: type[BaseModel] | None = None
    status: int = 200
    tags: tuple[str, ...] = ()
    description: str = ""
    errors: tuple[int, ...] = ()
    access: Role | None = None
    also_ok: tuple[int, ...] = ()
    """Other success statuses the handler may answer with (returning its own response), e.g. 200 beside 201."""
    recorded: BulkRead | None = None
    """A read of many cadres' records that the access trail (查阅记录) keeps, one entry per request: the API's
    `recorder` wraps the county check and the handler, which tells what it answered (`shared.access.answered`)."""
    path_params: type[BaseModel] | None = None
    """The path's `{parameters}`, checked before the body and the query (the handler gets them as `path`)."""
    records: bool = False
    """It records events though it answers 200 with an account of them (the rotation scan): a command all the same."""

    @property
    def role(self) -> Role:
        """The role the route needs: commands need `recorder`, reads `auditor`, unless declared."""
        return self.access or ("auditor" if self.method == "GET" else "recorder")

    @property
    def command(self) -> bool:
        """A command: it answers 202 with the event it recorded (or is declared `records`), and carries a trace
        context (`shared.trace`) into what it records and its log lines."""
        return self.status == 202 or self.records


@dataclass
class Api:
    """A service's public HTTP interface."""

    title: str
    version: str
    description: str = ""
    routes: list[Route] = field(default_factory=list)
    recorder: ReadRecorder | None = None
    """What puts the `recorded` routes' reads on record; an app with such a route and no recorder does not start."""

    def route(self, method: str, path: str, *, summary: str, body: type[BaseModel] | None = None,
              query: type[BaseModel] | None = None, response: type[BaseModel] | None = None, status: int = 200,
              tags: tuple[str, ...] = (), description: str = "", errors: tuple[int, ...] = (),
              access: Role | None = None, also_ok: tuple[int, ...] = (),
              recorded: BulkRead | None = None, path_params: type[BaseModel] | None = None,
              records: bool = False) -> Callable[[Handler], Handler]:
        """Declare a handler `async def h(request, *, path=..., body=..., query=...)`.

        `path_params` types the path's `{parameters}`, every one of them (`CadrePath`, `ids_in(path)`...).
        `access` is the role the caller needs (default: `recorder` for commands, `auditor` for reads);
        `recorded` makes each request a bulk read in the access trail (`Route.recorded`); `records` makes a route
        answering 200 a command (`Route.records`).
        `errors` are the statuses the route answers beyond every route's 400, 401, 403, 413, 415, 422, 429, 500 and
        503, which the OpenAPI document adds itself (`shared.openapi`); a 500 declared here says the route reads
        stored data a damaged database could lack (存储数据不一致).
        """
        named = set(re.findall(r"{(\w+)}", path))
        declared = set(path_params.model_fields) if path_params is not None else set()
        if named != declared:
            raise TypeError(f"{method} {path}: path parameters {sorted(named)} declared as {sorted(declared)}")

        def register(handler: Handler) -> Handler:
            self.routes.append(Route(method.upper(), path, handler, summary, body, query, response, status, tags,
                                     description or (handler.__doc__ or "").strip(), errors, access, also_ok,
                                     recorded, path_params, records))
            return handler

        return register


class _Nothing(BaseModel):
    """The body or query of a route that declares none: nothing. A field sent to it anyway (`?witnessed=true` on
    the latest checkpoint, `{"as_of": ...}` to a scan) is refused naming it (本接口没有此字段), not dropped while the
    route answers as if it had been heeded; an empty JSON object stays accepted as no body."""

    model_config = ConfigDict(extra="forbid")


def _endpoint(route: Route, guard: Guard | None,
              recorder: ReadRecorder | None) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    if route.recorded and recorder is None:
        raise RuntimeError(f"{route.path} is declared recorded but the API has no recorder")

    async def endpoint(request: web.Request) -> web.StreamResponse:
        if route.command:  # first, so that a refused command's answer and log lines carry it too
            request[TRACEPARENT] = continue_or_start(request.headers.get("traceparent"))
            add_to_log_context(trace_id=trace_id(request[TRACEPARENT]))
        if guard is not None:
            request[PRINCIPAL] = guard.authorize(request, route.role)
        kwargs: dict[str, Any] = {}
        if route.path_params is not None:
            kwargs["path"] = parse_path(request, route.path_params)
        if route.body is not None:
            kwargs["body"] = await parse_body(request, route.body)
            county = getattr(kwargs["body"], "county", None)
            if guard is not None and isinstance(county, str):
                require_counties(request, [county])
        elif request.body_exists and await request.read():  # an empty chunked body holds nothing, as an absent one
            await parse_body(request, _Nothing)
        if route.query is not None:
            kwargs["query"] = parse_query(request, route.query)
        elif request.query:
            parse_query(request, _Nothing)
        # A bulk read refused for its county is on record, as a dossier read refused for its cadre's is;
        # one refused for its token or its input (401, 403 for the role, 422) reached no data and is not.
        recording = (recorder(request, route.recorded, route.path, kwargs.get("query"))
                     if route.recorded and recorder is not None else contextlib.nullcontext())
        async with recording:
            if guard is not None and route.query is not None and "county" in route.query.model_fields:
                require_county_filter(request, getattr(kwargs["query"], "county", None))
            result = await route.handler(request, **kwargs)
        if isinstance(result, web.StreamResponse):
            return result
        return json_response(result, status=route.status)

    return endpoint


class _Metrics:
    def __init__(self, service: str) -> None:
        self.registry = CollectorRegistry()
        self.latency = Histogram("http_request_duration_seconds", "HTTP request latency by route",
                                 ["service", "method", "route", "status"], registry=self.registry,
                                 buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5))
        self.errors = Counter("http_problems_total", "Problem responses by status", ["service", "status"],
                              registry=self.registry)
        self.service = service


def create_app(service: str, api: Api, *, guard: Guard | None, readiness: Sequence[HealthCheck] = (),
               liveness: Sequence[HealthCheck] = (), registry: CollectorRegistry | None = None) -> web.Application:
    """The service's aiohttp application with the common endpoints and middlewares.

    `guard` authenticates every declared route (None only when auth is explicitly disabled);
    /livez, /readyz (`shared.health`), /metrics and the API documentation stay open.
    """
    metrics = _Metrics(service)

    @web.middleware
    async def middleware(request: web.Request, handler: Any) -> web.StreamResponse:
        request_id = client_request_id(request.headers.get("X-Request-Id")) or uuid.uuid4().hex
        request[REQUEST_ID] = request_id
        started = time.perf_counter()
        # every line logged while serving it, here or in the code it calls, carries its id and path; a command's
        # route adds its trace id (`_endpoint`)
        with LogContext(request_id=request_id, path=request.path):
            try:
                response: web.StreamResponse = await handler(request)
            except Problem as problem:
                if problem.status == 500:  # a fault to look into; a 503 (an outage) would log once per request
                    log.error("request failed: %s", problem.detail)
                response = problem_response(problem, request.path)
            except web.HTTPException as exc:
                if exc.status < 400:
                    raise
                response = problem_response(_http_problem(exc), request.path)
            except DatabaseUnavailable as exc:  # an outage, as a 503 Problem is: told the client, logged once in 10 s
                response = problem_response(database_unavailable(exc), request.path)
            except DRIVER_ERRORS as exc:  # outside `shared.db.acquire`, or a statement refused: an outage or a fault
                response = problem_response(database_unavailable(exc) if is_outage(exc)
                                            else database_fault(exc, request_id), request.path)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("unhandled error")
                response = problem_response(Problem("internal error; it has been logged (内部错误)",
                                                    status_override=500, request_id=request_id), request.path)
        response.headers["X-Request-Id"] = request_id
        if TRACEPARENT in request:  # a command's, sent or started: the client finds its event by it
            response.headers["traceparent"] = request[TRACEPARENT]
        response.headers.update(COMMON_HEADERS)
        resource = request.match_info.route.resource
        route_name = resource.canonical if resource is not None else "unmatched"
        metrics.latency.labels(service, request.method, route_name, str(response.status)).observe(
            time.perf_counter() - started)
        if response.status >= 400:
            metrics.errors.labels(service, str(response.status)).inc()
        return response

    app = web.Application(middlewares=[middleware], client_max_size=MAX_BODY_BYTES)
    app[SERVICE] = service
    app[SHUTTING_DOWN] = False
    extra_registries = [registry] if registry else []

    async def metrics_endpoint(request: web.Request) -> web.Response:
        body = b"".join(generate_latest(r) for r in [metrics.registry, *extra_registries])
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    document = openapi_document(api)

    async def openapi(request: web.Request) -> web.Response:
        return json_response(document)

    async def docs(request: web.Request) -> web.Response:
        return web.Response(text=docs_html(api.title), content_type="text/html")

    add_health_routes(app, service, shutting_down=lambda: app[SHUTTING_DOWN], readiness=readiness, liveness=liveness)
    app.router.add_get("/metrics", metrics_endpoint)
    app.router.add_get("/openapi.json", openapi)
    app.router.add_get("/docs", docs)
    app.router.add_static(STATIC_PATH, STATIC_DIR, append_version=False)
    for route in api.routes:
        if route.method == "GET":  # and HEAD (RFC 9110): the same answer without its body
            app.router.add_get(route.path, _endpoint(route, guard, api.recorder))
        else:
            app.router.add_route(route.method, route.path, _endpoint(route, guard, api.recorder))
    return app


_HTTP_TITLES = {403: "forbidden (禁止访问)", 404: "no such resource (资源不存在)",
                405: "method not allowed (方法不允许)", 413: "request body too large (请求体过大)"}


def _http_problem(exc: web.HTTPException) -> Problem:
    detail = _HTTP_TITLES.get(exc.status, exc.reason)
    # A 405 keeps its Allow header (RFC 9110 requires it); the rest of aiohttp's headers describe its own body.
    return Problem(detail, status_override=exc.status, headers={k: v for k, v in exc.headers.items() if k == "Allow"})


UNREADABLE_DETAIL_LIMIT = 200
"""aiohttp's message on a request it could not read quotes the request's own bytes: only their start is told back."""


def unreadable_request(status: int, message: str | None) -> Problem:
    """The problem of a request aiohttp could not read as HTTP/1.1, from its status and its message's first line."""
    lines = (message or "").strip().splitlines()
    detail = "the request could not be read as HTTP/1.1 (请求无法解析)"
    if lines:
        detail += f": {lines[0][:UNREADABLE_DETAIL_LIMIT]}"
    return Problem(detail, status_override=status)


class _ProblemProtocol(RequestHandler):
    """aiohttp's connection handler, answering in problem+json what it answers itself.

    A request aiohttp cannot read (a header line over 8190 bytes, a bad method, a Content-Length that is not a
    number, a malformed chunk) never reaches the application or its middleware: the connection handler answers
    it, in text/plain unless told otherwise.
    """

    def handle_error(self, request: BaseRequest, status: int = 500, exc: BaseException | None = None,
                     message: str | None = None) -> web.StreamResponse:
        if status >= 500:  # a failure of ours: aiohttp logs it with its traceback
            super().handle_error(request, status, exc, message)
            problem = Problem("internal error (内部错误)", status_override=status)
        else:  # a client's malformed request: one line in the log, not an error with a traceback
            if request.writer.output_size > 0:
                raise ConnectionError("a response was sent already; cannot send the error")
            problem = unreadable_request(status, message)
            log.warning("unreadable request", extra={"status": status, "detail": problem.detail})
        response = problem_response(problem)
        response.headers.update(COMMON_HEADERS)
        response.force_close()
        return response


class _ProblemServer(web.Server):
    """aiohttp's low-level server, making `_ProblemProtocol` connection handlers."""

    def __call__(self) -> RequestHandler:
        return _ProblemProtocol(self, loop=self._loop, **self._kwargs)


class _ProblemRunner(web.AppRunner):
    """`web.AppRunner` whose server answers unreadable requests in problem+json; aiohttp has no setting for it."""

    async def _make_server(self) -> web.Server:
        server = await super()._make_server()
        # The application builds its server (its handler, request factory and settings); only the connection
        # handlers the server makes are to differ, and that is all `_ProblemServer` changes.
        server.__class__ = _ProblemServer
        return server


async def serve(app: web.Application, host: str, port: int, *, grace_s: float = 0.5,
                stop: asyncio.Event | None = None) -> None:
    """Serve until SIGTERM/SIGINT (or `stop`): readiness fails at once, connections drain, then exit."""
    runner = _ProblemRunner(app, access_log=None, shutdown_timeout=10.0)
    await runner.setup()
    site = web.TCPSite(runner, host, port, reuse_address=True)
    await site.start()
    log.info("listening", extra={"service": app[SERVICE], "url": f"http://{host}:{port}"})
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    app[SHUTTING_DOWN] = True
    await asyncio.sleep(grace_s)
    await runner.cleanup()


def openapi_document(api: Api) -> dict[str, Any]:
    """OpenAPI 3.1 document of the declared routes, schemas from the pydantic models."""
    from shared.openapi import build_openapi

    return build_openapi(api)
