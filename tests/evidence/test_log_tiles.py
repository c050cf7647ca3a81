"""C2SP tlog-tiles serving: anyone can mirror the log and recompute its root.

What a monitor relies on: /tlog/checkpoint is always the fresh signed head, tiles hold exactly
the stored hashes and entry bundles exactly the leaves, nothing past the checkpoint is served,
and the checkpoint plus tiles are enough to recompute the signed root by itself.
"""

from __future__ import annotations

from evidence_support import assert_problem, grow, leaves, node_hashes, record_many, sequence_all
from litestar.testing import TestClient

from shuchang.domains.evidence.tlog.checkpoint import Checkpoint, open_checkpoint
from shuchang.domains.evidence.tlog.merkle import leaf_hash, root_from_leaf_hashes
from shuchang.domains.evidence.tlog.note import parse_verifier_key
from shuchang.domains.evidence.tlog.tiles import (
    TILE_WIDTH,
    decode_entry_bundle,
    decode_tile,
    entries_path,
    tile_path,
)
from shuchang.platform import Platform

Client = TestClient  # type: ignore[type-arg]
OCTETS = "application/octet-stream"


def fetch(client: Client, path: str) -> bytes:
    response = client.get(f"/tlog/{path}")
    assert response.status_code == 200, (path, response.text)
    assert response.headers["content-type"] == OCTETS
    assert "immutable" in response.headers["cache-control"]
    return response.content


def signed_head(client: Client) -> Checkpoint:
    """What a monitor does first: fetch the key and the checkpoint, and verify it."""
    verifier = parse_verifier_key(client.get("/tlog/vkey").text.strip())
    response = client.get("/tlog/checkpoint")
    assert response.status_code == 200
    checkpoint, _ = open_checkpoint(response.content, [verifier], verifier.name)
    return checkpoint


def level0_hashes(client: Client, size: int) -> list[bytes]:
    """Every leaf hash of a tree of ``size``, read from level-0 tiles (full ones, then partial)."""
    hashes: list[bytes] = []
    for index in range(size // TILE_WIDTH):
        hashes += decode_tile(fetch(client, tile_path(0, index)))
    if width := size % TILE_WIDTH:
        hashes += decode_tile(fetch(client, tile_path(0, size // TILE_WIDTH, width)), width)
    return hashes


def test_checkpoint_endpoint_serves_the_latest_signed_head_uncached(
    platform: Platform, client: Client
) -> None:
    assert_problem(client.get("/tlog/checkpoint"), 404, "evidence.no_checkpoint")
    published = grow(platform, 3)

    response = client.get("/tlog/checkpoint")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert response.headers["cache-control"] == "no-cache"
    assert response.text == published.note

    later = grow(platform, 2)
    assert client.get("/tlog/checkpoint").text == later.note


def test_partial_level0_tile_and_entry_bundle_hold_the_leaves(
    platform: Platform, client: Client
) -> None:
    grow(platform, 37)
    stored = leaves(platform)

    tile = decode_tile(fetch(client, "tile/0/000.p/37"), 37)
    assert tile == [leaf_hash(data) for _, _, data in stored]
    bundle = decode_entry_bundle(fetch(client, "tile/entries/000.p/37"), 37)
    assert bundle == [data for _, _, data in stored]
    # A narrower partial tile of the same index is a prefix (tiles never change, only grow).
    assert decode_tile(fetch(client, "tile/0/000.p/5"), 5) == tile[:5]


def test_full_tiles_and_the_level1_tile_after_256_leaves(
    platform: Platform, client: Client
) -> None:
    grow(platform, 300)
    stored = leaves(platform)
    hashes = [leaf_hash(data) for _, _, data in stored]

    assert (
        decode_tile(fetch(client, "tile/0/000")) == hashes[:256] == node_hashes(platform, 0)[:256]
    )
    assert decode_tile(fetch(client, "tile/0/001.p/44"), 44) == hashes[256:]
    level1 = decode_tile(fetch(client, "tile/1/000.p/1"), 1)
    assert level1 == node_hashes(platform, 8) == [root_from_leaf_hashes(hashes[:256])]
    assert decode_entry_bundle(fetch(client, "tile/entries/000")) == [d for _, _, d in stored[:256]]
    assert decode_entry_bundle(fetch(client, "tile/entries/001.p/44"), 44) == [
        d for _, _, d in stored[256:]
    ]


def test_a_client_recomputes_the_signed_root_from_checkpoint_and_tiles_alone(
    platform: Platform, client: Client
) -> None:
    for size in (1, 37, 256, 300, 513):
        grow(platform, size - len(leaves(platform)))
        head = signed_head(client)
        assert head.size == size

        hashes = level0_hashes(client, head.size)
        assert root_from_leaf_hashes(hashes) == head.root_hash, size
        width = min(size, TILE_WIDTH)
        entries = decode_entry_bundle(fetch(client, entries_path(0, width)), width)
        assert [leaf_hash(e) for e in entries] == hashes[:TILE_WIDTH]

        if size >= TILE_WIDTH:
            # The cheaper way: a level-1 tile stands in for each full 256-leaf subtree.
            full = size // TILE_WIDTH
            subtrees = decode_tile(fetch(client, tile_path(1, 0, full)), full)
            rest = hashes[full * TILE_WIDTH :]
            # Pairing level by level from level 8 on, the remainder's own root standing in
            # for its leaves, is the same tree (root_from_leaf_hashes only pairs, never
            # hashes leaves).
            level8 = [*subtrees, root_from_leaf_hashes(rest)] if rest else subtrees
            assert root_from_leaf_hashes(level8) == head.root_hash, size


PAST_THE_CHECKPOINT = [
    "tile/0/000.p/43",  # wider than the checkpoint's 42 leaves
    "tile/0/000",  # the full tile does not exist yet
    "tile/0/001.p/1",  # the next tile does not exist yet
    "tile/1/000.p/1",  # no 256-leaf subtree yet
    "tile/entries/000.p/43",
    "tile/entries/000",
]
MALFORMED = [
    "tile/0/0.p/5",
    "tile/0/000.p/0",
    "tile/0/000.p/256",
    "tile/0/000.p/05",
    "tile/0/x000/001",
    "tile/x/000",
    "tile/64/000",
    "tile/entries/000.p/",
    "tile/0/000.q/5",
]


def test_tiles_past_the_checkpoint_and_malformed_paths_are_404_problems(
    platform: Platform, client: Client
) -> None:
    grow(platform, 42)
    record_many(platform, 5)
    sequence_all(platform)  # sequenced past the checkpoint: still not served
    for path in PAST_THE_CHECKPOINT + MALFORMED:
        assert_problem(client.get(f"/tlog/{path}"), 404, "evidence.tile_not_found")
    assert fetch(client, "tile/0/000.p/42")  # the checkpoint's own partial tile is there
