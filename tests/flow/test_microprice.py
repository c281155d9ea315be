"""Stoikov's micro-price: estimation on a constructed chain, application on both paths."""

from __future__ import annotations

import math

import numpy as np
import pytest

from orderscope.flow.book_tracker import BookTracker
from orderscope.flow.microprice import MicroPrice, MicroPriceModel, fit_microprice
from tests.flow.builders import INST, delta, snap
from tests.flow.test_micro import top_frame

TICK = 100


def chain() -> list[tuple[int, int, int, int]]:
    """A market where a heavy bid (9 vs 1) is followed by an up-tick of the whole quote, a heavy
    ask by a down-tick, and a balanced book sits still once, then moves either way."""
    rows = []
    bid = 10_000
    pattern = [(9, 1, +1), (1, 9, -1), (5, 5, 0), (5, 5, +1), (5, 5, -1)]
    for _ in range(20):
        for bid_size, ask_size, move in pattern:
            rows.append((bid, bid_size, bid + TICK, ask_size))
            bid += move * TICK
    return rows


def test_micro_price_leans_toward_the_heavy_side_and_is_antisymmetric() -> None:
    model = fit_microprice(top_frame(chain()), TICK, 2, imbalance_buckets=4, spread_ticks=1)
    g = model.adjustment
    assert len(g) == 4
    assert g[3] > 0.3 and g[0] < -0.3  # 9 vs 1: bucket 3 (I = 0.9) moves up
    assert g[3] == pytest.approx(-g[0]) and g[1] == pytest.approx(-g[2])
    assert model.observations == len(chain()) - 1
    # micro-price = mid + g * tick, in price terms
    assert model.price(10_000, 9, 10_100, 1) == pytest.approx((10_050 + g[3] * TICK) / 100)


def test_out_of_model_is_nan_and_both_paths_agree() -> None:
    model = MicroPriceModel(TICK, 2, 2, 1, (-0.25, 0.25), 0)
    assert math.isnan(model.price(10_000, 1, 10_200, 1))  # 2-tick spread: outside
    assert math.isnan(model.price(0, 0, 10_100, 1))
    assert math.isnan(model.price(10_000, 1, 10_150, 1))  # not a whole number of ticks
    events = [
        snap(0, [(100.00, 3)], [(101.00, 1)]),
        delta(1, bids=[(100.00, 1)], asks=[(101.00, 3)]),
        delta(2, asks=[(101.00, 0), (102.00, 1)]),
    ]
    tracker = BookTracker(INST)
    live = MicroPrice(model)
    values = [live.update(tracker.apply(e)) for e in events]
    assert values[:2] == [100.75, 100.25]  # mid 100.50 +- a quarter of the 1.00 tick
    rows = [
        (10_000, 3000, 10_100, 1000),
        (10_000, 1000, 10_100, 3000),
        (10_000, 1000, 10_200, 1000),
    ]
    batch = model.series(top_frame(rows))
    assert np.array_equal(batch, np.array(values), equal_nan=True)


def test_states_never_seen_to_move_get_no_adjustment() -> None:
    still = [(10_000, 9, 10_100, 1)] * 10  # nothing ever moves
    model = fit_microprice(top_frame(still), TICK, 2, imbalance_buckets=2, spread_ticks=1)
    assert model.adjustment == (0.0, 0.0)
