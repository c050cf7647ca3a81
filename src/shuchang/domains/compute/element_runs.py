"""Running a data element and listing its output (数据元件的加工与上架).

A run resolves the sources' current versions, runs the transformation in the locked-down
runner (no database transaction is open meanwhile), then in one transaction records the run,
registers the output Parquet file as a new version of the element's output resource and writes
the evidence (input and output digests, the k-anonymity report). The file is moved into place
just before that transaction and removed again if it fails, so a failed run leaves no file, no
resource version and no product — only a failed-run record saying why.
"""

from __future__ import annotations

import hashlib
import os
import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import msgspec
from cryptography.hazmat.primitives import hashes
from sqlalchemy import select
from sqlalchemy.orm import Session

from shuchang.datasources import DataSources
from shuchang.db import utcnow
from shuchang.domains import evidence
from shuchang.domains.catalog import (
    ProductIn,
    ProductOut,
    ResourceIn,
    ResourceOut,
    create_product,
    get_resource,
    register_resource,
    revise_resource,
    submit_product,
)
from shuchang.domains.compute import deidentify, elements
from shuchang.domains.compute.element_models import ElementDefinition, ElementRun
from shuchang.domains.compute.element_runner import Outcome, Runner
from shuchang.domains.compute.element_schemas import ElementListing, ElementRunOut
from shuchang.domains.participants import Actor, require
from shuchang.errors import InvalidTransition, NotFound, ShuchangError
from shuchang.settings import Settings

GRADE = {"general": 0, "important": 1, "core": 2}
CATALOG_TYPES = (
    ("VARCHAR", "string"),
    ("BOOLEAN", "boolean"),
    ("TIMESTAMP", "datetime"),
    ("DATE", "date"),
    ("DOUBLE", "decimal"),
    ("FLOAT", "decimal"),
    ("DECIMAL", "decimal"),
    ("INT", "integer"),
)


def digests(path: Path) -> tuple[str, str]:
    """SHA-256 and SM3 of a file, hex."""
    sha, sm3 = hashlib.sha256(), hashes.Hash(hashes.SM3())
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            sha.update(block)
            sm3.update(block)
    return sha.hexdigest(), sm3.finalize().hex()


def _catalog_type(duck: str) -> str:
    return next((t for prefix, t in CATALOG_TYPES if prefix in duck.upper()), "json")


def _resource_in(
    definition: ElementDefinition, outcome: Outcome, sources: list[ResourceOut], path: str
) -> ResourceIn:
    grade = max((s.classification for s in sources), key=GRADE.__getitem__)
    legal = next((s.legal_basis for s in sources if s.legal_basis), None)
    titles = "、".join(s.title for s in sources)
    return msgspec.convert(
        {
            "title": definition.title,
            "description": f"数据元件 {definition.name}（第 {definition.revision} 版加工规则）"
            f"的输出，由 {titles} 加工并去标识化，k={definition.k}。",
            "fields": [
                {"name": c["name"], "type": _catalog_type(c["type"])} for c in outcome.columns
            ],
            "source": f"数据元件 {definition.name}",
            "update_frequency": "once",
            "industry": sources[0].industry,
            "classification": grade,
            "location": {"type": "file", "path": path, "format": "parquet"},
            "legal_basis": legal,
            "regions": sorted({r for s in sources for r in s.regions})[:50],
            "tags": ["数据元件"],
            "personal_info": any(s.personal_info for s in sources),
            "sensitive_personal_info": any(s.sensitive_personal_info for s in sources),
        },
        ResourceIn,
    )


def _inputs(outcome: Outcome, sources: list[ResourceOut]) -> list[dict[str, Any]]:
    if len(outcome.inputs) != len(sources):  # the runner failed before it read them all
        return [{"resource_id": str(s.id), "version": s.version} for s in sources]
    return [
        {
            "alias": meta["alias"],
            "resource_id": str(s.id),
            "version": s.version,
            "rows": meta["rows"],
            "sha256": meta["sha256"],
        }
        for meta, s in zip(outcome.inputs, sources, strict=True)
    ]


def _k_summary(report: dict[str, Any] | None) -> dict[str, Any] | None:
    return {k: v for k, v in report.items() if k != "sample"} if report else None


@dataclass(frozen=True)
class _Attempt:
    """One run in progress: who runs which definition, since when, over which sources."""

    unit: elements.Unit
    actor: Actor
    definition: ElementDefinition
    run_id: uuid.UUID
    started_at: datetime
    t0: float
    sources: list[ResourceOut]

    @property
    def duration_ms(self) -> int:
        return int((time.monotonic() - self.t0) * 1000)


def _record_failure(
    at: _Attempt, error: ShuchangError, inputs: list[dict[str, Any]]
) -> ElementRunOut:
    unit, actor, definition = at.unit, at.actor, at.definition
    with unit() as session:
        run = ElementRun(
            id=at.run_id,
            definition_id=definition.id,
            revision=definition.revision,
            status="failed",
            actor=actor.ref,
            inputs=inputs,
            k_report=error.extra.get("k_report"),
            error={
                "code": error.code,
                "message_en": error.message_en,
                "message_zh": error.message_zh,
                "field": error.field,
            },
            duration_ms=at.duration_ms,
            started_at=at.started_at,
            finished_at=utcnow(),
        )
        session.add(run)
        session.flush()
        evidence.record(
            session,
            "element.run_failed",
            f"element:{definition.id}",
            actor.ref,
            {"run": str(run.id), "revision": run.revision, "code": error.code, "inputs": inputs},
        )
        return elements.run_out(run)


def run(
    unit: elements.Unit, settings: Settings, actor: Actor, element_id: uuid.UUID, runner: Runner
) -> ElementRunOut:
    """Run the current revision once. A refused run is recorded and raised (422 problem
    with ``run`` naming the failed-run record); a successful one returns its record."""
    require(actor, "provider")
    started_at, t0 = utcnow(), time.monotonic()
    run_id = uuid.uuid4()
    data_root = DataSources.of(settings).root
    with unit() as session:
        definition = elements.owned(session, actor, element_id)
        session.expunge(definition)
        relative = f"/elements/{definition.name}/{run_id}.parquet"
        target = data_root / relative.lstrip("/")
        job, sources = elements.build_job(
            session,
            settings,
            actor,
            elements.as_input(definition),
            secret=definition.secret,
            output=str(target),
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = Path(str(target) + ".partial")
    at = _Attempt(unit, actor, definition, run_id, started_at, t0, sources)
    outcome = runner.run(job)
    if not outcome.ok:
        partial.unlink(missing_ok=True)
        error = elements.refusal(outcome)
        failed = _record_failure(at, error, _inputs(outcome, sources))
        error.extra["run"] = str(failed.id)
        raise error
    sha256, sm3 = digests(partial)
    os.replace(partial, target)
    try:
        return _record_success(at, outcome, (relative, sha256, sm3))
    except BaseException:
        target.unlink(missing_ok=True)
        raise


def _record_success(at: _Attempt, outcome: Outcome, output: tuple[str, str, str]) -> ElementRunOut:
    unit, actor, definition, sources = at.unit, at.actor, at.definition, at.sources
    run_id, started_at = at.run_id, at.started_at
    relative, sha256, sm3 = output
    with unit() as session:
        row = elements.owned(session, actor, definition.id, lock=True)
        if row.revision != definition.revision:
            raise InvalidTransition(
                "The definition was revised during the run; run it again",
                "运行期间加工规则已修订，请重新运行",
                code="element.revised_meanwhile",
            )
        data = _resource_in(row, outcome, sources, relative)
        if row.output_resource_id is None:
            resource = register_resource(session, actor, data)
            row.output_resource_id = resource.id
        else:
            resource = revise_resource(session, actor, row.output_resource_id, data)
        inputs = _inputs(outcome, sources)
        record = ElementRun(
            id=run_id,
            definition_id=row.id,
            revision=row.revision,
            status="succeeded",
            actor=actor.ref,
            inputs=inputs,
            rows_in=outcome.rows_in,
            rows_out=outcome.rows_out,
            suppressed=outcome.suppressed,
            k_report=outcome.k_report,
            columns=outcome.columns,
            output_path=relative,
            sha256=sha256,
            sm3=sm3,
            resource_id=resource.id,
            resource_version=resource.version,
            duration_ms=at.duration_ms,
            started_at=started_at,
            finished_at=utcnow(),
        )
        session.add(record)
        session.flush()
        evidence.record(
            session,
            "element.run",
            f"element:{row.id}",
            actor.ref,
            {
                "run": str(run_id),
                "revision": row.revision,
                "inputs": inputs,
                "output": {
                    "path": relative,
                    "sha256": sha256,
                    "sm3": sm3,
                    "rows": outcome.rows_out,
                },
                "resource": {"id": str(resource.id), "version": resource.version},
                "suppressed": outcome.suppressed,
                "k_anonymity": _k_summary(outcome.k_report),
                "steps": deidentify.describe(msgspec.convert(row.steps, list[deidentify.Step])),
            },
        )
        return elements.run_out(record)


def runs(
    session: Session, actor: Actor, element_id: uuid.UUID, limit: int = 50
) -> list[ElementRunOut]:
    elements.owned(session, actor, element_id)
    rows = session.scalars(
        select(ElementRun)
        .where(ElementRun.definition_id == element_id)
        .order_by(ElementRun.started_at.desc())
        .limit(limit)
    )
    return [elements.run_out(r) for r in rows]


def get_run(session: Session, actor: Actor, run_id: uuid.UUID) -> ElementRunOut:
    row = session.get(ElementRun, run_id)
    if row is None:
        raise NotFound("No such run", "运行记录不存在", code="element.run_not_found")
    elements.owned(session, actor, row.definition_id)
    return elements.run_out(row)


def transformation_text(definition: ElementDefinition, run: ElementRun) -> str:
    """What the product's ``transformation`` says: SQL, steps, k-anonymity, digests."""
    report = run.k_report or {}
    steps = deidentify.describe(msgspec.convert(definition.steps, list[deidentify.Step]))
    lines = [
        f"数据元件 {definition.name} 第 {run.revision} 版 · run {run.id}",
        f"SQL: {definition.sql}",
        "去标识化 steps: " + ("; ".join(steps) if steps else "（无）"),
        f"k-匿名 k={definition.k} over {', '.join(definition.quasi_identifiers)}: "
        f"smallest class {report.get('smallest_class')}, suppressed {run.suppressed} rows "
        f"({definition.on_violation})",
    ]
    lines += [
        f"input {i['alias']}: resource {i['resource_id']} v{i['version']} sha256 {i['sha256']}"
        for i in run.inputs
        if "alias" in i
    ]
    lines.append(f"output: {run.output_path} rows {run.rows_out} sha256 {run.sha256} sm3 {run.sm3}")
    return "\n".join(lines)[:5000]


def _listable(
    session: Session, actor: Actor, run_id: uuid.UUID
) -> tuple[ElementDefinition, ElementRun]:
    record = session.get(ElementRun, run_id, with_for_update=True)
    if record is None:
        raise NotFound("No such run", "运行记录不存在", code="element.run_not_found")
    definition = elements.owned(session, actor, record.definition_id, lock=True)
    if record.status != "succeeded" or record.product_id is not None:
        raise InvalidTransition(
            "Only a successful run not yet listed can be listed",
            "只有成功且尚未上架的运行结果可以上架",
            code="element.run_not_listable",
        )
    assert definition.output_resource_id is not None
    current = get_resource(session, actor, definition.output_resource_id)
    stale = current.version != record.resource_version or any(
        get_resource(session, actor, uuid.UUID(i["resource_id"])).version != i["version"]
        for i in record.inputs
    )
    if stale:
        raise InvalidTransition(
            "A source or the output changed since this run; list the latest run",
            "该次运行之后来源或输出已更新，请上架最新一次运行的结果",
            code="element.run_stale",
        )
    return definition, record


def list_run(
    session: Session, actor: Actor, run_id: uuid.UUID, listing: ElementListing
) -> ProductOut:
    """Offer a successful run's output as a ``data_element`` product; its lineage pins the
    output resource version and the source resource versions the run read."""
    require(actor, "provider")
    definition, record = _listable(session, actor, run_id)
    assert record.resource_id is not None
    body = {
        "kind": "data_element",
        "title": listing.title,
        "title_en": listing.title_en,
        "description": listing.description,
        "description_en": listing.description_en,
        "resources": [str(record.resource_id), *(i["resource_id"] for i in record.inputs)],
        "policy": listing.policy,
        "price": msgspec.to_builtins(listing.price),
        "tags": sorted({*listing.tags, "数据元件"}),
        "transformation": transformation_text(definition, record),
    }
    product = create_product(session, actor, msgspec.convert(body, ProductIn))
    record.product_id = product.id
    evidence.record(
        session,
        "element.listed",
        f"element:{definition.id}",
        actor.ref,
        {
            "run": str(record.id),
            "product": str(product.id),
            "sha256": record.sha256,
            "sm3": record.sm3,
        },
    )
    return submit_product(session, actor, product.id) if listing.submit else product
