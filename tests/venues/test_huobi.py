"""HTX (Huobi): gzip frames, ping/pong, depth.step0 full books, trade.detail, errors."""

from __future__ import annotations

import gzip
import json
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path

import msgspec
import pytest

from orderscope.capture import RecordKind, read_capture_file
from orderscope.errors import (
    BadValue,
    MalformedFrame,
    UnknownSymbol,
    UnsubscribedChannel,
    VenueErrorMessage,
)
from orderscope.model import BookSnapshot, BookState, BookStatus, Side, Trade
from orderscope.replay import Replay
from orderscope.venues import venue_class
from orderscope.venues.base import Endpoints
from orderscope.venues.huobi import SIZE_DECIMALS, Huobi
from tests.venues.venue_testing import (
    book_view,
    errors,
    open_live,
    received,
    replay_bytes,
    run,
)

SYMBOLS_URL = "https://api.huobi.pro/v1/common/symbols"
SYMBOLS = json.dumps(
    {
        "status": "ok",
        "data": [
            {
                "base-currency": "bor",
                "quote-currency": "usdt",
                "price-precision": 2,
                "amount-precision": 6,
                "symbol": "borusdt",
                "state": "online",
            },
            {
                "base-currency": "trio",
                "quote-currency": "eth",
                "price-precision": 10,
                "amount-precision": 2,
                "symbol": "trioeth",
                "state": "online",
            },
        ],
    }
)


def gz(message: dict[str, object] | str) -> bytes:
    text = message if isinstance(message, str) else json.dumps(message)
    return gzip.compress(text.encode())


def depth(bids: object, asks: object, symbol: str = "borusdt", version: int = 7) -> bytes:
    tick = {"bids": bids, "asks": asks, "version": version, "ts": 1618678069720}
    return gz({"ch": f"market.{symbol}.depth.step0", "ts": 1618678069724, "tick": tick})


def trades(*items: dict[str, object], symbol: str = "borusdt") -> bytes:
    tick = {"id": 1, "ts": 1618678071458, "data": list(items)}
    return gz({"ch": f"market.{symbol}.trade.detail", "ts": 1618678071460, "tick": tick})


def item(
    trade_id: int, price: object = 716.0, amount: object = 0.078924, side: str = "sell"
) -> dict:
    return {
        "id": trade_id * 10**12,
        "ts": 1618678071458,
        "tradeId": trade_id,
        "amount": amount,
        "price": price,
        "direction": side,
    }


def subscribed_venue() -> Huobi:
    venue = Huobi(Huobi.parse_instruments(SYMBOLS_URL, SYMBOLS))
    open_live(venue, [venue.instruments["BOR/USDT"]])
    return venue


def synced_venue() -> Huobi:
    venue = subscribed_venue()
    run(venue, [received(depth([[710.01, 2.260165], [710.0, 0.104328]], [[716.15, 0.118518]]))])
    return venue


SIZE_STEP = Decimal(1).scaleb(-SIZE_DECIMALS)


# -- instruments and live helpers ----------------------------------------------------------


def test_instruments_keep_price_precision_and_room_for_off_grid_sizes() -> None:
    bor = Huobi.parse_instruments(SYMBOLS_URL, SYMBOLS)[0]
    assert (bor.symbol, bor.venue_symbol, bor.price_decimals) == ("BOR/USDT", "borusdt", 2)
    assert bor.size_decimals == SIZE_DECIMALS == 10
    assert bor.lot_size == 10**4  # the order-entry step, 10**-6, at 10 decimals
    assert venue_class("huobi") is Huobi


def test_connections_round_trip() -> None:
    endpoints = Endpoints("ws://127.0.0.1:9", "http://127.0.0.1:9")
    venue = Huobi(Huobi.parse_instruments(SYMBOLS_URL, SYMBOLS), endpoints=endpoints)
    (connection,) = open_live(venue, list(venue.instruments.values()))
    assert (connection.url, connection.symbols) == ("ws://127.0.0.1:9/ws", ("BOR/USDT", "TRIO/ETH"))
    frames = [json.loads(f) for f in connection.subscribe]
    assert [f["sub"] for f in frames] == [
        "market.borusdt.depth.step0",
        "market.borusdt.trade.detail",
        "market.trioeth.depth.step0",
        "market.trioeth.trade.detail",
    ]
    assert len({f["id"] for f in frames}) == 4
    assert venue.subscriptions == {
        ("depth.step0", "borusdt"),
        ("trade.detail", "borusdt"),
        ("depth.step0", "trioeth"),
        ("trade.detail", "trioeth"),
    }
    bor = venue.instruments["BOR/USDT"]
    # every depth message is a whole book: nothing to ask for, no REST snapshot
    assert venue.resubscribe_frames(bor) == [] and venue.snapshot_url(bor) is None
    assert Huobi.instruments_urls(Huobi.default_endpoints) == [SYMBOLS_URL]
    assert Huobi(venue.instruments.values()).connections([bor])[0].url == "wss://api.huobi.pro/ws"
    assert venue.keepalive.ping_text is None  # the server pings; replies carry the pongs


def test_pings_are_answered_through_replies() -> None:
    venue = subscribed_venue()
    assert run(venue, [received(gz({"ping": 1618678073643}))]) == []
    assert venue.replies.popleft()[1] == '{"pong":1618678073643}' and venue.pings == 1
    assert not venue.replies  # drained, as a live transport does
    subbed = {"id": "1", "status": "ok", "subbed": "market.borusdt.depth.step0", "ts": 1}
    run(venue, [received(gz(subbed))])
    assert venue.stats.control_frames == 2 and errors(venue) == {}


# -- books and trades ----------------------------------------------------------------------


def test_every_depth_message_replaces_the_book() -> None:
    venue = subscribed_venue()
    first = run(venue, [received(depth([[710.01, 2.0], [709.5, 1.0]], [[716.15, 0.5]]))])
    assert [type(e) for e in first] == [BookSnapshot, BookStatus]
    second = run(venue, [received(depth([[711.0, 0.575610404535042]], [[712.0, 3.0]], version=8))])
    assert [type(e) for e in second] == [BookSnapshot]  # already synced: no status change
    book = venue.books["BOR/USDT"]
    # off the 6-decimal grid: kept to 1e-10 unit, rounded half to even past it
    assert book.bids() == [(71100, 5_756_104_045)]
    assert book.asks() == [(71200, 3 * 10**10)]
    assert book.sequence == 8 and book.counters.snapshots == 2


def test_trade_detail_gives_one_trade_per_item_with_the_taker_side() -> None:
    venue = subscribed_venue()
    events = run(venue, [received(trades(item(100045088885), item(100045088886, side="buy")))])
    assert all(isinstance(e, Trade) for e in events)
    assert [(e.trade_id, e.side) for e in events if isinstance(e, Trade)] == [
        ("100045088885", Side.SELL),
        ("100045088886", Side.BUY),
    ]
    first = events[0]
    assert isinstance(first, Trade)
    assert (first.price, first.size, first.exch_ns) == (
        71600,
        78924 * 10**4,
        1618678071458 * 10**6,
    )


# -- bad frames ----------------------------------------------------------------------------

BAD_FRAMES = [
    (depth([[710.0, 1.0]], [[716.0, 1.0]])[:-9], MalformedFrame),  # truncated gzip
    (b"not gzip at all", MalformedFrame),
    ('{"ch":"market.borusdt.depth.step0"}', MalformedFrame),  # a text frame
    (gz('{"ch":"market.borusdt.depth.step0","ts":1,"tick":{"bids":[[710.0'), MalformedFrame),
    (depth([[710.0, 1.0], ["710.5", 1.0]], [[716.0, 1.0]]), MalformedFrame),  # str for a number
    (depth([[710.0, 1.0]], [[716.0, -1.0]]), BadValue),
    (
        gz('{"ch":"market.borusdt.depth.step0","ts":1,"tick":{"bids":[[NaN,1]],"asks":[]}}'),
        MalformedFrame,
    ),
    (depth([[710.001, 1.0]], [[716.0, 1.0]]), BadValue),  # off the price grid
    (depth([[1.0, 1.0]], [], symbol="zzzusdt"), UnknownSymbol),
    (depth([[1.0, 1.0]], [], symbol="trioeth"), UnsubscribedChannel),
    (trades(item(1), item(2, side="up")), BadValue),
    (trades(item(1), item(2, amount=0.0)), BadValue),
    (
        gz({"status": "error", "err-code": "bad-request", "err-msg": "invalid topic", "id": "9"}),
        VenueErrorMessage,
    ),
    (gz({"hello": 1}), MalformedFrame),
]


@pytest.mark.parametrize(("frame", "error"), BAD_FRAMES)
def test_bad_frames_are_typed_counted_and_leave_the_book_untouched(
    frame: bytes | str, error: type[Exception]
) -> None:
    venue = synced_venue()
    book = venue.books["BOR/USDT"]
    before = book_view(book)
    events = run(venue, [received(frame)])
    assert errors(venue) == {error.kind: 1}  # type: ignore[attr-defined]
    assert isinstance(venue.stats.recent_errors[-1], error)
    assert not any(isinstance(e, (Trade, BookSnapshot)) for e in events)  # nothing half-emitted
    assert book_view(book)[1:] == before[1:]
    assert run(venue, [received(trades(item(3)))])  # the stream goes on


def test_a_bad_depth_frame_marks_the_book_out_of_sync_until_the_next_message() -> None:
    venue = synced_venue()
    book = venue.books["BOR/USDT"]
    run(venue, [received(depth([[710.0, 1.0]], [[716.0, -1.0]]))])
    assert book.state is BookState.OUT_OF_SYNC and book.counters.gaps == 0
    events = run(venue, [received(depth([[710.0, 1.0]], [[716.0, 1.0]], version=9))])
    assert [e.state for e in events if isinstance(e, BookStatus)] == [BookState.SYNCED]
    assert book.counters.resyncs == 1 and "BOR/USDT" not in venue.resync_requests


# -- the real capture ----------------------------------------------------------------------


def _capture_messages(captures: Path) -> list[dict[str, object]]:
    path = captures / "HUOBI.ws.44.0"
    return [
        json.loads(gzip.decompress(r.payload))
        for r in read_capture_file(path)
        if r.kind is RecordKind.RECV and isinstance(r.payload, bytes)
    ]


def test_capture_replays_with_no_error_and_answers_every_ping_as_recorded(captures: Path) -> None:
    session = Replay([captures / "HUOBI.ws.44.0"])
    session.run_all()
    venue = session.venues[0]
    assert errors(venue) == {}
    assert isinstance(venue, Huobi)
    recorded_pongs = [
        r.payload
        for r in read_capture_file(captures / "HUOBI.ws.44.0")
        if r.kind is RecordKind.SENT and "pong" in r.payload
    ]
    assert venue.pings == 6  # byte for byte:
    assert [frame for _conn, frame in venue.replies] == recorded_pongs
    assert venue.stats.control_frames == 26  # 20 subscription acks + 6 pings
    assert sum(t.count for t in session.trades.values()) == 73
    # each book equals the last depth message of its symbol, decoded independently
    last: dict[str, dict[str, list[list[float]]]] = {}
    for msg in _capture_messages(captures):
        channel = str(msg.get("ch", ""))
        if channel.endswith("depth.step0"):
            last[channel.split(".")[1]] = msg["tick"]  # type: ignore[assignment]
    assert len(venue.books) == len(last) == 10
    for book in venue.books.values():
        inst = book.instrument
        tick = last[inst.venue_symbol]
        assert book.state is BookState.SYNCED and book.counters.crossed_updates == 0
        for levels, side in ((book.bids(), "bids"), (book.asks(), "asks")):
            got = [(Decimal(inst.price_text(p)), Decimal(inst.size_text(q))) for p, q in levels]
            sent = [(Decimal(repr(p)), Decimal(repr(q))) for p, q in tick[side]]
            assert got == [(p, q.quantize(SIZE_STEP, ROUND_HALF_EVEN)) for p, q in sent]


def test_capture_replay_is_deterministic(captures: Path) -> None:
    paths = [captures / "HUOBI.ws.44.0"]
    assert replay_bytes(paths) == replay_bytes(paths)


# -- the C kernel (parse_raw_float_levels) against the typed path ------------------------------

KERNEL_FRAMES = [
    *(frame for frame, _ in BAD_FRAMES),
    depth([[710.01, 2.260165], [710.0, 0.575610404535042]], [[716.15, 1e-11]]),
    depth([[710.01, 2.260165]], [[716.15, 0.30000000000000004], [716.2, 5e-11]]),
    gz(
        '{"ch":"market.borusdt.depth.step0","ts":1,"tick":{"bids":[[ 7.1001E2 , 2.5E-1 ]],'
        '"asks":[[7.2E+2,1.0E7]],"version":8}}'
    ),
    gz('{"ch":"market.borusdt.depth.step0","ts":1,"tick":{"bids":[[-0.0,1]],"asks":[]}}'),
    gz('{"ch":"market.borusdt.depth.step0","ts":1,"tick":{"bids":[[1,2,3]],"asks":[]}}'),
]


def _outcomes(frames: list[bytes | str]) -> list[tuple[object, ...]]:
    venue = synced_venue()
    outcomes = []
    for frame in frames:
        events = run(venue, [received(frame)])
        recent = venue.stats.recent_errors
        outcomes.append(
            (
                msgspec.json.encode(events),
                [str(e) for e in recent],
                book_view(venue.books["BOR/USDT"]),
            )
        )
    return outcomes


def test_the_kernel_gives_the_typed_path_s_events_and_errors(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from orderscope.venues import huobi

    if huobi.NATIVE_RAW_FLOATS is None:
        pytest.skip("a pure run: only the typed path exists")
    with_kernel = _outcomes(KERNEL_FRAMES)
    monkeypatch.setattr(huobi, "NATIVE_RAW_FLOATS", None)
    assert with_kernel == _outcomes(KERNEL_FRAMES)
