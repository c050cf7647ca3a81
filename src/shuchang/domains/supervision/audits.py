"""Evidence-log audits kept for supervision (审计记录): run `tlog audit` and store the result,
so the console shows when the log was last checked and what was found."""

from __future__ import annotations

import time

from sqlalchemy import select
from sqlalchemy.orm import Session

from shuchang.db import utcnow
from shuchang.domains import evidence
from shuchang.domains.participants import Actor, require
from shuchang.domains.supervision.models import AuditRun
from shuchang.domains.supervision.schemas import AuditOut

KEPT_FINDINGS = 50


def out(row: AuditRun) -> AuditOut:
    return AuditOut(
        row.id,
        row.ran_at,
        row.actor,
        row.ok,
        row.size,
        row.checkpoints,
        row.findings,
        list(row.detail),
        row.duration_ms,
    )


def run(session: Session, actor: Actor, signer: evidence.Ed25519Signer) -> AuditOut:
    """Audit the whole log now and record the outcome (operator or regulator)."""
    require(actor, "operator", "regulator")
    started = time.perf_counter()
    report = evidence.audit(session, [signer.verifier()], signer.name)
    row = AuditRun(
        ran_at=utcnow(),
        actor=actor.ref,
        ok=report.ok,
        size=report.size,
        checkpoints=report.checkpoints,
        findings=len(report.findings),
        detail=[
            {"kind": str(f.kind), "index": f.index, "detail": f.detail}
            for f in report.findings[:KEPT_FINDINGS]
        ],
        duration_ms=int((time.perf_counter() - started) * 1000),
    )
    session.add(row)
    session.flush()
    evidence.record(
        session,
        "supervision.audited",
        "evidence-log",
        actor.ref,
        {"ok": report.ok, "size": report.size, "findings": len(report.findings)},
    )
    return out(row)


def latest(session: Session) -> AuditOut | None:
    row = session.scalars(select(AuditRun).order_by(AuditRun.id.desc()).limit(1)).first()
    return None if row is None else out(row)


def history(session: Session, actor: Actor, limit: int = 50) -> list[AuditOut]:
    require(actor, "operator", "regulator")
    rows = session.scalars(select(AuditRun).order_by(AuditRun.id.desc()).limit(limit))
    return [out(r) for r in rows]
