"""Checkpoint bodies, tlog-proof receipts and tlog-tiles layout."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shuchang.domains.evidence.tlog.checkpoint import (
    Checkpoint,
    CheckpointError,
    open_checkpoint,
    parse_checkpoint,
)
from shuchang.domains.evidence.tlog.merkle import MemoryTree, ProofError, leaf_hash
from shuchang.domains.evidence.tlog.note import (
    generate_key,
    parse_signer_key,
    parse_verifier_key,
    sign,
)
from shuchang.domains.evidence.tlog.proof import ReceiptError, TlogProof, verify_tlog_proof
from shuchang.domains.evidence.tlog.tiles import (
    TileError,
    TileID,
    decode_entry_bundle,
    decode_tile,
    encode_entry_bundle,
    encode_tile,
    encode_tile_index,
    entries_path,
    parse_tile_path,
    partial_tile_width,
    tile_hashes,
    tile_node_ids,
    tile_path,
    tile_width,
)

ROOT = bytes(range(32))
ROOT64 = base64.b64encode(ROOT).decode()

# --------------------------------------------------------------------------
# Checkpoints
# --------------------------------------------------------------------------


def test_checkpoint_round_trip() -> None:
    cp = Checkpoint("example.com/log", 20852163, ROOT, ("ext one", "ext two"))
    text = cp.to_text()
    assert text == f"example.com/log\n20852163\n{ROOT64}\next one\next two\n"
    assert parse_checkpoint(text) == cp
    assert parse_checkpoint(f"o\n0\n{ROOT64}\n") == Checkpoint("o", 0, ROOT)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (f"o\n1\n{ROOT64}", "end with a newline"),
        ("o\n1\n", "needs an origin"),
        (f"\n1\n{ROOT64}\n", "origin must not be empty"),
        (f"o\n01\n{ROOT64}\n", "leading zeroes"),
        (f"o\n+1\n{ROOT64}\n", "leading zeroes"),
        (f"o\n\n{ROOT64}\n", "leading zeroes"),
        (f"o\n١\n{ROOT64}\n", "leading zeroes"),  # non-ASCII digit
        (f"o\n{2**64}\n{ROOT64}\n", "64 bits"),
        ("o\n1\nAAAA\n", "3 bytes, not 32"),
        ("o\n1\n!!\n", "not valid base64"),
        (f"o\n1\n{ROOT64[:-2]}9=\n", "not canonical"),
        (f"o\n1\n{ROOT64}\n\n", "extension line must not be empty"),
        (f"o\n1\n{ROOT64}\next\n\nmore\n", "extension line must not be empty"),
        (f"o\to\n1\n{ROOT64}\n", "control character"),
    ],
)
def test_malformed_checkpoints_are_rejected(text: str, reason: str) -> None:
    with pytest.raises(CheckpointError, match=reason):
        parse_checkpoint(text)


def test_checkpoint_constructor_validates() -> None:
    with pytest.raises(CheckpointError, match="control character"):
        Checkpoint("a\nb", 1, ROOT)
    with pytest.raises(CheckpointError, match="outside"):
        Checkpoint("o", -1, ROOT)
    with pytest.raises(CheckpointError, match="32"):
        Checkpoint("o", 1, b"")


def test_open_checkpoint_checks_origin() -> None:
    skey, vkey = generate_key("example.com/log")
    message = sign(Checkpoint("example.com/log", 5, ROOT).to_text(), parse_signer_key(skey))
    verifier = parse_verifier_key(vkey)
    checkpoint, note = open_checkpoint(message, [verifier], "example.com/log")
    assert checkpoint.size == 5
    assert note.verified[0].name == "example.com/log"
    with pytest.raises(CheckpointError, match=r"expected 'example\.com/other'"):
        open_checkpoint(message, [verifier], "example.com/other")


# --------------------------------------------------------------------------
# tlog-proof receipts
# --------------------------------------------------------------------------

# The example from c2sp.org/tlog-proof (signatures elided there, so parse only).
C2SP_EXAMPLE = """c2sp.org/tlog-proof@v1
extra YWdlLXYxLjIuMS1kYXJ3aW4tYXJtNjQudGFyLmd6kYXJ3aW4tYXJ
index 73894
gSKyXoYZUgZ6jduWYrkDOARinOMGJveXjgMkBTcdPlQ=
B95lDa8R83lS8n0eG+o0buTxRKQTYFi//1U8anccXmA=
EKNzoDWG8LGC0Yp9o+sv3qllpMP9uHQ9B20KNL+Q1zs=
RoopEkOdqkYqMB4MJXrbt/hMjOxsVn0IrWjpz1ZMMes=
AHCioX9nLjsrse6YhjRRmk1WUEirVOLLRoOQ6vfO5vk=

example.com/fancylog
109482
sFodV/vSp5O8n9a8QpW6PRY97tfOSW5bsc2Xl/EQi08=

\u2014 example.com/fancylog hI2DJw[...]1roloI=
""".encode()


def test_parses_the_spec_example() -> None:
    receipt = TlogProof.from_bytes(C2SP_EXAMPLE)
    assert receipt.index == 73894
    assert len(receipt.hashes) == 5
    assert receipt.extra is not None
    assert receipt.extra.startswith(b"age-v1.2.1-darwin-arm64.tar.gz")
    assert receipt.checkpoint.startswith(b"example.com/fancylog\n109482\n")
    assert receipt.to_bytes() == C2SP_EXAMPLE


@pytest.mark.parametrize("extra", [None, b"", b"\x00context"])
def test_receipt_round_trip(extra: bytes | None) -> None:
    receipt = TlogProof(7, (ROOT, bytes(32)), b"checkpoint\n", extra)
    assert TlogProof.from_bytes(receipt.to_bytes()) == receipt
    no_hashes = TlogProof(0, (), b"cp\n", extra)
    assert TlogProof.from_bytes(no_hashes.to_bytes()) == no_hashes


H = "c2sp.org/tlog-proof@v1"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("wrong-header\nindex 0\n\ncheckpoint\n", "does not start with"),
        (f"{H}\nindex 0\ncheckpoint\n", "no empty line"),
        (f"{H}\n\n\ncheckpoint\n", "missing its 'index' line"),
        (f"{H}\nextra AAAA\n\ncheckpoint\n", "missing its 'index' line"),
        (f"{H}\nextra !!notbase64!!\nindex 0\n\ncheckpoint\n", "extra data is not valid base64"),
        (f"{H}\nindex notanumber\n\ncheckpoint\n", "receipt index"),
        (f"{H}\nindex -5\n\ncheckpoint\n", "receipt index"),
        (f"{H}\nindex 05\n\ncheckpoint\n", "leading zeroes"),
        (f"{H}\nindex {2**64}\n\ncheckpoint\n", "64 bits"),
        (f"{H}\nindex 0\n!!notbase64!!\n\ncheckpoint\n", "hash is not valid base64"),
        (f"{H}\nindex 0\n{base64.b64encode(bytes(64)).decode()}\n\ncp\n", "32 bytes"),
        (f"{H}\nindex 0\n{ROOT64}\r\n\ncp\n", "not valid base64"),
        (f"{H}\nindex 0\n" + f"{ROOT64}\n" * 65 + "\ncp\n", "more than 64"),
        (f"{H}\nindex 0\n\n", "no checkpoint"),
        (f"{H}\nindex 0\n\u00e9\n\ncp\n", "not ASCII"),
    ],
)
def test_malformed_receipts_are_rejected(text: str, reason: str) -> None:
    with pytest.raises(ReceiptError, match=reason):
        TlogProof.from_bytes(text.encode())


def test_verify_tlog_proof() -> None:
    skey, vkey = generate_key("example.com/log")
    tree = MemoryTree()
    for i in range(11):
        tree.append(b"entry %d" % i)
    signed = sign(Checkpoint("example.com/log", 11, tree.root()).to_text(), parse_signer_key(skey))
    verifiers = [parse_verifier_key(vkey)]
    receipt = TlogProof(6, tuple(tree.inclusion_proof(6)), signed).to_bytes()
    checkpoint = verify_tlog_proof(receipt, leaf_hash(b"entry 6"), verifiers, "example.com/log")
    assert checkpoint.size == 11
    with pytest.raises(ProofError):
        verify_tlog_proof(receipt, leaf_hash(b"entry 7"), verifiers)


# --------------------------------------------------------------------------
# tlog-tiles
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("index", "encoded"),
    [(0, "000"), (7, "007"), (999, "999"), (1000, "x001/000"), (1234067, "x001/x234/067")],
)
def test_tile_index_encoding(index: int, encoded: str) -> None:
    assert encode_tile_index(index) == encoded


def test_tile_paths() -> None:
    assert tile_path(0, 1234067) == "tile/0/x001/x234/067"
    assert tile_path(1, 3, 17) == "tile/1/003.p/17"
    assert entries_path(5) == "tile/entries/005"
    assert entries_path(1000, 1) == "tile/entries/x001/000.p/1"
    assert TileID(None, 5, 3).path() == "tile/entries/005.p/3"
    assert TileID(2, 5).path() == "tile/2/005"
    with pytest.raises(TileError):
        tile_path(64, 0)
    with pytest.raises(TileError):
        tile_path(0, 0, 0)
    with pytest.raises(TileError):
        tile_path(0, -1)


@given(
    st.one_of(st.none(), st.integers(0, 63)),
    st.integers(0, 10**12),
    st.integers(1, 256),
)
def test_tile_paths_round_trip(level: int | None, index: int, width: int) -> None:
    tile = TileID(level, index, width)
    assert parse_tile_path(tile.path()) == tile
    assert tile.is_partial == (width < 256)


@pytest.mark.parametrize(
    "path",
    [
        "tile/0/1",  # not zero-padded
        "tile/0/x000/001",  # leading zero group
        "tile/0/001/002",  # missing x prefix
        "tile/00/001",
        "tile/64/001",
        "tile/0/001.p/0",
        "tile/0/001.p/256",
        "tile/0/001.p/07",
        "tile/entries/001.p/",
        "/tile/0/001",
        "tile/0/001/",
    ],
)
def test_bad_tile_paths_are_rejected(path: str) -> None:
    with pytest.raises(TileError):
        parse_tile_path(path)


def test_tile_widths_follow_the_spec_example() -> None:
    # "a tree of size 70,000 will be represented by 273 full level 0 tiles, one
    # partial level 0 tile of width 112, one full level 1 tile, one partial
    # level 1 tile of width 17, and one partial level 2 tile of width 1."
    size = 70_000
    assert [partial_tile_width(size, level) for level in range(4)] == [112, 17, 1, 0]
    assert tile_width(size, 0, 272) == 256
    assert tile_width(size, 0, 273) == 112
    assert tile_width(size, 0, 274) == 0
    assert tile_width(size, 1, 0) == 256
    assert tile_width(size, 1, 1) == 17
    assert tile_width(size, 2, 0) == 1
    assert partial_tile_width(256, 0) == 0
    assert partial_tile_width(256, 1) == 1


def test_tile_contents_come_from_the_store() -> None:
    tree = MemoryTree(leaf_hash(i.to_bytes(4, "big")) for i in range(256 * 3 + 5))
    assert tile_node_ids(1, 0, 3) == [(8, 0), (8, 1), (8, 2)]
    level1 = tile_hashes(tree, 1, 0, 3)
    # Each level-1 hash is the root of a full level-0 tile.
    assert level1 == [tree.root(256)] + [tree.node(8, i) for i in (1, 2)]
    partial = tile_hashes(tree, 0, 3, 5)
    assert partial == [tree.leaf_hash(768 + i) for i in range(5)]
    body = encode_tile(partial)
    assert len(body) == 5 * 32
    assert decode_tile(body, 5) == partial
    with pytest.raises(TileError):
        decode_tile(body, 4)
    with pytest.raises(TileError):
        encode_tile([b"short"])
    with pytest.raises(LookupError):
        tile_hashes(tree, 0, 3, 6)  # the store refuses nodes that do not exist yet


def test_entry_bundles() -> None:
    entries = [b"", b"a", bytes(300), bytes(65535)]
    body = encode_entry_bundle(entries)
    assert body[:5] == b"\x00\x00\x00\x01a"
    assert decode_entry_bundle(body) == entries
    assert decode_entry_bundle(body, 4) == entries
    with pytest.raises(TileError, match="expected 3"):
        decode_entry_bundle(body, 3)
    with pytest.raises(TileError, match="inside a length prefix"):
        decode_entry_bundle(b"\x00\x01a\x00")
    with pytest.raises(TileError, match="inside an entry"):
        decode_entry_bundle(b"\x00\x05abc")
    with pytest.raises(TileError, match="65535"):
        encode_entry_bundle([bytes(65536)])
    with pytest.raises(TileError, match="more than 256"):
        decode_entry_bundle(b"\x00\x00" * 257)
