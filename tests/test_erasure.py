"""Erasing a cadre's clear personal data leaves every proof valid (issue 6)."""

from __future__ import annotations

from pathlib import Path

from shared.bundle import verify_bundle
from shared.keys import load_verifier
from shared.verify import verify_ledger
from tests.support import System, call, new_cadre_id

REGISTRATION = {"county": "431021", "occurred_on": "2015-03-01", "name": "王五", "sex": "male",
                "birth_month": "1980-01", "id_number": "431021198001010016", "work_start": "2002-07-01",
                "unit": "桂阳县审计局"}


async def test_erasure_then_full_verify_passes(system: System) -> None:
    cadre = new_cadre_id()
    rotation, ledger = system.url("rotation"), system.url("ledger")
    status, body, _ = await call("POST", f"{rotation}/v1/cadres/register?wait=committed",
                                 {"cadre_id": cadre, **REGISTRATION})
    assert status == 202, body
    _, before, _ = await call("GET", f"{ledger}/v1/cadres/{cadre}/history")
    _, person, _ = await call("GET", f"{rotation}/v1/cadres/{cadre}/person")
    assert person["name"] == "王五" and person["commitments_match"] is True

    erasure = {"cadre_id": cadre, "county": "431021", "occurred_on": "2024-05-01", "reason": "本人申请删除",
               "reference": "桂组〔2024〕12号"}
    status, body, _ = await call("POST", f"{rotation}/v1/cadres/erase-personal-data?wait=committed", erasure)
    assert status == 202 and body["type"] == "person.erased" and body["committed"], body
    _, person, _ = await call("GET", f"{rotation}/v1/cadres/{cadre}/person")
    assert person["erased"] is True and person["name"] is None

    status, problem, _ = await call("POST", f"{rotation}/v1/cadres/erase-personal-data", erasure)
    assert status == 422 and problem["rule"] == "person.erase_once"
    blank = {**erasure, "reason": "  ", "reference": "\u3000"}
    status, problem, _ = await call("POST", f"{rotation}/v1/cadres/erase-personal-data", blank)
    assert status == 422 and sorted(e["field"] for e in problem["errors"]) == ["reason", "reference"], problem

    _, after, _ = await call("GET", f"{ledger}/v1/cadres/{cadre}/history")
    assert after["events"][0] == before["events"][0], "the registration, with its commitments, is unchanged"
    assert [e["type"] for e in after["events"]] == ["cadre.registered", "person.erased"]

    key = load_verifier(Path(system.env["CADRE_CHECKPOINT_KEY_FILE"]).with_suffix(".vkey").read_text().strip())
    status, bundle, _ = await call("GET", f"{ledger}/v1/cadres/{cadre}/bundle")
    assert status == 200 and verify_bundle(bundle, [key]).events == 2
    report = await verify_ledger(system.pg_dsn, [key])
    assert report.ok, report.reason
