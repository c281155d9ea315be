"""The real live path (live.py + the Binance connector) against the emulator over loopback.

For each fault the emulator can inject, the session must recover by itself, the book must end
equal to the emulator's true book, and the counters must say what happened.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from orderscope.book import L2Book
from orderscope.emulator import BinanceEmulator, Emulator
from orderscope.live import LiveConfig, LiveSession, RestClient, load_instruments
from orderscope.model import BookState, BookStatus, FeedState, FeedStatus, MarketEvent, Trade
from orderscope.record import CaptureRecorder
from orderscope.replay import Replay
from orderscope.synthetic import BTC_USDT, ETH_USDT, SyntheticMarket
from orderscope.venues.base import Endpoints, Venue
from orderscope.venues.binance import BinanceSpot

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
