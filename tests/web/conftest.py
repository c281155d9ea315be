"""The dashboard in a real headless Chromium (Debian's, driven by Playwright), against the real
server with the venue emulator behind it, as `orderscope demo` runs them.

Chromium comes from the system (`make test` installs Debian's package when /usr/bin/chromium is
missing; ORDERSCOPE_CHROMIUM points elsewhere): Playwright's own browser download is not used.
Without a browser these tests fail, saying how to get one; they never skip.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest

from orderscope.api.app import Service
from orderscope.live import LiveConfig
from orderscope.service.feeds import DEMO_BOOK_DEPTH, DEMO_ROWS, DemoFeeds
from orderscope.service.server import ServerThread
from tests.api.conftest import TOKEN, Demo, config, ready, wait_until

CHROMIUM = os.environ.get("ORDERSCOPE_CHROMIUM", "/usr/bin/chromium")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
#: A feed silent this long is stale: short, so the stale-venue test is quick.
STALE_AFTER_S = 1.0


@pytest.fixture(scope="session")
def web_demo() -> Iterator[Demo]:
    """The demo server as `orderscope demo` configures it (deep book pushes), with a token."""
    cfg = config()
    cfg = replace(cfg, engine=replace(cfg.engine, book_depth=DEMO_BOOK_DEPTH, rows=dict(DEMO_ROWS)))
    live = LiveConfig(stale_after_s=STALE_AFTER_S, backoff_initial_s=0.05, backoff_max_s=0.5)
    service = Service(cfg, feeds=lambda engine: DemoFeeds(engine, seed=3, config=live))
    server = ServerThread(service).start()
    demo = Demo(server, service, httpx.Client(base_url=server.url, timeout=20))
    wait_until(lambda: demo.call(lambda: ready(service)), what="every venue synced with trades")
    yield demo
    demo.http.close()
    server.stop()


@pytest.fixture(scope="session")
def browser_context() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"no Chromium at {CHROMIUM}: run `make test` (it installs Debian's chromium), "
            "or `apt-get install chromium`, or set ORDERSCOPE_CHROMIUM"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright, tempfile.TemporaryDirectory() as profile:
        context = playwright.chromium.launch_persistent_context(
            profile,  # a fresh --user-data-dir
            executable_path=CHROMIUM,
            headless=True,
            args=FLAGS,
            viewport={"width": 1440, "height": 900},
        )
        yield context
        context.close()


@pytest.fixture
def page(browser_context: Any) -> Iterator[Any]:
    page = browser_context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.errors = errors
    yield page
    page.close()
    assert not errors, f"uncaught errors in the page: {errors}"


def dashboard_url(demo: Demo, symbol: str = "BTC-USDT", **extra: str) -> str:
    params = "&".join(f"{k}={v}" for k, v in {"symbol": symbol, "token": TOKEN, **extra}.items())
    return f"{demo.server.url}/#{params}"


def screenshot(page: Any, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path
