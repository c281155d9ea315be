"""The consolidated book in the server: one ``ConsolidatedBook`` per unified symbol.

A SYMBOL-scope analytic: the engine tells it each venue's instrument (``add_instrument``) and
feeds it every venue's events with that venue's exact book. Only book events reach the COB
(``BookSnapshot``, ``BookDelta``, ``BookStatus``): each is applied once, exactly, as the venue's
own book applied it. Nothing is computed per event beyond that: snapshots, buckets, depth
bands and impact are computed when a route asks (``GET /api/v1/cob/{symbol}/...``).

A ``ConsolidatedBook`` is made for a fixed set of venues. When a venue joins (or comes back
with another instrument), the COB is made again for the new set and every venue's current
exact book is loaded into it (``load_book``), so nothing waits for the next snapshot.

Taker fees: the defaults of ``orderscope.cob.config.DEFAULT_TAKER_FEES``; a venue that is not
listed there (a renamed stand-in venue of a benchmark, say) is given the highest of them rather
than refused (never an optimistic fee: a fee-free venue would show arbitrage at every
crossing), and ``fee_known`` says so.
"""

from __future__ import annotations

from decimal import Decimal

from orderscope.book import L2Book
from orderscope.cob.config import DEFAULT_TAKER_FEES, CobConfig
from orderscope.cob.consolidated import ConsolidatedBook
from orderscope.engine import AnalyticContext, AnalyticSpec, Scope, Subscriber
from orderscope.model import BookDelta, BookSnapshot, BookStatus, Instrument, MarketEvent

#: The taker fee of a venue without a published default: the highest default.
UNKNOWN_VENUE_FEE = max(DEFAULT_TAKER_FEES.values(), key=Decimal)


class CobAnalytic:
    """The COB of one unified symbol across the venues that serve it."""

    def __init__(self, ctx: AnalyticContext) -> None:
        self.symbol = ctx.symbol
        self.instruments: dict[str, Instrument] = {}  # venue -> its instrument
        self.books: dict[str, L2Book] = {}  # venue -> its exact book (as last handed over)
        self.cob: ConsolidatedBook | None = None
        self.rebuilds = 0
        self.last_ns = 0  # receive time of the last book event: when a rebuild loads the books

    @property
    def fee_known(self) -> dict[str, bool]:
        return {venue: venue in DEFAULT_TAKER_FEES for venue in sorted(self.instruments)}

    def add_instrument(self, instrument: Instrument) -> None:
        if self.instruments.get(instrument.venue) == instrument:
            return  # a reconnect: the same member
        self.instruments[instrument.venue] = instrument
        self._rebuild()

    def _rebuild(self) -> None:
        fees = {v: UNKNOWN_VENUE_FEE for v in self.instruments if v not in DEFAULT_TAKER_FEES}
        cob = ConsolidatedBook(self.instruments.values(), CobConfig(taker_fees=fees))
        for venue, book in sorted(self.books.items()):
            if venue in self.instruments and book.instrument == self.instruments[venue]:
                cob.load_book(book, self.last_ns)
        self.cob = cob
        self.rebuilds += 1

    def on_event(self, event: MarketEvent, book: L2Book | None) -> None:
        kind = type(event)
        if kind is BookDelta or kind is BookSnapshot or kind is BookStatus:
            cob = self.cob
            if cob is None:
                return
            if book is not None and kind is not BookDelta:
                self.books[event.venue] = book  # the one a rebuild will load
            self.last_ns = event.recv_ns
            cob.update(event)

    def flush(self, publish: Subscriber) -> None:
        """Nothing is pushed: the dashboard's ladder consolidates the venues' ``book``
        messages itself; programs read the COB routes."""


COB = AnalyticSpec("cob", Scope.SYMBOL, CobAnalytic)
