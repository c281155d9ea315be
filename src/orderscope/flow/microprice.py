"""The micro-price of Stoikov (2018), "The micro-price: a high-frequency estimator of future
prices", Quantitative Finance 18(12).

The micro-price is the mid plus an adjustment g*(I, S) that depends on the book imbalance
I = q^B / (q^B + q^A) and the spread S, estimated from recorded data as the limit of the
expected mid-price changes of a Markov chain on the discretized states (I, S):

1. states: I is cut into ``imbalance_buckets`` equal buckets (bucket = floor(I * n), computed
   exactly on the integer sizes), S in ticks from 1 to ``spread_ticks``;
2. observations are consecutive top-of-book updates (a resync restarts the chain); a step
   whose mid moves by other than 0, +-1/2 or +-1 tick, or whose spread is outside 1..n ticks,
   is outside the model and dropped;
3. the data is symmetrized (each step is added again with I -> 1 - I, i.e. bucket -> n-1-bucket,
   and the mid change negated), as in the paper, so that g* is antisymmetric;
4. Q = transitions between states without a mid change, R = probabilities of each mid change K,
   T = the states reached when the mid changes (rows normalized by the visits of each state);
   g1 = (1 - Q)^-1 R K, B = (1 - Q)^-1 T, and g_{i+1} = g1 + B g_i, iterated ``iterations``
   times (the paper shows convergence within a handful; 6 by default).

States that were never seen to move the mid (or reach one that does) have no estimate:
their adjustment is 0 and they are excluded from the linear algebra, which keeps 1 - Q
invertible on a small sample. Outside the model (an empty side, a spread wider than
``spread_ticks``, a spread not a whole number of ticks) the micro-price is NaN.

Fitting is a research step (``fit_microprice`` on a ``top`` frame); applying a fitted model is
the same arithmetic per update (``MicroPrice``) or per frame (``MicroPriceModel.series``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import polars as pl

from orderscope.flow.book_tracker import BookChange

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: Mid changes the chain knows, in half ticks: -1 tick, -1/2, +1/2, +1 tick.
MID_MOVES_HALF_TICKS = (-2, -1, 1, 2)


@dataclass(frozen=True, slots=True)
class MicroPriceModel:
    tick: int  # price units
    price_decimals: int
    imbalance_buckets: int
    spread_ticks: int
    #: g*(state) in ticks, state = (spread_ticks - 1) * imbalance_buckets + imbalance bucket
    adjustment: tuple[float, ...]
    observations: int  # transitions used (before symmetrization)

    def state(self, bid: int, bid_size: int, ask: int, ask_size: int) -> int:
        """The model state of a top of book, or -1 outside the model."""
        spread = ask - bid
        total = bid_size + ask_size
        if not (bid and ask and total) or spread <= 0 or spread % self.tick:
            return -1
        ticks = spread // self.tick
        if ticks > self.spread_ticks:
            return -1
        n = self.imbalance_buckets
        return (ticks - 1) * n + min(bid_size * n // total, n - 1)

    def price(self, bid: int, bid_size: int, ask: int, ask_size: int) -> float:
        state = self.state(bid, bid_size, ask, ask_size)
        if state < 0:
            return math.nan
        mid = float(bid + ask) / 2.0
        return (mid + self.adjustment[state] * float(self.tick)) / float(10**self.price_decimals)

    def series(self, top: pl.DataFrame) -> FloatArray:
        """The micro-price after every update of a ``top`` frame."""
        bid = top["bid"].to_numpy()
        ask = top["ask"].to_numpy()
        states = _states(
            bid,
            top["bid_size"].to_numpy(),
            ask,
            top["ask_size"].to_numpy(),
            self.tick,
            self.imbalance_buckets,
            self.spread_ticks,
        )
        table = np.asarray(self.adjustment, dtype=np.float64)
        mid = (bid + ask).astype(np.float64) / 2.0
        prices = (mid + table[np.maximum(states, 0)] * float(self.tick)) / float(
            10**self.price_decimals
        )
        return np.where(states >= 0, prices, np.nan)


class MicroPrice:
    """Apply a fitted model update by update (the live path)."""

    __slots__ = ("model", "value")

    def __init__(self, model: MicroPriceModel) -> None:
        self.model = model
        self.value = math.nan

    def update(self, change: BookChange) -> float:
        self.value = self.model.price(change.bid, change.bid_size, change.ask, change.ask_size)
        return self.value


def _states(
    bid: IntArray,
    bid_size: IntArray,
    ask: IntArray,
    ask_size: IntArray,
    tick: int,
    buckets: int,
    spread_ticks: int,
) -> IntArray:
    spread = ask - bid
    total = bid_size + ask_size
    valid = (bid != 0) & (ask != 0) & (total != 0) & (spread > 0) & (spread % tick == 0)
    ticks = spread // tick
    valid &= ticks <= spread_ticks
    safe_total = np.where(total == 0, 1, total)
    bucket = np.minimum(bid_size * buckets // safe_total, buckets - 1)
    return np.where(valid, (ticks - 1) * buckets + bucket, -1).astype(np.int64)


def fit_microprice(
    top: pl.DataFrame,
    tick: int,
    price_decimals: int,
    *,
    imbalance_buckets: int = 10,
    spread_ticks: int = 2,
    iterations: int = 6,
) -> MicroPriceModel:
    """Estimate g*(I, S) from a ``top`` frame (one or more sessions concatenated is fine as
    long as each session starts with a resync row)."""
    bid = top["bid"].to_numpy()
    ask = top["ask"].to_numpy()
    states = _states(
        bid,
        top["bid_size"].to_numpy(),
        ask,
        top["ask_size"].to_numpy(),
        tick,
        imbalance_buckets,
        spread_ticks,
    )
    n = imbalance_buckets
    size = n * spread_ticks
    mid2 = bid + ask
    resync = top["resync"].to_numpy()
    x, y = states[:-1], states[1:]
    move2 = mid2[1:] - mid2[:-1]  # twice the mid change, price units
    keep = (x >= 0) & (y >= 0) & ~resync[1:] & (move2 % tick == 0)
    half_ticks = move2 // tick
    keep &= np.isin(half_ticks, (0, *MID_MOVES_HALF_TICKS))
    x, y, half_ticks = x[keep], y[keep], half_ticks[keep]
    observations = len(x)
    # Symmetrize: bucket -> n-1-bucket within the same spread, mid change negated.
    x = np.concatenate((x, _mirror(x, n)))
    y = np.concatenate((y, _mirror(y, n)))
    half_ticks = np.concatenate((half_ticks, -half_ticks))
    still = half_ticks == 0
    q_counts = np.zeros((size, size))
    np.add.at(q_counts, (x[still], y[still]), 1.0)
    t_counts = np.zeros((size, size))
    np.add.at(t_counts, (x[~still], y[~still]), 1.0)
    r_counts = np.zeros((size, len(MID_MOVES_HALF_TICKS)))
    move_index = np.searchsorted(np.array(MID_MOVES_HALF_TICKS), half_ticks[~still])
    np.add.at(r_counts, (x[~still], move_index), 1.0)
    visits = q_counts.sum(axis=1) + r_counts.sum(axis=1)
    live = _reaches_a_move(q_counts, r_counts.sum(axis=1) > 0)
    adjustment = np.zeros(size)
    if live.any():
        norm = visits[live][:, None]
        q = q_counts[np.ix_(live, live)] / norm
        t = t_counts[np.ix_(live, live)] / norm
        r = r_counts[live] / norm
        moves = np.array(MID_MOVES_HALF_TICKS, dtype=np.float64) / 2.0  # in ticks
        inverse = np.linalg.inv(np.eye(int(live.sum())) - q)
        g1 = inverse @ (r @ moves)
        b = inverse @ t
        g = g1
        for _ in range(iterations - 1):
            g = g1 + b @ g
        adjustment[live] = g
    return MicroPriceModel(
        tick,
        price_decimals,
        imbalance_buckets,
        spread_ticks,
        tuple(float(v) for v in adjustment),
        observations,
    )


def _mirror(states: IntArray, buckets: int) -> IntArray:
    spread_part = states // buckets * buckets
    return spread_part + (buckets - 1 - states % buckets)


def _reaches_a_move(q_counts: FloatArray, moves: npt.NDArray[np.bool_]) -> npt.NDArray[np.bool_]:
    """States from which a mid change was observed directly or through still transitions."""
    reach = moves.copy()
    edges = q_counts > 0
    while True:
        grown = reach | (edges & reach[None, :]).any(axis=1)
        if (grown == reach).all():
            return reach
        reach = grown
