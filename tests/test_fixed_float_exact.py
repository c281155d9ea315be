"""fixed.parse_float_exact: JSON numbers to scaled ints, every digit kept, nothing rounded."""

from __future__ import annotations

import math
from decimal import ROUND_HALF_EVEN, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from orderscope.fixed import NumberFormatError, parse_float_exact, parse_float_rounded


@pytest.mark.parametrize(
    ("value", "decimals", "expected"),
    [
        (9.121e-7, 10, 9121),  # exponent form, as HTX writes small prices
        (710.01, 2, 71001),
        (0.575610404535042, 18, 575610404535042000),  # an off-grid HTX size, kept exactly
        (4.0e7, 18, 40 * 10**24),
        (92730.24, 18, 9273024 * 10**16),  # many decimals, few used: the 8-decimal fast path
        (0.0, 3, 0),
        (5.0, 0, 5),
        (2.0**53, 0, 2**53),  # past the fast path
    ],
)
def test_exact_values(value: float, decimals: int, expected: int) -> None:
    assert parse_float_exact(value, decimals) == expected


@pytest.mark.parametrize(
    ("value", "decimals"),
    [
        (12345678.901, 2),  # a rounding-based parser would accept this as 12345678.90
        (0.30000000000000004, 1),
        (0.575610404535042, 6),
        (1e-20, 18),
        (1.5e300, 2),
        (-1.0, 2),
        (math.nan, 2),
        (math.inf, 2),
    ],
)
def test_values_that_do_not_fit_raise(value: float, decimals: int) -> None:
    with pytest.raises(NumberFormatError):
        parse_float_exact(value, decimals)


@given(
    st.floats(min_value=0, max_value=1e15, allow_nan=False, allow_infinity=False),
    st.integers(min_value=0, max_value=18),
)
def test_agrees_with_the_shortest_decimal(value: float, decimals: int) -> None:
    shortest = Decimal(repr(value))
    fits = -shortest.normalize().as_tuple().exponent <= decimals  # type: ignore[operator]
    if fits and shortest.adjusted() + decimals < 39:
        assert parse_float_exact(value, decimals) == int(shortest.scaleb(decimals))
    else:
        with pytest.raises(NumberFormatError):
            parse_float_exact(value, decimals)


@pytest.mark.parametrize(
    ("value", "decimals", "expected"),
    [
        (0.575610404535042, 10, 5_756_104_045),  # rounded down past 1e-10
        (0.12345678915, 10, 1_234_567_892),  # ...5 rounds to even (up here: 1 is odd)
        (2.5e-10, 10, 2),  # exactly half: to even
        (3.5e-10, 10, 4),
        (2.5e-11, 10, 0),
        # the cut just before the first digit: 0.55 of a unit rounds up (it once gave 0)
        (5.542179996249466e-11, 10, 1),
        (5e-11, 10, 0),  # exactly half of a unit: to even (0)
        (5.000000000000001e-11, 10, 1),
        (20995.88, 10, 209_958_800_000_000),  # exact values are untouched
        (220000000.0, 10, 2_200_000_000_000_000_000),
    ],
)
def test_parse_float_rounded(value: float, decimals: int, expected: int) -> None:
    assert parse_float_rounded(value, decimals) == expected


@given(st.floats(min_value=0, max_value=1e9, allow_nan=False, allow_infinity=False))
def test_parse_float_rounded_matches_decimal_half_even(value: float) -> None:
    expected = int(Decimal(repr(value)).scaleb(10).quantize(Decimal(1), ROUND_HALF_EVEN))
    assert parse_float_rounded(value, 10) == expected


def test_parse_float_rounded_rejects_what_is_not_a_size() -> None:
    for bad in (float("nan"), float("inf"), -1.0):
        with pytest.raises(NumberFormatError):
            parse_float_rounded(bad, 10)
