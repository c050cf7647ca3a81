"""Spent nonces are kept while a replay could still pass the age check, and dropped after."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from shuchang.db import utcnow
from shuchang.domains.contracts import httpsig, peers
from shuchang.domains.contracts.models import SeenNonce
from shuchang.platform import Platform


def test_only_nonces_older_than_twice_the_allowed_skew_are_pruned(platform: Platform) -> None:
    now = utcnow()
    window = timedelta(seconds=2 * httpsig.MAX_SKEW)
    ages = {"fresh": timedelta(0), "edge": window - timedelta(seconds=1), "old": window * 2}
    with platform.unit() as s:
        s.add_all(SeenNonce(keyid="k", nonce=name, seen_at=now - age) for name, age in ages.items())

    with platform.unit() as s:
        pruned = peers.prune_nonces(s, now)
    with platform.unit(write=False) as s:
        kept = set(s.scalars(select(SeenNonce.nonce)))

    assert pruned == 1
    assert kept == {"fresh", "edge"}
