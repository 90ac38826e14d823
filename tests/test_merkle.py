"""Merkle tree: incremental roots, proofs from stored complete subtrees, and verification."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.merkle import (
    EMPTY_ROOT,
    CompactRange,
    NodeId,
    ProofError,
    consistency_proof,
    consistency_proof_from_nodes,
    inclusion_proof,
    inclusion_proof_from_nodes,
    leaf_hash,
    node_hash,
    nodes_for_consistency,
    nodes_for_inclusion,
    nodes_for_root,
    root_at,
    root_at_from_nodes,
    root_from_leaf_hashes,
    verify_consistency,
    verify_inclusion,
)

MAX_ROOT_SIZE = 70
MAX_PROOF_SIZE = 40


# Reference implementation written straight from the recursive definitions of RFC 9162 section 2.1,
# to check the level-based production code against.
def _largest_power_of_two_below(n: int) -> int:
    return 1 << ((n - 1).bit_length() - 1)


def _mth(leaves: list[bytes]) -> bytes:
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    k = _largest_power_of_two_below(len(leaves))
    return node_hash(_mth(leaves[:k]), _mth(leaves[k:]))


def _path(m: int, leaves: list[bytes]) -> list[bytes]:
    if len(leaves) == 1:
        return []
    k = _largest_power_of_two_below(len(leaves))
    if m < k:
        return [*_path(m, leaves[:k]), _mth(leaves[k:])]
    return [*_path(m - k, leaves[k:]), _mth(leaves[:k])]


def _subproof(m: int, leaves: list[bytes], whole: bool) -> list[bytes]:
    n = len(leaves)
    if m == n:
        return [] if whole else [_mth(leaves)]
    k = _largest_power_of_two_below(n)
    if m <= k:
        return [*_subproof(m, leaves[:k], whole), _mth(leaves[k:])]
    return [*_subproof(m - k, leaves[k:], False), _mth(leaves[:k])]


class _Store:
    """An in-memory stand-in for the ledger's node table: it only holds what `append` returned."""

    def __init__(self, size: int) -> None:
        self.leaves = [leaf_hash(f"event {i}".encode()) for i in range(size)]
        self.nodes: dict[NodeId, bytes] = {}
        self.compact = CompactRange()
        self.roots = [self.compact.root()]
        for leaf in self.leaves:
            for level, index, value in self.compact.append(leaf):
                assert (level, index) not in self.nodes, "a complete subtree was reported twice"
                self.nodes[(level, index)] = value
            self.roots.append(self.compact.root())
        self.reads: list[NodeId] = []

    def get_node(self, level: int, index: int) -> bytes:
        # Reads are recorded so tests can compare them with the nodes_for_* address lists, which the
        # property tests check to hold only complete subtrees of the proven tree.
        self.reads.append((level, index))
        return self.nodes[(level, index)]


@pytest.fixture(scope="module")
def store() -> _Store:
    return _Store(MAX_ROOT_SIZE)


def test_hash_primitives() -> None:
    assert hashlib.sha256(b"").digest() == EMPTY_ROOT
    assert leaf_hash(b"abc") == hashlib.sha256(b"\x00abc").digest()
    assert node_hash(b"L" * 32, b"R" * 32) == hashlib.sha256(b"\x01" + b"L" * 32 + b"R" * 32).digest()
    # Domain separation: a leaf can never pass for an interior node over the same bytes.
    assert leaf_hash(b"L" * 32 + b"R" * 32) != node_hash(b"L" * 32, b"R" * 32)


def test_root_of_known_tree() -> None:
    # Leaves 0..7 of the RFC 6962 test tree; the root is the one used by the transparency-dev vectors.
    # They are "", then runs starting at 0x00, 0x10, 0x20... of lengths 1, 1, 2, 2, 4, 8, 16.
    lengths = [1, 1, 2, 2, 4, 8, 16]
    data = [b"", *(bytes(range(0x10 * i, 0x10 * i + n)) for i, n in enumerate(lengths))]
    expected = bytes.fromhex("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328")
    assert root_from_leaf_hashes([leaf_hash(d) for d in data]) == expected


def test_compact_range_roots_match_mth(store: _Store) -> None:
    for size in range(MAX_ROOT_SIZE + 1):
        expected = _mth(store.leaves[:size])
        assert root_from_leaf_hashes(store.leaves[:size]) == expected
        assert store.roots[size] == expected


def test_append_reports_every_complete_subtree_once(store: _Store) -> None:
    n = MAX_ROOT_SIZE
    expected = {(level, index) for level in range(n.bit_length()) for index in range(n >> level)}
    assert set(store.nodes) == expected
    for (level, index), value in store.nodes.items():
        assert value == _mth(store.leaves[index << level : (index + 1) << level])


def test_compact_range_restored_from_frontier(store: _Store) -> None:
    for size in range(MAX_ROOT_SIZE):
        frontier = [store.nodes[node] for node in nodes_for_root(size)]
        restored = CompactRange.from_frontier(size, frontier)
        assert restored.size == size
        assert restored.frontier == tuple(frontier)
        assert restored.root() == store.roots[size]
        completed = restored.append(store.leaves[size])
        assert all(store.nodes[(level, index)] == value for level, index, value in completed)
        assert restored.root() == store.roots[size + 1]


def test_extend_equals_repeated_append(store: _Store) -> None:
    compact = CompactRange()
    completed = compact.extend(store.leaves[:13])
    assert compact.root() == store.roots[13]
    assert {(level, index) for level, index, _ in completed} == {
        node for node in store.nodes if (node[1] + 1) << node[0] <= 13
    }


def test_extend_without_leaves_leaves_out_only_level_zero(store: _Store) -> None:
    with_leaves = CompactRange().extend(store.leaves[:13])
    compact = CompactRange()
    assert compact.extend(store.leaves[:13], with_leaves=False) == [n for n in with_leaves if n[0] > 0]
    assert compact.root() == store.roots[13]


def test_compact_range_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="frontier hashes"):
        CompactRange.from_frontier(3, [b"\x00" * 32])
    with pytest.raises(ValueError, match="non-negative"):
        CompactRange.from_frontier(-1, [])
    with pytest.raises(ValueError, match="32 bytes"):
        CompactRange.from_frontier(1, [b"short"])
    with pytest.raises(ValueError, match="32 bytes"):
        CompactRange().append(b"not a hash")


def test_root_at_every_past_size(store: _Store) -> None:
    for size in range(MAX_ROOT_SIZE + 1):
        assert root_at(size, store.get_node) == store.roots[size]
        fetched = {node: store.nodes[node] for node in nodes_for_root(size)}
        assert root_at_from_nodes(size, fetched) == store.roots[size]
        assert len(fetched) == size.bit_count()


def test_inclusion_proofs_for_every_leaf(store: _Store) -> None:
    for size in range(1, MAX_PROOF_SIZE + 1):
        tree = store.leaves[:size]
        for index in range(size):
            store.reads.clear()
            proof = inclusion_proof(index, size, store.get_node)
            assert proof == _path(index, tree)
            assert len(store.reads) <= 2 * size.bit_length()
            verify_inclusion(tree[index], index, size, proof, store.roots[size])

            needed = nodes_for_inclusion(index, size)
            assert set(store.reads) == set(needed)
            assert len(needed) == len(set(needed))
            fetched = {node: store.nodes[node] for node in needed}
            assert inclusion_proof_from_nodes(index, size, fetched) == proof


def test_consistency_proofs_for_every_pair(store: _Store) -> None:
    for new_size in range(1, MAX_PROOF_SIZE + 1):
        tree = store.leaves[:new_size]
        for old_size in range(1, new_size + 1):
            store.reads.clear()
            proof = consistency_proof(old_size, new_size, store.get_node)
            assert proof == _subproof(old_size, tree, True)
            verify_consistency(old_size, new_size, store.roots[old_size], store.roots[new_size], proof)

            needed = nodes_for_consistency(old_size, new_size)
            assert set(store.reads) == set(needed)
            fetched = {node: store.nodes[node] for node in needed}
            assert consistency_proof_from_nodes(old_size, new_size, fetched) == proof


def test_missing_fetched_node_is_reported() -> None:
    with pytest.raises(KeyError, match="was not fetched"):
        inclusion_proof_from_nodes(0, 2, {})


def test_proof_generation_rejects_bad_sizes(store: _Store) -> None:
    with pytest.raises(ValueError):
        inclusion_proof(3, 3, store.get_node)
    with pytest.raises(ValueError):
        inclusion_proof(-1, 3, store.get_node)
    with pytest.raises(ValueError):
        consistency_proof(0, 3, store.get_node)
    with pytest.raises(ValueError):
        consistency_proof(4, 3, store.get_node)
    assert consistency_proof(5, 5, store.get_node) == []


def _flip(value: bytes) -> bytes:
    return bytes([value[0] ^ 1]) + value[1:]


def test_tampered_inclusion_fails(store: _Store) -> None:
    size, index = 21, 13
    leaf, root = store.leaves[index], store.roots[size]
    proof = inclusion_proof(index, size, store.get_node)
    verify_inclusion(leaf, index, size, proof, root)
    for position in range(len(proof)):
        tampered = list(proof)
        tampered[position] = _flip(tampered[position])
        with pytest.raises(ProofError, match="expected root"):
            verify_inclusion(leaf, index, size, tampered, root)
    with pytest.raises(ProofError, match="expected root"):
        verify_inclusion(_flip(leaf), index, size, proof, root)
    with pytest.raises(ProofError, match="expected root"):
        verify_inclusion(leaf, index, size, proof, _flip(root))
    with pytest.raises(ProofError, match="expected root"):
        verify_inclusion(leaf, index + 1, size, proof, root)
    with pytest.raises(ProofError, match="must have"):
        verify_inclusion(leaf, index, size, proof[:-1], root)
    with pytest.raises(ProofError, match="must have"):
        verify_inclusion(leaf, index, size, [*proof, root], root)
    with pytest.raises(ProofError, match="not in a tree"):
        verify_inclusion(leaf, size, size, proof, root)
    with pytest.raises(ProofError, match="non-negative"):
        verify_inclusion(leaf, -1, size, proof, root)
    with pytest.raises(ProofError, match="32 bytes"):
        verify_inclusion(leaf[:31], index, size, proof, root)
    with pytest.raises(ProofError, match="32 bytes"):
        verify_inclusion(leaf, index, size, [*proof[:-1], b"x"], root)


def test_tampered_consistency_fails(store: _Store) -> None:
    old_size, new_size = 6, 27
    old_root, new_root = store.roots[old_size], store.roots[new_size]
    proof = consistency_proof(old_size, new_size, store.get_node)
    verify_consistency(old_size, new_size, old_root, new_root, proof)
    for position in range(len(proof)):
        tampered = list(proof)
        tampered[position] = _flip(tampered[position])
        with pytest.raises(ProofError, match="does not reproduce"):
            verify_consistency(old_size, new_size, old_root, new_root, tampered)
    with pytest.raises(ProofError, match="old tree"):
        verify_consistency(old_size, new_size, _flip(old_root), new_root, proof)
    with pytest.raises(ProofError, match="new tree"):
        verify_consistency(old_size, new_size, old_root, _flip(new_root), proof)
    with pytest.raises(ProofError, match="larger"):
        verify_consistency(new_size, old_size, new_root, old_root, proof)
    with pytest.raises(ProofError, match="must have"):
        verify_consistency(old_size, new_size, old_root, new_root, proof[1:])
    with pytest.raises(ProofError, match="empty tree"):
        verify_consistency(0, new_size, EMPTY_ROOT, new_root, [])


def test_consistency_between_equal_sizes() -> None:
    root = leaf_hash(b"only")
    verify_consistency(1, 1, root, root, [])
    verify_consistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, [])
    with pytest.raises(ProofError, match="different roots"):
        verify_consistency(1, 1, root, _flip(root), [])
    with pytest.raises(ProofError, match="must be empty"):
        verify_consistency(1, 1, root, root, [root])
    with pytest.raises(ProofError, match="empty string"):
        verify_consistency(0, 0, root, root, [])


@given(st.lists(st.binary(max_size=8), min_size=1, max_size=90), st.data())
def test_random_trees_prove_and_verify(entries: list[bytes], data: st.DataObject) -> None:
    leaves = [leaf_hash(entry) for entry in entries]
    nodes: dict[NodeId, bytes] = {}
    compact = CompactRange()
    for leaf in leaves:
        nodes.update(((level, index), value) for level, index, value in compact.append(leaf))
    size = len(leaves)
    root = compact.root()
    assert root == _mth(leaves)

    index = data.draw(st.integers(0, size - 1), label="index")
    proof = inclusion_proof_from_nodes(index, size, nodes)
    verify_inclusion(leaves[index], index, size, proof, root)

    old_size = data.draw(st.integers(1, size), label="old_size")
    old_root = root_at_from_nodes(old_size, nodes)
    assert old_root == _mth(leaves[:old_size])
    verify_consistency(old_size, size, old_root, root, consistency_proof_from_nodes(old_size, size, nodes))

    other = data.draw(st.integers(0, size - 1), label="other index")
    if leaves[other] != leaves[index]:
        with pytest.raises(ProofError):
            verify_inclusion(leaves[other], index, size, proof, root)


@given(
    st.integers(1, 2**40),
    st.data(),
)
def test_proof_shapes_for_huge_trees(size: int, data: st.DataObject) -> None:
    # Proof sizes stay logarithmic and only complete subtrees are ever addressed, even far beyond
    # what could be built in memory.
    index = data.draw(st.integers(0, size - 1), label="index")
    old_size = data.draw(st.integers(1, size), label="old_size")
    for level, node_index in nodes_for_inclusion(index, size) + nodes_for_consistency(old_size, size):
        assert node_index >= 0
        assert (node_index + 1) << level <= size
    assert len(nodes_for_inclusion(index, size)) <= 2 * size.bit_length()
    assert len(nodes_for_consistency(old_size, size)) <= 3 * size.bit_length()
