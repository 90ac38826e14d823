"""Who may do what: tokens, roles and county scopes, on every service (real HTTP)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from shared.auth import Principal, TokenError, issue_token, load_public_key, verify_token
from shared.cli import main as cli
from shared.guard import RateLimiter
from shared.processes import SERVICES
from tests.documented import schema_of, undocumented
from tests.support import (
    ANONYMOUS,
    System,
    audit_event,
    call,
    new_cadre_id,
    publish,
    publish_raw,
    wait_committed,
)

KEY = Ed25519PrivateKey.generate()


def test_token_round_trip_and_claims() -> None:
    token = issue_token(KEY, "clerk-1", ["recorder"], ["431021"], ttl_s=60)
    principal = verify_token(KEY.public_key(), token)
    assert principal == Principal("clerk-1", frozenset({"recorder"}), frozenset({"431021"}), principal.expires)
    assert principal.covers("431021") and not principal.covers("430000")
    assert verify_token(KEY.public_key(), issue_token(KEY, "a", ["auditor"], ["*"], 60)).covers("430000")


@pytest.mark.parametrize(("token", "message"), [
    ("", "malformed"),
    ("cadre1.e30", "malformed"),
    ("jwt.a.b", "malformed"),
    (issue_token(KEY, "late", ["auditor"], ["*"], ttl_s=10, now=time.time() - 100), "expired"),
    (issue_token(Ed25519PrivateKey.generate(), "forged", ["operator"], ["*"], ttl_s=60), "signature"),
])
def test_invalid_tokens_are_refused(token: str, message: str) -> None:
    with pytest.raises(TokenError, match=message):
        verify_token(KEY.public_key(), token)


def test_a_tampered_payload_breaks_the_signature() -> None:
    prefix, _, sig = issue_token(KEY, "clerk", ["recorder"], ["431021"], 60).split(".")
    other = issue_token(KEY, "clerk", ["operator"], ["*"], 60).split(".")[1]
    with pytest.raises(TokenError, match="signature"):
        verify_token(KEY.public_key(), f"{prefix}.{other}.{sig}")



def test_a_token_seen_before_still_expires_and_other_keys_still_refuse_it() -> None:
    issued = time.time()
    token = issue_token(KEY, "clerk", ["auditor"], ["*"], ttl_s=60, now=issued)
    assert verify_token(KEY.public_key(), token, now=issued).subject == "clerk"  # now remembered as well-signed
    with pytest.raises(TokenError, match="expired"):
        verify_token(KEY.public_key(), token, now=issued + 61)
    with pytest.raises(TokenError, match="signature"):
        verify_token(Ed25519PrivateKey.generate().public_key(), token, now=issued)

def first_get_route(doc: dict[str, Any]) -> str:
    paths: dict[str, Any] = doc["paths"]
    assert isinstance(paths, dict)
    for path, ops in paths.items():
        if "get" in ops:
            return path.replace("{cadre_id}", "NOBODY")
    raise AssertionError("no GET route")


@pytest.mark.parametrize("service", [s.name for s in SERVICES])
async def test_every_declared_route_needs_a_token(system: System, service: str) -> None:
    if service not in system.procs:
        system.start_service(service)
    base = system.url(service)
    status, doc, _ = await call("GET", f"{base}/openapi.json", token=ANONYMOUS)
    assert status == 200, "API docs are public: they hold no data"
    for path, ops in doc["paths"].items():
        for method in ops:
            url = base + path.replace("{", "").replace("}", "")
            status, _, headers = await call(method.upper(), url, token=ANONYMOUS)
            assert status == 401, f"{method} {path} answered {status} without a token"
            assert headers["Content-Type"].startswith("application/problem+json")
            assert "WWW-Authenticate" in headers
    for public in ("/livez", "/readyz", "/metrics"):
        assert (await call("GET", base + public, token=ANONYMOUS))[0] == 200


async def test_roles_and_county_scopes(system: System) -> None:
    assert system.stack is not None
    ledger, audit = system.url("ledger"), system.url("audit")
    recorder_elsewhere = system.stack.dev_token(["recorder"], ["430000"])
    auditor = system.stack.dev_token(["auditor"])
    body = {"cadre_id": new_cadre_id(), "county": "431021", "occurred_on": "2024-01-02", "audit_type": "departure",
            "period_from": "2019-01-01", "period_to": "2023-12-31", "auditing_body": "桂阳县审计局"}

    status, problem, _ = await call("POST", f"{audit}/v1/audits/Z1/start", body, token=auditor)
    assert status == 403 and problem["required_role"] == "recorder", "auditors read but never write"
    status, problem, _ = await call("POST", f"{audit}/v1/audits/Z1/start", body, token=recorder_elsewhere)
    assert status == 403 and problem["counties"] == ["431021"], "a county cannot write another county's cadres"

    status, problem, _ = await call("GET", f"{ledger}/v1/events", token=recorder_elsewhere)
    assert status == 403 and problem["required_role"] == "auditor"
    status, _, _ = await call("GET", f"{ledger}/v1/events", token=auditor)
    assert status == 200
    status, problem, _ = await call("GET", f"{ledger}/v1/quarantine", token=auditor)
    assert status == 403 and problem["required_role"] == "operator"


async def test_a_county_scoped_auditor_reads_only_its_counties(system: System) -> None:
    assert system.stack is not None
    cadre = new_cadre_id()
    seqs = await publish(system.nats_url, [audit_event(cadre)])
    await wait_committed(system.pg_dsn, seqs[0])
    ledger = system.url("ledger")
    mine, other = system.stack.dev_token(["auditor"], ["431021"]), system.stack.dev_token(["auditor"], ["430000"])
    missing = new_cadre_id()
    for path in ("/history", "/history?after_version=1", "/history?after_version=9", "/state", "/bundle"):
        status, _, _ = await call("GET", f"{ledger}/v1/cadres/{cadre}{path}", token=mine)
        assert status == 200, path
        # Another county's cadre answers exactly as a cadre with no record: no 403 telling that it exists.
        status, problem, _ = await call("GET", f"{ledger}/v1/cadres/{cadre}{path}", token=other)
        m_status, m_problem, _ = await call("GET", f"{ledger}/v1/cadres/{missing}{path}", token=other)
        assert (status, m_status) == (404, 404), path
        assert {k: str(v).replace(cadre, "?") for k, v in problem.items() if k != "instance"} == {
            k: str(v).replace(missing, "?") for k, v in m_problem.items() if k != "instance"}, path
    status, problem, _ = await call("GET", f"{ledger}/v1/events", token=mine)
    assert status == 403, "a scoped auditor must filter the feed by county"
    status, page, _ = await call("GET", f"{ledger}/v1/events?county=431021&limit=5", token=mine)
    assert status == 200 and all(e["event"]["county"] == "431021" for e in page["events"])
    assert (await call("GET", f"{ledger}/v1/events?county=430000", token=mine))[0] == 403


async def test_a_cadre_recorded_in_two_counties_is_refused_by_page_to_a_token_of_one(system: System) -> None:
    """A cadre with events in a county outside the scope, and some inside: its existence is no secret to the
    token, so what it may not read is a 403 naming the county; a history page of its own county's events reads."""
    assert system.stack is not None
    cadre = new_cadre_id()
    seqs = await publish(system.nats_url, [audit_event(cadre, 1), audit_event(cadre, 2, county="430000")])
    await wait_committed(system.pg_dsn, seqs[-1])
    ledger = system.url("ledger")
    mine = system.stack.dev_token(["auditor"], ["431021"])
    status, page, _ = await call("GET", f"{ledger}/v1/cadres/{cadre}/history?limit=1", token=mine)
    assert status == 200 and [e["event"]["county"] for e in page["events"]] == ["431021"]
    for path in ("/history", "/history?after_version=1", "/state", "/bundle"):
        status, problem, _ = await call("GET", f"{ledger}/v1/cadres/{cadre}{path}", token=mine)
        assert status == 403 and problem["counties"] == ["430000"], path
    status, page, _ = await call("GET", f"{ledger}/v1/cadres/{cadre}/history?after_version=2", token=mine)
    assert status == 200 and page["events"] == [], "a page past the end of a cadre the token may see"


async def test_a_county_scoped_operator_reads_the_quarantine_of_its_counties_only(system: System) -> None:
    """A message quarantined on another county's subject (its raw bytes may name that county's cadres) is not
    shown to an operator of one county; one on its own county's subject is."""
    assert system.stack is not None
    ours, theirs = new_cadre_id(), new_cadre_id()
    await publish_raw(system.nats_url, f"cadre.431021.{ours}", b"not json: ours")
    await wait_committed(system.pg_dsn, await publish_raw(system.nats_url, f"cadre.430000.{theirs}",
                                                          b"not json: theirs"))
    ledger = system.url("ledger")
    operator = system.stack.dev_token(["operator"], ["431021"])
    status, problem, _ = await call("GET", f"{ledger}/v1/quarantine?limit=1000", token=operator)
    assert status == 403 and "须指定授权县域" in problem["detail"], "a scoped operator must filter by county"
    status, problem, _ = await call("GET", f"{ledger}/v1/quarantine?county=430000&limit=1000", token=operator)
    assert status == 403 and problem["counties"] == ["430000"]
    status, page, _ = await call("GET", f"{ledger}/v1/quarantine?county=431021&limit=1000", token=operator)
    assert status == 200
    assert ours in {e["cadre_id"] for e in page["entries"]}
    assert all(e["subject"].startswith("cadre.431021.") for e in page["entries"]), page["entries"]
    status, page, _ = await call("GET", f"{ledger}/v1/quarantine?limit=1000")
    assert status == 200 and {ours, theirs} <= {e["cadre_id"] for e in page["entries"]}, "all-county operators"


async def test_another_countys_personal_data_is_not_looked_up(system: System) -> None:
    """The rotation service decides a token's scope on the ledger before it reads personal data: a cadre of another
    county answers as an unknown id does, without a lookup of the clear values (which made its 404 slower by a query,
    telling that the id exists). Shown with the table locked: such reads answer at once, the token's own wait."""
    assert system.stack is not None
    rotation = system.url("rotation")
    cadre = new_cadre_id()
    status, body, _ = await call("POST", f"{rotation}/v1/cadres/register?wait=committed", {
        "cadre_id": cadre, "county": "431021", "occurred_on": "2015-03-01", "name": "赵六", "sex": "male",
        "birth_month": "1980-01", "id_number": "431021198001010016", "work_start": "2002-07-01", "unit": "审计局"})
    assert status == 202, body
    outsider = system.stack.dev_token(["auditor"], ["430000"])
    locker = await asyncpg.connect(system.pg_dsn)
    try:
        async with locker.transaction():
            await locker.execute("LOCK TABLE person_data IN ACCESS EXCLUSIVE MODE")
            for cadre_id in (cadre, new_cadre_id()):
                status, problem, _ = await call("GET", f"{rotation}/v1/cadres/{cadre_id}/person", token=outsider,
                                                timeout=aiohttp.ClientTimeout(total=5))
                assert status == 404 and "无此干部个人信息" in problem["detail"], problem
    finally:
        await locker.close()
    status, person, _ = await call("GET", f"{rotation}/v1/cadres/{cadre}/person",
                                   token=system.stack.dev_token(["auditor"], ["431021"]))
    assert status == 200 and person["name"] == "赵六"


def test_token_cli_issues_tokens_the_services_accept(tmp_path: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(cli, ["token", "keygen", str(tmp_path)]).exit_code == 0
    result = runner.invoke(cli, ["token", "issue", "--key", str(tmp_path / "token-issuer.pem"), "--subject", "gy-zzb",
                                 "--role", "recorder", "--county", "431021", "--ttl", "600"])
    assert result.exit_code == 0, result.output
    principal = verify_token(load_public_key(tmp_path / "token-verify.pem"), result.output.strip())
    assert principal.subject == "gy-zzb" and principal.roles == {"recorder"} and principal.covers("431021")
    bad = runner.invoke(cli, ["token", "issue", "--key", str(tmp_path / "token-issuer.pem"), "--subject", "x",
                              "--role", "recorder", "--county", "4310"])
    assert bad.exit_code != 0 and "county" in bad.output


@pytest.mark.parametrize(("subject", "key", "option", "says"), [
    ("", "token-issuer.pem", "--subject", "令牌持有者"),
    ("   ", "token-issuer.pem", "--subject", "令牌持有者"),
    ("a\nb", "token-issuer.pem", "--subject", "令牌持有者"),
    ("x" * 129, "token-issuer.pem", "--subject", "令牌持有者"),
    ("gy-zzb", "token-verify.pem", "--key", "无法读取私钥"),  # the public half
    ("gy-zzb", "notes.txt", "--key", "无法读取私钥"),
])
def test_token_cli_refuses_a_subject_the_trail_could_not_name_and_a_key_that_is_not_one(
        tmp_path: Path, subject: str, key: str, option: str, says: str) -> None:
    runner = CliRunner()
    assert runner.invoke(cli, ["token", "keygen", str(tmp_path)]).exit_code == 0
    (tmp_path / "notes.txt").write_text("not a key\n")
    result = runner.invoke(cli, ["token", "issue", "--key", str(tmp_path / key), "--subject", subject,
                                 "--role", "auditor", "--county", "*"])
    assert result.exit_code == 2 and option in result.output and says in result.output, result.output
    assert "Traceback" not in result.output and "cadre1." not in result.output
    with pytest.raises(ValueError, match="令牌持有者"):
        issue_token(Ed25519PrivateKey.generate(), "", ["auditor"], ["*"], 600)


async def test_a_service_whose_token_key_file_is_not_a_key_stops_naming_it(system: System, tmp_path: Path) -> None:
    (tmp_path / "not-a-key.pem").write_text("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n")
    env = {**os.environ, **system.env_for("audit"), "CADRE_AUTH_PUBLIC_KEY_FILE": str(tmp_path / "not-a-key.pem"),
           "CADRE_AUDIT_PORT": "9"}
    started = await asyncio.to_thread(subprocess.run, [sys.executable, "-m", "services.audit.main"], env=env,
                                      capture_output=True, text=True, timeout=60, check=False)
    assert started.returncode == 1, started.stderr
    assert "CADRE_AUTH_PUBLIC_KEY_FILE" in started.stderr and "无法读取公钥" in started.stderr, started.stderr
    assert "Traceback" not in started.stderr


def test_rate_limiter_allows_a_burst_then_the_rate() -> None:
    limiter = RateLimiter(rate=2, burst=3)
    assert [limiter.take("a", now=100.0) for _ in range(3)] == [0, 0, 0]
    assert limiter.take("a", now=100.0) == pytest.approx(0.5)
    assert limiter.take("b", now=100.0) == 0, "buckets are per principal"
    assert limiter.take("a", now=100.6) == 0, "refilled at the rate"


async def test_a_principal_over_its_rate_gets_429(tmp_path: Path) -> None:
    limited = System(tmp_path, services=("ledger",), extra_env={"CADRE_RATE_PER_S": "1", "CADRE_RATE_BURST": "3"})
    limited.start()
    try:
        assert limited.stack is not None
        token = limited.stack.dev_token(["auditor"])
        statuses = [(await call("GET", f"{limited.url('ledger')}/v1/events", token=token)) for _ in range(5)]
        assert [s for s, _, _ in statuses[:3]] == [200, 200, 200]
        status, problem, headers = statuses[4]
        assert status == 429 and int(headers["Retry-After"]) >= 1
        assert problem["type"].endswith("rate-limited") and "频率" in problem["detail"]
        # and the document says so: every operation answered 429 where its document listed no such status
        operation = schema_of(limited.url("ledger")).find_operation_by_label("GET /v1/events")
        assert operation is not None
        case = operation.Case()
        for _ in range(5):  # over the rate again, whatever the bucket refilled meanwhile
            answer = await asyncio.to_thread(case.call, headers={"Authorization": f"Bearer {token}"})
            if answer.status_code == 429:
                break
        assert answer.status_code == 429
        assert undocumented(case, answer, {}) == []
    finally:
        limited.stop()


@pytest.mark.parametrize("service", [s.name for s in SERVICES])
async def test_role_matrix_over_every_route(system: System, service: str) -> None:
    """Each role's token reaches exactly the routes that require that role, on every service."""
    assert system.stack is not None
    if service not in system.procs:
        system.start_service(service)
    base = system.url(service)
    _, doc, _ = await call("GET", f"{base}/openapi.json", token=ANONYMOUS)
    tokens = {role: system.stack.dev_token([role]) for role in ("recorder", "auditor", "operator")}
    checked = 0
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            required = op["x-required-role"]
            url = base + path.replace("{", "").replace("}", "")
            for role, token in tokens.items():
                status, problem, _ = await call(method.upper(), url, token=token)
                if role == required:
                    assert status not in (401, 403), f"{role} refused on {method} {path}: {problem}"
                else:
                    assert status == 403 and problem["required_role"] == required, f"{role} on {method} {path}"
                checked += 1
    assert checked >= 3


async def test_oversized_and_malformed_bodies_are_refused_without_parsing(system: System) -> None:
    url = f"{system.url('audit')}/v1/audits/BIG-1/start"
    status, problem, _ = await call("POST", url, data=b"{" + b" " * (300 * 1024) + b"}",
                                    headers={"Content-Type": "application/json"})
    assert status == 413 and problem["status"] == 413
    deep = b"[" * 5000 + b"]" * 5000
    status, problem, _ = await call("POST", url, data=deep, headers={"Content-Type": "application/json"})
    assert status in (400, 422) and problem["status"] == status
    status, problem, _ = await call("POST", url, json={"cadre_id": "x" * 100_000})
    assert status in (413, 422)
