"""Use cases of onboarding (接入认证): register, verify, decide, and the lifecycle.

Lifecycle::

    register ─► pending (needs review) ─approve─► active ◄─reinstate─ suspended
        │            └─reject─► rejected          │ └──────suspend──────┘
        ├──► verified (manual approval) ─approve─► active
        ├──► active (automatic approval)
        └──► rejected                  revoke: any live status ─► revoked (final)
"""

from __future__ import annotations

import base64
import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import String, bindparam, cast, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shuchang.db import utcnow
from shuchang.domains import evidence
from shuchang.domains.participants import access, verification
from shuchang.domains.participants.identifiers import normalise
from shuchang.domains.participants.models import Participant, VerificationStep
from shuchang.domains.participants.schemas import (
    STATUS_ZH,
    Actor,
    ParticipantDetail,
    ParticipantOut,
    ParticipantPage,
    RegisterParticipant,
    Registration,
    StatusChange,
    StepOut,
)
from shuchang.errors import (
    Duplicate,
    InvalidInput,
    InvalidTransition,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)

# action → (statuses it may start from, status it leads to)
TRANSITIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "approve": (("pending", "verified"), "active"),
    "reject": (("pending", "verified"), "rejected"),
    "suspend": (("active",), "suspended"),
    "reinstate": (("suspended",), "active"),
    "revoke": (("pending", "verified", "active", "suspended"), "revoked"),
}
DIRECTORY_ROLES = ("operator", "regulator")
ACTION_ZH = {
    "approve": "批准",
    "reject": "驳回",
    "suspend": "暂停",
    "reinstate": "恢复",
    "revoke": "注销",
}
PRIVILEGED_ROLES = {"operator", "regulator"}


@dataclass(frozen=True)
class OnboardingRules:
    """The operator's settings that shape decisions (see Settings.review_rule / approval)."""

    review_rule: str = "standard"
    approval: str = "auto"


def to_out(p: Participant) -> ParticipantOut:
    return ParticipantOut(
        id=p.id,
        kind=p.kind,
        name=p.name,
        name_en=p.name_en,
        identifier=p.identifier,
        identifier_kind=p.identifier_kind,
        region=p.region,
        roles=list(p.roles),
        status=p.status,
        decision=p.decision,
        decision_reason=p.decision_reason,
        created_at=p.created_at,
        updated_at=p.updated_at,
    )


def _step_out(row: VerificationStep) -> StepOut:
    return StepOut(
        run=row.run,
        step=row.step,
        result=row.result,  # type: ignore[arg-type]
        reason=row.reason,
        message_zh=row.message_zh,
        message_en=row.message_en,
        at=row.at,
    )


def _store_run(
    session: Session, p: Participant, verdict: verification.Verdict, now: datetime
) -> list[StepOut]:
    last = session.scalar(
        select(func.max(VerificationStep.run)).where(VerificationStep.participant_id == p.id)
    )
    run = (last or 0) + 1
    rows = [
        VerificationStep(
            participant_id=p.id,
            run=run,
            step=s.step,
            result=s.outcome.result,
            reason=s.outcome.reason,
            message_zh=s.outcome.message_zh,
            message_en=s.outcome.message_en,
            at=now,
        )
        for s in verdict.steps
    ]
    session.add_all(rows)
    return [_step_out(r) for r in rows]


def _status_for(decision: str, rules: OnboardingRules) -> str:
    if decision == "rejected":
        return "rejected"
    if decision == "needs_review":
        return "pending"
    return "active" if rules.approval == "auto" else "verified"


def _identifier_kind(kind: str) -> str:
    return "resident_id" if kind == "individual" else "uscc"


def register(
    session: Session,
    actor: Actor,
    data: RegisterParticipant,
    rules: OnboardingRules,
    now: datetime | None = None,
) -> Registration:
    """Register an applicant, verify it automatically and decide at once.

    A rejected registration is still stored (with its reasons) so the applicant and the
    operator can see why; only a live registration receives an API key.
    """
    now = now or utcnow()
    if PRIVILEGED_ROLES & set(data.roles) and actor.role not in ("operator", "system"):
        raise PermissionDenied(
            "Only the operator can register operators and regulators",
            "只有运营者可以登记运营者或监管方角色",
            code="participant.role_not_allowed",
            field="roles",
        )
    identifier = normalise(data.identifier)  # what the checks see is what is stored
    name = data.name.strip()
    if not name:
        raise ValidationFailed(
            "The name is blank", "名称不能为空", code="participant.name_blank", field="name"
        )
    verdict = verification.verify(
        session,
        kind=data.kind,
        identifier=identifier,
        name=name,
        credential=data.credential,
        rule=rules.review_rule,
        now=now,
    )
    p = Participant(
        id=uuid.uuid4(),
        kind=data.kind,
        name=name,
        name_en=data.name_en,
        identifier=identifier,
        identifier_kind=_identifier_kind(data.kind),
        region=data.region,
        roles=sorted(set(data.roles)),
        contact_email=data.contact_email,
        status=_status_for(verdict.decision, rules),
        decision=verdict.decision,
        decision_reason=verdict.reason,
        credential=data.credential,
        created_at=now,
        updated_at=now,
    )
    session.add(p)
    try:
        session.flush()
    except IntegrityError as exc:  # a concurrent registration won the unique live identifier
        raise Duplicate(
            "A participant with this identifier is already registered",
            "该证件号码已有在册参与方",
            code="duplicate.identifier",
            field="identifier",
        ) from exc
    steps = _store_run(session, p, verdict, now)
    evidence.record(
        session,
        "participant.registered",
        f"participant:{p.id}",
        actor.ref,
        {
            "kind": p.kind,
            "name": p.name,
            "identifier": p.identifier,
            "roles": p.roles,
            "decision": p.decision,
            "reason": p.decision_reason,
            "status": p.status,
            "steps": [[s.step, s.result, s.reason] for s in steps],
        },
    )
    api_key = None
    if p.status != "rejected":
        api_key = access.issue_key(session, actor, p, p.roles[0], "registration").secret
    return Registration(participant=to_out(p), verification=steps, api_key=api_key)


def _load(session: Session, participant_id: uuid.UUID) -> Participant:
    p = session.get(Participant, participant_id)
    if p is None:
        raise NotFound("Participant not found", "参与方不存在", code="participant.not_found")
    return p


_people = Participant.__table__.c
# The columns of ParticipantOut in its field order: the lookup builds it straight from a row.
_GET = select(*(_people[name] for name in ParticipantOut.__struct_fields__)).where(
    _people.id == bindparam("pid")
)


def get(session: Session, actor: Actor, participant_id: uuid.UUID) -> ParticipantOut:
    """Look one participant up. Others than operator/regulator see only active ones.

    The hottest read of the platform: a pre-built Core statement, no ORM entity."""
    row = session.connection().execute(_GET, {"pid": participant_id}).first()
    if row is None:
        raise NotFound("Participant not found", "参与方不存在", code="participant.not_found")
    out = ParticipantOut(*row)
    if out.status != "active" and actor.participant_id != out.id:
        access.require(actor, *DIRECTORY_ROLES)
    return out


def detail(session: Session, actor: Actor, participant_id: uuid.UUID) -> ParticipantDetail:
    """The participant with its full verification history (self, operator or regulator)."""
    p = _load(session, participant_id)
    access.require_self_or(actor, p.id, *DIRECTORY_ROLES)
    rows = session.scalars(
        select(VerificationStep)
        .where(VerificationStep.participant_id == p.id)
        .order_by(VerificationStep.run.desc(), VerificationStep.id)
    )
    return ParticipantDetail(participant=to_out(p), verification=[_step_out(r) for r in rows])


def _decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        stamp, pid = base64.urlsafe_b64decode(cursor.encode()).decode().split("|")
        when = datetime.fromisoformat(stamp)
        if when.tzinfo is None:
            raise ValueError("cursor time has no zone")
        return when, uuid.UUID(pid)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput(
            "Malformed cursor", "分页游标无效", code="cursor.invalid", field="cursor"
        ) from exc


def search(
    session: Session,
    actor: Actor,
    *,
    q: str | None = None,
    kind: str | None = None,
    status: str | None = None,
    role: str | None = None,
    region: str | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> ParticipantPage:
    """List participants newest first with filters and cursor pagination."""
    stmt = select(Participant)
    if actor.role not in (*DIRECTORY_ROLES, "system"):
        stmt = stmt.where(Participant.status == "active")
    elif status:
        stmt = stmt.where(Participant.status == status)
    if q:
        text_ = q.strip()
        stmt = stmt.where(
            or_(
                Participant.name.icontains(text_, autoescape=True),
                Participant.identifier.icontains(text_, autoescape=True),
            )
        )
    if kind:
        stmt = stmt.where(Participant.kind == kind)
    if role:
        stmt = stmt.where(cast(Participant.roles, String).like(f'%"{role}"%'))
    if region:
        stmt = stmt.where(Participant.region.startswith(region))
    if cursor:
        stamp, pid = _decode_cursor(cursor)
        stmt = stmt.where(
            or_(
                Participant.created_at < stamp,
                (Participant.created_at == stamp) & (Participant.id < pid),
            )
        )
    rows = list(
        session.scalars(
            stmt.order_by(Participant.created_at.desc(), Participant.id.desc()).limit(limit + 1)
        )
    )
    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1]
        token = f"{last.created_at.isoformat()}|{last.id}"
        next_cursor = base64.urlsafe_b64encode(token.encode()).decode()
    return ParticipantPage(items=[to_out(p) for p in rows[:limit]], next_cursor=next_cursor)


def change_status(
    session: Session, actor: Actor, participant_id: uuid.UUID, change: StatusChange
) -> ParticipantOut:
    """Operator approval, rejection, suspension, reinstatement or revocation."""
    access.require(actor, "operator")
    p = _load(session, participant_id)
    sources, target = TRANSITIONS[change.action]
    if p.status not in sources:
        raise InvalidTransition(
            f"Cannot {change.action} a participant that is {p.status}",
            f"参与方当前状态为“{STATUS_ZH[p.status]}”，不能{ACTION_ZH[change.action]}",
            code="participant.invalid_transition",
            field="action",
        )
    if p.id == actor.participant_id and change.action in ("suspend", "revoke", "reject"):
        raise InvalidTransition(
            "An operator cannot suspend or revoke itself",
            "运营者不能暂停或注销自身",
            code="participant.self_transition",
            field="action",
        )
    before = p.status
    p.status, p.updated_at = target, utcnow()
    evidence.record(
        session,
        "participant.status_changed",
        f"participant:{p.id}",
        actor.ref,
        {"action": change.action, "from": before, "to": target, "reason": change.reason},
    )
    return to_out(p)


def reverify(
    session: Session,
    actor: Actor,
    participant_id: uuid.UUID,
    rules: OnboardingRules,
    credential: dict[str, object] | None = None,
) -> ParticipantDetail:
    """Run verification again (after a credential is presented or an issuer is added).

    Only a participant still waiting (pending) or awaiting approval (verified) can move; the
    new decision replaces the old one.
    """
    p = _load(session, participant_id)
    access.require_self_or(actor, p.id, "operator")
    if p.status not in ("pending", "verified"):
        raise InvalidTransition(
            f"Verification only re-runs for pending participants, not {p.status}",
            f"只有待审核的参与方可以重新核验，当前状态为“{STATUS_ZH[p.status]}”",
            code="participant.invalid_transition",
        )
    if credential is not None:
        p.credential = credential
    now = utcnow()
    verdict = verification.verify(
        session,
        kind=p.kind,
        identifier=p.identifier,
        name=p.name,
        credential=p.credential,
        rule=rules.review_rule,
        now=now,
        exclude=p.id,
    )
    p.decision, p.decision_reason = verdict.decision, verdict.reason
    p.status, p.updated_at = _status_for(verdict.decision, rules), now
    _store_run(session, p, verdict, now)
    evidence.record(
        session,
        "participant.reverified",
        f"participant:{p.id}",
        actor.ref,
        {"decision": p.decision, "reason": p.decision_reason, "status": p.status},
    )
    session.flush()
    return detail(session, actor, p.id)


def load(session: Session, participant_id: uuid.UUID) -> Participant:
    """The ORM row, for sibling modules of this domain only."""
    return _load(session, participant_id)


def find(session: Session, participant_id: uuid.UUID) -> ParticipantOut | None:
    """A participant as other domains see it (no access check: they apply their own)."""
    p = session.get(Participant, participant_id)
    return None if p is None else to_out(p)


@dataclass(frozen=True)
class Standing:
    """What a per-request check needs to know about a participant, nothing more."""

    kind: str
    status: str
    region: str | None


_STANDING = select(_people.kind, _people.status, _people.region).where(
    _people.id == bindparam("participant_id")
)


def standing(session: Session, participant_id: uuid.UUID) -> Standing | None:
    """A participant's kind, status and region from one pre-built Core statement (this runs on
    every data-plane decision; ``find`` builds the whole public view)."""
    row = session.connection().execute(_STANDING, {"participant_id": participant_id}).first()
    return None if row is None else Standing(*row)


def count_by_status(session: Session, actor: Actor) -> dict[str, int]:
    """Participants per status in one query (operator and regulator dashboards)."""
    access.require(actor, *DIRECTORY_ROLES)
    rows = session.execute(select(Participant.status, func.count()).group_by(Participant.status))
    counts: dict[str, int] = {status: n for status, n in rows}
    return {status: counts.get(status, 0) for status in STATUS_ZH}


def participant_urn(p: ParticipantOut) -> str:
    """A participant's identity in protocol messages, the same on every connector.

    Organisations are named by their USCC (public by law); a natural person's resident ID is
    personal information, so only its digest is used.
    """
    if p.identifier_kind == "uscc":
        return f"urn:uscc:{p.identifier}"
    return f"urn:shuchang:person:{hashlib.sha256(p.identifier.encode()).hexdigest()[:32]}"


def find_by_urn(session: Session, urn: str) -> ParticipantOut | None:
    """The live participant a protocol URN names (organisations only: people are hashed)."""
    if not urn.startswith("urn:uscc:"):
        return None
    row = session.scalars(
        select(Participant).where(
            Participant.identifier == urn.removeprefix("urn:uscc:"),
            Participant.status.in_(verification.LIVE_STATUSES),
        )
    ).first()
    return None if row is None else to_out(row)
