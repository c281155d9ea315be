"""Bitstamp: diff_order_book after the REST snapshot by microtimestamp, live_trades, errors."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import msgspec
import pytest

from orderscope.capture import CaptureRecord, RecordKind, read_capture_file
from orderscope.errors import BadValue, MalformedFrame, UnknownSymbol, UnsubscribedChannel
from orderscope.model import BookDelta, BookSnapshot, BookState, BookStatus, Side, Trade
from orderscope.replay import Replay
from orderscope.venues import venue_class
from orderscope.venues.base import Endpoints
from orderscope.venues.bitstamp import Bitstamp
from tests.venues.venue_testing import (
    book_view,
    errors,
    open_live,
    opened,
    received,
    replay_bytes,
    rest,
    run,
    sent,
)

PAIRS_URL = "https://www.bitstamp.net/api/v2/trading-pairs-info/"
PAIRS = json.dumps(
    [
        {"name": "BTC/USD", "url_symbol": "btcusd", "base_decimals": 8, "counter_decimals": 2},
        {"name": "ETH/USD", "url_symbol": "ethusd", "base_decimals": 8, "counter_decimals": 2},
    ]
)
BOOK_URL = "https://www.bitstamp.net/api/v2/order_book/ethusd"


def diff(mt: int, bids: list[list[str]], asks: list[list[str]], pair: str = "ethusd") -> str:
    data = {"timestamp": str(mt // 10**6), "microtimestamp": str(mt), "bids": bids, "asks": asks}
    return json.dumps({"data": data, "channel": f"diff_order_book_{pair}", "event": "data"})


def snapshot(mt: int) -> str:
    return json.dumps(
        {
            "timestamp": str(mt // 10**6),
            "microtimestamp": str(mt),
            "bids": [["3800.00", "1.00000000"], ["3799.00", "2.00000000"]],
            "asks": [["3801.00", "1.50000000"], ["3802.00", "3.00000000"]],
        }
    )


def trade(kind: int, pair: str = "ethusd", amount: str = "0.07920000") -> str:
    data = {
        "id": 216000477,
        "timestamp": "1641343699",
        "amount": 0.0792,
        "amount_str": amount,
        "price": 3805.44,
        "price_str": "3805.44",
        "type": kind,
        "microtimestamp": "1641343699596000",
    }
    return json.dumps({"data": data, "channel": f"live_trades_{pair}", "event": "trade"})


def subscribed_venue() -> Bitstamp:
    venue = Bitstamp(Bitstamp.parse_instruments(PAIRS_URL, PAIRS))
    open_live(venue, [venue.instruments["ETH/USD"]])
    return venue


def synced_venue() -> Bitstamp:
    venue = subscribed_venue()
    run(venue, [rest(BOOK_URL, snapshot(1_000_000))])
    return venue


# -- instruments and live helpers ----------------------------------------------------------


def test_instruments_take_precision_from_trading_pairs_info(captures: Path) -> None:
    info = next(r for r in read_capture_file(captures / "BITSTAMP.0") if r.kind is RecordKind.REST)
    by_symbol = {i.symbol: i for i in Bitstamp.parse_instruments(info.url, info.payload)}
    eth, usdt = by_symbol["ETH/USD"], by_symbol["USDT/USD"]
    assert (eth.venue_symbol, eth.price_decimals, eth.size_decimals) == ("ethusd", 2, 8)
    assert (usdt.price_decimals, usdt.size_decimals) == (5, 5)
    assert venue_class("bitstamp") is Bitstamp


def test_connections_round_trip_and_rest_urls() -> None:
    endpoints = Endpoints("ws://127.0.0.1:9", "http://127.0.0.1:9")
    venue = Bitstamp(Bitstamp.parse_instruments(PAIRS_URL, PAIRS), endpoints=endpoints)
    (connection,) = open_live(venue, list(venue.instruments.values()))
    assert (connection.url, connection.symbols) == ("ws://127.0.0.1:9", ("BTC/USD", "ETH/USD"))
    requests = [json.loads(f) for f in connection.subscribe]
    assert all(r["event"] == "bts:subscribe" for r in requests)
    assert [r["data"]["channel"] for r in requests] == [
        "diff_order_book_btcusd",
        "live_trades_btcusd",
        "diff_order_book_ethusd",
        "live_trades_ethusd",
    ]
    assert venue.subscriptions == {
        ("diff_order_book", "btcusd"),
        ("live_trades", "btcusd"),
        ("diff_order_book", "ethusd"),
        ("live_trades", "ethusd"),
    }
    eth = venue.instruments["ETH/USD"]
    assert venue.snapshot_url(eth) == "http://127.0.0.1:9/api/v2/order_book/ethusd"
    assert Bitstamp(venue.instruments.values()).snapshot_url(eth) == BOOK_URL
    assert venue.resubscribe_frames(eth) == []  # REST snapshots resync the books
    assert Bitstamp.instruments_urls(Bitstamp.default_endpoints) == [PAIRS_URL]
    assert json.loads(venue.keepalive.ping_text or "") == {"event": "bts:heartbeat"}
    run(venue, [sent(venue.keepalive.ping_text or "")])  # a heartbeat subscribes nothing
    assert len(venue.subscriptions) == 4


def test_heartbeat_reply_and_reconnect_request_are_control_frames() -> None:
    venue = subscribed_venue()
    heartbeat = {"event": "bts:heartbeat", "channel": "", "data": {"status": "success"}}
    reconnect = {"event": "bts:request_reconnect", "channel": "", "data": ""}
    assert run(venue, [received(heartbeat), received(reconnect)]) == []
    assert venue.stats.control_frames == 2
    assert venue.reconnect_requested and venue.stats.reconnect_requests == 1
    assert errors(venue) == {}


# -- the sync rule -------------------------------------------------------------------------


def test_diffs_wait_for_the_snapshot_then_only_newer_ones_apply() -> None:
    venue = subscribed_venue()
    early = [
        received(diff(999_000, [["3800.00", "9.00000000"]], [])),  # older than the snapshot
        received(diff(1_000_000, [["3799.00", "9.00000000"]], [])),  # same microtimestamp
        received(diff(1_000_001, [["3800.00", "0.50000000"]], [["3801.00", "0.00000000"]])),
    ]
    assert run(venue, early) == []  # buffered: nothing to apply them to yet
    events = run(venue, [rest(BOOK_URL, snapshot(1_000_000))])
    assert [type(e) for e in events] == [BookSnapshot, BookStatus, BookDelta]
    book = venue.books["ETH/USD"]
    assert book.state is BookState.SYNCED and book.sequence == 1_000_001
    assert book.bids() == [(380000, 50000000), (379900, 200000000)]
    assert book.asks() == [(380200, 300000000)]
    assert book.counters.skipped_deltas == 2 and book.counters.gaps == 0
    run(venue, [received(diff(1_000_002, [], [["3801.50", "1.00000000"]]))])
    assert book.asks(1) == [(380150, 100000000)]
    assert errors(venue) == {}


def test_a_diff_that_is_not_newer_after_bridging_makes_the_book_out_of_sync() -> None:
    venue = synced_venue()
    book = venue.books["ETH/USD"]
    run(venue, [received(diff(1_000_005, [["3800.00", "4.00000000"]], []))])
    events = run(venue, [received(diff(1_000_004, [["3800.00", "5.00000000"]], []))])
    assert [(type(e), getattr(e, "state", None)) for e in events] == [
        (BookStatus, BookState.OUT_OF_SYNC)
    ]
    assert book.bid_size(380000) == 400000000  # the stale diff was not applied
    assert book.counters.gaps == 1 and "ETH/USD" in venue.resync_requests
    run(venue, [received(diff(1_000_006, [["3700.00", "1.00000000"]], []))])  # buffered
    events = run(venue, [rest(BOOK_URL, snapshot(1_000_005))])
    assert book.state is BookState.SYNCED and book.counters.resyncs == 1
    assert book.bid_size(370000) == 100000000  # the buffered newer diff was applied
    assert "ETH/USD" not in venue.resync_requests
    assert any(isinstance(e, BookStatus) and e.state is BookState.SYNCED for e in events)


def test_diffs_from_another_connection_make_the_book_out_of_sync() -> None:
    venue = synced_venue()
    book = venue.books["ETH/USD"]
    run(venue, [received(diff(1_000_001, [["3800.00", "4.00000000"]], []), conn=0)])
    run(venue, [opened("wss://ws.bitstamp.net", conn=1)])  # a reconnect: diffs may be lost
    assert book.state is BookState.SYNCED  # nothing is known to be missing yet
    events = run(venue, [received(diff(1_000_009, [["3800.00", "5.00000000"]], []), conn=1)])
    assert [(type(e), getattr(e, "state", None)) for e in events] == [
        (BookStatus, BookState.OUT_OF_SYNC)
    ]
    assert book.bid_size(380000) == 400000000 and "ETH/USD" in venue.resync_requests
    run(venue, [rest(BOOK_URL, snapshot(1_000_005))])  # the buffered diff is newer: applied
    assert book.state is BookState.SYNCED and book.bid_size(380000) == 500000000
    run(venue, [received(diff(1_000_010, [["3801.00", "0"]], []), conn=1)])
    assert book.state is BookState.SYNCED and book.counters.gaps == 0


# -- trades --------------------------------------------------------------------------------


def test_trade_type_is_the_taker_side() -> None:
    venue = subscribed_venue()
    buy, sell = run(venue, [received(trade(0)), received(trade(1))])
    assert isinstance(buy, Trade) and isinstance(sell, Trade)
    assert (buy.side, sell.side) == (Side.BUY, Side.SELL)
    assert (buy.price, buy.size, buy.trade_id) == (380544, 7920000, "216000477")
    assert buy.exch_ns == 1641343699596000 * 1000


# -- bad frames ----------------------------------------------------------------------------

BAD_FRAMES = [
    ('{"data":{"timestamp":"1","microtimestamp":"1000009","bids":[["3800.00"', MalformedFrame),
    (diff(1_000_009, [["3800.00", 5]], []), MalformedFrame),  # a number where a string belongs
    (diff(1_000_009, [["3800.00", "1.0"]], [["3801.00", "-1.0"]]), BadValue),
    (diff(1_000_009, [["3800.00", "NaN"]], []), BadValue),
    (diff(1_000_009, [["3800.001", "1.0"]], []), BadValue),  # finer than the pair's precision
    (diff(1_000_009, [], [], pair="zzzusd"), UnknownSymbol),
    (diff(1_000_009, [], [], pair="btcusd"), UnsubscribedChannel),
    (
        json.dumps({"data": {}, "channel": "order_book_ethusd", "event": "data"}),
        UnsubscribedChannel,
    ),
    (trade(7), BadValue),
    (trade(0, amount="abc"), BadValue),
]


@pytest.mark.parametrize(("frame", "error"), BAD_FRAMES)
def test_bad_frames_are_typed_counted_and_leave_the_book_untouched(
    frame: str, error: type[Exception]
) -> None:
    venue = synced_venue()
    book = venue.books["ETH/USD"]
    before = book_view(book)
    run(venue, [received(frame)])
    assert errors(venue) == {error.kind: 1}  # type: ignore[attr-defined]
    assert isinstance(venue.stats.recent_errors[-1], error)
    assert book_view(book)[1:] == before[1:]  # no level, sequence or count changed
    # the stream goes on
    events = run(venue, [received(trade(1))])
    assert [type(e) for e in events][-1] is Trade


def test_a_bad_book_frame_marks_its_book_out_of_sync() -> None:
    venue = synced_venue()
    events = run(venue, [received(diff(1_000_009, [["3800.00", "-1"]], []))])
    assert [e.state for e in events if isinstance(e, BookStatus)] == [BookState.OUT_OF_SYNC]
    assert "ETH/USD" in venue.resync_requests


def test_venue_error_and_unknown_events_are_errors() -> None:
    venue = subscribed_venue()
    bad = {"event": "bts:error", "channel": "", "data": {"code": None, "message": "Bad"}}
    run(venue, [received(bad), received({"event": "surprise", "channel": "x", "data": {}})])
    assert errors(venue) == {"venue_error": 1, "malformed": 1}


# -- the real capture ----------------------------------------------------------------------


def _reference_books(captures: Path) -> dict[str, tuple[dict[Decimal, Decimal], ...]]:
    """The capture's books rebuilt with plain json and Decimal, independently of orderscope:
    each REST snapshot, then the pair's diffs newer than it, in order."""
    books: dict[str, tuple[dict[Decimal, Decimal], dict[Decimal, Decimal], int]] = {}
    for record in read_capture_file(captures / "BITSTAMP.http.0.0"):
        body = json.loads(record.payload)
        pair = record.url.rsplit("/", 1)[1]
        sides = tuple({Decimal(p): Decimal(q) for p, q in body[side]} for side in ("bids", "asks"))
        books[pair] = (sides[0], sides[1], int(body["microtimestamp"]))
    for record in read_capture_file(captures / "BITSTAMP.ws.1.0"):
        if record.kind is not RecordKind.RECV:
            continue
        msg = json.loads(record.payload)
        if msg["event"] != "data":
            continue
        bids, asks, stamp = books[msg["channel"].rsplit("_", 1)[1]]
        if int(msg["data"]["microtimestamp"]) <= stamp:
            continue
        for side, levels in ((bids, msg["data"]["bids"]), (asks, msg["data"]["asks"])):
            for p, q in levels:
                if Decimal(q):
                    side[Decimal(p)] = Decimal(q)
                else:
                    side.pop(Decimal(p), None)
    return {pair: (bids, asks) for pair, (bids, asks, _) in books.items()}


def test_capture_replays_with_no_error_no_gap_and_every_book_synced(captures: Path) -> None:
    session = Replay([captures / "BITSTAMP.ws.1.0"])
    session.run_all()
    venue = session.venues[0]
    assert errors(venue) == {}
    assert venue.stats.rest_responses == 10 and venue.stats.control_frames == 20
    assert len(venue.books) == 10
    reference = _reference_books(captures)
    for symbol, book in venue.books.items():
        counters = book.counters
        assert book.state is BookState.SYNCED, symbol
        assert (counters.gaps, counters.resyncs, counters.crossed_updates) == (0, 0, 0), symbol
        inst = book.instrument
        ref_bids, ref_asks = reference[inst.venue_symbol]
        assert {
            Decimal(inst.price_text(p)): Decimal(inst.size_text(q)) for p, q in book.bids()
        } == (ref_bids)
        assert {
            Decimal(inst.price_text(p)): Decimal(inst.size_text(q)) for p, q in book.asks()
        } == (ref_asks)
    deltas = sum(b.counters.deltas for b in venue.books.values())
    skipped = sum(b.counters.skipped_deltas for b in venue.books.values())
    assert (deltas, skipped) == (615, 102)  # the 717 diffs of the capture, none lost
    trades = session.trades[("bitstamp", "ETH/USD")]
    assert (trades.count, trades.buy_volume + trades.sell_volume) == (10, trades.volume)


def test_capture_replay_is_deterministic(captures: Path) -> None:
    paths = [captures / "BITSTAMP.ws.1.0"]
    assert replay_bytes(paths) == replay_bytes(paths)


# -- the C kernel (parse_raw_levels) against the typed path ------------------------------------

KERNEL_RECORDS = [
    *(received(frame) for frame, _ in BAD_FRAMES),
    received(diff(1_000_010, [["3800.00", "2.00000000"]], [["3801.00", "0"]])),
    received(diff(1_000_011, [["3800.00", "1.0", "x"]], [])),  # a third item: the typed error
    received(diff(1_000_012, [["\\u0033800.00", "1.0"]], []).replace("\\\\", "\\")),
    received(diff(1_000_013, [["3800.00", "99999999999999999999"]], [])),
    received(diff(1_000_009, [["3800.00", "1.0"]], []).replace('"1000009"', '"10x"')),
    # the one-pass decode of a diff frame: the envelope's fields typed, other events and
    # channels, an unknown pair, no data: each as the usual path reads it
    received(diff(1_000_014, [["3800.00", "1.0"]], []).replace('"event": "data"', '"event": 1')),
    received(diff(1_000_015, [["3800.00", "1.0"]], []).replace('"event": "data"', '"event": "x"')),
    received(diff(1_000_016, [["3800.00", "1.0"]], []).replace("diff_order_book", "order_book")),
    received(diff(1_000_017, [["3800.00", "1.0"]], [], pair="xyzusd")),
    received('{"channel": "diff_order_book_ethusd", "event": "data"}'),
    received(diff(1_000_018, [["3800.00", "3.0"]], [])),
    rest(BOOK_URL, snapshot(1_000_020).replace('"1.00000000"', '"1.000000001"')),
    rest(BOOK_URL, snapshot(1_000_030).replace('"2.00000000"', "2")),
    rest(BOOK_URL, snapshot(1_000_040)),
    rest(BOOK_URL, snapshot(1_000_050).replace('"1000050"', '"-1"')),
]


def _outcomes(records: list[CaptureRecord]) -> list[tuple[object, ...]]:
    venue = synced_venue()
    outcomes = []
    for record in records:
        events = run(venue, [record])
        recent = [str(e) for e in venue.stats.recent_errors]
        outcomes.append((msgspec.json.encode(events), recent, book_view(venue.books["ETH/USD"])))
    return outcomes


def test_the_kernel_gives_the_typed_path_s_events_and_errors(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from orderscope.venues import bitstamp

    if bitstamp.NATIVE_RAW is None:
        pytest.skip("a pure run: only the typed path exists")
    with_kernel = _outcomes(KERNEL_RECORDS)
    monkeypatch.setattr(bitstamp, "NATIVE_RAW", None)
    assert with_kernel == _outcomes(KERNEL_RECORDS)
