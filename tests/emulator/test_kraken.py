"""The live path (live.py + the Kraken connector) against the emulated Kraken, over loopback.

For each fault: the session recovers by itself, the book ends equal to the emulator's true
book, and the counters say exactly what happened. Kraken v1 numbers nothing: a lost update
shows (if it does) as a checksum failure, and the emulator's account (``emulator.lost``) says
whether it had to.
"""

from __future__ import annotations

import asyncio

from orderscope.emulator import KrakenEmulator
from orderscope.synthetic import BTC_USDT, ETH_USDT
from orderscope.venues.kraken import Kraken

from .helpers import (
    assert_trades_match,
    lost_outcome,
    rig,
    settle_and_compare,
    synced,
    wait_for,
)


def test_clean_session_tracks_the_true_book() -> None:
    async def scenario() -> None:
        async with rig(KrakenEmulator, Kraken, [BTC_USDT, ETH_USDT]) as r:
            await asyncio.sleep(1.0)
            await settle_and_compare(r)
            s = r.session.counters
            assert (s.connects, s.disconnects, s.stale, s.resubscribes) == (1, 0, 0, 0)
            assert not r.venue.stats.errors
            for symbol in r.protocol.markets:
                c = r.book(symbol).counters
                assert (c.snapshots, c.gaps, c.resyncs, c.checksums_failed) == (1, 0, 0, 0)
                assert c.checksums_ok == c.deltas >= 1  # every update carries its checksum
            assert_trades_match(r)
            assert r.venue.instruments["BTC/USDT"].venue_symbol == "XBT/USDT"

    asyncio.run(scenario())


def test_skipped_frame_fails_the_checksum_and_a_resubscribe_repairs_the_book() -> None:
    async def scenario() -> None:
        async with rig(KrakenEmulator, Kraken, [BTC_USDT]) as r:
            for n in (1, 2, 3):  # one after the other: each repair must come at once
                assert await wait_for(lambda: synced(r))
                r.protocol.inject("skip")
                assert await wait_for(lambda n=n: sum(lost_outcome(r)) == n)
            assert r.protocol.faults.fired["skipped_book_frame"] == 3
            await settle_and_compare(r)
            detected, _healed = lost_outcome(r)
            c = r.book("XBT/USDT").counters
            assert (c.checksums_failed, c.resyncs, c.gaps) == (detected, detected, 0)
            assert r.session.counters.resubscribes == detected
            assert (r.session.counters.connects, dict(r.venue.stats.errors)) == (1, {})

    asyncio.run(scenario())


def test_corrupt_frame_is_an_error_then_a_checksum_failure() -> None:
    async def scenario() -> None:
        async with rig(KrakenEmulator, Kraken, [BTC_USDT]) as r:
            assert await wait_for(lambda: synced(r))
            r.protocol.inject("corrupt")
            assert await wait_for(lambda: r.venue.stats.errors["malformed"] == 1)
            assert await wait_for(lambda: sum(lost_outcome(r)) == 1)
            await settle_and_compare(r)
            detected, _healed = lost_outcome(r)
            # An unreadable frame names no pair: the book learns of the loss from the checksum.
            assert dict(r.venue.stats.errors) == {"malformed": 1}
            c = r.book("XBT/USDT").counters
            assert (c.checksums_failed, c.resyncs, c.gaps) == (detected, detected, 0)
            assert r.session.counters.resubscribes == detected

    asyncio.run(scenario())


def test_dropped_connection_reconnects_and_gets_a_new_snapshot() -> None:
    async def scenario() -> None:
        async with rig(KrakenEmulator, Kraken, [BTC_USDT]) as r:
            assert await wait_for(lambda: synced(r))
            r.protocol.inject("drop")
            assert await wait_for(lambda: r.session.counters.connects == 2)
            await settle_and_compare(r)
            s = r.session.counters
            assert (s.connects, s.disconnects, s.resubscribes) == (2, 1, 0)
            c = r.book("XBT/USDT").counters
            assert (c.snapshots, c.resyncs, c.gaps, c.checksums_failed) == (2, 1, 0, 0)
            assert not r.venue.stats.errors

    asyncio.run(scenario())


def test_stalled_feed_is_stale_then_recovers() -> None:
    async def scenario() -> None:
        async with rig(KrakenEmulator, Kraken, [BTC_USDT]) as r:
            assert await wait_for(lambda: synced(r))
            r.protocol.inject("stall", seconds=2.5)
            assert await wait_for(lambda: r.session.counters.stale >= 1)
            await settle_and_compare(r)
            s = r.session.counters
            assert s.stale >= 1 and s.connects == s.disconnects + 1
            c = r.book("XBT/USDT").counters
            assert (c.gaps, c.checksums_failed) == (0, 0)  # held frames are late, not lost
            assert c.resyncs == s.disconnects

    asyncio.run(scenario())


class Kraken25(Kraken):
    """The Kraken connector subscribed at depth 25 instead of 1000."""

    def subscribe_requests(self, instruments, depth=25):  # type: ignore[no-untyped-def]
        return super().subscribe_requests(instruments, depth)

    def resubscribe_frames(self, instrument, depth=25):  # type: ignore[no-untyped-def]
        return super().resubscribe_frames(instrument, depth)


def test_depth_25_book_holds_the_top_25_levels() -> None:
    async def scenario() -> None:
        async with rig(KrakenEmulator, Kraken25, [BTC_USDT]) as r:
            await asyncio.sleep(1.5)
            await settle_and_compare(r, depth=25)
            c = r.book("XBT/USDT").counters
            assert (c.gaps, c.checksums_failed) == (0, 0) and c.checksums_ok > 0
            assert r.protocol.republished > 0  # levels entering the top 25 were sent again
            assert r.book("XBT/USDT").depth() == (25, 25)

    asyncio.run(scenario())
