"""parse_fixed_float: venue floats are taken as the decimal they mean, and only that."""

from __future__ import annotations

import math

import pytest

from orderscope.fixed import NumberFormatError, parse_fixed_float


@pytest.mark.parametrize(
    ("value", "scaled"),
    [
        (1.7023900800000002, 170239008),  # venue-side float noise, 1 ulp off
        (86.1954264299999, 8619542643),  # 5 ulps off, from the Bitfinex capture
        (0.30000000000000004, 30000000),
        (5e-7, 50),
        (60400, 6040000000000),  # JSON integers are exact
        (0.0, 0),
    ],
)
def test_noise_of_a_few_ulps_is_the_decimal(value: float, scaled: int) -> None:
    assert parse_fixed_float(value, 8) == scaled


@pytest.mark.parametrize(
    "value", [0.123456789, 1.000000001, 12345.123456785, 1e-9, -1.0, -3, math.nan, math.inf]
)
def test_a_real_extra_decimal_or_a_non_number_raises(value: float) -> None:
    with pytest.raises(NumberFormatError):
        parse_fixed_float(value, 8)
