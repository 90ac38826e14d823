"""OpenAPI 3.1 from the declared routes and their pydantic models."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaMode, JsonSchemaValue, models_json_schema
from pydantic_core import core_schema

from shared.auth import ROLES
from shared.envelope import TRACEPARENT_PATTERN
from shared.request_input import DAY_IN_RANGE, EARLIEST_DAY, LATEST_DAY, MAX_BODY_BYTES

if TYPE_CHECKING:
    from shared.http import Api

_PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "RFC 9457 problem details; `errors` names invalid fields, `rule` a broken domain rule.",
    "properties": {
        "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
        "detail": {"type": "string"}, "instance": {"type": "string"},
        "rule": {"type": "string", "description": "The domain rule broken (规则编号), e.g. `audit.start_once`."},
        "basis": {"type": "string", "description": "The regulation or source document the rule applies (依据), as "
                  "the rule set in force on the fact's day quotes it (its `bases`), or a record-keeping rule "
                  "(记录规则) that keeps the ledger consistent."},
        "ruleset": {"type": "string", "description": "The rule-set version a refused command was decided under "
                    "(规则集版本), e.g. `431021@2024.3`: the version whose `bases` the `basis` quotes."},
        "message_en": {"type": "string", "description": "The rule's refusal in English."},
        "message_zh": {"type": "string", "description": "The rule's refusal in Chinese, to show the clerk (中文说明)."},
        "errors": {"type": "array", "description": (
            "Each invalid field (字段无效). The path is checked first: a malformed path parameter is answered with "
            "the path's fields alone, before the body and the query are read (先校验路径参数)."), "items": {
            "type": "object", "required": ["field", "in", "message", "message_zh"],
            "properties": {"field": {"type": "string"}, "in": {"enum": ["body", "query", "path", "header"]},
                           "message": {"type": "string"}, "message_zh": {"type": "string"},
                           "type": {"type": "string", "description": "pydantic's kind of error, e.g. missing"}}}},
        "request_id": {"type": "string", "description": "The request's id (请求编号), on a 500 `internal`: the log "
                       "line of its cause carries the same id (also the X-Request-Id header of every answer)."},
        "missing": {"type": "array", "items": {"anyOf": [
            {"type": "array", "items": {"type": "integer"}, "minItems": 2, "maxItems": 2}, {"type": "string"}]},
            "description": "What is lacking (缺少的内容): on a 500 `inconsistent`, the (level, index) of each Merkle "
                           "node a proof needs and the database lacks; on a 422 `rule-violation`, what the rule needs "
                           "and the command or the record lacks, e.g. `own_unit` (an evaluation not recorded) or "
                           "`petitions_checked` (an inspection's check not done)."},
        "required_role": {"enum": list(ROLES), "description": "On a 403 `forbidden` for the token's roles: the role "
                          "the operation needs (所需角色: recorder 记录员, auditor 审计员, operator 运维员)."},
        "counties": {"type": "array", "items": {"type": "string"}, "description": (
            "Counties (县) the answer is about: on a 403 `forbidden`, those outside the token's scope, or the "
            "token's own when a list must be filtered by one of them (超出授权的县 / 须指定的县); on a 404, the "
            "counties this partition holds (本分区所辖县); on `county.not_served`, the deployment's counties.")},
        "cadre_id": {"type": "string", "description": "The cadre the answer is about (干部编号): a 404 with no record "
                     "of it, a 409 of concurrent changes to it, a 503 while the ledger lags behind its last event."},
        "stream_seq": {"type": "integer", "description": (
            "A NATS stream sequence (消息序号): on a 422 `quarantined`, the event the ledger quarantined (find its "
            "reason in `GET /v1/quarantine`, 隔离消息); on a 503, the cadre's latest event the ledger has not yet "
            "recorded (台账尚未写入).")},
        "checkpoint_id": {"type": "integer",
                          "description": "On a 404: the checkpoint that does not exist (检查点编号)."},
        "position": {"type": "integer", "description": "On a 409 `not-witnessed`: the ledger position no checkpoint "
                     "cosigned by every witness covers yet (台账位置, 尚未见证)."},
        "field": {"type": "string", "description": "On a 422 `rule-violation`: the body field the rule is about "
                  "(规则涉及的字段)."},
        "county": {"type": "string", "description": "On `county.not_served`: the county the command named (县)."},
    },
    "additionalProperties": {"description": (
        "A 422 `rule-violation` has further members naming what its rule found (规则发现的具体情况), e.g. "
        "`working_days`, `blockers`, `year`: each rule's own, told in `detail` as well.")},
    "required": ["type", "title", "status", "detail"],
}
_ERROR_TEXT = {400: "Malformed request (请求格式错误): a body that is not JSON (不是有效的 JSON), or a request not "
                    "readable as HTTP/1.1, e.g. a request line or a header over 8190 bytes (请求无法解析)",
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
_UNAUTHENTICATED = {
    "description": "Not authenticated (未认证): no bearer token, or one that is not valid (expired, revoked, not "
                   "signed by the key this deployment trusts)",
    "headers": {"WWW-Authenticate": {
        "required": True, "schema": {"type": "string", "pattern": "^Bearer "},
        "description": "The Bearer challenge (RFC 6750, 认证方式): `Bearer realm=\"cadre-ledger\"` without a token, "
                       "`Bearer error=\"invalid_token\"` with one that is not valid"}},
    "content": _PROBLEM_CONTENT}
"""Every route needs a token (`shared.guard`), and `shared.problems.Unauthenticated` always carries its challenge."""
def _retry_after(minimum: int) -> dict[str, Any]:
    """The Retry-After header of an answer telling the client to come back (at least `minimum` seconds)."""
    return {"Retry-After": {"required": True, "schema": {"type": "integer", "minimum": minimum},
                            "description": "Seconds to wait before retrying (重试前等待的秒数)"}}


_UNAVAILABLE = {
    "description": "A dependency is unavailable (依赖不可用): PostgreSQL or NATS is down, or did not answer in time "
                   "(数据库不可用 / 消息总线不可用); retry after Retry-After (请稍后重试)",
    "headers": _retry_after(0), "content": _PROBLEM_CONTENT}
"""Every declared route reads PostgreSQL or publishes to NATS (the only routes that touch neither, /livez, /docs
and the like, are not declared), and the middleware in `shared.http` answers an outage 503 and any fault 500 on
every route: so both are documented here, once, rather than on each route that could forget them."""
_RATE_LIMITED = {
    "description": "Too many requests (请求过于频繁): the token's principal is over its rate (CADRE_RATE_PER_S, "
                   "CADRE_RATE_BURST); retry after Retry-After (请稍后重试)",
    "headers": _retry_after(1), "content": _PROBLEM_CONTENT}
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


DAY_SCHEMA = {
    "type": "string", "format": "date", "pattern": DAY_IN_RANGE,
    "description": f"A calendar day, written YYYY-MM-DD, from {EARLIEST_DAY} to {LATEST_DAY} (日期, 写作 YYYY-MM-DD, "
                   f"{EARLIEST_DAY} 至 {LATEST_DAY}): a request naming another is refused (422 `invalid-input`)."}
"""The component `Day`: every day a request takes, in a body or a query, refers to it. A field's own description
sits beside the reference, and would replace a description written into each field's schema."""
_DAY = "x-day"
"""Where `_OnTheWire` puts a request's day, which `_wired` makes a reference to `Day`."""


class _OnTheWire(GenerateJsonSchema):
    """Schemas of what crosses the wire, requests (validation mode) and answers (serialization mode).

    An answer carries every field of its model, defaulted or not (`json_response` dumps the whole model): so a
    generated client need not treat `duplicate` or `warnings` as optional. pydantic marks them required in
    serialization mode only under a model's `json_schema_serialization_defaults_required`: said here once, for
    every response model. A request's day is a `Day`, within the range `shared.request_input` accepts; an answer's
    day is any the ledger holds."""

    def field_is_required(self, field: core_schema.ModelField | core_schema.DataclassField
                          | core_schema.TypedDictField, total: bool) -> bool:
        if self.mode == "serialization" and field["type"] != "typed-dict-field":
            return field.get("serialization_exclude_if") is None
        return super().field_is_required(field, total)

    def date_schema(self, schema: core_schema.DateSchema) -> JsonSchemaValue:
        # a mark `_wired` makes the reference: pydantic resolves every `$ref` it meets against its own definitions
        return {_DAY: True} if self.mode == "validation" else super().date_schema(schema)


def _operation_id(method: str, path: str) -> str:
    return method.lower() + "_" + re.sub(r"[^a-zA-Z0-9]+", "_", path).strip("_")


_MODE_SUFFIX = {"-Input": "", "-Output": "Output"}
"""What pydantic appends to the name of a model whose request form and answer form differ, both used, and what the
document appends instead: the request's keeps the model's name (a request body's component is never renamed when an
answer comes to use its model), the answer's reads `XOutput` (a valid identifier in every generated client)."""


def _components(api: Api) -> tuple[dict[str, Any], dict[tuple[type[BaseModel], JsonSchemaMode], dict[str, Any]]]:
    """The component schemas of every body (validation mode: what a client may send) and every response
    (serialization mode, `_OnTheWire`: what the service answers), with the `$ref` of each use."""
    uses: set[tuple[type[BaseModel], JsonSchemaMode]] = set()
    for r in api.routes:
        if r.body is not None:
            uses.add((r.body, "validation"))
        if r.response is not None:
            uses.add((r.response, "serialization"))
    key_map, defs = models_json_schema(sorted(uses, key=lambda use: (use[0].__name__, use[1])),
                                       ref_template="#/components/schemas/{model}",
                                       schema_generator=_OnTheWire)
    names = {name: name.removesuffix(suffix) + instead for name in defs.get("$defs", {})
             for suffix, instead in _MODE_SUFFIX.items() if name.endswith(suffix)}
    if clash := set(names.values()) & (set(defs.get("$defs", {})) - set(names)):
        raise TypeError(f"component names {sorted(clash)} are taken by two models: rename one")
    refs = {f"#/components/schemas/{old}": f"#/components/schemas/{new}" for old, new in names.items()}
    schemas = {names.get(name, name): _wired(schema, refs) for name, schema in defs.get("$defs", {}).items()}
    return schemas, {use: _wired(key_map[use], refs) for use in uses}


def _wired(schema: Any, refs: dict[str, str]) -> Any:
    """`schema` with each `$ref` in `refs` replaced, and each request's day a reference to `Day`."""
    if isinstance(schema, dict):
        wired = {k: refs.get(v, v) if k == "$ref" else _wired(v, refs) for k, v in schema.items() if k != _DAY}
        return {"$ref": "#/components/schemas/Day", **wired} if _DAY in schema else wired
    if isinstance(schema, list):
        return [_wired(item, refs) for item in schema]
    return schema


def build_openapi(api: Api) -> dict[str, Any]:
    """The OpenAPI document; component schemas are generated once from every model used."""
    schemas, key_map = _components(api)
    schemas["Problem"] = _PROBLEM_SCHEMA
    schemas["Day"] = DAY_SCHEMA

    def ref(model: type[BaseModel], mode: JsonSchemaMode) -> dict[str, Any]:
        return key_map[(model, mode)]

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
            schema = _wired(model.model_json_schema(schema_generator=_OnTheWire), {})
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
            op["requestBody"] = {"required": True,
                                 "content": {"application/json": {"schema": ref(r.body, "validation")}}}
        ok: dict[str, Any] = {"description": "OK"}
        if r.response is not None:
            ok["content"] = {"application/json": {"schema": ref(r.response, "serialization")}}
        responses: dict[str, Any] = {str(code): ok for code in sorted({r.status, *r.also_ok})}
        for code in sorted(set(r.errors) - {500, 503} | _ANY_INPUT):
            responses[str(code)] = (_UNAUTHENTICATED if code == 401 else
                                    {"description": _ERROR_TEXT.get(code, "Error"), "content": _PROBLEM_CONTENT})
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
