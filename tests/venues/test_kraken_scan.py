"""orderscope._kraken (C, src/orderscope/_kraken.c) against the connector's reference path.

``scan_book`` must return exactly what msgspec decoding and ``parse_fixed`` make of a Kraken book
frame in ``Kraken.on_frame``'s fast msgspec path and ``_on_book``, or None (the connector then
runs that path itself). The C module is loaded from its file, so these tests also run under
ORDERSCOPE_PURE=1, against the pure-Python reference.
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import msgspec
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from orderscope.capture import RecordKind, read_capture_file
from orderscope.fixed import NumberFormatError, parse_fixed
from orderscope.model import Instrument
from orderscope.venues.kraken import TIME_DECIMALS, Kraken, _frac_digits
from orderscope.venues.kraken_wire import _BOOK_FRAME, _BookPayload
from tests.native_kernel import digits, leaked_blocks, load_native, number, scanner_modules
from tests.venues.venue_testing import bent, outcome, respaced

Level = tuple[int, int]
Scanned = tuple[str, str, list[Level], list[Level], int, int, bool, int, int]


@pytest.fixture(scope="module")
def kernel() -> ModuleType:
    return load_native("_kraken")


DECIMALS = {"XBT/USD": (1, 8), "SC/EUR": (6, 8), "X": (2, 0), "WIDE": (19, 19)}


def reference(frame: str | bytes, decimals: dict[str, tuple[int, int]]) -> Scanned | None:
    """What the connector's msgspec path makes of a book frame; None if it is not one (or bad)."""
    try:
        items = _BOOK_FRAME.decode(frame)
    except msgspec.DecodeError:
        return None
    if len(items) < 4:
        return None
    channel, pair, parts = items[-2], items[-1], items[1:-2]
    if not (type(channel) is str and type(pair) is str and channel[:5] == "book-"):
        return None
    if not all(type(part) is _BookPayload for part in parts) or pair not in decimals:
        return None
    pd, sd = decimals[pair]
    payloads = [p for p in parts if isinstance(p, _BookPayload)]
    first = payloads[0]
    snapshot = first.snap_asks is not None or first.snap_bids is not None
    if snapshot:
        if len(payloads) != 1 or first.a is not None or first.b is not None:
            return None
        raws = [("a", first.snap_asks or []), ("b", first.snap_bids or [])]
    else:
        if any(p.snap_asks is not None or p.snap_bids is not None for p in payloads):
            return None
        raws = [(k, r) for p in payloads for k, r in (("a", p.a), ("b", p.b)) if r is not None]
    asks: list[Level] = []
    bids: list[Level] = []
    newest = 0
    sample = None
    try:
        for key, raw in raws:
            for entry in raw:
                if len(entry) != 3 and (len(entry) != 4 or entry[3] != "r"):
                    return None
                level = (parse_fixed(entry[0], pd), parse_fixed(entry[1], sd))
                (asks if key == "a" else bids).append(level)
                newest = max(newest, parse_fixed(entry[2], TIME_DECIMALS))
                sample = sample or entry
    except NumberFormatError:
        return None
    checksum = -1
    if not snapshot:
        if not asks and not bids:
            return None
        crcs = [p.c for p in payloads if p.c is not None]
        if crcs:
            if not (crcs[-1].isdigit() and crcs[-1].isascii() and len(crcs[-1]) <= 10):
                return None
            checksum = int(crcs[-1])
    fracs = (-1, -1) if sample is None else (_frac_digits(sample[0]), _frac_digits(sample[1]))
    return (channel, pair, asks, bids, newest, checksum, snapshot, *fracs)


def agrees(kernel: ModuleType, frame: str | bytes) -> Scanned | None:
    """The scanner's result, checked: None, or the reference's."""
    got: Scanned | None = kernel.scan_book(frame, DECIMALS)
    if got is not None:
        assert got == reference(frame, DECIMALS)
        assert all(type(v) is int for side in got[2:4] for level in side for v in level)
    return got


# -- frames -------------------------------------------------------------------------------------


@st.composite
def level(draw: st.DrawFn) -> list[str]:
    entry = [draw(number()), draw(number()), draw(st.sampled_from(["1618678133.365913", "7"]))]
    if draw(st.integers(0, 3)) == 0:
        entry[2] = draw(number())
    tail = draw(st.sampled_from([[], [], [], ["r"], ["x"], ["r", "r"]]))
    return entry[: draw(st.sampled_from([3, 3, 3, 2]))] + tail


levels = st.lists(level(), max_size=3)


@st.composite
def book_frame(draw: st.DrawFn) -> str:
    """A book frame as Kraken writes it (compact, keys in order), now and then bent."""
    kind = draw(st.sampled_from(["snapshot", "update", "two"]))
    payloads: list[dict[str, object]]
    if kind == "snapshot":
        payloads = [{"as": draw(levels), "bs": draw(levels)}]
    else:
        payloads = []
        for _ in range(1 if kind == "update" else 2):
            payload: dict[str, object] = {}
            for key in draw(st.sampled_from([["a"], ["b"], ["a", "b"], ["b", "a"], []])):
                payload[key] = draw(levels)
            if draw(st.booleans()):
                payload["c"] = draw(st.sampled_from(["0", "123", "4294967295", "12345678901", ""]))
            payloads.append(payload)
    if draw(st.integers(0, 7)) == 0:  # another key, or a snapshot mixed with an update
        payloads[-1][draw(st.sampled_from(["as", "a", "d"]))] = draw(levels)
    items = [
        draw(st.sampled_from([1360, 0, -1, 2**70])),
        *payloads,
        draw(st.sampled_from(["book-1000", "book-10", "book-", "trade", "book-x"])),
        draw(st.sampled_from([*DECIMALS, "ETH/USD", "", 'A"B', "A\\u0042", "B\u00e9"])),
    ]
    text = msgspec.json.encode(items).decode()
    if draw(st.integers(0, 5)) == 0:  # whitespace, an escape, a cut, trailing bytes
        i = draw(st.integers(0, len(text)))
        text = text[:i] + draw(st.sampled_from([" ", "\\u0030", "", "\n", "]", '"'])) + text[i:]
    return text


UPDATE = (
    '[992,{"b":[["354.15000000","5.00000000","1618678133.365913"]],"c":"2583817756"},'
    '"book-1000","SC/EUR"]'
)
SNAPSHOT = (
    '[1360,{"as":[["0.042900","13355.87450757","1618678123.481570"]],'
    '"bs":[["0.042870","2332.63400000","1618678133.370507"],'
    '["0.04286","1.5","1618678133.370508"]]},"book-10","SC/EUR"]'
)


@given(book_frame(), st.booleans())
@example(UPDATE, False)
@example(SNAPSHOT, True)
def test_scanner_is_the_reference_or_none(kernel: ModuleType, frame: str, as_bytes: bool) -> None:
    agrees(kernel, frame.encode() if as_bytes else frame)


def _within(text: str, decimals: int) -> str:
    """``text`` as a decimal of at most ``decimals`` fractional digits, within int64 scaled."""
    text = text[:6]
    return f"{text[:3]}.{text[3 : 3 + decimals]}" if decimals and len(text) > 3 else text


@given(
    st.sampled_from(["XBT/USD", "SC/EUR", "X"]),  # WIDE: 19 decimals leave no room in int64
    st.lists(st.tuples(digits, digits, st.booleans()), min_size=1, max_size=5),
    st.lists(st.tuples(digits, digits, st.booleans()), max_size=5),
    st.sampled_from(["snapshot", "update", "two"]),
    st.text("0123456789", min_size=1, max_size=10),
)
def test_usual_frames_take_the_fast_path(
    kernel: ModuleType,
    pair: str,
    asks: list[tuple[str, str, bool]],
    bids: list[tuple[str, str, bool]],
    kind: str,
    crc: str,
) -> None:
    pd, sd = DECIMALS[pair]

    def side(raw: list[tuple[str, str, bool]]) -> list[list[str]]:
        return [
            [_within(p, pd), _within(q, sd), "1618678133.365913", *(["r"] if r else [])]
            for p, q, r in raw
        ]

    payloads: list[dict[str, object]]
    if kind == "snapshot":
        payloads = [{"as": side(asks), "bs": side(bids)}]
    elif kind == "update":
        payloads = [{"a": side(asks), "b": side(bids), "c": crc}]
    else:
        payloads = [{"a": side(asks)}, {"b": side(bids), "c": crc}]
    frame = msgspec.json.encode([42, *payloads, "book-25", pair]).decode()
    got = agrees(kernel, frame)
    assert got is not None
    assert got[4] == 1_618_678_133_365_913_000
    assert got[5] == (-1 if kind == "snapshot" else int(crc))


def test_a_usual_update_and_snapshot(kernel: ModuleType) -> None:
    assert kernel.scan_book(UPDATE, DECIMALS) == (
        "book-1000",
        "SC/EUR",
        [],
        [(354_150_000, 500_000_000)],
        1_618_678_133_365_913_000,
        2_583_817_756,
        False,
        8,
        8,
    )
    assert kernel.scan_book(SNAPSHOT, DECIMALS) == (
        "book-10",
        "SC/EUR",
        [(42_900, 1_335_587_450_757)],
        [(42_870, 233_263_400_000), (42_860, 150_000_000)],
        1_618_678_133_370_508_000,
        -1,
        True,
        6,
        8,
    )
    empty = '[1,{"as":[],"bs":[]},"book-10","X"]'
    assert kernel.scan_book(empty, DECIMALS) == ("book-10", "X", [], [], 0, -1, True, -1, -1)


@pytest.mark.parametrize(
    "frame",
    [
        UPDATE.replace("SC/EUR", "ETH/USD"),  # not in decimals
        UPDATE.replace(":", ": ", 1),
        UPDATE + " ",
        UPDATE.replace("354.15000000", "354.15e0"),
        UPDATE.replace("354.15000000", "-354.15"),
        UPDATE.replace("5.00000000", "0.000000001"),  # finer than 8 decimals
        UPDATE.replace("1618678133.365913", "1618678133.3659131234"),  # finer than ns
        UPDATE.replace("354.15000000", "99999999999999.1"),  # beyond int64 at 6 decimals
        UPDATE.replace('"c":"2583817756"', '"c":"25838177560"'),  # 11 digits
        UPDATE.replace('"c":"2583817756"', '"c":""'),
        UPDATE.replace('"c":"2583817756"', '"c":"-1"'),
        UPDATE.replace('"1618678133.365913"]', '"1618678133.365913","x"]'),
        UPDATE.replace('"1618678133.365913"]', '"1618678133.365913","r","r"]'),
        UPDATE.replace('"b":', '"d":'),
        UPDATE.replace('"b":[["354.15000000","5.00000000","1618678133.365913"]]', '"b":[]'),
        UPDATE.replace("book-1000", "trade"),
        UPDATE.replace("book-1000", "book\\u002d1000"),
        UPDATE.replace("SC/EUR", "SC\\/EUR"),
        UPDATE.replace("992", "0992"),
        UPDATE.replace("992", "-992"),
        UPDATE.replace("992", "9999999999999999999"),
        UPDATE.replace(',"book', ',{"a":[["1","1","1"]]},{"b":[["1","1","1"]]},"book'),
        UPDATE[:-1],
        UPDATE.replace('"SC/EUR"]', '"XBT/USD","SC/EUR"]'),  # the pair is not the 4th item
        SNAPSHOT.replace('"bs"', '"b"'),
        SNAPSHOT.replace("]]}", ']],"c":"1"}'),
        SNAPSHOT.replace(',"book-10"', ',{"a":[]},"book-10"'),
        '[1,[["1.0","1.0","1.0","b","l",""]],"trade","X"]',
        '{"event":"heartbeat"}',
        "",
        "[",
        '"]',
        b"\xff" + UPDATE.encode(),
        UPDATE.replace("SC/EUR", "SC/\u00e9"),
    ],
)
def test_other_frames_are_left_to_the_reference(kernel: ModuleType, frame: str | bytes) -> None:
    assert kernel.scan_book(frame, DECIMALS) is None


def test_republished_levels_and_two_payloads(kernel: ModuleType) -> None:
    frame = (
        '[1,{"a":[["1.5","2","1.5","r"],["1.6","0","2"]]},{"b":[["1.4","1","3"]],'
        '"c":"0123"},"book-10","X"]'
    )
    assert agrees(kernel, frame) == (
        "book-10",
        "X",
        [(150, 2), (160, 0)],
        [(140, 1)],
        *(
            3_000_000_000,
            123,
            False,
            1,
            0,
        ),
    )


def test_bad_arguments(kernel: ModuleType) -> None:
    with pytest.raises(TypeError):
        kernel.scan_book(UPDATE)
    with pytest.raises(TypeError):
        kernel.scan_book(UPDATE, [])
    assert kernel.scan_book(1, DECIMALS) is None
    assert kernel.scan_book(UPDATE, {"SC/EUR": (8, 20)}) is None
    assert kernel.scan_book(UPDATE, {"SC/EUR": [8, 8]}) is None
    with pytest.raises(TypeError):
        kernel.scan_book(UPDATE, {"SC/EUR": ("8", 8)})


def test_no_reference_leaks(kernel: ModuleType) -> None:
    frames = [UPDATE, SNAPSHOT, UPDATE.replace("5.00000000", "5.0x"), UPDATE[:-1], "{"]
    assert leaked_blocks(lambda: [kernel.scan_book(frame, DECIMALS) for frame in frames]) < 500


# -- the connector: the fast path and the msgspec path give the same events and errors ----------


def _instruments(captures: Path) -> list[Instrument]:
    rest = [r for r in read_capture_file(captures / "KRAKEN.0") if r.kind is RecordKind.REST]
    return [i for r in rest for i in Kraken.parse_instruments(r.url, str(r.payload))]


#: Frames the scanner leaves to the reference, put among the capture's usual ones.
BENDS = (
    ('[["', '[["1.5x","1","1"],["'),  # BadValue
    ('[["', '[["1","1","1","1"],["'),  # a bad level: MalformedFrame
    ('"book-1000",', '"book-1000x",'),  # UnsubscribedChannel
    (',"c":"', ',"c":"x'),  # a bad checksum: BadValue
    (',"c":"', ',"c":"1'),  # a wrong checksum: the book goes out of sync
)


def test_capture_frames_give_the_same_events_either_way(captures: Path) -> None:
    instruments = _instruments(captures)
    records = list(read_capture_file(captures / "KRAKEN.ws.50.0"))
    updates = [i for i, r in enumerate(records) if '"c":"' in str(r.payload)]
    pairs = {i: str(records[i].payload).rsplit('"', 2)[-2] for i in updates}
    # each bend in another book: a bent frame takes its book out of sync until a snapshot
    where = [updates[100]]
    for _ in BENDS[1:]:
        where.append(
            next(i for i in updates if i > where[-1] and pairs[i] not in map(pairs.get, where))
        )
    records = bent(records, [(at, old, new) for at, (old, new) in zip(where, BENDS, strict=True)])
    fast = outcome(Kraken(instruments), records)
    assert fast == outcome(Kraken(instruments), [respaced(r) for r in records])
    errors = [e[1] for e in fast if isinstance(e, tuple) and e[0] == "error"]
    assert errors == ["BadValue", "MalformedFrame", "UnsubscribedChannel", "BadValue"]
    assert sum(b[2].checksums_failed for b in fast if isinstance(b, tuple) and len(b) == 5) == 1


def test_the_compiled_build_runs_the_scanner() -> None:
    assert scanner_modules("kraken", ["_SCAN_BOOK"]) == "orderscope._kraken"


def test_orderscope_pure_runs_the_msgspec_path() -> None:
    assert scanner_modules("kraken", ["_SCAN_BOOK"], pure=True) == "None"
