"""The real live path (live.py + the Binance connector) against the emulator over loopback.

For each fault the emulator can inject, the session must recover by itself, the book must end
equal to the emulator's true book, and the counters must say what happened.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import socket
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
from aiohttp import web

from orderscope.book import L2Book
from orderscope.capture import CaptureRecord, RecordKind
from orderscope.emulator import BinanceEmulator, Emulator
from orderscope.live import LiveConfig, LiveSession, RestClient, load_instruments
from orderscope.model import BookState, BookStatus, FeedState, FeedStatus, MarketEvent, Trade
from orderscope.record import CaptureRecorder
from orderscope.replay import Replay
from orderscope.synthetic import BTC_USDT, ETH_USDT, SyntheticMarket
from orderscope.venues.base import Endpoints, KeepAlive, SubscribeLimits, Venue
from orderscope.venues.binance import BinanceSpot
from orderscope.venues.bitstamp import Bitstamp
from orderscope.venues.huobi import Huobi

FAST = LiveConfig(
    stale_after_s=1.5, backoff_initial_s=0.05, backoff_max_s=0.2, resubscribe_timeout_s=1.0
)


@dataclass
class Rig:
    emulator: Emulator
    protocol: BinanceEmulator
    venue: Venue
    session: LiveSession
    events: list[MarketEvent] = field(default_factory=list)

    def statuses(self) -> list[FeedState]:
        return [e.state for e in self.events if isinstance(e, FeedStatus)]


async def wait_for(condition: Callable[[], bool], timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        await asyncio.sleep(0.02)
    return condition()


@asynccontextmanager
async def rig(
    symbols: tuple[str, ...] = ("BTCUSDT",), recorder: CaptureRecorder | None = None
) -> AsyncIterator[Rig]:
    specs = {"BTCUSDT": BTC_USDT, "ETHUSDT": ETH_USDT}
    protocol = BinanceEmulator({s: SyntheticMarket(specs[s], seed=7) for s in symbols})
    emulator = Emulator([protocol])
    await emulator.start()
    endpoints = Endpoints(emulator.url("binance", "ws"), emulator.url("binance"))
    async with aiohttp.ClientSession() as http_session:
        http = RestClient(http_session)
        instruments = await load_instruments(http, BinanceSpot, endpoints, recorder)
        venue = BinanceSpot(instruments, endpoints=endpoints)
        wanted = [venue.by_venue_symbol[s] for s in symbols]
        events: list[MarketEvent] = []
        session = LiveSession(
            venue,
            wanted,
            http,
            lambda _v, evs: events.extend(evs),
            config=FAST,
            recorder=recorder,
            seed=1,
        )
        task = asyncio.ensure_future(session.run())
        try:
            yield Rig(emulator, protocol, venue, session, events)
        finally:
            session.stop()
            await asyncio.wait_for(task, 5)
            await emulator.stop()


def levels(book: L2Book) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """Both sides as exact decimal text (the emulator and the client scale differently)."""
    inst = book.instrument

    def text(side: list[tuple[int, int]]) -> list[tuple[str, str]]:
        return [(inst.price_text(p).rstrip("0"), inst.size_text(s).rstrip("0")) for p, s in side]

    return text(book.bids()), text(book.asks())


def synced(r: Rig) -> bool:
    return bool(r.venue.books) and all(b.state is BookState.SYNCED for b in r.venue.books.values())


async def settle_and_compare(r: Rig) -> None:
    """Pause the market, let the client drain, and compare every book with the truth."""
    assert await wait_for(lambda: synced(r)), "the session did not resync by itself"
    await asyncio.sleep(0.3)  # let a few more updates flow after the recovery
    r.emulator.pause()

    def equal() -> bool:
        return synced(r) and all(
            levels(r.venue.books[m.book.instrument.symbol]) == levels(m.book)
            for m in r.protocol.markets.values()
        )

    assert await wait_for(equal), "the client's book differs from the emulator's"


def test_clean_session_tracks_the_true_book() -> None:
    async def scenario() -> None:
        async with rig(("BTCUSDT", "ETHUSDT")) as r:
            await asyncio.sleep(1.0)
            await settle_and_compare(r)
            s = r.session.counters
            assert (s.connects, s.disconnects, s.stale, s.snapshot_requests, s.snapshots) == (
                1,
                0,
                0,
                2,
                2,
            )
            assert not r.venue.stats.errors
            for book in r.venue.books.values():
                assert (book.counters.gaps, book.counters.resyncs, book.counters.snapshots) == (
                    0,
                    0,
                    1,
                )
                assert book.counters.deltas >= 1
            assert any(isinstance(e, Trade) for e in r.events)
            assert r.statuses()[:4] == [
                FeedState.CONNECTING,
                FeedState.LIVE,
                FeedState.RESYNCING,
                FeedState.LIVE,
            ]

    asyncio.run(scenario())


def test_skipped_frame_is_a_gap_then_a_rest_resync() -> None:
    async def scenario() -> None:
        async with rig() as r:
            assert await wait_for(lambda: synced(r))
            r.protocol.faults.skip_book_frames = 1
            assert await wait_for(lambda: r.protocol.faults.fired.get("skipped_book_frame") == 1)
            await settle_and_compare(r)
            book = r.venue.books["BTC/USDT"]
            assert (book.counters.gaps, book.counters.resyncs, book.counters.snapshots) == (1, 1, 2)
            s = r.session.counters
            assert (s.connects, s.snapshot_requests, s.snapshots) == (1, 2, 2)
            assert not r.venue.stats.errors

    asyncio.run(scenario())


def test_corrupt_frame_is_a_typed_error_and_the_book_recovers() -> None:
    async def scenario() -> None:
        async with rig() as r:
            assert await wait_for(lambda: synced(r))
            r.protocol.faults.corrupt_book_frames = 1
            assert await wait_for(lambda: r.venue.stats.errors["malformed"] == 1)
            await settle_and_compare(r)
            assert r.venue.stats.errors == {"malformed": 1}
            error = r.venue.stats.recent_errors[-1]
            assert error.venue == "binance" and "depthUpdate" in error.frame_clip
            book = r.venue.books["BTC/USDT"]
            # the truncated diff was lost: the next one shows the gap, a snapshot repairs it
            reasons = [e.reason for e in r.events if isinstance(e, BookStatus)]
            assert (book.counters.gaps, book.counters.resyncs) == (1, 1), reasons
            assert r.session.counters.connects == 1

    asyncio.run(scenario())


def test_dropped_connection_reconnects_with_backoff_and_resyncs() -> None:
    async def scenario() -> None:
        async with rig() as r:
            assert await wait_for(lambda: synced(r))
            r.protocol.drop_connections()
            assert await wait_for(lambda: r.session.counters.connects == 2)
            await settle_and_compare(r)
            s = r.session.counters
            assert (s.connects, s.disconnects, s.snapshot_requests, s.snapshots) == (2, 1, 2, 2)
            book = r.venue.books["BTC/USDT"]
            assert (book.counters.gaps, book.counters.resyncs) == (0, 1)  # a reconnect is no gap
            states = r.statuses()
            assert FeedState.BACKOFF in states
            assert states.count(FeedState.CONNECTING) == 2

    asyncio.run(scenario())


def test_stalled_feed_is_detected_as_stale_and_recovers() -> None:
    async def scenario() -> None:
        async with rig() as r:
            assert await wait_for(lambda: synced(r))
            r.protocol.faults.stall_until = time.monotonic() + 2.5
            assert await wait_for(lambda: r.session.counters.stale >= 1)
            assert r.venue.books["BTC/USDT"].state is BookState.OUT_OF_SYNC  # marked, not trusted
            await settle_and_compare(r)
            s = r.session.counters
            assert s.stale >= 1 and s.connects == s.disconnects + 1
            assert r.statuses().count(FeedState.STALE) == s.stale

    asyncio.run(scenario())


def test_rest_429_and_403_are_retried() -> None:
    async def scenario() -> None:
        async with rig() as r:
            assert await wait_for(lambda: synced(r))
            r.protocol.faults.rest_failures.extend([429, 403])
            r.protocol.faults.skip_book_frames = 1  # forces a snapshot request
            await settle_and_compare(r)
            s = r.session.counters
            assert dict(s.rest_errors) == {"429": 1, "403": 1}
            assert (s.snapshot_requests, s.snapshots) == (2, 2)
            assert (
                r.protocol.faults.fired["rest_429"] == 1
                and r.protocol.faults.fired["rest_403"] == 1
            )

    asyncio.run(scenario())


def test_record_then_replay_rebuilds_the_same_books_and_trades(tmp_path: Path) -> None:
    recorder = CaptureRecorder(tmp_path, "BINANCE", rotate_bytes=50_000)

    async def scenario() -> tuple[dict[str, L2Book], list[Trade]]:
        async with rig(("BTCUSDT", "ETHUSDT"), recorder=recorder) as r:
            await asyncio.sleep(1.0)
            r.protocol.faults.skip_book_frames = 1
            await settle_and_compare(r)
            trades = [e for e in r.events if isinstance(e, Trade)]
            return dict(r.venue.books), trades

    books, trades = asyncio.run(scenario())
    recorder.close()
    assert len(list(tmp_path.glob("BINANCE.ws.0.*"))) >= 2  # the size rotation happened
    replay = Replay([tmp_path])
    replayed_trades: list[Trade] = []
    for _venue, _record, events in replay.run():
        replayed_trades.extend(e for e in events if isinstance(e, Trade))
    assert replayed_trades == trades and trades
    venue = replay.venues[0]
    for symbol, book in books.items():
        again = venue.books[symbol]
        assert levels(again) == levels(book)
        assert again.counters.as_dict() == book.counters.as_dict()  # same records, same story
    assert sum(b.counters.gaps for b in books.values()) == 1


# -- the venues' keep-alive rules and reconnect requests, against tiny venue servers ----------


class QuickBitstamp(Bitstamp):
    """Bitstamp with its keep-alive timings shortened, so that a test sees them work."""

    keepalive = KeepAlive(
        ping_text='{"event":"bts:heartbeat"}', ping_after_s=0.2, stale_after_s=1.0
    )


class TinyBitstamp:
    """Just enough of Bitstamp for the keep-alive tests: pairs, a REST book, subscriptions
    acknowledged, heartbeats answered (while ``answering``), a reconnect request on demand.
    It sends no market data, so only the keep-alive keeps a connection from going silent."""

    def __init__(self) -> None:
        self.heartbeats = 0
        self.connections = 0
        self.answering = True
        self.sockets: list[web.WebSocketResponse] = []
        self.app = web.Application()
        self.app.add_routes(
            [
                web.get("/", self.websocket),
                web.get("/api/v2/trading-pairs-info/", self.pairs),
                web.get("/api/v2/order_book/ethusd", self.book),
            ]
        )
        self.runner = web.AppRunner(self.app)

    async def websocket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self.connections += 1
        self.sockets.append(ws)
        async for message in ws:
            event = json.loads(message.data)
            if event["event"] == "bts:subscribe":
                channel = event["data"]["channel"]
                await ws.send_json({"event": "bts:subscription_succeeded", "channel": channel})
            elif event["event"] == "bts:heartbeat":
                self.heartbeats += 1
                if self.answering:
                    await ws.send_json({"event": "bts:heartbeat", "data": {"status": "success"}})
        return ws

    async def request_reconnect(self) -> None:
        for ws in self.sockets:
            if not ws.closed:
                await ws.send_json({"event": "bts:request_reconnect", "channel": "", "data": ""})

    async def pairs(self, request: web.Request) -> web.Response:
        pair = {
            "name": "ETH/USD",
            "url_symbol": "ethusd",
            "base_decimals": 8,
            "counter_decimals": 2,
        }
        return web.json_response([pair])

    async def book(self, request: web.Request) -> web.Response:
        bids, asks = [["3800.00", "1.00000000"]], [["3801.00", "1.50000000"]]
        return web.json_response({"microtimestamp": "1000000", "bids": bids, "asks": asks})


async def serve(runner: web.AppRunner) -> Endpoints:
    """Serve a tiny venue on a free loopback port; its endpoints."""
    await runner.setup()
    sock = socket.create_server(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    await web.SockSite(runner, sock).start()
    return Endpoints(f"ws://127.0.0.1:{port}", f"http://127.0.0.1:{port}")


@dataclass
class TinyRig:
    server: TinyBitstamp
    session: LiveSession
    events: list[MarketEvent]

    def feed_states(self) -> list[FeedStatus]:
        return [e for e in self.events if isinstance(e, FeedStatus)]


@asynccontextmanager
async def bitstamp_rig(
    config: LiveConfig, cls: type[Bitstamp] = QuickBitstamp
) -> AsyncIterator[TinyRig]:
    server = TinyBitstamp()
    endpoints = await serve(server.runner)
    async with aiohttp.ClientSession() as http_session:
        http = RestClient(http_session)
        instruments = await load_instruments(http, cls, endpoints)
        venue = cls(instruments, endpoints=endpoints)
        events: list[MarketEvent] = []
        session = LiveSession(
            venue, instruments, http, lambda _v, evs: events.extend(evs), config=config, seed=1
        )
        task = asyncio.ensure_future(session.run())
        try:
            yield TinyRig(server, session, events)
        finally:
            session.stop()
            await asyncio.wait_for(task, 5)
            await server.runner.cleanup()


def test_the_venue_ping_keeps_a_silent_connection_alive_and_its_stale_rule_applies() -> None:
    async def scenario() -> None:
        async with bitstamp_rig(LiveConfig(stale_after_s=30.0, backoff_initial_s=0.05)) as r:
            server, session = r.server, r.session
            # the venue's threshold is shorter than the session's: it is the one that counts
            assert session.stale_after_s == 1.0
            # nothing but heartbeat answers comes: the session pings after each silence of
            # 0.2 s, and the answers keep the connection from being stale (1 s)
            assert await wait_for(lambda: server.heartbeats >= 8)
            assert session.counters.stale == 0 and session.counters.connects == 1
            # (the last ping may still be on its way)
            assert server.heartbeats <= session.counters.pings <= server.heartbeats + 1
            assert session.venue.stats.control_frames >= server.heartbeats  # answers counted
            # the venue stops answering: one ping, then the venue's stale rule drops the feed
            server.answering = False
            assert await wait_for(lambda: session.counters.stale == 1)
            stale = [s for s in r.feed_states() if s.state is FeedState.STALE]
            assert stale[0].reason == "nothing received for 1s"
            assert await wait_for(lambda: session.counters.connects == 2)

    asyncio.run(scenario())


def test_a_reconnect_requested_by_the_venue_is_obeyed_at_once() -> None:
    async def scenario() -> None:
        async with bitstamp_rig(LiveConfig(backoff_initial_s=5.0)) as r:
            server, session, venue = r.server, r.session, r.session.venue
            assert await wait_for(lambda: bool(venue.books) and synced_venue(venue))
            await server.request_reconnect()
            assert await wait_for(lambda: session.counters.connects == 2)
            assert await wait_for(lambda: synced_venue(venue))
            c = session.counters
            assert (c.requested_reconnects, c.disconnects, c.snapshots) == (1, 1, 2)
            assert venue.stats.reconnect_requests == 1 and not venue.reconnect_requested
            assert server.connections == 2
            states = [s.state for s in r.feed_states()]
            assert FeedState.BACKOFF not in states  # no back-off (5 s here) before reconnecting
            book = venue.books["ETH/USD"]
            assert (book.counters.gaps, book.counters.resyncs) == (0, 1)

    asyncio.run(scenario())


class ScarceBitstamp(QuickBitstamp):
    """A venue that takes one new connection a minute from an IP."""

    limits = SubscribeLimits(connections_per_minute=1)


def test_new_connections_wait_for_the_venues_limit_and_stop_still_stops() -> None:
    async def scenario() -> None:
        async with bitstamp_rig(LiveConfig(), ScarceBitstamp) as r:
            assert await wait_for(lambda: r.session.counters.connects == 1)
            await r.server.request_reconnect()
            assert await wait_for(lambda: r.session.counters.requested_reconnects == 1)
            await asyncio.sleep(0.5)
            # the second connection waits for its slot (a minute): nothing reached the venue
            assert r.server.connections == 1
            assert r.feed_states()[-1].state is FeedState.CONNECTING
        # and leaving the rig stopped the session without waiting for the slot (else the
        # rig's 5 s wait for the session would have failed)
        assert r.feed_states()[-1].state is FeedState.STOPPED

    asyncio.run(scenario())


def synced_venue(venue: Venue) -> bool:
    return all(b.state is BookState.SYNCED for b in venue.books.values())


class TinyHtx:
    """HTX's server pings: gzip ``{"ping": n}`` frames; the pongs that come back are kept."""

    def __init__(self) -> None:
        self.pongs: list[int] = []
        self.app = web.Application()
        self.app.add_routes([web.get("/ws", self.websocket)])
        self.runner = web.AppRunner(self.app)

    async def websocket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        for n in range(1, 4):
            await ws.send_bytes(gzip.compress(json.dumps({"ping": n}).encode()))
        async for message in ws:
            reply = json.loads(message.data)
            if "pong" in reply:
                self.pongs.append(reply["pong"])
        return ws


def test_replies_go_back_on_their_connection_and_are_recorded() -> None:
    sent: list[CaptureRecord] = []

    class Listing:
        def write(self, record: CaptureRecord) -> None:
            if record.kind is RecordKind.SENT:
                sent.append(record)

    async def scenario() -> None:
        server = TinyHtx()
        endpoints = await serve(server.runner)
        symbols = {
            "status": "ok",
            "data": [
                {
                    "symbol": "btcusdt",
                    "base-currency": "btc",
                    "quote-currency": "usdt",
                    "price-precision": 2,
                    "amount-precision": 6,
                }
            ],
        }
        url = "https://api.huobi.pro/v1/common/symbols"
        venue = Huobi(
            Huobi.parse_instruments(url, json.dumps(symbols)),
            endpoints=endpoints,
        )
        async with aiohttp.ClientSession() as http_session:
            session = LiveSession(
                venue,
                list(venue.instruments.values()),
                RestClient(http_session),
                lambda _v, _e: None,
                recorder=Listing(),
            )
            task = asyncio.ensure_future(session.run())
            assert await wait_for(lambda: len(server.pongs) == 3)
            session.stop()
            await asyncio.wait_for(task, 5)
        await server.runner.cleanup()
        assert server.pongs == [1, 2, 3] and venue.pings == 3
        assert [r.payload for r in sent[-3:]] == ['{"pong":1}', '{"pong":2}', '{"pong":3}']
        assert {r.conn for r in sent} == {0}

    asyncio.run(scenario())
