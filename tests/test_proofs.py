"""The verifiable log through HTTP: checkpoints, proofs, a bundle verified offline."""

from __future__ import annotations

import base64
import copy
from pathlib import Path
from typing import Any

import pytest

from shared.bundle import BundleError, verify_bundle
from shared.keys import load_verifier
from shared.merkle import leaf_hash, verify_consistency, verify_inclusion
from shared.signednote import Checkpoint, open_note
from tests.support import System, audit_event, call, new_cadre_id, publish, wait_committed


def ledger_key(system: System) -> str:
    return Path(system.env["CADRE_CHECKPOINT_KEY_FILE"]).with_suffix(".vkey").read_text().strip()


async def record(system: System, cadre: str, n: int) -> None:
    seqs = await publish(system.nats_url, [audit_event(cadre, k) for k in range(n)])
    await wait_committed(system.pg_dsn, max(seqs))


async def test_checkpoint_is_a_signed_note_over_the_log(system: System) -> None:
    await record(system, new_cadre_id(), 2)
    status, cp, _ = await call("POST", f"{system.url('ledger')}/v1/checkpoints")
    assert status in (200, 201)  # 200: a checkpoint the ledger signed by itself covers the log already
    body, signers = open_note(cp["note"], [load_verifier(ledger_key(system))])
    parsed = Checkpoint.parse(body)
    assert parsed.size == cp["size"] and parsed.root.hex() == cp["root"]
    assert signers == ["cadre-ledger-dev"]
    status, latest, _ = await call("GET", f"{system.url('ledger')}/v1/checkpoints/latest")
    assert status == 200 and latest["size"] >= cp["size"]
    # nothing appended since: nothing new to sign, the latest checkpoint answers with 200
    status, again, _ = await call("POST", f"{system.url('ledger')}/v1/checkpoints")
    assert (status, again["size"], again["note"]) == (200, latest["size"], latest["note"])


async def test_inclusion_and_consistency_proofs_verify(system: System) -> None:
    await record(system, new_cadre_id(), 3)
    _, old, _ = await call("POST", f"{system.url('ledger')}/v1/checkpoints")
    await record(system, new_cadre_id(), 3)
    _, new, _ = await call("POST", f"{system.url('ledger')}/v1/checkpoints")
    assert new["size"] > old["size"]

    status, proof, _ = await call("GET", f"{system.url('ledger')}/v1/proofs/consistency?first={old['size']}"
                                         f"&second={new['size']}")
    assert status == 200
    verify_consistency(old["size"], new["size"], bytes.fromhex(old["root"]), bytes.fromhex(new["root"]),
                       [bytes.fromhex(h) for h in proof["proof"]])

    for position in (1, old["size"], new["size"]):
        status, inc, _ = await call("GET", f"{system.url('ledger')}/v1/proofs/inclusion?position={position}"
                                           f"&size={new['size']}")
        assert status == 200
        _, feed, _ = await call("GET", f"{system.url('ledger')}/v1/events?after={position - 1}&limit=1")
        canonical = feed["events"][0]["event"]
        assert inc["leaf_hash"] == feed["events"][0]["leaf_hash"]
        verify_inclusion(bytes.fromhex(inc["leaf_hash"]), position - 1, new["size"],
                         [bytes.fromhex(h) for h in inc["proof"]], bytes.fromhex(new["root"]))
        assert canonical["id"]

    status, problem, _ = await call("GET", f"{system.url('ledger')}/v1/proofs/inclusion?position=1&size=999999999")
    assert status == 422 and problem["errors"][0]["field"] == "size"
    status, problem, _ = await call("GET", f"{system.url('ledger')}/v1/proofs/consistency?first=1&second=999999999")
    assert status == 422 and problem["errors"][0]["field"] == "second", problem  # the parameter asked with

    # without a size: the tree of the latest checkpoint (the log may have grown past it since). The writer signs
    # one with any batch once CADRE_CHECKPOINT_EVERY_S has passed, so "the latest" is read on either side of
    # the proof, and again if it moved in between.
    await record(system, new_cadre_id(), 1)
    for _ in range(5):
        _, before, _ = await call("GET", f"{system.url('ledger')}/v1/checkpoints/latest")
        status, inc, _ = await call("GET", f"{system.url('ledger')}/v1/proofs/inclusion?position=2")
        _, latest, _ = await call("GET", f"{system.url('ledger')}/v1/checkpoints/latest")
        if before["size"] == latest["size"]:
            break
    assert status == 200 and inc["tree_size"] == latest["size"] >= new["size"]
    verify_inclusion(bytes.fromhex(inc["leaf_hash"]), 1, latest["size"], [bytes.fromhex(h) for h in inc["proof"]],
                     bytes.fromhex(latest["root"]))
    status, problem, _ = await call("GET",
                                    f"{system.url('ledger')}/v1/proofs/inclusion?position={latest['size'] + 1}")
    assert status == 422 and problem["errors"][0]["field"] == "position"
    status, problem, _ = await call("GET", f"{system.url('ledger')}/v1/proofs/consistency?first=5&second=2")
    assert status == 422


async def test_bundle_verifies_offline_and_one_changed_byte_fails(system: System) -> None:
    cadre = new_cadre_id()
    await record(system, cadre, 4)
    status, bundle, _ = await call("GET", f"{system.url('ledger')}/v1/cadres/{cadre}/bundle")
    assert status == 200
    key = [load_verifier(ledger_key(system))]
    report = verify_bundle(bundle, key)
    assert report.events == 4 and report.cadre_id == cadre

    tampered: dict[str, Any] = copy.deepcopy(bundle)
    raw = bytearray(base64.b64decode(tampered["events"][1]["canonical"]))
    raw[raw.index(b"good") if b"good" in raw else 40] ^= 0x01
    tampered["events"][1]["canonical"] = base64.b64encode(bytes(raw)).decode()
    with pytest.raises(BundleError, match="version 2"):
        verify_bundle(tampered, key)

    rehashed = copy.deepcopy(tampered)
    rehashed["events"][1]["leaf_hash"] = leaf_hash(bytes(raw)).hex()
    with pytest.raises(BundleError):
        verify_bundle(rehashed, key)

    # The newest events cut off: every remaining proof and link holds, the ledger's signed head does not.
    for kept in (3, 1):
        with pytest.raises(BundleError, match=f"ledger states 4 events .* the bundle holds {kept} events"):
            verify_bundle({**bundle, "events": bundle["events"][:kept]}, key)
    with pytest.raises(BundleError, match="no signed head"):
        verify_bundle({k: v for k, v in bundle.items() if k != "head"}, key)
    with pytest.raises(BundleError, match="export it again"):
        verify_bundle({**bundle, "format": "cadre-ledger-bundle/1"}, key)
    other = new_cadre_id()
    await record(system, other, 1)
    _, others, _ = await call("GET", f"{system.url('ledger')}/v1/cadres/{other}/bundle")
    with pytest.raises(BundleError, match=f"cadre {other} .* cadre {cadre}"):
        verify_bundle({**bundle, "head": others["head"]}, key)
    forged_head = bundle["head"].replace("events 4", "events 5")
    with pytest.raises(BundleError, match="head does not verify"):
        verify_bundle({**bundle, "head": forged_head}, key)

    status, _, _ = await call("GET", f"{system.url('ledger')}/v1/cadres/{new_cadre_id()}/bundle")
    assert status == 404
