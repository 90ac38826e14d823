"""A cadre's verifiable history bundle, checked offline: no database, no network.

A bundle holds the cadre's events as the canonical bytes the ledger hashed, an RFC 9162 inclusion
proof for each, and the signed checkpoint (C2SP signed note) the proofs lead to, with the witnesses'
cosignatures of it. Checking it needs only the ledger's public key, and the witnesses' keys to require
their cosignatures.

Inclusion proofs and the hash chain show that each event is in the log and that none is missing
between the first and the last; they say nothing of events after the last. So the ledger also signs a
head (履历完整性声明, `head_text`): in the log of the checkpoint, the cadre has exactly n events, the
last of which has this leaf hash. Whoever hands an auditor a bundle cannot cut its newest events off.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from shared.canonical import canonical_bytes
from shared.merkle import ProofError, leaf_hash, verify_inclusion
from shared.notekeys import b64encode
from shared.signednote import Checkpoint, NoteError, Verifier, open_note, verify_note

BUNDLE_FORMAT = "cadre-ledger-bundle/2"
_UNSIGNED_HEAD_FORMAT = "cadre-ledger-bundle/1"
_HEAD_TITLE = "cadre-ledger bundle head v1"


class BundleError(ValueError):
    """The bundle does not verify; the message says what and where."""


@dataclass
class BundleReport:
    """What a verified bundle proves."""

    cadre_id: str
    origin: str
    tree_size: int
    root_hex: str
    events: int
    signed_by: list[str] = field(default_factory=list)
    witnessed_by: list[tuple[str, int | None]] = field(default_factory=list)
    """Each witness key given, with the time its cosignature states (None: a plain signature, no time)."""


def head_text(checkpoint: Checkpoint, cadre_id: str, events: int, last_leaf: bytes) -> str:
    """The text the ledger signs with a bundle: of the log up to `checkpoint`, `cadre_id` has exactly `events`
    events, the last with leaf hash `last_leaf`.

    Its second line is the checkpoint's origin, never a decimal size, so the signature cannot be taken for one
    of a checkpoint (the same key signs both).
    """
    return "\n".join([_HEAD_TITLE, checkpoint.origin, str(checkpoint.size), b64encode(checkpoint.root),
                      f"cadre {cadre_id}", f"events {events}", f"last {last_leaf.hex()}"]) + "\n"


def verify_bundle(bundle: dict[str, Any], verifiers: list[Verifier],
                  witnesses: Sequence[Verifier] = ()) -> BundleReport:
    """Check signature, every inclusion proof, every leaf hash, the chain and the envelopes; raise BundleError.

    Each of `witnesses` must have cosigned the bundle's checkpoint (one of the bundle's `cosignatures`): a
    log operator could otherwise show this auditor a view of the log that no witness saw.
    """
    if bundle.get("format") == _UNSIGNED_HEAD_FORMAT:
        raise BundleError(f"a {_UNSIGNED_HEAD_FORMAT} bundle carries no signed head, so nothing shows that its newest "
                          "events are all there: export it again (旧格式履历包无法证明履历完整, 请重新导出)")
    if bundle.get("format") != BUNDLE_FORMAT:
        raise BundleError(f"not a {BUNDLE_FORMAT} bundle")
    cadre_id = str(bundle.get("cadre_id", ""))
    try:
        body, signed_by = open_note(str(bundle["checkpoint"]), verifiers)
        checkpoint = Checkpoint.parse(body)
    except (KeyError, NoteError, ValueError) as exc:
        raise BundleError(f"checkpoint does not verify with the given key: {exc}") from exc
    notes = _cosignatures(bundle, body, verifiers)
    witnessed_by = [(w.name, _cosigned_at(notes, body, verifiers, w)) for w in witnesses]
    previous: bytes | None = None
    events = bundle.get("events") or []
    if not events:
        raise BundleError("the bundle holds no events")
    for expected_version, item in enumerate(events, start=1):
        where = f"event version {expected_version} (position {item.get('position')})"
        try:
            raw = base64.b64decode(item["canonical"], validate=True)
            position = int(item["position"])
            proof = [bytes.fromhex(h) for h in item["inclusion_proof"]]
            stated_leaf = bytes.fromhex(item["leaf_hash"])
            stated_prev = bytes.fromhex(item["prev_hash"]) if item["prev_hash"] is not None else None
        except (KeyError, TypeError, ValueError, binascii.Error) as exc:
            raise BundleError(f"{where}: malformed entry: {exc}") from exc
        if item.get("cadre_version") != expected_version:
            raise BundleError(f"{where}: versions are not 1..n in order (got {item.get('cadre_version')})")
        leaf = leaf_hash(raw)
        if leaf != stated_leaf:
            raise BundleError(f"{where}: bytes do not hash to the stated leaf hash")
        if stated_prev != previous:
            raise BundleError(f"{where}: hash chain broken (prev_hash is not the previous event's leaf hash)")
        try:
            envelope = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise BundleError(f"{where}: not JSON: {exc}") from exc
        if canonical_bytes(envelope) != raw:
            raise BundleError(f"{where}: bytes are not in RFC 8785 canonical form")
        if envelope.get("subject") != cadre_id:
            raise BundleError(f"{where}: event belongs to {envelope.get('subject')!r}, not {cadre_id!r}")
        try:
            verify_inclusion(leaf, position - 1, checkpoint.size, proof, checkpoint.root)
        except ProofError as exc:
            raise BundleError(f"{where}: inclusion proof fails against the checkpoint: {exc}") from exc
        previous = leaf
    assert previous is not None  # the loop ran: there are events
    _check_head(bundle.get("head"), head_text(checkpoint, cadre_id, len(events), previous), verifiers)
    return BundleReport(cadre_id, checkpoint.origin, checkpoint.size, checkpoint.root.hex(), len(events), signed_by,
                        witnessed_by)


def _cosignatures(bundle: dict[str, Any], body: str, verifiers: list[Verifier]) -> list[str]:
    """The bundle's cosigned notes, each the checkpoint's own text with the log's signature that verifies."""
    notes = bundle.get("cosignatures", [])
    if not isinstance(notes, list) or not all(isinstance(note, str) for note in notes):
        raise BundleError("cosignatures must be a list of cosigned notes")
    for note in notes:
        try:
            cosigned_body, _ = open_note(note, verifiers)
        except NoteError as exc:
            raise BundleError(f"a cosignature does not carry the log's signature (联署签名无效): {exc}") from exc
        if cosigned_body != body:
            raise BundleError("a cosignature signs another text than the bundle's checkpoint (联署内容与检查点不符)")
    return notes


def _cosigned_at(notes: list[str], body: str, verifiers: list[Verifier], witness: Verifier) -> int | None:
    """The time `witness`'s cosignature of the checkpoint `body` states; BundleError when the bundle has none."""
    for note in notes:
        try:
            signature = verify_note(note, [*verifiers, witness]).by(witness)
        except NoteError as exc:
            raise BundleError(f"a cosignature does not verify (联署签名无效): {exc}") from exc
        if signature is not None:
            return signature.timestamp
    raise BundleError(f"the checkpoint carries no cosignature by witness {witness.name!r} (缺少见证方联署): export "
                      "the bundle with --witnessed, or once the witness has cosigned a checkpoint covering it")


def _check_head(note: Any, expected: str, verifiers: list[Verifier]) -> None:
    """The ledger's signed head must state the bundle's very events: as many, ending with the same one."""
    if not isinstance(note, str):
        raise BundleError("the bundle carries no signed head (履历完整性声明), so nothing shows that its newest events "
                          "are all there")
    try:
        body, _ = open_note(note, verifiers)
    except NoteError as exc:
        raise BundleError(f"the head does not verify with the given key (完整性声明签名无效): {exc}") from exc
    if body == expected:
        return
    stated = dict(line.split(" ", 1) for line in body.splitlines()[4:] if " " in line)
    held = dict(line.split(" ", 1) for line in expected.splitlines()[4:])
    raise BundleError(
        "the bundle is not the history the ledger signed (履历不完整或被改动): the ledger states "
        f"{stated.get('events')} events of cadre {stated.get('cadre')} up to the checkpoint, the last with leaf hash "
        f"{stated.get('last')}; "
        f"the bundle holds {held['events']} events of cadre {held['cadre']}, the last with leaf hash {held['last']}")
