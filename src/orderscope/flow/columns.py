"""Trades as NumPy columns, with the keys the vectorized analytics share computed once.

``footprint``, ``volume_profile``, ``delta_bars`` and ``vwap`` take a trades frame or a
``TradeColumns``. Given one ``TradeColumns`` (``TradeColumns.of(frame)``), they share the work
that does not depend on the analytic: the bars (bars of the same length are cut once for the
footprint, the delta and the VWAP), the per-bar figures (open, high, low, close, volume,
delta), the row of each trade and the per-row sums (footprint and profile with the same row
height). A research job running several analytics over days of trades passes one
``TradeColumns`` to all of them; a single call builds its own.

Why it is shaped this way: over millions of trades the cost is memory traffic, not arithmetic.
Every full-length temporary array is megabytes of fresh pages, so each per-trade pass is done
once and in place where it can be, bars of sorted stamps are found by a binary search of the
bar edges (no per-trade bar number), sums go through ``bincount`` (one weighted pass yields
buy and sell), and Python touches only bars and rows, never trades.

The columns are read without copying (a frame of one chunk), and never written to. Sums are
exact: int64 where every partial sum provably fits (``size_fits``), float64 ``bincount`` only
while every sum is an integer below 2**53, and bounded remainders elsewhere (VWAP).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property
from itertools import pairwise

import numpy as np
import numpy.typing as npt
import polars as pl

from orderscope.errors import ConfigError
from orderscope.flow import _vector
from orderscope.flow._vector import F64, FLOAT_EXACT, I64, exact_bincount, group, sparse_sums
from orderscope.flow.base import require_trades

I8 = npt.NDArray[np.int8]
INT64_MAX = 2**63 - 1
SUM_LIMIT = 2**62


class TradeColumns:
    """A trades frame's columns (``TRADE_SCHEMA``) in arrival order, as NumPy arrays."""

    def __init__(self, ts: I64, price: I64, size: I64, side: I8) -> None:
        self.ts, self.price, self.size, self.side = ts, price, size, side
        self.height = len(ts)
        self._bars: dict[tuple[str, int], Bars] = {}
        self._rows: dict[int, I64] = {}
        self._row_sums: dict[int, RowSums] = {}

    @classmethod
    def of(cls, trades: pl.DataFrame | TradeColumns) -> TradeColumns:
        if isinstance(trades, TradeColumns):
            return trades
        t = require_trades(trades)
        ts, price, size = (_int64(t[c]) for c in ("ts", "price", "size"))
        return cls(ts, price, size, t["side"].to_numpy())

    @cached_property
    def ascending(self) -> bool:
        """Stamps never go back (the usual case: then bars are runs found by binary search)."""
        ts = self.ts
        return not bool(np.any(ts[1:] < ts[:-1]))

    @cached_property
    def sells(self) -> npt.NDArray[np.bool_]:
        """The trades whose aggressor sold (``side`` is not +1)."""
        return self.side <= 0

    @cached_property
    def volume(self) -> int:
        """Total size, below ``SUM_LIMIT``: sizes are >= 0, so no partial sum of sizes, signed
        sizes or twice them overflows int64. Frames beyond are refused."""
        if self.height == 0:
            return 0
        bound = self.height * int(self.size.max())
        # the float total is only a guard, with a wide margin for its own rounding
        if bound >= SUM_LIMIT and float(self.size.sum(dtype=np.float64)) >= 0.999 * SUM_LIMIT:
            raise ConfigError(
                "trades frame: the sizes may sum beyond 64 bits; the vectorized analytics keep "
                "int64 sums (the streaming analytics, on Python ints, handle it)"
            )
        return int(self.size.sum())

    @cached_property
    def float_size(self) -> F64 | None:
        """Sizes as float64 (``bincount`` weights) when every sum of them is exact in float."""
        return self.size.astype(np.float64) if self.volume < FLOAT_EXACT else None

    @cached_property
    def low(self) -> int:
        return int(self.price.min())

    @cached_property
    def high(self) -> int:
        return int(self.price.max())

    def between(self, start_ns: int | None, end_ns: int | None) -> TradeColumns:
        """The trades with ``start_ns <= ts < end_ns`` (None: unbounded); self when all are."""
        if self.height == 0 or (start_ns is None and end_ns is None):
            return self
        ts = self.ts
        if self.ascending:
            lo = 0 if start_ns is None else int(np.searchsorted(ts, start_ns, "left"))
            hi = self.height if end_ns is None else int(np.searchsorted(ts, end_ns, "left"))
            if lo == 0 and hi == self.height:
                return self
            part = slice(lo, hi)
            return TradeColumns(ts[part], self.price[part], self.size[part], self.side[part])
        keep = np.ones(self.height, dtype=np.bool_)
        if start_ns is not None:
            keep &= ts >= start_ns
        if end_ns is not None:
            keep &= ts < end_ns
        if bool(keep.all()):
            return self
        return TradeColumns(ts[keep], self.price[keep], self.size[keep], self.side[keep])

    def time_bars(self, length: int) -> Bars:
        """Bars ``[k * length, (k + 1) * length)`` of event time (keys: k)."""
        bars = self._bars.get(("time", length))
        if bars is None:
            bars = self._bars["time", length] = self._time_bars(length)
        return bars

    def keyed_bars(self, kind: str, size: int, keys: Callable[[], I64]) -> Bars:
        """Bars of the per-trade keys ``keys()`` (``kind`` and ``size`` name them in the cache)."""
        bars = self._bars.get((kind, size))
        if bars is None:
            bars = self._bars[kind, size] = self._grouped(keys())
        return bars

    def _time_bars(self, length: int) -> Bars:
        if self.height and self.ascending:
            first, last = int(self.ts[0]) // length, int(self.ts[-1]) // length
            # one edge per bar of the span: cheap unless the stamps are far apart
            if last - first < self.height and (last + 2) * length <= INT64_MAX:
                edges = np.arange(first, last + 2, dtype=np.int64) * length
                bounds = np.searchsorted(self.ts, edges, "left")
                used = np.flatnonzero(bounds[1:] > bounds[:-1])
                return Bars(self, used + first, bounds[used], bounds[used + 1])
        return self._grouped(self.ts // length)

    def _grouped(self, keys: I64) -> Bars:
        g = group(keys)
        trades = self
        if g.order is not None:  # a stable sort: arrival order kept inside a bar
            o = g.order
            trades = TradeColumns(self.ts[o], self.price[o], self.size[o], self.side[o])
        return Bars(trades, g.keys, g.starts, g.ends)

    def row_index(self, row: int) -> I64:
        """Per trade, its row counted from the lowest row (``row_floor(self.low, row)``)."""
        index = self._rows.get(row)
        if index is None:
            index = self.price - row_floor(self.low, row)
            np.floor_divide(index, row, out=index)
            self._rows[row] = index
        return index

    def row_sums(self, row: int) -> RowSums:
        """Buy, sell and trades per row over all the trades (the profile's cells)."""
        sums = self._row_sums.get(row)
        if sums is None:
            sums = self._row_sums[row] = self._sum_rows(row)
        return sums

    def _sum_rows(self, row: int) -> RowSums:
        lowest = row_floor(self.low, row)
        for bars in self._bars.values():  # a footprint of these rows already summed them
            cells = bars.cached_cells(row)
            if cells is not None:
                return cells.by_row(lowest, row, self.volume)
        width = (self.high - lowest) // row + 1
        if not _vector.dense(width, self.height):  # a wide range in small rows
            buys = np.where(self.sells, 0, self.size)
            _, rows, (buy, sell, trades) = sparse_sums(
                np.zeros(self.height, dtype=np.int64),
                self.row_index(row),
                [buys, self.size - buys, None],
            )
            return RowSums(lowest + rows * row, buy, sell, trades)
        index = self.row_index(row)
        return _dense_sums(self, index, width, lowest, row, scratch=False)


def row_floor(price: int, row: int) -> int:
    """The lower edge of the row holding ``price``."""
    return price - price % row


def _int64(series: pl.Series) -> I64:
    return series.to_numpy().astype(np.int64, copy=False)


class RowSums:
    """Per-row sums of rows that traded, lowest first: lower edge, buy, sell, trades."""

    __slots__ = ("buy", "price", "sell", "trades")

    def __init__(self, price: I64, buy: I64, sell: I64, trades: I64) -> None:
        self.price, self.buy, self.sell, self.trades = price, buy, sell, trades


def _dense_sums(
    t: TradeColumns, index: I64, width: int, lowest: int, row: int, scratch: bool
) -> RowSums:
    """Sums per ``index`` (< ``width``) of ``t``'s trades; ``index`` is overwritten when it is
    ``scratch``."""
    trades = np.bincount(index, minlength=width)
    # one weighted pass gives both sides: cell 2 * i holds row i's buys, 2 * i + 1 its sells
    sided = np.left_shift(index, 1, out=index if scratch else None)
    sided += t.sells
    sums = exact_bincount(sided, t.size, 2 * width, t.volume, t.float_size)
    used = np.flatnonzero(trades)
    return RowSums(
        lowest + used * row, sums[0::2][used], sums[1::2][used], trades[used].astype(np.int64)
    )


class Cells:
    """Footprint cells (bar, row) that traded, ordered by bar then row."""

    __slots__ = ("bar", "buy", "price", "sell", "trades")

    def __init__(self, bar: I64, price: I64, buy: I64, sell: I64, trades: I64) -> None:
        self.bar, self.price, self.buy, self.sell, self.trades = bar, price, buy, sell, trades

    def by_row(self, lowest: int, row: int, volume: int) -> RowSums:
        index = (self.price - lowest) // row
        width = int(index.max()) + 1 if len(index) else 0
        buy = exact_bincount(index, self.buy, width, volume)
        sell = exact_bincount(index, self.sell, width, volume)
        trades = exact_bincount(index, self.trades, width, volume)  # trades <= size units
        used = np.flatnonzero(trades)
        return RowSums(lowest + used * row, buy[used], sell[used], trades[used])


class Bars:
    """Trades cut into bars: runs ``[starts[i], ends[i])`` of ``trades`` (arrival order kept
    inside a bar), with per-bar figures computed on first use."""

    def __init__(self, trades: TradeColumns, keys: I64, starts: I64, ends: I64) -> None:
        self.trades = trades
        self.keys, self.starts, self.ends = keys, starts, ends
        self._cells: dict[int, Cells] = {}

    @cached_property
    def count(self) -> I64:
        return self.ends - self.starts

    @cached_property
    def lasts(self) -> I64:
        return self.ends - 1

    @cached_property
    def open(self) -> I64:
        return self.trades.price[self.starts]

    @cached_property
    def close(self) -> I64:
        return self.trades.price[self.lasts]

    @cached_property
    def high(self) -> I64:
        return np.maximum.reduceat(self.trades.price, self.starts)

    @cached_property
    def low(self) -> I64:
        return np.minimum.reduceat(self.trades.price, self.starts)

    @cached_property
    def volume(self) -> I64:
        _ = self.trades.volume  # refuses sizes whose sums could overflow
        return np.add.reduceat(self.trades.size, self.starts)

    @cached_property
    def running(self) -> I64:
        """The running delta (buys - sells) after each trade, over all the trades."""
        t = self.trades
        _ = t.volume  # refuses sizes whose sums could overflow
        signed = t.size * t.side
        return np.cumsum(signed, out=signed)

    @cached_property
    def before(self) -> I64:
        """The running delta before each bar's first trade."""
        t, starts = self.trades, self.starts
        return self.running[starts] - t.size[starts] * t.side[starts]

    @cached_property
    def delta(self) -> I64:
        return self.running[self.lasts] - self.before

    @cached_property
    def buy(self) -> I64:
        return (self.volume + self.delta) // 2

    @cached_property
    def max_delta(self) -> I64:
        return np.maximum.reduceat(self.running, self.starts) - self.before

    @cached_property
    def min_delta(self) -> I64:
        return np.minimum.reduceat(self.running, self.starts) - self.before

    def cached_cells(self, row: int) -> Cells | None:
        return self._cells.get(row)

    def cells(self, row: int) -> Cells:
        """Buy, sell and trades per (bar, row) cell that traded."""
        cells = self._cells.get(row)
        if cells is None:
            cells = self._cells[row] = self._sum_cells(row)
        return cells

    def _sum_cells(self, row: int) -> Cells:
        t = self.trades
        lowest = row_floor(t.low, row)
        # each bar gets the rows of its own range, so the grid is as dense as the bars are
        first = (self.low - lowest) // row
        width = (self.high - lowest) // row - first + 1
        base = np.cumsum(width) - width  # where each bar's rows start
        total = int(base[-1] + width[-1])
        index = t.row_index(row)
        if not _vector.dense(total, t.height):  # a bar spans a wide range in small rows
            bar_of = np.repeat(np.arange(len(self.starts), dtype=np.int64), self.count)
            buys = np.where(t.sells, 0, t.size)
            bar, rows, (buy, sell, trades) = sparse_sums(bar_of, index, [buys, t.size - buys, None])
            return Cells(bar, lowest + rows * row, buy, sell, trades)
        cell = np.repeat(base - first, self.count)
        cell += index
        sums = _dense_sums(t, cell, total, 0, 1, scratch=True)
        used = sums.price  # the cell numbers that traded
        bar = np.searchsorted(base, used, "right") - 1
        prices = (used - base[bar] + first[bar]) * row + lowest
        return Cells(bar, prices, sums.buy, sums.sell, sums.trades)

    @cached_property
    def price_sums(self) -> tuple[list[int], list[int]]:
        """Per bar, exact ``sum(price * size)`` and ``sum(price**2 * size)`` (Python ints).

        Both overflow int64 over a bar, so prices are taken from the bar's low: with
        ``d = price - low``, ``sum(p v) = low V + sum(d v)`` and ``sum(p^2 v) = low^2 V +
        2 low sum(d v) + sum(d^2 v)``, where ``d^2 v <= range^2 v``: int64 sums are exact while
        ``range^2 * V`` fits, checked per bar. Bars beyond that take Int128 running sums."""
        t, starts = self.trades, self.starts
        low, volume = self.low, self.volume
        span = (self.high - low).astype(np.float64)
        # float bound with a wide margin for its own rounding
        if float((span * span * volume.astype(np.float64)).max()) >= 2.0**61:
            return _int128_sums(t.price, t.size, self.lasts)
        d = np.repeat(low, self.count)
        np.subtract(t.price, d, out=d)
        weighted = d * t.size  # d v
        dv = np.add.reduceat(weighted, starts)
        weighted *= d  # d^2 v
        d2v = np.add.reduceat(weighted, starts)
        pv: list[int] = []
        p2v: list[int] = []
        for lo, v, s1, s2 in zip(
            low.tolist(), volume.tolist(), dv.tolist(), d2v.tolist(), strict=True
        ):
            pv.append(lo * v + s1)
            p2v.append(lo * lo * v + 2 * lo * s1 + s2)
        return pv, p2v


def _int128_sums(price: I64, size: I64, lasts: I64) -> tuple[list[int], list[int]]:
    """Exact per-bar sums from Int128 running sums read at each bar's last trade."""
    pv = pl.Series(price).cast(pl.Int128) * pl.Series(size)
    running = pl.DataFrame({"pv": pv, "p2v": pv * pl.Series(price)}).select(pl.all().cum_sum())
    at = pl.Series(lasts)
    ends_pv = [0, *running["pv"].gather(at).to_list()]
    ends_p2v = [0, *running["p2v"].gather(at).to_list()]
    return (
        [b - a for a, b in pairwise(ends_pv)],
        [b - a for a, b in pairwise(ends_p2v)],
    )
