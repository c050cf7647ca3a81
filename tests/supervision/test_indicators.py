"""Supervision indicators against seeded data whose figures are known, the CSV export, the
recorded audit and the Prometheus endpoint, on both backends."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from litestar.testing import TestClient
from supervision_support import agreement, transfer, usage

import factories
from market_factories import provider_product
from shuchang.db import utcnow
from shuchang.platform import Platform

API = "/api/v1/supervision"


def _seed(platform: Platform) -> dict[str, object]:
    operator = factories.operator(platform)
    regulator = factories.regulator(platform)
    provider = factories.participant(platform, roles=("provider",))
    bank = factories.participant(platform, roles=("consumer",))
    factories.participant(platform, kind="public_institution", roles=("service_firm",))
    for status in ("listed", "listed", "draft"):
        provider_product(platform, provider=provider, status=status)
    now = utcnow()
    # Noon in Shanghai today, so the "today" bucket is the same day in UTC+8.
    today = (now + timedelta(hours=8)).replace(
        hour=12, minute=0, second=0, microsecond=0
    ) - timedelta(hours=8)
    one_off = agreement(
        platform, provider.id, bank.id, price_model="one_off", price_fen=80_000, concluded=today
    )
    per_call = agreement(
        platform, provider.id, bank.id, price_model="per_call", price_fen=50, concluded=today
    )
    agreement(
        platform,
        provider.id,
        bank.id,
        price_model="subscription",
        price_fen=120_000,
        concluded=today,
        period="month",
    )
    agreement(
        platform,
        provider.id,
        bank.id,
        price_model="one_off",
        price_fen=1,
        concluded=today - timedelta(days=400),
        days=30,
    )
    t = transfer(platform, per_call, provider.id, "STARTED")
    transfer(platform, one_off, provider.id, "COMPLETED")
    usage(platform, per_call, t, bank.id, today, permitted=7, denied=2)
    usage(platform, per_call, t, bank.id, today - timedelta(days=1), permitted=3)
    return {"operator": operator, "regulator": regulator, "today": today}


def _table(body: dict[str, object], name: str) -> list[list[object]]:
    tables = {t["name"]: t for t in body["tables"]}  # type: ignore[attr-defined, index]
    return tables[name]["rows"]  # type: ignore[no-any-return]


def test_indicators_match_the_seeded_figures(platform: Platform, client: TestClient) -> None:  # type: ignore[type-arg]
    seeded = _seed(platform)
    regulator = seeded["regulator"]
    response = client.get(f"{API}/indicators", headers=regulator.headers)  # type: ignore[attr-defined]
    assert response.status_code == 200, response.text
    body = response.json()
    assert ["enterprise", "active", 2] in _table(body, "participants")
    assert ["government", "active", 2] in _table(body, "participants")
    assert ["public_institution", "active", 1] in _table(body, "participants")
    assert _table(body, "resources") == [["active", "general", "L", 3]]
    assert ["listed", "dataset", "general", "L", 2] in _table(body, "products")
    assert ["draft", "dataset", "general", "L", 1] in _table(body, "products")
    assert _table(body, "agreements") == [["active", 3], ["expired", 1]]
    assert _table(body, "transfers") == [["provider", "COMPLETED", 1], ["provider", "STARTED", 1]]
    day = f"{seeded['today'] + timedelta(hours=8):%Y-%m-%d}"  # type: ignore[operator]
    requests = _table(body, "requests")
    assert requests[-1] == [day, 9, 7, 2]
    assert sum(r[1] for r in requests) == 12  # type: ignore[misc]
    month = f"{seeded['today'] + timedelta(hours=8):%Y-%m}"  # type: ignore[operator]
    value = {r[0]: r for r in _table(body, "transaction_value")}
    # one-off 80,000 + subscription 120,000 a month for 12 months; per call 50 fen x 10 permitted
    # (the day before may fall in the previous month: count both months' metered value)
    assert value[month][1] == 80_000 + 120_000 * 12
    assert sum(r[2] for r in value.values()) == 50 * 10  # type: ignore[misc]
    assert body["headline"]["agreements_active"] == 3
    assert body["headline"]["requests_today"] == 9
    assert all(r[3] == 0 for r in value.values())  # nothing settled yet
    settlement = {t["name"]: t for t in body["tables"]}["settlement_status"]
    assert settlement["available"] is True and settlement["rows"] == []


def test_only_oversight_sees_indicators(platform: Platform, client: TestClient) -> None:  # type: ignore[type-arg]
    provider = factories.participant(platform, roles=("provider",))
    response = client.get(f"{API}/indicators", headers=provider.headers)
    assert response.status_code == 403 and response.json()["code"] == "role.forbidden"
    assert client.get(f"{API}/indicators").status_code == 401


def test_every_indicator_exports_as_csv_with_a_bom(platform: Platform, client: TestClient) -> None:  # type: ignore[type-arg]
    seeded = _seed(platform)
    operator = seeded["operator"]
    names = [
        t["name"]
        for t in client.get(f"{API}/indicators", headers=operator.headers).json()["tables"]
    ]  # type: ignore[attr-defined]
    assert len(names) == 10
    for name in names:
        response = client.get(f"{API}/indicators/{name}/csv", headers=operator.headers)  # type: ignore[attr-defined]
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/csv")
        assert response.content.startswith("\ufeff".encode())
        rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
        table = client.get(f"{API}/indicators/{name}", headers=operator.headers).json()  # type: ignore[attr-defined]
        assert rows[0] == [
            f"{zh} {en}" for zh, en in zip(table["columns_zh"], table["columns"], strict=True)
        ]
        assert len(rows) == len(table["rows"]) + 1
    participants = client.get(f"{API}/indicators/participants/csv", headers=operator.headers)  # type: ignore[attr-defined]
    assert "主体类型 kind" in participants.content.decode("utf-8-sig")
    unknown = client.get(f"{API}/indicators/nothing/csv", headers=operator.headers)  # type: ignore[attr-defined]
    assert unknown.status_code == 404


def test_an_audit_is_recorded_and_shown(platform: Platform, client: TestClient) -> None:  # type: ignore[type-arg]
    regulator = factories.regulator(platform)
    ran = client.post(f"{API}/audits", headers=regulator.headers)
    assert ran.status_code == 201 and ran.json()["ok"] is True
    body = client.get(f"{API}/indicators", headers=regulator.headers).json()
    assert body["last_audit"]["id"] == ran.json()["id"]


def test_metrics_are_prometheus_text_collected_on_scrape(
    platform: Platform, client: TestClient
) -> None:  # type: ignore[type-arg]
    _seed(platform)
    client.get("/healthz")
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    text = response.text
    assert 'shuchang_agreements{status="active"} 3.0' in text
    assert 'shuchang_participants{status="active"} 5.0' in text
    assert "# TYPE shuchang_evidence_queue_length gauge" in text
    assert 'shuchang_http_requests_total{code="2xx",method="GET"}' in text
    assert "shuchang_evidence_audit_ok -1.0" in text
    from prometheus_client.parser import text_string_to_metric_families

    names = {f.name for f in text_string_to_metric_families(text)}
    assert {"shuchang_products", "shuchang_evidence_log_size", "shuchang_http_requests"} <= names


def test_metrics_need_the_token_once_one_is_set(platform: Platform) -> None:
    import dataclasses

    from shuchang.app import create_app

    guarded = dataclasses.replace(platform.settings, metrics_token="scrape-secret-0123456789")
    shared = Platform(settings=guarded, engine=platform.engine, sessions=platform.sessions)
    with TestClient(create_app(guarded, shared)) as client:
        assert client.get("/metrics").status_code == 401
        assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
        ok = client.get("/metrics", headers={"Authorization": "Bearer scrape-secret-0123456789"})
        assert ok.status_code == 200


@pytest.mark.parametrize("host", ["10.0.0.8", "203.0.113.9"])
def test_without_a_token_only_loopback_may_scrape(host: str) -> None:
    from types import SimpleNamespace

    from shuchang.domains.supervision.metrics import admit
    from shuchang.errors import PermissionDenied

    admit("", None, SimpleNamespace(host="127.0.0.1"))
    with pytest.raises(PermissionDenied):
        admit("", None, SimpleNamespace(host=host))
    assert datetime.now(UTC)
