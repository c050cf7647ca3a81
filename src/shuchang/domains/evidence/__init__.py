"""Evidence (存证溯源): every state change is recorded here, in the same transaction.

Other domains import only these names.
"""

from shuchang.domains.evidence.logview import entry as logged_entry
from shuchang.domains.evidence.logview import receipt
from shuchang.domains.evidence.schemas import EvidenceEntry, LoggedEntry
from shuchang.domains.evidence.service import history, record, record_many
from shuchang.domains.evidence.tlog.note import parse_verifier_key
from shuchang.domains.evidence.tlog.offline import verify_receipt

__all__ = [
    "EvidenceEntry",
    "LoggedEntry",
    "history",
    "logged_entry",
    "parse_verifier_key",
    "receipt",
    "record",
    "record_many",
    "verify_receipt",
]
