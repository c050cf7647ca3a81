"""The automatic verification pipeline (自动核验) and the decision rule.

Every registration runs three steps and stores each step's result and reason:

1. ``identifier`` — format and check digits of the USCC (GB 32100-2015) or resident ID
   (GB 11643-1999), and that the code fits the declared kind of participant;
2. ``duplicate`` — no live participant holds the identifier (fail); none holds the name
   (review, since two organisations may legitimately share a name across regions);
3. ``credential`` — a presented credential verifies against a trusted issuer (see
   :mod:`credentials`); absence is ``skip``.

Decision rule (``SHUCHANG_REVIEW_RULE``): any ``fail`` → rejected; otherwise a missing
credential → rejected (strict), needs review (standard), or verified (lenient); otherwise any
``review`` → needs review; otherwise verified.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, true
from sqlalchemy.orm import Session

from shuchang.domains.participants import credentials
from shuchang.domains.participants.credentials import IssuerKey, Outcome
from shuchang.domains.participants.identifiers import check_resident_id, check_uscc
from shuchang.domains.participants.models import Participant, RevokedCredential, TrustedIssuer
from shuchang.ports import b64decode_strict

LIVE_STATUSES = ("pending", "verified", "active", "suspended")


@dataclass(frozen=True)
class StepResult:
    step: str
    outcome: Outcome


@dataclass(frozen=True)
class Verdict:
    decision: str
    reason: str
    steps: list[StepResult]


def identifier_step(kind: str, code: str) -> Outcome:
    # The declared kind says which standard applies: an all-digit code can fit both shapes.
    checked = check_resident_id(code) if kind == "individual" else check_uscc(code)
    if not checked.valid:
        return Outcome(
            "fail",
            checked.reason or "identifier.invalid",
            checked.message_zh or "证件号码无效",
            checked.message_en or "Invalid identifier",
        )
    implied = checked.subject_kind if checked.kind == "uscc" else "individual"
    if implied not in (None, "other", kind):
        return Outcome(
            "fail",
            "identifier.kind_mismatch",
            f"统一社会信用代码表明主体类型为 {implied}，与申报的 {kind} 不符",
            f"The USCC's authority and type imply a {implied}, not the declared {kind}",
        )
    label = "统一社会信用代码" if checked.kind == "uscc" else "居民身份证号码"
    return Outcome(
        "pass", "identifier.valid", f"{label}格式与校验位正确", "Format and check digits valid"
    )


def duplicate_step(
    session: Session, identifier: str, name: str, exclude: object | None = None
) -> Outcome:
    live = Participant.status.in_(LIVE_STATUSES)
    others = Participant.id != exclude if exclude is not None else true()
    same_id = session.scalar(
        select(func.count()).where(live, others, Participant.identifier == identifier)
    )
    if same_id:
        return Outcome(
            "fail",
            "duplicate.identifier",
            "该证件号码已有在册参与方",
            "A participant with this identifier is already registered",
        )
    same_name = session.scalar(select(func.count()).where(live, others, Participant.name == name))
    if same_name:
        return Outcome(
            "review",
            "duplicate.name",
            "已有同名参与方，需人工复核",
            "Another participant has this name; needs review",
        )
    return Outcome("pass", "duplicate.none", "无重复登记", "No duplicate registration")


def load_issuers(session: Session) -> tuple[dict[str, IssuerKey], set[tuple[str, str]]]:
    issuers = {
        row.id: IssuerKey(
            id=row.id,
            algorithm=row.algorithm,
            public_key=b64decode_strict(row.public_key),
            active=row.status == "active",
        )
        for row in session.scalars(select(TrustedIssuer))
    }
    revoked = {
        (row.issuer_id, row.credential_id) for row in session.scalars(select(RevokedCredential))
    }
    return issuers, revoked


def decide(steps: list[StepResult], rule: str) -> tuple[str, str]:
    """Apply the operator's decision rule to the step outcomes: (decision, reason)."""
    for step in steps:
        if step.outcome.result == "fail":
            return "rejected", step.outcome.reason
    credential = next(s.outcome for s in steps if s.step == "credential")
    if credential.result == "skip" and rule == "strict":
        return "rejected", "credential.required"
    if credential.result == "skip" and rule == "standard":
        return "needs_review", "credential.absent"
    for step in steps:
        if step.outcome.result == "review":
            return "needs_review", step.outcome.reason
    return "verified", "all_checks_passed"


def verify(
    session: Session,
    *,
    kind: str,
    identifier: str,
    name: str,
    credential: dict[str, object] | None,
    rule: str,
    now: datetime,
    exclude: object | None = None,
) -> Verdict:
    """Run every step (none short-circuits, so the registrant sees all reasons at once)."""
    issuers, revoked = load_issuers(session)
    steps = [
        StepResult("identifier", identifier_step(kind, identifier)),
        StepResult("duplicate", duplicate_step(session, identifier, name, exclude)),
        StepResult(
            "credential",
            credentials.check(
                credential,
                identifier=identifier,
                name=name,
                issuers=issuers,
                revoked=revoked,
                now=now,
            ),
        ),
    ]
    decision, reason = decide(steps, rule)
    return Verdict(decision, reason, steps)
