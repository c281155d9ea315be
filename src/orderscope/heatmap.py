"""The liquidity heatmap: resting size per price row per time step, with trades as bubbles.

Definitions (the same for the incremental ``Heatmap`` and the batch ``heatmap_from_frames``):

- Time steps are ``[k * step_ns, (k + 1) * step_ns)`` of the event clock, the running maximum
  of event time (an event stamped a little earlier than one already seen counts in the current
  step). The matrix spans from the step of the first event to the step of the last one; a step
  with no event repeats the book as it was.
- Price rows are ``floor(price / row) * row`` (``row`` in price units, the tick by default),
  so a row holds the prices in ``[row_price, row_price + row)``.
- A cell is the **maximum** resting size of the row at any moment within the step: the size
  it had when the step began and after each book update inside it. Max, not last, so a wall
  that stood for part of a step shows (the Bookmap reading: "was there liquidity here?"), and
  the picture does not depend on where step edges fall inside a burst of updates. The state
  after each whole book update counts, never a half-applied one (a venue diff is atomic).
  Bids and asks are kept in separate matrices; the liquidity shown is their sum.
- ``buys`` / ``sells`` are the volumes traded (by aggressor side) per step and row.
- ``best_bid`` / ``best_ask`` are the best prices at the end of each step (0: none yet).

Sizes and prices are scaled ints (``int64``): sizes in 10**-size_decimals, prices in
10**-price_decimals. An optional ``price_low`` / ``price_high`` window keeps only the rows it
covers (and the work of tracking the others).

A live ``Heatmap`` with ``max_steps`` keeps only the newest steps (the server's rolling
history): older steps are folded into the sizes the rows had when the oldest kept step began,
so the kept matrix is exactly what an unbounded heatmap shows for those steps.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import numpy.typing as npt
import polars as pl

from orderscope.errors import ConfigError
from orderscope.flow.base import BUY
from orderscope.flow.batches import FlowFrames
from orderscope.flow.book_tracker import BookChange, BookTracker, LevelChange
from orderscope.model import BookDelta, BookSnapshot, BookStatus, Event, Instrument, Trade

IntMatrix = npt.NDArray[np.int64]
IntArray = npt.NDArray[np.int64]

#: A dense matrix larger than this is refused: set a price window or a coarser row/step.
MAX_CELLS = 50_000_000
MAX_STEPS = 10_000_000


@dataclass(frozen=True, slots=True)
class HeatmapConfig:
    step_ns: int = 1_000_000_000
    row: int | None = None  # price units per row; None: the instrument's tick size
    price_low: int | None = None  # keep rows from the one holding this price...
    price_high: int | None = None  # ... to the one holding this price (inclusive)
    max_steps: int | None = None  # keep the newest N steps (the open one included); None: all


@dataclass(frozen=True, slots=True)
class HeatmapMatrix:
    instrument: Instrument
    step_ns: int
    row: int
    time_edges: IntArray  # (T + 1,) ns: step k covers [time_edges[k], time_edges[k + 1])
    price_rows: IntArray  # (R,) the lower price of each row, ascending
    bids: IntMatrix  # (T, R) max resting bid size within the step
    asks: IntMatrix  # (T, R)
    buys: IntMatrix  # (T, R) aggressive buy volume
    sells: IntMatrix  # (T, R)
    best_bid: IntArray  # (T,) at the end of the step, 0 if none
    best_ask: IntArray  # (T,)

    @property
    def liquidity(self) -> IntMatrix:
        return self.bids + self.asks

    def crop(self, price_low: int, price_high: int) -> HeatmapMatrix:
        """The rows holding prices from ``price_low`` to ``price_high`` (inclusive)."""
        keep = (self.price_rows + self.row > price_low) & (self.price_rows <= price_high)
        return HeatmapMatrix(
            self.instrument,
            self.step_ns,
            self.row,
            self.time_edges,
            self.price_rows[keep],
            self.bids[:, keep],
            self.asks[:, keep],
            self.buys[:, keep],
            self.sells[:, keep],
            self.best_bid,
            self.best_ask,
        )

    def equals(self, other: HeatmapMatrix) -> bool:
        return (
            self.step_ns == other.step_ns
            and self.row == other.row
            and all(
                np.array_equal(getattr(self, name), getattr(other, name))
                for name in (
                    "time_edges",
                    "price_rows",
                    "bids",
                    "asks",
                    "buys",
                    "sells",
                    "best_bid",
                    "best_ask",
                )
            )
        )


def _row_bounds(config: HeatmapConfig, row: int) -> tuple[int | None, int | None]:
    low = None if config.price_low is None else config.price_low // row
    high = None if config.price_high is None else config.price_high // row
    return low, high


def _resolve_row(config: HeatmapConfig, instrument: Instrument) -> int:
    row = config.row if config.row is not None else instrument.tick_size
    if row <= 0 or config.step_ns <= 0:
        raise ConfigError("heatmap row and step must be > 0")
    return row


class _Step(NamedTuple):
    """What one closed step changed: rows touched (their max and end size), trades, quotes."""

    bid_max: dict[int, int]
    ask_max: dict[int, int]
    bid_end: dict[int, int]
    ask_end: dict[int, int]
    buys: dict[int, int]
    sells: dict[int, int]
    best_bid: int
    best_ask: int


class Heatmap:
    """The heatmap built event by event: feed it ``BookChange``s and trades.

    Per step it keeps only the rows that changed (their max and their size at the end of the
    step); ``result()`` carries the rest forward when it builds the dense matrices, so the cost
    of a step does not grow with the depth of the book.
    """

    def __init__(self, instrument: Instrument, config: HeatmapConfig | None = None) -> None:
        self.instrument = instrument
        self.config = config or HeatmapConfig()
        self.row = _resolve_row(self.config, instrument)
        self._low, self._high = _row_bounds(self.config, self.row)
        self._totals: tuple[dict[int, int], dict[int, int]] = ({}, {})  # bid, ask row -> size
        self._maxes: tuple[dict[int, int], dict[int, int]] = ({}, {})  # rows touched this step
        self._traded: tuple[dict[int, int], dict[int, int]] = ({}, {})  # buy, sell this step
        self._steps: list[_Step] = []  # closed steps
        self._bid = self._ask = 0
        self._first: int | None = None  # first step index
        self._step = 0  # open step index
        self._clock = 0
        self._row_low: int | None = None  # rows that ever held something
        self._row_high = 0
        #: With ``max_steps``: (bid, ask) row sizes when the oldest kept step began.
        self._base: tuple[dict[int, int], dict[int, int]] = ({}, {})
        if self.config.max_steps is not None and self.config.max_steps < 1:
            raise ConfigError("heatmap max_steps must be >= 1")

    def _advance(self, ts: int) -> None:
        if ts > self._clock:
            self._clock = ts
        step = self._clock // self.config.step_ns
        if self._first is None:
            self._first = self._step = step
            return
        if step <= self._step:
            return
        limit = self.config.max_steps
        if limit is None and step - self._first >= MAX_STEPS:
            raise ConfigError(f"heatmap longer than {MAX_STEPS} steps: use a longer step")
        self._steps.append(self._close())
        self._maxes = ({}, {})
        self._traded = ({}, {})
        if step > self._step + 1:  # steps without events repeat the book
            idle = _Step({}, {}, {}, {}, {}, {}, self._bid, self._ask)
            # with a bound, idle steps beyond it would be dropped at once: never made
            idle_count = step - self._step - 1
            self._steps.extend([idle] * (idle_count if limit is None else min(idle_count, limit)))
        self._step = step
        if limit is not None:
            self._forget(len(self._steps) - (limit - 1))

    def _forget(self, count: int) -> None:
        """Fold the oldest ``count`` closed steps into the base sizes (rolling history)."""
        if count <= 0:
            return
        for step in self._steps[:count]:
            for base, ends in zip(self._base, (step.bid_end, step.ask_end), strict=True):
                for r, v in ends.items():
                    if v:
                        base[r] = v
                    else:
                        base.pop(r, None)
        del self._steps[:count]
        self._first = self._step - len(self._steps)

    def _close(self) -> _Step:
        (bid_max, ask_max), (bids, asks) = self._maxes, self._totals
        return _Step(
            bid_max,
            ask_max,
            {r: bids.get(r, 0) for r in bid_max},
            {r: asks.get(r, 0) for r in ask_max},
            self._traded[0],
            self._traded[1],
            self._bid,
            self._ask,
        )

    def on_book(self, change: BookChange) -> None:
        self._advance(change.ts)
        if change.bids:
            self._apply(change.bids, self._totals[0], self._maxes[0])
        if change.asks:
            self._apply(change.asks, self._totals[1], self._maxes[1])
        self._bid = change.bid
        self._ask = change.ask

    def _apply(
        self, levels: list[LevelChange], totals: dict[int, int], maxes: dict[int, int]
    ) -> None:
        row = self.row
        low, high = self._low, self._high
        deltas: dict[int, int] = {}
        for price, old, new in levels:
            if new != old:
                r = price // row
                deltas[r] = deltas.get(r, 0) + new - old
        for r, d in deltas.items():
            if not d or (low is not None and r < low) or (high is not None and r > high):
                continue
            before = totals.get(r, 0)
            after = before + d
            if after:
                totals[r] = after
                self._seen(r)
            else:
                del totals[r]
            top = maxes.get(r)
            if top is None:
                maxes[r] = before if before > after else after
            elif after > top:
                maxes[r] = after

    def _seen(self, r: int) -> None:
        if self._row_low is None:
            self._row_low = self._row_high = r
        elif r < self._row_low:
            self._row_low = r
        elif r > self._row_high:
            self._row_high = r

    def on_trade(self, trade: Trade) -> None:
        self._advance(trade.exch_ns or trade.recv_ns)
        r = trade.price // self.row
        if (self._low is not None and r < self._low) or (self._high is not None and r > self._high):
            return
        traded = self._traded[0 if trade.side is BUY else 1]
        traded[r] = traded.get(r, 0) + trade.size
        self._seen(r)

    def result(self, price_low: int | None = None, price_high: int | None = None) -> HeatmapMatrix:
        """The matrix so far (the open step included, as it stands); with ``price_low`` /
        ``price_high``, only the rows holding prices between them (inclusive)."""
        steps = [*self._steps]
        if self._first is not None:
            steps.append(self._close())
        low, high = self._row_low, self._row_high
        if self.config.max_steps is not None:
            low, high = self._kept_rows(steps)
        if low is not None and price_low is not None:
            low = max(low, price_low // self.row)
        if low is not None and price_high is not None:
            high = min(high, price_high // self.row)
        first_row = low if low is not None else 0
        shape = (len(steps), max(high - first_row + 1, 0) if low is not None else 0)
        _check_size(shape)
        matrices = [np.zeros(shape, dtype=np.int64) for _ in range(4)]
        try:
            self._fill(steps, first_row, matrices, self._base)
        except OverflowError:
            raise ConfigError(
                f"{self.instrument.venue} {self.instrument.symbol}: a resting or traded size "
                "beyond 64 bits; the heatmap matrices are int64"
            ) from None
        first = self._first or 0
        return _matrix(
            self,
            np.arange(first, first + len(steps) + 1, dtype=np.int64) * self.config.step_ns,
            (np.arange(shape[1], dtype=np.int64) + first_row) * self.row,
            matrices,
            np.array([s.best_bid for s in steps], dtype=np.int64),
            np.array([s.best_ask for s in steps], dtype=np.int64),
        )

    def _kept_rows(self, steps: list[_Step]) -> tuple[int | None, int]:
        """The lowest and highest rows holding something in the kept steps (rolling mode)."""
        rows: set[int] = {r for base in self._base for r in base}
        for step in steps:
            for found in (step.bid_max, step.ask_max, step.buys, step.sells):
                rows.update(r for r, v in found.items() if v)
        return (min(rows), max(rows)) if rows else (None, 0)

    @staticmethod
    def _fill(
        steps: list[_Step],
        first_row: int,
        matrices: list[IntMatrix],
        base: tuple[dict[int, int], dict[int, int]] = ({}, {}),
    ) -> None:
        bids, asks, buys, sells = matrices
        width = bids.shape[1]
        # sizes carried from the step before (the first kept step starts from ``base``)
        bid_end = np.zeros(width, dtype=np.int64)
        ask_end = np.zeros(width, dtype=np.int64)
        for end, sizes in zip((bid_end, ask_end), base, strict=True):
            for r, v in sizes.items():
                if 0 <= r - first_row < width:
                    end[r - first_row] = v
        for k, step in enumerate(steps):
            for matrix, end, maxes, ends in (
                (bids, bid_end, step.bid_max, step.bid_end),
                (asks, ask_end, step.ask_max, step.ask_end),
            ):
                matrix[k] = end
                for r, v in maxes.items():
                    if 0 <= r - first_row < width:
                        matrix[k, r - first_row] = v
                for r, v in ends.items():
                    if 0 <= r - first_row < width:
                        end[r - first_row] = v
            for r, v in step.buys.items():
                if 0 <= r - first_row < width:
                    buys[k, r - first_row] = v
            for r, v in step.sells.items():
                if 0 <= r - first_row < width:
                    sells[k, r - first_row] = v


def _check_size(shape: tuple[int, int]) -> None:
    if shape[0] * shape[1] > MAX_CELLS:
        raise ConfigError(
            f"heatmap of {shape[0]} steps x {shape[1]} rows is too large: "
            "set a price window, a larger row or a longer step"
        )


def _matrix(
    source: Heatmap | _Batch,
    edges: IntArray,
    price_rows: IntArray,
    matrices: list[IntMatrix],
    best_bid: IntArray,
    best_ask: IntArray,
) -> HeatmapMatrix:
    bids, asks, buys, sells = matrices
    return HeatmapMatrix(
        source.instrument,
        source.config.step_ns,
        source.row,
        edges,
        price_rows,
        bids,
        asks,
        buys,
        sells,
        best_bid,
        best_ask,
    )


def heatmap_from_events(
    events: Iterable[Event],
    instrument: Instrument,
    config: HeatmapConfig | None = None,
    *,
    max_depth: int | None = None,
) -> HeatmapMatrix:
    """Feed one instrument's events through a ``BookTracker`` into a ``Heatmap``."""
    tracker = BookTracker(instrument, max_depth)
    heatmap = Heatmap(instrument, config)
    for event in events:
        if event.symbol != instrument.symbol:
            continue
        kind = type(event)
        if kind is BookDelta or kind is BookSnapshot:
            assert isinstance(event, BookDelta | BookSnapshot)
            heatmap.on_book(tracker.apply(event))
        elif kind is Trade:
            assert isinstance(event, Trade)
            heatmap.on_trade(event)
        elif kind is BookStatus:
            assert isinstance(event, BookStatus)
            tracker.on_status(event)
    return heatmap.result()


# -- the batch path ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Batch:
    instrument: Instrument
    config: HeatmapConfig
    row: int


def heatmap_from_frames(frames: FlowFrames, config: HeatmapConfig | None = None) -> HeatmapMatrix:
    """The same matrix as ``Heatmap``, computed column-wise from ``load_frames`` output."""
    config = config or HeatmapConfig()
    batch = _Batch(frames.instrument, config, _resolve_row(config, frames.instrument))
    step_ns, row = config.step_ns, batch.row
    # The event clock over book updates and trades, in stream order.
    clock = pl.concat([frames.top.select("seq", "ts"), frames.trades.select("seq", "ts")]).sort(
        "seq"
    )
    if clock.is_empty():
        return _matrix(
            batch,
            np.zeros(1, dtype=np.int64),
            np.zeros(0, dtype=np.int64),
            [np.zeros((0, 0), dtype=np.int64)] * 4,
            np.zeros(0, dtype=np.int64),
            np.zeros(0, dtype=np.int64),
        )
    steps = clock.select("seq", (pl.col("ts").cum_max() // step_ns).alias("step"))
    step_values = steps["step"].to_numpy()
    first = int(step_values[0])
    count = int(step_values.max()) - first + 1
    if count > MAX_STEPS:
        raise ConfigError(f"heatmap longer than {MAX_STEPS} steps: use a longer step")
    low, high = _row_bounds(config, row)

    def in_window(frame: pl.DataFrame) -> pl.DataFrame:
        frame = frame.with_columns((pl.col("price") // row).alias("r"))
        if low is not None:
            frame = frame.filter(pl.col("r") >= low)
        if high is not None:
            frame = frame.filter(pl.col("r") <= high)
        return frame.join(steps, on="seq").with_columns(pl.col("step") - first)

    changes = in_window(frames.changes)
    trades = in_window(frames.trades)
    rows = pl.concat([changes.select("r"), trades.select("r")])["r"].to_numpy()
    first_row = int(rows.min()) if len(rows) else 0
    width = int(rows.max()) - first_row + 1 if len(rows) else 0
    _check_size((count, width))
    bids = _resting(changes.filter(pl.col("side") > 0), count, width, first_row)
    asks = _resting(changes.filter(pl.col("side") < 0), count, width, first_row)
    buys = _traded(trades.filter(pl.col("side") > 0), count, width, first_row)
    sells = _traded(trades.filter(pl.col("side") < 0), count, width, first_row)
    best = (
        frames.top.join(steps, on="seq")
        .group_by("step")
        .agg(pl.col("bid").sort_by("seq").last(), pl.col("ask").sort_by("seq").last())
    )
    best_bid = _carried(best["step"].to_numpy() - first, best["bid"].to_numpy(), count)
    best_ask = _carried(best["step"].to_numpy() - first, best["ask"].to_numpy(), count)
    # Trim to the rows that ever hold something, as the incremental path does.
    used = np.flatnonzero((bids | asks | buys | sells).any(axis=0))
    lo, hi = (int(used[0]), int(used[-1]) + 1) if len(used) else (0, 0)
    return _matrix(
        batch,
        (np.arange(count + 1, dtype=np.int64) + first) * step_ns,
        (np.arange(lo, hi, dtype=np.int64) + first_row) * row,
        [m[:, lo:hi] for m in (bids, asks, buys, sells)],
        best_bid,
        best_ask,
    )


def _resting(changes: pl.DataFrame, count: int, width: int, first_row: int) -> IntMatrix:
    """Max row size per step from one side's level changes (see the module docstring)."""
    per_update = (
        changes.group_by("r", "seq", "step")
        .agg((pl.col("new") - pl.col("old")).sum().alias("d"))
        .filter(pl.col("d") != 0)
        .sort("r", "seq")
        .with_columns(pl.col("d").cum_sum().over("r").alias("after"))
        .with_columns((pl.col("after") - pl.col("d")).alias("before"))
    )
    per_step = per_update.group_by("r", "step").agg(
        pl.max_horizontal("before", "after").max().alias("top"),
        pl.col("after").sort_by("seq").last().alias("end"),
    )
    step = per_step["step"].to_numpy()
    col = per_step["r"].to_numpy() - first_row
    touched = np.zeros((count, width), dtype=bool)
    touched[step, col] = True
    ends = np.zeros((count + 1, width), dtype=np.int64)  # row 0: before any update
    ends[step + 1, col] = per_step["end"].to_numpy()
    source = np.where(touched, np.arange(1, count + 1)[:, None], 0)
    carried = np.take_along_axis(ends, np.maximum.accumulate(source, axis=0), axis=0)
    tops = np.zeros((count, width), dtype=np.int64)
    tops[step, col] = per_step["top"].to_numpy()
    return np.where(touched, tops, carried)


def _traded(trades: pl.DataFrame, count: int, width: int, first_row: int) -> IntMatrix:
    out = np.zeros((count, width), dtype=np.int64)
    np.add.at(
        out,
        (trades["step"].to_numpy(), trades["r"].to_numpy() - first_row),
        trades["size"].to_numpy(),
    )
    return out


def _carried(steps: IntArray, values: IntArray, count: int) -> IntArray:
    out = np.zeros(count + 1, dtype=np.int64)
    out[steps + 1] = values
    touched = np.zeros(count + 1, dtype=bool)
    touched[steps + 1] = True
    source = np.where(touched, np.arange(count + 1), 0)
    return out[np.maximum.accumulate(source)][1:]


# -- reshaping a matrix (the API's time range and coarser steps) ------------------------------


def time_slice(matrix: HeatmapMatrix, start_ns: int | None, end_ns: int | None) -> HeatmapMatrix:
    """The steps that overlap ``[start_ns, end_ns)`` (whole steps)."""
    starts, ends = matrix.time_edges[:-1], matrix.time_edges[1:]
    keep = np.ones(len(starts), dtype=bool)
    if start_ns is not None:
        keep &= ends > start_ns
    if end_ns is not None:
        keep &= starts < end_ns
    chosen = np.flatnonzero(keep)
    first, last = (int(chosen[0]), int(chosen[-1]) + 1) if len(chosen) else (0, 0)
    return _reshaped(matrix, matrix.step_ns, np.arange(first, last), None)


def coarsen(matrix: HeatmapMatrix, factor: int) -> HeatmapMatrix:
    """Steps ``factor`` times longer, on the grid of the longer step (anchored at zero, as every
    step is): resting size is the maximum over the merged steps (the maximum within the longer
    step, by the definition), traded volume their sum, best prices those of the last one."""
    if factor < 1:
        raise ConfigError("a heatmap step factor must be >= 1")
    if factor == 1 or not len(matrix.time_edges) > 1:
        return matrix
    step = matrix.step_ns * factor
    groups = matrix.time_edges[:-1] // step
    starts = np.flatnonzero(np.r_[True, groups[1:] != groups[:-1]])
    return _reshaped(matrix, step, starts, groups)


def _reshaped(
    m: HeatmapMatrix, step_ns: int, index: IntArray, groups: IntArray | None
) -> HeatmapMatrix:
    if groups is None:  # a plain selection of steps
        edges = m.time_edges[np.r_[index, index[-1] + 1]] if len(index) else m.time_edges[:1]
        pick = [x[index] for x in (m.bids, m.asks, m.buys, m.sells, m.best_bid, m.best_ask)]
        return HeatmapMatrix(m.instrument, step_ns, m.row, edges, m.price_rows, *pick)
    last = np.r_[index[1:], len(groups)] - 1
    edges = np.r_[groups[index], groups[-1] + 1] * step_ns
    return HeatmapMatrix(
        m.instrument,
        step_ns,
        m.row,
        edges.astype(np.int64),
        m.price_rows,
        np.maximum.reduceat(m.bids, index, axis=0),
        np.maximum.reduceat(m.asks, index, axis=0),
        np.add.reduceat(m.buys, index, axis=0),
        np.add.reduceat(m.sells, index, axis=0),
        m.best_bid[last],
        m.best_ask[last],
    )
