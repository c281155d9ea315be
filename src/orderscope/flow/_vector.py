"""NumPy helpers of the vectorized paths: contiguous groups and exact integer sums.

Trades arrive nearly sorted by time, so grouping by bar is a check that the keys already
ascend (then no sort at all) or one stable sort (which keeps arrival order inside a bar, as the
streaming path sees it). Sums are int64; ``exact_bincount`` uses NumPy's float64 bincount only
where every partial sum is an integer below 2**53, where float addition is exact.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import polars as pl

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
FLOAT_EXACT = 2**53
SPLIT = 26  # bits of the low part of a weight split in two (see exact_bincount)


@dataclass(frozen=True, slots=True)
class Groups:
    """Rows grouped by key: ``order`` (None when the keys already ascend) and group bounds."""

    order: I64 | None
    keys: I64  # one per group, ascending
    starts: I64  # first row of each group in the ordered rows
    ends: I64  # one past the last row


def group(keys: I64) -> Groups:
    if len(keys) and bool(np.any(keys[1:] < keys[:-1])):
        order: I64 | None = np.argsort(keys, kind="stable")
        keys = keys[order]
    else:
        order = None
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]]) if len(keys) else keys[:0]
    ends = np.r_[starts[1:], len(keys)].astype(np.int64)
    return Groups(order, keys[starts], starts.astype(np.int64), ends)


def dense(cells: int, rows: int) -> bool:
    """Whether a grid of ``cells`` is small enough for ``bincount`` over ``rows`` trades (its
    arrays are the grid's size); beyond, the cells are hashed (``sparse_sums``)."""
    return cells <= 4 * rows + 1_000_000


def exact_bincount(
    index: I64, weights: I64, length: int, total: int, floats: F64 | None = None
) -> I64:
    """Per-index sums of non-negative integer weights that add up to ``total`` (< 2**63).
    ``floats``: the weights as float64 already (bincount's weights are floats)."""
    if total < FLOAT_EXACT:  # every partial sum is an integer float addition keeps exact
        w = weights if floats is None else floats
        return np.bincount(index, weights=w, minlength=length).astype(np.int64)
    if len(weights) < 2 ** (53 - SPLIT):
        # weights = high * 2**SPLIT + low: the low parts sum below len * 2**SPLIT, the high
        # parts below total / 2**SPLIT, both under 2**53
        low = np.bincount(index, weights=weights & (2**SPLIT - 1), minlength=length)
        high = np.bincount(index, weights=weights >> SPLIT, minlength=length)
        return (high.astype(np.int64) << SPLIT) + low.astype(np.int64)
    out = np.zeros(length, dtype=np.int64)  # beyond 2**27 rows: exact, slower
    np.add.at(out, index, weights)
    return out


def sparse_sums(groups: I64, index: I64, columns: list[I64 | None]) -> tuple[I64, I64, list[I64]]:
    """Sums per (group, index) cell with rows, ordered by group then index, by hashing the
    cells (for grids too sparse for ``bincount``): (group, index, sums); a None column counts
    rows."""
    named = {f"c{k}": c for k, c in enumerate(columns) if c is not None}
    aggs = [
        pl.len().alias(f"c{k}") if c is None else pl.col(f"c{k}").sum()
        for k, c in enumerate(columns)
    ]
    cells = pl.DataFrame({"g": groups, "i": index, **named}).group_by("g", "i").agg(aggs)
    cells = cells.sort("g", "i")
    sums = [_column(cells, f"c{k}") for k in range(len(columns))]
    return _column(cells, "g"), _column(cells, "i"), sums


def _column(frame: pl.DataFrame, name: str) -> I64:
    return frame[name].to_numpy().astype(np.int64, copy=False)
