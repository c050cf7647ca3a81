"""Offline build / verify / audit helpers."""

from __future__ import annotations

import pytest

from shuchang.domains.evidence.tlog.merkle import MemoryTree, ProofError, leaf_hash
from shuchang.domains.evidence.tlog.note import (
    NoteVerificationError,
    generate_key,
    parse_signer_key,
    parse_verifier_key,
)
from shuchang.domains.evidence.tlog.offline import (
    Finding,
    FindingKind,
    audit_leaves,
    build_log,
    verify_receipt,
)

LEAVES = [b"entry %d" % i for i in range(20)]
RECORDED = [leaf_hash(x) for x in LEAVES]
_TREE = MemoryTree(RECORDED)
CHECKPOINTS = [(size, _TREE.root(size)) for size in (4, 9, 16, 20)]


def _kinds(findings: list[Finding]) -> list[tuple[FindingKind, int | None]]:
    return [(f.kind, f.index) for f in findings]


def test_build_then_verify_every_receipt() -> None:
    skey, vkey = generate_key("example.com/log")
    built = build_log("example.com/log", parse_signer_key(skey), LEAVES[:7])
    assert built.checkpoint.size == 7
    verifiers = [parse_verifier_key(vkey)]
    for i, receipt in enumerate(built.receipts):
        checkpoint, index = verify_receipt(receipt, LEAVES[i], verifiers, "example.com/log")
        assert (checkpoint, index) == (built.checkpoint, i)
    with pytest.raises(ProofError):
        verify_receipt(built.receipts[0], LEAVES[1], verifiers)
    with pytest.raises(NoteVerificationError):
        verify_receipt(built.receipts[0], LEAVES[0], [parse_verifier_key(generate_key("x")[1])])
    with pytest.raises(ValueError, match="at least one leaf"):
        build_log("example.com/log", parse_signer_key(skey), [])


def test_audit_of_an_intact_log_finds_nothing() -> None:
    assert audit_leaves(LEAVES, RECORDED, CHECKPOINTS) == []
    assert audit_leaves(LEAVES, None, CHECKPOINTS) == []


def test_audit_names_an_altered_entry() -> None:
    leaves = list(LEAVES)
    leaves[11] = b"forged"
    findings = audit_leaves(leaves, RECORDED, CHECKPOINTS)
    assert _kinds(findings) == [
        (FindingKind.ALTERED, 11),
        (FindingKind.ROOT_MISMATCH, None),
        (FindingKind.ROOT_MISMATCH, None),
    ]
    assert "[9, 16)" in findings[1].detail
    assert str(findings[0]).startswith("altered at index 11:")


def test_audit_without_recorded_hashes_brackets_the_damage() -> None:
    leaves = list(LEAVES)
    leaves[11] = b"forged"
    findings = audit_leaves(leaves, None, CHECKPOINTS)
    assert _kinds(findings) == [
        (FindingKind.ROOT_MISMATCH, None),
        (FindingKind.ROOT_MISMATCH, None),
        (FindingKind.INCONSISTENT, None),
    ]
    # Proofs are then built from the stored data: only the pair of heads that
    # straddles the damage fails; 16 -> 20 still proves consistent because
    # entries 16..19 are intact.
    assert "size 9 and 16" in findings[2].detail


def test_audit_names_reordered_entries() -> None:
    leaves = list(LEAVES)
    leaves[3], leaves[17] = leaves[17], leaves[3]
    findings = audit_leaves(leaves, RECORDED, CHECKPOINTS)
    assert _kinds(findings)[:2] == [(FindingKind.REORDERED, 3), (FindingKind.REORDERED, 17)]
    assert "recorded at index 17" in findings[0].detail


def test_audit_names_a_deleted_row() -> None:
    leaves: list[bytes | None] = list(LEAVES)
    leaves[5] = None
    findings = audit_leaves(leaves, RECORDED, CHECKPOINTS)
    assert _kinds(findings)[0] == (FindingKind.REMOVED, 5)
    # Checkpoints past the hole cannot be recomputed from storage.
    assert (FindingKind.UNVERIFIABLE, 5) in _kinds(findings)


def test_audit_recognises_deletion_with_renumbering() -> None:
    leaves = LEAVES[:6] + LEAVES[8:]  # rows 6 and 7 deleted, later ones shifted down
    findings = audit_leaves(leaves, RECORDED, CHECKPOINTS)
    assert _kinds(findings)[:2] == [(FindingKind.REMOVED, 6), (FindingKind.REMOVED, 7)]
    assert FindingKind.REORDERED not in {f.kind for f in findings}


def test_audit_flags_truncation_and_unrecorded_entries() -> None:
    truncated = audit_leaves(LEAVES[:18], RECORDED, CHECKPOINTS)
    assert _kinds(truncated) == [
        (FindingKind.REMOVED, 18),
        (FindingKind.REMOVED, 19),
        (FindingKind.UNVERIFIABLE, 18),
    ]
    extra = audit_leaves([*LEAVES, b"sneaked in"], RECORDED, CHECKPOINTS)
    assert _kinds(extra) == [(FindingKind.UNRECORDED, 20)]


def test_audit_flags_bad_checkpoints() -> None:
    forked = (16, bytes(32))
    findings = audit_leaves(LEAVES, RECORDED, [CHECKPOINTS[0], forked, CHECKPOINTS[3]])
    assert _kinds(findings) == [
        (FindingKind.ROOT_MISMATCH, None),  # recorded hashes disagree with it
        (FindingKind.ROOT_MISMATCH, None),  # and so does the stored data
        (FindingKind.INCONSISTENT, None),
        (FindingKind.INCONSISTENT, None),
    ]
    shrinking = audit_leaves(LEAVES, RECORDED, [CHECKPOINTS[2], CHECKPOINTS[1]])
    assert _kinds(shrinking) == [(FindingKind.INCONSISTENT, None)]
    assert "shrank" in shrinking[0].detail


def test_audit_rejects_malformed_recorded_hashes() -> None:
    with pytest.raises(ValueError, match="not 32"):
        audit_leaves(LEAVES, [b"short"], [])
