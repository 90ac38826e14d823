"""RFC 9162 (Certificate Transparency v2) Merkle tree hashing, proofs and proof verification.

Pure functions, no I/O. The tree over leaves d[0:n] is the RFC 9162 section 2.1.1 Merkle Tree Hash
(MTH). For storage, the tree is described by *complete subtrees*: the node at address
``(level, index)`` is the root of the perfect subtree over leaves ``[index * 2**level, (index + 1) *
2**level)``. Such a node never changes once its last leaf is appended, so a ledger can persist each
node exactly once (see `CompactRange.append`) and later answer any root, inclusion or consistency
question for any past tree size by reading O(log n) of them. The ragged right edge of a tree whose
size is not a power of two is never stored: it is recombined from complete subtrees on demand.

Every proof-producing function comes in three forms:

- ``nodes_for_*`` lists the node addresses needed, so a caller can fetch them in one query;
- ``*_from_nodes`` computes the result from a mapping of those addresses to hashes;
- the plain form takes ``get_node(level, index) -> bytes`` and fetches node by node.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Iterable, Mapping, Sequence

HASH_SIZE = 32
"""Length in bytes of every hash in the tree (SHA-256)."""

EMPTY_ROOT = hashlib.sha256(b"").digest()
"""MTH of the empty tree, RFC 9162 section 2.1.1."""

NodeId = tuple[int, int]
"""Address ``(level, index)`` of a complete subtree."""

GetNode = Callable[[int, int], bytes]
"""Returns the stored hash of the complete subtree at ``(level, index)``."""

_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"


class ProofError(ValueError):
    """A Merkle proof failed to verify, or its inputs are malformed."""


def leaf_hash(data: bytes) -> bytes:
    """Return the RFC 9162 leaf hash SHA-256(0x00 || data)."""
    return hashlib.sha256(_LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Return the RFC 9162 interior node hash SHA-256(0x01 || left || right)."""
    return hashlib.sha256(_NODE_PREFIX + left + right).digest()


def root_from_leaf_hashes(hashes: Sequence[bytes]) -> bytes:
    """Return the Merkle Tree Hash (RFC 9162 section 2.1.1) of a whole list of leaf hashes.

    Works level by level: pairing neighbours and carrying an unpaired last node up unchanged builds
    exactly the MTH tree, whose left subtree always holds the largest power of two of the leaves.
    """
    if not hashes:
        return EMPTY_ROOT
    level = list(hashes)
    while len(level) > 1:
        paired = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0]


class CompactRange:
    """The right frontier of a tree of ``size`` leaves: enough to append leaves and compute the root.

    The frontier is the list of roots of the perfect subtrees that make up the tree, largest (leftmost)
    first: one per set bit of ``size``. Their addresses are `nodes_for_root(size)`, so a ledger that
    persists the nodes returned by `append` can rebuild a `CompactRange` from storage with
    `from_frontier` after a restart.
    """

    __slots__ = ("_frontier", "_size")

    def __init__(self) -> None:
        """Start an empty tree."""
        self._size = 0
        self._frontier: list[bytes] = []

    @classmethod
    def from_frontier(cls, size: int, frontier: Sequence[bytes]) -> CompactRange:
        """Rebuild the range of a tree of ``size`` leaves from its frontier hashes, largest first.

        ``frontier[i]`` must be the hash stored at ``nodes_for_root(size)[i]``.
        """
        if size < 0:
            raise ValueError(f"tree size must be non-negative, got {size}")
        if len(frontier) != size.bit_count():
            raise ValueError(
                f"a tree of size {size} has {size.bit_count()} frontier hashes, got {len(frontier)}"
            )
        for position, value in enumerate(frontier):
            _require_hash_size(value, f"frontier hash {position}", ValueError)
        compact = cls()
        compact._size = size
        compact._frontier = list(frontier)
        return compact

    @property
    def size(self) -> int:
        """Number of leaves in the tree."""
        return self._size

    @property
    def frontier(self) -> tuple[bytes, ...]:
        """Hashes of the perfect subtrees making up the tree, largest first."""
        return tuple(self._frontier)

    def append(self, leaf: bytes) -> list[tuple[int, int, bytes]]:
        """Append one leaf hash; return the complete subtrees it completes as ``(level, index, hash)``.

        The first entry is the leaf itself at level 0, then every ancestor that has just become
        complete, lowest first. Persisting all of them is what makes the ``get_node`` functions work.
        """
        _require_hash_size(leaf, "leaf hash", ValueError)
        index = self._size
        current = leaf
        level = 0
        completed = [(0, index, current)]
        # Each trailing one bit of the old size is a perfect subtree of the same height waiting on the
        # frontier for a right sibling; the new leaf supplies it, so merge until a zero bit.
        while (index >> level) & 1:
            current = node_hash(self._frontier.pop(), current)
            level += 1
            completed.append((level, index >> level, current))
        self._frontier.append(current)
        self._size += 1
        return completed

    def extend(self, leaves: Iterable[bytes], *, with_leaves: bool = True) -> list[tuple[int, int, bytes]]:
        """Append several leaf hashes in order; return all completed subtrees (see `append`).

        ``with_leaves=False`` leaves out the level-0 entries, for a store that keeps the leaf hashes elsewhere.
        """
        first = 0 if with_leaves else 1
        completed: list[tuple[int, int, bytes]] = []
        for leaf in leaves:
            completed.extend(self.append(leaf)[first:])
        return completed

    def root(self) -> bytes:
        """Return the Merkle Tree Hash of the current tree."""
        return root_of_subtrees(self._frontier)


def nodes_for_root(size: int) -> list[NodeId]:
    """Return the addresses of the perfect subtrees making up a tree of ``size`` leaves, largest first."""
    if size < 0:
        raise ValueError(f"tree size must be non-negative, got {size}")
    return _range_nodes(0, size)


def root_at_from_nodes(size: int, nodes: Mapping[NodeId, bytes]) -> bytes:
    """Return the root of the tree of ``size`` leaves from fetched nodes (see `nodes_for_root`)."""
    return root_at(size, _lookup(nodes))


def root_at(size: int, get_node: GetNode) -> bytes:
    """Return the root the tree had when it held ``size`` leaves, from stored complete subtrees."""
    return root_of_subtrees([get_node(level, index) for level, index in nodes_for_root(size)])


def nodes_for_inclusion(index: int, size: int) -> list[NodeId]:
    """Return the addresses of all complete subtrees needed for `inclusion_proof`, without duplicates."""
    return _flatten(_inclusion_plan(index, size))


def inclusion_proof_from_nodes(index: int, size: int, nodes: Mapping[NodeId, bytes]) -> list[bytes]:
    """Return the inclusion proof of leaf ``index`` in the tree of ``size`` leaves from fetched nodes."""
    return inclusion_proof(index, size, _lookup(nodes))


def inclusion_proof(index: int, size: int, get_node: GetNode) -> list[bytes]:
    """Return the RFC 9162 inclusion proof (audit path) of leaf ``index`` in the tree of ``size`` leaves.

    Requires ``0 <= index < size``. The path lists sibling subtree hashes from the leaf upwards.
    """
    return _resolve(_inclusion_plan(index, size), get_node)


def nodes_for_consistency(old_size: int, new_size: int) -> list[NodeId]:
    """Return the addresses of all complete subtrees needed for `consistency_proof`, without duplicates."""
    return _flatten(_consistency_plan(old_size, new_size))


def consistency_proof_from_nodes(old_size: int, new_size: int, nodes: Mapping[NodeId, bytes]) -> list[bytes]:
    """Return the consistency proof between two tree sizes from fetched nodes."""
    return consistency_proof(old_size, new_size, _lookup(nodes))


def consistency_proof(old_size: int, new_size: int, get_node: GetNode) -> list[bytes]:
    """Return the RFC 9162 consistency proof that the tree of ``old_size`` is a prefix of ``new_size``.

    Requires ``0 < old_size <= new_size``; the proof for equal sizes is empty.
    """
    return _resolve(_consistency_plan(old_size, new_size), get_node)


def verify_inclusion(leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes) -> None:
    """Check that ``leaf_hash`` is leaf ``index`` of the tree of ``size`` leaves whose MTH is ``root``.

    Follows RFC 9162 section 2.1.3.2. Raises `ProofError` if the proof does not verify or if any
    input is malformed (index out of range, wrong proof length, hash of the wrong size).
    """
    if index < 0 or size < 0:
        raise ProofError(f"index and size must be non-negative, got index {index}, size {size}")
    if index >= size:
        raise ProofError(f"leaf index {index} is not in a tree of size {size}")
    _require_hash_size(leaf_hash, "leaf hash", ProofError)
    _require_hash_size(root, "root", ProofError)
    expected = len(_inclusion_plan(index, size))
    if len(proof) != expected:
        raise ProofError(
            f"inclusion proof for leaf {index} in a tree of size {size} must have {expected} hashes, "
            f"got {len(proof)}"
        )
    for position, sibling in enumerate(proof):
        _require_hash_size(sibling, f"proof hash {position}", ProofError)

    fn, sn = index, size - 1
    computed = leaf_hash
    for sibling in proof:
        if sn == 0:
            raise ProofError("inclusion proof is longer than the path to the root")
        if fn & 1 or fn == sn:
            computed = node_hash(sibling, computed)
            # A last node without a right sibling is carried up unchanged, so skip those levels.
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            computed = node_hash(computed, sibling)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("inclusion proof is shorter than the path to the root")
    if not hmac.compare_digest(computed, root):
        raise ProofError(f"inclusion proof for leaf {index} does not lead to the expected root")


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> None:
    """Check that the tree of ``old_size`` leaves with ``old_root`` is a prefix of the ``new_size`` tree.

    Follows RFC 9162 section 2.1.4.2 for ``0 < old_size < new_size``. When the sizes are equal the
    proof must be empty and the roots identical (and equal to `EMPTY_ROOT` for size 0). A proof from
    an empty old tree is rejected: it would prove nothing, and RFC 9162 defines none. Raises
    `ProofError` on failure or malformed input.
    """
    if old_size < 0 or new_size < 0:
        raise ProofError(f"tree sizes must be non-negative, got {old_size} and {new_size}")
    if old_size > new_size:
        raise ProofError(f"old size {old_size} is larger than new size {new_size}")
    if old_size == new_size:
        if proof:
            raise ProofError(f"consistency proof between equal sizes must be empty, got {len(proof)} hashes")
        if not hmac.compare_digest(old_root, new_root):
            raise ProofError(f"trees of equal size {old_size} have different roots")
        if old_size == 0 and not hmac.compare_digest(old_root, EMPTY_ROOT):
            raise ProofError("the root of the empty tree must be SHA-256 of the empty string")
        return
    if old_size == 0:
        raise ProofError("a consistency proof from the empty tree is meaningless")
    _require_hash_size(old_root, "old root", ProofError)
    _require_hash_size(new_root, "new root", ProofError)
    expected = len(_consistency_plan(old_size, new_size))
    if len(proof) != expected:
        raise ProofError(
            f"consistency proof from size {old_size} to {new_size} must have {expected} hashes, "
            f"got {len(proof)}"
        )
    for position, value in enumerate(proof):
        _require_hash_size(value, f"proof hash {position}", ProofError)

    path = list(proof)
    # When the old tree is a perfect subtree its root is the seed and the proof omits it.
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    old_computed = new_computed = path[0]
    for value in path[1:]:
        if sn == 0:
            raise ProofError("consistency proof is longer than the path to the root")
        if fn & 1 or fn == sn:
            old_computed = node_hash(value, old_computed)
            new_computed = node_hash(value, new_computed)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            # Subtrees right of the old tree's edge only exist in the new tree.
            new_computed = node_hash(new_computed, value)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("consistency proof is shorter than the path to the root")
    if not hmac.compare_digest(old_computed, old_root):
        raise ProofError(f"consistency proof does not reproduce the root of the old tree (size {old_size})")
    if not hmac.compare_digest(new_computed, new_root):
        raise ProofError(f"consistency proof does not reproduce the root of the new tree (size {new_size})")


# A proof "plan" lists, for each proof hash, the complete subtrees whose right fold gives that hash:
# one node for a complete sibling, several for a sibling cut by the ragged right edge of the tree.
_Plan = list[list[NodeId]]


def _inclusion_plan(index: int, size: int) -> _Plan:
    if not 0 <= index < size:
        raise ValueError(f"leaf index {index} is not in a tree of size {size}")
    return _path_plan(0, index, size)


def _consistency_plan(old_size: int, new_size: int) -> _Plan:
    if not 0 < old_size <= new_size:
        raise ValueError(f"consistency needs 0 < old_size <= new_size, got {old_size} and {new_size}")
    if old_size == new_size:
        return []
    # The old tree's last perfect subtree, of height `shift`, is a node shared by both trees; the proof
    # is the path from it to the new root, preceded by the node itself unless it is the whole old tree.
    shift = (old_size & -old_size).bit_length() - 1
    seed_index = (old_size - 1) >> shift
    plan = _path_plan(shift, seed_index, new_size)
    if old_size != 1 << shift:
        plan.insert(0, [(shift, seed_index)])
    return plan


def _path_plan(level: int, index: int, size: int) -> _Plan:
    """Siblings on the path from node (level, index) to the root of the tree of ``size`` leaves."""
    plan: _Plan = []
    last = (size - 1) >> level
    while last > 0:
        sibling = index ^ 1
        # A right sibling beyond the last node at this level does not exist: the node is carried up.
        if sibling <= last:
            plan.append(_range_nodes(sibling << level, min((sibling + 1) << level, size)))
        index >>= 1
        last >>= 1
        level += 1
    return plan


def _range_nodes(begin: int, end: int) -> list[NodeId]:
    """Perfect subtrees covering leaves [begin, end), largest first.

    Only called with ``begin`` a multiple of the smallest power of two >= ``end - begin``, which holds
    for every range in the MTH tree, so each piece is an aligned complete subtree.
    """
    nodes: list[NodeId] = []
    position = begin
    for level in range((end - begin).bit_length() - 1, -1, -1):
        if ((end - begin) >> level) & 1:
            nodes.append((level, position >> level))
            position += 1 << level
    return nodes


def root_of_subtrees(hashes: Sequence[bytes]) -> bytes:
    """MTH of consecutive perfect subtrees given largest first: each joins everything to its right.

    This is RFC 9162's split at the largest power of two below the size, taken recursively: the first
    subtree is exactly that left half whenever it is at least as large as the rest.
    """
    if not hashes:
        return EMPTY_ROOT
    result = hashes[-1]
    for left in reversed(hashes[:-1]):
        result = node_hash(left, result)
    return result


def _resolve(plan: _Plan, get_node: GetNode) -> list[bytes]:
    return [root_of_subtrees([get_node(level, index) for level, index in pieces]) for pieces in plan]


def _flatten(plan: _Plan) -> list[NodeId]:
    return list(dict.fromkeys(node for pieces in plan for node in pieces))


def _lookup(nodes: Mapping[NodeId, bytes]) -> GetNode:
    def get_node(level: int, index: int) -> bytes:
        try:
            return nodes[(level, index)]
        except KeyError:
            raise KeyError(f"Merkle node (level {level}, index {index}) was not fetched") from None

    return get_node


def _require_hash_size(value: bytes, what: str, error: type[ValueError]) -> None:
    if len(value) != HASH_SIZE:
        raise error(f"{what} must be {HASH_SIZE} bytes, got {len(value)}")
