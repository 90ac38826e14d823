"""Public contracts: committed schemas match the catalogue; every service's OpenAPI document is valid."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from openapi_spec_validator import validate

from shared.cli import main as cli
from shared.events import CATALOGUE
from shared.processes import SERVICES
from shared.schemas import render_schemas
from tests.support import System, call, openapi_document

ROOT = Path(__file__).resolve().parents[1]


def test_committed_schemas_match_the_catalogue() -> None:
    directory = ROOT / "schemas" / "events"
    rendered = render_schemas()
    assert set(rendered) == {p.name for p in directory.glob("*.json")}
    for name, text in rendered.items():
        assert (directory / name).read_text() == text, f"{name} drifted: run `make schemas`"


def test_schema_check_command_fails_on_drift(tmp_path: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(cli, ["schemas", "--write", "--dir", str(tmp_path)]).exit_code == 0
    assert runner.invoke(cli, ["schemas", "--check", "--dir", str(tmp_path)]).exit_code == 0
    (tmp_path / "audit.completed.json").write_text("{}")
    result = runner.invoke(cli, ["schemas", "--check", "--dir", str(tmp_path)])
    assert result.exit_code != 0 and "audit.completed.json" in result.output
    elsewhere = runner.invoke(cli, ["schemas", "--check", "--dir", str(tmp_path / "nowhere")])
    assert elsewhere.exit_code != 0 and "no schemas directory" in elsewhere.output and "drifted" not in elsewhere.output


def test_every_event_type_has_chinese_and_english_labels() -> None:
    for spec in CATALOGUE.values():
        assert spec.label_zh and spec.label_en
        assert any("\u4e00" <= ch <= "\u9fff" for ch in spec.label_zh)


def test_the_fields_that_identify_a_fact_are_fields_of_its_type() -> None:
    identified = {t: spec.once_per for t, spec in CATALOGUE.items() if spec.once_per}
    assert {"assessment.annual_graded", "audit.started", "sanction.imposed"} <= set(identified)
    for type_, keys in identified.items():
        fields = CATALOGUE[type_].model.model_fields
        for key in keys:
            assert key and all(f in fields and fields[f].is_required() for f in key), (type_, key)


@pytest.mark.parametrize("service", [s.name for s in SERVICES])
async def test_openapi_document_is_valid_and_docs_are_served(system: System, service: str) -> None:
    doc = await openapi_document(system, service)
    validate(doc)
    assert doc["openapi"].startswith("3.1") and doc["paths"]
    status, html, headers = await call("GET", f"{system.url(service)}/docs")
    assert status == 200 and "openapi.json" in html and headers["Content-Type"].startswith("text/html")


@pytest.mark.parametrize("service", [s.name for s in SERVICES])
async def test_health_and_metrics(system: System, service: str) -> None:
    if service not in system.procs:
        system.start_service(service)
    base = system.url(service)
    assert (await call("GET", f"{base}/livez"))[0] == 200
    status, body, _ = await call("GET", f"{base}/readyz")
    assert status == 200 and body["status"] == "ready"
    status, text, _ = await call("GET", f"{base}/metrics")
    assert status == 200 and "http_request_duration_seconds" in text
    status, problem, headers = await call("GET", f"{base}/no/such/route")
    assert status == 404 and headers["Content-Type"].startswith("application/problem+json")
    assert problem["status"] == 404
