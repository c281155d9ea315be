"""Coinbase connectors: the 2021 Exchange capture as ground truth, bad frames, trade sides,
exact timestamps, and the Advanced Trade protocol on frames written from its documentation."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from orderscope.capture import CaptureRecord, RecordKind, read_capture_file
from orderscope.model import (
    BestBidOffer,
    BookDelta,
    BookSnapshot,
    BookState,
    BookStatus,
    MarketEvent,
    Side,
    Ticker,
    Trade,
)
from orderscope.replay import Replay
from orderscope.venues import REGISTRY, by_capture_prefix
from orderscope.venues.base import Endpoints, Venue, feed
from orderscope.venues.coinbase import (
    CoinbaseAdvanced,
    CoinbaseExchange,
    TimeFormatError,
    aggressor_of_maker_side,
    parse_iso8601_ns,
)
from tests.venues.venue_testing import open_live, received, run
from tests.venues.venue_testing import sent as open_sent

CAPTURE = "COINBASE.ws.28.0"
URL = "wss://ws-feed.pro.coinbase.com"
T0 = 1_618_677_817_000_000_000

# -- helpers ----------------------------------------------------------------------------------


def send(venue: Venue, frame: str | Mapping[str, object], recv_ns: int = T0) -> list[MarketEvent]:
    text = frame if isinstance(frame, str) else json.dumps(frame)
    out: list[MarketEvent] = []
    feed(venue, CaptureRecord(recv_ns, RecordKind.RECV, URL, text, 0), out)
    return out


def sent(venue: Venue, frame: dict[str, object], conn: int = 0) -> None:
    feed(venue, CaptureRecord(T0, RecordKind.SENT, URL, json.dumps(frame), conn), [])


def book_levels(venue: Venue, symbol: str) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    book = venue.books[symbol]
    return book.bids(), book.asks()


# -- the 2021 Exchange capture ------------------------------------------------------------------

DELTAS = {
    "BAND/BTC": 1005,
    "BAND/GBP": 471,
    "CRV/EUR": 670,
    "DASH/BTC": 1925,
    "NMR/EUR": 665,
    "NU/GBP": 76,
    "SKL/BTC": 1539,
    "SKL/GBP": 289,
    "SKL/USD": 2592,
    "YFI/BTC": 487,
}
TRADES = {
    "BAND/BTC": 8,
    "BAND/GBP": 4,
    "CRV/EUR": 0,
    "DASH/BTC": 15,
    "NMR/EUR": 8,
    "NU/GBP": 1,
    "SKL/BTC": 8,
    "SKL/GBP": 1,
    "SKL/USD": 52,
    "YFI/BTC": 0,
}


@pytest.fixture(scope="module")
def replayed(captures: Path) -> tuple[Replay, Counter[str]]:
    session = Replay([captures / CAPTURE])
    kinds: Counter[str] = Counter()
    for _venue, _record, events in session.run():
        kinds.update(type(e).__name__ for e in events)
    return session, kinds


def test_capture_replays_with_zero_errors_and_every_book_synced(
    replayed: tuple[Replay, Counter[str]],
) -> None:
    session, kinds = replayed
    [venue] = session.report()["venues"]
    assert venue["venue"] == "coinbase"
    assert venue["errors"] == {}
    assert (venue["frames"], venue["control_frames"], venue["ignored_frames"]) == (9946, 3, 10)
    symbols = {s["symbol"]: s for s in venue["symbols"]}
    assert set(symbols) == set(DELTAS)
    for symbol, entry in symbols.items():
        book = entry["book"]
        assert book["state"] == "synced", symbol
        assert (book["snapshots"], book["gaps"], book["resyncs"], book["errors"]) == (1, 0, 0, 0)
        assert book["crossed_updates"] == 0
        assert book["skipped_deltas"] == 0
    assert {s: e["book"]["deltas"] for s, e in symbols.items()} == DELTAS
    assert {s: e["trades"]["count"] for s, e in symbols.items()} == TRADES
    # Every event of the session, by type: matches are the trades, tickers are only tickers.
    assert kinds == {
        "BookSnapshot": 10,
        "BookStatus": 10,  # each snapshot made its book SYNCED
        "BookDelta": 9719,
        "Trade": 97,
        "Ticker": 107,
    }
    skl = symbols["SKL/USD"]
    assert skl["book"]["levels"] == {"bids": 816, "asks": 1341}
    assert skl["book"]["top_bids"][0] == ["0.79020000", "468.00000000"]
    assert skl["book"]["top_asks"][0] == ["0.79110000", "450.00000000"]
    assert skl["trades"]["buy_volume"] == "40691.30000000"
    assert skl["trades"]["sell_volume"] == "6040.00000000"
    band = symbols["BAND/GBP"]["book"]
    assert band["top_bids"][0] == ["14.73660000", "27.57000000"]
    assert band["top_asks"][0] == ["14.76640000", "12.00000000"]
    assert symbols["SKL/USD"]["last_event_time"] == "2021-04-17T16:44:07.849205000Z"


def test_capture_replayed_twice_gives_identical_reports(
    captures: Path, replayed: tuple[Replay, Counter[str]]
) -> None:
    again = Replay([captures / CAPTURE])
    again.run_all()
    first = msgspec.json.encode(replayed[0].report())
    assert msgspec.json.encode(again.report()) == first


def _capture_messages(captures: Path) -> list[dict[str, Any]]:
    return [
        json.loads(r.payload)
        for r in read_capture_file(captures / CAPTURE)
        if r.kind is RecordKind.RECV
    ]


def test_capture_books_equal_a_naive_decimal_model(
    captures: Path, replayed: tuple[Replay, Counter[str]]
) -> None:
    reference: dict[str, tuple[dict[Decimal, Decimal], dict[Decimal, Decimal]]] = {}
    for msg in _capture_messages(captures):
        product = str(msg.get("product_id", ""))
        if msg["type"] == "snapshot":
            reference[product] = (
                {Decimal(p): Decimal(q) for p, q in msg["bids"]},
                {Decimal(p): Decimal(q) for p, q in msg["asks"]},
            )
        elif msg["type"] == "l2update":
            for side, price, size in msg["changes"]:
                levels = reference[product][0 if side == "buy" else 1]
                if Decimal(size):
                    levels[Decimal(price)] = Decimal(size)
                else:
                    levels.pop(Decimal(price), None)
    venue = replayed[0].venues[0]
    assert len(reference) == len(venue.books) == 10
    for product, (bids, asks) in reference.items():
        instrument = venue.by_venue_symbol[product]
        book = venue.books[instrument.symbol]
        scale = Decimal(10) ** instrument.price_decimals, Decimal(10) ** instrument.size_decimals

        def as_decimals(levels: list[tuple[int, int]]) -> dict[Decimal, Decimal]:
            return {Decimal(p) / scale[0]: Decimal(q) / scale[1] for p, q in levels}  # noqa: B023

        assert as_decimals(book.bids()) == bids, product
        assert as_decimals(book.asks()) == asks, product
        assert list(as_decimals(book.bids())) == sorted(bids, reverse=True)


def test_capture_trade_sides_are_the_tickers_taker_sides(
    captures: Path, replayed: tuple[Replay, Counter[str]]
) -> None:
    # The ticker of a trade reports the TAKER side; the match reports the maker's. The
    # connector's aggressor side must equal the ticker's side for every trade that has both.
    taker = {
        (str(m["product_id"]), int(m["trade_id"])): m["side"]
        for m in _capture_messages(captures)
        if m["type"] == "ticker" and "trade_id" in m
    }
    venue = CoinbaseExchange(replayed[0].venues[0].instruments.values())
    trades: list[Trade] = []
    for record in read_capture_file(captures / CAPTURE):
        out: list[MarketEvent] = []
        feed(venue, record, out)
        trades.extend(e for e in out if isinstance(e, Trade))
    checked = 0
    for trade in trades:
        product = venue.instruments[trade.symbol].venue_symbol
        side = taker.get((product, int(trade.trade_id)))
        if side is not None:
            assert trade.side is (Side.BUY if side == "buy" else Side.SELL), trade
            checked += 1
    assert checked == len(trades) == 97
    assert Counter(t.side for t in trades) == {Side.BUY: 45, Side.SELL: 52}


def test_instruments_from_the_products_response(captures: Path) -> None:
    [record] = [r for r in read_capture_file(captures / "COINBASE.0") if r.kind is RecordKind.REST]
    instruments = {
        i.venue_symbol: i for i in CoinbaseExchange.parse_instruments(record.url, record.payload)
    }
    assert len(instruments) == 162
    assert len({i.symbol for i in instruments.values()}) == 162
    btc = instruments["BTC-GBP"]
    assert (btc.symbol, btc.base, btc.quote) == ("BTC/GBP", "BTC", "GBP")
    # Prices and sizes keep at least 8 decimals whatever today's increments are.
    assert (btc.price_decimals, btc.tick_size) == (8, 1_000_000)  # quote_increment 0.01
    assert (btc.size_decimals, btc.lot_size) == (8, 1)  # base_increment 0.00000001
    skl = instruments["SKL-USD"]
    assert (skl.tick_size, skl.lot_size) == (10_000, 10_000_000)  # 0.0001 and 0.1
    assert all(i.price_decimals >= 8 and i.size_decimals >= 8 for i in instruments.values())
    assert (
        CoinbaseExchange.parse_instruments("https://api.pro.coinbase.com/currencies", b"[]") == []
    )


def test_registry_knows_both_coinbase_connectors() -> None:
    assert REGISTRY["coinbase"] is CoinbaseExchange
    assert REGISTRY["coinbase_advanced"] is CoinbaseAdvanced
    assert by_capture_prefix("COINBASE") is CoinbaseExchange


# -- Exchange feed, frame by frame --------------------------------------------------------------

PRODUCTS = json.dumps(
    [
        {
            "id": pid,
            "base_currency": pid.split("-")[0],
            "quote_currency": pid.split("-")[1],
            "quote_increment": tick,
            "base_increment": lot,
        }
        for pid, tick, lot in (
            ("BTC-USD", "0.01", "0.00000001"),
            ("ETH-USD", "0.01", "0.00000001"),
            ("BAND-GBP", "0.0001", "0.01"),
        )
    ]
)
SNAPSHOT: dict[str, object] = {
    "type": "snapshot",
    "product_id": "BTC-USD",
    "bids": [["60000.00", "1.5"], ["59999.99", "0.25"]],
    "asks": [["60000.01", "2"], ["60001.00", "0.1"]],
}
TIME = "2021-04-17T16:43:37.075687Z"
TIME_NS = 1_618_677_817_075_687_000


def l2update(*changes: list[Any], product: str = "BTC-USD", time: str = TIME) -> dict[str, object]:
    return {"type": "l2update", "product_id": product, "changes": list(changes), "time": time}


def match(side: str, trade_id: object = 100, **fields: object) -> dict[str, object]:
    msg: dict[str, object] = {
        "type": "match",
        "trade_id": trade_id,
        "maker_order_id": "m",
        "taker_order_id": "t",
        "side": side,
        "size": "0.5",
        "price": "60000.01",
        "product_id": "BTC-USD",
        "sequence": 1,
        "time": TIME,
    }
    msg.update(fields)
    return msg


@pytest.fixture
def exchange() -> CoinbaseExchange:
    instruments = CoinbaseExchange.parse_instruments(f"{URL}/products", PRODUCTS)
    venue = CoinbaseExchange(instruments)
    sent(
        venue,
        {
            "type": "subscribe",
            "product_ids": ["BTC-USD", "BAND-GBP"],
            "channels": ["level2", "matches", "ticker"],
        },
    )
    sent(venue, {"type": "subscribe", "product_ids": ["ETH-USD"], "channels": ["ticker"]})
    events = send(venue, SNAPSHOT)
    assert [type(e) for e in events] == [BookSnapshot, BookStatus]
    return venue


def test_snapshot_and_update_apply_exactly(exchange: CoinbaseExchange) -> None:
    [delta] = send(exchange, l2update(["buy", "59999.99", "0"], ["sell", "60000.02", "3.00000001"]))
    assert isinstance(delta, BookDelta)
    assert delta.exch_ns == TIME_NS
    assert delta.bids == [(5_999_999_000_000, 0)]
    assert delta.asks == [(6_000_002_000_000, 300_000_001)]
    bids, asks = book_levels(exchange, "BTC/USD")
    assert bids == [(6_000_000_000_000, 150_000_000)]
    assert asks == [
        (6_000_001_000_000, 200_000_000),
        (6_000_002_000_000, 300_000_001),
        (6_000_100_000_000, 10_000_000),
    ]


def test_a_routed_product_is_routed_again_after_the_subscriptions_change(
    exchange: CoinbaseExchange,
) -> None:
    # The connector keeps a route per product after its first update (the C scanner returns it
    # in place of the product id): a change of the subscriptions must drop it, so that the next
    # update is checked again, as Venue.attribute checks it.
    assert [type(e) for e in send(exchange, l2update(["buy", "59999.99", "1"]))] == [BookDelta]
    assert [type(e) for e in send(exchange, l2update(["buy", "59999.99", "2"]))] == [BookDelta]
    assert exchange.symbol_frames["BTC/USD"] == 3
    exchange.subscriptions.discard(("level2", "BTC-USD"))
    assert send(exchange, l2update(["buy", "59999.99", "3"])) == []
    assert exchange.stats.errors == {"unsubscribed": 1}
    exchange.subscriptions.add(("level2", "BTC-USD"))
    [delta] = send(exchange, l2update(["buy", "59999.99", "4"]))
    assert isinstance(delta, BookDelta) and delta.bids == [(5_999_999_000_000, 400_000_000)]
    assert exchange.symbol_frames["BTC/USD"] == 4  # the rejected frame was not counted
    assert (5_999_999_000_000, 400_000_000) in book_levels(exchange, "BTC/USD")[0]


def test_sizes_finer_than_the_lot_size_stay_exact(exchange: CoinbaseExchange) -> None:
    # BAND-GBP trades in lots of 0.01, but an order resting from before an increment change
    # can show a finer size: 8 decimals are kept, so it parses exactly instead of failing.
    send(exchange, {**SNAPSHOT, "product_id": "BAND-GBP", "bids": [["14.7366", "27.57"]]})
    [delta] = send(exchange, l2update(["buy", "14.7365", "0.12345678"], product="BAND-GBP"))
    assert isinstance(delta, BookDelta)
    assert delta.bids == [(1_473_650_000, 12_345_678)]
    assert exchange.instruments["BAND/GBP"].lot_size == 1_000_000
    assert exchange.stats.errors == Counter()


@pytest.mark.parametrize(("maker", "aggressor"), [("buy", Side.SELL), ("sell", Side.BUY)])
def test_match_side_is_the_maker_side_so_the_aggressor_is_the_other(
    exchange: CoinbaseExchange, maker: str, aggressor: Side
) -> None:
    [trade] = send(exchange, match(maker))
    assert isinstance(trade, Trade)
    assert trade.side is aggressor
    assert (trade.price, trade.size, trade.trade_id, trade.exch_ns) == (
        6_000_001_000_000,
        50_000_000,
        "100",
        TIME_NS,
    )
    assert aggressor_of_maker_side(maker.upper()) is aggressor  # Advanced Trade spells BUY/SELL


def test_ticker_makes_a_ticker_never_a_trade(exchange: CoinbaseExchange) -> None:
    ticker = {
        "type": "ticker",
        "sequence": 5,
        "product_id": "BTC-USD",
        "price": "60000.01",
        "open_24h": "58000",
        "volume_24h": "1234.56780000",
        "low_24h": "57000.5",
        "high_24h": "61000",
        "volume_30d": "99999.00000000",
        "best_bid": "60000.00",
        "best_ask": "60000.01",
        "side": "buy",
        "time": TIME,
        "trade_id": 100,
        "last_size": "0.5",
    }
    [event] = send(exchange, ticker)
    assert isinstance(event, Ticker)
    assert (event.last_price, event.open_24h, event.low_24h) == (
        6_000_001_000_000,
        5_800_000_000_000,
        5_700_050_000_000,
    )
    assert event.volume_24h == 123_456_780_000
    assert event.exch_ns == TIME_NS
    # The current feed adds best_bid_size/best_ask_size: then a BestBidOffer comes along.
    events = send(exchange, {**ticker, "best_bid_size": "1.5", "best_ask_size": "2"})
    assert [type(e) for e in events] == [Ticker, BestBidOffer]
    assert events[1] == BestBidOffer(
        "coinbase",
        "BTC/USD",
        TIME_NS,
        T0,
        6_000_000_000_000,
        150_000_000,
        6_000_001_000_000,
        200_000_000,
    )


def test_last_match_is_not_a_trade_but_starts_the_trade_id_check(
    exchange: CoinbaseExchange,
) -> None:
    assert send(exchange, {**match("sell", 99), "type": "last_match"}) == []
    assert exchange.stats.ignored_frames == 1
    assert [e.trade_id for e in send(exchange, match("sell", 100)) if isinstance(e, Trade)] == [
        "100"
    ]
    assert send(exchange, match("sell", 100)) == []  # a repeat (reconnect overlap) is dropped
    assert exchange.duplicate_trades["BTC/USD"] == 1
    assert len(send(exchange, match("sell", 103))) == 1  # two matches were lost
    assert exchange.trade_gaps["BTC/USD"] == 1
    assert send(exchange, {**match("sell", 103), "type": "last_match"}) == []  # reconnect
    assert exchange.duplicate_trades["BTC/USD"] == 1
    assert exchange.stats.errors == Counter()


def test_update_before_any_snapshot_is_skipped(exchange: CoinbaseExchange) -> None:
    assert send(exchange, l2update(["buy", "14.0000", "1"], product="BAND-GBP")) == []
    book = exchange.books["BAND/GBP"]
    assert book.state is BookState.AWAITING_SNAPSHOT
    assert (book.counters.skipped_deltas, book.depth()) == (1, (0, 0))


def test_removing_a_level_the_book_lacks_proves_a_lost_update(exchange: CoinbaseExchange) -> None:
    before = book_levels(exchange, "BTC/USD")
    [status] = send(exchange, l2update(["sell", "60000.50", "0"]))
    assert isinstance(status, BookStatus)
    assert status.state is BookState.OUT_OF_SYNC
    assert "60000.50000000" in status.reason
    book = exchange.books["BTC/USD"]
    assert (book.counters.gaps, book_levels(exchange, "BTC/USD")) == (1, before)
    assert "BTC/USD" in exchange.resync_requests
    assert send(exchange, l2update(["buy", "59000", "1"])) == []  # skipped until a snapshot
    assert book.counters.skipped_deltas == 1
    assert [type(e) for e in send(exchange, SNAPSHOT)] == [BookSnapshot, BookStatus]
    assert (book.state, book.counters.resyncs) == (BookState.SYNCED, 1)
    assert "BTC/USD" not in exchange.resync_requests


TRUNCATED = json.dumps(l2update(["buy", "60000.00", "9"]))[:60]
BAD_FRAMES = [
    # (frame, error kind, whether the BTC/USD book must be flagged OUT_OF_SYNC)
    pytest.param(TRUNCATED, "malformed", True, id="truncated-l2update"),
    pytest.param(l2update(["buy", "abc", "1"]), "bad_value", True, id="price-not-a-number"),
    pytest.param(l2update(["buy", 60000.0, "1"]), "malformed", True, id="number-for-string"),
    pytest.param(l2update(["buy", "60000.00", "NaN"]), "bad_value", True, id="nan-size"),
    pytest.param(l2update(["sell", "60000.01", "-1.5"]), "bad_value", True, id="negative-size"),
    pytest.param(
        l2update(["buy", "60000.000000001", "1"]), "bad_value", True, id="too-many-decimals"
    ),
    pytest.param(
        l2update(["buy", "60000.00", "7"], ["sell", "60000.01", "x"]),
        "bad_value",
        True,
        id="second-change-bad",
    ),
    pytest.param(l2update(["hold", "60000.00", "1"]), "malformed", True, id="unknown-side"),
    pytest.param(
        l2update(["buy", "60000.00", "1"], time="yesterday"), "bad_value", True, id="bad-time"
    ),
    pytest.param(
        l2update(["buy", "60000.00", "1"], product="FOO-BAR"),
        "unknown_symbol",
        False,
        id="unknown-symbol",
    ),
    pytest.param(
        l2update(["buy", "60000.00", "1"], product="ETH-USD"),
        "unsubscribed",
        False,
        id="unsubscribed-channel",
    ),
    pytest.param(match("buy", trade_id="abc"), "malformed", False, id="string-for-trade-id"),
    pytest.param(match("buy", size="NaN"), "bad_value", False, id="nan-trade-size"),
    pytest.param(match("buy", size="0"), "bad_value", False, id="zero-trade-size"),
    pytest.param(
        {
            "type": "error",
            "message": "Failed to subscribe",
            "reason": "FOO-BAR is not a valid product",
        },
        "venue_error",
        False,
        id="error-message",
    ),
    pytest.param('{"type": "l2upd', "malformed", True, id="truncated-before-product"),
    pytest.param("hello", "malformed", True, id="not-json"),
]


@pytest.mark.parametrize(("frame", "kind", "flags_book"), BAD_FRAMES)
def test_bad_frames_are_typed_counted_and_never_half_applied(
    exchange: CoinbaseExchange, frame: str | dict[str, object], kind: str, flags_book: bool
) -> None:
    before = book_levels(exchange, "BTC/USD")
    events = send(exchange, frame)
    assert exchange.stats.errors == {kind: 1}
    [error] = exchange.stats.recent_errors
    assert error.venue == "coinbase"
    assert error.frame_clip and error.channel
    assert book_levels(exchange, "BTC/USD") == before  # nothing half-applied
    book = exchange.books["BTC/USD"]
    if flags_book:
        assert book.state is BookState.OUT_OF_SYNC
        assert [(type(e), e.state) for e in events if isinstance(e, BookStatus)] == [
            (BookStatus, BookState.OUT_OF_SYNC)
        ]
    else:
        assert book.state is BookState.SYNCED
        assert events == []
    assert "ETH/USD" not in exchange.books
    # The stream goes on: trades still flow, and a snapshot restores the book.
    assert [type(e) for e in send(exchange, match("sell", 500))] == [Trade]
    send(exchange, SNAPSHOT)
    assert book.state is BookState.SYNCED
    assert len(send(exchange, l2update(["buy", "59000", "1"]))) == 1


def test_errors_name_venue_channel_and_clip(exchange: CoinbaseExchange) -> None:
    send(exchange, l2update(["buy", "60000.00", "NaN"]))
    [error] = exchange.stats.recent_errors
    assert (error.venue, error.channel, error.symbol, error.book) == (
        "coinbase",
        "level2",
        "BTC/USD",
        True,
    )
    assert '"NaN"' in error.frame_clip
    assert "NaN" in str(error)


def test_message_types_it_does_not_read_are_ignored(exchange: CoinbaseExchange) -> None:
    heartbeat = {
        "type": "heartbeat",
        "sequence": 1,
        "last_trade_id": 2,
        "product_id": "BTC-USD",
        "time": TIME,
    }
    assert send(exchange, heartbeat) == []
    assert (exchange.stats.ignored_frames, exchange.stats.errors) == (1, Counter())


def test_subscriptions_from_requests_replies_and_aliases() -> None:
    venue = CoinbaseExchange(CoinbaseExchange.parse_instruments(f"{URL}/products", PRODUCTS))
    sent(
        venue,
        {
            "type": "subscribe",
            "product_ids": ["BTC-USD"],
            "channels": ["level2_batch", {"name": "ticker", "product_ids": ["ETH-USD"]}],
        },
    )
    assert venue.subscriptions == {("level2", "BTC-USD"), ("ticker", "ETH-USD")}
    send(
        venue,
        {"type": "subscriptions", "channels": [{"name": "matches", "product_ids": ["BAND-GBP"]}]},
    )
    assert ("matches", "BAND-GBP") in venue.subscriptions
    assert venue.stats.control_frames == 1
    sent(venue, {"type": "unsubscribe", "product_ids": ["ETH-USD"], "channels": ["ticker"]})
    assert ("ticker", "ETH-USD") not in venue.subscriptions
    request = json.loads(venue.subscribe_request([venue.instruments["BTC/USD"]]))
    assert request == {
        "type": "subscribe",
        "product_ids": ["BTC-USD"],
        "channels": ["level2_batch", "ticker", "matches", "heartbeat"],
    }


def test_exchange_connections_round_trip_and_resubscribe() -> None:
    endpoints = Endpoints("ws://127.0.0.1:3/coinbase", "http://127.0.0.1:3/coinbase")
    instruments = CoinbaseExchange.parse_instruments(f"{URL}/products", PRODUCTS)
    venue = CoinbaseExchange(instruments, endpoints=endpoints)
    btc, band = venue.instruments["BTC/USD"], venue.instruments["BAND/GBP"]
    (connection,) = open_live(venue, [btc, band])
    assert (connection.url, connection.symbols) == (endpoints.ws, ("BTC/USD", "BAND/GBP"))
    assert venue.subscriptions == {
        (channel, product)
        # level2_batch brings level2 messages
        for channel in ("level2", "ticker", "matches", "heartbeat")
        for product in ("BTC-USD", "BAND-GBP")
    }
    resubscribe = venue.resubscribe_frames(btc)
    assert [json.loads(f)["type"] for f in resubscribe] == ["unsubscribe", "subscribe"]
    run(venue, [open_sent(f) for f in resubscribe])
    assert ("level2", "BTC-USD") in venue.subscriptions and len(venue.subscriptions) == 8
    assert venue.snapshot_url(btc) is None
    heartbeat = {"type": "heartbeat", "sequence": 90, "last_trade_id": 20, "product_id": "BTC-USD"}
    assert run(venue, [received(heartbeat)]) == [] and venue.stats.ignored_frames == 1
    assert venue.keepalive.stale_after_s == 10  # heartbeats tick every second
    assert CoinbaseExchange.instruments_urls(endpoints) == [f"{endpoints.rest}/products"]


def test_advanced_connections_round_trip_and_resubscribe() -> None:
    url = "https://api.coinbase.com/api/v3/brokerage/market/products"
    venue = CoinbaseAdvanced(CoinbaseAdvanced.parse_instruments(url, ADVANCED_PRODUCTS))
    btc, eth = venue.instruments["BTC/USD"], venue.instruments["ETH/USD"]
    (connection,) = open_live(venue, [btc, eth])
    assert connection.url == "wss://advanced-trade-ws.coinbase.com"
    assert [json.loads(f)["channel"] for f in connection.subscribe] == [
        "level2",
        "market_trades",
        "ticker",
        "heartbeats",
    ]
    assert venue.subscriptions == {
        (channel, product)
        for channel in ("l2_data", "market_trades", "ticker")
        for product in ("BTC-USD", "ETH-USD")
    }
    (again,) = venue.resubscribe_frames(btc)  # level2 subscribed again: a fresh snapshot
    assert json.loads(again) == {
        "type": "subscribe",
        "channel": "level2",
        "product_ids": ["BTC-USD"],
    }
    assert venue.snapshot_url(btc) is None
    assert venue.keepalive.stale_after_s == 10  # heartbeats tick every second
    assert CoinbaseAdvanced.instruments_urls(CoinbaseAdvanced.default_endpoints) == [url]


# -- exact timestamps ---------------------------------------------------------------------------

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def test_timestamp_examples() -> None:
    assert parse_iso8601_ns("2021-04-17T16:43:30.244075Z") == 1_618_677_810_244_075_000
    assert parse_iso8601_ns("2023-02-09T20:32:50.714964855Z") == 1_675_974_770_714_964_855
    assert parse_iso8601_ns("2023-02-09T20:19:35.39625135Z") == 1_675_973_975_396_251_350
    assert parse_iso8601_ns("1970-01-01T00:00:00Z") == 0
    assert parse_iso8601_ns("1969-12-31T23:59:59.5Z") == -500_000_000


@given(st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59, 59)))
def test_timestamps_agree_with_datetime(moment: datetime) -> None:
    text = moment.isoformat(timespec="microseconds") + "Z"
    expected = (moment.replace(tzinfo=UTC) - EPOCH) // timedelta(microseconds=1) * 1000
    assert parse_iso8601_ns(text) == expected
    parsed = datetime.fromisoformat(text[:-1] + "+00:00")
    assert parse_iso8601_ns(text) == (parsed - EPOCH) // timedelta(microseconds=1) * 1000


@given(
    st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59, 59)),
    st.text(alphabet="0123456789", min_size=0, max_size=9),
)
def test_fractions_of_any_length_are_exact(moment: datetime, fraction: str) -> None:
    whole = moment.replace(microsecond=0)
    text = whole.isoformat(timespec="seconds") + (f".{fraction}" if fraction else "") + "Z"
    seconds = (whole.replace(tzinfo=UTC) - EPOCH) // timedelta(seconds=1)
    assert parse_iso8601_ns(text) == seconds * 10**9 + int(fraction.ljust(9, "0"))


@pytest.mark.parametrize(
    "text",
    [
        "",
        "2021-04-17T16:43:30.244075",  # no zone
        "2021-04-17T16:43:30.244075+00:00",
        "2021-04-17 16:43:30.244075Z",
        "2021-04-17T16:43:30.Z",
        "2021-04-17T16:43:30.1234567890Z",  # finer than a nanosecond
        "2021-02-30T16:43:30Z",
        "2021-04-17T24:00:00Z",
        "2021-04-17T16:60:00Z",
        "2021-04-17T16:43:60Z",
        "2021-04-17T16:43:3aZ",
        "2021-04-17T16:43:30.24407\uff15Z",  # a full-width digit
        "2021-04-17T16:43:30.-4Z",
        "+021-04-17T16:43:30Z",
        "2021-04-17T16:43:30.2 Z",
    ],
)
def test_bad_timestamps_raise(text: str) -> None:
    with pytest.raises(TimeFormatError):
        parse_iso8601_ns(text)


@given(st.text(max_size=40))
def test_any_text_parses_to_the_same_instant_or_raises(text: str) -> None:
    try:
        value = parse_iso8601_ns(text)
    except TimeFormatError:
        return
    whole = datetime.strptime(text[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC)
    fraction = text[20:-1]
    expected = (whole - EPOCH) // timedelta(seconds=1) * 10**9 + int(fraction.ljust(9, "0") or 0)
    assert value == expected


# -- Advanced Trade feed (frames written from its documentation) --------------------------------

ADVANCED_PRODUCTS = json.dumps(
    {
        "products": [
            {
                "product_id": pid,
                "price_increment": tick,
                "quote_increment": tick,
                "base_increment": lot,
                "base_currency_id": base,
                "quote_currency_id": "USD",
                "product_type": kind,
            }
            for pid, tick, lot, base, kind in (
                ("BTC-USD", "0.01", "0.00000001", "BTC", "SPOT"),
                ("ETH-USD", "0.01", "0.00000001", "ETH", "SPOT"),
                ("BIT-31JAN25-CDE", "5", "1", "", "FUTURE"),
            )
        ],
        "num_products": 3,
    }
)
STAMP = "2023-02-09T20:32:50.714964855Z"
STAMP_NS = 1_675_974_770_714_964_855


class Advanced:
    """An Advanced Trade session on one connection, numbering the frames it receives."""

    def __init__(self) -> None:
        url = "https://api.coinbase.com/api/v3/brokerage/market/products"
        self.venue = CoinbaseAdvanced(CoinbaseAdvanced.parse_instruments(url, ADVANCED_PRODUCTS))
        self.sequence = 0
        for channel in ("level2", "market_trades", "ticker", "heartbeats"):
            sent(
                self.venue,
                {"type": "subscribe", "product_ids": ["BTC-USD", "ETH-USD"], "channel": channel},
            )

    def send(
        self, channel: str, events: list[dict[str, object]], skip: int = 0
    ) -> list[MarketEvent]:
        self.sequence += skip
        frame = {
            "channel": channel,
            "client_id": "",
            "timestamp": STAMP,
            "sequence_num": self.sequence,
            "events": events,
        }
        self.sequence += 1
        return send(self.venue, frame)


def l2(
    kind: str, product: str, *updates: tuple[str, str, str], at: str = "2023-02-09T20:32:50.7Z"
) -> dict[str, object]:
    return {
        "type": kind,
        "product_id": product,
        "updates": [
            {"side": side, "event_time": at, "price_level": price, "new_quantity": size}
            for side, price, size in updates
        ],
    }


@pytest.fixture
def advanced() -> Advanced:
    session = Advanced()
    session.send(
        "subscriptions",
        [{"subscriptions": {"level2": ["BTC-USD", "ETH-USD"], "heartbeats": ["heartbeats"]}}],
    )
    events = session.send(
        "l2_data",
        [
            l2(
                "snapshot",
                "BTC-USD",
                ("bid", "21921.73", "0.06317902"),
                ("offer", "21921.74", "1.5"),
                at="1970-01-01T00:00:00Z",
            ),
            l2(
                "snapshot",
                "ETH-USD",
                ("bid", "1500.00", "2"),
                ("offer", "1500.01", "3"),
                at="1970-01-01T00:00:00Z",
            ),
        ],
    )
    assert [type(e) for e in events] == [BookSnapshot, BookStatus, BookSnapshot, BookStatus]
    assert events[0].exch_ns == STAMP_NS  # snapshots are stamped with the message time
    return session


def test_advanced_instruments_are_the_spot_products() -> None:
    url = "https://api.coinbase.com/api/v3/brokerage/market/products"
    instruments = CoinbaseAdvanced.parse_instruments(url, ADVANCED_PRODUCTS)
    assert [(i.symbol, i.venue_symbol, i.tick_size, i.lot_size) for i in instruments] == [
        ("BTC/USD", "BTC-USD", 1_000_000, 1),
        ("ETH/USD", "ETH-USD", 1_000_000, 1),
    ]


def test_advanced_level2_updates(advanced: Advanced) -> None:
    [delta] = advanced.send(
        "l2_data",
        [
            l2(
                "update",
                "BTC-USD",
                ("bid", "21921.73", "0"),
                ("offer", "21922.00", "0.25"),
                at="2023-02-09T20:32:50.70001Z",
            )
        ],
    )
    assert isinstance(delta, BookDelta)
    assert delta.exch_ns == 1_675_974_770_700_010_000  # the engine time of the change
    venue = advanced.venue
    assert book_levels(venue, "BTC/USD") == (
        [],
        [(2_192_174_000_000, 150_000_000), (2_192_200_000_000, 25_000_000)],
    )
    assert venue.stats.errors == Counter()
    assert (venue.stats.control_frames, venue.books["BTC/USD"].counters.deltas) == (1, 1)


def test_advanced_sequence_gap_flags_the_books_until_their_next_snapshot(
    advanced: Advanced,
) -> None:
    venue = advanced.venue
    before = book_levels(venue, "BTC/USD")
    events = advanced.send(
        "heartbeats",
        [{"current_time": "2023-02-09 20:32:51 +0000 UTC", "heartbeat_counter": 7}],
        skip=1,
    )
    statuses = [e for e in events if isinstance(e, BookStatus)]
    assert [(s.symbol, s.state) for s in statuses] == [
        ("BTC/USD", BookState.OUT_OF_SYNC),
        ("ETH/USD", BookState.OUT_OF_SYNC),
    ]
    assert "expected 2, got 3" in statuses[0].reason
    assert advanced.send("l2_data", [l2("update", "BTC-USD", ("bid", "21900", "1"))]) == []
    btc = venue.books["BTC/USD"]
    assert (btc.counters.gaps, btc.counters.skipped_deltas, book_levels(venue, "BTC/USD")) == (
        1,
        1,
        before,
    )
    assert venue.resync_requests == {"BTC/USD", "ETH/USD"}
    events = advanced.send("l2_data", [l2("snapshot", "BTC-USD", ("bid", "21900.00", "1"))])
    assert [type(e) for e in events] == [BookSnapshot, BookStatus]
    assert (btc.state, btc.counters.resyncs, venue.books["ETH/USD"].state) == (
        BookState.SYNCED,
        1,
        BookState.OUT_OF_SYNC,
    )
    assert venue.resync_requests == {"ETH/USD"}


def test_advanced_market_trades(advanced: Advanced) -> None:
    venue = advanced.venue
    history = {
        "trade_id": "41",
        "product_id": "BTC-USD",
        "price": "21900",
        "size": "1",
        "side": "BUY",
        "time": STAMP,
    }
    assert advanced.send("market_trades", [{"type": "snapshot", "trades": [history]}]) == []
    newer = {**history, "trade_id": "43", "side": "SELL", "time": "2023-02-09T20:32:51.1Z"}
    older = {**history, "trade_id": "42", "price": "21921.74", "size": "0.5"}
    trades = advanced.send("market_trades", [{"type": "update", "trades": [newer, older]}])
    assert [(t.trade_id, t.side, t.price, t.size) for t in trades if isinstance(t, Trade)] == [
        ("42", Side.SELL, 2_192_174_000_000, 50_000_000),  # maker BUY: the aggressor sold
        ("43", Side.BUY, 2_190_000_000_000, 100_000_000),
    ]
    assert trades[1].exch_ns == 1_675_974_771_100_000_000
    assert advanced.send("market_trades", [{"type": "update", "trades": [newer]}]) == []
    assert (venue.duplicate_trades["BTC/USD"], venue.trade_gaps["BTC/USD"]) == (1, 0)


def test_advanced_ticker(advanced: Advanced) -> None:
    ticker = {
        "type": "ticker",
        "product_id": "BTC-USD",
        "price": "21932.98",
        "volume_24_h": "16038.28770938",
        "low_24_h": "21835.29",
        "high_24_h": "23011.18",
        "low_52_w": "15460",
        "high_52_w": "48240",
        "price_percent_chg_24_h": "-4.15775596190603",
        "best_bid": "21932.98",
        "best_bid_quantity": "0.5",
        "best_ask": "21933.00",
        "best_ask_quantity": "1",
    }
    ticker_event, bbo = advanced.send("ticker", [{"type": "update", "tickers": [ticker]}])
    assert isinstance(ticker_event, Ticker) and isinstance(bbo, BestBidOffer)
    assert (ticker_event.last_price, ticker_event.open_24h, ticker_event.volume_24h) == (
        2_193_298_000_000,
        None,
        1_603_828_770_938,
    )
    assert (ticker_event.exch_ns, bbo.bid_size, bbo.ask_price) == (
        STAMP_NS,
        50_000_000,
        2_193_300_000_000,
    )


@pytest.mark.parametrize(
    ("channel", "events", "kind"),
    [
        pytest.param(
            "l2_data", [l2("update", "BTC-USD", ("bid", "abc", "1"))], "bad_value", id="bad-price"
        ),
        pytest.param(
            "l2_data", [l2("update", "BTC-USD", ("bid", "21900", "NaN"))], "bad_value", id="nan"
        ),
        pytest.param(
            "l2_data",
            [l2("update", "BTC-USD", ("middle", "21900", "1"))],
            "malformed",
            id="bad-side",
        ),
        pytest.param(
            "l2_data",
            [{"type": "update", "product_id": "BTC-USD", "updates": 5}],
            "malformed",
            id="bad-shape",
        ),
        pytest.param(
            "l2_data",
            [
                l2("update", "ETH-USD", ("bid", "1499", "1")),
                l2("update", "BTC-USD", ("offer", "21950", "-1")),
            ],
            "bad_value",
            id="second-event-bad",
        ),
        pytest.param(
            "l2_data", [l2("update", "DOGE-USD", ("bid", "1", "1"))], "unknown_symbol", id="unknown"
        ),
    ],
)
def test_advanced_bad_frames(
    advanced: Advanced, channel: str, events: list[dict[str, object]], kind: str
) -> None:
    venue = advanced.venue
    before = {s: book_levels(venue, s) for s in venue.books}
    advanced.send(channel, events)
    assert venue.stats.errors == {kind: 1}
    assert {s: book_levels(venue, s) for s in venue.books} == before
    flagged = {s for s, b in venue.books.items() if b.state is BookState.OUT_OF_SYNC}
    named = {e["product_id"] for e in events}
    assert flagged == {venue.by_venue_symbol[p].symbol for p in named if p in venue.by_venue_symbol}
    # The frame's number was counted: the next frame is no gap for the other books.
    advanced.send("heartbeats", [{"current_time": "x", "heartbeat_counter": 8}])
    assert sum(b.counters.gaps for b in venue.books.values()) == 0


def test_advanced_unreadable_frame_shows_as_a_gap_on_the_next_one(advanced: Advanced) -> None:
    venue = advanced.venue
    send(venue, '{"channel": "l2_data", "sequence_num": 2, "events": [{"type": "upd')
    advanced.sequence += 1
    assert venue.stats.errors == {"malformed": 1}
    assert all(b.state is BookState.SYNCED for b in venue.books.values())
    advanced.send("heartbeats", [{"current_time": "x", "heartbeat_counter": 8}])
    assert all(b.state is BookState.OUT_OF_SYNC for b in venue.books.values())


def test_advanced_control_and_errors(advanced: Advanced) -> None:
    venue = advanced.venue
    assert send(venue, {"type": "error", "message": "failure to subscribe"}) == []
    assert advanced.send("status", [{"type": "snapshot", "products": []}]) == []
    advanced.send("candles_v9", [])
    assert venue.stats.errors == {"venue_error": 1, "malformed": 1}
    assert venue.stats.ignored_frames == 1
    advanced.send(
        "market_trades",
        [
            {
                "type": "update",
                "trades": [
                    {
                        "trade_id": "1",
                        "product_id": "BTC-USD",
                        "price": "1",
                        "size": "1",
                        "side": "BUY",
                        "time": STAMP,
                    }
                ],
            }
        ],
    )
    assert venue.stats.errors == {"venue_error": 1, "malformed": 1}
    venue.subscriptions.discard(("market_trades", "BTC-USD"))
    advanced.send(
        "market_trades",
        [
            {
                "type": "update",
                "trades": [
                    {
                        "trade_id": "2",
                        "product_id": "BTC-USD",
                        "price": "1",
                        "size": "1",
                        "side": "BUY",
                        "time": STAMP,
                    }
                ],
            }
        ],
    )
    assert venue.stats.errors["unsubscribed"] == 1
    frames = [
        json.loads(f) for f in venue.subscribe_requests([venue.instruments["BTC/USD"]], jwt="j")
    ]
    assert frames[0] == {
        "type": "subscribe",
        "channel": "level2",
        "product_ids": ["BTC-USD"],
        "jwt": "j",
    }
    assert frames[-1] == {"type": "subscribe", "channel": "heartbeats", "jwt": "j"}


def test_the_time_cache_stays_bounded() -> None:
    from orderscope.venues import coinbase

    start = datetime(2021, 4, 17, tzinfo=UTC)
    for second in range(coinbase._SECONDS_MAX + 10):
        moment = start + timedelta(seconds=second)
        assert parse_iso8601_ns(moment.strftime("%Y-%m-%dT%H:%M:%S.5Z")) == (
            (moment - EPOCH) // timedelta(seconds=1) * 10**9 + 500_000_000
        )
    assert len(coinbase._SECONDS) <= coinbase._SECONDS_MAX
