"""Evidence (存证溯源): every state change is recorded here, in the same transaction.

Other domains import only these names.
"""

from shuchang.domains.evidence.schemas import EvidenceEntry
from shuchang.domains.evidence.service import history, record, record_many

__all__ = ["EvidenceEntry", "history", "record", "record_many"]
