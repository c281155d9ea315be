"""The engine: routes venue events to the analytics and publishes typed updates.

```
LiveSession sinks / Replay  --on_events(venue, events)-->  Engine  --Update-->  subscribers
                                                              |                 (the WebSocket hub)
                         per (venue, symbol): FlowState, extensions, the venue's exact book
                         per unified symbol:  FlowState over every venue (common scale), extensions
```

Per event the work is small and bounded: a trade updates its two ``FlowState``s (its venue's
and its unified symbol's) and is published at once as a ``tick``; a book event only marks the
book dirty; a status event is published at once. Everything that is a function of accumulated
state (the book's top levels, the current footprint bar and its imbalances, the CVD) is
published by ``flush()``, which the caller runs on its own cadence (the server: every 100 ms of
wall time; a replay: every N ns of event time), and only for keys someone listens to.

The engine never reads the wall clock and does no I/O, so a replay through it publishes the
same updates every time.

Extension point: an ``AnalyticSpec`` is a factory of further analytics per (venue, symbol) or
per unified symbol (the COB, signals, heatmap); the engine is given the specs to run (the
server's are listed in ``orderscope.service.extensions``). Each instance sees every event of its
key with the venue's book, publishes through ``flush``, and is found by the API with
``Engine.analytic(name, symbol, venue)``.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import msgspec

from orderscope.book import L2Book
from orderscope.flow.footprint import imbalances, stacked_imbalances
from orderscope.flowstate import EngineConfig, FlowState, Scale, row_for
from orderscope.model import (
    BestBidOffer,
    BookDelta,
    BookSnapshot,
    BookStatus,
    FeedStatus,
    Instrument,
    MarketEvent,
    Side,
    Trade,
)
from orderscope.replay import Replay
from orderscope.venues.base import Venue
from orderscope.views import (
    DeltaUpdate,
    FootprintUpdate,
    ImbalanceDetected,
    book_status_view,
    book_view,
    feed_status_view,
    footprint_bar_view,
    imbalance_views,
    rfc3339,
    stacked_views,
    trade_view,
)

__all__ = [
    "Analytic",
    "AnalyticContext",
    "AnalyticSpec",
    "Engine",
    "EngineConfig",
    "Scope",
    "Update",
]

log = logging.getLogger("orderscope.engine")

#: WebSocket channels of the built-in updates, and the update types each carries.
CHANNELS: dict[str, tuple[str, ...]] = {
    "orderflow": ("tick", "footprint_update", "imbalance_detected", "delta_update"),
    "book": ("book",),
    "status": ("status",),
}
#: Types published both per venue and for the unified symbol (venue None): a subscriber with
#: no venue gets the aggregate only. Other types exist per venue only, and a subscriber with no
#: venue gets every venue's.
AGGREGATED_TYPES = frozenset({"footprint_update", "imbalance_detected", "delta_update"})
PRUNE_EVERY = 600  # flushes between two retention passes (a minute at 10 flushes a second)


class Update(msgspec.Struct, frozen=True):
    """One pushed message: what it is, where it goes, and its payload (a msgspec Struct)."""

    type: str
    channel: str
    symbol: str  # unified; "" for what concerns a whole venue (a connection's status)
    venue: str | None  # None: the unified symbol across venues
    data: Any


Subscriber = Callable[[Update], None]
#: Whether anyone listens to (channel, symbol, venue): flush computes only what is wanted.
Interest = Callable[[str, str, str | None], bool]


# -- the registry of further analytics ------------------------------------------------------


class Scope(enum.StrEnum):
    VENUE = "venue"  # one instance per (venue, symbol)
    SYMBOL = "symbol"  # one instance per unified symbol, fed by every venue


@dataclass(frozen=True, slots=True)
class AnalyticContext:
    """What a factory is given to build one instance."""

    name: str
    symbol: str
    venue: str | None  # None for a SYMBOL-scope instance
    instrument: Instrument | None  # the venue's instrument (VENUE scope), else None
    config: EngineConfig


class Analytic(Protocol):
    """A further analytic the engine feeds (see ``AnalyticSpec``)."""

    def add_instrument(self, instrument: Instrument) -> None:
        """A venue's instrument joined the key (SYMBOL scope: one call per venue, and again
        when a venue reconnects; VENUE scope: once, with its own instrument)."""

    def on_event(self, event: MarketEvent, book: L2Book | None) -> None:
        """Every event of the key, in arrival order; ``book`` is the venue's exact book of the
        event's symbol after the frame that produced the event (None when there is none)."""

    def flush(self, publish: Subscriber) -> None:
        """Publish what changed since the last flush (keep it cheap: it runs 10 times a
        second). ``Update.channel`` must be one of the spec's ``channels``."""


@dataclass(frozen=True, slots=True)
class AnalyticSpec:
    name: str  # also the key of ``Engine.analytic``
    scope: Scope
    factory: Callable[[AnalyticContext], Analytic]
    channels: dict[str, tuple[str, ...]] = field(default_factory=dict)  # WS channel -> types
    aggregated_types: frozenset[str] = frozenset()  # see AGGREGATED_TYPES


# -- the engine -----------------------------------------------------------------------------


@dataclass(slots=True)
class EngineCounters:
    events: int = 0
    trades: int = 0
    flushes: int = 0
    updates: int = 0
    rescaled: int = 0  # unified states rebuilt because a finer instrument joined


class Engine:
    """Event-time wiring from venues to analytics to subscribers."""

    def __init__(
        self,
        config: EngineConfig | None = None,
        analytics: Iterable[AnalyticSpec] = (),
    ) -> None:
        self.config = config or EngineConfig()
        self.specs = list(analytics)
        self.channels = dict(CHANNELS)
        self.aggregated_types = set(AGGREGATED_TYPES)
        for spec in self.specs:
            self.channels.update(spec.channels)
            self.aggregated_types |= spec.aggregated_types
        self.counters = EngineCounters()
        self.venues: dict[str, Venue] = {}
        self.instruments: dict[tuple[str, str], Instrument] = {}  # (venue, symbol)
        self.members: dict[str, dict[str, Instrument]] = {}  # symbol -> venue -> instrument
        self.states: dict[tuple[str, str], FlowState] = {}  # (venue, symbol), after a trade
        self.unified: dict[str, FlowState] = {}  # symbol, after a trade
        self.scales: dict[str, Scale] = {}
        self.rows: dict[str, str | None] = {}  # symbol -> configured row text (None: auto)
        self.extensions: dict[tuple[str, str | None], dict[str, Analytic]] = {}
        self.feed_status: dict[tuple[str, int], FeedStatus] = {}
        self.book_status: dict[tuple[str, str], BookStatus] = {}
        self.book_ns: dict[tuple[str, str], int] = {}  # receive time of the last book event
        self.clock_ns = 0  # the latest event time seen
        self._subscribers: list[Subscriber] = []
        self.interest: Interest = lambda _channel, _symbol, _venue: True
        self._dirty_books: set[tuple[str, str]] = set()
        self._dirty_flow: set[tuple[str, str | None]] = set()
        self._reported: dict[tuple[str, str | None], tuple[int, set[tuple[int, int]]]] = {}

    # -- wiring ----------------------------------------------------------------------------

    def subscribe(self, subscriber: Subscriber) -> None:
        self._subscribers.append(subscriber)

    def publish(self, update: Update) -> None:
        self.counters.updates += 1
        for subscriber in self._subscribers:
            subscriber(update)

    def add_venue(self, venue: Venue, instruments: Iterable[Instrument]) -> None:
        """A venue's connector and the instruments it is subscribed to (again on reconnect)."""
        self.venues[venue.name] = venue
        for instrument in instruments:
            self._add_instrument(venue.name, instrument)

    def _add_instrument(self, venue: str, instrument: Instrument) -> None:
        symbol = instrument.symbol
        self.instruments[(venue, symbol)] = instrument
        members = self.members.setdefault(symbol, {})
        members[venue] = instrument
        self.rows.setdefault(symbol, self.config.rows.get(symbol))
        scale = self.scales.get(symbol)
        if scale is None or venue not in scale.factors:
            self._rescale(symbol, scale)
        for spec in self.specs:
            if spec.scope is Scope.VENUE:
                key: tuple[str, str | None] = (symbol, venue)
                ctx = AnalyticContext(spec.name, symbol, venue, instrument, self.config)
            else:
                key = (symbol, None)
                ctx = AnalyticContext(spec.name, symbol, None, None, self.config)
            found = self.extensions.setdefault(key, {})
            if spec.name not in found:
                found[spec.name] = spec.factory(ctx)
            found[spec.name].add_instrument(instrument)

    def _rescale(self, symbol: str, old: Scale | None) -> None:
        """A new member: a new common scale. When it has more decimals than the old one, the
        unified state is rebuilt on it from the trades the venues' stores still hold (older
        history is lost: said in the log and counted)."""
        members = self.members[symbol]
        scale = self.scales[symbol] = Scale.of(symbol, members)
        if old is None or symbol not in self.unified:
            return
        before, after = old.instrument, scale.instrument
        if (before.price_decimals, before.size_decimals) == (
            after.price_decimals,
            after.size_decimals,
        ):
            return
        self.counters.rescaled += 1
        log.warning("%s: a finer instrument joined; the cross-venue state is rebuilt", symbol)
        del self.unified[symbol]
        merged: list[tuple[int, str, int, Trade]] = []
        for venue in members:
            state = self.states.get((venue, symbol))
            if state is None or state.store is None:
                continue
            ts, price, size, side = state.store.columns()
            columns = zip(ts.tolist(), price.tolist(), size.tolist(), side.tolist(), strict=True)
            for i, (t, p, q, d) in enumerate(columns):
                merged.append((t, venue, i, Trade(venue, symbol, t, t, p, q, Side(d), "")))
        merged.sort(key=lambda x: x[:3])
        for *_, trade in merged:
            self._unified_trade(symbol, scale.rescale(trade))

    # -- events ----------------------------------------------------------------------------

    def on_events(self, venue: Venue | None, events: Sequence[MarketEvent]) -> None:
        """The sink of a ``LiveSession`` (and of a replay): route each event. ``venue`` is the
        connector that made them (None for a transport's own status events)."""
        for event in events:
            self.counters.events += 1
            kind = type(event)
            symbol = event.symbol
            ts = event.exch_ns or event.recv_ns
            if ts > self.clock_ns:
                self.clock_ns = ts
            if kind is Trade:
                assert isinstance(event, Trade)
                self._on_trade(event)
            elif kind is BookDelta or kind is BookSnapshot or kind is BestBidOffer:
                key = (event.venue, symbol)
                self._dirty_books.add(key)
                self.book_ns[key] = event.recv_ns
            elif kind is BookStatus:
                assert isinstance(event, BookStatus)
                self.book_status[(event.venue, symbol)] = event
                self._dirty_books.add((event.venue, symbol))
                self.publish(
                    Update("status", "status", symbol, event.venue, book_status_view(event))
                )
            elif kind is FeedStatus:
                assert isinstance(event, FeedStatus)
                self.feed_status[(event.venue, event.connection)] = event
                self.publish(Update("status", "status", "", event.venue, feed_status_view(event)))
                continue
            if self.extensions:
                self._extensions(venue, event)

    def _extensions(self, venue: Venue | None, event: MarketEvent) -> None:
        book = venue.books.get(event.symbol) if venue is not None else None
        for key in ((event.symbol, event.venue), (event.symbol, None)):
            found = self.extensions.get(key)
            if found:
                for analytic in found.values():
                    analytic.on_event(event, book)

    def _on_trade(self, trade: Trade) -> None:
        self.counters.trades += 1
        venue, symbol = trade.venue, trade.symbol
        key = (venue, symbol)
        state = self.states.get(key)
        if state is None:
            instrument = self.instruments.get(key)
            if instrument is None:  # a symbol nobody registered (add_venue): not ours
                return
            row = row_for(self.rows.get(symbol), trade.price, instrument, self.config.row_bps)
            state = self.states[key] = FlowState(instrument, row, self.config)
        state.on_trade(trade)
        self._dirty_flow.add((symbol, venue))
        scale = self.scales.get(symbol)
        if scale is not None:
            self._unified_trade(symbol, scale.rescale(trade))
        self.publish(
            Update("tick", "orderflow", symbol, venue, trade_view(trade, state.instrument))
        )

    def _unified_trade(self, symbol: str, trade: Trade) -> None:
        state = self.unified.get(symbol)
        if state is None:
            instrument = self.scales[symbol].instrument
            row = row_for(self.rows.get(symbol), trade.price, instrument, self.config.row_bps)
            state = self.unified[symbol] = FlowState(instrument, row, self.config, store=False)
        state.on_trade(trade)
        self._dirty_flow.add((symbol, None))

    # -- flush -----------------------------------------------------------------------------

    def flush(self) -> None:
        """Publish what accumulated since the last flush (books, footprint, CVD, extensions)."""
        self.counters.flushes += 1
        interest = self.interest
        for venue, symbol in sorted(self._dirty_books):
            if interest("book", symbol, venue) and (update := self._book_update(venue, symbol)):
                self.publish(update)
        self._dirty_books.clear()
        for symbol, flow_venue in sorted(self._dirty_flow, key=lambda k: (k[0], k[1] or "")):
            if interest("footprint_update", symbol, flow_venue):
                for update in self._flow_updates(symbol, flow_venue, report=True):
                    self.publish(update)
        self._dirty_flow.clear()
        for _key, found in sorted(
            self.extensions.items(), key=lambda kv: (kv[0][0], kv[0][1] or "")
        ):
            for analytic in found.values():
                analytic.flush(self.publish)
        if self.counters.flushes % PRUNE_EVERY == 0:
            self.prune()

    def current(self, channel: str, symbol: str, venue: str | None) -> list[Update]:
        """The state a new subscriber starts from: the books, or the footprint bar and CVD."""
        if channel == "book":
            venues = [venue] if venue is not None else sorted(self.members.get(symbol, {}))
            found = (self._book_update(v, symbol) for v in venues)
            return [u for u in found if u is not None]
        if channel == "orderflow":
            return self._flow_updates(symbol, venue, report=False)
        if channel == "status":
            return self._status_updates(symbol, venue)
        return []

    def _status_updates(self, symbol: str, venue: str | None) -> list[Update]:
        """The last status of each connection and book concerned (symbol "": all of them)."""
        venues = set(self.members.get(symbol, {})) if symbol else None
        out = [
            Update("status", "status", "", v, feed_status_view(e))
            for (v, _conn), e in sorted(self.feed_status.items())
            if (venues is None or v in venues) and venue in (None, v)
        ]
        out.extend(
            Update("status", "status", s, v, book_status_view(e))
            for (v, s), e in sorted(self.book_status.items())
            if symbol in ("", s) and venue in (None, v)
        )
        return out

    def _book_update(self, venue_name: str, symbol: str) -> Update | None:
        book = self.book(venue_name, symbol)
        if book is None:
            return None
        last_ns = self.book_ns.get((venue_name, symbol), 0)
        view = book_view(venue_name, book, self.config.book_depth, last_ns)
        return Update("book", "book", symbol, venue_name, view)

    def _flow_updates(self, symbol: str, venue: str | None, *, report: bool) -> list[Update]:
        """The current footprint bar and CVD of a key; with ``report``, also the imbalances
        not reported before in this bar (``imbalance_detected``)."""
        state = self.state(symbol, venue)
        if state is None:
            return []
        out: list[Update] = []
        inst = state.instrument
        tf = self.config.push_timeframe
        bar = state.footprints[state.push_ns].current()
        if bar is not None:
            params = self.config.imbalance
            found = imbalances(bar, state.row, params)
            stacked = stacked_imbalances(found, state.row, params.stack)
            view = footprint_bar_view(bar, inst, found, stacked)
            data = FootprintUpdate(tf, inst.price_text(state.row), view)
            out.append(Update("footprint_update", "orderflow", symbol, venue, data))
            if report:
                key = (symbol, venue)
                start, seen = self._reported.get(key, (bar.start_ns, set()))
                if start != bar.start_ns:
                    start, seen = bar.start_ns, set()
                new = [i for i in found if (i.price, int(i.side)) not in seen]
                seen.update((i.price, int(i.side)) for i in new)
                self._reported[key] = (start, seen)
                if new:
                    detected = ImbalanceDetected(
                        tf, view.start, imbalance_views(new, inst), stacked_views(stacked, inst)
                    )
                    out.append(Update("imbalance_detected", "orderflow", symbol, venue, detected))
        last = state.last
        bar_key = (last.exch_ns or last.recv_ns) // state.push_ns if last is not None else -1
        cell = state.delta.bars.get(bar_key)
        if cell is not None:
            buy, sell = cell.buy, cell.sell
            delta = DeltaUpdate(
                tf,
                inst.size_text(state.delta.cvd),
                inst.size_text(state.session_delta),
                rfc3339(bar_key * state.push_ns),
                inst.size_text(buy),
                inst.size_text(sell),
                inst.size_text(buy - sell),
                cell.trades,
                100 * buy / (buy + sell) if buy + sell else 0.0,
            )
            out.append(Update("delta_update", "orderflow", symbol, venue, delta))
        return out

    def prune(self) -> None:
        for state in (*self.states.values(), *self.unified.values()):
            state.prune()

    # -- reads (the API's) -----------------------------------------------------------------

    def state(self, symbol: str, venue: str | None = None) -> FlowState | None:
        """The flow state of a venue's symbol, or of the unified symbol (venue None)."""
        return self.unified.get(symbol) if venue is None else self.states.get((venue, symbol))

    def book(self, venue: str, symbol: str) -> L2Book | None:
        found = self.venues.get(venue)
        return found.books.get(symbol) if found is not None else None

    def analytic(self, name: str, symbol: str, venue: str | None = None) -> Analytic | None:
        """A registered analytic's instance for a key (venue None: the SYMBOL-scope one)."""
        return self.extensions.get((symbol, venue), {}).get(name)

    def symbols(self) -> list[str]:
        return sorted(self.members)

    # -- replay ----------------------------------------------------------------------------

    def run_replay(self, replay: Replay, flush_every_ns: int = 100_000_000) -> None:
        """Feed a replay through the engine, flushing every ``flush_every_ns`` of receive time
        (the replay's clock): the same captures publish the same updates every time."""
        for venue in replay.venues:
            chosen = venue.symbols if venue.symbols is not None else venue.instruments.keys()
            self.add_venue(venue, [venue.instruments[s] for s in sorted(chosen)])
        next_flush = 0
        for venue, record, events in replay.run():
            if not next_flush:
                next_flush = record.recv_ns + flush_every_ns
            while record.recv_ns >= next_flush:
                self.flush()
                next_flush += flush_every_ns
            if events:
                self.on_events(venue, events)
        self.flush()
