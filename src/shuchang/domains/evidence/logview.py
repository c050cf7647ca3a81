"""Use cases over the evidence log for the API and CLI: entries, status, receipts, witnesses."""

from __future__ import annotations

import base64

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shuchang.db import utcnow
from shuchang.domains.evidence import log
from shuchang.domains.evidence.audit import AuditReport
from shuchang.domains.evidence.models import (
    LogCheckpoint,
    LogCosignature,
    OutboxEntry,
    PendingEntry,
)
from shuchang.domains.evidence.schemas import (
    AuditFinding,
    AuditOut,
    ConsistencyOut,
    LoggedEntry,
    LogStatus,
)
from shuchang.domains.evidence.service import entry_out
from shuchang.domains.evidence.tlog.checkpoint import open_checkpoint
from shuchang.domains.evidence.tlog.merkle import leaf_hash
from shuchang.domains.evidence.tlog.note import (
    Ed25519Signer,
    NoteError,
    Verifier,
    parse_note,
    parse_verifier_key,
)
from shuchang.errors import Conflict, InvalidInput, NotFound, ValidationFailed


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def entry(session: Session, outbox_id: int) -> LoggedEntry:
    row = session.get(OutboxEntry, outbox_id)
    if row is None:
        raise NotFound("Evidence entry not found", "存证记录不存在", code="evidence.not_found")
    leaf = log.leaf_of(session, outbox_id)
    return LoggedEntry(
        entry=entry_out(row),
        leaf_index=None if leaf is None else leaf.idx,
        leaf_data=None if leaf is None else _b64(leaf.data),
        leaf_hash=None if leaf is None else _b64(leaf_hash(leaf.data)),
    )


def receipt(session: Session, outbox_id: int) -> bytes:
    entry(session, outbox_id)  # 404 for unknown ids
    try:
        return log.receipt(session, outbox_id)
    except log.NotSequenced as exc:
        raise Conflict(
            str(exc), "该存证尚未写入已签名的检查点，请稍后再取", code="evidence.not_sequenced"
        ) from exc


def served_checkpoint(session: Session) -> bytes | None:
    """The latest checkpoint note with the witnesses' cosignature lines appended."""
    latest = log.latest_checkpoint(session)
    if latest is None:
        return None
    lines = session.scalars(
        select(LogCosignature.line)
        .where(LogCosignature.size == latest.size)
        .order_by(LogCosignature.witness)
    )
    return (latest.note + "".join(lines)).encode()


def status(session: Session, signer: Ed25519Signer) -> LogStatus:
    latest = log.latest_checkpoint(session)
    cosigned = 0
    if latest is not None:
        cosigned = (
            session.scalar(select(func.count()).where(LogCosignature.size == latest.size)) or 0
        )
    return LogStatus(
        origin=signer.name,
        verifier_key=signer.verifier().vkey,
        size=log.tree_size(session),
        pending=session.scalar(select(func.count()).select_from(PendingEntry)) or 0,
        checkpoint=None if latest is None else latest.note,
        checkpoint_size=None if latest is None else latest.size,
        published_at=None if latest is None else latest.published_at,
        cosignatures=cosigned,
    )


def consistency(session: Session, size1: int, size2: int) -> ConsistencyOut:
    """Between two sizes of signed checkpoints' range (what clients can check roots against)."""
    latest = log.latest_checkpoint(session)
    size = 0 if latest is None else latest.size
    if not 0 < size1 <= size2 <= size:
        raise ValidationFailed(
            f"Need 0 < size1 <= size2 <= {size}",
            f"树大小须满足 0 < size1 <= size2 <= {size}",
            code="evidence.size_out_of_range",
            field="size1" if not 0 < size1 <= size2 else "size2",
        )
    return ConsistencyOut(size1, size2, [_b64(h) for h in log.consistency(session, size1, size2)])


def sequence_and_publish(
    session: Session, signer: Ed25519Signer, batch: int = 5000
) -> LogCheckpoint:
    """Sequence everything queued, then publish a checkpoint (the on-demand path)."""
    while log.sequence(session, batch, wait=True).count:
        pass
    return log.publish_checkpoint(session, signer, signer.name)


def witnesses(spec: str) -> list[Verifier]:
    """Parse SHUCHANG_WITNESS_KEYS (comma-separated verifier keys)."""
    return [parse_verifier_key(k.strip()) for k in spec.split(",") if k.strip()]


def add_cosignatures(
    session: Session, size: int, cosigned_note: bytes, witness_keys: list[Verifier]
) -> int:
    """Store the lines of configured witnesses that validly cosign checkpoint ``size``."""
    row = log.checkpoint_at(session, size)
    if row is None:
        raise NotFound(
            "No checkpoint of that size", "没有该大小的检查点", code="evidence.checkpoint_not_found"
        )
    try:
        checkpoint, opened = open_checkpoint(cosigned_note, witness_keys)
    except (NoteError, ValueError) as exc:
        raise InvalidInput(
            f"Not a cosigned checkpoint from a configured witness: {exc}",
            "不是已配置见证方签署的检查点",
            code="evidence.cosignature_invalid",
        ) from exc
    if checkpoint.size != size or opened.text != parse_note(row.note.encode()).text:
        raise Conflict(
            "The cosigned checkpoint is not the one published at that size",
            "见证方签署的检查点与本日志该大小的检查点不一致",
            code="evidence.cosignature_mismatch",
        )
    added = 0
    for signature in opened.verified:
        if session.get(LogCosignature, (size, signature.name)) is None:
            session.add(
                LogCosignature(
                    size=size, witness=signature.name, line=signature.line(), received_at=utcnow()
                )
            )
            added += 1
    return added


def audit_out(report: AuditReport) -> AuditOut:
    return AuditOut(
        ok=report.ok,
        size=report.size,
        checkpoints=report.checkpoints,
        findings=[AuditFinding(str(f.kind), f.index, f.detail) for f in report.findings],
    )
