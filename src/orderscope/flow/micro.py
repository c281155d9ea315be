"""Microstructure measures, each as an incremental state (live) and a batch function (research).

Both paths compute with the same integer arithmetic and the same float operations in the same
order, so they agree exactly (tests/flow/test_parity.py checks it on the real captures).

Order-flow imbalance (Cont, Kukanov & Stoikov 2014, "The price impact of order book events")
    Per book update n, from the best bid P^B, its size q^B, the best ask P^A and its size q^A
    before (n-1) and after (n) the update::

        e_n =  1{P^B_n >= P^B_n-1} q^B_n  - 1{P^B_n <= P^B_n-1} q^B_n-1
             - 1{P^A_n <= P^A_n-1} q^A_n  + 1{P^A_n >= P^A_n-1} q^A_n-1

    in size units (exact ints). A side that is empty before or after contributes 0; a resync
    snapshot (the first, or one after a gap) restarts the series with e = 0, since its
    difference is a resynchronisation, not order flow; a snapshot on a synced book (venues that
    publish full books as updates) is an update like any other.

Size-weighted mid (``weighted_mid``)
    With the imbalance I = q^B / (q^B + q^A): ``P^B + (P^A - P^B) * I``, i.e.
    (P^B q^A + P^A q^B) / (q^B + q^A). It is what the micro-price of ``orderscope.flow.
    microprice`` improves on; kept under its own name so the two are never confused.

VPIN (Easley, Lopez de Prado & O'Hara 2012)
    Trades fill equal-volume buckets of ``bucket_volume`` size units in stream order; a trade
    that crosses a bucket edge is split at the edge, each part keeping the trade's aggressor
    side as the venue reported it (no bulk classification). Bucket k's VPIN is
    sum |B_j - S_j| over the last ``window`` buckets / (window * bucket_volume).

Kyle's lambda
    Trades are grouped into event-time intervals of ``interval_ns`` (aligned to multiples of it).
    For each interval with trades: x = signed notional (sum of side * price * size, exact) and
    y = the last trade price minus the previous such interval's last price. Lambda is the OLS
    slope (with intercept) of y on x over the last ``window`` intervals, once there are
    ``min_points`` of them and x varies; reported in price per unit of quote notional.

Liquidity consumed by aggressive trades
    For each trade, the resting size of the best ``depth_levels`` levels on the side it hits
    (asks for a buy) just before it, and the share of that depth the trade took
    (size / depth; NaN when that side is empty).

The event clock of interval-based measures is the running maximum of event time, so an event
stamped slightly earlier than one already seen (two venue streams) counts in the current
interval instead of reopening a closed one.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from operator import mul

import msgspec
import numpy as np
import numpy.typing as npt
import polars as pl

from orderscope.flow.base import BUY
from orderscope.flow.book_tracker import BookChange, BookTracker, event_time
from orderscope.model import Instrument, Side, Trade

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

# -- order-flow imbalance ---------------------------------------------------------------------


def ofi_term(
    prev_bid: int,
    prev_bid_size: int,
    prev_ask: int,
    prev_ask_size: int,
    bid: int,
    bid_size: int,
    ask: int,
    ask_size: int,
) -> int:
    """e_n of Cont, Kukanov & Stoikov for one update (0 stands for an empty side)."""
    e = 0
    if bid and prev_bid:
        if bid >= prev_bid:
            e += bid_size
        if bid <= prev_bid:
            e -= prev_bid_size
    if ask and prev_ask:
        if ask <= prev_ask:
            e -= ask_size
        if ask >= prev_ask:
            e += prev_ask_size
    return e


class OrderFlowImbalance:
    """OFI per book update, and its running total since the last resync."""

    __slots__ = ("total",)

    def __init__(self) -> None:
        self.total = 0

    def update(self, change: BookChange) -> int:
        if change.resync:
            self.total = 0
            return 0
        e = ofi_term(
            change.prev_bid,
            change.prev_bid_size,
            change.prev_ask,
            change.prev_ask_size,
            change.bid,
            change.bid_size,
            change.ask,
            change.ask_size,
        )
        self.total += e
        return e


def ofi_series(top: pl.DataFrame) -> IntArray:
    """e_n for every row of a ``top`` frame (0 on resyncs and on the first row)."""
    bid = top["bid"].to_numpy()
    bid_size = top["bid_size"].to_numpy()
    ask = top["ask"].to_numpy()
    ask_size = top["ask_size"].to_numpy()
    out = np.zeros(len(bid), dtype=np.int64)
    if len(bid) < 2:
        return out
    pb, qb, pa, qa = bid[:-1], bid_size[:-1], ask[:-1], ask_size[:-1]
    nb, nqb, na, nqa = bid[1:], bid_size[1:], ask[1:], ask_size[1:]
    has_bid = (pb != 0) & (nb != 0)
    has_ask = (pa != 0) & (na != 0)
    e = np.where(has_bid & (nb >= pb), nqb, 0) - np.where(has_bid & (nb <= pb), qb, 0)
    e += np.where(has_ask & (na >= pa), qa, 0) - np.where(has_ask & (na <= pa), nqa, 0)
    out[1:] = e
    out[top["resync"].to_numpy()] = 0
    return out


# -- size-weighted mid ------------------------------------------------------------------------


def weighted_mid(bid: int, bid_size: int, ask: int, ask_size: int, price_decimals: int) -> float:
    """(P^B q^A + P^A q^B) / (q^B + q^A) as a price; NaN when a side is empty."""
    if not (bid and ask and bid_size + ask_size):
        return math.nan
    imbalance = float(bid_size) / float(bid_size + ask_size)
    return (float(bid) + float(ask - bid) * imbalance) / float(10**price_decimals)


def weighted_mid_series(top: pl.DataFrame, price_decimals: int) -> FloatArray:
    bid = top["bid"].to_numpy()
    bid_size = top["bid_size"].to_numpy()
    ask = top["ask"].to_numpy()
    ask_size = top["ask_size"].to_numpy()
    total = bid_size + ask_size
    valid = (bid != 0) & (ask != 0) & (total != 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        imbalance = bid_size.astype(np.float64) / total.astype(np.float64)
        wm = (bid.astype(np.float64) + (ask - bid).astype(np.float64) * imbalance) / float(
            10**price_decimals
        )
    return np.where(valid, wm, np.nan)


# -- VPIN -------------------------------------------------------------------------------------


class VpinBucket(msgspec.Struct, frozen=True, gc=False):
    index: int  # 0-based bucket number
    end_ts: int  # event time of the trade that completed the bucket
    buy: int  # buy-aggressor volume in the bucket (size units)
    sell: int
    vpin: float | None  # None until ``window`` buckets are complete


class Vpin:
    """Volume-synchronized probability of informed trading, bucket by bucket."""

    __slots__ = ("_abs", "_buy", "_filled", "_index", "_sum", "bucket_volume", "window")

    def __init__(self, bucket_volume: int, window: int = 50) -> None:
        if bucket_volume <= 0 or window <= 0:
            raise ValueError("bucket_volume and window must be > 0")
        self.bucket_volume = bucket_volume
        self.window = window
        self._filled = 0  # volume in the open bucket
        self._buy = 0
        self._index = 0
        self._abs: deque[int] = deque()  # |B - S| of the last ``window`` buckets
        self._sum = 0

    def update(self, trade: Trade, out: list[VpinBucket]) -> None:
        """Add a trade; append the buckets it completed to ``out``."""
        remaining = trade.size
        is_buy = trade.side is BUY
        volume = self.bucket_volume
        while remaining:
            take = min(remaining, volume - self._filled)
            remaining -= take
            self._filled += take
            if is_buy:
                self._buy += take
            if self._filled == volume:
                self._close(event_time(trade), out)

    def _close(self, ts: int, out: list[VpinBucket]) -> None:
        buy = self._buy
        sell = self.bucket_volume - buy
        imbalance = abs(buy - sell)
        self._abs.append(imbalance)
        self._sum += imbalance
        if len(self._abs) > self.window:
            self._sum -= self._abs.popleft()
        vpin = None
        if len(self._abs) == self.window:
            vpin = float(self._sum) / float(self.window * self.bucket_volume)
        out.append(VpinBucket(self._index, ts, buy, sell, vpin))
        self._index += 1
        self._filled = self._buy = 0


def vpin_buckets(trades: pl.DataFrame, bucket_volume: int, window: int = 50) -> pl.DataFrame:
    """Completed buckets of a ``trades`` frame: index, end_ts, buy, sell, vpin (null early)."""
    size = trades["size"].to_numpy()
    is_buy = trades["side"].to_numpy() > 0
    cum = np.cumsum(size)
    count = int(cum[-1]) // bucket_volume if len(cum) else 0
    edges = np.arange(1, count + 1, dtype=np.int64) * bucket_volume
    # The trade holding each edge: the first whose cumulative volume reaches it.
    at = np.searchsorted(cum, edges, side="left")
    cum_before = cum - size
    buy_before = np.cumsum(np.where(is_buy, size, 0)) - np.where(is_buy, size, 0)
    buy_at_edge = buy_before[at] + np.where(is_buy[at], edges - cum_before[at], 0)
    buy = np.diff(buy_at_edge, prepend=0)
    sell = bucket_volume - buy
    rolling = np.cumsum(np.abs(buy - sell))
    rolling[window:] -= rolling[:-window].copy()
    denominator = float(window * bucket_volume)
    vpin = [float(v) / denominator if i >= window - 1 else None for i, v in enumerate(rolling)]
    return pl.DataFrame(
        {
            "index": np.arange(count, dtype=np.int64),
            "end_ts": trades["ts"].to_numpy()[at],
            "buy": buy,
            "sell": sell,
            "vpin": pl.Series(vpin, dtype=pl.Float64),
        }
    )


# -- Kyle's lambda ----------------------------------------------------------------------------


class ImpactInterval(msgspec.Struct, frozen=True, gc=False):
    start_ns: int  # the interval's start (a multiple of interval_ns)
    close: int  # last trade price in the interval
    price_change: int  # close - previous interval's close (price units); 0 for the first
    signed_notional: int  # sum side*price*size, units of 10**-(price_decimals+size_decimals)
    kyle_lambda: float | None  # price per unit of quote notional, over the window ending here


@dataclass(frozen=True, slots=True)
class KyleConfig:
    interval_ns: int = 1_000_000_000  # 1 s intervals
    window: int = 30  # regress over the last 30 intervals that had trades
    min_points: int = 10  # no estimate from fewer points


class _Regression:
    """Exact rolling OLS sums over integer points (slope only)."""

    __slots__ = ("_points", "n", "sx", "sxx", "sxy", "sy", "window")

    def __init__(self, window: int) -> None:
        self.window = window
        self._points: deque[tuple[int, int]] = deque()
        self.n = self.sx = self.sy = self.sxx = self.sxy = 0

    def add(self, x: int, y: int) -> None:
        self._points.append((x, y))
        self._move(x, y, 1)
        if len(self._points) > self.window:
            self._move(*self._points.popleft(), -1)

    def _move(self, x: int, y: int, sign: int) -> None:
        self.n += sign
        self.sx += sign * x
        self.sy += sign * y
        self.sxx += sign * x * x
        self.sxy += sign * x * y

    def slope(self, scale: int) -> float | None:
        """(n Sxy - Sx Sy) / (n Sxx - Sx^2) * scale, exactly rounded once; None if x is flat."""
        denominator = self.n * self.sxx - self.sx * self.sx
        if not denominator:
            return None
        return (self.n * self.sxy - self.sx * self.sy) * scale / denominator


class KyleLambda:
    """Price impact per unit of signed notional, regressed over event-time intervals."""

    __slots__ = ("_close", "_notional", "_prev_close", "_regression", "_start", "config", "scale")

    def __init__(self, instrument: Instrument, config: KyleConfig | None = None) -> None:
        self.config = config or KyleConfig()
        # y is in 10**-pd price units, x in 10**-(pd+sd) quote units: price per quote = 10**sd.
        self.scale = 10**instrument.size_decimals
        self._regression = _Regression(self.config.window)
        self._start: int | None = None
        self._close = 0
        self._notional = 0
        self._prev_close: int | None = None

    def update(self, trade: Trade, out: list[ImpactInterval]) -> None:
        """Add a trade; append the interval it closed (if any) to ``out``."""
        ts = event_time(trade)
        interval = self.config.interval_ns
        start = ts - ts % interval
        if self._start is None:
            self._start = start
        elif start > self._start:
            out.append(self._finish())
            self._start = start
        self._close = trade.price
        self._notional += trade.side * trade.price * trade.size

    def flush(self, out: list[ImpactInterval]) -> None:
        """Close the open interval (end of the data)."""
        if self._start is not None:
            out.append(self._finish())
            self._start = None

    def _finish(self) -> ImpactInterval:
        assert self._start is not None
        close, x = self._close, self._notional
        estimate = None
        if self._prev_close is None:
            dy = 0
        else:
            dy = close - self._prev_close
            self._regression.add(x, dy)
            if self._regression.n >= self.config.min_points:
                estimate = self._regression.slope(self.scale)
        self._prev_close = close
        self._notional = 0
        return ImpactInterval(self._start, close, dy, x, estimate)


def kyle_lambda_intervals(
    trades: pl.DataFrame, instrument: Instrument, config: KyleConfig | None = None
) -> list[ImpactInterval]:
    """The intervals of a ``trades`` frame; the same numbers as ``KyleLambda``.

    Grouping is vectorized; notional sums and the regression use Python ints, because
    price * size of an 8-decimal spot pair overflows int64.
    """
    config = config or KyleConfig()
    if trades.is_empty():
        return []
    ts = np.maximum.accumulate(trades["ts"].to_numpy())
    starts = ts - ts % config.interval_ns
    bounds = np.flatnonzero(np.diff(starts)) + 1
    first = np.concatenate(([0], bounds)).tolist()
    last = np.concatenate((bounds, [len(starts)])).tolist()
    price = trades["price"].to_list()
    signed = (trades["size"] * trades["side"].cast(pl.Int64)).to_list()
    scale = 10**instrument.size_decimals
    regression = _Regression(config.window)
    out = []
    prev_close: int | None = None
    for a, b in zip(first, last, strict=True):
        close = price[b - 1]
        x = sum(map(mul, price[a:b], signed[a:b]))
        estimate = None
        if prev_close is None:
            dy = 0
        else:
            dy = close - prev_close
            regression.add(x, dy)
            if regression.n >= config.min_points:
                estimate = regression.slope(scale)
        prev_close = close
        out.append(ImpactInterval(int(starts[a]), close, dy, x, estimate))
    return out


# -- liquidity consumed -----------------------------------------------------------------------


class Consumption(msgspec.Struct, frozen=True, gc=False):
    ts: int
    side: Side  # aggressor
    size: int
    depth: int  # resting size of the best depth_levels levels on the side hit, before the trade
    share: float  # size / depth (NaN if that side was empty)


class LiquidityConsumption:
    """What each aggressive trade took out of the displayed liquidity, and running totals."""

    __slots__ = ("bought", "depth_levels", "sold", "tracker")

    def __init__(self, tracker: BookTracker, depth_levels: int = 10) -> None:
        self.tracker = tracker  # shared with the other book analytics of the instrument
        self.depth_levels = depth_levels
        self.bought = 0  # aggressive buy volume seen
        self.sold = 0

    def update(self, trade: Trade) -> Consumption:
        bids, asks = self.tracker.top_sizes(self.depth_levels)
        if trade.side is BUY:
            depth = asks
            self.bought += trade.size
        else:
            depth = bids
            self.sold += trade.size
        share = float(trade.size) / float(depth) if depth else math.nan
        return Consumption(event_time(trade), trade.side, trade.size, depth, share)


def consumption_frame(trades: pl.DataFrame, top: pl.DataFrame) -> pl.DataFrame:
    """Per trade: ts, side, size, depth (as of the last book update before it), share."""
    joined = trades.sort("seq").join_asof(
        top.select("seq", "bid_depth", "ask_depth").sort("seq"), on="seq", strategy="backward"
    )
    depth = (
        pl.when(pl.col("side") > 0).then(pl.col("ask_depth")).otherwise(pl.col("bid_depth"))
    ).fill_null(0)
    return joined.select(
        "ts",
        "side",
        "size",
        depth.alias("depth"),
        pl.when(depth > 0)
        .then(pl.col("size").cast(pl.Float64) / depth.cast(pl.Float64))
        .otherwise(float("nan"))
        .alias("share"),
    )
