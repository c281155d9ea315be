"""The README's picture of the dashboard: `make screenshot` (or
`python -m tests.web.readme_screenshot PATH [SECONDS]`).

Runs the demo server (emulated venues, synthetic markets, seed 1) on a free loopback port, lets
the market and the page run for a while so the heatmap has history, and saves a screenshot of
the page in headless Chromium.
"""

from __future__ import annotations

import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from orderscope.api.app import Service
from orderscope.service.config import FeedsConfig, ServerConfig, ServiceConfig
from orderscope.service.feeds import (
    DEMO_BOOK_DEPTH,
    DEMO_ROWS,
    DEMO_SYMBOLS,
    DEMO_VENUES,
    DemoFeeds,
)
from orderscope.service.server import ServerThread
from tests.web.conftest import CHROMIUM, FLAGS


def main() -> None:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/images/dashboard.png")
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 60.0  # seed 1 jumps 20 dollars at ~85 s
    base = ServiceConfig(
        ServerConfig(port=0),
        FeedsConfig(venues=tuple(v.name for v in DEMO_VENUES), symbols=DEMO_SYMBOLS),
    )
    engine = replace(base.engine, book_depth=DEMO_BOOK_DEPTH, rows=dict(DEMO_ROWS))
    service = Service(replace(base, engine=engine), feeds=lambda e: DemoFeeds(e, seed=1))
    server = ServerThread(service).start()
    from playwright.sync_api import sync_playwright

    try:
        with sync_playwright() as playwright, tempfile.TemporaryDirectory() as profile:
            context = playwright.chromium.launch_persistent_context(
                profile,
                executable_path=CHROMIUM,
                headless=True,
                args=FLAGS,
                viewport={"width": 1360, "height": 800},
            )
            page = context.new_page()
            time.sleep(3)  # the venues connect and sync
            page.goto(f"{server.url}/#symbol=BTC-USDT")
            page.wait_for_function("() => window.orderscope.snapshot().ready", timeout=30_000)
            time.sleep(seconds)
            out.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(out))
            print(f"{out}: {out.stat().st_size // 1024} KiB")
            context.close()
    finally:
        server.stop()


if __name__ == "__main__":
    main()
