"""NumPy helpers of the vectorized paths: contiguous groups and exact integer sums.

Trades arrive nearly sorted by time, so grouping by bar is a check that the keys already
ascend (then no sort at all) or one stable sort (which keeps arrival order inside a bar, as the
streaming path sees it). Sums are int64; ``exact_bincount`` uses NumPy's float64 bincount only
when every partial sum is an integer below 2**53, where float addition is exact.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import polars as pl

I64 = npt.NDArray[np.int64]
FLOAT_EXACT = 2**53


@dataclass(frozen=True, slots=True)
class Groups:
    """Rows grouped by key: ``order`` (None when the keys already ascend) and group bounds."""

    order: I64 | None
    keys: I64  # one per group, ascending
    starts: I64  # first row of each group in the ordered rows
    ends: I64  # one past the last row

    def take(self, values: I64) -> I64:
        """``values`` in group order (arrival order kept inside a group)."""
        return values if self.order is None else values[self.order]


def group(keys: I64) -> Groups:
    if len(keys) and bool(np.any(keys[1:] < keys[:-1])):
        order: I64 | None = np.argsort(keys, kind="stable")
        keys = keys[order]
    else:
        order = None
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]]) if len(keys) else keys[:0]
    ends = np.r_[starts[1:], len(keys)].astype(np.int64)
    return Groups(order, keys[starts], starts.astype(np.int64), ends)


def column(frame: pl.DataFrame, name: str) -> I64:
    return frame[name].to_numpy().astype(np.int64, copy=False)


def cell_sums(
    groups: I64, index: I64, width: int, columns: list[I64 | None]
) -> tuple[I64, I64, list[I64]]:
    """Sums per (group, index) cell, for the cells with rows: (group, index, sums).

    ``groups`` and ``index`` are >= 0, ``index < width``; a None column counts rows. Cells
    come out ordered by group, then index.
    """
    n_groups = int(groups.max()) + 1 if len(groups) else 0
    if n_groups * width <= 4 * len(groups) + 1_000_000:  # dense enough for bincount
        cell = groups * width + index
        length = n_groups * width
        counts = np.bincount(cell, minlength=length)
        used = np.flatnonzero(counts)
        sums = [
            counts[used].astype(np.int64) if c is None else exact_bincount(cell, c, length)[used]
            for c in columns
        ]
        return used // width, used % width, sums
    # sparse (a wide price range in small rows): let Polars hash the cells
    named = {f"c{k}": c for k, c in enumerate(columns) if c is not None}
    aggs = [
        pl.len().alias(f"c{k}") if c is None else pl.col(f"c{k}").sum()
        for k, c in enumerate(columns)
    ]
    cells = pl.DataFrame({"g": groups, "i": index, **named}).group_by("g", "i").agg(aggs)
    cells = cells.sort("g", "i")
    sums = [column(cells, f"c{k}") for k in range(len(columns))]
    return column(cells, "g"), column(cells, "i"), sums


def exact_bincount(index: I64, weights: I64, length: int) -> I64:
    """Per-index sums of non-negative integer weights, exactly."""
    # the float total is only a guard, with a margin for its own rounding
    if float(weights.sum(dtype=np.float64)) < FLOAT_EXACT / 2:
        return np.bincount(index, weights=weights, minlength=length).astype(np.int64)
    out = np.zeros(length, dtype=np.int64)  # huge totals: exact, slower
    np.add.at(out, index, weights)
    return out
