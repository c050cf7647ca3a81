"""End to end: two Shuchang deployments (their own databases and ports, real `shuchang
serve` processes) conclude an agreement on a compute-only product over DSP, then run PSI
sessions over their connectors — cardinality and filter — talking only HTTP. Run once on two
SQLite files and once on two PostgreSQL databases."""

from __future__ import annotations

import dataclasses
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from psi_support import compute_only_product, uscc, write_registry
from two_connectors import Instance, pair, start, stop

from shuchang.platform import Platform

sys.path.append(str(Path(__file__).resolve().parents[1] / "contracts"))
from test_two_connectors_e2e import _postgres_databases

CONTEXT = ["https://w3id.org/dspace/2025/1/context.jsonld"]
DEADLINE_S = 60.0
APPLICANTS = [uscc(n) for n in range(250, 330)]  # 50 registered, 30 not


def _bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture(params=["sqlite", "postgresql"])
def connectors(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[Instance, Instance, uuid.UUID]]:
    drop: Callable[[], None] = lambda: None  # noqa: E731
    urls: list[str | None] = [None, None]
    if request.param == "postgresql":
        found, drop = _postgres_databases(2)
        urls = list(found)
    provider, consumer, _ = pair(tmp_path, *urls)
    root = provider.workdir / "data"
    root.mkdir(parents=True)
    write_registry(root)
    settings = dataclasses.replace(provider.settings(), data_root=str(root))
    platform = Platform.build(settings)
    try:
        product_id = compute_only_product(platform, provider.ids[provider.local.name])
    finally:
        platform.engine.dispose()
    env = {"SHUCHANG_DATA_ROOT": str(root), "SHUCHANG_PSI_MIN_SET_SIZE": "20"}
    try:
        with ThreadPoolExecutor(2) as pool:
            list(pool.map(lambda i: start(i, **env), [provider, consumer]))
        yield provider, consumer, product_id
    finally:
        with ThreadPoolExecutor(2) as pool:
            list(pool.map(stop, [provider, consumer]))
        drop()


def _get(instance: Instance, path: str) -> Any:
    response = httpx.get(f"{instance.base}{path}", headers=_bearer(instance.api_key), timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


def _until(check: Callable[[], Any]) -> Any:
    deadline = time.monotonic() + DEADLINE_S
    while True:
        found = check()
        if found:
            return found
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def _agreement(provider: Instance, consumer: Instance, product_id: uuid.UUID) -> str:
    bank, bureau = consumer.local, provider.local
    catalog = httpx.post(
        f"{provider.base}/dsp/catalog/request",
        json={"@context": CONTEXT, "@type": "CatalogRequestMessage"},
        headers=_bearer(provider.api_keys[bank.name]),
        timeout=10,
    ).json()
    datasets = [d for c in catalog["catalog"] for d in c.get("dataset", [])]
    (dataset,) = [d for d in datasets if d["@id"] == f"urn:uuid:{product_id}"]
    started = httpx.post(
        f"{consumer.base}/api/v1/contracts/negotiations",
        json={
            "provider_id": str(consumer.ids[bureau.name]),
            "dataset_id": dataset["@id"],
            "offer": dataset["hasPolicy"][0],
        },
        headers=_bearer(consumer.api_key),
        timeout=10,
    )
    assert started.status_code == 201, started.text
    pid = started.json()["consumer_pid"]

    def finalized() -> str | None:
        mine = [
            n for n in _get(consumer, "/api/v1/contracts/negotiations/") if n["consumer_pid"] == pid
        ]
        return mine[0]["agreement_id"] if mine and mine[0]["state"] == "FINALIZED" else None

    return str(_until(finalized))


def _session(instance: Instance, consumer_pid: str) -> dict[str, Any] | None:
    found = [
        s for s in _get(instance, "/api/v1/psi/sessions/") if s["consumer_pid"] == consumer_pid
    ]
    return (
        found[0] if found and found[0]["state"] in ("COMPLETED", "TERMINATED", "EXPIRED") else None
    )


def test_psi_over_two_real_connectors(connectors: tuple[Instance, Instance, uuid.UUID]) -> None:
    provider, consumer, product_id = connectors
    agreement_id = _agreement(provider, consumer, product_id)
    for mode in ("cardinality", "filter"):
        started = httpx.post(
            f"{consumer.base}/api/v1/psi/sessions/",
            json={
                "agreement_id": agreement_id,
                "mode": mode,
                "csv": "uscc\n" + "\n".join(APPLICANTS),
                "column": "uscc",
            },
            headers=_bearer(consumer.api_key),
            timeout=30,
        )
        assert started.status_code == 201, started.text
        pid = started.json()["consumer_pid"]
        mine = _until(lambda: _session(consumer, pid))  # noqa: B023 - used at once
        theirs = _until(lambda: _session(provider, pid))  # noqa: B023
        assert mine["state"] == theirs["state"] == "COMPLETED", (mode, mine, theirs)
        assert mine["result_size"] == theirs["result_size"] == 50
        assert mine["provider_pid"] == theirs["provider_pid"]
        assert (theirs["filter_name"] is not None) == (mode == "filter")
        assert mine["bytes_sent"] == theirs["bytes_received"] > 0
    # A second consumer key cannot read the sessions of this connector's participant.
    assert httpx.get(f"{consumer.base}/api/v1/psi/sessions/", timeout=10).status_code == 401
