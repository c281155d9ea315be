"""The commands end to end: replay as a program reading its JSON would use it, record and
watch against the Binance emulator on loopback, as a user would run them (Ctrl-C included)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import msgspec
from aiohttp import web

from orderscope.cli import app
from orderscope.emulator import BinanceEmulator, Emulator
from orderscope.model import BookState, Trade
from orderscope.replay import Replay
from orderscope.synthetic import BTC_USDT, ETH_USDT, SyntheticMarket
from tests.test_live import levels, wait_for

CLI = [sys.executable, "-c", "from orderscope.cli import main; main()"]


def run_cli(*args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [*CLI, *args],
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


# -- record and watch, against the Binance emulator --------------------------------------------


class CountingBinance(BinanceEmulator):
    """The Binance emulator, counting the REST snapshots it serves."""

    snapshots = 0

    async def depth(self, request: web.Request) -> web.Response:
        self.snapshots += 1
        return await super().depth(request)


async def start_emulator() -> tuple[Emulator, CountingBinance, list[str]]:
    markets = {"BTCUSDT": SyntheticMarket(BTC_USDT, 7), "ETHUSDT": SyntheticMarket(ETH_USDT, 8)}
    protocol = CountingBinance(markets)
    emulator = Emulator([protocol])
    await emulator.start()
    urls = ["--ws-url", emulator.url("binance", "ws"), "--rest-url", emulator.url("binance")]
    return emulator, protocol, urls


async def quiesce(emulator: Emulator, protocol: CountingBinance) -> None:
    """Once both books had their snapshot and some diffs: stop the market and let every frame
    reach the client."""
    assert await wait_for(lambda: protocol.snapshots >= 2), "no snapshots were asked for"
    await asyncio.sleep(0.5)
    emulator.pause()
    assert await wait_for(lambda: all(c.queue.empty() for c in protocol.clients))
    await asyncio.sleep(1.0)  # the client reads and records the last frames (flushed each tick)


async def spawn(*args: str) -> asyncio.subprocess.Process:
    """The command line in a process of its own, its output (both streams) piped."""
    return await asyncio.create_subprocess_exec(
        *CLI,
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env={**os.environ, "COLUMNS": "120"},  # room for two ladders side by side
    )


def test_record_is_stopped_by_ctrl_c_and_replays_to_the_emulators_books(tmp_path: Path) -> None:
    out = tmp_path / "rec"

    async def scenario() -> tuple[int, bytes, dict[str, tuple[object, object]]]:
        emulator, protocol, urls = await start_emulator()
        try:
            args = [
                "record",
                "-v",
                "binance",
                "-s",
                "BTC/USDT",
                "-s",
                "eth-usdt",
                "--out",
                str(out),
            ]
            process = await spawn(*args, "--rotate-mb", "0.02", *urls)
            await quiesce(emulator, protocol)
            process.send_signal(signal.SIGINT)  # what Ctrl-C does
            output, _ = await asyncio.wait_for(process.communicate(), 20)
            truth = {symbol: levels(m.book) for symbol, m in protocol.markets.items()}
            return process.returncode or 0, output, truth
        finally:
            await emulator.stop()

    returncode, output, truth = asyncio.run(scenario())
    assert returncode == 0, output.decode()
    assert b"recorded" in output and b"Traceback" not in output
    assert len(list(out.glob("BINANCE.ws.0.*"))) >= 2  # rotated by size
    replay = Replay([out])
    trades = sum(isinstance(e, Trade) for _venue, _record, events in replay.run() for e in events)
    (venue,) = replay.venues
    assert trades > 0 and not venue.stats.errors
    for symbol, book in venue.books.items():
        assert book.state is BookState.SYNCED and book.counters.gaps == 0
        assert levels(book) == truth[book.instrument.venue_symbol], symbol
    assert set(venue.books) == {"BTC/USDT", "ETH/USDT"}


def test_watch_draws_the_live_ladders() -> None:
    async def scenario() -> tuple[int, str, dict[str, tuple[str, str]]]:
        emulator, protocol, urls = await start_emulator()
        try:
            args = ["watch", "--venue", "binance", "-s", "BTC/USDT", "-s", "ETH/USDT"]
            process = await spawn(*args, "--duration", "5", *urls)
            await quiesce(emulator, protocol)
            output, _ = await asyncio.wait_for(process.communicate(), 20)
            tops = {}
            for symbol, market in protocol.markets.items():
                bids, asks = levels(market.book)
                tops[symbol] = (bids[0][0], asks[0][0])
            return process.returncode or 0, output.decode(), tops
        finally:
            await emulator.stop()

    returncode, output, tops = asyncio.run(scenario())
    assert returncode == 0, output
    assert "binance BTC/USDT" in output and "binance ETH/USDT" in output
    assert output.count("synced") == 2
    for bid, ask in tops.values():  # the last drawing shows the emulator's best levels
        assert bid in output and ask in output


def test_record_fails_clearly_without_the_venue(tmp_path: Path) -> None:
    # nothing listens on port 9 of the loopback: the instruments cannot be fetched
    urls = ["--ws-url", "ws://127.0.0.1:9/binance", "--rest-url", "http://127.0.0.1:9/binance"]
    result = run_cli(
        "record", "--venue", "binance", "-s", "BTC/USDT", "--out", str(tmp_path), *urls
    )
    assert result.returncode == 2 and b"exchangeInfo" in result.stderr
    result = run_cli("watch", "--venue", "nowhere", "-s", "BTC/USDT")
    assert result.returncode == 2 and b"unknown venue" in result.stderr
