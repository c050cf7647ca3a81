"""C2SP tlog-tiles layout (https://c2sp.org/tlog-tiles): paths, tile contents, entry bundles.

Hand-written: no Python package implements tlog-tiles. Conventions (all from
the spec):

* Tiles are 256 hashes wide (height 8). Tile ``n`` at tile level ``l`` holds the
  Merkle nodes ``(8 * l, n * 256 + i)`` for ``i`` in ``0..width-1``: level 0
  tiles hold leaf hashes, level 1 tiles hold roots of 256-leaf subtrees, etc.
* A tile body is its hashes concatenated (32 bytes each, no framing).
* Paths are ``tile/<L>/<N>[.p/<W>]`` and ``tile/entries/<N>[.p/<W>]``, where
  ``<N>`` is written in 3-digit groups, all but the last prefixed ``x``
  (1234067 -> ``x001/x234/067``) and ``.p/<W>`` marks a partial tile of width
  ``W`` (1..255).
* An entry bundle is each entry prefixed with its length as a big-endian uint16.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from .merkle import HASH_SIZE, NodeID, NodeStore

__all__ = [
    "TILE_HEIGHT",
    "TILE_WIDTH",
    "TileError",
    "TileID",
    "decode_entry_bundle",
    "decode_tile",
    "encode_entry_bundle",
    "encode_tile",
    "encode_tile_index",
    "entries_path",
    "parse_tile_path",
    "partial_tile_width",
    "tile_hashes",
    "tile_node_ids",
    "tile_path",
    "tile_width",
]

TILE_HEIGHT = 8
TILE_WIDTH = 1 << TILE_HEIGHT
MAX_TILE_LEVEL = 63
MAX_ENTRY_SIZE = 0xFFFF

_GROUPS = re.compile(r"(?:x[0-9]{3}/)*[0-9]{3}")
_PATH = re.compile(
    r"tile/(?:(?P<level>0|[1-9][0-9]?)|(?P<entries>entries))/"
    r"(?P<index>(?:x[0-9]{3}/)*[0-9]{3})(?:\.p/(?P<width>[1-9][0-9]{0,2}))?"
)


class TileError(ValueError):
    """A tile path, tile body or entry bundle is malformed."""


@dataclass(frozen=True, slots=True)
class TileID:
    """A tile (``level`` >= 0) or entry bundle (``level`` is None) and its width."""

    level: int | None
    index: int
    width: int = TILE_WIDTH

    @property
    def is_partial(self) -> bool:
        return self.width < TILE_WIDTH

    def path(self) -> str:
        if self.level is None:
            return entries_path(self.index, self.width)
        return tile_path(self.level, self.index, self.width)


def _check_width(width: int) -> None:
    if not 1 <= width <= TILE_WIDTH:
        raise TileError(f"tile width {width} is outside 1..{TILE_WIDTH}")


def encode_tile_index(index: int) -> str:
    """``1234067`` -> ``x001/x234/067``."""
    if index < 0:
        raise TileError(f"negative tile index {index}")
    digits = f"{index:d}"
    digits = "0" * (-len(digits) % 3) + digits
    groups = [digits[i : i + 3] for i in range(0, len(digits), 3)]
    return "/".join([*("x" + g for g in groups[:-1]), groups[-1]])


def _decode_tile_index(text: str) -> int:
    if not _GROUPS.fullmatch(text):
        raise TileError(f"malformed tile index {text!r}")
    groups = text.split("/")
    # The encoding is unique only without leading all-zero groups.
    if len(groups) > 1 and groups[0] == "x000":
        raise TileError(f"tile index {text!r} has a leading zero group")
    return int("".join(g.removeprefix("x") for g in groups))


def _suffix(width: int) -> str:
    _check_width(width)
    return "" if width == TILE_WIDTH else f".p/{width}"


def tile_path(level: int, index: int, width: int = TILE_WIDTH) -> str:
    """``tile/<L>/<N>[.p/<W>]``."""
    if not 0 <= level <= MAX_TILE_LEVEL:
        raise TileError(f"tile level {level} is outside 0..{MAX_TILE_LEVEL}")
    return f"tile/{level}/{encode_tile_index(index)}{_suffix(width)}"


def entries_path(index: int, width: int = TILE_WIDTH) -> str:
    """``tile/entries/<N>[.p/<W>]``."""
    return f"tile/entries/{encode_tile_index(index)}{_suffix(width)}"


def parse_tile_path(path: str) -> TileID:
    """Inverse of :func:`tile_path` / :func:`entries_path`; rejects non-canonical spellings."""
    match = _PATH.fullmatch(path)
    if match is None:
        raise TileError(f"not a tile path: {path!r}")
    level = None if match["entries"] else int(match["level"])
    if level is not None and level > MAX_TILE_LEVEL:
        raise TileError(f"tile level {level} is outside 0..{MAX_TILE_LEVEL}")
    width = TILE_WIDTH
    if match["width"] is not None:
        width = int(match["width"])
        if width >= TILE_WIDTH:
            raise TileError(f"partial tile width {width} must be below {TILE_WIDTH}")
    return TileID(level, _decode_tile_index(match["index"]), width)


def partial_tile_width(tree_size: int, level: int) -> int:
    """Width of the rightmost (partial) tile at ``level``; 0 if there is none."""
    return (tree_size >> (TILE_HEIGHT * level)) % TILE_WIDTH


def tile_width(tree_size: int, level: int, index: int) -> int:
    """Width of tile ``index`` at ``level`` in a tree of ``tree_size``; 0 if it does not exist."""
    hashes_at_level = tree_size >> (TILE_HEIGHT * level)
    return max(0, min(TILE_WIDTH, hashes_at_level - index * TILE_WIDTH))


def tile_node_ids(level: int, index: int, width: int = TILE_WIDTH) -> list[NodeID]:
    """The Merkle nodes a tile holds, in order."""
    _check_width(width)
    merkle_level, first = TILE_HEIGHT * level, index * TILE_WIDTH
    return [(merkle_level, first + i) for i in range(width)]


def tile_hashes(store: NodeStore, level: int, index: int, width: int = TILE_WIDTH) -> list[bytes]:
    """The hashes of a tile, read from a node store (see :func:`encode_tile` for the body)."""
    return list(store.get_nodes(tile_node_ids(level, index, width)))


def encode_tile(hashes: Sequence[bytes]) -> bytes:
    """Tile body: the hashes concatenated."""
    _check_width(len(hashes))
    if any(len(h) != HASH_SIZE for h in hashes):
        raise TileError("tile hashes must be 32 bytes")
    return b"".join(hashes)


def decode_tile(body: bytes, width: int = TILE_WIDTH) -> list[bytes]:
    """Split a tile body of the expected ``width`` into hashes."""
    _check_width(width)
    if len(body) != width * HASH_SIZE:
        raise TileError(f"tile body is {len(body)} bytes, expected {width * HASH_SIZE}")
    return [body[i : i + HASH_SIZE] for i in range(0, len(body), HASH_SIZE)]


def encode_entry_bundle(entries: Sequence[bytes]) -> bytes:
    """Entry bundle body: each entry prefixed with its big-endian uint16 length."""
    _check_width(len(entries))
    parts: list[bytes] = []
    for entry in entries:
        if len(entry) > MAX_ENTRY_SIZE:
            raise TileError(f"entry of {len(entry)} bytes exceeds the {MAX_ENTRY_SIZE}-byte limit")
        parts += (len(entry).to_bytes(2, "big"), entry)
    return b"".join(parts)


def decode_entry_bundle(body: bytes, width: int | None = None) -> list[bytes]:
    """Split an entry bundle; if ``width`` is given the bundle must hold exactly that many."""
    entries: list[bytes] = []
    pos = 0
    while pos < len(body):
        if pos + 2 > len(body):
            raise TileError("entry bundle ends inside a length prefix")
        size = int.from_bytes(body[pos : pos + 2], "big")
        pos += 2
        if pos + size > len(body):
            raise TileError("entry bundle ends inside an entry")
        entries.append(body[pos : pos + size])
        pos += size
        if len(entries) > TILE_WIDTH:
            raise TileError(f"entry bundle holds more than {TILE_WIDTH} entries")
    if width is not None and len(entries) != width:
        raise TileError(f"entry bundle holds {len(entries)} entries, expected {width}")
    return entries
