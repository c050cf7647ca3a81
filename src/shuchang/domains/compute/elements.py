"""Data elements (数据元件): a provider's transformation of its own resources into a new,
de-identified dataset — definitions and their validation.

A definition names source resources (each a table to the SQL, by alias), one SELECT over
them, de-identification steps (:mod:`.deidentify`), the quasi-identifiers and k of the
k-anonymity check (:mod:`.kanon`) and what to do with rows that violate it. It is checked
against the sources' real schemas by a dry run in the locked-down runner before it is
stored, so a definition that is saved can run. Runs and listing: :mod:`.element_runs`.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import duckdb
import msgspec
from sqlalchemy import select
from sqlalchemy.orm import Session

from shuchang.canonical import digest
from shuchang.datasources import DataSources
from shuchang.db import utcnow
from shuchang.domains import evidence
from shuchang.domains.catalog import ResourceOut, get_resource
from shuchang.domains.compute.deidentify import Step, describe
from shuchang.domains.compute.element_models import ElementDefinition, ElementRun
from shuchang.domains.compute.element_runner import Job, Outcome, Runner, Source
from shuchang.domains.compute.element_schemas import ElementIn, ElementOut, ElementRunOut
from shuchang.domains.participants import Actor, require
from shuchang.errors import Duplicate, NotFound, PermissionDenied, ShuchangError, ValidationFailed
from shuchang.settings import Settings

Unit = Callable[[], AbstractContextManager[Session]]


def _invalid(field: str, code: str, en: str, zh: str) -> ValidationFailed:
    return ValidationFailed(en, zh, code=code, field=field)


def single_select(sql: str) -> str:
    """The one SELECT statement of ``sql`` (without its ``;``), or a problem on ``sql``."""
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as exc:
        raise _invalid(
            "sql",
            "element.sql_invalid",
            f"The SQL does not parse: {str(exc).splitlines()[0][:300]}",
            f"SQL 语法错误：{str(exc).splitlines()[0][:300]}",
        ) from exc
    if len(statements) != 1 or statements[0].type != duckdb.StatementType.SELECT:
        raise _invalid(
            "sql",
            "element.sql_not_select",
            "The transformation is exactly one SELECT statement",
            "加工逻辑须为且仅为一条 SELECT 语句",
        )
    return str(statements[0].query).strip().rstrip(";").strip()


def _check_shape(data: ElementIn) -> None:
    aliases = [s.alias for s in data.sources]
    for position, alias in enumerate(aliases):
        if aliases.index(alias) != position:
            raise _invalid(
                f"sources[{position}].alias",
                "element.alias_duplicate",
                f"Alias {alias} is used twice",
                f"别名 {alias} 重复",
            )
    if len(set(data.quasi_identifiers)) != len(data.quasi_identifiers):
        raise _invalid(
            "quasi_identifiers",
            "element.qi_duplicate",
            "A quasi-identifier is listed twice",
            "准标识符重复",
        )


def _source(
    session: Session, actor: Actor, sources: DataSources, *, alias: str, rid: uuid.UUID, at: str
) -> tuple[Source, ResourceOut]:
    """The runner's view of one source resource, checked: the provider's own, readable."""
    try:
        resource = get_resource(session, actor, rid)
    except NotFound as exc:
        raise _invalid(
            f"{at}.resource_id", "element.source_unknown", "Unknown resource", "来源资源不存在"
        ) from exc
    if resource.provider_id != actor.participant_id:
        raise PermissionDenied(
            "A data element is made from the provider's own resources",
            "数据元件只能由本单位的数据资源加工",
            code="element.source_not_owned",
            field=f"{at}.resource_id",
        )
    if resource.classification == "core":
        raise _invalid(
            f"{at}.resource_id",
            "element.core_data",
            "Core data (核心数据) is never processed into a product",
            "核心数据不得加工为数据产品",
        )
    location = resource.location or {}
    try:
        if location.get("type") == "file":
            path = sources.file(str(location.get("path", "")))
            return Source(alias, "file", path=str(path), format=location.get("format")), resource
        if location.get("type") == "sql":
            url = sources.url(str(location.get("connection", "default")))
            table = str(location["table"])
            return Source(alias, "sql", url=url, table=table, fields=resource.fields), resource
    except ShuchangError as exc:
        exc.field = f"{at}.resource_id"
        raise
    raise _invalid(
        f"{at}.resource_id",
        "element.source_location",
        "Only files in the data root and SQL tables can be transformed",
        "只能加工数据目录中的文件或 SQL 数据表",
    )


def build_job(
    session: Session,
    settings: Settings,
    actor: Actor,
    definition: ElementIn,
    *,
    secret: str,
    output: str | None,
) -> tuple[Job, list[ResourceOut]]:
    """The runner's job for ``definition`` over the sources' current versions."""
    sources = DataSources.of(settings)
    resolved = [
        _source(session, actor, sources, alias=s.alias, rid=s.resource_id, at=f"sources[{i}]")
        for i, s in enumerate(definition.sources)
    ]
    job = Job(
        sources=[r[0] for r in resolved],
        sql=single_select(definition.sql),
        steps=msgspec.to_builtins(definition.steps),
        quasi_identifiers=list(definition.quasi_identifiers),
        k=definition.k,
        on_violation=definition.on_violation,
        secret=secret,
        output=output,
        check=output is None,
        memory_mb=settings.element_memory_mb,
        timeout_s=settings.element_timeout_s,
    )
    return job, [r[1] for r in resolved]


def refusal(outcome: Outcome) -> ValidationFailed:
    """A runner's refusal as the problem the provider sees (the k report rides along)."""
    extra = {"k_report": outcome.k_report} if outcome.k_report else {}
    return ValidationFailed(
        outcome.en or "The transformation failed",
        outcome.zh or "加工失败",
        code=outcome.code or "element.failed",
        field=outcome.field,
        extra=extra,
    )


def _dry_run(unit: Unit, settings: Settings, actor: Actor, data: ElementIn, runner: Runner) -> None:
    _check_shape(data)
    with unit() as session:
        job, _ = build_job(
            session, settings, actor, data, secret=secrets.token_hex(32), output=None
        )
    outcome = runner.run(job)
    if not outcome.ok:
        raise refusal(outcome)


def _fill(row: ElementDefinition, data: ElementIn) -> None:
    row.title, row.sql = data.title, single_select(data.sql)
    row.sources = [{"alias": s.alias, "resource_id": str(s.resource_id)} for s in data.sources]
    row.steps = msgspec.to_builtins(data.steps)
    row.quasi_identifiers, row.k = list(data.quasi_identifiers), data.k
    row.on_violation, row.updated_at = data.on_violation, utcnow()


def _evidence_payload(row: ElementDefinition) -> dict[str, Any]:
    return {
        "name": row.name,
        "revision": row.revision,
        "sources": row.sources,
        "sql_sha256": digest({"sql": row.sql}),
        "steps": describe(msgspec.convert(row.steps, list[Step])),
        "quasi_identifiers": row.quasi_identifiers,
        "k": row.k,
        "on_violation": row.on_violation,
    }


def define(
    unit: Unit, settings: Settings, actor: Actor, data: ElementIn, runner: Runner
) -> ElementOut:
    """Check ``data`` by a dry run over the real schemas, then store it (revision 1)."""
    require(actor, "provider")
    _dry_run(unit, settings, actor, data, runner)
    with unit() as session:
        taken = session.scalar(
            select(ElementDefinition.id).where(
                ElementDefinition.provider_id == actor.participant_id,
                ElementDefinition.name == data.name,
            )
        )
        if taken is not None:
            raise Duplicate(
                f"A data element named {data.name} exists",
                f"已有名为 {data.name} 的数据元件",
                code="element.name_taken",
                field="name",
            )
        assert actor.participant_id is not None
        row = ElementDefinition(
            id=uuid.uuid4(),
            provider_id=actor.participant_id,
            name=data.name,
            revision=1,
            secret=secrets.token_hex(32),
            created_at=utcnow(),
        )
        _fill(row, data)
        session.add(row)
        session.flush()
        evidence.record(
            session, "element.defined", f"element:{row.id}", actor.ref, _evidence_payload(row)
        )
        return to_out(session, row)


def revise(
    unit: Unit,
    settings: Settings,
    actor: Actor,
    element_id: uuid.UUID,
    data: ElementIn,
    *,
    runner: Runner,
) -> ElementOut:
    """A new revision of the definition (the name and the secret salt stay)."""
    with unit() as session:
        owned(session, actor, element_id)
    _dry_run(unit, settings, actor, data, runner)
    with unit() as session:
        row = owned(session, actor, element_id, lock=True)
        if data.name != row.name:
            raise _invalid(
                "name",
                "element.name_fixed",
                "A data element keeps its name",
                "数据元件名称不可修改",
            )
        row.revision += 1
        _fill(row, data)
        evidence.record(
            session, "element.revised", f"element:{row.id}", actor.ref, _evidence_payload(row)
        )
        return to_out(session, row)


def owned(
    session: Session, actor: Actor, element_id: uuid.UUID, *, lock: bool = False
) -> ElementDefinition:
    """The provider's own definition (oversight roles may read any)."""
    row = session.get(ElementDefinition, element_id, with_for_update=lock)
    if row is None or (
        actor.participant_id != row.provider_id
        and actor.role not in ("operator", "regulator", "system")
    ):
        raise NotFound("No such data element", "数据元件不存在", code="element.not_found")
    if lock and actor.participant_id != row.provider_id:
        raise PermissionDenied(
            "Only the provider changes its data elements",
            "只有提供方可以修改其数据元件",
            code="element.not_owner",
        )
    return row


def get(session: Session, actor: Actor, element_id: uuid.UUID) -> ElementOut:
    return to_out(session, owned(session, actor, element_id))


def list_own(session: Session, actor: Actor, limit: int = 200) -> list[ElementOut]:
    require(actor, "provider")
    rows = session.scalars(
        select(ElementDefinition)
        .where(ElementDefinition.provider_id == actor.participant_id)
        .order_by(ElementDefinition.updated_at.desc())
        .limit(limit)
    )
    return [to_out(session, r) for r in rows]


def as_input(definition: ElementDefinition) -> ElementIn:
    """The stored definition as the request shape (to rebuild its job)."""
    return msgspec.convert(
        {
            "name": definition.name,
            "title": definition.title,
            "sources": definition.sources,
            "sql": definition.sql,
            "steps": definition.steps,
            "quasi_identifiers": definition.quasi_identifiers,
            "k": definition.k,
            "on_violation": definition.on_violation,
        },
        ElementIn,
    )


def run_out(r: ElementRun) -> ElementRunOut:
    return ElementRunOut(
        id=r.id,
        definition_id=r.definition_id,
        revision=r.revision,
        status=r.status,
        actor=r.actor,
        inputs=r.inputs,
        rows_in=r.rows_in,
        rows_out=r.rows_out,
        suppressed=r.suppressed,
        k_report=r.k_report,
        columns=r.columns,
        output_path=r.output_path,
        sha256=r.sha256,
        sm3=r.sm3,
        resource_id=r.resource_id,
        resource_version=r.resource_version,
        product_id=r.product_id,
        error=r.error,
        duration_ms=r.duration_ms,
        started_at=r.started_at,
        finished_at=r.finished_at,
    )


def to_out(session: Session, row: ElementDefinition) -> ElementOut:
    last = session.scalars(
        select(ElementRun)
        .where(ElementRun.definition_id == row.id)
        .order_by(ElementRun.started_at.desc())
        .limit(1)
    ).first()
    return ElementOut(
        id=row.id,
        provider_id=row.provider_id,
        name=row.name,
        title=row.title,
        revision=row.revision,
        sources=row.sources,
        sql=row.sql,
        steps=row.steps,
        quasi_identifiers=row.quasi_identifiers,
        k=row.k,
        on_violation=row.on_violation,
        output_resource_id=row.output_resource_id,
        created_at=row.created_at,
        updated_at=row.updated_at,
        last_run=run_out(last) if last else None,
    )
