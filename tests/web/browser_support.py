"""The real server (`shuchang serve`) and headless Chromium, for the console's browser tests.

The server runs on an SQLite file in the test's temporary folder, so a test may add
participants to that file while the server runs (:func:`database_url`).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, sync_playwright

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


@dataclass(frozen=True)
class Server:
    url: str
    operator_key: str
    database_url: str


def database_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'x.db'}"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _seed_operator(url: str) -> str:
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    platform = Platform.build(Settings(database_url=url))
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


@contextmanager
def running_server(tmp_path: Path) -> Iterator[Server]:
    url = database_url(tmp_path)
    operator_key = _seed_operator(url)
    port = _free_port()
    env = {
        **os.environ,
        "SHUCHANG_DATABASE_URL": url,
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
        base = f"http://127.0.0.1:{port}"
        _wait_until_healthy(base, process, log)
        yield Server(base, operator_key, url)
    finally:
        _stop(process)


@contextmanager
def headless_chromium() -> Iterator[Browser]:
    if not CHROMIUM.exists() and os.environ.get("CI") != "true":
        pytest.skip("/usr/bin/chromium is not installed (it is mandatory under CI=true)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def screenshots(tmp_path: Path) -> Path:
    """Where screenshots go: ``SHUCHANG_SCREENSHOTS`` when set (to look at them), else the
    test's temporary folder."""
    chosen = os.environ.get("SHUCHANG_SCREENSHOTS")
    if not chosen:
        return tmp_path
    folder = Path(chosen)
    folder.mkdir(parents=True, exist_ok=True)
    return folder
