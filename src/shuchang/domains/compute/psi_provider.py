"""The provider's side of a PSI session: admit a request under an agreement, answer it as
the PSI sender, or (``filter`` mode) act as the receiver and keep the intersection."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shuchang.db import utcnow
from shuchang.domains.catalog import ResourceOut
from shuchang.domains.compute import psi_data, psi_protocol, psi_rr22, psi_rr22_sessions
from shuchang.domains.compute import psi_messages as m
from shuchang.domains.compute.psi import (
    Outbound,
    PsiProblem,
    Wire,
    deliver,
    expire_stale,
    fail_and_tell,
    from_counterparty,
    lock,
    move,
    new_pid,
    peer_url,
)
from shuchang.domains.compute.psi_filters import pack, pack_state, unpack_state
from shuchang.domains.compute.psi_models import PsiSession
from shuchang.domains.contracts import Sender, UseRequest, decide_use
from shuchang.domains.participants import Actor

Work = Callable[[], None]


def _sizes(wire: Wire, size: int, what: str) -> None:
    low, high = wire.settings.psi_min_set_size, wire.settings.psi_max_set_size
    if size < low:
        raise PsiProblem(
            400,
            "psi.set_too_small",
            f"{what} has {size} distinct identifiers; at least {low} are required",
            f"{what}仅有 {size} 个不同标识，至少需要 {low} 个",
        )
    if size > high:
        raise PsiProblem(
            413,
            "psi.set_too_large",
            f"{what} has more than {high} identifiers",
            f"{what}超过 {high} 个标识",
        )


def _client_request(wire: Wire, msg: dict[str, Any]) -> bytes | None:
    """The consumer's receiver request (cardinality, intersection), size-checked: distinct
    blinded points, so repeating one identifier does not pass the minimum."""
    if msg["mode"] == "filter":
        return None
    try:
        raw = psi_protocol.unb64(msg.get("request"))
        distinct = psi_protocol.request_size(raw, reveal=msg["mode"] == "intersection")
    except (ValueError, psi_protocol.ProtocolError) as exc:
        raise PsiProblem(
            400,
            "psi.request_invalid",
            f"The PSI request is unusable: {exc}",
            "求交请求无法解析或与模式不符",
        ) from exc
    if distinct != msg["setSize"]:
        raise PsiProblem(
            400,
            "psi.set_size_mismatch",
            "setSize is not the number of distinct items in the request",
            "setSize 与请求中不同元素的个数不符",
        )
    _sizes(wire, distinct, "The consumer's set ")
    return raw


def _rate(session: Session, wire: Wire, agreement_id: uuid.UUID) -> None:
    since = utcnow() - timedelta(hours=24)
    started = session.scalar(
        select(func.count())
        .select_from(PsiSession)
        .where(
            PsiSession.role == "provider",
            PsiSession.agreement_id == agreement_id,
            PsiSession.created_at >= since,
        )
    )
    if (started or 0) >= wire.settings.psi_sessions_per_day:
        raise PsiProblem(
            429,
            "psi.too_many_sessions",
            f"This agreement already ran {started} PSI sessions in 24 hours",
            f"该合约 24 小时内已进行 {started} 次求交",
        )


def on_request(
    session: Session, sender: Sender, msg: dict[str, Any], wire: Wire
) -> tuple[PsiSession, Work]:
    """Admit a PsiRequestMessage (→ REQUESTED) or refuse it, changing nothing."""
    now = utcnow()
    expire_stale(session, now)
    agreement = psi_data.agreement_for(session, msg["agreementId"], sender.participant_id, now)
    field, resource = psi_data.identifier_source(
        session, wire.connector, agreement, msg.get("identifierField")
    )
    if msg["normalization"] not in psi_protocol.NORMALIZATIONS:
        raise PsiProblem(
            400, "psi.normalization_unknown", "Unknown normalization", "未知的标识规范化方式"
        )
    _sizes(wire, msg["setSize"], "The consumer's set ")
    rr22 = msg["protocol"] == "rr22"
    if rr22:
        psi_rr22_sessions.check_usable(wire, msg["mode"])
    raw = None if rr22 else _client_request(wire, msg)
    _rate(session, wire, agreement.id)
    actor = Actor(participant_id=wire.connector.participant.id, role="provider")
    decision = decide_use(
        session,
        actor,
        agreement.id,
        # A PSI session spends no differential-privacy budget: it states ε 0, so an agreement
        # that also budgets DP releases (``epsilon``) can be decided; what bounds PSI is the
        # minimum set size and the sessions per day (docs/psi).
        UseRequest(
            action="compute",
            purpose=agreement.purpose,
            fields=[field],
            consume=True,
            epsilon=Decimal(0),
            epsilon_spent=Decimal(0),
        ),
    )
    if not decision.permitted:
        raise PsiProblem(403, "psi.use_denied", decision.reason_en, decision.reason_zh)
    s = PsiSession(
        id=uuid.uuid4(),
        role="provider",
        provider_pid=new_pid(),
        consumer_pid=msg["consumerPid"],
        state="INITIAL",
        mode=msg["mode"],
        protocol=msg["protocol"],
        normalization=msg["normalization"],
        agreement_id=agreement.id,
        local_participant_id=wire.connector.participant.id,
        counterparty_id=sender.participant_id,
        callback_address=msg["callbackAddress"].rstrip("/"),
        identifier_field=field,
        peer_size=msg["setSize"],
        deadline=now + timedelta(seconds=wire.settings.psi_timeout_s),
        created_at=now,
        updated_at=now,
    )
    if rr22:
        s.link_address = psi_rr22.free_address(wire.settings.psi_link_host)
    session.add(s)
    session.flush()
    move(
        session,
        s,
        m.REQUEST,
        "in",
        msg,
        extra={
            "consumer_set_size": msg["setSize"],
            "identifier_field": field,
            "uses": decision.uses,
        },
    )
    if rr22:
        return s, psi_rr22_sessions.provider_side(wire, s, resource, msg["linkAddress"])
    if raw is None:
        return s, lambda: ask(wire, s.id, resource)
    return s, lambda: respond(wire, s.id, resource, raw)


def _own_set(
    wire: Wire, session_id: uuid.UUID, resource: ResourceOut
) -> psi_protocol.IdentifierSet | None:
    with wire.unit() as session:
        s = session.get(PsiSession, session_id)
        assert s is not None and s.identifier_field is not None
        field, normalization = s.identifier_field, s.normalization
    ids = psi_protocol.normalise(
        psi_data.read_identifiers(wire.settings, resource, field), normalization
    )
    if len(ids.items) < wire.settings.psi_min_set_size:
        fail_and_tell(
            wire,
            session_id,
            "psi.provider_set_too_small",
            f"the provider's set has only {len(ids.items)} identifiers",
        )
        return None
    return ids


def _set_facts(s: PsiSession, ids: psi_protocol.IdentifierSet) -> dict[str, Any]:
    s.local_size, s.local_digest, s.rejected = len(ids.items), ids.digest, ids.rejected
    return {
        "provider_set_size": len(ids.items),
        "provider_set_sha256": ids.digest,
        "rejected": ids.rejected,
    }


def respond(wire: Wire, session_id: uuid.UUID, resource: ResourceOut, raw_request: bytes) -> None:
    """Background: answer as the PSI sender (→ RESPONDED)."""
    ids = _own_set(wire, session_id, resource)
    if ids is None:
        return
    with wire.unit() as session:
        s = session.get(PsiSession, session_id)
        assert s is not None
        reveal, client_size = s.mode == "intersection", int(s.peer_size or 0)
    setup, response = psi_protocol.server_answer(ids.items, reveal, raw_request, client_size)
    with wire.unit() as session:
        s = lock(session, session_id)
        if s is None or s.state != "REQUESTED":
            return
        body = m.message(
            m.RESPONSE,
            s.provider_pid,
            s.consumer_pid,
            setSize=len(ids.items),
            setup=psi_protocol.b64(setup),
            response=psi_protocol.b64(response),
        )
        move(session, s, m.RESPONSE, "out", body, extra=_set_facts(s, ids))
        outbound = Outbound(s.id, peer_url(s, "response"), body)
    deliver(wire, outbound)


def ask(wire: Wire, session_id: uuid.UUID, resource: ResourceOut) -> None:
    """Background (``filter``): send our receiver request over our own set (→ EXCHANGING)."""
    ids = _own_set(wire, session_id, resource)
    if ids is None:
        return
    state, raw = psi_protocol.client_request(ids.items, reveal=True)
    with wire.unit() as session:
        s = lock(session, session_id)
        if s is None or s.state != "REQUESTED":
            return
        body = m.message(
            m.CLIENT_REQUEST,
            s.provider_pid,
            s.consumer_pid,
            setSize=len(ids.items),
            request=psi_protocol.b64(raw),
        )
        move(session, s, m.CLIENT_REQUEST, "out", body, extra=_set_facts(s, ids))
        s.pending = pack_state(state.key, ids.items)
        outbound = Outbound(s.id, peer_url(s, "client-request"), body)
    deliver(wire, outbound)


def on_response(
    session: Session, sender: Sender, msg: dict[str, Any], s: PsiSession, wire: Wire
) -> Work:
    """The consumer's setup and response in ``filter`` mode (→ RESPONDED)."""
    from_counterparty(s, sender, msg, utcnow())
    if s.mode != "filter":
        raise PsiProblem(
            400,
            "psi.wrong_side",
            "Only a filter session's provider receives a response",
            "只有过滤模式的提供方接收应答",
            s,
        )
    try:
        setup, response = psi_protocol.unb64(msg["setup"]), psi_protocol.unb64(msg["response"])
    except ValueError as exc:
        raise PsiProblem(
            400,
            "psi.response_invalid",
            "setup/response are not base64",
            "setup/response 不是 base64",
            s,
        ) from exc
    move(session, s, m.RESPONSE, "in", msg, extra={"consumer_set_size": msg["setSize"]})
    s.peer_size = msg["setSize"]
    return lambda: keep_filter(wire, s.id, setup, response)


def keep_filter(wire: Wire, session_id: uuid.UUID, setup: bytes, response: bytes) -> None:
    """Background (``filter``): learn the intersection, keep it as a named filter, tell the
    consumer only its size (→ COMPLETED)."""
    with wire.unit() as session:
        s = session.get(PsiSession, session_id)
        if s is None or s.state != "RESPONDED" or s.pending is None:
            return
        key, items = unpack_state(s.pending)
    assert key is not None
    try:
        size, members = psi_protocol.client_finish(
            psi_protocol.ClientState(key, True), setup, response, items
        )
    except psi_protocol.ProtocolError as exc:
        fail_and_tell(wire, session_id, "psi.response_invalid", str(exc)[:300])
        return
    assert members is not None
    with wire.unit() as session:
        s = lock(session, session_id)
        if s is None or s.state != "RESPONDED":
            return
        found = psi_protocol.IdentifierSet(members, 0)
        s.members, s.pending, s.filter_name = pack(members), None, f"psi:{s.id}"
        s.result_size, s.result_digest = size, found.digest
        body = m.message(m.RESULT, s.provider_pid, s.consumer_pid, intersectionSize=size)
        move(
            session,
            s,
            m.RESULT,
            "out",
            body,
            extra={
                "intersection_size": size,
                "intersection_sha256": found.digest,
                "filter": s.filter_name,
            },
        )
        outbound = Outbound(s.id, peer_url(s, "result"), body)
    deliver(wire, outbound)


def on_result(session: Session, sender: Sender, msg: dict[str, Any], s: PsiSession) -> None:
    """The size the consumer computed (cardinality, intersection) (→ COMPLETED)."""
    from_counterparty(s, sender, msg, utcnow())
    if s.mode == "filter":
        raise PsiProblem(
            400,
            "psi.wrong_side",
            "A filter session's result comes from the provider",
            "过滤模式的结果由提供方发出",
            s,
        )
    move(
        session,
        s,
        m.RESULT,
        "in",
        msg,
        extra={"intersection_size": msg["intersectionSize"], "reported_by": "consumer"},
    )
    s.result_size = msg["intersectionSize"]
