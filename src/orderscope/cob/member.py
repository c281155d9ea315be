"""One venue's book inside a consolidated book.

A ``Member`` keeps an exact mirror of the venue's L2 book, in the venue's own units, built from
the same ``BookSnapshot``/``BookDelta`` events the venue's ``L2Book`` was built from (a COB can
be fed by a recording or another process, so it does not reach into connectors). The COB maps
it onto its common integer scale with two exact multipliers:

- ``pm``: price multiplier, ``10**(cob_decimals - venue_decimals) * rate`` where ``rate`` is
  the conversion to the COB's quote at ``rate_decimals`` (``10**rate_decimals`` for a venue
  already in that quote);
- ``sm``: size multiplier, ``10**(cob_size_decimals - venue_size_decimals)``.

Keeping the mirror in venue units means a conversion rate can change without touching it, and
``bids()``/``asks()`` equal the venue's ``L2Book`` level for level.
"""

from __future__ import annotations

import enum
from bisect import bisect_left, insort
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
    deltas: int = 0  # deltas applied to the mirror
    skipped_deltas: int = 0  # deltas while awaiting a snapshot / out of sync (not applied)
    joins: int = 0  # times the venue entered the COB
    leaves: int = 0  # times it left (stale, out of sync, removed)
    stale: int = 0  # times it went stale

    def as_dict(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def mirror_levels(sizes: dict[int, int], prices: list[int], levels: Iterable[Level]) -> int:
    """Apply absolute sizes to one side of a mirror alone; return the change of its total."""
    moved = 0
    for price, size in levels:
        old = sizes.get(price, 0)
        if size == old:
            continue
        if size:
            if not old:
                insort(prices, price)
            sizes[price] = size
        else:
            del sizes[price]
            del prices[bisect_left(prices, price)]
        moved += size - old
    return moved


class Member:
    """A venue's mirror book plus its place in the COB (state, weight, fee, multipliers)."""

    __slots__ = (
        "active",
        "ask_prices",
        "ask_sizes",
        "ask_total",
        "bid_prices",
        "bid_sizes",
        "bid_total",
        "book_state",
        "counters",
        "fee",
        "instrument",
        "label",
        "last_ns",
        "max_depth",
        "pm",
        "rate",
        "reason",
        "scale",
        "since_ns",
        "sm",
        "stale",
        "weight",
    )

    def __init__(
        self,
        instrument: Instrument,
        label: str,
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
        self.scale = scale  # 10**(cob price decimals - venue price decimals)
        self.sm = sm
        self.rate = rate
        self.pm = scale * rate if rate is not None else 0
        self.weight = weight
        self.fee = fee  # taker fee, units of 10**-FEE_DECIMALS
        self.max_depth = max_depth
        self.bid_sizes: dict[int, int] = {}
        self.bid_prices: list[int] = []  # ascending: best bid last
        self.ask_sizes: dict[int, int] = {}
        self.ask_prices: list[int] = []  # ascending: best ask first
        self.bid_total = 0  # venue size units
        self.ask_total = 0
        self.book_state = BookState.AWAITING_SNAPSHOT
        self.stale = False
        self.active = False
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

    # -- the mirror ------------------------------------------------------------------------

    def load(self, bids: Iterable[Level], asks: Iterable[Level]) -> None:
        """Replace the mirror with a snapshot (levels of size 0 are dropped, as L2Book does)."""
        self.bid_sizes = {p: s for p, s in bids if s}
        self.ask_sizes = {p: s for p, s in asks if s}
        self.bid_prices = sorted(self.bid_sizes)
        self.ask_prices = sorted(self.ask_sizes)
        self.trim_mirror()
        self.bid_total = sum(self.bid_sizes.values())
        self.ask_total = sum(self.ask_sizes.values())

    def apply_mirror(self, bids: Iterable[Level], asks: Iterable[Level]) -> None:
        """A delta while the venue is outside the COB (synced, but e.g. awaiting a rate)."""
        self.bid_total += mirror_levels(self.bid_sizes, self.bid_prices, bids)
        self.ask_total += mirror_levels(self.ask_sizes, self.ask_prices, asks)
        self.trim_mirror()

    def trim_mirror(self) -> None:
        bid_excess, ask_excess = self.excess_levels()
        if bid_excess:
            self.bid_total += mirror_levels(self.bid_sizes, self.bid_prices, bid_excess)
        if ask_excess:
            self.ask_total += mirror_levels(self.ask_sizes, self.ask_prices, ask_excess)

    def excess_levels(self) -> tuple[list[Level], list[Level]]:
        """Deletions of the (worst) levels beyond ``max_depth``, as the venue's L2Book trims."""
        depth = self.max_depth
        if depth is None:
            return [], []
        bids = self.bid_prices
        asks = self.ask_prices
        bid_excess = [(p, 0) for p in bids[: len(bids) - depth]] if len(bids) > depth else []
        ask_excess = [(p, 0) for p in asks[depth:]]
        return bid_excess, ask_excess

    # -- reads (venue units) ---------------------------------------------------------------

    def best_bid(self) -> int | None:
        return self.bid_prices[-1] if self.bid_prices else None

    def best_ask(self) -> int | None:
        return self.ask_prices[0] if self.ask_prices else None

    def bids(self, n: int | None = None) -> list[Level]:
        """The best ``n`` bids (all if None), best first, in venue units."""
        prices = self.bid_prices
        chosen = prices[::-1] if n is None else prices[: -n - 1 : -1] if n > 0 else []
        sizes = self.bid_sizes
        return [(p, sizes[p]) for p in chosen]

    def asks(self, n: int | None = None) -> list[Level]:
        prices = self.ask_prices if n is None else self.ask_prices[:n]
        sizes = self.ask_sizes
        return [(p, sizes[p]) for p in prices]

    def depth(self) -> tuple[int, int]:
        return len(self.bid_prices), len(self.ask_prices)
