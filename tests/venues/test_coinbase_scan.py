"""orderscope._coinbase (C, src/orderscope/_coinbase.c) against the connector's reference path.

``scan_l2update`` must return exactly what msgspec decoding, ``parse_fixed`` and
``parse_iso8601_ns`` make of an ``l2update`` frame, or None (the connector then runs that path
itself). The C module is loaded from its file, so these tests also run under ORDERSCOPE_PURE=1,
against the pure-Python reference.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType

import msgspec
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from orderscope.bench.ours import load_capture
from orderscope.capture import CaptureRecord, group_captures
from orderscope.fixed import NumberFormatError, parse_fixed
from orderscope.model import MarketEvent
from orderscope.venues import coinbase
from orderscope.venues.base import feed
from orderscope.venues.coinbase import TimeFormatError, parse_iso8601_ns
from orderscope.venues.coinbase_wire import _EXCHANGE_MESSAGE, _L2Update, _Snapshot
from tests.native_kernel import (
    digits,
    errors_either_way,
    leaked_blocks,
    load_native,
    number,
    scanner_modules,
)
from tests.venues.venue_testing import respaced

Scanned = tuple[str, list[tuple[int, int]], list[tuple[int, int]], int]


def _load_kernel() -> ModuleType:
    return load_native("_coinbase")


@pytest.fixture(scope="module")
def kernel() -> ModuleType:
    return _load_kernel()


DECIMALS = {"BTC-USD": (8, 8), "SKL-BTC": (8, 8), "X": (2, 0), "WIDE": (19, 19)}


def reference(frame: str | bytes, decimals: dict[str, tuple[int, int]]) -> Scanned | None:
    """The connector's own reading of an l2update frame; None if it is not one, or is bad."""
    try:
        msg = _EXCHANGE_MESSAGE.decode(frame)
    except msgspec.DecodeError:
        return None
    if type(msg) is not _L2Update or msg.product_id not in decimals:
        return None
    pd, sd = decimals[msg.product_id]
    bids, asks = [], []
    try:
        for side, price, size in msg.changes:
            level = (parse_fixed(price, pd), parse_fixed(size, sd))
            (bids if side == "buy" else asks).append(level)
        time_ns = parse_iso8601_ns(msg.time) if msg.time else 0
    except (NumberFormatError, TimeFormatError):
        return None
    return msg.product_id, bids, asks, time_ns


def reference_snapshot(frame: str | bytes, decimals: dict[str, tuple[int, int]]) -> Scanned | None:
    """The connector's own reading of a snapshot frame; None if it is not one, or is bad."""
    try:
        msg = _EXCHANGE_MESSAGE.decode(frame)
    except msgspec.DecodeError:
        return None
    if type(msg) is not _Snapshot or msg.product_id not in decimals:
        return None
    pd, sd = decimals[msg.product_id]
    try:
        bids = [(parse_fixed(p, pd), parse_fixed(q, sd)) for p, q in msg.bids]
        asks = [(parse_fixed(p, pd), parse_fixed(q, sd)) for p, q in msg.asks]
        time_ns = parse_iso8601_ns(msg.time) if msg.time else 0
    except (NumberFormatError, TimeFormatError):
        return None
    return msg.product_id, bids, asks, time_ns


def agrees(kernel: ModuleType, frame: str | bytes) -> Scanned | None:
    """The scanner's result, checked: None, or the reference's."""
    got: Scanned | None = kernel.scan_l2update(frame, DECIMALS)
    if got is not None:
        assert got == reference(frame, DECIMALS)
        assert all(type(v) is int for side in got[1:3] for level in side for v in level)
    return got


# -- frames -------------------------------------------------------------------------------------


@st.composite
def timestamp(draw: st.DrawFn) -> str:
    moment = draw(st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31)))
    fraction = draw(st.text("0123456789", min_size=0, max_size=10))
    text = moment.replace(microsecond=0).isoformat() + (f".{fraction}" if fraction else "") + "Z"
    if draw(st.integers(0, 7)) == 0:  # a broken one: a field out of range, a wrong separator
        i = draw(st.integers(0, len(text) - 1))
        text = text[:i] + draw(st.sampled_from("09:-.TZ x")) + text[i + 1 :]
    return text


change = st.tuples(st.sampled_from(["buy", "sell", "bid", "Buy"]), number(), number())


@st.composite
def l2update_frame(draw: st.DrawFn) -> str:
    """An l2update as the venue writes it (compact, keys in order), now and then bent."""
    product = draw(st.sampled_from([*DECIMALS, "ETH-USD", "", "B\u00e9", 'A"B', "A\\u0042"]))
    changes = draw(st.lists(change, max_size=4))
    fields = {
        "type": draw(st.sampled_from(["l2update", "l2update", "snapshot", "L2update"])),
        "product_id": product,
        "changes": [list(c) for c in changes],
        "time": draw(timestamp()),
    }
    if draw(st.integers(0, 5)) == 0:  # another key order, or one more key
        keys = draw(st.permutations(list(fields)))
        fields = {k: fields[k] for k in keys}
        if draw(st.booleans()):
            fields["sequence"] = 1
    text = msgspec.json.encode(fields).decode()
    if draw(st.integers(0, 5)) == 0:  # whitespace, an escape, a cut, trailing bytes
        i = draw(st.integers(0, len(text)))
        text = text[:i] + draw(st.sampled_from([" ", "\\u0030", "", "\n", "}", '"'])) + text[i:]
    return text


SMALL = (
    '{"type":"l2update","product_id":"X","changes":[["buy","1.5","2"]],'
    '"time":"2021-04-17T16:43:37.075687Z"}'
)


@given(l2update_frame(), st.booleans())
@example(SMALL, False)
@example(SMALL, True)
def test_scanner_is_the_reference_or_none(kernel: ModuleType, frame: str, as_bytes: bool) -> None:
    agrees(kernel, frame.encode() if as_bytes else frame)


@given(
    st.sampled_from(["BTC-USD", "SKL-BTC", "X"]),  # WIDE: 19 decimals leave no room in int64
    st.lists(st.tuples(st.sampled_from(["buy", "sell"]), digits, digits), min_size=1, max_size=5),
    st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2200, 12, 31)),
    st.text("0123456789", min_size=1, max_size=9),
)
def test_usual_frames_take_the_fast_path(
    kernel: ModuleType,
    product: str,
    changes: list[tuple[str, str, str]],
    moment: datetime,
    fraction: str,
) -> None:
    # prices/sizes of a few digits with a '.' placed within the product's decimals
    pd, sd = DECIMALS[product]
    levels = [[s, _within(p, pd), _within(q, sd)] for s, p, q in changes]
    time = moment.replace(microsecond=0).isoformat() + f".{fraction}Z"
    fields = {"type": "l2update", "product_id": product, "changes": levels, "time": time}
    frame = msgspec.json.encode(fields).decode()
    got = agrees(kernel, frame)
    assert got is not None
    assert got[3] == (moment.replace(microsecond=0, tzinfo=UTC) - EPOCH) // timedelta(
        microseconds=1
    ) * 1000 + int(fraction.ljust(9, "0"))


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _within(text: str, decimals: int) -> str:
    """``text`` as a decimal of at most ``decimals`` fractional digits, within int64 scaled."""
    text = text[:4]
    return f"{text[:2]}.{text[2 : 2 + decimals]}" if decimals and len(text) > 2 else text


GOOD = (
    '{"type":"l2update","product_id":"BTC-USD","changes":[["buy","10101.8","0.16"],'
    '["sell","10102.01","0"]],"time":"2021-04-17T16:43:37.075687Z"}'
)


def test_a_usual_frame(kernel: ModuleType) -> None:
    assert kernel.scan_l2update(GOOD, DECIMALS) == (
        "BTC-USD",
        [(1_010_180_000_000, 16_000_000)],
        [(1_010_201_000_000, 0)],
        1_618_677_817_075_687_000,
    )


def test_a_key_in_place_of_the_product(kernel: ModuleType) -> None:
    # (pd, sd, key): the key is returned for the product id (the connector's route record)
    key = object()
    keyed = {"BTC-USD": (8, 8, key)}
    before = sys.getrefcount(key)
    scanned = kernel.scan_l2update(GOOD, keyed)
    assert scanned is not None and scanned[0] is key
    assert scanned[1:] == kernel.scan_l2update(GOOD, DECIMALS)[1:]
    del scanned
    for _ in range(1_000):
        kernel.scan_l2update(GOOD, keyed)
        kernel.scan_l2update(GOOD.replace("0.16", "0.1x"), keyed)  # falls back: None
    assert sys.getrefcount(key) == before
    snapshot = kernel.scan_snapshot(SNAPSHOT, {"X": (2, 0, "the key")})
    assert snapshot == ("the key", [(140, 1)], [(150, 2), (160, 30)], 0)
    assert kernel.scan_l2update(GOOD, {"BTC-USD": (8, 8, key, key)}) is None
    assert kernel.scan_l2update(GOOD, {"BTC-USD": (8,)}) is None


@pytest.mark.parametrize(
    "frame",
    [
        GOOD.replace("BTC-USD", "ETH-USD"),  # not in decimals
        GOOD.replace(":", ": ", 1),
        GOOD + " ",
        GOOD.replace("10101.8", "10101.8e0"),
        GOOD.replace("10101.8", "-10101.8"),
        GOOD.replace("0.16", "0.000000001"),  # finer than 8 decimals
        GOOD.replace("10101.8", "99999999999.1"),  # beyond int64 at 8 decimals
        GOOD.replace('"buy"', '"bid"'),
        GOOD.replace("T16", " 16"),
        GOOD.replace("16:43", "24:43"),
        GOOD.replace("04-17", "02-30"),
        GOOD.replace(".075687Z", "Z"),  # whole seconds: left to the reference
        GOOD.replace(".075687Z", ".0756871234Z"),
        GOOD.replace("2021", "1899"),
        GOOD.replace(
            '"changes":[["buy","10101.8","0.16"],["sell","10102.01","0"]]', '"changes":[]'
        ),
        GOOD.replace("BTC-USD", "BTC\\u002dUSD"),
        GOOD[:-1],
        GOOD.replace("l2update", "snapshot"),
        "",
        "{",
        b"\xff" + GOOD.encode(),
        GOOD.replace("BTC-USD", "BTC-\u00e9"),
    ],
)
def test_other_frames_are_left_to_the_reference(kernel: ModuleType, frame: str | bytes) -> None:
    assert kernel.scan_l2update(frame, DECIMALS) is None


def test_leap_days_and_bounds(kernel: ModuleType) -> None:
    for time in ("2020-02-29T00:00:00.1Z", "2000-02-29T23:59:59.999999999Z", "2200-12-31T0:0"):
        agrees(kernel, GOOD.replace("2021-04-17T16:43:37.075687Z", time))
    assert kernel.scan_l2update(GOOD.replace("2021-04-17", "2100-02-29"), DECIMALS) is None
    assert kernel.scan_l2update(GOOD.replace("2021-04-17", "2000-02-29"), DECIMALS) is not None


def test_bad_arguments(kernel: ModuleType) -> None:
    with pytest.raises(TypeError):
        kernel.scan_l2update(GOOD)
    with pytest.raises(TypeError):
        kernel.scan_l2update(GOOD, [])
    assert kernel.scan_l2update(1, DECIMALS) is None
    assert kernel.scan_l2update(GOOD, {"BTC-USD": (8, 20)}) is None
    assert kernel.scan_l2update(GOOD, {"BTC-USD": [8, 8]}) is None
    with pytest.raises(TypeError):
        kernel.scan_l2update(GOOD, {"BTC-USD": ("8", 8)})


def test_no_reference_leaks(kernel: ModuleType) -> None:
    frames = [GOOD, GOOD.replace("BTC-USD", "SKL-BTC"), GOOD.replace("0.16", "0.1x"), "{"]
    assert leaked_blocks(lambda: [kernel.scan_l2update(f, DECIMALS) for f in frames]) < 500


@st.composite
def snapshot_frame(draw: st.DrawFn) -> str:
    """A snapshot as the venue writes it (asks then bids, a time or not), now and then bent."""
    level = st.lists(st.tuples(number(), number()).map(list), max_size=4)
    fields: dict[str, object] = {
        "type": draw(st.sampled_from(["snapshot", "snapshot", "l2update"])),
        "product_id": draw(st.sampled_from([*DECIMALS, "ETH-USD", "", 'A"B'])),
        "asks": draw(level),
        "bids": draw(level),
    }
    if draw(st.booleans()):
        fields["time"] = draw(timestamp())
    if draw(st.integers(0, 5)) == 0:
        keys = draw(st.permutations(list(fields)))
        fields = {k: fields[k] for k in keys}
    text = msgspec.json.encode(fields).decode()
    if draw(st.integers(0, 5)) == 0:
        i = draw(st.integers(0, len(text)))
        text = text[:i] + draw(st.sampled_from([" ", "\\u0030", "]", "\n", "}", '"'])) + text[i:]
    return text


@given(snapshot_frame(), st.booleans())
def test_snapshot_scanner_is_the_reference_or_none(
    kernel: ModuleType, frame: str, as_bytes: bool
) -> None:
    data = frame.encode() if as_bytes else frame
    got = kernel.scan_snapshot(data, DECIMALS)
    if got is not None:
        assert got == reference_snapshot(data, DECIMALS)


SNAPSHOT = (
    '{"type":"snapshot","product_id":"X","asks":[["1.5","2"],["1.6","30"]],"bids":[["1.4","1"]]}'
)


def test_usual_snapshots(kernel: ModuleType) -> None:
    assert kernel.scan_snapshot(SNAPSHOT, DECIMALS) == ("X", [(140, 1)], [(150, 2), (160, 30)], 0)
    stamped = SNAPSHOT[:-1] + ',"time":"2021-04-17T16:43:37.075687Z"}'
    assert kernel.scan_snapshot(stamped, DECIMALS) == (
        "X",
        [(140, 1)],
        [(150, 2), (160, 30)],
        1_618_677_817_075_687_000,
    )
    empty = '{"type":"snapshot","product_id":"X","asks":[],"bids":[]}'
    assert kernel.scan_snapshot(empty, DECIMALS) == reference_snapshot(empty, DECIMALS)
    for bent in (
        SNAPSHOT.replace("1.5", "1.555"),  # finer than X's 2 decimals
        SNAPSHOT.replace('"2"', '"2.5"'),  # sizes of X have 0 decimals
        SNAPSHOT.replace('"asks"', '"bids"', 1),
        SNAPSHOT[:-1] + ',"time":""}',
        SNAPSHOT + "\n",
        SNAPSHOT.replace('["1.4","1"]', '["1.4","1",3]'),
    ):
        assert kernel.scan_snapshot(bent, DECIMALS) is None, bent


# -- the connector: the fast path and the msgspec path give the same events and errors ----------


#: Frames the scanner leaves to the reference, put among the capture's usual ones.
BENDS = (
    ('"changes":[', '"changes":[["buy","1.5x","1"],'),  # BadValue
    ('Z"}', 'Q"}'),  # a bad time: BadValue
    ('"product_id":"', '"product_id":"NOPE'),  # UnknownSymbol
    ('["sell","', '["sell","0.000000001","1"],["sell","'),  # finer than the decimals
    ('"asks":[["', '"asks":[["-'),  # a bad snapshot
)


def test_capture_frames_give_the_same_events_either_way(captures: Path) -> None:
    [loaded] = [load_capture(c) for c in group_captures([captures]) if c.prefix == "COINBASE"]
    records = list(loaded.records[:4_000])
    updates = [i for i, r in enumerate(records) if "l2update" in str(r.payload)]
    snapshots = [i for i, r in enumerate(records) if '"snapshot"' in str(r.payload)]
    where = [updates[100 + 50 * n] for n in range(len(BENDS) - 1)] + [snapshots[-1]]
    bends = [(at, old, new) for at, (old, new) in zip(where, BENDS, strict=True)]
    errors = errors_either_way(loaded, records, bends, respaced)
    assert sorted(errors) == ["BadValue"] * 4 + ["UnknownSymbol"]


def test_frames_counted_on_routes_reach_symbol_frames(
    captures: Path, kernel: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The scanner's path counts a product's frames on its route: they are in symbol_frames
    when it is read, and kept when a subscription change drops the routes, as the msgspec
    path (the frames respaced) counts them in the dict."""
    # the scanner in a pure run too (compiled, the module's own; a Final is not patched there)
    monkeypatch.setattr(coinbase, "_SCAN", kernel.scan_l2update)
    [loaded] = [load_capture(c) for c in group_captures([captures]) if c.prefix == "COINBASE"]
    records = list(loaded.records[:3_000])

    def counts(records: list[CaptureRecord]) -> list[dict[str, int]]:
        venue = loaded.new_venue()
        out: list[MarketEvent] = []
        seen: list[dict[str, int]] = []
        for i, record in enumerate(records):
            feed(venue, record, out)
            out.clear()
            if i == 1_000:
                seen.append(dict(venue.symbol_frames))  # read while the routes count
            elif i == 2_000:
                venue.subscriptions.add(("level2", "NOPE-USD"))  # the routes are dropped
                seen.append(dict(venue.symbol_frames))
        return [*seen, dict(venue.symbol_frames)]

    fast = counts(records)
    assert fast == counts([respaced(r) for r in records])
    totals = [sum(frames.values()) for frames in fast]
    assert totals[0] > 900 and totals[1] > totals[0] + 900 and totals[2] > totals[1] + 900


def test_the_compiled_build_runs_the_scanner() -> None:
    assert (
        scanner_modules("coinbase", ["_SCAN", "_SCAN_SNAPSHOT"])
        == "orderscope._coinbase orderscope._coinbase"
    )


def test_orderscope_pure_runs_the_msgspec_path() -> None:
    assert scanner_modules("coinbase", ["_SCAN", "_SCAN_SNAPSHOT"], pure=True) == "None None"
