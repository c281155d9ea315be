"""Large resting orders placed, and pulled before they traded (spoofing-like).

Read from the level changes of the exact book: a level that grows by at least
``min_notional`` and by at least ``size_multiple`` x the mean size of the side's best
``reference_levels`` levels, within ``max_distance_bps`` of the mid, is a large order placed.
It is then watched for ``pull_window_ns``: trades at its price on its side count as filled,
decreases of the level count as removed. When the removed part reaches ``pull_fraction`` of
the added size while less than ``max_traded_fraction`` of it traded, it was pulled.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from orderscope.fixed import div
from orderscope.flow.base import BUY, SELL
from orderscope.flow.book_tracker import BookChange, BookTracker, LevelChange
from orderscope.flow.signals.record import (
    Cooldown,
    Signal,
    SignalKind,
    book_side_word,
    notional_units,
    price_text,
    quote_amount,
    scaled,
    size_text,
)
from orderscope.model import Instrument, Side, Trade

SECOND: Final = 1_000_000_000


@dataclass(frozen=True, slots=True)
class LargeOrderConfig:
    """False-positive control: both size tests (absolute and relative to the book), a distance
    limit (far-away walls come and go all day), a pull only counts while little of the order
    traded, and one "placed" signal per level per ``cooldown_ns``."""

    min_notional: float = 50_000.0
    full_notional: float = 500_000.0
    size_multiple: float = 5.0
    reference_levels: int = 10
    max_distance_bps: float = 100.0
    pull_window_ns: int = 30 * SECOND
    pull_fraction: float = 0.8
    max_traded_fraction: float = 0.1
    cooldown_ns: int = 10 * SECOND


class _Order:
    __slots__ = ("removed", "size", "traded", "ts")

    def __init__(self, ts: int, size: int) -> None:
        self.ts = ts
        self.size = size
        self.traded = 0
        self.removed = 0


class LargeOrderDetector:
    __slots__ = ("_asks", "_bids", "_cooldown", "_min", "config", "instrument", "tracker")

    def __init__(
        self, instrument: Instrument, tracker: BookTracker, config: LargeOrderConfig | None = None
    ) -> None:
        self.instrument = instrument
        self.tracker = tracker
        self.config = config or LargeOrderConfig()
        self._min = notional_units(instrument, self.config.min_notional)
        self._cooldown = Cooldown(self.config.cooldown_ns)
        #: Watched large orders by price, per book side.
        self._bids: dict[int, _Order] = {}
        self._asks: dict[int, _Order] = {}

    def on_trade(self, trade: Trade, out: list[Signal]) -> None:
        """One trade (``trade`` below takes its fields, as the engine passes them)."""
        self.trade(trade.exch_ns or trade.recv_ns, trade.price, trade.size, trade.side, out)

    def trade(self, ts: int, price: int, size: int, side: Side, out: list[Signal]) -> None:
        # A buy aggressor fills asks, a sell fills bids.
        orders = self._asks if side is BUY else self._bids
        if orders:
            order = orders.get(price)
            if order is not None:
                order.traded += size

    def on_book(self, change: BookChange, out: list[Signal]) -> None:
        if change.resync or not self.tracker.synced:
            return  # a resync's differences are not orders
        if change.bids:
            self._side(BUY, self._bids, change.bids, change, out)
        if change.asks:
            self._side(SELL, self._asks, change.asks, change, out)

    def _side(
        self,
        side: Side,
        orders: dict[int, _Order],
        levels: list[LevelChange],
        change: BookChange,
        out: list[Signal],
    ) -> None:
        minimum = self._min
        for price, old, new in levels:
            if new > old:
                if (new - old) * price >= minimum:
                    self._placed(side, orders, price, new - old, change, out)
            elif orders:
                order = orders.get(price)
                if order is not None:
                    order.removed += old - new
                    self._maybe_pulled(side, orders, price, order, new, change.ts, out)

    def _placed(
        self,
        side: Side,
        orders: dict[int, _Order],
        price: int,
        added: int,
        change: BookChange,
        out: list[Signal],
    ) -> None:
        config = self.config
        mid2 = change.bid + change.ask
        if (
            change.bid
            and change.ask
            and abs(2 * price - mid2) * 10_000 > (config.max_distance_bps * mid2)
        ):
            return
        bid_depth, ask_depth = self.tracker.top_sizes(config.reference_levels)
        bid_levels, ask_levels = self.tracker.book.depth()
        depth, count = (bid_depth, bid_levels) if side is BUY else (ask_depth, ask_levels)
        count = min(count, config.reference_levels)
        nth_bid, nth_ask = self.tracker.nth_best(count)
        nth = nth_bid if side is BUY else nth_ask
        among_best = nth is None or (price >= nth if side is BUY else price <= nth)
        if among_best:
            # The level's own growth is part of those levels now: compare with the others.
            reference = div(depth - added, count - 1) if count > 1 else 0.0
        else:  # placed deeper than the reference levels: they are the others
            reference = div(depth, count) if count else 0.0
        if added < config.size_multiple * reference:
            return
        ts = change.ts
        orders[price] = _Order(ts, added)
        self._expire(ts)
        key = (side, price)
        if not self._cooldown.ready(key, ts):
            return
        self._cooldown.mark(key, ts)
        inst = self.instrument
        quote = quote_amount(inst, added * price)
        multiple = added / reference if reference else float("inf")
        out.append(
            Signal(
                ts,
                inst.venue,
                inst.symbol,
                SignalKind.LARGE_ORDER_PLACED,
                side,
                price,
                added,
                scaled(quote, config.min_notional, config.full_notional),
                f"large {book_side_word(side)} placed at {price_text(inst, price)}: "
                f"+{size_text(inst, added)} ({quote:,.0f} {inst.quote}), "
                f"{multiple:.1f}x the mean of the best {count} levels",
                ts,
            )
        )

    def _maybe_pulled(
        self,
        side: Side,
        orders: dict[int, _Order],
        price: int,
        order: _Order,
        new: int,
        ts: int,
        out: list[Signal],
    ) -> None:
        config = self.config
        if ts - order.ts > config.pull_window_ns:
            del orders[price]
            return
        if order.removed < config.pull_fraction * order.size:
            if not new:
                del orders[price]
            return
        del orders[price]
        # Decreases explained by trades at the level are fills, not a pull.
        if order.traded > config.max_traded_fraction * order.size:
            return
        inst = self.instrument
        pulled = min(order.removed, order.size)
        out.append(
            Signal(
                ts,
                inst.venue,
                inst.symbol,
                SignalKind.LARGE_ORDER_PULLED,
                side,
                price,
                pulled,
                scaled(
                    1.0 - div(order.traded, order.size),
                    1.0 - config.max_traded_fraction,
                    1.0,
                ),
                f"large {book_side_word(side)} pulled at {price_text(inst, price)}: "
                f"-{size_text(inst, pulled)} after {(ts - order.ts) / 1e9:.1f} s, "
                f"{size_text(inst, order.traded)} traded there meanwhile",
                order.ts,
            )
        )

    def _expire(self, ts: int) -> None:
        """Forget orders older than the pull window once there are many. In place: the
        update being read goes on with the same dicts."""
        if len(self._bids) + len(self._asks) > 256:
            horizon = ts - self.config.pull_window_ns
            for orders in (self._bids, self._asks):
                for price in [p for p, o in orders.items() if o.ts < horizon]:
                    del orders[price]
