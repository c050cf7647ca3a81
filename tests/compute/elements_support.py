# ruff: noqa: S608 - test queries over the tests' own scratch files
"""Helpers of the data-element tests: a power company with meter readings in its data root,
and a runner that runs jobs in this process (the same code as the child process's body)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import msgspec

import factories
from shuchang.domains.catalog import ResourceIn, register_resource
from shuchang.domains.compute.element_runner import Job, Outcome, Refused, execute
from shuchang.domains.compute.element_schemas import ElementIn
from shuchang.domains.participants import Actor
from shuchang.platform import Platform

METER_SQL = (
    "SELECT uscc, date_trunc('month', read_at)::DATE AS month, district, "
    "sum(kwh) AS kwh FROM meter GROUP BY ALL"
)


class InProcessRunner:
    """Runs the job's three phases here (no subprocess): fast, and the same functions."""

    def __init__(self) -> None:
        self.jobs: list[Job] = []

    def run(self, job: Job) -> Outcome:
        self.jobs.append(job)
        try:
            return execute(job)
        except Refused as exc:
            return Outcome(ok=False, code=exc.code, en=exc.en, zh=exc.zh, field=exc.field)


def write_meter_readings(root: Path, enterprises: int = 60, days: int = 90) -> Path:
    """Invented, deterministic daily readings: ``enterprises`` × ``days`` rows."""
    path = root / "power" / "meter_readings.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    duckdb.sql(
        f"""
        COPY (
          SELECT '91330300MA' || lpad(CAST(e AS VARCHAR), 8, '0') AS uscc,
                 DATE '2025-01-01' + CAST(d AS INTEGER) AS read_at,
                 '3303' || lpad(CAST(e % 3 + 1 AS VARCHAR), 2, '0') AS district,
                 CAST((e * 37 + d * 11) % 500 AS DOUBLE) / 10 AS kwh
          FROM range({enterprises}) AS t(e), range({days}) AS u(d)
        ) TO '{path}' (FORMAT parquet)
        """
    )
    return path


@dataclass
class PowerCompany:
    member: factories.Member
    resource_id: uuid.UUID

    @property
    def actor(self) -> Actor:
        return Actor(participant_id=self.member.id, role="provider")


def power_company(platform: Platform, root: Path, **resource: Any) -> PowerCompany:
    member = factories.participant(
        platform, kind="enterprise", roles=("provider",), name="国网东瓯供电公司"
    )
    write_meter_readings(root)
    body = {
        "title": "企业用电计量数据",
        "description": "东瓯市工商业用户的日用电计量读数，来自用电信息采集系统。",
        "fields": [
            {"name": "uscc", "type": "string", "role": "identifier"},
            {"name": "read_at", "type": "date"},
            {"name": "district", "type": "string", "role": "dimension"},
            {"name": "kwh", "type": "decimal", "role": "measure"},
        ],
        "source": "用电信息采集系统",
        "update_frequency": "daily",
        "industry": "D44",
        "classification": "important",
        "location": {"type": "file", "path": "/power/meter_readings.parquet", "format": "parquet"},
        "tags": ["用电"],
        **resource,
    }
    actor = Actor(participant_id=member.id, role="provider")
    with platform.unit() as s:
        rid = register_resource(s, actor, msgspec.convert(body, ResourceIn)).id
    return PowerCompany(member, rid)


def definition(company: PowerCompany, **overrides: Any) -> ElementIn:
    body: dict[str, Any] = {
        "name": "monthly-power-index",
        "title": "企业月度用电指数",
        "sources": [{"alias": "meter", "resource_id": str(company.resource_id)}],
        "sql": METER_SQL,
        "steps": [
            {"op": "hash", "column": "uscc"},
            {"op": "generalize_date", "column": "month", "to": "month"},
            {"op": "band", "column": "kwh", "width": 500},
        ],
        "quasi_identifiers": ["district", "kwh"],
        "k": 5,
        "on_violation": "fail",
        **overrides,
    }
    return msgspec.convert(body, ElementIn)
