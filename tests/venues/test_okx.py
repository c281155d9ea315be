"""OKX v5 connector: the real capture (every checksum verifies), documented messages for what
the capture lacks (seqId, futures channels), bad frames, and the live-session hooks."""

from __future__ import annotations

import json
from pathlib import Path

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from orderscope.book import L2Book
from orderscope.capture import CaptureRecord, RecordKind, group_captures, read_capture_file
from orderscope.fixed import format_fixed, parse_fixed
from orderscope.model import (
    BookState,
    BookStatus,
    FundingRate,
    Instrument,
    InstrumentKind,
    Liquidation,
    MarketEvent,
    OpenInterest,
    Side,
    Ticker,
    Trade,
)
from orderscope.replay import Replay, load_venue
from orderscope.venues import REGISTRY
from orderscope.venues.base import Endpoints, feed
from orderscope.venues.okx import ARGS_PER_FRAME, Okx, _plain, _rounded, base_amount
from tests.venues.venue_testing import open_live

URL = "wss://ws.okx.com:8443/ws/v5/public"
CHECKSUM_FRAMES = 290  # books frames in OKX.ws.1.0 that carry a checksum (counted below too)


@pytest.fixture(scope="module")
def instruments(captures: Path) -> list[Instrument]:
    """What the replay loads from OKX.0 beside the capture."""
    return list(load_venue(group_captures([captures / "OKX.ws.1.0"])[0]).instruments.values())


@pytest.fixture(scope="module")
def records(captures: Path) -> list[CaptureRecord]:
    return list(read_capture_file(captures / "OKX.ws.1.0"))


def replayed(instruments: list[Instrument], records: list[CaptureRecord]) -> Okx:
    venue = Okx(instruments)
    for record in records:
        feed(venue, record, [])
    return venue


def venue_with(instruments: list[Instrument], *subscriptions: dict[str, str]) -> Okx:
    venue = Okx(instruments)
    venue.on_open(0, URL, 0)
    venue.on_sent(0, json.dumps({"op": "subscribe", "args": list(subscriptions)}), 0)
    return venue


def send(venue: Okx, frame: str | dict[str, object], recv_ns: int = 1) -> list[MarketEvent]:
    out: list[MarketEvent] = []
    text = frame if isinstance(frame, str) else json.dumps(frame)
    feed(venue, CaptureRecord(recv_ns, RecordKind.RECV, URL, text, 0), out)
    return out


def book_frame(
    inst_id: str,
    action: str,
    bids: list[list[str]],
    asks: list[list[str]],
    **extra: object,
) -> dict[str, object]:
    data = {"asks": asks, "bids": bids, "ts": "1597026383085", **extra}
    return {"arg": {"channel": "books", "instId": inst_id}, "action": action, "data": [data]}


def book_state(book: L2Book) -> tuple[object, ...]:
    return (book.state, book.bids(), book.asks(), book.sequence, book.counters.deltas)


# -- instruments ---------------------------------------------------------------------------------


def test_instruments_map_to_unified_symbols_with_exact_contract_units(
    instruments: list[Instrument],
) -> None:
    by_id = {i.venue_symbol: i for i in instruments}
    spot = by_id["BTC-USDT"]
    assert (spot.symbol, spot.kind, spot.price_decimals, spot.size_decimals) == (
        "BTC/USDT",
        InstrumentKind.SPOT,
        1,
        8,
    )
    assert spot.contract_size is None
    swap = by_id["UNI-USD-SWAP"]  # inverse: 10 USD a contract, sizes in USD
    assert (swap.symbol, swap.kind, swap.settle, swap.contract_size) == (
        "UNI/USD:UNI",
        InstrumentKind.INVERSE_PERPETUAL,
        "UNI",
        "10",
    )
    assert (swap.size_decimals, swap.lot_size, swap.price_decimals) == (0, 10, 3)
    future = by_id["BTC-USD-220527"]
    assert (future.symbol, future.kind, future.contract_size) == (
        "BTC/USD:BTC-220527",
        InstrumentKind.INVERSE_FUTURE,
        "100",
    )
    linear = by_id["BTC-USDT-SWAP"]  # linear: 0.01 BTC a contract, sizes in BTC
    assert (linear.symbol, linear.kind, linear.contract_size) == (
        "BTC/USDT:USDT",
        InstrumentKind.LINEAR_PERPETUAL,
        "0.01",
    )
    assert (linear.size_decimals, linear.lot_size) == (2, 1)  # 1 contract = 0.01 BTC
    assert by_id["BTC-USDT-220527"].symbol == "BTC/USDT:USDT-220527"
    assert not any(i.venue_symbol.endswith(("-C", "-P")) for i in instruments)  # no options
    unique = {i.venue_symbol: i.symbol for i in instruments}
    assert len(set(unique.values())) == len(unique)


def test_contract_value_keeps_no_trailing_zero() -> None:
    info = {
        "code": "0",
        "data": [
            {
                "instType": "SWAP",
                "instId": "X-USDT-SWAP",
                "tickSz": "0.01",
                "lotSz": "1",
                "uly": "X-USDT",
                "ctType": "linear",
                "ctVal": "0.5",
                "ctMult": "0.2",
                "ctValCcy": "X",
                "settleCcy": "USDT",
            }
        ],
    }
    (instrument,) = Okx.parse_instruments("instruments", json.dumps(info))
    assert (instrument.contract_size, instrument.size_decimals, instrument.lot_size) == (
        "0.1",
        1,
        1,
    )


# -- the capture -----------------------------------------------------------------------------------


def test_every_checksum_of_the_capture_verifies(captures: Path) -> None:
    carried = sum(
        1
        for record in read_capture_file(captures / "OKX.ws.1.0")
        if record.kind is RecordKind.RECV and '"checksum"' in record.payload
    )
    assert carried == CHECKSUM_FRAMES
    replay = Replay([captures / "OKX.ws.1.0"])
    replay.run_all()
    (venue,) = replay.venues
    assert dict(venue.stats.errors) == {}
    books = venue.books.values()
    assert {b.instrument.symbol for b in books} == {
        "BTC/USDT",
        "UNI/USD:UNI",
        "BTC/USD:BTC-220527",
    }
    assert sum(b.counters.checksums_ok for b in books) == CHECKSUM_FRAMES
    assert sum(b.counters.checksums_failed for b in books) == 0
    assert all(b.counters.gaps == 0 and b.counters.skipped_deltas == 0 for b in books)
    assert all(b.state is BookState.SYNCED and not b.crossed for b in books)
    totals = {symbol: t.count for (_, symbol), t in replay.trades.items()}
    assert totals == {"BTC/USDT": 69, "UNI/USD:UNI": 1, "BTC/USD:BTC-220527": 4}


def test_whole_books_equal_a_string_level_rebuild_of_the_capture(
    instruments: list[Instrument], records: list[CaptureRecord]
) -> None:
    """Beyond the checksum's top 25: every level, converted from contracts, is exact."""
    venue = replayed(instruments, records)
    rebuilt: dict[str, tuple[dict[str, str], dict[str, str]]] = {}
    for record in records:
        if record.kind is not RecordKind.RECV or '"books"' not in record.payload:
            continue
        msg = json.loads(record.payload)
        if "data" not in msg:
            continue
        sides = rebuilt.setdefault(msg["arg"]["instId"], ({}, {}))
        if msg["action"] == "snapshot":
            sides[0].clear()
            sides[1].clear()
        for side, key in zip(sides, ("bids", "asks"), strict=True):
            for price, size, *_ in msg["data"][0][key]:
                if size == "0":
                    side.pop(price, None)
                else:
                    side[price] = size
    for inst_id, (bids, asks) in rebuilt.items():
        instrument = venue.by_venue_symbol[inst_id]
        book = venue.books[instrument.symbol]
        assert dict(book.bids()) == exact_sizes(bids, instrument)
        assert dict(book.asks()) == exact_sizes(asks, instrument)


def exact_sizes(side: dict[str, str], instrument: Instrument) -> dict[int, int]:
    """Wire strings -> scaled ints the slow way: contracts * contract value, at 16 decimals."""
    value = parse_fixed(instrument.contract_size or "1", 8)
    pd, sd = instrument.price_decimals, instrument.size_decimals
    return {
        parse_fixed(p, pd): parse_fixed(s, 8) * value // 10 ** (16 - sd) for p, s in side.items()
    }


def test_replaying_twice_gives_identical_reports(captures: Path) -> None:
    reports = []
    for _ in range(2):
        replay = Replay([captures / "OKX.ws.1.0"])
        replay.run_all()
        reports.append(msgspec.json.encode(replay.report()))
    assert reports[0] == reports[1]


def test_contract_sizes_become_currency_amounts(instruments: list[Instrument]) -> None:
    venue = venue_with(
        instruments,
        {"channel": "trades", "instId": "UNI-USD-SWAP"},
        {"channel": "trades", "instId": "BTC-USDT-SWAP"},
    )
    (inverse,) = send(
        venue,
        '{"arg":{"channel":"trades","instId":"UNI-USD-SWAP"},"data":[{"instId":"UNI-USD-SWAP",'
        '"tradeId":"12883020","px":"5.123","sz":"100","side":"sell","ts":"1652459215150"}]}',
    )
    assert isinstance(inverse, Trade)
    assert (inverse.price, inverse.size, inverse.side) == (5123, 1000, Side.SELL)  # 1000 USD
    uni = venue.instruments["UNI/USD:UNI"]
    assert base_amount(uni, inverse.size, inverse.price) == pytest.approx(1000 / 5.123)
    (linear,) = send(
        venue,
        '{"arg":{"channel":"trades","instId":"BTC-USDT-SWAP"},"data":[{"instId":"BTC-USDT-SWAP",'
        '"tradeId":"1","px":"30236.5","sz":"3","side":"buy","ts":"1652459215150"}]}',
    )
    assert isinstance(linear, Trade)
    assert (linear.size, linear.side) == (3, Side.BUY)  # 0.03 BTC at 2 decimals
    swap = venue.instruments["BTC/USDT:USDT"]
    assert base_amount(swap, linear.size, linear.price) == pytest.approx(0.03)


# -- checksum and sequence rules -------------------------------------------------------------------


def test_checksum_mismatch_marks_out_of_sync_until_the_next_snapshot(
    instruments: list[Instrument],
) -> None:
    venue = venue_with(instruments, {"channel": "books", "instId": "BTC-USDT"})
    bids, asks = [["100", "1", "0", "1"]], [["101", "2", "0", "1"]]
    good = -538653813  # signed CRC32 of "100:1:101:2"
    send(venue, book_frame("BTC-USDT", "snapshot", bids, asks, checksum=good))
    book = venue.books["BTC/USDT"]
    assert (book.state, book.counters.checksums_ok) == (BookState.SYNCED, 1)
    out = send(venue, book_frame("BTC-USDT", "update", [["99", "5", "0", "1"]], [], checksum=123))
    assert book.state is BookState.OUT_OF_SYNC
    assert venue.resync_requests == {"BTC/USDT"}
    assert [type(e).__name__ for e in out] == ["BookDelta", "BookStatus"]
    assert (book.counters.checksums_failed, book.counters.gaps) == (1, 0)
    send(venue, book_frame("BTC-USDT", "update", [["98", "1", "0", "1"]], [], checksum=1))
    assert book.counters.skipped_deltas == 1  # nothing applied while out of sync
    out = send(venue, book_frame("BTC-USDT", "snapshot", bids, asks, checksum=good))
    assert book.state is BookState.SYNCED and venue.resync_requests == set()
    assert book.counters.resyncs == 1
    assert isinstance(out[-1], BookStatus) and out[-1].state is BookState.SYNCED


def test_seq_ids_follow_the_documented_rules(instruments: list[Instrument]) -> None:
    """OKX's own example: snapshot 10, update 10->15, keep-alive 15->15, reset 15->3, 3->5."""
    venue = venue_with(instruments, {"channel": "books", "instId": "BTC-USDT"})
    level = [["8476.9", "1", "0", "1"]]
    send(venue, book_frame("BTC-USDT", "snapshot", level, [], checksum=0, prevSeqId=-1, seqId=10))
    for prev, seq, bids in ((10, 15, level), (15, 15, []), (15, 3, level), (3, 5, level)):
        send(
            venue, book_frame("BTC-USDT", "update", bids, [], checksum=0, prevSeqId=prev, seqId=seq)
        )
    book = venue.books["BTC/USDT"]
    assert (book.state, book.counters.deltas, book.counters.gaps) == (BookState.SYNCED, 4, 0)
    assert book.counters.checksums_ok == book.counters.checksums_failed == 0  # 0: not sent
    before = book_state(book)
    out = send(venue, book_frame("BTC-USDT", "update", level, [], prevSeqId=7, seqId=9))
    assert book.state is BookState.OUT_OF_SYNC and book.counters.gaps == 1
    assert isinstance(out[0], BookStatus) and "seqId gap" in out[0].reason
    assert book.bids() == before[1]  # the gapped update was not applied


# -- futures channels (documented messages; the capture has none) ----------------------------------


def test_funding_and_mark_price_make_funding_events(instruments: list[Instrument]) -> None:
    venue = venue_with(
        instruments,
        {"channel": "funding-rate", "instId": "BTC-USD-SWAP"},
        {"channel": "mark-price", "instId": "BTC-USD-SWAP"},
    )
    mark = {
        "arg": {"channel": "mark-price", "instId": "BTC-USD-SWAP"},
        "data": [
            {
                "instType": "SWAP",
                "instId": "BTC-USD-SWAP",
                "markPx": "37000.1",
                "ts": "1700724675000",
            }
        ],
    }
    assert send(venue, mark) == []  # no rate known yet: kept for the funding event
    (funding,) = send(
        venue,
        '{"arg":{"channel":"funding-rate","instId":"BTC-USD-SWAP"},"data":[{"formulaType":"noRate",'
        '"fundingRate":"0.0001875391284828","fundingTime":"1700726400000","impactValue":"",'
        '"instId":"BTC-USD-SWAP","instType":"SWAP","interestRate":"","method":"current_period",'
        '"maxFundingRate":"0.00375","minFundingRate":"-0.00375","nextFundingRate":"",'
        '"nextFundingTime":"1700755200000","premium":"0.0001233824646391",'
        '"settFundingRate":"0.0001699799259033","settState":"settled","ts":"1700724675402"}]}',
    )
    assert funding == FundingRate(
        "okx",
        "BTC/USD:BTC",
        1700724675402 * 1_000_000,
        1,
        "0.0001875391284828",
        1700726400000 * 1_000_000,
        370001,
    )
    (marked,) = send(venue, mark)
    assert isinstance(marked, FundingRate)
    assert (marked.rate, marked.mark_price) == ("0.0001875391284828", 370001)


def test_open_interest_in_currency_units(instruments: list[Instrument]) -> None:
    venue = venue_with(instruments, {"channel": "open-interest", "instId": "BTC-USDT-SWAP"})
    (event,) = send(
        venue,
        '{"arg":{"channel":"open-interest","instId":"BTC-USDT-SWAP"},"data":[{"instId":'
        '"BTC-USDT-SWAP","instType":"SWAP","oi":"2216113.01000000309","oiCcy":'
        '"22161.1301000000309","oiUsd":"1939251795.54769270396321","ts":"1743041250440"}]}',
    )
    # OKX's float noise rounded to its lot (1 contract in 2022), times 0.01 BTC a contract
    assert event == OpenInterest("okx", "BTC/USDT:USDT", 1743041250440 * 1_000_000, 1, 2216113)


def test_liquidations_of_a_whole_instrument_type(instruments: list[Instrument]) -> None:
    venue = venue_with(instruments, {"channel": "liquidation-orders", "instType": "SWAP"})
    frame = (
        '{"arg":{"channel":"liquidation-orders","instType":"SWAP"},"data":[{"details":[{"bkLoss":'
        '"0","bkPx":"0.007831","ccy":"","posSide":"short","side":"buy","sz":"13","ts":'
        '"1692266434010"}],"instFamily":"IOST-USDT","instId":"IOST-USDT-SWAP","instType":"SWAP",'
        '"uly":"IOST-USDT"}]}'
    )
    (event,) = send(venue, frame)
    # 13 contracts of 1000 IOST; a buy order closes a short
    assert event == Liquidation(
        "okx", "IOST/USDT:USDT", 1692266434010 * 1_000_000, 1, 7831, 13000, Side.BUY
    )
    filtered = Okx(instruments, ["BTC/USDT:USDT"])
    filtered.on_sent(
        0, '{"op":"subscribe","args":[{"channel":"liquidation-orders","instType":"SWAP"}]}', 0
    )
    assert send(filtered, frame) == [] and filtered.stats.ignored_frames == 1


def test_tickers_become_tickers(instruments: list[Instrument]) -> None:
    venue = venue_with(instruments, {"channel": "tickers", "instId": "UNI-USD-SWAP"})
    (ticker,) = send(
        venue,
        '{"arg":{"channel":"tickers","instId":"UNI-USD-SWAP"},"data":[{"instType":"SWAP","instId":'
        '"UNI-USD-SWAP","last":"5.123","lastSz":"100","askPx":"5.142","askSz":"25","bidPx":"",'
        '"bidSz":"","open24h":"4.799","high24h":"5.458","low24h":"4.537","sodUtc0":"4.654",'
        '"sodUtc8":"5.204","volCcy24h":"577730.7823","vol24h":"289425","ts":"1652459223143"}]}',
    )
    assert ticker == Ticker(
        "okx",
        "UNI/USD:UNI",
        1652459223143 * 1_000_000,
        1,
        last_price=5123,
        open_24h=4799,
        high_24h=5458,
        low_24h=4537,
        volume_24h=2894250,  # USD: 289425 contracts of 10 USD
        best_bid=None,
        best_ask=5142,
    )


# -- bad frames ------------------------------------------------------------------------------------

BAD_FRAMES = [
    ("truncated", '{"arg":{"channel":"books","instId":"BTC-USDT"},"action":"upd', "malformed"),
    (
        "number for a string",
        '{"arg":{"channel":"books","instId":"BTC-USDT"},"action":"update","data":[{"asks":[],'
        '"bids":[[30000.1,"1","0","1"]],"ts":"1652459225464","checksum":1}]}',
        "malformed",
    ),
    (
        "NaN size",
        '{"arg":{"channel":"books","instId":"BTC-USDT"},"action":"update","data":[{"asks":[],'
        '"bids":[["30000.1","NaN","0","1"]],"ts":"1652459225464","checksum":1}]}',
        "bad_value",
    ),
    (
        "negative size",
        '{"arg":{"channel":"books","instId":"BTC-USDT"},"action":"update","data":[{"asks":[],'
        '"bids":[["30000.1","-1","0","1"]],"ts":"1652459225464","checksum":1}]}',
        "bad_value",
    ),
    (
        "price finer than the tick",
        '{"arg":{"channel":"books","instId":"BTC-USDT"},"action":"update","data":[{"asks":[],'
        '"bids":[["30000.15","1","0","1"]],"ts":"1652459225464","checksum":1}]}',
        "bad_value",
    ),
    (
        "unknown symbol",
        '{"arg":{"channel":"books","instId":"FOO-BAR"},"action":"update","data":[{"asks":[],'
        '"bids":[],"ts":"1652459225464","checksum":1}]}',
        "unknown_symbol",
    ),
    (
        "unsubscribed channel",
        '{"arg":{"channel":"books","instId":"ETH-USDT"},"action":"update","data":[{"asks":[],'
        '"bids":[],"ts":"1652459225464","checksum":1}]}',
        "unsubscribed",
    ),
    (
        "bad trade side",
        '{"arg":{"channel":"trades","instId":"BTC-USDT"},"data":[{"instId":"BTC-USDT","tradeId":'
        '"1","px":"30236","sz":"0.0002","side":"both","ts":"1652459224818"}]}',
        "bad_value",
    ),
    ("venue error", '{"event":"error","code":"60012","msg":"Invalid request"}', "venue_error"),
]


@pytest.mark.parametrize(("label", "frame", "kind"), BAD_FRAMES, ids=[b[0] for b in BAD_FRAMES])
def test_bad_frames_are_counted_and_leave_books_whole(
    instruments: list[Instrument], records: list[CaptureRecord], label: str, frame: str, kind: str
) -> None:
    venue = Okx(instruments)
    half = len(records) // 2
    for record in records[:half]:
        feed(venue, record, [])
    before = {symbol: book_state(book) for symbol, book in venue.books.items()}
    out = send(venue, frame, records[half].recv_ns)
    assert dict(venue.stats.errors) == {kind: 1}
    assert not [e for e in out if not isinstance(e, BookStatus)]  # no event from a bad frame
    after = {symbol: book_state(book) for symbol, book in venue.books.items()}
    for symbol in before:  # nothing half-applied; only the state may say "resync"
        assert after[symbol][1:] == before[symbol][1:]
    touched = {s for s, b in venue.books.items() if b.state is not BookState.SYNCED}
    # a frame that is not even JSON cannot be attributed to a book; the next checksum would
    # catch a lost update
    book_error = kind in ("malformed", "bad_value") and '"books"' in frame and label != "truncated"
    assert touched == ({"BTC/USDT"} if book_error else set())
    for record in records[half:]:  # the stream goes on
        feed(venue, record, [])
    assert dict(venue.stats.errors) == {kind: 1}
    books = venue.books
    assert sum(b.counters.checksums_failed for b in books.values()) == 0
    untouched = [b for s, b in books.items() if s not in touched]
    assert all(b.state is BookState.SYNCED for b in untouched)
    assert sum(b.counters.checksums_ok for b in books.values()) > CHECKSUM_FRAMES // 2


@pytest.mark.parametrize(
    ("defects", "kind", "named"),
    [
        ({3: (1, "x"), 10: (0, "y")}, "bad_value", "'x'"),  # a size before a price
        ({5: (None, ""), 10: (0, "y")}, "malformed", "price and a size"),  # a level too short
        ({10: (0, "y"), 20: (None, "")}, "bad_value", "'y'"),
    ],
)
def test_a_bad_snapshot_names_its_first_bad_level(
    instruments: list[Instrument],
    defects: dict[int, tuple[int | None, str]],
    kind: str,
    named: str,
) -> None:
    """Snapshots are parsed column by column (a batch each); a bad one still reports its first
    bad level in order, as the level-by-level path does."""
    bids = [[f"{30000 - i}.1", "1", "0", "1"] for i in range(40)]
    for row, (column, text) in defects.items():
        if column is None:
            bids[row] = bids[row][:1]
        else:
            bids[row][column] = text
    venue = venue_with(instruments, {"channel": "books", "instId": "BTC-USDT"})
    send(venue, book_frame("BTC-USDT", "snapshot", bids, []))
    assert dict(venue.stats.errors) == {kind: 1}
    assert named in venue.stats.recent_errors[-1].reason
    assert "BTC/USDT" not in venue.books or venue.books["BTC/USDT"].depth() == (0, 0)


# -- the C kernel (parse_raw_levels) against the typed path ------------------------------------


def _kernel_frames() -> list[str]:
    """Book frames the kernel takes and frames it must hand to the typed path."""

    def frame(action: str, bids: list[list[object]], **extra: object) -> str:
        data = {"asks": [["30001.5", "2", "0", "1"]], "bids": bids, "ts": "1597026383085"}
        return json.dumps(
            {"arg": {"channel": "books", "instId": "BTC-USDT"}, "action": action, "data": [data]}
            | extra
        )

    good = [[f"{30000 - i}.1", "1.5", "0", "3"] for i in range(30)]
    return [
        frame("snapshot", good),
        frame("update", [["29999.1", "0", "0", "0"], ["29950.2", "4", "0", "1"]]),
        frame("update", [["29950.2", "4", 0, "1"]]),  # a number among the strings: typed error
        frame("update", [["29950.2", "4", "0", None]]),
        frame("update", [["29950.2"]]),  # too short: "a level needs a price and a size"
        frame("update", [["\\u0032", "1", "0", "1"]]).replace("\\\\", "\\"),  # an escape
        frame("update", [["29950.2", "1.5x", "0", "1"]]),
        frame("update", [["29950.2", "99999999999999999999", "0", "1"]]),  # beyond int64
        frame("update", [[" 29950.2", "1", "0", "1"]]),
        frame("update", [["29950.2", "1"]]),  # two items are enough for the typed path
        frame("snapshot", good[:5]),
    ]


def _kernel_outcomes(instruments: list[Instrument]) -> list[tuple[object, ...]]:
    venue = venue_with(instruments, {"channel": "books", "instId": "BTC-USDT"})
    outcomes: list[tuple[object, ...]] = []
    for text in _kernel_frames():
        events = send(venue, text)
        recent = [str(e) for e in venue.stats.recent_errors]
        book = venue.books["BTC/USDT"]
        outcomes.append((msgspec.json.encode(events), recent, book_state(book)))
    return outcomes


def test_the_kernel_gives_the_typed_path_s_events_and_errors(
    instruments: list[Instrument], monkeypatch: pytest.MonkeyPatch
) -> None:
    from orderscope.venues import okx

    with_kernel = _kernel_outcomes(instruments)
    reasons = [e.split(" in frame ")[0] for e in with_kernel[-1][1]]
    assert reasons == [  # each bad update a typed error; the escape and the big size are good
        "okx books: Expected `str`, got `int` - at `$[0].bids[0][2]`",
        "okx books: Expected `str`, got `null` - at `$[0].bids[0][3]`",
        "okx books: a level needs a price and a size",
        "okx books: not a plain non-negative decimal: '1.5x'",
        "okx books: not a plain non-negative decimal: ' 29950.2'",
    ]
    monkeypatch.setattr(okx, "NATIVE_RAW", None)
    monkeypatch.setattr(okx, "_FAST_BOOK_FRAME", okx._BOOK_FRAME)
    assert with_kernel == _kernel_outcomes(instruments)


# -- live-session hooks ----------------------------------------------------------------------------


def test_connections_subscribe_every_channel_and_round_trip(instruments: list[Instrument]) -> None:
    venue = Okx(instruments)
    chosen = [venue.instruments[s] for s in ("BTC/USDT", "UNI/USD:UNI", "BTC/USD:BTC-220527")]
    (connection,) = open_live(venue, chosen)
    assert connection.url == URL
    assert connection.symbols == ("BTC/USDT", "UNI/USD:UNI", "BTC/USD:BTC-220527")
    args = [arg for f in connection.subscribe for arg in json.loads(f)["args"]]
    assert {"channel": "books", "instId": "BTC-USDT"} in args
    assert {"channel": "funding-rate", "instId": "UNI-USD-SWAP"} in args
    assert {"channel": "funding-rate", "instId": "BTC-USD-220527"} not in args  # dated: none
    assert {"channel": "mark-price", "instId": "BTC-USD-220527"} in args
    assert [a for a in args if a["channel"] == "liquidation-orders"] == [
        {"channel": "liquidation-orders", "instType": "SWAP"},
        {"channel": "liquidation-orders", "instType": "FUTURES"},
    ]
    assert len(args) == 3 + 6 + 5 + 2
    # what the session sent is what the connector expects data for, no more, no less
    assert venue.subscriptions == {(a["channel"], a.get("instId") or a["instType"]) for a in args}
    venue.on_sent(0, "ping", 0)  # the keep-alive ping subscribes nothing
    assert len(venue.subscriptions) == len(args)


def test_connections_keep_each_within_30_channels(instruments: list[Instrument]) -> None:
    venue = Okx(instruments)
    spot = [i for i in instruments if i.kind is InstrumentKind.SPOT][:25]
    swaps = [i for i in instruments if i.kind is InstrumentKind.INVERSE_PERPETUAL][:6]
    connections = open_live(venue, spot + swaps)
    counts = [sum(len(json.loads(f)["args"]) for f in c.subscribe) for c in connections]
    # 10 spot (3 channels each); 10; 5 spot + 2 swaps (6 each) + liquidations; 4 swaps
    assert counts == [30, 30, 15 + 2 * 6 + 1, 4 * 6]
    assert venue.limits.channels_per_connection == 30
    args = [a for c in connections for f in c.subscribe for a in json.loads(f)["args"]]
    assert all(
        len(json.loads(f)["args"]) <= ARGS_PER_FRAME for c in connections for f in c.subscribe
    )
    assert {a.get("instId") for a in args} - {None} == {i.venue_symbol for i in spot + swaps}
    # liquidations come per instrument type: one subscription, or each would come twice
    assert [a for a in args if a["channel"] == "liquidation-orders"] == [
        {"channel": "liquidation-orders", "instType": "SWAP"}
    ]
    symbols = [s for c in connections for s in c.symbols]
    assert symbols == [i.symbol for i in spot + swaps]  # every instrument on one connection
    many = [i for i in instruments if i.kind is InstrumentKind.SPOT][:60]
    batches = [json.loads(f) for c in venue.connections(many) for f in c.subscribe]
    assert all(b["op"] == "subscribe" and len(b["args"]) <= ARGS_PER_FRAME for b in batches)
    assert sum(len(b["args"]) for b in batches) == 180


def test_notice_asks_for_a_reconnection(instruments: list[Instrument]) -> None:
    venue = Okx(instruments)
    notice = (
        '{"event":"notice","code":"64008","msg":"The connection will soon be closed for a '
        'service upgrade. Please reconnect.","connId":"a4d3ae55"}'
    )
    assert send(venue, notice) == [] and venue.reconnect_requested
    assert venue.stats.reconnect_requests == 1
    assert venue.stats.control_frames == 1 and not venue.stats.errors


def test_resubscribe_keepalive_and_endpoints(instruments: list[Instrument]) -> None:
    endpoints = Endpoints("ws://127.0.0.1:9999", "http://127.0.0.1:9999")
    venue = Okx(instruments, endpoints=endpoints)
    btc = venue.instruments["BTC/USDT"]
    assert venue.connections([btc])[0].url == "ws://127.0.0.1:9999/ws/v5/public"
    unsubscribe, subscribe = (json.loads(f) for f in venue.resubscribe_frames(btc))
    assert unsubscribe == {
        "op": "unsubscribe",
        "args": [{"channel": "books", "instId": "BTC-USDT"}],
    }
    assert subscribe["op"] == "subscribe" and subscribe["args"] == unsubscribe["args"]
    assert venue.snapshot_url(btc) is None  # snapshots come on subscribe
    assert Okx.instruments_urls(Okx.default_endpoints) == [
        f"https://www.okx.com/api/v5/public/instruments?instType={t}"
        for t in ("SPOT", "SWAP", "FUTURES")
    ]
    assert venue.keepalive.ping_text == "ping" and venue.keepalive.stale_after_s == 30
    assert send(venue, "pong") == [] and venue.stats.control_frames == 1
    assert not venue.stats.errors


def test_unsubscribe_takes_effect_on_the_acknowledgement(instruments: list[Instrument]) -> None:
    venue = venue_with(instruments, {"channel": "trades", "instId": "BTC-USDT"})
    venue.on_sent(0, '{"op":"unsubscribe","args":[{"channel":"trades","instId":"BTC-USDT"}]}', 0)
    assert ("trades", "BTC-USDT") in venue.subscriptions  # data may still be on its way
    send(venue, '{"event":"unsubscribe","arg":{"channel":"trades","instId":"BTC-USDT"}}')
    assert ("trades", "BTC-USDT") not in venue.subscriptions


@given(st.integers(min_value=0, max_value=10**20), st.integers(min_value=0, max_value=12))
def test_checksum_number_text_is_the_minimal_decimal(value: int, decimals: int) -> None:
    assert _plain(value, decimals) == format_fixed(value, decimals, strip=True)


def test_negative_and_bad_funding_rates(instruments: list[Instrument]) -> None:
    venue = venue_with(instruments, {"channel": "funding-rate", "instId": "BTC-USD-SWAP"})
    frame = (
        '{"arg":{"channel":"funding-rate","instId":"BTC-USD-SWAP"},"data":[{"instId":'
        '"BTC-USD-SWAP","fundingRate":"RATE","fundingTime":"1700726400000","ts":"1700724675402"}]}'
    )
    (event,) = send(venue, frame.replace("RATE", "-0.00012"))
    assert isinstance(event, FundingRate) and event.rate == "-0.00012"
    assert send(venue, frame.replace("RATE", "1e-4")) == []
    assert dict(venue.stats.errors) == {"bad_value": 1}


def test_rounding_of_float_statistics_is_half_even() -> None:
    assert _rounded("2216113.01000000309", 2) == 221611301
    assert _rounded("0.125", 2) == 12 and _rounded("0.135", 2) == 14
    assert _rounded("7", 2) == 700


def test_registered() -> None:
    assert REGISTRY["okx"] is Okx
