"""orderscope._levels (C, src/orderscope/_levels.c) must be parse_fixed applied text by text.

The C module is loaded from its file here, so these tests compare it with the pure-Python
``parse_fixed`` under ORDERSCOPE_PURE=1 too (the strictest reference), and with the compiled one
otherwise. Results and errors must be the same: the ints, the exception type and its message.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from orderscope import _compiled, fixed
from orderscope.fixed import parse_fixed
from tests.native_kernel import load_native

PACKAGE = Path(fixed.__file__ or "").parent


def _load_kernel() -> ModuleType:
    """The built extension, loaded from its file whatever this process runs."""
    return load_native("_levels")


@pytest.fixture(scope="module")
def kernel() -> ModuleType:
    return _load_kernel()


Outcome = tuple[str, object]


def _outcome(call: Callable[[], object]) -> Outcome:
    try:
        return ("ok", call())
    except (ValueError, TypeError, AttributeError, IndexError) as exc:
        return (type(exc).__name__, str(exc))


def _reference_pairs(raw: Sequence[Sequence[str]], pd: int, sd: int) -> list[tuple[int, int]]:
    return [(parse_fixed(p, pd), parse_fixed(q, sd)) for p, q in raw]


def _reference_columns(
    raw: Sequence[Sequence[str]], pd: int, sd: int, first: int = 0
) -> list[tuple[int, int]]:
    levels = []
    for level in raw:
        p, q = level[first], level[first + 1]  # as OKX reads them: a short level first
        levels.append((parse_fixed(p, pd), parse_fixed(q, sd)))
    return levels


@st.composite
def decimal_text(draw: st.DrawFn) -> str:
    """A plain decimal, from a few digits to far beyond int64, with or without a '.'."""
    whole = draw(st.text("0123456789", max_size=30))
    if draw(st.booleans()):
        return whole or "0"
    frac = draw(st.text("0123456789", max_size=30))
    return f"{whole}.{frac}{'0' * draw(st.integers(0, 12))}"


#: What a bad frame carries: signs, spaces, exponents, commas, underscores, non-ASCII digits.
near_miss = st.text(alphabet="0123456789.,-+ eE_x\u0663\u0661\u00b2", max_size=24)
any_text = st.one_of(decimal_text(), near_miss, st.text(max_size=8))
#: Beyond 19 the C code hands every text to parse_fixed; beyond 39 parse_fixed itself raises.
decimals = st.integers(0, 42)

EDGES = [
    "",
    ".",
    ".5",
    "5.",
    "0",
    "00.00",
    "1e5",
    "-1",
    "+1",
    " 1",
    "1 ",
    "\u0661",  # ARABIC-INDIC DIGIT ONE: a digit to str.isdigit, not to the venues
    "1.2.3",
    "1_000",
    "354.16000000",
    "354.16000001",
    "9223372036854775807",
    "9223372036854775808",
    "18446744073709551615",
    "18446744073709551616",
    "92233720368.54775807",
    "92233720368.54775808",
    "1" * 60,
    "0" * 60 + "1",
    "1." + "0" * 60,
    "0." + "0" * 59 + "1",
]


@given(any_text, decimals)
@example("92233720368.54775807", 8)
@example("92233720368.54775808", 8)
@example("0.000000001", 8)
@example("0.000000010", 8)
def test_parse_many_is_parse_fixed(kernel: ModuleType, text: str, places: int) -> None:
    assert _outcome(lambda: kernel.parse_many([text], places)) == _outcome(
        lambda: [parse_fixed(text, places)]
    )


@pytest.mark.parametrize("text", EDGES)
@pytest.mark.parametrize("places", [0, 1, 2, 8, 18, 19, 20, 39, 40])
def test_edges(kernel: ModuleType, text: str, places: int) -> None:
    assert _outcome(lambda: kernel.parse_many([text], places)) == _outcome(
        lambda: [parse_fixed(text, places)]
    )


def test_large_values_are_python_ints(kernel: ModuleType) -> None:
    assert kernel.parse_many(["9223372036854775807", "9223372036854775808"], 0) == [
        2**63 - 1,
        2**63,
    ]
    assert kernel.parse_many(["1" * 40], 2) == [int("1" * 40) * 100]
    assert kernel.parse_many(["12.5"], 30) == [125 * 10**29]


@given(st.lists(any_text, max_size=12), decimals)
def test_batches_fail_on_the_first_bad_text(
    kernel: ModuleType, texts: list[str], places: int
) -> None:
    assert _outcome(lambda: kernel.parse_many(texts, places)) == _outcome(
        lambda: [parse_fixed(t, places) for t in texts]
    )


pairs = st.lists(
    st.one_of(
        st.tuples(any_text, any_text),
        st.lists(decimal_text(), min_size=2, max_size=2),
        st.lists(decimal_text(), max_size=4),  # not a pair
    ),
    max_size=10,
)


@given(pairs, decimals, decimals)
def test_parse_pairs_is_unpacking_and_parse_fixed(
    kernel: ModuleType, raw: list[Sequence[str]], pd: int, sd: int
) -> None:
    assert _outcome(lambda: kernel.parse_pairs(raw, pd, sd)) == _outcome(
        lambda: _reference_pairs(raw, pd, sd)
    )


@given(
    st.lists(st.lists(st.one_of(decimal_text(), near_miss), max_size=5), max_size=10),
    decimals,
    decimals,
    st.integers(0, 2),
)
def test_parse_columns_reads_two_fields(
    kernel: ModuleType, raw: list[list[str]], pd: int, sd: int, first: int
) -> None:
    assert _outcome(lambda: kernel.parse_columns(raw, pd, sd, first)) == _outcome(
        lambda: _reference_columns(raw, pd, sd, first)
    )


@pytest.mark.parametrize(
    "raw", [[["1.0"]], [("1.0", "2.0", "3.0")], [[]], [["1.0", "2.0"], ["3.0"]]]
)
def test_levels_that_are_not_pairs(kernel: ModuleType, raw: list[Sequence[str]]) -> None:
    got = _outcome(lambda: kernel.parse_pairs(raw, 2, 2))
    assert got == _outcome(lambda: _reference_pairs(raw, 2, 2))
    assert got[0] == "ValueError"  # parse_levels makes it a MalformedFrame


def test_levels_too_short_or_not_sequences(kernel: ModuleType) -> None:
    assert _outcome(lambda: kernel.parse_columns([["1.0"]], 2, 2))[0] == "IndexError"
    with pytest.raises(TypeError):
        kernel.parse_pairs([5], 2, 2)  # not a sequence: as `p, q = 5` raises
    with pytest.raises(TypeError):
        kernel.parse_pairs(5, 2, 2)


@pytest.mark.parametrize("value", [5, 1.5, None, b"1.0", ["1.0"]])
def test_values_that_are_not_str_raise_as_parse_fixed_does(
    kernel: ModuleType, value: object
) -> None:
    raw = [("1.00", value)]
    expected = _outcome(lambda: _reference_pairs(raw, 2, 2))  # type: ignore[arg-type]
    assert expected[0] != "ok"
    assert _outcome(lambda: kernel.parse_pairs(raw, 2, 2)) == expected
    assert _outcome(lambda: kernel.parse_many([value], 2)) == expected


def test_str_subclasses_are_parsed_by_the_reference(kernel: ModuleType) -> None:
    class Text(str):
        pass

    assert kernel.parse_pairs([(Text("1.50"), Text("2"))], 2, 0) == [(150, 2)]


def printed_words(code: str, env: dict[str, str]) -> list[str]:
    """What ``code`` prints, split, run in a fresh interpreter with ``env``."""
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    return out.stdout.split()


def _native_state(env: dict[str, str]) -> list[str]:
    code = (
        "from orderscope import fixed\n"
        "from orderscope.venues import base\n"
        "print(fixed.NATIVE_PAIRS is not None, base.NATIVE_PAIRS is fixed.NATIVE_PAIRS)\n"
        "print(fixed.NATIVE_PAIRS and fixed.NATIVE_PAIRS.__module__)\n"
    )
    return printed_words(code, env)


def test_the_compiled_build_runs_the_c_kernel() -> None:
    env = {k: v for k, v in os.environ.items() if k != _compiled.PURE_ENV}
    if not any(PACKAGE.glob("book.*.so")):
        pytest.skip("a pure-Python build (ORDERSCOPE_PURE_BUILD=1)")
    assert _native_state(env) == ["True", "True", "orderscope._levels"]


def test_orderscope_pure_runs_the_python_reference() -> None:
    assert _native_state({**os.environ, _compiled.PURE_ENV: "1"}) == ["False", "True", "None"]
