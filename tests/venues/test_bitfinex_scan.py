"""orderscope._bitfinex.scan (C, src/orderscope/_bitfinex.c) against the connector's msgspec path.

scan() may only accept a frame that the msgspec path decodes to the same channel, sequence
number and levels (with no noisy amount); every other frame must give None. The C module is
loaded from its file here, so these run under ORDERSCOPE_PURE=1 too. The capture replays with
the scanner and without it to the same events and counters.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import msgspec
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from orderscope import _compiled
from orderscope.capture import group_captures, read_capture_file
from orderscope.fixed import NumberFormatError, parse_fixed_float
from orderscope.model import MarketEvent, Side
from orderscope.replay import load_venue
from orderscope.venues import bitfinex
from orderscope.venues.base import feed
from orderscope.venues.bitfinex import MS, Bitfinex
from orderscope.venues.bitfinex_wire import (
    _BOOK_SNAPSHOT,
    _BOOK_UPDATE,
    _HEARTBEAT,
    _TRADE_SNAPSHOT,
)
from tests.native_kernel import PACKAGE, load_native

SCALE = 10**8


@pytest.fixture(scope="module")
def kernel() -> ModuleType:
    return load_native("_bitfinex")


def reference(frame: str) -> tuple[object, ...] | None:
    """What the msgspec path makes of a frame as scan() reports it, or None if it refuses it
    or would keep a noisy amount (then scan() must refuse it too)."""
    venue = Bitfinex([])
    try:
        beat = _HEARTBEAT.decode(frame)
    except msgspec.DecodeError:
        pass
    else:
        return (beat.chan_id, beat.seq, 0, 0, None, None) if beat.tag == "hb" else None
    try:
        snapshot = _BOOK_SNAPSHOT.decode(frame)
    except msgspec.DecodeError:
        pass
    else:
        try:
            bids, asks, noisy = venue._levels(snapshot.levels)
        except NumberFormatError:
            return None
        assert not noisy
        return (snapshot.chan_id, snapshot.seq, 0, 2, bids, asks)
    try:
        update = _BOOK_UPDATE.decode(frame)
        bids, asks, noisy = venue._levels([update.level])
    except (msgspec.DecodeError, NumberFormatError):
        return None
    assert not noisy
    price, side = (bids[0][0], 0) if bids else (asks[0][0], 1)
    return (update.chan_id, update.seq, price, side, bids, asks)


DIGITS = st.text("0123456789", min_size=1, max_size=12)
NUMBER = st.one_of(
    DIGITS,
    st.builds(lambda a, b: f"{a}.{b}", DIGITS, st.text("0123456789", max_size=11)),
    st.builds(lambda a, b: f"{a}e{b}", DIGITS, st.integers(-10, 10)),
    st.decimals(min_value=0, max_value=10**9, places=8, allow_nan=False).map(str),
    st.floats(min_value=0, max_value=1e9, allow_nan=False, allow_infinity=False).map(repr),
    st.sampled_from(["0", "1", "-1", "1.0", "00", "0.", ".5", "1.00000000", "1e-7", " 1", "-0"]),
)
SEQ = st.one_of(st.just(""), DIGITS.map(lambda d: "," + d), st.sampled_from([",null", ",-1"]))


@st.composite
def level(draw: st.DrawFn) -> str:
    price = draw(NUMBER)
    count = draw(st.one_of(DIGITS, st.sampled_from(["-1", "1.5", "0"])))
    sign = draw(st.sampled_from(["", "-"]))
    return f"[{price},{count},{sign}{draw(NUMBER)}]"


@st.composite
def frames(draw: st.DrawFn) -> str:
    chan = draw(st.one_of(DIGITS, st.sampled_from(["-1", "1.5", '"x"'])))
    tail = draw(SEQ)
    if draw(st.integers(0, 5)) == 0:
        tag = draw(st.sampled_from(['"hb"', '"cs"', '"te"', '"hb" ', '"h"']))
        return f"[{chan},{tag}{tail}]"
    levels = [draw(level()) for _ in range(draw(st.integers(0, 4)))]
    if draw(st.booleans()) and levels:
        frame = f"[{chan},{levels[0]}{tail}]"
    else:  # a snapshot
        frame = f"[{chan},[{','.join(levels)}]{tail}]"
    cut = draw(st.integers(0, 12))  # sometimes a near-valid frame: one character changed
    if cut == 0:
        at = draw(st.integers(0, len(frame) - 1))
        frame = frame[:at] + draw(st.sampled_from(["", " ", ",", "]", "[", "0", "-"])) + frame[at:]
    elif cut == 1:
        frame += draw(st.sampled_from([",1]", " ", "x", ",2"]))
    return frame


@given(frames())
@example("[232955,[0.0010276,0,-1],100]")
@example("[225206,[279380,1,0.008902],110]")
@example("[204928,[2e-8,0,1],50]")
@example("[204928,[0.02099,1,-4856.5],108]")
@example("[1,[9999999.99999999,1,9999999.99999999],1]")
@example("[1,[10000000,1,1],1]")
@example("[1,[1.123456789,1,1]]")
@example("[1,[1.12345678,1,1.000000000]]")
@example("[1,[1,0,1.5]]")
@example("[1,[0,0,1]]")
@example("[1,[1,1,0]]")
@example("[1,[1,1,-0.0]]")
@example("[1,[01,1,1]]")
@example("[1,[1,01,1]]")
@example("[1,[1,1,1],01]")
@example("[1,[1,1,1],999999999999999999]")
@example("[1,[1.1e-7,10,1000000]]")
@example("[1,[1e-9,1,1]]")
@example("[1,[10e-9,1,1]]")
@example("[1,[1.0E+2,1,1.000000000]]")
@example("[1,[1e,1,1]]")
@example("[1,[1e-,1,1]]")
@example("[1,[1e1000,1,1]]")
@example("[1,[1,1,99999999.99999999]]")
@example("[1,[1,1,9999999.99999999]]")
@example("[1,[1,1,0.00000000000000000000000000000000000001e38]]")
@example("[1,[1,1,1],9999999999999999999]")
@example("[1,[]]")
@example("[1,[],5]")
@example("[1,[[1,1,1],[2,1,-1],[3,0,1],[4,0,-1]],5]")
@example("[1,[[1,1,1],[2,1,-1],[3,0,2]],5]")
@example("[1,[[1,1,1],[2,1,-1],]]")
@example("[1,[[1,1,1],[2,1,-1]]")
@example("[1,[[1,1,1] ,[2,1,-1]]]")
@example('[204928,"hb",127]')
@example('[204928,"hb"]')
@example('[204928,"hb",]')
@example("[1,[1,1,1]]]")
@example("[1,[1,1,1],]")
def test_scan_is_the_msgspec_path(kernel: ModuleType, frame: str) -> None:
    # scan() may leave any frame to the msgspec path, but what it takes it must read alike
    scanned = kernel.scan(frame)
    if scanned is not None:
        assert scanned == reference(frame)


@given(st.text(max_size=40))
def test_garbage(kernel: ModuleType, frame: str) -> None:
    scanned = kernel.scan(frame)
    if scanned is not None:
        assert scanned == reference(frame)


# -- book_update: the hot frame alone, its route found in the routes dict --------------------

ROUTE = object()  # what a connection's routes map a channel id to (a _Route in the connector)


def update_reference(kernel: ModuleType, frame: str, routes: dict[int, object]) -> object:
    """What book_update must return: scan()'s reading of a one-level update that has a sequence
    number, on a channel in routes, as (route, seq, bids, asks); None for anything else."""
    scanned = kernel.scan(frame)
    if scanned is None:
        return None
    chan_id, seq, _, side, bids, asks = scanned
    if bids is None or side not in (0, 1) or seq is None or chan_id not in routes:
        return None
    return (routes[chan_id], seq, bids, asks)


@given(frames(), st.booleans())
@example("[232955,[0.0010276,0,-1],100]", True)
@example("[232955,[0.0010276,0,-1]]", True)
@example("[232955,[[0.0010276,1,-1]],100]", True)
@example('[232955,"hb",100]', True)
@example("[232955,[0.0010276,0,-1],100]", False)
@example("[232955,[0.0010276,0,-1],100,]", True)
@example("[232955,[0.0010276,0,-1],01]", True)
def test_book_update_is_scan_on_a_routed_channel(
    kernel: ModuleType, frame: str, routed: bool
) -> None:
    # it takes exactly the plain one-level updates with a SEQ_ALL number of a routed channel,
    # and reads them as scan() (itself checked against the msgspec path above) does
    scanned = kernel.scan(frame)
    chan_id = scanned[0] if scanned is not None else 0
    routes = {chan_id: ROUTE} if routed else {chan_id + 1: ROUTE}
    assert kernel.book_update(frame, routes) == update_reference(kernel, frame, routes)


@given(st.text(max_size=40))
def test_book_update_garbage(kernel: ModuleType, frame: str) -> None:
    routes: dict[int, object] = {1: ROUTE, 232955: ROUTE}
    assert kernel.book_update(frame, routes) == update_reference(kernel, frame, routes)


def test_book_update_arguments(kernel: ModuleType) -> None:
    frame = "[7,[1,1,-1],5]"
    assert kernel.book_update(frame, {7: ROUTE}) == (ROUTE, 5, [], [(SCALE, SCALE)])
    assert kernel.book_update(frame, {}) is None
    assert kernel.book_update(frame.encode(), {7: ROUTE}) is None
    with pytest.raises(TypeError):
        kernel.book_update(frame, [ROUTE])
    with pytest.raises(TypeError):
        kernel.book_update(frame)

    class Key(int):  # an error raised by the dict lookup comes through
        def __eq__(self, other: object) -> bool:
            raise ValueError("no")

        __hash__ = int.__hash__

    with pytest.raises(ValueError, match="no"):
        kernel.book_update(frame, {Key(7): ROUTE})


def test_book_update_leaks_nothing(kernel: ModuleType) -> None:
    frames = ["[7,[0.0010272,1,-9.81304937],104]", "[8,[1,1,1],1]", "[7,[1,1,1]]"]
    routes: dict[int, object] = {7: ROUTE}
    assert retained(lambda frame: kernel.book_update(frame, routes), frames) < 64_000


PLAIN = st.builds(
    lambda whole, places, digits: (
        f"{whole}.{digits % 10**places:0{places}d}" if places else str(whole)
    ),
    st.integers(0, 10**7 - 1),
    st.integers(0, 8),
    st.integers(0, 10**8),
)


@given(
    st.integers(0, 10**18 - 1),
    PLAIN,
    st.integers(0, 10**6),
    st.sampled_from(["", "-"]),
    PLAIN,
    st.one_of(st.none(), st.integers(0, 10**18 - 1)),
)
def test_plain_updates_are_taken(
    kernel: ModuleType, chan: int, price: str, count: int, sign: str, amount: str, seq: int | None
) -> None:
    # the fast path is really used: every plain update with a valid level is scanned
    frame = f"[{chan},[{price},{count},{sign}{amount}]{'' if seq is None else f',{seq}'}]"
    expected = reference(frame)
    assert kernel.scan(frame) == expected
    valid = float(price) > 0 and float(amount) > 0 and (count > 0 or float(amount) == 1)
    assert (expected is not None) == valid


def test_only_exact_str(kernel: ModuleType) -> None:
    class Text(str):
        pass

    frame = "[1,[1,1,1],1]"
    assert kernel.scan(frame) == (1, 1, SCALE, 0, [(SCALE, SCALE)], [])
    assert kernel.scan(frame.encode()) is None
    assert kernel.scan(Text(frame)) is None
    assert kernel.scan("[1,[1,1,1],1]\N{EM DASH}") is None
    assert kernel.scan(None) is None


@given(
    st.integers(0, 10**7 - 1),
    st.integers(0, 8).flatmap(lambda d: st.tuples(st.just(d), st.integers(0, 10**d - 1))),
)
def test_a_plain_decimal_is_exact_and_never_noisy(whole: int, fraction: tuple[int, int]) -> None:
    # the claim scan() rests on: below 10**15 units, with at most 8 decimals, the float of the
    # text gives back its exact value, and that value's float is the float itself
    places, digits = fraction
    text = f"{whole}.{digits:0{places}d}" if places else str(whole)
    value = msgspec.json.decode(text, type=float)
    scaled = whole * SCALE + digits * 10 ** (8 - places)
    assert parse_fixed_float(value, 8) == scaled
    assert scaled / SCALE == value


def retained(call: Callable[[str], object], frames: list[str]) -> int:
    """Bytes still allocated from this file's lines after 20,000 calls on each frame: a leaked
    reference per call would keep its tuple, list or int alive, MBs over 60k calls (other
    threads' allocations are not counted)."""
    here = [tracemalloc.Filter(True, __file__)]
    tracemalloc.start()
    try:
        for frame in frames * 1000:  # warm up (the small-int and free lists)
            call(frame)
        before = tracemalloc.take_snapshot().filter_traces(here)
        for frame in frames * 20_000:
            call(frame)
        after = tracemalloc.take_snapshot().filter_traces(here)
    finally:
        tracemalloc.stop()
    return sum(stat.size_diff for stat in after.compare_to(before, "filename"))


def test_scan_leaks_nothing(kernel: ModuleType) -> None:
    frames = ["[232955,[0.0010272,1,-9.81304937],104]", '[204928,"hb"]', "[1,[1,1,1],x]"]
    assert retained(kernel.scan, frames) < 64_000


def trades_reference(frame: str) -> tuple[object, ...] | None:
    """What _on_trades makes of a trade snapshot, as scan_trades reports it, or None."""
    try:
        snapshot = _TRADE_SNAPSHOT.decode(frame)
        trades = [Bitfinex([])._trade(row, "X", 0) for row in snapshot.trades]
    except (msgspec.DecodeError, NumberFormatError):
        return None
    rows = [
        (int(t.trade_id), t.exch_ns // MS, t.price, t.size, int(t.side is Side.BUY)) for t in trades
    ]
    return (snapshot.seq, rows)


@st.composite
def trade_frames(draw: st.DrawFn) -> str:
    rows = [
        f"[{draw(DIGITS)},{draw(DIGITS)},{draw(st.sampled_from(['', '-']))}{draw(NUMBER)},"
        f"{draw(NUMBER)}]"
        for _ in range(draw(st.integers(0, 3)))
    ]
    frame = f"[{draw(DIGITS)},[{','.join(rows)}]{draw(SEQ)}]"
    if draw(st.integers(0, 5)) == 0:
        at = draw(st.integers(0, len(frame) - 1))
        frame = frame[:at] + draw(st.sampled_from(["", " ", ",", "]", "[", "0", "-"])) + frame[at:]
    return frame


@given(trade_frames())
@example("[1,[]]")
@example("[1,[[670155031,1618677442819,-0.00023057,60410],[670154,1,2,3]],5]")
@example("[1,[[1,1,0,1]]]")
@example("[1,[[1,1,1,0]]]")
@example("[1,[[1,-1,1,1]]]")
@example("[1,[[1,1,1,1,1]]]")
@example("[1,[[1,1,1]]]")
def test_scan_trades_is_the_msgspec_path(kernel: ModuleType, frame: str) -> None:
    scanned = kernel.scan_trades(frame)
    if scanned is not None:
        assert scanned == trades_reference(frame)


@given(trade_frames())
@example("[1,[]]")
@example("[1,[],7]")
@example("[1,[[670155031,1618677442819,-0.00023057,60410],[670154,1,2,3]],5]")
@example("[1,[[3,1,1,1],[9,1,1,1],[9,2,-1,1],[4,1,1,1]],5]")
@example("[1,[[1,1,0,1]]]")
@example("[1,[[1,1,1]]]")
def test_trade_ids_is_scan_trades_newest_id(kernel: ModuleType, frame: str) -> None:
    # the same frames taken, the same rows checked: only the greatest id kept
    scanned = kernel.scan_trades(frame)
    expected = None
    if scanned is not None:
        seq, rows = scanned
        expected = (seq, max(row[0] for row in rows) if rows else None)
    assert kernel.trade_ids(frame) == expected


def test_trade_ids_leaks_nothing(kernel: ModuleType) -> None:
    frames = ["[1,[[670155031,1618677442819,-0.00023057,60410],[670154,1,2,3]],5]", "[1,[]]"]
    frames.append("[1,[[1,1,0,1]]]")
    assert retained(kernel.trade_ids, frames) < 64_000


def test_scan_trades_takes_the_capture_snapshots(captures: Path, kernel: ModuleType) -> None:
    texts = [r.payload for r in read_capture_file(captures / "BITFINEX.ws.11.0")]
    snapshots = [t for t in texts if isinstance(t, str) and kernel.scan_trades(t)]
    assert len(snapshots) == 7  # the 7 trade snapshots (210 rows); book levels have 3 fields
    for text in snapshots:
        assert kernel.scan_trades(text) == trades_reference(text)


def test_book_update_finds_routes_whatever_int_objects_key_them(kernel: ModuleType) -> None:
    """book_update remembers the routes dict's own key object per channel id (a lookup by
    identity): a channel keyed by another equal int, one sharing its slot, one gone, or another
    dict all still give what the dict holds."""

    def route(chan: int, routes: dict[int, str]) -> str | None:
        hit = kernel.book_update(f"[{chan},[9000,1,0.5],7]", routes)
        return None if hit is None else hit[0]

    first, second = int("232955"), int("232955") + 64  # new int objects, one cache slot
    routes = {first: "first", second: "second"}
    for _ in range(2):
        assert route(232955, routes) == "first" and route(232955 + 64, routes) == "second"
    del routes[first]
    routes[int("232955")] = "keyed again"  # an equal int, not the object remembered
    assert route(232955, routes) == "keyed again"
    assert route(232955, {int("232955"): "another dict"}) == "another dict"
    del routes[232955]
    assert route(232955, routes) is None and route(232955 + 64, routes) == "second"


# -- the connector with and without the scanner -----------------------------------------------


def _replay(
    path: Path,
    scan: object,
    scan_trades: object,
    book_update: object,
    monkeypatch: pytest.MonkeyPatch,
    trade_ids: object = None,
) -> tuple[object, ...]:
    monkeypatch.setattr(bitfinex, "SCAN", scan)
    monkeypatch.setattr(bitfinex, "SCAN_TRADES", scan_trades)
    monkeypatch.setattr(bitfinex, "BOOK_UPDATE", book_update)
    monkeypatch.setattr(bitfinex, "TRADE_IDS", trade_ids)
    venue = load_venue(group_captures([path])[0])
    assert isinstance(venue, Bitfinex)
    out: list[MarketEvent] = []
    for record in read_capture_file(path):
        feed(venue, record, out)
    books = {s: (b.bids(), b.asks(), b.counters, b.state) for s, b in venue.books.items()}
    return (
        msgspec.json.encode(out),
        books,
        venue.stats,
        venue.sequenced_frames,
        venue.symbol_frames,
        venue._noisy,
    )


def test_the_capture_replays_the_same_with_the_scanner(
    captures: Path, kernel: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = captures / "BITFINEX.ws.11.0"
    taken: list[bool] = []

    def book_update(frame: str, routes: dict[int, object]) -> object:
        hit = kernel.book_update(frame, routes)
        taken.append(hit is not None)
        return hit

    histories: list[bool] = []

    def trade_ids(frame: str) -> object:
        head = kernel.trade_ids(frame)
        histories.append(head is not None)
        return head

    fast = _replay(
        path, kernel.scan, kernel.scan_trades, book_update, monkeypatch, trade_ids=trade_ids
    )
    assert histories == [True] * 7  # the 7 trade snapshots, each a first subscription's
    # every book update but each book channel's first (which routes it) and the updates of
    # channels not routed then: the one-call path is the one that runs
    assert sum(taken) == 1578
    scan_only = _replay(path, kernel.scan, kernel.scan_trades, None, monkeypatch)
    slow = _replay(path, None, None, None, monkeypatch)
    assert fast == scan_only == slow
    assert fast[3] == 1670  # every message in sequence
    scanned = [
        r for r in read_capture_file(path) if isinstance(r.payload, str) and kernel.scan(r.payload)
    ]
    # every heartbeat, book update and book snapshot (exponents included: 1.1e-7, 2e-8)
    assert len(scanned) == 42 + 1593 + 7


def test_frames_counted_on_routes_reach_symbol_frames(
    captures: Path, kernel: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The one-call path counts a symbol's frames on its channel's route: they are in
    symbol_frames when it is read, and kept when a subscription change or a reconnection drops
    the routes, as the general path (which counts them in the dict) has them."""
    path = captures / "BITFINEX.ws.11.0"
    records = list(read_capture_file(path))

    def counts(scan: object, book_update: object) -> list[dict[str, int]]:
        monkeypatch.setattr(bitfinex, "SCAN", scan)  # which routes a book channel
        monkeypatch.setattr(bitfinex, "BOOK_UPDATE", book_update)
        venue = load_venue(group_captures([path])[0])
        out: list[MarketEvent] = []
        seen: list[dict[str, int]] = []
        for i, record in enumerate(records):
            feed(venue, record, out)
            if i == len(records) // 4:
                seen.append(dict(venue.symbol_frames))  # read while the routes count
            elif i == len(records) // 2:
                venue.subscriptions.add(("book", "tNOTUSD"))  # the routes are dropped
                seen.append(dict(venue.symbol_frames))
            elif i == 3 * len(records) // 4:
                venue.on_open(record.conn, "wss://api-pub.bitfinex.com/ws/2", record.recv_ns)
        return [*seen, dict(venue.symbol_frames)]

    fast = counts(kernel.scan, kernel.book_update)
    assert fast == counts(None, None)
    totals = [sum(frames.values()) for frames in fast]
    assert totals[0] > 300 and totals[1] > totals[0] + 300 and totals[2] > totals[1] + 300


# -- which path a process runs ------------------------------------------------------------------


def _scan_module(env: dict[str, str]) -> str:
    code = (
        "from orderscope.venues import bitfinex\n"
        "print(bitfinex.SCAN and bitfinex.SCAN.__module__)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    return out.stdout.strip()


def test_the_compiled_build_runs_the_c_scanner() -> None:
    env = {k: v for k, v in os.environ.items() if k != _compiled.PURE_ENV}
    if not any(PACKAGE.glob("book.*.so")):
        pytest.skip("a pure-Python build (ORDERSCOPE_PURE_BUILD=1)")
    assert _scan_module(env) == "orderscope._bitfinex"


def test_orderscope_pure_runs_the_msgspec_path() -> None:
    assert _scan_module({**os.environ, _compiled.PURE_ENV: "1"}) == "None"
