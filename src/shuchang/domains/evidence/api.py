"""HTTP routes of the evidence domain: object histories, entries, receipts, tlog-tiles."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, QueryParameter, RawBody
from sqlalchemy import select

from shuchang.domains.evidence import log, logview
from shuchang.domains.evidence.models import LogLeaf, LogNode
from shuchang.domains.evidence.schemas import (
    ConsistencyOut,
    EvidenceEntry,
    LoggedEntry,
    LogStatus,
)
from shuchang.domains.evidence.service import history
from shuchang.domains.evidence.tlog.tiles import (
    TILE_HEIGHT,
    TILE_WIDTH,
    TileError,
    encode_entry_bundle,
    parse_tile_path,
    tile_width,
)
from shuchang.errors import NotFound
from shuchang.http import actor_of, platform_of, require

Req = Request[Any, Any, Any]
TEXT = "text/plain"
IMMUTABLE = {"cache-control": "public, max-age=31536000, immutable"}
FRESH = {"cache-control": "no-cache"}
OVERSIGHT = ("operator", "regulator")


def _visible_entry(session: Any, request: Req, entry_id: int) -> LoggedEntry:
    """The entry if the caller is its subject or actor, or oversight; else 404 (no hint that
    an entry exists where the caller may not look)."""
    actor = actor_of(session, request)
    found = logview.entry(session, entry_id)
    if actor.ref not in (found.entry.subject, found.entry.actor) and actor.role not in OVERSIGHT:
        raise NotFound("Evidence entry not found", "存证记录不存在", code="evidence.not_found")
    return found


class EvidenceController(Controller):
    path = "/api/v1/evidence"
    tags = ["evidence"]

    @get("/", sync_to_thread=True, summary="An object's evidence history")
    def subject_history(
        self, request: Req, subject: Annotated[str, QueryParameter(min_length=1, max_length=128)]
    ) -> list[EvidenceEntry]:
        """Every recorded change of ``subject`` (e.g. ``participant:<id>``), oldest first.

        Operators and regulators read any subject; a participant reads its own.
        """
        with platform_of(request).unit(write=False) as s:
            actor = actor_of(s, request)
            if subject != actor.ref:
                require(actor, *OVERSIGHT)
            return history(s, subject)

    @get("/entries/{entry_id:int}", sync_to_thread=True, summary="One entry and its leaf")
    def entry(self, request: Req, entry_id: FromPath[int]) -> LoggedEntry:
        with platform_of(request).unit(write=False) as s:
            return _visible_entry(s, request, entry_id)

    @get("/entries/{entry_id:int}/receipt", sync_to_thread=True, media_type=TEXT)
    def receipt(self, request: Req, entry_id: FromPath[int]) -> Response[bytes]:
        """The entry's C2SP tlog-proof@v1 receipt (verify offline with `shuchang tlog verify`)."""
        with platform_of(request).unit(write=False) as s:
            _visible_entry(s, request, entry_id)
            return Response(logview.receipt(s, entry_id), media_type=TEXT)

    @get("/log", sync_to_thread=True, summary="Log size, latest checkpoint, verifier key")
    def status(self, request: Req) -> LogStatus:
        platform = platform_of(request)
        with platform.unit(write=False) as s:
            return logview.status(s, platform.log_signer)

    @get("/consistency", sync_to_thread=True, summary="Consistency proof between two sizes")
    def consistency(
        self,
        request: Req,
        size1: Annotated[int, QueryParameter(ge=1)],
        size2: Annotated[int, QueryParameter(ge=1)],
    ) -> ConsistencyOut:
        with platform_of(request).unit(write=False) as s:
            return logview.consistency(s, size1, size2)

    @post("/checkpoints", sync_to_thread=True, status_code=201, media_type=TEXT)
    def publish(self, request: Req) -> Response[bytes]:
        """Operator: sequence everything queued and publish a signed checkpoint now."""
        platform = platform_of(request)
        with platform.unit() as s:
            require(actor_of(s, request), "operator")
            checkpoint = logview.sequence_and_publish(s, platform.log_signer)
            return Response(checkpoint.note.encode(), media_type=TEXT, status_code=201)

    @post("/checkpoints/{size:int}/cosignatures", sync_to_thread=True, status_code=200)
    def cosign(
        self,
        request: Req,
        size: FromPath[int],
        body: RawBody,
    ) -> dict[str, int]:
        """A witness posts the checkpoint note carrying its cosignature line."""
        platform = platform_of(request)
        with platform.unit() as s:
            witnesses = logview.witnesses(platform.settings.witness_keys)
            return {"added": logview.add_cosignatures(s, size, body, witnesses)}


class TilesController(Controller):
    """C2SP tlog-tiles: public and read-only, so anyone can mirror and verify the log."""

    path = "/tlog"
    tags = ["tlog-tiles"]

    @get("/checkpoint", sync_to_thread=True, media_type=TEXT)
    def checkpoint(self, request: Req) -> Response[bytes]:
        with platform_of(request).unit(write=False) as s:
            note = logview.served_checkpoint(s)
        if note is None:
            raise NotFound(
                "No checkpoint published yet", "尚未发布检查点", code="evidence.no_checkpoint"
            )
        return Response(note, media_type=TEXT, headers=FRESH)

    @get("/vkey", sync_to_thread=True, media_type=TEXT)
    def vkey(self, request: Req) -> str:
        """The verifier key of the log's checkpoints (Go note format)."""
        return platform_of(request).log_signer.verifier().vkey + "\n"

    @get("/tile/{tile_path:path}", sync_to_thread=True, media_type="application/octet-stream")
    def tile(self, request: Req, tile_path: FromPath[str]) -> Response[bytes]:
        try:
            tile = parse_tile_path("tile" + tile_path)
        except TileError as exc:
            raise NotFound(str(exc), "瓦片路径无效", code="evidence.tile_not_found") from exc
        with platform_of(request).unit(write=False) as s:
            latest = log.latest_checkpoint(s)
            size = 0 if latest is None else latest.size
            level = 0 if tile.level is None else tile.level
            if tile.width > tile_width(size, level, tile.index):
                raise NotFound(
                    "Tile not available", "该瓦片尚不存在", code="evidence.tile_not_found"
                )
            body = (
                _entries(s, tile.index, tile.width)
                if tile.level is None
                else _hashes(s, tile.level, tile.index, tile.width)
            )
        return Response(body, media_type="application/octet-stream", headers=IMMUTABLE)


def _hashes(session: Any, level: int, index: int, width: int) -> bytes:
    first = index * TILE_WIDTH
    rows = session.scalars(
        select(LogNode.hash)
        .where(
            LogNode.level == level * TILE_HEIGHT, LogNode.idx >= first, LogNode.idx < first + width
        )
        .order_by(LogNode.idx)
    ).all()
    return b"".join(rows)


def _entries(session: Any, index: int, width: int) -> bytes:
    first = index * TILE_WIDTH
    rows = session.scalars(
        select(LogLeaf.data)
        .where(LogLeaf.idx >= first, LogLeaf.idx < first + width)
        .order_by(LogLeaf.idx)
    ).all()
    return encode_entry_bundle(rows)


ROUTES = [EvidenceController, TilesController]
