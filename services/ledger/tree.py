"""The Merkle log in PostgreSQL: load the frontier, fetch nodes for proofs, make signed checkpoints."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import asyncpg

from shared.merkle import CompactRange, NodeId, nodes_for_root, root_at_from_nodes
from shared.problems import Inconsistent
from shared.signednote import Checkpoint, Signer, sign_note


async def fetch_nodes(conn: asyncpg.Connection, ids: Iterable[NodeId]) -> dict[NodeId, bytes]:
    """The stored hashes of the given (level, idx) nodes, in one query.

    Leaves (level 0) are not kept in `merkle_nodes`: leaf idx is the leaf_hash of the row at position idx + 1.
    A node that should be stored and is not (a damaged database) raises `Inconsistent`.
    """
    wanted = list(dict.fromkeys(ids))
    if not wanted:
        return {}
    inner = [(level, idx) for level, idx in wanted if level]
    rows = await conn.fetch(
        """SELECT n.level, n.idx, n.hash FROM merkle_nodes n
           JOIN unnest($1::smallint[], $2::bigint[]) AS w(level, idx) ON n.level = w.level AND n.idx = w.idx
           UNION ALL
           SELECT 0::smallint, position - 1, leaf_hash FROM ledger_events WHERE position = ANY($3::bigint[])""",
        [level for level, _ in inner], [idx for _, idx in inner], [idx + 1 for level, idx in wanted if not level])
    found = {(r["level"], r["idx"]): bytes(r["hash"]) for r in rows}
    if len(found) < len(wanted):
        missing = [node for node in wanted if node not in found]
        raise Inconsistent(
            f"the stored Merkle tree lacks {len(missing)} of the {len(wanted)} nodes asked for (默克尔树节点缺失), "
            f"first (level, index) {missing[0]}; run `cadre-ledger verify` to find the damage",
            missing=[list(node) for node in missing[:10]])
    return found


async def tree_size(conn: asyncpg.Connection) -> int:
    """Leaves in the stored tree.

    The nodes of a batch commit with its rows, so this is the ledger's size; on a ledger older than the
    Merkle log it is as far as the nodes reach (`backfill`). Level 1 fixes the size up to its last bit, and
    a tree one leaf larger than an even size has no node of its own above that leaf, which is a row.
    """
    return int(await conn.fetchval(
        """SELECT least((SELECT coalesce(max(position), 0) FROM ledger_events),
                        2 * (SELECT coalesce(max(idx) + 1, 0) FROM merkle_nodes WHERE level = 1) + 1)"""))


async def load_range(conn: asyncpg.Connection, size: int) -> CompactRange:
    """The compact range of the stored tree of `size` leaves."""
    ids = nodes_for_root(size)
    nodes = await fetch_nodes(conn, ids)
    return CompactRange.from_frontier(size, [nodes[i] for i in ids])


async def backfill(conn: asyncpg.Connection, ledger_size: int, batch: int = 10_000) -> CompactRange:
    """Bring the stored tree up to the ledger (a ledger older than the Merkle log, or nodes missing)."""
    size = await tree_size(conn)
    tree = await load_range(conn, size)
    while size < ledger_size:
        rows = await conn.fetch("SELECT leaf_hash FROM ledger_events WHERE position > $1 ORDER BY position LIMIT $2",
                                size, batch)
        nodes = tree.extend((bytes(r["leaf_hash"]) for r in rows), with_leaves=False)
        await conn.copy_records_to_table("merkle_nodes", columns=("level", "idx", "hash"), records=nodes)
        size = tree.size
    return tree


async def root_at(conn: asyncpg.Connection, size: int) -> bytes:
    """The root of the log at a past (or the current) size."""
    return root_at_from_nodes(size, await fetch_nodes(conn, nodes_for_root(size)))


@dataclass(frozen=True)
class StoredCheckpoint:
    """A signed checkpoint as stored."""

    id: int
    size: int
    root: bytes
    note: str


@dataclass(frozen=True)
class SignedCheckpoint:
    """A checkpoint signed and not yet stored (the writer stores it with the batch that grows the log to it)."""

    origin: str
    size: int
    root: bytes
    note: str

    def stored_as(self, row_id: int) -> StoredCheckpoint:
        """The checkpoint as stored in row `row_id`."""
        return StoredCheckpoint(row_id, self.size, self.root, self.note)


def sign_checkpoint(signer: Signer, origin: str, size: int, root: bytes) -> SignedCheckpoint:
    """Sign (origin, size, root) as a C2SP checkpoint note."""
    return SignedCheckpoint(origin, size, root, sign_note(Checkpoint(origin, size, root).to_note_body(), [signer]))


async def store_checkpoint(conn: asyncpg.Connection, signer: Signer, origin: str, size: int,
                           root: bytes) -> StoredCheckpoint:
    """Sign (origin, size, root) as a C2SP checkpoint note and store it."""
    signed = sign_checkpoint(signer, origin, size, root)
    row_id = await conn.fetchval("INSERT INTO checkpoints (origin, size, root, note) VALUES ($1, $2, $3, $4) "
                                 "RETURNING id", origin, size, root, signed.note)
    return signed.stored_as(int(row_id))


async def latest_checkpoint(conn: asyncpg.Connection) -> StoredCheckpoint | None:
    """The checkpoint of the largest size (the newest among equals)."""
    row = await conn.fetchrow("SELECT id, size, root, note FROM checkpoints ORDER BY size DESC, id DESC LIMIT 1")
    return StoredCheckpoint(row["id"], row["size"], bytes(row["root"]), row["note"]) if row else None
