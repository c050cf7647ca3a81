"""RFC 9162 §2.1 Merkle tree hashing, proof generation and proof verification.

Written by hand: no maintained Python library implements RFC 9162 proofs over a
store of *stored subtree hashes* (the layout tlog-tiles and Trillian use), and the
verification algorithms are small enough that auditing our own copy is easier
than auditing a dependency. Behaviour is pinned to the transparency-dev/merkle
conformance probes and the RFC 6962 test vectors.

Vocabulary:

* A *node* ``(level, index)`` is the root of the perfect subtree covering leaves
  ``[index << level, (index + 1) << level)``. Only nodes of complete subtrees are
  ever stored; they never change once the log has grown past them.
* An *ephemeral* node is the root of an incomplete right-border subtree. It is
  never stored: a proof that needs it folds the perfect subtrees covering the
  same leaves (right to left), exactly as the RFC's MTH recursion would.

Proof generation is split in two steps so that a database-backed store can fetch
every node a proof needs in one query: :func:`inclusion_plan` /
:func:`consistency_plan` / :func:`root_plan` compute *which* nodes are needed
(pure arithmetic), and :meth:`ProofPlan.assemble` turns the fetched hashes into
the proof. :func:`inclusion_proof` etc. glue the two around a :class:`NodeStore`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from ._hashing import (
    EMPTY_ROOT,
    HASH_SIZE,
    NodeID,
    ProofError,
    leaf_hash,
    node_hash,
    root_from_leaf_hashes,
)

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "MemoryTree",
    "NodeID",
    "NodeStore",
    "ProofError",
    "ProofPlan",
    "consistency_plan",
    "consistency_proof",
    "consistency_proof_length",
    "inclusion_plan",
    "inclusion_proof",
    "inclusion_proof_length",
    "leaf_hash",
    "node_hash",
    "root_at",
    "root_from_leaf_hashes",
    "root_plan",
    "verify_consistency",
    "verify_inclusion",
]

_NODE_PREFIX = b"\x01"
# Bound once: verification is on the hot path and attribute lookups add up.
_sha256 = hashlib.sha256


# --------------------------------------------------------------------------
# Proof planning: which stored nodes does a proof need?
# --------------------------------------------------------------------------


class NodeStore(Protocol):
    """Read access to stored perfect-subtree hashes.

    ``get_nodes`` takes the whole list at once so that a database store can
    answer a proof with a single query; it must return hashes in the order asked
    and raise ``LookupError`` for a node it does not hold.
    """

    def get_nodes(self, ids: Sequence[NodeID], /) -> Sequence[bytes]: ...


@dataclass(frozen=True, slots=True)
class ProofPlan:
    """The stored nodes a proof (or root) is built from.

    ``ids[fold_start:fold_stop]`` (if that span holds two or more nodes) cover an
    ephemeral node, left to right; :meth:`assemble` folds them into its hash.
    """

    ids: tuple[NodeID, ...]
    fold_start: int = 0
    fold_stop: int = 0

    def assemble(self, hashes: Sequence[bytes]) -> list[bytes]:
        """Turn the hashes of ``ids`` (same order) into the proof hashes."""
        if len(hashes) != len(self.ids):
            raise ValueError(f"expected {len(self.ids)} node hashes, got {len(hashes)}")
        start, stop = self.fold_start, self.fold_stop
        if stop - start <= 1:
            return list(hashes)
        acc = hashes[stop - 1]
        for i in range(stop - 2, start - 1, -1):
            acc = node_hash(hashes[i], acc)
        return [*hashes[:start], acc, *hashes[stop:]]


def _perfect_subtrees(begin: int, end: int) -> list[NodeID]:
    """The largest aligned perfect subtrees covering leaves ``[begin, end)``, left to right."""
    nodes: list[NodeID] = []
    while begin < end:
        level = (end - begin).bit_length() - 1
        if begin:
            level = min(level, (begin & -begin).bit_length() - 1)
        nodes.append((level, begin >> level))
        begin += 1 << level
    return nodes


def _path_plan(ids: list[NodeID], level: int, index: int, size: int) -> ProofPlan:
    """Append the audit path of node (level, index) in a tree of ``size`` leaves.

    Walks up the perfect tree of height ceil(log2(size)). A sibling wholly past
    ``size`` does not exist in the RFC tree (the node is promoted instead); a
    sibling straddling ``size`` is the one ephemeral node on the path.
    """
    fold_start = fold_stop = 0
    for lvl in range(level, (size - 1).bit_length()):
        sibling = index ^ 1
        start = sibling << lvl
        if start < size:
            if start + (1 << lvl) <= size:
                ids.append((lvl, sibling))
            else:
                fold_start = len(ids)
                ids.extend(_perfect_subtrees(start, size))
                fold_stop = len(ids)
        index >>= 1
    return ProofPlan(tuple(ids), fold_start, fold_stop)


def inclusion_plan(index: int, size: int) -> ProofPlan:
    """Nodes for PATH(index, D[size]) (RFC 9162 §2.1.3.1), leaf sibling first."""
    if not 0 <= index < size:
        raise ValueError(f"leaf index {index} is outside a tree of size {size}")
    return _path_plan([], 0, index, size)


def consistency_plan(size1: int, size2: int) -> ProofPlan:
    """Nodes for PROOF(size1, D[size2]) (RFC 9162 §2.1.4.1); requires 0 < size1 <= size2.

    The RFC's SUBPROOF recursion reduces to: the root of the last perfect
    subtree of the old tree (omitted when that *is* the old root, i.e. size1 is
    a power of two, because the verifier already has it), followed by that
    node's audit path in the new tree.
    """
    if not 0 < size1 <= size2:
        raise ValueError(f"no consistency proof from size {size1} to size {size2}")
    if size1 == size2:
        return ProofPlan(())
    level = (size1 & -size1).bit_length() - 1
    index = (size1 - 1) >> level
    return _path_plan([] if index == 0 else [(level, index)], level, index, size2)


def root_plan(size: int) -> ProofPlan:
    """Nodes whose right-to-left fold is MTH(D[size]); empty for size 0."""
    if size < 0:
        raise ValueError(f"negative tree size {size}")
    ids = _perfect_subtrees(0, size)
    return ProofPlan(tuple(ids), 0, len(ids))


def inclusion_proof(store: NodeStore, index: int, size: int) -> list[bytes]:
    """Inclusion proof for leaf ``index`` in the tree of ``size`` leaves."""
    plan = inclusion_plan(index, size)
    return plan.assemble(store.get_nodes(plan.ids))


def consistency_proof(store: NodeStore, size1: int, size2: int) -> list[bytes]:
    """Consistency proof from the tree of ``size1`` leaves to that of ``size2``."""
    plan = consistency_plan(size1, size2)
    return plan.assemble(store.get_nodes(plan.ids))


def root_at(store: NodeStore, size: int) -> bytes:
    """MTH(D[size]) from stored nodes, for any size the store has reached."""
    plan = root_plan(size)
    if not plan.ids:
        return EMPTY_ROOT
    return plan.assemble(store.get_nodes(plan.ids))[0]


# --------------------------------------------------------------------------
# Verification (RFC 9162 §2.1.3.2 and §2.1.4.2, followed step by step)
# --------------------------------------------------------------------------


def inclusion_proof_length(index: int, size: int) -> int:
    """Exact number of hashes in an inclusion proof; requires 0 <= index < size."""
    # Below the level where the paths to `index` and `size - 1` split every level
    # contributes one sibling; above it only levels where `index` is a right child.
    inner = (index ^ (size - 1)).bit_length()
    return inner + (index >> inner).bit_count()


def consistency_proof_length(size1: int, size2: int) -> int:
    """Exact number of hashes in a consistency proof; requires 0 < size1 < size2."""
    shift = (size1 & -size1).bit_length() - 1
    inner = ((size1 - 1) ^ (size2 - 1)).bit_length()
    border = ((size1 - 1) >> inner).bit_count()
    seed = 0 if size1 == 1 << shift else 1
    return seed + inner - shift + border


def _check_hash(what: str, value: bytes) -> None:
    if len(value) != HASH_SIZE:
        raise ProofError(f"{what} is {len(value)} bytes, not {HASH_SIZE}")


def verify_inclusion(
    leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """Check that ``leaf_hash`` is leaf ``index`` of the tree of ``size`` with ``root``.

    Returns nothing; raises :class:`ProofError` on any failure.
    """
    if not 0 <= index < size:
        raise ProofError(f"leaf index {index} is outside a tree of size {size}")
    _check_hash("leaf hash", leaf_hash)
    _check_hash("root hash", root)
    want = inclusion_proof_length(index, size)
    if len(proof) != want:
        raise ProofError(f"inclusion proof has {len(proof)} hashes, expected {want}")
    fn, sn, r = index, size - 1, leaf_hash
    for p in proof:
        if len(p) != HASH_SIZE:
            raise ProofError(f"proof hash is {len(p)} bytes, not {HASH_SIZE}")
        if sn == 0:  # unreachable after the length check; kept as in the RFC
            raise ProofError("inclusion proof is too long")
        if fn & 1 or fn == sn:
            r = _sha256(_NODE_PREFIX + p + r).digest()
            # Right-border node with no right sibling: skip the levels where it
            # is promoted unchanged.
            while fn and not fn & 1:
                fn >>= 1
                sn >>= 1
        else:
            r = _sha256(_NODE_PREFIX + r + p).digest()
        fn >>= 1
        sn >>= 1
    if sn != 0:  # unreachable after the length check; kept as in the RFC
        raise ProofError("inclusion proof is too short")
    # Plain comparison: roots and proofs are public, so timing leaks nothing.
    if r != root:
        raise ProofError("inclusion proof does not lead to the expected root hash")


def verify_consistency(
    size1: int, size2: int, proof: Sequence[bytes], root1: bytes, root2: bytes
) -> None:
    """Check that the tree of ``size2``/``root2`` extends that of ``size1``/``root1``.

    Returns nothing; raises :class:`ProofError` on any failure. A consistency
    proof from the empty tree is rejected rather than trivially accepted: it
    would prove nothing, and accepting it hides callers that lost track of the
    old tree head.
    """
    if size1 < 0 or size2 < size1:
        raise ProofError(f"tree size went backwards from {size1} to {size2}")
    if size1 == 0:
        raise ProofError("a consistency proof from the empty tree proves nothing")
    if size1 == size2:
        if proof:
            raise ProofError("trees of equal size need an empty consistency proof")
        if root1 != root2:
            raise ProofError("trees of equal size have different root hashes")
        return
    _check_hash("first root hash", root1)
    _check_hash("second root hash", root2)
    want = consistency_proof_length(size1, size2)
    if len(proof) != want:
        raise ProofError(f"consistency proof has {len(proof)} hashes, expected {want}")
    for p in proof:
        if len(p) != HASH_SIZE:
            raise ProofError(f"proof hash is {len(p)} bytes, not {HASH_SIZE}")
    fr, sr, sn = _chain_consistency(size1, size2, proof, root1)
    if sn != 0:  # unreachable after the length check; kept as in the RFC
        raise ProofError("consistency proof is too short")
    if fr != root1:
        raise ProofError("consistency proof does not lead to the first root hash")
    if sr != root2:
        raise ProofError("consistency proof does not lead to the second root hash")


def _chain_consistency(
    size1: int, size2: int, proof: Sequence[bytes], root1: bytes
) -> tuple[bytes, bytes, int]:
    """RFC 9162 §2.1.4.2 steps 2-6: returns (fr, sr, sn)."""
    # Step 2: a power-of-two old tree is itself a node of the new tree, so the
    # proof leaves it out and the verifier seeds the walk with its own root.
    if size1 & (size1 - 1) == 0:
        seed, rest = root1, proof
    else:
        seed, rest = proof[0], proof[1:]
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = seed
    for c in rest:
        if sn == 0:  # unreachable after the length check; kept as in the RFC
            raise ProofError("consistency proof is too long")
        if fn & 1 or fn == sn:
            fr = _sha256(_NODE_PREFIX + c + fr).digest()
            sr = _sha256(_NODE_PREFIX + c + sr).digest()
            while fn and not fn & 1:
                fn >>= 1
                sn >>= 1
        else:
            sr = _sha256(_NODE_PREFIX + sr + c).digest()
        fn >>= 1
        sn >>= 1
    return fr, sr, sn


# --------------------------------------------------------------------------
# In-memory store
# --------------------------------------------------------------------------


class MemoryTree:
    """Append-only tree holding every complete-subtree hash, like tlog "stored hashes".

    Level ``L`` is one contiguous ``bytearray`` of 32-byte hashes (node ``N`` at
    offset ``32 * N``), so ten million leaves cost ~640 MB rather than the ~1.5 GB
    a list of ``bytes`` objects would.
    """

    __slots__ = ("_levels",)

    def __init__(self, leaf_hashes: Iterable[bytes] = ()) -> None:
        self._levels: list[bytearray] = [bytearray()]
        for h in leaf_hashes:
            self.append_leaf_hash(h)

    @property
    def size(self) -> int:
        return len(self._levels[0]) // HASH_SIZE

    def append(self, data: bytes) -> int:
        """Hash ``data`` as a leaf, append it, return its index."""
        return self.append_leaf_hash(leaf_hash(data))

    def append_leaf_hash(self, hash_: bytes) -> int:
        """Append an already-hashed leaf, return its index."""
        if len(hash_) != HASH_SIZE:
            raise ValueError(f"leaf hash is {len(hash_)} bytes, not {HASH_SIZE}")
        levels = self._levels
        index = self.size
        levels[0] += hash_
        # Each odd index completes a pair: store the parent, and carry upwards.
        level, i, h = 0, index, hash_
        while i & 1:
            offset = (i - 1) * HASH_SIZE
            h = node_hash(bytes(levels[level][offset : offset + HASH_SIZE]), h)
            level += 1
            i >>= 1
            if level == len(levels):
                levels.append(bytearray())
            levels[level] += h
        return index

    def node(self, level: int, index: int) -> bytes:
        """Hash of the stored perfect subtree (level, index)."""
        levels = self._levels
        offset = index * HASH_SIZE
        if not 0 <= level < len(levels) or not 0 <= offset < len(levels[level]):
            raise LookupError(f"node ({level}, {index}) is not a complete subtree of this tree")
        return bytes(levels[level][offset : offset + HASH_SIZE])

    def get_nodes(self, ids: Sequence[NodeID], /) -> list[bytes]:
        return [self.node(level, index) for level, index in ids]

    def leaf_hash(self, index: int) -> bytes:
        return self.node(0, index)

    def _resolve(self, size: int | None) -> int:
        if size is None:
            return self.size
        if not 0 <= size <= self.size:
            raise ValueError(f"tree size {size} is outside 0..{self.size}")
        return size

    def root(self, size: int | None = None) -> bytes:
        """MTH at ``size`` (default: current size)."""
        return root_at(self, self._resolve(size))

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        return inclusion_proof(self, index, self._resolve(size))

    def consistency_proof(self, size1: int, size2: int | None = None) -> list[bytes]:
        return consistency_proof(self, size1, self._resolve(size2))
