"""File parts of dataset products (文件交付): byte ranges, digests, and column projection.

A file is sent as it is — with ``Accept-Ranges: bytes``, a strong ``ETag`` (from its
SHA-256), ``Repr-Digest`` (SHA-256 and SM3 of the whole file) and single byte ranges — unless
the columns that may leave are fewer than the file's: then a CSV, JSON Lines or Parquet file
is rewritten on the fly with only those columns (no ranges, no published digest: the bytes
are not the file's), and any other format is refused (``dataplane.unprojectable``).

Ranges (RFC 9110 §14): one range ``bytes=a-b``, ``a-`` or ``-n`` → 206 with
``Content-Range``; a range starting past the end → 416 with ``Content-Range: bytes */size``;
a syntactically invalid header, a multi-range request (``bytes=0-9,20-29``) and an
``If-Range`` that is not the current strong ETag are ignored and the whole file is sent
(200), as RFC 9110 allows — we do not produce ``multipart/byteranges``.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio.to_thread
import msgspec

from shuchang.domains.dataplane.errors import RangeUnsatisfiable, Unprojectable
from shuchang.domains.dataplane.streaming import Streamed, file_chunks

RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
BATCH_ROWS = 5000
MEDIA = {
    "csv": "text/csv; charset=utf-8",
    "jsonl": "application/jsonl",
    "parquet": "application/vnd.apache.parquet",
    "other": "application/octet-stream",
}


@dataclass(frozen=True)
class ByteRange:
    start: int
    end: int  # inclusive

    @property
    def length(self) -> int:
        return self.end - self.start + 1

    def header(self, size: int) -> str:
        return f"bytes {self.start}-{self.end}/{size}"


def parse_range(value: str | None, size: int) -> ByteRange | None:
    """The single range asked for, None for the whole file; RangeUnsatisfiable (416) when it
    cannot be served. Invalid or multi-range headers are None (ignored)."""
    if not value:
        return None
    match = RANGE.match(value.strip().replace(" ", ""))
    if match is None:
        return None
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:  # suffix: the last n bytes
        n = int(last)
        if n == 0 or size == 0:
            raise RangeUnsatisfiable(extra={"size": size})
        return ByteRange(max(0, size - n), size - 1)
    start = int(first)
    end = int(last) if last else size - 1
    if last and end < start:
        return None  # invalid: ignored
    if start >= size:
        raise RangeUnsatisfiable(extra={"size": size})
    return ByteRange(start, min(end, size - 1))


def wanted_range(headers: dict[str, str], size: int, etag: str) -> ByteRange | None:
    """The range to serve, honouring ``If-Range`` (strong ETag only)."""
    if_range = headers.get("if-range")
    if if_range is not None and if_range.strip() != etag:
        return None
    return parse_range(headers.get("range"), size)


def raw_file(
    path: Path, size: int, fmt: str, *, etag: str, repr_digest: str, span: ByteRange | None
) -> Streamed:
    """The file (or one range of it) as it is."""
    headers = [
        ("content-type", MEDIA.get(fmt, MEDIA["other"])),
        ("accept-ranges", "bytes"),
        ("etag", etag),
        ("repr-digest", repr_digest),
    ]
    if span is None:
        return Streamed(200, headers, file_chunks(path, 0, size), size, pathsend=path)
    headers.append(("content-range", span.header(size)))
    return Streamed(206, headers, file_chunks(path, span.start, span.length), span.length)


# ---- column projection -------------------------------------------------------------------


def columns_of(path: Path, fmt: str) -> tuple[str, ...] | None:
    """The file's columns (CSV header, Parquet schema); None when unknown (JSON Lines, other)."""
    if fmt == "csv":
        with path.open(newline="", encoding="utf-8-sig") as f:
            return tuple(next(csv.reader(f), []))
    if fmt == "parquet":
        import pyarrow.parquet as pq

        return tuple(pq.read_schema(path).names)
    return None


def _csv(path: Path, keep: list[str], count: Callable[[int], None]) -> Iterator[bytes]:
    with path.open(newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(keep)
        rows = 0
        for row in reader:
            writer.writerow([row.get(k, "") for k in keep])
            rows += 1
            if rows % BATCH_ROWS == 0:
                count(BATCH_ROWS)
                yield out.getvalue().encode()
                out.seek(0)
                out.truncate()
        count(rows % BATCH_ROWS)
        yield out.getvalue().encode()


def _jsonl(path: Path, keep: set[str], count: Callable[[int], None]) -> Iterator[bytes]:
    encoder, decoder = msgspec.json.Encoder(), msgspec.json.Decoder()
    buffer, rows = bytearray(), 0
    with path.open("rb") as f:
        for line in f:
            if not line.strip():
                continue
            value = decoder.decode(line)
            if not isinstance(value, dict):
                raise Unprojectable("a JSON Lines line is not an object")
            buffer += encoder.encode({k: v for k, v in value.items() if k in keep}) + b"\n"
            rows += 1
            if rows % BATCH_ROWS == 0:
                count(BATCH_ROWS)
                yield bytes(buffer)
                buffer.clear()
    count(rows % BATCH_ROWS)
    yield bytes(buffer)


class _Sink(io.RawIOBase):
    """A write-only stream that keeps what was written until it is drained."""

    def __init__(self) -> None:
        self.data = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, b: Any) -> int:
        self.data += b
        return len(b)

    def drain(self) -> bytes:
        out = bytes(self.data)
        self.data.clear()
        return out


def _parquet(path: Path, keep: list[str], count: Callable[[int], None]) -> Iterator[bytes]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    source = pq.ParquetFile(path)
    sink = _Sink()
    schema = source.schema_arrow
    writer = pq.ParquetWriter(sink, pa.schema([schema.field(k) for k in keep]))
    try:
        for batch in source.iter_batches(batch_size=BATCH_ROWS * 4, columns=keep):
            writer.write_batch(batch)
            count(batch.num_rows)
            yield sink.drain()
    finally:
        writer.close()
    yield sink.drain()


def projected_rows(path: Path, fmt: str, keep: list[str], count: Callable[[int], None]) -> Any:
    if fmt == "csv":
        return _csv(path, keep, count)
    if fmt == "jsonl":
        return _jsonl(path, set(keep), count)
    if fmt == "parquet":
        return _parquet(path, keep, count)
    raise Unprojectable()


async def in_thread(produce: Iterator[bytes]) -> AsyncIterator[bytes]:
    """Drive a blocking chunk generator from a worker thread, one chunk per hop."""
    done = object()
    try:
        while True:
            chunk = await anyio.to_thread.run_sync(next, produce, done)
            if chunk is done:
                return
            assert isinstance(chunk, bytes)
            if chunk:
                yield chunk
    finally:
        close = getattr(produce, "close", None)
        if close is not None:
            await anyio.to_thread.run_sync(close)


def projected_file(path: Path, fmt: str, keep: list[str], streamed: Streamed) -> Streamed:
    """The file rewritten with only ``keep`` columns (rows counted into the reply)."""

    def count(n: int) -> None:
        streamed.progress.rows += n

    streamed.chunks = in_thread(projected_rows(path, fmt, keep, count))
    return streamed
