"""`shuchang tlog audit`: recompute the log from what the database holds and name any damage.

Checks, in order: every published checkpoint's signature; every leaf against the leaf hash
recorded when it was sequenced (altered / removed / reordered, by index); every leaf against
the outbox row it was made from (an outbox row rewritten behind the log's back); every
checkpoint's root against the tree recomputed from the stored leaves; and consistency between
consecutive checkpoints. All leaves are held in memory (about 300 bytes each): fine to tens of
millions; a streaming audit is future work.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from shuchang.canonical import digest
from shuchang.domains.evidence.log import LEAF_COLUMNS, leaf_data
from shuchang.domains.evidence.models import (
    LogCheckpoint,
    LogLeaf,
    LogNode,
    OutboxEntry,
    PendingEntry,
)
from shuchang.domains.evidence.tlog.checkpoint import open_checkpoint
from shuchang.domains.evidence.tlog.note import NoteError, Verifier
from shuchang.domains.evidence.tlog.offline import Finding, FindingKind, audit_leaves


@dataclass
class AuditReport:
    size: int
    checkpoints: int
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings


def _stored_leaves(session: Session) -> tuple[list[bytes | None], dict[int, int]]:
    rows = session.execute(
        select(LogLeaf.idx, LogLeaf.data, LogLeaf.outbox_id).order_by(LogLeaf.idx)
    )
    by_index: dict[int, bytes] = {}
    outbox_of: dict[int, int] = {}
    for idx, data, outbox_id in rows:
        by_index[idx] = data
        outbox_of[idx] = outbox_id
    size = max(by_index, default=-1) + 1
    return [by_index.get(i) for i in range(size)], outbox_of


def _outbox_findings(
    session: Session, leaves: list[bytes | None], outbox_of: dict[int, int]
) -> list[Finding]:
    """Each sequenced outbox row must still produce its leaf, and its payload its digest."""
    findings = []
    rows = session.execute(select(*LEAF_COLUMNS, OutboxEntry.payload))
    expected: dict[int, bytes | None] = {}
    for outbox_id, kind, subject, actor, payload_digest, at, payload in rows:
        intact = digest(payload) == payload_digest
        leaf = leaf_data(outbox_id, kind, subject, actor, payload_digest, at)
        expected[outbox_id] = leaf if intact else None
    queued = set(session.scalars(select(PendingEntry.outbox_id)))
    logged = set(outbox_of.values())
    for outbox_id in sorted(expected.keys() - logged - queued):
        detail = f"outbox entry {outbox_id} is neither in the log nor queued for it"
        findings.append(Finding(FindingKind.REMOVED, None, detail))
    for idx, outbox_id in outbox_of.items():
        if outbox_id not in expected:
            findings.append(Finding(FindingKind.REMOVED, idx, f"outbox entry {outbox_id} is gone"))
        elif expected[outbox_id] != leaves[idx]:
            detail = f"outbox entry {outbox_id} no longer matches its leaf or its payload digest"
            findings.append(Finding(FindingKind.ALTERED, idx, detail))
    return findings


def audit(session: Session, verifiers: list[Verifier], origin: str) -> AuditReport:
    leaves, outbox_of = _stored_leaves(session)
    recorded = list(
        session.scalars(select(LogNode.hash).where(LogNode.level == 0).order_by(LogNode.idx))
    )
    report = AuditReport(size=max(len(leaves), len(recorded)), checkpoints=0)
    signed: list[tuple[int, bytes]] = []
    for row in session.scalars(select(LogCheckpoint).order_by(LogCheckpoint.size)):
        report.checkpoints += 1
        try:
            checkpoint, _ = open_checkpoint(row.note.encode(), verifiers, origin)
        except (NoteError, ValueError) as exc:
            report.findings.append(
                Finding(FindingKind.UNVERIFIABLE, None, f"checkpoint {row.size}: {exc}")
            )
            continue
        if checkpoint.size != row.size or checkpoint.root_hash != row.root:
            report.findings.append(
                Finding(
                    FindingKind.ROOT_MISMATCH,
                    None,
                    f"checkpoint row {row.size} disagrees with its signed note",
                )
            )
        signed.append((checkpoint.size, checkpoint.root_hash))
    report.findings += audit_leaves(leaves, recorded, signed)
    report.findings += _outbox_findings(session, leaves, outbox_of)
    return report
