"""Merkle tree: generation against a literal RFC 9162 reference, and verification properties."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from shuchang.domains.evidence.tlog.merkle import (
    EMPTY_ROOT,
    MemoryTree,
    NodeID,
    ProofError,
    ProofPlan,
    consistency_plan,
    consistency_proof_length,
    inclusion_plan,
    inclusion_proof_length,
    leaf_hash,
    node_hash,
    root_at,
    verify_consistency,
    verify_inclusion,
)

MAX_SIZE = 2100
LEAVES = [i.to_bytes(4, "big") for i in range(MAX_SIZE)]
LEAF_HASHES = [leaf_hash(x) for x in LEAVES]
# One store serves every tree size up to MAX_SIZE: stored subtree hashes never change.
TREE = MemoryTree(LEAF_HASHES)


# --------------------------------------------------------------------------
# RFC 9162 §2.1 written out literally, as an oracle
# --------------------------------------------------------------------------


def _split(n: int) -> int:
    """Largest power of two smaller than n (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


@cache
def _mth(begin: int, end: int) -> bytes:
    n = end - begin
    if n == 0:
        return EMPTY_ROOT
    if n == 1:
        return LEAF_HASHES[begin]
    k = _split(n)
    return node_hash(_mth(begin, begin + k), _mth(begin + k, end))


def _rfc_path(m: int, begin: int, end: int) -> list[bytes]:
    n = end - begin
    if n == 1:
        return []
    k = _split(n)
    if m < k:
        return [*_rfc_path(m, begin, begin + k), _mth(begin + k, end)]
    return [*_rfc_path(m - k, begin + k, end), _mth(begin, begin + k)]


def _rfc_subproof(m: int, begin: int, end: int, whole: bool) -> list[bytes]:
    n = end - begin
    if m == n:
        return [] if whole else [_mth(begin, end)]
    k = _split(n)
    if m <= k:
        return [*_rfc_subproof(m, begin, begin + k, whole), _mth(begin + k, end)]
    return [*_rfc_subproof(m - k, begin + k, end, False), _mth(begin, begin + k)]


@pytest.mark.parametrize("size", range(1, 40))
def test_generation_matches_rfc_for_small_trees(size: int) -> None:
    assert TREE.root(size) == _mth(0, size)
    for index in range(size):
        assert TREE.inclusion_proof(index, size) == _rfc_path(index, 0, size)
    for size1 in range(1, size + 1):
        assert TREE.consistency_proof(size1, size) == _rfc_subproof(size1, 0, size, True)


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_generation_matches_rfc(data: st.DataObject) -> None:
    size = data.draw(st.integers(1, MAX_SIZE))
    index = data.draw(st.integers(0, size - 1))
    size1 = data.draw(st.integers(1, size))
    assert TREE.root(size) == _mth(0, size)
    assert TREE.inclusion_proof(index, size) == _rfc_path(index, 0, size)
    assert TREE.consistency_proof(size1, size) == _rfc_subproof(size1, 0, size, True)


# --------------------------------------------------------------------------
# Verification properties
# --------------------------------------------------------------------------


def _flip(value: bytes, bit: int) -> bytes:
    bit %= len(value) * 8
    out = bytearray(value)
    out[bit // 8] ^= 1 << (bit % 8)
    return bytes(out)


def _inclusion_shape(index: int, size: int) -> tuple[bool, ...] | None:
    """Which side each proof hash goes on, per RFC 9162 §2.1.3.2 (None: no valid proof)."""
    if not 0 <= index < size:
        return None
    fn, sn, sides = index, size - 1, []
    for _ in range(inclusion_proof_length(index, size)):
        left = bool(fn & 1 or fn == sn)
        sides.append(left)
        if left:
            while fn and not fn & 1:
                fn, sn = fn >> 1, sn >> 1
        fn, sn = fn >> 1, sn >> 1
    return tuple(sides)


sizes = st.integers(1, MAX_SIZE)


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_inclusion_proofs_verify_and_resist_tampering(data: st.DataObject) -> None:
    size = data.draw(sizes)
    index = data.draw(st.integers(0, size - 1))
    proof, root, leaf = TREE.inclusion_proof(index, size), TREE.root(size), LEAF_HASHES[index]
    verify_inclusion(leaf, index, size, proof, root)

    bit = data.draw(st.integers(0, 255))
    with pytest.raises(ProofError):
        verify_inclusion(_flip(leaf, bit), index, size, proof, root)
    with pytest.raises(ProofError):
        verify_inclusion(leaf, index, size, proof, _flip(root, bit))
    if proof:
        i = data.draw(st.integers(0, len(proof) - 1))
        bad = [*proof[:i], _flip(proof[i], bit), *proof[i + 1 :]]
        with pytest.raises(ProofError):
            verify_inclusion(leaf, index, size, bad, root)


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_inclusion_rejects_other_index_or_size(data: st.DataObject) -> None:
    size = data.draw(sizes)
    index = data.draw(st.integers(0, size - 1))
    proof, root, leaf = TREE.inclusion_proof(index, size), TREE.root(size), LEAF_HASHES[index]
    other_index = data.draw(st.integers(0, MAX_SIZE))
    assume(other_index != index)
    # Distinct leaf positions never share an audit path shape, so a moved index
    # must always fail.
    assert _inclusion_shape(other_index, size) != _inclusion_shape(index, size)
    with pytest.raises(ProofError):
        verify_inclusion(leaf, other_index, size, proof, root)

    other_size = data.draw(st.integers(0, 2 * MAX_SIZE))
    assume(other_size != size)
    # A different size can only pass if it gives this leaf the very same audit
    # path (e.g. leaf 0 in sizes 3 and 4) *and* the root is unchanged — the root,
    # which a checkpoint signs together with the size, carries the commitment.
    if _inclusion_shape(index, other_size) == _inclusion_shape(index, size):
        verify_inclusion(leaf, index, other_size, proof, root)
    else:
        with pytest.raises(ProofError):
            verify_inclusion(leaf, index, other_size, proof, root)


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_consistency_proofs_verify_and_resist_tampering(data: st.DataObject) -> None:
    size2 = data.draw(st.integers(2, MAX_SIZE))
    size1 = data.draw(st.integers(1, size2 - 1))
    proof = TREE.consistency_proof(size1, size2)
    root1, root2 = TREE.root(size1), TREE.root(size2)
    verify_consistency(size1, size2, proof, root1, root2)

    bit = data.draw(st.integers(0, 255))
    with pytest.raises(ProofError):
        verify_consistency(size1, size2, proof, _flip(root1, bit), root2)
    with pytest.raises(ProofError):
        verify_consistency(size1, size2, proof, root1, _flip(root2, bit))
    i = data.draw(st.integers(0, len(proof) - 1))
    bad = [*proof[:i], _flip(proof[i], bit), *proof[i + 1 :]]
    with pytest.raises(ProofError):
        verify_consistency(size1, size2, bad, root1, root2)


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_consistency_rejects_other_sizes(data: st.DataObject) -> None:
    size2 = data.draw(st.integers(2, MAX_SIZE))
    size1 = data.draw(st.integers(1, size2 - 1))
    proof = TREE.consistency_proof(size1, size2)
    root1, root2 = TREE.root(size1), TREE.root(size2)
    # A proof only ever passes under other sizes that make it hash up along the
    # very same shape (e.g. 2 -> 3 and 2 -> 4 both take one right sibling); the
    # signed roots, not the sizes, carry the commitment.
    shape = _consistency_shape(size1, size2)
    other1 = data.draw(st.integers(0, MAX_SIZE))
    other2 = data.draw(st.integers(0, 2 * MAX_SIZE))
    for s1, s2 in ((other1, size2), (size1, other2), (other1, other2)):
        if (s1, s2) == (size1, size2):
            continue
        if _consistency_shape(s1, s2) == shape:
            verify_consistency(s1, s2, proof, root1, root2)
        else:
            with pytest.raises(ProofError):
                verify_consistency(s1, s2, proof, root1, root2)


def _consistency_shape(size1: int, size2: int) -> tuple[bool, tuple[bool, ...]] | None:
    """How a proof for (size1, size2) is hashed, per RFC 9162 §2.1.4.2 (None: no proof)."""
    if not 0 < size1 < size2:
        return None
    seeded_by_root1 = size1 & (size1 - 1) == 0
    fn, sn, ops = size1 - 1, size2 - 1, []
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    for _ in range(consistency_proof_length(size1, size2) - (0 if seeded_by_root1 else 1)):
        both = bool(fn & 1 or fn == sn)
        ops.append(both)
        if both:
            while fn and not fn & 1:
                fn, sn = fn >> 1, sn >> 1
        fn, sn = fn >> 1, sn >> 1
    return seeded_by_root1, tuple(ops)


def test_generated_proofs_have_the_predicted_length() -> None:
    for size in range(1, 130):
        for index in range(size):
            assert len(TREE.inclusion_proof(index, size)) == inclusion_proof_length(index, size)
        for size1 in range(1, size):
            got = len(TREE.consistency_proof(size1, size))
            assert got == consistency_proof_length(size1, size)


# --------------------------------------------------------------------------
# Edge cases and the store abstraction
# --------------------------------------------------------------------------


def test_trivial_consistency_cases() -> None:
    root = TREE.root(5)
    verify_consistency(5, 5, [], root, root)
    with pytest.raises(ProofError, match="empty consistency proof"):
        verify_consistency(5, 5, [root], root, root)
    with pytest.raises(ProofError, match="empty tree"):
        verify_consistency(0, 5, [], EMPTY_ROOT, root)
    with pytest.raises(ProofError, match="backwards"):
        verify_consistency(6, 5, [], root, root)


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        ((LEAF_HASHES[0], 1, 1, [], LEAF_HASHES[0]), "outside"),
        ((LEAF_HASHES[0], -1, 1, [], LEAF_HASHES[0]), "outside"),
        ((b"short", 0, 1, [], LEAF_HASHES[0]), "leaf hash is 5 bytes"),
        ((LEAF_HASHES[0], 0, 1, [], b""), "root hash is 0 bytes"),
        ((LEAF_HASHES[0], 0, 2, [], LEAF_HASHES[0]), "has 0 hashes, expected 1"),
        ((LEAF_HASHES[0], 0, 2, [b"x"], LEAF_HASHES[0]), "proof hash is 1 bytes"),
    ],
)
def test_inclusion_failure_reasons(
    args: tuple[bytes, int, int, list[bytes], bytes], reason: str
) -> None:
    with pytest.raises(ProofError, match=reason) as info:
        verify_inclusion(*args)
    assert reason in info.value.reason


def test_plans_reject_impossible_requests() -> None:
    with pytest.raises(ValueError, match="outside"):
        inclusion_plan(3, 3)
    with pytest.raises(ValueError, match="no consistency proof"):
        consistency_plan(0, 3)
    with pytest.raises(ValueError, match="no consistency proof"):
        consistency_plan(4, 3)
    assert consistency_plan(3, 3) == ProofPlan(())
    with pytest.raises(ValueError, match="expected"):
        ProofPlan(((0, 0),)).assemble([])


def test_plan_fetches_only_stored_nodes() -> None:
    # Inclusion of leaf 0 in a tree of 7: siblings (0,1) and (1,1), then the
    # ephemeral node over leaves 4..6, i.e. stored nodes (1,2) and (0,6) folded.
    plan = inclusion_plan(0, 7)
    assert plan.ids == ((0, 1), (1, 1), (1, 2), (0, 6))
    assert (plan.fold_start, plan.fold_stop) == (2, 4)
    assert plan.assemble(TREE.get_nodes(plan.ids)) == _rfc_path(0, 0, 7)


class _CountingStore:
    """A NodeStore that only knows perfect subtrees, like a database table would."""

    def __init__(self) -> None:
        self.calls = 0

    def get_nodes(self, ids: Sequence[NodeID], /) -> list[bytes]:
        self.calls += 1
        return TREE.get_nodes(ids)


def test_one_store_round_trip_per_proof() -> None:
    store = _CountingStore()
    assert root_at(store, 1000) == TREE.root(1000)
    assert root_at(store, 0) == EMPTY_ROOT
    assert store.calls == 1


def test_memory_tree_guards() -> None:
    tree = MemoryTree()
    assert tree.size == 0
    assert tree.root() == EMPTY_ROOT
    assert tree.append(b"a") == 0
    with pytest.raises(ValueError, match="32"):
        tree.append_leaf_hash(b"short")
    with pytest.raises(LookupError):
        tree.node(1, 0)
    with pytest.raises(LookupError):
        tree.leaf_hash(1)
    with pytest.raises(ValueError, match="outside"):
        tree.root(2)
    assert tree.inclusion_proof(0) == []


def test_the_root_not_the_size_carries_the_commitment() -> None:
    # Leaf 0 has the same audit path shape in trees of 3 and 4 leaves, so the
    # size-3 proof "verifies" for size 4 *against the size-3 root*. That is not a
    # forgery: no honest checkpoint pairs size 4 with the size-3 root, and
    # receipts take size and root from one signed checkpoint.
    proof, root3 = TREE.inclusion_proof(0, 3), TREE.root(3)
    verify_inclusion(LEAF_HASHES[0], 0, 4, proof, root3)
    with pytest.raises(ProofError):
        verify_inclusion(LEAF_HASHES[0], 0, 4, proof, TREE.root(4))
