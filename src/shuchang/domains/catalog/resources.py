"""Use cases for data resources (资源登记): register, version, read, import in bulk."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import msgspec
from sqlalchemy import Connection, Integer, Uuid, bindparam, func, select
from sqlalchemy.orm import Session

from shuchang.db import row_values, table_of, utcnow
from shuchang.domains import evidence
from shuchang.domains.catalog import search
from shuchang.domains.catalog.models import Resource, ResourceVersion
from shuchang.domains.catalog.schemas import ResourceIn, ResourceOut, VersionOut
from shuchang.domains.catalog.textindex import index_chars, index_text
from shuchang.domains.participants import Actor, find, require
from shuchang.errors import NotFound, PermissionDenied, ValidationFailed

OVERSIGHT = ("operator", "regulator")


def _fault(field: str, en: str, zh: str, code: str = "resource.invalid") -> ValidationFailed:
    return ValidationFailed(en, zh, code=code, field=field)


def check_consistency(data: ResourceIn) -> None:
    """Rules a schema cannot say: unique field names, flags agree with field sensitivity."""
    names = [f.name for f in data.fields]
    duplicate = next((n for n in names if names.count(n) > 1), None)
    if duplicate:
        raise _fault("fields", f"Field {duplicate} appears twice", f"字段 {duplicate} 重复")
    levels = {f.sensitivity for f in data.fields}
    if "sensitive_personal" in levels and not data.sensitive_personal_info:
        raise _fault(
            "sensitive_personal_info",
            "A field is sensitive personal information; set sensitive_personal_info",
            "有字段属于敏感个人信息，须标记 sensitive_personal_info",
        )
    if levels & {"personal", "sensitive_personal"} and not data.personal_info:
        raise _fault(
            "personal_info",
            "A field is personal information; set personal_info",
            "有字段属于个人信息，须标记 personal_info",
        )
    if data.sensitive_personal_info and not data.personal_info:
        raise _fault(
            "personal_info",
            "Sensitive personal information is personal information",
            "敏感个人信息也是个人信息，须标记 personal_info",
        )
    if data.temporal_start and data.temporal_end and data.temporal_end < data.temporal_start:
        raise _fault(
            "temporal_end", "temporal_end is before temporal_start", "时间范围的结束早于开始"
        )


def _provider(session: Session, actor: Actor, data: ResourceIn) -> uuid.UUID:
    """Whose resource this is: the acting provider's own; only the platform names another."""
    if actor.role == "system":
        if data.provider_id is None:
            raise _fault(
                "provider_id",
                "provider_id is required here",
                "此处须指定 provider_id",
                code="resource.provider_required",
            )
        provider = find(session, data.provider_id)
        if provider is None or provider.status != "active" or "provider" not in provider.roles:
            raise _fault(
                "provider_id",
                "Not an active provider",
                "不是已启用的提供方",
                code="resource.provider_invalid",
            )
        return provider.id
    require(actor, "provider")
    assert actor.participant_id is not None
    if data.provider_id not in (None, actor.participant_id):
        raise PermissionDenied(
            "Cannot register resources for another participant",
            "不能为其他参与方登记资源",
            code="resource.not_owner",
        )
    return actor.participant_id


def version_values(
    resource_id: uuid.UUID, version: int, data: ResourceIn, actor: Actor, now: datetime
) -> dict[str, Any]:
    """The columns of a ResourceVersion row (plain values: bulk import inserts them as is)."""
    return {
        "resource_id": resource_id,
        "version": version,
        "title": data.title,
        "title_en": data.title_en,
        "description": data.description,
        "description_en": data.description_en,
        "fields": msgspec.to_builtins(data.fields),
        "source": data.source,
        "legal_basis": data.legal_basis,
        "update_frequency": data.update_frequency,
        "regions": list(data.regions),
        "temporal_start": data.temporal_start,
        "temporal_end": data.temporal_end,
        "tags": sorted(set(data.tags)),
        "industry": data.industry,
        "classification": data.classification,
        "personal_info": data.personal_info,
        "sensitive_personal_info": data.sensitive_personal_info,
        "location": msgspec.to_builtins(data.location),
        "created_at": now,
        "created_by": actor.ref,
    }


def entry_of(resource: Mapping[str, Any], v: Mapping[str, Any]) -> search.EntryData:
    """Index data of a resource's current version (both as column values).

    Core data stays out of the public view.
    """
    # Short, telling text first: the index keeps the first MAX_TERMS terms of a wide schema.
    fields = v["fields"]
    texts = (
        v["title"],
        v["title_en"],
        " ".join(v["tags"]),
        " ".join(f["name"] for f in fields),
        v["description"],
        v["description_en"],
        " ".join(f.get("description", "") for f in fields),
    )
    return search.EntryData(
        doc_type="resource",
        doc_id=resource["id"],
        provider_id=resource["provider_id"],
        visible=v["classification"] != "core" and resource["status"] == "active",
        title=v["title"],
        summary=v["description"][:300],
        kind=None,
        classification=v["classification"],
        industries=[v["industry"]],
        regions=list(v["regions"]),
        price_fen=None,
        price_model=None,
        price_period=None,
        tags=list(v["tags"]),
        body=index_text(*texts),
        chars=index_chars(*texts),
        updated_at=resource["updated_at"],
    )


def evidence_payload(v: Mapping[str, Any]) -> dict[str, Any]:
    """What the log says about a version: a plain shape (strings, integers, booleans)."""
    return {
        "version": v["version"],
        "title": v["title"],
        "classification": v["classification"],
        "personal_info": v["personal_info"],
        "sensitive_personal_info": v["sensitive_personal_info"],
        "fields": [f["name"] for f in v["fields"]],
    }


def build(
    session: Session, actor: Actor, data: ResourceIn, now: datetime
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Validate a new resource; its row and its first version's row as column values."""
    check_consistency(data)
    provider_id = _provider(session, actor, data)
    resource_id = uuid.uuid4()
    resource: dict[str, Any] = {
        "id": resource_id,
        "provider_id": provider_id,
        "version": 1,
        "status": "active",
        "created_at": now,
        "updated_at": now,
    }
    return resource, version_values(resource_id, 1, data, actor, now)


def register(session: Session, actor: Actor, data: ResourceIn) -> ResourceOut:
    now = utcnow()
    values, version_columns = build(session, actor, data, now)
    session.add(Resource(**values))
    session.flush()
    session.add(ResourceVersion(**version_columns))
    search.index(session, [entry_of(values, version_columns)], fresh=True)
    evidence.record(
        session,
        "resource.registered",
        f"resource:{values['id']}",
        actor.ref,
        evidence_payload(version_columns),
    )
    return out_of(values, version_columns, show_location=True)


def _owned(session: Session, actor: Actor, resource_id: uuid.UUID) -> Resource:
    resource = session.get(Resource, resource_id)
    if resource is None:
        raise NotFound("Resource not found", "数据资源不存在", code="resource.not_found")
    if actor.role != "system" and actor.participant_id != resource.provider_id:
        raise PermissionDenied(
            "Only the resource's provider may change it",
            "只有资源的提供方可以修改",
            code="resource.not_owner",
        )
    return resource


def revise(session: Session, actor: Actor, resource_id: uuid.UUID, data: ResourceIn) -> ResourceOut:
    """Register a new version; earlier versions stay readable and products keep theirs."""
    check_consistency(data)
    resource = _owned(session, actor, resource_id)
    now = utcnow()
    resource.version += 1
    resource.updated_at = now
    columns = version_values(resource.id, resource.version, data, actor, now)
    version = ResourceVersion(**columns)
    session.add(version)
    search.index(session, [entry_of(row_values(resource), columns)])
    evidence.record(
        session, "resource.revised", f"resource:{resource.id}", actor.ref, evidence_payload(columns)
    )
    return to_out(resource, version, show_location=True)


_R, _V = table_of(Resource), table_of(ResourceVersion)
_CURRENT = _V.alias("current_version")
# One statement per lookup: the asked-for version, the resource row and the current
# version's classification (a lookup is the catalog's hottest read; three ORM loads cost
# three times the CPU of this one Core statement).
_LOOKUP = (
    select(
        _R.c.provider_id,
        _R.c.version.label("latest_version"),
        _R.c.status,
        _CURRENT.c.classification.label("current_classification"),
        *(c for c in _V.c if c.key != "resource_id"),
    )
    .join(
        _V,
        (_V.c.resource_id == _R.c.id)
        & (_V.c.version == func.coalesce(bindparam("version", type_=Integer), _R.c.version)),
    )
    .join(_CURRENT, (_CURRENT.c.resource_id == _R.c.id) & (_CURRENT.c.version == _R.c.version))
    .where(_R.c.id == bindparam("id", type_=Uuid))
)


def get(
    session: Session | Connection,
    actor: Actor,
    resource_id: uuid.UUID,
    version: int | None = None,
) -> ResourceOut:
    """A resource as the actor may see it: core data and locations only for owner and oversight."""
    row = session.execute(_LOOKUP, {"id": resource_id, "version": version}).mappings().first()
    if row is None:
        exists = select(_R.c.id).where(_R.c.id == resource_id)
        if version is None or session.execute(exists).first() is None:
            raise NotFound("Resource not found", "数据资源不存在", code="resource.not_found")
        raise NotFound(
            "No such version", "该版本不存在", code="resource.version_not_found", field="version"
        )
    privileged = actor.participant_id == row["provider_id"] or actor.role in (
        *OVERSIGHT,
        "system",
    )
    # Visibility follows the current classification: reclassified core data hides old versions.
    if "core" in (row["classification"], row["current_classification"]) and not privileged:
        raise NotFound("Resource not found", "数据资源不存在", code="resource.not_found")
    resource = {
        "id": resource_id,
        "provider_id": row["provider_id"],
        "version": row["latest_version"],
        "status": row["status"],
    }
    return out_of(resource, dict(row), show_location=privileged)


def versions(session: Session, actor: Actor, resource_id: uuid.UUID) -> list[VersionOut]:
    get(session, actor, resource_id)
    rows = session.scalars(
        select(ResourceVersion)
        .where(ResourceVersion.resource_id == resource_id)
        .order_by(ResourceVersion.version)
    )
    return [VersionOut(r.version, r.title, r.created_at, r.created_by) for r in rows]


def to_out(resource: Resource, v: ResourceVersion, *, show_location: bool) -> ResourceOut:
    return out_of(row_values(resource), row_values(v), show_location=show_location)


def out_of(
    resource: Mapping[str, Any], v: Mapping[str, Any], *, show_location: bool
) -> ResourceOut:
    return ResourceOut(
        id=resource["id"],
        provider_id=resource["provider_id"],
        version=v["version"],
        latest_version=resource["version"],
        status=resource["status"],
        title=v["title"],
        title_en=v["title_en"],
        description=v["description"],
        description_en=v["description_en"],
        fields=v["fields"],
        source=v["source"],
        legal_basis=v["legal_basis"],
        update_frequency=v["update_frequency"],
        regions=v["regions"],
        temporal_start=v["temporal_start"],
        temporal_end=v["temporal_end"],
        tags=v["tags"],
        industry=v["industry"],
        classification=v["classification"],
        personal_info=v["personal_info"],
        sensitive_personal_info=v["sensitive_personal_info"],
        location=v["location"] if show_location else None,
        created_at=v["created_at"],
    )
