"""`shuchang participants …` and `shuchang verify-id`: onboarding from the command line.

Commands act as the platform itself (``system``): whoever can run them can reach the
database, so they are the operator's tools. Output is JSON; errors are problem JSON on stderr.
"""

from __future__ import annotations

import base64
import json
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO

import click

from shuchang.clikit import decode, emit, problems_exit, unit
from shuchang.domains.participants import access, credentials, keys, service
from shuchang.domains.participants.api import identifier_result
from shuchang.domains.participants.schemas import (
    SYSTEM,
    AddConnector,
    AddIssuer,
    RegisterParticipant,
    RevokeCredential,
    StatusChange,
)
from shuchang.ports import Ed25519Signer


@click.command("verify-id")
@click.argument("codes", nargs=-1, required=True)
def verify_id(codes: tuple[str, ...]) -> None:
    """Check USCC / resident-ID codes; one JSON line each; exit 0 only if all are valid.

    Use it on a list before bulk onboarding: `xargs shuchang verify-id < codes.txt`.
    """
    all_valid = True
    for code in codes:
        result = identifier_result(code)
        all_valid = all_valid and result.valid
        line = {
            "code": result.code,
            "kind": result.kind,
            "valid": result.valid,
            "reason": result.reason,
        }
        click.echo(json.dumps(line, ensure_ascii=False))
    sys.exit(0 if all_valid else 1)


@click.group()
def participants() -> None:
    """Onboarding (接入认证): register, list, decide, keys, trusted issuers."""


@participants.command()
@click.argument("request_file", type=click.File("rb"))
@problems_exit
def register(request_file: IO[bytes]) -> None:
    """Register from a JSON request (same shape as POST /api/v1/participants; - for stdin)."""
    data = decode(request_file.read(), RegisterParticipant, "request")
    with unit() as (platform, s):
        emit(service.register(s, SYSTEM, data, platform.rules))


@participants.command("list")
@click.option("--q", help="Name or identifier contains.")
@click.option("--status")
@click.option("--kind")
@click.option("--limit", type=click.IntRange(1, 200), default=50)
@problems_exit
def list_(q: str | None, status: str | None, kind: str | None, limit: int) -> None:
    """List participants, newest first."""
    with unit(write=False) as (_, s):
        emit(service.search(s, SYSTEM, q=q, status=status, kind=kind, limit=limit).items)


@participants.command()
@click.argument("participant_id", type=click.UUID)
@problems_exit
def show(participant_id: uuid.UUID) -> None:
    """A participant with its verification history."""
    with unit(write=False) as (_, s):
        emit(service.detail(s, SYSTEM, participant_id))


def _status_command(action: str, help_text: str) -> None:
    @participants.command(action, help=help_text)
    @click.argument("participant_id", type=click.UUID)
    @click.option("--reason", help="Why (kept in the evidence log).")
    @problems_exit
    def command(participant_id: uuid.UUID, reason: str | None) -> None:
        change = StatusChange(action=action, reason=reason)  # type: ignore[arg-type]
        with unit() as (_, s):
            emit(service.change_status(s, SYSTEM, participant_id, change))


for _action, _help in (
    ("approve", "Approve a pending or verified participant (→ active)."),
    ("reject", "Reject a pending or verified participant."),
    ("suspend", "Suspend an active participant."),
    ("reinstate", "Reinstate a suspended participant."),
    ("revoke", "Revoke a participant for good."),
):
    _status_command(_action, _help)


@participants.command("api-key")
@click.argument("participant_id", type=click.UUID)
@click.option("--role", required=True, type=click.Choice(list(access.ROLE_NAMES_ZH)))
@click.option("--label")
@problems_exit
def api_key(participant_id: uuid.UUID, role: str, label: str | None) -> None:
    """Issue an API key (printed once) for one of the participant's roles."""
    with unit() as (_, s):
        emit(access.issue_key(s, SYSTEM, service.load(s, participant_id), role, label))


@participants.command("add-connector")
@click.argument("participant_id", type=click.UUID)
@click.option("--url", required=True)
@click.option("--public-key", required=True, help="Base64 Ed25519 public key of the connector.")
@click.option("--label")
@problems_exit
def add_connector(participant_id: uuid.UUID, url: str, public_key: str, label: str | None) -> None:
    """Register a connector endpoint for a participant."""
    data = decode(
        json.dumps({"url": url, "public_key": public_key, "label": label}),
        AddConnector,
        "connector",
    )
    with unit() as (_, s):
        emit(keys.add_connector(s, SYSTEM, participant_id, data))


@participants.group()
def issuers() -> None:
    """Trusted credential issuers (可信签发方)."""


@issuers.command("list")
@problems_exit
def issuers_list() -> None:
    with unit(write=False) as (_, s):
        emit(keys.list_issuers(s))


@issuers.command("add")
@click.option("--id", "issuer_id", required=True, help="Short id credentials name as 'issuer'.")
@click.option("--name", required=True)
@click.option("--public-key", required=True, help="Base64 raw public key.")
@click.option("--algorithm", type=click.Choice(["ed25519", "sm2"]), default="ed25519")
@problems_exit
def issuers_add(issuer_id: str, name: str, public_key: str, algorithm: str) -> None:
    """Trust an issuer."""
    raw = {"id": issuer_id, "name": name, "public_key": public_key, "algorithm": algorithm}
    with unit() as (_, s):
        emit(keys.add_issuer(s, SYSTEM, decode(json.dumps(raw), AddIssuer, "issuer")))


@issuers.command("revoke")
@click.argument("issuer_id")
@problems_exit
def issuers_revoke(issuer_id: str) -> None:
    """Stop trusting an issuer."""
    with unit() as (_, s):
        emit(keys.revoke_issuer(s, SYSTEM, issuer_id))


@issuers.command("revoke-credential")
@click.argument("issuer_id")
@click.argument("credential_id")
@click.option("--reason")
@problems_exit
def issuers_revoke_credential(issuer_id: str, credential_id: str, reason: str | None) -> None:
    """Record that an issuer withdrew one credential."""
    with unit() as (_, s):
        keys.revoke_credential(s, SYSTEM, issuer_id, RevokeCredential(credential_id, reason))
    click.echo(f"revoked {credential_id}")


@issuers.command("keygen")
@click.argument("key_file", type=click.Path(dir_okay=False, writable=True, path_type=Path))
def issuers_keygen(key_file: Path) -> None:
    """Create an Ed25519 issuer key (base64 seed in KEY_FILE, mode 600); print the public key."""
    signer = Ed25519Signer()
    key_file.write_text(base64.b64encode(signer.seed()).decode() + "\n")
    key_file.chmod(0o600)
    click.echo(base64.b64encode(signer.public_key()).decode())


@issuers.command("issue")
@click.option(
    "--key", "key_file", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option("--issuer", "issuer_id", required=True)
@click.option("--identifier", required=True)
@click.option("--name", required=True)
@click.option("--days", type=click.IntRange(1, 3650), default=365, help="Validity from now.")
def issuers_issue(key_file: Path, issuer_id: str, identifier: str, name: str, days: int) -> None:
    """Sign a credential binding IDENTIFIER and NAME (what an issuer's own system would do)."""
    try:
        signer = Ed25519Signer.from_seed(
            base64.b64decode(key_file.read_text().strip(), validate=True)
        )
    except ValueError as exc:
        raise click.UsageError(f"{key_file} is not an issuer key made by `issuers keygen`") from exc
    now = datetime.now(UTC).replace(microsecond=0)
    credential = credentials.issue(
        signer,
        issuer_id=issuer_id,
        credential_id=f"urn:uuid:{uuid.uuid4()}",
        identifier=identifier,
        name=name,
        valid_from=now - timedelta(minutes=5),
        valid_until=now + timedelta(days=days),
    )
    click.echo(json.dumps(credential, ensure_ascii=False, indent=2))
