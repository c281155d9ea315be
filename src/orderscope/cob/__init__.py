"""The consolidated order book (COB, "Multibook"): one book per instrument across venues.

- ``ConsolidatedBook``: fed with the venues' ``BookSnapshot``/``BookDelta``/``BookStatus``
  events (``update``), exact on a common integer scale, with per-venue breakdown per level;
- ``CobConfig``: venues' fees, weights, conversion rates, staleness, windows, buckets;
- ``make_buckets``: bps-of-mid or quote-amount buckets, side-aware;
- ``impact`` / ``route``: a market order walking the COB, and its optimal split by venue;
- ``find_opportunities`` / ``ArbitrageSignal``: cross-venue arbitrage net of taker fees.

See docs/API.md ("cob") for the whole surface and docs/ARCHITECTURE.md for the design.
"""

from orderscope.cob.arbitrage import ArbitrageSignal, find_opportunities
from orderscope.cob.buckets import Bucket, Buckets, make_buckets
from orderscope.cob.config import DEFAULT_TAKER_FEES, CobConfig, select_group
from orderscope.cob.consolidated import ConsolidatedBook
from orderscope.cob.impact import Fill, Impact, Route, impact, route
from orderscope.cob.member import Member, VenueState
from orderscope.cob.records import (
    CobLevel,
    CobMetrics,
    CobSnapshot,
    DepthBand,
    Stat,
    VenueLevel,
    VenueStatus,
    WindowStats,
)

__all__ = [
    "DEFAULT_TAKER_FEES",
    "ArbitrageSignal",
    "Bucket",
    "Buckets",
    "CobConfig",
    "CobLevel",
    "CobMetrics",
    "CobSnapshot",
    "ConsolidatedBook",
    "DepthBand",
    "Fill",
    "Impact",
    "Member",
    "Route",
    "Stat",
    "VenueLevel",
    "VenueState",
    "VenueStatus",
    "WindowStats",
    "find_opportunities",
    "impact",
    "make_buckets",
    "route",
    "select_group",
]
