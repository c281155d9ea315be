"""The ``orderscope`` command line."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Annotated

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


def _print_report(report: dict[str, object]) -> None:
    console = Console()
    venues = report["venues"]
    assert isinstance(venues, list)
    for venue in venues:
        errors = ", ".join(f"{k}={v}" for k, v in venue["errors"].items()) or "none"
        console.rule(f"[bold]{venue['venue']}[/]  frames={venue['frames']}  errors: {errors}")
        table = Table(show_edge=False, pad_edge=False)
        for column in (
            "symbol",
            "frames",
            "state",
            "snap",
            "deltas",
            "gaps",
            "resyncs",
            "cksum ok/bad",
            "crossed",
            "best bid",
            "best ask",
            "trades",
            "volume",
            "vwap",
            "first event",
            "last event",
        ):
            table.add_column(column, justify="left" if column in ("symbol", "state") else "right")
        for s in venue["symbols"]:
            book = s["book"] or {}
            trades = s["trades"]
            bid = book.get("top_bids") or [["-", ""]]
            ask = book.get("top_asks") or [["-", ""]]
            table.add_row(
                s["symbol"],
                str(s["frames"]),
                book.get("state", "-"),
                str(book.get("snapshots", "-")),
                str(book.get("deltas", "-")),
                str(book.get("gaps", "-")),
                str(book.get("resyncs", "-")),
                f"{book.get('checksums_ok', 0)}/{book.get('checksums_failed', 0)}",
                str(book.get("crossed_updates", "-")),
                bid[0][0],
                ask[0][0],
                str(trades["count"]),
                trades["volume"],
                f"{trades['vwap']:.8g}" if trades["vwap"] is not None else "-",
                (s["first_event_time"] or "-")[:23],
                (s["last_event_time"] or "-")[:23],
            )
        console.print(table)


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
            peers=peers,
        )
    except OrderscopeError as error:
        _fail(error)


def main() -> None:  # pragma: no cover - console entry point
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    app()
