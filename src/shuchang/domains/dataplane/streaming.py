"""Streamed answers of the gateway (流式响应): chunks sent as they are read, bytes counted.

A :class:`Streamed` reply carries an async iterator of chunks (a file read in 1 MiB blocks,
CSV/JSON Lines/Parquet written as rows are read) instead of a body. The gateway sends it
with :func:`send_streamed`, which counts every byte the server accepted into
``Progress.sent``: that is what metering records, also when the client goes away midway
(``complete`` stays False) or the request is cancelled. A whole, unprojected file can
instead go out as one ASGI ``http.response.pathsend`` (granian sends it itself, without
Python in the loop) when the server offers the extension and ``SHUCHANG_DATAPLANE_PATHSEND``
is on; then only "all or nothing" is known, and a broken-off send is recorded as 0 bytes.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio.to_thread

Message = MutableMapping[str, Any]
Send = Callable[[Message], Awaitable[None]]
Receive = Callable[[], Awaitable[Message]]
CHUNK = 1024 * 1024


@dataclass
class Progress:
    """What a streamed answer sent so far."""

    sent: int = 0
    rows: int = 0
    complete: bool = False


@dataclass
class Streamed:
    """An answer whose body is produced while it is sent."""

    status: int
    headers: list[tuple[str, str]]
    chunks: AsyncIterator[bytes] | None = None
    length: int | None = None  # Content-Length when known in advance
    pathsend: Path | None = None  # the whole file, when it may go out as pathsend
    progress: Progress = field(default_factory=Progress)
    body: bytes = b""  # unused; the gateway's replies have one


async def file_chunks(path: Path, start: int, length: int) -> AsyncIterator[bytes]:
    """``length`` bytes of ``path`` from ``start``, read in a worker thread block by block."""
    fd = os.open(path, os.O_RDONLY)
    try:
        offset, left = start, length
        while left > 0:
            block = await anyio.to_thread.run_sync(os.pread, fd, min(CHUNK, left), offset)
            if not block:
                raise OSError(f"{path} became shorter while it was sent")
            offset += len(block)
            left -= len(block)
            yield block
    finally:
        os.close(fd)


async def send_streamed(
    send: Send, receive: Receive, reply: Streamed, *, head: bool, pathsend: bool
) -> bool:
    """Send ``reply``; True when it all went out. A client that went away (``http.disconnect``
    received, or OSError from the server's ``send``) is False, with ``reply.progress.sent``
    the bytes that went out before."""
    gone, sent = False, False

    async def watch(scope: anyio.CancelScope) -> None:
        nonlocal gone
        while (await receive())["type"] != "http.disconnect":
            pass
        if not reply.progress.complete:  # a disconnect after the last byte is the normal end
            gone = True
            scope.cancel()

    async with anyio.create_task_group() as tg:
        tg.start_soon(watch, tg.cancel_scope)
        sent = await _send(send, reply, head=head, pathsend=pathsend)
        tg.cancel_scope.cancel()
    if gone:
        reply.progress.complete = False
    return sent and not gone


async def _send(send: Send, reply: Streamed, *, head: bool, pathsend: bool) -> bool:
    headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in reply.headers]
    if reply.length is not None:
        headers.append((b"content-length", str(reply.length).encode()))
    progress = reply.progress
    try:
        await send({"type": "http.response.start", "status": reply.status, "headers": headers})
        if head or reply.chunks is None:
            await send({"type": "http.response.body", "body": b""})
            progress.complete = True
            return True
        elif pathsend and reply.pathsend is not None:
            await send({"type": "http.response.pathsend", "path": str(reply.pathsend)})
            progress.sent = reply.length or 0
        else:
            async for chunk in reply.chunks:
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
                progress.sent += len(chunk)
            await send({"type": "http.response.body", "body": b""})
        progress.complete = True
    except OSError:
        return False
    finally:
        if reply.chunks is not None:
            await _close(reply.chunks)
    return True


async def _close(chunks: AsyncIterator[bytes]) -> None:
    aclose = getattr(chunks, "aclose", None)
    if aclose is not None:
        with anyio.CancelScope(shield=True):
            await aclose()
