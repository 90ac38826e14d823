"""What the OpenAPI documents say of answers is what the services answer, read through HTTP.

Found by review, each a gap between /openapi.json and the answers (clients are generated from the document):
- an answer's defaulted fields (`CommandResult.duplicate`, `warnings`, `position`) were optional in the document
  (response schemas in pydantic's validation mode), though every answer carries them;
- a 415 was typed `http-error` / "HTTP error (请求错误)", the fallback of a status without its own type;
- the extension members answers carry (`required_role` on a 403, `stream_seq` on a 422 `quarantined`,
  `counties`, `cadre_id`...) were not in the Problem schema; a `rule-violation`'s `missing` was documented as Merkle
  nodes, and `notice.not_open` put the notice's status over the problem's own `status` ("cancelled", not 422);
- a 401's `WWW-Authenticate` was not documented;
- a request's day was `format: date` alone, while only 1900-01-01..2199-12-31 is accepted.
"""

from __future__ import annotations

import re
from typing import Any

import jsonschema
import pytest
from aiohttp import web
from pydantic import BaseModel, Field
from schemathesis.core.result import Err

from shared.http import Api, create_app
from shared.problems import Quarantined
from shared.processes import SERVICES
from tests import support
from tests.assessment_slice_support import CHECKS, base, notice, post, select
from tests.documented import schema_of, undocumented
from tests.support import System, call, openapi_document, registered_cadre, served

_PROBLEM_TYPES = "https://cadre-ledger.dev/problems/"


def _answer_components(document: dict[str, Any]) -> set[str]:
    """The component schemas an answer of 2xx refers to, and those they refer to in turn."""
    def refs(value: Any) -> set[str]:
        if isinstance(value, dict):
            found = {value["$ref"].rsplit("/", 1)[1]} if "$ref" in value else set()
            return found.union(*(refs(v) for v in value.values()))
        return set().union(*(refs(v) for v in value)) if isinstance(value, list) else set()

    schemas = document["components"]["schemas"]
    todo = {name for operations in document["paths"].values() for operation in operations.values()
            for code, answer in operation["responses"].items() if code.startswith("2") for name in refs(answer)}
    seen: set[str] = set()
    while todo:
        name = todo.pop()
        seen.add(name)
        todo |= refs(schemas[name]) - seen
    return seen


@pytest.mark.parametrize("service", [s.name for s in SERVICES])
async def test_every_field_of_an_answer_is_documented_as_always_there(system: System, service: str) -> None:
    document = await openapi_document(system, service)
    schemas = document["components"]["schemas"]
    optional = {name: sorted(set(schemas[name].get("properties", {})) - set(schemas[name].get("required", [])))
                for name in _answer_components(document)}
    assert {name: fields for name, fields in optional.items() if fields} == {}
    if service == "rotation":  # a request body keeps its defaults optional (the command's correction, its wait)
        assert "correction" not in schemas["Registration"]["required"]


async def test_an_accepted_command_answers_every_field_its_document_requires(system: System) -> None:
    cadre = support.new_cadre_id("OA")
    body = {"cadre_id": cadre, "county": "431021", "occurred_on": "2024-01-20", "name": "王五", "sex": "male",
            "birth_month": "1980-01", "id_number": "431021198001010016", "work_start": "2002-07-01",
            "unit": "桂阳县审计局"}
    status, answer, _ = await call("POST", f"{system.url('rotation')}/v1/cadres/register?wait=committed", body)
    assert status == 202, answer
    document = await openapi_document(system, "rotation")
    required = document["components"]["schemas"]["CommandResult"]["required"]
    assert {"duplicate", "warnings", "position"} <= set(required) == set(answer), answer


class _Note(BaseModel):
    text: str
    tags: list[str] = Field(default_factory=list)


async def test_a_model_sent_and_answered_is_two_components_the_request_keeping_its_name() -> None:
    """None of the services' models is both a body and an answer today; one that becomes both must not rename the
    request's component (pydantic would call the two `_Note-Input` and `_Note-Output`)."""
    api = Api("probe", "1")

    @api.route("POST", "/notes", summary="Echo a note", body=_Note, response=_Note)
    async def echo(request: web.Request, *, body: _Note) -> _Note:
        return body

    async with served(create_app("probe", api, guard=None)) as url:
        status, document, _ = await call("GET", f"{url}/openapi.json")
    assert status == 200
    operation = document["paths"]["/notes"]["post"]
    assert operation["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/_Note")
    assert operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith("/_NoteOutput")
    schemas = document["components"]["schemas"]
    assert schemas["_Note"]["required"] == ["text"] and schemas["_NoteOutput"]["required"] == ["text", "tags"]


async def test_a_body_not_declared_json_has_its_own_problem_type(system: System) -> None:
    url = f"{system.url('rotation')}/v1/cadres/register"
    for content_type in ("text/plain", "application/json; charset=latin-1"):
        status, problem, _ = await call("POST", url, data=b"{}", headers={"Content-Type": content_type})
        assert status == 415, problem
        assert problem["type"] == _PROBLEM_TYPES + "unsupported-media-type", problem
        assert problem["title"] == "Unsupported media type (不支持的内容类型)", problem


def _members_declared(problem: dict[str, Any], declared: dict[str, Any]) -> list[str]:
    """The members of `problem` its document does not declare, or declares otherwise (one line each)."""
    schema = {**declared, "additionalProperties": True}
    if not problem["type"].endswith("/rule-violation"):  # a rule's own members are its own (additionalProperties)
        schema["additionalProperties"] = False
    return [f"{problem['type']}: {e.message}" for e in jsonschema.Draft202012Validator(schema).iter_errors(problem)]


async def test_every_member_of_a_problem_is_in_the_problem_schema(system: System) -> None:
    assert system.stack
    document = await openapi_document(system, "audit")
    declared = document["components"]["schemas"]["Problem"]
    cadre = await registered_cadre(system, "OA")
    start = {"cadre_id": cadre, "county": "431021", "occurred_on": "2024-01-02", "audit_type": "in_office",
             "period_from": "2020-01-01", "period_to": "2023-12-31", "auditing_body": "桂阳县审计局"}
    audits = f"{system.url('audit')}/v1/audits"
    answers = [
        await call("POST", f"{audits}/OA-1/start", start, token=support.auditor(system)),  # 403 required_role
        await call("POST", f"{audits}/OA-1/start", start,
                   token=system.stack.dev_token(["recorder"], ["110101"])),  # 403 counties
        await call("GET", f"{system.url('ledger')}/v1/cadres/{support.new_cadre_id('OA')}/history"),  # 404 cadre_id
        await call("POST", f"{audits}/OA-1/start", {**start, "cadre_id": support.new_cadre_id("OA")}),  # 422 field
        await call("POST", f"{audits}/OA-1/start", {**start, "county": "4310"}),  # 422 errors
        await call("POST", f"{system.url('assessment')}/v1/selections/XB-OA-2/inspection",  # 422 missing
                   {**base(cadre, "2024-03-01"), "proposed_post": "某镇党委书记", **CHECKS,
                    "petitions_checked": False}),
    ]
    assert [status for status, _, _ in answers] == [403, 403, 404, 422, 422, 422], answers
    members = {"required_role", "counties", "cadre_id", "field", "errors", "missing"}
    assert members <= {k for _, problem, _ in answers for k in problem}, answers
    # the 422 of a quarantined event: not to be had through HTTP while the services check what the ledger does
    problems = [problem for _, problem, _ in answers] + [Quarantined(7, "not_json: x").body("/v1/audits/OA-1/start")]
    assert [unsaid for problem in problems for unsaid in _members_declared(problem, declared)] == []
    cjk = re.compile(r"[\u4e00-\u9fff]")
    assert [m for m in (*members, "stream_seq") if not cjk.search(declared["properties"][m]["description"])] == []


async def test_a_refusal_keeps_its_status_a_number_and_tells_the_notice_status_beside_it(system: System) -> None:
    cadre = await registered_cadre(system, "OA")
    await select(system, cadre, "XB-OA-1", "2024-03-01", "2024-03-08")
    await notice(system, cadre, "XB-OA-1", "GS-OA-1", "2024-03-11", "2024-03-15")
    await post(system, "assessment", "/v1/notices/GS-OA-1/cancellation",
               {**base(cadre, "2024-03-12"), "reason": "举报查实, 取消任职资格"})
    closing = {**base(cadre, "2024-03-16"), "outcome": "clear"}
    status, problem, _ = await call("POST", f"{system.url('assessment')}/v1/notices/GS-OA-1/close", closing)
    assert status == 422 and problem["status"] == 422 and problem["rule"] == "notice.not_open", problem
    assert problem["notice_status"] == "cancelled", problem
    operation = schema_of(system.url("assessment")).find_operation_by_label("POST /v1/notices/{notice_id}/close")
    assert operation is not None
    case = operation.Case(path_parameters={"notice_id": "GS-OA-1"}, body=closing, media_type="application/json")
    headers = {"Authorization": f"Bearer {support.DEFAULT_TOKEN}"}
    response = case.call(headers=headers, timeout=30)
    assert response.status_code == 422 and undocumented(case, response, headers) == []


@pytest.mark.parametrize("service", [s.name for s in SERVICES])
def test_every_401_documents_and_carries_its_bearer_challenge(system: System, service: str) -> None:
    if service not in system.procs:
        system.start_service(service)
    found: list[str] = []
    for result in schema_of(system.url(service)).get_all_operations():
        assert not isinstance(result, Err), result.err()  # the fuzz test names such an operation
        operation = result.ok()
        challenge = operation.definition.raw["responses"]["401"].get("headers", {}).get("WWW-Authenticate", {})
        if not challenge.get("required"):
            found.append(f"{operation.label}: 401 without WWW-Authenticate in its document")
        case = operation.Case(path_parameters={p.name: "1" for p in operation.path_parameters})
        for headers in ({}, {"Authorization": "Bearer not-a-token"}):
            response = case.call(headers=headers, timeout=30)
            answered = response.headers.get("WWW-Authenticate") or response.headers.get("www-authenticate")
            value = answered[0] if isinstance(answered, list) else answered
            if response.status_code != 401 or not re.match(challenge.get("schema", {}).get("pattern", "^Bearer "),
                                                           value or ""):
                found.append(f"{operation.label} with {headers}: {response.status_code}, WWW-Authenticate {value}")
            found += undocumented(case, response, headers)
    assert not found, "\n".join(found)


async def test_a_request_day_is_documented_within_the_days_accepted(system: System) -> None:
    document = await openapi_document(system, "ledger")
    day = document["components"]["schemas"]["Day"]
    assert day["format"] == "date" and "1900-01-01" in day["description"] and "2199-12-31" in day["description"]
    [as_of] = [p for p in document["paths"]["/v1/notices"]["get"]["parameters"] if p["name"] == "as_of"]
    assert {"$ref": "#/components/schemas/Day"} in as_of["schema"]["anyOf"], as_of
    for given in ("1899-12-31", "1900-01-01", "2199-12-31", "2200-01-01", "0999-06-30", "9999-12-31"):
        status, answer, _ = await call("GET", f"{system.url('ledger')}/v1/notices?as_of={given}")
        assert status in (200, 422), answer
        assert (status == 200) == bool(re.fullmatch(day["pattern"], given)), (given, answer)
    document = await openapi_document(system, "rotation")
    registration = document["components"]["schemas"]["Registration"]["properties"]
    assert registration["occurred_on"]["$ref"] == "#/components/schemas/Day", registration["occurred_on"]
    assert registration["occurred_on"]["description"], "a field's own description is kept beside the reference"


@pytest.mark.parametrize("service", [s.name for s in SERVICES])
async def test_every_component_has_a_name_a_generated_client_can_use(system: System, service: str) -> None:
    """Found by review: two models of one name (the dossier's audit and notice, and the read models' summaries) made
    pydantic name both by their modules (`services__ledger__dossier_audit__AuditSummary`), the type names a
    generated client took."""
    document = await openapi_document(system, service)
    assert [n for n in document["components"]["schemas"] if not re.fullmatch(r"[A-Z][A-Za-z0-9]*", n)] == []
