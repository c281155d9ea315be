"""The exact L2 order book of one instrument on one venue.

Levels are kept as scaled integers (see ``orderscope.fixed``), so a venue's diffs are applied
exactly as sent and two prices can never collapse into one. Each side is a dict
``price -> size`` plus a sorted list of its prices: updating an existing level is one dict
store, and only inserting or deleting a level touches the sorted list (a C-level memmove via
``bisect``). Reading the best level or the top N is a slice.

The book never "fixes" what a venue sends. A crossed book (best bid >= best ask) is flagged and
counted, not altered; a book whose updates may have been missed is marked OUT_OF_SYNC by its
connector and stays so until a snapshot replaces it.

In a compiled build, ``orderscope._book`` (C written by hand, ``_book.c``) applies the levels,
loads a snapshot's sides and builds ``bids(n)`` / ``asks(n)`` on the same dicts and lists:
``NATIVE_APPLY``, ``NATIVE_LOAD`` and ``NATIVE_TOP`` are its functions, or None in a pure build or
run (``_compiled.py``). The functions here stay the reference: the C code takes only tuples of
two exact ints and hands anything else to them.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Callable, Iterable
from dataclasses import dataclass, fields
from typing import Final, Literal

from orderscope.fixed import POW10, div
from orderscope.model import BookState, Instrument, Level

# Enum members as module constants: on Python 3.11 ``BookState.SYNCED`` goes through
# EnumType.__getattr__ (a Python-level lookup, ~0.3 us a time); a global is a dict read.
_SYNCED: Final = BookState.SYNCED
_OUT_OF_SYNC: Final = BookState.OUT_OF_SYNC
_AWAITING_SNAPSHOT: Final = BookState.AWAITING_SNAPSHOT

_Sizes = dict[int, int]
_Prices = list[int]
_Reference = Callable[[_Sizes, _Prices, Iterable[Level]], int]
_ApplySides = Callable[
    [_Sizes, _Prices, _Sizes, _Prices, Iterable[Level], Iterable[Level], _Reference], int
]
_LoadSide = Callable[[_Sizes, _Prices, Iterable[Level]], int | None]
_ReplaceSide = _LoadSide
_TopLevels = Callable[[_Sizes, _Prices, int | None, bool], list[Level] | None]
_AbsentDeletion = Callable[
    [_Sizes, _Sizes, Iterable[Level], Iterable[Level]], tuple[str, int] | Literal[False] | None
]


def _native() -> tuple[
    _ApplySides | None,
    _LoadSide | None,
    _TopLevels | None,
    _AbsentDeletion | None,
    _ReplaceSide | None,
]:
    try:
        from orderscope import _book
    except ImportError:  # a pure build, ORDERSCOPE_PURE=1 or a stale build
        return None, None, None, None, None
    return (
        _book.apply_sides,
        _book.load_side,
        _book.top_levels,
        _book.absent_deletion,
        _book.replace_side,
    )


# Final: compiled, each is a C static (a module global would be a dict lookup per call).
_NATIVE: Final = _native()
#: ``orderscope._book.apply_sides``: both sides of a delta as ``_apply_levels`` applies them
#: (which it calls, last argument, for levels it does not take), or None.
NATIVE_APPLY: Final = _NATIVE[0]
#: ``orderscope._book.load_side``: ``_load_levels``, or None when it did not take the levels.
NATIVE_LOAD: Final = _NATIVE[1]
#: ``orderscope._book.top_levels(sizes, prices, n, best_last)``: ``bids(n)`` / ``asks(n)``.
NATIVE_TOP: Final = _NATIVE[2]
#: ``orderscope._book.absent_deletion``: ``L2Book.absent_deletion``, or False when it did not
#: take the levels.
NATIVE_ABSENT: Final = _NATIVE[3]
#: ``orderscope._book.replace_side``: a side emptied and refilled by ``_load_levels``, done in
#: place (the prices no longer there deleted, the rest set), or None when it did not take them.
NATIVE_REPLACE: Final = _NATIVE[4]


@dataclass(slots=True)
class BookCounters:
    """What happened to a book; every field only ever grows."""

    snapshots: int = 0
    deltas: int = 0  # delta messages applied
    levels_applied: int = 0  # level updates applied (snapshot levels included)
    skipped_deltas: int = 0  # deltas dropped because the book was not synced
    gaps: int = 0
    resyncs: int = 0  # snapshots that restored an OUT_OF_SYNC book
    checksums_ok: int = 0
    checksums_failed: int = 0
    crossed_updates: int = 0  # updates after which best bid >= best ask
    errors: int = 0  # bad frames attributed to this book

    def as_dict(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def _apply_levels(sizes: dict[int, int], prices: list[int], levels: Iterable[Level]) -> int:
    count = 0
    for price, size in levels:
        count += 1
        if size:
            if price not in sizes:
                insort(prices, price)
            sizes[price] = size
        elif price in sizes:
            del sizes[price]
            del prices[bisect_left(prices, price)]
    return count


#: The reference as an object, for the C kernel (compiled: a static, not a global's lookup).
_APPLY_LEVELS: Final[_Reference] = _apply_levels


def _load_levels(sizes: dict[int, int], prices: list[int], levels: Iterable[Level]) -> int:
    """Fill an empty side: what ``_apply_levels`` would build, with one sort instead of one
    ``insort`` per level (a snapshot arrives sorted, so the sort is a linear pass)."""
    items = levels if isinstance(levels, list) else list(levels)
    sizes.update(items)  # later levels win, as they would one by one
    if not all(sizes.values()):  # a level of size 0 is no level
        for price in [p for p, size in sizes.items() if not size]:
            del sizes[price]
    prices.extend(sorted(sizes))
    return len(items)


def _top_levels(
    sizes: dict[int, int], prices: list[int], n: int | None, best_last: bool
) -> list[Level]:
    """The best ``n`` levels of a side (all if None), best first: the bids' best is the end of
    their ascending prices (``best_last``), the asks' the start."""
    if best_last:
        chosen = prices[::-1] if n is None else prices[: -n - 1 : -1] if n > 0 else []
    else:
        chosen = prices if n is None else prices[:n]
    # zip/map build the pairs in C (checksums read the top levels after every update)
    return list(zip(chosen, map(sizes.__getitem__, chosen), strict=True))


def _absent_deletion(
    bid_sizes: dict[int, int],
    ask_sizes: dict[int, int],
    bids: Iterable[Level],
    asks: Iterable[Level],
) -> tuple[str, int] | None:
    for price, size in bids:
        if not size and price not in bid_sizes:
            return "bid", price
    for price, size in asks:
        if not size and price not in ask_sizes:
            return "ask", price
    return None


def _replace_side(sizes: dict[int, int], prices: list[int], levels: Iterable[Level]) -> int:
    """A side emptied and loaded with ``levels``: in place by the C kernel when it takes them
    (venues that send whole books mostly send the same prices again), else cleared and loaded."""
    if NATIVE_REPLACE is not None:
        n = NATIVE_REPLACE(sizes, prices, levels)
        if n is not None:
            return n
    sizes.clear()
    prices.clear()
    return _load_side(sizes, prices, levels)


def _load_side(sizes: dict[int, int], prices: list[int], levels: Iterable[Level]) -> int:
    if NATIVE_LOAD is not None:
        n = NATIVE_LOAD(sizes, prices, levels)
        if n is not None:
            return n
    return _load_levels(sizes, prices, levels)


@dataclass(frozen=True, slots=True)
class Walk:
    """A market order walked through one side of the book.

    ``cost`` is exact: sum(price * size) in units of 10**-(price_decimals + size_decimals).
    """

    requested: int  # size units
    filled: int  # size units; < requested when the book ran out
    cost: int
    levels: int  # levels touched (the last one possibly partially)
    worst_price: int | None

    def average_price(self, instrument: Instrument) -> float | None:
        if not self.filled:
            return None
        return div(self.cost, self.filled) / POW10[instrument.price_decimals]


class L2Book:
    """Bids and asks of one instrument, with its sync state and counters."""

    __slots__ = (
        "_ask_prices",
        "_ask_sizes",
        "_bid_prices",
        "_bid_sizes",
        "counters",
        "crossed",
        "instrument",
        "max_depth",
        "sequence",
        "state",
    )

    def __init__(self, instrument: Instrument, max_depth: int | None = None) -> None:
        self.instrument = instrument
        self.max_depth = max_depth  # keep at most this many levels a side (venue's depth)
        self._bid_sizes: dict[int, int] = {}
        self._bid_prices: list[int] = []  # ascending: best bid is last
        self._ask_sizes: dict[int, int] = {}
        self._ask_prices: list[int] = []  # ascending: best ask is first
        self.state = _AWAITING_SNAPSHOT
        self.sequence = 0  # venue update id of the last applied message
        self.crossed = False
        self.counters = BookCounters()

    # -- updates ---------------------------------------------------------------------------

    def apply_snapshot(
        self, bids: Iterable[Level], asks: Iterable[Level], sequence: int = 0
    ) -> None:
        """Replace the whole book. Restores an OUT_OF_SYNC book (counted as a resync)."""
        n = _replace_side(self._bid_sizes, self._bid_prices, bids)
        n += _replace_side(self._ask_sizes, self._ask_prices, asks)
        counters = self.counters
        counters.snapshots += 1
        counters.levels_applied += n
        if self.state is _OUT_OF_SYNC:
            counters.resyncs += 1
        self.state = _SYNCED
        self.sequence = sequence
        self._after_update()

    def apply_delta(self, bids: Iterable[Level], asks: Iterable[Level], sequence: int = 0) -> None:
        """Apply absolute sizes for changed levels (size 0 deletes) exactly as given."""
        # The hot path of every venue's diffs: no call for an empty side (many diffs change one
        # side only), and ``_after_update`` inline.
        if NATIVE_APPLY is not None:
            n = NATIVE_APPLY(
                self._bid_sizes,
                self._bid_prices,
                self._ask_sizes,
                self._ask_prices,
                bids,
                asks,
                _APPLY_LEVELS,
            )
        else:
            n = _apply_levels(self._bid_sizes, self._bid_prices, bids) if bids else 0
            if asks:
                n += _apply_levels(self._ask_sizes, self._ask_prices, asks)
        counters = self.counters
        counters.deltas += 1
        counters.levels_applied += n
        if sequence:
            self.sequence = sequence
        bid_prices = self._bid_prices
        ask_prices = self._ask_prices
        depth = self.max_depth
        if depth is not None and (len(bid_prices) > depth or len(ask_prices) > depth):
            self._trim(depth)
        if bid_prices and ask_prices and bid_prices[-1] >= ask_prices[0]:
            self.crossed = True
            counters.crossed_updates += 1
        else:
            self.crossed = False

    def _after_update(self) -> None:
        if self.max_depth is not None:
            self._trim(self.max_depth)
        bid_prices = self._bid_prices
        ask_prices = self._ask_prices
        self.crossed = bool(bid_prices and ask_prices and bid_prices[-1] >= ask_prices[0])
        if self.crossed:
            self.counters.crossed_updates += 1

    def _trim(self, depth: int) -> None:
        bid_prices = self._bid_prices
        if len(bid_prices) > depth:
            for price in bid_prices[: len(bid_prices) - depth]:
                del self._bid_sizes[price]
            del bid_prices[: len(bid_prices) - depth]
        ask_prices = self._ask_prices
        if len(ask_prices) > depth:
            for price in ask_prices[depth:]:
                del self._ask_sizes[price]
            del ask_prices[depth:]

    def absent_deletion(
        self, bids: Iterable[Level], asks: Iterable[Level]
    ) -> tuple[str, int] | None:
        """The first level of a delta that deletes ("bid" or "ask", price) a level this book
        does not have: proof that an update was missed, for venues without sequence numbers."""
        if NATIVE_ABSENT is not None:
            found = NATIVE_ABSENT(self._bid_sizes, self._ask_sizes, bids, asks)
            if found is not False:
                return found
        return _absent_deletion(self._bid_sizes, self._ask_sizes, bids, asks)

    def beyond_top(self, n: int, bids: Iterable[Level], asks: Iterable[Level]) -> bool:
        """Whether none of these levels, just applied, is among the best ``n`` of its side: then
        the delta left the top ``n`` levels as they were (what a checksum over them reads)."""
        if bids:
            prices = self._bid_prices
            if len(prices) < n:
                return False
            floor = prices[-n]  # the n-th best bid
            for price, _ in bids:
                if price >= floor:
                    return False
        if asks:
            prices = self._ask_prices
            if len(prices) < n:
                return False
            ceiling = prices[n - 1]  # the n-th best ask
            for price, _ in asks:
                if price <= ceiling:
                    return False
        return True

    def mark_out_of_sync(self) -> bool:
        """Flag the book as possibly wrong. Returns True if that changed its state."""
        if self.state is _OUT_OF_SYNC:
            return False
        self.state = _OUT_OF_SYNC
        return True

    def clear(self) -> None:
        """Forget every level (the book waits for a snapshot again)."""
        self._bid_sizes.clear()
        self._bid_prices.clear()
        self._ask_sizes.clear()
        self._ask_prices.clear()
        self.crossed = False
        self.sequence = 0

    # -- reads -----------------------------------------------------------------------------

    @property
    def is_synced(self) -> bool:
        return self.state is _SYNCED

    def depth(self) -> tuple[int, int]:
        """Number of (bid, ask) levels."""
        return len(self._bid_prices), len(self._ask_prices)

    def best_bid(self) -> Level | None:
        if not self._bid_prices:
            return None
        price = self._bid_prices[-1]
        return price, self._bid_sizes[price]

    def best_ask(self) -> Level | None:
        if not self._ask_prices:
            return None
        price = self._ask_prices[0]
        return price, self._ask_sizes[price]

    def bids(self, n: int | None = None) -> list[Level]:
        """The best ``n`` bids (all if None), best first."""
        if NATIVE_TOP is not None:
            top = NATIVE_TOP(self._bid_sizes, self._bid_prices, n, True)
            if top is not None:
                return top
        return _top_levels(self._bid_sizes, self._bid_prices, n, True)

    def asks(self, n: int | None = None) -> list[Level]:
        """The best ``n`` asks (all if None), best first."""
        if NATIVE_TOP is not None:
            top = NATIVE_TOP(self._ask_sizes, self._ask_prices, n, False)
            if top is not None:
                return top
        return _top_levels(self._ask_sizes, self._ask_prices, n, False)

    def bid_size(self, price: int) -> int:
        return self._bid_sizes.get(price, 0)

    def ask_size(self, price: int) -> int:
        return self._ask_sizes.get(price, 0)

    def mid2(self) -> int | None:
        """Twice the mid price (an exact int); None if a side is empty."""
        if not self._bid_prices or not self._ask_prices:
            return None
        return self._bid_prices[-1] + self._ask_prices[0]

    def mid(self) -> float | None:
        mid2 = self.mid2()
        return None if mid2 is None else div(mid2, 2) / POW10[self.instrument.price_decimals]

    def spread(self) -> int | None:
        """Best ask - best bid in price units (negative when crossed)."""
        if not self._bid_prices or not self._ask_prices:
            return None
        return self._ask_prices[0] - self._bid_prices[-1]

    def size_within_bps(self, bps: float) -> tuple[int, int]:
        """Total (bid, ask) size at prices within ``bps`` basis points of the mid."""
        mid2 = self.mid2()
        if mid2 is None:
            return 0, 0
        # Bounds are compared in twice-price units to stay exact on the mid.
        half_width2 = mid2 * bps / 10_000
        low2, high2 = mid2 - half_width2, mid2 + half_width2
        bid_total = 0
        for price in reversed(self._bid_prices):
            if 2 * price < low2:
                break
            bid_total += self._bid_sizes[price]
        ask_total = 0
        for price in self._ask_prices:
            if 2 * price > high2:
                break
            ask_total += self._ask_sizes[price]
        return bid_total, ask_total

    def walk(self, is_buy: bool, quantity: int) -> Walk:
        """A market order of ``quantity`` (size units): buys walk the asks, sells the bids."""
        if quantity < 0:
            raise ValueError("quantity must be >= 0")
        if is_buy:
            prices: Iterable[int] = self._ask_prices
            sizes = self._ask_sizes
        else:
            prices = reversed(self._bid_prices)
            sizes = self._bid_sizes
        remaining = quantity
        cost = 0
        levels = 0
        worst: int | None = None
        for price in prices:
            if remaining <= 0:
                break
            take = min(remaining, sizes[price])
            cost += take * price
            remaining -= take
            levels += 1
            worst = price
        return Walk(quantity, quantity - remaining, cost, levels, worst)
