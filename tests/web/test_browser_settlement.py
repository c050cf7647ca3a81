"""The settlement pages in headless Chromium against the real server (`shuchang serve`):
the operator settles a month from the form, sees the batch, and the monthly transaction
value drawn by ECharts on the overview; the same page in English."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from browser_support import Server, screenshots
from playwright.sync_api import Browser, expect

sys.path.append(str(Path(__file__).resolve().parents[1] / "settlement"))
from settlement_support import PERIOD, agreement, product, region, seal, set_rules, usage

from shuchang.platform import Platform
from shuchang.settings import Settings

pytestmark = pytest.mark.browser


def test_the_operator_settles_a_month_and_sees_it_charted(
    chromium: Browser, server: Server, tmp_path: Path
) -> None:
    platform = Platform.build(Settings(database_url=server.database_url))
    try:
        r = region(platform)
        set_rules(r)
        for provider, consumer, fen, calls in (
            (r.tax, r.bank, 200, 30),
            (r.power, r.insurer, 50, 80),
        ):
            a = agreement(
                platform,
                product(platform, provider.id, {"model": "per_call", "amount_fen": fen}),
                provider,
                consumer,
            )
            usage(platform, a, consumer.id, calls)
        seal(platform)
    finally:
        platform.engine.dispose()
    shots = screenshots(tmp_path)
    page = chromium.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page.set_default_timeout(15_000)

    page.goto(f"{server.url}/console/login")
    page.fill("#api_key", str(r.bureau.api_key))
    page.click("form.form button[type=submit]")
    page.click("nav.mainnav >> text=交易结算")
    expect(page.locator("h1")).to_have_text("交易与清结算")
    page.fill("#period", PERIOD)
    page.click("#run-form button[type=submit]")
    expect(page.locator(".flash-ok")).to_contain_text("已结算")
    expect(page.locator("#gross")).to_have_text("¥106.00")  # (60 + 40) yuan + 6 % VAT
    expect(page.locator("#transfers tr[data-status=settled]")).to_have_count(5)
    page.screenshot(path=str(shots / "settlement-1-batch.png"), full_page=True)

    page.click("#reconcile-form button")
    expect(page.locator(".flash-ok")).to_contain_text("对账一致")

    page.goto(f"{server.url}/console/settlement")
    expect(page.locator("#monthly-chart")).to_have_attribute("data-rendered", "true")
    expect(page.locator("#monthly-chart canvas")).to_have_count(1)
    expect(page.locator(f"#batches tr[data-period='{PERIOD}']")).to_contain_text("一致")
    page.screenshot(path=str(shots / "settlement-2-overview.png"), full_page=True)

    page.goto(f"{server.url}/console/settlement?lang=en")
    expect(page.locator("h1")).to_have_text("Trading and settlement")
    expect(page.locator("#monthly-chart")).to_have_attribute("data-rendered", "true")
