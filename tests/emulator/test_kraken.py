"""The live path (live.py + the Kraken connector) against the emulated Kraken, over loopback.

For each fault: the session recovers by itself, the book ends equal to the emulator's true
book, and the counters say exactly what happened. Kraken v1 numbers nothing: a lost update
shows (if it does) as a checksum failure, and the emulator's account (``emulator.lost``) says
whether it had to.
"""

from __future__ import annotations

import asyncio
import zlib

import msgspec

from orderscope.emulator import KrakenEmulator
from orderscope.synthetic import BTC_USDT, ETH_USDT, SyntheticMarket
from orderscope.venues.kraken import Kraken

from .helpers import (
    QUICK_STALE,
    assert_trades_match,
    lost_outcome,
    receive_until,
    rig,
    serving,
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
        async with rig(KrakenEmulator, Kraken, [BTC_USDT], config=QUICK_STALE) as r:
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


def test_requests_are_answered_as_kraken_does() -> None:
    async def scenario() -> None:
        protocol = KrakenEmulator({"XBT/USDT": SyntheticMarket(BTC_USDT, 3)})
        async with (
            serving(protocol) as (emulator, http),
            http.ws_connect(emulator.url("kraken", "ws")) as ws,
        ):
            [status] = await receive_until(ws, lambda f: "systemStatus" in f)
            assert msgspec.json.decode(status)["status"] == "online"
            await ws.send_str('{"event":"ping","reqid":42}')
            assert (await receive_until(ws, lambda f: "pong" in f))[-1] == (
                '{"event":"pong","reqid":42}'
            )
            for request, error in (
                ({"pair": ["XBT/EUR"], "subscription": {"name": "trade"}}, "not supported"),
                ({"pair": ["XBT/USDT"], "subscription": {"name": "book", "depth": 7}}, "depth"),
                ({"pair": ["XBT/USDT"], "subscription": {"name": "spread"}}, "name invalid"),
            ):
                await ws.send_str(msgspec.json.encode({"event": "subscribe", **request}).decode())
                reply = msgspec.json.decode((await receive_until(ws, lambda f: "error" in f))[-1])
                assert error in reply["errorMessage"]
            book = {"name": "book", "depth": 10}
            request = {"event": "subscribe", "pair": ["XBT/USDT"], "subscription": book}
            await ws.send_str(msgspec.json.encode(request).decode())
            frames = await receive_until(ws, lambda f: '"as"' in f)
            reply = msgspec.json.decode(frames[-2])
            assert (reply["status"], reply["channelName"]) == ("subscribed", "book-10")
            channel_id, snapshot, name, pair = msgspec.json.decode(frames[-1])
            assert (channel_id, name, pair) == (reply["channelID"], "book-10", "XBT/USDT")
            assert len(snapshot["as"]) == len(snapshot["bs"]) == 10
            price, volume, _time = snapshot["as"][0]
            assert (len(price.split(".")[1]), len(volume.split(".")[1])) == (5, 8)
            emulator.pause()  # a quiet market: heartbeats keep the connection alive
            await receive_until(ws, lambda f: f == '{"event":"heartbeat"}')

    asyncio.run(scenario())


def test_checksum_is_the_crc32_of_the_wire_digits() -> None:
    protocol = KrakenEmulator({})
    # 5.00 (2 decimals) goes out as "5.00000", 0.00500 (5 decimals) as "0.00500000": without
    # the point and the leading zeros, "500000" and "500000"; asks first, then bids.
    ask, bid = (500, 500), (499, 1_000_000)  # bid: "4.99000", "10.00000000"
    text = "500000" + "500000" + "499000" + "1000000000"
    assert protocol.checksum(BTC_USDT, [ask], [bid]) == zlib.crc32(text.encode())
