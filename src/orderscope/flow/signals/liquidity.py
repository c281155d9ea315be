"""Passive liquidity that holds: absorption and icebergs.

Both watch the levels that aggressive trades hit, keyed by (aggressor side, price): a sell
aggressor at P hits the bid at P. The size a level displays comes from the exact book, read
before each trade and after each book update. Venue depth streams are often aggregated (e.g.
every 100 ms), so what was added to a level is *implied*: traded volume plus the size shown now
minus the size shown when watching began. That works at any update granularity.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from mypy_extensions import mypyc_attr

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
_PRUNE_EVERY: Final = 256  # trades between sweeps of stale watched levels
_PENDING_MAX: Final = 4_096  # trades the price range may buffer while the book is not synced
_COMPACT_AT: Final = 256  # expired entries of a price-range queue before they are cut off


def _shown(tracker: BookTracker, aggressor: Side, price: int) -> int:
    """Size displayed at ``price`` on the side an ``aggressor`` trades against."""
    return (tracker.asks if aggressor is BUY else tracker.bids).get(price, 0)


def _passive(aggressor: Side) -> Side:
    return SELL if aggressor is BUY else BUY


@dataclass(frozen=True, slots=True)
class AbsorptionConfig:
    """At least ``min_notional`` traded into one price within ``window_ns`` while every trade
    price of the window stays within fewer than ``move_ticks`` ticks, and the level refills:
    implied additions >= ``min_refill`` x the traded volume, and it still shows size.

    It is evaluated on book updates of a watched level, because only the book shows the refill
    (trades often arrive before the depth update that reflects them, and the size shown before a
    trade says nothing about what came after it). False-positive control: all three conditions,
    evaluated only on a synced book, and one signal per level per ``cooldown_ns``.
    """

    window_ns: int = 10 * SECOND
    min_notional: float = 20_000.0
    full_notional: float = 100_000.0
    move_ticks: int = 3
    min_refill: float = 0.5
    cooldown_ns: int = 10 * SECOND


@mypyc_attr(acyclic=True)  # no references back: never in a cycle, not GC-tracked
class _Fill:
    """One trade as the absorption detector keeps it: its event time and price (for the price
    range), its size and the size the level showed before it (for the watched level). A class
    with int fields, not a tuple: compiled, its ints stay unboxed and it is one allocation."""

    __slots__ = ("price", "shown", "size", "ts")

    def __init__(self, ts: int, price: int, size: int, shown: int) -> None:
        self.ts = ts
        self.price = price
        self.size = size
        self.shown = shown


class _RangeWindow:
    """Rolling min and max of trade prices over an event-time window (monotonic queues).

    ``pending`` buffers the trades since the last ``span``: the detector appends to it on the
    hot path, and ``span`` first feeds them to the queues in arrival order, which leaves the
    queues exactly as adding each trade at once would have (the adds and the expiry do not
    interleave differently: expiry only runs in ``span``). Most spans are never asked for.

    Each queue is a list from a head index, not a deque: compiled, list appends, pops and
    indexing are native, a deque's methods are generic Python calls. Expired entries are cut
    off in one slice now and then (when they are at least half of the list)."""

    __slots__ = ("_high", "_high_head", "_low", "_low_head", "pending", "window_ns")

    def __init__(self, window_ns: int) -> None:
        self.window_ns = window_ns
        self._high: list[_Fill] = []  # from _high_head on: prices strictly falling
        self._low: list[_Fill] = []  # from _low_head on: prices strictly rising
        self._high_head = self._low_head = 0
        self.pending: list[_Fill] = []  # trades not yet in the queues

    def catch_up(self) -> None:
        high, low = self._high, self._low
        high_head, low_head = self._high_head, self._low_head
        # The back prices stay in locals: most trades pop nothing and cost two comparisons.
        has_top = len(high) > high_head
        top = high[-1].price if has_top else 0
        has_bottom = len(low) > low_head
        bottom = low[-1].price if has_bottom else 0
        for entry in self.pending:
            price = entry.price
            if has_top and top <= price:
                high.pop()
                while len(high) > high_head and high[-1].price <= price:
                    high.pop()
            high.append(entry)
            top, has_top = price, True
            if has_bottom and bottom >= price:
                low.pop()
                while len(low) > low_head and low[-1].price >= price:
                    low.pop()
            low.append(entry)
            bottom, has_bottom = price, True
        self.pending.clear()

    def span(self, now: int) -> int:
        self.catch_up()
        horizon = now - self.window_ns
        high, low = self._high, self._low
        high_head, low_head = self._high_head, self._low_head
        while high_head < len(high) and high[high_head].ts < horizon:
            high_head += 1
        while low_head < len(low) and low[low_head].ts < horizon:
            low_head += 1
        if high_head >= _COMPACT_AT and 2 * high_head >= len(high):
            del high[:high_head]
            high_head = 0
        if low_head >= _COMPACT_AT and 2 * low_head >= len(low):
            del low[:low_head]
            low_head = 0
        self._high_head, self._low_head = high_head, low_head
        return high[high_head].price - low[low_head].price if high_head < len(high) else 0


class _Arrivals:
    """The watched trades of one aggressor side in arrival order (a list from a head index,
    for the reason ``_RangeWindow`` gives)."""

    __slots__ = ("fills", "head")

    def __init__(self) -> None:
        self.fills: list[_Fill] = []
        self.head = 0

    def clear(self) -> None:
        self.fills.clear()
        self.head = 0

    def expire(self, watched: dict[int, _Level], horizon: int) -> None:
        """Forget the levels whose last trade is before ``horizon``, given their trades in
        arrival (and event-time) order: a level's last trade is the newest of its trades, so
        it is among the trades before ``horizon``, taken off the front here or at an earlier
        prune (where the level was then forgotten, or a later trade into it was its last)."""
        fills, head = self.fills, self.head
        end = len(fills)
        while head < end and fills[head].ts < horizon:
            price = fills[head].price
            head += 1
            level = watched.get(price)
            if level is not None and level.last_ts < horizon:
                del watched[price]
        if 2 * head >= end:  # each prune: cut what left when it is at least half the list
            del fills[:head]
            head = 0
        self.head = head


@mypyc_attr(acyclic=True)  # no references back: never in a cycle, not GC-tracked
class _Level:
    """A watched level of the absorption detector: the sum of the sizes traded into it, the
    trades oldest first (each with the size the level showed before it) and the event time of
    the last one added (what the prune reads)."""

    __slots__ = ("fills", "last_ts", "traded")

    def __init__(self, fill: _Fill) -> None:
        self.traded = fill.size
        self.fills = [fill]
        self.last_ts = fill.ts


class AbsorptionDetector:
    __slots__ = (
        "_buy_fills",
        "_buys",
        "_cooldown",
        "_latest",
        "_min",
        "_ordered",
        "_pending",
        "_prune_in",
        "_range",
        "_sell_fills",
        "_sells",
        "config",
        "instrument",
        "tracker",
    )

    def __init__(
        self, instrument: Instrument, tracker: BookTracker, config: AbsorptionConfig | None = None
    ) -> None:
        self.instrument = instrument
        self.tracker = tracker
        self.config = config or AbsorptionConfig()
        self._min = notional_units(instrument, self.config.min_notional)
        self._cooldown = Cooldown(self.config.cooldown_ns)
        self._range = _RangeWindow(self.config.window_ns)
        self._pending = self._range.pending
        #: Watched levels by price, per aggressor side: buyers hit asks, sellers hit bids.
        self._buys: dict[int, _Level] = {}
        self._sells: dict[int, _Level] = {}
        self._prune_in = _PRUNE_EVERY  # synced trades until the next sweep of stale levels
        #: The watched trades in arrival order, per aggressor side, while their event times
        #: never went backwards (``_ordered``; ``_latest`` the newest): the prune then finds
        #: every stale level from the trades that left the window, without scanning all the
        #: levels. On the first trade older than one before it, the prune scans from then on.
        self._buy_fills = _Arrivals()
        self._sell_fills = _Arrivals()
        self._ordered = True
        self._latest = 0

    def on_trade(self, trade: Trade, out: list[Signal]) -> None:
        """One trade (``trade`` below takes its fields, as the engine passes them)."""
        self.trade(trade.exch_ns or trade.recv_ns, trade.price, trade.size, trade.side, out)

    def trade(self, ts: int, price: int, size: int, side: Side, out: list[Signal]) -> None:
        tracker = self.tracker
        if not tracker.synced:
            self._pending.append(_Fill(ts, price, 0, 0))
            if len(self._pending) >= _PENDING_MAX:
                self._range.catch_up()
            return
        if side is BUY:
            watched = self._buys
            shown = tracker.asks.get(price, 0)
            arrivals = self._buy_fills
        else:
            watched = self._sells
            shown = tracker.bids.get(price, 0)
            arrivals = self._sell_fills
        fill = _Fill(ts, price, size, shown)
        self._pending.append(fill)
        if self._ordered:
            if ts >= self._latest:
                self._latest = ts
                arrivals.fills.append(fill)
            else:
                self._ordered = False
                self._buy_fills.clear()
                self._sell_fills.clear()
        level = watched.get(price)
        if level is None:
            watched[price] = _Level(fill)
        else:
            level.traded += size
            level.fills.append(fill)
            level.last_ts = ts
        self._prune_in -= 1
        if not self._prune_in:
            self._prune(ts)

    def _prune(self, ts: int) -> None:
        """Forget levels whose last trade left the window; feed the range its pending trades
        (so the buffer stays short when no span is asked for)."""
        self._prune_in = _PRUNE_EVERY
        horizon = ts - self.config.window_ns
        if self._ordered:
            self._buy_fills.expire(self._buys, horizon)
            self._sell_fills.expire(self._sells, horizon)
        else:
            self._buys = {p: v for p, v in self._buys.items() if v.last_ts >= horizon}
            self._sells = {p: v for p, v in self._sells.items() if v.last_ts >= horizon}
        self._range.catch_up()

    def on_book(self, change: BookChange, out: list[Signal]) -> None:
        if not (self._buys or self._sells) or not self.tracker.synced:
            return
        if change.bids and self._sells:
            self._touched(SELL, self._sells, change.bids, change.ts, out)  # sellers hit bids
        if change.asks and self._buys:
            self._touched(BUY, self._buys, change.asks, change.ts, out)

    def _touched(
        self,
        aggressor: Side,
        watched: dict[int, _Level],
        levels: list[LevelChange],
        ts: int,
        out: list[Signal],
    ) -> None:
        for price, _, _ in levels:
            level = watched.get(price)
            if level is not None:
                self._evaluate(aggressor, watched, price, level, ts, out)

    def _evaluate(
        self,
        aggressor: Side,
        watched: dict[int, _Level],
        price: int,
        level: _Level,
        ts: int,
        out: list[Signal],
    ) -> None:
        config = self.config
        horizon = ts - config.window_ns
        fills = level.fills
        end = 0  # the trades before ``end`` left the window: dropped in one slice
        count = len(fills)
        while end < count and fills[end].ts < horizon:
            level.traded -= fills[end].size
            end += 1
        if end == count:
            del watched[price]
            return
        if end:
            del fills[:end]
        traded = level.traded
        if traded * price < self._min:
            return
        shown = _shown(self.tracker, aggressor, price)
        first = fills[0]
        first_ts, first_shown = first.ts, first.shown
        refill = traded + shown - first_shown
        if not shown or refill < config.min_refill * traded:
            return
        span = self._range.span(ts)
        if span >= config.move_ticks * self.instrument.tick_size:
            return
        key = (aggressor, price)
        if not self._cooldown.ready(key, ts):
            return
        self._cooldown.mark(key, ts)
        inst = self.instrument
        passive = _passive(aggressor)
        quote = quote_amount(inst, traded * price)
        out.append(
            Signal(
                ts,
                inst.venue,
                inst.symbol,
                SignalKind.ABSORPTION,
                passive,
                price,
                traded,
                min(
                    scaled(quote, config.min_notional, config.full_notional),
                    scaled(div(refill, traded), config.min_refill, 1.0),
                ),
                f"{book_side_word(passive)} at {price_text(inst, price)} absorbed "
                f"{size_text(inst, traded)} ({quote:,.0f} {inst.quote}) of "
                f"{aggressor.name.lower()} aggression in {(ts - first_ts) / 1e9:.1f} s, "
                f"refilled {size_text(inst, refill)}, still showing {size_text(inst, shown)}, "
                f"price range {span // inst.tick_size} ticks",
                first_ts,
            )
        )


@dataclass(frozen=True, slots=True)
class IcebergConfig:
    """A level traded for more than ``ratio`` x the largest size it displayed while watched,
    that still shows size after that (it refilled).

    Watching starts at the first trade into a level that displays size (hidden liquidity at an
    empty price is not an iceberg by this definition) and ends when the level is deleted or
    has seen no trade for ``window_ns``. It fires on a book update, because only the book shows
    the refill (trades often arrive before the depth update that reflects them).
    False-positive control: at least ``min_fills`` trades and ``min_notional`` traded, and one
    signal per level per ``cooldown_ns``.
    """

    window_ns: int = 60 * SECOND
    ratio: float = 1.0
    full_ratio: float = 4.0
    min_fills: int = 3
    min_notional: float = 5_000.0
    cooldown_ns: int = 60 * SECOND


@mypyc_attr(acyclic=True)  # no references back: never in a cycle, not GC-tracked
class _Watch:
    __slots__ = ("fills", "first_ts", "last_ts", "max_shown", "traded")

    def __init__(self, ts: int, shown: int) -> None:
        self.first_ts = self.last_ts = ts
        self.max_shown = shown
        self.traded = 0
        self.fills = 0


class IcebergDetector:
    __slots__ = (
        "_buys",
        "_cooldown",
        "_min",
        "_sells",
        "_trades",
        "_window_ns",
        "config",
        "instrument",
        "tracker",
    )

    def __init__(
        self, instrument: Instrument, tracker: BookTracker, config: IcebergConfig | None = None
    ) -> None:
        self.instrument = instrument
        self.tracker = tracker
        self.config = config or IcebergConfig()
        self._window_ns = self.config.window_ns
        self._min = notional_units(instrument, self.config.min_notional)
        self._cooldown = Cooldown(self.config.cooldown_ns)
        #: Watched levels by price, per aggressor side: buyers hit asks, sellers hit bids.
        self._buys: dict[int, _Watch] = {}
        self._sells: dict[int, _Watch] = {}
        self._trades = 0

    def on_trade(self, trade: Trade, out: list[Signal]) -> None:
        """One trade (``trade`` below takes its fields, as the engine passes them)."""
        self.trade(trade.exch_ns or trade.recv_ns, trade.price, trade.size, trade.side, out)

    def trade(self, ts: int, price: int, size: int, side: Side, out: list[Signal]) -> None:
        tracker = self.tracker
        if not tracker.synced:
            return
        buy = side is BUY
        watched = self._buys if buy else self._sells
        watch = watched.get(price)
        if watch is None or ts - watch.last_ts > self._window_ns:
            shown = (tracker.asks if buy else tracker.bids).get(price, 0)
            if not shown:
                return
            watch = watched[price] = _Watch(ts, shown)
        watch.traded += size
        watch.fills += 1
        watch.last_ts = ts
        self._trades += 1
        if not self._trades % _PRUNE_EVERY:
            horizon = ts - self._window_ns
            self._buys = {p: w for p, w in self._buys.items() if w.last_ts >= horizon}
            self._sells = {p: w for p, w in self._sells.items() if w.last_ts >= horizon}

    def on_book(self, change: BookChange, out: list[Signal]) -> None:
        if not (self._buys or self._sells) or not self.tracker.synced:
            return
        if change.bids and self._sells:
            self._touched(SELL, self._sells, change.bids, change.ts, out)
        if change.asks and self._buys:
            self._touched(BUY, self._buys, change.asks, change.ts, out)

    def _touched(
        self,
        aggressor: Side,
        watched: dict[int, _Watch],
        levels: list[LevelChange],
        ts: int,
        out: list[Signal],
    ) -> None:
        for price, _, new in levels:
            watch = watched.get(price)
            if watch is None:
                continue
            if not new:  # the level is gone: whatever it was, it did not refill
                del watched[price]
                continue
            self._evaluate(aggressor, price, watch, new, ts, out)
            if new > watch.max_shown:
                watch.max_shown = new

    def _evaluate(
        self, aggressor: Side, price: int, watch: _Watch, shown: int, ts: int, out: list[Signal]
    ) -> None:
        config = self.config
        if watch.fills < config.min_fills or watch.traded * price < self._min:
            return
        ratio = div(watch.traded, watch.max_shown)
        key = (aggressor, price)
        if ratio <= config.ratio or not self._cooldown.ready(key, ts):
            return
        self._cooldown.mark(key, ts)
        inst = self.instrument
        passive = _passive(aggressor)
        out.append(
            Signal(
                ts,
                inst.venue,
                inst.symbol,
                SignalKind.ICEBERG,
                passive,
                price,
                watch.traded,
                scaled(ratio, config.ratio, config.full_ratio),
                f"iceberg {book_side_word(passive)} at {price_text(inst, price)}: traded "
                f"{size_text(inst, watch.traded)} in {watch.fills} fills, {ratio:.1f}x the most "
                f"it showed ({size_text(inst, watch.max_shown)}), showing "
                f"{size_text(inst, shown)} again",
                watch.first_ts,
            )
        )
