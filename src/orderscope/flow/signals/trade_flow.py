"""Detectors that read trades only: block trade, momentum burst, bursts of small trades.

Each keeps its state in event time (windows of ``window_ns`` ending at the newest trade) and
has a documented false-positive control.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from mypy_extensions import mypyc_attr

from orderscope.errors import ConfigError
from orderscope.fixed import div
from orderscope.flow.base import BUY, SELL
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

SECOND: Final = 1_000_000_000
#: Trades that left a ``TradeWindow`` before they are cut off its list (with half of it).
_COMPACT_AT: Final = 256


@dataclass(frozen=True, slots=True)
class BlockTradeConfig:
    """One aggressive order of at least ``min_notional`` (quote currency).

    False-positive control: fills that share the aggressor side and the event time are one
    taker order (a venue stamps an order's fills at several prices with its match time), so a
    split order is reported once, when its running notional crosses the threshold.
    """

    min_notional: float = 100_000.0  # the "block" size class
    full_notional: float = 1_000_000.0  # confidence 1 from here


class BlockTradeDetector:
    __slots__ = (
        "_fired",
        "_min",
        "_notional",
        "_side",
        "_size",
        "_ts",
        "config",
        "instrument",
    )

    def __init__(self, instrument: Instrument, config: BlockTradeConfig | None = None) -> None:
        self.instrument = instrument
        self.config = config or BlockTradeConfig()
        self._min = notional_units(instrument, self.config.min_notional)
        # The taker order being summed: its fills share the event time and the side.
        self._ts: int | None = None
        self._side: Side | None = None
        self._size = self._notional = 0
        self._fired = False

    def on_trade(self, trade: Trade, out: list[Signal]) -> None:
        """One trade (``trade`` below takes its fields, as the engine passes them)."""
        self.trade(trade.exch_ns or trade.recv_ns, trade.price, trade.size, trade.side, out)

    def trade(self, ts: int, price: int, size: int, side: Side, out: list[Signal]) -> None:
        if ts == self._ts and side is self._side:
            if self._fired:  # one signal per order: the rest of its fills change nothing
                return
            total = self._size = self._size + size
            notional = self._notional = self._notional + price * size
        else:
            self._ts = ts
            self._side = side
            self._fired = False
            total = self._size = size
            notional = self._notional = price * size
        if notional < self._min:
            return
        self._fired = True
        inst = self.instrument
        quote = quote_amount(inst, notional)
        out.append(
            Signal(
                ts,
                inst.venue,
                inst.symbol,
                SignalKind.BLOCK_TRADE,
                side,
                price,
                total,
                scaled(quote, self.config.min_notional, self.config.full_notional),
                f"block {side_word(side)} of {size_text(inst, total)} "
                f"({quote:,.0f} {inst.quote}) at {price_text(inst, price)}",
                ts,
            )
        )


@mypyc_attr(acyclic=True)  # no references back: never in a cycle, not GC-tracked
class _Entry:
    """One trade of a ``TradeWindow``: its time and price, then running totals up to and
    including it (a class with int fields, not a tuple: compiled, its ints stay unboxed and it
    is one allocation instead of a tuple and seven ints)."""

    __slots__ = ("bought", "price", "small", "small_buys", "small_size", "sold", "ts")

    def __init__(
        self, ts: int, price: int, bought: int, sold: int, small: int, small_size: int, buys: int
    ) -> None:
        self.ts = ts
        self.price = price
        self.bought = bought
        self.sold = sold
        self.small = small
        self.small_size = small_size
        self.small_buys = buys


class TradeWindow:
    """The trades of the last ``window_ns`` of event time, for the momentum and small-trade
    burst detectors (the engine gives both one window when their ``window_ns`` agree, so each
    trade is added and expired once).

    ``entries[head:]`` holds an ``_Entry`` (ts, price, bought, sold, small, small_size,
    small_buys) per trade in arrival order, where the last five are running totals up to and
    including that trade: aggressor volume bought and sold, and the count, volume and buys of
    small trades (notional below ``small_max``, in price x size units; 0 counts none). A figure
    over the window is the newest total minus the total of the last trade that left it
    (``base``), so a trade leaving costs one step of ``head``. A trade leaves when its time is
    before the newest trade's time minus ``window_ns``, checked from the oldest and stopping
    at the first that stays (so a late trade behind a newer one stays until the newer leaves).

    A list and a head index, not a deque: compiled, list appends and indexing are native, a
    deque's methods are generic Python calls. The entries that left are cut off in one slice
    now and then (when they are at least half of the list)."""

    __slots__ = (
        "base",
        "bought",
        "entries",
        "head",
        "small",
        "small_buys",
        "small_max",
        "small_size",
        "sold",
        "window_ns",
    )

    def __init__(self, window_ns: int, small_max: int = 0) -> None:
        self.window_ns = window_ns
        self.small_max = small_max
        self.entries: list[_Entry] = []
        self.head = 0  # entries before it have left the window
        self.bought = self.sold = self.small = self.small_size = self.small_buys = 0
        self.base = _Entry(0, 0, 0, 0, 0, 0, 0)

    def add(self, ts: int, price: int, size: int, side: Side) -> None:
        """One trade's event time, price, size and aggressor side."""
        small = price * size < self.small_max and size
        if side is BUY:
            self.bought += size
            if small:
                self.small += 1
                self.small_size += size
                self.small_buys += 1
        else:
            self.sold += size
            if small:
                self.small += 1
                self.small_size += size
        entries = self.entries
        entries.append(
            _Entry(ts, price, self.bought, self.sold, self.small, self.small_size, self.small_buys)
        )
        horizon = ts - self.window_ns
        head = self.head
        if entries[head].ts < horizon:  # the newest entry stays: the loop ends before it
            base = entries[head]
            head += 1
            while entries[head].ts < horizon:
                base = entries[head]
                head += 1
            self.base = base
            if head >= _COMPACT_AT and 2 * head >= len(entries):
                del entries[:head]
                head = 0
            self.head = head

    def count(self) -> int:
        """Trades in the window."""
        return len(self.entries) - self.head

    def first(self) -> _Entry:
        """The oldest trade in the window (one is there after ``add``)."""
        return self.entries[self.head]


@dataclass(frozen=True, slots=True)
class MomentumBurstConfig:
    """Price moves ``min_move_bps`` within ``window_ns`` with one-sided aggression.

    The move is the newest trade price against the oldest one still in the window.
    False-positive control: at least ``min_trades`` trades in the window, the aggressor volume
    in the direction of the move at least ``min_share`` of the window's volume, and one signal
    per direction per ``cooldown_ns``.
    """

    window_ns: int = SECOND
    min_move_bps: float = 10.0
    full_move_bps: float = 30.0
    min_trades: int = 5
    min_share: float = 0.7
    cooldown_ns: int = 5 * SECOND


class MomentumBurstDetector:
    """Reads its ``TradeWindow``: the move is the newest price against the oldest one still
    in the window, the aggression the window's bought and sold volumes (read only once the
    price moved far enough)."""

    __slots__ = (
        "_cooldown",
        "_feeds",
        "_min_bps",
        "_min_trades",
        "config",
        "instrument",
        "window",
    )

    def __init__(
        self,
        instrument: Instrument,
        config: MomentumBurstConfig | None = None,
        window: TradeWindow | None = None,
        feed: bool = True,
    ) -> None:
        """``window``: a window to share with another detector (by default the detector has
        its own); ``feed``: whether ``on_trade`` adds each trade to it (exactly one of the
        detectors sharing a window feeds it, and it sees each trade first)."""
        self.instrument = instrument
        self.config = config or MomentumBurstConfig()
        self._feeds = feed or window is None
        self.window = window or TradeWindow(self.config.window_ns)
        if self.window.window_ns != self.config.window_ns:
            raise ConfigError("the shared window must span the detector's window_ns")
        self._min_trades = self.config.min_trades
        self._min_bps = self.config.min_move_bps
        self._cooldown = Cooldown(self.config.cooldown_ns)

    def on_trade(self, trade: Trade, out: list[Signal]) -> None:
        """One trade (``trade`` below takes its fields, as the engine passes them)."""
        self.trade(trade.exch_ns or trade.recv_ns, trade.price, trade.size, trade.side, out)

    def trade(self, ts: int, price: int, size: int, side: Side, out: list[Signal]) -> None:
        if self._feeds:
            self.window.add(ts, price, size, side)
        window = self.window
        if window.count() < self._min_trades:
            return
        first = window.first().price
        move = price - first
        if not move or not first:
            return
        bps = div(abs(move) * 10_000, first)
        if bps >= self._min_bps:
            self._moved(ts, price, move, bps, out)

    def _moved(self, ts: int, price: int, move: int, bps: float, out: list[Signal]) -> None:
        """The price moved far enough: check the aggression, the cool-down, and report."""
        config = self.config
        window = self.window
        base = window.base
        bought = window.bought - base.bought
        sold = window.sold - base.sold
        side = BUY if move > 0 else SELL
        along = bought if side is BUY else sold
        share = div(along, bought + sold)
        if share < config.min_share or not self._cooldown.ready(side, ts):
            return
        self._cooldown.mark(side, ts)
        oldest = window.first()
        first_ts, first = oldest.ts, oldest.price
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
                price,
                along,
                confidence,
                f"momentum {'up' if move > 0 else 'down'} {bps:.1f} bps "
                f"({price_text(inst, first)} -> {price_text(inst, price)}) in "
                f"{(ts - first_ts) / 1e6:.0f} ms over {window.count()} trades, "
                f"{share:.0%} {side_word(side)} aggression",
                first_ts,
            )
        )


@dataclass(frozen=True, slots=True)
class SmallTradeBurstConfig:
    """Many small trades in a short window: algorithmic (HFT-like) activity.

    A trade is small below ``max_notional`` (the "micro" size class). Fires when at least
    ``min_count`` small trades fall in ``window_ns`` and make at least ``min_share`` of the
    window's trades. False-positive control: both conditions, and one signal per
    ``cooldown_ns``. The side is the one with at least ``side_share`` of the small trades.
    """

    window_ns: int = SECOND
    max_notional: float = 1_000.0
    min_count: int = 30
    full_count: int = 100
    min_share: float = 0.8
    side_share: float = 2 / 3
    cooldown_ns: int = 10 * SECOND


class SmallTradeBurstDetector:
    """Reads its ``TradeWindow`` (which counts trades below ``max_notional`` as small). The
    cool-down is one deadline, checked before the window's length is."""

    __slots__ = (
        "_feeds",
        "_min_count",
        "_min_share",
        "_quiet_until",
        "config",
        "instrument",
        "window",
    )

    def __init__(
        self,
        instrument: Instrument,
        config: SmallTradeBurstConfig | None = None,
        window: TradeWindow | None = None,
        feed: bool = True,
    ) -> None:
        """``window``, ``feed``: as for ``MomentumBurstDetector``; the window must count small
        trades by this detector's ``max_notional`` (``small_max(instrument, config)``)."""
        self.instrument = instrument
        self.config = config or SmallTradeBurstConfig()
        self._feeds = feed or window is None
        self.window = window or TradeWindow(
            self.config.window_ns, small_max(instrument, self.config)
        )
        if self.window.window_ns != self.config.window_ns or self.window.small_max != small_max(
            instrument, self.config
        ):
            raise ConfigError("the shared window must match the detector's window and size class")
        self._min_count = self.config.min_count
        self._min_share = self.config.min_share
        #: No signal before this event time (one per ``cooldown_ns``); None: none yet.
        self._quiet_until: int | None = None

    def on_trade(self, trade: Trade, out: list[Signal]) -> None:
        """One trade (``trade`` below takes its fields, as the engine passes them)."""
        self.trade(trade.exch_ns or trade.recv_ns, trade.price, trade.size, trade.side, out)

    def trade(self, ts: int, price: int, size: int, side: Side, out: list[Signal]) -> None:
        window = self.window
        if self._feeds:
            window.add(ts, price, size, side)
        count = window.small - window.base.small
        if count < self._min_count:
            return
        if (
            self._quiet_until is None or ts >= self._quiet_until
        ) and count >= self._min_share * window.count():
            self._burst(ts, price, count, out)

    def _burst(self, ts: int, price: int, count: int, out: list[Signal]) -> None:
        self._quiet_until = ts + self.config.cooldown_ns
        config = self.config
        window = self.window
        base = window.base
        small_size = window.small_size - base.small_size
        buys = div(window.small_buys - base.small_buys, count)
        side = None
        if buys >= config.side_share:
            side = BUY
        elif 1 - buys >= config.side_share:
            side = SELL
        inst = self.instrument
        start = window.first().ts
        out.append(
            Signal(
                ts,
                inst.venue,
                inst.symbol,
                SignalKind.SMALL_TRADE_BURST,
                side,
                price,
                small_size,
                scaled(count, config.min_count, config.full_count),
                f"{count} small trades (< {config.max_notional:,.0f} {inst.quote}) in "
                f"{(ts - start) / 1e6:.0f} ms, {buys:.0%} buys, "
                f"{size_text(inst, small_size)} in all",
                start,
            )
        )


def small_max(instrument: Instrument, config: SmallTradeBurstConfig) -> int:
    """The small-trade bound of ``config`` in price x size units."""
    return notional_units(instrument, config.max_notional)
