"""Sweep: one aggressive order, or same-side trades within a few ms, clearing several levels.

A burst is a run of trades with the same aggressor side, each within ``window_ns`` of the
burst's first trade. The levels it cleared are the price levels it traded at or through: the
distinct traded prices, plus the opposite side's book levels between the burst's first and its
furthest trade price that had no print (a level jumped over was cleared too), read from the
exact book as it stands at the trade being evaluated. Levels between the touch and the first
trade are not counted: on venues whose trades arrive before the depth update, the book can
still show levels that earlier trades already took. A burst at a single price cannot sweep,
so it costs no book read. Without a synced book only the distinct traded prices count, so
trade-only venues still get sweeps.
"""

from __future__ import annotations

from dataclasses import dataclass

from orderscope.flow.base import BUY
from orderscope.flow.book_tracker import BookTracker
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
    cooldown_ns: int = 1_000_000_000


class SweepDetector:
    __slots__ = (
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
        "_window_ns",
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
        self._window_ns = self.config.window_ns
        self._min_notional = notional_units(instrument, self.config.min_notional)
        self._cooldown = Cooldown(self.config.cooldown_ns)
        self._side: Side | None = None
        self._start = 0
        self._extreme = self._first = 0
        self._size = 0
        self._notional: int | None = None
        self._fired = False
        #: Distinct traded prices of the burst; None while it has one (most bursts do), when
        #: ``_extreme`` and ``_fired`` are not read yet.
        self._prices: set[int] | None = None

    def on_trade(self, trade: Trade, out: list[Signal]) -> None:
        """One trade (``trade`` below takes its fields, as the engine passes them)."""
        self.trade(trade.exch_ns or trade.recv_ns, trade.price, trade.size, trade.side, out)

    def trade(self, ts: int, price: int, size: int, side: Side, out: list[Signal]) -> None:
        if side is not self._side or ts - self._start > self._window_ns:
            # Most bursts are one print: the notional is summed only if another trade joins
            # (``_notional`` is None until then).
            self._side = side
            self._start = ts
            self._first = price
            self._size = size
            self._notional = None
            self._prices = None
            return
        notional = self._notional
        if notional is None:
            notional = self._first * self._size
        self._size += size
        notional = self._notional = notional + price * size
        prices = self._prices
        if prices is None:
            if price == self._first:
                return
            prices = self._prices = {self._first}
            self._extreme = self._first
            self._fired = False
        prices.add(price)
        if (price > self._extreme) if side is BUY else (price < self._extreme):
            self._extreme = price
        if not self._fired:
            self._evaluate(side, ts, notional, out)

    def _evaluate(self, side: Side, ts: int, notional: int, out: list[Signal]) -> None:
        levels = self._levels(side)
        config = self.config
        if levels < config.min_levels or notional < self._min_notional:
            return
        self._fired = True  # one signal per burst, even when the cool-down holds it back
        if not self._cooldown.ready(side, ts):
            return
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
                f"{side_word(side)} sweep through {levels} {'ask' if side is BUY else 'bid'} "
                f"levels, {price_text(inst, self._first)} -> {price_text(inst, self._extreme)}: "
                f"{size_text(inst, self._size)} "
                f"({quote_amount(inst, notional):,.0f} {inst.quote}) in "
                f"{(ts - self._start) / 1e6:.1f} ms",
                self._start,
            )
        )

    def _levels(self, side: Side) -> int:
        """Distinct traded prices plus the book levels between them that had no print."""
        prices = self._prices
        assert prices is not None
        tracker = self.tracker
        if not tracker.synced:
            return len(prices)
        # A buy burst's extreme is its highest price, a sell burst's its lowest.
        if side is BUY:
            between = tracker.book.levels_between(False, self._first, self._extreme)
            shown = tracker.asks
        else:
            between = tracker.book.levels_between(True, self._extreme, self._first)
            shown = tracker.bids
        # prices the opposite side does not show (any more)
        showing = 0
        for price in prices:
            if shown.get(price, 0):
                showing += 1
        return between + len(prices) - showing
