"""The asset tests sign with an issuer key in the test's own folder (never the working
directory, which the PostgreSQL runs would otherwise use)."""

from __future__ import annotations

import base64
import dataclasses
from pathlib import Path

import pytest

from shuchang.ports import Ed25519Signer
from shuchang.settings import Settings


@pytest.fixture
def settings(settings: Settings, tmp_path: Path) -> Settings:
    key = tmp_path / "issuer.key"
    key.write_text(base64.b64encode(Ed25519Signer().seed()).decode() + "\n")
    return dataclasses.replace(settings, issuer_key_file=str(key), asset_region="330300")
