"""Bybit v5: orderbook snapshot/delta with ``u``, publicTrade, tickers, liquidations, errors.

The v5 fixtures (tests/fixtures/bybit) are hand-written from the messages Bybit documents: the
recorded captures hold only the retired 2021 protocol (see test_bybit_legacy.py).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from orderscope.capture import RecordKind, read_capture_file
from orderscope.errors import (
    BadValue,
    ConfigError,
    MalformedFrame,
    UnknownSymbol,
    UnsubscribedChannel,
    VenueErrorMessage,
)
from orderscope.model import (
    BookDelta,
    BookSnapshot,
    BookState,
    BookStatus,
    FundingRate,
    InstrumentKind,
    Liquidation,
    MarketEvent,
    OpenInterest,
    Side,
    Ticker,
    Trade,
)
from orderscope.replay import Replay
from orderscope.venues import venue_class
from orderscope.venues.base import Endpoints
from orderscope.venues.bybit import Bybit
from tests.venues.venue_testing import (
    book_view,
    errors,
    open_live,
    opened,
    received,
    replay_bytes,
    run,
    sent,
)

FIXTURES = Path(__file__).parents[1] / "fixtures" / "bybit"
LINEAR = "wss://stream.bybit.com/v5/public/linear"
SPOT = "wss://stream.bybit.com/v5/public/spot"


def instruments_of_fixture() -> Bybit:
    records = read_capture_file(FIXTURES / "BYBIT.0")
    listed = [i for r in records for i in Bybit.parse_instruments(r.url, r.payload)]
    return Bybit(listed)


def book_frame(kind: str, u: int, bids: object, asks: object, symbol: str = "BTCUSDT") -> str:
    data = {"s": symbol, "b": bids, "a": asks, "u": u, "seq": 7961638724 + u}
    message = {"topic": f"orderbook.50.{symbol}", "type": kind, "ts": 1672304484978, "data": data}
    return json.dumps(message | {"cts": 1672304484976})


def trade_frame(*trades: dict[str, object], symbol: str = "BTCUSDT") -> str:
    return json.dumps(
        {"topic": f"publicTrade.{symbol}", "type": "snapshot", "ts": 1672304486868, "data": trades}
    )


def public_trade(side: str = "Buy", size: str = "0.001", price: str = "16578.50") -> dict:
    return {
        "T": 1672304486865,
        "s": "BTCUSDT",
        "S": side,
        "v": size,
        "p": price,
        "L": "PlusTick",
        "i": "20f43950-d8dd-5b31-9112-a178eb6023af",
        "BT": False,
    }


def linear_venue(depth: int = 50) -> Bybit:
    venue = instruments_of_fixture()
    topics = [f"orderbook.{depth}.BTCUSDT", "publicTrade.BTCUSDT", "tickers.BTCUSDT"]
    subscribe = json.dumps({"op": "subscribe", "args": [*topics, "allLiquidation.BTCUSDT"]})
    run(venue, [opened(LINEAR), sent(subscribe)])
    return venue


def synced_linear() -> Bybit:
    venue = linear_venue()
    bids = [["16493.50", "0.006"], ["16493.00", "0.100"]]
    asks = [["16611.00", "0.029"], ["16612.00", "0.213"]]
    run(venue, [received(book_frame("snapshot", 100, bids, asks))])
    return venue


def kinds(events: list[MarketEvent]) -> list[str]:
    return [type(e).__name__ for e in events]


# -- instruments and live helpers ----------------------------------------------------------


def test_instruments_from_the_documented_v5_response() -> None:
    venue = instruments_of_fixture()
    linear = venue.instruments["BTC/USDT:USDT"]
    spot = venue.instruments["BTC/USDT"]
    assert linear.kind is InstrumentKind.LINEAR_PERPETUAL and linear.settle == "USDT"
    assert (linear.price_decimals, linear.size_decimals, linear.tick_size) == (2, 3, 10)
    assert (spot.kind, spot.price_decimals, spot.size_decimals) == (InstrumentKind.SPOT, 2, 6)
    assert linear.venue_symbol == spot.venue_symbol == "BTCUSDT"
    assert venue.by_venue_symbol["linear:BTCUSDT"] is linear
    assert venue.by_venue_symbol["spot:BTCUSDT"] is spot
    assert venue_class("bybit") is Bybit


def test_connections_one_url_per_category_within_the_limits_and_round_trip() -> None:
    venue = Bybit(instruments_of_fixture().instruments.values(), book_depth=200)
    spot, linear = venue.instruments["BTC/USDT"], venue.instruments["BTC/USDT:USDT"]
    eth = venue.instruments["ETH/USDT:USDT"]
    connections = open_live(venue, [spot, linear, eth])
    assert [c.url for c in connections] == [SPOT, LINEAR]
    assert [c.symbols for c in connections] == [("BTC/USDT",), ("BTC/USDT:USDT", "ETH/USDT:USDT")]
    spot_frames = [json.loads(f) for f in connections[0].subscribe]
    assert spot_frames == [
        {
            "op": "subscribe",
            "args": ["orderbook.200.BTCUSDT", "publicTrade.BTCUSDT", "tickers.BTCUSDT"],
        }
    ]
    linear_args = [a for f in connections[1].subscribe for a in json.loads(f)["args"]]
    assert "allLiquidation.ETHUSDT" in linear_args and len(linear_args) == 8
    # the topics sent, keyed by the category of their connection, are what the connector takes
    assert venue.subscriptions == {
        ("orderbook.200", "spot:BTCUSDT"),
        ("publicTrade", "spot:BTCUSDT"),
        ("tickers", "spot:BTCUSDT"),
        *(
            (channel, f"linear:{symbol}")
            for symbol in ("BTCUSDT", "ETHUSDT")
            for channel in ("orderbook.200", "publicTrade", "tickers", "allLiquidation")
        ),
    }
    # spot: at most 10 topics a request; every connection within 21,000 characters of args
    many = venue.connections([spot] * 30)
    assert all(len(json.loads(f)["args"]) <= 10 for c in many for f in c.subscribe)
    assert sum(len(json.loads(f)["args"]) for c in many for f in c.subscribe) == 90
    huge = venue.connections([linear] * 1_500)  # 6,000 topics: more than a connection takes
    assert len(huge) > 1
    for connection in huge:
        args = [a for f in connection.subscribe for a in json.loads(f)["args"]]
        assert len(json.dumps(args)) <= 21_000
    assert sum(len(c.symbols) for c in huge) == 1_500  # an instrument's topics stay together
    with pytest.raises(ConfigError):
        Bybit(venue.instruments.values(), book_depth=25)


def test_resubscribe_keepalive_and_endpoints() -> None:
    venue = linear_venue()
    linear = venue.instruments["BTC/USDT:USDT"]
    assert [json.loads(f) for f in venue.resubscribe_frames(linear)] == [
        {"op": "unsubscribe", "args": ["orderbook.50.BTCUSDT"]},
        {"op": "subscribe", "args": ["orderbook.50.BTCUSDT"]},
    ]
    before = set(venue.subscriptions)
    run(venue, [sent(f) for f in venue.resubscribe_frames(linear)])
    assert venue.subscriptions == before  # the book channel stays expected throughout
    assert venue.snapshot_url(linear) is None
    assert json.loads(venue.keepalive.ping_text or "") == {"op": "ping"}
    endpoints = Endpoints("ws://127.0.0.1:7/bybit", "http://127.0.0.1:7/bybit")
    local = Bybit(venue.instruments.values(), endpoints=endpoints)
    (connection,) = open_live(local, [linear])
    assert connection.url == "ws://127.0.0.1:7/bybit/v5/public/linear"
    assert ("orderbook.50", "linear:BTCUSDT") in local.subscriptions  # category from the URL
    assert Bybit.instruments_urls(Bybit.default_endpoints) == [
        "https://api.bybit.com/v5/market/instruments-info?category=spot&limit=1000",
        "https://api.bybit.com/v5/market/instruments-info?category=linear&limit=1000",
    ]


# -- the fixture session -------------------------------------------------------------------


def test_fixture_session_replays_every_documented_message() -> None:
    session = Replay([FIXTURES])
    events: list[MarketEvent] = []
    session.run_all(lambda _venue, batch: events.extend(batch))
    venue = session.venues[0]
    assert errors(venue) == {}
    assert venue.stats.control_frames == 3  # two subscription replies and a pong
    linear = venue.books["BTC/USDT:USDT"]
    # the u=1 snapshot (a service restart) replaced the book, then u=2 continued it
    assert linear.state is BookState.SYNCED and linear.sequence == 2
    assert linear.bids() == [(1649300, 500), (1649250, 1000)]
    assert linear.asks() == [(1649400, 150), (1649450, 300)]
    assert (linear.counters.gaps, linear.counters.resyncs, linear.counters.skipped_deltas) == (
        1,
        1,
        1,
    )
    spot = venue.books["BTC/USDT"]
    assert spot.bids() == [(1649000, 250000)]
    assert spot.asks() == [(1649030, 20000), (1649050, 50000), (1649107, 1000000)]
    statuses = [(e.symbol, e.state) for e in events if isinstance(e, BookStatus)]
    assert statuses == [
        ("BTC/USDT:USDT", BookState.SYNCED),
        ("BTC/USDT", BookState.SYNCED),
        ("BTC/USDT:USDT", BookState.OUT_OF_SYNC),
        ("BTC/USDT:USDT", BookState.SYNCED),
    ]
    trades = [e for e in events if isinstance(e, Trade)]
    assert [(t.symbol, t.side, t.price, t.size) for t in trades] == [
        ("BTC/USDT:USDT", Side.BUY, 1649400, 29),
        ("BTC/USDT:USDT", Side.SELL, 1649350, 4),
        ("BTC/USDT", Side.BUY, 1649030, 20000),
    ]
    funding = [e for e in events if isinstance(e, FundingRate)]
    assert [(f.rate, f.mark_price, f.index_price) for f in funding] == [
        ("-0.000212", 1649372, 1649636),
        ("-0.000212", 1649380, 1649636),  # a delta carrying only markPrice keeps the rest
    ]
    assert funding[0].next_funding_ns == 1673280000000 * 10**6
    assert [e.open_interest for e in events if isinstance(e, OpenInterest)] == [68744761, 68750000]
    tickers = [e for e in events if isinstance(e, Ticker)]
    assert [(t.symbol, t.last_price, t.best_bid) for t in tickers] == [
        ("BTC/USDT:USDT", 1649400, 1649350),
        ("BTC/USDT", 1649030, None),
        ("BTC/USDT:USDT", 1649400, 1649300),
    ]
    (liquidation,) = [e for e in events if isinstance(e, Liquidation)]
    assert (liquidation.side, liquidation.price, liquidation.size) == (Side.SELL, 1640000, 500)


def test_fixture_replay_is_deterministic() -> None:
    assert replay_bytes([FIXTURES]) == replay_bytes([FIXTURES])


def test_the_same_symbol_is_told_apart_by_its_connection() -> None:
    venue = instruments_of_fixture()
    subscribe = json.dumps({"op": "subscribe", "args": ["publicTrade.BTCUSDT"]})
    run(venue, [opened(SPOT, conn=1), sent(subscribe, conn=1), opened(LINEAR, conn=2)])
    (spot_trade,) = run(venue, [received(trade_frame(public_trade()), conn=1)])
    assert spot_trade.symbol == "BTC/USDT"
    run(venue, [received(trade_frame(public_trade()), conn=2)])  # linear: not subscribed
    assert errors(venue) == {"unsubscribed": 1}


# -- book sync -----------------------------------------------------------------------------


def test_deltas_must_continue_u_by_one() -> None:
    venue = synced_linear()
    book = venue.books["BTC/USDT:USDT"]
    events = run(venue, [received(book_frame("delta", 101, [["16493.50", "0"]], []))])
    assert kinds(events) == ["BookDelta"] and book.best_bid() == (1649300, 100)
    events = run(venue, [received(book_frame("delta", 103, [["16493.00", "5"]], []))])
    assert kinds(events) == ["BookStatus"] and book.state is BookState.OUT_OF_SYNC
    assert book.bid_size(1649300) == 100 and "BTC/USDT:USDT" in venue.resync_requests
    events = run(venue, [received(book_frame("delta", 104, [["16493.00", "6"]], []))])
    assert events == [] and book.counters.skipped_deltas == 1  # waits for a snapshot
    events = run(venue, [received(book_frame("snapshot", 200, [["16490.00", "1"]], []))])
    assert kinds(events) == ["BookSnapshot", "BookStatus"] and book.sequence == 200
    assert book.counters.resyncs == 1 and "BTC/USDT:USDT" not in venue.resync_requests


def test_a_snapshot_with_u_1_replaces_a_synced_book_and_restarts_the_sequence() -> None:
    venue = synced_linear()
    book = venue.books["BTC/USDT:USDT"]
    events = run(venue, [received(book_frame("snapshot", 1, [["16400.00", "1"]], []))])
    assert kinds(events) == ["BookSnapshot"]  # still trustworthy: no state change to report
    assert book.bids() == [(1640000, 1000)] and book.asks() == []
    assert book.state is BookState.SYNCED and book.sequence == 1
    events = run(venue, [received(book_frame("delta", 2, [], [["16401.00", "2"]]))])
    assert kinds(events) == ["BookDelta"] and book.asks() == [(1640100, 2000)]
    assert book.counters.gaps == 0


def test_a_delta_with_u_1_is_a_gap_not_a_reset() -> None:
    venue = synced_linear()
    run(venue, [received(book_frame("delta", 1, [["16400.00", "1"]], []))])
    assert venue.books["BTC/USDT:USDT"].state is BookState.OUT_OF_SYNC


def test_level_1_snapshots_repeat_u_and_still_replace_the_book() -> None:
    venue = linear_venue(depth=1)
    for size in ("1", "2"):
        frame = book_frame("snapshot", 77, [["16493.50", size]], [["16494.00", "1"]])
        run(venue, [received(frame.replace("orderbook.50", "orderbook.1"))])
    book = venue.books["BTC/USDT:USDT"]
    assert book.bids() == [(1649350, 2000)] and book.counters.gaps == 0
    assert book.max_depth == 1


def test_a_second_depth_of_a_followed_book_is_ignored() -> None:
    venue = synced_linear()
    subscribe = json.dumps({"op": "subscribe", "args": ["orderbook.200.BTCUSDT"]})
    run(venue, [sent(subscribe)])
    frame = book_frame("snapshot", 5, [["1.00", "1"]], []).replace("orderbook.50", "orderbook.200")
    assert run(venue, [received(frame)]) == []
    assert venue.stats.ignored_frames == 1 and venue.books["BTC/USDT:USDT"].sequence == 100


def test_subscribed_topics_that_are_not_normalized_are_ignored() -> None:
    venue = synced_linear()
    topics = ["orderbook.rpi.BTCUSDT", "kline.1.BTCUSDT"]
    run(venue, [sent(json.dumps({"op": "subscribe", "args": topics}))])
    rpi = book_frame("snapshot", 9, [["1.00", "1"]], []).replace("orderbook.50", "orderbook.rpi")
    kline = {"topic": "kline.1.BTCUSDT", "type": "snapshot", "ts": 1, "data": []}
    assert run(venue, [received(rpi), received(kline)]) == []
    assert venue.stats.ignored_frames == 2 and errors(venue) == {}
    assert venue.books["BTC/USDT:USDT"].sequence == 100


# -- bad frames ----------------------------------------------------------------------------

BAD_FRAMES = [
    (book_frame("delta", 101, [["16493.50", "1"]], [])[:-30], MalformedFrame),
    (book_frame("delta", 101, [], []).replace('"u": 101', '"u": "abc"'), MalformedFrame),
    (book_frame("delta", 101, [["16493.50", 1.5]], []), MalformedFrame),
    (book_frame("delta", 101, [["16493.50", "1"], ["16493.00", "NaN"]], []), BadValue),
    (book_frame("delta", 101, [["16493.50", "1"]], [["16611.00", "-2"]]), BadValue),
    (book_frame("delta", 101, [["16493.505", "1"]], []), BadValue),
    (book_frame("delta", 101, [], [], symbol="ETHUSD"), UnknownSymbol),
    (book_frame("delta", 101, [], [], symbol="ETHUSDT"), UnsubscribedChannel),
    (book_frame("delta", 101, [], []).replace('"s": "BTCUSDT"', '"s": "ETHUSDT"'), BadValue),
    (book_frame("refresh", 101, [], []), MalformedFrame),
    (trade_frame(public_trade(), public_trade(side="Up")), BadValue),
    (trade_frame(public_trade(), public_trade(size="0")), BadValue),
    (
        json.dumps({"success": False, "ret_msg": "error:handler not found", "op": "subscribe"}),
        VenueErrorMessage,
    ),
    (json.dumps({"hello": "world"}), MalformedFrame),
]


@pytest.mark.parametrize(("frame", "error"), BAD_FRAMES)
def test_bad_frames_are_typed_counted_and_leave_the_book_untouched(
    frame: str, error: type[Exception]
) -> None:
    venue = synced_linear()
    book = venue.books["BTC/USDT:USDT"]
    before = book_view(book)
    events = run(venue, [received(frame)])
    assert errors(venue) == {error.kind: 1}  # type: ignore[attr-defined]
    assert isinstance(venue.stats.recent_errors[-1], error)
    assert not any(isinstance(e, (Trade, BookDelta, BookSnapshot)) for e in events)
    assert book_view(book)[1:] == before[1:]
    assert run(venue, [received(trade_frame(public_trade()))])  # the stream goes on


def test_a_bad_book_frame_marks_the_book_out_of_sync() -> None:
    venue = synced_linear()
    run(venue, [received(book_frame("delta", 101, [["16493.50", "-1"]], []))])
    book = venue.books["BTC/USDT:USDT"]
    assert book.state is BookState.OUT_OF_SYNC and book.counters.errors == 1
    # the next delta cannot be trusted either: it waits for the snapshot
    run(venue, [received(book_frame("delta", 102, [["16493.50", "1"]], []))])
    assert book.counters.skipped_deltas == 1


def test_a_bad_ticker_field_stores_nothing() -> None:
    venue = linear_venue()
    good = {"symbol": "BTCUSDT", "fundingRate": "0.0001", "markPrice": "16000.00"}
    frame = {"topic": "tickers.BTCUSDT", "type": "snapshot", "ts": 1, "data": good}
    (funding,) = run(venue, [received(frame)])
    assert isinstance(funding, FundingRate) and funding.mark_price == 1600000
    bad = {"symbol": "BTCUSDT", "fundingRate": "0.0002", "markPrice": "abc"}
    run(venue, [received(frame | {"type": "delta", "data": bad})])
    assert errors(venue) == {"bad_value": 1}
    delta = {"symbol": "BTCUSDT", "indexPrice": "16001.00"}
    (funding,) = run(venue, [received(frame | {"type": "delta", "data": delta})])
    assert isinstance(funding, FundingRate)
    assert (funding.rate, funding.mark_price) == ("0.0001", 1600000)  # the bad delta left no trace


def test_legacy_liquidation_topic_and_object_data() -> None:
    venue = instruments_of_fixture()
    subscribe = json.dumps({"op": "subscribe", "args": ["liquidation.BTCUSDT"]})
    run(venue, [opened(LINEAR), sent(subscribe)])
    data = {
        "updatedTime": 1673251091822,
        "symbol": "BTCUSDT",
        "side": "Sell",  # a short position was liquidated: the forced order buys
        "size": "0.010",
        "price": "16500.00",
    }
    frame = {"topic": "liquidation.BTCUSDT", "type": "snapshot", "ts": 1, "data": data}
    (liquidation,) = run(venue, [received(frame)])
    assert isinstance(liquidation, Liquidation)
    assert (liquidation.side, liquidation.size, liquidation.exch_ns) == (
        Side.BUY,
        10,
        1673251091822 * 10**6,
    )


def test_fixture_frames_are_in_the_capture_format() -> None:
    for path in FIXTURES.glob("BYBIT.ws.*"):
        records = list(read_capture_file(path))
        assert records[0].kind is RecordKind.OPEN
        assert any(r.kind is RecordKind.SENT for r in records)
