"""The ``orderscope`` command line."""

from __future__ import annotations

import dataclasses
import logging
import sys
from pathlib import Path
from typing import Annotated, Any

import msgspec
import typer
from rich.console import Console
from rich.table import Table

from orderscope.engine import Engine
from orderscope.errors import ConfigError, OrderscopeError
from orderscope.paths import default_captures
from orderscope.replay import Replay
from orderscope.symbols import normalize_user_symbol
from orderscope.venues import venue_class

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


Port = Annotated[
    int | None, typer.Option("--port", "-p", help="TCP port (0: any free one; default 8000)")
]
NoBrowser = Annotated[
    bool, typer.Option("--no-browser", help="do not open the dashboard in a browser")
]
Token = Annotated[
    str | None,
    typer.Option(help="require this token on every API request (or set ORDERSCOPE_TOKEN)"),
]


@app.command()
def serve(
    config: Annotated[Path | None, typer.Option("--config", "-c", help="TOML config file")] = None,
    venue: Annotated[
        list[str] | None, typer.Option("--venue", "-v", help="venue to connect to; repeatable")
    ] = None,
    symbol: Symbols = None,
    host: Annotated[
        str | None, typer.Option(help="address to bind (default 127.0.0.1: this machine only)")
    ] = None,
    port: Port = None,
    token: Token = None,
    allow_no_token: Annotated[
        bool, typer.Option(help="allow a non-loopback address without a token")
    ] = False,
    no_browser: NoBrowser = False,
) -> None:
    """Serve the REST / WebSocket API and the dashboard, fed by live venue connections."""
    from orderscope.service.config import load_config
    from orderscope.service.feeds import LiveFeeds
    from orderscope.service.server import serve as run_server

    try:
        settings = load_config(
            config,
            venues=venue,
            symbols=_symbols(symbol),
            host=host,
            port=port,
            token=token,
            allow_no_token=allow_no_token,
        )
        feeds = settings.feeds

        def make(engine: Engine) -> LiveFeeds:
            return LiveFeeds.by_name(engine, feeds.venues, feeds.symbols)

        for name in feeds.venues:  # unknown names fail now, not after the server started
            venue_class(name)
        run_server(settings, make, open_browser=not no_browser, fallback_port=port is None)
    except OrderscopeError as error:
        _fail(error)


@app.command()
def demo(
    port: Port = None,
    no_browser: NoBrowser = False,
    token: Token = None,
    seed: Annotated[int, typer.Option(help="seed of the synthetic markets")] = 1,
) -> None:
    """The server fed by emulated venues with synthetic BTC/USDT and ETH/USDT markets, offline."""
    from orderscope.service.config import load_config
    from orderscope.service.feeds import (
        DEMO_BOOK_DEPTH,
        DEMO_ROWS,
        DEMO_SYMBOLS,
        DEMO_VENUES,
        DemoFeeds,
    )
    from orderscope.service.server import serve as run_server

    try:
        settings = load_config(
            venues=[v.name for v in DEMO_VENUES],
            symbols=list(DEMO_SYMBOLS),
            port=port,
            token=token,
        )
        engine_config = dataclasses.replace(
            settings.engine, book_depth=DEMO_BOOK_DEPTH, rows=dict(DEMO_ROWS)
        )
        settings = dataclasses.replace(settings, engine=engine_config)

        def make(engine: Engine) -> DemoFeeds:
            return DemoFeeds(engine, seed=seed)

        run_server(settings, make, open_browser=not no_browser, fallback_port=port is None)
    except OrderscopeError as error:
        _fail(error)


@app.command()
def ladder(
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


def main() -> None:  # pragma: no cover - console entry point
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    app()
