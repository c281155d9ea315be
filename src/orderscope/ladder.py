"""The terminal ladder (Rich): books and last trades, fed by a replay or by a live session.

One renderer (``Ladders``) serves both: ``run_ladder`` replays captures at real speed through
the connectors (``orderscope demo``), ``watch_live`` feeds it from a live session
(``orderscope watch``). The pacing of a replay (sleeping between records according to their
receive times) and the live transport are the only places the wall clock is used; what is shown
is computed from the books and events alone.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from rich.columns import Columns
from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from orderscope.book import L2Book
from orderscope.live import LiveSession, run_live
from orderscope.model import BookState, FeedState, FeedStatus, MarketEvent, Side, Trade
from orderscope.replay import Replay, rfc3339_ns
from orderscope.venues.base import Endpoints, Venue

LEVELS = 8
MAX_PANELS = 6
REFRESH_PER_SECOND = 8
TAPE = 4  # trades shown under a ladder


def _ladder(venue: Venue, book: L2Book, trades: Iterable[Trade]) -> Panel:
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
    for trade in trades:
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


class Ladders:
    """What the ladder shows besides the books: the last trades of each book, the state of the
    live connections, and a caption. Fed with events, rendered for some venues."""

    def __init__(self) -> None:
        self.trades: dict[tuple[str, str], deque[Trade]] = {}
        self.feeds: dict[tuple[str, int], FeedState] = {}  # (venue, connection) -> state
        self.caption = ""

    def add(self, venue: Venue, events: Iterable[MarketEvent]) -> None:
        for event in events:
            if isinstance(event, Trade):
                key = (venue.name, event.symbol)
                tape = self.trades.get(key)
                if tape is None:
                    tape = self.trades[key] = deque(maxlen=TAPE)
                tape.append(event)
            elif isinstance(event, FeedStatus):
                self.feeds[(venue.name, event.connection)] = event.state

    def render(self, venues: Iterable[Venue]) -> Group:
        panels = [
            _ladder(venue, book, self.trades.get((venue.name, symbol), ()))
            for venue in venues
            for symbol, book in sorted(venue.books.items())
        ][:MAX_PANELS]
        lines = [Text(self.caption)]
        if self.feeds:
            states = ", ".join(f"{v} #{c} {s.value}" for (v, c), s in sorted(self.feeds.items()))
            lines.append(Text(f"connections: {states}"))
        return Group(*lines, Columns(panels))


@contextmanager
def live_view(first: RenderableType, console: Console, refresh: float) -> Iterator[Live]:
    """A Rich live view that, stopped, leaves the cursor on a new line (Rich does that on
    terminals only), also when it is stopped by an error."""
    try:
        with Live(first, console=console, refresh_per_second=refresh) as view:
            yield view
    finally:
        if not console.is_terminal:
            console.line()


def run_ladder(
    paths: Iterable[Path],
    symbols: list[str] | None,
    *,
    speed: float = 1.0,
    duration: float | None = None,
) -> None:
    """Replay ``paths`` and redraw the ladders; ``speed`` 0 runs as fast as possible."""
    session = Replay(list(paths), symbols, skip_unsupported=True)
    view = Ladders()
    first_ns: dict[str, int] = {}  # captures of different venues come from different days:
    wall_start: dict[str, float] = {}  # each venue is paced from its own first record

    with live_view(view.render(session.venues), Console(), REFRESH_PER_SECOND) as live:
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
            view.add(venue, events)
            now = time.monotonic()
            if now - last_draw >= 1 / REFRESH_PER_SECOND:
                view.caption = f"capture time {rfc3339_ns(record.recv_ns)}   (speed x{speed:g})"
                live.update(view.render(session.venues))
                last_draw = now
        live.update(view.render(session.venues))


def watch_live(
    venue_name: str,
    symbols: Sequence[str],
    *,
    endpoints: Endpoints | None = None,
    duration_s: float | None = None,
    console: Console | None = None,
) -> LiveSession:
    """Draw the ladders of a live session until ``duration_s`` or Ctrl-C."""
    view = Ladders()
    view.caption = f"connecting to {venue_name}..."
    with live_view(view.render(()), console or Console(), REFRESH_PER_SECOND) as live:

        def draw(session: LiveSession) -> None:
            frames = session.counters.frames
            view.caption = f"live {session.venue.name}   frames {frames:,}   (Ctrl-C to stop)"
            live.update(view.render([session.venue]))

        session = asyncio.run(
            run_live(
                venue_name,
                symbols,
                view.add,
                endpoints=endpoints,
                duration_s=duration_s,
                on_tick=draw,
                tick_s=1 / REFRESH_PER_SECOND,
            )
        )
    return session
