"""Where the engine's events come from in the server: live sessions to venues (or the emulator).

``LiveFeeds`` runs one ``LiveSession`` per venue: it loads the venue's instruments, keeps the
configured symbols the venue lists, registers them with the engine and hands the session's
events to ``Engine.on_events``. A venue that cannot be reached is retried with back-off; a venue
whose connector has no live-session support yet says so in its status instead of failing.

``demo_feeds`` starts the venue emulator on loopback with synthetic BTC/USDT and ETH/USDT markets
and points the same live sessions at it, so the demo runs the whole live path offline.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

import aiohttp

from orderscope.emulator import (
    BinanceEmulator,
    CoinbaseEmulator,
    Emulator,
    KrakenEmulator,
    VenueProtocol,
)
from orderscope.engine import Engine
from orderscope.errors import ConfigError, FrameError
from orderscope.live import LiveConfig, LiveSession, RestClient, RestError, backoff_delay
from orderscope.live import load_instruments as fetch_instruments
from orderscope.model import FeedState, FeedStatus, Instrument
from orderscope.synthetic import BTC_USDT, ETH_USDT, MarketSpec, SyntheticMarket
from orderscope.venues import venue_class
from orderscope.venues.base import Endpoints, Venue
from orderscope.venues.binance import BinanceSpot
from orderscope.venues.coinbase import CoinbaseExchange
from orderscope.venues.kraken import Kraken

log = logging.getLogger("orderscope.service")


def supports_live(cls: type[Venue]) -> bool:
    """Whether a connector implements the live-session hooks of ``venues.base.Venue``."""
    return cls.connections is not Venue.connections and bool(
        cls.instruments_urls(cls.default_endpoints)
    )


@dataclass(slots=True)
class VenueFeed:
    """One venue as the server runs it."""

    name: str
    cls: type[Venue]
    endpoints: Endpoints
    state: str = "starting"  # starting | loading | running | unsupported | no_symbols | error
    reason: str = ""
    symbols: tuple[str, ...] = ()  # the configured symbols the venue lists
    session: LiveSession | None = None


class LiveFeeds:
    """Live sessions for the configured venues, feeding one engine."""

    def __init__(
        self,
        engine: Engine,
        venues: Mapping[str, type[Venue]],
        symbols: Sequence[str],
        *,
        endpoints: Mapping[str, Endpoints] | None = None,
        config: LiveConfig | None = None,
    ) -> None:
        self.engine = engine
        self.symbols = tuple(symbols)
        self.config = config or LiveConfig()
        endpoints = endpoints or {}
        self.venues = {
            name: VenueFeed(name, cls, endpoints.get(name, cls.default_endpoints))
            for name, cls in venues.items()
        }
        self._rng = random.Random()
        self._tasks: list[asyncio.Task[None]] = []
        self._http: aiohttp.ClientSession | None = None
        self._stopping = asyncio.Event()

    @classmethod
    def by_name(cls, engine: Engine, venues: Sequence[str], symbols: Sequence[str]) -> LiveFeeds:
        return cls(engine, {name: venue_class(name) for name in venues}, symbols)

    async def start(self) -> None:
        timeout = aiohttp.ClientTimeout(total=30, connect=self.config.connect_timeout_s)
        self._http = aiohttp.ClientSession(timeout=timeout)
        http = RestClient(self._http)
        self._tasks = [
            asyncio.ensure_future(self._run(feed, http)) for feed in self.venues.values()
        ]

    async def stop(self) -> None:
        self._stopping.set()
        for feed in self.venues.values():
            if feed.session is not None:
                feed.session.stop()
        if self._tasks:
            _, pending = await asyncio.wait(self._tasks, timeout=5)
            for task in pending:
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._http is not None:
            await self._http.close()

    def _status(self, feed: VenueFeed, state: str, reason: str, feed_state: FeedState) -> None:
        feed.state, feed.reason = state, reason
        # the transport's clock (as live.py's): the engine itself never reads one
        event = FeedStatus(feed.name, "", 0, time.time_ns(), feed_state, f"{state}: {reason}")
        self.engine.on_events(None, [event])

    async def _run(self, feed: VenueFeed, http: RestClient) -> None:
        if not supports_live(feed.cls):
            self._status(
                feed,
                "unsupported",
                "this connector has no live-session support yet",
                FeedState.STOPPED,
            )
            return
        attempt = 0
        while not self._stopping.is_set():
            self._status(feed, "loading", "fetching the instrument list", FeedState.CONNECTING)
            try:
                instruments = await fetch_instruments(http, feed.cls, feed.endpoints)
            except (RestError, FrameError) as error:
                delay = backoff_delay(attempt, self.config, self._rng)
                attempt += 1
                self._status(feed, "error", f"{error}; retry in {delay:.1f}s", FeedState.BACKOFF)
                try:
                    await asyncio.wait_for(self._stopping.wait(), delay)
                except TimeoutError:
                    continue
                return
            await self._session(feed, http, instruments)
            return

    async def _session(
        self, feed: VenueFeed, http: RestClient, instruments: list[Instrument]
    ) -> None:
        listed = {i.symbol: i for i in instruments}
        wanted = [listed[s] for s in self.symbols if s in listed]
        feed.symbols = tuple(i.symbol for i in wanted)
        if not wanted:
            self._status(
                feed, "no_symbols", f"lists none of {', '.join(self.symbols)}", FeedState.STOPPED
            )
            return
        try:
            venue = feed.cls(instruments, feed.symbols, endpoints=feed.endpoints)
        except ConfigError as error:  # pragma: no cover - symbols come from its own list
            self._status(feed, "error", str(error), FeedState.STOPPED)
            return
        self.engine.add_venue(venue, wanted)
        feed.state, feed.reason = "running", f"{len(wanted)} symbol(s)"
        feed.session = LiveSession(venue, wanted, http, self.engine.on_events, config=self.config)
        await feed.session.run()


# -- the demo -------------------------------------------------------------------------------


def binance_symbol(spec: MarketSpec) -> str:
    return f"{spec.base}{spec.quote}"


@dataclass(frozen=True, slots=True)
class DemoVenue:
    """One emulated venue of the demo: its name, the emulator protocol (built from its markets
    by venue symbol), the connector, and how the venue writes a market's symbol."""

    name: str
    protocol: Callable[[dict[str, SyntheticMarket]], VenueProtocol]
    connector: type[Venue]
    venue_symbol: Callable[[MarketSpec], str] = binance_symbol


#: The demo's venues: three real protocols (Binance's combined streams with REST depth
#: snapshots, Coinbase Exchange's level2 / matches, Kraken's checksummed book), each emulated on
#: loopback with the same two synthetic markets. Every venue lists them under the same unified
#: symbols (Coinbase writes BTC-USDT, Kraken XBT/USDT), so the consolidated book merges them.
DEMO_VENUES: tuple[DemoVenue, ...] = (
    DemoVenue("binance", BinanceEmulator, BinanceSpot),
    DemoVenue("coinbase", CoinbaseEmulator, CoinbaseExchange, CoinbaseEmulator.venue_symbol),
    DemoVenue("kraken", KrakenEmulator, Kraken, KrakenEmulator.venue_symbol),
)
#: The demo's markets: the synthetic BTC and ETH with smaller market orders than the emulator's
#: defaults, whose sweeps often leave the touch bare so that the price jumps tens of dollars in a
#: second. Calmer, the heatmap reads like a real market's, with a burst now and then.
DEMO_MARKETS: tuple[MarketSpec, ...] = (
    replace(BTC_USDT, median_market_order=0.025, median_order=0.07),
    replace(ETH_USDT, median_market_order=0.6, median_order=1.0),
)
DEMO_SYMBOLS = tuple(spec.symbol for spec in DEMO_MARKETS)
#: Levels a side in the demo's book pushes, so the dashboard's heatmap and ladder cover about
#: $10 of BTC either side of the touch (the server's default of 20 suits clients that want the
#: top of the book; ``[analytics] book_depth`` sets it for ``orderscope serve``).
DEMO_BOOK_DEPTH = 100
#: Footprint and profile rows of the demo: the automatic ones (half a basis point of price) are
#: coarse for the demo's calm markets.
DEMO_ROWS = {"BTC/USDT": "0.5", "ETH/USDT": "0.05"}


def renamed(cls: type[Venue], name: str) -> type[Venue]:
    """A connector class under another venue name (a stand-in venue of the demo)."""
    if cls.name == name:
        return cls
    return type(f"{cls.__name__}As{name.title().replace('_', '')}", (cls,), {"name": name})


class DemoFeeds:
    """The emulator on loopback, and live feeds pointed at it."""

    def __init__(
        self,
        engine: Engine,
        venues: Sequence[DemoVenue] = DEMO_VENUES,
        markets: Sequence[MarketSpec] = DEMO_MARKETS,
        *,
        seed: int = 1,
        speed: float = 1.0,
        config: LiveConfig | None = None,
    ) -> None:
        protocols: list[VenueProtocol] = []
        leaders: dict[str, SyntheticMarket] = {}  # the first venue's market of each symbol
        for n, demo in enumerate(venues):
            own: dict[str, SyntheticMarket] = {}
            for k, spec in enumerate(markets):
                # The other venues' markets are pulled towards the first one's mid: one asset
                # quoted a few ticks apart, as on real venues, not independent random walks.
                leader = leaders.get(spec.symbol)
                own[demo.venue_symbol(spec)] = market = SyntheticMarket(
                    spec, seed + 100 * n + k, anchor=leader.mid if leader is not None else None
                )
                leaders.setdefault(spec.symbol, market)
            protocol = demo.protocol(own)
            protocol.name = demo.name  # a stand-in venue is served under its own name
            protocols.append(protocol)
        self.emulator = Emulator(protocols, speed=speed)
        self.demo_venues = tuple(venues)
        self.engine = engine
        self.config = config
        self.live: LiveFeeds | None = None
        self.symbols = tuple(spec.symbol for spec in markets)

    async def start(self) -> None:
        await self.emulator.start()
        endpoints = {
            v.name: Endpoints(self.emulator.url(v.name, "ws"), self.emulator.url(v.name))
            for v in self.demo_venues
        }
        classes = {v.name: renamed(v.connector, v.name) for v in self.demo_venues}
        self.live = LiveFeeds(
            self.engine, classes, self.symbols, endpoints=endpoints, config=self.config
        )
        await self.live.start()

    @property
    def venues(self) -> Mapping[str, VenueFeed]:
        return self.live.venues if self.live is not None else {}

    async def stop(self) -> None:
        if self.live is not None:
            await self.live.stop()
        await self.emulator.stop()
