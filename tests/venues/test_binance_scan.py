"""orderscope._binance (C, src/orderscope/_binance.c) against the connectors' reference path.

``scan`` must return exactly what msgspec decoding (the envelope, then the depth or bookTicker
data) and ``parse_fixed`` make of a combined-stream frame, or None (the connector then runs that
path itself). The C module is loaded from its file, so these tests also run under
ORDERSCOPE_PURE=1, against the pure-Python reference.
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
from orderscope.venues.binance import _AGG_TRADE, _BOOK_TICKER, _DEPTH, _ENVELOPE, _REST_DEPTH
from tests.native_kernel import (
    errors_either_way,
    leaked_blocks,
    load_native,
    number,
    scanner_modules,
)

Routes = dict[str, tuple[int, int, int, str]]


@pytest.fixture(scope="module")
def kernel() -> ModuleType:
    return load_native("_binance")


ROUTES: Routes = {
    "btcusdt@depth@100ms": (0, 8, 8, "BTCUSDT"),
    "x@depth": (0, 2, 0, "X"),
    "wide@depth": (0, 19, 19, "WIDE"),
    "btcusdt@bookTicker": (1, 8, 8, "BTCUSDT"),
    "x@bookTicker": (1, 2, 0, "X"),
    "btcusdt@aggTrade": (2, 8, 8, "BTCUSDT"),
    "x@aggTrade": (2, 2, 0, "X"),
}


def reference(frame: str | bytes, routes: Routes) -> tuple[object, ...] | None:
    """The connector's own reading of a routed frame; None if it is not one, or is bad."""
    try:
        env = _ENVELOPE.decode(frame)
    except msgspec.DecodeError:
        return None
    if env.stream not in routes:
        return None
    kind, pd, sd, symbol = routes[env.stream]
    try:
        if kind == 0:
            depth = _DEPTH.decode(env.data)
            bids = [(parse_fixed(p, pd), parse_fixed(q, sd)) for p, q in depth.b]
            asks = [(parse_fixed(p, pd), parse_fixed(q, sd)) for p, q in depth.a]
            return (symbol, depth.T or depth.E, depth.U, depth.u, depth.pu, bids, asks)
        if kind == 2:
            trade = _AGG_TRADE.decode(env.data)
            size = parse_fixed(trade.q, sd)
            if size == 0:  # the connector's BadValue
                return None
            price = parse_fixed(trade.p, pd)
            return (symbol, trade.T, price, -size if trade.m else size, trade.a)
        ticker = _BOOK_TICKER.decode(env.data)
        return (
            symbol,
            ticker.T or ticker.E,
            parse_fixed(ticker.b, pd),
            parse_fixed(ticker.B, sd),
            parse_fixed(ticker.a, pd),
            parse_fixed(ticker.A, sd),
        )
    except (msgspec.DecodeError, NumberFormatError):
        return None


def agrees(kernel: ModuleType, frame: str | bytes, routes: Routes = ROUTES) -> object:
    """The scanner's result, checked: None, or the reference's."""
    got = kernel.scan(frame, routes)
    if got is not None:
        assert got == reference(frame, routes)
        assert all(type(v) is int for v in got[1:5])
    return got


# -- frames -------------------------------------------------------------------------------------


integer = st.one_of(
    st.integers(-10, 2**63 + 10),
    st.integers(0, 10**18),
    st.sampled_from([0, -1, 10**17, 10**18 - 1, 10**18, 2**64, 1.5]),
)
levels = st.lists(st.tuples(number(), number()).map(list), max_size=4)


@st.composite
def data_object(draw: st.DrawFn, kind: int) -> dict[str, object]:
    fields: dict[str, object]
    if kind == 0:
        fields = {
            "e": draw(st.sampled_from(["depthUpdate", "depthUpdate", "bookTicker"])),
            "E": draw(integer),
            "T": draw(integer),
            "s": draw(st.sampled_from(["BTCUSDT", "", "B\u00e9", 'A"B'])),
            "U": draw(integer),
            "u": draw(integer),
            "pu": draw(integer),
            "b": draw(levels),
            "a": draw(levels),
        }
    elif kind == 2:
        fields = {
            "e": draw(st.sampled_from(["aggTrade", "aggTrade", "trade"])),
            "E": draw(integer),
            "s": draw(st.sampled_from(["BTCUSDT", "X"])),
            "a": draw(integer),
            "p": draw(number()),
            "q": draw(st.one_of(number(), st.sampled_from(["0", "0.000"]))),
            "f": draw(integer),
            "l": draw(integer),
            "T": draw(integer),
            "m": draw(st.sampled_from([True, False, 1, None])),
            "M": draw(st.sampled_from([True, False, "x"])),
        }
    else:
        fields = {
            "e": draw(st.sampled_from(["bookTicker", "bookTicker", "depthUpdate"])),
            "u": draw(integer),
            "s": draw(st.sampled_from(["BTCUSDT", "X"])),
            "b": draw(number()),
            "B": draw(number()),
            "a": draw(number()),
            "A": draw(number()),
            "T": draw(integer),
            "E": draw(integer),
        }
    keys = list(fields)
    if draw(st.integers(0, 3)) == 0:  # another order, some keys left out
        keys = draw(st.permutations(keys))
    if draw(st.integers(0, 2)) == 0:
        keys = [k for k in keys if draw(st.integers(0, 4)) > 0]
    fields = {k: fields[k] for k in keys}
    if draw(st.integers(0, 9)) == 0:
        fields["x"] = 1
    return fields


@st.composite
def frame(draw: st.DrawFn) -> str:
    """A frame as the venue writes it (compact, keys in order), now and then bent."""
    stream = draw(st.sampled_from([*ROUTES, "eth@depth", "", "btcusdt@trade"]))
    kind = ROUTES.get(stream, (draw(st.integers(0, 2)),))[0]
    text = msgspec.json.encode({"stream": stream, "data": draw(data_object(kind))}).decode()
    if draw(st.integers(0, 5)) == 0:  # whitespace, an escape, a cut, trailing bytes
        i = draw(st.integers(0, len(text)))
        text = (
            text[:i] + draw(st.sampled_from([" ", "\\u0030", "", "\n", "}", '"', "]"])) + text[i:]
        )
    return text


DEPTH = (
    '{"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","E":1626992741037,'
    '"T":1626992741024,"s":"BTCUSDT","U":600859599090,"u":600859600917,"pu":600859598061,'
    '"b":[["7.5040","813"],["7.6090","0"]],"a":[["7.6150","1563.5"]]}}'
)
SPOT_DEPTH = (
    '{"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","E":1633998512568,'
    '"s":"NKNUSDT","U":499869753,"u":499869754,"b":[["0.35170000","4265.00000000"]],"a":[]}}'
)
TICKER = (
    '{"stream":"btcusdt@bookTicker","data":{"e":"bookTicker","u":600859600576,"s":"SUSHIUSDT",'
    '"b":"7.6110","B":"2","a":"7.6120","A":"297","T":1626992741012,"E":1626992741017}}'
)
AGG_TRADE = (
    '{"stream":"btcusdt@aggTrade","data":{"e":"aggTrade","E":1633998523963,"s":"NKNUSDT",'
    '"a":15683430,"p":"0.35280000","q":"58.00000000","f":19862790,"l":19862790,'
    '"T":1633998523963,"m":true,"M":true}}'
)
SPOT_TICKER = (
    '{"stream":"x@bookTicker","data":{"u":499869768,"s":"NKNUSDT","b":"0.35","B":"672.0000",'
    '"a":"0.36","A":"3199"}}'
)


@given(frame(), st.booleans())
@example(DEPTH, False)
@example(SPOT_TICKER, True)
def test_scanner_is_the_reference_or_none(kernel: ModuleType, text: str, as_bytes: bool) -> None:
    agrees(kernel, text.encode() if as_bytes else text)


def test_usual_frames(kernel: ModuleType) -> None:
    assert agrees(kernel, DEPTH) == (
        "BTCUSDT",
        1626992741024,
        600859599090,
        600859600917,
        600859598061,
        [(750_400_000, 81_300_000_000), (760_900_000, 0)],
        [(761_500_000, 156_350_000_000)],
    )
    assert agrees(kernel, SPOT_DEPTH) == (
        "BTCUSDT",
        1633998512568,
        499869753,
        499869754,
        -1,
        [(35_170_000, 426_500_000_000)],
        [],
    )
    assert agrees(kernel, TICKER) == (
        "BTCUSDT",
        1626992741012,
        761_100_000,
        200_000_000,
        761_200_000,
        29_700_000_000,
    )
    assert agrees(kernel, SPOT_TICKER) == ("X", 0, 35, 672, 36, 3199)
    sold = ("BTCUSDT", 1633998523963, 35_280_000, -5_800_000_000, 15683430)
    assert agrees(kernel, AGG_TRADE) == sold
    bought = agrees(kernel, AGG_TRADE.replace('"m":true', '"m":false').replace(',"M":true', ""))
    assert bought == (*sold[:3], 5_800_000_000, 15683430)
    assert agrees(kernel, AGG_TRADE.replace('"a":15683430,', ""))[4] == -1
    # T 0: the event time E, as ``msg.T or msg.E``
    assert agrees(kernel, TICKER.replace('"T":1626992741012', '"T":0'))[1] == 1626992741017


@pytest.mark.parametrize(
    "text",
    [
        DEPTH.replace("btcusdt@depth@100ms", "eth@depth"),  # no route
        DEPTH.replace("btcusdt@depth@100ms", "btcusdt@bookTicker"),  # the other kind's route
        DEPTH.replace(":", ": ", 1),
        DEPTH + " ",
        DEPTH.replace("7.5040", "7.5040e0"),
        DEPTH.replace("7.5040", "-7.5040"),
        DEPTH.replace("1563.5", "0.000000001"),  # finer than 8 decimals
        DEPTH.replace("7.5040", "99999999999.1"),  # beyond int64 at 8 decimals
        DEPTH.replace('"U":600859599090', '"U":0600859599090'),
        DEPTH.replace('"U":600859599090', '"U":6008595990.0'),
        DEPTH.replace('"U":600859599090', '"U":1234567890123456789'),  # 19 digits: msgspec's
        DEPTH.replace('"U":600859599090,', ""),  # a required key missing
        DEPTH.replace('"pu":600859598061', '"pu":1,"pu":2'),  # twice
        DEPTH.replace('"pu":', '"px":'),
        DEPTH.replace('"depthUpdate"', '"depth"'),
        DEPTH.replace('["7.6090","0"]', '["7.6090","0",1]'),
        DEPTH.replace("BTCUSDT", "BTC\\u0055SDT"),
        DEPTH[:-1],
        DEPTH.replace('{"stream":"btcusdt@depth@100ms",', "{").replace("}}", ',"stream":"x"}}'),
        TICKER.replace('"B":"2",', ""),
        AGG_TRADE.replace('"q":"58.00000000"', '"q":"0.00"'),  # size 0: the reference's error
        AGG_TRADE.replace('"m":true', '"m":1'),
        AGG_TRADE.replace('"m":true,', ""),
        AGG_TRADE.replace('"aggTrade","E"', '"trade","E"'),
        AGG_TRADE.replace('"f":', '"t":'),
        TICKER.replace('"B":"2"', '"B":2'),
        "",
        "{",
        b"\xff" + DEPTH.encode(),
        DEPTH.replace("BTCUSDT", "BTC-\u00e9"),
    ],
)
def test_other_frames_are_left_to_the_reference(kernel: ModuleType, text: str | bytes) -> None:
    assert kernel.scan(text, ROUTES) is None


def test_bad_arguments(kernel: ModuleType) -> None:
    with pytest.raises(TypeError):
        kernel.scan(DEPTH)
    with pytest.raises(TypeError):
        kernel.scan(DEPTH, [])
    assert kernel.scan(1, ROUTES) is None
    for bad in ((0, 8, 20, "B"), (2, 8, 8, "B"), (0, 8, 8, 1), [0, 8, 8, "B"], (0, 8, 8)):
        assert kernel.scan(DEPTH, {"btcusdt@depth@100ms": bad}) is None
    with pytest.raises(TypeError):
        kernel.scan(DEPTH, {"btcusdt@depth@100ms": ("0", 8, 8, "B")})


REST_FUTURES = '{"lastUpdateId":6,"E":1,"T":2,"bids":[["1.5","2"]],"asks":[["1.6","3"]]}'


def test_no_reference_leaks(kernel: ModuleType) -> None:
    frames = [DEPTH, TICKER, SPOT_TICKER, DEPTH.replace("1563.5", "1x"), DEPTH[:-1], "{"]
    bodies = [REST_FUTURES, REST_FUTURES.replace('"2"]]', '"2x"]]'), REST_FUTURES[:-1]]

    def calls() -> None:
        for text in frames:
            kernel.scan(text, ROUTES)
        for body in bodies:
            kernel.scan_rest(body, 8, 8)

    assert leaked_blocks(calls) < 500


# -- REST depth snapshots ----------------------------------------------------------------------


def reference_rest(body: str | bytes, pd: int, sd: int) -> tuple[object, ...] | None:
    """``_rest_levels``'s typed reading of a REST depth body; None if it is bad."""
    try:
        msg = _REST_DEPTH.decode(body)
        bids = [(parse_fixed(p, pd), parse_fixed(q, sd)) for p, q in msg.bids]
        asks = [(parse_fixed(p, pd), parse_fixed(q, sd)) for p, q in msg.asks]
    except (msgspec.DecodeError, NumberFormatError):
        return None
    return msg.lastUpdateId, msg.T or msg.E, bids, asks


@st.composite
def rest_body(draw: st.DrawFn) -> str:
    fields = {
        "lastUpdateId": draw(integer),
        "E": draw(integer),
        "T": draw(integer),
        "bids": draw(levels),
        "asks": draw(levels),
    }
    keys = draw(st.permutations(list(fields))) if draw(st.booleans()) else list(fields)
    keys = [k for k in keys if k not in ("E", "T") or draw(st.booleans())]
    if draw(st.integers(0, 5)) == 0:
        keys = keys[1:]
    text = msgspec.json.encode({k: fields[k] for k in keys}).decode()
    if draw(st.integers(0, 5)) == 0:
        i = draw(st.integers(0, len(text)))
        text = text[:i] + draw(st.sampled_from([" ", "\\u0030", "}", '"', "]", ","])) + text[i:]
    return text


REST = '{"lastUpdateId":281916627,"bids":[["0.00006547","100.00000000"]],"asks":[]}'


@given(rest_body(), st.sampled_from([(8, 8), (2, 0), (19, 19)]), st.booleans())
@example(REST, (8, 8), False)
def test_rest_scanner_is_the_reference_or_none(
    kernel: ModuleType, body: str, decimals: tuple[int, int], as_bytes: bool
) -> None:
    data = body.encode() if as_bytes else body
    got = kernel.scan_rest(data, *decimals)
    if got is not None:
        assert got == reference_rest(data, *decimals)


def test_usual_rest_bodies(kernel: ModuleType) -> None:
    assert kernel.scan_rest(REST, 8, 8) == (281916627, 0, [(6547, 10_000_000_000)], [])
    futures = (
        '{"lastUpdateId":6,"E":1626992741264,"T":1626992741261,"bids":[],"asks":[["1.5","2"]]}'
    )
    assert kernel.scan_rest(futures, 1, 0) == (6, 1626992741261, [], [(15, 2)])
    for bent in (
        REST.replace("281916627", "-"),
        REST + " ",
        REST.replace('"asks":[]', '"asks":[],"asks":[]'),
        REST.replace(',"asks":[]', ""),
        REST.replace("100.0", "1e2"),
        REST.replace("lastUpdateId", "lastupdateid"),
    ):
        assert kernel.scan_rest(bent, 8, 8) is None, bent
    assert kernel.scan_rest(REST, 8, 20) is None
    assert kernel.scan_rest(REST, 1, 8) is None  # finer than 1 decimal
    with pytest.raises(TypeError):
        kernel.scan_rest(REST, "8", 8)
    with pytest.raises(TypeError):
        kernel.scan_rest(REST, 8)


# -- the connectors: the fast path and the msgspec path give the same events and errors ---------


def _respaced(record: CaptureRecord) -> CaptureRecord:
    """The same JSON with spaces: never the scanners' shape, so the msgspec path reads it (the
    frames and the REST depth snapshots)."""
    if record.kind is not RecordKind.RECV and not (
        record.kind is RecordKind.REST and "/depth" in record.url
    ):
        return record
    assert isinstance(record.payload, str)
    text = json.dumps(json.loads(record.payload))
    return CaptureRecord(record.recv_ns, record.kind, record.url, text, record.conn)


#: Frames the scanner leaves to the reference, put among the capture's usual ones.
BENDS = (
    ('"b":[["', '"b":[["1.5x","1"],["'),  # BadValue
    ('@depth@100ms","data"', '@depth@100ms","data"'.replace("@depth", "x@depth")),  # Unknown
    ('"a":[["', '"a":[["0.0000000001","1"],["'),  # finer than the decimals
    ('"U":', '"U":-'),  # msgspec reads it; a gap
    ('"B":"', '"B":"-'),  # a bad bookTicker
    ('"p":"', '"p":"-'),  # a bad aggTrade
)


@pytest.mark.parametrize("prefix", ["BINANCE", "BINANCE_FUTURES"])
def test_capture_frames_give_the_same_events_either_way(captures: Path, prefix: str) -> None:
    [loaded] = [load_capture(c) for c in group_captures([captures]) if c.prefix == prefix]
    records = list(loaded.records)
    diffs = [
        i
        for i, r in enumerate(records)
        if '"b":[["' in str(r.payload) and '"a":[["' in str(r.payload)
    ]
    tickers = [i for i, r in enumerate(records) if '"B":"' in str(r.payload)]
    trades = [i for i, r in enumerate(records) if '"e":"aggTrade"' in str(r.payload)]
    bent = [diffs[20 + 10 * n] for n in range(len(BENDS) - 2)] + [tickers[-1], trades[-1]]
    bends = [(at, old, new) for at, (old, new) in zip(bent, BENDS, strict=True)]
    errors = errors_either_way(loaded, records, bends, _respaced)
    assert errors == ["BadValue"] * 4 + ["UnknownSymbol"]


def test_the_compiled_build_runs_the_scanners() -> None:
    names = ["_SCAN", "_SCAN_REST"]
    assert scanner_modules("binance", names) == "orderscope._binance orderscope._binance"


def test_orderscope_pure_runs_the_msgspec_path() -> None:
    assert scanner_modules("binance", ["_SCAN", "_SCAN_REST"], pure=True) == "None None"
