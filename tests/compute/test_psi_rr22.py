"""The optional RR22 backend (SecretFlow spu): skipped when spu is not installed.

The backend against plain set intersection over a loopback link, and whole sessions between
the two in-process connectors: intersection (the consumer receives) and filter (the provider
receives and keeps the filter); size-only sessions are refused (RR22 reveals members)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from contracts_support import Parties
from psi_support import Pair, open_pair, psi_parties, sessions, start, uscc

from shuchang.domains.compute import psi_rr22
from shuchang.platform import Platform

pytestmark = pytest.mark.skipif(
    not psi_rr22.available(), reason="spu (shuchang[spu]) is not installed"
)
APPLICANTS = [uscc(n) for n in range(260, 300)] + [uscc(n) for n in range(1000, 1020)]


def test_rr22_matches_plain_set_intersection() -> None:
    a = [uscc(n) for n in range(0, 500, 2)]
    b = [uscc(n) for n in range(0, 500, 3)]
    addresses = (psi_rr22.free_address("127.0.0.1"), psi_rr22.free_address("127.0.0.1"))
    out: dict[int, psi_rr22.Rr22Result] = {}

    def side(rank: int, items: list[str]) -> None:
        out[rank] = psi_rr22.run(
            rank=rank, items=items, addresses=addresses, receiver_rank=1, timeout_ms=60_000
        )

    threads = [
        threading.Thread(target=side, args=(0, a)),
        threading.Thread(target=side, args=(1, b)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert out[1].members == sorted(set(a) & set(b))
    assert out[0].members is None  # the sender learns nothing


@pytest.fixture
def pair(platform: Platform, tmp_path: Path) -> Iterator[Pair]:
    parties: Parties = psi_parties(platform)
    with open_pair(platform, tmp_path, parties, psi_link_host="127.0.0.1") as joined:
        yield joined


def _final(pair: Pair) -> tuple[dict[str, Any], dict[str, Any]]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        mine, theirs = sessions(pair.consumer), sessions(pair.provider)
        if (
            mine
            and theirs
            and {mine[0]["state"], theirs[0]["state"]} <= {"COMPLETED", "TERMINATED"}
        ):
            return mine[0], theirs[0]
        time.sleep(0.2)
    raise AssertionError("the RR22 session did not finish")


@pytest.mark.parametrize("mode", ["intersection", "filter"])
def test_rr22_sessions_between_the_connectors(pair: Pair, mode: str) -> None:
    answer = start(pair, APPLICANTS, mode=mode, protocol="rr22")
    assert answer.status_code == 201, answer.text
    mine, theirs = _final(pair)
    assert mine["state"] == theirs["state"] == "COMPLETED", (mine, theirs)
    assert mine["result_size"] == theirs["result_size"] == 40
    assert mine["members_available"] == (mode == "intersection")
    assert (theirs["filter_name"] is not None) == (mode == "filter")


def test_rr22_refuses_size_only_sessions(pair: Pair) -> None:
    answer = start(pair, APPLICANTS, mode="cardinality", protocol="rr22")
    assert (answer.status_code, answer.json()["code"]) == (422, "psi.protocol_unsupported")
