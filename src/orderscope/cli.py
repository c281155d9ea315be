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
from orderscope.venues.base import Endpoints

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


def _symbol(value: str) -> str:
    try:
        return normalize_user_symbol(value)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None


def _symbols(values: list[str] | None) -> list[str] | None:
    return [_symbol(v) for v in values] if values else None


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
def cob(
    files: Files,
    symbol: Annotated[str, typer.Option("--symbol", "-s", help="unified symbol (BTC/USDT)")],
    bucket_bps: Annotated[
        float | None, typer.Option(help="bucket width in bps of the mid (default 1 bp)")
    ] = None,
    bucket_quote: Annotated[
        str | None, typer.Option(help="bucket width as a quote amount, e.g. 10 for $10")
    ] = None,
    buckets: Annotated[int, typer.Option(help="buckets a side to print")] = 10,
    impact: Annotated[
        str | None, typer.Option(help="also walk and route a market order of this base size")
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Replay captures into the consolidated book of SYMBOL; print it and its metrics."""
    from orderscope.cob.command import print_report, run

    try:
        report = run(
            files,
            _symbol(symbol),
            bucket_bps=bucket_bps,
            bucket_quote=bucket_quote,
            buckets=buckets,
            impact_size=impact,
        )
    except OrderscopeError as error:
        _fail(error)
        return
    if as_json:
        sys.stdout.buffer.write(msgspec.json.encode(report) + b"\n")
        return
    print_report(report)


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


@app.command()
def bench(
    runs: Annotated[int, typer.Option(min=1, help="samples per measurement (median)")] = 5,
    as_json: AsJson = False,
    only: Annotated[
        list[str] | None,
        typer.Option(help="a venue (binance, BINANCE_FUTURES...) or 'synthetic'; repeatable"),
    ] = None,
    captures: Annotated[
        Path | None, typer.Option(help="capture directory (default: ../shared/data/captures)")
    ] = None,
    deltas: Annotated[int, typer.Option(min=1, help="deltas in the synthetic stream")] = 1_000_000,
    min_time: Annotated[float, typer.Option(help="seconds a sample lasts at least")] = 0.2,
    slices: Annotated[
        int, typer.Option(min=1, help="slices a capture sample is taken in, in turn with the peer")
    ] = 4,
    peers: Annotated[bool, typer.Option(help="also run cryptofeed on the captures")] = True,
) -> None:
    """Replay throughput per capture beside cryptofeed, and L2Book on a synthetic stream."""
    from orderscope.bench.cli import run_bench

    try:
        run_bench(
            captures or default_captures(),
            runs=runs,
            as_json=as_json,
            only=only or [],
            deltas=deltas,
            min_time=min_time,
            slices=slices,
            peers=peers,
        )
    except OrderscopeError as error:
        _fail(error)


_DURATION_UNITS = {"ns": 1, "us": 1_000, "ms": 1_000_000, "s": 1_000_000_000, "m": 60_000_000_000}


def _duration_ns(text: str) -> int:
    """``250ms``, ``1s``, ``2m``, ``500us`` -> nanoseconds."""
    number = text.rstrip("numsh")
    unit = text[len(number) :] or "s"
    if unit == "h":
        return int(float(number) * 3_600_000_000_000)
    if unit not in _DURATION_UNITS or not number:
        raise ConfigError(f"not a duration: {text!r} (e.g. 250ms, 1s, 5m)")
    try:
        return int(float(number) * _DURATION_UNITS[unit])
    except ValueError:
        raise ConfigError(f"not a duration: {text!r} (e.g. 250ms, 1s, 5m)") from None


@app.command()
def heatmap(
    files: Files,
    symbol: Annotated[str, typer.Option("--symbol", "-s", help="unified symbol (BTC/USDT)")],
    out: Annotated[Path, typer.Option("--out", "-o", help="PNG file to write")],
    venue: Annotated[
        str | None, typer.Option(help="venue, when several captures list the symbol")
    ] = None,
    width: Annotated[int, typer.Option(help="image width in pixels")] = 1200,
    height: Annotated[int, typer.Option(help="image height in pixels")] = 700,
    step: Annotated[
        str | None, typer.Option(help="time step (250ms, 1s, 1m); default: fit the width")
    ] = None,
    row: Annotated[
        str | None, typer.Option(help="price row height (e.g. 0.01); default: the tick size")
    ] = None,
) -> None:
    """Render the liquidity heatmap of one symbol (resting size, trades, best bid/ask) to PNG."""
    from orderscope.heatmap_render import render_capture_heatmap

    try:
        (unified,) = _symbols([symbol]) or []
        summary = render_capture_heatmap(
            files,
            unified,
            out,
            venue=venue,
            width=width,
            height=height,
            step_ns=_duration_ns(step) if step else None,
            row=row,
        )
    except OrderscopeError as error:
        _fail(error)
        return
    Console().print(summary)


VenueName = Annotated[str, typer.Option("--venue", "-v", help="venue: binance, okx, bybit, ...")]
LiveSymbols = Annotated[
    list[str], typer.Option("--symbol", "-s", help="unified symbol (BTC/USDT); repeatable")
]
Duration = Annotated[
    float | None, typer.Option(help="stop after this many seconds (default: at Ctrl-C)")
]
WsUrl = Annotated[
    str | None, typer.Option(help="WebSocket base URL instead of the venue's (an emulator)")
]
RestUrl = Annotated[str | None, typer.Option(help="REST base URL instead of the venue's")]


def _endpoints(venue: str, ws_url: str | None, rest_url: str | None) -> Endpoints | None:
    if ws_url is None and rest_url is None:
        return None
    default = venue_class(venue).default_endpoints
    return Endpoints((ws_url or default.ws).rstrip("/"), (rest_url or default.rest).rstrip("/"))


@app.command()
def record(
    venue: VenueName,
    symbol: LiveSymbols,
    out: Annotated[Path, typer.Option(help="folder for the capture files")],
    duration: Duration = None,
    rotate_mb: Annotated[float, typer.Option(help="start a new file past this size")] = 256.0,
    rotate_minutes: Annotated[float, typer.Option(help="start a new file after this")] = 60.0,
    ws_url: WsUrl = None,
    rest_url: RestUrl = None,
) -> None:
    """Record live data of a venue in the capture format (replay it with `orderscope replay`)."""
    from orderscope.record import record_live

    try:
        endpoints = _endpoints(venue, ws_url, rest_url)
        record_live(
            venue,
            _symbols(symbol) or [],
            out,
            endpoints=endpoints,
            duration_s=duration,
            rotate_bytes=max(1, int(rotate_mb * 2**20)),
            rotate_seconds=rotate_minutes * 60,
        )
    except OrderscopeError as error:
        _fail(error)


@app.command()
def watch(
    venue: VenueName,
    symbol: LiveSymbols,
    duration: Duration = None,
    ws_url: WsUrl = None,
    rest_url: RestUrl = None,
) -> None:
    """A live terminal ladder of a venue's books and trades, from its live feed."""
    from orderscope.ladder import watch_live

    try:
        endpoints = _endpoints(venue, ws_url, rest_url)
        watch_live(venue, _symbols(symbol) or [], endpoints=endpoints, duration_s=duration)
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
