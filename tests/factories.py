"""One factory per model: valid, unique participants, issuers and credentials for tests."""

from __future__ import annotations

import base64
import itertools
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from shuchang.domains.participants import credentials, keys, service
from shuchang.domains.participants.identifiers import (
    org_code_check_character,
    resident_id_check_digit,
    uscc_check_character,
)
from shuchang.domains.participants.schemas import SYSTEM, AddIssuer, RegisterParticipant
from shuchang.domains.participants.service import OnboardingRules
from shuchang.platform import Platform
from shuchang.ports import Ed25519Signer

_counter = itertools.count(1)
AUTHORITY_TYPE = {
    "enterprise": "91",
    "public_institution": "12",
    "government": "11",
    "social_organisation": "51",
}


def uscc(kind: str = "enterprise", region: str = "330300") -> str:
    """A fresh, valid Unified Social Credit Code for an organisation of ``kind``."""
    body = f"T{next(_counter):07d}"
    first17 = AUTHORITY_TYPE[kind] + region + body + org_code_check_character(body)
    return first17 + uscc_check_character(first17)


def resident_id(region: str = "330302", birth: str = "19900101") -> str:
    first17 = f"{region}{birth}{next(_counter) % 1000:03d}"
    return first17 + resident_id_check_digit(first17)


def identifier_for(kind: str) -> str:
    return resident_id() if kind == "individual" else uscc(kind)


@dataclass
class Issuer:
    id: str
    signer: Ed25519Signer

    def credential(self, identifier: str, name: str, **overrides: Any) -> dict[str, Any]:
        now = datetime.now(UTC).replace(microsecond=0)
        fields: dict[str, Any] = {
            "issuer_id": self.id,
            "credential_id": f"urn:uuid:{uuid.uuid4()}",
            "identifier": identifier,
            "name": name,
            "valid_from": now - timedelta(days=1),
            "valid_until": now + timedelta(days=365),
        }
        fields.update(overrides)
        return credentials.issue(self.signer, **fields)


def trusted_issuer(platform: Platform, issuer_id: str = "test-issuer") -> Issuer:
    signer = Ed25519Signer()
    with platform.unit() as s:
        keys.add_issuer(
            s,
            SYSTEM,
            AddIssuer(
                id=issuer_id,
                name="测试电子营业执照签发服务",
                public_key=base64.b64encode(signer.public_key()).decode(),
            ),
        )
    return Issuer(issuer_id, signer)


@dataclass
class Member:
    """A registered participant and the API key it received."""

    id: uuid.UUID
    identifier: str
    name: str
    status: str
    api_key: str | None

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"}


def participant(
    platform: Platform,
    *,
    kind: str = "enterprise",
    roles: tuple[str, ...] = ("consumer",),
    name: str | None = None,
    rules: OnboardingRules | None = None,
    credential: dict[str, Any] | None = None,
    identifier: str | None = None,
) -> Member:
    """Register a participant as the platform would; lenient rules make it active at once."""
    name = name or f"测试企业{next(_counter)}有限公司"
    identifier = identifier or identifier_for(kind)
    request = RegisterParticipant(
        kind=kind,  # type: ignore[arg-type]
        name=name,
        identifier=identifier,
        roles=list(roles),  # type: ignore[arg-type]
        credential=credential,
    )
    with platform.unit() as s:
        reg = service.register(
            s, SYSTEM, request, rules or OnboardingRules(review_rule="lenient", approval="auto")
        )
    return Member(reg.participant.id, identifier, name, reg.participant.status, reg.api_key)


def operator(platform: Platform) -> Member:
    return participant(platform, kind="government", roles=("operator",), name="测试市数据局")


def regulator(platform: Platform) -> Member:
    return participant(platform, kind="government", roles=("regulator",), name="测试市网信办")
