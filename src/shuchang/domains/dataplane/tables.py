"""SQL-table parts of dataset products (数据表交付): CSV, JSON Lines or Parquet, streamed.

The table named by the location (``schema.table`` or ``table``) is reflected by SQLAlchemy on
the location's connection (:mod:`shuchang.datasources`) and read with a ``SELECT`` of the
allowed columns only — requested ∩ allowed by the agreement − excluded by it ∩ the resource's
declared fields ∩ the table's columns — built by SQLAlchemy, never by string formatting. Rows
are streamed from the server (``stream_results``, ``yield_per``) and written out batch by
batch: CSV (UTF-8, header line), JSON Lines, or Parquet (one row group per batch).

Pages: ``limit`` (default and maximum :data:`MAX_LIMIT`) rows in primary-key order; when the
page is full the answer carries ``X-Shuchang-Next-After`` (an opaque cursor) to pass back as
``after=`` for the next page (keyset pagination: no offsets, stable under inserts).
"""

from __future__ import annotations

import base64
import csv
import datetime as dt
import decimal
import io
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import msgspec
from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    Engine,
    Float,
    Integer,
    MetaData,
    Numeric,
    Select,
    Table,
    select,
    tuple_,
    type_coerce,
)
from sqlalchemy.exc import NoSuchTableError, SQLAlchemyError
from sqlalchemy.sql.elements import ColumnElement

from shuchang.domains.dataplane.errors import BadTableQuery, SourceUnavailable

FORMATS = ("csv", "jsonl", "parquet")
ACCEPT = {
    "text/csv": "csv",
    "application/jsonl": "jsonl",
    "application/x-ndjson": "jsonl",
    "application/vnd.apache.parquet": "parquet",
}
MEDIA = {
    "csv": "text/csv; charset=utf-8",
    "jsonl": "application/jsonl",
    "parquet": "application/vnd.apache.parquet",
}
MAX_LIMIT = 1_000_000
BATCH = 5000


def choose_format(asked: str | None, accept: str | None) -> str:
    """``format=`` first, then the first known media type in ``Accept``, else CSV."""
    if asked:
        if asked not in FORMATS:
            raise BadTableQuery(
                f"format is one of {', '.join(FORMATS)}", "format 须为 csv、jsonl 或 parquet"
            )
        return asked
    for item in (accept or "").split(","):
        media = item.split(";")[0].strip().lower()
        if media in ACCEPT:
            return ACCEPT[media]
    return "csv"


def parse_limit(raw: str | None) -> int:
    if raw is None:
        return MAX_LIMIT
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
        raise BadTableQuery(f"limit is 1..{MAX_LIMIT}", f"limit 须为 1 到 {MAX_LIMIT}")
    return int(raw)


def encode_cursor(values: Sequence[Any]) -> str:
    raw = msgspec.json.encode([_plain(v) for v in values])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(raw: str, width: int) -> list[Any]:
    try:
        values = msgspec.json.decode(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
    except (ValueError, msgspec.DecodeError):
        values = None
    if not isinstance(values, list) or len(values) != width:
        raise BadTableQuery("after is not a cursor of this table", "after 不是该表的分页游标")
    return values


def check_cursor(table: Table, after: str) -> None:
    """BadTableQuery unless ``after`` is a cursor of ``table``'s primary key."""
    width = len(table.primary_key.columns)
    if not width:
        raise BadTableQuery("This table has no primary key to page by", "该表没有主键，无法分页")
    decode_cursor(after, width)


class Reflected:
    """Reflected tables by (connection, name), kept for the process's lifetime."""

    def __init__(self) -> None:
        self._tables: dict[tuple[str, str], Table] = {}
        self._lock = threading.Lock()

    def get(self, engine: Engine, connection: str, name: str) -> Table:
        key = (connection, name)
        with self._lock:
            found = self._tables.get(key)
        if found is not None:
            return found
        schema, _, table = name.rpartition(".")
        try:
            try:
                reflected = Table(table, MetaData(), schema=schema or None, autoload_with=engine)
            except (NoSuchTableError, SQLAlchemyError):
                if not schema or engine.dialect.name != "sqlite":
                    raise
                # SQLite has no schemas: ``samr.registry`` is then the table's whole name
                reflected = Table(name, MetaData(), autoload_with=engine)
        except NoSuchTableError as exc:
            raise SourceUnavailable(
                f"The table {name} does not exist on connection {connection}",
                f"数据连接 {connection} 上不存在表 {name}",
            ) from exc
        except SQLAlchemyError as exc:
            raise SourceUnavailable() from exc
        with self._lock:
            self._tables[key] = reflected
        return reflected


@dataclass(frozen=True)
class TableQuery:
    columns: list[str]
    limit: int
    after: str | None
    fmt: str


def _column(table: Table, name: str, sqlite: bool) -> ColumnElement[Any]:
    column = table.c[name]
    if sqlite and isinstance(column.type, Numeric) and not isinstance(column.type, Float):
        return type_coerce(column, Float()).label(name)  # SQLite has no exact decimals
    return column


def _after(key: list[Any], values: Sequence[Any]) -> ColumnElement[bool]:
    return tuple_(*key) > tuple_(*values) if len(key) > 1 else key[0] > values[0]


def _upto(key: list[Any], values: Sequence[Any]) -> ColumnElement[bool]:
    return tuple_(*key) <= tuple_(*values) if len(key) > 1 else key[0] <= values[0]


def plan(engine: Engine, table: Table, query: TableQuery) -> tuple[Select[Any], str | None]:
    """The page's SELECT of the allowed columns and the cursor of the next page (None on the
    last page). The page's last key is read first (an index scan) and bounds the page, so the
    cursor is known before the first byte is sent and rows inserted meanwhile are not skipped."""
    sqlite = engine.dialect.name == "sqlite"
    key = list(table.primary_key.columns)
    stmt = select(*[_column(table, n, sqlite) for n in query.columns]).select_from(table)
    if not key:
        if query.after is not None:
            raise BadTableQuery(
                "This table has no primary key to page by", "该表没有主键，无法分页"
            )
        return stmt.limit(query.limit), None
    bound = select(*key).order_by(*key).offset(query.limit - 1).limit(1)
    if query.after is not None:
        values = decode_cursor(query.after, len(key))
        stmt, bound = stmt.where(_after(key, values)), bound.where(_after(key, values))
    try:
        with engine.connect() as conn:
            last = conn.execute(bound).first()
    except SQLAlchemyError as exc:
        raise SourceUnavailable() from exc
    stmt = stmt.order_by(*key)
    if last is None:
        return stmt, None
    return stmt.where(_upto(key, list(last))), encode_cursor(list(last))


def _plain(value: Any) -> Any:
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    return value


def _arrow_type(column: Any) -> Any:
    import pyarrow as pa

    kind = column.type
    if isinstance(kind, Boolean):
        return pa.bool_()
    if isinstance(kind, Integer):
        return pa.int64()
    if isinstance(kind, Float):
        return pa.float64()
    if isinstance(kind, Numeric):
        scale = kind.scale if kind.scale is not None else 6
        return pa.decimal128(min(kind.precision or 38, 38), scale)
    if isinstance(kind, DateTime):
        return pa.timestamp("us", tz="UTC" if getattr(kind, "timezone", False) else None)
    if isinstance(kind, Date):
        return pa.date32()
    return pa.string()


class Writer:
    """Rows → bytes in one of the formats; ``close`` gives what is left (Parquet's footer)."""

    def __init__(self, fmt: str, names: list[str], table: Table, sqlite: bool) -> None:
        self.fmt, self.names = fmt, names
        self._out = io.StringIO()
        self._csv = csv.writer(self._out, lineterminator="\n")
        self._json = msgspec.json.Encoder(decimal_format="number")
        self._parquet: Any = None
        if fmt == "csv":
            self._csv.writerow(names)
        if fmt == "parquet":
            import pyarrow as pa
            import pyarrow.parquet as pq

            from shuchang.domains.dataplane.files import _Sink

            fields = []
            for n in names:
                arrow = _arrow_type(table.c[n])
                if sqlite and isinstance(arrow, pa.Decimal128Type):
                    arrow = pa.float64()
                fields.append(pa.field(n, arrow))
            self._schema = pa.schema(fields)
            self._sink = _Sink()
            self._parquet = pq.ParquetWriter(self._sink, self._schema)

    def rows(self, batch: Sequence[Sequence[Any]]) -> bytes:
        if self.fmt == "csv":
            self._csv.writerows([[_csv_value(v) for v in row] for row in batch])
            out = self._out.getvalue().encode()
            self._out.seek(0)
            self._out.truncate()
            return out
        if self.fmt == "jsonl":
            encode = self._json.encode
            return b"".join(
                encode(dict(zip(self.names, row, strict=True))) + b"\n" for row in batch
            )
        import pyarrow as pa

        columns = list(zip(*batch, strict=True)) if batch else [() for _ in self.names]
        arrays = [
            pa.array(list(c), type=f.type) for c, f in zip(columns, self._schema, strict=True)
        ]
        self._parquet.write_table(pa.Table.from_arrays(arrays, schema=self._schema))
        return self._sink.drain()

    def close(self) -> bytes:
        if self._parquet is not None:
            self._parquet.close()
            return self._sink.drain()
        return self.rows([]) if self.fmt == "csv" else b""


def _csv_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return _plain(value)


def export(
    engine: Engine, table: Table, stmt: Select[Any], query: TableQuery, count: Callable[[int], None]
) -> Iterator[bytes]:
    """The page as chunks of the chosen format, streamed from the server; ``count(rows)``
    after each batch."""
    writer = Writer(query.fmt, query.columns, table, engine.dialect.name == "sqlite")
    try:
        with engine.connect() as conn:
            result = conn.execution_options(stream_results=True, yield_per=BATCH).execute(stmt)
            for part in result.partitions(BATCH):
                chunk = writer.rows(part)
                count(len(part))
                yield chunk
    except SQLAlchemyError as exc:
        raise SourceUnavailable() from exc
    yield writer.close()
