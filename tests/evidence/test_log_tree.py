"""The stored Merkle tree, its signed checkpoints, and the append-only tables under them.

What a verifier relies on: the hashes the database stores are the RFC 9162 tree of the
leaves (so every proof the platform serves checks out against an independent computation),
each checkpoint is a C2SP signed note for this log's origin that verifies with the published
key, and nobody can rewrite a leaf, node or checkpoint through the database.
"""

from __future__ import annotations

import itertools
import shutil
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import replace
from pathlib import Path

import pytest
from evidence_support import (
    grow,
    leaves,
    node_hashes,
    publish,
    record_many,
    sequence_all,
)
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from litestar.testing import TestClient
from sqlalchemy import delete, select, text, update
from sqlalchemy.exc import DatabaseError

from shuchang.domains.evidence import log
from shuchang.domains.evidence.models import LogCheckpoint, LogLeaf, LogNode
from shuchang.domains.evidence.tlog.checkpoint import open_checkpoint
from shuchang.domains.evidence.tlog.merkle import (
    EMPTY_ROOT,
    ProofError,
    leaf_hash,
    root_from_leaf_hashes,
    verify_consistency,
    verify_inclusion,
)
from shuchang.domains.evidence.tlog.note import generate_key, open_note, parse_verifier_key
from shuchang.models import metadata
from shuchang.platform import Platform
from shuchang.settings import Settings

FreshLog = Callable[[], AbstractContextManager[Platform]]
_databases = itertools.count(1)


@pytest.fixture
def fresh_log(settings: Settings, request: pytest.FixtureRequest, tmp_path: Path) -> FreshLog:
    """An empty, migrated log per hypothesis example (function-scoped fixtures outlive them):
    a new copy of the SQLite template, or the PostgreSQL test database truncated."""

    @contextmanager
    def make() -> Iterator[Platform]:
        if settings.is_sqlite:
            path = tmp_path / f"example{next(_databases)}.db"
            shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
            built = Platform.build(replace(settings, database_url=f"sqlite:///{path}"))
        else:
            built = Platform.build(settings)
            tables = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
            with built.engine.begin() as conn:
                conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        try:
            yield built
        finally:
            built.engine.dispose()

    return make


# --- the stored tree ---------------------------------------------------------------------


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    growth=st.lists(st.integers(1, 120), min_size=1, max_size=4).filter(lambda g: sum(g) <= 300),
    batch=st.integers(1, 300),
)
@example(growth=[1], batch=1)
@example(growth=[255, 1, 44], batch=100)
def test_stored_tree_is_the_rfc9162_tree_of_the_leaves(
    fresh_log: FreshLog, growth: list[int], batch: int
) -> None:
    with fresh_log() as platform:
        checkpoints = [grow(platform, n, batch) for n in growth]
        hashes = [leaf_hash(data) for _, _, data in leaves(platform)]
        size = len(hashes)
        assert size == sum(growth)

        with platform.unit(write=False) as s:
            store = log.DbNodeStore(s)
            assert log.root_at(store, size) == root_from_leaf_hashes(hashes)
            for checkpoint in checkpoints:
                assert checkpoint.root == root_from_leaf_hashes(hashes[: checkpoint.size])
            latest = checkpoints[-1]
            for index, h in enumerate(hashes):
                proof = log.inclusion_proof(store, index, latest.size)
                verify_inclusion(h, index, latest.size, proof, latest.root)
            for old, new in itertools.combinations(checkpoints, 2):
                proof = log.consistency(s, old.size, new.size)
                verify_consistency(old.size, new.size, proof, old.root, new.root)


def test_every_subtree_hash_is_stored_once_its_subtree_completes(platform: Platform) -> None:
    record_many(platform, 21)
    sequence_all(platform, batch=6)
    hashes = [leaf_hash(data) for _, _, data in leaves(platform)]

    for level in range(6):
        width = 1 << level
        expected = [
            root_from_leaf_hashes(hashes[i : i + width])
            for i in range(0, len(hashes) - width + 1, width)
        ]
        assert node_hashes(platform, level) == expected, f"level {level}"


def test_proof_against_a_tampered_root_fails(platform: Platform) -> None:
    checkpoint = grow(platform, 13)
    [(_, _, data)] = leaves(platform)[5:6]
    with platform.unit(write=False) as s:
        proof = log.inclusion_proof(log.DbNodeStore(s), 5, checkpoint.size)
    with pytest.raises(ProofError):
        verify_inclusion(leaf_hash(data), 5, checkpoint.size, proof, bytes(32))
    with pytest.raises(ProofError):
        verify_inclusion(leaf_hash(data + b" "), 5, checkpoint.size, proof, checkpoint.root)


# --- checkpoints -------------------------------------------------------------------------


def test_checkpoint_is_a_signed_c2sp_note_that_verifies_with_the_published_key(
    platform: Platform,
    client: TestClient,  # type: ignore[type-arg]
) -> None:
    checkpoint = grow(platform, 9)
    response = client.get("/tlog/vkey")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    verifier = parse_verifier_key(response.text.strip())

    parsed, opened = open_checkpoint(
        checkpoint.note.encode(), [verifier], "shuchang.local/evidence"
    )
    assert parsed.origin == platform.settings.log_origin == verifier.name
    assert (parsed.size, parsed.root_hash) == (9, checkpoint.root)
    assert [sig.name for sig in opened.verified] == [platform.settings.log_origin]
    # C2SP tlog-checkpoint body: origin, decimal size, base64 root; then a blank line and
    # one signature line per signer ("— <name> <base64>").
    body, signatures = checkpoint.note.split("\n\n")
    origin, size_line, root_line = body.split("\n")
    assert (origin, size_line) == (platform.settings.log_origin, "9")
    assert len(root_line) == 44
    assert signatures.startswith(f"— {platform.settings.log_origin} ")
    assert signatures.endswith("\n") and signatures.count("\n") == 1


def test_publishing_twice_without_growth_returns_the_same_checkpoint(platform: Platform) -> None:
    first = grow(platform, 4)
    again = publish(platform)
    assert (again.size, again.root, again.note, again.published_at) == (
        first.size,
        first.root,
        first.note,
        first.published_at,
    )
    grown = grow(platform, 1)
    assert grown.size == 5 and grown.note != first.note
    with platform.unit(write=False) as s:
        assert list(s.scalars(select(LogCheckpoint.size).order_by(LogCheckpoint.size))) == [4, 5]


def test_empty_log_checkpoint_has_the_empty_root(platform: Platform) -> None:
    empty = publish(platform)
    parsed, _ = open_checkpoint(empty.note.encode(), [platform.log_signer.verifier()])
    assert (parsed.size, parsed.root_hash) == (0, EMPTY_ROOT)


def test_checkpoint_origin_follows_the_configured_log_origin(
    settings: Settings, tmp_path: Path
) -> None:
    origin = "data.dongou.gov.cn/evidence"
    key = tmp_path / "dongou.key"
    key.write_text(generate_key(origin)[0] + "\n")
    platform = Platform.build(replace(settings, log_origin=origin, log_key_file=str(key)))
    try:
        checkpoint = grow(platform, 2)
    finally:
        platform.engine.dispose()
    opened = open_note(checkpoint.note.encode(), [platform.log_signer.verifier()])
    assert opened.text.split("\n")[0] == origin
    open_checkpoint(checkpoint.note.encode(), [platform.log_signer.verifier()], origin)


# --- append-only -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "statement",
    [
        update(LogLeaf).values(data=b"rewritten"),
        delete(LogLeaf),
        update(LogNode).values(hash=bytes(32)),
        delete(LogNode),
        update(LogCheckpoint).values(note="forged"),
        delete(LogCheckpoint),
    ],
    ids=[
        "update leaves",
        "delete leaves",
        "update nodes",
        "delete nodes",
        "update checkpoints",
        "delete checkpoints",
    ],
)
def test_log_tables_refuse_update_and_delete(platform: Platform, statement: object) -> None:
    grow(platform, 3)
    before = (leaves(platform), node_hashes(platform, 0), node_hashes(platform, 1))

    with pytest.raises(DatabaseError, match="append-only"), platform.unit() as s:
        s.execute(statement)  # type: ignore[call-overload]

    assert (leaves(platform), node_hashes(platform, 0), node_hashes(platform, 1)) == before
    with platform.unit(write=False) as s:
        assert list(s.scalars(select(LogCheckpoint.size))) == [3]
