"""A request's body and query read into their models, with the checks every route shares.

What no model says and every route needs: a JSON body declared as such, each key once, no U+0000 (PostgreSQL's
text cannot hold it), integers that JSON numbers hold exactly, days a calendar can count from, and each query
parameter given once. Each failure is a problem naming the field, never a 500 further in.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any, get_args

import orjson
from aiohttp import web
from pydantic import BaseModel, ValidationError, create_model
from pydantic.fields import FieldInfo

from shared.canonical import duplicate_keys, nesting_depth, unsafe_integers
from shared.decisions import is_day
from shared.envelope import CadreId, holds_nul
from shared.events.types import DAY, Identifier
from shared.field_errors import field_error, from_pydantic
from shared.problems import InvalidInput, Problem

MAX_BODY_BYTES = 256 * 1024
MAX_NESTING = 32
EARLIEST_DAY, LATEST_DAY = date(1900, 1, 1), date(2199, 12, 31)
"""The days a request may name. No career, audit or deadline lies outside them, and every count the rules make
from such a day (years of tenure, months of a sanction, working days) stays within the calendar."""
DAY_IN_RANGE = r"^(19|20|21)[0-9]{2}-[0-9]{2}-[0-9]{2}$"
"""A day as a request writes one (`DAY`) within EARLIEST_DAY..LATEST_DAY, whole years 1900-2199: the pattern the
OpenAPI documents give every day a request takes (`shared.openapi`), beside `format: date` (a day of the calendar)."""
_REQUEST_ID = re.compile(r"^[!-~]{1,128}$")


def validation_problem(exc: ValidationError, where: str) -> InvalidInput:
    """422 naming every invalid field (`where` is body, query or path)."""
    errors = [from_pydantic(e, where) for e in exc.errors(include_url=False)]
    fields = ", ".join(e["field"] for e in errors)
    return InvalidInput(f"invalid {where} (字段无效): {fields}", errors=errors)


def client_request_id(header: str | None) -> str | None:
    """The caller's `X-Request-Id` when it is 1-128 visible ASCII characters, else None (the service makes one):
    it is logged, echoed and filed with the access record, so it must be plain text of a sane size."""
    return header if header is not None and _REQUEST_ID.match(header) else None


async def parse_body(request: web.Request, model: type[BaseModel]) -> BaseModel:
    """The JSON body as `model`: 415 unless declared JSON (UTF-8), 413 over MAX_BODY_BYTES, 422 naming the field."""
    if request.content_type != "application/json":
        raise Problem(f"the body must be JSON, sent as Content-Type: application/json, not {request.content_type!r}"
                      " (请求体须为 JSON)", status_override=415,
                      errors=[field_error("Content-Type", "header", "application/json expected",
                                          "须为 application/json")])
    if request.charset not in (None, "utf-8"):
        raise Problem(f"the body must be JSON in UTF-8, not charset {request.charset!r} (请求体须为 JSON, UTF-8 编码)",
                      status_override=415,
                      errors=[field_error("Content-Type", "header", "charset utf-8 (or none) expected",
                                          "字符集须为 utf-8 (或不写)")])
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        raise Problem(f"request body over {MAX_BODY_BYTES} bytes (请求体过大)", status_override=413)
    raw = await request.read()
    if not raw:
        raise InvalidInput("request body is empty; a JSON object is expected (请求体为空)",
                           errors=[field_error("body", "body", "required", "请求体为空")])
    if holds_nul(raw):
        raise InvalidInput("text must not contain U+0000 (NUL) (文本不能包含空字符)",
                           errors=[field_error("body", "body", "U+0000 is not allowed", "不能包含空字符")])
    try:
        obj = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise Problem(f"request body is not valid JSON (不是有效的 JSON): {exc}",
                      errors=[field_error("body", "body", str(exc), "不是有效的 JSON")]) from exc
    if nesting_depth(obj) > MAX_NESTING:  # before the checks that walk it, and far beyond any command's
        raise InvalidInput(f"JSON nested deeper than {MAX_NESTING} levels (嵌套过深)",
                           errors=[field_error("body", "body", f"over {MAX_NESTING} levels",
                                               f"嵌套超过 {MAX_NESTING} 层")])
    if twice := duplicate_keys(raw):
        raise InvalidInput(f"each key may be given once (键重复): {', '.join(twice)}",
                           errors=[field_error(key, "body", "given more than once", "键重复") for key in twice])
    if huge := unsafe_integers(obj):
        raise InvalidInput(f"integers must lie within ±2^53, the exact range of JSON numbers (整数超出范围): "
                           f"{', '.join(huge)}",
                           errors=[field_error(field, "body", "integer beyond ±2^53", "整数超出 ±2^53")
                                   for field in huge])
    try:
        parsed = model.model_validate(obj)
    except ValidationError as exc:
        raise validation_problem(exc, "body") from exc
    _days_in_range(parsed, "body")
    return parsed


INTEGER = re.compile(r"-?[0-9]+")
"""A whole number as a query or path parameter writes one: pydantic alone also reads "2_024", "+2024" and "2024.0"."""


def is_integer(field: FieldInfo) -> bool:
    """Whether a model field holds a whole number (`int`, or `int | None`)."""
    return field.annotation is int or int in get_args(field.annotation)


def not_digits(name: str, where: str) -> dict[str, str]:
    """The field error of a whole number not written in digits (`where`: query or path)."""
    return field_error(name, where, "digits expected, e.g. 100", "整数须以数字书写, 如 100")


def parse_path(request: web.Request, model: type[BaseModel]) -> BaseModel:
    """The path parameters as `model`: 422 naming every one that does not fit (a whole number is written in digits).

    Checked before the body and the query: the path says what the request is about, so a malformed id there is the
    answer whatever else is wrong (it was named only once the body was valid)."""
    values = dict(request.match_info)
    order = list(model.model_fields)
    loose = [k for k in order if is_integer(model.model_fields[k]) and not INTEGER.fullmatch(values[k])]
    errors = [not_digits(k, "path") for k in loose]
    try:
        parsed = model.model_validate(values)
    except ValidationError as exc:
        errors += [from_pydantic(e, "path") for e in exc.errors(include_url=False) if e["loc"][0] not in loose]
    else:
        if not errors:
            return parsed
    errors.sort(key=lambda e: order.index(e["field"]))
    raise InvalidInput(f"invalid path parameter {', '.join(e['field'] for e in errors)} (路径参数无效)", errors=errors)


def parse_query(request: web.Request, model: type[BaseModel]) -> BaseModel:
    """The query string as `model`: 422 naming a parameter given twice, holding U+0000 or invalid."""
    bad = sorted(k for k, v in request.query.items() if "\x00" in k or "\x00" in v)
    if bad:
        raise InvalidInput("text must not contain U+0000 (NUL) (文本不能包含空字符)",
                           errors=[field_error(k, "query", "U+0000 is not allowed", "不能包含空字符") for k in bad])
    if loose := sorted(k for k, field in model.model_fields.items()
                       if is_day(field) and k in request.query and not DAY.fullmatch(request.query[k])):
        raise InvalidInput(f"a day is written YYYY-MM-DD (日期须写作 YYYY-MM-DD): {', '.join(loose)}",
                           errors=[field_error(k, "query", "YYYY-MM-DD expected", "日期须写作 YYYY-MM-DD")
                                   for k in loose])
    if loose := sorted(k for k, field in model.model_fields.items()
                       if is_integer(field) and k in request.query and not INTEGER.fullmatch(request.query[k])):
        raise InvalidInput(f"a whole number is written in digits (整数须以数字书写): {', '.join(loose)}",
                           errors=[not_digits(k, "query") for k in loose])
    if repeated := sorted({k for k in request.query if len(request.query.getall(k)) > 1}):
        raise InvalidInput(f"each query parameter may be given once (查询参数重复): {', '.join(repeated)}",
                           errors=[field_error(k, "query", "given more than once", "查询参数重复") for k in repeated])
    try:
        parsed = model.model_validate(dict(request.query))
    except ValidationError as exc:
        raise validation_problem(exc, "query") from exc
    _days_in_range(parsed, "query")
    return parsed


def _days_in_range(model: BaseModel, where: str) -> None:
    if outside := [field for field, day in _days(model, "") if not EARLIEST_DAY <= day <= LATEST_DAY]:
        raise InvalidInput(f"days must lie between {EARLIEST_DAY} and {LATEST_DAY} (日期超出范围): "
                           f"{', '.join(outside)}",
                           errors=[field_error(field, where, f"not within {EARLIEST_DAY}..{LATEST_DAY}",
                                               f"日期须在 {EARLIEST_DAY} 至 {LATEST_DAY} 之间")
                                   for field in outside])


def _days(value: Any, path: str) -> Iterator[tuple[str, date]]:
    """Every date in a validated model, nested models and lists included, with its dotted path."""
    if isinstance(value, datetime):
        yield path, value.date()
    elif isinstance(value, date):
        yield path, value
    elif isinstance(value, BaseModel):
        for name in type(value).model_fields:
            yield from _days(getattr(value, name), f"{path}.{name}" if path else name)
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            yield from _days(item, f"{path}.{i}")


class CadrePath(BaseModel):
    """The path of a route about one cadre."""

    cadre_id: CadreId


def ids_in(path: str) -> type[BaseModel]:
    """The path parameters of a command's `path`, each an id (`Identifier`: a post, an audit, a notice...)."""
    names = re.findall(r"{(\w+)}", path)
    fields: dict[str, Any] = {name: (Identifier, ...) for name in names}
    return create_model("Path_" + "_".join(names), **fields)
