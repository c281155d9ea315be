"""Price buckets of a consolidated book: bps of the mid, or a fixed quote amount.

Buckets are a grid of width ``w`` (an integer number of COB price units) anchored at zero, so a
bucket keeps its price while the mid moves. Bids round down (a bid at 100.7 with w = 1 is in
the 100 bucket) and asks round up (101): a bucketed book never shows a better price than the
one available. In bps mode ``w`` is ``bps`` of the current mid, rounded down to a whole number
of the finest venue tick (at least one tick: a finer bucket could only hold one level and would
have ragged prices); in quote mode it is the amount itself (``$10`` for BTC).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import msgspec

from orderscope.cob.config import parse_decimal
from orderscope.cob.records import VenueLevel
from orderscope.cob.side import TOTAL
from orderscope.errors import ConfigError
from orderscope.fixed import POW10

if TYPE_CHECKING:
    from orderscope.cob.consolidated import ConsolidatedBook

BPS = 10_000


class Bucket(msgspec.Struct, frozen=True, gc=False):
    price: int  # the bucket's grid price (bids: at or below their levels, asks: at or above)
    size: int  # real size, COB size units
    weighted_size: float  # base units, venue weights applied
    notional: int  # sum of the levels' price * size (not bucket price * size)
    levels: int
    venues: list[VenueLevel]  # in member order
    orders: int | None = None


class Buckets(msgspec.Struct, frozen=True, gc=False):
    width: int  # COB price units
    bps: float | None  # the bps of mid asked for (None in quote mode)
    quote_amount: str | None  # the quote amount asked for (None in bps mode)
    bids: list[Bucket]  # best first
    asks: list[Bucket]


def bucket_width(cob: ConsolidatedBook, bps: float | None, quote_amount: str | None) -> int | None:
    """The grid width in COB price units; None in bps mode while the COB has no mid."""
    if (bps is None) == (quote_amount is None):
        raise ConfigError("give exactly one of a bps width and a quote amount")
    if quote_amount is not None:
        width = parse_decimal(quote_amount, cob.price_decimals, "bucket quote amount")
        if width <= 0:
            raise ConfigError(f"bucket quote amount must be > 0, got {quote_amount!r}")
        return width
    assert bps is not None
    if bps <= 0:
        raise ConfigError(f"bucket width must be > 0 bps, got {bps}")
    mid2 = cob.mid2()
    if mid2 is None:
        return None
    tick = finest_tick(cob)
    width = int(mid2 * bps) // (2 * BPS)
    return max(tick, width // tick * tick)


def finest_tick(cob: ConsolidatedBook) -> int:
    """The smallest venue tick in COB price units (before any quote conversion), at least 1."""
    rate_one = POW10[cob.rate_decimals]
    ticks = [m.instrument.tick_size * m.scale * rate_one for m in cob.members]
    return max(1, min((t for t in ticks if t > 0), default=1))


def default_spec(cob: ConsolidatedBook) -> tuple[float | None, str | None]:
    """The configured width for the COB's base: a quote amount if one is set, else bps."""
    amount = cob.config.bucket_quote.get(cob.base)
    return (None, amount) if amount is not None else (cob.config.bucket_bps, None)


def make_buckets(
    cob: ConsolidatedBook,
    *,
    bps: float | None = None,
    quote_amount: str | None = None,
    count: int = 20,
) -> Buckets:
    """The best ``count`` buckets a side (the configured default width if none is given)."""
    if bps is None and quote_amount is None:
        bps, quote_amount = default_spec(cob)
    width = bucket_width(cob, bps, quote_amount)
    if width is None:
        return Buckets(0, bps, quote_amount, [], [])
    return Buckets(
        width,
        bps,
        quote_amount,
        _side(cob, True, width, count),
        _side(cob, False, width, count),
    )


class _Open:
    """The bucket being filled."""

    __slots__ = ("grid", "levels", "notional", "parts", "size", "weighted")

    def __init__(self, grid: int) -> None:
        self.grid = grid
        self.size = self.notional = self.levels = 0
        self.weighted = 0.0
        self.parts: dict[str, list[int]] = {}  # venue -> [size, notional]

    def close(self, rank: dict[str, int], scale: int) -> Bucket:
        venues = [
            VenueLevel(label, size, notional)
            for label, (size, notional) in sorted(self.parts.items(), key=lambda kv: rank[kv[0]])
        ]
        return Bucket(
            self.grid, self.size, self.weighted / scale, self.notional, self.levels, venues
        )


def _side(cob: ConsolidatedBook, is_bid: bool, width: int, count: int) -> list[Bucket]:
    levels = (cob.bids if is_bid else cob.asks).levels
    members = [(m.slot, m.label, m.weight) for m in cob.members]
    scale = POW10[cob.size_decimals]
    rank = {m.label: n for n, m in enumerate(cob.members)}
    out: list[Bucket] = []
    if count <= 0:
        return out
    bucket: _Open | None = None
    for price in cob.prices(is_bid):
        grid = price // width * width if is_bid else -(-price // width) * width
        if bucket is None or grid != bucket.grid:
            if bucket is not None:
                out.append(bucket.close(rank, scale))
                if len(out) == count:
                    return out
            bucket = _Open(grid)
        entry = levels[price]
        total = entry[TOTAL]
        bucket.size += total
        bucket.notional += total * price
        bucket.levels += 1
        for slot, label, weight in members:
            venue_size = entry[slot]
            if venue_size:
                part = bucket.parts.setdefault(label, [0, 0])
                part[0] += venue_size
                part[1] += venue_size * price
                bucket.weighted += weight * venue_size
    if bucket is not None and len(out) < count:
        out.append(bucket.close(rank, scale))
    return out
