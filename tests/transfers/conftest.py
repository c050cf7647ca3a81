"""Fixtures of the in-process transfers tests: both parties' apps and a finalized agreement.

``pair`` joins the provider's and the consumer's apps (one database) with relays; the parties
have concluded an agreement on the provider's listed dataset.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.append(str(Path(__file__).resolve().parents[1] / "contracts"))
from contracts_support import Parties, register_parties
from transfers_support import Pair, open_pair

from shuchang.platform import Platform


@pytest.fixture
def parties(platform: Platform) -> Parties:
    return register_parties(platform)


@pytest.fixture
def pair(platform: Platform, tmp_path: Path, parties: Parties) -> Iterator[Pair]:
    with open_pair(platform, tmp_path, parties) as joined:
        yield joined
