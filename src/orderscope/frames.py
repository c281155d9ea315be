"""Recorded sessions as Polars frames, for notebooks and research.

``load(paths)`` replays captures through the same connectors and books as ``orderscope
replay`` and live sessions (``orderscope.replay.Replay``), and collects what came out:

- ``trades``: one row per trade, in arrival order: venue, symbol, exch_ns, recv_ns, ts (event
  time: exch_ns, or recv_ns when the venue sends no stamp), price, size (scaled ints, see
  ``orderscope.fixed``), side (+1 the aggressor bought, -1 it sold), trade_id. A slice of it
  for one instrument (``trades_of``) is what every vectorized analytic of ``orderscope.flow``
  takes;
- ``book_deltas``: one row per level change: venue, symbol, exch_ns, recv_ns, ts, update (the
  number of the book event the level came in, counted per recording), snapshot (True for the
  levels of a full snapshot, which replaces the book), book_side (+1 bid, -1 ask), price, size
  (the new absolute size; 0 deletes the level);
- ``top_of_book``: after each book event, the best bid and ask of the connector's exact book
  (null when a side is empty) and whether the book was in sync: venue, symbol, recv_ns, ts,
  update, bid_price, bid_size, ask_price, ask_size, synced.

Prices and sizes stay scaled ints: ``instrument(venue, symbol)`` gives the decimals (and
``Instrument.price``/``size`` convert for display).

    rec = frames.load([Path("captures/BINANCE_FUTURES.ws.1.0")])
    trades = rec.trades_of("binance_futures", "SUSHI/USDT:USDT")
    profile = volume_profile(trades, row=rec.instrument(...).tick_size)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from orderscope.errors import ConfigError
from orderscope.model import BookDelta, BookSnapshot, BookStatus, Instrument, Trade
from orderscope.replay import Replay

PRICE = pl.Int64
SIZE = pl.Int64

TRADES_SCHEMA: dict[str, Any] = {
    "venue": pl.String,
    "symbol": pl.String,
    "exch_ns": pl.Int64,
    "recv_ns": pl.Int64,
    "ts": pl.Int64,
    "price": PRICE,
    "size": SIZE,
    "side": pl.Int8,
    "trade_id": pl.String,
}
BOOK_DELTAS_SCHEMA: dict[str, Any] = {
    "venue": pl.String,
    "symbol": pl.String,
    "exch_ns": pl.Int64,
    "recv_ns": pl.Int64,
    "ts": pl.Int64,
    "update": pl.Int64,
    "snapshot": pl.Boolean,
    "book_side": pl.Int8,
    "price": PRICE,
    "size": SIZE,
}
TOP_OF_BOOK_SCHEMA: dict[str, Any] = {
    "venue": pl.String,
    "symbol": pl.String,
    "recv_ns": pl.Int64,
    "ts": pl.Int64,
    "update": pl.Int64,
    "bid_price": PRICE,
    "bid_size": SIZE,
    "ask_price": PRICE,
    "ask_size": SIZE,
    "synced": pl.Boolean,
}


@dataclass(frozen=True, slots=True)
class Recording:
    #: (venue, unified symbol) -> instrument, for every instrument with events
    instruments: dict[tuple[str, str], Instrument]
    trades: pl.DataFrame
    book_deltas: pl.DataFrame
    top_of_book: pl.DataFrame

    def instrument(self, venue: str, symbol: str) -> Instrument:
        try:
            return self.instruments[(venue, symbol)]
        except KeyError:
            raise ConfigError(f"no {symbol} on {venue} in this recording") from None

    def trades_of(self, venue: str, symbol: str) -> pl.DataFrame:
        """The trades of one instrument (arrival order): the input of the flow analytics."""
        self.instrument(venue, symbol)
        return self.trades.filter((pl.col("venue") == venue) & (pl.col("symbol") == symbol))

    def book_of(self, venue: str, symbol: str) -> pl.DataFrame:
        self.instrument(venue, symbol)
        return self.book_deltas.filter((pl.col("venue") == venue) & (pl.col("symbol") == symbol))

    def top_of(self, venue: str, symbol: str) -> pl.DataFrame:
        self.instrument(venue, symbol)
        return self.top_of_book.filter((pl.col("venue") == venue) & (pl.col("symbol") == symbol))


def load(
    paths: Iterable[Path],
    symbols: Iterable[str] | None = None,
    *,
    skip_unsupported: bool = False,
    on_record: Callable[[], None] | None = None,
) -> Recording:
    """Replay captures (files or folders) and collect trades, book levels and top of book.

    ``on_record`` is called after each capture record (a progress bar's ``advance``).
    """
    session = Replay(paths, symbols, skip_unsupported=skip_unsupported)
    trades: list[tuple[Any, ...]] = []
    levels: list[tuple[Any, ...]] = []
    tops: list[tuple[Any, ...]] = []
    seen: set[tuple[str, str]] = set()
    update = 0
    for venue, _record, events in session.run():
        if on_record is not None:
            on_record()
        for event in events:
            ts = event.exch_ns or event.recv_ns
            if isinstance(event, Trade):
                trades.append(
                    (
                        venue.name,
                        event.symbol,
                        event.exch_ns,
                        event.recv_ns,
                        ts,
                        event.price,
                        event.size,
                        int(event.side),
                        event.trade_id,
                    )
                )
                seen.add((venue.name, event.symbol))
                continue
            if not isinstance(event, BookSnapshot | BookDelta | BookStatus):
                continue
            update += 1
            seen.add((venue.name, event.symbol))
            if isinstance(event, BookSnapshot | BookDelta):
                snapshot = isinstance(event, BookSnapshot)
                head = (venue.name, event.symbol, event.exch_ns, event.recv_ns, ts, update)
                levels.extend((*head, snapshot, 1, p, q) for p, q in event.bids)
                levels.extend((*head, snapshot, -1, p, q) for p, q in event.asks)
            book = venue.books.get(event.symbol)
            if book is None:
                continue
            bid, ask = book.best_bid(), book.best_ask()
            tops.append(
                (
                    venue.name,
                    event.symbol,
                    event.recv_ns,
                    ts,
                    update,
                    *(bid if bid else (None, None)),
                    *(ask if ask else (None, None)),
                    book.is_synced,
                )
            )
    by_name = {venue.name: venue for venue in session.venues}
    seen.update((v.name, symbol) for v in session.venues for symbol in v.symbols or ())
    instruments = {key: by_name[key[0]].instruments[key[1]] for key in sorted(seen)}
    return Recording(
        instruments,
        pl.DataFrame(trades, schema=TRADES_SCHEMA, orient="row"),
        pl.DataFrame(levels, schema=BOOK_DELTAS_SCHEMA, orient="row"),
        pl.DataFrame(tops, schema=TOP_OF_BOOK_SCHEMA, orient="row"),
    )
