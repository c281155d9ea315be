"""The live path (live.py + the Coinbase Exchange connector) against the emulated Coinbase.

For each fault: the session recovers by itself, the book ends equal to the emulator's true
book, and the counters say exactly what happened. Level2 numbers nothing: a lost update shows
(if it does) when a later one removes a level the client lacks, and the emulator's account
(``emulator.lost``) says whether it had to.
"""

from __future__ import annotations

import asyncio

import msgspec

from orderscope.emulator import CoinbaseEmulator
from orderscope.synthetic import BTC_USDT, ETH_USDT, SyntheticMarket
from orderscope.venues.coinbase import CoinbaseExchange

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
        async with rig(CoinbaseEmulator, CoinbaseExchange, [BTC_USDT, ETH_USDT]) as r:
            await asyncio.sleep(1.0)
            await settle_and_compare(r)
            s = r.session.counters
            assert (s.connects, s.disconnects, s.stale, s.resubscribes) == (1, 0, 0, 0)
            assert not r.venue.stats.errors
            for symbol in r.protocol.markets:
                c = r.book(symbol).counters
                assert (c.snapshots, c.gaps, c.resyncs, c.crossed_updates) == (1, 0, 0, 0)
                assert c.deltas >= 1
            assert_trades_match(r)  # matches carry the maker's side: the client turns it
            assert not r.venue.trade_gaps and not r.venue.duplicate_trades  # type: ignore[attr-defined]

    asyncio.run(scenario())


def test_lost_update_shows_as_a_removed_level_the_book_lacks() -> None:
    async def scenario() -> None:
        async with rig(CoinbaseEmulator, CoinbaseExchange, [BTC_USDT]) as r:
            # A lost level is often updated again before it goes (the loss heals unseen):
            # lose frames until two losses had to show.
            for n in range(1, 41):
                assert await wait_for(lambda: synced(r))
                r.protocol.inject("skip")
                assert await wait_for(lambda n=n: sum(lost_outcome(r)) == n)
                if lost_outcome(r)[0] == 2:
                    break
            await settle_and_compare(r)
            detected, _healed = lost_outcome(r)
            assert detected == 2
            c = r.book("BTC-USDT").counters
            assert (c.gaps, c.resyncs) == (detected, detected)
            assert r.session.counters.resubscribes == detected
            assert (r.session.counters.connects, dict(r.venue.stats.errors)) == (1, {})

    asyncio.run(scenario())


def test_corrupt_frame_resyncs_its_book_at_once() -> None:
    async def scenario() -> None:
        async with rig(CoinbaseEmulator, CoinbaseExchange, [BTC_USDT]) as r:
            assert await wait_for(lambda: synced(r))
            r.protocol.inject("corrupt")
            assert await wait_for(lambda: r.venue.stats.errors["malformed"] == 1)
            await settle_and_compare(r)
            assert dict(r.venue.stats.errors) == {"malformed": 1}
            error = r.venue.stats.recent_errors[-1]
            assert (error.venue, error.symbol) == ("coinbase", "BTC/USDT")
            c = r.book("BTC-USDT").counters
            assert (c.errors, c.gaps, c.resyncs) == (1, 0, 1)
            assert (r.session.counters.resubscribes, r.session.counters.connects) == (1, 1)

    asyncio.run(scenario())


def test_dropped_connection_reconnects_and_gets_a_new_snapshot() -> None:
    async def scenario() -> None:
        async with rig(CoinbaseEmulator, CoinbaseExchange, [BTC_USDT]) as r:
            assert await wait_for(lambda: synced(r))
            r.protocol.inject("drop")
            assert await wait_for(lambda: r.session.counters.connects == 2)
            await settle_and_compare(r)
            s = r.session.counters
            assert (s.connects, s.disconnects, s.resubscribes) == (2, 1, 0)
            c = r.book("BTC-USDT").counters
            assert (c.snapshots, c.resyncs, c.gaps) == (2, 1, 0)
            assert not r.venue.stats.errors
            # the reconnect re-sends last_match: a seed, neither a duplicate nor a gap
            assert not r.venue.duplicate_trades and not r.venue.trade_gaps  # type: ignore[attr-defined]

    asyncio.run(scenario())


def test_stalled_feed_is_stale_then_recovers() -> None:
    async def scenario() -> None:
        async with rig(CoinbaseEmulator, CoinbaseExchange, [BTC_USDT], config=QUICK_STALE) as r:
            assert await wait_for(lambda: synced(r))
            r.protocol.inject("stall", seconds=2.5)
            assert await wait_for(lambda: r.session.counters.stale >= 1)
            await settle_and_compare(r)
            s = r.session.counters
            assert s.stale >= 1 and s.connects == s.disconnects + 1
            c = r.book("BTC-USDT").counters
            assert c.gaps == 0 and c.resyncs == s.disconnects

    asyncio.run(scenario())


def test_requests_are_answered_as_coinbase_does() -> None:
    async def scenario() -> None:
        protocol = CoinbaseEmulator({"BTC-USDT": SyntheticMarket(BTC_USDT, 3)})
        async with (
            serving(protocol) as (emulator, http),
            http.ws_connect(emulator.url("coinbase", "ws")) as ws,
        ):
            for request, reason in (
                ({"product_ids": ["BTC-EUR"], "channels": ["level2"]}, "not a valid product"),
                ({"product_ids": ["BTC-USDT"], "channels": ["full"]}, "not a valid channel"),
            ):
                await ws.send_str(msgspec.json.encode({"type": "subscribe", **request}).decode())
                reply = msgspec.json.decode((await receive_until(ws, lambda f: "error" in f))[-1])
                assert reason in reply["reason"]
            request = {
                "type": "subscribe",
                "product_ids": ["BTC-USDT"],
                "channels": ["level2_batch", {"name": "heartbeat", "product_ids": ["BTC-USDT"]}],
            }
            await ws.send_str(msgspec.json.encode(request).decode())
            frames = await receive_until(ws, lambda f: '"snapshot"' in f)
            assert msgspec.json.decode(frames[0]) == {
                "type": "subscriptions",
                "channels": [
                    {"name": "heartbeat", "product_ids": ["BTC-USDT"]},
                    {"name": "level2_batch", "product_ids": ["BTC-USDT"]},
                ],
            }
            snapshot = msgspec.json.decode(frames[1])
            # the whole book (about 250 levels a side), not a top N
            assert min(len(snapshot["bids"]), len(snapshot["asks"])) > BTC_USDT.depth - 20
            update = msgspec.json.decode((await receive_until(ws, lambda f: "l2update" in f))[-1])
            assert update["time"].endswith("Z") and len(update["time"]) == 27
            emulator.pause()
            await receive_until(ws, lambda f: '"heartbeat"' in f)

    asyncio.run(scenario())
