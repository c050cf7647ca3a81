"""The demo region 东瓯市 (Dong'ou, a fictional city): who is in it, seeded idempotently.

The cast follows ../shared/SCENARIOS.md: public-data providers (market regulation, tax,
medical insurance, traffic police), a power company, a state-owned data group (the
first-level developer), a cable maker, a commercial bank and an insurer as consumers, a
compliance service firm, the city data bureau as operator and the cyberspace office as
regulator. Identifiers are generated with correct check characters and belong to no one.
"""

from __future__ import annotations

import base64
import json
import os
import uuid
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import click
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from shuchang.db import make_session_factory, session_scope, utcnow
from shuchang.demo_catalog import seed_catalog
from shuchang.demo_compute import seed_compute
from shuchang.demo_elements import seed_elements
from shuchang.demo_market import seed_market
from shuchang.demo_settlement import seed_settlement
from shuchang.domains.participants import credentials, keys, service
from shuchang.domains.participants.identifiers import (
    org_code_check_character,
    uscc_check_character,
)
from shuchang.domains.participants.models import Participant
from shuchang.domains.participants.schemas import SYSTEM, AddIssuer, RegisterParticipant
from shuchang.domains.participants.service import OnboardingRules
from shuchang.ports import Ed25519Signer
from shuchang.settings import Settings

REGION = "330300"
ISSUER_ID = "dongou-samr-elicence"


@dataclass(frozen=True)
class Member:
    name: str
    name_en: str
    kind: str
    authority_type: str  # USCC positions 1-2, e.g. "11" government, "91" enterprise
    org_body: str  # the 8-character organisation-code body
    roles: tuple[str, ...]
    credential: bool = True


CAST = (
    Member(
        "东瓯市数据局",
        "Dong'ou Municipal Data Bureau",
        "government",
        "11",
        "00218301",
        ("operator",),
    ),
    Member(
        "东瓯市互联网信息办公室",
        "Dong'ou Cyberspace Office",
        "government",
        "11",
        "00218302",
        ("regulator",),
    ),
    Member(
        "东瓯市市场监督管理局",
        "Dong'ou Market Regulation Bureau",
        "government",
        "11",
        "00218303",
        ("provider",),
    ),
    Member(
        "国家税务总局东瓯市税务局",
        "Dong'ou Municipal Tax Service",
        "government",
        "11",
        "00218304",
        ("provider",),
    ),
    Member(
        "东瓯市医疗保障局",
        "Dong'ou Medical Insurance Bureau",
        "government",
        "11",
        "00218305",
        ("provider",),
    ),
    Member(
        "东瓯市公安局交通警察支队",
        "Dong'ou Traffic Police Detachment",
        "government",
        "11",
        "00218306",
        ("provider",),
    ),
    Member(
        "东瓯电力有限公司", "Dong'ou Power Co., Ltd.", "enterprise", "91", "MA2DW001", ("provider",)
    ),
    Member(
        "东瓯数据集团有限公司",
        "Dong'ou Data Group Co., Ltd.",
        "enterprise",
        "91",
        "MA2DW002",
        ("provider", "consumer"),
    ),
    Member(
        "东瓯线缆股份有限公司",
        "Dong'ou Cable Co., Ltd.",
        "enterprise",
        "91",
        "MA2DW003",
        ("provider",),
    ),
    Member(
        "东瓯商业银行股份有限公司",
        "Bank of Dong'ou Co., Ltd.",
        "enterprise",
        "91",
        "MA2DW004",
        ("consumer",),
    ),
    Member(
        "东瓯财产保险股份有限公司",
        "Dong'ou Property Insurance Co., Ltd.",
        "enterprise",
        "91",
        "MA2DW005",
        ("consumer",),
    ),
    Member(
        "东瓯智联物流科技有限公司",
        "Dong'ou Smart Logistics Co., Ltd.",
        "enterprise",
        "91",
        "MA2DW006",
        ("consumer", "provider"),
    ),
    Member(
        "东瓯数据合规评估中心",
        "Dong'ou Data Compliance Assessment Centre",
        "public_institution",
        "12",
        "MB0DW007",
        ("service_firm",),
    ),
    Member(
        "东瓯云帆科技有限公司",
        "Dong'ou Yunfan Technology Co., Ltd.",
        "enterprise",
        "91",
        "MA2DW008",
        ("consumer",),
        credential=False,
    ),
)


def uscc(authority_type: str, org_body: str, region: str = REGION) -> str:
    """A code with correct check characters (GB 32100 and the embedded GB 11714 code)."""
    first17 = authority_type + region + org_body + org_code_check_character(org_body)
    return first17 + uscc_check_character(first17)


def _register(
    session: Session, member: Member, signer: Ed25519Signer, rules: OnboardingRules
) -> tuple[str, uuid.UUID, str | None]:
    code = uscc(member.authority_type, member.org_body)
    credential = None
    if member.credential:
        now = utcnow().replace(microsecond=0)
        credential = credentials.issue(
            signer,
            issuer_id=ISSUER_ID,
            credential_id=f"urn:uuid:{uuid.uuid4()}",
            identifier=code,
            name=member.name,
            valid_from=now - timedelta(days=30),
            valid_until=now + timedelta(days=365 * 3),
        )
    request = RegisterParticipant(
        kind=member.kind,  # type: ignore[arg-type]
        name=member.name,
        name_en=member.name_en,
        identifier=code,
        roles=list(member.roles),  # type: ignore[arg-type]
        region=REGION,
        credential=credential,
    )
    registration = service.register(session, SYSTEM, request, rules)
    active = registration.participant.status == "active"
    return member.name, registration.participant.id, registration.api_key if active else None


def keys_file(settings: Settings) -> Path:
    return settings.beside_database("demo-keys.json", "shuchang.demo-keys.json")


def seed(engine: Engine, settings: Settings) -> dict[str, str | None]:
    """Seed once; later calls only return the keys written the first time."""
    path = keys_file(settings)
    factory = make_session_factory(engine)
    with session_scope(factory) as session:
        if session.scalar(select(Participant.id).limit(1)) is not None:
            return json.loads(path.read_text()) if path.exists() else {}
        signer = Ed25519Signer()
        keys.add_issuer(
            session,
            SYSTEM,
            AddIssuer(
                id=ISSUER_ID,
                name="东瓯市电子营业执照签发服务",
                public_key=base64.b64encode(signer.public_key()).decode(),
            ),
        )
        rules = OnboardingRules(review_rule="standard", approval="auto")
        registered = [_register(session, m, signer, rules) for m in CAST]
        result = {name: secret for name, _, secret in registered}
        members = {name: pid for name, pid, _ in registered}
        seed_catalog(session, members, settings.reviewers)
        seed_market(session, members, settings)
        seed_compute(session, settings, members)
        issuer_key = settings.beside_database("demo-issuer.key", "shuchang.demo-issuer.key")
        issuer_key.write_text(base64.b64encode(signer.seed()).decode() + "\n")
        issuer_key.chmod(0o600)
    seed_settlement(engine, settings)
    seed_elements(engine, settings, {name: pid for name, pid, _ in registered})
    path.write_text(json.dumps(result, ensure_ascii=False, indent=2))
    os.chmod(path, 0o600)
    from shuchang.demo_data import write_demo_data

    write_demo_data(settings)  # the tables and file the demo resources name (docs/dataplane)
    return result


def print_keys(keys_by_name: dict[str, str | None]) -> None:
    click.echo("Demo region 东瓯市 — API keys (log in to the console with any of them):")
    for name, secret in keys_by_name.items():
        click.echo(f"  {name:<24}{secret or '(待人工复核 / awaiting review, no key)'}")
