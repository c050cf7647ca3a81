"""The consumer's query page in headless Chromium against `shuchang serve --demo` (S1).

The bank signs in, opens 隐私计算, picks its tax-credit agreement, runs the approved template
"按行业和区县统计违约率" at ε 0.4 and reads the answer with its ε and noise scales; the
remaining budget drops by exactly 0.4; an SQL query on the enterprise identifier is refused
with its reason and spends nothing. Skipped only where Chromium is missing outside CI.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from browser_support import _free_port, _stop, _wait_until_healthy, headless_chromium, screenshots
from playwright.sync_api import Browser, expect

from shuchang.demo_compute import BANK

pytestmark = pytest.mark.browser


@pytest.fixture
def demo_server(tmp_path: Path) -> Iterator[tuple[str, str]]:
    port = _free_port()
    env = {
        **os.environ,
        "SHUCHANG_DATABASE_URL": f"sqlite:///{tmp_path / 'demo.db'}",
        "SHUCHANG_DATA_ROOT": str(tmp_path / "data"),
        "SHUCHANG_HOST": "127.0.0.1",
    }
    log = tmp_path / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-m", "shuchang", "serve", "--demo", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_until_healthy(base, process, log)
        keys = json.loads((tmp_path / "demo.db.demo-keys.json").read_text())
        yield base, keys[BANK]
    finally:
        _stop(process)


@pytest.fixture
def browser() -> Iterator[Browser]:
    with headless_chromium() as opened:
        yield opened


def test_the_bank_runs_a_dp_query_and_sees_its_budget(
    demo_server: tuple[str, str], browser: Browser, tmp_path: Path
) -> None:
    base, key = demo_server
    shots = screenshots(tmp_path)
    page = browser.new_page()
    page.goto(f"{base}/console/login")
    page.fill("#api_key", key)
    page.click("form.form button[type=submit]")
    expect(page.locator(".who-name")).to_have_text(BANK)
    page.click("nav.mainnav >> text=隐私计算")
    expect(page.locator("#compute-agreements")).to_contain_text("纳税信用隐私计算服务")
    page.click("#compute-agreements >> text=查询")
    expect(page.locator("#period-remaining")).to_have_attribute("data-value", "3.0")
    expect(page.locator("#schema")).to_contain_text("industry_code")
    page.select_option("#template", "default_rate")
    page.fill("#epsilon", "0.4")
    page.click("#run")
    expect(page.locator("#state [data-state]")).to_have_attribute("data-state", "succeeded")
    expect(page.locator("#answer-epsilon")).to_have_text("0.4")
    expect(page.locator("#statistics tr.statistic")).to_have_count(3)
    expect(page.locator("#answer-table tbody tr")).to_have_count(80)
    page.screenshot(path=str(shots / "compute-answer.png"), full_page=True)
    page.click("text=← 隐私计算")
    page.click("#compute-agreements >> text=查询")
    expect(page.locator("#period-remaining")).to_have_attribute("data-value", "2.6")
    page.fill("#sql", "SELECT uscc, COUNT(*) FROM tax GROUP BY uscc")
    page.click("#run")
    expect(page.locator(".flash")).to_contain_text("个人/主体标识列 uscc")
    expect(page.locator("#period-remaining")).to_have_attribute("data-value", "2.6")
    page.screenshot(path=str(shots / "compute-query.png"), full_page=True)
