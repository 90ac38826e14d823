"""The AsyncAPI 3.0 document: generated from the catalogue, committed, valid, and describing real events."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from click.testing import CliRunner
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

from shared.asyncapi import build_asyncapi, render_asyncapi
from shared.cli import main as cli
from shared.events import CATALOGUE
from tests.support import audit_event

ROOT = Path(__file__).resolve().parents[1]
COMMITTED = ROOT / "docs" / "asyncapi.json"
# The official AsyncAPI 3.0.0 JSON Schema, from the npm package @asyncapi/specs (Apache-2.0, see LICENSE beside it).
SPEC_SCHEMA = ROOT / "tests" / "vendor" / "asyncapi" / "asyncapi-3.0.0.schema.json"
DOC_URI = "urn:cadre-ledger:asyncapi"


def test_committed_document_matches_the_catalogue() -> None:
    assert COMMITTED.read_text() == render_asyncapi(), "run `cadre-ledger asyncapi --write`"


def test_check_command_fails_on_drift(tmp_path: Path) -> None:
    runner = CliRunner()
    target = tmp_path / "asyncapi.json"
    assert runner.invoke(cli, ["asyncapi", "--write", "--file", str(target)]).exit_code == 0
    assert runner.invoke(cli, ["asyncapi", "--check", "--file", str(target)]).exit_code == 0
    target.write_text(target.read_text().replace('"3.0.0"', '"2.6.0"'))
    result = runner.invoke(cli, ["asyncapi", "--check", "--file", str(target)])
    assert result.exit_code != 0 and "drifted" in result.output


def test_document_is_valid_asyncapi_3() -> None:
    validator = jsonschema.Draft7Validator(json.loads(SPEC_SCHEMA.read_text()))
    document = json.loads(COMMITTED.read_text())
    assert [e.message for e in validator.iter_errors(document)] == []
    broken = {**document, "operations": {"x": {"action": "publish", "channel": {"$ref": "#/channels/cadreEvents"}}}}
    assert list(validator.iter_errors(broken))  # "publish" is AsyncAPI 2; version 3 says send/receive


def test_every_event_type_has_a_message_on_the_cadre_channel() -> None:
    document = build_asyncapi()
    channel = document["channels"]["cadreEvents"]
    assert channel["address"] == "cadre.{county}.{cadre_id}"
    assert set(channel["parameters"]) == {"county", "cadre_id"}
    names = {document["components"]["messages"][ref["$ref"].rsplit("/", 1)[1]]["name"]
             for ref in channel["messages"].values()}
    assert names == set(CATALOGUE)
    assert document["channels"]["checkpoints"]["address"] == "ledger.checkpoints"
    for spec in CATALOGUE.values():
        message = document["components"]["messages"][spec.type.replace(".", "_")]
        assert message["title"].startswith(spec.label_zh)
        assert document["components"]["schemas"][spec.type]["x-dataschema"] == spec.dataschema


def _payload_validator(event_type: str) -> jsonschema.Draft7Validator:
    registry: Registry[Any] = Registry().with_resource(
        DOC_URI, Resource.from_contents(build_asyncapi(), default_specification=DRAFT7))
    ref = f"{DOC_URI}#/components/messages/{event_type.replace('.', '_')}/payload"
    return jsonschema.Draft7Validator({"$ref": ref}, registry=registry)


def test_payload_schemas_accept_real_events_and_refuse_bad_ones() -> None:
    validator = _payload_validator("audit.completed")
    event = audit_event("T-asyncapi").json_obj()
    event["data"]["findings"] = [{"finding_id": "F1", "category": 3, "amount": "12.50",
                                  "responsibility": "direct"}]
    assert [e.message for e in validator.iter_errors(event)] == []
    wrong_finding = json.loads(json.dumps(event))
    wrong_finding["data"]["findings"][0]["responsibility"] = "nobody"  # resolved through a relocated $defs entry
    assert list(validator.iter_errors(wrong_finding))
    with pytest.raises(jsonschema.ValidationError):
        _payload_validator("audit.started").validate(event)  # the type is pinned per message
