"""Bitfinex v2 connector: the real capture (SEQ_ALL continuity, exact books), checksum frames
computed independently from the capture's own number texts, bad frames, and live hooks."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import msgspec
import pytest

from orderscope.capture import CaptureRecord, RecordKind, group_captures, read_capture_file
from orderscope.model import (
    BookDelta,
    BookSnapshot,
    BookState,
    BookStatus,
    Instrument,
    InstrumentKind,
    MarketEvent,
    Side,
    Ticker,
    Trade,
)
from orderscope.replay import Replay, load_venue
from orderscope.venues import REGISTRY
from orderscope.venues.base import Endpoints, feed
from orderscope.venues.bitfinex import FLAG_OB_CHECKSUM, FLAG_SEQ_ALL, Bitfinex, price_tick
from orderscope.venues.checksum import interleave, signed_crc32
from tests.venues.venue_testing import open_live

URL = "wss://api.bitfinex.com/ws/2"
SEQUENCED = 1670  # channel messages of BITFINEX.ws.11.0, numbered 1..1670 (SEQ_ALL)
BOOK_MESSAGES = 7 + 1593  # snapshots + updates
LEVEL = re.compile(r"\[(-?[0-9.e+-]+),(-?[0-9]+),(-?[0-9.e+-]+)\]")


@pytest.fixture(scope="module")
def instruments(captures: Path) -> list[Instrument]:
    """What the replay loads from BITFINEX.0 beside the capture."""
    return list(load_venue(group_captures([captures / "BITFINEX.ws.11.0"])[0]).instruments.values())


@pytest.fixture(scope="module")
def records(captures: Path) -> list[CaptureRecord]:
    return list(read_capture_file(captures / "BITFINEX.ws.11.0"))


def run(venue: Bitfinex, records: list[CaptureRecord]) -> list[MarketEvent]:
    out: list[MarketEvent] = []
    for record in records:
        feed(venue, record, out)
    return out


def recv(text: str, recv_ns: int = 1) -> CaptureRecord:
    return CaptureRecord(recv_ns, RecordKind.RECV, URL, text, 0)


def send(venue: Bitfinex, text: str) -> list[MarketEvent]:
    out: list[MarketEvent] = []
    feed(venue, recv(text), out)
    return out


def opened(instruments: list[Instrument], flags: int = FLAG_SEQ_ALL) -> Bitfinex:
    """A venue on one connection with the conf flags acknowledged and tBTCUSD subscribed."""
    venue = Bitfinex(instruments)
    venue.on_open(0, URL, 0)
    send(venue, json.dumps({"event": "conf", "status": "OK", "flags": flags}))
    for chan_id, channel in ((1, "book"), (2, "trades"), (3, "ticker")):
        request = {"event": "subscribe", "channel": channel, "symbol": "tBTCUSD"}
        venue.on_sent(0, json.dumps(request), 0)
        extra = {"prec": "P0", "freq": "F0", "len": "25"} if channel == "book" else {}
        send(venue, json.dumps({**request, "event": "subscribed", "chanId": chan_id, **extra}))
    return venue


# -- a string-level reference: what a JavaScript client does with the frames' own text ---------


@dataclass
class TextBook:
    """A book kept with the number texts exactly as they stand in the frames."""

    bids: dict[str, str] = field(default_factory=dict)
    asks: dict[str, str] = field(default_factory=dict)

    def apply(self, payload: str, snapshot: bool) -> None:
        if snapshot:
            self.bids.clear()
            self.asks.clear()
        for price, count, amount in LEVEL.findall(payload):
            if count == "0":
                (self.bids if amount == "1" else self.asks).pop(price, None)
            else:
                (self.bids if not amount.startswith("-") else self.asks)[price] = amount

    def checksum(self) -> int:
        bids = sorted(self.bids.items(), key=lambda kv: -float(kv[0]))[:25]
        asks = sorted(self.asks.items(), key=lambda kv: float(kv[0]))[:25]
        return signed_crc32(
            interleave([f"{p}:{a}" for p, a in bids], [f"{p}:{a}" for p, a in asks])
        )


def with_checksum_frames(records: list[CaptureRecord]) -> tuple[list[CaptureRecord], int]:
    """The capture as if it had been recorded with OB_CHECKSUM on: after every book message a
    ``cs`` frame whose checksum is computed from the capture's own texts; sequence numbers are
    renumbered to stay continuous, and the conf frames say checksum."""
    books: dict[int, TextBook] = {}
    result: list[CaptureRecord] = []
    seq = 0
    added = 0
    for record in records:
        text = record.payload
        assert isinstance(text, str)
        if record.kind is not RecordKind.RECV and '"conf"' not in text:
            result.append(record)
            continue
        if '"event":"conf"' in text:
            text = text.replace(str(FLAG_SEQ_ALL), str(FLAG_SEQ_ALL | FLAG_OB_CHECKSUM))
            result.append(CaptureRecord(record.recv_ns, record.kind, record.url, text, record.conn))
            continue
        if text.startswith("{"):
            event = json.loads(text)
            if event.get("event") == "subscribed" and event["channel"] == "book":
                books[event["chanId"]] = TextBook()
            result.append(record)
            continue
        chan_id = int(text[1 : text.index(",")])
        seq += 1
        text = text[: text.rindex(",") + 1] + f"{seq}]"
        result.append(CaptureRecord(record.recv_ns, record.kind, record.url, text, record.conn))
        book = books.get(chan_id)
        if book is None or '"hb"' in text:
            continue
        payload = text[text.index(",") + 1 : text.rindex(",")]
        book.apply(payload, snapshot=payload.startswith("[["))
        seq += 1
        added += 1
        cs = f'[{chan_id},"cs",{book.checksum()},{seq}]'
        result.append(CaptureRecord(record.recv_ns, RecordKind.RECV, record.url, cs, record.conn))
    return result, added


# -- instruments -------------------------------------------------------------------------------


def test_pairs_map_to_unified_symbols(instruments: list[Instrument]) -> None:
    by_venue = {i.venue_symbol: i for i in instruments}
    assert by_venue["tBTCUSD"].symbol == "BTC/USD"
    assert by_venue["tBTCUST"].symbol == "BTC/USDT"  # UST is Tether
    assert by_venue["tTESTBTC:TESTUSD"].symbol == "TESTBTC/TESTUSD"
    assert by_venue["tAAVE:UST"].symbol == "AAVE/USDT"
    assert by_venue["tIOTETH"].symbol == "IOTA/ETH"  # Bitfinex's IOT
    perpetual = by_venue["tBTCF0:USTF0"]
    assert (perpetual.symbol, perpetual.kind, perpetual.settle) == (
        "BTC/USDT:USDT",
        InstrumentKind.LINEAR_PERPETUAL,
        "USDT",
    )
    assert by_venue["tETHF0:BTCF0"].symbol == "ETH/BTC:BTC"
    assert all(i.price_decimals == i.size_decimals == 8 for i in instruments)
    assert len({i.symbol for i in instruments}) == len(instruments)


def test_price_tick_follows_five_significant_digits() -> None:
    assert price_tick(60400 * 10**8) == 10**8  # 60400: whole dollars
    assert price_tick(6896500) == 100  # 0.068965: 1e-6
    assert price_tick(2) == 1  # 2e-8: the 8-decimal floor


# -- the capture --------------------------------------------------------------------------------


def test_capture_replays_in_sequence_with_exact_books(
    instruments: list[Instrument], records: list[CaptureRecord]
) -> None:
    venue = Bitfinex(instruments)
    run(venue, records)
    assert dict(venue.stats.errors) == {}
    assert venue.sequenced_frames == SEQUENCED  # every SEQ_ALL number followed the previous
    books = venue.books
    assert len(books) == 7
    assert all(b.state is BookState.SYNCED and not b.crossed for b in books.values())
    assert all(b.counters.gaps == b.counters.skipped_deltas == 0 for b in books.values())
    assert sum(b.counters.snapshots + b.counters.deltas for b in books.values()) == BOOK_MESSAGES
    # the capture was recorded with SEQ_ALL (65536), not OB_CHECKSUM (131072): no cs frames
    assert not any('"cs"' in str(r.payload) for r in records)
    assert sum(b.counters.checksums_ok + b.counters.checksums_failed for b in books.values()) == 0
    # the exact books equal the string-level rebuild, level for level
    text_books: dict[str, TextBook] = {}
    channels: dict[int, str] = {}
    for record in records:
        text = str(record.payload)
        if record.kind is not RecordKind.RECV:
            continue
        if text.startswith("{"):
            event = json.loads(text)
            if event.get("event") == "subscribed" and event["channel"] == "book":
                channels[event["chanId"]] = event["symbol"]
            continue
        symbol = channels.get(int(text[1 : text.index(",")]))
        if symbol is None or '"hb"' in text:
            continue
        payload = text[text.index(",") + 1 : text.rindex(",")]
        text_books.setdefault(symbol, TextBook()).apply(payload, payload.startswith("[["))
    for symbol, text_book in text_books.items():
        book = books[venue.by_venue_symbol[symbol].symbol]
        assert book.bids() == sorted(
            ((round(float(p) * 1e8), round(float(a) * 1e8)) for p, a in text_book.bids.items()),
            reverse=True,
        )
        assert book.asks() == sorted(
            (round(float(p) * 1e8), -round(float(a) * 1e8)) for p, a in text_book.asks.items()
        )
        assert venue.checksum(book) == text_book.checksum()


def test_a_symbol_filter_keeps_the_sequence(
    instruments: list[Instrument], records: list[CaptureRecord]
) -> None:
    venue = Bitfinex(instruments, ["DOG/USD"])
    run(venue, records)
    assert venue.sequenced_frames == SEQUENCED and dict(venue.stats.errors) == {}
    (book,) = venue.books.values()
    assert (book.instrument.symbol, book.state, book.counters.gaps) == (
        "DOG/USD",
        BookState.SYNCED,
        0,
    )


def test_every_checksum_frame_verifies(
    instruments: list[Instrument], records: list[CaptureRecord]
) -> None:
    """cs frames computed from the capture's texts (as a JavaScript client would) all match the
    checksum orderscope rebuilds from its exact integer books."""
    augmented, added = with_checksum_frames(records)
    assert added == BOOK_MESSAGES
    venue = Bitfinex(instruments)
    run(venue, augmented)
    assert dict(venue.stats.errors) == {}
    books = venue.books.values()
    assert sum(b.counters.checksums_ok for b in books) == BOOK_MESSAGES
    assert sum(b.counters.checksums_failed + b.counters.gaps for b in books) == 0
    assert venue.sequenced_frames == SEQUENCED + BOOK_MESSAGES


def test_replaying_twice_gives_identical_reports(captures: Path) -> None:
    reports = []
    for _ in range(2):
        replay = Replay([captures / "BITFINEX.ws.11.0"])
        replay.run_all()
        reports.append(msgspec.json.encode(replay.report()))
    assert reports[0] == reports[1]


def test_ticker_with_float_noise_is_exact(
    instruments: list[Instrument], records: list[CaptureRecord]
) -> None:
    venue = Bitfinex(instruments)
    out = run(venue, records[:40])
    (ticker,) = [e for e in out if isinstance(e, Ticker) and e.symbol == "DOG/USD"]
    # [278200,1.7023900800000002,282030,2.2626931299999997,-66440,-0.1903,282780,
    #  32.20946748,402510,231840]
    e8 = 10**8
    assert ticker == Ticker(
        "bitfinex",
        "DOG/USD",
        0,
        ticker.recv_ns,
        last_price=282780 * e8,
        open_24h=(282780 + 66440) * e8,
        high_24h=402510 * e8,
        low_24h=231840 * e8,
        volume_24h=3220946748,
        best_bid=278200 * e8,
        best_ask=282030 * e8,
    )


# -- book rules ---------------------------------------------------------------------------------


def test_checksum_hashes_the_float_as_sent(instruments: list[Instrument]) -> None:
    """An amount carrying float noise is exact in the book, and hashed as Bitfinex wrote it."""
    venue = opened(instruments, FLAG_SEQ_ALL | FLAG_OB_CHECKSUM)
    send(venue, "[1,[[60400,1,0.1],[60500,2,-1.5]],1]")
    send(venue, "[1,[60400,2,0.30000000000000004],2]")
    book = venue.books["BTC/USD"]
    assert book.bids() == [(60400 * 10**8, 30000000)]  # exactly 0.3
    good = signed_crc32("60400:0.30000000000000004:60500:-1.5")
    assert send(venue, f'[1,"cs",{good},3]') == []
    assert book.counters.checksums_ok == 1
    out = send(venue, f'[1,"cs",{signed_crc32("60400:0.3:60500:-1.5")},4]')
    assert book.counters.checksums_failed == 1 and book.state is BookState.OUT_OF_SYNC
    assert isinstance(out[0], BookStatus) and "checksum mismatch" in out[0].reason
    assert venue.resync_requests == {"BTC/USD"} and book.counters.gaps == 0
    out = send(venue, "[1,[[60400,1,0.1]],5]")  # the resubscription's snapshot
    assert book.state is BookState.SYNCED and book.counters.resyncs == 1
    assert isinstance(out[0], BookSnapshot) and venue.resync_requests == set()


def test_count_zero_deletes_on_the_side_of_the_amount(instruments: list[Instrument]) -> None:
    venue = opened(instruments)
    send(venue, "[1,[[100,1,5],[99,1,6],[101,1,-7],[102,1,-8]],1]")
    send(venue, "[1,[100,0,1],2]")
    send(venue, "[1,[102,0,-1],3]")
    book = venue.books["BTC/USD"]
    assert book.bids() == [(99 * 10**8, 6 * 10**8)]
    assert book.asks() == [(101 * 10**8, 7 * 10**8)]


def test_sequence_gap_marks_every_book_of_the_connection(instruments: list[Instrument]) -> None:
    venue = opened(instruments)
    send(venue, "[1,[[100,1,5],[101,1,-7]],1]")
    send(venue, '[1,"hb",2]')
    out = send(venue, "[3,[1,1,2,3,0,0,2,10,3,1],4]")  # seq 3 never came
    book = venue.books["BTC/USD"]
    assert book.state is BookState.OUT_OF_SYNC and book.counters.gaps == 1
    assert [type(e).__name__ for e in out] == ["BookStatus", "Ticker"]  # the ticker still counts
    send(venue, "[1,[99,1,1],5]")
    assert book.counters.skipped_deltas == 1


def test_a_foreign_channel_keeps_the_sequence(instruments: list[Instrument]) -> None:
    venue = opened(instruments)
    send(venue, "[1,[[100,1,5],[101,1,-7]],1]")
    send(venue, "[999,[[1,2,3]],2]")  # well-formed, but never subscribed
    send(venue, '[1,"hb",3]')
    assert dict(venue.stats.errors) == {"unsubscribed": 1}
    assert venue.books["BTC/USD"].state is BookState.SYNCED  # no gap: seq 2 was seen


BTC_BIDS = [(100, 5), (99, 1), (98, 1), (97, 1)]


def test_a_book_route_lasts_as_long_as_its_subscription(instruments: list[Instrument]) -> None:
    # the fast path keeps each book channel's route (book, symbol...) once a frame routed it;
    # like the base class's routes, it is forgotten whenever the subscriptions change
    venue = opened(instruments)
    send(venue, "[1,[[100,1,5],[101,1,-7]],1]")
    send(venue, "[1,[99,1,1],2]")  # routes channel 1
    assert [type(e).__name__ for e in send(venue, "[1,[98,1,1],3]")] == ["BookDelta"]
    assert venue.symbol_frames["BTC/USD"] == 3 and venue.sequenced_frames == 3
    venue.subscriptions.discard(("book", "tBTCUSD"))  # by hand: the route goes too
    assert send(venue, "[1,[97,1,1],4]") == []
    assert dict(venue.stats.errors) == {"unsubscribed": 1}
    venue.subscriptions.add(("book", "tBTCUSD"))
    send(venue, "[1,[97,1,1],4]")  # (the refused frame's number did not count)
    assert venue.books["BTC/USD"].bids() == [(p * 10**8, s * 10**8) for p, s in BTC_BIDS]
    # unsubscribed by Bitfinex, then the channel id reused for another book: its frames go there
    send(venue, json.dumps({"event": "unsubscribed", "status": "OK", "chanId": 1}))
    assert send(venue, "[1,[96,1,1],6]") == [] and venue.stats.errors["unsubscribed"] == 2
    request = {"event": "subscribe", "channel": "book", "symbol": "tETHUSD"}
    venue.on_sent(0, json.dumps(request), 0)
    extra = {"prec": "P0", "freq": "F0", "len": "25"}
    send(venue, json.dumps({**request, "event": "subscribed", "chanId": 1, **extra}))
    send(venue, "[1,[[3000,1,5],[3001,1,-7]],7]")
    send(venue, "[1,[2999,1,1],8]")
    (delta,) = send(venue, "[1,[2998,1,2],9]")
    assert isinstance(delta, BookDelta) and delta.symbol == "ETH/USD"
    assert venue.books["ETH/USD"].bids(1) == [(3000 * 10**8, 5 * 10**8)]
    assert venue.books["BTC/USD"].bids() == [(p * 10**8, s * 10**8) for p, s in BTC_BIDS]
    assert venue.sequenced_frames == 8  # all but the refused frame
    assert venue.books["ETH/USD"].counters.gaps == venue.books["BTC/USD"].counters.gaps == 0


# -- trades -------------------------------------------------------------------------------------


def test_te_makes_trades_and_tu_is_its_echo(instruments: list[Instrument]) -> None:
    venue = opened(instruments)
    history = "[2,[[11,1618665870435,0.5,60000],[10,1618665870000,-1,59990]],1]"
    assert send(venue, history) == []  # before the session: remembered, not replayed
    (buy,) = send(venue, '[2,"te",[12,1618677547000,0.25,60010],2]')
    assert buy == Trade(
        "bitfinex", "BTC/USD", 1618677547000 * 10**6, 1, 60010 * 10**8, 25000000, Side.BUY, "12"
    )
    assert send(venue, '[2,"tu",[12,1618677547000,0.25,60010],3]') == []
    (sell,) = send(venue, '[2,"te",[13,1618677548000,-2,60000],4]')
    assert isinstance(sell, Trade) and (sell.side, sell.size) == (Side.SELL, 2 * 10**8)
    # resubscribed later: the new snapshot fills in only what was missed
    again = (
        "[2,[[15,1618677550000,1,60020],[14,1618677549000,-1,60015],[13,1618677548000,-2,60000]],5]"
    )
    missed = send(venue, again)
    assert [t.trade_id for t in missed if isinstance(t, Trade)] == ["14", "15"]


# -- bad frames ---------------------------------------------------------------------------------

BAD_FRAMES = [
    ("truncated", "[225206,[215350,0,", "malformed"),
    ("string for a number", '[225206,["215350",1,2.5]]', "malformed"),
    ("NaN amount", "[225206,[215350,1,NaN]]", "malformed"),
    ("negative count", "[225206,[215350,-1,2.5]]", "bad_value"),
    ("zero amount", "[225206,[215350,3,0]]", "bad_value"),
    ("delete with a bad side", "[225206,[215350,0,2]]", "bad_value"),
    ("nine decimals", "[225206,[215350,1,0.123456789]]", "bad_value"),
    (
        "unknown symbol",
        '{"event":"subscribed","channel":"book","chanId":5,"symbol":"tFOOBAR","prec":"P0"}',
        "unknown_symbol",
    ),
    ("unsubscribed channel", "[4242,[215350,1,2.5]]", "unsubscribed"),
    ("venue error", '{"event":"error","msg":"subscribe: dup","code":10301}', "venue_error"),
]


@pytest.mark.parametrize(("label", "frame", "kind"), BAD_FRAMES, ids=[b[0] for b in BAD_FRAMES])
def test_bad_frames_are_counted_and_leave_books_whole(
    instruments: list[Instrument], records: list[CaptureRecord], label: str, frame: str, kind: str
) -> None:
    venue = Bitfinex(instruments)
    half = len(records) // 2
    run(venue, records[:half])
    state = {s: (b.bids(), b.asks(), b.counters.deltas) for s, b in venue.books.items()}
    out = send(venue, frame)
    assert dict(venue.stats.errors) == {kind: 1}
    assert not [e for e in out if not isinstance(e, BookStatus)]
    assert state == {s: (b.bids(), b.asks(), b.counters.deltas) for s, b in venue.books.items()}
    dog = venue.books["DOG/USD"]  # chanId 225206
    book_frame = frame.startswith("[225206")  # even truncated: the channel id comes first
    assert (dog.state is BookState.OUT_OF_SYNC) == book_frame
    run(venue, records[half:])  # the stream goes on, in sequence
    assert dict(venue.stats.errors) == {kind: 1}
    assert venue.sequenced_frames == SEQUENCED
    others = [b for s, b in venue.books.items() if s != "DOG/USD" or not book_frame]
    assert all(b.state is BookState.SYNCED and b.counters.gaps == 0 for b in others)


# -- venue notices and live hooks ----------------------------------------------------------------


def test_restart_and_maintenance_notices(instruments: list[Instrument]) -> None:
    venue = opened(instruments)
    send(venue, "[1,[[100,1,5],[101,1,-7]],1]")
    send(venue, '{"event":"info","code":20060,"msg":"maintenance"}')
    assert venue.books["BTC/USD"].state is BookState.OUT_OF_SYNC
    assert not venue.reconnect_requested
    venue.resync_requests.clear()
    send(venue, '{"event":"info","code":20061,"msg":"maintenance end"}')
    assert venue.resync_requests == {"BTC/USD"}
    send(venue, '{"event":"info","code":20051,"msg":"restart"}')
    assert venue.reconnect_requested and venue.stats.reconnect_requests == 1
    assert venue.stats.control_frames >= 3 and not venue.stats.errors


def test_connections_respect_25_channels_a_connection_and_round_trip(
    instruments: list[Instrument],
) -> None:
    venue = Bitfinex(instruments, book_length=100)
    spot = [i for i in instruments if i.kind is InstrumentKind.SPOT][:20]
    connections = open_live(venue, spot)
    assert [len(c.subscribe) for c in connections] == [1 + 24, 1 + 24, 1 + 12]
    assert [c.symbols for c in connections] == [
        tuple(i.symbol for i in spot[:8]),
        tuple(i.symbol for i in spot[8:16]),
        tuple(i.symbol for i in spot[16:]),
    ]
    assert {c.url for c in connections} == {"wss://api-pub.bitfinex.com/ws/2"}
    for connection in connections:
        conf = json.loads(connection.subscribe[0])
        assert conf == {"event": "conf", "flags": FLAG_SEQ_ALL | FLAG_OB_CHECKSUM}
    book = json.loads(connections[0].subscribe[1])
    assert book == {
        "event": "subscribe",
        "channel": "book",
        "symbol": spot[0].venue_symbol,
        "prec": "P0",
        "freq": "F0",
        "len": "100",
    }
    requests = [json.loads(f) for c in connections for f in c.subscribe[1:]]
    assert [r["channel"] for r in requests] == ["book", "trades", "ticker"] * 20
    # the requests sent are the channels whose data the connector takes
    assert venue.subscriptions == {
        (channel, i.venue_symbol) for i in spot for channel in ("book", "trades", "ticker")
    }


def test_resubscribe_keepalive_and_endpoints(instruments: list[Instrument]) -> None:
    venue = opened(instruments)
    btc = venue.instruments["BTC/USD"]
    unsubscribe, subscribe = (json.loads(f) for f in venue.resubscribe_frames(btc))
    assert unsubscribe == {"event": "unsubscribe", "chanId": 1}
    assert (subscribe["channel"], subscribe["symbol"]) == ("book", "tBTCUSD")
    send(venue, '{"event":"unsubscribed","status":"OK","chanId":1}')
    assert ("book", "tBTCUSD") not in venue.subscriptions
    assert [json.loads(f)["event"] for f in venue.resubscribe_frames(btc)] == ["subscribe"]
    assert venue.snapshot_url(btc) is None
    assert json.loads(venue.keepalive.ping_text or "")["event"] == "ping"
    endpoints = Endpoints("ws://127.0.0.1:1", "http://127.0.0.1:1")
    local = Bitfinex(instruments, endpoints=endpoints)
    assert local.connections([btc])[0].url == "ws://127.0.0.1:1/ws/2"
    assert Bitfinex.instruments_urls(Bitfinex.default_endpoints) == [
        "https://api-pub.bitfinex.com/v2/conf/pub:list:pair:exchange",
        "https://api-pub.bitfinex.com/v2/conf/pub:list:pair:future",
    ]


def test_registered() -> None:
    assert REGISTRY["bitfinex"] is Bitfinex
