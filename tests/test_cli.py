"""The replay command end to end, as a program reading its JSON would use it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import msgspec

from orderscope.cli import app


def run_cli(*args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-c", "from orderscope.cli import main; main()", *args],
        capture_output=True,
        check=False,
    )


def test_every_capture_replays_clean_and_byte_identical_twice(captures: Path) -> None:
    first = run_cli("replay", str(captures), "--json")
    second = run_cli("replay", str(captures), "--json")
    assert first.returncode == 0, first.stderr
    assert first.stdout == second.stdout
    report = msgspec.json.decode(first.stdout)
    venues = {v["venue"]: v for v in report["venues"]}
    assert set(venues) == {
        "binance",
        "binance_futures",
        "bitfinex",
        "bitstamp",
        "bybit",
        "coinbase",
        "huobi",
        "kraken",
        "okx",
    }
    for venue in venues.values():
        assert venue["errors"] == {}, venue["venue"]
        for s in venue["symbols"]:
            book = s["book"]
            if book is not None:
                assert book["state"] == "synced", (venue["venue"], s["symbol"])
                assert book["gaps"] == book["checksums_failed"] == book["crossed_updates"] == 0
    checksums = {
        name: sum(s["book"]["checksums_ok"] for s in v["symbols"] if s["book"])
        for name, v in venues.items()
    }
    assert checksums["kraken"] == 4269 and checksums["okx"] == 290


def test_replay_json_is_byte_identical_twice(captures: Path) -> None:
    files = [str(captures / "BINANCE.ws.1.0"), str(captures / "BINANCE_FUTURES.ws.1.0")]
    first = run_cli("replay", *files, "--json")
    second = run_cli("replay", *files, "--json")
    assert first.returncode == 0, first.stderr
    assert first.stdout == second.stdout
    report = msgspec.json.decode(first.stdout)
    assert report["format"] == "orderscope.replay/1"
    assert [v["venue"] for v in report["venues"]] == ["binance", "binance_futures"]
    nkn = next(s for s in report["venues"][0]["symbols"] if s["symbol"] == "NKN/USDT")
    assert nkn["book"]["state"] == "synced" and nkn["book"]["gaps"] == 0
    assert len(nkn["book"]["top_bids"]) == 10 and len(nkn["book"]["top_asks"]) == 10
    assert float(nkn["book"]["top_bids"][0][0]) < float(nkn["book"]["top_asks"][0][0])
    assert set(nkn["trades"]) == {"count", "volume", "buy_volume", "sell_volume", "vwap"}


def test_replay_symbol_filter(captures: Path) -> None:
    result = run_cli("replay", str(captures / "BINANCE.ws.1.0"), "--symbol", "nkn-usdt", "--json")
    report = msgspec.json.decode(result.stdout)
    assert [s["symbol"] for s in report["venues"][0]["symbols"]] == ["NKN/USDT"]


def test_unknown_symbol_and_missing_file_exit_2(captures: Path, tmp_path: Path) -> None:
    result = run_cli("replay", str(captures / "BINANCE.ws.1.0"), "--symbol", "NOPE/USDT")
    assert result.returncode == 2 and b"NOPE/USDT" in result.stderr
    result = run_cli("replay", str(tmp_path / "NOPE.ws.1.0"))
    assert result.returncode == 2 and b"no such capture" in result.stderr


def test_table_output(captures: Path) -> None:
    from typer.testing import CliRunner

    result = CliRunner().invoke(
        app, ["replay", str(captures / "BINANCE.ws.1.0")], env={"COLUMNS": "160"}
    )
    assert result.exit_code == 0
    assert "NKN/USDT" in result.output and "synced" in result.output
