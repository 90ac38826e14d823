"""A witness (the audit office) cosigns checkpoints after checking consistency, and refuses a fork."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import struct
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import orjson
import pytest
from click.testing import CliRunner, Result
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from shared.auth import Role
from shared.cli import main
from shared.devstack import free_port
from shared.keys import load_signer, load_verifier
from shared.merkle import CompactRange, consistency_proof
from shared.processes import SERVICES, ServiceProcess
from shared.signednote import (
    COSIGNATURE_V1_TYPE,
    ED25519_TYPE,
    Checkpoint,
    Signer,
    add_signature,
    generate_key,
    open_note,
    sign_note,
    verify_note,
)
from shared.verify import external_checkpoint, verify_ledger
from shared.witness import WitnessRefusal, WitnessState, check_extends, cosign_latest
from tests.support import (
    ANONYMOUS,
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

ORIGIN = "cadre-ledger.test/log"


# --- the witness's decision, without servers -------------------------------------------------------

def tree_of(n: int) -> tuple[bytes, dict[tuple[int, int], bytes]]:
    leaves = [hashlib.sha256(bytes([k])).digest() for k in range(n)]
    compact = CompactRange()
    nodes = {(level, idx): value for level, idx, value in compact.extend(leaves)}
    return compact.root(), nodes


def state_at(n: int, origin: str = ORIGIN) -> WitnessState:
    return WitnessState(origin, n, tree_of(n)[0], "")


def proof(old: int, new: int) -> list[bytes]:
    _, nodes = tree_of(new)
    return consistency_proof(old, new, lambda level, idx: nodes[(level, idx)]) if old < new else []


@pytest.mark.parametrize(("given", "then_size", "then_root_of", "proof_sizes", "refusal"), [
    (None, 5, 5, None, None),                        # first checkpoint seen: trusted on first use
    (state_at(5), 9, 9, (5, 9), None),               # the log grew: consistent
    (state_at(5), 5, 5, None, None),                 # nothing new: same checkpoint again
    (state_at(5), 5, 6, None, "fork"),               # same size, another root
    (state_at(5), 9, 10, (5, 9), "fork"),            # a root the old tree is not a prefix of
    (state_at(5), 4, 4, None, "rollback"),           # older than what was cosigned
    (state_at(5, "another/log"), 9, 9, (5, 9), "follows"),
])
def test_witness_decision(given: WitnessState | None, then_size: int, then_root_of: int,
                          proof_sizes: tuple[int, int] | None, refusal: str | None) -> None:
    new = Checkpoint(ORIGIN, then_size, tree_of(then_root_of)[0])
    path = proof(*proof_sizes) if proof_sizes else []
    if refusal is None:
        check_extends(given, new, path)
    else:
        with pytest.raises(WitnessRefusal, match=refusal):
            check_extends(given, new, path)


# --- through the real ledger and CLI ---------------------------------------------------------------

@dataclass
class Witnessed:
    system: System
    skey: Path
    witness: Signer
    state: Path

    @property
    def ledger_vkey(self) -> str:
        return str(Path(self.system.env["CADRE_CHECKPOINT_KEY_FILE"]).with_suffix(".vkey"))

    @property
    def url(self) -> str:
        return self.system.url("ledger")

    def token(self, role: Role = "auditor") -> str:
        assert self.system.stack
        return self.system.stack.dev_token([role])

    async def cosign(self) -> Result:
        args = ["witness", "cosign", "--key", str(self.skey), "--ledger-key", self.ledger_vkey, "--url", self.url,
                "--state", str(self.state), "--token", self.token()]
        return await asyncio.to_thread(CliRunner().invoke, main, args)

    async def grow_to(self, size: int) -> dict[str, object]:
        """Append events until the log has `size`, and wait for the writer's checkpoint of that size."""
        _, latest, _ = await call("GET", f"{self.url}/v1/checkpoints/latest")
        have = latest["size"] if isinstance(latest, dict) and "size" in latest else 0
        cadre = new_cadre_id()
        seqs = await publish(self.system.nats_url, [audit_event(cadre, k) for k in range(size - have)])
        await wait_committed(self.system.pg_dsn, max(seqs))

        async def signed() -> dict[str, object] | None:
            _, cp, _ = await call("GET", f"{self.url}/v1/checkpoints/latest")
            return cp if isinstance(cp, dict) and cp.get("size") == size else None

        return dict(await wait_until(signed))


@asynccontextmanager
async def ledger_with_witness(tmp_path: Path, skey_path: Path, vkey: str) -> AsyncIterator[Witnessed]:
    """A ledger configured with the witness key `vkey`, signing a checkpoint after every batch."""
    env = {"CADRE_WITNESS_KEYS": json.dumps([vkey]), "CADRE_CHECKPOINT_EVERY_N": "1",
           "CADRE_CHECKPOINT_EVERY_S": "3600"}
    sys_ = await asyncio.to_thread(System(tmp_path / "sys", services=("ledger",), extra_env=env).start)
    try:
        witness = load_signer(skey_path, key_types=(ED25519_TYPE, COSIGNATURE_V1_TYPE))
        yield Witnessed(sys_, skey_path, witness, tmp_path / "witness-state.json")
    finally:
        await asyncio.to_thread(sys_.stop)


@pytest.fixture
async def witnessed(tmp_path: Path) -> AsyncIterator[Witnessed]:
    """The audit office as witness with a plain signed-note key (type 0x01), as witnesses had before cosignature/v1."""
    skey, vkey = generate_key("audit-office")
    skey_path = tmp_path / "audit-office.skey"
    skey_path.write_text(skey + "\n")
    async with ledger_with_witness(tmp_path, skey_path, vkey) as witnessed:
        yield witnessed


async def test_a_witness_moving_to_a_cosignature_v1_key_renews_what_its_old_key_cosigned(witnessed: Witnessed) -> None:
    """The switch the auditor guide describes: the ledger's CADRE_WITNESS_KEYS gets the witness's new key while
    the latest checkpoint carries the old key's cosignature; the first round with the new key is kept as a
    renewal of it (no 409), and states its time."""
    await witnessed.grow_to(2)
    assert (await witnessed.cosign()).exit_code == 0
    new_skey, new_vkey = generate_key("audit-office", COSIGNATURE_V1_TYPE)
    witnessed.system.extra_env["CADRE_WITNESS_KEYS"] = json.dumps([new_vkey])
    await asyncio.to_thread(witnessed.system.procs["ledger"].stop)
    await asyncio.to_thread(witnessed.system.start_service, "ledger")
    at = int(time.time())
    renewed = await cosign_latest(witnessed.url, Signer.from_skey(new_skey), [load_verifier(witnessed.ledger_vkey)],
                                  witnessed.state, witnessed.token(), clock=lambda: at)
    assert renewed.size == 2 and renewed.timestamp is None and renewed.latest_timestamp == at
    _, latest, _ = await call("GET", f"{witnessed.url}/v1/checkpoints/latest")
    [cosignature] = latest["cosignatures"]
    assert cosignature["latest_timestamp"] == at and cosignature["timestamp"] is None


async def test_witness_cosigns_consistent_checkpoints(witnessed: Witnessed) -> None:
    await witnessed.grow_to(3)
    first = await witnessed.cosign()
    assert first.exit_code == 0, first.output
    assert "size 3" in first.stdout and "trusted on first use (首次信任)" in first.stdout
    # An old type 0x01 witness key keeps working, with a nudge towards a cosignature/v1 key.
    assert "type 0x01" in first.stderr and "keygen --cosignature" in first.stderr
    assert "timestamp" not in first.stdout

    await witnessed.grow_to(7)
    second = await witnessed.cosign()
    assert second.exit_code == 0, second.output
    assert "size 7" in second.stdout and "consistent with size 3 (与已联署检查点一致)" in second.stdout
    again = await witnessed.cosign()  # nothing new: the same cosignature, stored once
    assert again.exit_code == 0 and "consistent with size 7" in again.stdout

    status, latest, _ = await call("GET", f"{witnessed.url}/v1/checkpoints/latest")
    assert status == 200 and latest["size"] == 7
    assert [(c["witness"], c["timestamp"]) for c in latest["cosignatures"]] == [("audit-office", None)]
    ledger_key = load_verifier(witnessed.ledger_vkey)
    body, names = open_note(latest["cosignatures"][0]["note"], [ledger_key, witnessed.witness.verifier()])
    assert names == ["cadre-ledger-dev", "audit-office"] and Checkpoint.parse(body).size == 7
    assert WitnessState.load(witnessed.state) == WitnessState(
        Checkpoint.parse(body).origin, 7, bytes.fromhex(latest["root"]), latest["note"])

    report = await verify_ledger(witnessed.system.pg_dsn, [ledger_key], witnesses=[witnessed.witness.verifier()],
                                 external=[external_checkpoint(witnessed.state)])
    assert report.ok, report.problems
    assert report.cosignatures == 2 and report.checkpoints >= 3


async def test_each_checkpoint_commits_in_the_transaction_of_the_batch_it_signs(witnessed: Witnessed) -> None:
    await witnessed.grow_to(4)
    await witnessed.grow_to(9)  # two bursts: at least two batches
    conn = await asyncpg.connect(witnessed.system.pg_dsn)
    try:
        # now() is the transaction's start: a batch's rows share it, and so does a checkpoint stored with them.
        batches = {r["committed_at"]: r["last"] for r in await conn.fetch(
            "SELECT committed_at, max(position) AS last FROM ledger_events GROUP BY committed_at")}
        signed = {r["created_at"]: r["size"] for r in await conn.fetch("SELECT created_at, size FROM checkpoints")}
    finally:
        await conn.close()
    assert len(batches) >= 2
    assert signed == batches  # CADRE_CHECKPOINT_EVERY_N=1: one per batch, at its end, in its transaction


async def test_witness_refuses_a_fork(witnessed: Witnessed) -> None:
    await witnessed.grow_to(3)
    assert (await witnessed.cosign()).exit_code == 0
    genuine = await witnessed.grow_to(6)

    # Someone holding the log's key signs another history of size 6 and makes it the latest.
    ledger_signer = load_signer(Path(witnessed.system.env["CADRE_CHECKPOINT_KEY_FILE"]))
    origin = Checkpoint.parse(str(genuine["note"]).split("\n\n")[0] + "\n").origin
    forged_root = os.urandom(32)
    forged = sign_note(Checkpoint(origin, 6, forged_root).to_note_body(), [ledger_signer])
    conn = await asyncpg.connect(witnessed.system.pg_dsn)
    try:
        forged_id = await conn.fetchval("INSERT INTO checkpoints (origin, size, root, note) VALUES ($1, 6, $2, $3) "
                                        "RETURNING id", origin, forged_root, forged)
    finally:
        await conn.close()
    _, latest, _ = await call("GET", f"{witnessed.url}/v1/checkpoints/latest")
    assert latest["id"] == forged_id

    refused = await witnessed.cosign()
    assert refused.exit_code == 1
    assert "refused (拒绝联署): fork (分叉)" in refused.output
    assert "not consistent with the one of size 3" in refused.output
    state = WitnessState.load(witnessed.state)
    assert state is not None and state.size == 3, "a refused checkpoint is not remembered"
    assert latest["cosignatures"] == []

    report = await verify_ledger(witnessed.system.pg_dsn, [load_verifier(witnessed.ledger_vkey)])
    assert report.first_bad_position == 6 and (report.reason or "").startswith("position 6: fork (分叉)")


async def test_ledger_checks_every_cosignature(witnessed: Witnessed) -> None:
    latest = await witnessed.grow_to(2)
    cp_id, note = latest["id"], str(latest["note"])
    url = f"{witnessed.url}/v1/checkpoints/{cp_id}/cosignatures"
    good = add_signature(note, witnessed.witness)

    stranger = Signer.from_skey(generate_key("stranger")[0])
    status, problem, _ = await call("POST", url, {"witness": "stranger", "note": add_signature(note, stranger)})
    assert status == 422 and problem["rule"] == "witness.unknown_key" and problem["message_zh"]

    status, problem, _ = await call("POST", f"{witnessed.url}/v1/checkpoints/999999/cosignatures",
                                    {"witness": "audit-office", "note": good})
    assert status == 404

    ledger_signer = load_signer(Path(witnessed.system.env["CADRE_CHECKPOINT_KEY_FILE"]))
    other_text = sign_note(Checkpoint("elsewhere", 1, bytes(32)).to_note_body(), [ledger_signer])
    status, problem, _ = await call("POST", url, {"witness": "audit-office",
                                                  "note": add_signature(other_text, witnessed.witness)})
    assert status == 422 and problem["rule"] == "witness.same_text"

    status, problem, _ = await call("POST", url, {"witness": "audit-office", "note": note})
    assert status == 422 and problem["rule"] == "witness.signature"

    lines = good.split("\n")
    witness_line = lines[-2]
    broken_sig = witness_line[:-6] + ("AAAA==" if not witness_line.endswith("AAAA==") else "BBBB==")
    status, problem, _ = await call("POST", url, {"witness": "audit-office",
                                                  "note": "\n".join([*lines[:-2], broken_sig, ""])})
    assert status == 422 and problem["rule"] == "witness.signature"

    status, problem, _ = await call("POST", url, {"witness": "audit-office"})
    assert status == 422 and problem["errors"][0]["field"] == "note"
    status, _, _ = await call("POST", url, {"witness": "audit-office", "note": good}, token=ANONYMOUS)
    assert status == 401
    status, _, _ = await call("POST", url, {"witness": "audit-office", "note": good}, token=witnessed.token("recorder"))
    assert status == 403

    status, stored, _ = await call("POST", url, {"witness": "audit-office", "note": good}, token=witnessed.token())
    assert status == 201 and stored["checkpoint_id"] == cp_id and stored["note"] == good


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


async def test_cosignature_v1_is_stored_verified_and_timestamped(cosigning: Witnessed) -> None:
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
    verified = await asyncio.to_thread(CliRunner().invoke, main, [
        "verify", "--dsn", cosigning.system.pg_dsn, "--key", cosigning.ledger_vkey,
        "--witness-key", str(cosigning.skey.with_suffix(".vkey"))])
    assert verified.exit_code == 0, verified.output
    assert "5 witness cosignatures verified" in verified.stdout


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


@pytest.mark.parametrize(("witnesses", "says"), [
    (lambda own, other: [own], "the name of the ledger's own checkpoint key"),
    (lambda own, other: [other, other], "more than once"),
], ids=["the log's own key", "one witness twice"])
def test_the_ledger_refuses_to_start_with_witness_keys_it_cannot_use(
        system: System, tmp_path: Path, witnesses: Callable[[str, str], list[str]], says: str) -> None:
    """A misconfigured CADRE_WITNESS_KEYS stops the ledger at start with the reason, not a 500 at the first
    cosignature (the log's own key) or a key silently unused (a name twice)."""
    env = system.env_for("ledger")
    own = Path(env["CADRE_CHECKPOINT_KEY_FILE"]).with_suffix(".vkey").read_text().strip()
    other = generate_key("audit-office", COSIGNATURE_V1_TYPE)[1]
    spec = next(s for s in SERVICES if s.name == "ledger")
    env["CADRE_WITNESS_KEYS"] = json.dumps(witnesses(own, other))
    with pytest.raises(RuntimeError, match="exited") as refused:
        ServiceProcess(spec, free_port(), env, tmp_path).wait_ready()
    assert says in str(refused.value) and "CADRE_WITNESS_KEYS" in str(refused.value)


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
