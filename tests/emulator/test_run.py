"""``orderscope emulate``: building the venues, and the command end to end."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from orderscope.emulator import BinanceEmulator, CoinbaseEmulator, KrakenEmulator
from orderscope.emulator.capture_feed import CaptureFeed
from orderscope.emulator.run import build_emulator
from orderscope.errors import ConfigError


def test_build_synthetic_venues_and_captures(captures: Path) -> None:
    emulator = build_emulator(
        ["binance", "kraken", "coinbase"],
        ["BTC/USDT", "DOGE/USDT"],
        captures=[captures / "BITSTAMP.ws.1.0"],
        rate=50.0,
    )
    binance, kraken, coinbase, bitstamp = emulator.protocols.values()
    assert isinstance(binance, BinanceEmulator) and list(binance.markets) == ["BTCUSDT", "DOGEUSDT"]
    assert isinstance(kraken, KrakenEmulator) and list(kraken.markets) == ["XBT/USDT", "XDG/USDT"]
    assert isinstance(coinbase, CoinbaseEmulator) and "DOGE-USDT" in coinbase.markets
    assert isinstance(bitstamp, CaptureFeed) and bitstamp.name == "bitstamp"
    assert all(m.spec.events_per_second == 50.0 for m in binance.markets.values())
    seeds = {m.rng.random() for p in (binance, kraken, coinbase) for m in p.markets.values()}
    assert len(seeds) == 6  # every market its own seed


@pytest.mark.parametrize(
    ("venues", "symbols", "speed", "message"),
    [
        (["okx"], ["BTC/USDT"], 1.0, "does not speak"),
        (["kraken"], ["BTC/EUR"], 1.0, "no synthetic market"),
        (["kraken"], ["BTC/USDT"], 0.0, "speed"),
        ([], ["BTC/USDT"], 1.0, "nothing to emulate"),
    ],
)
def test_build_refuses(venues: list[str], symbols: list[str], speed: float, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        build_emulator(venues, symbols, speed=speed)


def test_emulate_command_prints_urls_injects_faults_and_stops_on_ctrl_c() -> None:
    command = [sys.executable, "-c", "from orderscope.cli import main; main()", "emulate"]
    options = ["--port", "0", "--venues", "kraken,binance", "--fault-every", "0.2", "--seed", "3"]
    process = subprocess.Popen(command + options, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    try:
        lines: list[str] = []
        while sum(" fault " in line for line in lines) < 3:
            line = process.stdout.readline()
            assert line, f"the command ended early: {lines}"
            lines.append(line)
        control = next(line.split()[1] for line in lines if line.strip().startswith("control"))
        with urllib.request.urlopen(control, timeout=20) as answer:
            status = json.load(answer)
        assert set(status["venues"]) == {"kraken", "binance"}
        assert any("ws ws://127.0.0.1:" in line and "/kraken" in line for line in lines)
        assert any("XBT/USDT ETH/USDT" in line for line in lines)
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=20) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_emulate_command_reports_bad_options() -> None:
    command = [sys.executable, "-c", "from orderscope.cli import main; main()", "emulate"]
    result = subprocess.run([*command, "--venues", "okx"], capture_output=True, text=True)
    assert result.returncode == 2 and "does not speak 'okx'" in result.stderr
