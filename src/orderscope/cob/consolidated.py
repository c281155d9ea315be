"""The consolidated order book (COB) of one instrument across venues.

The COB keeps, per side, a dict ``price -> total size`` and a sorted price list on one common
integer scale: prices at the largest price precision among the venues (plus ``rate_decimals``
when a venue's quote is converted), sizes at the largest size precision. A venue's price is
rescaled by an exact power of ten (times its integer conversion rate), so no two distinct venue
prices can merge by rounding and the totals are exact sums of the venues' books.

It is incremental: a venue's ``BookDelta`` changes its mirror and the totals at the prices it
touched, nothing else. A venue enters the COB only while its book is trustworthy and fresh
(``VenueState.ACTIVE``); when it goes out of sync, awaits a snapshot, lacks a conversion rate
or sends nothing for ``stale_after_ns`` of event time, its whole contribution is taken out and
its state says why. A stale venue comes back with its next book event; an out-of-sync one
only with a snapshot.

Time is the events' receive time (``recv_ns``), the one clock all venues share (venues' own
clocks differ and some send none); it never runs backwards. Every ``tick_ns`` of event time
the COB checks staleness, updates live conversion rates, samples its rolling statistics and, if
asked, hands a display snapshot to ``on_tick``.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, fields

from orderscope.book import L2Book
from orderscope.cob import metrics as cob_metrics
from orderscope.cob.arbitrage import ArbitrageSignal, ArbitrageTracker
from orderscope.cob.config import CobConfig, parse_rate
from orderscope.cob.member import Member, VenueState
from orderscope.cob.records import CobLevel, CobMetrics, CobSnapshot, VenueLevel
from orderscope.errors import ConfigError
from orderscope.fixed import POW10
from orderscope.model import (
    BookDelta,
    BookSnapshot,
    BookState,
    BookStatus,
    Instrument,
    Level,
    MarketEvent,
)


class CobSide:
    """One side of the COB: total size per price, sorted prices, last-change time per price."""

    __slots__ = ("changed", "prices", "sizes", "total")

    def __init__(self) -> None:
        self.sizes: dict[int, int] = {}
        self.prices: list[int] = []  # ascending on both sides (best bid last, best ask first)
        self.changed: dict[int, int] = {}
        self.total = 0


def apply_levels(
    levels: Iterable[Level],
    pm: int,
    sm: int,
    msizes: dict[int, int],
    mprices: list[int],
    side: CobSide,
    ts: int,
) -> int:
    """Apply a venue's absolute level sizes to its mirror and the COB totals in one pass.

    Returns the change of the venue's side total (venue size units). This is the hot loop of
    the COB: locals only, one dict read per level, the sorted lists touched only when a level
    appears or disappears.
    """
    csizes = side.sizes
    cprices = side.prices
    changed = side.changed
    moved = 0
    for price, size in levels:
        old = msizes.get(price, 0)
        if size == old:
            continue
        if size:
            if not old:
                insort(mprices, price)
            msizes[price] = size
        else:
            del msizes[price]
            del mprices[bisect_left(mprices, price)]
        diff = size - old
        moved += diff
        key = price * pm
        diff *= sm
        total = csizes.get(key, 0) + diff
        if total:
            if total == diff:  # the price was not in the COB
                insort(cprices, key)
            csizes[key] = total
            changed[key] = ts
        else:
            del csizes[key]
            del cprices[bisect_left(cprices, key)]
            del changed[key]
    return moved


@dataclass(slots=True)
class CobCounters:
    events: int = 0  # events of member venues handled
    ticks: int = 0
    rate_changes: int = 0

    def as_dict(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


class _RateSource:
    """A stablecoin book whose mid converts one member quote into the COB's quote."""

    __slots__ = ("book", "inverse", "quote")

    def __init__(self, instrument: Instrument, cob_quote: str) -> None:
        if instrument.quote == cob_quote:
            self.quote, self.inverse = instrument.base, False  # USDT/USD: USD per USDT
        elif instrument.base == cob_quote:
            self.quote, self.inverse = instrument.quote, True  # USD/USDT: 1 / mid
        else:
            raise ConfigError(
                f"{instrument.venue} {instrument.symbol} does not convert to {cob_quote}"
            )
        self.book = L2Book(instrument)

    def rate(self, decimals: int) -> int | None:
        """COB quote per unit of ``quote`` at ``decimals``, rounded half to even; None unknown."""
        book = self.book
        mid2 = book.mid2()
        if not book.is_synced or book.crossed or not mid2:
            return None
        scale = 2 * POW10[book.instrument.price_decimals]
        num, den = (
            (mid2 * POW10[decimals], scale)
            if not self.inverse
            else (
                scale * POW10[decimals],
                mid2,
            )
        )
        quotient, rest = divmod(num, den)
        if 2 * rest > den or (2 * rest == den and quotient % 2):
            quotient += 1
        return quotient or None


class ConsolidatedBook:
    """The COB of one instrument across venues, fed with the venues' book events."""

    def __init__(
        self,
        instruments: Iterable[Instrument],
        config: CobConfig | None = None,
        *,
        on_tick: Callable[[CobSnapshot], None] | None = None,
        on_signal: Callable[[ArbitrageSignal], None] | None = None,
    ) -> None:
        chosen = list(instruments)
        if not chosen:
            raise ConfigError("a consolidated book needs at least one venue")
        self.config = config = config or CobConfig()
        first = chosen[0]
        self.base = first.base
        if any(i.base != first.base or i.kind is not first.kind for i in chosen):
            raise ConfigError("a consolidated book merges one base asset and one instrument kind")
        quotes = {i.quote for i in chosen}
        self.quote = config.quote or (first.quote if len(quotes) == 1 else "")
        if not self.quote:
            raise ConfigError(
                f"venues quote in {', '.join(sorted(quotes))}: set CobConfig.quote and rates"
            )
        symbols = {i.symbol for i in chosen}
        self.symbol = first.symbol if len(symbols) == 1 else f"{self.base}/{self.quote}"
        converts = any(i.quote != self.quote for i in chosen)
        self.rate_decimals = config.rate_decimals if converts else 0
        self.price_decimals = max(i.price_decimals for i in chosen) + self.rate_decimals
        self.size_decimals = max(i.size_decimals for i in chosen)
        self.members = self._make_members(chosen)
        self._by_key = {(m.venue, m.instrument.symbol): m for m in self.members}
        if len(self._by_key) != len(self.members):
            raise ConfigError("the same venue instrument is listed twice")
        self.weighted = any(m.weight != 1.0 for m in self.members)
        self.bids = CobSide()
        self.asks = CobSide()
        self.clock = 0
        self._next_tick = 0  # 0: the tick grid starts at the first event
        self.stats = cob_metrics.RollingStats(config.windows_ns)
        self.arbitrage = ArbitrageTracker(self, on_signal)
        self.counters = CobCounters()
        self.on_tick = on_tick
        self._rate_sources: dict[tuple[str, str], _RateSource] = {}

    def _make_members(self, chosen: list[Instrument]) -> list[Member]:
        config = self.config
        venues = [i.venue for i in chosen]
        members = []
        for inst in sorted(chosen, key=lambda i: (i.venue, i.symbol)):
            label = inst.venue if venues.count(inst.venue) == 1 else f"{inst.venue} {inst.quote}"
            members.append(
                Member(
                    inst,
                    label,
                    scale=POW10[self.price_decimals - self.rate_decimals - inst.price_decimals],
                    sm=POW10[self.size_decimals - inst.size_decimals],
                    rate=self._configured_rate(inst.quote),
                    weight=config.weight(label, inst.venue),
                    fee=config.taker_fee(inst.venue),
                    max_depth=config.max_depth.get(inst.venue),
                )
            )
        return members

    def _configured_rate(self, quote: str) -> int | None:
        if quote == self.quote:
            return POW10[self.rate_decimals]
        text = self.config.rates.get(quote)
        if text is None:
            return None  # AWAITING_RATE until set_rate() or a live rate source gives one
        return parse_rate(text, self.rate_decimals, f"rate {quote}->{self.quote}")

    # -- configuration at run time ---------------------------------------------------------

    def member(self, label: str) -> Member:
        for m in self.members:
            if m.label == label:
                return m
        raise ConfigError(f"no venue {label!r} in the {self.symbol} COB")

    def set_rate(self, quote: str, rate: str | int) -> None:
        """Set the conversion of ``quote`` into the COB's quote (decimal string, or an int at
        ``rate_decimals``); the venues quoted in it are re-keyed exactly."""
        if quote == self.quote:
            raise ConfigError(f"{quote} is the COB's own quote")
        value = (
            parse_rate(rate, self.rate_decimals, f"rate {quote}->{self.quote}")
            if isinstance(rate, str)
            else rate
        )
        if value <= 0:
            raise ConfigError(f"rate {quote}->{self.quote} must be > 0")
        touched = [m for m in self.members if m.instrument.quote == quote]
        if not touched:
            raise ConfigError(f"no venue of the {self.symbol} COB quotes in {quote}")
        for m in touched:
            if m.rate == value:
                continue
            before = m.state
            if m.active:
                self._add(m, -1, self.clock)
            m.set_rate(value)
            self.counters.rate_changes += 1
            self._settle(m, before, self.clock, f"{quote} rate {value}")

    def add_rate_source(self, instrument: Instrument) -> None:
        """Convert a quote with a live stablecoin book (e.g. kraken USDT/USD for a USD COB):
        feed its events to ``update`` like the members'; its mid sets the rate at each tick."""
        source = _RateSource(instrument, self.quote)
        if not any(m.instrument.quote == source.quote for m in self.members):
            raise ConfigError(f"no venue of the {self.symbol} COB quotes in {source.quote}")
        self._rate_sources[(instrument.venue, instrument.symbol)] = source

    def remove_venue(self, label: str) -> None:
        """Take a venue out of the COB for good (its contribution removed exactly)."""
        m = self.member(label)
        if m.active:
            self._add(m, -1, self.clock)
            m.counters.leaves += 1
        self.members.remove(m)
        del self._by_key[(m.venue, m.instrument.symbol)]

    def load_book(self, book: L2Book, ts: int | None = None) -> None:
        """Consolidate an existing exact venue book (as if its snapshot arrived now)."""
        key = (book.instrument.venue, book.instrument.symbol)
        m = self._by_key.get(key)
        if m is None:
            raise ConfigError(f"{key[0]} {key[1]} is not a venue of the {self.symbol} COB")
        now = self._advance(ts if ts is not None else self.clock)
        self._snapshot(m, book.bids(), book.asks(), now)
        if book.state is not BookState.SYNCED:
            self._status(m, book.state, f"book {book.state.value} when loaded", now)

    # -- events ----------------------------------------------------------------------------

    def update(self, event: MarketEvent) -> None:
        """Handle one event; events of other instruments and kinds are ignored."""
        key = (event.venue, event.symbol)
        m = self._by_key.get(key)
        if m is None:
            source = self._rate_sources.get(key)
            if source is not None:
                self._advance(event.recv_ns)
                _apply_to_book(source.book, event)
            return
        now = self._advance(event.recv_ns)
        self.counters.events += 1
        # ``type() is`` rather than isinstance: the cheapest dispatch on the hot path.
        if type(event) is BookDelta:
            self._delta(m, event.bids, event.asks, now)
        elif type(event) is BookSnapshot:
            self._snapshot(m, event.bids, event.asks, now)
        elif type(event) is BookStatus:
            self._status(m, event.state, event.reason, now)

    def advance(self, ts: int) -> None:
        """Move event time forward without an event (a live session's heartbeat)."""
        self._advance(ts)

    def _advance(self, ts: int) -> int:
        if ts >= self._next_tick:
            self._tick(ts)
        if ts > self.clock:
            self.clock = ts
        return self.clock

    def _delta(self, m: Member, bids: list[Level], asks: list[Level], now: int) -> None:
        m.last_ns = now
        if m.book_state is not BookState.SYNCED:
            m.counters.skipped_deltas += 1  # the connector resyncs it; a snapshot brings it back
            return
        m.counters.deltas += 1
        if m.stale:
            before = m.state
            m.stale = False
            self._settle(m, before, now, "book update after being stale")
        if not m.active:
            m.apply_mirror(bids, asks)
            return
        pm, sm = m.pm, m.sm
        moved = apply_levels(bids, pm, sm, m.bid_sizes, m.bid_prices, self.bids, now)
        m.bid_total += moved
        self.bids.total += moved * sm
        moved = apply_levels(asks, pm, sm, m.ask_sizes, m.ask_prices, self.asks, now)
        m.ask_total += moved
        self.asks.total += moved * sm
        if m.max_depth is not None:
            self._trim(m, now)
        bid_prices = self.bids.prices
        ask_prices = self.asks.prices
        if (bid_prices and ask_prices and bid_prices[-1] >= ask_prices[0]) or self.arbitrage.open:
            self.arbitrage.check(now)

    def _trim(self, m: Member, now: int) -> None:
        bid_excess, ask_excess = m.excess_levels()
        if bid_excess:
            moved = apply_levels(bid_excess, m.pm, m.sm, m.bid_sizes, m.bid_prices, self.bids, now)
            m.bid_total += moved
            self.bids.total += moved * m.sm
        if ask_excess:
            moved = apply_levels(ask_excess, m.pm, m.sm, m.ask_sizes, m.ask_prices, self.asks, now)
            m.ask_total += moved
            self.asks.total += moved * m.sm

    def _snapshot(self, m: Member, bids: Iterable[Level], asks: Iterable[Level], now: int) -> None:
        before = m.state
        if m.active:
            self._add(m, -1, now)
        m.load(bids, asks)
        m.book_state = BookState.SYNCED
        m.stale = False
        m.last_ns = now
        m.counters.snapshots += 1
        self._settle(m, before, now, "snapshot")
        if self.arbitrage.open or self.crossed():
            self.arbitrage.check(now)

    def _status(self, m: Member, state: BookState, reason: str, now: int) -> None:
        m.last_ns = now
        if state is BookState.SYNCED:
            return  # only the snapshot that came with it (already applied) restores a book
        before = m.state
        m.book_state = state
        self._settle(m, before, now, reason)

    # -- membership ------------------------------------------------------------------------

    def _settle(self, m: Member, before: VenueState, now: int, reason: str) -> None:
        """After a member's flags changed: join or leave the COB, record the transition."""
        if m.eligible and not m.active:
            self._add(m, 1, now)
            m.counters.joins += 1
        elif m.active and not m.eligible:
            self._add(m, -1, now)
            m.counters.leaves += 1
        if m.state is not before:
            m.since_ns = now
            m.reason = reason
            if self.arbitrage.open:
                self.arbitrage.check(now)

    def _add(self, m: Member, sign: int, now: int) -> None:
        """Add (+1) or take out (-1) a member's whole mirror to or from the totals."""
        pm, sm = m.pm, m.sm
        for msizes, side, total in (
            (m.bid_sizes, self.bids, m.bid_total),
            (m.ask_sizes, self.asks, m.ask_total),
        ):
            csizes = side.sizes
            changed = side.changed
            for price, size in msizes.items():
                key = price * pm
                new = csizes.get(key, 0) + sign * size * sm
                if new:
                    csizes[key] = new
                    changed[key] = now
                else:
                    del csizes[key]
                    del changed[key]
            side.prices[:] = sorted(csizes)
            side.total += sign * total * sm
        m.active = sign > 0

    # -- the event-time grid ---------------------------------------------------------------

    def _tick(self, ts: int) -> None:
        tick = self.config.tick_ns
        boundary = ts - ts % tick
        if not self._next_tick:  # the first event starts the grid
            self._next_tick = boundary + tick
            return
        crossed = (boundary - self._next_tick) // tick + 1
        self.counters.ticks += 1
        self._check_stale(boundary)
        self._update_rates(boundary)
        cob_metrics.sample_stats(self, boundary, crossed)
        self._next_tick = boundary + tick
        if self.on_tick is not None:
            self.on_tick(self.snapshot(boundary))

    def _check_stale(self, now: int) -> None:
        limit = self.config.stale_after_ns
        for m in self.members:
            if m.state is VenueState.ACTIVE and now - m.last_ns > limit:
                before = m.state
                m.stale = True
                m.counters.stale += 1
                self._settle(m, before, now, f"no book event for {(now - m.last_ns) // 10**6} ms")

    def _update_rates(self, now: int) -> None:
        for source in self._rate_sources.values():
            rate = source.rate(self.rate_decimals)
            if rate is not None:
                self.set_rate(source.quote, rate)

    # -- reads -----------------------------------------------------------------------------

    @property
    def active_members(self) -> list[Member]:
        return [m for m in self.members if m.active]

    def best_bid(self) -> Level | None:
        prices = self.bids.prices
        return (prices[-1], self.bids.sizes[prices[-1]]) if prices else None

    def best_ask(self) -> Level | None:
        prices = self.asks.prices
        return (prices[0], self.asks.sizes[prices[0]]) if prices else None

    def mid2(self) -> int | None:
        """Twice the mid (exact), COB price units; None if a side is empty."""
        bids, asks = self.bids.prices, self.asks.prices
        return bids[-1] + asks[0] if bids and asks else None

    def crossed(self) -> bool:
        """Some venue bids at or above another's ask (an arbitrage candidate)."""
        bids, asks = self.bids.prices, self.asks.prices
        return bool(bids and asks and bids[-1] >= asks[0])

    def prices(self, is_bid: bool) -> Iterator[int]:
        """The side's prices, best first."""
        return reversed(self.bids.prices) if is_bid else iter(self.asks.prices)

    def bid_levels(self, n: int | None = None) -> list[Level]:
        """The best ``n`` (price, total size) bids, best first."""
        prices = self.bids.prices
        chosen = prices[::-1] if n is None else prices[: -n - 1 : -1] if n > 0 else []
        sizes = self.bids.sizes
        return [(p, sizes[p]) for p in chosen]

    def ask_levels(self, n: int | None = None) -> list[Level]:
        prices = self.asks.prices if n is None else self.asks.prices[:n]
        sizes = self.asks.sizes
        return [(p, sizes[p]) for p in prices]

    def venue_sizes(self, price: int, is_bid: bool) -> list[tuple[Member, int]]:
        """Each active venue's size at a COB price (COB size units), in member order."""
        out = []
        for m in self.members:
            if not m.active:
                continue
            venue_price, rest = divmod(price, m.pm)
            if rest:
                continue
            size = (m.bid_sizes if is_bid else m.ask_sizes).get(venue_price)
            if size:
                out.append((m, size * m.sm))
        return out

    def levels(self, is_bid: bool, n: int) -> list[CobLevel]:
        """The best ``n`` levels of a side with their per-venue breakdown."""
        side = self.bids if is_bid else self.asks
        prices = side.prices[: -n - 1 : -1] if is_bid else side.prices[:n]
        sizes = side.sizes
        changed = side.changed
        active = [
            (m.label, m.pm, m.sm, m.weight, m.bid_sizes if is_bid else m.ask_sizes)
            for m in self.members
            if m.active
        ]
        out = []
        for price in prices:
            parts = []
            dominant = ""
            top = 0.0
            for label, pm, sm, weight, msizes in active:
                venue_price, rest = divmod(price, pm)
                if rest:
                    continue
                size = msizes.get(venue_price)
                if size:
                    size *= sm
                    parts.append(VenueLevel(label, size, size * price))
                    if size * weight > top:
                        top = size * weight
                        dominant = label
            size = sizes[price]
            out.append(CobLevel(price, size, size * price, parts, dominant, changed[price]))
        return out

    def metrics(self) -> CobMetrics:
        return cob_metrics.compute(self, self.clock)

    def snapshot(self, ts: int | None = None, levels: int | None = None) -> CobSnapshot:
        """The top ``levels`` (default ``display_levels``) a side with breakdown, and metrics."""
        n = self.config.display_levels if levels is None else levels
        now = self.clock if ts is None else ts
        return CobSnapshot(
            now,
            self.symbol,
            self.quote,
            self.price_decimals,
            self.size_decimals,
            self.levels(True, n),
            self.levels(False, n),
            cob_metrics.compute(self, now),
        )


def _apply_to_book(book: L2Book, event: MarketEvent) -> None:
    """Keep a rate source's book from its venue's events (same rules as the members)."""
    if isinstance(event, BookSnapshot):
        book.apply_snapshot(event.bids, event.asks, event.sequence)
    elif isinstance(event, BookDelta) and book.is_synced:
        book.apply_delta(event.bids, event.asks, event.last_sequence)
    elif isinstance(event, BookStatus) and event.state is not BookState.SYNCED:
        book.mark_out_of_sync()
