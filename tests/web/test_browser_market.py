"""The regulator's dashboard and the compliance questionnaire in headless Chromium against the
real server (`shuchang serve`): charts drawn by ECharts, the JSON refresh, a CSV download,
and a provider filling in and submitting the questionnaire."""

from __future__ import annotations

from pathlib import Path

import pytest
from browser_support import Server, screenshots
from playwright.sync_api import Browser, Page, expect

import factories
from market_factories import provider_product
from shuchang.platform import Platform
from shuchang.settings import Settings

pytestmark = pytest.mark.browser


def _sign_in(page: Page, server: Server, key: str) -> None:
    page.goto(f"{server.url}/console/login")
    page.fill("#api_key", key)
    page.click("form.form button[type=submit]")
    expect(page.locator(".who-name")).to_be_visible()


def test_the_dashboard_draws_charts_and_refreshes(
    server: Server, chromium: Browser, tmp_path: Path
) -> None:
    platform = Platform.build(Settings(database_url=server.database_url))
    try:
        regulator = factories.regulator(platform)
        provider_product(platform)
    finally:
        platform.engine.dispose()
    assert regulator.api_key
    page = chromium.new_page(accept_downloads=True)
    _sign_in(page, server, regulator.api_key)
    page.click("nav.mainnav >> text=监管看板")
    expect(page.locator("h1")).to_have_text("监管看板")
    expect(page.locator("#chart-participants canvas")).to_have_count(1)
    expect(page.locator("#chart-requests canvas")).to_have_count(1)
    page.wait_for_function("Number(document.body.dataset.refreshed || 0) >= 1")
    expect(page.locator('[data-key="participants"]')).to_have_text("3")
    with page.expect_download() as caught:
        page.click("#table-participants a[download]")
    download = caught.value
    assert download.suggested_filename.startswith("shuchang-participants-")
    body = Path(download.path()).read_bytes()
    assert body.startswith("\ufeff".encode()) and "主体类型 kind".encode() in body
    page.click("#run-audit")
    expect(page.locator("#audit-verdict")).to_have_class("audit-ok")
    page.screenshot(path=str(screenshots(tmp_path) / "supervision-dashboard.png"), full_page=True)
    page.close()


def test_a_provider_answers_the_questionnaire(
    server: Server, chromium: Browser, tmp_path: Path
) -> None:
    platform = Platform.build(Settings(database_url=server.database_url))
    try:
        listed = provider_product(platform)
    finally:
        platform.engine.dispose()
    assert listed.provider.api_key
    page = chromium.new_page()
    _sign_in(page, server, listed.provider.api_key)
    page.goto(f"{server.url}/console/catalog/products/{listed.product_id}")
    expect(page.locator("#compliance-status")).to_have_attribute("data-status", "none")
    page.click("#compliance-form-link")
    page.select_option("#q-source\\.origin", "public_authorized")
    page.fill("#q-source\\.proof", "东瓯市数据局授权运营协议 DG-2026-01")
    page.check("input[name='pi.contains'][value=no]")
    page.check("input[name='important.contains'][value=no]")
    page.check("input[name='cross_border.transfer'][value=yes]")
    page.check("input[name='security.measures'][value=encryption]")
    page.select_option("#q-security\\.mlps_level", "level3")
    page.click("#submit-answers")
    expect(page.locator(".flash-error")).to_contain_text("出境合规路径")  # the mechanism is missing
    page.select_option("#q-cross_border\\.mechanism", "standard_contract")
    page.fill("#q-cross_border\\.reference", "标准合同备案 2026-33")
    page.click("#submit-answers")
    expect(page.locator("#review-status")).to_have_attribute("data-status", "submitted")
    page.screenshot(path=str(screenshots(tmp_path) / "compliance-review.png"), full_page=True)
    page.close()
