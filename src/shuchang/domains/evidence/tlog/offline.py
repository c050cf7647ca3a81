"""Offline log operations: build a signed log from leaves, verify receipts, audit stored data.

Everything here is pure (no database, no network) so that the CLI, the service
layer and tests share one implementation.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from itertools import pairwise

from .checkpoint import Checkpoint
from .merkle import HASH_SIZE, MemoryTree, ProofError, leaf_hash, verify_consistency
from .note import Signer, Verifier, sign
from .proof import TlogProof, verify_tlog_proof

__all__ = [
    "BuiltLog",
    "Finding",
    "FindingKind",
    "audit_leaves",
    "build_log",
    "verify_receipt",
]


@dataclass(frozen=True, slots=True)
class BuiltLog:
    checkpoint: Checkpoint
    signed_checkpoint: bytes  # the signed note
    receipts: tuple[bytes, ...]  # tlog-proof@v1 text, one per leaf, in leaf order


def build_log(origin: str, signer: Signer, leaves: Sequence[bytes]) -> BuiltLog:
    """Build a log of ``leaves`` (raw entries, in order), sign its checkpoint, prove every leaf."""
    if not leaves:
        raise ValueError("a log needs at least one leaf to prove anything")
    tree = MemoryTree()
    for data in leaves:
        tree.append(data)
    checkpoint = Checkpoint(origin, tree.size, tree.root())
    signed = sign(checkpoint.to_text(), signer)
    receipts = tuple(
        TlogProof(i, tuple(tree.inclusion_proof(i)), signed).to_bytes() for i in range(tree.size)
    )
    return BuiltLog(checkpoint, signed, receipts)


def verify_receipt(
    receipt: bytes, leaf: bytes, verifiers: Iterable[Verifier], origin: str | None = None
) -> tuple[Checkpoint, int]:
    """Verify that raw entry ``leaf`` is in the log per ``receipt``; returns (checkpoint, index).

    Raises a ``ValueError`` subclass whose message is the reason for failure.
    """
    proof = TlogProof.from_bytes(receipt)
    checkpoint = verify_tlog_proof(proof, leaf_hash(leaf), verifiers, origin)
    return checkpoint, proof.index


# --------------------------------------------------------------------------
# Audit
# --------------------------------------------------------------------------


class FindingKind(StrEnum):
    ALTERED = "altered"  # entry no longer hashes to what was recorded at sequencing
    REMOVED = "removed"  # entry recorded at this index is gone
    REORDERED = "reordered"  # entry recorded at another index now sits here
    UNRECORDED = "unrecorded"  # entry present with no recorded hash (appended behind the log)
    ROOT_MISMATCH = "root_mismatch"  # stored data does not reproduce a signed tree head
    UNVERIFIABLE = "unverifiable"  # checkpoint covers leaves that are not available
    INCONSISTENT = "inconsistent"  # two checkpoints cannot both be heads of one append-only log


@dataclass(frozen=True, slots=True)
class Finding:
    kind: FindingKind
    index: int | None  # leaf index the finding is about, if one can be named
    detail: str

    def __str__(self) -> str:
        where = "" if self.index is None else f" at index {self.index}"
        return f"{self.kind}{where}: {self.detail}"


def audit_leaves(
    leaves: Sequence[bytes | None],
    recorded_leaf_hashes: Sequence[bytes] | None,
    checkpoints: Sequence[tuple[int, bytes]],
) -> list[Finding]:
    """Recompute the log from stored entries and report every way it disagrees.

    ``leaves[i]`` is the stored entry at index ``i`` (``None`` if that row is
    missing). ``recorded_leaf_hashes[i]``, if given, is the leaf hash recorded
    when entry ``i`` was sequenced; with it, damage is pinned to an index and
    classified (altered / removed / reordered). ``checkpoints`` are signed
    ``(size, root hash)`` pairs in the order they were issued; each root is
    recomputed from the stored entries and each consecutive pair is checked for
    consistency with a proof built from the recorded hashes (or, without them,
    from the stored entries).

    Without recorded hashes a bad root can only be bracketed: the first bad
    index lies after the largest earlier checkpoint that still matches.
    """
    current = [None if data is None else leaf_hash(data) for data in leaves]
    stored = MemoryTree(_prefix_without_gaps(current))
    recorded: MemoryTree | None = None
    findings: list[Finding] = []
    if recorded_leaf_hashes is not None:
        findings += _compare_recorded(current, recorded_leaf_hashes)
        recorded = MemoryTree(recorded_leaf_hashes)
    else:
        findings += [
            Finding(FindingKind.REMOVED, i, "stored entry is missing")
            for i, h in enumerate(current)
            if h is None
        ]
    findings += _check_roots(stored, recorded, checkpoints)
    findings += _check_consistency(recorded if recorded is not None else stored, checkpoints)
    return findings


def _prefix_without_gaps(hashes: Sequence[bytes | None]) -> list[bytes]:
    prefix: list[bytes] = []
    for h in hashes:
        if h is None:
            break
        prefix.append(h)
    return prefix


def _compare_recorded(current: Sequence[bytes | None], recorded: Sequence[bytes]) -> list[Finding]:
    for i, h in enumerate(recorded):
        if len(h) != HASH_SIZE:
            raise ValueError(f"recorded leaf hash {i} is {len(h)} bytes, not {HASH_SIZE}")
    shifted = _as_deletion(current, recorded)
    if shifted is not None:
        return shifted
    index_of: dict[bytes, int] = {}
    for i, h in enumerate(recorded):
        index_of.setdefault(h, i)
    findings: list[Finding] = []
    for i, want in enumerate(recorded):
        got = current[i] if i < len(current) else None
        if got is None:
            findings.append(Finding(FindingKind.REMOVED, i, "entry recorded here is missing"))
        elif got != want:
            findings.append(_misplaced(i, got, index_of))
    findings += [
        Finding(FindingKind.UNRECORDED, i, "entry has no recorded leaf hash")
        for i in range(len(recorded), len(current))
        if current[i] is not None
    ]
    return findings


def _misplaced(index: int, got: bytes, index_of: dict[bytes, int]) -> Finding:
    origin = index_of.get(got)
    if origin is None:
        return Finding(FindingKind.ALTERED, index, "entry does not match its recorded leaf hash")
    return Finding(
        FindingKind.REORDERED, index, f"entry here is the one recorded at index {origin}"
    )


def _as_deletion(
    current: Sequence[bytes | None], recorded: Sequence[bytes]
) -> list[Finding] | None:
    """Explain a short, gap-free list as rows deleted from the middle, if that fits exactly.

    Deleting rows and renumbering the rest shifts every later entry down; per
    index that would read as a cascade of "reordered" findings, when the truth
    is one contiguous removal.
    """
    missing = len(recorded) - len(current)
    if missing <= 0 or any(h is None for h in current):
        return None
    first = next((i for i, h in enumerate(current) if h != recorded[i]), len(current))
    if any(current[i] != recorded[i + missing] for i in range(first, len(current))):
        return None
    return [
        Finding(FindingKind.REMOVED, i, "entry recorded here was deleted and later ones renumbered")
        for i in range(first, first + missing)
    ]


def _check_roots(
    stored: MemoryTree, recorded: MemoryTree | None, checkpoints: Sequence[tuple[int, bytes]]
) -> list[Finding]:
    findings: list[Finding] = []
    last_good = 0
    for size, root in checkpoints:
        if recorded is not None and size <= recorded.size and recorded.root(size) != root:
            findings.append(
                Finding(
                    FindingKind.ROOT_MISMATCH,
                    None,
                    f"recorded leaf hashes do not reproduce the root of the size-{size} checkpoint",
                )
            )
        if size > stored.size:
            findings.append(
                Finding(
                    FindingKind.UNVERIFIABLE,
                    stored.size,
                    f"checkpoint of size {size} needs entries the store does not have",
                )
            )
        elif stored.root(size) != root:
            findings.append(
                Finding(
                    FindingKind.ROOT_MISMATCH,
                    None,
                    f"stored entries do not reproduce the root of the size-{size} checkpoint; "
                    f"the first bad entry is in [{last_good}, {size})",
                )
            )
        else:
            last_good = max(last_good, size)
    return findings


def _check_consistency(tree: MemoryTree, checkpoints: Sequence[tuple[int, bytes]]) -> list[Finding]:
    findings: list[Finding] = []
    for (size1, root1), (size2, root2) in pairwise(checkpoints):
        problem = _consistency_problem(tree, size1, root1, size2, root2)
        if problem is not None:
            findings.append(Finding(FindingKind.INCONSISTENT, None, problem))
    return findings


def _consistency_problem(
    ref: MemoryTree, size1: int, root1: bytes, size2: int, root2: bytes
) -> str | None:
    pair = f"checkpoints of size {size1} and {size2}"
    if size2 < size1:
        return f"{pair}: the log shrank"
    if size1 == 0:
        return None  # the empty tree is a prefix of every tree
    if size2 > ref.size:
        return None  # cannot build a proof; already reported as unverifiable
    try:
        verify_consistency(size1, size2, ref.consistency_proof(size1, size2), root1, root2)
    except ProofError as exc:
        return f"{pair} are not consistent with the log's data: {exc.reason}"
    return None
