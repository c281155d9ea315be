"""Liquidity metrics of a consolidated book, and their rolling statistics in event time.

Exact ints stay exact (best prices, spreads in price units, real sizes); what is statistical by
nature (mid, bps, imbalance, weighted liquidity) is a float. Venue weights apply here and only
here: weighted liquidity is ``sum(weight * size)``, and the imbalance, the venue shares and the
dominant venue of a level use it. Walking the book (impact, routing, arbitrage) uses the real
sizes.

Rolling statistics are taken on the COB's event-time grid (``CobConfig.tick_ns``): at each tick
boundary the state is sampled once, and a window is the samples whose time is within
``window_ns`` of now (a time window: nothing is counted in samples). When events are sparse and
the clock jumps over several boundaries, the state held over all of them, so it is sampled at
each (up to the longest window). The resolution is the tick: a spike that starts and ends
between two ticks is not seen, which keeps the per-delta path free of statistics work.
"""

from __future__ import annotations

import itertools
from bisect import bisect_left, bisect_right
from collections import deque
from collections.abc import Sequence
from operator import itemgetter
from typing import TYPE_CHECKING

from orderscope.cob.config import FEE_ONE
from orderscope.cob.records import CobMetrics, DepthBand, Stat, VenueStatus, WindowStats
from orderscope.cob.side import TOTAL
from orderscope.fixed import POW10

if TYPE_CHECKING:
    from orderscope.cob.consolidated import ConsolidatedBook
    from orderscope.cob.member import Member

BPS = 10_000

_total_of = itemgetter(TOTAL)

#: One sample: (time, mid, spread bps, bid liquidity, ask liquidity, imbalance or nan).
Sample = tuple[int, float, float, float, float, float]


def _imbalance(bid: float, ask: float) -> float | None:
    total = bid + ask
    return (bid - ask) / total if total else None


def band_keys(mid2: int, bps: float) -> tuple[int, int]:
    """The lowest bid and highest ask price (COB units) within ``bps`` of the mid, inclusive.

    Exact: ``bps`` is taken at 1e-6 bp resolution and the bounds are integer divisions.
    """
    den = BPS * 1_000_000
    num = round(bps * 1_000_000)
    low = -(-mid2 * (den - num) // (2 * den))  # ceil(mid * (1 - bps/1e4))
    high = mid2 * (den + num) // (2 * den)  # floor(mid * (1 + bps/1e4))
    return low, high


def band_liquidity(cob: ConsolidatedBook, bands: Sequence[float]) -> list[tuple[float, float]]:
    """Weighted (bid, ask) base liquidity within each of ``bands`` (bps) of the mid."""
    mid2 = cob.mid2()
    if mid2 is None:
        return [(0.0, 0.0)] * len(bands)
    order = sorted(range(len(bands)), key=lambda i: bands[i])
    edges = [band_keys(mid2, bands[i]) for i in order]
    bid_total, ask_total = _weighted_totals(cob)
    bids = _cumulative(cob, True, [low for low, _ in edges], bid_total)
    asks = _cumulative(cob, False, [high for _, high in edges], ask_total)
    scale = POW10[cob.size_decimals]
    out = [(0.0, 0.0)] * len(bands)
    for n, i in enumerate(order):
        out[i] = (bids[n] / scale, asks[n] / scale)
    return out


def _cumulative(
    cob: ConsolidatedBook, is_bid: bool, limits: list[int], total: float
) -> list[float]:
    """Weighted size from the best price out to each limit price (nearest limit first).

    The side is cut into rings (best to the first limit, first to second, ..., the rest);
    every ring is summed except the largest, which is the side's ``total`` minus the others.
    A band usually holds most of a venue's depth, so this sums the few levels outside it
    rather than the many inside.
    """
    side = cob.bids if is_bid else cob.asks
    levels, prices = side.levels, side.prices
    # ring boundaries as positions in ``prices``, walking from the best price outward
    cuts = [
        bisect_left(prices, limit) if is_bid else bisect_right(prices, limit) for limit in limits
    ]
    edge = len(prices) if is_bid else 0
    bounds = [edge, *cuts, 0 if is_bid else len(prices)]
    rings = [
        (min(a, b), max(a, b)) if (b <= a if is_bid else b >= a) else (a, a)
        for a, b in itertools.pairwise(bounds)
    ]
    largest = max(range(len(rings)), key=lambda k: rings[k][1] - rings[k][0])
    weights = [(m.slot, m.weight) for m in cob.members] if cob.weighted else None
    sums: list[float] = []
    for k, (start, stop) in enumerate(rings):
        segment = prices[start:stop] if k != largest else []
        if weights is None:  # map/itemgetter: the sum runs in C, 3x a generator's speed
            sums.append(sum(map(_total_of, map(levels.__getitem__, segment))))
        else:
            sums.append(sum(w * levels[p][s] for p in segment for s, w in weights))
    sums[largest] = total - (sum(sums) - sums[largest])
    return list(itertools.accumulate(sums[: len(limits)]))


def _weighted_totals(cob: ConsolidatedBook) -> tuple[float, float]:
    if not cob.weighted:  # exact ints (a float would round sums beyond 2**53 units)
        return cob.bids.total, cob.asks.total
    bid = ask = 0.0
    for m in cob.active_members:
        bid += m.weight * m.bid_total
        ask += m.weight * m.ask_total
    return bid, ask


def vw_mid(cob: ConsolidatedBook, n: int) -> float | None:
    """Mean of the size-weighted average prices of the top ``n`` bids and top ``n`` asks."""
    bids = cob.bid_levels(n)
    asks = cob.ask_levels(n)
    if not bids or not asks:
        return None
    bid_vwap = sum(p * s for p, s in bids) / sum(s for _, s in bids)
    ask_vwap = sum(p * s for p, s in asks) / sum(s for _, s in asks)
    return (bid_vwap + ask_vwap) / 2 / POW10[cob.price_decimals]


def micro_price(cob: ConsolidatedBook) -> float | None:
    """Best bid and ask weighted by the opposite side's size: leans toward the thinner side."""
    bid = cob.best_bid()
    ask = cob.best_ask()
    if bid is None or ask is None:
        return None
    (bp, bs), (ap, az) = bid, ask
    return (bp * az + ap * bs) / (bs + az) / POW10[cob.price_decimals]


def spread_bps(bid: int | None, ask: int | None) -> float | None:
    if bid is None or ask is None or bid + ask <= 0:
        return None
    return (ask - bid) * 2 * BPS / (bid + ask)


def venue_status(
    cob: ConsolidatedBook, m: Member, bid_total: float, ask_total: float
) -> VenueStatus:
    bid = cob.venue_best(m, True)
    ask = cob.venue_best(m, False)
    bid_levels, ask_levels = cob.venue_depth(m)
    bid_liquidity, ask_liquidity = cob.venue_totals(m)
    own_bid = cob.venue_levels(m, True, 1)
    own_ask = cob.venue_levels(m, False, 1)
    return VenueStatus(
        venue=m.label,
        exchange=m.venue,
        symbol=m.instrument.symbol,
        state=m.state,
        reason=m.reason,
        since_ns=m.since_ns,
        last_update_ns=m.last_ns,
        weight=m.weight,
        taker_fee=m.fee / FEE_ONE,
        bid_levels=bid_levels,
        ask_levels=ask_levels,
        best_bid=bid,
        best_ask=ask,
        spread_bps=spread_bps(bid, ask),
        bid_liquidity=bid_liquidity,
        ask_liquidity=ask_liquidity,
        bid_share=m.weight * bid_liquidity / bid_total if m.active and bid_total else None,
        ask_share=m.weight * ask_liquidity / ask_total if m.active and ask_total else None,
        crossed=bool(own_bid and own_ask and own_bid[0][0] >= own_ask[0][0]),
        counters=m.counters.as_dict(),
    )


def all_bands(cob: ConsolidatedBook) -> list[tuple[float, float]]:
    """Liquidity in every configured depth band, then in the imbalance band (last)."""
    return band_liquidity(cob, [*cob.config.depth_bps, cob.config.imbalance_bps])


def compute(
    cob: ConsolidatedBook, now: int, bands: list[tuple[float, float]] | None = None
) -> CobMetrics:
    """Every metric at ``now``; ``bands`` (from ``all_bands``) when already computed."""
    config = cob.config
    best_bid = cob.best_bid()
    best_ask = cob.best_ask()
    bid = best_bid[0] if best_bid else None
    ask = best_ask[0] if best_ask else None
    mid2 = cob.mid2()
    px = POW10[cob.price_decimals]
    sz = POW10[cob.size_decimals]
    bid_total, ask_total = _weighted_totals(cob)
    *depth_bands, (band_bid, band_ask) = bands or all_bands(cob)
    depth = [
        DepthBand(bps, bid_size, ask_size, _imbalance(bid_size, ask_size))
        for bps, (bid_size, ask_size) in zip(config.depth_bps, depth_bands, strict=True)
    ]
    return CobMetrics(
        ts=now,
        best_bid=bid,
        best_ask=ask,
        mid=mid2 / 2 / px if mid2 is not None else None,
        spread=ask - bid if bid is not None and ask is not None else None,
        spread_bps=spread_bps(bid, ask),
        crossed=cob.crossed(),
        vw_mid=vw_mid(cob, config.vwap_levels),
        micro_price=micro_price(cob),
        bid_liquidity=bid_total / sz,
        ask_liquidity=ask_total / sz,
        imbalance=_imbalance(band_bid, band_ask),
        depth=depth,
        venues=[venue_status(cob, m, bid_total, ask_total) for m in cob.members],
        rolling=cob.stats.windows(now),
    )


def sample_stats(
    cob: ConsolidatedBook, boundary: int, crossed: int, band: tuple[float, float]
) -> None:
    """Sample the state at a tick boundary (held over ``crossed`` boundaries) into the stats;
    ``band`` is the liquidity in the imbalance band."""
    mid2 = cob.mid2()
    if mid2 is None:
        return
    best_bid = cob.bids.prices[-1]
    best_ask = cob.asks.prices[0]
    bid, ask = band
    imbalance = _imbalance(bid, ask)
    values = (
        mid2 / 2 / POW10[cob.price_decimals],
        (best_ask - best_bid) * 2 * BPS / mid2,
        bid,
        ask,
        float("nan") if imbalance is None else imbalance,
    )
    cob.stats.add(boundary, cob.config.tick_ns, crossed, values)


class RollingStats:
    """Samples of the COB state on the tick grid, kept for the longest window."""

    def __init__(self, windows_ns: tuple[int, ...]) -> None:
        self.windows_ns = tuple(sorted(windows_ns))
        self.horizon = self.windows_ns[-1]
        self.samples: deque[Sample] = deque()

    def add(
        self, ts: int, tick_ns: int, copies: int, values: tuple[float, float, float, float, float]
    ) -> None:
        copies = min(copies, self.horizon // tick_ns + 1)
        samples = self.samples
        for k in range(copies - 1, -1, -1):
            samples.append((ts - k * tick_ns, *values))
        cutoff = ts - self.horizon
        while samples and samples[0][0] <= cutoff:
            samples.popleft()

    def windows(self, now: int) -> list[WindowStats]:
        return [self.window(w, now) for w in self.windows_ns]

    def window(self, window_ns: int, now: int) -> WindowStats:
        cutoff = now - window_ns
        chosen = [s for s in self.samples if cutoff < s[0] <= now]
        if not chosen:
            return WindowStats(window_ns, 0, None, None, None, None, None)
        columns = list(zip(*chosen, strict=True))
        stats = [_stat(columns[i]) for i in range(1, 6)]
        return WindowStats(window_ns, len(chosen), *stats)


def _stat(values: tuple[float, ...]) -> Stat | None:
    present = [v for v in values if v == v]  # NaN marks "no value" (an empty band)
    if not present:
        return None
    return Stat(min(present), max(present), sum(present) / len(present))
