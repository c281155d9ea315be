"""Binance spot and USD-M futures on the real captures, and what happens when frames go missing."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import msgspec
import pytest

from orderscope.book import L2Book
from orderscope.capture import CaptureRecord, RecordKind, group_captures
from orderscope.model import BestBidOffer, BookDelta, BookState, BookStatus, MarketEvent, Trade
from orderscope.replay import load_venue
from orderscope.venues.base import Endpoints, Venue, feed
from tests.venues.venue_testing import open_live


@dataclass(frozen=True)
class Case:
    capture: str
    symbol: str
    venue_symbol: str
    depth_url: str


SPOT = Case("BINANCE.ws.1.0", "NKN/USDT", "NKNUSDT", "https://api.binance.com/api/v3/depth")
FUTURES = Case(
    "BINANCE_FUTURES.ws.1.0",
    "SUSHI/USDT:USDT",
    "SUSHIUSDT",
    "https://fapi.binance.com/fapi/v1/depth",
)


def load(captures: Path, case: Case) -> tuple[Venue, list[CaptureRecord]]:
    (capture,) = group_captures([captures / case.capture])
    return load_venue(capture), list(capture.records())


def run(venue: Venue, records: list[CaptureRecord]) -> list[MarketEvent]:
    events: list[MarketEvent] = []
    for record in records:
        feed(venue, record, events)
    return events


def is_depth(record: CaptureRecord, case: Case) -> bool:
    payload = record.payload
    return (
        record.kind is RecordKind.RECV
        and isinstance(payload, str)
        and f'"stream":"{case.venue_symbol.lower()}@depth' in payload
    )


def snapshot_record(book: L2Book, case: Case, recv_ns: int) -> CaptureRecord:
    """A REST depth response equal to ``book`` now, as Binance would have answered."""
    inst = book.instrument
    body = msgspec.json.encode(
        {
            "lastUpdateId": book.sequence,
            "bids": [[inst.price_text(p), inst.size_text(s)] for p, s in book.bids()],
            "asks": [[inst.price_text(p), inst.size_text(s)] for p, s in book.asks()],
        }
    ).decode()
    url = f"{case.depth_url}?symbol={case.venue_symbol}&limit=1000"
    return CaptureRecord(recv_ns, RecordKind.REST, url, body, conn=99)


def depth_indexes(records: list[CaptureRecord], case: Case) -> list[int]:
    return [i for i, r in enumerate(records) if is_depth(r, case)]


@pytest.mark.parametrize("case", [SPOT, FUTURES], ids=["spot", "futures"])
def test_capture_replays_with_zero_gaps(captures: Path, case: Case) -> None:
    venue, records = load(captures, case)
    events = run(venue, records)
    assert not venue.stats.errors
    assert len(venue.books) == 4
    for book in venue.books.values():
        assert book.state is BookState.SYNCED
        assert book.counters.gaps == 0 and book.counters.resyncs == 0
        assert book.counters.snapshots == 1
        assert book.counters.crossed_updates == 0
        assert book.counters.deltas > 0
    assert not any(isinstance(e, BookStatus) and e.state is BookState.OUT_OF_SYNC for e in events)


@pytest.mark.parametrize("case", [SPOT, FUTURES], ids=["spot", "futures"])
def test_book_top_matches_book_ticker(captures: Path, case: Case) -> None:
    """Binance's bookTicker carries the book update id; where a diff ends at that id, the top of
    our book must equal the ticker's best bid and ask exactly."""
    venue, records = load(captures, case)
    tickers: dict[tuple[str, int], BestBidOffer] = {}
    ticker_ids: dict[int, int] = {}
    compared = 0
    for record in records:
        payload = record.payload
        if record.kind is RecordKind.RECV and isinstance(payload, str) and "bookTicker" in payload:
            ticker_ids[id(record)] = msgspec.json.decode(payload)["data"]["u"]
        events: list[MarketEvent] = []
        feed(venue, record, events)
        for event in events:
            if isinstance(event, BestBidOffer):
                tickers[(event.symbol, ticker_ids[id(record)])] = event
            elif isinstance(event, BookDelta):
                bbo = tickers.get((event.symbol, event.last_sequence))
                if bbo is None:
                    continue
                book = venue.books[event.symbol]
                assert book.best_bid() == (bbo.bid_price, bbo.bid_size)
                assert book.best_ask() == (bbo.ask_price, bbo.ask_size)
                compared += 1
    assert compared >= 3  # the capture holds enough aligned pairs for this to mean something


def _truth_and_resync(
    captures: Path, case: Case, cut: int
) -> tuple[list[CaptureRecord], L2Book, CaptureRecord]:
    """Replay the unmodified capture; return its records, final book, and a snapshot of the
    true book taken right after record ``cut``."""
    venue, records = load(captures, case)
    snapshot = None
    for i, record in enumerate(records):
        feed(venue, record, [])
        if i == cut:
            snapshot = snapshot_record(venue.books[case.symbol], case, record.recv_ns + 1)
    assert snapshot is not None
    return records, venue.books[case.symbol], snapshot


@pytest.mark.parametrize("case", [SPOT, FUTURES], ids=["spot", "futures"])
@pytest.mark.parametrize("damage", ["delete", "swap"])
def test_missing_or_reordered_diff_is_a_gap_until_next_snapshot(
    captures: Path, case: Case, damage: str
) -> None:
    venue, records = load(captures, case)
    depth = depth_indexes(records, case)
    victim = depth[len(depth) // 3]
    cut = depth[2 * len(depth) // 3]
    _, truth, resync = _truth_and_resync(captures, case, cut)
    damaged = list(records)
    if damage == "delete":
        del damaged[victim]
        cut -= 1
    else:  # swap the victim with the next diff of the same symbol
        nxt = depth[depth.index(victim) + 1]
        damaged[victim], damaged[nxt] = damaged[nxt], damaged[victim]
    damaged.insert(cut + 1, resync)  # the "next snapshot" the session would fetch

    states = []
    events: list[MarketEvent] = []
    for record in damaged:
        feed(venue, record, events)
        book = venue.books.get(case.symbol)
        states.append(book.state if book else None)

    book = venue.books[case.symbol]
    assert book.counters.gaps == 1
    assert book.counters.resyncs == 1
    assert book.state is BookState.SYNCED
    assert book.bids() == truth.bids() and book.asks() == truth.asks()
    assert book.sequence == truth.sequence
    statuses = [e.state for e in events if isinstance(e, BookStatus) and e.symbol == case.symbol]
    assert statuses == [BookState.SYNCED, BookState.OUT_OF_SYNC, BookState.SYNCED]
    # flagged from the first diff of the symbol after the damage (for a swap: the diff that
    # came too early) until the resync snapshot, and only then
    detected = next(i for i in depth_indexes(damaged, case) if i >= victim)
    flagged = [i for i, state in enumerate(states) if state is BookState.OUT_OF_SYNC]
    assert flagged == list(range(detected, cut + 1))
    # the other symbols never noticed
    others = [b for s, b in venue.books.items() if s != case.symbol]
    assert all(b.counters.gaps == 0 and b.state is BookState.SYNCED for b in others)


def _synced_spot(captures: Path) -> tuple[Venue, list[CaptureRecord]]:
    venue, records = load(captures, SPOT)
    run(venue, records)
    return venue, records


def depth_frame(first: int, last: int, second_bid: str) -> str:
    """A depth diff continuing the book, whose first bid level is valid."""
    return (
        '{"stream":"nknusdt@depth@100ms","data":{"e":"depthUpdate","E":1633998540000,'
        f'"s":"NKNUSDT","U":{first},"u":{last},'
        f'"b":[["0.35000000","1.00000000"],{second_bid}],"a":[]}}}}'
    )


def agg_trade(symbol: str, qty: str, stream: str = "aggTrade") -> str:
    return (
        f'{{"stream":"{symbol.lower()}@{stream}","data":{{"e":"{stream}","s":"{symbol}",'
        f'"p":"0.35200000","q":"{qty}","T":1633998540001,"m":false,"a":42,"t":42}}}}'
    )


BAD_FRAMES = {
    # name: (frame builder taking the book's last update id, error kind, book flagged?)
    "truncated json": (lambda u: depth_frame(u + 1, u + 1, '["0.1","1"]')[:60], "malformed", False),
    "string for a number": (
        lambda u: depth_frame(u + 1, u + 1, '["0.1","1"]').replace(f'"U":{u + 1}', '"U":"abc"'),
        "malformed",
        True,
    ),
    "nan size": (lambda u: depth_frame(u + 1, u + 1, '["0.34000000","NaN"]'), "bad_value", True),
    "negative size": (
        lambda u: depth_frame(u + 1, u + 1, '["0.34000000","-1.0"]'),
        "bad_value",
        True,
    ),
    "number as json float": (lambda u: depth_frame(u + 1, u + 1, "[0.34, 1.0]"), "malformed", True),
    "unknown symbol": (lambda u: agg_trade("XYZUSDT", "1"), "unknown_symbol", False),
    "unsubscribed channel": (lambda u: agg_trade("NKNUSDT", "1", "trade"), "unsubscribed", False),
    "negative trade": (lambda u: agg_trade("NKNUSDT", "-3"), "bad_value", False),
    "venue error": (
        lambda u: '{"code":-1121,"msg":"Invalid symbol.","id":1}',
        "venue_error",
        False,
    ),
}


@pytest.mark.parametrize("name", list(BAD_FRAMES))
def test_bad_frames_are_typed_counted_and_contained(captures: Path, name: str) -> None:
    build, kind, book_flagged = BAD_FRAMES[name]
    venue, records = _synced_spot(captures)
    book = venue.books[SPOT.symbol]
    before = (book.bids(), book.asks(), book.sequence)
    end = records[-1].recv_ns
    events: list[MarketEvent] = []
    feed(venue, CaptureRecord(end + 1, RecordKind.RECV, "", build(book.sequence), 0), events)
    assert venue.stats.errors == {kind: 1}
    error = venue.stats.recent_errors[-1]
    assert error.venue == "binance" and error.channel and error.frame_clip
    assert str(error).startswith(f"binance {error.channel}: ")
    # never half-updated: the valid first level of a bad depth frame was not applied
    assert (book.bids(), book.asks(), book.sequence) == before
    assert (book.state is BookState.OUT_OF_SYNC) is book_flagged
    assert [type(e) for e in events] == ([BookStatus] if book_flagged else [])
    # the stream goes on: a good trade frame right after is processed
    events.clear()
    feed(
        venue,
        CaptureRecord(end + 2, RecordKind.RECV, "", agg_trade("NKNUSDT", "10.00000000"), 0),
        events,
    )
    assert len(events) == 1 and isinstance(events[0], Trade)
    assert (events[0].price, events[0].size, events[0].trade_id) == (
        35_200_000,
        1_000_000_000,
        "42",
    )


# -- the live API ------------------------------------------------------------------------------


@pytest.mark.parametrize("case", [SPOT, FUTURES], ids=["spot", "futures"])
def test_connections_subscribe_in_the_url_and_round_trip(captures: Path, case: Case) -> None:
    loaded = load(captures, case)[0]
    listed, cls = list(loaded.instruments.values()), type(loaded)
    endpoints = Endpoints("ws://127.0.0.1:8/binance", "http://127.0.0.1:8/binance")
    venue = cls(listed, endpoints=endpoints)
    chosen = listed[:100]  # spot: 300 streams in two connections of at most 200
    connections = open_live(venue, chosen)
    futures = case is FUTURES  # + markPrice@1s and forceOrder: 500 streams in three
    assert [len(c.symbols) for c in connections] == ([40, 40, 20] if futures else [66, 34])
    assert all(not c.subscribe for c in connections)  # the URL carries the subscriptions
    assert all(c.url.startswith("ws://127.0.0.1:8/binance/stream?streams=") for c in connections)
    assert [s for c in connections for s in c.symbols] == [i.symbol for i in chosen]
    channels = ("depth", "aggTrade", "bookTicker") + (
        ("markPrice", "forceOrder") if futures else ()
    )
    assert venue.subscriptions == {
        (channel, i.venue_symbol) for i in chosen for channel in channels
    }
    instrument = venue.instruments[case.symbol]
    path = case.depth_url.partition(".com")[2]
    assert venue.snapshot_url(instrument) == (
        f"http://127.0.0.1:8/binance{path}?symbol={case.venue_symbol}&limit=1000"
    )
    assert venue.resubscribe_frames(instrument) == []  # REST snapshots resync the books
    info = f"{case.depth_url.rpartition('/')[0]}/exchangeInfo"
    assert cls.instruments_urls(cls.default_endpoints) == [info]


# -- the C kernel (parse_raw_levels) against the typed path ------------------------------------


def _kernel_frames(u: int) -> list[str]:
    """Diffs and snapshots the kernel takes, and ones it leaves to the typed path."""
    good = depth_frame(u + 1, u + 1, '["0.34000000","2.00000000"]')
    return [
        *(build(u) for build, _, _ in BAD_FRAMES.values()),
        depth_frame(u + 1, u + 1, '["0.34000000","1.00000000","x"]'),  # three items
        depth_frame(u + 1, u + 1, '["0.3400000\\u0030","1.00000000"]'),  # an escape
        depth_frame(u + 1, u + 1, '["0.340000001","1.00000000"]'),  # beyond 8 decimals
        depth_frame(u + 1, u + 1, '[ "0.34000000" , "99999999999.0" ]'),  # beyond int64
        good,
        good.replace('"s":"NKNUSDT"', '"s":"NKNUSDT","pu":3'),
        depth_frame(u + 2, u + 3, '["0.33000000","0.00000000"]'),
        depth_frame(u + 9, u + 9, '["0.33000000","1.00000000"]'),  # a gap
    ]


def _outcomes(captures: Path, rest_bodies: list[str]) -> list[tuple[object, ...]]:
    venue, records = _synced_spot(captures)
    book = venue.books[SPOT.symbol]
    end = records[-1].recv_ns
    outcomes = []
    frames = [CaptureRecord(end, RecordKind.RECV, "", f, 0) for f in _kernel_frames(book.sequence)]
    url = f"{SPOT.depth_url}?symbol={SPOT.venue_symbol}&limit=1000"
    frames += [CaptureRecord(end, RecordKind.REST, url, body, 99) for body in rest_bodies]
    for record in frames:
        events: list[MarketEvent] = []
        feed(venue, record, events)
        recent = [str(e) for e in venue.stats.recent_errors]
        outcomes.append((msgspec.json.encode(events), recent, book.bids(), book.asks()))
    return outcomes


def test_the_kernel_gives_the_typed_path_s_events_and_errors(
    captures: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from orderscope.venues import binance

    if binance.NATIVE_RAW is None:
        pytest.skip("a pure run: only the typed path exists")
    body = '{"lastUpdateId":%d,"bids":[["0.35000000","1.00000000"]],"asks":[["0.36000000","2"]]}'
    rest_bodies = [
        body % 10**12,
        body.replace('"2"', "2") % (10**12 + 1),
        body.replace('"2"', '"-2"') % (10**12 + 2),
        body.replace("[[", "[ [ ") % (10**12 + 3),
        '{"lastUpdateId":"x","bids":[],"asks":[]}',
    ]
    with_kernel = _outcomes(captures, rest_bodies)
    monkeypatch.setattr(binance, "NATIVE_RAW", None)
    monkeypatch.setattr(binance, "_SCAN", None)  # the frame scanners (orderscope._binance) too
    monkeypatch.setattr(binance, "_SCAN_REST", None)
    assert with_kernel == _outcomes(captures, rest_bodies)
