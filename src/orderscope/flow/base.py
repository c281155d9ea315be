"""What every order-flow analytic shares: event time, trade frames, rows, bar keys, POC ties.

Two paths compute each analytic and must agree to the last unit:

- the *streaming* path, a small state object fed one ``Trade`` at a time (``update(trade)``,
  then ``result()``), which is what a live session runs;
- the *vectorized* path, a function over a Polars frame of trades (the research path).

A trades frame has at least the columns of ``TRADE_SCHEMA``: ``ts`` (event time, ns),
``price`` and ``size`` (scaled ints, see ``orderscope.fixed``) and ``side`` (+1 the aggressor
bought, -1 it sold), one row per trade in arrival order. Arrival order matters for the few
results that are not plain sums (a bar's open and close, the running delta inside a bar).

Event time is the exchange's timestamp, or the receive time when the venue sends none
(``exch_ns == 0``). Nothing here reads the wall clock.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from fractions import Fraction
from typing import Final

import polars as pl
from mypy_extensions import mypyc_attr

from orderscope.errors import ConfigError
from orderscope.fixed import NumberFormatError, parse_fixed
from orderscope.model import Instrument, Side, Trade

#: ``Side.BUY`` and ``Side.SELL`` as plain module constants for the per-trade hot paths: on
#: Python 3.11 reading an enum member through its class (``Side.BUY``) goes through the enum
#: metaclass and costs ~150 ns, as much as the rest of a streaming update; a global is ~10 ns.
BUY: Final = Side.BUY
SELL: Final = Side.SELL

SECOND: Final = 1_000_000_000
MINUTE: Final = 60 * SECOND
HOUR: Final = 60 * MINUTE
DAY: Final = 24 * HOUR

#: The bar lengths traders use; ``parse_timeframe`` also takes any ``N`` + ``s|m|h|d``.
TIMEFRAMES: dict[str, int] = {
    "1m": MINUTE,
    "5m": 5 * MINUTE,
    "15m": 15 * MINUTE,
    "1h": HOUR,
    "4h": 4 * HOUR,
    "1d": DAY,
}
_UNITS: Final = {"s": SECOND, "m": MINUTE, "h": HOUR, "d": DAY}
_DURATION: Final = re.compile(r"^([1-9][0-9]*)([smhd])$")

TRADE_SCHEMA: dict[str, type[pl.DataType]] = {
    "ts": pl.Int64,
    "price": pl.Int64,
    "size": pl.Int64,
    "side": pl.Int8,
}


@mypyc_attr(acyclic=True)  # ints only: never part of a cycle, so not tracked by the GC
class RowSums:
    """A footprint or profile row being built: aggressor volume bought and sold, and trades.
    A class with int fields, not a list of three ints: compiled, the sums stay unboxed (adding
    to a list item makes a new int object every trade)."""

    __slots__ = ("buy", "sell", "trades")

    def __init__(self, buy: int, sell: int, trades: int) -> None:
        self.buy = buy
        self.sell = sell
        self.trades = trades

    def add(self, other: RowSums) -> None:
        self.buy += other.buy
        self.sell += other.sell
        self.trades += other.trades

    def copy(self) -> RowSums:
        return RowSums(self.buy, self.sell, self.trades)


def merge_rows(into: dict[int, RowSums], other: dict[int, RowSums]) -> None:
    """Add ``other``'s rows to ``into`` (copies: the two never share a row)."""
    for key, theirs in other.items():
        cell = into.get(key)
        if cell is None:
            into[key] = theirs.copy()
        else:
            cell.add(theirs)


def event_time(trade: Trade) -> int:
    """The time a trade happened: the venue's stamp, else when it was received."""
    return trade.exch_ns or trade.recv_ns


def parse_timeframe(text: str) -> int:
    """``1m`` -> 60_000_000_000 ns. Bars of this length are aligned to the epoch (UTC)."""
    match = _DURATION.match(text.strip().lower())
    if match is None:
        raise ConfigError(f"not a timeframe: {text!r} (expected e.g. {', '.join(TIMEFRAMES)})")
    return int(match.group(1)) * _UNITS[match.group(2)]


def parse_row(text: str, instrument: Instrument) -> int:
    """A row height in price units: ``"10t"`` is 10 ticks, ``"0.5"`` a price step."""
    text = text.strip().lower()
    if text.endswith("t") and text[:-1].isdigit() and int(text[:-1]) > 0:
        return int(text[:-1]) * instrument.tick_size
    try:
        row = parse_fixed(text, instrument.price_decimals)
    except NumberFormatError as exc:
        raise ConfigError(f"bad row size {text!r} for {instrument.symbol}: {exc}") from None
    if row <= 0:
        raise ConfigError(f"row size must be positive: {text!r}")
    return row


def check_positive(name: str, value: int) -> int:
    if value <= 0:
        raise ConfigError(f"{name} must be a positive integer, not {value}")
    return value


def ratio(value: float | str | Fraction) -> Fraction:
    """An exact positive number from what a person types (3.0, "0.7", 1000): ratios and bounds
    are compared with integers only."""
    try:
        exact = Fraction(str(value)) if isinstance(value, float) else Fraction(value)
    except ValueError:
        raise ConfigError(f"not a number: {value!r}") from None
    if exact <= 0:
        raise ConfigError(f"ratio must be positive, not {value}")
    return exact


def trades_frame(trades: Iterable[Trade]) -> pl.DataFrame:
    """A trades frame (``TRADE_SCHEMA``) from events, in the order given."""
    ts: list[int] = []
    price: list[int] = []
    size: list[int] = []
    side: list[int] = []
    for t in trades:
        ts.append(t.exch_ns or t.recv_ns)
        price.append(t.price)
        size.append(t.size)
        side.append(int(t.side))
    return pl.DataFrame({"ts": ts, "price": price, "size": size, "side": side}, schema=TRADE_SCHEMA)


def require_trades(frame: pl.DataFrame) -> pl.DataFrame:
    """The frame with the four trade columns in their dtypes, or a ConfigError naming what is
    missing. Other columns (venue, symbol, ...) may be there; they are not read."""
    missing = [c for c in TRADE_SCHEMA if c not in frame.columns]
    if missing:
        raise ConfigError(f"trades frame lacks column(s) {', '.join(missing)}")
    schema = frame.schema
    wrong = [pl.col(c).cast(t) for c, t in TRADE_SCHEMA.items() if schema[c] != t]
    return frame.with_columns(wrong) if wrong else frame


def poc_index(volumes: list[int], keys: list[int]) -> int:
    """Index of the point of control among rows sorted by ``keys`` (ascending).

    The row with the most volume; on a tie, the row nearest the middle of the range
    ``keys[0] .. keys[-1]``, then the lower one. Distances are compared as
    ``|2 * key - (low + high)|`` so that the middle need not be a row edge.
    """
    middle2 = keys[0] + keys[-1]
    best = 0
    best_volume = volumes[0]
    best_distance = abs(2 * keys[0] - middle2)
    for i in range(1, len(volumes)):
        volume = volumes[i]
        if volume < best_volume:
            continue
        distance = abs(2 * keys[i] - middle2)
        # keys ascend, so an equal distance is never better: the lower row stays
        if volume > best_volume or distance < best_distance:
            best, best_volume, best_distance = i, volume, distance
    return best


def check_sessions(session_ns: int, offset_ns: int, timeframe_ns: int) -> None:
    """Sessions must be whole bars, so that a bar never straddles two sessions."""
    check_positive("session_ns", session_ns)
    check_positive("timeframe_ns", timeframe_ns)
    if session_ns % timeframe_ns or offset_ns % timeframe_ns:
        raise ConfigError("sessions (length and offset) must be whole multiples of the timeframe")


def session_of(start_ns: int, session_ns: int, offset_ns: int) -> int:
    """Start of the session (``[k * session_ns + offset_ns, ...)``) that holds ``start_ns``."""
    return (start_ns - offset_ns) // session_ns * session_ns + offset_ns
