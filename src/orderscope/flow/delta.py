"""Volume delta: cumulative (running and per session), per bar, and what is read from it.

Delta is aggressor buy volume minus aggressor sell volume. Bars are time bars of
``timeframe_ns`` aligned to the epoch (a trade goes to the bar of its own event time); only
bars with trades are listed, in time order, and every per-bar figure is over that list:

- ``cvd``: the running sum of bar deltas up to and including the bar; ``session_cvd`` the same,
  restarted at each session (``[k * session_ns + offset_ns, ...)``, UTC days by default);
- ``momentum``: the sum of the last ``momentum_bars`` bar deltas (= the change of the CVD over
  them), None until there are that many bars; ``acceleration``: momentum minus the previous
  bar's momentum;
- ``buy_pct``: the bar's buy volume as a percentage of its volume (the buy pressure; the sell
  pressure is ``100 - buy_pct``);
- ``divergence`` over the previous ``lookback`` bars: *bearish* when the bar makes a higher high
  than all of them while its CVD is not above their highest CVD; *bullish* when it makes a
  lower low while its CVD is not below their lowest; an outside bar meeting both is neither;
- ``exhaustion`` over the previous ``lookback`` bars: *buying* when the bar makes a higher high
  with a positive delta below ``exhaustion_ratio`` times the largest positive delta among them
  (price still rises, the buying behind it fades); *selling* is the mirror at a lower low.

Close is the last trade to arrive in the bar. Everything is integer until ``buy_pct``.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import msgspec
import polars as pl
from mypy_extensions import mypyc_attr

from orderscope.fixed import div
from orderscope.flow.base import (
    BUY,
    DAY,
    MINUTE,
    check_positive,
    check_sessions,
    ratio,
    session_of,
)
from orderscope.flow.columns import TradeColumns
from orderscope.model import Side, Trade


@dataclass(frozen=True, slots=True)
class DeltaParams:
    timeframe_ns: int = MINUTE
    session_ns: int = DAY
    offset_ns: int = 0
    momentum_bars: int = 3
    lookback: int = 5
    exhaustion_ratio: float | str | Fraction = 0.5

    def __post_init__(self) -> None:
        check_sessions(self.session_ns, self.offset_ns, self.timeframe_ns)
        check_positive("momentum_bars", self.momentum_bars)
        check_positive("lookback", self.lookback)
        ratio(self.exhaustion_ratio)


class DeltaBar(msgspec.Struct, frozen=True):
    start_ns: int
    buy: int
    sell: int
    trades: int
    high: int
    low: int
    close: int
    cvd: int
    session_cvd: int
    momentum: int | None
    acceleration: int | None
    buy_pct: float
    divergence: str | None  # "bearish" | "bullish"
    exhaustion: str | None  # "buying" | "selling"

    @property
    def delta(self) -> int:
        return self.buy - self.sell


class SessionDelta(msgspec.Struct, frozen=True):
    start_ns: int
    buy: int
    sell: int
    delta: int


class DeltaResult(msgspec.Struct, frozen=True):
    cvd: int
    buy: int
    sell: int
    trades: int
    buy_pct: float | None
    sessions: list[SessionDelta]
    bars: list[DeltaBar]


#: per bar: buy, sell, trades, high, low, close
BarCells = dict[int, list[int]]


def build_delta(cells: BarCells, params: DeltaParams) -> DeltaResult:
    """Per-bar sums -> the delta series (both paths end here)."""
    keys = sorted(cells)
    n_mom, look = params.momentum_bars, params.lookback
    exhaust = ratio(params.exhaustion_ratio)
    num, den = exhaust.numerator, exhaust.denominator
    bars: list[DeltaBar] = []
    sessions: list[SessionDelta] = []
    deltas: list[int] = []
    cvds: list[int] = []
    highs: list[int] = []
    lows: list[int] = []
    cvd = session_cvd = 0
    session = None
    momentum: int | None = None
    for i, key in enumerate(keys):
        buy, sell, trades, high, low, close = cells[key]
        start = key * params.timeframe_ns
        delta = buy - sell
        this_session = session_of(start, params.session_ns, params.offset_ns)
        if this_session != session:
            session, session_cvd = this_session, 0
            sessions.append(SessionDelta(this_session, 0, 0, 0))
        s = sessions[-1]
        sessions[-1] = SessionDelta(s.start_ns, s.buy + buy, s.sell + sell, s.delta + delta)
        cvd += delta
        session_cvd += delta
        deltas.append(delta)
        previous = momentum
        momentum = sum(deltas[i + 1 - n_mom :]) if i + 1 >= n_mom else None
        acceleration = (
            momentum - previous if momentum is not None and previous is not None else None
        )
        divergence = exhaustion = None
        if i >= look:
            prev_high, prev_low = max(highs[-look:]), min(lows[-look:])
            prev_cvd = cvds[-look:]
            bearish = high > prev_high and cvd <= max(prev_cvd)
            bullish = low < prev_low and cvd >= min(prev_cvd)
            if bearish != bullish:
                divergence = "bearish" if bearish else "bullish"
            strongest_buy = max(deltas[-look - 1 : -1])
            strongest_sell = -min(deltas[-look - 1 : -1])
            if high > prev_high and delta > 0 and delta * den < num * strongest_buy:
                exhaustion = "buying"
            elif low < prev_low and delta < 0 and -delta * den < num * strongest_sell:
                exhaustion = "selling"
        cvds.append(cvd)
        highs.append(high)
        lows.append(low)
        bars.append(
            DeltaBar(
                start,
                buy,
                sell,
                trades,
                high,
                low,
                close,
                cvd,
                session_cvd,
                momentum,
                acceleration,
                div(100 * buy, buy + sell) if buy + sell else 0.0,
                divergence,
                exhaustion,
            )
        )
    buy = sum(s.buy for s in sessions)
    sell = sum(s.sell for s in sessions)
    trades = sum(b.trades for b in bars)
    pct = div(100 * buy, buy + sell) if buy + sell else None
    return DeltaResult(cvd, buy, sell, trades, pct, sessions, bars)


@mypyc_attr(acyclic=True)  # ints only: never part of a cycle, so not tracked by the GC
class DeltaCell:
    """One bar of a ``CumulativeDelta`` being built. A class with int fields, not a list:
    compiled, the sums stay unboxed (setting a list item makes a new int object)."""

    __slots__ = ("buy", "close", "high", "low", "sell", "trades")

    def __init__(self, price: int) -> None:
        self.buy = self.sell = self.trades = 0
        self.high = self.low = self.close = price

    def values(self) -> list[int]:
        """[buy, sell, trades, high, low, close]: a ``BarCells`` value."""
        return [self.buy, self.sell, self.trades, self.high, self.low, self.close]


class CumulativeDelta:
    """Streaming CVD and delta bars of one instrument."""

    def __init__(self, params: DeltaParams = DeltaParams()) -> None:
        self.params = params
        self._tf = params.timeframe_ns
        self.bars: dict[int, DeltaCell] = {}  # by bar key (``ts // timeframe_ns``)
        # The bar the last trade went to and its time range: a trade inside it needs no
        # division (the range starts empty, so the first trade finds its bar).
        self._cell = DeltaCell(0)
        self._start = self._end = 0
        self.cvd = 0  # running, over everything fed so far

    @property
    def cells(self) -> BarCells:
        """Per bar key: [buy, sell, trades, high, low, close] (a copy)."""
        return {key: cell.values() for key, cell in self.bars.items()}

    def update(self, trade: Trade) -> None:
        """One trade (``trade`` below takes its fields, as ``TradeStream`` passes them)."""
        self.trade(trade.exch_ns or trade.recv_ns, trade.price, trade.size, trade.side)

    def trade(self, ts: int, price: int, size: int, side: Side) -> None:
        """One trade's event time, price, size and aggressor side."""
        cell = self._cell
        if ts < self._start or ts >= self._end:
            key = ts // self._tf
            found = self.bars.get(key)
            if found is None:
                found = self.bars[key] = DeltaCell(price)
            cell = self._cell = found
            self._start = start = key * self._tf
            self._end = start + self._tf
        if side is BUY:
            cell.buy += size
            self.cvd += size
        else:
            cell.sell += size
            self.cvd -= size
        cell.trades += 1
        if price > cell.high:
            cell.high = price
        elif price < cell.low:
            cell.low = price
        cell.close = price

    def forget_open_bar(self) -> None:
        """Make the next trade look its bar up again (after cells were dropped)."""
        self._cell = DeltaCell(0)
        self._start = self._end = 0

    def result(self) -> DeltaResult:
        return build_delta(self.cells, self.params)


def delta_bars(
    trades: pl.DataFrame | TradeColumns, params: DeltaParams = DeltaParams()
) -> DeltaResult:
    """The vectorized ``CumulativeDelta`` of a trades frame (arrival order)."""
    t = TradeColumns.of(trades)
    if t.height == 0:
        return build_delta({}, params)
    b = t.time_bars(params.timeframe_ns)
    columns = (b.buy, b.volume - b.buy, b.count, b.high, b.low, b.close)
    cells = {
        k: list(v) for k, *v in zip(b.keys.tolist(), *(c.tolist() for c in columns), strict=True)
    }
    return build_delta(cells, params)
