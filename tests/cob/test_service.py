"""The COB analytic inside an Engine: one ConsolidatedBook per unified symbol, remade when a
venue joins with every venue's current book loaded, equal to a COB fed directly."""

from __future__ import annotations

import msgspec

from orderscope.cob import CobConfig, ConsolidatedBook
from orderscope.cob.service import COB, UNKNOWN_VENUE_FEE, CobAnalytic
from orderscope.engine import Engine
from orderscope.model import BookDelta, BookSnapshot, Event
from orderscope.service.feeds import renamed
from orderscope.venues.base import Venue
from orderscope.venues.binance import BinanceSpot
from tests.flow.builders import BUY, INST, delta, px, qty, snap, trade

A, B = (msgspec.structs.replace(INST, venue=v) for v in ("a", "b"))


def feed(engine: Engine, venue: Venue, events: list[Event]) -> list[Event]:
    """As a connector does: apply to the venue's exact book, then hand the events over."""
    out = []
    for event in events:
        event = msgspec.structs.replace(event, venue=venue.name, recv_ns=event.exch_ns)
        book = venue.book(venue.instruments["BTC/USDT"])
        if isinstance(event, BookSnapshot):
            book.apply_snapshot(event.bids, event.asks)
        elif isinstance(event, BookDelta):
            book.apply_delta(event.bids, event.asks)
        engine.on_events(venue, [event])
        out.append(event)
    return out


def test_a_joining_venue_remakes_the_cob_with_the_books_so_far() -> None:
    venue_a, venue_b = renamed(BinanceSpot, "a")([A]), renamed(BinanceSpot, "b")([B])
    engine = Engine(analytics=[COB])
    engine.add_venue(venue_a, [A])
    first = feed(
        engine,
        venue_a,
        [
            snap(0, [(100, 1), (99, 2)], [(101, 1)]),
            delta(100, bids=[(100, 3)]),
            trade(150, 101, 0.5, BUY),
        ],
    )
    analytic = engine.analytic("cob", "BTC/USDT")
    assert isinstance(analytic, CobAnalytic) and analytic.rebuilds == 1
    engine.add_venue(venue_b, [B])  # b joins: the COB is made again, a's book loaded into it
    assert analytic.rebuilds == 2
    assert analytic.fee_known == {"a": False, "b": False}  # stand-ins: the highest fee
    later = feed(engine, venue_b, [snap(200, [(100, 2)], [(102, 4)]), delta(300, asks=[(101, 2)])])
    engine.add_venue(venue_a, [A])  # a reconnects with the same instrument: nothing remade
    assert analytic.rebuilds == 2
    fees = {"a": UNKNOWN_VENUE_FEE, "b": UNKNOWN_VENUE_FEE}
    assert UNKNOWN_VENUE_FEE == "0.006"
    direct = ConsolidatedBook([A, B], CobConfig(taker_fees=fees))
    for event in first + later:
        direct.update(event)
    cob = analytic.cob
    assert cob is not None
    assert cob.bid_levels() == direct.bid_levels() == [(px(100), qty(5)), (px(99), qty(2))]
    assert cob.ask_levels() == direct.ask_levels() == [(px(101), qty(3)), (px(102), qty(4))]
    assert [m.state for m in cob.members] == [m.state for m in direct.members]
    top = cob.levels(True, 1)[0]
    assert [(v.venue, v.size) for v in top.venues] == [("a", qty(3)), ("b", qty(2))]
