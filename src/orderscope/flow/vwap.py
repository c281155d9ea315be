"""VWAP per session or from an anchor, with standard-deviation bands.

Over a period, with ``v`` the trade sizes and ``p`` the prices:

    VWAP  = sum(p * v) / sum(v)
    sigma = sqrt(sum(p**2 * v) / sum(v) - VWAP**2)   (the volume-weighted deviation of price)
    bands = VWAP +- k * sigma for k = 1, 2, 3

The three sums are kept exactly (Python ints, Polars Int128), so the two paths agree to the
last bit; floats appear only in ``finish``. A period is a session (``[k * session_ns +
offset_ns, ...)``, UTC days by default) or, with ``session_ns=None``, everything from
``anchor_ns`` on (from the first trade when no anchor is given). Each period also has a point
per time bar of ``timeframe_ns`` (epoch aligned): the VWAP and sigma of the period up to the
end of that bar, for drawing the line.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

import msgspec
import polars as pl
from mypy_extensions import mypyc_attr

from orderscope.errors import ConfigError
from orderscope.fixed import POW10, div
from orderscope.flow.base import (
    DAY,
    MINUTE,
    check_positive,
    check_sessions,
    session_of,
)
from orderscope.flow.columns import TradeColumns
from orderscope.model import Side, Trade

BAND_WIDTHS: Final = (1, 2, 3)


@dataclass(frozen=True, slots=True)
class VwapParams:
    price_decimals: int
    session_ns: int | None = DAY  # None: one period from anchor_ns (or the first trade) on
    offset_ns: int = 0
    anchor_ns: int | None = None  # only without sessions
    timeframe_ns: int = MINUTE

    def __post_init__(self) -> None:
        if self.session_ns is None:
            check_positive("timeframe_ns", self.timeframe_ns)
        else:
            if self.anchor_ns is not None:
                raise ConfigError("an anchored VWAP has no sessions (session_ns=None)")
            check_sessions(self.session_ns, self.offset_ns, self.timeframe_ns)


class VwapPoint(msgspec.Struct, frozen=True):
    start_ns: int  # the bar's start; the figures hold at its end
    volume: int
    vwap: float
    sigma: float


class VwapPeriod(msgspec.Struct, frozen=True):
    start_ns: int  # session start, the anchor, or the first bar's start
    volume: int
    vwap: float
    sigma: float
    bands: list[tuple[float, float]]  # (lower, upper) at 1, 2, 3 sigma
    points: list[VwapPoint]


class VwapResult(msgspec.Struct, frozen=True):
    periods: list[VwapPeriod]


def finish(volume: int, pv: int, p2v: int, price_decimals: int) -> tuple[float, float]:
    """(VWAP, sigma) in price units from the exact sums (volume > 0)."""
    scale = volume * POW10[price_decimals]
    variance = p2v * volume - pv * pv  # exact, >= 0 (Cauchy-Schwarz)
    return div(pv, scale), math.sqrt(variance) / scale


#: per bar: volume, sum(price * size), sum(price**2 * size)
BarSums = dict[int, list[int]]


def build_vwap(sums: BarSums, params: VwapParams) -> VwapResult:
    """Per-bar exact sums -> the periods (both paths end here)."""
    tf, pd = params.timeframe_ns, params.price_decimals
    periods: list[VwapPeriod] = []
    points: list[VwapPoint] = []
    period: int | None = None
    volume = pv = p2v = 0

    def close() -> None:
        if period is not None and volume:
            vwap, sigma = finish(volume, pv, p2v, pd)
            bands = [(vwap - k * sigma, vwap + k * sigma) for k in BAND_WIDTHS]
            periods.append(VwapPeriod(period, volume, vwap, sigma, bands, list(points)))

    keys = sorted(sums)
    anchor = params.anchor_ns if params.anchor_ns is not None else keys[0] * tf if keys else 0
    for key in keys:
        start = key * tf
        if params.session_ns is None:
            this = anchor
        else:
            this = session_of(start, params.session_ns, params.offset_ns)
        if this != period:
            close()
            period, volume, pv, p2v = this, 0, 0, 0
            points.clear()
        v, s1, s2 = sums[key]
        volume, pv, p2v = volume + v, pv + s1, p2v + s2
        if volume:
            points.append(VwapPoint(start, volume, *finish(volume, pv, p2v, pd)))
    close()
    return VwapResult(periods)


@mypyc_attr(acyclic=True)  # ints only: never part of a cycle, so not tracked by the GC
class _Cell:
    """One bar's streaming sums, kept from the bar's first price (``anchor``, ``a``): with
    ``d = price - a``, ``volume = sum(v)``, ``s1 = sum(d * v)``, ``s2 = sum(d**2 * v)``. The
    exact sums are then ``sum(p * v) = a * volume + s1`` and ``sum(p**2 * v) = a**2 * volume
    + 2 * a * s1 + s2``. Why: ``p**2 * v`` alone exceeds 63 bits for a BTC trade (60,000.00
    at 2 decimals, 10**-6 BTC sizes: ~3.6e19 for 1 BTC), which makes every running sum a
    Python big int; deviations within a bar are small, so compiled the three stay machine
    ints (mypyc falls back to big ints by itself should one ever outgrow them: exact either
    way)."""

    __slots__ = ("anchor", "s1", "s2", "volume")

    def __init__(self, anchor: int) -> None:
        self.anchor = anchor
        self.volume = self.s1 = self.s2 = 0

    def sums(self) -> list[int]:
        """[volume, sum(p * v), sum(p**2 * v)], exact."""
        a, volume, s1 = self.anchor, self.volume, self.s1
        return [volume, a * volume + s1, a * a * volume + 2 * a * s1 + self.s2]


class Vwap:
    """Streaming session or anchored VWAP of one instrument."""

    def __init__(self, params: VwapParams) -> None:
        self.params = params
        self._tf = params.timeframe_ns
        # A flag, not a sentinel of -2**63: compiled, comparing with a value beyond 63 bits
        # takes the big-int path on every trade.
        self._anchored = params.anchor_ns is not None
        self._anchor = params.anchor_ns if params.anchor_ns is not None else 0
        #: per bar key (``ts // timeframe_ns``)
        self.cells: dict[int, _Cell] = {}
        # The bar the last trade went to and its time range (see CumulativeDelta); the range
        # starts empty, so the first trade looks its bar up.
        self._cell = _Cell(0)
        self._start = self._end = 0

    @property
    def sums(self) -> BarSums:
        """Per bar key: [volume, sum(price * size), sum(price**2 * size)], exact."""
        return {key: cell.sums() for key, cell in self.cells.items()}

    def update(self, trade: Trade) -> None:
        """One trade (``trade`` below takes its fields, as ``TradeStream`` passes them)."""
        self.trade(trade.exch_ns or trade.recv_ns, trade.price, trade.size, trade.side)

    def trade(self, ts: int, price: int, size: int, side: Side) -> None:
        """One trade's event time, price, size and aggressor side (the side is not read)."""
        if self._anchored and ts < self._anchor:
            return
        cell = self._cell
        if ts < self._start or ts >= self._end:
            key = ts // self._tf
            found = self.cells.get(key)
            if found is None:
                found = self.cells[key] = _Cell(price)
            cell = self._cell = found
            self._start = start = key * self._tf
            self._end = start + self._tf
        d = price - cell.anchor
        dv = d * size
        cell.volume += size
        cell.s1 += dv
        cell.s2 += dv * d

    def forget_open_bar(self) -> None:
        """Make the next trade look its bar up again (after cells were dropped)."""
        self._cell = _Cell(0)
        self._start = self._end = 0

    def result(self) -> VwapResult:
        return build_vwap(self.sums, self.params)


def vwap(trades: pl.DataFrame | TradeColumns, params: VwapParams) -> VwapResult:
    """The vectorized ``Vwap`` of a trades frame."""
    t = TradeColumns.of(trades).between(params.anchor_ns, None)
    if t.height == 0:
        return build_vwap({}, params)
    b = t.time_bars(params.timeframe_ns)
    pv, p2v = b.price_sums
    sums = {
        key: [v, s1, s2]
        for key, v, s1, s2 in zip(b.keys.tolist(), b.volume.tolist(), pv, p2v, strict=True)
    }
    return build_vwap(sums, params)
