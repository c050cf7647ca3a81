"""The evidence log's checkpoint signing key (C2SP signed-note, Go note key format)."""

from __future__ import annotations

import os
from pathlib import Path

from shuchang.domains.evidence.tlog.note import Ed25519Signer, generate_key, parse_signer_key
from shuchang.settings import Settings


class LogKeyError(Exception):
    """The configured log key is unreadable or names another log."""


def key_path(settings: Settings) -> Path:
    if settings.log_key_file:
        return Path(settings.log_key_file)
    return settings.beside_database("log.key", "shuchang.log.key")


def load_log_signer(settings: Settings) -> Ed25519Signer:
    """Read the signing key, creating it (mode 600) on first use of the embedded default."""
    path = key_path(settings)
    if not path.exists():
        if settings.log_key_file:
            raise LogKeyError(f"SHUCHANG_LOG_KEY_FILE {path} does not exist")
        skey, _ = generate_key(settings.log_origin)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(skey + "\n")
    try:
        signer = parse_signer_key(path.read_text().strip())
    except ValueError as exc:
        raise LogKeyError(f"{path} is not a note signing key: {exc}") from exc
    if not isinstance(signer, Ed25519Signer):
        raise LogKeyError(f"{path}: checkpoints are signed with Ed25519; SM2 only cosigns")
    if signer.name != settings.log_origin:
        raise LogKeyError(
            f"{path} signs as {signer.name!r} but SHUCHANG_LOG_ORIGIN is {settings.log_origin!r}"
        )
    return signer
