"""Console pages of the data market: apply for an asset and have it approved with a PDF to
download; answer the compliance questionnaire and have a service firm pass it (the product
page then shows the certificate); the regulator's dashboard and its access rule."""

from __future__ import annotations

import base64
import dataclasses
from pathlib import Path

import pytest
from litestar.testing import TestClient
from web_support import csrf_of, sign_in

import factories
from market_factories import provider_product
from shuchang.platform import Platform
from shuchang.ports import Ed25519Signer
from shuchang.settings import Settings


@pytest.fixture
def settings(settings: Settings, tmp_path: Path) -> Settings:
    key = tmp_path / "issuer.key"
    key.write_text(base64.b64encode(Ed25519Signer().seed()).decode() + "\n")
    return dataclasses.replace(settings, issuer_key_file=str(key))


def _post(client: TestClient, path: str, **fields: object) -> str:  # type: ignore[type-arg]
    form_page = (
        path.rsplit("/", 1)[0]
        if path.endswith(("/review", "/decide", "/assign", "/audit", "/valuations", "/pledges"))
        else path
    )
    token = csrf_of(client.get(form_page))
    response = client.post(path, data={"_csrf": token, **fields}, follow_redirects=True)
    assert response.status_code == 200, response.text
    return response.text


def test_an_asset_is_applied_for_approved_and_downloaded(
    platform: Platform, client: TestClient
) -> None:  # type: ignore[type-arg]
    operator = factories.operator(platform)
    listed = provider_product(platform)
    sign_in(client, listed.provider.api_key)
    form = client.get("/console/assets/new")
    assert form.status_code == 200 and str(listed.product_id) in form.text
    page = _post(
        client,
        "/console/assets/new",
        product_id=str(listed.product_id),
        rights=["holding", "operating"],
        description="企业登记数据集登记为数据资产，用于授权运营。",
        valid_years="3",
    )
    assert "登记申请已提交" in page and 'data-status="applied"' in page
    asset_path = client.get("/console/assets").text.split('<tr data-id="')[1].split('"')[0]
    client.post("/console/logout", data={"_csrf": csrf_of(client.get("/console/assets"))})
    sign_in(client, operator.api_key)
    approved = _post(client, f"/console/assets/{asset_path}/review", decision="approve")
    assert 'data-status="registered"' in approved and "DZ-" in approved
    pdf = client.get(f"/console/assets/{asset_path}/certificate.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


def test_a_questionnaire_is_answered_and_passed(platform: Platform, client: TestClient) -> None:  # type: ignore[type-arg]
    firm = factories.participant(platform, roles=("service_firm",), name="东瓯数据合规评估中心")
    listed = provider_product(platform)
    sign_in(client, listed.provider.api_key)
    product = client.get(f"/console/catalog/products/{listed.product_id}")
    assert 'id="compliance-status" data-status="none"' in product.text
    page = _post(
        client,
        f"/console/compliance/products/{listed.product_id}",
        then="submit",
        **{
            "source.origin": "public_authorized",
            "source.proof": "授权运营协议 DG-1",
            "pi.contains": "no",
            "important.contains": "no",
            "cross_border.transfer": "no",
            "security.measures": ["encryption", "audit_log"],
            "security.mlps_level": "level2",
        },
    )
    assert 'data-status="submitted"' in page
    client.post("/console/logout", data={"_csrf": csrf_of(client.get("/console/compliance"))})
    sign_in(client, firm.api_key)
    queue = client.get("/console/compliance").text
    review_id = queue.split('<tr data-id="')[1].split('"')[0]
    taken = _post(client, f"/console/compliance/reviews/{review_id}/assign")
    assert 'data-status="assigned"' in taken
    passed = _post(
        client, f"/console/compliance/reviews/{review_id}/decide", decision="pass", findings=""
    )
    assert 'data-status="passed"' in passed and "HG-" in passed
    seen = client.get(f"/console/catalog/products/{listed.product_id}").text
    assert 'data-status="passed"' in seen and 'id="compliance-number"' in seen


def test_a_bad_questionnaire_says_which_answer_is_wrong(
    platform: Platform, client: TestClient
) -> None:  # type: ignore[type-arg]
    listed = provider_product(platform)
    sign_in(client, listed.provider.api_key)
    page = _post(
        client,
        f"/console/compliance/products/{listed.product_id}",
        then="submit",
        **{"pi.contains": "no"},
    )
    assert "须回答" in page


def test_the_dashboard_is_for_oversight_only(platform: Platform, client: TestClient) -> None:  # type: ignore[type-arg]
    regulator = factories.regulator(platform)
    provider = factories.participant(platform, roles=("provider",))
    sign_in(client, provider.api_key)
    assert client.get("/console/supervision").status_code == 403
    client.post("/console/logout", data={"_csrf": csrf_of(client.get("/console/"))})
    sign_in(client, regulator.api_key)
    board = client.get("/console/supervision")
    assert board.status_code == 200
    assert (
        'id="chart-requests"' in board.text
        and "/api/v1/supervision/indicators/participants/csv" in board.text
    )
    audited = _post(client, "/console/supervision/audit")
    assert "审计完成" in audited and "audit-ok" in audited


def test_valuation_and_pledge_through_the_forms(platform: Platform, client: TestClient) -> None:  # type: ignore[type-arg]
    from assets_flow import registered_asset

    rid, holder, today = registered_asset(platform)
    firm = factories.participant(platform, roles=("service_firm",), name="东瓯资产评估事务所")
    bank = factories.participant(platform, roles=("consumer",), name="东瓯商业银行")
    sign_in(client, firm.api_key)
    page = _post(
        client,
        f"/console/assets/{rid}/valuations",
        method="income",
        amount="12,000.50",
        valued_on=today,
        basis="收益法：未来三年授权收入折现。",
    )
    assert "¥12,000.50" in page
    client.post("/console/logout", data={"_csrf": csrf_of(client.get("/console/assets"))})
    sign_in(client, holder)
    too_much = _post(
        client,
        f"/console/assets/{rid}/pledges",
        pledgee_id=str(bank.id),
        amount="20000",
        starts_on=today,
        ends_on=today,
        reference="质押合同 1",
    )
    assert "flash-error" in too_much
    page = _post(
        client,
        f"/console/assets/{rid}/pledges",
        pledgee_id=str(bank.id),
        amount="10000",
        starts_on=today,
        ends_on=f"{int(today[:4]) + 1}{today[4:]}",
        reference="质押合同 1",
    )
    assert "质押已登记" in page and "¥10,000.00" in page
