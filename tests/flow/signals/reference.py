"""The signal detectors as they were before the performance work (commit c5b398e), kept verbatim
as the slow reference that tests/flow/signals/test_equivalence.py compares the optimized ones
with: same configs, same ``Signal`` records, same order. Do not optimize this file."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable

from orderscope.flow.book_tracker import BookChange, BookTracker, LevelChange
from orderscope.flow.signals import (
    AbsorptionConfig,
    BlockTradeConfig,
    BookImbalanceConfig,
    IcebergConfig,
    LargeOrderConfig,
    MomentumBurstConfig,
    Signal,
    SignalConfig,
    SignalKind,
    SmallTradeBurstConfig,
    SweepConfig,
)
from orderscope.flow.signals.record import (
    Cooldown,
    book_side_word,
    notional_units,
    price_text,
    quote_amount,
    scaled,
    side_word,
    size_text,
)
from orderscope.model import BookDelta, BookSnapshot, BookStatus, Event, Instrument, Side, Trade

SECOND = 1_000_000_000
_PRUNE_EVERY = 256


class RefSweepDetector:
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
        self._prices: set[int] | None = None

    def on_trade(self, trade: Trade, out: list[Signal]) -> None:
        ts = trade.exch_ns or trade.recv_ns
        side = trade.side
        price = trade.price
        if side is not self._side or ts - self._start > self.config.window_ns:
            self._side = side
            self._start = ts
            self._extreme = self._first = price
            self._fired = False
            self._prices = None  # made on the second price: most bursts are one print
            self._size = trade.size
            self._notional = price * trade.size
            return
        self._size += trade.size
        self._notional += price * trade.size
        if self._prices is None:
            if price == self._first:
                return
            self._prices = {self._first}
        self._prices.add(price)
        if (price > self._extreme) if side is Side.BUY else (price < self._extreme):
            self._extreme = price
        if self._fired:
            return
        levels = self._levels(side)
        config = self.config
        if levels < config.min_levels or self._notional < self._min_notional:
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
                f"{side_word(side)} sweep through {levels} {'ask' if side is Side.BUY else 'bid'} "
                f"levels, {price_text(inst, self._first)} -> {price_text(inst, self._extreme)}: "
                f"{size_text(inst, self._size)} "
                f"({quote_amount(inst, self._notional):,.0f} {inst.quote}) in "
                f"{(ts - self._start) / 1e6:.1f} ms",
                self._start,
            )
        )

    def _levels(self, side: Side) -> int:
        """Distinct traded prices plus the book levels between them that had no print."""
        assert self._prices is not None
        if not self.tracker.synced:
            return len(self._prices)
        book = self.tracker.book
        low, high = sorted((self._first, self._extreme))
        is_buy = side is Side.BUY
        shown = book.ask_size if is_buy else book.bid_size
        between = book.levels_between(not is_buy, low, high)
        return between + sum(1 for p in self._prices if not shown(p))


class RefBlockTradeDetector:
    __slots__ = ("_fired", "_key", "_min", "_notional", "_size", "config", "instrument")

    def __init__(self, instrument: Instrument, config: BlockTradeConfig | None = None) -> None:
        self.instrument = instrument
        self.config = config or BlockTradeConfig()
        self._min = notional_units(instrument, self.config.min_notional)
        self._key: tuple[int, Side] | None = None
        self._size = self._notional = 0
        self._fired = False

    def on_trade(self, trade: Trade, out: list[Signal]) -> None:
        ts = trade.exch_ns or trade.recv_ns  # event_time(), inlined on this hot path
        key = (ts, trade.side)
        if key != self._key:
            self._key = key
            self._size = self._notional = 0
            self._fired = False
        self._size += trade.size
        self._notional += trade.price * trade.size
        if self._fired or self._notional < self._min:
            return
        self._fired = True
        inst = self.instrument
        quote = quote_amount(inst, self._notional)
        out.append(
            Signal(
                ts,
                inst.venue,
                inst.symbol,
                SignalKind.BLOCK_TRADE,
                trade.side,
                trade.price,
                self._size,
                scaled(quote, self.config.min_notional, self.config.full_notional),
                f"block {side_word(trade.side)} of {size_text(inst, self._size)} "
                f"({quote:,.0f} {inst.quote}) at {price_text(inst, trade.price)}",
                ts,
            )
        )


class RefMomentumBurstDetector:
    __slots__ = ("_buy", "_cooldown", "_sell", "_window", "config", "instrument")

    def __init__(self, instrument: Instrument, config: MomentumBurstConfig | None = None) -> None:
        self.instrument = instrument
        self.config = config or MomentumBurstConfig()
        self._window: deque[tuple[int, int, int, Side]] = deque()  # ts, price, size, side
        self._buy = self._sell = 0
        self._cooldown = Cooldown(self.config.cooldown_ns)

    def on_trade(self, trade: Trade, out: list[Signal]) -> None:
        ts = trade.exch_ns or trade.recv_ns  # event_time(), inlined on this hot path
        window = self._window
        window.append((ts, trade.price, trade.size, trade.side))
        if trade.side is Side.BUY:
            self._buy += trade.size
        else:
            self._sell += trade.size
        horizon = ts - self.config.window_ns
        while window[0][0] < horizon:
            _, _, size, side = window.popleft()
            if side is Side.BUY:
                self._buy -= size
            else:
                self._sell -= size
        config = self.config
        if len(window) < config.min_trades:
            return
        first_ts, first, _, _ = window[0]
        move = trade.price - first
        if not move or not first:
            return
        bps = abs(move) * 10_000 / first
        if bps < config.min_move_bps:
            return
        side = Side.BUY if move > 0 else Side.SELL
        along = self._buy if side is Side.BUY else self._sell
        share = along / (self._buy + self._sell)
        if share < config.min_share or not self._cooldown.ready(side, ts):
            return
        self._cooldown.mark(side, ts)
        inst = self.instrument
        confidence = min(
            scaled(bps, config.min_move_bps, config.full_move_bps),
            scaled(share, config.min_share, 1.0),
        )
        out.append(
            Signal(
                ts,
                inst.venue,
                inst.symbol,
                SignalKind.MOMENTUM_BURST,
                side,
                trade.price,
                along,
                confidence,
                f"momentum {'up' if move > 0 else 'down'} {bps:.1f} bps "
                f"({price_text(inst, first)} -> {price_text(inst, trade.price)}) in "
                f"{(ts - first_ts) / 1e6:.0f} ms over {len(window)} trades, "
                f"{share:.0%} {side_word(side)} aggression",
                first_ts,
            )
        )


class RefSmallTradeBurstDetector:
    __slots__ = (
        "_cooldown",
        "_max",
        "_small",
        "_small_buys",
        "_small_size",
        "_window",
        "config",
        "instrument",
    )

    def __init__(self, instrument: Instrument, config: SmallTradeBurstConfig | None = None) -> None:
        self.instrument = instrument
        self.config = config or SmallTradeBurstConfig()
        self._max = notional_units(instrument, self.config.max_notional)
        self._window: deque[tuple[int, int, bool]] = deque()  # ts, small size or 0, buy
        self._small = self._small_buys = self._small_size = 0
        self._cooldown = Cooldown(self.config.cooldown_ns)

    def on_trade(self, trade: Trade, out: list[Signal]) -> None:
        ts = trade.exch_ns or trade.recv_ns  # event_time(), inlined on this hot path
        small = trade.size if trade.price * trade.size < self._max else 0
        is_buy = trade.side is Side.BUY
        window = self._window
        window.append((ts, small, is_buy))
        if small:
            self._small += 1
            self._small_size += small
            self._small_buys += is_buy
        horizon = ts - self.config.window_ns
        while window[0][0] < horizon:
            _, size, buy = window.popleft()
            if size:
                self._small -= 1
                self._small_size -= size
                self._small_buys -= buy
        config = self.config
        count = self._small
        if count < config.min_count or count < config.min_share * len(window):
            return
        if not self._cooldown.ready(None, ts):
            return
        self._cooldown.mark(None, ts)
        buys = self._small_buys / count
        side = None
        if buys >= config.side_share:
            side = Side.BUY
        elif 1 - buys >= config.side_share:
            side = Side.SELL
        inst = self.instrument
        out.append(
            Signal(
                ts,
                inst.venue,
                inst.symbol,
                SignalKind.SMALL_TRADE_BURST,
                side,
                trade.price,
                self._small_size,
                scaled(count, config.min_count, config.full_count),
                f"{count} small trades (< {config.max_notional:,.0f} {inst.quote}) in "
                f"{(ts - window[0][0]) / 1e6:.0f} ms, {buys:.0%} buys, "
                f"{size_text(inst, self._small_size)} in all",
                window[0][0],
            )
        )


def _shown(tracker: BookTracker, aggressor: Side, price: int) -> int:
    """Size displayed at ``price`` on the side an ``aggressor`` trades against."""
    book = tracker.book
    return book.ask_size(price) if aggressor is Side.BUY else book.bid_size(price)


def _passive(aggressor: Side) -> Side:
    return Side.SELL if aggressor is Side.BUY else Side.BUY


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


class RefAbsorptionDetector:
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


class _Watch:
    __slots__ = ("fills", "first_ts", "last_ts", "max_shown", "traded")

    def __init__(self, ts: int, shown: int) -> None:
        self.first_ts = self.last_ts = ts
        self.max_shown = shown
        self.traded = 0
        self.fills = 0


class RefIcebergDetector:
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


class _Order:
    __slots__ = ("removed", "size", "traded", "ts")

    def __init__(self, ts: int, size: int) -> None:
        self.ts = ts
        self.size = size
        self.traded = 0
        self.removed = 0


class RefLargeOrderDetector:
    __slots__ = ("_cooldown", "_min", "_orders", "config", "instrument", "tracker")

    def __init__(
        self, instrument: Instrument, tracker: BookTracker, config: LargeOrderConfig | None = None
    ) -> None:
        self.instrument = instrument
        self.tracker = tracker
        self.config = config or LargeOrderConfig()
        self._min = notional_units(instrument, self.config.min_notional)
        self._cooldown = Cooldown(self.config.cooldown_ns)
        self._orders: dict[tuple[Side, int], _Order] = {}  # (book side, price)

    def on_trade(self, trade: Trade, out: list[Signal]) -> None:
        if self._orders:
            # A buy aggressor fills asks (SELL side of the book), a sell fills bids.
            order = self._orders.get(
                (Side.SELL if trade.side is Side.BUY else Side.BUY, trade.price)
            )
            if order is not None:
                order.traded += trade.size

    def on_book(self, change: BookChange, out: list[Signal]) -> None:
        if change.resync or not self.tracker.synced:
            return  # a resync's differences are not orders
        if change.bids:
            self._side(Side.BUY, change.bids, change, out)
        if change.asks:
            self._side(Side.SELL, change.asks, change, out)

    def _side(
        self, side: Side, levels: list[LevelChange], change: BookChange, out: list[Signal]
    ) -> None:
        minimum = self._min
        orders = self._orders
        for price, old, new in levels:
            if new > old:
                if (new - old) * price >= minimum:
                    self._placed(side, price, new - old, change, out)
            elif orders:
                order = orders.get((side, price))
                if order is not None:
                    order.removed += old - new
                    self._maybe_pulled(side, price, order, new, change.ts, out)

    def _placed(
        self, side: Side, price: int, added: int, change: BookChange, out: list[Signal]
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
        depth, count = (bid_depth, bid_levels) if side is Side.BUY else (ask_depth, ask_levels)
        count = min(count, config.reference_levels)
        prices = (
            self.tracker.book.bids(count) if side is Side.BUY else self.tracker.book.asks(count)
        )
        if len(prices) < count or price in {p for p, _ in prices}:
            # The level's own growth is part of those levels now: compare with the others.
            reference = (depth - added) / (count - 1) if count > 1 else 0.0
        else:  # placed deeper than the reference levels: they are the others
            reference = depth / count if count else 0.0
        if added < config.size_multiple * reference:
            return
        ts = change.ts
        key = (side, price)
        self._orders[key] = _Order(ts, added)
        self._expire(ts)
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
        self, side: Side, price: int, order: _Order, new: int, ts: int, out: list[Signal]
    ) -> None:
        config = self.config
        if ts - order.ts > config.pull_window_ns:
            del self._orders[(side, price)]
            return
        if order.removed < config.pull_fraction * order.size:
            if not new:
                del self._orders[(side, price)]
            return
        del self._orders[(side, price)]
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
                    1.0 - order.traded / order.size,
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
        if len(self._orders) > 256:
            horizon = ts - self.config.pull_window_ns
            self._orders = {k: o for k, o in self._orders.items() if o.ts >= horizon}


class RefBookImbalanceDetector:
    __slots__ = ("_cooldown", "_fired", "_side", "_since", "config", "instrument", "tracker")

    def __init__(
        self,
        instrument: Instrument,
        tracker: BookTracker,
        config: BookImbalanceConfig | None = None,
    ) -> None:
        self.instrument = instrument
        self.tracker = tracker
        self.config = config or BookImbalanceConfig()
        self._cooldown = Cooldown(self.config.cooldown_ns)
        self._side: Side | None = None
        self._since = 0
        self._fired = False

    def on_book(self, change: BookChange, out: list[Signal]) -> None:
        if not self.tracker.synced:
            self._side = None
            return
        config = self.config
        bids, asks = self.tracker.top_sizes(config.levels)
        total = bids + asks
        imbalance = (bids - asks) / total if total else 0.0
        if abs(imbalance) < config.threshold:
            self._side = None
            return
        side = Side.BUY if imbalance > 0 else Side.SELL
        ts = change.ts
        if side is not self._side:
            self._side, self._since, self._fired = side, ts, False
            return
        if self._fired or ts - self._since < config.min_duration_ns:
            return
        self._fired = True
        if not self._cooldown.ready(side, ts):
            return
        self._cooldown.mark(side, ts)
        inst = self.instrument
        heavy = bids if side is Side.BUY else asks
        out.append(
            Signal(
                ts,
                inst.venue,
                inst.symbol,
                SignalKind.BOOK_IMBALANCE,
                side,
                change.bid if side is Side.BUY else change.ask,
                heavy,
                scaled(abs(imbalance), config.threshold, config.full),
                f"book imbalance {imbalance:+.2f} toward the {book_side_word(side)}s over the "
                f"best {config.levels} levels for {(ts - self._since) / 1e9:.1f} s: bids "
                f"{size_text(inst, bids)} vs asks {size_text(inst, asks)} "
                f"(touch {price_text(inst, change.bid)} / {price_text(inst, change.ask)})",
                self._since,
            )
        )


def reference_signals(
    events: Iterable[Event], instrument: Instrument, config: SignalConfig | None = None
) -> list[Signal]:
    """``detect_signals`` as it was: the old engine's routing over the old detectors."""
    config = config or SignalConfig()
    t = BookTracker(instrument)
    sweep = RefSweepDetector(instrument, t, config.sweep)
    absorption = RefAbsorptionDetector(instrument, t, config.absorption)
    iceberg = RefIcebergDetector(instrument, t, config.iceberg)
    large_order = RefLargeOrderDetector(instrument, t, config.large_order)
    book_imbalance = RefBookImbalanceDetector(instrument, t, config.book_imbalance)
    block_trade = RefBlockTradeDetector(instrument, config.block_trade)
    momentum_burst = RefMomentumBurstDetector(instrument, config.momentum_burst)
    small_trade_burst = RefSmallTradeBurstDetector(instrument, config.small_trade_burst)
    on_trade = [
        d.on_trade
        for d in (
            sweep,
            absorption,
            iceberg,
            large_order,
            block_trade,
            momentum_burst,
            small_trade_burst,
        )
    ]
    on_book = [d.on_book for d in (absorption, iceberg, large_order, book_imbalance)]
    out: list[Signal] = []
    for event in events:
        if event.symbol != instrument.symbol:
            continue
        if isinstance(event, Trade):
            for handler in on_trade:
                handler(event, out)
        elif isinstance(event, BookDelta | BookSnapshot):
            change = t.apply(event)
            for book_handler in on_book:
                book_handler(change, out)
        elif isinstance(event, BookStatus):
            t.on_status(event)
    return out
