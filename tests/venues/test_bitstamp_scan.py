"""orderscope._bitstamp (C, src/orderscope/_bitstamp.c) against the connector's reference path.

``scan_diff`` must return exactly what msgspec decoding, ``parse_fixed`` and the microtimestamp
check make of a ``diff_order_book`` frame, and ``scan_book`` of a REST order book body, or None
(the connector then runs that path itself). The C module is loaded from its file, so these
tests also run under ORDERSCOPE_PURE=1, against the pure-Python reference.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import ModuleType

import msgspec
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from orderscope.bench.ours import load_capture
from orderscope.capture import CaptureRecord, RecordKind, group_captures
from orderscope.fixed import NumberFormatError, parse_fixed
from orderscope.venues.bitstamp_wire import _DIFF, _ENVELOPE
from tests.native_kernel import (
    digits,
    errors_either_way,
    leaked_blocks,
    load_native,
    number,
    scanner_modules,
)

DECIMALS = {"btcusd": (2, 8), "x": (0, 0), "wide": (19, 19)}


@pytest.fixture(scope="module")
def kernel() -> ModuleType:
    return load_native("_bitstamp")


def _levels(data: msgspec.Raw | str, pd: int, sd: int) -> tuple[object, ...] | None:
    """The connector's typed reading of a diff's data or a REST body; None if it is bad."""
    try:
        msg = _DIFF.decode(data)
        bids = [(parse_fixed(p, pd), parse_fixed(q, sd)) for p, q in msg.bids]
        asks = [(parse_fixed(p, pd), parse_fixed(q, sd)) for p, q in msg.asks]
    except (msgspec.DecodeError, NumberFormatError):
        return None
    stamp = msg.microtimestamp
    if not (stamp.isdigit() and stamp.isascii()):
        return None
    return int(stamp), bids, asks


def reference(frame: str | bytes) -> tuple[object, ...] | None:
    try:
        env = _ENVELOPE.decode(frame)
    except msgspec.DecodeError:
        return None
    channel, _, pair = env.channel.rpartition("_")
    if env.event != "data" or channel != "diff_order_book" or pair not in DECIMALS:
        return None
    got = _levels(env.data, *DECIMALS[pair])
    return None if got is None else (pair, *got)


levels = st.lists(st.tuples(number(), number()).map(list), max_size=4)
stamp = st.one_of(digits, st.sampled_from(["", "12a", "-1", "\u0663", "1" * 19, "0" * 18]))


@st.composite
def data(draw: st.DrawFn) -> dict[str, object]:
    fields: dict[str, object] = {
        "timestamp": draw(st.sampled_from(["1641343691", "", 'a"b'])),
        "microtimestamp": draw(stamp),
        "bids": draw(levels),
        "asks": draw(levels),
    }
    keys = draw(st.permutations(list(fields))) if draw(st.booleans()) else list(fields)
    if draw(st.integers(0, 5)) == 0:
        keys = keys[1:]
    return {k: fields[k] for k in keys}


def _bent(draw: st.DrawFn, text: str) -> str:
    if draw(st.integers(0, 5)) == 0:  # whitespace, an escape, a cut, trailing bytes
        i = draw(st.integers(0, len(text)))
        text = text[:i] + draw(st.sampled_from([" ", "\\u0030", "", "}", '"', "]", "_"])) + text[i:]
    return text


@st.composite
def frame(draw: st.DrawFn) -> str:
    pair = draw(st.sampled_from([*DECIMALS, "ethusd", "", "a_b"]))
    fields = {
        "data": draw(data()),
        "channel": draw(st.sampled_from(["diff_order_book_", "live_trades_", "diff_"])) + pair,
        "event": draw(st.sampled_from(["data", "data", "trade"])),
    }
    if draw(st.integers(0, 5)) == 0:
        keys = draw(st.permutations(list(fields)))
        fields = {k: fields[k] for k in keys}
    return _bent(draw, msgspec.json.encode(fields).decode())


DIFF = (
    '{"data":{"timestamp":"1641343691","microtimestamp":"1641343691244908",'
    '"bids":[["1.15","993.02588113"],["1.14","7758"]],"asks":[["1.16","1200.00000000"]]},'
    '"channel":"diff_order_book_btcusd","event":"data"}'
)


@given(frame(), st.booleans())
@example(DIFF, False)
def test_diff_scanner_is_the_reference_or_none(
    kernel: ModuleType, text: str, as_bytes: bool
) -> None:
    data = text.encode() if as_bytes else text
    got = kernel.scan_diff(data, DECIMALS)
    if got is not None:
        assert got == reference(data)


def test_a_usual_diff(kernel: ModuleType) -> None:
    assert kernel.scan_diff(DIFF, DECIMALS) == (
        "btcusd",
        1641343691244908,
        [(115, 99_302_588_113), (114, 775_800_000_000)],
        [(116, 120_000_000_000)],
    )
    for bent in (
        DIFF.replace("btcusd", "ethusd"),
        DIFF.replace("btcusd", "x_btcusd"),
        DIFF.replace("diff_order_book", "diff_order_bool"),
        DIFF.replace('"event":"data"', '"event":"trade"'),
        DIFF.replace("1641343691244908", "1641343691244908123"),  # 19 digits: the reference's
        DIFF.replace("1641343691244908", "1641343691.44908"),
        DIFF.replace('"bids"', '"asks"'),
        DIFF.replace("1.15", "1.155"),
        DIFF.replace(':"1641343691",', ':"1641343691" ,'),
        DIFF.replace("]]},", "]]}, "),
        DIFF + " ",
        DIFF.replace('"data":{', '"data":{"x":1,'),
    ):
        assert kernel.scan_diff(bent, DECIMALS) is None, bent


@st.composite
def book(draw: st.DrawFn) -> str:
    text = msgspec.json.encode(draw(data())).decode()
    if draw(st.booleans()):  # as the venue writes it: json.dumps' spaces
        text = json.dumps(json.loads(text))
    return _bent(draw, text)


@given(book(), st.sampled_from(list(DECIMALS.values())), st.booleans())
def test_book_scanner_is_the_reference_or_none(
    kernel: ModuleType, body: str, decimals: tuple[int, int], as_bytes: bool
) -> None:
    data = body.encode() if as_bytes else body
    got = kernel.scan_book(data, *decimals)
    if got is not None:
        assert got == _levels(data, *decimals)


BOOK = (
    '{"timestamp": "1641343695", "microtimestamp": "1641343695572693", '
    '"bids": [["3802.90", "0.60000000"], ["3802.89", "3.23948640"]], "asks": []}'
)


def test_a_usual_book(kernel: ModuleType) -> None:
    expected = (1641343695572693, [(380290, 60_000_000), (380289, 323_948_640)], [])
    assert kernel.scan_book(BOOK, 2, 8) == expected
    assert kernel.scan_book(BOOK.replace(" ", "\n\t ").encode(), 2, 8) == expected
    assert kernel.scan_book(BOOK.replace(", ", ","), 2, 8) == expected
    for bent in (
        BOOK.replace('"asks": []', '"asks": [], "asks": []'),
        BOOK.replace(', "asks": []', ""),
        BOOK.replace("3802.90", "3802.901"),
        BOOK.replace("0.60000000", "0.6e0"),
        BOOK.replace('"timestamp"', '"time"'),
        BOOK + ",",
    ):
        assert kernel.scan_book(bent, 2, 8) is None, bent
    assert kernel.scan_book(BOOK, 2, 20) is None
    with pytest.raises(TypeError):
        kernel.scan_book(BOOK, "2", 8)


def test_bad_arguments(kernel: ModuleType) -> None:
    with pytest.raises(TypeError):
        kernel.scan_diff(DIFF)
    with pytest.raises(TypeError):
        kernel.scan_diff(DIFF, [])
    assert kernel.scan_diff(1, DECIMALS) is None
    for bad in ((2, 20), [2, 8], (2,)):
        assert kernel.scan_diff(DIFF, {"btcusd": bad}) is None
    with pytest.raises(TypeError):
        kernel.scan_diff(DIFF, {"btcusd": ("2", 8)})


def test_no_reference_leaks(kernel: ModuleType) -> None:
    frames = [DIFF, DIFF.replace("1.15", "1.1x"), DIFF[:-1], "{"]
    bodies = [BOOK, BOOK.replace("3.23948640", "3.2x"), BOOK[:-1]]

    def calls() -> None:
        for text in frames:
            kernel.scan_diff(text, DECIMALS)
        for body in bodies:
            kernel.scan_book(body, 2, 8)

    assert leaked_blocks(calls) < 500


# -- the connector: the fast path and the msgspec path give the same events and errors ----------


def _respaced(record: CaptureRecord) -> CaptureRecord:
    """The same JSON, never the scanners' shape (a frame with spaces, a body with a key
    escaped), so the msgspec path reads it."""
    assert isinstance(record.payload, str)
    if record.kind is RecordKind.RECV:
        text = json.dumps(json.loads(record.payload))
    elif record.kind is RecordKind.REST and "/order_book/" in record.url:
        assert '"timestamp"' in record.payload
        text = record.payload.replace('"timestamp"', '"\\u0074imestamp"', 1)
    else:
        return record
    return CaptureRecord(record.recv_ns, record.kind, record.url, text, record.conn)


BENDS = (
    ('"bids":[["', '"bids":[["1.5x","1"],["'),  # BadValue
    ('"microtimestamp":"', '"microtimestamp":"x'),  # BadValue
    ("diff_order_book_", "diff_order_book_nope"),  # UnknownSymbol
    ('"asks":[["', '"asks":[["0.0000000000001","1"],["'),  # finer than the decimals
)


def test_capture_frames_give_the_same_events_either_way(captures: Path) -> None:
    [loaded] = [load_capture(c) for c in group_captures([captures]) if c.prefix == "BITSTAMP"]
    records = list(loaded.records)
    diffs = [
        i
        for i, r in enumerate(records)
        if '"bids":[["' in str(r.payload) and '"asks":[["' in str(r.payload)
    ]
    bends = [(diffs[100 + 50 * n], old, new) for n, (old, new) in enumerate(BENDS)]
    errors = errors_either_way(loaded, records, bends, _respaced)
    assert errors == ["BadValue"] * 3 + ["UnknownSymbol"]


def test_the_compiled_build_runs_the_scanners() -> None:
    names = ["_SCAN_DIFF", "_SCAN_BOOK"]
    assert scanner_modules("bitstamp", names) == "orderscope._bitstamp orderscope._bitstamp"


def test_orderscope_pure_runs_the_msgspec_path() -> None:
    assert scanner_modules("bitstamp", ["_SCAN_DIFF", "_SCAN_BOOK"], pure=True) == "None None"
