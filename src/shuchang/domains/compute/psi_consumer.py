"""The consumer's side of a PSI session: start one with its own identifiers, act as the PSI
receiver (cardinality, intersection) or as the sender (``filter`` mode)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from shuchang.db import utcnow
from shuchang.domains import evidence
from shuchang.domains.compute import psi_data, psi_protocol, psi_rr22, psi_rr22_sessions
from shuchang.domains.compute import psi_messages as m
from shuchang.domains.compute.psi import (
    Outbound,
    PsiProblem,
    Wire,
    deliver,
    fail_and_tell,
    from_counterparty,
    lock,
    move,
    new_pid,
    peer_url,
)
from shuchang.domains.compute.psi_filters import pack, pack_state, unpack_state
from shuchang.domains.compute.psi_models import PsiSession
from shuchang.domains.contracts import Sender
from shuchang.domains.participants import Actor, connector_urls, require
from shuchang.errors import PermissionDenied, ValidationFailed

Work = Callable[[], None]


def start(
    session: Session,
    actor: Actor,
    wire: Wire,
    *,
    agreement_id: uuid.UUID,
    mode: str,
    normalization: str,
    identifiers: list[Any],
    identifier_field: str | None = None,
    protocol: str = "ecdh",
) -> tuple[PsiSession, Work]:
    """Check and store a new session (PREPARING); the request is built and sent after."""
    require(actor, "consumer")
    me = wire.connector.participant.id
    if actor.participant_id != me:
        raise PermissionDenied(
            "This connector speaks for another participant",
            "本连接器不代表该参与方",
            code="psi.not_connector_owner",
        )
    now = utcnow()
    try:
        agreement = psi_data.agreement_for(session, agreement_id, me, now)
    except PsiProblem as exc:
        raise ValidationFailed(
            exc.message_en, exc.message_zh, code=exc.code, field="agreement_id"
        ) from exc
    if protocol == "rr22":
        try:
            psi_rr22_sessions.check_usable(wire, mode)
        except PsiProblem as exc:
            raise ValidationFailed(
                exc.message_en, exc.message_zh, code=exc.code, field="protocol"
            ) from exc
    ids = psi_protocol.normalise(identifiers, normalization)
    low, high = wire.settings.psi_min_set_size, wire.settings.psi_max_set_size
    if not low <= len(ids.items) <= high:
        raise ValidationFailed(
            f"{len(ids.items)} distinct valid identifiers ({ids.rejected} rejected); "
            f"{low}..{high} are required",
            f"有效且不重复的标识 {len(ids.items)} 个（{ids.rejected} 个不合规被剔除），"
            f"须为 {low} 至 {high} 个",
            code="psi.set_too_small" if len(ids.items) < low else "psi.set_too_large",
            field="identifiers",
        )
    urls = connector_urls(session, agreement.provider_id)
    if not urls:
        raise ValidationFailed(
            "The provider has no registered connector",
            "提供方没有登记连接器",
            code="psi.provider_unreachable",
            field="agreement_id",
        )
    s = PsiSession(
        id=uuid.uuid4(),
        role="consumer",
        consumer_pid=new_pid(),
        state="PREPARING",
        mode=mode,
        protocol=protocol,
        link_address=_link(wire, protocol),
        normalization=normalization,
        agreement_id=agreement.id,
        local_participant_id=me,
        counterparty_id=agreement.provider_id,
        callback_address=urls[0].rstrip("/"),
        identifier_field=identifier_field,
        local_size=len(ids.items),
        local_digest=ids.digest,
        rejected=ids.rejected,
        pending=pack_state(None, ids.items),
        deadline=now + timedelta(seconds=wire.settings.psi_timeout_s),
        created_at=now,
        updated_at=now,
    )
    session.add(s)
    session.flush()
    evidence.record(
        session,
        "psi.preparing",
        f"psi:{s.id}",
        actor.ref,
        {
            "role": "consumer",
            "mode": mode,
            "agreement": str(agreement.id),
            "consumerPid": s.consumer_pid,
            "consumer_set_size": len(ids.items),
            "consumer_set_sha256": ids.digest,
            "rejected": ids.rejected,
        },
    )
    return s, lambda: send_request(wire, s.id)


def _link(wire: Wire, protocol: str) -> str | None:
    return psi_rr22.free_address(wire.settings.psi_link_host) if protocol == "rr22" else None


def send_request(wire: Wire, session_id: uuid.UUID) -> None:
    """Background: build the receiver request (unless ``filter``) and send the request."""
    with wire.unit() as session:
        s = session.get(PsiSession, session_id)
        if s is None or s.state != "PREPARING" or s.pending is None:
            return
        _, items = unpack_state(s.pending)
        mode, local_only = s.mode, s.mode == "filter" or s.protocol == "rr22"
    state, raw = (
        (None, None)
        if local_only
        else psi_protocol.client_request(items, reveal=mode == "intersection")
    )
    with wire.unit() as session:
        s = lock(session, session_id)
        if s is None or s.state != "PREPARING":
            return
        body = m.message(
            m.REQUEST,
            None,
            s.consumer_pid,
            agreementId=f"urn:uuid:{s.agreement_id}",
            mode=s.mode,
            protocol=s.protocol,
            normalization=s.normalization,
            identifierField=s.identifier_field,
            setSize=len(items),
            callbackAddress=wire.connector.base_url,
            request=psi_protocol.b64(raw) if raw is not None else None,
            linkAddress=s.link_address,
        )
        move(session, s, m.REQUEST, "out", body, extra={"consumer_set_size": len(items)})
        if state is not None:
            s.pending = pack_state(state.key, items)
        outbound = Outbound(s.id, f"{s.callback_address}/psi/request", body)
    answer = deliver(wire, outbound)
    if answer.get("linkAddress"):
        psi_rr22_sessions.consumer_side(wire, session_id, answer)
    pid = answer.get("providerPid")
    if isinstance(pid, str) and pid:
        with wire.unit() as session:
            s = lock(session, session_id)
            if s is not None and s.provider_pid is None:
                s.provider_pid = pid


def _payload(msg: dict[str, Any], s: PsiSession, *names: str) -> list[bytes]:
    try:
        return [psi_protocol.unb64(msg[n]) for n in names]
    except ValueError as exc:
        raise PsiProblem(
            400,
            "psi.payload_invalid",
            "The PSI payload is not base64",
            "求交报文载荷不是 base64",
            s,
        ) from exc


def on_response(
    session: Session, sender: Sender, msg: dict[str, Any], s: PsiSession, wire: Wire
) -> Work:
    """The provider's setup and response (cardinality, intersection) (→ RESPONDED)."""
    from_counterparty(s, sender, msg, utcnow())
    if s.mode == "filter":
        raise PsiProblem(
            400,
            "psi.wrong_side",
            "A filter session's consumer sends the response",
            "过滤模式由使用方发出应答",
            s,
        )
    setup, response = _payload(msg, s, "setup", "response")
    move(session, s, m.RESPONSE, "in", msg, extra={"provider_set_size": msg["setSize"]})
    s.peer_size = msg["setSize"]
    return lambda: finish(wire, s.id, setup, response)


def finish(wire: Wire, session_id: uuid.UUID, setup: bytes, response: bytes) -> None:
    """Background: learn the size (and members in ``intersection`` mode), report the size."""
    with wire.unit() as session:
        s = session.get(PsiSession, session_id)
        if s is None or s.state != "RESPONDED" or s.pending is None:
            return
        key, items = unpack_state(s.pending)
        reveal = s.mode == "intersection"
    assert key is not None
    try:
        size, members = psi_protocol.client_finish(
            psi_protocol.ClientState(key, reveal), setup, response, items
        )
    except psi_protocol.ProtocolError as exc:
        fail_and_tell(wire, session_id, "psi.response_invalid", str(exc)[:300])
        return
    with wire.unit() as session:
        s = lock(session, session_id)
        if s is None or s.state != "RESPONDED":
            return
        extra: dict[str, Any] = {"intersection_size": size}
        if members is not None:
            s.members = pack(members)
            s.result_digest = extra["intersection_sha256"] = psi_protocol.IdentifierSet(
                members, 0
            ).digest
        s.result_size, s.pending = size, None
        body = m.message(m.RESULT, s.provider_pid, s.consumer_pid, intersectionSize=size)
        move(session, s, m.RESULT, "out", body, extra=extra)
        outbound = Outbound(s.id, peer_url(s, "result"), body)
    deliver(wire, outbound)


def on_client_request(
    session: Session, sender: Sender, msg: dict[str, Any], s: PsiSession, wire: Wire
) -> Work:
    """The provider's receiver request in ``filter`` mode (→ EXCHANGING)."""
    from_counterparty(s, sender, msg, utcnow())
    if s.mode != "filter":
        raise PsiProblem(
            400,
            "psi.wrong_side",
            "Only a filter session sends a client request",
            "只有过滤模式才有提供方的求交请求",
            s,
        )
    (raw,) = _payload(msg, s, "request")
    try:
        distinct = psi_protocol.request_size(raw, reveal=True)
    except psi_protocol.ProtocolError as exc:
        raise PsiProblem(
            400, "psi.request_invalid", str(exc), "求交请求无法解析或与模式不符", s
        ) from exc
    if distinct != msg["setSize"] or distinct < wire.settings.psi_min_set_size:
        raise PsiProblem(
            400,
            "psi.set_too_small",
            f"The provider's request holds {distinct} distinct items",
            f"提供方请求中仅有 {distinct} 个不同元素",
            s,
        )
    move(session, s, m.CLIENT_REQUEST, "in", msg, extra={"provider_set_size": distinct})
    s.peer_size = distinct
    return lambda: serve(wire, s.id, raw, distinct)


def serve(wire: Wire, session_id: uuid.UUID, raw_request: bytes, client_size: int) -> None:
    """Background (``filter``): answer as the PSI sender over our own set (→ RESPONDED)."""
    with wire.unit() as session:
        s = session.get(PsiSession, session_id)
        if s is None or s.state != "EXCHANGING" or s.pending is None:
            return
        _, items = unpack_state(s.pending)
    setup, response = psi_protocol.server_answer(items, True, raw_request, client_size)
    with wire.unit() as session:
        s = lock(session, session_id)
        if s is None or s.state != "EXCHANGING":
            return
        body = m.message(
            m.RESPONSE,
            s.provider_pid,
            s.consumer_pid,
            setSize=len(items),
            setup=psi_protocol.b64(setup),
            response=psi_protocol.b64(response),
        )
        move(session, s, m.RESPONSE, "out", body, extra={"consumer_set_size": len(items)})
        s.pending = None
        outbound = Outbound(s.id, peer_url(s, "response"), body)
    deliver(wire, outbound)


def on_result(session: Session, sender: Sender, msg: dict[str, Any], s: PsiSession) -> None:
    """The size the provider found in ``filter`` mode (→ COMPLETED); the members stay there."""
    from_counterparty(s, sender, msg, utcnow())
    if s.mode != "filter":
        raise PsiProblem(
            400,
            "psi.wrong_side",
            "This session's result is the consumer's to send",
            "该会话的结果应由使用方发出",
            s,
        )
    move(session, s, m.RESULT, "in", msg, extra={"intersection_size": msg["intersectionSize"]})
    s.result_size = msg["intersectionSize"]
