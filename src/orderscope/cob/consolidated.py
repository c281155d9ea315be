"""The consolidated order book (COB) of one instrument across venues.

Each side is a dict ``price -> entry`` plus a sorted price list, where an entry is a list
``[size of venue 0, ..., size of venue n-1, total, changed_ns]``: the per-venue breakdown is the
level itself, and a venue's delta costs one dict read per level it changes (about what the
venue's own ``L2Book`` pays). Prices are on one common integer scale: the largest price
precision among the venues (plus ``rate_decimals`` when a venue's quote is converted), sizes at
the largest size precision. A venue's price is rescaled by an exact power of ten (times its
integer conversion rate), so no two distinct venue prices merge by rounding and every total
is the exact sum of the venues' books.

A venue is in the COB only while its book is trustworthy and fresh (``VenueState.ACTIVE``).
When it goes out of sync, awaits a snapshot, lacks a conversion rate or sends nothing for
``stale_after_ns`` of event time, its whole contribution is taken out (its book is "parked" on
its ``Member``) and its state says why. A stale venue comes back with its next book event (its
connector flags gaps, so an update that arrives is a correct one); an out-of-sync one only
with a snapshot.

Time is the events' receive time (``recv_ns``), the one clock all venues share (venues' own
clocks differ and some send none); it never runs backwards. Every ``tick_ns`` of event time the
COB checks staleness, updates live conversion rates, samples its rolling statistics and, if
asked, hands a display snapshot to ``on_tick``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, fields

from orderscope.book import L2Book
from orderscope.cob import metrics as cob_metrics
from orderscope.cob.arbitrage import ArbitrageSignal, ArbitrageTracker
from orderscope.cob.config import CobConfig, parse_rate
from orderscope.cob.member import Member, VenueState
from orderscope.cob.rates import RateSource
from orderscope.cob.records import CobLevel, CobMetrics, CobSnapshot, VenueLevel
from orderscope.cob.side import CHANGED, TOTAL, CobSide, apply_levels
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


@dataclass(slots=True)
class CobCounters:
    events: int = 0  # events of member venues handled
    ticks: int = 0
    rate_changes: int = 0

    def as_dict(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


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
        chosen = sorted(instruments, key=lambda i: (i.venue, i.symbol))
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
        self.bids = CobSide(len(self.members))
        self.asks = CobSide(len(self.members))
        self.clock = 0
        self._next_tick = 0  # 0: the tick grid starts at the first event
        self.stats = cob_metrics.RollingStats(config.windows_ns)
        self.arbitrage = ArbitrageTracker(self, on_signal)
        self.counters = CobCounters()
        self.on_tick = on_tick
        self._rate_sources: dict[tuple[str, str], RateSource] = {}

    def _make_members(self, chosen: list[Instrument]) -> list[Member]:
        config = self.config
        venues = [i.venue for i in chosen]
        members = []
        for slot, inst in enumerate(chosen):
            label = inst.venue if venues.count(inst.venue) == 1 else f"{inst.venue} {inst.quote}"
            members.append(
                Member(
                    inst,
                    label,
                    slot,
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
        """Set the conversion of ``quote`` into the COB's quote (a decimal string, or an int
        at ``rate_decimals``); the venues quoted in it are re-keyed exactly."""
        if quote == self.quote:
            raise ConfigError(f"{quote} is the COB's own quote")
        what = f"rate {quote}->{self.quote}"
        value = parse_rate(rate, self.rate_decimals, what) if isinstance(rate, str) else rate
        if value <= 0:
            raise ConfigError(f"{what} must be > 0")
        touched = [m for m in self.members if m.instrument.quote == quote]
        if not touched:
            raise ConfigError(f"no venue of the {self.symbol} COB quotes in {quote}")
        for m in touched:
            if m.rate == value:
                continue
            before = m.state
            if m.active:
                self._take_out(m, self.clock)
            m.set_rate(value)
            self.counters.rate_changes += 1
            self._settle(m, before, self.clock, f"{quote} rate set")

    def add_rate_source(self, instrument: Instrument) -> None:
        """Convert a quote with a live stablecoin book (e.g. kraken USDT/USD for a USD COB):
        feed its events to ``update`` like the venues'; its mid sets the rate at each tick."""
        source = RateSource(instrument, self.quote)
        if not any(m.instrument.quote == source.quote for m in self.members):
            raise ConfigError(f"no venue of the {self.symbol} COB quotes in {source.quote}")
        self._rate_sources[(instrument.venue, instrument.symbol)] = source

    def remove_venue(self, label: str) -> None:
        """Take a venue out of the COB for good (its contribution removed exactly)."""
        m = self.member(label)
        if m.active:
            self._take_out(m, self.clock)
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
                source.update(event)
            return
        ts = event.recv_ns
        if ts >= self._next_tick:
            self._tick(ts)
        if ts > self.clock:
            self.clock = ts
        now = self.clock
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
            m.apply_parked(bids, asks)
            return
        slot, pm, sm = m.slot, m.pm, m.sm
        bid_side, ask_side = self.bids, self.asks
        if bids:
            moved, count = apply_levels(bids, slot, pm, sm, bid_side, now)
            m.bid_total += moved
            m.bid_count += count
            bid_side.total += moved
        if asks:
            moved, count = apply_levels(asks, slot, pm, sm, ask_side, now)
            m.ask_total += moved
            m.ask_count += count
            ask_side.total += moved
        depth = m.max_depth
        if depth is not None and (m.bid_count > depth or m.ask_count > depth):
            self._trim(m, depth, now)
        bid_prices, ask_prices = bid_side.prices, ask_side.prices
        if (bid_prices and ask_prices and bid_prices[-1] >= ask_prices[0]) or self.arbitrage.open:
            self.arbitrage.check(now)

    def _trim(self, m: Member, depth: int, now: int) -> None:
        """Drop the venue's worst levels beyond ``depth``, as its L2Book with max_depth does."""
        for side, is_bid, count in (
            (self.bids, True, m.bid_count),
            (self.asks, False, m.ask_count),
        ):
            if count <= depth:
                continue
            worst = self._venue_prices(m, side, worst_first=True, is_bid=is_bid)
            excess = [(next(worst) // m.pm, 0) for _ in range(count - depth)]
            moved, removed = apply_levels(excess, m.slot, m.pm, m.sm, side, now)
            side.total += moved
            if is_bid:
                m.bid_total += moved
                m.bid_count += removed
            else:
                m.ask_total += moved
                m.ask_count += removed

    def _snapshot(self, m: Member, bids: Iterable[Level], asks: Iterable[Level], now: int) -> None:
        before = m.state
        if m.active:
            self._take_out(m, now)
        m.park(bids, asks)
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
        """After a member's flags changed: enter or leave the COB, record the transition."""
        if m.eligible and not m.active:
            self._bring_in(m, now)
            m.counters.joins += 1
        elif m.active and not m.eligible:
            self._take_out(m, now)
            m.counters.leaves += 1
        if m.state is not before:
            m.since_ns = now
            m.reason = reason
            if self.arbitrage.open:
                self.arbitrage.check(now)

    def _bring_in(self, m: Member, now: int) -> None:
        """Add a member's parked book to the COB's entries."""
        slot, pm, sm = m.slot, m.pm, m.sm
        totals = []
        for side, parked in ((self.bids, m.parked_bids), (self.asks, m.parked_asks)):
            levels = side.levels
            width = side.width
            moved = 0
            for price, size in parked.items():
                key = price * pm
                size *= sm
                entry = levels.get(key)
                if entry is None:
                    entry = levels[key] = [0] * width
                entry[slot] = size
                entry[TOTAL] += size
                entry[CHANGED] = now
                moved += size
            side.prices[:] = sorted(levels)
            side.total += moved
            totals.append(moved)
        m.bid_total, m.ask_total = totals
        m.bid_count, m.ask_count = len(m.parked_bids), len(m.parked_asks)
        m.parked_bids, m.parked_asks = {}, {}
        m.active = True

    def _take_out(self, m: Member, now: int) -> None:
        """Take a member's levels out of the COB's entries and park them on the member."""
        slot, pm, sm = m.slot, m.pm, m.sm
        parked: list[dict[int, int]] = []
        for side in (self.bids, self.asks):
            levels = side.levels
            own: dict[int, int] = {}
            for key, entry in list(levels.items()):
                size = entry[slot]
                if not size:
                    continue
                own[key // pm] = size // sm
                entry[slot] = 0
                entry[TOTAL] -= size
                entry[CHANGED] = now
                if not entry[TOTAL]:
                    del levels[key]
            side.prices[:] = sorted(levels)
            parked.append(own)
        self.bids.total -= m.bid_total
        self.asks.total -= m.ask_total
        m.parked_bids, m.parked_asks = parked
        m.bid_total = m.ask_total = m.bid_count = m.ask_count = 0
        m.active = False

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
        for source in self._rate_sources.values():
            rate = source.rate(self.rate_decimals)
            if rate is not None:
                self.set_rate(source.quote, rate)
        self._next_tick = boundary + tick
        if self.on_tick is None:  # the imbalance band alone feeds the rolling stats
            band = cob_metrics.band_liquidity(self, [self.config.imbalance_bps])[0]
            cob_metrics.sample_stats(self, boundary, crossed, band)
            return
        bands = cob_metrics.all_bands(self)  # computed once for the stats and the display
        cob_metrics.sample_stats(self, boundary, crossed, bands[-1])
        self.on_tick(self._snapshot_at(boundary, self.config.display_levels, bands))

    def _check_stale(self, now: int) -> None:
        limit = self.config.stale_after_ns
        for m in self.members:
            if m.state is VenueState.ACTIVE and now - m.last_ns > limit:
                before = m.state
                m.stale = True
                m.counters.stale += 1
                self._settle(m, before, now, f"no book event for {(now - m.last_ns) // 10**6} ms")

    # -- reads: the consolidated book ------------------------------------------------------

    @property
    def active_members(self) -> list[Member]:
        return [m for m in self.members if m.active]

    def best_bid(self) -> Level | None:
        prices = self.bids.prices
        return (prices[-1], self.bids.levels[prices[-1]][TOTAL]) if prices else None

    def best_ask(self) -> Level | None:
        prices = self.asks.prices
        return (prices[0], self.asks.levels[prices[0]][TOTAL]) if prices else None

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
        levels = self.bids.levels
        return [(p, levels[p][TOTAL]) for p in chosen]

    def ask_levels(self, n: int | None = None) -> list[Level]:
        prices = self.asks.prices if n is None else self.asks.prices[:n]
        levels = self.asks.levels
        return [(p, levels[p][TOTAL]) for p in prices]

    def venue_sizes(self, price: int, is_bid: bool) -> list[tuple[Member, int]]:
        """Each venue's size at a COB price (COB size units), in member order."""
        entry = (self.bids if is_bid else self.asks).levels.get(price)
        if entry is None:
            return []
        return [(m, entry[m.slot]) for m in self.members if entry[m.slot]]

    def levels(self, is_bid: bool, n: int) -> list[CobLevel]:
        """The best ``n`` levels of a side with their per-venue breakdown."""
        side = self.bids if is_bid else self.asks
        prices = side.prices[: -n - 1 : -1] if is_bid else side.prices[:n]
        levels = side.levels
        members = [(m.slot, m.label, m.weight) for m in self.members]
        out = []
        for price in prices:
            entry = levels[price]
            parts = []
            dominant = ""
            top = 0.0
            for slot, label, weight in members:
                size = entry[slot]
                if size:
                    parts.append(VenueLevel(label, size, size * price))
                    if size * weight > top:
                        top = size * weight
                        dominant = label
            size = entry[TOTAL]
            out.append(CobLevel(price, size, size * price, parts, dominant, entry[CHANGED]))
        return out

    # -- reads: one venue ------------------------------------------------------------------

    def _venue_prices(
        self, m: Member, side: CobSide, *, worst_first: bool, is_bid: bool
    ) -> Iterator[int]:
        """COB prices where an active member has size, best (or worst) first."""
        slot = m.slot
        levels = side.levels
        ascending = is_bid == worst_first  # bid prices ascend from the worst
        ordered = iter(side.prices) if ascending else reversed(side.prices)
        return (price for price in ordered if levels[price][slot])

    def venue_ladder(self, m: Member, is_bid: bool) -> Iterator[Level]:
        """An active member's (COB price, COB size) levels of a side, best first."""
        side = self.bids if is_bid else self.asks
        levels = side.levels
        slot = m.slot
        for price in self._venue_prices(m, side, worst_first=False, is_bid=is_bid):
            yield price, levels[price][slot]

    def venue_levels(self, m: Member, is_bid: bool, n: int | None = None) -> list[Level]:
        """A member's book side in its own units, best first (what its L2Book holds)."""
        if not m.active:
            parked = m.parked_bids if is_bid else m.parked_asks
            return sorted(parked.items(), reverse=is_bid)[:n]
        out: list[Level] = []
        for price, size in self.venue_ladder(m, is_bid):
            if n is not None and len(out) >= n:
                break
            out.append((price // m.pm, size // m.sm))
        return out

    def venue_best(self, m: Member, is_bid: bool) -> int | None:
        """A member's best price on the COB's scale (None without levels or a rate)."""
        best = self.venue_levels(m, is_bid, 1)
        return best[0][0] * m.pm if best and m.pm else None

    def venue_depth(self, m: Member) -> tuple[int, int]:
        if m.active:
            return m.bid_count, m.ask_count
        return len(m.parked_bids), len(m.parked_asks)

    def venue_totals(self, m: Member) -> tuple[int, int]:
        """A member's (bid, ask) liquidity in COB size units."""
        if m.active:
            return m.bid_total, m.ask_total
        return sum(m.parked_bids.values()) * m.sm, sum(m.parked_asks.values()) * m.sm

    # -- reads: figures --------------------------------------------------------------------

    def metrics(self) -> CobMetrics:
        return cob_metrics.compute(self, self.clock)

    def snapshot(self, ts: int | None = None, levels: int | None = None) -> CobSnapshot:
        """The top ``levels`` (default ``display_levels``) a side with breakdown, and metrics."""
        n = self.config.display_levels if levels is None else levels
        return self._snapshot_at(self.clock if ts is None else ts, n, None)

    def _snapshot_at(
        self, now: int, n: int, bands: list[tuple[float, float]] | None
    ) -> CobSnapshot:
        return CobSnapshot(
            now,
            self.symbol,
            self.quote,
            self.price_decimals,
            self.size_decimals,
            self.levels(True, n),
            self.levels(False, n),
            cob_metrics.compute(self, now, bands),
        )
