"""Fixtures of the in-process contracts tests: the two parties and each one's side.

``provider_side`` is the app whose connector speaks for the provider (auto approval;
``manual_side``: manual approval);
``consumer_side`` the app whose connector speaks for the consumer, on the same database (the
provider there answers the request with ``PROVIDER_PID``). Tests that need other settings
call :func:`contracts_support.open_side` themselves.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from contracts_support import (
    PROVIDER_PID,
    Parties,
    RecordingTransport,
    Side,
    open_side,
    register_parties,
)

from shuchang.platform import Platform


@pytest.fixture
def parties(platform: Platform) -> Parties:
    return register_parties(platform)


@pytest.fixture
def provider_side(platform: Platform, tmp_path: Path, parties: Parties) -> Iterator[Side]:
    with open_side(platform, tmp_path, parties) as side:
        yield side


@pytest.fixture
def consumer_side(platform: Platform, tmp_path: Path, parties: Parties) -> Iterator[Side]:
    answer = RecordingTransport(answer={"providerPid": PROVIDER_PID})
    with open_side(platform, tmp_path, parties, role="consumer", transport=answer) as side:
        yield side


@pytest.fixture
def manual_side(platform: Platform, tmp_path: Path, parties: Parties) -> Iterator[Side]:
    """The provider's side in manual approval mode (人工审批)."""
    with open_side(platform, tmp_path, parties, negotiation_approval="manual") as side:
        yield side
