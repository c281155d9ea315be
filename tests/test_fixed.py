from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from orderscope.fixed import (
    NumberFormatError,
    decimals_of,
    format_fixed,
    parse_fixed,
    parse_fixed_float,
)


@pytest.mark.parametrize(
    ("text", "decimals", "expected"),
    [
        ("0.35130000", 8, 35_130_000),
        ("354.16000000", 2, 35_416),  # trailing zeros beyond the scale are fine
        ("5", 3, 5_000),
        (".5", 2, 50),
        ("5.", 1, 50),
        ("0.000022890", 9, 22_890),
        ("0", 0, 0),
        (".000", 0, 0),
        ("123456789012345678901234567890", 0, 123456789012345678901234567890),
    ],
)
def test_parse_fixed_exact(text: str, decimals: int, expected: int) -> None:
    assert parse_fixed(text, decimals) == expected


@pytest.mark.parametrize(
    "text",
    [
        "354.161",
        "-1",
        "+1",
        "NaN",
        "nan",
        "inf",
        "",
        ".",
        "1e5",
        " 1",
        "1 ",
        "1_0",
        "1.2.3",
        "\u0661",
    ],  # the last: an Arabic-Indic digit one,
)
def test_parse_fixed_rejects(text: str) -> None:
    with pytest.raises(NumberFormatError):
        parse_fixed(text, 2)


@given(st.decimals(min_value=0, max_value=10**12, places=8, allow_nan=False), st.integers(8, 12))
def test_parse_matches_decimal(value: Decimal, decimals: int) -> None:
    text = f"{value:f}"
    assert parse_fixed(text, decimals) == int(value.scaleb(decimals))


@given(st.integers(0, 10**20), st.integers(0, 12))
def test_format_round_trips(value: int, decimals: int) -> None:
    assert parse_fixed(format_fixed(value, decimals), decimals) == value
    assert parse_fixed(format_fixed(value, decimals, strip=True), decimals) == value


def test_format_fixed() -> None:
    assert format_fixed(35_416, 2) == "354.16"
    assert format_fixed(5, 3) == "0.005"
    assert format_fixed(5_000, 3, strip=True) == "5"
    assert format_fixed(-5, 2) == "-0.05"


def test_parse_fixed_float() -> None:
    assert parse_fixed_float(1.7023900800000002, 8) == 170_239_008
    assert parse_fixed_float(0.00002503, 8) == 2_503
    for bad in (float("nan"), float("inf"), -1.0):
        with pytest.raises(NumberFormatError):
            parse_fixed_float(bad, 8)
    with pytest.raises(NumberFormatError):
        parse_fixed_float(0.123456789, 4)


def test_decimals_of() -> None:
    assert decimals_of("0.01000") == 2
    assert decimals_of("1") == 0
    assert decimals_of("10.0") == 0
    assert decimals_of("1e-05") == 5
    assert decimals_of("0.5") == 1
