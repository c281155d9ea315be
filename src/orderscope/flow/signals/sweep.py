"""Sweep: one aggressive order, or same-side trades within a few ms, clearing several levels.

A burst is a run of trades with the same aggressor side, each within ``window_ns`` of the
burst's first trade. The levels it cleared are the price levels it traded at or through: the
distinct traded prices, plus the opposite side's book levels between the burst's first and its
furthest trade price (from the exact book as it stood before the burst's first trade: a level
the burst jumped over without a print was cleared too). Levels between the touch and the first
trade are not counted: on venues whose trades arrive before the depth update, the book can
still show levels that earlier trades already took. Without a synced book only the distinct
traded prices count, so trade-only venues still get sweeps.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass

from orderscope.flow.book_tracker import BookTracker, event_time
from orderscope.flow.signals.record import (
    Cooldown,
    Signal,
    SignalKind,
    notional_units,
    price_text,
    quote_amount,
    scaled,
    side_word,
    size_text,
)
from orderscope.model import Instrument, Side, Trade


@dataclass(frozen=True, slots=True)
class SweepConfig:
    """False-positive control: the levels must be real (read from the book, or distinct traded
    prices), the burst must reach ``min_notional``, and one signal per side per
    ``cooldown_ns`` (so a sweep cut by the window edge is not reported twice)."""

    window_ns: int = 5_000_000  # 5 ms
    min_levels: int = 3
    full_levels: int = 6  # confidence 1 from here
    min_notional: float = 0.0  # quote currency
    book_levels: int = 64  # how deep into the book a burst can be measured
    cooldown_ns: int = 1_000_000_000


class SweepDetector:
    __slots__ = (
        "_book_prices",
        "_book_set",
        "_cooldown",
        "_extreme",
        "_fired",
        "_first",
        "_min_notional",
        "_notional",
        "_prices",
        "_side",
        "_size",
        "_start",
        "config",
        "instrument",
        "tracker",
    )

    def __init__(
        self, instrument: Instrument, tracker: BookTracker, config: SweepConfig | None = None
    ) -> None:
        self.instrument = instrument
        self.tracker = tracker
        self.config = config or SweepConfig()
        self._min_notional = notional_units(instrument, self.config.min_notional)
        self._cooldown = Cooldown(self.config.cooldown_ns)
        self._side: Side | None = None
        self._start = 0
        self._extreme = self._first = 0
        self._size = self._notional = 0
        self._fired = False
        self._prices: set[int] = set()
        self._book_prices: list[int] = []  # opposite side, ascending away from the touch
        self._book_set: set[int] = set()

    def _begin(self, trade: Trade, ts: int) -> None:
        self._side = trade.side
        self._start = ts
        self._extreme = self._first = trade.price
        self._size = self._notional = 0
        self._fired = False
        self._prices = set()
        n = self.config.book_levels
        book = self.tracker.book
        if not self.tracker.synced:
            self._book_prices = []
        elif trade.side is Side.BUY:
            self._book_prices = [p for p, _ in book.asks(n)]
        else:  # bids are negated so that both sides ascend away from the touch
            self._book_prices = [-p for p, _ in book.bids(n)]
        self._book_set = set(self._book_prices)

    def on_trade(self, trade: Trade, out: list[Signal]) -> None:
        ts = event_time(trade)
        side = trade.side
        if side is not self._side or ts - self._start > self.config.window_ns:
            self._begin(trade, ts)
        price = trade.price
        self._size += trade.size
        self._notional += price * trade.size
        away = price if side is Side.BUY else -price
        self._prices.add(away)
        if (side is Side.BUY and price > self._extreme) or (
            side is Side.SELL and price < self._extreme
        ):
            self._extreme = price
        if self._fired:
            return
        extreme = self._extreme if side is Side.BUY else -self._extreme
        first = self._first if side is Side.BUY else -self._first
        book = self._book_prices
        between = bisect_right(book, extreme) - bisect_left(book, first)
        unseen = sum(1 for p in self._prices if p not in self._book_set)
        levels = max(between, 0) + unseen
        config = self.config
        if levels < config.min_levels or self._notional < self._min_notional:
            return
        if not self._cooldown.ready(side, ts):
            self._fired = True  # this burst is the one just reported
            return
        self._fired = True
        self._cooldown.mark(side, ts)
        inst = self.instrument
        out.append(
            Signal(
                ts,
                inst.venue,
                inst.symbol,
                SignalKind.SWEEP,
                side,
                self._extreme,
                self._size,
                scaled(levels, config.min_levels, config.full_levels),
                f"{side_word(side)} sweep through {levels} {'ask' if side is Side.BUY else 'bid'} "
                f"levels, {price_text(inst, self._first)} -> {price_text(inst, self._extreme)}: "
                f"{size_text(inst, self._size)} "
                f"({quote_amount(inst, self._notional):,.0f} {inst.quote}) in "
                f"{(ts - self._start) / 1e6:.1f} ms",
                self._start,
            )
        )
