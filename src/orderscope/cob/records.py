"""What a consolidated book hands out: levels, venue statuses, metrics, snapshots.

Prices and sizes are exact ints on the COB's common scale (``price_decimals``,
``size_decimals``; a notional is ``price * size`` at ``price_decimals + size_decimals``); the
statistical figures (mid, bps, imbalance, weighted liquidity) are floats in real units.
"""

from __future__ import annotations

import msgspec

from orderscope.cob.member import VenueState


class VenueLevel(msgspec.Struct, frozen=True, gc=False):
    """One venue's part of a level (or bucket)."""

    venue: str
    size: int
    notional: int
    orders: int | None = None  # None: the venue's feed does not give order counts


class CobLevel(msgspec.Struct, frozen=True, gc=False):
    price: int
    size: int  # sum of the venues' sizes (real liquidity; weights do not apply)
    notional: int
    venues: list[VenueLevel]  # venues with size at this price, in member order
    dominant: str  # the venue with the largest weighted size here
    changed_ns: int  # event time of the level's last change (its age is ts - changed_ns)
    orders: int | None = None


class Stat(msgspec.Struct, frozen=True, gc=False):
    min: float
    max: float
    avg: float


class WindowStats(msgspec.Struct, frozen=True, gc=False):
    """Statistics of the COB sampled at each tick within the last ``window_ns``."""

    window_ns: int
    samples: int
    mid: Stat | None
    spread_bps: Stat | None
    bid_liquidity: Stat | None  # weighted base size within CobConfig.imbalance_bps of the mid
    ask_liquidity: Stat | None
    imbalance: Stat | None


class DepthBand(msgspec.Struct, frozen=True, gc=False):
    """Weighted base liquidity within ``bps`` of the mid, and its imbalance."""

    bps: float
    bid: float
    ask: float
    imbalance: float | None  # (bid - ask) / (bid + ask), None when both are 0


class VenueStatus(msgspec.Struct, frozen=True, gc=False):
    venue: str  # member label
    exchange: str  # connector name
    symbol: str  # the venue's unified symbol (its own quote)
    state: VenueState
    reason: str
    since_ns: int  # event time the state began
    last_update_ns: int  # event time of the venue's last book event
    weight: float
    taker_fee: float  # fraction of notional
    bid_levels: int
    ask_levels: int
    best_bid: int | None  # on the COB's scale (converted to its quote)
    best_ask: int | None
    spread_bps: float | None
    bid_liquidity: int  # COB size units, whole book as the venue sends it
    ask_liquidity: int
    bid_share: float | None  # weighted share of the COB's bid liquidity (active venues only)
    ask_share: float | None
    crossed: bool
    counters: dict[str, int]


class CobMetrics(msgspec.Struct, frozen=True, gc=False):
    ts: int
    best_bid: int | None
    best_ask: int | None
    mid: float | None
    spread: int | None  # price units; negative when venues cross each other
    spread_bps: float | None
    crossed: bool
    vw_mid: float | None  # mean of the bid and ask VWAPs over the top ``vwap_levels``
    #: top-of-book prices weighted by the opposite side's size (the classic weighted mid;
    #: Stoikov's fitted micro-price is orderscope.flow.microprice)
    micro_price: float | None
    bid_liquidity: float  # weighted base size, whole book
    ask_liquidity: float
    imbalance: float | None  # within CobConfig.imbalance_bps
    depth: list[DepthBand]
    venues: list[VenueStatus]
    rolling: list[WindowStats]


class CobSnapshot(msgspec.Struct, frozen=True, gc=False):
    """A display snapshot: the top levels with their breakdown, and the metrics."""

    ts: int
    symbol: str
    quote: str
    price_decimals: int
    size_decimals: int
    bids: list[CobLevel]  # best first
    asks: list[CobLevel]
    metrics: CobMetrics
