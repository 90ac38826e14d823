"""`cadre-ledger verify`, `verify bundle`, `export` and `keygen` through the real CLI entry point."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import orjson
import pytest

from shared.bundle import BundleError
from shared.bundle_file import verify_bundle_file
from shared.db import READER_ROLE, dsn_as
from shared.keys import KeyFileError, load_signer, load_verifier
from shared.signednote import COSIGNATURE_V1_TYPE, open_note, sign_note
from shared.verify import verify_ledger
from tests.support import System, audit_event, auditor, call, cli, new_cadre_id, publish, wait_committed

QUIET = {"CADRE_CHECKPOINT_EVERY_S": "3600", "CADRE_CHECKPOINT_EVERY_N": "100000"}
"""Checkpoints only on demand, so a test decides what is covered."""


@pytest.fixture(scope="module")
def quiet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    """A private ledger that signs checkpoints only when asked."""
    sys_ = System(tmp_path_factory.mktemp("verify"), services=("ledger",), extra_env=QUIET).start()
    yield sys_
    sys_.stop()


@pytest.fixture
async def tampered(tmp_path: Path) -> AsyncIterator[System]:
    """A private ledger of 5 events, checkpointed; the test breaks it."""
    sys_ = await asyncio.to_thread(System(tmp_path, services=("ledger",), extra_env=QUIET).start)
    try:
        await append(sys_, "TAMPER", 5)
        yield sys_
    finally:
        await asyncio.to_thread(sys_.stop)


def vkey_file(system: System) -> str:
    return str(Path(system.env["CADRE_CHECKPOINT_KEY_FILE"]).with_suffix(".vkey"))


async def append(system: System, cadre: str, n: int, checkpoint: bool = True) -> None:
    seqs = await publish(system.nats_url, [audit_event(cadre, k) for k in range(n)])
    await wait_committed(system.pg_dsn, max(seqs))
    if checkpoint:
        status, _, _ = await call("POST", f"{system.url('ledger')}/v1/checkpoints")
        assert status == 201


async def test_clean_ledger_verifies_and_names_rows_not_yet_covered(quiet: System) -> None:
    await append(quiet, new_cadre_id(), 10)
    await append(quiet, new_cadre_id(), 5, checkpoint=False)

    reader = dsn_as(quiet.pg_dsn, READER_ROLE)  # read-only access is enough
    report = await verify_ledger(reader, [load_verifier(vkey_file(quiet))])
    assert report.ok and report.first_bad_position is None and report.reason is None
    assert (report.count, report.covered_size, report.uncovered) == (15, 10, 5)
    assert report.signed_by == ["cadre-ledger-dev"] and report.events_per_s > 0

    result = await cli("verify", "--dsn", reader, "--key", vkey_file(quiet))
    assert result.exit_code == 0, result.output
    assert "15 events" in result.stdout
    assert "5 events after position 10 are not yet covered by a checkpoint (尚未被检查点覆盖)" in result.stdout
    assert "verified (验证通过)" in result.stdout


async def test_cli_verify_exit_codes(tampered: System) -> None:
    key = vkey_file(tampered)
    ok = await cli("verify", "--dsn", tampered.pg_dsn, "--key", key)
    assert ok.exit_code == 0, ok.output

    missing_key = await cli("verify", "--dsn", tampered.pg_dsn)
    assert missing_key.exit_code == 2 and "--key is required" in missing_key.output
    bad_key = await cli("verify", "--dsn", tampered.pg_dsn, "--key", "not+a+key")
    assert bad_key.exit_code == 2 and "bad public key (公钥无效)" in bad_key.output
    unreachable = await cli("verify", "--dsn", "postgresql://postgres@127.0.0.1:1/cadre", "--key", key)
    assert unreachable.exit_code == 2 and "cannot reach PostgreSQL" in unreachable.output

    other_key = tampered.root / "other"
    made = await cli("keygen", "someone-else", "--out", str(other_key))
    assert made.exit_code == 0, made.output
    wrong = await cli("verify", "--dsn", tampered.pg_dsn, "--key", str(other_key / "someone-else.vkey"))
    assert wrong.exit_code == 1 and "does not verify with the given key(s)" in wrong.output

    conn = await asyncpg.connect(tampered.pg_dsn)
    try:
        await conn.execute("ALTER TABLE ledger_events DISABLE TRIGGER USER")
        await conn.execute("UPDATE ledger_events SET canonical = canonical || ' '::bytea WHERE position = 3")
    finally:
        await conn.close()
    failed = await cli("verify", "--dsn", tampered.pg_dsn, "--key", key)
    assert failed.exit_code == 1
    assert "verification FAILED (验证失败): position 3: leaf hash does not match canonical bytes" in failed.output


async def test_exported_bundle_verifies_offline_and_every_changed_byte_fails(quiet: System, tmp_path: Path) -> None:
    cadre = new_cadre_id()
    await append(quiet, cadre, 3, checkpoint=False)
    out = tmp_path / "bundle.json"
    exported = await cli("export", cadre, "--url", quiet.url("ledger"), "--out", str(out), "--token", auditor(quiet))
    assert exported.exit_code == 0, exported.output
    assert f"cadre {cadre}, 3 events" in exported.stdout

    # Offline from here: only the file and the public key.
    key = vkey_file(quiet)
    passed = await cli("verify", "bundle", str(out), "--key", key)
    assert passed.exit_code == 0, passed.output
    assert f"verified (验证通过): cadre {cadre}, 3 events" in passed.stdout

    original = out.read_bytes()
    changed = bytearray(original)
    changed[original.index(b'"canonical":"') + 40] ^= 0x01
    out.write_bytes(bytes(changed))
    failed = await cli("verify", "bundle", str(out), "--key", key)
    assert failed.exit_code == 1 and "bundle does NOT verify (履历包验证失败)" in failed.output

    # Not just that byte: any single changed byte anywhere in the file fails.
    verifiers = [load_verifier(key)]
    probe = tmp_path / "probe.json"
    survivors = []
    for at in range(len(original)):
        flipped = bytearray(original)
        flipped[at] ^= 0x01
        probe.write_bytes(bytes(flipped))
        try:
            verify_bundle_file(probe, verifiers)
        except BundleError:
            continue
        survivors.append(at)
    assert survivors == [], [original[max(0, i - 20):i + 20] for i in survivors[:5]]

    # The newest event cut off, the file otherwise as exported: refused on the ledger's signed head.
    whole = orjson.loads(original)
    out.write_bytes(orjson.dumps({**whole, "events": whole["events"][:2]}))
    cut = await cli("verify", "bundle", str(out), "--key", key)
    assert cut.exit_code == 1 and "履历不完整" in cut.output and "ledger states 3 events" in cut.output, cut.output

    status, _, _ = await call("GET", f"{quiet.url('ledger')}/v1/cadres/{new_cadre_id()}/bundle")
    assert status == 404
    missing = await cli("export", new_cadre_id(), "--url", quiet.url("ledger"), "--out", str(tmp_path / "x.json"),
                        "--token", auditor(quiet))
    assert missing.exit_code == 1 and "404" in missing.output


async def test_a_key_given_twice_counts_once_and_a_key_path_may_hold_a_plus(quiet: System, tmp_path: Path) -> None:
    """Two verifiers of one name and key ID made every note check raise ValueError: a repeated key is the same key."""
    cadre = new_cadre_id()
    await append(quiet, cadre, 2)
    out = tmp_path / "bundle.json"
    exported = await cli("export", cadre, "--url", quiet.url("ledger"), "--out", str(out), "--token", auditor(quiet))
    assert exported.exit_code == 0, exported.output
    plus = tmp_path / "keys+2026" / "dev.vkey"
    plus.parent.mkdir()
    shutil.copyfile(vkey_file(quiet), plus)
    witness = await cli("keygen", "--cosignature", "audit-office", "--out", str(tmp_path / "witness"))
    assert witness.exit_code == 0, witness.output
    w = str(tmp_path / "witness" / "audit-office.vkey")

    twice = await cli("verify", "bundle", str(out), "--key", str(plus), "--key", plus.read_text().strip())
    assert twice.exit_code == 0 and f"cadre {cadre}" in twice.stdout, twice.output
    whole = await cli("verify", "--dsn", quiet.pg_dsn, "--key", str(plus), "--key", str(plus),
                      "--witness-key", w, "--witness-key", w)
    assert whole.exit_code == 0 and "verified (验证通过)" in whole.stdout, whole.output
    assert whole.stdout.count("witness audit-office (见证方)") == 1, whole.output


async def test_bundle_with_a_rehashed_event_fails_offline(quiet: System, tmp_path: Path) -> None:
    cadre = new_cadre_id()
    await append(quiet, cadre, 2, checkpoint=False)
    out = tmp_path / "bundle.json"
    exported = await cli("export", cadre, "--url", quiet.url("ledger"), "--out", str(out), "--token", auditor(quiet))
    assert exported.exit_code == 0, exported.output
    bundle = orjson.loads(out.read_bytes())
    raw = base64.b64decode(bundle["events"][0]["canonical"]).replace(b'"evaluation":"good"', b'"evaluation":"poor"')
    bundle["events"][0]["canonical"] = base64.b64encode(raw).decode()
    bundle["events"][0]["leaf_hash"] = hashlib.sha256(b"\x00" + raw).hexdigest()
    out.write_bytes(orjson.dumps(bundle))
    result = await cli("verify", "bundle", str(out), "--key", vkey_file(quiet))
    assert result.exit_code == 1 and "event version 1" in result.output


async def test_keygen_writes_a_working_pair_and_never_overwrites(tmp_path: Path) -> None:
    made = await cli("keygen", "audit-office", "--out", str(tmp_path))
    assert made.exit_code == 0, made.output
    skey, vkey = tmp_path / "audit-office.skey", tmp_path / "audit-office.vkey"
    assert skey.stat().st_mode & 0o777 == 0o600
    note = sign_note("hello\n", [load_signer(skey)])
    assert open_note(note, [load_verifier(str(vkey))]) == ("hello\n", ["audit-office"])

    again = await cli("keygen", "audit-office", "--out", str(tmp_path))
    assert again.exit_code == 2 and "not overwriting" in again.output
    bad = await cli("keygen", "has space", "--out", str(tmp_path))
    assert bad.exit_code == 2

    # A witness key: cosignature/v1 (type 0x04), which the ledger refuses as its checkpoint key.
    witness = await cli("keygen", "--cosignature", "witness-office", "--out", str(tmp_path))
    assert witness.exit_code == 0, witness.output
    assert load_verifier(str(tmp_path / "witness-office.vkey")).key_type == COSIGNATURE_V1_TYPE
    assert load_signer(tmp_path / "witness-office.skey", key_types=(COSIGNATURE_V1_TYPE,)).name == "witness-office"
    with pytest.raises(KeyFileError, match=r"is an Ed25519 cosignature/v1 .* a witness key"):
        load_signer(tmp_path / "witness-office.skey")
    with pytest.raises(KeyFileError, match=r"no key file .*nowhere\.vkey \(公钥文件不存在\)"):
        load_verifier(str(tmp_path / "nowhere.vkey"))
    assert "cosignature/v1" in (await cli("keygen", "--help")).output

    for command in (["verify"], ["verify", "bundle"], ["keygen"], ["export"], ["witness", "cosign"]):
        helped = await cli(*command, "--help")
        assert helped.exit_code == 0 and any("\u4e00" <= ch <= "\u9fff" for ch in helped.output), command


@pytest.mark.parametrize("limit", [0, -1])
async def test_a_problem_limit_below_one_is_refused_not_taken_as_nothing_to_check(quiet: System, limit: int) -> None:
    """A limit of 0 stopped the scan before its first row, and the ledger was reported verified."""
    await append(quiet, new_cadre_id(), 3)
    result = await cli("verify", "--dsn", quiet.pg_dsn, "--key", vkey_file(quiet), "--max-problems", str(limit))
    assert result.exit_code == 2 and "--max-problems" in result.output and "verified" not in result.output
    with pytest.raises(ValueError, match="at least 1"):
        await verify_ledger(quiet.pg_dsn, [load_verifier(vkey_file(quiet))], max_problems=limit)
    report = await verify_ledger(quiet.pg_dsn, [load_verifier(vkey_file(quiet))], max_problems=1)
    assert report.ok and report.count >= 3
