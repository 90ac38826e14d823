"""OpenAPI 3.1 from the declared routes and their pydantic models."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from shared.envelope import TRACEPARENT_PATTERN
from shared.request_input import MAX_BODY_BYTES

if TYPE_CHECKING:
    from shared.http import Api

_PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "RFC 9457 problem details; `errors` names invalid fields, `rule` a broken domain rule.",
    "properties": {
        "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
        "detail": {"type": "string"}, "instance": {"type": "string"},
        "rule": {"type": "string"},
        "basis": {"type": "string", "description": "The regulation or source document the rule applies (依据), as "
                  "the rule set in force on the fact's day quotes it (its `bases`), or a record-keeping rule "
                  "(记录规则) that keeps the ledger consistent."},
        "ruleset": {"type": "string", "description": "The rule-set version a refused command was decided under "
                    "(规则集版本), e.g. `431021@2024.3`: the version whose `bases` the `basis` quotes."},
        "message_en": {"type": "string"}, "message_zh": {"type": "string"},
        "errors": {"type": "array", "description": (
            "Each invalid field (字段无效). The path is checked first: a malformed path parameter is answered with "
            "the path's fields alone, before the body and the query are read (先校验路径参数)."), "items": {
            "type": "object", "required": ["field", "in", "message", "message_zh"],
            "properties": {"field": {"type": "string"}, "in": {"enum": ["body", "query", "path", "header"]},
                           "message": {"type": "string"}, "message_zh": {"type": "string"},
                           "type": {"type": "string", "description": "pydantic's kind of error, e.g. missing"}}}},
        "request_id": {"type": "string", "description": "The request's id (请求编号), on a 500 `internal`: the log "
                       "line of its cause carries the same id (also the X-Request-Id header of every answer)."},
        "missing": {"type": "array", "items": {"type": "array", "items": {"type": "integer"}},
                    "description": "(level, index) of Merkle nodes a proof needs and the database lacks"},
    },
    "required": ["type", "title", "status", "detail"],
}
_ERROR_TEXT = {400: "Malformed request (请求格式错误): a body that is not JSON (不是有效的 JSON), or a request not "
                    "readable as HTTP/1.1, e.g. a request line or a header over 8190 bytes (请求无法解析)",
               401: "Not authenticated (未认证)",
               403: "Out of the token's scope (超出授权范围)", 404: "Not found (未找到)",
               409: "Concurrent change (并发修改冲突)",
               413: f"Body over {MAX_BODY_BYTES:,} bytes (请求体过大)",
               415: "Body not declared as JSON in UTF-8 (不支持的媒体类型: Content-Type application/json)",
               422: "Invalid input or rule violated (输入无效或违反规则): `errors` name the fields, `rule` the rule; a "
                    "query or body field the operation does not take is named too (本接口没有此字段)"}
_ANY_INPUT = {400, 401, 403, 413, 415, 422}
"""What every declared route can answer whatever it declares: `shared.http` checks the token of each, and reads
any body and query sent, refusing one an operation takes none of rather than answering as if it had been heeded;
and aiohttp answers 400 to a request it cannot read, before any route."""
_INCONSISTENT = ("Stored data inconsistent (存储数据不一致, a damaged database): `missing` names what is lacking; or ")
"""The start of the 500 of a route that declares 500 among its `errors`: one that reads stored data a damaged
database could lack (a proof's Merkle nodes)."""
_FAULT = ("An internal fault (内部错误, `internal`), e.g. a statement the database refused (a privilege missing, a "
          "migration not applied): no Retry-After; `request_id` finds the logged cause (按请求编号查日志)")
_PROBLEM_CONTENT = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
_UNAVAILABLE = {
    "description": "A dependency is unavailable (依赖不可用): PostgreSQL or NATS is down, or did not answer in time "
                   "(数据库不可用 / 消息总线不可用); retry after Retry-After (请稍后重试)",
    "headers": {"Retry-After": {"required": True, "schema": {"type": "integer", "minimum": 0},
                                "description": "Seconds to wait before retrying (重试前等待的秒数)"}},
    "content": _PROBLEM_CONTENT}
"""Every declared route reads PostgreSQL or publishes to NATS (the only routes that touch neither, /livez, /docs
and the like, are not declared), and the middleware in `shared.http` answers an outage 503 and any fault 500 on
every route: so both are documented here, once, rather than on each route that could forget them."""
_RATE_LIMITED = {
    "description": "Too many requests (请求过于频繁): the token's principal is over its rate (CADRE_RATE_PER_S, "
                   "CADRE_RATE_BURST); retry after Retry-After (请稍后重试)",
    "headers": {"Retry-After": {"required": True, "schema": {"type": "integer", "minimum": 1},
                                "description": "Seconds to wait before retrying (重试前等待的秒数)"}},
    "content": _PROBLEM_CONTENT}
"""The guard (`shared.guard`) limits each principal's rate on every route it authorises."""


_TRACEPARENT_SCHEMA = {"type": "string", "pattern": TRACEPARENT_PATTERN}
_TRACEPARENT_IN = {
    "name": "traceparent", "in": "header", "required": False, "schema": _TRACEPARENT_SCHEMA,
    "description": "W3C trace context (链路追踪): kept unchanged in the event (hashed in the ledger row) and its NATS "
                   "header. Absent or invalid, the service starts a new trace (version 00, random ids, sampled 01)."}
_TRACEPARENT_OUT: dict[str, Any] = {
    "required": True, "schema": _TRACEPARENT_SCHEMA,
    "description": "The command's traceparent, the client's or the one started for it (链路追踪): the events recorded "
                   "carry it, and its trace id is the `trace_id` of the request's log lines."}
"""A command route (one answering 202, or declared `records`) takes a traceparent and returns it on every answer
(`shared.trace`)..."""
_TRACEPARENT_UNREAD = {**_TRACEPARENT_OUT, "required": False, "description": _TRACEPARENT_OUT["description"] + (
    " Absent from the 400 of a request not readable as HTTP/1.1 (请求无法解析), answered before any route.")}
"""...but a request aiohttp cannot read is answered before any route (`shared.http._ProblemProtocol`), not knowing
it was a command's."""


def _operation_id(method: str, path: str) -> str:
    return method.lower() + "_" + re.sub(r"[^a-zA-Z0-9]+", "_", path).strip("_")


def build_openapi(api: Api) -> dict[str, Any]:
    """The OpenAPI document; component schemas are generated once from every model used."""
    models: set[type[BaseModel]] = set()
    for r in api.routes:
        models.update(m for m in (r.body, r.response) if m is not None)
    key_map, defs = models_json_schema([(m, "validation") for m in sorted(models, key=lambda m: m.__name__)],
                                       ref_template="#/components/schemas/{model}")
    schemas: dict[str, Any] = dict(defs.get("$defs", {}))
    schemas["Problem"] = _PROBLEM_SCHEMA

    def ref(model: type[BaseModel]) -> dict[str, Any]:
        return key_map[(model, "validation")]

    paths: dict[str, dict[str, Any]] = {}
    for r in api.routes:
        op: dict[str, Any] = {"operationId": _operation_id(r.method, r.path), "summary": r.summary,
                              "tags": list(r.tags)}
        if r.description:
            op["description"] = r.description
        params: list[dict[str, Any]] = []
        for where, model in (("path", r.path_params), ("query", r.query)):
            if model is None:
                continue
            schema = model.model_json_schema()
            required = set(schema.get("required", []))
            for name, prop in schema.get("properties", {}).items():
                params.append({"name": name, "in": where, "required": where == "path" or name in required,
                               "description": prop.get("description", ""),
                               "schema": {k: v for k, v in prop.items() if k not in ("title", "description")}})
        if r.command:
            params.append(_TRACEPARENT_IN)
        if params:
            op["parameters"] = params
        if r.body is not None:
            op["requestBody"] = {"required": True, "content": {"application/json": {"schema": ref(r.body)}}}
        ok: dict[str, Any] = {"description": "OK"}
        if r.response is not None:
            ok["content"] = {"application/json": {"schema": ref(r.response)}}
        responses: dict[str, Any] = {str(code): ok for code in sorted({r.status, *r.also_ok})}
        for code in sorted(set(r.errors) - {500, 503} | _ANY_INPUT):
            responses[str(code)] = {"description": _ERROR_TEXT.get(code, "Error"), "content": _PROBLEM_CONTENT}
        responses["429"] = _RATE_LIMITED
        responses["500"] = {"description": (_INCONSISTENT if 500 in r.errors else "") + _FAULT,
                            "content": _PROBLEM_CONTENT}
        responses["503"] = _UNAVAILABLE
        if r.command:
            responses = {code: {**answer, "headers": {**answer.get("headers", {}), "traceparent":
                                                      _TRACEPARENT_UNREAD if code == "400" else _TRACEPARENT_OUT}}
                         for code, answer in responses.items()}
        op["responses"] = responses
        op["security"] = [{"bearer": []}]
        op["x-required-role"] = r.role
        if r.recorded:  # integrators and reviewers learn from the contract that such a read leaves a trace
            op["x-access-trail"] = r.recorded
            op["description"] = (op.get("description", "") + "\n\nEach request is filed in the access trail "
                                 "(查阅记录) as one entry: who, when, the county and filters, how many rows and "
                                 "cadres it answered (批量读取留痕).").strip()
        paths.setdefault(r.path, {})[r.method.lower()] = op
    return {
        "openapi": "3.1.0",
        "info": {"title": api.title, "version": api.version, "description": api.description},
        "paths": paths,
        "components": {"schemas": schemas, "securitySchemes": {"bearer": {
            "type": "http", "scheme": "bearer",
            "description": "cadre1 token (Ed25519-signed): roles recorder / auditor / operator with county scopes. "
                           "`cadre-ledger token issue` makes one."}}},
    }
