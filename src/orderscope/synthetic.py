"""A synthetic market: a stochastic order-flow model that produces a realistic book and trades.

Used by the venue emulator (and through it the offline demo and the live-path tests). The model
is the classic zero-intelligence one with a few touches that make the picture look like a real
BTC/USDT book:

- limit orders arrive near the touch (distance in ticks geometric), sometimes inside the spread;
  sizes are log-normal, so a few levels carry walls;
- cancels hit levels near the touch more often than far ones, partially or wholly;
- market orders have log-normal sizes with a heavy tail, so some sweep several levels; their
  side has a little persistence, which makes the mid trend and revert;
- the book is replenished at its far end so it keeps its depth.

Several markets can quote one asset: a market given an ``anchor`` (another market's mid) leans
its market orders towards it, so venues of the demo drift together instead of apart, a few ticks
from one another, as arbitrage keeps real venues.

Inter-arrival times are exponential. Everything is driven by a seeded ``random.Random`` and a
simulated clock, so the same seed gives the same market: the emulator maps simulated time onto
the wall clock, the model never reads it.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field

from orderscope.book import L2Book
from orderscope.errors import ConfigError
from orderscope.model import Instrument, InstrumentKind, Side

#: One level change: (is_bid, price, new absolute size); size 0 removes the level.
Change = tuple[bool, int, int]
#: One fill: (price, size, aggressor side).
Fill = tuple[int, int, Side]
#: A reference price a market is pulled towards (price units), None when there is none yet.
Anchor = Callable[[], int | None]
#: Gap to the anchor, in ticks, at which nine orders in ten go towards it.
ANCHOR_PULL_TICKS = 30
#: Gap beyond which a market order towards the anchor takes every level up to it.
ANCHOR_SWEEP_TICKS = 20


@dataclass(frozen=True, slots=True)
class MarketSpec:
    """A synthetic instrument and the intensity of its order flow."""

    base: str = "BTC"
    quote: str = "USDT"
    start_price: int = 6_000_000  # in price units: 60,000.00 at 2 decimals
    price_decimals: int = 2
    size_decimals: int = 5
    tick: int = 1  # price units
    depth: int = 150  # levels a side the book is kept at
    events_per_second: float = 200.0
    median_order: float = 0.05  # base units, limit orders
    median_market_order: float = 0.08  # base units

    @property
    def symbol(self) -> str:
        return f"{self.base}/{self.quote}"

    def instrument(self, venue: str, venue_symbol: str) -> Instrument:
        return Instrument(
            venue=venue,
            symbol=self.symbol,
            venue_symbol=venue_symbol,
            base=self.base,
            quote=self.quote,
            kind=InstrumentKind.SPOT,
            price_decimals=self.price_decimals,
            size_decimals=self.size_decimals,
            tick_size=self.tick,
            lot_size=1,
        )


#: A BTC/USDT-like market: $0.10 rows of liquidity over about $25 each side.
BTC_USDT = MarketSpec(tick=10, depth=250)
#: An ETH/USDT-like market: $0.01 ticks, 200 levels a side.
ETH_USDT = MarketSpec(
    base="ETH",
    start_price=300_000,
    depth=200,
    median_order=0.8,
    median_market_order=1.2,
    events_per_second=150.0,
)
#: A SOL/USDT-like market: $0.01 ticks around 150.00, sizes to the thousandth.
SOL_USDT = MarketSpec(
    base="SOL",
    start_price=15_000,
    size_decimals=3,
    depth=150,
    median_order=12.0,
    median_market_order=20.0,
    events_per_second=120.0,
)
#: An XRP/USDT-like market: 4 price decimals around 0.5000, sizes to the tenth.
XRP_USDT = MarketSpec(
    base="XRP",
    start_price=5_000,
    price_decimals=4,
    size_decimals=1,
    depth=100,
    median_order=1_500.0,
    median_market_order=2_500.0,
    events_per_second=100.0,
)
#: A DOGE/USDT-like market: 5 price decimals around 0.15000, whole coins.
DOGE_USDT = MarketSpec(
    base="DOGE",
    start_price=15_000,
    price_decimals=5,
    size_decimals=0,
    depth=100,
    median_order=4_000.0,
    median_market_order=6_000.0,
    events_per_second=100.0,
)
#: The synthetic markets by unified symbol.
SPECS: dict[str, MarketSpec] = {
    spec.symbol: spec for spec in (BTC_USDT, ETH_USDT, SOL_USDT, XRP_USDT, DOGE_USDT)
}


def spec_for(symbol: str) -> MarketSpec:
    """The synthetic market of a unified symbol (``BTC/USDT``), or ConfigError."""
    try:
        return SPECS[symbol]
    except KeyError:
        known = ", ".join(SPECS)
        raise ConfigError(f"no synthetic market for {symbol!r} (known: {known})") from None


@dataclass(frozen=True, slots=True)
class MarketStep:
    """What one step of the model did: elapsed simulated time, level changes, fills.

    ``before`` holds the size each changed level had before the step (aligned with
    ``changes``): what a client that missed the step still shows.
    """

    dt_ns: int
    changes: list[Change]
    fills: list[Fill]
    before: list[int] = field(default_factory=list)


class SyntheticMarket:
    """The true book of one synthetic instrument, moved one order at a time."""

    def __init__(
        self,
        spec: MarketSpec,
        seed: int,
        instrument: Instrument | None = None,
        anchor: Anchor | None = None,
    ) -> None:
        self.spec = spec
        self.anchor = anchor
        self.rng = random.Random(seed)
        self.book = L2Book(instrument or spec.instrument("synthetic", spec.symbol.replace("/", "")))
        self._lot = 10**spec.size_decimals
        self._last_side = Side.BUY
        self._before: list[int] = []
        bids: list[tuple[int, int]] = []
        asks: list[tuple[int, int]] = []
        for i in range(1, spec.depth + 1):
            bids.append((spec.start_price - i * spec.tick, self._size(spec.median_order * 1.5)))
            asks.append((spec.start_price + i * spec.tick, self._size(spec.median_order * 1.5)))
        self.book.apply_snapshot(bids, asks)

    def _size(self, median: float, sigma: float = 1.0) -> int:
        return max(1, int(self.rng.lognormvariate(math.log(median), sigma) * self._lot))

    def step(self) -> MarketStep:
        """Advance the market by one order (limit, cancel or market)."""
        rng = self.rng
        self._before = []
        dt_ns = max(1, int(rng.expovariate(self.spec.events_per_second) * 1e9))
        u = rng.random()
        if u < 0.07:
            changes, fills = self._market_order()
        elif u < 0.65:
            changes, fills = self._limit_order(), []
        else:
            changes, fills = self._cancel(), []
        changes.extend(self._replenish())
        return MarketStep(dt_ns, changes, fills, self._before)

    def _market_order(self) -> tuple[list[Change], list[Fill]]:
        rng = self.rng
        # A little persistence in the aggressor side makes the mid trend and revert.
        side = self._last_side if rng.random() < 0.6 else Side(-self._last_side)
        side = self._towards_anchor(side)
        self._last_side = side
        remaining = self._size(self.spec.median_market_order, sigma=1.3)
        levels = self.book.asks() if side is Side.BUY else self.book.bids()
        through = self._sweep_to(side)
        if through is not None:
            before = [
                s for p, s in levels[:-5] if (p < through if side is Side.BUY else p > through)
            ]
            remaining = max(remaining, sum(before))
        changes: list[Change] = []
        fills: list[Fill] = []
        is_bid = side is Side.SELL
        for price, size in levels[:-5]:  # never empty a side
            if remaining <= 0:
                break
            take = min(size, remaining)
            remaining -= take
            fills.append((price, take, side))
            changes.append((is_bid, price, size - take))
        self._apply(changes)
        return changes, fills

    def _towards_anchor(self, side: Side) -> Side:
        """Arbitrage, crudely: the further the mid from the anchor, the likelier an order that
        closes the gap (buying below it, selling above it). No anchor: ``side`` unchanged."""
        if self.anchor is None:
            return side
        target, mid2 = self.anchor(), self.book.mid2()
        if target is None or mid2 is None:
            return side
        gap_ticks = (2 * target - mid2) / (2 * self.spec.tick)
        if self.rng.random() < min(0.9, 0.9 * abs(gap_ticks) / ANCHOR_PULL_TICKS):
            return Side.BUY if gap_ticks > 0 else Side.SELL
        return side

    def _sweep_to(self, side: Side) -> int | None:
        """The anchor, when the mid is far from it on ``side``'s way: an arbitrageur's order
        then takes every level up to it (a venue left behind catches up at once)."""
        if self.anchor is None:
            return None
        target, mid2 = self.anchor(), self.book.mid2()
        if target is None or mid2 is None:
            return None
        gap_ticks = (2 * target - mid2) / (2 * self.spec.tick)
        if abs(gap_ticks) < ANCHOR_SWEEP_TICKS or (gap_ticks > 0) != (side is Side.BUY):
            return None
        return target

    def mid(self) -> int | None:
        """The mid price in price units (rounded down to a unit), None if a side is empty."""
        mid2 = self.book.mid2()
        return None if mid2 is None else mid2 // 2

    def _limit_order(self) -> list[Change]:
        rng = self.rng
        is_bid = rng.random() < 0.5
        best_bid = self.book.best_bid()
        best_ask = self.book.best_ask()
        assert best_bid is not None and best_ask is not None
        tick = self.spec.tick
        spread_ticks = (best_ask[0] - best_bid[0]) // tick
        if spread_ticks > 1 and rng.random() < 0.8:
            # Liquidity providers step in quickly when the spread opens up.
            distance = -rng.randint(1, spread_ticks - 1)
            is_bid = self._towards_anchor(Side.BUY if is_bid else Side.SELL) is Side.BUY
        else:
            distance = min(int(rng.expovariate(0.3)), self.spec.depth - 1)
        price = best_bid[0] - distance * tick if is_bid else best_ask[0] + distance * tick
        if price <= 0:  # a market that fell near zero: no bid at or below it
            return []
        size = self._size(self.spec.median_order)
        current = self.book.bid_size(price) if is_bid else self.book.ask_size(price)
        change = (is_bid, price, current + size)
        self._apply([change])
        return [change]

    def _cancel(self) -> list[Change]:
        rng = self.rng
        is_bid = rng.random() < 0.5
        levels = self.book.bids(40) if is_bid else self.book.asks(40)
        if len(levels) <= 5:
            return []
        index = min(int(rng.expovariate(0.12)), len(levels) - 1)
        price, size = levels[index]
        remaining = 0 if rng.random() < 0.4 else int(size * rng.uniform(0.1, 0.9))
        change = (is_bid, price, remaining)
        self._apply([change])
        return [change]

    def _replenish(self) -> list[Change]:
        """Keep about ``depth`` levels a side: refill the far end, or cancel beyond it."""
        changes: list[Change] = []
        n_bids, n_asks = self.book.depth()
        tick = self.spec.tick
        if n_bids > self.spec.depth + 10:
            changes.append((True, self.book.bids()[-1][0], 0))
        if n_asks > self.spec.depth + 10:
            changes.append((False, self.book.asks()[-1][0], 0))
        if n_bids < self.spec.depth and (worst := self.book.bids()[-1][0]) > tick:
            changes.append((True, worst - tick, self._size(self.spec.median_order * 2)))
        if n_asks < self.spec.depth:
            worst = self.book.asks()[-1][0]
            changes.append((False, worst + tick, self._size(self.spec.median_order * 2)))
        self._apply(changes)
        return changes

    def _apply(self, changes: list[Change]) -> None:
        book = self.book
        self._before.extend(
            book.bid_size(price) if is_bid else book.ask_size(price) for is_bid, price, _ in changes
        )
        bids = [(p, s) for is_bid, p, s in changes if is_bid]
        asks = [(p, s) for is_bid, p, s in changes if not is_bid]
        if bids or asks:
            book.apply_delta(bids, asks)
