# ruff: noqa: S608 - the column is a registered field name (quoted), the table a validated name
"""Where a PSI session's identifiers come from, and what authorises the session.

The provider's side is the identifier column of its compute-only product's resource (a
field with ``role: identifier``), read through :mod:`shuchang.datasources` — a file in the
data root (CSV, Parquet, JSON lines, read by DuckDB) or an SQL table. The consumer's side is
the list it uploads (a CSV column or JSON).
"""

from __future__ import annotations

import csv
import io
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from shuchang.datasources import DataSources
from shuchang.domains.catalog import ResourceOut, get_resource, listed_offer
from shuchang.domains.compute.psi import PsiProblem
from shuchang.domains.contracts import AgreementOut, Connector, find_agreement
from shuchang.domains.participants import Actor
from shuchang.settings import Settings

READERS = {"csv": "read_csv", "parquet": "read_parquet", "jsonl": "read_json"}


def agreement_for(
    session: Session, agreement_id: str | uuid.UUID, consumer_id: uuid.UUID, now: datetime
) -> AgreementOut:
    """The agreement if a session may run under it now: active, this consumer's, in period."""
    try:
        key = (
            agreement_id
            if isinstance(agreement_id, uuid.UUID)
            else uuid.UUID(agreement_id.removeprefix("urn:uuid:"))
        )
    except ValueError:
        key = None
    agreement = find_agreement(session, key) if key else None
    if agreement is None:
        raise PsiProblem(404, "psi.agreement_unknown", "No such agreement here", "本方没有该合约")
    if agreement.consumer_id != consumer_id:
        raise PsiProblem(
            403,
            "psi.not_agreement_consumer",
            "The agreement belongs to another consumer",
            "该合约不属于请求方",
        )
    if agreement.status != "active":
        raise PsiProblem(
            409,
            "psi.agreement_not_active",
            f"The agreement is {agreement.status}",
            f"合约状态为 {agreement.status}，未生效",
        )
    if not agreement.valid_from <= now < agreement.valid_until:
        raise PsiProblem(
            403, "psi.agreement_expired", "The agreement is outside its period", "合约不在有效期内"
        )
    return agreement


def identifier_source(
    session: Session, connector: Connector, agreement: AgreementOut, field: str | None
) -> tuple[str, ResourceOut]:
    """The identifier field and resource of the agreement's compute-only product."""
    try:
        product_id = uuid.UUID(agreement.dataset_id.removeprefix("urn:uuid:"))
    except ValueError:
        product_id = None
    product = listed_offer(session, product_id) if product_id else None
    if product is None or product.provider_id != connector.participant.id:
        raise PsiProblem(
            409,
            "psi.product_delisted",
            "The agreement's product is no longer listed",
            "合约标的产品已下架",
        )
    if product.kind != "compute_only":
        raise PsiProblem(
            400,
            "psi.product_not_compute",
            "PSI runs on compute-only products (可用不可见)",
            "隐私求交仅适用于“可用不可见”计算产品",
        )
    actor = Actor(participant_id=connector.participant.id, role="provider")
    candidates = []
    for src in product.sources:
        resource = get_resource(session, actor, src.resource_id, src.resource_version)
        candidates += [
            (f["name"], resource) for f in resource.fields if f.get("role") == "identifier"
        ]
    chosen = [c for c in candidates if field in (None, c[0])]
    if len(chosen) != 1:
        raise PsiProblem(
            400,
            "psi.identifier_field",
            "Name exactly one identifier field of the product (identifierField)",
            "须指明产品中唯一的一个标识字段（identifierField）",
        )
    return chosen[0]


def read_identifiers(settings: Settings, resource: ResourceOut, field: str) -> list[Any]:
    """Every value of the identifier column (normalised later by the caller)."""
    import duckdb

    sources = DataSources.of(settings)
    location = resource.location or {}
    column = '"' + field.replace('"', '""') + '"'
    if location.get("type") == "file":
        path = sources.file(str(location.get("path", "")))
        reader = READERS.get(str(location.get("format")))
        if reader is None:
            raise PsiProblem(
                500,
                "psi.source_format",
                "The identifier file's format is not readable",
                "标识数据文件格式不支持",
            )
        rows = (
            duckdb.connect()
            .execute(f"SELECT DISTINCT CAST({column} AS VARCHAR) FROM {reader}(?)", [str(path)])
            .fetchall()
        )
        return [r[0] for r in rows]
    if location.get("type") == "sql":
        engine = sources.engine(str(location.get("connection", "default")))
        with engine.connect() as conn:
            table = str(location["table"])
            return list(conn.execute(text(f"SELECT DISTINCT {column} FROM {table}")).scalars())
    raise PsiProblem(
        500, "psi.source_location", "The identifier data cannot be read here", "无法读取标识数据"
    )


def parse_upload(raw: str, column: str | None) -> list[str]:
    """Identifiers from an uploaded CSV: the named column (with a header row), or the first
    column (a header row is then optional and dropped if it does not normalise)."""
    reader = csv.reader(io.StringIO(raw))
    rows = [r for r in reader if r]
    if not rows:
        return []
    if column is None:
        return [r[0] for r in rows]
    header = [h.strip() for h in rows[0]]
    if column not in header:
        from shuchang.errors import ValidationFailed

        raise ValidationFailed(
            f"The CSV has no column {column}",
            f"CSV 中没有列 {column}",
            code="psi.csv_column",
            field="column",
        )
    at = header.index(column)
    return [r[at] for r in rows[1:] if len(r) > at]
