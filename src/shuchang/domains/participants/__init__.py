"""Participants (接入认证): onboarding with automatic verification, keys, API keys, connectors.

Other domains import only these names.
"""

from shuchang.domains.participants.access import authenticate, require, require_self_or
from shuchang.domains.participants.identifiers import (
    check_identifier,
    check_resident_id,
    check_uscc,
)
from shuchang.domains.participants.keys import (
    active_keys,
    connector_urls,
    key_owner,
    list_connectors,
)
from shuchang.domains.participants.roster import count_by_kind_status, count_by_role, with_role
from shuchang.domains.participants.schemas import (
    ANONYMOUS,
    SYSTEM,
    Actor,
    ConnectorOut,
    ParticipantOut,
)
from shuchang.domains.participants.service import (
    OnboardingRules,
    find,
    find_by_urn,
    participant_urn,
    standing,
)

__all__ = [
    "ANONYMOUS",
    "SYSTEM",
    "Actor",
    "ConnectorOut",
    "OnboardingRules",
    "ParticipantOut",
    "active_keys",
    "authenticate",
    "check_identifier",
    "check_resident_id",
    "check_uscc",
    "connector_urls",
    "count_by_kind_status",
    "count_by_role",
    "find",
    "find_by_urn",
    "key_owner",
    "list_connectors",
    "participant_urn",
    "require",
    "require_self_or",
    "standing",
    "with_role",
]
