"""Helpers the onboarding tests share: request bodies, problem checks, row counts.

Plain functions (not fixtures) so each test reads top to bottom; the fixtures live in the
``conftest.py`` beside this file.
"""

from __future__ import annotations

import itertools
from typing import Any

import httpx
from sqlalchemy import Engine, func, select

from factories import identifier_for
from shuchang.models import metadata

PROBLEM_JSON = "application/problem+json"
_names = itertools.count(1)


def unique_name(prefix: str = "温州测试科技") -> str:
    return f"{prefix}{next(_names)}有限公司"


def body(**overrides: Any) -> dict[str, Any]:
    """A valid registration request for a fresh enterprise; ``overrides`` replace fields."""
    kind = overrides.get("kind", "enterprise")
    data: dict[str, Any] = {
        "kind": kind,
        "name": unique_name(),
        "identifier": identifier_for(kind),
        "roles": ["consumer"],
    }
    data.update(overrides)
    return data


def bearer(secret: str | None) -> dict[str, str]:
    assert secret, "this participant received no API key"
    return {"Authorization": f"Bearer {secret}"}


def table_counts(engine: Engine) -> dict[str, int]:
    """Row count of every table the models declare (the evidence outbox included)."""
    tables = metadata.sorted_tables
    one_query = select(
        *(select(func.count()).select_from(t).scalar_subquery().label(t.name) for t in tables)
    )
    with engine.connect() as conn:
        row = conn.execute(one_query).one()
    return {t.name: int(row._mapping[t.name]) for t in tables}


def changed(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    """The tables whose count moved, with the difference.

    The evidence log's own queue (``evidence_pending``, ``tlog_*``) is left out: it follows
    the outbox one for one and belongs to the evidence domain, which tests it.
    """
    return {
        name: after[name] - before[name]
        for name in after
        if after[name] != before[name] and not _log_bookkeeping(name)
    }


def _log_bookkeeping(table: str) -> bool:
    return table == "evidence_pending" or table.startswith("tlog_")


def assert_problem(
    response: httpx.Response, status: int, code: str, field: str | None = None
) -> dict[str, Any]:
    """The response is an RFC 9457 problem with this status, stable code and field."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    problem: dict[str, Any] = response.json()
    assert problem["status"] == status
    assert problem["code"] == code, problem
    assert problem["type"] == f"/problems/{code}"
    assert problem["message_zh"].strip() and problem["message_en"].strip()
    if field is not None:
        assert problem.get("field") == field, problem
    return problem


def steps_by_name(steps: list[dict[str, Any]]) -> dict[str, tuple[str, str]]:
    """``{step: (result, reason)}`` of the latest verification run in a response."""
    latest = max(s["run"] for s in steps)
    return {s["step"]: (s["result"], s["reason"]) for s in steps if s["run"] == latest}


def for_each(cases: dict[str, Any], check: Any) -> None:
    """Run ``check(case)`` for every case and report every failing case, not just the first.

    Used where the setup (a migrated database, the app, its members) costs far more than
    one case, so the cases share it instead of each building their own.
    """
    failures: dict[str, AssertionError] = {}
    for name, case in cases.items():
        try:
            check(case)
        except AssertionError as exc:
            failures[name] = exc
    assert not failures, "\n".join(f"[{name}] {exc}" for name, exc in failures.items())
