"""Evidence (存证溯源): every state change is recorded here, in the same transaction.

Other domains import only these names.
"""

from shuchang.domains.evidence.audit import AuditReport, audit
from shuchang.domains.evidence.logview import entry as logged_entry
from shuchang.domains.evidence.logview import receipt
from shuchang.domains.evidence.logview import status as log_status
from shuchang.domains.evidence.schemas import EvidenceEntry, LoggedEntry
from shuchang.domains.evidence.service import history, record, record_many
from shuchang.domains.evidence.tlog.note import Ed25519Signer, Verifier, parse_verifier_key
from shuchang.domains.evidence.tlog.offline import verify_receipt

__all__ = [
    "AuditReport",
    "Ed25519Signer",
    "EvidenceEntry",
    "LoggedEntry",
    "Verifier",
    "audit",
    "history",
    "log_status",
    "logged_entry",
    "parse_verifier_key",
    "receipt",
    "record",
    "record_many",
    "verify_receipt",
]
