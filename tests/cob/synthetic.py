"""Hand-built synthetic venues for COB tests: small, exact books and events.

Three venues with different precisions, as real venues have: "a" prices at 2 decimals and
sizes at 3, "b" at 1 and 4, "c" at 3 and 2. Events carry ``recv_ns``, the COB's clock.
"""

from __future__ import annotations

from typing import Any

from orderscope.book import L2Book
from orderscope.cob import CobConfig, ConsolidatedBook
from orderscope.model import (
    BookDelta,
    BookSnapshot,
    BookState,
    BookStatus,
    Instrument,
    InstrumentKind,
    Level,
)

MS = 1_000_000
SECOND = 1_000_000_000
T0 = 1_700_000_000 * SECOND  # an arbitrary event-time origin

#: venue -> (price decimals, size decimals)
PRECISIONS = {"a": (2, 3), "b": (1, 4), "c": (3, 2)}
FEES = {"a": "0.001", "b": "0.0005", "c": "0.002"}


def instrument(
    venue: str,
    price_decimals: int = 2,
    size_decimals: int = 3,
    quote: str = "USDT",
    tick: int = 1,
    base: str = "BTC",
) -> Instrument:
    return Instrument(
        venue=venue,
        symbol=f"{base}/{quote}",
        venue_symbol=f"{base}{quote}",
        base=base,
        quote=quote,
        kind=InstrumentKind.SPOT,
        price_decimals=price_decimals,
        size_decimals=size_decimals,
        tick_size=tick,
        lot_size=1,
    )


def three_venues() -> list[Instrument]:
    return [instrument(v, pd, sd) for v, (pd, sd) in PRECISIONS.items()]


def make_cob(instruments: list[Instrument] | None = None, **config: Any) -> ConsolidatedBook:
    """A COB of the three synthetic venues (fees given: they are not real venues)."""
    config["taker_fees"] = {**FEES, **config.get("taker_fees", {})}
    return ConsolidatedBook(instruments or three_venues(), CobConfig(**config))


def snapshot(
    venue: str, ts: int, bids: list[Level], asks: list[Level], quote: str = "USDT"
) -> BookSnapshot:
    return BookSnapshot(venue, f"BTC/{quote}", ts, ts, bids, asks)


def delta(
    venue: str, ts: int, bids: list[Level], asks: list[Level], quote: str = "USDT"
) -> BookDelta:
    return BookDelta(venue, f"BTC/{quote}", ts, ts, bids, asks)


def status(venue: str, ts: int, state: BookState, quote: str = "USDT") -> BookStatus:
    return BookStatus(venue, f"BTC/{quote}", ts, ts, state, f"test: {state.value}")


def naive_sum(
    books: dict[str, L2Book], price_decimals: int, size_decimals: int
) -> tuple[list[Level], list[Level]]:
    """The obvious consolidation: rescale every level of every book and add them up."""
    bids: dict[int, int] = {}
    asks: dict[int, int] = {}
    for book in books.values():
        pm = 10 ** (price_decimals - book.instrument.price_decimals)
        sm = 10 ** (size_decimals - book.instrument.size_decimals)
        for side, levels in ((bids, book.bids()), (asks, book.asks())):
            for price, size in levels:
                side[price * pm] = side.get(price * pm, 0) + size * sm
    return sorted(bids.items(), reverse=True), sorted(asks.items())
