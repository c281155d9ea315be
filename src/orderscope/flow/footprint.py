"""Footprint bars: per bar and per price row, the volume bought and sold by aggressors.

Bars are made three ways (``BarSpec``):

- by time: a bar covers ``[k * length, (k + 1) * length)`` of event time, aligned to the epoch
  (so 1d bars start at 00:00 UTC and 4h bars at 00:00, 04:00, ... UTC); a trade goes to the bar
  of its own timestamp, even when it arrives after a later one;
- by volume: a bar closes as soon as its volume reaches the bar size; a trade is never split,
  so a bar holds between ``size`` and ``size + last trade`` of volume;
- by trade count: every ``size`` trades in arrival order.

Rows are ``row`` price units high (N ticks, or any price step) and keyed by their lower edge
``price - price % row`` (= ``floor(price / row) * row``, integers only): a trade exactly on an
edge belongs to the row that starts there. A bar lists the rows it traded in, lowest first.

Per row: ``buy`` and ``sell`` (aggressor volume), ``delta = buy - sell``, ``trades``.
Per bar: open, high, low, close (arrival order), volume, delta, the highest and lowest value the
running delta took after each of the bar's trades (``max_delta``/``min_delta``), trades, POC
(most volume; ties go to the row nearest the middle of the bar's range, then the lower).

Diagonal imbalances (``imbalances``) compare buy volume at row P with sell volume one row
lower (P - 1), and sell volume at P with buy volume one row higher (P + 1), because an
aggressive buyer lifts the ask while an aggressive seller hits the bid a tick below it:

- a *buy imbalance* at P: ``buy[P] >= ratio * sell[P-1]``; a *sell imbalance* at P:
  ``sell[P] >= ratio * buy[P+1]``; the dominant side must be > 0 and >= ``min_volume``;
- only rows inside the bar's range (low row .. high row) are compared; a row inside the range
  without trades has zero buy and sell;
- a zero side (the compared volume is 0) is an infinite ratio: with ``ZeroSide.IMBALANCE``
  (default) it is an imbalance if the dominant side passes ``min_volume``, with
  ``ZeroSide.IGNORE`` it never is;
- a stacked imbalance is ``stack`` (default 3) or more consecutive rows with imbalances of the
  same side.

Footprints by time are sums, so two of them merge (``Footprint.merge``): the merged bar is the
bar a single pass over self's trades followed by other's would have made.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from fractions import Fraction

import msgspec
import numpy as np
import polars as pl
from mypy_extensions import mypyc_attr

from orderscope.errors import ConfigError
from orderscope.flow._vector import I64
from orderscope.flow.base import BUY, SELL, RowSums, check_positive, merge_rows, poc_index, ratio
from orderscope.flow.columns import TradeColumns
from orderscope.model import Side, Trade


class BarKind(enum.StrEnum):
    TIME = "time"
    VOLUME = "volume"
    TRADES = "trades"


@dataclass(frozen=True, slots=True)
class BarSpec:
    """How trades are cut into bars: ``size`` is ns (time), size units (volume) or a count."""

    kind: BarKind
    size: int

    def __post_init__(self) -> None:
        check_positive(f"{self.kind} bar size", self.size)

    @classmethod
    def time(cls, length_ns: int) -> BarSpec:
        return cls(BarKind.TIME, length_ns)

    @classmethod
    def volume(cls, size: int) -> BarSpec:
        return cls(BarKind.VOLUME, size)

    @classmethod
    def trades(cls, count: int) -> BarSpec:
        return cls(BarKind.TRADES, count)


class FootprintRow(msgspec.Struct, frozen=True):
    price: int  # the row's lower edge
    buy: int
    sell: int
    trades: int

    @property
    def delta(self) -> int:
        return self.buy - self.sell

    @property
    def volume(self) -> int:
        return self.buy + self.sell


class FootprintBar(msgspec.Struct, frozen=True):
    start_ns: int  # time bars: the aligned start; others: the first trade's event time
    end_ns: int  # time bars: start + length; others: the last trade's event time
    open: int
    high: int
    low: int
    close: int
    volume: int
    delta: int
    max_delta: int
    min_delta: int
    trades: int
    poc: int  # lower edge of the point-of-control row
    rows: list[FootprintRow]  # rows that traded, lowest first


class FootprintResult(msgspec.Struct, frozen=True):
    row: int
    kind: BarKind
    size: int
    bars: list[FootprintBar]


class _Bar:
    """A bar being built (mutable); rows map a row's lower edge to its ``RowSums``."""

    __slots__ = (
        "close",
        "delta",
        "end_ns",
        "high",
        "low",
        "max_delta",
        "min_delta",
        "open",
        "rows",
        "start_ns",
        "trades",
        "volume",
    )

    def __init__(self, start_ns: int, end_ns: int, price: int, signed: int) -> None:
        self.start_ns = start_ns
        self.end_ns = end_ns
        self.open = self.high = self.low = self.close = price
        self.volume = self.delta = self.trades = 0
        # the first trade's delta is the only value seen so far (see Footprint.update)
        self.max_delta = self.min_delta = signed
        self.rows: dict[int, RowSums] = {}

    def freeze(self) -> FootprintBar:
        keys = sorted(self.rows)
        cells = self.rows
        rows = [FootprintRow(k, cells[k].buy, cells[k].sell, cells[k].trades) for k in keys]
        volumes = [r.buy + r.sell for r in rows]
        return FootprintBar(
            self.start_ns,
            self.end_ns,
            self.open,
            self.high,
            self.low,
            self.close,
            self.volume,
            self.delta,
            self.max_delta,
            self.min_delta,
            self.trades,
            keys[poc_index(volumes, keys)],
            rows,
        )

    def absorb(self, other: _Bar) -> None:
        """Add ``other``'s trades as if they came after this bar's."""
        self.high = max(self.high, other.high)
        self.low = min(self.low, other.low)
        self.close = other.close
        self.max_delta = max(self.max_delta, self.delta + other.max_delta)
        self.min_delta = min(self.min_delta, self.delta + other.min_delta)
        self.delta += other.delta
        self.volume += other.volume
        self.trades += other.trades
        merge_rows(self.rows, other.rows)

    def copy(self) -> _Bar:
        # Field by field (not a loop over __slots__: compiled by mypyc, the class has none).
        bar = _Bar(self.start_ns, self.end_ns, self.open, 0)
        bar.high, bar.low, bar.close = self.high, self.low, self.close
        bar.volume, bar.delta, bar.trades = self.volume, self.delta, self.trades
        bar.max_delta, bar.min_delta = self.max_delta, self.min_delta
        bar.rows = {key: r.copy() for key, r in self.rows.items()}
        return bar


@mypyc_attr(allow_interpreted_subclasses=True)  # subclassed by interpreted code
class Footprint:
    """Streaming footprint of one instrument: ``update(trade)`` per trade, then ``result()``."""

    def __init__(self, row: int, bars: BarSpec) -> None:
        self.row = check_positive("row", row)
        self.spec = bars
        self._time = bars.kind is BarKind.TIME
        self._by_volume = bars.kind is BarKind.VOLUME
        self._length = bars.size
        self._bars: dict[int, _Bar] = {}  # time: start // length; others: sequence number
        self._open: _Bar | None = None  # the bar the last trade went to
        self._open_key = -1

    def update(self, trade: Trade) -> None:
        """One trade (``trade`` below takes its fields, as ``TradeStream`` passes them)."""
        self.trade(trade.exch_ns or trade.recv_ns, trade.price, trade.size, trade.side)

    def trade(self, ts: int, price: int, size: int, side: Side) -> None:
        """One trade's event time, price, size and aggressor side."""
        buy = side is BUY
        bar = self._open
        if self._time:
            # a trade inside the open bar's time range needs no division
            if bar is None or ts < bar.start_ns or ts >= bar.end_ns:
                bar = self._time_bar(ts // self._length, price, size if buy else -size)
        elif bar is None or (bar.volume if self._by_volume else bar.trades) >= self._length:
            bar = self._next_bar(ts, price, size if buy else -size)
        else:
            bar.end_ns = ts
        if price > bar.high:
            bar.high = price
        elif price < bar.low:
            bar.low = price
        bar.close = price
        bar.volume += size
        bar.trades += 1
        key = price - price % self.row
        cell = bar.rows.get(key)
        if cell is None:
            cell = bar.rows[key] = RowSums(0, 0, 0)
        cell.trades += 1
        # after a buy the running delta can only set a new high, after a sell a new low; the
        # first trade of a bar set both when the bar was made
        if buy:
            cell.buy += size
            delta = bar.delta = bar.delta + size
            if delta > bar.max_delta:
                bar.max_delta = delta
        else:
            cell.sell += size
            delta = bar.delta = bar.delta - size
            if delta < bar.min_delta:
                bar.min_delta = delta

    def _time_bar(self, key: int, price: int, signed: int) -> _Bar:
        bar = self._bars.get(key)
        if bar is None:
            start = key * self._length
            bar = self._bars[key] = _Bar(start, start + self._length, price, signed)
        self._open, self._open_key = bar, key
        return bar

    def _next_bar(self, ts: int, price: int, signed: int) -> _Bar:
        key = self._open_key + 1
        bar = self._bars[key] = _Bar(ts, ts, price, signed)
        self._open, self._open_key = bar, key
        return bar

    def merge(self, other: Footprint) -> None:
        """Add another time footprint's trades to this one, as if they came after ours."""
        if not (self._time and other.spec == self.spec and other.row == self.row):
            raise ConfigError("only time footprints with the same bars and rows merge")
        for key, theirs in other._bars.items():
            ours = self._bars.get(key)
            if ours is None:
                self._bars[key] = theirs.copy()
            else:
                ours.absorb(theirs)

    def result(self) -> FootprintResult:
        bars = [self._bars[k].freeze() for k in sorted(self._bars)]
        return FootprintResult(self.row, self.spec.kind, self.spec.size, bars)


# -- vectorized ---------------------------------------------------------------------------


def _volume_bar_ids(sizes: I64, size: int) -> I64:
    """Bar number per trade for volume bars: a bar ends at the first trade reaching ``size``."""
    cum = np.cumsum(sizes)
    ids = np.empty(len(sizes), dtype=np.int64)
    start, before, bar = 0, 0, 0
    while start < len(sizes):
        end = int(np.searchsorted(cum, before + size, side="left")) + 1
        ids[start:end] = bar
        before = int(cum[min(end, len(sizes)) - 1])
        start, bar = end, bar + 1
    return ids


def footprint(trades: pl.DataFrame | TradeColumns, row: int, bars: BarSpec) -> FootprintResult:
    """The vectorized ``Footprint``: the same bars from a trades frame (arrival order)."""
    check_positive("row", row)
    t = TradeColumns.of(trades)
    if t.height == 0:
        return FootprintResult(row, bars.kind, bars.size, [])
    if bars.kind is BarKind.TIME:
        b = t.time_bars(bars.size)
        first_ts, last_ts = b.keys * bars.size, (b.keys + 1) * bars.size
    else:
        size = bars.size
        if bars.kind is BarKind.TRADES:
            b = t.keyed_bars("trades", size, lambda: np.arange(t.height, dtype=np.int64) // size)
        else:
            b = t.keyed_bars("volume", size, lambda: _volume_bar_ids(t.size, size))
        first_ts, last_ts = b.trades.ts[b.starts], b.trades.ts[b.lasts]
    per_bar = zip(
        first_ts.tolist(),
        last_ts.tolist(),
        b.open.tolist(),
        b.high.tolist(),
        b.low.tolist(),
        b.close.tolist(),
        b.volume.tolist(),
        b.delta.tolist(),
        b.max_delta.tolist(),
        b.min_delta.tolist(),
        b.count.tolist(),
        strict=True,
    )
    cells = b.cells(row)
    bounds = np.searchsorted(cells.bar, np.arange(len(b.starts) + 1)).tolist()
    cell_keys = cells.price.tolist()
    cell_buys, cell_sells, cell_counts = (
        cells.buy.tolist(),
        cells.sell.tolist(),
        cells.trades.tolist(),
    )
    out: list[FootprintBar] = []
    for i, (start, end, o, h, low, c, v, d, top, bottom, n) in enumerate(per_bar):
        lo, hi = bounds[i], bounds[i + 1]
        keys_i = cell_keys[lo:hi]
        rows = [
            FootprintRow(cell_keys[k], cell_buys[k], cell_sells[k], cell_counts[k])
            for k in range(lo, hi)
        ]
        volumes = [cell_buys[k] + cell_sells[k] for k in range(lo, hi)]
        poc = keys_i[poc_index(volumes, keys_i)]
        out.append(FootprintBar(start, end, o, h, low, c, v, d, top, bottom, n, poc, rows))
    return FootprintResult(row, bars.kind, bars.size, out)


# -- imbalances ---------------------------------------------------------------------------


class ZeroSide(enum.StrEnum):
    """What a zero compared side means (see the module doc)."""

    IMBALANCE = "imbalance"  # infinite ratio: an imbalance if the dominant side >= min_volume
    IGNORE = "ignore"  # never an imbalance


@dataclass(frozen=True, slots=True)
class ImbalanceParams:
    ratio: float | str | Fraction = 3.0  # 3.0 = 300%
    min_volume: int = 0  # size units; the dominant side must also be > 0
    zero_side: ZeroSide = ZeroSide.IMBALANCE
    stack: int = 3  # consecutive rows that make a stacked imbalance


class Imbalance(msgspec.Struct, frozen=True):
    price: int  # the dominant row's lower edge
    side: Side  # BUY: buy[P] over sell[P-1]; SELL: sell[P] over buy[P+1]
    volume: int  # the dominant side
    against: int  # the compared side, one row away


class StackedImbalance(msgspec.Struct, frozen=True):
    side: Side
    low: int  # lowest row of the run
    high: int  # highest row of the run
    rows: int


def imbalances(
    bar: FootprintBar, row: int, params: ImbalanceParams = ImbalanceParams()
) -> list[Imbalance]:
    """Diagonal imbalances of one bar, lowest row first (buy before sell on a row)."""
    exact = ratio(params.ratio)
    num, den = exact.numerator, exact.denominator
    cells = {r.price: r for r in bar.rows}
    low, high = bar.rows[0].price, bar.rows[-1].price
    zero_counts = params.zero_side is ZeroSide.IMBALANCE
    out: list[Imbalance] = []

    def dominates(volume: int, against: int) -> bool:
        if volume <= 0 or volume < params.min_volume:
            return False
        if against == 0:
            return zero_counts
        return volume * den >= num * against

    for cell in bar.rows:  # a row without trades dominates nothing
        price = cell.price
        if price > low:
            below = cells.get(price - row)
            against = below.sell if below is not None else 0
            if dominates(cell.buy, against):
                out.append(Imbalance(price, BUY, cell.buy, against))
        if price < high:
            above = cells.get(price + row)
            against = above.buy if above is not None else 0
            if dominates(cell.sell, against):
                out.append(Imbalance(price, SELL, cell.sell, against))
    return out


def stacked_imbalances(found: list[Imbalance], row: int, stack: int = 3) -> list[StackedImbalance]:
    """Runs of ``stack`` or more adjacent rows with imbalances of one side."""
    check_positive("stack", stack)
    out: list[StackedImbalance] = []
    for side in (BUY, SELL):
        prices = [i.price for i in found if i.side is side]
        run_start = 0
        for k in range(1, len(prices) + 1):
            if k == len(prices) or prices[k] != prices[k - 1] + row:
                if k - run_start >= stack:
                    out.append(
                        StackedImbalance(side, prices[run_start], prices[k - 1], k - run_start)
                    )
                run_start = k
    return out
