"""The data-element pages in headless Chromium against the real server: a provider signs in,
defines an element (a wrong SQL first: the form comes back with the problem), runs it and
sees the k-anonymity report and the digests of the file written in its data root."""

from __future__ import annotations

from pathlib import Path

import pytest
from browser_support import running_server, screenshots
from elements_support import METER_SQL, power_company
from playwright.sync_api import Browser, expect

from shuchang.domains.compute.element_runs import digests
from shuchang.platform import Platform
from shuchang.settings import Settings

pytestmark = pytest.mark.browser


def test_define_and_run_a_data_element(
    chromium: Browser, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "data"
    root.mkdir()
    monkeypatch.setenv("SHUCHANG_DATA_ROOT", str(root))
    shots = screenshots(tmp_path)
    with running_server(tmp_path) as server:
        platform = Platform.build(Settings(database_url=server.database_url, data_root=str(root)))
        try:
            company = power_company(platform, root)
        finally:
            platform.engine.dispose()
        page = chromium.new_page()
        page.goto(f"{server.url}/console/login")
        page.fill("#api_key", str(company.member.api_key))
        page.click("button[type=submit]")
        page.goto(f"{server.url}/console/compute/elements")
        expect(page.locator("h1")).to_have_text("数据元件")
        page.fill("#name", "power-index")
        page.fill("#title", "企业月度用电指数")
        page.fill("#alias", "meter")
        page.fill("#sql", "DELETE FROM meter")
        page.fill(
            "#steps", '[{"op":"hash","column":"uscc"},{"op":"band","column":"kwh","width":500}]'
        )
        page.fill("#qi", "district,kwh")
        page.select_option("#on_violation", "suppress")
        page.click("#define")
        expect(page.locator("#define-error")).to_have_attribute(
            "data-code", "element.sql_not_select"
        )
        expect(page.locator("#sql")).to_have_value("DELETE FROM meter")
        page.fill("#sql", METER_SQL)
        page.click("#define")
        expect(page.locator("h1")).to_contain_text("企业月度用电指数")
        page.click("#run")
        run = page.locator("#run-1")
        expect(run).to_have_attribute("data-status", "succeeded")
        page.screenshot(path=str(shots / "element-run.png"), full_page=True)
        sha256 = run.locator(".sha256").inner_text()
        files = list((root / "elements" / "power-index").glob("*.parquet"))
        assert len(files) == 1 and digests(files[0])[0] == sha256
        assert int(run.locator(".smallest").inner_text()) >= 1
