"""Whether an answer is one a service's OpenAPI document promises (schemathesis' checks), for the tests that ask.

Clients are generated from /openapi.json: an answer it does not describe (its status, its content type, its body's
schema, a header it says is always there) is one a generated client has no case for.
"""

from __future__ import annotations

from typing import Any

import schemathesis
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.core.failures import FailureGroup

CONFORMANCE = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
               response_headers_conformance]
"""schemathesis' checks of an answer against the document; a 5xx is refused by the first."""


def schema_of(base_url: str) -> schemathesis.schemas.BaseSchema:
    """The service's own OpenAPI document, as schemathesis reads it."""
    return schemathesis.openapi.from_url(f"{base_url}/openapi.json")


def undocumented(case: schemathesis.Case[Any], response: schemathesis.Response, headers: dict[str, str]) -> list[str]:
    """What in the answer to `case` its operation's document does not promise, one line each (none: all of it)."""
    try:
        case.validate_response(response, checks=CONFORMANCE, headers=headers)
    except FailureGroup as group:
        return [f"{case.operation.label} -> {response.status_code}: {f.title}: {f.message}" for f in group.exceptions]
    return []
