"""Materialisation (物化): a resource version's declared columns copied once into a DuckDB
file that the sandbox opens read-only.

The trusted side reads the resource's location through :class:`shuchang.datasources.
DataSources` (a CSV, JSON-lines or Parquet file inside the data root, or a table of a named
SQL connection) **before** any lock-down and writes only the columns the compute profile
declares (person, dimensions, measures) into table ``<profile table>``. A resource version is
immutable, so the file is built once per (resource, version, columns) and reused by every
query; it is written to a temporary name and renamed, so readers never see half a file.

Beside the file, ``<file>.json`` records its SHA-256 (the input digest evidence cites), the
row count, and the largest number of rows one person has (so the rewrite can skip the
per-person window when the data already satisfies the contribution bound).
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
from sqlalchemy import Engine, text

from shuchang.datasources import DataSources, DataSourceUnavailable
from shuchang.domains.catalog import SourceVersion
from shuchang.domains.compute import plan as p
from shuchang.settings import Settings

BATCH = 100_000
_building = threading.Lock()


@dataclass(frozen=True)
class Materialised:
    path: str
    digest: str
    rows: int
    max_rows_per_person: int
    seconds: float


@dataclass(frozen=True)
class Columns:
    """The columns copied, in order, with their DuckDB types."""

    names: tuple[str, ...]
    types: tuple[str, ...]

    @classmethod
    def of(cls, catalogue: p.Catalogue, fields: list[dict[str, Any]]) -> Columns:
        kinds = {f["name"]: f["type"] for f in fields}
        names = (catalogue.person, *catalogue.dimensions, *catalogue.measures)
        return cls(names, tuple(_duck_type(kinds.get(n, "string"), n, catalogue) for n in names))


def _duck_type(kind: str, name: str, catalogue: p.Catalogue) -> str:
    if name in catalogue.measures:
        return "DOUBLE" if kind == "decimal" else "BIGINT"
    if kind == "integer":
        return "BIGINT"
    return "VARCHAR"  # strings, dates as ISO text: the domains are written as text


def _stamp(settings: Settings, source: SourceVersion) -> list[int]:
    """A file source's size and modification time: a file replaced under the same resource
    version is materialised again (a table's changes are not seen: register a new version,
    or empty the store)."""
    if source.location.get("type") != "file":
        return []
    found = DataSources.of(settings).file(str(source.location.get("path", ""))).stat()
    return [found.st_size, found.st_mtime_ns]


def store_of(settings: Settings) -> Path:
    if settings.compute_store:
        return Path(settings.compute_store)
    return DataSources.of(settings).root / ".compute"


def _key(
    resource_id: uuid.UUID, version: int, table: str, columns: Columns, stamp: list[int]
) -> str:
    spec = json.dumps([table, columns.names, columns.types, stamp])
    return f"{resource_id}-v{version}-{hashlib.sha256(spec.encode()).hexdigest()[:12]}"


def materialise(settings: Settings, source: SourceVersion, catalogue: p.Catalogue) -> Materialised:
    """The materialised file of this resource version for ``catalogue`` (built if missing)."""
    columns = Columns.of(catalogue, source.fields)
    store = store_of(settings)
    name = _key(
        source.resource_id, source.version, catalogue.table, columns, _stamp(settings, source)
    )
    path = store / f"{name}.duckdb"
    location = source.location
    meta = Path(f"{path}.json")
    if meta.exists() and path.exists():
        return Materialised(**json.loads(meta.read_text()))
    with _building:  # one build per process at a time; another process may race: rename wins
        if meta.exists() and path.exists():
            return Materialised(**json.loads(meta.read_text()))
        store.mkdir(parents=True, exist_ok=True)
        return _build(settings, path, meta, location=location, catalogue=catalogue, columns=columns)


def _build(
    settings: Settings,
    path: Path,
    meta: Path,
    *,
    location: dict[str, Any],
    catalogue: p.Catalogue,
    columns: Columns,
) -> Materialised:
    started = time.perf_counter()
    scratch = path.with_name(f".{path.name}.{uuid.uuid4().hex}")
    conn = duckdb.connect(str(scratch))
    try:
        table = p.quote(catalogue.table)
        defs = ", ".join(
            f"{p.quote(n)} {t}" for n, t in zip(columns.names, columns.types, strict=True)
        )
        conn.execute(f"CREATE TABLE {table} ({defs})")
        _load(conn, settings, location, table, columns)
        rows, most = _facts(conn, table, catalogue.person)
        conn.execute("CHECKPOINT")
    finally:
        conn.close()
    digest = _sha256(scratch)
    os.replace(scratch, path)
    done = Materialised(str(path), digest, rows, most, time.perf_counter() - started)
    written = meta.with_name(f".{meta.name}.{uuid.uuid4().hex}")
    written.write_text(json.dumps(done.__dict__))
    os.replace(written, meta)  # readers see the whole record or none
    return done


def _facts(conn: duckdb.DuckDBPyConnection, table: str, person: str) -> tuple[int, int]:
    """(rows, the most rows any one person has)."""
    column = p.quote(person)
    per_person = f"SELECT count(*) AS n FROM {table} GROUP BY {column}"  # noqa: S608
    most = conn.execute(f"SELECT coalesce(max(n), 0) FROM ({per_person})").fetchone()  # noqa: S608
    total = conn.execute(f"SELECT count(*) FROM {table}").fetchone()  # noqa: S608
    assert most is not None and total is not None
    return int(total[0]), int(most[0])


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


_READERS = {"csv": "read_csv", "parquet": "read_parquet", "jsonl": "read_json"}


def _load(
    conn: duckdb.DuckDBPyConnection,
    settings: Settings,
    location: dict[str, Any],
    table: str,
    columns: Columns,
) -> None:
    sources = DataSources.of(settings)
    kind = location.get("type")
    if kind == "file":
        reader = _READERS.get(str(location.get("format", "csv")))
        if reader is None:
            raise DataSourceUnavailable(
                "Only CSV, JSON-lines and Parquet files can be computed on",
                "只能对 CSV、JSON Lines 和 Parquet 文件进行计算",
                code="datasource.format_unsupported",
            )
        source = sources.file(str(location.get("path", "")))
        casts = ", ".join(
            f"CAST({p.quote(n)} AS {t})" for n, t in zip(columns.names, columns.types, strict=True)
        )
        conn.execute(f"INSERT INTO {table} SELECT {casts} FROM {reader}(?)", [str(source)])  # noqa: S608
        return
    if kind == "sql":
        engine = sources.engine(str(location.get("connection", "default")))
        _copy_table(conn, engine, str(location["table"]), table, columns)
        return
    raise DataSourceUnavailable(
        "Only file and SQL table locations can be computed on",
        "只能对文件或数据库表形式的数据源进行计算",
        code="datasource.location_unsupported",
    )


def _source_name(engine: Engine, name: str) -> str:
    """``schema.table`` on servers; on SQLite a dotted name is one (quoted) table name."""
    if engine.dialect.name == "sqlite" or "." not in name:
        return p.quote(name)
    schema, _, table = name.partition(".")
    return f"{p.quote(schema)}.{p.quote(table)}"


def _batches(engine: Engine, sql: str) -> Iterator[list[tuple[Any, ...]]]:
    with engine.connect() as conn:
        result = conn.execution_options(stream_results=True, yield_per=BATCH).execute(text(sql))
        for part in result.partitions(BATCH):
            yield [tuple(row) for row in part]


def _copy_table(
    conn: duckdb.DuckDBPyConnection, engine: Engine, source: str, table: str, columns: Columns
) -> None:
    """Stream the source table in batches, column-wise into DuckDB (``unnest`` of lists)."""
    select = ", ".join(p.quote(n) for n in columns.names)
    sql = f"SELECT {select} FROM {_source_name(engine, source)}"  # noqa: S608 - quoted names
    unnest = ", ".join(f"unnest(?::{t}[])" for t in columns.types)
    insert = f"INSERT INTO {table} SELECT * FROM (SELECT {unnest})"  # noqa: S608
    for batch in _batches(engine, sql):
        lists = [list(col) for col in zip(*batch, strict=True)]
        conn.execute(
            insert, [_textual(values, t) for values, t in zip(lists, columns.types, strict=True)]
        )


def _textual(values: list[Any], kind: str) -> list[Any]:
    """Dates and other non-text values of VARCHAR columns as ISO text; booleans as 0/1."""
    if kind == "VARCHAR":
        return [
            None if v is None else (v.isoformat() if hasattr(v, "isoformat") else str(v))
            for v in values
        ]
    if kind == "BIGINT":
        return [None if v is None else int(v) for v in values]
    return [None if v is None else float(v) for v in values]
