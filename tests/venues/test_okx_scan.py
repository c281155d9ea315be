"""orderscope._okx (C, src/orderscope/_okx.c) against the OKX connector's reference path.

``scan_books`` must return exactly what msgspec decoding, ``parse_fixed`` (times the contract
multiplier) and ``_ms`` make of a books frame, or None (the connector then runs that path
itself). The C module is loaded from its file, so these tests also run under ORDERSCOPE_PURE=1,
against the pure-Python reference.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from types import ModuleType

import msgspec
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from orderscope.bench.ours import load_capture
from orderscope.capture import CaptureRecord, RecordKind, group_captures
from orderscope.fixed import NumberFormatError, parse_fixed
from orderscope.venues.okx import _BOOK_FRAME, BOOK_CHANNELS, _ms
from tests.native_kernel import PACKAGE, digits, leaked_blocks, load_native, number
from tests.venues.scan_testing import loaded_module, outcomes
from tests.venues.venue_testing import bent

Level = tuple[int, int]
Scanned = tuple[str, str, bool, list[Level], list[Level], int, int | None, int | None, int | None]
Units = dict[str, tuple[int, int, int]]


@pytest.fixture(scope="module")
def kernel() -> ModuleType:
    return load_native("_okx")


UNITS: Units = {
    "BTC-USDT": (1, 8, 1),
    "BTC-USD-220527": (1, 0, 100),
    "X": (2, 0, 1),
    "WIDE": (19, 19, 1),
    "HUGE": (0, 0, 2**62),
}


def reference(frame: str | bytes, units: Units) -> Scanned | None:
    """The connector's own reading of a books frame; None if it is not one, or is bad."""
    try:
        env = _BOOK_FRAME.decode(frame)
    except msgspec.DecodeError:
        return None
    if env.event or env.arg is None or env.arg.channel not in BOOK_CHANNELS or not env.data:
        return None
    if len(env.data) != 1 or env.arg.instId not in units:
        return None
    if env.action not in ("snapshot", "update"):
        return None
    pd, wd, multiplier = units[env.arg.instId]
    msg = env.data[0]
    try:
        bids = [(parse_fixed(v[0], pd), parse_fixed(v[1], wd) * multiplier) for v in msg.bids]
        asks = [(parse_fixed(v[0], pd), parse_fixed(v[1], wd) * multiplier) for v in msg.asks]
        ns = _ms(msg.ts)
    except (NumberFormatError, IndexError):
        return None
    snapshot = env.action == "snapshot"
    channel, inst_id = env.arg.channel, env.arg.instId
    return channel, inst_id, snapshot, bids, asks, ns, msg.checksum, msg.prevSeqId, msg.seqId


def agrees(kernel: ModuleType, frame: str | bytes, units: Units = UNITS) -> Scanned | None:
    """The scanner's result, checked: None, or the reference's."""
    got: Scanned | None = kernel.scan_books(frame, units)
    if got is not None:
        assert got == reference(frame, units)
        assert all(type(v) is int for side in got[3:5] for level in side for v in level)
    return got


# -- frames -------------------------------------------------------------------------------------


@st.composite
def level(draw: st.DrawFn) -> list[object]:
    """[price, size, "0", count] mostly; now and then shorter, longer or with a number."""
    items: list[object] = [draw(number()), draw(number())]
    items += draw(st.lists(st.sampled_from(["0", "1", "12", "", "a\\"]), max_size=3))
    if draw(st.integers(0, 9)) == 0:
        items = items[: draw(st.integers(0, 2))]
    if items and draw(st.integers(0, 9)) == 0:
        items[draw(st.integers(0, len(items) - 1))] = draw(st.sampled_from([0, 1.5, None]))
    return items


ints = st.one_of(st.integers(-(2**63), 2**64), st.just(0), st.none())


@st.composite
def books_frame(draw: st.DrawFn) -> str:
    """A books frame as OKX writes it (compact, keys in order), now and then bent."""
    book: dict[str, object] = {
        "asks": draw(st.lists(level(), max_size=4)),
        "bids": draw(st.lists(level(), max_size=4)),
        "ts": draw(st.one_of(digits, number(), st.sampled_from(["", "1652459225464"]))),
    }
    for key in ("checksum", "prevSeqId", "seqId"):
        if draw(st.booleans()):
            book[key] = draw(ints)
    fields: dict[str, object] = {
        "arg": {
            "channel": draw(st.sampled_from([*BOOK_CHANNELS, "books", "books5", "trades"])),
            "instId": draw(st.sampled_from([*UNITS, "ETH-USDT", "", 'A"B', "B\u00e9"])),
        },
        "action": draw(st.sampled_from(["update", "snapshot", "update", "partial"])),
        "data": [book] * draw(st.sampled_from([1, 1, 1, 0, 2])),
    }
    if draw(st.integers(0, 5)) == 0:  # another key order
        keys = draw(st.permutations(list(book)))
        fields["data"] = [{k: book[k] for k in keys}]
    text = msgspec.json.encode(fields).decode()
    if draw(st.integers(0, 5)) == 0:  # whitespace, an escape, a cut, trailing bytes
        i = draw(st.integers(0, len(text)))
        text = text[:i] + draw(st.sampled_from([" ", "\\u0030", "", "\n", "}", '"'])) + text[i:]
    return text


GOOD = (
    '{"arg":{"channel":"books","instId":"BTC-USD-220527"},"action":"update","data":[{"asks":'
    '[["30249.4","0","0","0"],["30261","4","0","1"]],"bids":[["30182.6","452","0","1"]],'
    '"ts":"1652459225464","checksum":-914047754}]}'
)


@given(books_frame(), st.booleans())
@example(GOOD, False)
@example(GOOD, True)
def test_scanner_is_the_reference_or_none(kernel: ModuleType, frame: str, as_bytes: bool) -> None:
    agrees(kernel, frame.encode() if as_bytes else frame)


@given(
    st.sampled_from(["BTC-USDT", "BTC-USD-220527", "X"]),
    st.sampled_from(sorted(BOOK_CHANNELS)),
    st.booleans(),
    st.lists(st.tuples(digits, digits), max_size=5),
    st.lists(st.tuples(digits, digits), max_size=5),
    st.integers(0, (2**63 - 1) // 1_000_000),  # ms whose ns fit int64
    st.lists(st.integers(1 - 10**18, 10**18 - 1), min_size=3, max_size=3),  # <= 18 digits
    st.lists(st.booleans(), min_size=3, max_size=3),
)
def test_usual_frames_take_the_fast_path(
    kernel: ModuleType,
    inst_id: str,
    channel: str,
    snapshot: bool,
    asks: list[tuple[str, str]],
    bids: list[tuple[str, str]],
    ms: int,
    values: list[int],
    present: list[bool],
) -> None:
    pd, wd, _ = UNITS[inst_id]
    book: dict[str, object] = {
        "asks": [[_within(p, pd), _within(q, wd), "0", "1"] for p, q in asks],
        "bids": [[_within(p, pd), _within(q, wd), "0", "1"] for p, q in bids],
        "ts": str(ms),
    }
    keys = ("checksum", "prevSeqId", "seqId")
    book.update((k, v) for k, v, there in zip(keys, values, present, strict=True) if there)
    action = "snapshot" if snapshot else "update"
    fields = {"arg": {"channel": channel, "instId": inst_id}, "action": action, "data": [book]}
    got = agrees(kernel, msgspec.json.encode(fields).decode())
    assert got is not None
    assert got[5] == ms * 1_000_000


def _within(text: str, decimals: int) -> str:
    """``text`` as a decimal of at most ``decimals`` fractional digits, within int64 scaled."""
    text = text[:4]
    return f"{text[:2]}.{text[2 : 2 + decimals]}" if decimals and len(text) > 2 else text


def test_a_usual_frame(kernel: ModuleType) -> None:
    assert kernel.scan_books(GOOD, UNITS) == (
        "books",
        "BTC-USD-220527",
        False,
        [(301826, 45200)],
        [(302494, 0), (302610, 400)],
        1_652_459_225_464_000_000,
        -914047754,
        None,
        None,
    )
    seq = GOOD.replace("}]}", ',"prevSeqId":-1,"seqId":123456}]}')
    assert kernel.scan_books(seq.replace("update", "snapshot"), UNITS)[2:] == (  # type: ignore[index]
        True,
        [(301826, 45200)],
        [(302494, 0), (302610, 400)],
        1_652_459_225_464_000_000,
        -914047754,
        -1,
        123456,
    )
    empty = GOOD.replace('[["30182.6","452","0","1"]]', "[]")
    assert agrees(kernel, empty) is not None


@pytest.mark.parametrize(
    "frame",
    [
        GOOD.replace("BTC-USD-220527", "ETH-USD"),  # not in units
        GOOD.replace(":", ": ", 1),
        GOOD + " ",
        GOOD.replace("30249.4", "30249.4e0"),
        GOOD.replace("30249.4", "-30249.4"),
        GOOD.replace("30249.4", "30249.45"),  # finer than 1 decimal
        GOOD.replace('"452"', '"452.0000001"'),
        GOOD.replace("30249.4", "9999999999999999999.1"),  # beyond int64
        GOOD.replace('"action":"update"', '"action":"partial"'),
        GOOD.replace('"channel":"books"', '"channel":"books5"'),
        GOOD.replace('"ts":"1652459225464"', '"ts":"1652459225464.0"'),
        GOOD.replace('"ts":"1652459225464"', '"ts":"99999999999999"'),  # ns beyond int64
        GOOD.replace('"ts":"1652459225464"', '"ts":""'),
        GOOD.replace('"ts":"1652459225464"', '"ts":1652459225464'),
        GOOD.replace("-914047754", "null"),
        GOOD.replace("-914047754", "-0914047754"),
        GOOD.replace("-914047754", "1.5"),
        GOOD.replace("-914047754", "1234567890123456789"),  # 19 digits: left to msgspec
        GOOD.replace("}]}", ',"seqId":1,"prevSeqId":0}]}'),  # another order
        GOOD.replace("}]}", ',"extra":1}]}'),
        GOOD.replace("}]}", "},{}]}"),
        GOOD.replace('"0","1"]]', '"0",1]]'),
        GOOD.replace('["30182.6","452","0","1"]', '["30182.6"]'),
        GOOD.replace("BTC-USD-220527", "BTC\\u002dUSD-220527"),
        GOOD[:-1],
        "",
        "{",
        b"\xff" + GOOD.encode(),
        GOOD.replace("BTC-USD-220527", "BTC-\u00e9"),
    ],
)
def test_other_frames_are_left_to_the_reference(kernel: ModuleType, frame: str | bytes) -> None:
    assert kernel.scan_books(frame, UNITS) is None


def test_sizes_times_the_multiplier_stay_within_int64(kernel: ModuleType) -> None:
    frame = GOOD.replace("BTC-USD-220527", "HUGE").replace("30249.4", "30249")
    frame = frame.replace("30261", "3").replace("30182.6", "30182")
    assert kernel.scan_books(frame, UNITS) is None  # 452 * 2**62
    small = frame.replace('"452"', '"1"').replace('"4"', '"0"')
    assert agrees(kernel, small) is not None


def test_bad_arguments(kernel: ModuleType) -> None:
    with pytest.raises(TypeError):
        kernel.scan_books(GOOD)
    with pytest.raises(TypeError):
        kernel.scan_books(GOOD, [])
    assert kernel.scan_books(1, UNITS) is None
    for units in ((1, 20, 1), (1, 2, 0), (1, 2, 2**64), [1, 2, 1], (1, 2), (True, 2, 1)):
        assert kernel.scan_books(GOOD, {"BTC-USD-220527": units}) is None, units


def test_no_reference_leaks(kernel: ModuleType) -> None:
    # a leak of one object per call would show as thousands of blocks; other tests' threads
    # may allocate a few meanwhile
    frames = [
        GOOD,
        GOOD.replace("}]}", ',"prevSeqId":1,"seqId":2}]}'),
        GOOD.replace("-914047754", "1.5"),
        GOOD.replace('"0","1"]]', '"0",1]]'),
        GOOD.replace('"ts"', '"tz"'),
        "{",
    ]
    assert leaked_blocks(lambda: [kernel.scan_books(frame, UNITS) for frame in frames]) < 500


# -- the connector: the fast path and the msgspec path give the same events and errors ----------


def _respaced(record: CaptureRecord) -> CaptureRecord:
    """The same JSON with spaces: never the scanner's shape, so the msgspec path reads it."""
    if record.kind is not RecordKind.RECV or not str(record.payload).startswith("{"):
        return record
    assert isinstance(record.payload, str)
    text = json.dumps(json.loads(record.payload))
    return CaptureRecord(record.recv_ns, record.kind, record.url, text, record.conn)


#: Frames the scanner leaves to the reference, put among the capture's usual ones.
BENDS = (
    ('"asks":[["', '"asks":[["1.5x","1","0","1"],["'),  # BadValue
    ('"ts":"', '"ts":"x'),  # a bad time: BadValue
    ('"instId":"', '"instId":"NOPE'),  # UnknownSymbol
    ('"action":"update"', '"action":"partial"'),  # MalformedFrame
    ('"bids":[["', '"bids":[["1"],["'),  # a level too short: MalformedFrame
    ("}]}", ',"prevSeqId":1,"seqId":2}]}'),  # seq ids (none in the capture)
)


def test_capture_frames_give_the_same_events_either_way(captures: Path) -> None:
    [loaded] = [load_capture(c) for c in group_captures([captures]) if c.prefix == "OKX"]
    records = list(loaded.records)
    updates = [i for i, r in enumerate(records) if '"action":"update"' in str(r.payload)]
    # late: a bad book frame leaves its book out of sync
    records = bent(records, [(updates[-2 - 3 * n], old, new) for n, (old, new) in enumerate(BENDS)])
    # a checksum off by one, read by the scanner: out of sync until the next snapshot
    r = records[updates[-30]]
    assert isinstance(r.payload, str)
    wrong = re.sub(r'"checksum":(-?\d+)', lambda m: f'"checksum":{int(m[1]) ^ 1}', r.payload)
    records[updates[-30]] = CaptureRecord(r.recv_ns, r.kind, r.url, wrong, r.conn)
    fast = outcomes(loaded, records)
    assert fast == outcomes(loaded, [_respaced(r) for r in records])
    errors = [e[1] for e in fast if isinstance(e, tuple) and e[0] == "error"]
    assert sorted(errors) == ["BadValue"] * 2 + ["MalformedFrame"] * 2 + ["UnknownSymbol"]
    failed = sum(c.checksums_failed for _, _, c, _, _ in fast[-3:])  # type: ignore[misc]
    assert failed == 1


def test_the_compiled_build_runs_the_scanner() -> None:
    if not any(PACKAGE.glob("book.*.so")):
        pytest.skip("a pure-Python build (ORDERSCOPE_PURE_BUILD=1)")
    assert loaded_module("orderscope.venues.okx._SCAN", pure=False) == "orderscope._okx"


def test_orderscope_pure_runs_the_msgspec_path() -> None:
    assert loaded_module("orderscope.venues.okx._SCAN", pure=True) == "None"
