"""Every operation's OpenAPI responses include the 500 and 503 any route can answer, and name each error in Chinese
too.

Found by review: the middleware (`shared.http`) answers a database or NATS outage 503 with Retry-After, and a statement
PostgreSQL refuses (or any fault) 500 `internal` with the request id, on every route; the documents listed a 500 on 3
of the routes and the 503's Retry-After on none, so a client generated from them had no case for either.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from shared.processes import SERVICES
from tests.support import System, openapi_document

PROBLEM = {"$ref": "#/components/schemas/Problem"}
_CJK = re.compile(r"[\u4e00-\u9fff]")


def _undocumented(document: dict[str, Any]) -> list[str]:
    """Each operation's missing or incomplete 500/503, as `METHOD path: what`."""
    found: list[str] = []
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            for code in ("500", "503"):
                response = responses.get(code, {})
                if response.get("content", {}).get("application/problem+json", {}).get("schema") != PROBLEM:
                    found.append(f"{method.upper()} {path}: {code} without the problem+json schema")
            if not responses.get("503", {}).get("headers", {}).get("Retry-After", {}).get("required"):
                found.append(f"{method.upper()} {path}: 503 without its Retry-After header")
            described = responses.get("500", {}).get("description", "")
            if not ("内部错误" in described and "request_id" in described):
                found.append(f"{method.upper()} {path}: 500 not described as an internal fault (内部错误)")
            if "requestBody" in operation:  # every body is read by one parser (shared.request_input)
                found += [f"{method.upper()} {path}: {code} not documented" for code in ("413", "415")
                          if code not in responses]
            found += [f"{method.upper()} {path}: {code} described without Chinese ({r['description']!r})"
                      for code, r in responses.items() if code.startswith("4") and not _CJK.search(r["description"])]
    return found


@pytest.mark.parametrize("service", [s.name for s in SERVICES])
async def test_every_operation_documents_the_outage_and_the_fault(system: System, service: str) -> None:
    document = await openapi_document(system, service)
    assert document["paths"]
    assert _undocumented(document) == []
    request_id = document["components"]["schemas"]["Problem"]["properties"]["request_id"]
    assert "请求编号" in request_id["description"], request_id
    if service == "ledger":  # a proof's own 500 (a damaged database) is kept, beside the fault's
        described = document["paths"]["/v1/proofs/inclusion"]["get"]["responses"]["500"]["description"]
        assert "存储数据不一致" in described and "内部错误" in described, described
        tip = document["paths"]["/v1/tip"]["get"]["responses"]["500"]["description"]
        assert "存储数据不一致" not in tip, tip
