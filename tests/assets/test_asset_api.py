"""The registry over HTTP and from the shell: apply, review, download the PDF, verify it with
`shuchang assets verify` offline, valuations and pledges, and problems for bad requests."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from assets_support import attachments, sequence, with_attachments
from click.testing import CliRunner
from litestar.testing import TestClient

import factories
from market_factories import provider_product
from shuchang.cli import cli
from shuchang.platform import Platform

API = "/api/v1/assets"


def _problem(response: object, status: int, code: str) -> None:
    assert response.status_code == status, response.text  # type: ignore[attr-defined]
    body = response.json()  # type: ignore[attr-defined]
    assert body["code"] == code and body["message_zh"] and body["message_en"]


def test_apply_review_download_and_verify_offline(
    platform: Platform,
    client: TestClient,
    tmp_path: Path,  # type: ignore[type-arg]
) -> None:
    operator = factories.operator(platform)
    listed = provider_product(platform)
    body = {
        "product_id": str(listed.product_id),
        "rights": ["holding", "processing"],
        "description": "企业登记数据集作为数据资产登记，用于授权运营。",
    }
    applied = client.post(f"{API}/", json=body, headers=listed.provider.headers)
    assert applied.status_code == 201, applied.text
    rid = applied.json()["id"]
    _problem(
        client.post(f"{API}/", json=body, headers=listed.provider.headers), 409, "asset.duplicate"
    )
    queue = client.get(f"{API}/?status=applied", headers=operator.headers).json()
    assert [r["id"] for r in queue] == [rid]
    done = client.post(
        f"{API}/{rid}/review", json={"decision": "approve"}, headers=operator.headers
    )
    assert done.status_code == 200 and done.json()["status"] == "registered"
    number = done.json()["certificate"]["number"]
    _problem(
        client.get(f"{API}/{rid}/evidence.json", headers=operator.headers),
        409,
        "evidence.not_sequenced",
    )
    sequence(platform)
    pdf = client.get(f"{API}/{rid}/certificate.pdf", headers=listed.provider.headers)
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    status = client.get(f"{API}/certificates/{number}", headers=operator.headers).json()
    assert status["status"] == "issued"
    path = tmp_path / "cert.pdf"
    path.write_bytes(pdf.content)
    vkey = client.get("/tlog/vkey").text.strip()
    trust = client.get(f"{API}/issuer", headers=operator.headers).json()["public_key"]
    env = {
        "SHUCHANG_DATABASE_URL": platform.settings.database_url,
        "SHUCHANG_LOG_KEY_FILE": platform.settings.log_key_file,
    }
    runner = CliRunner()
    ok = runner.invoke(
        cli, ["assets", "verify", str(path), "--vkey", vkey, "--trust", trust], env=env
    )
    assert ok.exit_code == 0, ok.output
    assert f"certificate {number}" in ok.output
    unchecked = runner.invoke(cli, ["assets", "verify", str(path)], env=env)
    assert unchecked.exit_code == 1
    forged = tmp_path / "forged.pdf"
    files = attachments(pdf.content)
    forged.write_bytes(with_attachments(pdf.content, {**files, "stray.txt": b"x"}))
    bad = runner.invoke(cli, ["assets", "verify", str(forged), "--vkey", vkey], env=env)
    assert bad.exit_code == 1 and "FAILED: certificate.attachments" in bad.output


def test_valuations_and_pledges_over_http(
    platform: Platform,
    client: TestClient,  # type: ignore[type-arg]
) -> None:
    operator = factories.operator(platform)
    firm = factories.participant(platform, roles=("service_firm",))
    bank = factories.participant(platform, roles=("consumer",))
    listed = provider_product(platform)
    rid = client.post(
        f"{API}/",
        json={
            "product_id": str(listed.product_id),
            "rights": ["holding"],
            "description": "数据资产登记申请说明文字",
        },
        headers=listed.provider.headers,
    ).json()["id"]
    client.post(f"{API}/{rid}/review", json={"decision": "approve"}, headers=operator.headers)
    today = client.get(f"{API}/{rid}", headers=operator.headers).json()["registration"][
        "certificate"
    ]
    china = datetime.fromisoformat(today["valid_from"]) + timedelta(hours=8)
    start = china.date().isoformat()  # dates of pledges and valuations are Asia/Shanghai
    valuation = {
        "method": "cost",
        "amount_fen": 200000,
        "basis": "成本法：采集与治理成本合计。",
        "valued_on": start,
    }
    _problem(
        client.post(f"{API}/{rid}/valuations", json=valuation, headers=bank.headers),
        403,
        "role.forbidden",
    )
    assert (
        client.post(f"{API}/{rid}/valuations", json=valuation, headers=firm.headers).status_code
        == 201
    )
    pledge = {
        "pledgee_id": str(bank.id),
        "amount_fen": 150000,
        "starts_on": today["valid_until"][:10],
        "ends_on": today["valid_until"][:10],
        "reference": "质押合同 2026-7",
    }
    _problem(
        client.post(f"{API}/{rid}/pledges", json=pledge, headers=listed.provider.headers),
        422,
        "asset.pledge_period",
    )
    pledge["starts_on"] = start
    made = client.post(f"{API}/{rid}/pledges", json=pledge, headers=listed.provider.headers)
    assert made.status_code == 201, made.text
    assert [p["id"] for p in client.get(f"{API}/pledges", headers=bank.headers).json()] == [
        made.json()["id"]
    ]
    released = client.post(
        f"{API}/pledges/{made.json()['id']}/release", json={"reason": "结清"}, headers=bank.headers
    )
    assert released.json()["status"] == "released"


def test_malformed_applications_are_problems(platform: Platform, client: TestClient) -> None:  # type: ignore[type-arg]
    listed = provider_product(platform)
    bad = {"product_id": str(listed.product_id), "rights": ["owning"], "description": "短"}
    response = client.post(f"{API}/", json=bad, headers=listed.provider.headers)
    assert response.status_code in (400, 422)
    assert response.headers["content-type"].startswith("application/problem+json")
