"""Passive liquidity that holds: absorption and icebergs.

Both watch the levels that aggressive trades hit, keyed by (aggressor side, price): a sell
aggressor at P hits the bid at P. The size a level displays comes from the exact book, read
before each trade and after each book update. Venue depth streams are often aggregated (e.g.
every 100 ms), so what was added to a level is *implied*: traded volume plus the size shown now
minus the size shown when watching began. That works at any update granularity.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

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

SECOND = 1_000_000_000
_PRUNE_EVERY = 256  # trades between sweeps of stale watched levels


def _shown(tracker: BookTracker, aggressor: Side, price: int) -> int:
    """Size displayed at ``price`` on the side an ``aggressor`` trades against."""
    book = tracker.book
    return book.ask_size(price) if aggressor is Side.BUY else book.bid_size(price)


def _passive(aggressor: Side) -> Side:
    return Side.SELL if aggressor is Side.BUY else Side.BUY


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


class _RangeWindow:
    """Rolling min and max of trade prices over an event-time window (monotonic deques)."""

    __slots__ = ("_high", "_low", "window_ns")

    def __init__(self, window_ns: int) -> None:
        self.window_ns = window_ns
        self._high: deque[tuple[int, int]] = deque()
        self._low: deque[tuple[int, int]] = deque()

    def add(self, ts: int, price: int) -> None:
        high, low = self._high, self._low
        while high and high[-1][1] <= price:
            high.pop()
        high.append((ts, price))
        while low and low[-1][1] >= price:
            low.pop()
        low.append((ts, price))

    def span(self, now: int) -> int:
        horizon = now - self.window_ns
        high, low = self._high, self._low
        while high and high[0][0] < horizon:
            high.popleft()
        while low and low[0][0] < horizon:
            low.popleft()
        return high[0][1] - low[0][1] if high else 0


class AbsorptionDetector:
    __slots__ = (
        "_cooldown",
        "_min",
        "_range",
        "_trades",
        "_watched",
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
        #: (aggressor, price) -> trades (ts, size, size shown before it)
        self._watched: dict[tuple[Side, int], deque[tuple[int, int, int]]] = {}
        self._trades = 0

    def on_trade(self, trade: Trade, out: list[Signal]) -> None:
        ts = trade.exch_ns or trade.recv_ns  # event_time(), inlined on this hot path
        price = trade.price
        self._range.add(ts, price)
        if not self.tracker.synced:
            return
        key = (trade.side, price)
        entries = self._watched.get(key)
        if entries is None:
            entries = self._watched[key] = deque()
        book = self.tracker.book
        shown = book.ask_size(price) if trade.side is Side.BUY else book.bid_size(price)
        entries.append((ts, trade.size, shown))
        self._trades += 1
        if self._trades % _PRUNE_EVERY == 0:
            horizon = ts - self.config.window_ns
            self._watched = {k: v for k, v in self._watched.items() if v[-1][0] >= horizon}

    def on_book(self, change: BookChange, out: list[Signal]) -> None:
        if not self._watched or not self.tracker.synced:
            return
        self._touched(Side.SELL, change.bids, change.ts, out)  # sellers hit bids
        self._touched(Side.BUY, change.asks, change.ts, out)

    def _touched(
        self, aggressor: Side, levels: list[LevelChange], ts: int, out: list[Signal]
    ) -> None:
        watched = self._watched
        for price, _, _ in levels:
            entries = watched.get((aggressor, price))
            if entries is not None:
                self._evaluate((aggressor, price), entries, ts, out)

    def _evaluate(
        self,
        key: tuple[Side, int],
        entries: deque[tuple[int, int, int]],
        ts: int,
        out: list[Signal],
    ) -> None:
        config = self.config
        horizon = ts - config.window_ns
        while entries and entries[0][0] < horizon:
            entries.popleft()
        if not entries:
            del self._watched[key]
            return
        aggressor, price = key
        traded = sum(size for _, size, _ in entries)
        if traded * price < self._min:
            return
        shown = _shown(self.tracker, aggressor, price)
        refill = traded + shown - entries[0][2]
        if not shown or refill < config.min_refill * traded:
            return
        span = self._range.span(ts)
        if span >= config.move_ticks * self.instrument.tick_size:
            return
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
                    scaled(refill / traded, config.min_refill, 1.0),
                ),
                f"{book_side_word(passive)} at {price_text(inst, price)} absorbed "
                f"{size_text(inst, traded)} ({quote:,.0f} {inst.quote}) of "
                f"{aggressor.name.lower()} aggression in {(ts - entries[0][0]) / 1e9:.1f} s, "
                f"refilled {size_text(inst, refill)}, still showing {size_text(inst, shown)}, "
                f"price range {span // inst.tick_size} ticks",
                entries[0][0],
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


class _Watch:
    __slots__ = ("fills", "first_ts", "last_ts", "max_shown", "traded")

    def __init__(self, ts: int, shown: int) -> None:
        self.first_ts = self.last_ts = ts
        self.max_shown = shown
        self.traded = 0
        self.fills = 0


class IcebergDetector:
    __slots__ = ("_cooldown", "_min", "_trades", "_watched", "config", "instrument", "tracker")

    def __init__(
        self, instrument: Instrument, tracker: BookTracker, config: IcebergConfig | None = None
    ) -> None:
        self.instrument = instrument
        self.tracker = tracker
        self.config = config or IcebergConfig()
        self._min = notional_units(instrument, self.config.min_notional)
        self._cooldown = Cooldown(self.config.cooldown_ns)
        self._watched: dict[tuple[Side, int], _Watch] = {}
        self._trades = 0

    def on_trade(self, trade: Trade, out: list[Signal]) -> None:
        if not self.tracker.synced:
            return
        ts = trade.exch_ns or trade.recv_ns  # event_time(), inlined on this hot path
        key = (trade.side, trade.price)
        watch = self._watched.get(key)
        if watch is None or ts - watch.last_ts > self.config.window_ns:
            shown = _shown(self.tracker, trade.side, trade.price)
            if not shown:
                return
            watch = self._watched[key] = _Watch(ts, shown)
        watch.traded += trade.size
        watch.fills += 1
        watch.last_ts = ts
        self._trades += 1
        if self._trades % _PRUNE_EVERY == 0:
            horizon = ts - self.config.window_ns
            self._watched = {k: w for k, w in self._watched.items() if w.last_ts >= horizon}

    def on_book(self, change: BookChange, out: list[Signal]) -> None:
        if not self._watched or not self.tracker.synced:
            return
        self._touched(Side.SELL, change.bids, change.ts, out)
        self._touched(Side.BUY, change.asks, change.ts, out)

    def _touched(
        self, aggressor: Side, levels: list[LevelChange], ts: int, out: list[Signal]
    ) -> None:
        for price, _, new in levels:
            key = (aggressor, price)
            watch = self._watched.get(key)
            if watch is None:
                continue
            if not new:  # the level is gone: whatever it was, it did not refill
                del self._watched[key]
                continue
            self._evaluate(key, watch, new, ts, out)
            watch.max_shown = max(watch.max_shown, new)

    def _evaluate(
        self, key: tuple[Side, int], watch: _Watch, shown: int, ts: int, out: list[Signal]
    ) -> None:
        config = self.config
        aggressor, price = key
        if watch.fills < config.min_fills or watch.traded * price < self._min:
            return
        ratio = watch.traded / watch.max_shown
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
