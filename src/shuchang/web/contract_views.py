"""What the contract pages show (数字合约), gathered from the contracts services in one unit.

Who may see a negotiation or an agreement is the contracts domain's rule
(:mod:`shuchang.domains.contracts.views`): its two parties and oversight; anyone else is told
it does not exist.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import msgspec
from sqlalchemy import select
from sqlalchemy.orm import Session

from shuchang.domains import evidence
from shuchang.domains.catalog import ProductOut, products
from shuchang.domains.contracts import agreements, negotiation, usage, views
from shuchang.domains.contracts.models import Negotiation
from shuchang.domains.contracts.negotiation import Connector, DspProblem, Outbound
from shuchang.domains.contracts.schemas import (
    AgreementOut,
    NegotiationOut,
    Termination,
    UseDecision,
    UseRequest,
)
from shuchang.domains.contracts.service import as_problem, load_connector, request_offer
from shuchang.domains.evidence import EvidenceEntry
from shuchang.domains.participants import (
    ParticipantOut,
    find_by_urn,
    key_owner,
    require,
)
from shuchang.errors import NotFound, PermissionDenied, ValidationFailed
from shuchang.settings import Settings
from shuchang.web.catalog_views import actor_names, provider_names
from shuchang.web.evidence_views import EvidenceLog, evidence_log
from shuchang.web.forms import Errors, FieldError, explain, text
from shuchang.web.offers import BUILDER_ACTIONS, Line, describe, split_list
from shuchang.web.pages import Form, Viewer

FINAL = negotiation.FINAL
SIDES = {"provider": "consumer", "consumer": "provider"}
CONNECTOR_PROBLEMS = frozenset(
    {"dsp.connector_off", "dsp.connector_misconfigured", "negotiation.not_connector_owner"}
)
"""Problems that mean this platform's connector cannot ask on the viewer's behalf."""


def _product_id(dataset_id: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(dataset_id.removeprefix("urn:uuid:"))
    except ValueError:
        return None


def dataset_product(
    session: Session, user: Viewer, dataset_id: str, reviewers: tuple[str, ...]
) -> ProductOut | None:
    """The catalog product a DSP dataset id (``urn:uuid:<product id>``) names, if visible."""
    product_id = _product_id(dataset_id)
    if product_id is None:
        return None
    try:
        return products.get(session, user.actor, product_id, reviewers)
    except NotFound:
        return None


# --- negotiations ----------------------------------------------------------------------------


@dataclass(frozen=True)
class NegotiationRow:
    negotiation: NegotiationOut
    role: str
    """The viewer's side when it is a party; else this platform's connector's side."""
    counterparty: uuid.UUID
    """The other party, from the viewer's side (the connector's counterparty for oversight)."""
    product: ProductOut | None


def _locals(session: Session, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, uuid.UUID]:
    """The participant each negotiation's local connector spoke for (one query)."""
    wanted = list(ids)
    if not wanted:
        return {}
    rows = session.execute(
        select(Negotiation.id, Negotiation.local_participant_id).where(Negotiation.id.in_(wanted))
    )
    return {nid: local for nid, local in rows}


def _row(
    n: NegotiationOut, user: Viewer, local: uuid.UUID, product: ProductOut | None
) -> NegotiationRow:
    if user.is_self(n.counterparty_id):
        role, other = SIDES.get(n.role, n.role), local
    else:
        role, other = n.role, n.counterparty_id
    return NegotiationRow(n, role, other, product)


def dataset_products(
    session: Session, user: Viewer, dataset_ids: Iterable[str], reviewers: tuple[str, ...]
) -> dict[str, ProductOut | None]:
    """The product of each dataset id (each looked up once)."""
    return {d: dataset_product(session, user, d, reviewers) for d in set(dataset_ids)}


@dataclass(frozen=True)
class NegotiationList:
    rows: list[NegotiationRow]
    names: dict[uuid.UUID, ParticipantOut]


def negotiation_list(
    session: Session, user: Viewer, state: str | None, reviewers: tuple[str, ...]
) -> NegotiationList:
    found = views.list_negotiations(session, user.actor, state)
    locals_ = _locals(session, (n.id for n in found))
    shown = dataset_products(session, user, (n.dataset_id for n in found), reviewers)
    rows = [_row(n, user, locals_[n.id], shown[n.dataset_id]) for n in found]
    return NegotiationList(rows, provider_names(session, (r.counterparty for r in rows)))


@dataclass(frozen=True)
class NegotiationView:
    negotiation: NegotiationOut
    row: NegotiationRow
    provider_id: uuid.UUID
    consumer_id: uuid.UUID
    names: dict[uuid.UUID, ParticipantOut]
    offer: list[Line]
    offer_json: str
    history: list[EvidenceEntry]
    actors: dict[str, ParticipantOut]
    log: EvidenceLog
    manual: bool
    may_approve: bool
    may_terminate: bool
    connector_problem: DspProblem | None
    """Why this platform's connector cannot act for the viewer on it (None: it can)."""


def _connector_problem(session: Session, settings: Settings) -> DspProblem | None:
    try:
        load_connector(session, settings)
    except DspProblem as exc:
        return exc
    return None


def negotiation_view(
    session: Session, user: Viewer, negotiation_id: uuid.UUID, settings: Settings, language: str
) -> NegotiationView:
    n = views.load_negotiation(session, user.actor, negotiation_id)
    out = views.negotiation_out(session, n)
    local = n.local_participant_id
    provider, consumer = (local, n.counterparty_id)
    if n.role != "provider":
        provider, consumer = consumer, provider
    history = evidence.history(session, f"negotiation:{n.id}")
    is_local = user.is_self(local)
    manual = settings.negotiation_approval == "manual"
    problem = _connector_problem(session, settings) if is_local and n.state not in FINAL else None
    may_act = is_local and problem is None
    return NegotiationView(
        negotiation=out,
        row=_row(
            out, user, local, dataset_product(session, user, n.dataset_id, settings.reviewers)
        ),
        provider_id=provider,
        consumer_id=consumer,
        names=provider_names(session, (provider, consumer)),
        offer=describe(out.offer, language),
        offer_json=json.dumps(out.offer, ensure_ascii=False, indent=2),
        history=history,
        actors=actor_names(session, [e.actor for e in history]),
        log=evidence_log(session, user, history),
        manual=manual,
        may_approve=manual and may_act and n.role == "provider" and n.state == "REQUESTED",
        may_terminate=may_act and n.state not in FINAL,
        connector_problem=problem,
    )


# --- what the console asks of the contracts domain (as the management API does) ------------


def start_for_product(
    session: Session, user: Viewer, settings: Settings, product_id: uuid.UUID
) -> tuple[Outbound, Connector]:
    """Ask the product's provider for its listed offer, as ``POST /api/v1/contracts/
    negotiations`` does: dataset ``urn:uuid:<product id>``, the offer the product's policy."""
    require(user.actor, "consumer")
    product = products.listed_offer(session, product_id)
    if product is None:
        raise NotFound(
            "No such listed product", "产品不存在或未上架", code="negotiation.product_unknown"
        )
    return request_offer(
        session,
        settings,
        user.actor,
        provider_id=product.provider_id,
        dataset_id=f"urn:uuid:{product.id}",
        offer=product.policy,
    )


def approve_negotiation(
    session: Session, user: Viewer, settings: Settings, negotiation_id: uuid.UUID
) -> tuple[Outbound, Connector]:
    """Provider-side approval (manual mode), as ``POST …/{id}/approve`` does."""
    n = views.load_negotiation(session, user.actor, negotiation_id)
    connector = load_connector(session, settings)
    if n.role != "provider" or user.actor.participant_id != n.local_participant_id:
        raise PermissionDenied(
            "Only the provider approves", "只有提供方可以批准", code="negotiation.not_provider"
        )
    try:
        return negotiation.agree(session, n, connector), connector
    except DspProblem as exc:
        raise as_problem(exc) from exc


def parse_termination(form: Form) -> Termination:
    try:
        return msgspec.convert({"reason": text(form, "reason")}, Termination)
    except msgspec.ValidationError as exc:
        field, message = explain(exc)
        raise ValidationFailed(
            message.en, message.zh, code="request.invalid_field", field=field
        ) from exc


def terminate_negotiation(
    session: Session, user: Viewer, settings: Settings, negotiation_id: uuid.UUID, reason: str
) -> tuple[Outbound | None, Connector]:
    """Either party's connector ends the negotiation, as ``POST …/{id}/terminate`` does."""
    n = views.load_negotiation(session, user.actor, negotiation_id)
    if user.actor.participant_id != n.local_participant_id:
        raise PermissionDenied(
            "Only a party ends a negotiation",
            "只有当事方可以终止协商",
            code="negotiation.not_party",
        )
    connector = load_connector(session, settings)
    try:
        return negotiation.terminate(session, n, reason), connector
    except DspProblem as exc:
        raise as_problem(exc) from exc


# --- requesting access from a product page -------------------------------------------------


@dataclass(frozen=True)
class AccessView:
    """The product page's "request access" card for a consumer."""

    problem: DspProblem | PermissionDenied | None
    """Why this platform's connector cannot ask on the viewer's behalf (None: it can)."""
    earlier: list[NegotiationOut]
    """The viewer's negotiations for this product so far, newest first."""


def access_view(
    session: Session, user: Viewer, product: ProductOut, settings: Settings
) -> AccessView | None:
    """Shown to a consumer on a listed product of someone else (None: no card)."""
    if user.role != "consumer" or product.status != "listed" or user.is_self(product.provider_id):
        return None
    problem: DspProblem | PermissionDenied | None = None
    try:
        connector = load_connector(session, settings)
    except DspProblem as exc:
        problem = exc
    else:
        if not user.is_self(connector.participant.id):
            problem = PermissionDenied(
                "This connector speaks for another participant",
                "本连接器不代表该参与方",
                code="negotiation.not_connector_owner",
            )
    dataset = f"urn:uuid:{product.id}"
    earlier = [n for n in views.list_negotiations(session, user.actor) if n.dataset_id == dataset]
    return AccessView(problem, earlier)


# --- agreements ------------------------------------------------------------------------------


@dataclass(frozen=True)
class AgreementRow:
    agreement: AgreementOut
    product: ProductOut | None


@dataclass(frozen=True)
class AgreementList:
    rows: list[AgreementRow]
    names: dict[uuid.UUID, ParticipantOut]


def agreement_list(session: Session, user: Viewer, reviewers: tuple[str, ...]) -> AgreementList:
    found = views.list_agreements(session, user.actor)
    shown = dataset_products(session, user, (a.dataset_id for a in found), reviewers)
    rows = [AgreementRow(a, shown[a.dataset_id]) for a in found]
    parties = [a.provider_id for a in found] + [a.consumer_id for a in found]
    return AgreementList(rows, provider_names(session, parties))


@dataclass(frozen=True)
class SignatureView:
    """One party's signature of the agreement, checked here."""

    role: str
    participant: str
    party: ParticipantOut | None
    keyid: str
    verified: bool
    registered: bool
    """The key is an active key the platform holds for that party."""
    problem_zh: str | None
    problem_en: str | None


def _signature(session: Session, agreement: dict[str, Any], sig: dict[str, Any]) -> SignatureView:
    urn = str(sig.get("participant", ""))
    party = find_by_urn(session, urn) if urn else None
    keyid = str(sig.get("keyid", ""))
    owner = key_owner(session, keyid) if keyid else None
    problem: agreements.AgreementInvalid | None = None
    try:
        agreements.check_signature(agreement, sig)
    except agreements.AgreementInvalid as exc:
        problem = exc
    return SignatureView(
        role=str(sig.get("role", "")),
        participant=urn,
        party=party,
        keyid=keyid,
        verified=problem is None,
        registered=party is not None and owner is not None and owner[0] == party.id,
        problem_zh=problem.zh if problem else None,
        problem_en=problem.en if problem else None,
    )


@dataclass
class DecisionForm:
    """The "try a decision" form: what was typed, its messages, and the decision."""

    values: dict[str, str]
    errors: Errors
    decision: UseDecision | None = None


def parse_use(query: Form) -> tuple[UseRequest | None, DecisionForm]:
    values = {name: text(query, name) for name in ("action", "purpose", "fields")}
    form = DecisionForm(values, {})
    if values["action"] not in BUILDER_ACTIONS:
        form.errors["action"] = FieldError.of("offer.check_action")
        return None, form
    fields: dict[str, Any] = {
        "action": values["action"],
        "fields": split_list(values["fields"]),
        "consume": False,
    }
    if values["purpose"]:
        fields["purpose"] = values["purpose"]
    try:
        return msgspec.convert(fields, UseRequest), form
    except msgspec.ValidationError as exc:
        field, message = explain(exc)
        form.errors[field if field in values else "form"] = message
        return None, form


@dataclass(frozen=True)
class AgreementView:
    agreement: AgreementOut
    negotiation_id: uuid.UUID
    names: dict[uuid.UUID, ParticipantOut]
    product: ProductOut | None
    terms: list[Line]
    document_json: str
    signatures: list[SignatureView]
    price_period: str | None
    history: list[EvidenceEntry]
    actors: dict[str, ParticipantOut]
    log: EvidenceLog

    @property
    def both_verified(self) -> bool:
        roles = {s.role for s in self.signatures if s.verified}
        return roles == set(agreements.ROLES)


def agreement_view(
    session: Session,
    user: Viewer,
    agreement_id: uuid.UUID,
    reviewers: tuple[str, ...],
    language: str,
) -> AgreementView:
    row = views.load_agreement(session, user.actor, agreement_id)
    out = views.agreement_out(row)
    document = out.document["agreement"]
    history = sorted(
        evidence.history(session, f"agreement:{row.id}")
        + evidence.history(session, f"negotiation:{row.negotiation_id}"),
        key=lambda e: e.id,
    )
    price = document.get("shuchang:price") or {}
    return AgreementView(
        agreement=out,
        negotiation_id=row.negotiation_id,
        names=provider_names(session, (out.provider_id, out.consumer_id)),
        product=dataset_product(session, user, out.dataset_id, reviewers),
        terms=describe(document, language),
        document_json=document_text(out),
        signatures=[_signature(session, document, s) for s in out.document["signatures"]],
        price_period=price.get("period") if isinstance(price, dict) else None,
        history=history,
        actors=actor_names(session, [e.actor for e in history]),
        log=evidence_log(session, user, history),
    )


def document_text(agreement: AgreementOut) -> str:
    """The signed agreement file (`shuchang contracts verify FILE`), as JSON text."""
    return json.dumps(agreement.document, ensure_ascii=False, indent=2)


def signed_document(session: Session, user: Viewer, agreement_id: uuid.UUID) -> AgreementOut:
    return views.agreement_out(views.load_agreement(session, user.actor, agreement_id))


def try_decision(
    session: Session, user: Viewer, agreement_id: uuid.UUID, request: UseRequest
) -> UseDecision:
    """Decide one use without counting it (``consume`` false): nothing is written."""
    return usage.decide_use(session, user.actor, agreement_id, request)
