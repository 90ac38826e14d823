"""Proofs for auditors: checkpoints on demand, inclusion and consistency proofs, a cadre's bundle."""

from __future__ import annotations

import base64
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import asyncpg

from services.ledger import tree
from services.ledger.queries import unknown_cadre
from shared.bundle import BUNDLE_FORMAT, head_text
from shared.cosignature import COSIGNATURE_V1_TYPE, CosignatureError, check_timestamp
from shared.db import acquire, session
from shared.field_errors import field_error
from shared.ledger_reader import counties_of
from shared.merkle import (
    consistency_proof_from_nodes,
    inclusion_proof_from_nodes,
    nodes_for_consistency,
    nodes_for_inclusion,
)
from shared.problems import Conflict, InvalidInput, NotFound, NotWitnessed, RuleViolation
from shared.signednote import (
    KEY_TYPES,
    Checkpoint,
    NoteError,
    Signer,
    Verifier,
    note_text,
    open_note,
    sign_note,
    verify_note,
)

CHECKPOINTS = "cadre-ledger-checkpoints"  # the application_name of the connections that store checkpoints

WITNESS_BASIS = "C2SP signed-note, tlog-checkpoint, tlog-cosignature (c2sp.org): 见证方联署协议"
"""What a witness's cosignature must be for the ledger to keep it."""


class Prover:
    """Answers proof requests from the stored tree; signs on-demand checkpoints with the log's key.

    `witnesses` are the public keys allowed to cosign checkpoints (CADRE_WITNESS_KEYS), of type 0x01 or
    cosignature/v1; `clock` gives the POSIX time cosignature timestamps are checked against; `counties`: those
    of a partition (CADRE_COUNTIES), named when a cadre is not found.
    """

    def __init__(self, pool: asyncpg.Pool, writer_dsn: str, signer: Signer, origin: str, timeout: float,
                 witnesses: Sequence[Verifier] = (), clock: Callable[[], float] = time.time,
                 counties: Sequence[str] = ()) -> None:
        self.pool = pool
        self.writer_dsn = writer_dsn
        self.signer = signer
        self.origin = origin
        self.timeout = timeout
        self.witnesses = {w.name: w for w in witnesses}
        self.clock = clock
        self.counties = counties

    async def latest(self) -> tree.StoredCheckpoint:
        """The newest checkpoint; 404 when the log has none yet."""
        async with acquire(self.pool, self.timeout) as conn:
            checkpoint = await tree.latest_checkpoint(conn)
        if checkpoint is None:
            raise NotFound("no checkpoint yet (尚无检查点)")
        return checkpoint

    async def checkpoint_now(self) -> tuple[tree.StoredCheckpoint, bool]:
        """A checkpoint of the log as it is now, and whether it was signed now (the writer role stores it): the
        latest one when the log has not grown since."""
        async with session(self.writer_dsn, application=CHECKPOINTS, timeout=self.timeout) as conn:
            size = await tree.tree_size(conn)
            latest = await tree.latest_checkpoint(conn)
            if latest is not None and latest.size == size:
                return latest, False
            root = await tree.root_at(conn, size)
            return await tree.store_checkpoint(conn, self.signer, self.origin, size, root), True

    async def _size_or_latest(self, conn: asyncpg.Connection, size: int | None, field: str = "size") -> int:
        """`size`, refused naming the query parameter `field` when it is beyond the stored tree; else the size of
        the latest checkpoint."""
        if size is None:  # a checkpoint's size is never beyond the stored tree: no need to read the tree's size
            checkpoint = await tree.latest_checkpoint(conn)
            if checkpoint is None:
                raise NotFound("no checkpoint yet (尚无检查点)")
            return checkpoint.size
        current = await tree.tree_size(conn)
        if size > current:
            raise InvalidInput(f"tree size {size} is beyond the log's size {current} (超出日志大小)",
                               errors=[field_error(field, "query", f"at most {current}", f"不能大于 {current}")])
        return size

    async def inclusion(self, position: int, size: int | None) -> dict[str, Any]:
        """Inclusion proof of the event at `position` in the tree of `size` (default: latest checkpoint)."""
        async with acquire(self.pool, self.timeout) as conn:
            size = await self._size_or_latest(conn, size)
            if position > size:
                raise InvalidInput(f"position {position} is not in a tree of size {size} (位置超出树的大小)",
                                   errors=[field_error("position", "query", f"at most {size}", f"不能大于 {size}")])
            leaf = (0, position - 1)  # fetched with the proof's nodes, one round trip for both
            nodes = await tree.fetch_nodes(conn, [leaf, *nodes_for_inclusion(position - 1, size)])
        return {"position": position, "leaf_index": position - 1, "tree_size": size,
                "leaf_hash": nodes[leaf].hex(),
                "proof": [h.hex() for h in inclusion_proof_from_nodes(position - 1, size, nodes)]}

    async def consistency(self, first: int, second: int) -> dict[str, Any]:
        """Consistency proof between two tree sizes."""
        if not 0 < first <= second:
            raise InvalidInput("sizes must satisfy 0 < first <= second (树大小须满足 0 < first <= second)",
                               errors=[field_error("first", "query", "0 < first <= second",
                                                   "须满足 0 < first <= second")])
        async with acquire(self.pool, self.timeout) as conn:
            await self._size_or_latest(conn, second, "second")
            nodes = await tree.fetch_nodes(conn, nodes_for_consistency(first, second))
        return {"first": first, "second": second,
                "proof": [h.hex() for h in consistency_proof_from_nodes(first, second, nodes)]}

    async def counties_of(self, cadre_id: str) -> set[str]:
        """Counties the cadre's events were recorded in; 404 when the cadre has none."""
        async with acquire(self.pool, self.timeout) as conn:
            counties = await counties_of(conn, cadre_id)
        if not counties:
            raise unknown_cadre(cadre_id, self.counties)
        return counties

    async def bundle(self, cadre_id: str, witnessed: bool = False, prefer_witnessed: bool = False) -> dict[str, Any]:
        """The cadre's events with canonical bytes and inclusion proofs against one signed checkpoint, with the
        witnesses' cosignatures of it; `witnessed`: the newest checkpoint every configured witness cosigned (409
        when none covers the cadre); `prefer_witnessed`: that one if there is one, else the newest."""
        async with acquire(self.pool, self.timeout) as conn:
            last = await conn.fetchval("SELECT max(position) FROM ledger_events WHERE cadre_id = $1", cadre_id)
        if last is None:
            raise unknown_cadre(cadre_id, self.counties)
        checkpoint = await self._bundle_checkpoint(int(last), witnessed, prefer_witnessed)
        cosigned = [c["latest_note"] or c["note"] for c in await self.cosignatures(checkpoint.id)]
        async with acquire(self.pool, self.timeout) as conn:
            rows = await conn.fetch(
                """SELECT position, cadre_version, prev_hash, leaf_hash, canonical FROM ledger_events
                   WHERE cadre_id = $1 AND position <= $2 ORDER BY cadre_version""", cadre_id, checkpoint.size)
            wanted = [n for r in rows for n in nodes_for_inclusion(r["position"] - 1, checkpoint.size)]
            nodes = await tree.fetch_nodes(conn, wanted)
        head = head_text(Checkpoint.parse(note_text(checkpoint.note)), cadre_id, len(rows),
                         bytes(rows[-1]["leaf_hash"]))
        return {
            "format": BUNDLE_FORMAT,
            "cadre_id": cadre_id,
            "checkpoint": checkpoint.note,
            "cosignatures": cosigned,
            "head": sign_note(head, [self.signer]),
            "events": [{
                "position": r["position"],
                "cadre_version": r["cadre_version"],
                "prev_hash": bytes(r["prev_hash"]).hex() if r["prev_hash"] is not None else None,
                "leaf_hash": bytes(r["leaf_hash"]).hex(),
                "canonical": base64.b64encode(bytes(r["canonical"])).decode(),
                "inclusion_proof": [h.hex() for h in inclusion_proof_from_nodes(r["position"] - 1, checkpoint.size,
                                                                               nodes)],
            } for r in rows],
        }

    async def _bundle_checkpoint(self, position: int, witnessed: bool, prefer_witnessed: bool) -> tree.StoredCheckpoint:
        if not (witnessed or prefer_witnessed):
            return await self.latest_covering(position)
        try:
            return await self.witnessed_covering(position)
        except NotWitnessed:
            if witnessed:
                raise
            return await self.latest_covering(position)

    async def witnessed_covering(self, position: int) -> tree.StoredCheckpoint:
        """The newest checkpoint covering `position` that every configured witness cosigned; 409 when none is."""
        if not self.witnesses:
            raise NotWitnessed("this ledger has no witnesses configured (CADRE_WITNESS_KEYS), so no checkpoint "
                               "is witnessed (未配置见证方)")
        async with acquire(self.pool, self.timeout) as conn:
            row = await conn.fetchrow(_WITNESSED_COVERING, position, sorted(self.witnesses))
        if row is None:
            raise NotWitnessed(f"no checkpoint covering position {position} is cosigned by every witness yet "
                               f"({', '.join(sorted(self.witnesses))}): retry after the witnesses' next round "
                               "(尚无经全部见证方联署的检查点)", position=position)
        return tree.StoredCheckpoint(row["id"], row["size"], bytes(row["root"]), row["note"])

    async def latest_covering(self, position: int) -> tree.StoredCheckpoint:
        """The latest checkpoint if it covers `position`, else a new one signed now."""
        async with acquire(self.pool, self.timeout) as conn:
            checkpoint = await tree.latest_checkpoint(conn)
        if checkpoint is not None and checkpoint.size >= position:
            return checkpoint
        return (await self.checkpoint_now())[0]

    async def cosignatures(self, checkpoint_id: int) -> list[dict[str, Any]]:
        """The witnesses' first cosignatures of a checkpoint, oldest first, each with its cosignature/v1 timestamp
        and the witness's latest renewal of it (a later cosignature of the same checkpoint), if any."""
        async with acquire(self.pool, self.timeout) as conn:
            rows = await conn.fetch(_COSIGNATURES, checkpoint_id)
        return [self._answer(r["witness"], r["note"], r["created_at"], r["latest_note"]) for r in rows]

    def _answer(self, witness: str, note: str, created_at: datetime, latest_note: str | None) -> dict[str, Any]:
        return {"witness": witness, "note": note, "created_at": created_at.isoformat(),
                "timestamp": self._timestamp(witness, note), "latest_note": latest_note,
                "latest_timestamp": None if latest_note is None else self._timestamp(witness, latest_note)}

    def _timestamp(self, witness: str, note: str) -> int | None:
        """The time a stored cosignature/v1 states; None for type 0x01, or when the witness's key is gone.

        Read through the configured key, so a stored note is never trusted for its time without its
        signature (verified again: a few cosignatures per answer, about 0.17 ms each measured here).
        """
        verifier = self.witnesses.get(witness)
        if verifier is None or verifier.key_type != COSIGNATURE_V1_TYPE:
            return None
        try:
            signature = verify_note(note, [verifier]).by(verifier)
        except NoteError:
            return None
        return signature.timestamp if signature else None

    async def cosign(self, checkpoint_id: int, witness: str, note: str) -> dict[str, Any]:
        """Store a witness's cosignature: the checkpoint's own text, signed by the log and by that witness.

        A cosignature/v1 timestamp more than `MAX_AHEAD_S` after this ledger's clock, or before the
        checkpoint was signed, is refused. A witness with a cosignature/v1 key cosigning a checkpoint again
        later renews it (`_store`); the answer gives its first cosignature and its latest renewal.
        """
        verifier = self.witnesses.get(witness)
        if verifier is None:
            raise RuleViolation("witness.unknown_key", f"{witness!r} is not a witness this ledger is configured with "
                                "(CADRE_WITNESS_KEYS)", f"{witness!r} 不是本账本登记的见证方", basis=WITNESS_BASIS,
                                field="witness")
        async with acquire(self.pool, self.timeout) as conn:
            checkpoint = await conn.fetchrow("SELECT note, created_at FROM checkpoints WHERE id = $1", checkpoint_id)
        if checkpoint is None:
            raise NotFound(f"no checkpoint {checkpoint_id} (无此检查点)", checkpoint_id=checkpoint_id)
        body, _ = open_note(checkpoint["note"], [self.signer.verifier()])
        try:
            opened = verify_note(note, [self.signer.verifier(), verifier])
        except NoteError as exc:
            raise RuleViolation("witness.signature", f"the note does not verify: {exc}",
                                f"联署签名验证失败: {exc}", basis=WITNESS_BASIS, field="note") from exc
        if opened.body != body:
            raise RuleViolation("witness.same_text", f"the note's text is not the text of checkpoint {checkpoint_id}",
                                f"联署内容与检查点 {checkpoint_id} 的文本不一致", basis=WITNESS_BASIS, field="note")
        cosigned = opened.by(verifier)
        if cosigned is None or opened.by(self.signer.verifier()) is None:
            # Name the configured key: a witness that made a new key but was not reconfigured sees why.
            expected = f"{witness!r} (key ID {verifier.key_id.hex()}, {KEY_TYPES[verifier.key_type]})"
            raise RuleViolation("witness.signature", f"the note must carry signatures by the log and by {expected}",
                                f"联署须同时带有账本与见证方 {expected} 的签名", basis=WITNESS_BASIS, field="note")
        if cosigned.timestamp is not None:
            try:
                check_timestamp(cosigned.timestamp, self.clock(), checkpoint["created_at"].timestamp())
            except CosignatureError as exc:
                raise RuleViolation("witness.timestamp", f"the cosignature's {exc}: check the witness's clock",
                                    f"联署时间戳超前于账本时钟或早于检查点签署时间 ({exc})，请检查见证方时钟",
                                    basis=WITNESS_BASIS, field="note") from exc
        return await self._store(checkpoint_id, witness, note, cosigned.timestamp)

    async def _store(self, checkpoint_id: int, witness: str, note: str, timestamp: int | None) -> dict[str, Any]:
        """Keep the witness's first cosignature of the checkpoint, and a later timestamped one as a renewal."""
        async with session(self.writer_dsn, application=CHECKPOINTS, timeout=self.timeout) as conn, \
                conn.transaction():
            await conn.execute(
                """INSERT INTO checkpoint_cosignatures (checkpoint_id, witness, note, stated_at)
                   VALUES ($1, $2, $3, $4) ON CONFLICT (checkpoint_id, witness) WHERE NOT renewal DO NOTHING""",
                checkpoint_id, witness, note, timestamp)
            first = await conn.fetchrow("SELECT note, created_at FROM checkpoint_cosignatures "
                                        "WHERE checkpoint_id = $1 AND witness = $2 AND NOT renewal",
                                        checkpoint_id, witness)
            earlier = self._timestamp(witness, first["note"])
            if first["note"] != note:
                if timestamp is None:
                    raise Conflict(f"witness {witness} already cosigned checkpoint {checkpoint_id} with another "
                                   "note (见证方已联署此检查点)")
                # Vouched for again later: still the largest checkpoint this witness has seen. A first
                # cosignature without a time to compare was made with the witness's previous key.
                if earlier is None or timestamp > earlier:
                    await conn.execute(
                        """INSERT INTO checkpoint_cosignatures (checkpoint_id, witness, note, stated_at, renewal)
                           VALUES ($1, $2, $3, $4, true) ON CONFLICT DO NOTHING""",
                        checkpoint_id, witness, note, timestamp)
            latest = await conn.fetchval(_LATEST_RENEWAL, checkpoint_id, witness)
        return {"checkpoint_id": checkpoint_id, **self._answer(witness, first["note"], first["created_at"], latest)}


# A witness's latest renewal of a checkpoint, by the time it states (the answer reads the time from the note).
_RENEWAL = """SELECT r.note FROM checkpoint_cosignatures r
              WHERE r.checkpoint_id = {checkpoint} AND r.witness = {witness} AND r.renewal
              ORDER BY r.stated_at DESC LIMIT 1"""
_LATEST_RENEWAL = _RENEWAL.format(checkpoint="$1", witness="$2")
_COSIGNATURES = f"""
  SELECT c.witness, c.note, c.created_at,
         ({_RENEWAL.format(checkpoint="c.checkpoint_id", witness="c.witness")}) AS latest_note
  FROM checkpoint_cosignatures c WHERE c.checkpoint_id = $1 AND NOT c.renewal ORDER BY c.id"""
# The newest checkpoint of at least a size ($1) with a first cosignature by each of the witnesses named ($2). None
# after the oldest of the witnesses' newest first cosignatures can have them all (0 when a witness has none): the
# checkpoints past it are passed over inside the index on (size, id) rather than counted (migration 042).
_WITNESSED_COVERING = """
  SELECT c.id, c.size, c.root, c.note FROM checkpoints c
  WHERE c.size >= $1
    AND c.id <= (SELECT min(coalesce((SELECT max(s.checkpoint_id) FROM checkpoint_cosignatures s
                                      WHERE s.witness = w.witness AND NOT s.renewal), 0))
                 FROM unnest($2::text[]) AS w(witness))
    AND (SELECT count(DISTINCT s.witness) FROM checkpoint_cosignatures s
         WHERE s.checkpoint_id = c.id AND NOT s.renewal AND s.witness = ANY($2::text[])) = cardinality($2::text[])
  ORDER BY c.size DESC, c.id DESC LIMIT 1"""
