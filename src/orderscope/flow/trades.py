"""Trades by size class, and who was aggressive, over rolling event-time windows.

Size classes are by quote notional ``price * size`` (exact: both scaled ints, compared with
the class bounds scaled to ``10**-(price_decimals + size_decimals)``). With the default bounds
a trade is *micro* below 1,000, *small* below 10,000, *medium* below 50,000, *large* below
100,000 and *block* from 100,000 quote units up; a notional exactly on a bound belongs to the
class above it. "Large" trades, for the large-vs-small share, are those of the ``large_from``
class and above.

Every trade has one aggressive party (the taker, ``Trade.side``) and one passive (the maker).
Read per side of the market, buyers were *aggressive* in the volume whose aggressor bought
(they lifted offers) and *passive* in the volume whose aggressor sold (their bids were hit):
``aggressive_buy_share`` is the first over all volume, and its complement is the share in
which buyers were passive (= sellers aggressive).

The rolling window is measured in event time, not in trades: it holds the trades whose clock
time lies in ``(now - window_ns, now]``. The clock is monotone, the latest event time seen, so
a trade that arrives late (its stamp older than one seen before) counts at the clock's time.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections import deque
from collections.abc import Sequence
from fractions import Fraction

import msgspec
import numpy as np
import polars as pl

from orderscope.errors import ConfigError
from orderscope.fixed import POW10, div
from orderscope.flow.base import BUY, MINUTE, check_positive, ratio, require_trades
from orderscope.model import Instrument, Side, Trade

DEFAULT_BOUNDS: tuple[str, ...] = ("1000", "10000", "50000", "100000")
DEFAULT_NAMES: tuple[str, ...] = ("micro", "small", "medium", "large", "block")


class SizeClasses:
    """Class bounds in a currency (decimal strings or ints), scaled for one instrument.

    The bounds are in the instrument's quote currency times ``quote_rate``, the value of one
    quote unit in the bounds' currency: the default 1 suits USD and USD stablecoin quotes; for
    a BTC-quoted pair with USD bounds, pass the BTC price in USD.
    """

    def __init__(
        self,
        instrument: Instrument,
        bounds: Sequence[str | int] = DEFAULT_BOUNDS,
        names: Sequence[str] = DEFAULT_NAMES,
        large_from: str = "large",
        quote_rate: str | int | Fraction = 1,
    ) -> None:
        if len(names) != len(bounds) + 1:
            raise ConfigError("size classes need exactly one more name than bounds")
        if large_from not in names:
            raise ConfigError(f"large_from {large_from!r} is not one of {list(names)}")
        scale = POW10[instrument.price_decimals + instrument.size_decimals]
        rate = ratio(quote_rate)
        # notional * rate >= bound  <=>  notional >= ceil(bound / rate), notional an integer
        self.bounds = [math.ceil(ratio(b) * scale / rate) for b in bounds]
        if any(b <= a for a, b in zip(self.bounds, self.bounds[1:], strict=False)):
            raise ConfigError(f"size class bounds must increase: {list(bounds)}")
        self.names = tuple(names)
        self.large_index = self.names.index(large_from)

    def classify(self, notional: int) -> int:
        """Index of the class of a scaled notional (a bound belongs to the class above)."""
        return bisect_right(self.bounds, notional)


class ClassTotals(msgspec.Struct, frozen=True):
    name: str
    count: int
    volume: int  # size units
    buy_volume: int  # aggressor bought
    sell_volume: int
    notional: int  # units of 10**-(price_decimals + size_decimals)


class WindowShares(msgspec.Struct, frozen=True):
    """The rolling window at one moment; shares are None when the window is empty."""

    clock_ns: int
    trades: int
    volume: int
    buy_volume: int
    notional: int
    large_notional: int
    large_trades: int

    @property
    def aggressive_buy_share(self) -> float | None:
        return div(self.buy_volume, self.volume) if self.volume else None

    @property
    def aggressive_sell_share(self) -> float | None:
        return div(self.volume - self.buy_volume, self.volume) if self.volume else None

    @property
    def large_share(self) -> float | None:
        """Share of the window's notional traded in large trades (institutional-sized)."""
        return div(self.large_notional, self.notional) if self.notional else None

    @property
    def small_share(self) -> float | None:
        return div(self.notional - self.large_notional, self.notional) if self.notional else None


class TradeFlowResult(msgspec.Struct, frozen=True):
    classes: list[ClassTotals]
    window: WindowShares


class TradeFlow:
    """Streaming size classes and rolling aggressor / large-trade shares for one instrument."""

    def __init__(
        self,
        instrument: Instrument,
        classes: SizeClasses | None = None,
        window_ns: int = MINUTE,
    ) -> None:
        self.classes = classes or SizeClasses(instrument)
        self.window_ns = check_positive("window_ns", window_ns)
        n = len(self.classes.names)
        # per class: count, volume, buy volume, sell volume, notional
        self._totals = [[0, 0, 0, 0, 0] for _ in range(n)]
        self._window: deque[tuple[int, int, int, int, int]] = deque()
        self._clock = 0
        self._w_trades = self._w_volume = self._w_buy = 0
        self._w_notional = self._w_large_notional = self._w_large_trades = 0

    def update(self, trade: Trade) -> None:
        """One trade (``trade`` below takes its fields, as ``TradeStream`` passes them)."""
        self.trade(trade.exch_ns or trade.recv_ns, trade.price, trade.size, trade.side)

    def trade(self, ts: int, price: int, size: int, side: Side) -> None:
        """One trade's event time, price, size and aggressor side."""
        notional = price * size
        index = bisect_right(self.classes.bounds, notional)
        cell = self._totals[index]
        cell[0] += 1
        cell[1] += size
        cell[4] += notional
        buy = size if side is BUY else 0
        if buy:
            cell[2] += size
        else:
            cell[3] += size
        large = notional if index >= self.classes.large_index else -1
        clock = self._clock = ts if ts > self._clock else self._clock
        self._window.append((clock, size, buy, notional, large))
        self._w_trades += 1
        self._w_volume += size
        self._w_buy += buy
        self._w_notional += notional
        if large >= 0:
            self._w_large_notional += large
            self._w_large_trades += 1
        self._evict(clock - self.window_ns)

    def _evict(self, horizon: int) -> None:
        window = self._window
        while window[0][0] <= horizon:
            _, size, buy, notional, large = window.popleft()
            self._w_trades -= 1
            self._w_volume -= size
            self._w_buy -= buy
            self._w_notional -= notional
            if large >= 0:
                self._w_large_notional -= large
                self._w_large_trades -= 1

    def window(self) -> WindowShares:
        return WindowShares(
            self._clock,
            self._w_trades,
            self._w_volume,
            self._w_buy,
            self._w_notional,
            self._w_large_notional,
            self._w_large_trades,
        )

    def result(self) -> TradeFlowResult:
        return TradeFlowResult(
            [
                ClassTotals(name, *cell)
                for name, cell in zip(self.classes.names, self._totals, strict=True)
            ],
            self.window(),
        )


# -- vectorized ---------------------------------------------------------------------------


def _with_classes(frame: pl.DataFrame, classes: SizeClasses) -> pl.DataFrame:
    notional = pl.col("price").cast(pl.Int128) * pl.col("size")
    # the class index is the number of bounds at or below the notional (bisect_right)
    above = [(notional >= pl.lit(b, dtype=pl.Int128)).cast(pl.Int64) for b in classes.bounds]
    cls = pl.sum_horizontal(above) if above else pl.lit(0, dtype=pl.Int64)
    return require_trades(frame).with_columns(notional.alias("notional"), cls.alias("cls"))


def rolling_shares(
    frame: pl.DataFrame,
    instrument: Instrument,
    classes: SizeClasses | None = None,
    window_ns: int = MINUTE,
) -> pl.DataFrame:
    """Per trade, the rolling window as ``TradeFlow.window()`` sees it after that trade.

    Columns: clock_ns, trades, volume, buy_volume, notional, large_notional, large_trades.
    """
    classes = classes or SizeClasses(instrument)
    check_positive("window_ns", window_ns)
    t = _with_classes(frame, classes)
    large = pl.col("cls") >= classes.large_index
    t = t.with_columns(
        pl.col("ts").cum_max().alias("clock_ns"),
        pl.when(pl.col("side") > 0).then(pl.col("size")).otherwise(0).alias("buy"),
        pl.when(large).then(pl.col("notional")).otherwise(0).alias("large_notional"),
        large.cast(pl.Int64).alias("large_trades"),
    )
    clock = t["clock_ns"].to_numpy()
    # first index still inside (clock - window, clock]: the clock never goes back, so the
    # window is a contiguous run ending at the current trade
    start = np.searchsorted(clock, clock - window_ns, side="right")
    end = np.arange(1, t.height + 1)
    cums = t.select(
        pl.col("size").cum_sum().alias("volume"),
        pl.col("buy").cum_sum().alias("buy_volume"),
        pl.col("notional").cum_sum().alias("notional"),
        pl.col("large_notional").cum_sum().alias("large_notional"),
        pl.col("large_trades").cum_sum().alias("large_trades"),
    )
    columns: dict[str, pl.Series] = {
        "clock_ns": t["clock_ns"],
        "trades": pl.Series("trades", end - start, dtype=pl.Int64),
    }
    for name in cums.columns:
        total = cums[name]
        padded = pl.concat([pl.Series(name, [0], dtype=total.dtype), total])
        columns[name] = total - padded.gather(start).alias(name)
    return pl.DataFrame(columns)


def trade_flow(
    frame: pl.DataFrame,
    instrument: Instrument,
    classes: SizeClasses | None = None,
    window_ns: int = MINUTE,
) -> TradeFlowResult:
    """The vectorized ``TradeFlow``: class totals and the window after the last trade."""
    classes = classes or SizeClasses(instrument)
    t = _with_classes(frame, classes)
    grouped = t.group_by("cls").agg(
        pl.len().alias("count"),
        pl.col("size").sum().alias("volume"),
        pl.col("size").filter(pl.col("side") > 0).sum().alias("buy"),
        pl.col("size").filter(pl.col("side") < 0).sum().alias("sell"),
        pl.col("notional").sum().alias("notional"),
    )
    by_class = {row[0]: row[1:] for row in grouped.iter_rows()}
    totals = [
        ClassTotals(name, *(int(v) for v in by_class.get(i, (0, 0, 0, 0, 0))))
        for i, name in enumerate(classes.names)
    ]
    if t.height == 0:
        return TradeFlowResult(totals, WindowShares(0, 0, 0, 0, 0, 0, 0))
    last = rolling_shares(t, instrument, classes, window_ns).row(-1)
    return TradeFlowResult(totals, WindowShares(*(int(v) for v in last)))
