"""Witness cosignatures in C2SP tlog-cosignature format (cosignature/v1): timestamped, renewed, checked, and
required of a cadre's bundle (经见证的履历包)."""

from __future__ import annotations

import asyncio
import struct
import time
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import orjson
import pytest
from click.testing import CliRunner, Result
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from prometheus_client.parser import text_string_to_metric_families

from shared.cli import main
from shared.cosignature import format_time
from shared.keys import load_verifier
from shared.signednote import (
    COSIGNATURE_V1_TYPE,
    Checkpoint,
    Signer,
    add_signature,
    generate_key,
    verify_note,
)
from shared.verify import verify_ledger
from shared.witness import cosign_latest
from tests.support import (
    System,
    audit_event,
    call,
    last_signature_bytes,
    new_cadre_id,
    publish,
    wait_committed,
    wait_until,
    with_last_signature_bytes,
)
from tests.witness_support import Witnessed, ledger_with_witness

# --- cosignature/v1 (C2SP tlog-cosignature): a witness key that signs when it saw the checkpoint ---

@pytest.fixture
async def cosigning(tmp_path: Path) -> AsyncIterator[Witnessed]:
    """The audit office as witness with a cosignature/v1 key, made as the auditor guide says."""
    keys = tmp_path / "keys"
    made = await asyncio.to_thread(CliRunner().invoke, main,
                                   ["keygen", "--cosignature", "audit-office", "--out", str(keys)])
    assert made.exit_code == 0, made.output
    async with ledger_with_witness(tmp_path, keys / "audit-office.skey",
                                   (keys / "audit-office.vkey").read_text().strip()) as witnessed:
        yield witnessed


async def test_cosignature_v1_is_stored_verified_and_timestamped(cosigning: Witnessed, tmp_path: Path) -> None:
    witness_key = cosigning.witness.verifier()
    assert witness_key.key_type == COSIGNATURE_V1_TYPE
    ledger_key = load_verifier(cosigning.ledger_vkey)
    await cosigning.grow_to(3)
    before = int(time.time())
    first = await cosigning.cosign()
    after = time.time()
    assert first.exit_code == 0, first.output
    assert "trusted on first use" in first.stdout and "type 0x01" not in first.output

    status, latest, _ = await call("GET", f"{cosigning.url}/v1/checkpoints/latest")
    assert status == 200 and latest["size"] == 3
    [stored] = latest["cosignatures"]
    assert before <= stored["timestamp"] <= after
    assert f"cosignature/v1 timestamp (时间戳) {stored['timestamp']} (" in first.stdout
    opened = verify_note(stored["note"], [ledger_key, witness_key])
    assert opened.names == ["cadre-ledger-dev", "audit-office"]
    signature = opened.by(witness_key)
    assert signature is not None and signature.timestamp == stored["timestamp"]
    assert last_signature_bytes(stored["note"])[4:12] == stored["timestamp"].to_bytes(8, "big")

    assert stored["latest_note"] is None and stored["latest_timestamp"] is None

    # The same checkpoint again, five minutes later by the witness's clock, then once more in between: the
    # ledger keeps the first, and the latest renewal says how fresh the checkpoint is (联署续签).
    first_at = stored["timestamp"]
    again = await cosign_latest(cosigning.url, cosigning.witness, [ledger_key], cosigning.state, cosigning.token(),
                                clock=lambda: first_at + 300)
    assert (again.timestamp, again.note, again.latest_timestamp) == (first_at, stored["note"], first_at + 300)
    between = await cosign_latest(cosigning.url, cosigning.witness, [ledger_key], cosigning.state,
                                  cosigning.token(), clock=lambda: first_at + 100)
    assert between.latest_timestamp == first_at + 300, "the latest renewal is the one stating the latest time"
    _, latest, _ = await call("GET", f"{cosigning.url}/v1/checkpoints/latest")
    [renewed] = latest["cosignatures"]
    assert {k: renewed[k] for k in stored if not k.startswith("latest_")} == \
        {k: stored[k] for k in stored if not k.startswith("latest_")}
    assert renewed["latest_timestamp"] == first_at + 300
    renewal_signature = verify_note(renewed["latest_note"], [ledger_key, witness_key]).by(witness_key)
    assert renewal_signature is not None and renewal_signature.timestamp == first_at + 300
    await asyncio.sleep(max(0.0, first_at + 1 - time.time()))  # the CLI signs the time now: a later second
    renewal = await cosigning.cosign()
    assert renewal.exit_code == 0, renewal.output
    assert f"renewed (续签) as of {first_at + 300} (" in renewal.stdout, renewal.output

    # The log grows; with the clock injected, the stored cosignature states exactly when.
    await cosigning.grow_to(6)
    seen_at = int(time.time()) - 7
    later = await cosign_latest(cosigning.url, cosigning.witness, [ledger_key], cosigning.state, cosigning.token(),
                                clock=lambda: seen_at)
    assert later.size == 6 and later.previous_size == 3 and later.timestamp == seen_at
    _, latest, _ = await call("GET", f"{cosigning.url}/v1/checkpoints/latest")
    assert [c["timestamp"] for c in latest["cosignatures"]] == [seen_at]

    report = await verify_ledger(cosigning.system.pg_dsn, [ledger_key], witnesses=[witness_key])
    assert report.ok, report.problems
    assert report.cosignatures == 5  # size 3: the first and three renewals; size 6
    assert report.witnessed == {"audit-office": (6, first_at + 300)}  # the latest time any of them states
    verified = await asyncio.to_thread(CliRunner().invoke, main, [
        "verify", "--dsn", cosigning.system.pg_dsn, "--key", cosigning.ledger_vkey,
        "--witness-key", str(cosigning.skey.with_suffix(".vkey"))])
    assert verified.exit_code == 0, verified.output
    assert "5 witness cosignatures verified" in verified.stdout
    assert f"witness audit-office (见证方): cosigned checkpoints up to size 6 of {report.covered_size}, the latest " \
        f"as of {format_time(first_at + 300)}" in verified.stdout
    stranger = tmp_path / "stranger.vkey"
    stranger.write_text(generate_key("district-office", COSIGNATURE_V1_TYPE)[1] + "\n")
    unseen = await asyncio.to_thread(CliRunner().invoke, main, [
        "verify", "--dsn", cosigning.system.pg_dsn, "--key", cosigning.ledger_vkey, "--witness-key", str(stranger)])
    assert unseen.exit_code == 0, unseen.output
    assert "witness district-office (见证方): no cosignature found (未见联署)" in unseen.stdout


async def test_bad_cosignatures_v1_are_refused_and_reported(cosigning: Witnessed) -> None:
    latest = await cosigning.grow_to(2)
    cp_id, note = latest["id"], str(latest["note"])
    url, token = f"{cosigning.url}/v1/checkpoints/{cp_id}/cosignatures", cosigning.token()
    now = int(time.time())

    ahead = add_signature(note, cosigning.witness, timestamp=now + 3600)
    status, problem, headers = await call("POST", url, {"witness": "audit-office", "note": ahead}, token=token)
    assert status == 422 and headers["Content-Type"].startswith("application/problem+json")
    assert problem["rule"] == "witness.timestamp" and "ahead of the clock" in problem["message_en"]
    assert "时钟" in problem["message_zh"]
    before = add_signature(note, cosigning.witness, timestamp=now - 86400)  # a day before the checkpoint existed
    status, problem, _ = await call("POST", url, {"witness": "audit-office", "note": before}, token=token)
    assert status == 422 and problem["rule"] == "witness.timestamp", problem
    assert "before the checkpoint was signed" in problem["message_en"] and "早于检查点签署时间" in problem["message_zh"]

    good = add_signature(note, cosigning.witness, timestamp=now)
    raw = last_signature_bytes(good)
    for mangled, named in [
        (raw[:4] + raw[12:], "has 72 bytes after the key ID"),  # a plain signature's layout, no timestamp
        (raw[:4] + struct.pack(">Q", 2**63) + raw[12:], "outside 0..2^63-1"),
        (raw[:4] + struct.pack(">Q", now + 1) + raw[12:], "does not verify"),  # the time was changed
    ]:
        status, problem, _ = await call("POST", url, {"witness": "audit-office",
                                                      "note": with_last_signature_bytes(good, mangled)}, token=token)
        assert status == 422 and problem["rule"] == "witness.signature", problem
        assert named in problem["message_en"], problem
    # A key of the old type under the witness's name: the answer names the key the ledger expects.
    old_type = Signer("audit-office", Ed25519PrivateKey.generate())
    status, problem, _ = await call("POST", url, {"witness": "audit-office", "note": add_signature(note, old_type)},
                                    token=token)
    assert status == 422 and problem["rule"] == "witness.signature"
    assert f"key ID {cosigning.witness.key_id.hex()}, Ed25519 cosignature/v1 (0x04)" in problem["message_en"]

    within = add_signature(note, cosigning.witness, timestamp=now + 60)  # clock drift under ten minutes
    status, stored, _ = await call("POST", url, {"witness": "audit-office", "note": within}, token=token)
    assert status == 201 and stored["timestamp"] == now + 60 and stored["note"] == within

    # Rows written behind the ledger's back: a changed timestamp, and a far future one signed as such.
    tampered = await cosigning.grow_to(4)
    future = await cosigning.grow_to(6)
    conn = await asyncpg.connect(cosigning.system.pg_dsn)
    try:
        forged = add_signature(str(tampered["note"]), cosigning.witness, timestamp=now)
        forged_raw = last_signature_bytes(forged)
        forged = with_last_signature_bytes(forged, forged_raw[:4] + struct.pack(">Q", now - 86400) + forged_raw[12:])
        await conn.execute("INSERT INTO checkpoint_cosignatures (checkpoint_id, witness, note) VALUES ($1, $2, $3), "
                           "($4, $2, $5)", tampered["id"], "audit-office", forged, future["id"],
                           add_signature(str(future["note"]), cosigning.witness, timestamp=now + 86400))
        # a sound renewal whose ordering column says a later time than its note does
        await conn.execute("INSERT INTO checkpoint_cosignatures (checkpoint_id, witness, note, stated_at, renewal) "
                           "VALUES ($1, 'audit-office', $2, $3, true)", cp_id,
                           add_signature(note, cosigning.witness, timestamp=now + 120), now + 500)
    finally:
        await conn.close()
    report = await verify_ledger(cosigning.system.pg_dsn, [load_verifier(cosigning.ledger_vkey)],
                                 witnesses=[cosigning.witness.verifier()])
    assert not report.ok and report.cosignatures == 1
    reasons = [finding.reason for finding in report.problems]
    assert any(f"on checkpoint #{tampered['id']}: does not verify (联署签名无效)" in r for r in reasons), reasons
    assert any(f"on checkpoint #{future['id']}: its cosignature/v1 timestamp {now + 86400}" in r
               and "ahead of the clock" in r and "联署时间戳晚于当前时间" in r for r in reasons), reasons
    assert any(f"on checkpoint #{cp_id}: its stated_at {now + 500} is not the time its note states" in r
               for r in reasons), reasons




async def test_a_bundle_can_be_required_to_lead_to_a_witnessed_checkpoint(cosigning: Witnessed, tmp_path: Path) -> None:
    """`export --witnessed` leads the proofs to a checkpoint the witness cosigned, and `verify bundle --witness-key`
    refuses a bundle whose checkpoint no witness cosigned: a view of the log shown only to this auditor."""
    cadre = new_cadre_id("WB")
    await wait_committed(cosigning.system.pg_dsn,
                         max(await publish(cosigning.system.nats_url, [audit_event(cadre, k) for k in range(1, 4)])))
    status, problem, _ = await call("GET", f"{cosigning.url}/v1/cadres/{cadre}/bundle?witnessed=true",
                                    token=cosigning.token())
    assert status == 409 and problem["type"].endswith("/not-witnessed"), problem
    assert "audit-office" in problem["detail"] and "尚无经全部见证方联署的检查点" in problem["detail"]
    cosigned = await cosigning.cosign()
    assert cosigned.exit_code == 0, cosigned.output
    await cosigning.grow_to(5)  # the log moves on past the checkpoint the witness cosigned

    files = {"witnessed": tmp_path / "witnessed.json", "latest": tmp_path / "latest.json"}
    for name, flags in (("witnessed", ["--witnessed"]), ("latest", [])):
        exported = await asyncio.to_thread(CliRunner().invoke, main, [
            "export", cadre, "--url", cosigning.url, "--out", str(files[name]), "--token", cosigning.token(), *flags])
        assert exported.exit_code == 0, exported.output
    witness_vkey = str(cosigning.skey.with_suffix(".vkey"))

    def check(path: Path, *witness: str) -> Result:
        args = ["verify", "bundle", str(path), "--key", cosigning.ledger_vkey]
        return CliRunner().invoke(main, args + [a for key in witness for a in ("--witness-key", key)])

    witnessed = orjson.loads(files["witnessed"].read_bytes())
    assert Checkpoint.parse(witnessed["checkpoint"].split("\n\n")[0] + "\n").size == 3
    status, preferred, _ = await call("GET", f"{cosigning.url}/v1/cadres/{cadre}/bundle?prefer_witnessed=true",
                                      token=cosigning.token())
    assert status == 200 and preferred["checkpoint"] == witnessed["checkpoint"] and preferred["cosignatures"]
    ok = await asyncio.to_thread(check, files["witnessed"], witness_vkey)
    assert ok.exit_code == 0 and "cosigned by witness audit-office as of" in ok.stdout, ok.output
    unwitnessed = await asyncio.to_thread(check, files["latest"], witness_vkey)
    assert unwitnessed.exit_code == 1 and "缺少见证方联署" in unwitnessed.output, unwitnessed.output
    assert (await asyncio.to_thread(check, files["latest"])).exit_code == 0, "without a witness key, as before"

    changed = files["witnessed"].with_name("changed.json")
    [note] = witnessed["cosignatures"]
    raw = last_signature_bytes(note)
    changed.write_bytes(orjson.dumps({**witnessed, "cosignatures": [
        with_last_signature_bytes(note, raw[:4] + struct.pack(">Q", 1) + raw[12:])]}))
    forged = await asyncio.to_thread(check, changed, witness_vkey)
    assert forged.exit_code == 1 and "联署签名无效" in forged.output, forged.output


async def test_a_witnessed_bundle_needs_witnesses(system: System) -> None:
    cadre = new_cadre_id("WB")
    await wait_committed(system.pg_dsn, max(await publish(system.nats_url, [audit_event(cadre)])))
    status, problem, _ = await call("GET", f"{system.url('ledger')}/v1/cadres/{cadre}/bundle?witnessed=true")
    assert status == 409 and problem["type"].endswith("/not-witnessed"), problem
    assert "CADRE_WITNESS_KEYS" in problem["detail"]
    status, bundle, _ = await call("GET", f"{system.url('ledger')}/v1/cadres/{cadre}/bundle?prefer_witnessed=true")
    assert status == 200 and bundle["cosignatures"] == [] and bundle["cadre_id"] == cadre, bundle


async def test_metrics_show_when_each_witness_last_cosigned_and_how_far_behind_it_is(cosigning: Witnessed) -> None:
    """What an operator alerts on: a witness that stopped (its last cosignature ages) or fell behind."""
    await cosigning.grow_to(3)
    before = time.time()
    assert (await cosigning.cosign()).exit_code == 0
    await cosigning.grow_to(5)

    async def witness_samples() -> dict[tuple[str, str], float] | None:
        status, text, _ = await call("GET", f"{cosigning.url}/metrics")
        assert status == 200
        samples = {(s.name, s.labels.get("witness", "")): s.value for family in text_string_to_metric_families(text)
                   for s in family.samples if s.name.startswith("ledger_witness_")}
        return samples if samples.get(("ledger_witness_behind_leaves", "audit-office")) == 2 else None

    samples = await wait_until(witness_samples)
    assert before - 1 <= samples[("ledger_witness_last_cosigned_timestamp_seconds", "audit-office")] <= time.time()
