""" "PSI then aggregate": an intersection that stays at the provider as a named filter.

In ``filter`` mode the provider's connector is the PSI receiver: it learns which of *its own*
identifiers the consumer also holds and keeps them here, named ``psi:<session id>``; the
consumer learns only the count. A later compute job under the same agreement names the
filter (``JobIn.psi_filter``) and the sandbox semi-joins it on the profile's person column
(``restrict_to``): the identifiers never leave the provider, and the job's
differential-privacy guarantee covers the aggregate (the filter only selects whose rows are
counted; one person still changes each cell by at most the contribution bound).
"""

from __future__ import annotations

import base64
import json
import uuid
import zlib
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from shuchang.domains.compute.psi_models import PsiSession
from shuchang.domains.participants import Actor
from shuchang.errors import NotFound


def pack(values: list[str]) -> bytes:
    """Identifiers as stored between steps of a session: compressed JSON."""
    return zlib.compress(json.dumps(values, ensure_ascii=False).encode(), 6)


def unpack(blob: bytes) -> list[str]:
    values = json.loads(zlib.decompress(blob))
    assert isinstance(values, list)
    return [str(v) for v in values]


@dataclass(frozen=True)
class PsiFilter:
    """A completed filter-mode session's intersection: the provider's column and values."""

    name: str
    agreement_id: uuid.UUID
    column: str
    values: frozenset[str]
    normalization: str


def restriction(session: Session, actor: Actor, name: str) -> PsiFilter:
    """The stored intersection ``name`` for a job run by its provider (or the platform)
    under the session's agreement; NotFound for anyone else, or before it is complete."""
    row = session.scalars(
        select(PsiSession).where(PsiSession.filter_name == name, PsiSession.role == "provider")
    ).first()
    allowed = row is not None and (
        actor.participant_id == row.local_participant_id or actor.role == "system"
    )
    if row is None or not allowed or row.state != "COMPLETED" or row.members is None:
        raise NotFound(
            "No completed PSI filter of that name",
            "没有该名称的已完成求交过滤集",
            code="psi.filter_not_found",
            field="filter",
        )
    assert row.identifier_field is not None
    return PsiFilter(
        name=name,
        agreement_id=row.agreement_id,
        column=row.identifier_field,
        values=frozenset(unpack(row.members)),
        normalization=row.normalization,
    )


def pack_state(key: bytes | None, items: list[str]) -> bytes:
    """A side's own secret state between steps: its private key (if any) and its items."""
    head = base64.b64encode(key).decode() if key else ""
    return pack([head, *items])


def unpack_state(blob: bytes) -> tuple[bytes | None, list[str]]:
    head, *items = unpack(blob)
    return (base64.b64decode(head) if head else None), items
