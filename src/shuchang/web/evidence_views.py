"""What the evidence pages show (存证溯源): an object's entries with their place in the log,
one entry with its receipt, and the log itself with its audit.

Who may open an entry, its receipt and its leaf is the API's rule
(:mod:`shuchang.domains.evidence.api`): its subject, its actor, the operator and the regulator;
anyone else is told it does not exist.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from shuchang.domains.evidence import EvidenceEntry, log, logview
from shuchang.domains.evidence.audit import audit
from shuchang.domains.evidence.models import LogLeaf
from shuchang.domains.evidence.schemas import AuditOut, LoggedEntry, LogStatus
from shuchang.domains.evidence.tlog.note import Ed25519Signer
from shuchang.domains.participants import ParticipantOut, find
from shuchang.errors import Conflict, NotFound
from shuchang.web.pages import Viewer

OVERSIGHT = ("operator", "regulator")
SUBJECT_PAGES = {
    "participant": ("/console/participants/{}", "nav.participants"),
    "resource": ("/console/catalog/resources/{}", "doctype.resource"),
    "product": ("/console/catalog/products/{}", "doctype.product"),
    "negotiation": ("/console/contracts/negotiations/{}", "negotiation.title"),
    "agreement": ("/console/contracts/agreements/{}", "agreement.title"),
    "transfer": ("/console/transfers/{}", "transfer.title"),
}
"""Console pages of the objects evidence is recorded about (``<kind>:<uuid>`` subjects), and
the message key naming the kind."""


def may_see(user: Viewer, entry: EvidenceEntry) -> bool:
    """The API's rule: the entry's subject or actor, or oversight."""
    return user.role in OVERSIGHT or user.actor.ref in (entry.subject, entry.actor)


def not_found() -> NotFound:
    return NotFound("Evidence entry not found", "存证记录不存在", code="evidence.not_found")


def visible_entry(session: Session, user: Viewer, entry_id: int) -> LoggedEntry:
    """The entry and its leaf, or a 404 (no hint that an entry exists where one may not look)."""
    found = logview.entry(session, entry_id)
    if not may_see(user, found.entry):
        raise not_found()
    return found


def subject_page(subject: str) -> str | None:
    """The console page of an evidence subject such as ``product:<id>``, if it has one."""
    kind, _, raw = subject.partition(":")
    if kind not in SUBJECT_PAGES:
        return None
    try:
        return SUBJECT_PAGES[kind][0].format(uuid.UUID(raw))
    except ValueError:
        return None


def subject_label(subject: str) -> str:
    """The message key naming a subject's kind (the kind itself when unknown)."""
    kind = subject.partition(":")[0]
    return SUBJECT_PAGES[kind][1] if kind in SUBJECT_PAGES else kind


# --- an object's entries ------------------------------------------------------------------------


@dataclass(frozen=True)
class EvidenceLog:
    """Where an object's entries sit in the log, and which ones the viewer may open.

    An entry is *pending* (待定序) until the sequencer gives it a leaf index, and has a
    receipt once a signed checkpoint covers that index.
    """

    positions: dict[int, int]
    """Outbox id → leaf index, for the entries already sequenced."""
    checkpoint_size: int
    """Size of the latest signed checkpoint (0 before the first one)."""
    readable: frozenset[int]
    """Entries the viewer may open (and take the receipt and leaf of)."""

    def position(self, entry_id: int) -> int | None:
        return self.positions.get(entry_id)

    def may_open(self, entry_id: int) -> bool:
        return entry_id in self.readable

    def has_receipt(self, entry_id: int) -> bool:
        index = self.positions.get(entry_id)
        return index is not None and index < self.checkpoint_size

    def example(self) -> int | None:
        """The latest entry whose receipt the viewer may take (for the "verify offline" hint)."""
        ready = [i for i in self.readable if self.has_receipt(i)]
        return max(ready, default=None)


def leaf_positions(session: Session, entry_ids: Sequence[int]) -> dict[int, int]:
    """The leaf index of each sequenced entry among ``entry_ids`` (one query)."""
    if not entry_ids:
        return {}
    rows = session.execute(
        select(LogLeaf.outbox_id, LogLeaf.idx).where(LogLeaf.outbox_id.in_(list(entry_ids)))
    )
    return {outbox_id: idx for outbox_id, idx in rows}


def evidence_log(session: Session, user: Viewer, history: Sequence[EvidenceEntry]) -> EvidenceLog:
    latest = log.latest_checkpoint(session)
    return EvidenceLog(
        positions=leaf_positions(session, [e.id for e in history]),
        checkpoint_size=0 if latest is None else latest.size,
        readable=frozenset(e.id for e in history if may_see(user, e)),
    )


# --- one entry ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class EntryView:
    logged: LoggedEntry
    actor: ParticipantOut | None
    subject_participant: ParticipantOut | None
    subject_url: str | None
    subject_label: str
    payload_json: str
    leaf_text: str | None
    receipt: str | None
    checkpoint_size: int

    @property
    def entry(self) -> EvidenceEntry:
        return self.logged.entry

    @property
    def sequenced(self) -> bool:
        return self.logged.leaf_index is not None


def _participant(session: Session, ref: str) -> ParticipantOut | None:
    kind, _, raw = ref.partition(":")
    if kind != "participant":
        return None
    try:
        return find(session, uuid.UUID(raw))
    except ValueError:
        return None


def entry_view(session: Session, user: Viewer, entry_id: int) -> EntryView:
    logged = visible_entry(session, user, entry_id)
    try:
        receipt: str | None = logview.receipt(session, entry_id).decode()
    except Conflict:  # not sequenced, or no checkpoint covers it yet
        receipt = None
    latest = log.latest_checkpoint(session)
    leaf = base64.b64decode(logged.leaf_data) if logged.leaf_data else None
    return EntryView(
        logged=logged,
        actor=_participant(session, logged.entry.actor),
        subject_participant=_participant(session, logged.entry.subject),
        subject_url=subject_page(logged.entry.subject),
        subject_label=subject_label(logged.entry.subject),
        payload_json=json.dumps(logged.entry.payload, ensure_ascii=False, indent=2, sort_keys=True),
        leaf_text=leaf.decode("utf-8", "replace") if leaf is not None else None,
        receipt=receipt,
        checkpoint_size=0 if latest is None else latest.size,
    )


def leaf_bytes(session: Session, user: Viewer, entry_id: int) -> bytes:
    """The canonical leaf bytes (the LEAF `shuchang tlog verify` checks), once sequenced."""
    logged = visible_entry(session, user, entry_id)
    if logged.leaf_data is None:
        raise Conflict(
            f"Evidence entry {entry_id} is not sequenced yet",
            "该存证尚未定序，暂无叶子数据，请稍后再取",
            code="evidence.not_sequenced",
        )
    return base64.b64decode(logged.leaf_data)


def receipt_bytes(session: Session, user: Viewer, entry_id: int) -> bytes:
    visible_entry(session, user, entry_id)
    return logview.receipt(session, entry_id)


# --- the log ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LogView:
    status: LogStatus
    audit: AuditOut | None
    may_publish: bool


def run_audit(session: Session, signer: Ed25519Signer) -> AuditOut:
    """`shuchang tlog audit`: recompute the log from the database, check every checkpoint."""
    return logview.audit_out(audit(session, [signer.verifier()], signer.name))


def log_view(
    session: Session, user: Viewer, signer: Ed25519Signer, audited: AuditOut | None = None
) -> LogView:
    return LogView(
        status=logview.status(session, signer),
        audit=audited,
        may_publish=user.is_operator,
    )
