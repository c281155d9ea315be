"""orderscope._checksum (C, src/orderscope/_checksum.c) must be the connectors' Python checksums.

The C module is loaded from its file here, so under ORDERSCOPE_PURE=1 it is compared with the
pure-Python book and checksums too. It returns the reference's checksum, or None where it
leaves the book to the reference (ints beyond int64, values <= 0, decimals it does not take);
the connectors then run the reference, which the last tests check through them.
"""

from __future__ import annotations

import os
import subprocess
import sys
import zlib
from types import ModuleType

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from orderscope import _compiled
from orderscope.book import L2Book
from orderscope.model import Instrument, InstrumentKind
from orderscope.venues.kraken import CHECKSUM_LEVELS, _BookWire
from orderscope.venues.okx import Okx, reference_checksum
from tests.native_kernel import PACKAGE, load_native

INT64_MAX = 2**63 - 1


def _load_kernel() -> ModuleType:
    return load_native("_checksum")


@pytest.fixture(scope="module")
def kernel() -> ModuleType:
    return _load_kernel()


def _instrument(price_decimals: int = 2, size_decimals: int = 8) -> Instrument:
    return Instrument(
        venue="okx",
        symbol="BTC/USDT",
        venue_symbol="BTC-USDT",
        base="BTC",
        quote="USDT",
        kind=InstrumentKind.SPOT,
        price_decimals=price_decimals,
        size_decimals=size_decimals,
        tick_size=1,
        lot_size=1,
    )


def _book(bids: dict[int, int], asks: dict[int, int]) -> L2Book:
    result = L2Book(_instrument())
    result.apply_snapshot(list(bids.items()), list(asks.items()))
    return result


# Mostly values the fast path takes, with the edges of int64 and beyond (the reference's).
VALUES = st.one_of(
    st.integers(min_value=1, max_value=10**12),
    st.integers(min_value=1, max_value=INT64_MAX),
    st.sampled_from([1, 10, 100, 10**18, INT64_MAX, INT64_MAX + 1, 2**64, 10**30]),
)
SIDES = st.dictionaries(VALUES, VALUES, max_size=40)


def _fits(side: dict[int, int]) -> bool:
    return all(0 < v <= INT64_MAX for level in side.items() for v in level)


def _kraken_reference(levels: L2Book, price_zeros: int, size_zeros: int, n: int) -> int:
    return _BookWire.of(price_zeros, size_zeros).checksum(levels.asks(n), levels.bids(n))


@given(SIDES, SIDES, st.integers(0, 12), st.integers(0, 12), st.integers(0, 30))
@example({}, {}, 0, 0, 10)
@example({1: 1}, {2: INT64_MAX}, 0, 12, 10)
def test_kraken_is_the_reference(
    kernel: ModuleType,
    bids: dict[int, int],
    asks: dict[int, int],
    price_zeros: int,
    size_zeros: int,
    n: int,
) -> None:
    levels = _book(bids, asks)
    ours = kernel.kraken(levels, n, price_zeros, size_zeros)
    if _fits(dict(levels.bids(n))) and _fits(dict(levels.asks(n))):
        assert ours == _kraken_reference(levels, price_zeros, size_zeros, n)
    else:
        assert ours is None  # beyond int64: the reference's


@given(
    st.lists(st.tuples(st.integers(1, 40), st.integers(1, 3)), min_size=1, max_size=30),
    st.lists(st.tuples(st.integers(0, 32), st.integers(0, 32)), min_size=1, max_size=4),
)
def test_kraken_level_texts_kept_between_calls(
    kernel: ModuleType, levels: list[tuple[int, int]], zeros: list[tuple[int, int]]
) -> None:
    # the C keeps level texts from one checksum to the next, by (price, size, zeros): a few
    # prices and sizes over and over, with other zeros, and texts too long to keep (32 zeros)
    for price_zeros, size_zeros in zeros:
        for price, size in levels:
            book = _book({price: size}, {price + 41: size * 10**17})
            expected = _kraken_reference(book, price_zeros, size_zeros, CHECKSUM_LEVELS)
            assert kernel.kraken(book, CHECKSUM_LEVELS, price_zeros, size_zeros) == expected


@given(
    SIDES,
    SIDES,
    st.integers(0, 18),
    st.integers(0, 18),
    st.sampled_from([1, 1, 2, 10, 100, 7]),
    st.integers(0, 30),
)
@example({}, {}, 0, 0, 1, 25)
@example({100: 1}, {101: 2, 102: 3}, 0, 0, 1, 25)
@example({5: 10**8}, {6: 12_000}, 8, 8, 1, 25)  # "0.00000005:1", "0.00000006:0.00012"
@example({10**20: 1}, {}, 2, 2, 1, 25)  # beyond int64
def test_okx_is_the_reference(
    kernel: ModuleType,
    bids: dict[int, int],
    asks: dict[int, int],
    price_decimals: int,
    size_decimals: int,
    multiplier: int,
    n: int,
) -> None:
    levels = _book(bids, asks)
    ours = kernel.okx(levels, n, price_decimals, size_decimals, multiplier)
    reference = reference_checksum(levels, price_decimals, size_decimals, multiplier, n, {})
    if _fits(dict(levels.bids(n))) and _fits(dict(levels.asks(n))):
        assert ours == reference
    else:
        assert ours is None


def test_known_texts(kernel: ModuleType) -> None:
    # OKX's documented example: "3366.1:7:3366.8:9:3366:6:3368:8"
    levels = _book({33661: 7, 33660: 6}, {33668: 9, 33680: 8})
    assert kernel.okx(levels, 25, 1, 0, 1) == -1881014294
    # Kraken's: each number's digits, then the zeros of the decimals the instrument lacks
    levels = _book({55413: 2}, {55414: 3})
    text = "55414" + "000" + "3" + "0" + "55413" + "000" + "2" + "0"
    assert kernel.kraken(levels, 10, 3, 1) == zlib.crc32(text.encode())


def test_what_the_fast_path_leaves_to_the_reference(kernel: ModuleType) -> None:
    levels = _book({100: 1}, {101: 2})
    assert kernel.kraken(levels, 10, -1, 0) is None  # wire decimals below the instrument's
    assert kernel.kraken(levels, 10, 0, 33) is None  # more zeros than the fast path writes
    assert kernel.okx(levels, 25, 33, 0, 1) is None
    assert kernel.okx(levels, 25, 2, 2, 0) is None  # no multiplier
    assert kernel.okx(levels, 25, 2, 2, 2**64) is None
    assert kernel.okx(object(), 25, 2, 2, 1) is None  # not a book
    assert kernel.kraken(levels, True, 0, 0) is None  # not an exact int
    with pytest.raises(TypeError):
        kernel.okx(levels, 25)


def test_a_price_without_its_size_is_left_to_the_reference(kernel: ModuleType) -> None:
    class Broken:
        def __init__(self) -> None:
            self._bid_sizes: dict[int, int] = {}
            self._bid_prices = [5]
            self._ask_sizes: dict[int, int] = {}
            self._ask_prices: list[int] = []

    assert kernel.kraken(Broken(), 10, 0, 0) is None
    assert kernel.okx(Broken(), 25, 0, 0, 1) is None


def test_the_connectors_fall_back_to_the_reference() -> None:
    # int64 overflow: the connector's checksum is the reference's, in either build
    okx = Okx([_instrument(2, 8)])
    levels = _book({2**70: 3}, {2**71: 10**30})
    assert okx.checksum(levels) == reference_checksum(levels, 2, 8, 1, 25, {})
    wire = _BookWire.of(0, 0)
    assert wire.book_checksum(levels) == _kraken_reference(levels, 0, 0, CHECKSUM_LEVELS)


def _native_state(env: dict[str, str]) -> list[str]:
    code = (
        "from orderscope.venues import checksum\n"
        "print(checksum.NATIVE_KRAKEN is not None, checksum.NATIVE_OKX is not None)\n"
        "print(checksum.NATIVE_OKX and checksum.NATIVE_OKX.__module__)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    return out.stdout.split()


def test_the_compiled_build_runs_the_c_kernel() -> None:
    env = {k: v for k, v in os.environ.items() if k != _compiled.PURE_ENV}
    if not any(PACKAGE.glob("book.*.so")):
        pytest.skip("a pure-Python build (ORDERSCOPE_PURE_BUILD=1)")
    assert _native_state(env) == ["True", "True", "orderscope._checksum"]


def test_orderscope_pure_runs_the_python_reference() -> None:
    assert _native_state({**os.environ, _compiled.PURE_ENV: "1"}) == ["False", "False", "None"]


def test_texts_longer_than_the_c_buffer(kernel: ModuleType) -> None:
    # 800 levels: the C hashes its 2 KB text buffer many times over, mid-level included
    levels = _book(
        {10**9 + i: 3 * i + 1 for i in range(400)}, {2 * 10**9 + i: 7 for i in range(400)}
    )
    assert kernel.kraken(levels, 400, 5, 3) == _kraken_reference(levels, 5, 3, 400)
    reference = reference_checksum(levels, 4, 8, 1, 400, {})
    assert kernel.okx(levels, 400, 4, 8, 1) == reference


@pytest.mark.parametrize(
    "value", [1, 2**30 - 1, 2**30, 2**30 + 1, 2**60 - 1, 2**60, 2**60 + 1, INT64_MAX]
)
def test_ints_of_one_two_and_three_digits(kernel: ModuleType, value: int) -> None:
    # CPython 3.11 keeps ints in 30-bit digits: the C reads one or two directly, more by its API
    levels = _book({value: value}, {value + 1: 1} if value < INT64_MAX else {})
    assert kernel.kraken(levels, 10, 0, 0) == _kraken_reference(levels, 0, 0, 10)
    assert kernel.okx(levels, 25, 3, 0, 1) == reference_checksum(levels, 3, 0, 1, 25, {})
