"""The signed checkpoints: each note verified with a given key, cosignatures with witness keys, forks found.

Only the notes are trusted, and only because they verify with public keys the auditor brings.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import asyncpg

from shared.cosignature import CosignatureError, check_timestamp
from shared.signednote import Checkpoint, NoteError, VerifiedSignature, Verifier, open_note, verify_note
from shared.verify.report import Collector, Signed, VerifyReport


async def load_checkpoints(conn: asyncpg.Connection, verifiers: Sequence[Verifier], witnesses: Sequence[Verifier],
                           external: Sequence[tuple[str, str]], report: VerifyReport,
                           found: Collector) -> list[Signed]:
    """Verify every stored and external checkpoint and every cosignature; the signed ones, by size."""
    signed: list[Signed] = []
    bodies: dict[int, str] = {}
    signers: set[str] = set()
    rows = await conn.fetch("SELECT id, origin, size, root, note FROM checkpoints ORDER BY size, id")
    for r in rows:
        label = f"checkpoint #{r['id']}"
        try:
            body, names = open_note(r["note"], verifiers)
            cp = Checkpoint.parse(body)
        except NoteError as exc:
            found.add(r["size"], f"{label} (size {r['size']}): its note does not verify with the given key(s) "
                      f"(检查点签名无效): {exc}", exact=False)
            continue
        if (cp.origin, cp.size, cp.root) != (r["origin"], r["size"], bytes(r["root"])):
            found.add(cp.size, f"{label}: its columns (origin, size, root) differ from its signed note, which "
                      f"says size {cp.size} root {cp.root.hex()} (检查点字段与签名内容不符)", exact=False)
        bodies[r["id"]] = body
        signers.update(names)
        signed.append(Signed(label, cp.size, cp.root))
        report.origin = report.origin or cp.origin
        if cp.origin != report.origin:
            found.add(cp.size, f"{label}: origin {cp.origin!r} is not the log's origin {report.origin!r} "
                      "(日志来源不一致)", exact=False)
    for label, note in external:
        try:
            body, names = open_note(note, verifiers)
            cp = Checkpoint.parse(body)
        except NoteError as exc:
            found.add(None, f"{label}: does not verify with the given key(s) (检查点签名无效): {exc}", exact=False)
            continue
        signers.update(names)
        signed.append(Signed(label, cp.size, cp.root))
    await _check_cosignatures(conn, verifiers, witnesses, bodies, report, found)
    _check_forks(signed, found)
    report.checkpoints = len(signed)
    report.covered_size = max((s.size for s in signed), default=0)
    report.signed_by = sorted(signers)
    return sorted(signed, key=lambda s: s.size)


async def _check_cosignatures(conn: asyncpg.Connection, verifiers: Sequence[Verifier],
                              witnesses: Sequence[Verifier], bodies: dict[int, str], report: VerifyReport,
                              found: Collector) -> None:
    known = {w.name for w in witnesses}
    trusted = list(verifiers) + [w for w in witnesses if all(w.key_id != v.key_id for v in verifiers)]
    rows = await conn.fetch("SELECT id, checkpoint_id, witness, note, stated_at FROM checkpoint_cosignatures "
                            "ORDER BY id")
    now = time.time()
    for r in rows:
        label = f"cosignature #{r['id']} by {r['witness']!r} on checkpoint #{r['checkpoint_id']}"
        try:
            # A cosignature/v1 signs its timestamp with the text: a changed timestamp fails here too.
            opened = verify_note(r["note"], trusted)
        except NoteError as exc:
            found.add(None, f"{label}: does not verify (联署签名无效): {exc}", exact=False)
            continue
        by_witness = [s for s in opened.signatures if s.name == r["witness"]]
        if r["checkpoint_id"] in bodies and opened.body != bodies[r["checkpoint_id"]]:
            found.add(None, f"{label}: signs a different text than the checkpoint (联署内容与检查点不符)", exact=False)
        elif r["witness"] in known and not by_witness:
            found.add(None, f"{label}: carries no signature by that witness (缺少见证方签名)", exact=False)
        elif by_witness:
            try:
                for signature in by_witness:
                    if signature.timestamp is not None:
                        check_timestamp(signature.timestamp, now)
            except CosignatureError as exc:
                # The ledger refuses such a timestamp: a stored one means a witness vouched for a time to come.
                found.add(None, f"{label}: its cosignature/v1 {exc} (联署时间戳晚于当前时间)", exact=False)
                continue
            if r["stated_at"] is not None and r["stated_at"] not in {s.timestamp for s in by_witness}:
                # The column only orders renewals; one edited behind the ledger's back would show a stale one.
                found.add(None, f"{label}: its stated_at {r['stated_at']} is not the time its note states "
                          "(联署时间列与签名不符)", exact=False)
                continue
            report.cosignatures += 1
            _witnessed(report, opened.body, by_witness)


def _witnessed(report: VerifyReport, body: str, signatures: Sequence[VerifiedSignature]) -> None:
    """Note how far each witness has verifiably cosigned, and the latest time it states."""
    size = Checkpoint.parse(body).size
    for s in signatures:
        known_size, known_at = report.witnessed.get(s.name, (0, None))
        stated = [t for t in (known_at, s.timestamp) if t is not None]
        report.witnessed[s.name] = (max(known_size, size), max(stated) if stated else None)


def _check_forks(signed: list[Signed], found: Collector) -> None:
    by_size: dict[int, Signed] = {}
    for s in signed:
        first = by_size.setdefault(s.size, s)
        if first.root != s.root:
            found.add(s.size, f"position {s.size}: fork (分叉): {first.label} and {s.label} both sign tree size "
                      f"{s.size} with different roots ({first.root.hex()[:16]}… vs {s.root.hex()[:16]}…)")
