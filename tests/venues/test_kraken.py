"""Kraken (WebSocket API v1): instruments, book + CRC32 checksums, trades, ticker, bad frames.

The ground truth is the recorded session in the captures: every checksum Kraken sent must be
reproduced by the book. Synthetic frames check what the capture does not contain (tampering,
depth trimming at a small depth, republished levels, refused subscriptions, bad input), with
checksums computed here by a naive string implementation of Kraken's documented algorithm.
"""

from __future__ import annotations

import json
import zlib
from decimal import Decimal
from pathlib import Path

import msgspec
import pytest

from orderscope.capture import CaptureRecord, RecordKind, read_capture_file
from orderscope.errors import ConfigError
from orderscope.fixed import format_fixed, parse_fixed
from orderscope.model import (
    BookDelta,
    BookSnapshot,
    BookState,
    BookStatus,
    Instrument,
    MarketEvent,
    Side,
    Ticker,
    Trade,
)
from orderscope.replay import Replay
from orderscope.venues import REGISTRY, by_capture_prefix
from orderscope.venues.base import Endpoints, feed
from orderscope.venues.kraken import Kraken, kraken_asset
from tests.venues.venue_testing import open_live

URL = "wss://ws.kraken.com"
BOOK_FILE = "KRAKEN.ws.50.0"
TRADE_FILE = "KRAKEN.ws.48.0"
TICKER_FILE = "KRAKEN.ws.49.0"


# -- helpers ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def instruments(captures: Path) -> list[Instrument]:
    rest = [r for r in read_capture_file(captures / "KRAKEN.0") if r.kind is RecordKind.REST]
    assert len(rest) == 1
    return Kraken.parse_instruments(rest[0].url, rest[0].payload)


@pytest.fixture(scope="module")
def book_records(captures: Path) -> list[CaptureRecord]:
    return list(read_capture_file(captures / BOOK_FILE))


def run(venue: Kraken, records: list[CaptureRecord]) -> list[MarketEvent]:
    out: list[MarketEvent] = []
    for record in records:
        feed(venue, record, out)
    return out


def recv(payload: str, recv_ns: int = 1_700_000_000_000_000_000) -> CaptureRecord:
    return CaptureRecord(recv_ns, RecordKind.RECV, URL, payload, 0)


def sent(payload: str) -> CaptureRecord:
    return CaptureRecord(1_700_000_000_000_000_000, RecordKind.SENT, URL, payload, 0)


def levels_of(venue: Kraken, symbol: str) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    book = venue.books[symbol]
    return book.bids(), book.asks()


def wire(value: int, decimals: int, wire_decimals: int) -> str:
    return format_fixed(value * 10 ** (wire_decimals - decimals), wire_decimals)


def snapshot_frame(venue: Kraken, symbol: str, wire_price: int, wire_size: int) -> str:
    """A v1 snapshot frame of a connector's current book, written as Kraken writes numbers."""
    instrument = venue.instruments[symbol]
    book = venue.books[symbol]
    pd, sd = instrument.price_decimals, instrument.size_decimals

    def side(levels: list[tuple[int, int]]) -> list[list[str]]:
        return [
            [wire(p, pd, wire_price), wire(s, sd, wire_size), "1618678200.000000"]
            for p, s in levels
        ]

    payload = {"as": side(book.asks()), "bs": side(book.bids())}
    depth = book.max_depth
    return json.dumps([0, payload, f"book-{depth}", instrument.venue_symbol])


def naive_checksum(asks: dict[str, str], bids: dict[str, str]) -> int:
    """Kraken's documented algorithm on the wire strings, independent of the connector."""

    def digits(text: str) -> str:
        return text.replace(".", "").lstrip("0")

    top_asks = sorted(asks.items(), key=lambda kv: Decimal(kv[0]))[:10]
    top_bids = sorted(bids.items(), key=lambda kv: Decimal(kv[0]), reverse=True)[:10]
    text = "".join(digits(p) + digits(v) for p, v in top_asks + top_bids)
    return zlib.crc32(text.encode())


def checksum_totals(venue: Kraken) -> tuple[int, int]:
    books = venue.books.values()
    return sum(b.counters.checksums_ok for b in books), sum(
        b.counters.checksums_failed for b in books
    )


# -- instruments -----------------------------------------------------------------------------


def test_registered() -> None:
    assert REGISTRY["kraken"] is Kraken
    assert by_capture_prefix("KRAKEN") is Kraken
    assert "v1" in Kraken.protocol


def test_instruments_from_asset_pairs(instruments: list[Instrument]) -> None:
    by_symbol = {i.symbol: i for i in instruments}
    assert len(by_symbol) == len(instruments), "unified symbols must be unique"
    assert not any(i.venue_symbol.endswith(".d") for i in instruments)  # dark pool skipped

    btc_usd = by_symbol["BTC/USD"]  # XXBTZUSD, wsname XBT/USD
    assert (btc_usd.venue_symbol, btc_usd.base, btc_usd.quote) == ("XBT/USD", "BTC", "USD")
    assert (btc_usd.price_decimals, btc_usd.size_decimals) == (1, 8)
    assert (btc_usd.tick_size, btc_usd.lot_size) == (1, 1)  # 0.1 USD, 0.00000001 BTC

    assert by_symbol["DOGE/USD"].venue_symbol == "XDG/USD"  # XXDG -> XDG -> DOGE
    assert by_symbol["XMR/USD"].price_decimals == 2  # pair_decimals, not the wire's 8
    assert by_symbol["ADA/BTC"].venue_symbol == "ADA/XBT"
    assert by_symbol["USDT/USD"].venue_symbol == "USDT/USD"  # USDTZUSD: only ZUSD is prefixed
    assert by_symbol["XTZ/USD"].base == "XTZ"  # Tezos keeps its X
    assert by_symbol["EUR/USD"].venue_symbol == "EUR/USD"  # ZEURZUSD


def test_kraken_asset_codes() -> None:
    assert [kraken_asset(c) for c in ("XXBT", "ZUSD", "XETH", "XXDG", "XTZ", "USDT", "DOT")] == [
        "XBT",
        "USD",
        "ETH",
        "XDG",
        "XTZ",
        "USDT",
        "DOT",
    ]


def test_instruments_without_wsname_strip_prefixes() -> None:
    body = json.dumps(
        {
            "error": [],
            "result": {
                "XXBTZEUR": {
                    "altname": "XBTEUR",
                    "base": "XXBT",
                    "quote": "ZEUR",
                    "pair_decimals": 1,
                    "lot_decimals": 8,
                },
                "XXBTZEUR.d": {
                    "altname": "XBTEUR.d",
                    "base": "XXBT",
                    "quote": "ZEUR",
                    "pair_decimals": 2,
                    "lot_decimals": 8,
                },
                "XBTUSDT": {
                    "wsname": "XBT/USDT",
                    "base": "XXBT",
                    "quote": "USDT",
                    "pair_decimals": 1,
                    "lot_decimals": 8,
                    "tick_size": "0.05",
                },
            },
        }
    )
    found = {i.symbol: i for i in Kraken.parse_instruments(f"{URL}/0/public/AssetPairs", body)}
    assert set(found) == {"BTC/EUR", "BTC/USDT"}
    assert found["BTC/EUR"].venue_symbol == "XBT/EUR"
    usdt = found["BTC/USDT"]  # a published tick_size finer than pair_decimals widens them
    assert (usdt.price_decimals, usdt.tick_size) == (2, 5)


def test_asset_pairs_error_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="EGeneral"):
        Kraken.parse_instruments("AssetPairs", '{"error":["EGeneral:Invalid arguments"]}')
    with pytest.raises(ConfigError):
        Kraken.parse_instruments("AssetPairs", '{"error":[],"result":')
    assert Kraken.parse_instruments("https://api.kraken.com/0/public/Assets", "{}") == []


# -- the recorded book session ---------------------------------------------------------------


def test_every_recorded_checksum_verifies(
    instruments: list[Instrument], book_records: list[CaptureRecord]
) -> None:
    # Counted independently of the connector: every received frame whose payload carries "c".
    with_checksum = 0
    for record in book_records:
        if record.kind is RecordKind.RECV:
            message = json.loads(record.payload)
            if isinstance(message, list) and any(
                isinstance(part, dict) and "c" in part for part in message[1:-2]
            ):
                with_checksum += 1
    # 10 pairs: 10 snapshots (no checksum, as documented) and 4,269 updates, each with "c"
    # (2,047 asks-only, 2,221 bids-only and 1 with an asks and a bids payload).
    assert with_checksum == 4269

    venue = Kraken(instruments)
    events = run(venue, book_records)
    assert checksum_totals(venue) == (4269, 0)
    assert venue.stats.errors == {}
    assert venue.stats.frames == 4321  # + 1 systemStatus, 10 subscriptionStatus, 31 heartbeats
    assert venue.stats.control_frames == 42
    assert len(venue.books) == 10
    for book in venue.books.values():
        assert book.state is BookState.SYNCED
        assert book.max_depth == 1000
        assert book.counters.snapshots == 1
        assert book.counters.gaps == book.counters.skipped_deltas == 0
        assert book.counters.crossed_updates == 0
        assert book.counters.deltas == book.counters.checksums_ok
    assert sum(type(e) is BookDelta for e in events) == 4269
    assert sum(type(e) is BookSnapshot for e in events) == 10
    assert venue.resync_requests == set()


def test_book_event_times_are_exact(
    instruments: list[Instrument], book_records: list[CaptureRecord]
) -> None:
    venue = Kraken(instruments)
    events = run(venue, book_records)
    xmr = [e for e in events if e.symbol == "XMR/USD" and not isinstance(e, BookStatus)]
    snapshot, first = xmr[0], xmr[1]
    assert isinstance(snapshot, BookSnapshot)
    # The first XMR/USD update: {"b":[["354.15000000","5.00000000","1618678133.365913"]]}
    assert isinstance(first, BookDelta)
    assert first.exch_ns == 1_618_678_133_365_913_000
    assert first.bids == [(35415, 500000000)] and first.asks == []
    assert first.recv_ns == 1_618_678_134_213_106_000
    # A snapshot's time is its newest level's; levels are best first.
    assert snapshot.asks[0][0] < snapshot.asks[1][0]
    assert snapshot.bids[0][0] > snapshot.bids[1][0]
    assert snapshot.exch_ns == max(
        parse_fixed(level[2], 9)
        for r in book_records
        if r.kind is RecordKind.RECV and '"as"' in r.payload and '"XMR/USD"' in r.payload
        for side in json.loads(r.payload)[1].values()
        for level in side
    )


def test_subscriptions_learned_from_sent_frames_and_replies(
    instruments: list[Instrument], book_records: list[CaptureRecord]
) -> None:
    venue = Kraken(instruments)
    run(venue, book_records[:2])  # OPEN, then the client's subscribe frame
    assert ("book-1000", "XMR/USD") in venue.subscriptions
    assert len(venue.subscriptions) == 10

    replies_only = Kraken(instruments)  # a transport that does not report sent frames
    run(replies_only, [r for r in book_records[:40] if r.kind is not RecordKind.SENT])
    assert replies_only.subscriptions == venue.subscriptions

    run(
        venue,
        [
            recv(
                '{"channelID":992,"channelName":"book-1000","event":"subscriptionStatus",'
                '"pair":"XMR/USD","status":"unsubscribed","subscription":{"depth":1000,'
                '"name":"book"}}'
            ),
            recv(
                '[992,{"b":[["354.15000000","5.00000000","1618678133.365913"]],"c":"1"},'
                '"book-1000","XMR/USD"]'
            ),
        ],
    )
    assert ("book-1000", "XMR/USD") not in venue.subscriptions
    assert venue.stats.errors == {"unsubscribed": 1}


# -- checksum failure and recovery -----------------------------------------------------------


def test_tampered_frame_is_detected_and_a_snapshot_restores_the_book(
    instruments: list[Instrument], book_records: list[CaptureRecord]
) -> None:
    original = '["354.15000000","5.00000000","1618678133.365913"]'  # XMR/USD's best bid
    index = next(i for i, r in enumerate(book_records) if original in str(r.payload))
    record = book_records[index]
    assert isinstance(record.payload, str)
    tampered = CaptureRecord(
        record.recv_ns,
        record.kind,
        record.url,
        record.payload.replace('"5.00000000"', '"5.10000000"'),
        record.conn,
    )

    reference = Kraken(instruments)  # the untampered stream, in step
    venue = Kraken(instruments)
    run(reference, book_records[: index + 1])
    run(venue, book_records[:index])
    events = run(venue, [tampered])

    book = venue.books["XMR/USD"]
    assert book.state is BookState.OUT_OF_SYNC
    assert book.counters.checksums_failed == 1
    assert book.counters.gaps == 0  # a checksum mismatch is not a sequence gap
    assert venue.resync_requests == {"XMR/USD"}
    status = [e for e in events if isinstance(e, BookStatus)]
    assert len(status) == 1 and status[0].state is BookState.OUT_OF_SYNC
    assert "checksum mismatch" in status[0].reason
    assert venue.stats.errors == {}  # the frame itself was well-formed

    # While out of sync, the book's updates are skipped; other books carry on verifying.
    after = book_records[index + 1 : index + 201]
    skipped_before = book.counters.skipped_deltas
    run(reference, after)
    run(venue, after)
    xmr_updates = sum(1 for r in after if '"XMR/USD"' in str(r.payload))
    assert xmr_updates > 0
    assert book.counters.skipped_deltas == skipped_before + xmr_updates
    assert book.state is BookState.OUT_OF_SYNC
    for symbol, other in venue.books.items():
        if symbol != "XMR/USD":
            assert other.counters.checksums_failed == 0
            assert levels_of(venue, symbol) == levels_of(reference, symbol)

    # A fresh snapshot (live: a resubscribe) restores it; later checksums verify again.
    events = run(venue, [recv(snapshot_frame(reference, "XMR/USD", 8, 8))])
    assert book.state is BookState.SYNCED
    assert book.counters.resyncs == 1
    assert venue.resync_requests == set()
    assert any(isinstance(e, BookStatus) and e.state is BookState.SYNCED for e in events)
    assert levels_of(venue, "XMR/USD") == levels_of(reference, "XMR/USD")

    rest = book_records[index + 201 :]
    ok_before = book.counters.checksums_ok
    run(reference, rest)
    run(venue, rest)
    assert book.counters.checksums_failed == 1
    assert book.counters.checksums_ok == ok_before + sum(
        1 for r in rest if '"XMR/USD"' in str(r.payload)
    )
    assert levels_of(venue, "XMR/USD") == levels_of(reference, "XMR/USD")


# -- depth trimming, republish, two-payload updates (synthetic book at depth 10) -------------


class NaiveBook:
    """The book as wire strings, for expected checksums and contents."""

    def __init__(self, depth: int) -> None:
        self.depth = depth
        self.asks: dict[str, str] = {}
        self.bids: dict[str, str] = {}

    def apply(self, side: dict[str, str], levels: list[list[str]], ascending: bool) -> None:
        for level in levels:
            if Decimal(level[1]) == 0:
                side.pop(level[0], None)
            else:
                side[level[0]] = level[1]
        keep = sorted(side, key=Decimal, reverse=not ascending)[: self.depth]
        for price in list(side):
            if price not in keep:
                del side[price]

    def update(self, asks: list[list[str]], bids: list[list[str]]) -> str:
        self.apply(self.asks, asks, ascending=True)
        self.apply(self.bids, bids, ascending=False)
        return str(naive_checksum(self.asks, self.bids))


def price(i: int) -> str:
    return f"{50000 + i}.{i % 10}0000"  # XBT/USD: pair_decimals 1, written with 5 decimals


@pytest.fixture
def depth10(instruments: list[Instrument]) -> tuple[Kraken, NaiveBook]:
    venue = Kraken(instruments)
    naive = NaiveBook(10)
    asks = [[price(i), f"{i + 1}.00000000", "1700000000.000001"] for i in range(1, 11)]
    bids = [[price(-i), f"{i + 1}.50000000", "1700000000.000002"] for i in range(1, 11)]
    naive.update(asks, bids)
    run(
        venue,
        [
            sent(
                '{"event":"subscribe","pair":["XBT/USD"],"subscription":{"name":"book","depth":10}}'
            ),
            recv(json.dumps([0, {"as": asks, "bs": bids}, "book-10", "XBT/USD"])),
        ],
    )
    assert venue.books["BTC/USD"].depth() == (10, 10)
    return venue, naive


def update_frame(naive: NaiveBook, asks: list[list[str]], bids: list[list[str]]) -> str:
    """One frame with both sides in two payload objects, checksum on the last (as Kraken does)."""
    checksum = naive.update(asks, bids)
    parts: list[dict[str, object]] = []
    if asks:
        parts.append({"a": asks})
    if bids:
        parts.append({"b": bids})
    parts[-1]["c"] = checksum
    return json.dumps([0, *parts, "book-10", "XBT/USD"])


def test_insert_pushes_the_worst_level_out_of_depth(depth10: tuple[Kraken, NaiveBook]) -> None:
    venue, naive = depth10
    book = venue.books["BTC/USD"]
    worst_bid = book.bids()[-1]
    # A better bid inside the spread and an ask better than the best: both sides overflow.
    frame = update_frame(
        naive,
        [[price(0), "0.10000000", "1700000001.000000"]],
        [[f"{49999}.{5}0000", "0.20000000", "1700000001.000001"]],
    )
    run(venue, [recv(frame)])
    assert book.depth() == (10, 10)  # exactly the subscribed depth, not 11
    assert worst_bid not in book.bids()
    assert book.best_ask() == (500000, 10000000)
    assert book.counters.checksums_ok == 1 and book.counters.checksums_failed == 0

    # A level worse than the worst, at full depth, is out of scope at once.
    run(venue, [recv(update_frame(naive, [[price(20), "1.00000000", "1700000001.1"]], []))])
    assert book.depth() == (10, 10)
    assert book.ask_size(parse_fixed(price(20), 1)) == 0
    assert book.counters.checksums_ok == 2


def test_delete_then_republish(depth10: tuple[Kraken, NaiveBook]) -> None:
    venue, naive = depth10
    book = venue.books["BTC/USD"]
    run(venue, [recv(update_frame(naive, [[price(1), "0.00000000", "1700000001.0"]], []))])
    assert book.depth() == (10, 9)
    # Kraken republishes the level that comes back into scope, flagged "r".
    republish = [[price(11), "12.00000000", "1700000000.000001", "r"]]
    run(venue, [recv(update_frame(naive, republish, []))])
    assert book.depth() == (10, 10)
    assert book.asks()[-1] == (parse_fixed(price(11), 1), 1200000000)
    assert book.counters.checksums_ok == 2 and book.counters.checksums_failed == 0


def test_a_long_update_mixing_republished_levels(depth10: tuple[Kraken, NaiveBook]) -> None:
    """BATCH_LEVELS levels or more, some with the 4th "r": the batch path's strict zip fails
    on the mixed lengths and the per-level path takes them (compiled, that ValueError once
    leaked into the next C call as a SystemError)."""
    venue, naive = depth10
    asks = [[price(i), f"{i}.00000000", "1700000003.000001"] for i in range(12, 12 + 40)]
    for entry in asks[::3]:
        entry.append("r")
    run(venue, [recv(update_frame(naive, asks, []))])
    book = venue.books["BTC/USD"]
    assert book.counters.checksums_ok == 1 and book.counters.checksums_failed == 0
    assert book.depth() == (10, 10)


def test_both_sides_in_one_payload_are_applied_before_the_check(
    depth10: tuple[Kraken, NaiveBook],
) -> None:
    venue, naive = depth10
    asks = [[price(2), "7.00000000", "1700000002.0"], [price(2), "8.00000000", "1700000002.1"]]
    bids = [[price(-1), "0.00000000", "1700000002.2"]]
    checksum = naive.update(asks, bids)
    frame = json.dumps([0, {"a": asks, "b": bids, "c": checksum}, "book-10", "XBT/USD"])
    events = run(venue, [recv(frame)])
    book = venue.books["BTC/USD"]
    assert book.counters.checksums_ok == 1
    assert book.ask_size(parse_fixed(price(2), 1)) == 800000000  # the last entry wins
    (delta,) = [e for e in events if isinstance(e, BookDelta)]
    assert delta.exch_ns == 1_700_000_002_200_000_000  # the newest level's time


def test_updates_before_the_snapshot_are_skipped(instruments: list[Instrument]) -> None:
    venue = Kraken(instruments)
    events = run(
        venue,
        [
            sent('{"event":"subscribe","pair":["XBT/USD"],"subscription":{"name":"book"}}'),
            recv(
                '[0,{"a":[["50001.10000","1.00000000","1700000000.1"]],"c":"5"},'
                '"book-10","XBT/USD"]'
            ),
        ],
    )
    book = venue.books["BTC/USD"]
    assert events == []
    assert book.state is BookState.AWAITING_SNAPSHOT
    assert book.counters.skipped_deltas == 1 and book.depth() == (0, 0)


# -- bad frames ------------------------------------------------------------------------------

XMR_UPDATE = '[992,{"b":[["354.15000000","%s","1618678133.365913"]],"c":"2583817756"},'
XMR_TAIL = '"book-1000","XMR/USD"]'
XMR_TAIL_ITEMS = ["book-1000", "XMR/USD"]

BAD_FRAMES = {
    "truncated json": ('[992,{"b":[["354.15000000","5.000', "malformed", False),
    "string for a number": (XMR_UPDATE % "five" + XMR_TAIL, "bad_value", True),
    "number for a string": (
        '[992,{"b":[["354.15000000",5.0,"1618678133.365913"]]},' + XMR_TAIL,
        "malformed",
        True,
    ),
    "nan volume": (XMR_UPDATE % "NaN" + XMR_TAIL, "bad_value", True),
    "negative volume": (XMR_UPDATE % "-5.00000000" + XMR_TAIL, "bad_value", True),
    "excess price digits": (
        '[992,{"b":[["354.151","5.00000000","1618678133.365913"]],"c":"1"},' + XMR_TAIL,
        "bad_value",
        True,
    ),
    "bad checksum text": (
        '[992,{"b":[["354.15000000","5.00000000","1618678133.365913"]],"c":"x1"},' + XMR_TAIL,
        "bad_value",
        True,
    ),
    "bad level flag": (
        '[992,{"b":[["354.15000000","5.00000000","1618678133.365913","q"]],"c":"1"},' + XMR_TAIL,
        "malformed",
        True,
    ),
    # asks are fine, the bids payload is not: nothing of the frame may be applied
    "second payload bad": (
        '[992,{"a":[["354.80000000","0.00000000","1618678133.3"]]},'
        '{"b":[["354.15000000","-1","1618678133.4"]],"c":"1"},' + XMR_TAIL,
        "bad_value",
        True,
    ),
    "unknown pair": (
        '[1,{"b":[["1.0","1.0","1618678133.3"]],"c":"1"},"book-1000","FOO/BAR"]',
        "unknown_symbol",
        False,
    ),
    "unsubscribed pair": (
        '[1,{"b":[["50000.1","1.0","1618678133.3"]],"c":"1"},"book-1000","XBT/USD"]',
        "unsubscribed",
        False,
    ),
    "unsubscribed depth": (
        '[1,{"b":[["354.15","1.0","1618678133.3"]],"c":"1"},"book-25","XMR/USD"]',
        "unsubscribed",
        False,
    ),
    "unsubscribed channel": (
        '[993,[["354.11","0.89594024","1618678142.557535","s","l",""]],"trade","XMR/USD"]',
        "unsubscribed",
        False,
    ),
    "too short": ('[992,"book-1000","XMR/USD"]', "malformed", False),
    # shapes the one-pass book decoding leaves to the general path, which says what is wrong
    "number for a payload": ("[992,5," + XMR_TAIL, "malformed", True),
    "string for a payload": ('[992,"x",' + XMR_TAIL, "malformed", True),
    "number for a channel": (
        '[992,{"b":[["354.15000000","5.00000000","1618678133.365913"]],"c":"1"},5,"XMR/USD"]',
        "malformed",
        False,
    ),
    "refused subscription": (
        '{"errorMessage":"Subscription depth not supported","event":"subscriptionStatus",'
        '"pair":"XMR/USD","status":"error","subscription":{"depth":42,"name":"book"}}',
        "venue_error",
        False,
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_FRAMES))
def test_bad_frame_is_counted_and_changes_nothing(
    case: str, instruments: list[Instrument], book_records: list[CaptureRecord]
) -> None:
    frame, kind, is_book_frame = BAD_FRAMES[case]
    venue = Kraken(instruments)
    run(venue, book_records[:300])
    book = venue.books["XMR/USD"]
    assert book.state is BookState.SYNCED
    before = levels_of(venue, "XMR/USD"), book.counters.deltas, book.counters.checksums_ok

    events = run(venue, [recv(frame)])

    assert venue.stats.errors == {kind: 1}
    error = venue.stats.recent_errors[-1]
    assert error.venue == "kraken" and error.frame_clip and error.channel
    assert (levels_of(venue, "XMR/USD"), book.counters.deltas, book.counters.checksums_ok) == (
        before
    )
    if is_book_frame:  # an update may be lost: flagged, resynced, but not half-applied
        assert book.state is BookState.OUT_OF_SYNC
        assert venue.resync_requests == {"XMR/USD"}
        assert [type(e) for e in events] == [BookStatus]
    else:
        assert book.state is BookState.SYNCED
        assert events == []

    # The stream goes on: the other books keep verifying their checksums.
    ok_before, _ = checksum_totals(venue)
    run(venue, book_records[300:600])
    ok_after, failed = checksum_totals(venue)
    assert ok_after > ok_before and failed == 0
    assert sum(venue.stats.errors.values()) == 1


@pytest.mark.parametrize(
    ("defects", "kind", "named"),
    [
        ({3: (1, "x"), 10: (0, "y")}, "bad_value", "'x'"),  # a size before a price
        ({2: (2, "1.5e9"), 10: (0, "y")}, "bad_value", "'1.5e9'"),  # a time first
        ({5: (3, "q"), 10: (0, "y")}, "malformed", "'q'"),  # a level that is no triple
        ({10: (0, "y"), 20: (3, "q")}, "bad_value", "'y'"),
    ],
)
def test_a_bad_snapshot_names_its_first_bad_level(
    instruments: list[Instrument], defects: dict[int, tuple[int, str]], kind: str, named: str
) -> None:
    """Snapshots are parsed column by column (a batch each); a bad one still reports its first
    bad level in order, as the level-by-level path does."""
    asks = [[f"{300 + i}.00000000", "1.00000000", "1618678133.365913"] for i in range(40)]
    for row, (column, text) in defects.items():
        if column == len(asks[row]):
            asks[row].append(text)
        else:
            asks[row][column] = text
    venue = Kraken(instruments)
    subscribe = (
        '{"event":"subscribe","pair":["XMR/USD"],"subscription":{"name":"book","depth":1000}}'
    )
    run(venue, [sent(subscribe), recv(json.dumps([1, {"as": asks, "bs": []}, *XMR_TAIL_ITEMS]))])
    assert venue.stats.errors == {kind: 1}
    assert named in venue.stats.recent_errors[-1].reason
    assert "XMR/USD" not in venue.books or not venue.books["XMR/USD"].depth()[1]


# -- trades and ticker -----------------------------------------------------------------------


def test_recorded_trades(instruments: list[Instrument], captures: Path) -> None:
    records = list(read_capture_file(captures / TRADE_FILE))
    expected = [
        (message[-1], trade)
        for r in records
        if r.kind is RecordKind.RECV and isinstance(message := json.loads(r.payload), list)
        for trade in message[1]
    ]
    venue = Kraken(instruments)
    trades = [e for e in run(venue, records) if isinstance(e, Trade)]
    assert venue.stats.errors == {}
    assert len(trades) == len(expected) == 10
    for trade, (pair, raw) in zip(trades, expected, strict=True):
        instrument = venue.instruments[trade.symbol]
        assert instrument.venue_symbol == pair
        assert trade.price == parse_fixed(raw[0], instrument.price_decimals)
        assert trade.size == parse_fixed(raw[1], instrument.size_decimals)
        assert trade.exch_ns == parse_fixed(raw[2], 9)
        assert trade.side is (Side.BUY if raw[3] == "b" else Side.SELL)
    first = trades[0]  # ["354.11000000","0.89594024","1618678142.557535","s","l",""]
    assert (first.symbol, first.price, first.size, first.side) == (
        "XMR/USD",
        35411,
        89594024,
        Side.SELL,
    )
    assert first.exch_ns == 1_618_678_142_557_535_000
    assert first.trade_id == "1618678142557535000-0"
    assert len({(t.symbol, t.trade_id) for t in trades}) == len(trades)


def test_trade_ids_count_trades_with_the_same_time(instruments: list[Instrument]) -> None:
    venue = Kraken(instruments)
    same = '["354.11000000","1.00000000","1618678142.557535","b","m",""]'
    other = '["354.12000000","1.00000000","1618678142.557536","s","l",""]'
    frames = [
        sent('{"event":"subscribe","pair":["XMR/USD"],"subscription":{"name":"trade"}}'),
        recv(f'[993,[{same},{same}],"trade","XMR/USD"]'),
        recv(f'[993,[{same},{other}],"trade","XMR/USD"]'),
    ]
    ids = [e.trade_id for e in run(venue, frames) if isinstance(e, Trade)]
    assert ids == [
        "1618678142557535000-0",
        "1618678142557535000-1",
        "1618678142557535000-2",
        "1618678142557536000-0",
    ]
    bad = '[993,[["354.11000000","1.00000000","1618678142.6","x","m",""]],"trade","XMR/USD"]'
    assert run(venue, [recv(bad)]) == []
    assert venue.stats.errors == {"bad_value": 1}


def test_recorded_tickers(instruments: list[Instrument], captures: Path) -> None:
    records = list(read_capture_file(captures / TICKER_FILE))
    venue = Kraken(instruments)
    tickers = [e for e in run(venue, records) if isinstance(e, Ticker)]
    assert venue.stats.errors == {}
    data_frames = [r for r in records if r.kind is RecordKind.RECV and r.payload[0] == "["]
    assert len(tickers) == len(data_frames) == 18
    waves = tickers[0]
    # {"a":["13.253900",..],"b":["13.232900",..],"c":["13.253900",..],"v":[..,"72035.05488104"],
    #  "l":[..,"13.021800"],"h":[..,"14.211200"],"o":[..,"13.428300"]}  (pair_decimals 4)
    assert waves.symbol == "WAVES/EUR" and waves.exch_ns == 0
    assert (waves.best_ask, waves.best_bid, waves.last_price) == (132539, 132329, 132539)
    assert (waves.open_24h, waves.high_24h, waves.low_24h) == (134283, 142112, 130218)
    assert waves.volume_24h == 7203505488104


# -- whole captures --------------------------------------------------------------------------


def test_all_kraken_captures_replay_without_errors_and_deterministically(
    captures: Path,
) -> None:
    paths = [captures / name for name in (TRADE_FILE, TICKER_FILE, BOOK_FILE)]
    reports = []
    for _ in range(2):
        session = Replay(paths)
        session.run_all()
        (venue,) = session.venues
        assert venue.stats.errors == {}
        reports.append(msgspec.json.encode(session.report()))
    assert reports[0] == reports[1]
    (entry,) = json.loads(reports[0])["venues"]
    assert entry["venue"] == "kraken" and entry["errors"] == {}
    assert sum(s["book"]["checksums_ok"] for s in entry["symbols"]) == 4269
    assert sum(s["trades"]["count"] for s in entry["symbols"]) == 10


def test_symbol_filter_ignores_other_pairs(
    instruments: list[Instrument], book_records: list[CaptureRecord]
) -> None:
    venue = Kraken(instruments, ["XMR/USD"])
    run(venue, book_records)
    assert set(venue.books) == {"XMR/USD"}
    assert venue.books["XMR/USD"].counters.checksums_ok == 846
    assert venue.stats.errors == {}
    assert venue.stats.ignored_frames == 4321 - 42 - 847


def test_connections_round_trip_and_resubscribe(instruments: list[Instrument]) -> None:
    endpoints = Endpoints("ws://127.0.0.1:5/kraken", "http://127.0.0.1:5/kraken")
    venue = Kraken(instruments, endpoints=endpoints)
    btc, doge = venue.instruments["BTC/USD"], venue.instruments["DOGE/USD"]
    (connection,) = open_live(venue, [btc, doge])
    assert (connection.url, connection.symbols) == (endpoints.ws, ("BTC/USD", "DOGE/USD"))
    assert venue.subscriptions == {
        (channel, pair)
        for channel in ("book-1000", "trade", "ticker")
        for pair in ("XBT/USD", "XDG/USD")
    }
    unsubscribe, subscribe = (json.loads(f) for f in venue.resubscribe_frames(btc))
    book = {"name": "book", "depth": 1000}
    assert unsubscribe == {"event": "unsubscribe", "pair": ["XBT/USD"], "subscription": book}
    assert subscribe == {"event": "subscribe", "pair": ["XBT/USD"], "subscription": book}
    assert venue.snapshot_url(btc) is None
    assert Kraken.instruments_urls(Kraken.default_endpoints) == [
        "https://api.kraken.com/0/public/AssetPairs"
    ]
    assert venue.keepalive.stale_after_s == 10  # Kraken's heartbeat comes every second
