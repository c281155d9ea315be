"""The server's book-aware analytics of one (venue, symbol): signals and the live heatmap.

One ``VenueFlow`` per venue's symbol keeps ONE exact copy of the venue's book (a
``BookTracker``: the detectors and the heatmap need each update's before and after sizes, which
the venue's own ``L2Book`` no longer has) and hands each ``BookChange`` to both the
``SignalEngine`` and a rolling ``Heatmap``; a copy for each would double the per-event cost.

- Signals: the detectors' findings are published on the WebSocket channel ``signals`` (type
  ``signal``) at the next flush, and kept in a ring of the newest ``SIGNAL_RING`` per venue and
  symbol for ``GET /api/v1/signals/{symbol}``.
- Heatmap: steps of ``HEATMAP_STEP_NS`` (1 s) of event time, the newest ``HEATMAP_STEPS``
  (600: ten minutes) kept; rows are the symbol's footprint row (configured, or half a basis
  point of the first price seen), so the picture lines up with the footprint. The matrix is
  built only when asked (``GET /api/v1/heatmap/{symbol}``), for the rows asked.

Per event the work is the tracker's apply plus what the detectors and the heatmap do with the
change: no snapshot, matrix or image is made on the event path.
"""

from __future__ import annotations

from collections import deque

import msgspec

from orderscope.book import L2Book
from orderscope.engine import AnalyticContext, AnalyticSpec, Scope, Subscriber, Update
from orderscope.flow.book_tracker import BookTracker
from orderscope.flow.signals import Signal, SignalEngine
from orderscope.flowstate import EngineConfig, row_for
from orderscope.heatmap import Heatmap, HeatmapConfig
from orderscope.model import (
    BookDelta,
    BookSnapshot,
    BookStatus,
    Instrument,
    MarketEvent,
    Trade,
)
from orderscope.views import rfc3339, side_name

#: Signals kept per (venue, symbol) for the REST route (the WebSocket gets every one).
SIGNAL_RING = 1000
#: The live heatmap's step and the steps kept (10 minutes of 1 s columns).
HEATMAP_STEP_NS = 1_000_000_000
HEATMAP_STEPS = 600


class SignalView(msgspec.Struct, frozen=True):
    """One signal as the API sends it (REST and the ``signal`` WebSocket message)."""

    venue: str
    time: str  # event time of the event that completed the pattern
    start: str  # event time the pattern began
    kind: str  # sweep | absorption | iceberg | block_trade | large_order_placed | ...
    side: str | None  # buy | sell (see orderscope.flow.signals.Signal), None: no side dominates
    price: str
    size: str
    confidence: float  # 0.5 at the detector's threshold, 1 at its "full" level
    description: str


def signal_view(signal: Signal, instrument: Instrument) -> SignalView:
    return SignalView(
        signal.venue,
        rfc3339(signal.ts),
        rfc3339(signal.start_ns),
        signal.kind.value,
        side_name(signal.side) if signal.side is not None else None,
        instrument.price_text(signal.price),
        instrument.size_text(signal.size),
        signal.confidence,
        signal.description,
    )


class VenueFlow:
    """Signals and the rolling heatmap of one venue's symbol (a VENUE-scope analytic)."""

    def __init__(self, ctx: AnalyticContext) -> None:
        assert ctx.instrument is not None
        self.instrument = ctx.instrument
        self.config: EngineConfig = ctx.config
        self.tracker: BookTracker | None = None  # made at the first event (the book's depth)
        self.signals: SignalEngine | None = None
        self.heatmap: Heatmap | None = None  # made at the first price (its row)
        self.found: list[Signal] = []  # since the last flush
        self.recent: deque[Signal] = deque(maxlen=SIGNAL_RING)

    def add_instrument(self, instrument: Instrument) -> None:
        self.instrument = instrument

    def _start(self, book: L2Book | None) -> SignalEngine:
        # the venue's depth limit (Kraken's subscribed depth): the copy trims the same way
        tracker = BookTracker(self.instrument, book.max_depth if book is not None else None)
        self.tracker = tracker
        self.signals = SignalEngine(self.instrument, tracker=tracker)
        return self.signals

    def _heatmap(self, price: int) -> Heatmap:
        row = row_for(
            self.config.rows.get(self.instrument.symbol),
            price,
            self.instrument,
            self.config.row_bps,
        )
        config = HeatmapConfig(step_ns=HEATMAP_STEP_NS, row=row, max_steps=HEATMAP_STEPS)
        self.heatmap = Heatmap(self.instrument, config)
        return self.heatmap

    def on_event(self, event: MarketEvent, book: L2Book | None) -> None:
        kind = type(event)
        if kind is BookDelta or kind is BookSnapshot:
            assert isinstance(event, BookDelta | BookSnapshot)
            signals = self.signals or self._start(book)
            change = signals.tracker.apply(event)
            signals.on_book(change, self.found)
            heatmap = self.heatmap
            if heatmap is None and (change.bid or change.ask):
                heatmap = self._heatmap(change.bid or change.ask)
            if heatmap is not None:
                heatmap.on_book(change)
        elif kind is Trade:
            assert isinstance(event, Trade)
            signals = self.signals or self._start(book)
            signals.update(event, self.found)
            heatmap = self.heatmap if self.heatmap is not None else self._heatmap(event.price)
            heatmap.on_trade(event)
        elif kind is BookStatus and self.tracker is not None:
            assert isinstance(event, BookStatus)
            self.tracker.on_status(event)

    def flush(self, publish: Subscriber) -> None:
        if not self.found:
            return
        inst = self.instrument
        for signal in self.found:
            self.recent.append(signal)
            view = signal_view(signal, inst)
            publish(Update("signal", "signals", signal.symbol, signal.venue, view))
        self.found.clear()


VENUE_FLOW = AnalyticSpec("venue_flow", Scope.VENUE, VenueFlow, {"signals": ("signal",)})
