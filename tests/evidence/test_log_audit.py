"""The audit (`shuchang tlog audit`): a malicious DBA edits, deletes or swaps leaves, and the
audit catches each and names the index.

The DBA is simulated honestly: the append-only triggers are dropped (what someone with the
database owner's rights can do) and the rows are changed with plain SQL, committed; the audit
then runs in a separate transaction, or as the operator's CLI in a separate process context.
"""

from __future__ import annotations

import json
import re

import pytest
from evidence_support import (
    grow,
    leaves,
    outbox_ids,
    publish,
    record_many,
    run_cli,
    sequence_all,
    tampering,
)
from sqlalchemy import Connection, text

from shuchang.canonical import digest
from shuchang.domains.evidence import log
from shuchang.domains.evidence.audit import AuditReport, audit
from shuchang.domains.evidence.tlog.checkpoint import Checkpoint
from shuchang.domains.evidence.tlog.merkle import leaf_hash
from shuchang.domains.evidence.tlog.note import generate_key, parse_signer_key, sign
from shuchang.domains.evidence.tlog.offline import FindingKind
from shuchang.platform import Platform

DAMAGE = {FindingKind.ALTERED, FindingKind.REMOVED, FindingKind.REORDERED}


@pytest.fixture
def logged(platform: Platform) -> Platform:
    """40 entries under two checkpoints (25 and 40)."""
    grow(platform, 25, batch=10)
    grow(platform, 15, batch=10)
    return platform


def run_audit(platform: Platform) -> AuditReport:
    with platform.unit(write=False) as s:
        signer = platform.log_signer
        return audit(s, [signer.verifier()], signer.name)


def damage(report: AuditReport) -> set[tuple[str, int]]:
    """The (kind, index) of every finding that pins damage to a leaf index."""
    return {
        (str(f.kind), f.index) for f in report.findings if f.kind in DAMAGE and f.index is not None
    }


def set_leaf(conn: Connection, idx: int, data: bytes) -> None:
    conn.execute(text("UPDATE tlog_leaves SET data = :d WHERE idx = :i"), {"d": data, "i": idx})


def test_untouched_log_audits_clean(logged: Platform) -> None:
    report = run_audit(logged)
    assert report.ok, report.findings
    assert (report.size, report.checkpoints) == (40, 2)


def test_edited_leaf_is_named_altered(logged: Platform) -> None:
    original = leaves(logged)[7][2]
    with tampering(logged.engine, "tlog_leaves") as conn:
        set_leaf(conn, 7, original.replace(b'"test.changed"', b'"test.deleted"'))

    report = run_audit(logged)
    assert not report.ok
    assert damage(report) == {("altered", 7)}
    kinds = {f.kind for f in report.findings}
    assert FindingKind.ROOT_MISMATCH in kinds  # and neither checkpoint reproduces any more


def test_edited_leaf_with_its_recorded_hash_rewritten_too_is_still_named(
    logged: Platform,
) -> None:
    """A careful DBA also rewrites the stored leaf hash; the outbox row still gives it away."""
    forged = leaves(logged)[7][2].replace(b'"test.changed"', b'"test.deleted"')
    with tampering(logged.engine, "tlog_leaves", "tlog_nodes") as conn:
        set_leaf(conn, 7, forged)
        conn.execute(
            text("UPDATE tlog_nodes SET hash = :h WHERE level = 0 AND idx = 7"),
            {"h": leaf_hash(forged)},
        )

    report = run_audit(logged)
    assert ("altered", 7) in damage(report)
    assert {index for _, index in damage(report)} == {7}


@pytest.mark.parametrize("index", [0, 12, 39])
def test_deleted_leaf_is_named_removed(logged: Platform, index: int) -> None:
    with tampering(logged.engine, "tlog_leaves") as conn:
        conn.execute(text("DELETE FROM tlog_leaves WHERE idx = :i"), {"i": index})

    report = run_audit(logged)
    assert damage(report) == {("removed", index)}


def test_deleted_leaf_with_later_ones_renumbered_is_one_removal(logged: Platform) -> None:
    with tampering(logged.engine, "tlog_leaves") as conn:
        conn.execute(text("DELETE FROM tlog_leaves WHERE idx = 12"))
        for idx in range(13, 40):  # one row at a time: a set-wide UPDATE may collide mid-way
            conn.execute(
                text("UPDATE tlog_leaves SET idx = :n WHERE idx = :o"), {"n": idx - 1, "o": idx}
            )

    report = run_audit(logged)
    assert damage(report) == {("removed", 12)}


def test_swapped_leaves_are_named_reordered_at_both_indices(logged: Platform) -> None:
    stored = leaves(logged)
    with tampering(logged.engine, "tlog_leaves") as conn:
        set_leaf(conn, 5, stored[30][2])
        set_leaf(conn, 30, stored[5][2])

    report = run_audit(logged)
    reordered = {(f.index, f.detail) for f in report.findings if f.kind == FindingKind.REORDERED}
    assert reordered == {
        (5, "entry here is the one recorded at index 30"),
        (30, "entry here is the one recorded at index 5"),
    }
    assert {index for _, index in damage(report)} == {5, 30}


def test_rewritten_outbox_row_is_named_altered_with_its_entry(logged: Platform) -> None:
    entry_id = leaves(logged)[17][1]
    forged = {"n": -1, "名称": "改写后的内容"}
    with tampering(logged.engine, "evidence_outbox") as conn:
        conn.execute(
            text("UPDATE evidence_outbox SET payload = :p, payload_digest = :d WHERE id = :i"),
            {"p": json.dumps(forged), "d": digest(forged), "i": entry_id},
        )

    report = run_audit(logged)
    assert damage(report) == {("altered", 17)}
    [finding] = [f for f in report.findings if f.kind in DAMAGE and f.index == 17]
    assert f"outbox entry {entry_id}" in finding.detail


def test_rewritten_outbox_payload_alone_is_named_altered(logged: Platform) -> None:
    entry_id = leaves(logged)[17][1]
    with tampering(logged.engine, "evidence_outbox") as conn:
        conn.execute(
            text("UPDATE evidence_outbox SET payload = :p WHERE id = :i"),
            {"p": json.dumps({"n": -1, "名称": "改写后的内容"}), "i": entry_id},
        )

    report = run_audit(logged)
    assert damage(report) == {("altered", 17)}
    [finding] = [f for f in report.findings if f.kind in DAMAGE and f.index == 17]
    assert f"outbox entry {entry_id}" in finding.detail


UNLOGGED = (
    "BUG: audit never checks that every outbox entry is in the log or still queued "
    "(evidence_pending), so an entry dropped from both is not named"
)


def test_entry_whose_queue_row_is_deleted_before_sequencing_is_named(
    logged: Platform,
) -> None:
    """evidence_pending cannot be append-only (the sequencer deletes from it), so one DELETE
    there keeps a recorded change out of the log for ever."""
    [entry_id] = record_many(logged, 1)
    with logged.engine.begin() as conn:
        conn.execute(text("DELETE FROM evidence_pending WHERE outbox_id = :i"), {"i": entry_id})
    sequence_all(logged)
    publish(logged)

    report = run_audit(logged)
    assert not report.ok
    assert any(f"outbox entry {entry_id}" in f.detail for f in report.findings)


def test_deleted_leaf_with_its_recorded_hash_and_renumbering_is_named(logged: Platform) -> None:
    """A careful DBA deletes leaf 12 and its stored leaf hash and closes both gaps: the
    roots no longer match, and only the orphaned outbox entry can say which entry went."""
    entry_id = leaves(logged)[12][1]
    with tampering(logged.engine, "tlog_leaves", "tlog_nodes") as conn:
        conn.execute(text("DELETE FROM tlog_leaves WHERE idx = 12"))
        conn.execute(text("DELETE FROM tlog_nodes WHERE level = 0 AND idx = 12"))
        for idx in range(13, 40):
            moved = {"n": idx - 1, "o": idx}
            conn.execute(text("UPDATE tlog_leaves SET idx = :n WHERE idx = :o"), moved)
            conn.execute(text("UPDATE tlog_nodes SET idx = :n WHERE level = 0 AND idx = :o"), moved)

    report = run_audit(logged)
    assert not report.ok  # caught already: the size-25 root no longer reproduces
    assert any(f"outbox entry {entry_id}" in f.detail for f in report.findings)


def test_checkpoint_signed_by_another_key_is_unverifiable(logged: Platform) -> None:
    stranger = parse_signer_key(generate_key(logged.settings.log_origin)[0])
    with logged.unit(write=False) as s:
        latest = log.latest_checkpoint(s)
        assert latest is not None
    forged = sign(
        Checkpoint(logged.settings.log_origin, latest.size, latest.root).to_text(), stranger
    )
    with tampering(logged.engine, "tlog_checkpoints") as conn:
        conn.execute(
            text("UPDATE tlog_checkpoints SET note = :n WHERE size = :s"),
            {"n": forged.decode(), "s": latest.size},
        )

    report = run_audit(logged)
    assert [str(f.kind) for f in report.findings] == ["unverifiable"]
    assert not damage(report)


# --- the same through `shuchang tlog audit` -------------------------------------------------


def test_cli_audit_exits_0_on_an_intact_log(logged: Platform) -> None:
    result = run_cli(logged.settings, "tlog", "audit")
    assert result.exit_code == 0, result.output
    assert "40 leaves, 2 checkpoints" in result.stdout
    assert "audit OK" in result.stdout
    assert result.stderr == ""


def test_cli_audit_exits_1_naming_the_damaged_index(logged: Platform) -> None:
    stored = leaves(logged)
    with tampering(logged.engine, "tlog_leaves") as conn:
        set_leaf(conn, 5, stored[30][2])
        set_leaf(conn, 30, stored[5][2])
        conn.execute(text("DELETE FROM tlog_leaves WHERE idx = 12"))

    result = run_cli(logged.settings, "tlog", "audit")
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit)  # a verdict, not a crash
    assert "Traceback" not in result.output
    assert "audit FAILED" in result.stdout
    named = set(re.findall(r"^  (\w+) at index (\d+):", result.stderr, flags=re.MULTILINE))
    assert {("reordered", "5"), ("reordered", "30"), ("removed", "12")} <= named
    assert outbox_ids(logged)  # the outbox itself is untouched
