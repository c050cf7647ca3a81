"""The console in headless Chromium against the real server (`shuchang serve`).

Apply → live identifier check → verified, key shown once → operator signs in → finds the
applicant → approves → active. Runs on the SQLite file the server uses; skipped only where
Chromium is missing outside CI (under CI=true it must run).
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

import factories
from shuchang.db import make_engine
from shuchang.migrations import upgrade
from shuchang.platform import Platform
from shuchang.settings import Settings

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
STARTUP_SECONDS = 30

pytestmark = pytest.mark.browser


@dataclass(frozen=True)
class Server:
    url: str
    operator_key: str


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _seed_operator(database_url: str) -> str:
    engine = make_engine(database_url)
    upgrade(engine)
    engine.dispose()
    platform = Platform.build(Settings(database_url=database_url))
    try:
        key = factories.operator(platform).api_key
    finally:
        platform.engine.dispose()
    assert key
    return key


def _wait_until_healthy(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"server exited with {process.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    pytest.fail(f"server not healthy after {STARTUP_SECONDS}s:\n{log.read_text()}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    """End the server and its workers: the process group it was started in, by its id."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    database_url = f"sqlite:///{tmp_path / 'x.db'}"
    operator_key = _seed_operator(database_url)
    port = _free_port()
    env = {
        **os.environ,
        "SHUCHANG_DATABASE_URL": database_url,
        "SHUCHANG_APPROVAL": "manual",
        "SHUCHANG_REVIEW_RULE": "lenient",
        "SHUCHANG_HOST": "127.0.0.1",
    }
    log = tmp_path / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-m", "shuchang", "serve", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        url = f"http://127.0.0.1:{port}"
        _wait_until_healthy(url, process, log)
        yield Server(url, operator_key)
    finally:
        _stop(process)


@pytest.fixture
def chromium() -> Iterator[Browser]:
    if not CHROMIUM.exists() and os.environ.get("CI") != "true":
        pytest.skip("/usr/bin/chromium is not installed (it is mandatory under CI=true)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def _typo(code: str) -> str:
    return code[:-1] + ("0" if code[-1] != "0" else "1")


def _fill_application(page: Page, name: str, code: str) -> None:
    """Fill the form, watching the live check react to a typo and to its correction."""
    expect(page.locator("h1")).to_have_text("申请接入数据空间")
    page.select_option("#kind", "enterprise")
    page.fill("#name", name)
    page.fill("#name_en", "Dong'ou Browser Test Co., Ltd.")
    check = page.locator("#identifier-check .check")
    page.locator("#identifier").press_sequentially(_typo(code))
    expect(check).to_have_attribute("data-valid", "false")
    page.locator("#identifier").fill("")
    page.locator("#identifier").press_sequentially(code)
    expect(check).to_have_attribute("data-valid", "true")
    expect(check).to_contain_text("统一社会信用代码格式与校验位正确")
    page.check("input[name=roles][value=provider]")


def _submit_with_bad_json_then_fix(page: Page, name: str, shots: Path) -> None:
    """Bad JSON: the form comes back with the message at the field and what was typed kept."""
    page.fill("#credential", "{not json")
    page.screenshot(path=str(shots / "1-apply.png"), full_page=True)
    page.click("button[type=submit].button-primary")
    expect(page.locator("#credential-error")).to_have_text("不是合法的 JSON 对象")
    expect(page.locator("#name")).to_have_value(name)
    expect(page.locator("#identifier-check .check")).to_have_attribute("data-valid", "true")
    page.screenshot(path=str(shots / "1-apply-error.png"), full_page=True)
    page.fill("#credential", "")
    page.click("button[type=submit].button-primary")


def _expect_verified_with_key(page: Page, shots: Path) -> None:
    expect(page.locator("#decision")).to_contain_text("已核验")
    expect(page.locator("#status")).to_contain_text("已核验待审批")
    expect(page.locator("#api-key")).to_have_text(re.compile(r"^sck_[0-9a-f]{8}_[\w-]+$"))
    expect(page.locator(".keybox .warning")).to_contain_text("只显示这一次")
    page.screenshot(path=str(shots / "2-result.png"), full_page=True)


def _sign_in_as_operator(page: Page, server: Server, shots: Path) -> None:
    page.goto(f"{server.url}/console/login")
    page.fill("#api_key", server.operator_key)
    page.click("form.form button[type=submit]")
    expect(page.locator(".who-name")).to_have_text("测试市数据局")
    expect(page.locator(".stat-value[data-status=verified]")).to_have_text("1")
    page.screenshot(path=str(shots / "3-dashboard.png"), full_page=True)


def _find_and_approve(page: Page, name: str, shots: Path) -> None:
    page.click("nav.mainnav >> text=参与方")
    page.fill("input[name=q]", "浏览器测试")
    page.click("form.filters button[type=submit]")
    page.screenshot(path=str(shots / "4-directory.png"), full_page=True)
    page.click(f"#participants >> text={name}")
    expect(page.locator("#status")).to_contain_text("已核验待审批")
    page.fill("#reason", "材料齐全，准予接入")
    page.click("button[value=approve]")
    expect(page.locator("#status")).to_contain_text("已启用")
    expect(page.locator(".flash-ok")).to_be_visible()
    page.screenshot(path=str(shots / "5-approved.png"), full_page=True)


def test_apply_then_operator_approves(chromium: Browser, server: Server, tmp_path: Path) -> None:
    page = chromium.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page.set_default_timeout(10_000)
    name, code = "东瓯浏览器测试科技有限公司", factories.uscc()

    page.goto(f"{server.url}/console/participants/new")
    _fill_application(page, name, code)
    _submit_with_bad_json_then_fix(page, name, tmp_path)
    _expect_verified_with_key(page, tmp_path)
    _sign_in_as_operator(page, server, tmp_path)
    _find_and_approve(page, name, tmp_path)

    # The same page in English.
    page.goto(page.url + "?lang=en")
    expect(page.locator("#status")).to_contain_text("Active")
    page.screenshot(path=str(tmp_path / "6-approved-en.png"), full_page=True)
