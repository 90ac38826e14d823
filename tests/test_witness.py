"""A witness (the audit office) cosigns checkpoints after checking consistency, and refuses a fork."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import asyncpg
import pytest

from services.ledger.proofs import WITNESS_BASIS
from shared.devstack import free_port
from shared.keys import load_signer, load_verifier
from shared.merkle import CompactRange, consistency_proof
from shared.processes import SERVICES, ServiceProcess
from shared.signednote import (
    COSIGNATURE_V1_TYPE,
    Checkpoint,
    Signer,
    add_signature,
    generate_key,
    open_note,
    sign_note,
)
from shared.verify import external_checkpoint, verify_ledger
from shared.witness import WitnessRefusal, WitnessState, check_extends, cosign_latest
from tests.support import (
    ANONYMOUS,
    System,
    call,
    cli,
)
from tests.witness_support import Witnessed, ledger_with_witness

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


def test_the_witness_state_is_on_disk_before_save_returns(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The cosignature is sent after `save`: the new state and its name must survive a power cut by then."""
    synced: list[str] = []
    real_fsync = os.fsync

    def recording_fsync(fd: int) -> None:
        real_fsync(fd)
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))

    monkeypatch.setattr(os, "fsync", recording_fsync)
    path = tmp_path / "witness.json"
    state_at(5).save(path)
    assert synced == [str(path) + ".tmp", str(tmp_path)]
    assert WitnessState.load(path) == state_at(5)
    assert not (tmp_path / "witness.json.tmp").exists()


# --- through the real ledger and CLI ---------------------------------------------------------------

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


async def test_a_cosignature_the_ledger_refuses_by_a_rule_exits_1_and_a_bad_token_exits_2(
        witnessed: Witnessed, tmp_path: Path) -> None:
    """The auditor guide's `witness cosign` codes: 1 refused, 2 could not run; the ledger's 422 naming a rule is a
    refusal, a 401 kept the round from running."""
    await witnessed.grow_to(2)
    stranger = tmp_path / "stranger.skey"
    stranger.write_text(generate_key("stranger")[0] + "\n")
    args = ["witness", "cosign", "--key", str(stranger), "--ledger-key", witnessed.ledger_vkey, "--url", witnessed.url,
            "--state", str(tmp_path / "stranger-state.json")]
    refused = await cli(*args, "--token", witnessed.token())
    assert refused.exit_code == 1, refused.output
    assert "refused by the ledger (账本拒绝联署): 422 witness.unknown_key" in refused.output, refused.output
    unauthenticated = await cli(*args, "--token", "not-a-token")
    assert unauthenticated.exit_code == 2 and "401" in unauthenticated.output, unauthenticated.output
    nowhere = [*args[:-1], str(tmp_path / "no-such-dir" / "state.json"), "--token", witnessed.token()]
    unwritable = await cli(*nowhere)
    assert unwritable.exit_code == 2 and "无法写入见证状态" in unwritable.output, unwritable.output
    assert not (tmp_path / "no-such-dir").exists() and "Traceback" not in unwritable.output


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
    assert problem["basis"] == WITNESS_BASIS

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
