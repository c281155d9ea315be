"""``orderscope demo`` and ``serve`` as a person runs them."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time

import httpx


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from orderscope.cli import main; main()", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def test_demo_serves_the_emulated_market_offline() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", "from orderscope.cli import main; main()", "demo", "--port", "0",
         "--no-browser"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        match = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
        assert match, line
        url = match.group(0)
        deadline = time.monotonic() + 30
        health: dict[str, object] = {}
        while time.monotonic() < deadline:
            try:
                health = httpx.get(url + "health", timeout=5).json()["data"]
            except httpx.TransportError:
                health = {}
            if health.get("venues_running") == 3 and int(str(health.get("trades", 0))) > 0:
                break
            time.sleep(0.2)
        assert health.get("venues_running") == 3, health
        symbols = httpx.get(url + "api/v1/symbols", timeout=5).json()["data"]["symbols"]
        assert [s["symbol"] for s in symbols] == ["BTC/USDT", "ETH/USDT"]
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(20)


def test_serve_refuses_bad_settings() -> None:
    exposed = run_cli("serve", "--host", "0.0.0.0", "--no-browser")
    assert exposed.returncode == 2 and "token" in exposed.stderr
    unknown = run_cli("serve", "--venue", "nasdaq", "--no-browser")
    assert unknown.returncode == 2 and "nasdaq" in unknown.stderr
