"""orderscope._levels.parse_raw_levels (C): levels read from JSON bytes, or None to fall back.

The reference is what the connectors do without it: decode the JSON with msgspec, then
``parse_fixed`` the two fields. The kernel must give exactly that for every input it takes, and
None (never a different value, never an exception) for every other: the property tests below
check both, on well-formed arrays with random whitespace and on random damage to them.
"""

from __future__ import annotations

import json
import os
from types import ModuleType

import msgspec
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from orderscope import _compiled
from orderscope.fixed import NumberFormatError, parse_fixed, parse_float_exact, parse_float_rounded
from tests.test_levels import PACKAGE, _load_kernel, printed_words

INT64_MAX = 2**63 - 1
Levels = list[tuple[int, int]]


@pytest.fixture(scope="module")
def kernel() -> ModuleType:
    return _load_kernel()


def reference(raw: bytes, pd: int, sd: int, first: int = 0, width: int = 0) -> Levels | None:
    """The levels msgspec + parse_fixed make of ``raw``, or None where the kernel may not
    answer (not the shape it reads, a value parse_fixed rejects or beyond int64)."""
    try:
        levels = msgspec.json.decode(raw)
    except msgspec.DecodeError:
        return None
    if not isinstance(levels, list):
        return None
    out = []
    for level in levels:
        if not isinstance(level, list) or len(level) < first + 2:
            return None
        if width and len(level) != width:
            return None
        for index, item in enumerate(level):
            wanted: tuple[type, ...] = (str,) if index in (first, first + 1) else (str, int, float)
            if not isinstance(item, wanted) or isinstance(item, bool):
                return None
        try:
            price, size = parse_fixed(level[first], pd), parse_fixed(level[first + 1], sd)
        except NumberFormatError:
            return None
        if price > INT64_MAX or size > INT64_MAX:
            return None
        out.append((price, size))
    return out


ws = st.text(" \t\n\r", max_size=2)
places = st.integers(0, 12)


@st.composite
def plain_decimal(draw: st.DrawFn, decimals: int) -> str:
    """A decimal parse_fixed takes at ``decimals``, well within int64."""
    whole = draw(st.text("0123456789", min_size=0 if decimals else 1, max_size=6))
    frac = draw(st.text("0123456789", max_size=decimals))
    if not whole and not frac:
        whole = "0"
    zeros = "0" * draw(st.integers(0, 3))
    return f"{whole}.{frac}{zeros}" if frac or draw(st.booleans()) else whole


#: Items a level may carry besides its price and size: JSON strings and numbers.
other_item = st.one_of(
    st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E, exclude_characters='"\\')).map(
        json.dumps
    ),
    st.integers(-(10**20), 10**20).map(str),
    st.floats(-1e50, 1e50).filter(lambda f: f == 0 or abs(f) > 1e-50).map(json.dumps),
    st.sampled_from(["0", "-0", "1e5", "1E-5", "2.5e+3", "-0.0"]),
)


@st.composite
def well_formed(draw: st.DrawFn) -> tuple[bytes, int, int, int, int]:
    """(JSON, price decimals, size decimals, first, width) that the kernel must take."""
    pd, sd = draw(places), draw(places)
    first = draw(st.integers(0, 2))
    width = draw(st.sampled_from([0, first + 2, first + 3]))
    levels = []
    for _ in range(draw(st.integers(0, 6))):
        items = [draw(other_item) for _ in range(first)]
        items += [json.dumps(draw(plain_decimal(pd))), json.dumps(draw(plain_decimal(sd)))]
        extra = width - len(items) if width else draw(st.integers(0, 2))
        items += [draw(other_item) for _ in range(extra)]
        levels.append("[" + ",".join(f"{draw(ws)}{i}{draw(ws)}" for i in items) + "]")
    text = draw(ws) + "[" + ",".join(f"{draw(ws)}{v}{draw(ws)}" for v in levels) + "]" + draw(ws)
    if not levels:
        text = draw(ws) + "[" + draw(ws) + "]" + draw(ws)
    return text.encode(), pd, sd, first, width


@given(well_formed())
@example((b'[["0.01","1.5"],["100","0"]]', 2, 8, 0, 2))
@example((b" [ ] ", 0, 0, 0, 0))
@example((b'[["buy", "1.50", "2"]]', 2, 0, 1, 3))
@example((b'[["1.5","2","0","4"]]', 1, 0, 0, 0))
def test_well_formed_levels_are_msgspec_and_parse_fixed(
    kernel: ModuleType, case: tuple[bytes, int, int, int, int]
) -> None:
    raw, pd, sd, first, width = case
    expected = reference(raw, pd, sd, first, width)
    assert expected is not None
    assert kernel.parse_raw_levels(raw, pd, sd, first, width) == expected


DAMAGE = '[]",.:-+eE\\ 0123456789ax\x00\xe9{}'


@given(
    well_formed(), st.lists(st.tuples(st.integers(0, 10**6), st.sampled_from(DAMAGE)), max_size=3)
)
def test_damaged_json_is_none_or_the_reference(
    kernel: ModuleType, case: tuple[bytes, int, int, int, int], edits: list[tuple[int, str]]
) -> None:
    raw, pd, sd, first, width = case
    text = raw.decode()
    for position, char in edits:
        at = position % (len(text) + 1)
        text = text[:at] + char + text[at + 1 :] if position % 2 else text[:at] + char + text[at:]
    damaged = text.encode()
    got = kernel.parse_raw_levels(damaged, pd, sd, first, width)
    assert got is None or got == reference(damaged, pd, sd, first, width)


NOT_TAKEN = [
    b"",
    b"   ",
    b"null",
    b"{}",
    b"[[]]",
    b'[["1"]]',
    b'[["1","2"],]',
    b'[,["1","2"]]',
    b'[["1","2"]] x',
    b'[["1","2"]]]',
    b'[["1","2"]',
    b'[["1","2"',
    b'[["1" "2"]]',
    b'[["1",,"2"]]',
    b'[["1",2]]',
    b'[[1,"2"]]',
    b'[["1","2",true]]',
    b'[["1","2",null]]',
    b'[["1","2",01]]',
    b'[["1","2",1.]]',
    b'[["1","2",.5]]',
    b'[["1","2",-]]',
    b'[["1","2",1e]]',
    b'[["1","2","a\\"b"]]',
    b'[["\\u0031","2"]]',  # valid JSON for "1": msgspec decodes it, the kernel leaves it
    b'[["1","2","\xc3\xa9"]]',
    b'[["1","2","\x01"]]',
    b'[["-1","2"]]',
    b'[["1e5","2"]]',
    b'[[" 1","2"]]',
    b'[["1.2.3","2"]]',
    b'[[".","2"]]',
    b'[["","2"]]',
    b'[["1.005","2"]]',  # a non-zero digit beyond 2 decimals
    b'[["92233720368547758.08","2"]]',  # beyond int64 at 2 decimals
    b'[["99999999999999999999","2"]]',
]


@pytest.mark.parametrize("raw", NOT_TAKEN)
def test_what_the_kernel_leaves_to_the_reference(kernel: ModuleType, raw: bytes) -> None:
    assert kernel.parse_raw_levels(raw, 2, 0) is None
    assert kernel.parse_raw_levels(raw, 2, 0, 0, 2) is None


def test_widths_and_first() -> None:
    levels = _load_kernel().parse_raw_levels
    assert levels(b'[["1.5","2","3"]]', 1, 0) == [(15, 2)]
    assert levels(b'[["1.5","2","3"]]', 1, 0, 0, 2) is None
    assert levels(b'[["1.5","2","3"]]', 1, 0, 0, 3) == [(15, 2)]
    assert levels(b'[["sell","1.5","2"]]', 1, 0, 1) == [(15, 2)]
    assert levels(b'[["1.5","2"]]', 1, 0, 1) is None  # too short for first=1
    assert levels(b'[["92233720368547758.07","0"]]', 2, 0) == [(INT64_MAX, 0)]
    assert levels(b'[["1.50000000000","0.0"]]', 2, 0) == [(150, 0)]
    # strings: every item a string (levels typed tuple[str, ...]); a number is msgspec's error
    assert levels(b'[["1.5","2","0","4"]]', 1, 0, 0, 0, True) == [(15, 2)]
    assert levels(b'[["1.5","2",0,"4"]]', 1, 0, 0, 0, True) is None
    assert levels(b'[["1.5","2",0,"4"]]', 1, 0, 0, 0, False) == [(15, 2)]
    assert levels(b'[["1.5","2","0",null]]', 1, 0, 0, 0, True) is None


def test_decimals_beyond_the_fast_path_fall_back(kernel: ModuleType) -> None:
    assert kernel.parse_raw_levels(b'[["1","2"]]', 20, 0) is None
    assert kernel.parse_raw_levels(b'[["1","2"]]', 0, 20) is None
    assert kernel.parse_raw_levels(b'[["1","2"]]', 18, 18) == [(10**18, 2 * 10**18)]
    assert kernel.parse_raw_levels(b'[["1","0.2"]]', 19, 19) is None  # 10**19: beyond int64
    assert kernel.parse_raw_levels(b'[["0.1","0.2"]]', 19, 19) == [(10**18, 2 * 10**18)]


def test_buffers(kernel: ModuleType) -> None:
    """bytes, bytearray, memoryview (sliced too) and msgspec.Raw as msgspec hands it out."""

    class Diff(msgspec.Struct):
        b: msgspec.Raw
        a: msgspec.Raw

    frame = b'{"b":[["0.35000000","1.00000000"]],"a":[ ]}'
    diff = msgspec.json.decode(frame, type=Diff)
    assert kernel.parse_raw_levels(diff.b, 8, 8) == [(35_000_000, 100_000_000)]
    assert kernel.parse_raw_levels(diff.a, 8, 8) == []
    whole = b'[["1","2"]]'
    for raw in (whole, bytearray(whole), memoryview(whole), msgspec.Raw(whole)):
        assert kernel.parse_raw_levels(raw, 0, 0) == [(1, 2)]
    assert kernel.parse_raw_levels(memoryview(b'xx[["1","2"]]yy')[2:-2], 0, 0) == [(1, 2)]


def test_bad_arguments_raise(kernel: ModuleType) -> None:
    with pytest.raises(TypeError):
        kernel.parse_raw_levels('[["1","2"]]', 0, 0)  # a str is not a buffer
    with pytest.raises(TypeError):
        kernel.parse_raw_levels(b"[]", 0)
    with pytest.raises(ValueError):
        kernel.parse_raw_levels(b"[]", -1, 0)
    with pytest.raises(ValueError):
        kernel.parse_raw_levels(b"[]", 0, 0, -1)


# -- parse_raw_float_levels: HTX's JSON numbers ----------------------------------------------


def float_reference(raw: bytes, pd: int, sd: int) -> Levels | None:
    """What the HTX connector makes of ``raw`` without the kernel, None where it raises."""
    try:
        levels = msgspec.json.decode(raw, type=list[tuple[float, float]])
    except msgspec.DecodeError:
        return None
    try:
        return [(parse_float_exact(p, pd), parse_float_rounded(q, sd)) for p, q in levels]
    except NumberFormatError:
        return None


@st.composite
def json_number(draw: st.DrawFn) -> str:
    """A non-negative JSON number as venues write it: plain, Java's 9.121E-7, repr, ints."""
    kind = draw(st.integers(0, 3))
    if kind == 0:  # a plain decimal of up to 18 digits
        whole = draw(st.text("0123456789", min_size=1, max_size=9)).lstrip("0") or "0"
        frac = draw(st.text("0123456789", max_size=9))
        return f"{whole}.{frac}" if frac else whole
    if kind == 1:  # mantissa and exponent
        mantissa = draw(st.integers(1, 10 ** draw(st.integers(1, 17))))
        digits = str(mantissa)
        text = digits[0] + ("." + digits[1:] if len(digits) > 1 else ".0")
        return f"{text}{draw(st.sampled_from('eE'))}{draw(st.sampled_from(['', '+', '-']))}" + str(
            draw(st.integers(0, 25))
        )
    if kind == 2:  # a double as Python writes it: 17 digits, exponents
        return json.dumps(draw(st.one_of(st.just(0.0), st.floats(min_value=1e-30, max_value=1e20))))
    return str(draw(st.integers(0, 10 ** draw(st.integers(0, 20)))))


@st.composite
def float_levels(draw: st.DrawFn) -> tuple[bytes, int, int]:
    pd, sd = draw(st.integers(0, 19)), draw(st.integers(0, 19))
    levels = [
        f"[{draw(ws)}{draw(json_number())}{draw(ws)},{draw(ws)}{draw(json_number())}{draw(ws)}]"
        for _ in range(draw(st.integers(0, 5)))
    ]
    return (draw(ws) + "[" + ",".join(levels) + "]" + draw(ws)).encode(), pd, sd


@given(float_levels())
@example((b"[[9.121E-7,92730.24],[8.987E-7,188358.0]]", 10, 10))
@example((b"[[1.0E7,0.575610404535042]]", 2, 10))
@example((b"[[0.1,0.30000000000000004]]", 1, 10))
@example((b"[[0.123456789012345678,1]]", 18, 0))
@example((b"[[5e-11,2.5e-10],[1.5e-10,0]]", 10, 10))
def test_float_levels_are_msgspec_and_the_float_parsers(
    kernel: ModuleType, case: tuple[bytes, int, int]
) -> None:
    raw, pd, sd = case
    assert kernel.parse_raw_float_levels(raw, pd, sd) == float_reference(raw, pd, sd)


@given(
    float_levels(), st.lists(st.tuples(st.integers(0, 10**6), st.sampled_from(DAMAGE)), max_size=3)
)
def test_damaged_float_levels_are_none_or_the_reference(
    kernel: ModuleType, case: tuple[bytes, int, int], edits: list[tuple[int, str]]
) -> None:
    raw, pd, sd = case
    text = raw.decode()
    for position, char in edits:
        at = position % (len(text) + 1)
        text = text[:at] + char + text[at + 1 :] if position % 2 else text[:at] + char + text[at:]
    damaged = text.encode()
    got = kernel.parse_raw_float_levels(damaged, pd, sd)
    assert got is None or got == float_reference(damaged, pd, sd)


@pytest.mark.parametrize(
    "raw",
    [
        b"[[-1,2]]",
        b"[[1,-2]]",
        b"[[-0.0,1]]",
        b'[["1",2]]',
        b"[[1,2,3]]",
        b"[[1]]",
        b"[[1,2]",
        b"[[1,2]]x",
        b"[[1e999,2]]",
        b"[[0.123,1]]",
        b"[[1,2],]",
        b"[[true,1]]",
    ],
)
def test_float_levels_the_kernel_leaves_to_the_reference(kernel: ModuleType, raw: bytes) -> None:
    assert kernel.parse_raw_float_levels(raw, 2, 10) is None  # 0.123: more than 2 decimals


def test_the_level_cache_keys_on_bytes_reader_and_shape(kernel: ModuleType) -> None:
    """Levels are remembered by their bytes: the same bytes at other precisions, with another
    reader or another shape are parsed again, never answered from the cache."""
    text, floats = b'[["1.5","2"],["1.5","2"]]', b"[[1.5,2],[1.5,2]]"
    for _ in range(2):
        assert kernel.parse_raw_levels(text, 1, 0) == [(15, 2), (15, 2)]
        assert kernel.parse_raw_levels(text, 2, 1) == [(150, 20), (150, 20)]
        assert kernel.parse_raw_levels(text, 0, 0) is None  # 1.5 at 0 decimals
        assert kernel.parse_raw_levels(text, 1, 0, 0, 3) is None
        assert kernel.parse_raw_levels(text, 1, 0, 1) is None
        assert kernel.parse_raw_float_levels(text, 1, 0) is None
        assert kernel.parse_raw_float_levels(floats, 1, 0) == [(15, 2), (15, 2)]
        assert kernel.parse_raw_float_levels(floats, 3, 10) == [(1500, 2 * 10**10)] * 2
        assert kernel.parse_raw_levels(floats, 1, 0) is None
        mixed = b'[["1.5","2",3]]'  # taken without `strings`, never answered from that entry
        assert kernel.parse_raw_levels(mixed, 1, 0) == [(15, 2)]
        assert kernel.parse_raw_levels(mixed, 1, 0, 0, 0, True) is None


def test_many_distinct_levels_replace_each_other_in_the_cache(kernel: ModuleType) -> None:
    levels = [[f"{i}.{i % 97}", f"{i * 7 % 1000}"] for i in range(20_000)]
    raw = json.dumps(levels).encode()
    expected = [(parse_fixed(p, 2), parse_fixed(q, 0)) for p, q in levels]
    assert kernel.parse_raw_levels(raw, 2, 0) == expected
    assert kernel.parse_raw_levels(raw, 2, 0) == expected


def _raw_state(env: dict[str, str]) -> list[str]:
    code = (
        "from orderscope import fixed\n"
        "from orderscope.venues import binance, bitstamp, huobi\n"
        "raw, floats = fixed.NATIVE_RAW, fixed.NATIVE_RAW_FLOATS\n"
        "print(binance.NATIVE_RAW is raw, bitstamp.NATIVE_RAW is raw,"
        " huobi.NATIVE_RAW_FLOATS is floats)\n"
        "print(raw and raw.__module__, floats and floats.__module__)\n"
    )
    return printed_words(code, env)


def test_the_compiled_build_wires_the_raw_kernels_into_the_connectors() -> None:
    if not any(PACKAGE.glob("book.*.so")):
        pytest.skip("a pure-Python build (ORDERSCOPE_PURE_BUILD=1)")
    env = {k: v for k, v in os.environ.items() if k != _compiled.PURE_ENV}
    assert _raw_state(env) == ["True"] * 3 + ["orderscope._levels"] * 2


def test_orderscope_pure_runs_the_typed_paths() -> None:
    assert _raw_state({**os.environ, _compiled.PURE_ENV: "1"}) == ["True"] * 3 + ["None"] * 2
