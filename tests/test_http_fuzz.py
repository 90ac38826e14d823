"""Fuzz every HTTP endpoint of every service from its own OpenAPI document (schemathesis).

Whatever the input, no service answers 5xx: bad input gets a problem+json 4xx naming the problem, and each field it
names in English and Chinese.
(schemathesis' pytest plugin does not run under pytest 9, so the operations are driven here.)
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.core.result import Err

from shared.processes import SERVICES
from tests import support
from tests.support import System


@pytest.mark.parametrize("service", [s.name for s in SERVICES])
def test_no_input_makes_a_service_fail(system: System, service: str) -> None:
    if service not in system.procs:
        system.start_service(service)
    schema = schemathesis.openapi.from_url(f"{system.url(service)}/openapi.json")
    headers = {"Authorization": f"Bearer {support.DEFAULT_TOKEN}"}
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        if isinstance(result, Err):  # an operation its own document describes so that no request can be made
            failures.append(f"unusable operation in {service}'s OpenAPI document: {result.err()}")
            continue
        operation = result.ok()
        operations += 1

        @given(case=operation.as_strategy())
        @settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def exercise(case: schemathesis.Case[Any]) -> None:
            response = case.call(headers=headers, timeout=30)
            if response.status_code >= 500:
                failures.append(f"{case.as_curl_command()} -> {response.status_code}: "
                                f"{response.text[:300]}")
            elif response.status_code >= 400:
                found = {k.lower(): v for k, v in response.headers.items()}.get("content-type", "")
                value = found[0] if isinstance(found, list) else found
                if not value.startswith("application/problem+json"):
                    failures.append(f"{case.method} {case.formatted_path} -> {response.status_code} as {value}")
                elif unsaid := [e for e in response.json().get("errors", []) if not e.get("message_zh")]:
                    failures.append(f"{case.method} {case.formatted_path}: fields not named in Chinese: {unsaid}")

        exercise()
    assert operations > 0
    assert not failures, "\n".join(failures[:20])
