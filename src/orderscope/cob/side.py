"""One side of the consolidated book, and the hot loop that applies a venue's levels to it.

A side is a dict ``price -> entry`` plus the sorted prices, where an entry is a list
``[size of venue 0, ..., size of venue n-1, total, changed_ns]`` on the COB's common scale. The
per-venue breakdown is the level itself, so a venue's delta costs one dict read per level it
changes, about what the venue's own ``L2Book`` pays (see docs/PERFORMANCE.md).
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Iterable

from orderscope.model import Level

#: Where an entry keeps the level's total size and the event time of its last change.
TOTAL = -2
CHANGED = -1


class CobSide:
    """One side of the COB: an entry per price and the sorted prices."""

    __slots__ = ("levels", "prices", "total", "width")

    def __init__(self, venues: int) -> None:
        self.levels: dict[int, list[int]] = {}
        self.prices: list[int] = []  # ascending on both sides (best bid last, best ask first)
        self.total = 0
        self.width = venues + 2  # entry length

    def size(self, price: int) -> int:
        entry = self.levels.get(price)
        return entry[TOTAL] if entry is not None else 0


def apply_levels(
    levels: Iterable[Level], slot: int, pm: int, sm: int, side: CobSide, ts: int
) -> tuple[int, int]:
    """Apply one venue's absolute level sizes to the COB; (change of its total, of its levels).

    The hot loop of the COB: locals only, one dict read per level, the sorted price list
    touched only when a price appears in or leaves the COB.
    """
    book = side.levels
    prices = side.prices
    get = book.get
    width = side.width
    total_at = width - 2
    changed_at = width - 1
    moved = 0
    count = 0
    for price, size in levels:
        key = price * pm
        entry = get(key)
        size *= sm
        if entry is None:
            if size:  # a price new to the COB
                entry = [0] * width
                entry[slot] = entry[total_at] = size
                entry[changed_at] = ts
                book[key] = entry
                insort(prices, key)
                moved += size
                count += 1
            continue
        old = entry[slot]
        if size == old:
            continue
        entry[slot] = size
        diff = size - old
        moved += diff
        if not old:
            count += 1
        elif not size:
            count -= 1
        total = entry[total_at] + diff
        if total:
            entry[total_at] = total
            entry[changed_at] = ts
        else:
            del book[key]
            del prices[bisect_left(prices, key)]
    return moved, count
