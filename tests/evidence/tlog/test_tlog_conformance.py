"""Conformance against the shared fixtures: transparency-dev probes, RFC 6962 tree, signed notes.

The fixtures live in ``shared/fixtures/tlog`` beside the repository checkout
(read-only, maintained outside this repo).
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from shuchang.domains.evidence.tlog.merkle import (
    EMPTY_ROOT,
    MemoryTree,
    ProofError,
    leaf_hash,
    node_hash,
    root_from_leaf_hashes,
    verify_consistency,
    verify_inclusion,
)
from shuchang.domains.evidence.tlog.note import (
    Ed25519Signer,
    NoteVerificationError,
    open_note,
    parse_note,
    parse_signer_key,
    parse_verifier_key,
    sign,
)

REPO_ROOT = Path(__file__).resolve().parents[3]
FIXTURES = REPO_ROOT.parent / "shared" / "fixtures" / "tlog"
PROBES = FIXTURES / "transparency-dev"

INCLUSION_PROBES = sorted((PROBES / "inclusion").rglob("*.json"))
CONSISTENCY_PROBES = sorted((PROBES / "consistency").rglob("*.json"))


def _load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def _b64(text: str) -> bytes:
    return base64.b64decode(text)


def _probe_id(path: Path) -> str:
    return str(path.relative_to(PROBES))


def test_fixtures_are_present() -> None:
    # Guards against a silently empty parametrisation if shared/ is missing.
    assert FIXTURES.is_dir(), f"conformance fixtures not found at {FIXTURES}"
    assert len(INCLUSION_PROBES) >= 90
    assert len(CONSISTENCY_PROBES) >= 90


@pytest.mark.parametrize("path", INCLUSION_PROBES, ids=_probe_id)
def test_transparency_dev_inclusion_probe(path: Path) -> None:
    probe = _load(path)
    args = (
        _b64(probe["leafHash"]),
        probe["leafIdx"],
        probe["treeSize"],
        [_b64(h) for h in probe["proof"] or []],
        _b64(probe["root"]),
    )
    if probe["wantErr"]:
        with pytest.raises(ProofError):
            verify_inclusion(*args)
    else:
        verify_inclusion(*args)


@pytest.mark.parametrize("path", CONSISTENCY_PROBES, ids=_probe_id)
def test_transparency_dev_consistency_probe(path: Path) -> None:
    probe = _load(path)
    args = (
        probe["size1"],
        probe["size2"],
        [_b64(h) for h in probe["proof"] or []],
        _b64(probe["root1"]),
        _b64(probe["root2"]),
    )
    if probe["wantErr"]:
        with pytest.raises(ProofError):
            verify_consistency(*args)
    else:
        verify_consistency(*args)


# --------------------------------------------------------------------------
# RFC 6962 eight-leaf tree
# --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tree8() -> dict[str, Any]:
    data: dict[str, Any] = _load(FIXTURES / "rfc6962_8leaf_tree.json")
    return data


@pytest.fixture(scope="module")
def memtree8(tree8: dict[str, Any]) -> MemoryTree:
    tree = MemoryTree()
    for leaf in tree8["leaf_inputs"]:
        tree.append(bytes.fromhex(leaf))
    return tree


def _hexes(values: list[str]) -> list[bytes]:
    return [bytes.fromhex(v) for v in values]


def test_8leaf_hashes(tree8: dict[str, Any], memtree8: MemoryTree) -> None:
    leaves = _hexes(tree8["leaf_inputs"])
    assert [leaf_hash(x).hex() for x in leaves] == tree8["leaf_hashes"]
    for level, hashes in enumerate(tree8["node_hashes_by_level"]):
        assert [memtree8.node(level, i).hex() for i in range(len(hashes))] == hashes


def test_8leaf_roots_for_every_size(tree8: dict[str, Any], memtree8: MemoryTree) -> None:
    leaf_hashes = [leaf_hash(x) for x in _hexes(tree8["leaf_inputs"])]
    for size, root in tree8["roots_by_size"].items():
        assert memtree8.root(int(size)).hex() == root
        assert root_from_leaf_hashes(leaf_hashes[: int(size)]).hex() == root
    assert tree8["roots_by_size"]["0"] == EMPTY_ROOT.hex()


def test_8leaf_hasher_vectors(tree8: dict[str, Any]) -> None:
    for vector in tree8["hasher_vectors"]:
        if "left_hex" in vector:
            got = node_hash(bytes.fromhex(vector["left_hex"]), bytes.fromhex(vector["right_hex"]))
        elif "leaf_input_hex" in vector:
            got = leaf_hash(bytes.fromhex(vector["leaf_input_hex"]))
        else:
            got = EMPTY_ROOT
        assert got.hex() == vector["want"], vector["desc"]


def test_8leaf_inclusion_proofs(tree8: dict[str, Any], memtree8: MemoryTree) -> None:
    published = tree8["inclusion_proofs"] + tree8["derived_all_inclusion_proofs_8leaf"]
    for case in published:
        index, size = case["leaf_index"], case["tree_size"]
        proof = memtree8.inclusion_proof(index, size)
        assert [p.hex() for p in proof] == case["proof"], (index, size)
        verify_inclusion(memtree8.leaf_hash(index), index, size, proof, memtree8.root(size))
        if "root" in case:
            assert memtree8.root(size).hex() == case["root"]
            assert memtree8.leaf_hash(index).hex() == case["leaf_hash"]


def test_8leaf_consistency_proofs(tree8: dict[str, Any], memtree8: MemoryTree) -> None:
    published = tree8["consistency_proofs"] + tree8["derived_all_consistency_proofs_8leaf"]
    for case in published:
        size1, size2 = case["size1"], case["size2"]
        proof = memtree8.consistency_proof(size1, size2)
        assert [p.hex() for p in proof] == case["proof"], (size1, size2)
        root1, root2 = memtree8.root(size1), memtree8.root(size2)
        verify_consistency(size1, size2, proof, root1, root2)
        if "root1" in case:
            assert (root1.hex(), root2.hex()) == (case["root1"], case["root2"])


# --------------------------------------------------------------------------
# Signed notes
# --------------------------------------------------------------------------


def _note_vectors() -> list[dict[str, Any]]:
    vectors: list[dict[str, Any]] = _load(FIXTURES / "signed_note_vectors.json")["notes"]
    return vectors


@pytest.mark.parametrize("vector", _note_vectors(), ids=lambda v: v["source"][:40])
def test_signed_note_vector(vector: dict[str, Any]) -> None:
    vkeys = vector.get("vkeys") or [vector["vkey"]]
    verifiers = [parse_verifier_key(v) for v in vkeys]
    message = vector["note"].encode()
    if not vector["valid"]:
        with pytest.raises(NoteVerificationError):
            open_note(message, verifiers)
        return
    opened = open_note(message, verifiers)
    assert opened.text == vector["text"]
    assert {s.name for s in opened.verified} == {v.name for v in verifiers}
    # Each key on its own is enough to open the note.
    for verifier in verifiers:
        assert open_note(message, [verifier]).text == vector["text"]


def test_signed_note_resigning_reproduces_signature() -> None:
    (vector,) = [v for v in _note_vectors() if "skey_peter_TEST_ONLY" in v]
    signer = parse_signer_key(vector["skey_peter_TEST_ONLY"])
    assert signer.name == "PeterNeumann"
    signed = sign(vector["text"], signer)
    (ours,) = parse_note(signed).signatures
    published = {s.name: s for s in parse_note(vector["note"].encode()).signatures}
    # Ed25519 is deterministic, so the signature bytes must match the Go output.
    assert ours == published["PeterNeumann"]
    assert signed.decode().splitlines()[-1] == vector["note"].splitlines()[-2]
    assert isinstance(signer, Ed25519Signer)
    assert signer.skey == vector["skey_peter_TEST_ONLY"]
    assert signer.verifier().vkey == vector["vkeys"][0]
