"""The ``orderscope`` command line."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Annotated, Any

import msgspec
import typer
from rich.console import Console
from rich.table import Table

from orderscope.errors import ConfigError, OrderscopeError
from orderscope.paths import default_captures
from orderscope.replay import Replay
from orderscope.symbols import normalize_user_symbol

app = typer.Typer(
    name="orderscope",
    help="Order-book and order-flow analysis for crypto venues.",
    no_args_is_help=True,
    add_completion=False,
)

Files = Annotated[
    list[Path], typer.Argument(help="capture files or directories (VENUE.ws.N.M ...)")
]
Symbols = Annotated[
    list[str] | None,
    typer.Option("--symbol", "-s", help="unified symbol (BTC/USDT, BTC-USDT); repeatable"),
]
AsJson = Annotated[bool, typer.Option("--json", help="print machine-readable JSON")]


def _fail(error: OrderscopeError) -> None:
    Console(stderr=True).print(f"[bold red]error:[/] {error}")
    raise typer.Exit(2)


def _symbols(values: list[str] | None) -> list[str] | None:
    if not values:
        return None
    try:
        return [normalize_user_symbol(v) for v in values]
    except ValueError as exc:
        raise ConfigError(str(exc)) from None


@app.command()
def replay(files: Files, symbol: Symbols = None, as_json: AsJson = False) -> None:
    """Replay captures through the venue connectors and summarize books and trades."""
    try:
        session = Replay(files, _symbols(symbol))
        session.run_all()
    except OrderscopeError as error:
        _fail(error)
        return
    report = session.report()
    if as_json:
        sys.stdout.buffer.write(msgspec.json.encode(report) + b"\n")
        return
    _print_report(report)


def _short(number: str) -> str:
    """A decimal string for reading: trailing zeros dropped (the JSON keeps them)."""
    return number.rstrip("0").rstrip(".") if "." in number else number


BOOK_COLUMNS = ("book", "state", "deltas", "gaps", "resync", "cksum", "crossed", "bid", "ask")
TRADE_COLUMNS = ("trades", "count", "volume", "buy", "sell", "vwap", "first", "last")


def _table(title: str, headers: tuple[str, ...], rows: list[list[str]]) -> Table:
    table = Table(title=title, show_edge=False, title_justify="left", pad_edge=False)
    for n, header in enumerate(headers):
        table.add_column(header, no_wrap=True, justify="left" if n == 0 else "right")
    for row in rows:
        table.add_row(*row)
    return table


def _print_report(report: dict[str, Any]) -> None:
    console = Console()
    for venue in report["venues"]:
        errors = ", ".join(f"{k}={v}" for k, v in venue["errors"].items()) or "none"
        console.rule(f"[bold]{venue['venue']}[/]  frames {venue['frames']}  errors: {errors}")
        books, trades = [], []
        for s in venue["symbols"]:
            if (book := s["book"]) is not None:
                top_bid = (book["top_bids"] or [["-"]])[0][0]
                top_ask = (book["top_asks"] or [["-"]])[0][0]
                books.append(
                    [
                        s["symbol"],
                        book["state"],
                        str(book["deltas"]),
                        str(book["gaps"]),
                        str(book["resyncs"]),
                        f"{book['checksums_ok']}/{book['checksums_failed']}",
                        str(book["crossed_updates"]),
                        _short(top_bid),
                        _short(top_ask),
                    ]
                )
            if (t := s["trades"])["count"]:
                trades.append(
                    [
                        s["symbol"],
                        str(t["count"]),
                        _short(t["volume"]),
                        _short(t["buy_volume"]),
                        _short(t["sell_volume"]),
                        f"{t['vwap']:.6g}",
                        (s["first_event_time"] or "-")[11:19],
                        (s["last_event_time"] or "-")[11:19],
                    ]
                )
        console.print(_table("", BOOK_COLUMNS, books))
        if trades:
            console.print(_table("", TRADE_COLUMNS, trades))


@app.command()
def analyze(
    files: Files,
    symbol: Annotated[
        list[str], typer.Option("--symbol", "-s", help="unified symbol (BTC/USDT); repeatable")
    ],
    venue: Annotated[
        str | None, typer.Option(help="only this venue (binance, binance_futures, ...)")
    ] = None,
    row: Annotated[
        str | None, typer.Option(help="row height: N ticks ('10t') or a price step ('0.5')")
    ] = None,
    timeframe: Annotated[str, typer.Option(help="footprint bars: 1m 5m 15m 1h 4h 1d")] = "1m",
    as_json: AsJson = False,
) -> None:
    """Order-flow analytics per venue and symbol: totals, volume profile, footprint, CVD, VWAP."""
    from orderscope.analyze import run_analyze

    try:
        run_analyze(files, _symbols(symbol) or [], venue, row, timeframe, as_json)
    except OrderscopeError as error:
        _fail(error)


@app.command()
def demo(
    files: Annotated[
        list[Path] | None, typer.Argument(help="captures (default: ../shared/data/captures)")
    ] = None,
    symbol: Symbols = None,
    speed: Annotated[
        float, typer.Option(help="replay speed; 1 = real time, 0 = as fast as possible")
    ] = 1.0,
    duration: Annotated[
        float | None, typer.Option(help="stop after this many seconds of capture time")
    ] = None,
) -> None:
    """A live terminal ladder: replays captures at real speed through the connectors."""
    from orderscope.ladder import run_ladder

    try:
        paths = files or [default_captures()]
        run_ladder(paths, _symbols(symbol), speed=speed, duration=duration)
    except OrderscopeError as error:
        _fail(error)


@app.command()
def emulate(
    port: Annotated[int, typer.Option(help="local port (0: any free one)")] = 8765,
    venues: Annotated[
        str | None,
        typer.Option(help="synthetic venues, comma-separated [default: binance,coinbase,kraken]"),
    ] = None,
    symbols: Annotated[
        str,
        typer.Option(help="synthetic markets: BTC/USDT ETH/USDT SOL/USDT XRP/USDT DOGE/USDT"),
    ] = "BTC/USDT,ETH/USDT",
    speed: Annotated[
        float, typer.Option(help="simulated seconds per second; captures: 0 = as fast as read")
    ] = 1.0,
    capture: Annotated[
        list[Path] | None,
        typer.Option(help="serve a recorded capture (files or a directory); repeatable"),
    ] = None,
    fault_every: Annotated[
        float | None, typer.Option(help="inject a random fault every N seconds (logged)")
    ] = None,
    seed: Annotated[int, typer.Option(help="seed of the markets and of the faults")] = 7,
    rate: Annotated[
        float | None, typer.Option(help="market events per second [default: each market's]")
    ] = None,
) -> None:
    """A local venue emulator (Binance, Coinbase, Kraken protocols) until Ctrl-C."""
    from orderscope.emulator.run import DEFAULT_VENUES, build_emulator, run_emulate

    try:
        names = venues.split(",") if venues else ([] if capture else list(DEFAULT_VENUES))
        emulator = build_emulator(
            [n.strip().lower() for n in names if n.strip()],
            _symbols([s for s in symbols.split(",") if s.strip()]) or [],
            captures=capture or [],
            speed=speed,
            seed=seed,
            rate=rate,
        )
    except OrderscopeError as error:
        _fail(error)
        return
    run_emulate(emulator, port=port, fault_every=fault_every, seed=seed)


def main() -> None:  # pragma: no cover - console entry point
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    app()
