# ruff: noqa: S608 - SQL is built from pattern-checked names (quoted); the provider's own SELECT
# runs only inside the locked-down connection
"""Runs a data element's transformation in a locked-down DuckDB, in a process of its own.

The parent (:class:`ProcessRunner`) sends a :class:`Job` as JSON on stdin and waits, killing
the child when the time limit passes. The child works in three phases on a scratch DuckDB
file that only it uses:

1. **load** (trusted, external access on): each source becomes a table named by its alias —
   a CSV / Parquet / JSON-lines file of the data root, or an SQL table read through
   SQLAlchemy (typed by the resource's registered fields);
2. **transform** (locked): a new connection with ``enable_external_access=false``, extension
   autoload and autoinstall off, memory and thread limits, then ``lock_configuration=true``.
   The provider's single SELECT, the de-identification steps and the k-anonymity check run
   here; a timer interrupts the query at the time limit. Files, ``COPY``, ``ATTACH``,
   ``INSTALL`` and ``SET`` are refused by DuckDB itself;
3. **write** (trusted): the result table is copied to ``<output>.partial`` as Parquet. The
   parent checks digests and moves it into place.

With ``check`` the sources load empty (``LIMIT 0``; SQL sources from their field types), so
a definition is validated against real schemas in milliseconds, with the same code.

The interface (``Runner.run(job) -> Outcome``) is what the compute engine's sandbox can
implement later; :class:`ProcessRunner` is the plain default.
"""

from __future__ import annotations

import csv
import hashlib
import os
import re
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any, Protocol

import msgspec

from shuchang.domains.compute import deidentify, kanon

BASE, OUT = "__element_base", "__element_out"
COLUMN_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")
DUCK_TYPES = {
    "string": "VARCHAR",
    "integer": "BIGINT",
    "decimal": "DOUBLE",
    "boolean": "BOOLEAN",
    "date": "DATE",
    "datetime": "TIMESTAMP",
    "json": "VARCHAR",
}
READERS = {"csv": "read_csv", "parquet": "read_parquet", "jsonl": "read_json"}


class Source(msgspec.Struct, frozen=True):
    alias: str
    kind: str  # "file" or "sql"
    path: str | None = None  # file: real path; format below
    format: str | None = None
    url: str | None = None  # sql: SQLAlchemy URL and table
    table: str | None = None
    fields: list[dict[str, Any]] = []


class Job(msgspec.Struct, frozen=True):
    sources: list[Source]
    sql: str
    steps: list[dict[str, Any]]
    quasi_identifiers: list[str]
    k: int
    on_violation: str
    secret: str
    output: str | None  # where the Parquet goes (".partial" is appended); None: check only
    check: bool = False
    memory_mb: int = 1024
    threads: int = 1
    timeout_s: float = 600


class Outcome(msgspec.Struct, frozen=True):
    ok: bool
    rows_in: int = 0
    rows_out: int = 0
    suppressed: int = 0
    columns: list[dict[str, str]] = []
    k_report: dict[str, Any] | None = None
    inputs: list[dict[str, Any]] = []
    code: str | None = None
    en: str | None = None
    zh: str | None = None
    field: str | None = None


class Runner(Protocol):
    def run(self, job: Job) -> Outcome: ...


class Refused(Exception):
    def __init__(self, code: str, en: str, zh: str, field: str | None = None) -> None:
        super().__init__(en)
        self.code, self.en, self.zh, self.field = code, en, zh, field


# ---- the child ----------------------------------------------------------------------------------


def _sql_to_csv(source: Source, target: Path, limit0: bool) -> None:
    from sqlalchemy import create_engine, text

    names = [f["name"] for f in source.fields]
    engine = create_engine(str(source.url))
    try:
        with engine.connect() as conn, target.open("w", newline="", encoding="utf-8") as out:
            writer = csv.writer(out)
            writer.writerow(names)
            if limit0:
                return
            columns = ", ".join(f'"{n}"' for n in names)
            result = conn.execution_options(stream_results=True).execute(
                text(f"SELECT {columns} FROM {source.table}")
            )
            for chunk in result.partitions(10_000):
                writer.writerows(chunk)
    finally:
        engine.dispose()


def file_sha256(path: Path | str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _load(con: Any, source: Source, scratch: Path, limit0: bool) -> dict[str, Any]:
    """Load one source as a table; its digest (of the file, or of the table exported as
    CSV) and row count, which the run's evidence names."""
    name = deidentify.quote(source.alias)
    limit = " LIMIT 0" if limit0 else ""
    if source.kind == "sql":
        path = scratch / f"{source.alias}.csv"
        _sql_to_csv(source, path, limit0)
        types = {f["name"]: DUCK_TYPES[f["type"]] for f in source.fields}
        reader = f"read_csv(?, header=true, columns={_struct(types)})"
        con.execute(f"CREATE TABLE {name} AS SELECT * FROM {reader}{limit}", [str(path)])
    else:
        _load_file(con, source, name, limit)
        path = Path(str(source.path))
    rows = con.execute(f"SELECT count(*) FROM {name}").fetchone()[0]
    return {
        "alias": source.alias,
        "rows": int(rows),
        "sha256": None if limit0 else file_sha256(path),
    }


def _load_file(con: Any, source: Source, name: str, limit: str) -> None:
    reader = READERS.get(str(source.format))
    if reader is None:
        raise Refused(
            "element.source_format",
            f"Source {source.alias}: files of format {source.format} cannot be read",
            f"来源 {source.alias}：不支持读取 {source.format} 格式的文件",
            "sources",
        )
    con.execute(f"CREATE TABLE {name} AS SELECT * FROM {reader}(?){limit}", [source.path])


def _struct(types: dict[str, str]) -> str:
    return "{" + ", ".join(f"'{k}': '{v}'" for k, v in types.items()) + "}"


def _lock(database: Path, job: Job) -> Any:
    import duckdb

    con = duckdb.connect(
        str(database),
        config={
            "enable_external_access": False,
            "autoload_known_extensions": False,
            "autoinstall_known_extensions": False,
            "memory_limit": f"{job.memory_mb}MB",
            "threads": job.threads,
        },
    )
    key = bytes.fromhex(job.secret)
    con.create_function(
        "shuchang_hmac_sha256",
        lambda v: deidentify.hmac_sha256(key, v),
        ["VARCHAR"],
        "VARCHAR",
        side_effects=False,
    )
    con.create_function(
        "shuchang_hmac_sm3",
        lambda v: deidentify.hmac_sm3(key, v),
        ["VARCHAR"],
        "VARCHAR",
        side_effects=False,
    )
    con.execute("SET lock_configuration = true")
    return con


def _columns(con: Any, relation: str) -> list[dict[str, str]]:
    rows = con.execute(f"DESCRIBE {relation}").fetchall()
    return [{"name": r[0], "type": r[1]} for r in rows]


def _check_steps(steps: list[deidentify.Step], names: list[str]) -> None:
    present = list(names)
    for position, step in enumerate(steps):
        if step.column not in present:
            raise Refused(
                "element.step_column_unknown",
                f"Step {position + 1} names column {step.column}, which the rows do not have",
                f"第 {position + 1} 步引用的列 {step.column} 不存在",
                f"steps[{position}].column",
            )
        if isinstance(step, deidentify.Drop):
            present.remove(step.column)


def _check_names(names: list[str]) -> None:
    for name in names:
        if not COLUMN_NAME.fullmatch(name):
            raise Refused(
                "element.column_name",
                f"Output column {name!r} needs a plain name: letters, digits, _ (use AS)",
                f"输出列 {name!r} 须有由字母、数字、下划线组成的列名（请用 AS 命名）",
                "sql",
            )


def _check_qi(qi: list[str], names: list[str]) -> None:
    for position, column in enumerate(qi):
        if column not in names:
            raise Refused(
                "element.qi_unknown",
                f"Quasi-identifier {column} is not a column of the output",
                f"准标识符 {column} 不是输出中的列",
                f"quasi_identifiers[{position}]",
            )


def _transform(con: Any, job: Job) -> Outcome:
    steps = msgspec.convert(job.steps, list[deidentify.Step])
    con.execute(f"CREATE TABLE {BASE} AS SELECT * FROM (\n{job.sql}\n) AS q")
    names = [c["name"] for c in _columns(con, BASE)]
    _check_names(names)
    _check_steps(steps, names)
    con.execute(f"CREATE TABLE {OUT} AS {deidentify.layered(BASE, steps)}")
    columns = _columns(con, OUT)
    _check_qi(job.quasi_identifiers, [c["name"] for c in columns])
    rows_in = int(con.execute(f"SELECT count(*) FROM {BASE}").fetchone()[0])
    con.execute(f"DROP TABLE {BASE}")
    found = kanon.report(con, OUT, job.quasi_identifiers, job.k)
    suppressed = 0
    if not found.satisfied and not job.check:
        if job.on_violation == "fail":
            return Outcome(
                ok=False,
                rows_in=rows_in,
                columns=columns,
                k_report=msgspec.to_builtins(found),
                code="element.k_anonymity_violated",
                en=f"{found.violating_rows} rows are in classes smaller than k={job.k} "
                f"(smallest class: {found.smallest_class})",
                zh=f"有 {found.violating_rows} 行所在等价类小于 k={job.k}"
                f"（最小等价类 {found.smallest_class} 行）",
                field="k",
            )
        suppressed = kanon.suppress_violations(con, OUT, job.quasi_identifiers, job.k)
    rows_out = int(con.execute(f"SELECT count(*) FROM {OUT}").fetchone()[0])
    return Outcome(
        ok=True,
        rows_in=rows_in,
        rows_out=rows_out,
        suppressed=suppressed,
        columns=columns,
        k_report=msgspec.to_builtins(found),
    )


def _run_locked(database: Path, job: Job) -> Outcome:
    import duckdb

    con = _lock(database, job)
    timer = threading.Timer(job.timeout_s, con.interrupt)
    timer.start()
    try:
        return _transform(con, job)
    except duckdb.InterruptException as exc:
        raise Refused(
            "element.timeout",
            f"The transformation ran past {job.timeout_s:g} s",
            f"加工超过 {job.timeout_s:g} 秒的时限",
        ) from exc
    except duckdb.Error as exc:
        raise Refused(
            "element.sql_failed",
            f"The transformation failed: {str(exc).splitlines()[0][:300]}",
            f"加工执行失败：{str(exc).splitlines()[0][:300]}",
            "sql",
        ) from exc
    finally:
        timer.cancel()
        con.close()


def execute(job: Job) -> Outcome:
    """All three phases in this process (the child's body; tests may call it directly)."""
    import duckdb

    with tempfile.TemporaryDirectory(prefix="shuchang-element-") as tmp:
        scratch = Path(tmp)
        database = scratch / "element.duckdb"
        con = duckdb.connect(str(database), config={"threads": job.threads})
        try:
            inputs = [_load(con, source, scratch, job.check) for source in job.sources]
        except duckdb.Error as exc:
            raise Refused(
                "element.source_unreadable",
                f"A source could not be read: {str(exc).splitlines()[0][:300]}",
                f"来源数据无法读取：{str(exc).splitlines()[0][:300]}",
                "sources",
            ) from exc
        finally:
            con.close()
        outcome = msgspec.structs.replace(_run_locked(database, job), inputs=inputs)
        if outcome.ok and job.output and not job.check:
            con = duckdb.connect(str(database))
            try:
                con.execute(
                    f"COPY {OUT} TO ? (FORMAT parquet, COMPRESSION zstd)", [job.output + ".partial"]
                )
            finally:
                con.close()
        return outcome


def main() -> None:  # pragma: no cover - exercised through ProcessRunner in a subprocess
    job = msgspec.json.decode(sys.stdin.buffer.read(), type=Job)
    try:
        outcome = execute(job)
    except Refused as exc:
        outcome = Outcome(ok=False, code=exc.code, en=exc.en, zh=exc.zh, field=exc.field)
    sys.stdout.buffer.write(msgspec.json.encode(outcome))


# ---- the parent ---------------------------------------------------------------------------------


class ProcessRunner:
    """Runs each job in a fresh ``python -m shuchang.domains.compute.element_runner``."""

    grace_s = 30.0  # time to load and write beyond the query's own limit

    def run(self, job: Job) -> Outcome:
        env = {k: v for k, v in os.environ.items() if not k.startswith("SHUCHANG_")}
        try:
            done = subprocess.run(
                [sys.executable, "-m", "shuchang.domains.compute.element_runner"],
                input=msgspec.json.encode(job),
                capture_output=True,
                timeout=job.timeout_s + self.grace_s,
                env=env,
                check=False,
            )
        except subprocess.TimeoutExpired:
            return _failed("element.timeout", "The run was stopped at its time limit", "运行超时")
        if done.returncode != 0 or not done.stdout:
            tail = done.stderr.decode(errors="replace").strip().splitlines()[-1:] or ["?"]
            return _failed(
                "element.runner_failed",
                f"The runner process failed: {tail[0][:300]}",
                f"加工进程异常退出：{tail[0][:300]}",
            )
        return msgspec.json.decode(done.stdout, type=Outcome)


def _failed(code: str, en: str, zh: str) -> Outcome:
    return Outcome(ok=False, code=code, en=en, zh=zh)


if __name__ == "__main__":  # pragma: no cover
    main()
