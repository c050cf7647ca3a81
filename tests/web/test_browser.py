"""The console in headless Chromium against the real server (`shuchang serve`).

Apply → live identifier check → verified, key shown once → operator signs in → finds the
applicant → approves → active. Then the evidence log (publish a checkpoint, run the audit)
and an agreement (both signatures, a trial decision). Runs on the SQLite file the server
uses; skipped only where Chromium is missing outside CI (under CI=true it must run).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from browser_support import Server, screenshots
from contract_pages_support import PURPOSE, concluded
from playwright.sync_api import Browser, Page, expect

import factories
from shuchang.platform import Platform
from shuchang.settings import Settings

pytestmark = pytest.mark.browser


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
    tmp_path = screenshots(tmp_path)

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


def test_evidence_log_and_an_agreement(chromium: Browser, server: Server, tmp_path: Path) -> None:
    """The operator publishes a checkpoint and audits the log; the consumer opens its agreement
    (signed by both, made in the server's database) and tries a decision."""
    platform = Platform.build(Settings(database_url=server.database_url))
    try:
        deal = concluded(platform)
    finally:
        platform.engine.dispose()
    shots = screenshots(tmp_path)
    page = chromium.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page.set_default_timeout(10_000)

    page.goto(f"{server.url}/console/login")
    page.fill("#api_key", server.operator_key)
    page.click("form.form button[type=submit]")
    page.click("nav.mainnav >> text=存证日志")
    expect(page.locator("h1")).to_have_text("存证日志")
    page.click("#publish")
    expect(page.locator(".flash-ok")).to_contain_text("已定序并发布检查点")
    expect(page.locator("#queued")).to_have_text("0")
    page.click("#run-audit")
    expect(page.locator("#audit")).to_have_attribute("data-ok", "true")
    expect(page.locator("#checkpoint")).to_contain_text("shuchang.local/evidence")
    page.screenshot(path=str(shots / "evidence-log.png"), full_page=True)

    page.click("form[action='/console/logout'] button")
    page.fill("#api_key", str(deal.consumer.api_key))
    page.click("form.form button[type=submit]")
    page.click('nav.mainnav >> text="合约"')
    page.click(f"#agreements tr[data-id='{deal.agreement_id}'] a.button")
    expect(page.locator("#both-verified")).to_be_visible()
    expect(page.locator("#signatures tr[data-verified=true]")).to_have_count(2)
    page.fill("#use-purpose", PURPOSE)
    page.fill("#use-fields", "uscc")
    page.click("#decide")
    expect(page.locator("#decision-result")).to_have_attribute("data-permitted", "true")
    page.screenshot(path=str(shots / "agreement.png"), full_page=True)
