"""orderscope._book (C, src/orderscope/_book.c) must be book.py's reference functions.

The C module is loaded from its file here, so these tests compare it with the pure-Python
reference under ORDERSCOPE_PURE=1 too, and with the compiled one otherwise: the same dicts (in
the same order), the same sorted price lists, the same counts, the same exceptions.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from orderscope import _compiled, book
from orderscope.book import _absent_deletion, _apply_levels, _load_levels, _top_levels
from tests.native_kernel import load_native


def _load_kernel() -> ModuleType:
    return load_native("_book")


@pytest.fixture(scope="module")
def kernel() -> ModuleType:
    return _load_kernel()


# Prices: a narrow range (collisions, deletes of present levels), the edges of one and two
# 30-bit digits (CPython 3.11's read of an int) and of int64, ints beyond int64 (the
# comparisons' slow path), negatives.
EDGES = [2**30 - 1, 2**30, -(2**30), 2**60 - 1, 2**60, -(2**60), 2**63 - 1, 2**63, -(2**63)]
EDGES += [-(2**63) - 1, 2**64, 2**70 + 3, -(2**70)]
PRICES = st.one_of(st.integers(-3, 12), st.sampled_from(EDGES), st.integers(-(2**80), 2**80))
SIZES = st.one_of(st.just(0), st.integers(0, 5), st.sampled_from([2**63, -1, 2**90]))
GOOD = st.tuples(PRICES, SIZES)
# What the C loop does not take: the reference runs (from there on) and gives its own errors.
ODD: st.SearchStrategy[Any] = st.one_of(
    st.tuples(PRICES, SIZES).map(list),  # a list, not a tuple
    st.tuples(PRICES, SIZES, SIZES),  # too many values to unpack
    st.tuples(PRICES),  # too few
    st.tuples(st.floats(-3, 12, allow_nan=False), SIZES),  # a float price, compared with ints
    st.tuples(PRICES, st.booleans()),  # a bool size: an int subclass
    st.tuples(st.booleans(), SIZES),  # a bool price
    st.tuples(st.just("x"), SIZES),  # a price ints cannot be compared with: TypeError
    st.just(7),  # not a level at all
)
# mostly levels the C loop takes, from start to end (the fast path), some with odd ones
LEVELS = st.one_of(
    st.lists(GOOD, max_size=10), st.lists(st.one_of(GOOD, GOOD, GOOD, ODD), max_size=10)
)
CONTAINERS = st.sampled_from(["list", "tuple", "generator"])


def _container(kind: str, levels: list[Any]) -> Iterable[Any]:
    if kind == "tuple":
        return tuple(levels)
    if kind == "generator":
        return (level for level in levels)
    return list(levels)


Outcome = tuple[str, object]


def _outcome(call: Callable[..., object], *args: object) -> Outcome:
    try:
        return ("ok", call(*args))
    except (ValueError, TypeError, IndexError, KeyError) as exc:
        return (type(exc).__name__, str(exc))


class Side:
    """One side of a book: the representation book.py keeps."""

    def __init__(self) -> None:
        self.sizes: dict[Any, Any] = {}
        self.prices: list[Any] = []

    def state(self) -> tuple[list[tuple[Any, Any]], list[Any]]:
        return list(self.sizes.items()), list(self.prices)


def _apply_reference(bids: Side, asks: Side, b: Iterable[Any], a: Iterable[Any]) -> int:
    """What L2Book.apply_delta does without the kernel."""
    count = _apply_levels(bids.sizes, bids.prices, b) if b else 0
    if a:
        count += _apply_levels(asks.sizes, asks.prices, a)
    return count


def _apply_native(
    kernel: ModuleType, bids: Side, asks: Side, b: Iterable[Any], a: Iterable[Any]
) -> int:
    sides = (bids.sizes, bids.prices, asks.sizes, asks.prices)
    return int(kernel.apply_sides(*sides, b, a, _apply_levels))


def _load_native(kernel: ModuleType, side: Side, levels: Iterable[Any]) -> int:
    """What L2Book.apply_snapshot does with the kernel (the reference when it says None)."""
    got = kernel.load_side(side.sizes, side.prices, levels)
    return _load_levels(side.sizes, side.prices, levels) if got is None else int(got)


Operation = tuple[str, str, list[Any], list[Any], int | None]
OPERATIONS = st.lists(
    st.tuples(
        st.sampled_from(["delta", "delta", "delta", "snapshot", "top"]),
        CONTAINERS,
        LEVELS,
        LEVELS,
        st.one_of(st.none(), st.integers(-4, 14), st.sampled_from([2**70, -(2**70)])),
    ),
    max_size=25,
)


def _run(ops: list[Operation], kernel: ModuleType | None) -> list[object]:
    """Every outcome and the sides' state after each operation."""
    bids, asks = Side(), Side()
    seen: list[object] = []
    for kind, container, bid_levels, ask_levels, n in ops:
        b = _container(container, bid_levels)
        a = _container(container, ask_levels)
        if kind == "delta":
            if kernel is None:
                seen.append(_outcome(_apply_reference, bids, asks, b, a))
            else:
                seen.append(_outcome(_apply_native, kernel, bids, asks, b, a))
        elif kind == "snapshot":
            for side, levels in ((bids, b), (asks, a)):
                side.sizes.clear()
                side.prices.clear()
                if kernel is None:
                    seen.append(_outcome(_load_levels, side.sizes, side.prices, levels))
                else:
                    seen.append(_outcome(_load_native, kernel, side, levels))
        else:
            top = _top_levels if kernel is None else kernel.top_levels
            for side, best_last in ((bids, True), (asks, False)):
                seen.append(_outcome(top, side.sizes, side.prices, n, best_last))
        seen.append((bids.state(), asks.state()))
    return seen


@settings(max_examples=300, deadline=None)  # a loaded machine: no time limit
@given(OPERATIONS)
@example([("delta", "list", [(1, 1), (1, 0), (1, 0), (2**64, 3), (2**64, 0)], [], None)])
@example([("delta", "list", [(1, 1), ("x", 1), (3, 1)], [(1, 1)], None)])
@example([("snapshot", "tuple", [(5, 1), (5, 0), (2**70, 2), (-1, 1)], [(1, 0)], None)])
@example([("delta", "list", [(1, 2), (1.5, 2), (2**70, 1)], [], None)] * 2)
def test_kernel_equals_reference(kernel: ModuleType, ops: list[Operation]) -> None:
    assert _run(ops, kernel) == _run(ops, None)


@given(
    st.lists(st.tuples(st.integers(-(2**70), 2**70), st.integers(1, 9)), max_size=20),
    st.one_of(st.none(), st.integers(-30, 30), st.sampled_from([2**70, -(2**70), 0])),
    st.booleans(),
)
def test_top_levels_slices_as_the_reference(
    kernel: ModuleType, levels: list[tuple[int, int]], n: int | None, best_last: bool
) -> None:
    side = Side()
    _load_levels(side.sizes, side.prices, levels)
    assert kernel.top_levels(side.sizes, side.prices, n, best_last) == _top_levels(
        side.sizes, side.prices, n, best_last
    )


@given(
    st.dictionaries(PRICES, SIZES, max_size=8),
    st.dictionaries(PRICES, SIZES, max_size=8),
    LEVELS,
    LEVELS,
    CONTAINERS,
)
@example({}, {}, [(1, 1), (2, 0)], [(3, 0)], "list")
@example({2: 1}, {}, [(2, 0), (2**70, 0)], [], "tuple")
def test_absent_deletion_equals_reference(
    kernel: ModuleType,
    bid_sizes: dict[int, int],
    ask_sizes: dict[int, int],
    bids: list[Any],
    asks: list[Any],
    container: str,
) -> None:
    # read only: when the kernel says False (not taken) the reference runs from the start
    # the price as given (a 2**70 stays an exact int), the first one in bids, then asks
    got = _outcome(kernel.absent_deletion, bid_sizes, ask_sizes, *_twice(container, bids, asks))
    if got == ("ok", False):
        assert any(not _simple(level) for level in [*bids, *asks]) or container == "generator"
        got = _outcome(_absent_deletion, bid_sizes, ask_sizes, *_twice(container, bids, asks))
    want = _outcome(_absent_deletion, bid_sizes, ask_sizes, *_twice(container, bids, asks))
    assert got == want


def _twice(container: str, bids: list[Any], asks: list[Any]) -> tuple[Iterable[Any], ...]:
    return _container(container, bids), _container(container, asks)


def _simple(level: object) -> bool:
    return (
        # exact ints (not bools) in an exact 2-tuple: what the C loop takes
        type(level) is tuple and len(level) == 2 and all(type(v) is int for v in level)
    )


def test_what_the_kernel_does_not_take_is_left_to_the_reference(kernel: ModuleType) -> None:
    sizes: dict[int, int] = {}
    prices: list[int] = []
    assert kernel.load_side(sizes, prices, [[1, 2]]) is None  # a list level
    assert kernel.load_side(sizes, prices, iter([(1, 2)])) is None  # an iterator
    assert sizes == {} and prices == []  # nothing changed before saying so
    assert kernel.top_levels(sizes, prices, 2.0, True) is None  # a float n
    assert kernel.top_levels(sizes, prices, True, False) is None  # a bool n
    kernel.load_side(sizes, prices, [(3, 1), (1, 2)])
    assert kernel.load_side(sizes, prices, [(2, 2)]) is None  # a side not empty: the reference
    calls: list[list[object]] = []

    def reference(s: dict[int, int], p: list[int], levels: Iterable[Any]) -> int:
        calls.append(list(levels))
        return len(calls[-1])

    # the rest of a side from its first odd level goes to the reference
    got = kernel.apply_sides(sizes, prices, {}, [], [(2, 5), [4, 1], (5, 1)], [], reference)
    assert got == 3 and calls == [[[4, 1], (5, 1)]]
    assert sizes == {3: 1, 1: 2, 2: 5} and prices == [1, 2, 3]


def test_a_missing_level_raises_the_dicts_key_error(kernel: ModuleType) -> None:
    # an inconsistent side (never built by the book): the reference's KeyError, not a crash
    for args in (({1: 1}, [1, 2], None, False), ({}, [(1, 2)], 1, True)):
        assert _outcome(kernel.top_levels, *args) == _outcome(_top_levels, *args)


def test_the_compiled_book_uses_the_kernel() -> None:
    # a compiled build runs the C functions, a pure run the reference (no silent fallback)
    code = "import orderscope.book as b; print(b.NATIVE_APPLY is not None, b.__file__)"
    env = {k: v for k, v in os.environ.items() if k != _compiled.PURE_ENV}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout.split()
    if out[1].endswith(".py"):
        pytest.skip("a pure-Python build: nothing compiled")
    assert out[0] == "True"
    pure = subprocess.run(
        [sys.executable, "-c", code],
        env={**env, _compiled.PURE_ENV: "1"},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert pure == ["False", str(Path(book.__file__ or "").with_name("book.py"))]


def _replaced_by_reference(side: Side, levels: list[Any]) -> int:
    """What L2Book.apply_snapshot does to a side without the kernel: empty it, load it."""
    side.sizes.clear()
    side.prices.clear()
    return _load_levels(side.sizes, side.prices, levels)


def _contents(side: Side) -> tuple[dict[Any, Any], list[Any]]:
    """A side's levels and sorted prices; not the dict's order, which replace_side does not keep
    (nothing reads it: every reader goes through the sorted prices or looks a price up)."""
    return dict(side.sizes), list(side.prices)


# Whole books as venues send them: strictly sorted (either way), mostly prices seen before.
BOOK_PRICES = st.one_of(st.integers(0, 40), st.sampled_from(EDGES))
WHOLE_BOOKS = st.tuples(
    st.lists(st.tuples(BOOK_PRICES, st.integers(1, 5)), max_size=12, unique_by=lambda lv: lv[0]),
    st.booleans(),
).map(lambda book: sorted(book[0], reverse=book[1]))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(WHOLE_BOOKS, LEVELS), min_size=1, max_size=8))
def test_replace_side_equals_clear_and_load(kernel: ModuleType, books: list[list[Any]]) -> None:
    """Snapshot after snapshot on one side: the kernel's side (the reference's when it says
    None, having changed nothing) holds what clearing and loading would have left."""
    native, reference = Side(), Side()
    for levels in books:
        before = _contents(native)
        expected = _outcome(_replaced_by_reference, reference, levels)
        got = kernel.replace_side(native.sizes, native.prices, levels)
        if got is None:
            assert _contents(native) == before  # not taken: untouched
            assert _outcome(_replaced_by_reference, native, levels) == expected
        else:
            assert ("ok", got) == expected
        assert _contents(native) == _contents(reference)


def test_replace_side_takes_whole_sorted_books_only(kernel: ModuleType) -> None:
    side = Side()
    _replaced_by_reference(side, [(5, 1), (3, 2), (1, 1)])
    bids = [(6, 1), (5, 4), (1, 1)]  # best first: 3 gone, 6 new, 5 changed
    assert kernel.replace_side(side.sizes, side.prices, bids) == 3
    assert _contents(side) == ({1: 1, 5: 4, 6: 1}, [1, 5, 6])
    assert kernel.replace_side(side.sizes, side.prices, [(1, 1), (7, 2)]) == 2  # ascending
    assert _contents(side) == ({1: 1, 7: 2}, [1, 7])
    for refused in (
        [(7, 1), (1, 2), (4, 1)],  # not sorted
        [(1, 1), (1, 2)],  # a price twice
        [(1, 1), (2, 0)],  # a size 0
        [(1, 1), (2**64, 1)],  # a price beyond int64
        [(1, 1), [2, 1]],  # a list level
        [(1, 1)],  # one level: the reference is as cheap
        iter([(1, 1), (2, 1)]),  # an iterator
    ):
        assert kernel.replace_side(side.sizes, side.prices, refused) is None
        assert _contents(side) == ({1: 1, 7: 2}, [1, 7])
    empty = Side()
    assert kernel.replace_side(empty.sizes, empty.prices, [(1, 1), (2, 1)]) is None  # load_side's
    with pytest.raises(TypeError):
        kernel.replace_side(side.sizes, side.prices)
