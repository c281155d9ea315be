"""Recorded events of one instrument as Polars frames, the input of the research (batch) path.

``load_frames`` replays a stream of events once through a ``BookTracker`` and returns three
frames that share ``seq``, the position of each event in the stream (trades and book updates
interleave in it, so "the book just before this trade" is an as-of join on ``seq``, never on
timestamps that come from different venue clocks):

- ``trades``:  seq, ts, price, size, side (+1 buy aggressor, -1 sell aggressor)
- ``changes``: seq, ts, side (+1 bid, -1 ask), price, old, new: one row per level that changed
- ``top``:     seq, ts, snapshot, resync (see ``BookChange``), bid, bid_size, ask, ask_size
  (0: empty side), bid_depth,
  ask_depth (resting size of the best ``depth_levels`` levels): one row per book update

All prices and sizes are scaled ints (Int64); ``ts`` is event time in ns (``event_time``).
An instrument whose scaled numbers do not fit in 64 bits (sizes kept at 18 decimals) is
refused with a ``ConfigError``: the streaming states, on Python ints, still handle it.
Building the frames is sequential (a book is a sequential thing); everything downstream of them
is vectorized.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import polars as pl

from orderscope.errors import ConfigError
from orderscope.flow.book_tracker import BookTracker, event_time
from orderscope.model import BookDelta, BookSnapshot, BookStatus, Event, Instrument, Trade

DEPTH_LEVELS = 10
INT64_MAX = 2**63 - 1

TRADE_SCHEMA = {
    "seq": pl.Int64,
    "ts": pl.Int64,
    "price": pl.Int64,
    "size": pl.Int64,
    "side": pl.Int8,
}
CHANGE_SCHEMA = {
    "seq": pl.Int64,
    "ts": pl.Int64,
    "side": pl.Int8,
    "price": pl.Int64,
    "old": pl.Int64,
    "new": pl.Int64,
}
TOP_SCHEMA = {
    "seq": pl.Int64,
    "ts": pl.Int64,
    "snapshot": pl.Boolean,
    "resync": pl.Boolean,
    "bid": pl.Int64,
    "bid_size": pl.Int64,
    "ask": pl.Int64,
    "ask_size": pl.Int64,
    "bid_depth": pl.Int64,
    "ask_depth": pl.Int64,
}


@dataclass(frozen=True, slots=True)
class FlowFrames:
    instrument: Instrument
    trades: pl.DataFrame
    changes: pl.DataFrame
    top: pl.DataFrame


def load_frames(
    events: Iterable[Event],
    instrument: Instrument,
    *,
    max_depth: int | None = None,
    depth_levels: int = DEPTH_LEVELS,
) -> FlowFrames:
    """Frames of one instrument's events (events of other symbols are skipped)."""
    symbol = instrument.symbol
    tracker = BookTracker(instrument, max_depth)
    trades: dict[str, list[int]] = {k: [] for k in TRADE_SCHEMA}
    changes: dict[str, list[int]] = {k: [] for k in CHANGE_SCHEMA}
    top: dict[str, list[int]] = {k: [] for k in TOP_SCHEMA}
    seq = -1
    for event in events:
        if event.symbol != symbol:
            continue
        seq += 1
        kind = type(event)
        if kind is Trade:
            assert isinstance(event, Trade)
            _append(trades, seq, event_time(event), event.price, event.size, int(event.side))
        elif kind is BookSnapshot or kind is BookDelta:
            assert isinstance(event, BookSnapshot | BookDelta)
            change = tracker.apply(event)
            for side, levels in ((1, change.bids), (-1, change.asks)):
                for price, old, new in levels:
                    _append(changes, seq, change.ts, side, price, old, new)
            bid_depth, ask_depth = tracker.top_sizes(depth_levels)
            _append(
                top,
                seq,
                change.ts,
                change.snapshot,
                change.resync,
                change.bid,
                change.bid_size,
                change.ask,
                change.ask_size,
                bid_depth,
                ask_depth,
            )
        elif kind is BookStatus:
            assert isinstance(event, BookStatus)
            tracker.on_status(event)  # so that the next snapshot counts as a resync
    for name, columns in (("trades", trades), ("changes", changes), ("top", top)):
        for column, values in columns.items():
            if values and max(max(values), -min(values)) > INT64_MAX:
                raise ConfigError(
                    f"{instrument.venue} {symbol}: {name}.{column} holds a value beyond 64 bits "
                    f"(prices at {instrument.price_decimals} decimals, sizes at "
                    f"{instrument.size_decimals}); the batch path keeps Int64 columns"
                )
    return FlowFrames(
        instrument,
        pl.DataFrame(trades, schema=TRADE_SCHEMA),
        pl.DataFrame(changes, schema=CHANGE_SCHEMA),
        pl.DataFrame(top, schema=TOP_SCHEMA),
    )


def _append(columns: dict[str, list[int]], *values: int) -> None:
    for column, value in zip(columns.values(), values, strict=True):
        column.append(value)
