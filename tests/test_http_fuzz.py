"""Fuzz every HTTP endpoint of every service from its own OpenAPI document (schemathesis).

Whatever the input, no service answers 5xx: bad input gets a problem+json 4xx naming the problem, and each field it
names in English and Chinese. And every answer is one the document promises (`tests.documented`): a status documented
for the operation, the documented content type, a body valid against the documented schema, the headers documented
as required. Inputs are valid (positive) and invalid (negative) by the document, and a cadre on record is named in
the paths that take one, so that the reads answer a record to check, not only 404s.
(schemathesis' pytest plugin does not run under pytest 9, so the operations are driven here.)
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.core.result import Err

from shared.processes import SERVICES
from tests import support
from tests.documented import schema_of, undocumented
from tests.support import System


@pytest.fixture(scope="module")
async def on_record(system: System) -> str:
    """A cadre the ledger holds: named in the fuzzed paths, it makes the reads answer a record."""
    return await support.registered_cadre(system, "FZ")


@pytest.mark.parametrize("service", [s.name for s in SERVICES])
def test_every_answer_is_documented_and_none_a_failure(system: System, service: str, on_record: str) -> None:
    if service not in system.procs:
        system.start_service(service)
    headers = {"Authorization": f"Bearer {support.DEFAULT_TOKEN}"}
    failures: dict[tuple[str, str, int], str] = {}
    operations = 0
    for result in schema_of(system.url(service)).get_all_operations():
        if isinstance(result, Err):  # an operation its own document describes so that no request can be made
            failures.setdefault((service, "unusable operation", 0), f"unusable operation in {service}'s OpenAPI "
                                f"document: {result.err()}")
            continue
        operation = result.ok()
        operations += 1
        inputs = [operation.as_strategy(GenerationMode.POSITIVE), operation.as_strategy(GenerationMode.NEGATIVE)]
        if "{cadre_id}" in operation.path:
            inputs.append(operation.as_strategy(GenerationMode.POSITIVE, path_parameters={"cadre_id": on_record}))

        @given(case=st.one_of(inputs))
        @settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def exercise(case: schemathesis.Case[Any]) -> None:
            response = case.call(headers=headers, timeout=30)
            label = f"{case.method} {case.formatted_path}"
            for unsaid in undocumented(case, response, headers):  # the first example of each kind, status, operation
                failures.setdefault((case.operation.label, unsaid.split(":")[1], response.status_code),
                                    f"{case.as_curl_command()}\n  {unsaid}\n  answered: {response.text[:300]}")
            if response.status_code >= 400:
                found = {k.lower(): v for k, v in response.headers.items()}.get("content-type", "")
                value = found[0] if isinstance(found, list) else found
                if not value.startswith("application/problem+json"):
                    failures.setdefault((label, "not problem+json", response.status_code),
                                        f"{label} -> {response.status_code} as {value}")
                elif english_only := [e for e in response.json().get("errors", []) if not e.get("message_zh")]:
                    failures.setdefault((label, "not in Chinese", response.status_code),
                                        f"{label}: fields not named in Chinese: {english_only}")

        exercise()
    assert operations > 0
    assert not failures, f"{len(failures)} failures:\n" + "\n".join(list(failures.values())[:40])


@pytest.mark.parametrize("service", [s.name for s in SERVICES])
def test_input_an_operation_does_not_take_is_answered_as_documented(system: System, service: str) -> None:
    """A query field, a body that is not JSON or not declared JSON, a request line too long to read: every route
    refuses each (`shared.http`, `shared.request_input`, aiohttp), whatever it declares, and its document says so.

    The generator does not send these to an operation that declares no such input (GET /v1/tip?witnessed=true
    answered a 422 its document did not list, nor did any list the 400 of a body that is not JSON)."""
    if service not in system.procs:
        system.start_service(service)
    headers = {"Authorization": f"Bearer {support.DEFAULT_TOKEN}"}
    found: list[str] = []
    for result in schema_of(system.url(service)).get_all_operations():
        assert not isinstance(result, Err), result.err()  # the fuzz test names such an operation
        operation = result.ok()
        path = {p.name: "1" for p in operation.path_parameters}
        sent = [(operation.Case(path_parameters=path, query={"not_a_field": "1"}), {}, {422, 415}),  # 415: no body
                (operation.Case(path_parameters=path), {"Content-Type": "application/json", "data": b"{"}, {400}),
                (operation.Case(path_parameters=path), {"Content-Type": "text/plain", "data": b"x"}, {415}),
                (operation.Case(path_parameters=path, query={"q": "x" * 9000}), {}, {400})]
        for case, extra, expected in sent:
            data = extra.pop("data", None)
            response = case.call(headers={**headers, **extra}, data=data, timeout=30)
            if response.status_code not in expected | {422}:  # 422: a path parameter refused before the rest is read
                found.append(f"{operation.label} with {extra or case.query}: {response.status_code}, not {expected}")
            found += undocumented(case, response, headers)
    assert not found, "\n".join(found)


async def test_an_accepted_command_is_answered_as_documented(system: System) -> None:
    """The generator's commands are refused by the rules (a cadre not on record): these are accepted, their 202 (the
    command's result, an evaluation's with its threshold check) checked against the document."""
    headers = {"Authorization": f"Bearer {support.DEFAULT_TOKEN}"}
    cadre = support.new_cadre_id("FZ")
    day = {"county": "431021", "occurred_on": "2024-01-20"}
    registration = {"cadre_id": cadre, **day, "name": "王五", "sex": "male", "birth_month": "1980-01",
                    "id_number": "431021198001010016", "work_start": "2002-07-01", "unit": "桂阳县审计局"}
    sent: list[tuple[str, str, dict[str, Any]]] = [
        ("rotation", "POST /v1/cadres/register", registration),
        ("assessment", "POST /v1/annual-grades", {"cadre_id": cadre, **day, "year": 2023, "grade": "competent"}),
        ("assessment", "POST /v1/evaluations", {
            "cadre_id": cadre, **day, "occurred_on": "2024-12-20", "year": 2024, "scope": "county_wide",
            "ballots": 120, "rank": 8, "of": 60,
            "counts": {"excellent": 36, "competent": 70, "basically_competent": 6, "incompetent": 8}})]
    found: list[str] = []
    for service, label, body in sent:
        operation = schema_of(system.url(service)).find_operation_by_label(label)
        assert operation is not None, label
        case = operation.Case(body=body, query={"wait": "committed"}, media_type="application/json")
        response = await asyncio.to_thread(case.call, headers=headers, timeout=30)
        assert response.status_code == 202, response.text
        found += undocumented(case, response, headers)
    assert not found, "\n".join(found)
