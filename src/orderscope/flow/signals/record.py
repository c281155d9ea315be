"""The signal record and what every detector shares: confidence scaling and cool-downs."""

from __future__ import annotations

import enum

import msgspec

from orderscope.fixed import POW10, div, format_fixed
from orderscope.flow.base import BUY
from orderscope.model import Instrument, Side


class SignalKind(enum.StrEnum):
    SWEEP = "sweep"
    ABSORPTION = "absorption"
    ICEBERG = "iceberg"
    BLOCK_TRADE = "block_trade"
    LARGE_ORDER_PLACED = "large_order_placed"
    LARGE_ORDER_PULLED = "large_order_pulled"
    MOMENTUM_BURST = "momentum_burst"
    SMALL_TRADE_BURST = "small_trade_burst"
    BOOK_IMBALANCE = "book_imbalance"


class Signal(msgspec.Struct, frozen=True):
    """One detection. Prices and sizes are scaled ints of the instrument (see fixed.py).

    ``side`` is the side the signal is about: the aggressor for trade patterns (sweep, block,
    bursts), the resting order's side for liquidity patterns (absorption and iceberg: the
    passive side that absorbed; placed / pulled: BUY for a bid, SELL for an ask), the heavier
    side for a book imbalance. None when no side dominates.
    """

    ts: int  # event time (ns) of the event that completed the pattern
    venue: str
    symbol: str
    kind: SignalKind
    side: Side | None
    price: int
    size: int
    confidence: float  # in [0, 1]: 0.5 at the detector's threshold, 1 at its "full" level
    description: str
    start_ns: int  # event time the pattern began (== ts for single events)


def scaled(value: float, threshold: float, full: float) -> float:
    """0.5 at ``threshold``, 1.0 at ``full`` and beyond, linear between (and below, to 0)."""
    if full <= threshold:
        return 1.0 if value >= threshold else 0.0
    ratio = 0.5 + 0.5 * (value - threshold) / (full - threshold)
    return min(1.0, max(0.0, ratio))


def notional_units(instrument: Instrument, quote: float) -> int:
    """A quote-currency amount in the units of price * size (10**-(pd + sd))."""
    return round(quote * POW10[instrument.price_decimals + instrument.size_decimals])


def quote_amount(instrument: Instrument, notional: int) -> float:
    """price * size (scaled) as an amount of quote currency, for descriptions."""
    return div(notional, POW10[instrument.price_decimals + instrument.size_decimals])


def price_text(instrument: Instrument, price: int) -> str:
    return format_fixed(price, instrument.price_decimals, strip=True)


def size_text(instrument: Instrument, size: int) -> str:
    return format_fixed(size, instrument.size_decimals, strip=True)


def side_word(side: Side | None) -> str:
    return "mixed" if side is None else side.name.lower()


def book_side_word(side: Side) -> str:
    return "bid" if side is BUY else "ask"


class Cooldown:
    """At most one signal per key within ``period_ns`` of event time."""

    __slots__ = ("_last", "period_ns")

    def __init__(self, period_ns: int) -> None:
        self.period_ns = period_ns
        self._last: dict[object, int] = {}

    def ready(self, key: object, ts: int) -> bool:
        last = self._last.get(key)
        return last is None or ts - last >= self.period_ns

    def mark(self, key: object, ts: int) -> None:
        self._last[key] = ts
        if len(self._last) > 4096:  # forget keys whose cool-down is long over
            self._last = {k: t for k, t in self._last.items() if ts - t < self.period_ns}
