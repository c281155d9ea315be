"""A live session (live.py + a real connector) against an emulated venue, over loopback."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import aiohttp

from orderscope.book import L2Book
from orderscope.emulator import Emulator, VenueProtocol
from orderscope.emulator.wire import stripped_text
from orderscope.live import LiveConfig, LiveSession, RestClient, load_instruments
from orderscope.model import BookState, FeedState, FeedStatus, MarketEvent, Side, Trade
from orderscope.synthetic import MarketSpec, MarketStep, SyntheticMarket
from orderscope.venues.base import Endpoints, Venue

#: Quick to reconnect, slow to give up: a loaded machine may hold a process back for seconds,
#: which must not pass for a stale feed or an unanswered resubscribe.
FAST = LiveConfig(
    stale_after_s=10.0, backoff_initial_s=0.05, backoff_max_s=0.2, resubscribe_timeout_s=10.0
)
#: For the stall tests: a feed quiet for 1.5 s is stale (the stall lasts longer).
QUICK_STALE = LiveConfig(
    stale_after_s=1.5, backoff_initial_s=0.05, backoff_max_s=0.2, resubscribe_timeout_s=10.0
)
TIMEOUT_S = 20.0  # generous: the machine may be loaded; nothing asserts on wall time

Levels = list[tuple[str, str]]


@dataclass
class Rig:
    emulator: Emulator
    protocol: VenueProtocol
    venue: Venue
    session: LiveSession
    events: list[MarketEvent] = field(default_factory=list)
    fills: dict[str, list[tuple[int, int, Side]]] = field(default_factory=dict)

    def statuses(self) -> list[FeedState]:
        return [e.state for e in self.events if isinstance(e, FeedStatus)]

    def book(self, venue_symbol: str) -> L2Book:
        return self.venue.books[self.venue.by_venue_symbol[venue_symbol].symbol]

    def trades(self) -> list[Trade]:
        return [e for e in self.events if isinstance(e, Trade)]


def _recording_fills(market: SyntheticMarket, fills: list[tuple[int, int, Side]]) -> None:
    """Keep every fill the market makes (what the venue's trade frames must carry)."""
    step = market.step

    def recorded() -> MarketStep:
        result = step()
        fills.extend(result.fills)
        return result

    market.step = recorded  # type: ignore[method-assign]


@asynccontextmanager
async def rig(
    protocol_cls: type[VenueProtocol],
    venue_cls: type[Venue],
    specs: list[MarketSpec],
    *,
    config: LiveConfig = FAST,
    seed: int = 7,
) -> AsyncIterator[Rig]:
    """An emulated venue with these markets and a live session subscribed to all of them."""
    markets = {
        protocol_cls.venue_symbol(spec): SyntheticMarket(spec, seed + n)
        for n, spec in enumerate(specs)
    }
    fills: dict[str, list[tuple[int, int, Side]]] = {}
    for symbol, market in markets.items():
        _recording_fills(market, fills.setdefault(symbol, []))
    protocol = protocol_cls(markets)  # type: ignore[call-arg]
    async with live_rig(protocol, venue_cls, list(markets), config=config) as r:
        r.fills = fills
        yield r


@asynccontextmanager
async def live_rig(
    protocol: VenueProtocol,
    venue_cls: type[Venue],
    venue_symbols: list[str],
    *,
    config: LiveConfig = FAST,
    speed: float = 1.0,
) -> AsyncIterator[Rig]:
    """An emulator serving ``protocol`` and a live session subscribed to these symbols."""
    emulator = Emulator([protocol], speed=speed)
    await emulator.start()
    endpoints = Endpoints(emulator.url(protocol.name, "ws"), emulator.url(protocol.name))
    async with aiohttp.ClientSession() as http_session:
        http = RestClient(http_session)
        instruments = await load_instruments(http, venue_cls, endpoints)
        venue = venue_cls(instruments, endpoints=endpoints)
        wanted = [venue.by_venue_symbol[s] for s in venue_symbols]
        events: list[MarketEvent] = []
        session = LiveSession(
            venue, wanted, http, lambda _v, evs: events.extend(evs), config=config, seed=1
        )
        task = asyncio.ensure_future(session.run())
        try:
            yield Rig(emulator, protocol, venue, session, events)
        finally:
            session.stop()
            await asyncio.wait_for(task, 10)
            await emulator.stop()


async def wait_for(condition: Callable[[], bool], timeout: float = TIMEOUT_S) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        await asyncio.sleep(0.02)
    return condition()


def levels(book: L2Book, depth: int | None = None) -> tuple[Levels, Levels]:
    """Both sides as exact decimal text (the emulator and the client scale differently)."""
    pd, sd = book.instrument.price_decimals, book.instrument.size_decimals

    def text(side: list[tuple[int, int]]) -> Levels:
        return [(stripped_text(p, pd), stripped_text(s, sd)) for p, s in side]

    return text(book.bids(depth)), text(book.asks(depth))


def synced(r: Rig) -> bool:
    books = r.venue.books
    return len(books) == len(r.protocol.markets) and all(
        b.state is BookState.SYNCED for b in books.values()
    )


async def settle_and_compare(r: Rig, depth: int | None = None) -> None:
    """Let the session recover, pause the market, let the client drain, compare every book."""
    assert await wait_for(lambda: synced(r)), "the session did not resync by itself"
    await asyncio.sleep(0.3)  # a few more updates after the recovery
    r.emulator.pause()

    def equal() -> bool:
        return synced(r) and all(
            levels(r.book(symbol)) == levels(market.book, depth)
            for symbol, market in r.protocol.markets.items()
        )

    assert await wait_for(equal), "the client's book differs from the emulator's"


def lost_outcome(r: Rig) -> tuple[int, int]:
    """How the losses the emulator injected ended: (shown to the client, healed unseen)."""
    fired = r.protocol.faults.fired
    return fired.get("lost_detected", 0), fired.get("lost_healed", 0)


def assert_trades_match(r: Rig) -> None:
    """The client's trades are the market's fills (the last ones, since it subscribed), with
    the aggressor's side."""
    for symbol, fills in r.fills.items():
        instrument = r.venue.by_venue_symbol[symbol]
        got = [(t.price, t.size, t.side) for t in r.trades() if t.symbol == instrument.symbol]
        scale_p = 10 ** (instrument.price_decimals - r.protocol.markets[symbol].spec.price_decimals)
        scale_s = 10 ** (instrument.size_decimals - r.protocol.markets[symbol].spec.size_decimals)
        want = [(p * scale_p, s * scale_s, side) for p, s, side in fills]
        assert got, f"no trades for {symbol}"
        assert got == want[len(want) - len(got) :]


@asynccontextmanager
async def serving(
    protocol: VenueProtocol, speed: float = 1.0
) -> AsyncIterator[tuple[Emulator, aiohttp.ClientSession]]:
    """An emulator serving ``protocol``, and an HTTP client to talk to it by hand."""
    emulator = Emulator([protocol], speed=speed)
    await emulator.start()
    try:
        async with aiohttp.ClientSession() as http:
            yield emulator, http
    finally:
        await emulator.stop()


async def receive_until(
    ws: aiohttp.ClientWebSocketResponse, condition: Callable[[str], bool], limit: int = 5_000
) -> list[str]:
    """Text frames received up to (and with) the first one ``condition`` accepts."""
    frames: list[str] = []
    for _ in range(limit):
        message = await asyncio.wait_for(ws.receive(), TIMEOUT_S)
        assert message.type is aiohttp.WSMsgType.TEXT, message
        frames.append(message.data)
        if condition(message.data):
            return frames
    raise AssertionError(f"not seen in {limit} frames")
