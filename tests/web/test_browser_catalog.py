"""The catalogue in headless Chromium against the real server (`shuchang serve`).

A provider registers a resource (adding a field row with htmx, switching the location kind)
→ builds a product with the offer builder, watching the live preview → submits it; the
operator approves it on the review page; a consumer searches 信贷, narrows with a facet and
opens the product page. Skipped only where Chromium is missing outside CI.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from browser_support import Server, screenshots
from playwright.sync_api import Browser, Page, expect

import factories
from shuchang.platform import Platform
from shuchang.settings import Settings

pytestmark = pytest.mark.browser
OFFER = "用途：小微企业信贷风险评估；次数上限：10000；使用方角色：使用方"


def _members(server: Server) -> tuple[str, str]:
    """A provider and a consumer, registered in the server's database while it runs."""
    platform = Platform.build(Settings(database_url=server.database_url))
    try:
        provider = factories.participant(platform, roles=("provider",), name="东瓯农商银行")
        consumer = factories.participant(platform, roles=("consumer",), name="东瓯保险公司")
    finally:
        platform.engine.dispose()
    assert provider.api_key and consumer.api_key
    return provider.api_key, consumer.api_key


def _sign_in(page: Page, server: Server, key: str, who: str) -> None:
    page.goto(f"{server.url}/console/login")
    page.fill("#api_key", key)
    page.click("form.form button[type=submit]")
    expect(page.locator(".who-name")).to_have_text(who)


def _sign_out(page: Page) -> None:
    page.click("form[action='/console/logout'] button")
    expect(page.locator("#api_key")).to_be_visible()


def _register_resource(page: Page, shots: Path) -> None:
    page.click("nav.mainnav >> text=我的资源")
    page.click("text=登记数据资源")
    page.fill("#title", "小微企业贷款与逾期记录")
    page.fill(
        "#description",
        "东瓯农商银行的小微企业贷款发放、还款与逾期记录，按月更新，用于信贷风险联合建模。",
    )
    page.fill("#tags", "信贷 普惠金融")
    page.fill("#regions", "330300")
    page.fill("#industry", "J66")
    page.select_option("#update_frequency", "monthly")
    page.fill("#fields-0-name", "uscc")
    page.fill("#fields-0-description", "统一社会信用代码")
    page.select_option("select[name=fields-0-role]", "identifier")
    page.fill("#fields-1-name", "loan_amount_fen")
    page.fill("#fields-1-description", "贷款金额（分）")
    page.select_option("select[name=fields-1-type]", "integer")
    page.click("#add-field")  # htmx appends a row and renumbers the button
    expect(page.locator("#fields-2-name")).to_be_visible()
    page.fill("#fields-2-name", "overdue_days")
    page.fill("#fields-2-description", "逾期天数")
    page.select_option("select[name=fields-2-role]", "measure")
    page.fill("#source", "信贷管理系统")
    page.select_option("#location_type", "http")
    expect(page.locator("#location_url")).to_be_visible()
    expect(page.locator("#location_table")).to_be_hidden()
    page.select_option("#location_type", "sql")
    page.fill("#location_table", "bank.small_business_loans")
    page.screenshot(path=str(shots / "catalog-1-resource-form.png"), full_page=True)
    page.click("#resource-submit")
    expect(page.locator(".flash-ok")).to_contain_text("已登记数据资源《小微企业贷款与逾期记录》")
    expect(page.locator("#fields")).to_contain_text("overdue_days")
    page.screenshot(path=str(shots / "catalog-2-resource.png"), full_page=True)


def _build_and_submit(page: Page, shots: Path) -> None:
    page.click("text=制作数据产品")
    expect(page.locator("input[name=resources]").first).to_be_checked()
    page.select_option("#kind", "dataset")
    page.fill("#title", "小微企业信贷风险数据集")
    page.fill(
        "#description", "面向金融机构的小微企业贷款与逾期数据集，按月更新，经连接器按合约交付。"
    )
    page.fill("#tags", "信贷 普惠金融")
    page.select_option("#price_model", "subscription")
    page.fill("#price_amount", "5000")
    page.select_option("#price_period", "year")
    page.fill("#policy_purpose", "小微企业信贷风险评估")
    page.fill("#policy_max_uses", "10000")
    expect(page.locator("#offer-preview dd")).to_have_text(OFFER)
    page.fill("#policy_max_uses", "很多")
    expect(page.locator("#offer-preview")).to_contain_text("须为正整数")
    page.fill("#policy_max_uses", "10000")
    expect(page.locator("#offer-preview dd")).to_have_text(OFFER)
    page.screenshot(path=str(shots / "catalog-3-product-form.png"), full_page=True)
    page.click("#save-submit")
    expect(page.locator("#status")).to_contain_text("待审核")
    expect(page.locator(".flash-ok")).to_contain_text("已通过自动检查")
    page.screenshot(path=str(shots / "catalog-4-submitted.png"), full_page=True)


def _approve(page: Page, shots: Path) -> None:
    page.click("nav.mainnav >> text=上架审核")
    page.click("#queue >> text=小微企业信贷风险数据集")
    expect(page.locator("#offer dd")).to_have_text(OFFER)
    page.screenshot(path=str(shots / "catalog-5-review.png"), full_page=True)
    page.click("#approve")
    expect(page.locator(".flash-ok")).to_contain_text("已批准上架《小微企业信贷风险数据集》")


def _find_as_consumer(page: Page, shots: Path) -> None:
    page.click("nav.mainnav >> text=资源目录")
    page.fill("#q", "信贷")
    page.click("#search-form button[type=submit]")
    expect(page.locator("#results")).to_contain_text("小微企业信贷风险数据集")
    page.click("[data-facet=doc_type] a[data-value=product]")
    expect(page.locator("#active-filters")).to_contain_text("数据产品")
    expect(page.locator("#results article")).to_have_count(1)
    expect(page.locator("#results .price")).to_have_text("¥5,000.00")
    page.screenshot(path=str(shots / "catalog-6-search.png"), full_page=True)
    page.click("#results >> text=小微企业信贷风险数据集")
    expect(page.locator("#offer dd")).to_have_text(OFFER)
    expect(page.locator("#price")).to_have_text("¥5,000.00 / 年")
    expect(page.locator("#status")).to_contain_text("已上架")
    page.screenshot(path=str(shots / "catalog-7-product.png"), full_page=True)


def test_list_a_product_and_find_it(chromium: Browser, server: Server, tmp_path: Path) -> None:
    shots = screenshots(tmp_path)
    provider_key, consumer_key = _members(server)
    page = chromium.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page.set_default_timeout(10_000)

    _sign_in(page, server, provider_key, "东瓯农商银行")
    _register_resource(page, shots)
    _build_and_submit(page, shots)
    _sign_out(page)
    _sign_in(page, server, server.operator_key, "测试市数据局")
    _approve(page, shots)
    _sign_out(page)
    _sign_in(page, server, consumer_key, "东瓯保险公司")
    _find_as_consumer(page, shots)

    page.goto(page.url + "?lang=en")
    expect(page.locator("#offer dd")).to_have_text(
        re.compile(r"^Purpose: 小微企业信贷风险评估; Max uses: 10000; Recipient role: Consumer$")
    )
    page.screenshot(path=str(shots / "catalog-8-product-en.png"), full_page=True)
