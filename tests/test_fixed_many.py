"""parse_fixed_many must be parse_fixed applied string by string: same ints, same errors."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from orderscope.fixed import NumberFormatError, parse_fixed, parse_fixed_many


def _one_by_one(texts: list[str], decimals: int) -> list[int] | str:
    try:
        return [parse_fixed(t, decimals) for t in texts]
    except NumberFormatError as exc:
        return str(exc)


def _batched(texts: list[str], decimals: int) -> list[int] | str:
    try:
        return parse_fixed_many(texts, decimals)
    except NumberFormatError as exc:
        return str(exc)


@st.composite
def decimal_text(draw: st.DrawFn, frac_len: int | None = None) -> str:
    whole = draw(st.integers(0, 10**12))
    frac = draw(st.integers(0, 8)) if frac_len is None else frac_len
    if frac == 0:
        return str(whole)
    return f"{whole}.{draw(st.integers(0, 10**frac - 1)):0{frac}d}"


#: Strings that look almost right: what a bad frame carries.
near_miss = st.text(alphabet="0123456789.,-+ e_٣", min_size=0, max_size=12)


@given(st.integers(0, 8), st.integers(0, 8), st.lists(st.integers(0, 10**9), max_size=30))
def test_same_precision_batches_match(frac_len: int, decimals: int, wholes: list[int]) -> None:
    texts = [f"{w}.{w % 10**frac_len:0{frac_len}d}" if frac_len else str(w) for w in wholes]
    assert _batched(texts, decimals) == _one_by_one(texts, decimals)


@given(
    st.lists(st.one_of(decimal_text(), near_miss), max_size=20),
    st.integers(0, 10),
)
def test_any_batch_matches_one_by_one(texts: list[str], decimals: int) -> None:
    assert _batched(texts, decimals) == _one_by_one(texts, decimals)


@pytest.mark.parametrize(
    ("texts", "decimals"),
    [
        (["1.00,2.00", "3.00"], 2),  # a comma inside one text must not shift the others
        (["1.00", "2.00,3.00"], 2),
        ([".5", "1.5"], 2),  # accepted one by one, not by the batch pattern
        (["5.", "6."], 1),
        (["1.50", "2.25"], 1),  # more decimals than the instrument has: the last one raises
        (["1.50", "2.20"], 1),  # trailing zeros only: fine
        (["1.5", "2.25"], 2),  # mixed precision
        (["\u0661.5", "2.5"], 1),  # a non-ASCII digit (ARABIC-INDIC ONE)
        (["1.5", "-2.5"], 1),
        (["1", "2", "3"], 4),
    ],
)
def test_edge_batches(texts: list[str], decimals: int) -> None:
    assert _batched(texts, decimals) == _one_by_one(texts, decimals)


def test_batch_scales_to_the_instrument_precision() -> None:
    assert parse_fixed_many(["0.35210000", "672.00000000"], 8) == [35_210_000, 67_200_000_000]
    assert parse_fixed_many(["7.611", "7.6"], 4) == [76_110, 76_000]
    assert parse_fixed_many(["6", "161"], 3) == [6_000, 161_000]
    assert parse_fixed_many([], 2) == []
