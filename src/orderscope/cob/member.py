"""One venue's book inside a consolidated book.

While a venue is in the COB its levels live in the COB itself: every consolidated level is a
list holding each venue's size at that price (the venue's ``slot``), so the breakdown costs
nothing extra and a venue's delta touches one dict entry per level. The COB maps a venue onto
its common integer scale with two exact multipliers:

- ``pm``: price multiplier, ``10**(cob_decimals - venue_decimals) * rate`` where ``rate`` is
  the conversion to the COB's quote at ``rate_decimals`` (``10**rate_decimals`` for a venue
  already in that quote);
- ``sm``: size multiplier, ``10**(cob_size_decimals - venue_size_decimals)``.

While a venue is out of the COB (stale, out of sync, awaiting a rate) its book is "parked" here
in its own units, so it can come back without waiting for a snapshot when that is safe (a
stale venue's next update, a rate that arrives) and can still be shown.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, fields

from orderscope.model import BookState, Instrument, Level


class VenueState(enum.StrEnum):
    """Whether a venue's book is in the COB, and if not, why."""

    ACTIVE = "active"
    AWAITING_SNAPSHOT = "awaiting_snapshot"
    OUT_OF_SYNC = "out_of_sync"
    AWAITING_RATE = "awaiting_rate"  # its quote needs a conversion rate nobody gave yet
    STALE = "stale"  # no book event within CobConfig.stale_after_ns


@dataclass(slots=True)
class MemberCounters:
    snapshots: int = 0
    deltas: int = 0  # deltas applied
    skipped_deltas: int = 0  # deltas while awaiting a snapshot / out of sync (not applied)
    joins: int = 0  # times the venue entered the COB
    leaves: int = 0  # times it left (stale, out of sync, removed)
    stale: int = 0  # times it went stale

    def as_dict(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def park_levels(sizes: dict[int, int], levels: Iterable[Level]) -> None:
    """Apply absolute sizes to a parked side (size 0 deletes)."""
    for price, size in levels:
        if size:
            sizes[price] = size
        else:
            sizes.pop(price, None)


def trim_parked(sizes: dict[int, int], depth: int | None, is_bid: bool) -> None:
    """Keep the best ``depth`` levels, as the venue's L2Book (with ``max_depth``) does."""
    if depth is None or len(sizes) <= depth:
        return
    ordered = sorted(sizes, reverse=is_bid)
    for price in ordered[depth:]:
        del sizes[price]


class Member:
    """A venue of the COB: where its levels sit in the COB's entries, its state, fee, weight."""

    __slots__ = (
        "active",
        "ask_count",
        "ask_total",
        "bid_count",
        "bid_total",
        "book_state",
        "counters",
        "fee",
        "instrument",
        "label",
        "last_ns",
        "max_depth",
        "parked_asks",
        "parked_bids",
        "pm",
        "rate",
        "reason",
        "scale",
        "since_ns",
        "slot",
        "sm",
        "stale",
        "weight",
    )

    def __init__(
        self,
        instrument: Instrument,
        label: str,
        slot: int,
        *,
        scale: int,
        sm: int,
        rate: int | None,
        weight: float,
        fee: int,
        max_depth: int | None,
    ) -> None:
        self.instrument = instrument
        self.label = label  # the venue name, or "venue QUOTE" when a venue has two members
        self.slot = slot  # its index in every COB level entry
        self.scale = scale  # 10**(cob price decimals - rate decimals - venue price decimals)
        self.sm = sm
        self.rate = rate
        self.pm = scale * rate if rate is not None else 0
        self.weight = weight
        self.fee = fee  # taker fee, units of 10**-FEE_DECIMALS
        self.max_depth = max_depth
        self.active = False  # its levels are in the COB's entries
        self.bid_total = 0  # COB size units, while active
        self.ask_total = 0
        self.bid_count = 0  # levels, while active
        self.ask_count = 0
        self.parked_bids: dict[int, int] = {}  # venue units, while not active
        self.parked_asks: dict[int, int] = {}
        self.book_state = BookState.AWAITING_SNAPSHOT
        self.stale = False
        self.last_ns = 0  # event time of the venue's last book event
        self.since_ns = 0  # event time the current state began
        self.reason = "no snapshot yet"
        self.counters = MemberCounters()

    @property
    def venue(self) -> str:
        return self.instrument.venue

    @property
    def state(self) -> VenueState:
        if self.book_state is BookState.OUT_OF_SYNC:
            return VenueState.OUT_OF_SYNC
        if self.book_state is BookState.AWAITING_SNAPSHOT:
            return VenueState.AWAITING_SNAPSHOT
        if self.rate is None:
            return VenueState.AWAITING_RATE
        if self.stale:
            return VenueState.STALE
        return VenueState.ACTIVE

    @property
    def eligible(self) -> bool:
        """Whether the venue should be in the COB now."""
        return self.state is VenueState.ACTIVE

    def set_rate(self, rate: int | None) -> None:
        self.rate = rate
        self.pm = self.scale * rate if rate is not None else 0

    def park(self, bids: Iterable[Level], asks: Iterable[Level]) -> None:
        """Replace the parked book (levels of size 0 dropped), trimmed to ``max_depth``."""
        self.parked_bids = {p: s for p, s in bids if s}
        self.parked_asks = {p: s for p, s in asks if s}
        trim_parked(self.parked_bids, self.max_depth, True)
        trim_parked(self.parked_asks, self.max_depth, False)

    def apply_parked(self, bids: Iterable[Level], asks: Iterable[Level]) -> None:
        """A delta while the venue is outside the COB (synced, but e.g. awaiting a rate)."""
        park_levels(self.parked_bids, bids)
        park_levels(self.parked_asks, asks)
        trim_parked(self.parked_bids, self.max_depth, True)
        trim_parked(self.parked_asks, self.max_depth, False)
