"""orderscope._huobi (C, src/orderscope/_huobi.c) against the HTX connector's reference path.

``scan_depth`` must cut a depth frame into exactly what ``_RAW_DEPTH_FRAME`` decodes from it
whenever the two level arrays it cuts then pass ``parse_raw_float_levels`` (the connector's next
step), or return None (the connector then runs the msgspec path itself). The C modules are
loaded from their files, so these tests also run under ORDERSCOPE_PURE=1.
"""

from __future__ import annotations

import json
import zlib
from pathlib import Path
from types import ModuleType

import msgspec
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from orderscope.bench.ours import load_capture
from orderscope.capture import CaptureRecord, RecordKind, group_captures
from orderscope.venues.huobi import _GZIP_WBITS, _RAW_DEPTH_FRAME, DEPTH_CHANNEL, _split_topic
from tests.native_kernel import PACKAGE, leaked_blocks, load_native
from tests.venues.scan_testing import loaded_module, outcomes

Cut = tuple[str, bytes, bytes, int, int, int]


@pytest.fixture(scope="module")
def kernel() -> ModuleType:
    return load_native("_huobi")


@pytest.fixture(scope="module")
def levels() -> ModuleType:
    return load_native("_levels")


def reference(text: bytes) -> Cut | None:
    """What the connector's msgspec path reads from a depth frame; None if not one."""
    try:
        whole = _RAW_DEPTH_FRAME.decode(text)
    except msgspec.DecodeError:
        return None
    parsed = _split_topic(whole.ch)
    tick = whole.tick
    if tick is None or parsed is None or parsed[1] != DEPTH_CHANNEL:
        return None
    return parsed[0], bytes(tick.bids), bytes(tick.asks), whole.ts, tick.version, tick.ts


def agrees(kernel: ModuleType, levels: ModuleType, text: bytes) -> Cut | None:
    """The cut, checked against the reference when the connector would use it; the cut if so."""
    got: Cut | None = kernel.scan_depth(text)
    if got is None:
        return None
    bids = levels.parse_raw_float_levels(got[1], 2, 10)
    asks = levels.parse_raw_float_levels(got[2], 2, 10)
    if bids is None or asks is None:
        return None  # the connector falls back to msgspec: no claim
    assert got == reference(text)
    return got


# -- frames -------------------------------------------------------------------------------------

number = st.one_of(
    st.floats(min_value=0, max_value=1e9, allow_nan=False),
    st.integers(-5, 10**20),
    st.sampled_from([0.1, 1e-11, 5e-7, 710.01, -1.5]),
)
weird = st.sampled_from(["1", [1], [[1]], None, True, {"a": 1}, "]]", [1, 2, 3], []])
level = st.one_of(
    st.tuples(number, number).map(list),
    st.lists(st.one_of(number, weird), max_size=3),
)


@st.composite
def depth_frame(draw: st.DrawFn) -> bytes:
    """A depth frame as HTX writes it (compact, keys in order), now and then bent."""
    tick: dict[str, object] = {
        "bids": draw(st.lists(level, max_size=4)),
        "asks": draw(st.lists(level, max_size=4)),
        "version": draw(st.integers(-(2**63), 2**64)),
        "ts": draw(st.integers(0, 10**19)),
    }
    symbol = draw(st.sampled_from(["borusdt", "trioeth", "", "a.b", 'a"b', "x\u00e9"]))
    channel = draw(st.sampled_from(["depth.step0", "depth.step0", "depth.step1", "trade.detail"]))
    fields: dict[str, object] = {
        "ch": f"market.{symbol}.{channel}",
        "ts": draw(st.integers(0, 10**19)),
        "tick": tick,
    }
    if draw(st.integers(0, 5)) == 0:
        keys = draw(st.permutations(list(tick)))
        fields["tick"] = {k: tick[k] for k in keys}
        if draw(st.booleans()):
            del fields["tick"]["version"]  # type: ignore[attr-defined]
    text = msgspec.json.encode(fields)
    if draw(st.integers(0, 4)) == 0:  # whitespace, an escape, a cut, trailing bytes, brackets
        i = draw(st.integers(0, len(text)))
        bend = draw(st.sampled_from([b" ", b"\\u0030", b"", b"\n", b"}", b'"', b"]]", b"["]))
        text = text[:i] + bend + text[i:]
    return text


GOOD = (
    b'{"ch":"market.trioeth.depth.step0","ts":1618678069870,"tick":{"bids":[[9.121E-7,92730.24],'
    b'[9.12E-7,66053.68]],"asks":[[4.222E-5,9980.0],[4.3E-5,260.37]],"version":100182534697,'
    b'"ts":1618678069868}}'
)


@given(depth_frame())
@example(GOOD)
def test_the_cut_is_the_reference_s_when_used(
    kernel: ModuleType, levels: ModuleType, text: bytes
) -> None:
    agrees(kernel, levels, text)


@given(
    st.lists(st.tuples(number, number).map(list), max_size=5),
    st.lists(st.tuples(number, number).map(list), max_size=5),
    st.integers(-(10**18) + 1, 10**18 - 1),
    st.integers(0, 10**18 - 1),
)
def test_usual_frames_are_cut(
    kernel: ModuleType, levels: ModuleType, bids: list, asks: list, version: int, ts: int
) -> None:
    tick = {"bids": bids, "asks": asks, "version": version, "ts": ts}
    frame = {"ch": "market.borusdt.depth.step0", "ts": 1, "tick": tick}
    text = msgspec.json.encode(frame)
    got = kernel.scan_depth(text)
    assert got is not None
    assert got == reference(text)


def test_a_usual_frame(kernel: ModuleType) -> None:
    assert kernel.scan_depth(GOOD) == (
        "trioeth",
        b"[[9.121E-7,92730.24],[9.12E-7,66053.68]]",
        b"[[4.222E-5,9980.0],[4.3E-5,260.37]]",
        1618678069870,
        100182534697,
        1618678069868,
    )
    empty = GOOD.replace(b"[[9.121E-7,92730.24],[9.12E-7,66053.68]]", b"[]")
    assert kernel.scan_depth(empty) == reference(empty)


@pytest.mark.parametrize(
    "text",
    [
        GOOD.replace(b"trioeth", b"trio.eth"),
        GOOD.replace(b"trioeth", b""),
        GOOD.replace(b"step0", b"step1"),
        GOOD.replace(b'"ts":1618678069870', b'"ts": 1618678069870'),
        GOOD.replace(b'"ts":1618678069870', b'"ts":1618678069870.0'),
        GOOD.replace(b'"ts":1618678069870', b'"ts":01618678069870'),
        GOOD.replace(b"100182534697", b"1234567890123456789"),  # 19 digits: left to msgspec
        GOOD.replace(b'"version":100182534697,', b""),
        GOOD + b" ",
        GOOD[:-1],
        GOOD.replace(b'"asks":[[4.222E-5,9980.0],[4.3E-5,260.37]]', b'"asks":[[4.222E-5,9980.0]'),
        GOOD.replace(b"trioeth", b"trio\\u0065th"),
        b"",
        b"{",
        "not bytes",
        1,
    ],
)
def test_other_frames_are_left_to_the_reference(kernel: ModuleType, text: object) -> None:
    assert kernel.scan_depth(text) is None


def test_a_wrong_cut_never_parses(kernel: ModuleType, levels: ModuleType) -> None:
    # "]]" inside the bids: cut early, and the cut is not an array of levels
    nested = GOOD.replace(b"[9.12E-7,66053.68]", b"[9.12E-7,[1]],[1,2]")
    cut = kernel.scan_depth(nested)
    assert cut is None or levels.parse_raw_float_levels(cut[1], 2, 10) is None


def test_bad_arguments(kernel: ModuleType) -> None:
    with pytest.raises(TypeError):
        kernel.scan_depth()
    with pytest.raises(TypeError):
        kernel.scan_depth(GOOD, GOOD)


def test_no_reference_leaks(kernel: ModuleType) -> None:
    frames = [GOOD, GOOD.replace(b"step0", b"step1"), GOOD[:-1], GOOD.replace(b"trioeth", b"x")]
    assert leaked_blocks(lambda: [kernel.scan_depth(frame) for frame in frames]) < 500


# -- reuse_levels: the previous frame's levels again ----------------------------------------------

price = st.sampled_from([b"710.01", b"9.121E-7", b"1", b"0.5", b"716.15", b"3e2", b"1e-11"])
size = st.sampled_from([b"2.260165", b"0.575610404535042", b"1.0E7", b"0", b"5e-11", b"-1"])
bad = st.sampled_from([b'"1"', b"01", b"1.", b"NaN", b"[1]", b""])
compact_level = st.one_of(
    st.tuples(price, size).map(lambda pq: b"[" + b",".join(pq) + b"]"),
    st.tuples(price, bad).map(lambda pq: b"[" + b",".join(pq) + b"]"),
    st.sampled_from([b"[1,2,3]", b"[ 1,2]", b"[1]"]),
)


def _array(levels: list[bytes]) -> bytes:
    return b"[" + b",".join(levels) + b"]"


@st.composite
def book_pair(draw: st.DrawFn) -> tuple[bytes, bytes]:
    """A side and the next frame's: levels kept, dropped, changed or added in between."""
    old = draw(st.lists(compact_level, max_size=30))
    new = []
    for level in old:
        action = draw(st.integers(0, 5))
        if action == 0:
            continue  # deleted
        if action == 1:
            new.append(draw(compact_level))  # changed or inserted
        new.append(level)
    new += draw(st.lists(compact_level, max_size=3))
    return _array(old), _array(new)


@given(book_pair(), st.sampled_from([(2, 10), (10, 10), (0, 0)]))
def test_reused_levels_are_the_parse_of_the_new_side(
    kernel: ModuleType, levels: ModuleType, pair: tuple[bytes, bytes], decimals: tuple[int, int]
) -> None:
    old_raw, raw = pair
    pd, sd = decimals
    parse = levels.parse_raw_float_levels
    old = parse(old_raw, pd, sd)
    if old is None:
        return  # the connector keeps only sides it parsed
    expected = parse(raw, pd, sd)
    got = kernel.reuse_levels(raw, old_raw, old, pd, sd, parse)
    assert got == expected or got is None
    if expected is not None and b" " not in raw:
        assert got == expected  # a compact side is always taken


def test_reuse_refuses_what_it_does_not_take(kernel: ModuleType, levels: ModuleType) -> None:
    parse = levels.parse_raw_float_levels
    old_raw = b"[[1,2],[3,4]]"
    old = parse(old_raw, 0, 0)
    assert kernel.reuse_levels(b"[[1,2],[3,4],[5,6]]", old_raw, old, 0, 0, parse) == [
        (1, 2),
        (3, 4),
        (5, 6),
    ]
    for raw in (b"[[1,2], [3,4]]", b"[[1,2],[[3,4]]]", b"[[1,2],[3,4]", b"[[1,2],x]", b"{}"):
        assert kernel.reuse_levels(raw, old_raw, old, 0, 0, parse) is None, raw
    assert kernel.reuse_levels(b"[[1,2]]", old_raw, old[:1], 0, 0, parse) is None  # not a pair
    assert kernel.reuse_levels(b"[[1,2]]", old_raw, old, 0, 0, lambda *a: [(1, 2)]) == [(1, 2)]
    many = _array([b"[%d,1]" % i for i in range(600)])  # more than it keeps on its stack
    assert kernel.reuse_levels(many, many, parse(many, 0, 0), 0, 0, parse) is None
    with pytest.raises(TypeError):
        kernel.reuse_levels(b"[]", b"[]", [], 0, 0)
    with pytest.raises(ZeroDivisionError):
        kernel.reuse_levels(b"[[9,9]]", old_raw, old, 0, 0, lambda *a: 1 / 0)


def test_reuse_leaks_nothing(kernel: ModuleType, levels: ModuleType) -> None:
    parse = levels.parse_raw_float_levels
    old_raw = b"[[1,2],[3,4],[5,6]]"
    old = parse(old_raw, 0, 0)
    sides = [b"[[1,2],[3,5],[5,6]]", b"[[1,2]]", b"[[1,-2]]", b"[[1,2],[3,4],[5,6],[7,8]]"]
    calls = [(raw, old_raw, old, 0, 0, parse) for raw in sides]
    assert leaked_blocks(lambda: [kernel.reuse_levels(*args) for args in calls]) < 500


# -- the connector: the cut and the msgspec path give the same events and errors ----------------


def _text(record: CaptureRecord) -> bytes:
    assert isinstance(record.payload, bytes)
    return zlib.decompress(record.payload, _GZIP_WBITS)


def _with_text(record: CaptureRecord, text: bytes) -> CaptureRecord:
    gzip = zlib.compressobj(wbits=_GZIP_WBITS)
    payload = gzip.compress(text) + gzip.flush()
    return CaptureRecord(record.recv_ns, record.kind, record.url, payload, record.conn)


def _respaced(record: CaptureRecord) -> CaptureRecord:
    """The same JSON with spaces: never the scanner's shape, so msgspec reads it."""
    if record.kind is not RecordKind.RECV or not isinstance(record.payload, bytes):
        return record
    return _with_text(record, json.dumps(json.loads(_text(record))).encode())


#: Depth frames the scanner cuts but whose levels the kernel refuses, or that it leaves alone.
BENDS = (
    (b'"bids":[[', b'"bids":[["1",1],['),  # a str for a number: MalformedFrame
    (b'"bids":[[', b'"bids":[[1,[2]],['),  # "]]" inside: MalformedFrame
    (b'"asks":[[', b'"asks":[[-1,1],['),  # a negative price: BadValue
    (b".depth.", b"x.depth."),  # an unknown symbol: UnknownSymbol
    (b'"version":', b'"version":1,"x":'),  # another key: msgspec's path, same events
)


def test_capture_frames_give_the_same_events_either_way(captures: Path) -> None:
    [loaded] = [load_capture(c) for c in group_captures([captures]) if c.prefix == "HUOBI"]
    records = list(loaded.records)
    depths = [
        i
        for i, r in enumerate(records)
        if r.kind is RecordKind.RECV and b".depth." in _text(r)[:64] and b'"tick"' in _text(r)
    ]
    for n, (old, new) in enumerate(BENDS):
        at = depths[10 + 20 * n]
        text = _text(records[at])
        assert old in text
        records[at] = _with_text(records[at], text.replace(old, new, 1))
    fast = outcomes(loaded, records)
    assert fast == outcomes(loaded, [_respaced(r) for r in records])
    errors = [e[1] for e in fast if isinstance(e, tuple) and e[0] == "error"]
    assert sorted(errors) == ["BadValue", "MalformedFrame", "MalformedFrame", "UnknownSymbol"]


def test_the_compiled_build_runs_the_cutter() -> None:
    if not any(PACKAGE.glob("book.*.so")):
        pytest.skip("a pure-Python build (ORDERSCOPE_PURE_BUILD=1)")
    assert loaded_module("orderscope.venues.huobi._CUT", pure=False) == "orderscope._huobi"


def test_orderscope_pure_runs_the_msgspec_path() -> None:
    assert loaded_module("orderscope.venues.huobi._CUT", pure=True) == "None"
