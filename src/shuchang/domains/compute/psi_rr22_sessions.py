"""PSI sessions on the RR22 backend: the connectors agree (signed messages, as for ECDH) on
the session and each side's link address; then both run RR22 over the direct link and the
receiver reports the size::

    consumer ── PsiRequestMessage (protocol rr22, linkAddress) ──► provider
             ◄── 201 PsiSession (linkAddress) ──
    both: RR22 over the link (provider rank 0, consumer rank 1)
    receiver (consumer: intersection; provider: filter) ── PsiResultMessage (size) ──► other
"""

from __future__ import annotations

import uuid
from typing import Any

from shuchang.domains.catalog import ResourceOut
from shuchang.domains.compute import psi_data, psi_protocol, psi_rr22
from shuchang.domains.compute import psi_messages as m
from shuchang.domains.compute.psi import (
    Outbound,
    PsiProblem,
    Wire,
    deliver,
    fail_and_tell,
    lock,
    move,
    peer_url,
)
from shuchang.domains.compute.psi_filters import pack, unpack_state
from shuchang.domains.compute.psi_models import PsiSession

PROVIDER_RANK, CONSUMER_RANK = 0, 1


def check_usable(wire: Wire, mode: str) -> None:
    if not psi_rr22.available() or not wire.settings.psi_link_host:
        raise PsiProblem(
            400,
            "psi.protocol_unavailable",
            "RR22 is not set up at this connector",
            "本连接器未启用 RR22 求交",
        )
    if mode == "cardinality":
        raise PsiProblem(
            400,
            "psi.protocol_unsupported",
            "RR22 reveals members to its receiver: use ECDH for size-only sessions",
            "RR22 会向接收方揭示交集成员；仅求交集大小请使用 ECDH",
        )


def receiver_rank(mode: str) -> int:
    return PROVIDER_RANK if mode == "filter" else CONSUMER_RANK


def run_side(
    wire: Wire, session_id: uuid.UUID, items: list[str], addresses: tuple[str, str]
) -> None:
    """Run our side of the link; the receiver keeps what it may and reports the size."""
    with wire.unit() as session:
        s = session.get(PsiSession, session_id)
        if s is None or s.state != "REQUESTED":
            return
        rank = PROVIDER_RANK if s.role == "provider" else CONSUMER_RANK
        receiver = receiver_rank(s.mode)
    try:
        found = psi_rr22.run(rank=rank, items=items, addresses=addresses, receiver_rank=receiver)
    except Exception as exc:  # spu raises its own RuntimeErrors from C++
        fail_and_tell(wire, session_id, "psi.rr22_failed", str(exc)[:300])
        return
    if rank != receiver or found.members is None:
        return
    with wire.unit() as session:
        s = lock(session, session_id)
        if s is None or s.state != "REQUESTED":
            return
        digest = psi_protocol.IdentifierSet(found.members, 0).digest
        s.members, s.pending, s.result_size, s.result_digest = (
            pack(found.members),
            None,
            len(found.members),
            digest,
        )
        if s.role == "provider":
            s.filter_name = f"psi:{s.id}"
        body = m.message(
            m.RESULT, s.provider_pid, s.consumer_pid, intersectionSize=len(found.members)
        )
        move(
            session,
            s,
            m.RESULT,
            "out",
            body,
            extra={
                "intersection_size": len(found.members),
                "intersection_sha256": digest,
                "filter": s.filter_name,
            },
        )
        outbound = Outbound(s.id, peer_url(s, "result"), body)
    deliver(wire, outbound)


def provider_side(wire: Wire, s: PsiSession, resource: ResourceOut, peer: str) -> Any:
    """The provider's work after admitting an RR22 request (on its own thread)."""
    session_id, field, rule = s.id, str(s.identifier_field), s.normalization
    own = str(s.link_address)

    def work() -> None:
        ids = psi_protocol.normalise(
            psi_data.read_identifiers(wire.settings, resource, field), rule
        )
        if len(ids.items) < wire.settings.psi_min_set_size:
            fail_and_tell(
                wire,
                session_id,
                "psi.provider_set_too_small",
                f"the provider's set has {len(ids.items)}",
            )
            return
        with wire.unit() as session:
            row = lock(session, session_id)
            if row is not None:
                row.local_size, row.local_digest, row.rejected = (
                    len(ids.items),
                    ids.digest,
                    ids.rejected,
                )
        run_side(wire, session_id, ids.items, (own, peer))

    return psi_rr22.in_thread(work)


def consumer_side(wire: Wire, session_id: uuid.UUID, answer: dict[str, Any]) -> None:
    """After the provider admitted the request: run our side with its link address."""
    peer = answer.get("linkAddress")
    with wire.unit() as session:
        s = session.get(PsiSession, session_id)
        if s is None or s.pending is None or not isinstance(peer, str):
            return
        _, items = unpack_state(s.pending)
        own = str(s.link_address)
    psi_rr22.in_thread(lambda: run_side(wire, session_id, items, (peer, own)))()
