"""``orderscope analyze`` on the real captures: the JSON it prints validates against the
published schema, agrees with the replay totals, is deterministic, and shows progress."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from rich.console import Console
from typer.testing import CliRunner

from orderscope import analyze
from orderscope.analyze import run_analyze
from orderscope.book import L2Book
from orderscope.cli import app
from orderscope.model import Instrument, MarketEvent, Trade
from orderscope.replay import Replay

SCHEMA = json.loads(
    (Path(__file__).parents[1] / "docs/schemas/analyze.schema.json").read_text("utf-8")
)
runner = CliRunner()


def traded_symbols(captures: Path) -> list[str]:
    session = Replay([captures], skip_unsupported=True)
    session.run_all()
    return sorted({symbol for (_, symbol), totals in session.trades.items() if totals.count})


def analyze_json(*args: str) -> dict[str, Any]:
    result = runner.invoke(app, ["analyze", *args, "--json"])
    assert result.exit_code == 0, result.output
    report: dict[str, Any] = json.loads(result.stdout)
    return report


def test_json_validates_against_the_published_schema(captures: Path) -> None:
    symbols = traded_symbols(captures)
    assert symbols
    args = [str(captures)] + [a for s in symbols for a in ("--symbol", s)]
    report = analyze_json(*args, "--timeframe", "5s")
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    jsonschema.validate(report, SCHEMA, cls=jsonschema.Draft202012Validator)
    reported = {s["symbol"] for v in report["venues"] for s in v["symbols"]}
    assert reported == set(symbols)
    # the same report again, byte for byte: no wall clock anywhere
    assert analyze_json(*args, "--timeframe", "5s") == report


def test_totals_agree_with_the_replay(captures: Path) -> None:
    session = Replay([captures], skip_unsupported=True)
    session.run_all()
    symbols = traded_symbols(captures)
    report = analyze_json(str(captures), *[a for s in symbols for a in ("--symbol", s)])
    expected = {
        (v["venue"], x["symbol"]): x["trades"]
        for v in session.report()["venues"]
        for x in v["symbols"]
    }
    compared = 0
    for venue in report["venues"]:
        for s in venue["symbols"]:
            t = s["trades"]
            totals = expected.get((venue["venue"], s["symbol"]))
            if totals is None:  # listed because asked for by name, but no data on this venue
                assert t["count"] == 0
                continue
            compared += 1
            assert (t["count"], t["volume"], t["buy_volume"]) == (
                totals["count"],
                totals["volume"],
                totals["buy_volume"],
            )
            assert t["vwap"] == pytest.approx(totals["vwap"], rel=1e-12)
            bars = s["footprint"]["bars"]
            assert sum(b["trades"] for b in bars) == t["count"]
            assert bars[-1]["cvd"] == t["cvd"]
    assert compared >= len(symbols)


def test_venue_filter_and_bad_arguments(captures: Path) -> None:
    report = analyze_json(
        str(captures), "--symbol", "SUSHI/USDT:USDT", "--venue", "binance_futures", "--row", "5t"
    )
    assert [v["venue"] for v in report["venues"]] == ["binance_futures"]
    assert report["venues"][0]["symbols"][0]["profile"]["row"] == "0.0050"
    for bad in (
        ["--venue", "nowhere"],
        ["--venue", "binance"],  # SUSHI/USDT:USDT is a futures symbol
        ["--timeframe", "1w"],
        ["--row", "0.00001"],
    ):
        result = runner.invoke(app, ["analyze", str(captures), "--symbol", "SUSHI/USDT:USDT", *bad])
        assert result.exit_code == 2, (bad, result.output)


def test_a_file_no_connector_reads_is_refused(tmp_path: Path) -> None:
    nope = tmp_path / "NOPE.ws.1.0"
    nope.write_text("wss://example.invalid <-> 1.0\n")
    result = runner.invoke(app, ["analyze", str(nope), "--symbol", "BTC/USDT"])
    assert result.exit_code == 2 and "NOPE" in result.output


def test_human_output(captures: Path) -> None:
    result = runner.invoke(app, ["analyze", str(captures), "--symbol", "SUSHI/USDT:USDT"])
    assert result.exit_code == 0, result.output
    assert "SUSHI/USDT:USDT" in result.stdout and "POC 7.6150" in result.stdout
    assert "footprint" in result.stdout


def test_progress_on_long_inputs(captures: Path) -> None:
    files = [captures / "BINANCE_FUTURES.ws.1.0"]

    def run(long_input: int) -> str:
        err = io.StringIO()
        run_analyze(
            files,
            ["SUSHI/USDT:USDT"],
            None,
            None,
            "1m",
            True,
            stdout=Console(file=io.StringIO()),
            stderr=Console(file=err, force_terminal=True, width=100),
            long_input=long_input,
        )
        return err.getvalue()

    assert "analyzing" in run(long_input=1)
    assert run(long_input=10**9) == ""


class CountingExtension:
    """A stand-in for the signals / microstructure analytics that plug in later."""

    def __init__(self, instrument: Instrument, options: analyze.AnalyzeOptions) -> None:
        self.trades = 0
        self.books = 0

    def on_event(self, event: MarketEvent, book: L2Book | None) -> None:
        self.trades += type(event) is Trade
        self.books += book is not None

    def summary(self) -> dict[str, Any]:
        return {"trades": self.trades, "events_with_book": self.books}


def test_extensions_report_under_their_name(
    captures: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(analyze.EXTENSIONS, "counting", CountingExtension)
    report = analyze_json(str(captures), "--symbol", "SUSHI/USDT:USDT")
    jsonschema.validate(report, SCHEMA, cls=jsonschema.Draft202012Validator)
    (symbol,) = report["venues"][0]["symbols"]
    assert symbol["extensions"]["counting"]["trades"] == symbol["trades"]["count"] == 40
    assert symbol["extensions"]["counting"]["events_with_book"] > 0
