"""The agreement page's live usage chart in headless Chromium against the real server: it
renders with no usage, updates by itself when new usage records are written (as the gateway
writes them), and its hour/day buttons redraw it."""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from browser_support import Server, screenshots
from contract_pages_support import concluded
from playwright.sync_api import Browser, expect

from shuchang.db import utcnow
from shuchang.domains.dataplane import metering
from shuchang.platform import Platform
from shuchang.settings import Settings

pytestmark = pytest.mark.browser


def _meter(
    platform: Platform, agreement_id: uuid.UUID, consumer_id: uuid.UUID, **kw: object
) -> None:
    """Usage records as the gateway writes them: opened with the decision, then closed."""
    permitted = kw.get("permitted", [True, True, True, False])
    ago = kw.get("ago", timedelta(0))
    assert isinstance(permitted, list) and isinstance(ago, timedelta)
    transfer = uuid.uuid4()
    openings = [
        metering.Opening(
            agreement_id=agreement_id,
            transfer_id=transfer,
            consumer_id=consumer_id,
            method="GET",
            path="/data",
            permitted=ok,
            started_at=utcnow() - ago,
            duration_ms=None if ok else 1,
        )
        for ok in permitted
    ]
    with platform.unit() as s:
        ids = metering.open_records(s, openings)
        metering.close_records(
            s,
            [
                metering.Closing(i, metering.DELIVERED, 200, 2048, 10, 5)
                for i, ok in zip(ids, permitted, strict=True)
                if ok
            ],
        )


def test_the_usage_chart_renders_updates_and_switches(
    chromium: Browser, server: Server, tmp_path: Path
) -> None:
    platform = Platform.build(Settings(database_url=server.database_url))
    try:
        deal = concluded(platform)
        assert deal.agreement_id is not None
        shots = screenshots(tmp_path)
        page = chromium.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
        page.set_default_timeout(15_000)
        page.goto(f"{server.url}/console/login")
        page.fill("#api_key", str(deal.consumer.api_key))
        page.click("form.form button[type=submit]")
        page.goto(f"{server.url}/console/contracts/agreements/{deal.agreement_id}")

        chart = page.locator("#usage-chart")
        expect(chart).to_have_attribute("data-rendered", "true")
        expect(chart).to_have_attribute("data-requests", "0")
        expect(chart).to_have_attribute("data-points", "0")
        expect(chart.locator("canvas")).to_have_count(1)
        expect(page.locator("#usage-requests")).to_have_text("0")
        page.screenshot(path=str(shots / "usage-empty.png"), full_page=True)

        _meter(platform, deal.agreement_id, deal.consumer.id)  # the page is not reloaded
        expect(chart).to_have_attribute("data-requests", "4")
        expect(page.locator("#usage-denied")).to_have_text("1")
        expect(page.locator("#usage-bytes")).to_have_text("6.0 KiB")
        expect(chart).to_have_attribute("data-points", "1")

        _meter(
            platform, deal.agreement_id, deal.consumer.id, permitted=[True], ago=timedelta(days=3)
        )
        expect(chart).to_have_attribute("data-requests", "5")
        expect(chart).to_have_attribute("data-points", "1")  # three days ago is not in 48 hours
        page.click("#usage-by-day")
        expect(page.locator("#usage-by-day")).to_have_attribute("aria-pressed", "true")
        expect(chart).to_have_attribute("data-points", "2")
        page.screenshot(path=str(shots / "usage-days.png"), full_page=True)
        page.click("#usage-by-hour")
        expect(chart).to_have_attribute("data-points", "1")
    finally:
        platform.engine.dispose()
