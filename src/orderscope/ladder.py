"""A live terminal ladder (Rich): captures replayed at real speed through the connectors.

The pacing sleeps between records according to their receive times; that is the transport's
business (it plays the part of the network) and the only place the wall clock is used. What is
shown is computed from the books and events alone.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Iterable
from pathlib import Path

from rich.columns import Columns
from rich.console import Group
from rich.live import Live
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from orderscope.book import L2Book
from orderscope.model import BookState, Side, Trade
from orderscope.replay import Replay, rfc3339_ns
from orderscope.venues.base import Venue

LEVELS = 8
MAX_PANELS = 6
REFRESH_PER_SECOND = 8


def _ladder(venue: Venue, book: L2Book, trades: deque[Trade]) -> Panel:
    inst = book.instrument
    table = Table(show_header=True, show_edge=False, pad_edge=False, expand=True)
    table.add_column("bid size", justify="right", style="green")
    table.add_column("price", justify="right")
    table.add_column("ask size", justify="right", style="red")
    for price, size in reversed(book.asks(LEVELS)):
        table.add_row("", inst.price_text(price), inst.size_text(size))
    for price, size in book.bids(LEVELS):
        table.add_row(inst.size_text(size), inst.price_text(price), "")
    state_style = {"synced": "green", "out_of_sync": "bold red"}.get(book.state.value, "yellow")
    c = book.counters
    status = Text.assemble(
        (book.state.value, state_style),
        f"  Δ{c.deltas} gaps {c.gaps} resyncs {c.resyncs}",
        f"  cksum {c.checksums_ok}/{c.checksums_failed}"
        if c.checksums_ok or c.checksums_failed
        else "",
        ("  CROSSED" if book.crossed else "", "bold red"),
    )
    tape = Text()
    for trade in list(trades)[-4:]:
        colour = "green" if trade.side is Side.BUY else "red"
        tape.append(
            f"{'▲' if trade.side is Side.BUY else '▼'} {inst.size_text(trade.size)} @ "
            f"{inst.price_text(trade.price)}\n",
            style=colour,
        )
    border = "red" if book.state is BookState.OUT_OF_SYNC else "blue"
    return Panel(
        Group(table, status, tape),
        title=f"{venue.name} {inst.symbol}",
        border_style=border,
        width=48,
    )


def run_ladder(
    paths: Iterable[Path],
    symbols: list[str] | None,
    *,
    speed: float = 1.0,
    duration: float | None = None,
) -> None:
    """Replay ``paths`` and redraw the ladders; ``speed`` 0 runs as fast as possible."""
    session = Replay(list(paths), symbols, skip_unsupported=True)
    trades: dict[tuple[str, str], deque[Trade]] = {}
    first_ns: dict[str, int] = {}  # captures of different venues come from different days:
    wall_start: dict[str, float] = {}  # each venue is paced from its own first record
    clock = Text("")

    def render() -> Group:
        panels = [
            _ladder(venue, book, trades.get((venue.name, sym), deque()))
            for venue in session.venues
            for sym, book in venue.books.items()
        ][:MAX_PANELS]
        return Group(clock, Columns(panels))

    with Live(render(), refresh_per_second=REFRESH_PER_SECOND) as live:
        last_draw = 0.0
        for venue, record, events in session.run():
            if venue.name not in first_ns:
                first_ns[venue.name] = record.recv_ns
                wall_start[venue.name] = time.monotonic()
            elapsed_capture = (record.recv_ns - first_ns[venue.name]) / 1e9
            if duration is not None and elapsed_capture > duration:
                continue
            if speed > 0:
                delay = elapsed_capture / speed - (time.monotonic() - wall_start[venue.name])
                if delay > 0:
                    time.sleep(min(delay, 1.0))
            for event in events:
                if isinstance(event, Trade):
                    trades.setdefault((venue.name, event.symbol), deque(maxlen=8)).append(event)
            now = time.monotonic()
            if now - last_draw >= 1 / REFRESH_PER_SECOND:
                clock.plain = f"capture time {rfc3339_ns(record.recv_ns)}   (speed x{speed:g})"
                live.update(render())
                last_draw = now
        live.update(render())
