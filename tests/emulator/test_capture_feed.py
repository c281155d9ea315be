"""The emulator fed by a recorded capture: the live path rebuilds what the replay rebuilds."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp

from orderscope.capture import group_captures
from orderscope.emulator import Emulator
from orderscope.emulator.capture_feed import CaptureFeed
from orderscope.live import LiveConfig
from orderscope.replay import Replay
from orderscope.venues.base import Venue
from orderscope.venues.binance import BinanceSpot
from orderscope.venues.kraken import Kraken

from .helpers import levels, live_rig, wait_for

#: The recording ends in silence: nothing must go stale before the comparison.
PATIENT = LiveConfig(stale_after_s=60.0, backoff_initial_s=0.05, backoff_max_s=0.2)


def feed_of(paths: list[Path]) -> CaptureFeed:
    [capture] = group_captures(paths)
    return CaptureFeed(capture)


def replayed(paths: list[Path]) -> Venue:
    replay = Replay(paths)
    replay.run_all()
    return replay.venues[0]


async def played_then_compared(
    feed: CaptureFeed, venue_cls: type[Venue], paths: list[Path], speed: float
) -> Venue:
    truth = replayed(paths)
    symbols = sorted({s for _channel, s in truth.subscriptions if s in truth.by_venue_symbol})
    async with live_rig(feed, venue_cls, symbols, config=PATIENT, speed=speed) as r:
        assert await wait_for(lambda: r.session.counters.frames >= len(feed.frames), 60)
        assert r.session.counters.frames == len(feed.frames) == feed.played
        assert await wait_for(
            lambda: all(levels(r.venue.books[s]) == levels(b) for s, b in truth.books.items())
        ), "the live books differ from the replayed ones"
        return r.venue


def test_kraken_capture_played_live_gives_the_replayed_books_and_checksums(
    captures: Path,
) -> None:
    paths = [captures / f"KRAKEN.ws.{n}.0" for n in (48, 49, 50)]
    venue = asyncio.run(played_then_compared(feed_of(paths), Kraken, paths, speed=0))
    truth = replayed(paths)
    for symbol, book in truth.books.items():
        live = venue.books[symbol].counters
        assert (live.checksums_ok, live.checksums_failed) == (book.counters.checksums_ok, 0)
    assert sum(b.counters.checksums_ok for b in venue.books.values()) > 1000
    assert not venue.stats.errors


class BinanceWithKlines(BinanceSpot):
    """The Binance connector subscribed to what the recording subscribed to (klines too)."""

    def stream_names(self, instrument):  # type: ignore[no-untyped-def]
        return [*super().stream_names(instrument), f"{instrument.venue_symbol.lower()}@kline_1m"]


def test_binance_capture_serves_its_rest_snapshots(captures: Path) -> None:
    paths = [captures / "BINANCE.ws.1.0"]
    feed = feed_of(paths)
    venue = asyncio.run(played_then_compared(feed, BinanceWithKlines, paths, speed=0))
    assert not venue.stats.errors
    assert all(book.counters.snapshots == 1 for book in venue.books.values())


def test_rest_answers_come_from_the_recording(captures: Path) -> None:
    feed = feed_of([captures / "BINANCE.ws.1.0"])

    async def scenario() -> None:
        emulator = Emulator([feed])
        await emulator.start()
        base = emulator.url("binance")
        try:
            async with aiohttp.ClientSession() as http:
                async with http.get(f"{base}/api/v3/depth?symbol=NKNUSDT&limit=1000") as answer:
                    assert answer.status == 200
                    assert (await answer.json())["lastUpdateId"] == 499869752
                async with http.get(f"{base}/api/v3/depth?symbol=NKNUSDT&limit=5") as answer:
                    assert answer.status == 404  # never asked for by the recording
                feed.inject("rest_429")
                async with http.get(f"{base}/api/v3/exchangeInfo") as answer:
                    assert (answer.status, answer.headers["Retry-After"]) == (429, "1")
                async with http.get(f"{base}/api/v3/exchangeInfo") as answer:
                    assert answer.status == 200 and "NKNUSDT" in await answer.text()
        finally:
            await emulator.stop()

    asyncio.run(scenario())
    assert any("streams=" in s for s in feed.recorded_subscriptions)
