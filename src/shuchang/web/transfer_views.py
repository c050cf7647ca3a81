"""What the transfer pages show (传输过程), gathered from the transfers domain in one unit.

Who may see a transfer process is the transfers domain's rule
(:mod:`shuchang.domains.transfers.views`): its two parties and oversight; anyone else is told
it does not exist. Only the party whose side a process is (its connector's participant) acts
on it, through this platform's connector — :func:`shuchang.domains.transfers.service.act`
decides, the pages only offer the buttons that can succeed.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shuchang.domains import evidence
from shuchang.domains.catalog import ProductOut
from shuchang.domains.contracts import AgreementOut, find_agreement
from shuchang.domains.dataplane import (
    PushStatus,
    TransferUsage,
    dataset_manifest,
    push_status,
    transfer_usage,
)
from shuchang.domains.evidence import EvidenceEntry
from shuchang.domains.participants import ParticipantOut
from shuchang.domains.transfers import service, views
from shuchang.domains.transfers.models import TransferProcess
from shuchang.domains.transfers.schemas import TransferOut
from shuchang.errors import ShuchangError
from shuchang.platform import Platform
from shuchang.settings import Settings
from shuchang.web.catalog_views import actor_names, provider_names
from shuchang.web.contract_views import SIDES, dataset_product
from shuchang.web.evidence_views import EvidenceLog, evidence_log
from shuchang.web.pages import Viewer

STATES = ("REQUESTED", "STARTED", "SUSPENDED", "COMPLETED", "TERMINATED")
FINAL = ("COMPLETED", "TERMINATED")
SECRETS = frozenset(views.SECRET_PROPERTIES)
"""Endpoint properties never printed in full (the pull token, a refresh token)."""
SHORTEST_SHOWN = 24
"""A secret shorter than this is hidden entirely: ten characters of it would be too many."""


def mask(secret: str) -> str:
    """Enough of a token to recognise it, never enough to use it."""
    if len(secret) < SHORTEST_SHOWN:
        return "•" * 8
    return f"{secret[:6]}…{secret[-4:]}"


@dataclass(frozen=True)
class TransferRow:
    transfer: TransferOut
    side: str
    """The viewer's side when it is a party; else the side of the connector that keeps it."""
    other: uuid.UUID
    """The other party, from the viewer's side (the connector's counterparty for oversight)."""
    local: uuid.UUID
    """The participant whose connector keeps this process."""


def _locals(session: Session, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, uuid.UUID]:
    """The participant each process's connector speaks for (one query)."""
    wanted = list(ids)
    if not wanted:
        return {}
    rows = session.execute(
        select(TransferProcess.id, TransferProcess.local_participant_id).where(
            TransferProcess.id.in_(wanted)
        )
    )
    return {tid: local for tid, local in rows}


def _row(t: TransferOut, user: Viewer, local: uuid.UUID) -> TransferRow:
    if user.is_self(t.counterparty_id):
        return TransferRow(t, SIDES.get(t.role, t.role), local, local)
    return TransferRow(t, t.role, t.counterparty_id, local)


@dataclass(frozen=True)
class TransferList:
    rows: list[TransferRow]
    names: dict[uuid.UUID, ParticipantOut]
    usage: dict[uuid.UUID, TransferUsage]
    """Metered here so far, per transfer (the provider's side: where its gateway runs)."""
    actions: dict[uuid.UUID, tuple[str, ...]]
    """The buttons each row offers the viewer (its own side, through a working connector)."""


def transfer_list(
    session: Session,
    user: Viewer,
    state: str | None,
    agreement_id: uuid.UUID | None = None,
    *,
    may_act: bool = False,
) -> TransferList:
    found = views.list_transfers(session, user.actor, state=state, agreement_id=agreement_id)
    locals_ = _locals(session, (t.id for t in found))
    rows = [_row(t, user, locals_[t.id]) for t in found]
    names = provider_names(session, [r.other for r in rows] + [r.local for r in rows])
    actions = {
        r.transfer.id: actions_for(r.transfer) for r in rows if may_act and user.is_self(r.local)
    }
    return TransferList(rows, names, transfer_usage(session, [t.id for t in found]), actions)


@dataclass(frozen=True)
class Property:
    name: str
    shown: str
    masked: bool


def _properties(address: dict[str, Any] | None) -> list[Property]:
    shown = []
    for p in (address or {}).get("endpointProperties", []):
        name, value = str(p.get("name", "")), str(p.get("value", ""))
        secret = name in SECRETS
        shown.append(Property(name, mask(value) if secret else value, secret))
    return shown


def connector_problem(session: Session, settings: Settings, user: Viewer) -> ShuchangError | None:
    """Why this platform's connector cannot act for the viewer (None: it can)."""
    try:
        service.own_connector(session, settings, user.actor)
    except ShuchangError as exc:
        return exc
    return None


@dataclass(frozen=True)
class TransferView:
    transfer: TransferOut
    row: TransferRow
    agreement: AgreementOut | None
    product: ProductOut | None
    names: dict[uuid.UUID, ParticipantOut]
    properties: list[Property]
    history: list[EvidenceEntry]
    actors: dict[str, ParticipantOut]
    log: EvidenceLog
    actions: tuple[str, ...]
    """The buttons shown: suspend, resume, complete, terminate (those that can succeed)."""
    connector_problem: ShuchangError | None
    push: PushStatus | None = None
    """The push job of a push transfer, on the provider's platform (where it runs)."""
    manifest: list[dict[str, Any]] | None = None
    """The dataset's parts with their digests, where this platform holds the data."""
    may_refresh: bool = False
    """The consumer of a STARTED pull transfer may fetch a new token now."""
    usage: TransferUsage | None = None

    @property
    def endpoint(self) -> str | None:
        address = self.transfer.data_address
        return str(address.get("endpoint")) if address else None


def actions_for(t: TransferOut) -> tuple[str, ...]:
    """What the side keeping ``t`` may do now (the state machine of the transfers domain)."""
    if t.state == "STARTED":
        return ("suspend", "complete", "terminate")
    if t.state == "SUSPENDED":
        other = SIDES.get(t.role)
        return ("resume", "terminate") if t.suspended_by != other else ("terminate",)
    return ("terminate",) if t.state == "REQUESTED" else ()


def transfer_view(
    session: Session, user: Viewer, transfer_id: uuid.UUID, platform: Platform
) -> TransferView:
    settings = platform.settings
    t = views.load(session, user.actor, transfer_id)
    out = views.transfer_out(session, user.actor, t)
    row = _row(out, user, t.local_participant_id)
    is_local = user.is_self(t.local_participant_id)
    problem = (
        connector_problem(session, settings, user) if is_local and t.state not in FINAL else None
    )
    agreement = find_agreement(session, t.agreement_id)
    history = evidence.history(session, f"transfer:{t.id}")
    return TransferView(
        transfer=out,
        row=row,
        agreement=agreement,
        product=(
            dataset_product(session, user, agreement.dataset_id, settings.reviewers)
            if agreement
            else None
        ),
        names=provider_names(session, (t.local_participant_id, t.counterparty_id)),
        properties=_properties(out.data_address),
        history=history,
        actors=actor_names(session, [e.actor for e in history]),
        log=evidence_log(session, user, history),
        actions=actions_for(out) if is_local and problem is None else (),
        connector_problem=problem,
        push=push_status(session, t.id, settings.dataplane_push_attempts)
        if t.transfer_type == "HttpData-PUSH"
        else None,
        manifest=dataset_manifest(platform, t.agreement_id) if t.role == "provider" else None,
        may_refresh=is_local
        and problem is None
        and t.role == "consumer"
        and t.transfer_type == "HttpData-PULL"
        and t.state == "STARTED",
        usage=transfer_usage(session, [t.id]).get(t.id),
    )


@dataclass(frozen=True)
class AgreementTransfers:
    """The agreement page's transfers card: its transfers, and whether to offer a start."""

    found: TransferList
    may_start: bool
    problem: ShuchangError | None


def agreement_transfers(
    session: Session, user: Viewer, agreement: AgreementOut, settings: Settings
) -> AgreementTransfers:
    party = user.is_self(agreement.consumer_id) or user.is_self(agreement.provider_id)
    problem = connector_problem(session, settings, user) if party else None
    found = transfer_list(session, user, None, agreement.id, may_act=party and problem is None)
    consumer = user.role == "consumer" and user.is_self(agreement.consumer_id)
    wanted = consumer and agreement.status == "active"
    return AgreementTransfers(found, wanted and problem is None, problem if wanted else None)
