"""What every route checks of a request beyond its model (shared/request_input.py), through the services' HTTP."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote, urlsplit

import aiohttp
import orjson
import pytest

from shared.canonical import duplicate_keys
from tests import support
from tests.support import System, call, new_cadre_id

_REGISTER = {"county": "431021", "occurred_on": "2012-03-01", "name": "张三", "id_number": "431021198001010016",
             "sex": "male", "birth_month": "1980-01", "work_start": "2002-07-01", "unit": "桂阳县审计局"}


async def _post_raw(url: str, body: bytes, content_type: str | None) -> tuple[int, dict[str, Any]]:
    headers = {"Authorization": f"Bearer {support.DEFAULT_TOKEN}"}
    if content_type is not None:
        headers["Content-Type"] = content_type
    async with aiohttp.ClientSession() as session, session.post(url, data=body, headers=headers) as resp:
        return resp.status, await resp.json(content_type=None)


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded",
                                          "application/json; charset=latin-1"])
async def test_a_body_not_declared_as_json_is_refused_with_415(system: System, content_type: str | None) -> None:
    body = orjson.dumps({**_REGISTER, "cadre_id": new_cadre_id()})
    status, problem = await _post_raw(f"{system.url('rotation')}/v1/cadres/register", body, content_type)
    assert status == 415, problem
    assert problem["errors"][0]["field"] == "Content-Type" and "请求体须为 JSON" in problem["detail"]
    if content_type and "charset" in content_type:  # the charset is what is wrong, and the answer says so
        assert "'latin-1'" in problem["detail"] and "utf-8" in problem["errors"][0]["message"], problem
    status, accepted = await _post_raw(f"{system.url('rotation')}/v1/cadres/register", body,
                                       "application/json; charset=utf-8")
    assert status == 202, accepted


async def test_an_integer_beyond_what_json_numbers_hold_is_refused_naming_it(system: System) -> None:
    body = {"cadre_id": new_cadre_id(), "county": "431021", "occurred_on": "2024-01-10", "year": 2023,
            "scope": "county_wide", "ballots": 10,
            "counts": {"excellent": 5, "competent": 5, "basically_competent": 0, "incompetent": 0},
            "rank": 2**60, "of": -(2**60)}
    status, problem, _ = await call("POST", f"{system.url('assessment')}/v1/evaluations", body)
    assert status == 422, problem
    assert [e["field"] for e in problem["errors"]] == ["of", "rank"] and "整数超出范围" in problem["detail"]


@pytest.mark.parametrize("depth", [33, 1000])
async def test_a_body_nested_too_deeply_is_refused(system: System, depth: int) -> None:
    """orjson parses 1,024 levels; the checks that walk a body are bounded before they run (a 500 before)."""
    body = orjson.dumps({**_REGISTER, "cadre_id": new_cadre_id()})[:-1] + b',"deep":' + b'{"a":' * depth + b"1"
    body += b"}" * (depth + 1)
    status, problem = await _post_raw(f"{system.url('rotation')}/v1/cadres/register", body, "application/json")
    assert status == 422, problem
    assert "嵌套过深" in problem["detail"]


async def test_every_invalid_field_is_named_in_english_and_chinese(system: System) -> None:
    body = {**_REGISTER, "cadre_id": new_cadre_id(), "sex": "x", "birth_month": "1980-13", "nickname": "小张"}
    del body["unit"]
    status, problem, _ = await call("POST", f"{system.url('rotation')}/v1/cadres/register", body)
    assert status == 422, problem
    said = {e["field"]: (e["type"], e["message_zh"]) for e in problem["errors"]}
    assert said == {"sex": ("literal_error", "取值须为 'male', 'female' 之一"),
                    "birth_month": ("string_pattern_mismatch", "格式不符, 须匹配 ^(19|20)[0-9]{2}-(0[1-9]|1[0-2])$"),
                    "unit": ("missing", "必填字段缺失"),
                    "nickname": ("extra_forbidden", "本接口没有此字段")}, problem
    assert all(e["message"] and e["in"] == "body" for e in problem["errors"])
    status, problem, _ = await call("GET", f"{system.url('ledger')}/v1/events?limit=0")
    assert status == 422 and problem["errors"][0]["message_zh"] == "须不小于 1", problem


@pytest.mark.parametrize(("field", "day"), [("effective_from", "9999-12-01"), ("effective_until", "1899-12-31")])
async def test_a_day_no_calendar_counts_from_is_refused_naming_it(system: System, field: str, day: str) -> None:
    body = {"cadre_id": new_cadre_id(), "county": "431021", "occurred_on": "2024-03-21", "category": "party",
            "measure": "serious_warning", "effective_from": "2024-03-21", "effective_until": "2025-03-20",
            field: day}
    status, problem, _ = await call("POST", f"{system.url('audit')}/v1/sanctions/SAN-RANGE", body)
    assert status == 422, problem
    assert problem["errors"][0]["field"] == field and "日期超出范围" in problem["detail"]


async def test_a_query_parameter_given_twice_is_refused_naming_it(system: System) -> None:
    status, problem, _ = await call("GET", f"{system.url('ledger')}/v1/events?after=1&after=5&limit=1")
    assert status == 422, problem
    assert problem["errors"] == [{"field": "after", "in": "query", "message": "given more than once",
                                  "message_zh": "查询参数重复"}]
    status, page, _ = await call("GET", f"{system.url('ledger')}/v1/events?after=1&limit=1")
    assert status == 200, page


async def test_a_request_id_that_is_not_plain_text_is_replaced(system: System) -> None:
    # Raw bytes, as a client that does not encode its headers sends them (aiohttp's client would refuse to).
    url = urlsplit(system.url("ledger"))
    reader, writer = await asyncio.open_connection(url.hostname, url.port)
    writer.write(b"GET /v1/cadres/NOBODY/state?purpose=x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                 b"Authorization: Bearer " + (support.DEFAULT_TOKEN or "").encode() + b"\r\n"
                 b"X-Request-Id: \xff\xfe\r\n\r\n")
    await writer.drain()
    answer = await reader.read()
    writer.close()
    head = answer.partition(b"\r\n\r\n")[0]
    assert head.split(b" ", 2)[1] in (b"200", b"404"), answer[:300]
    assert b"application/problem+json" in head or b"application/json" in head
    [request_id] = [line.split(b": ", 1)[1] for line in head.split(b"\r\n") if line.lower().startswith(b"x-request-id")]
    assert request_id != b"\xff\xfe" and len(request_id) == 32, request_id
    status, _, headers = await call("GET", f"{system.url('ledger')}/v1/tip", headers={"X-Request-Id": "trace-42"})
    assert status == 200 and headers["X-Request-ID"] == "trace-42", headers


async def _raw_exchange(base_url: str, request: bytes) -> tuple[bytes, bytes]:
    """Send bytes as they are (aiohttp's client would refuse to send most of these) and read the whole answer."""
    url = urlsplit(base_url)
    reader, writer = await asyncio.open_connection(url.hostname, url.port)
    writer.write(request)
    await writer.drain()
    answer = await asyncio.wait_for(reader.read(), 10)
    writer.close()
    head, _, body = answer.partition(b"\r\n\r\n")
    return head, body


@pytest.mark.parametrize(("service", "request_bytes", "said"), [
    ("ledger", b"GET /v1/tip HTTP/1.1\r\nHost: x\r\nX-Padding: " + b"a" * 9000 + b"\r\n\r\n", "8190 bytes"),
    ("ledger", b"G@T /v1/tip HTTP/1.1\r\nHost: x\r\n\r\n", "Invalid method"),
    ("ledger", b"GET /v1/tip HTTP/9.Z\r\nHost: x\r\n\r\n", "status line"),
    ("audit", b"POST /v1/audits/A1/complete HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n", "Content-Length"),
    ("rotation", b"POST /v1/cadres/register HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
     "chunk size"),
])
async def test_a_request_that_is_not_readable_http_is_answered_with_problem_json(
        system: System, service: str, request_bytes: bytes, said: str) -> None:
    # aiohttp answers these itself, before any handler or middleware runs.
    head, body = await _raw_exchange(system.url(service), request_bytes)
    assert head.split(b" ", 2)[1] == b"400", head
    assert b"content-type: application/problem+json" in head.lower(), head
    problem = orjson.loads(body)
    assert problem["status"] == 400 and problem["type"].endswith("/bad-request"), problem
    assert "请求无法解析" in problem["detail"] and said in problem["detail"], problem
    assert len(problem["detail"]) < 300, "the request's own bytes are not told back in full"
    assert b"server: cadre-ledger\r\n" in head.lower() and b"aiohttp" not in head.lower(), head
    status, _, _ = await call("GET", f"{system.url(service)}/livez")
    assert status == 200, "the server goes on serving"


@pytest.mark.parametrize("path", ["/livez", "/v1/tip", "/v1/nowhere", "/docs"])
async def test_every_answer_names_no_versions_and_forbids_type_sniffing(system: System, path: str) -> None:
    status, _, headers = await call("GET", f"{system.url('ledger')}{path}")
    assert status in (200, 404)
    assert headers["Server"] == "cadre-ledger" and headers["X-Content-Type-Options"] == "nosniff", headers


async def test_a_method_not_allowed_names_the_allowed_ones_and_head_answers_as_get(system: System) -> None:
    status, problem, headers = await call("PUT", f"{system.url('ledger')}/v1/tip")
    assert status == 405 and problem["status"] == 405
    assert "GET" in headers["Allow"] and "HEAD" in headers["Allow"]
    status, body, headers = await call("HEAD", f"{system.url('ledger')}/v1/tip")
    assert status == 200 and not body and headers["Content-Type"] == "application/json"
    assert (await call("HEAD", f"{system.url('ledger')}/v1/tip", token=support.ANONYMOUS))[0] == 401


@pytest.mark.parametrize(("text", "twice"), [
    (b'{"a": 1, "b": 2}', []),
    (b'{"a": 1, "a": 2}', ["a"]),
    (b'{"a": {"x": 1, "y": {"x": 2}}, "b": [{"k": 1, "k": 1}]}', ["k"]),
    (b'{"\\u0061": 1, "a": 2}', ["a"]),  # the same name, escaped
])
def test_keys_given_twice_are_found(text: bytes, twice: list[str]) -> None:
    assert duplicate_keys(text) == twice


async def test_a_body_giving_a_key_twice_is_refused_naming_it(system: System) -> None:
    cadre = new_cadre_id()
    body = orjson.dumps({**_REGISTER, "cadre_id": cadre}).replace(b'"county":', b'"county":"999999","county":', 1)
    status, problem = await _post_raw(f"{system.url('rotation')}/v1/cadres/register", body, "application/json")
    assert status == 422, problem
    assert problem["errors"] == [{"field": "county", "in": "body", "message": "given more than once",
                                  "message_zh": "键重复"}]



async def test_a_range_given_backwards_names_its_end(system: System) -> None:
    url = f"{system.url('ledger')}/v1/reports/funnel?received_from=2024-12-31&received_to=2024-01-01"
    status, problem, _ = await call("GET", url)
    assert status == 422, problem
    assert [e["field"] for e in problem["errors"]] == ["received_to"] and "截止日期早于起始日期" in str(problem)


@pytest.mark.parametrize(("field", "value", "says"), [
    ("name", "   ", "姓名为空"),
    ("name", "张\u200b三", "姓名含不可见字符"),
    ("name", "\u202e三张", "姓名含不可见字符"),
    ("name", "a\u0007b", "姓名含不可见字符"),
    ("work_start", "2012-03-02", "参加工作时间晚于登记日期"),
    ("work_start", "1979-12-31", "参加工作时间早于出生年月"),
    ("work_start", "1980-01-20", "参加工作时间早于出生年月"),
])
async def test_a_registration_refuses_an_unreadable_name_or_a_work_start_after_it(
        system: System, field: str, value: str, says: str) -> None:
    body = {**_REGISTER, "cadre_id": new_cadre_id(), field: value}
    status, problem, _ = await call("POST", f"{system.url('rotation')}/v1/cadres/register", body)
    assert status == 422, problem
    assert problem["errors"][0]["field"] == field and says in problem["errors"][0]["message"]


@pytest.mark.parametrize("written", [0, 1330560000.0, "2012-03-01T00:00:00", "2012-3-1"])
async def test_a_day_is_taken_only_as_written_yyyy_mm_dd(system: System, written: object) -> None:
    """Left lax, 0 was recorded as 1970-01-01 and a Unix time or a midnight date-time as its day."""
    body = {**_REGISTER, "cadre_id": new_cadre_id(), "occurred_on": written}
    status, problem, _ = await call("POST", f"{system.url('rotation')}/v1/cadres/register", body)
    assert status == 422, problem
    assert problem["errors"][0]["field"] == "occurred_on" and "日期须写作 YYYY-MM-DD" in problem["errors"][0]["message"]
    assert problem["errors"][0]["message_zh"] == "日期须写作 YYYY-MM-DD", "the Chinese alone, not both languages"


@pytest.mark.parametrize("written", ["0", "1704067200", "2024-01-01T00:00:00"])
async def test_a_day_in_a_query_is_taken_only_as_written_yyyy_mm_dd(system: System, written: str) -> None:
    url = f"{system.url('ledger')}/v1/rotation/due?county=431021&as_of="
    status, problem, _ = await call("GET", url + written)
    assert status == 422, problem
    assert problem["errors"] == [{"field": "as_of", "in": "query", "message": "YYYY-MM-DD expected",
                                  "message_zh": "日期须写作 YYYY-MM-DD"}]
    assert (await call("GET", url + "2024-01-01"))[0] == 200


@pytest.mark.parametrize("written", ["1_0", "+10", "10.0", " 10", "1e1"])
async def test_a_whole_number_in_a_query_or_path_is_taken_only_in_digits(system: System, written: str) -> None:
    """pydantic alone read "1_0", "+10" and "10.0" as 10: a client's mistake answered as if it were meant."""
    feed = f"{system.url('ledger')}/v1/events?limit="
    status, problem, _ = await call("GET", feed + quote(written))
    assert status == 422, problem
    assert problem["errors"] == [{"field": "limit", "in": "query", "message": "digits expected, e.g. 100",
                                  "message_zh": "整数须以数字书写, 如 100"}]
    assert (await call("GET", feed + "10"))[0] == 200
    path = f"{system.url('ledger')}/v1/checkpoints/{quote(written)}/cosignatures"
    status, problem, _ = await call("POST", path, {"witness": "w", "note": "n"})
    assert status == 422 and problem["errors"][0]["field"] == "checkpoint_id", problem


@pytest.mark.parametrize(("method", "path", "name"), [("GET", "/v1/checkpoints/latest?witnessed=true", "witnessed"),
                                                      ("GET", "/v1/tip?county=431021", "county"),
                                                      ("POST", "/v1/checkpoints?wait=committed", "wait")])
async def test_a_query_parameter_a_route_does_not_take_is_refused_naming_it(system: System, method: str, path: str,
                                                                            name: str) -> None:
    """Routes that declare no query answered as if a parameter they never read had been heeded (the latest
    checkpoint, witnessed or not, for `?witnessed=true`)."""
    status, problem, _ = await call(method, f"{system.url('ledger')}{path}")
    assert status == 422, problem
    assert [(e["field"], e["in"], e["message_zh"]) for e in problem["errors"]] == [(name, "query", "本接口没有此字段")]
    without = (await call(method, f"{system.url('ledger')}{path.partition('?')[0]}"))[0]
    assert without in (200, 201, 404), without  # 404: no checkpoint signed yet in this session


async def test_a_body_sent_to_a_route_that_takes_none_is_refused_naming_its_fields(system: System) -> None:
    url = f"{system.url('ledger')}/v1/checkpoints"
    status, problem, _ = await call("POST", url, {"size": 5})
    assert status == 422, problem
    assert [(e["field"], e["in"], e["message_zh"]) for e in problem["errors"]] == [("size", "body", "本接口没有此字段")]
    status, problem = await _post_raw(url, b"size=5", "application/x-www-form-urlencoded")
    assert status == 415 and problem["errors"][0]["field"] == "Content-Type", problem
    nothings: tuple[dict[str, Any] | None, ...] = (None, {})  # no body, or the {} many clients send with every POST
    for nothing in nothings:
        status, checkpoint, _ = await call("POST", url, nothing)
        assert status in (200, 201) and checkpoint["size"] >= 0, checkpoint


async def test_an_empty_body_sent_in_chunks_is_no_body(system: System) -> None:
    """A client that streams its body sends an empty one as a single last chunk (Transfer-Encoding: chunked, no
    Content-Length, often no Content-Type): it holds nothing, as an absent body does, and was refused with 415
    (请求体须为 JSON) by a route that takes no body."""
    async def nothing() -> AsyncIterator[bytes]:
        return
        yield b""

    headers = {"Authorization": f"Bearer {support.DEFAULT_TOKEN}"}
    async with aiohttp.ClientSession() as session, session.post(f"{system.url('ledger')}/v1/checkpoints",
                                                                data=nothing(), headers=headers) as resp:
        assert resp.request_info.headers.get("Transfer-Encoding") == "chunked"
        assert resp.status in (200, 201), await resp.text()
