"""``orderscope cob`` on a real capture (one venue: the captures are from different days)."""

from __future__ import annotations

from pathlib import Path

import msgspec
from typer.testing import CliRunner

from orderscope.cli import app
from orderscope.cob.command import replay_cob
from orderscope.replay import Replay
from tests.test_cli import run_cli


def test_cob_json_is_byte_identical_and_matches_the_venue_book(captures: Path) -> None:
    args = ("cob", str(captures / "BINANCE.ws.1.0"), "--symbol", "nkn-usdt", "--json")
    first = run_cli(*args, "--impact", "1000")
    second = run_cli(*args, "--impact", "1000")
    assert first.returncode == 0, first.stderr
    assert first.stdout == second.stdout
    report = msgspec.json.decode(first.stdout)
    assert report["format"] == "orderscope.cob/1"
    assert (report["symbol"], report["quote"]) == ("NKN/USDT", "USDT")
    (venue,) = report["venues"]
    assert venue["venue"] == "binance" and venue["state"] == "active"
    assert venue["bid_share"] == 1.0
    # the COB of one venue is that venue's book, as the replay report shows it
    session = Replay([captures / "BINANCE.ws.1.0"], ["NKN/USDT"])
    session.run_all()
    book = session.report()["venues"][0]["symbols"][0]["book"]
    assert report["metrics"]["best_bid"] == book["top_bids"][0][0]
    assert report["metrics"]["best_ask"] == book["top_asks"][0][0]
    assert (venue["levels"]["bids"], venue["levels"]["asks"]) == (
        book["levels"]["bids"],
        book["levels"]["asks"],
    )
    buckets = report["buckets"]
    assert buckets["bps"] == 1.0 and len(buckets["bids"]) == len(buckets["asks"]) == 10
    assert buckets["width"] == "0.00010000"  # 1 bp of 0.35 is below the 0.0001 tick
    assert report["metrics"]["rolling"][0]["samples"] == 10  # 1 s of 100 ms ticks
    walk = report["impact"]["buy"]["walk"]
    assert walk["complete"] and walk["slippage_bps"] >= 0
    assert report["impact"]["buy"]["route"]["legs"][0]["venue"] == "binance"


def test_cob_equals_the_replayed_l2book(captures: Path) -> None:
    cob = replay_cob([captures / "BINANCE.ws.1.0"], "NKN/USDT")
    session = Replay([captures / "BINANCE.ws.1.0"], ["NKN/USDT"])
    session.run_all()
    book = session.venues[0].books["NKN/USDT"]
    assert cob.bid_levels() == book.bids() and cob.ask_levels() == book.asks()


def test_cob_quote_buckets_and_table(captures: Path) -> None:
    result = CliRunner().invoke(
        app,
        ["cob", str(captures / "BINANCE.ws.1.0"), "-s", "NKN/USDT", "--bucket-quote", "0.001"],
        env={"COLUMNS": "160"},
    )
    assert result.exit_code == 0, result.output
    assert "COB NKN/USDT" in result.output and "buckets of 0.001" in result.output


def test_cob_bad_arguments_exit_2(captures: Path) -> None:
    capture = str(captures / "BINANCE.ws.1.0")
    runner = CliRunner()
    both = ["cob", capture, "-s", "NKN/USDT", "--bucket-bps", "1", "--bucket-quote", "1"]
    result = runner.invoke(app, both)
    assert result.exit_code == 2 and "not both" in result.stderr
    result = runner.invoke(app, ["cob", capture, "-s", "NOPE/USDT"])
    assert result.exit_code == 2 and "NOPE/USDT" in result.stderr
