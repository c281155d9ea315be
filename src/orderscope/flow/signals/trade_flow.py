"""Detectors that read trades only: block trade, momentum burst, bursts of small trades.

Each keeps its state in event time (windows of ``window_ns`` ending at the newest trade) and
has a documented false-positive control.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

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

SECOND = 1_000_000_000


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
