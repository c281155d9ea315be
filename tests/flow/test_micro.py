"""Microstructure definitions pinned on hand-built cases, both paths side by side."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest

from orderscope.flow.batches import TOP_SCHEMA, load_frames
from orderscope.flow.book_tracker import BookTracker
from orderscope.flow.micro import (
    KyleConfig,
    KyleLambda,
    LiquidityConsumption,
    OrderFlowImbalance,
    Vpin,
    VpinBucket,
    consumption_frame,
    kyle_lambda_intervals,
    ofi_series,
    ofi_term,
    vpin_buckets,
    weighted_mid,
    weighted_mid_series,
)
from orderscope.model import BookState, BookStatus, Event, Trade
from tests.flow.builders import BUY, INST, SECOND, SELL, T0, ladder, px, qty, snap, trade


def top_frame(
    rows: list[tuple[int, int, int, int]], snapshot_rows: tuple[int, ...] = (0,)
) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "seq": list(range(len(rows))),
            "ts": [T0 + i for i in range(len(rows))],
            "snapshot": [i in snapshot_rows for i in range(len(rows))],
            "resync": [i in snapshot_rows for i in range(len(rows))],
            "bid": [r[0] for r in rows],
            "bid_size": [r[1] for r in rows],
            "ask": [r[2] for r in rows],
            "ask_size": [r[3] for r in rows],
            "bid_depth": [0] * len(rows),
            "ask_depth": [0] * len(rows),
        },
        schema=TOP_SCHEMA,
    )


# OFI (Cont, Kukanov & Stoikov 2014): before = bid 100 x 5, ask 102 x 7.
BID_CASES = {  # new bid (price, size) -> bid term
    "bid up": ((101, 3), +3),  # a new better bid: + its size
    "bid equal": ((100, 9), 9 - 5),  # size change at the same price
    "bid down": ((99, 4), -5),  # the best bid left: - its old size
}
ASK_CASES = {  # new ask -> ask term
    "ask down": ((101, 2), -2),  # a new better ask: - its size
    "ask equal": ((102, 4), 7 - 4),
    "ask up": ((103, 6), +7),  # the best ask left: + its old size
}


@pytest.mark.parametrize("bid_case", BID_CASES)
@pytest.mark.parametrize("ask_case", ASK_CASES)
def test_ofi_terms(bid_case: str, ask_case: str) -> None:
    (bid, bid_size), bid_term = BID_CASES[bid_case]
    (ask, ask_size), ask_term = ASK_CASES[ask_case]
    assert ofi_term(100, 5, 102, 7, bid, bid_size, ask, ask_size) == bid_term + ask_term
    series = ofi_series(top_frame([(100, 5, 102, 7), (bid, bid_size, ask, ask_size)]))
    assert series.tolist() == [0, bid_term + ask_term]


def test_ofi_empty_side_and_snapshot_restart() -> None:
    assert ofi_term(0, 0, 102, 7, 100, 5, 102, 9) == -2  # no bid before: only the ask term
    rows = [(100, 5, 102, 7), (100, 6, 102, 7), (90, 1, 95, 1), (90, 2, 95, 1)]
    assert ofi_series(top_frame(rows, snapshot_rows=(0, 2))).tolist() == [0, 1, 0, 1]
    ofi = OrderFlowImbalance()
    tracker = BookTracker(INST)
    first = ofi.update(tracker.apply(snap(0, [(100, 5)], [(102, 7)])))
    # A full snapshot on a synced book is an update (venues that only send full books).
    again = ofi.update(tracker.apply(snap(1, [(90, 1)], [(95, 1)])))
    tracker.on_status(BookStatus("test", INST.symbol, 0, 2, BookState.OUT_OF_SYNC, "gap"))
    resync = ofi.update(tracker.apply(snap(3, [(80, 1)], [(85, 1)])))
    assert (first, again, resync) == (0, -qty(5) - qty(1), 0) and ofi.total == 0


def test_weighted_mid() -> None:
    assert weighted_mid(10_000, 3, 10_100, 1, 2) == 100.75  # (100*1 + 101*3) / 4
    assert math.isnan(weighted_mid(0, 0, 10_100, 1, 2))
    frame = top_frame([(10_000, 3, 10_100, 1), (0, 0, 10_100, 1), (10_000, 1, 10_100, 1)])
    values = weighted_mid_series(frame, 2)
    assert values[0] == 100.75 and math.isnan(values[1]) and values[2] == 100.5


def vpin_trades() -> list[Trade]:
    sizes = [(6, BUY), (7, SELL), (9, BUY), (8, BUY), (3, SELL)]
    return [
        Trade("test", INST.symbol, T0 + i * SECOND, 0, 100, size, side, str(i))
        for i, (size, side) in enumerate(sizes)
    ]


def test_vpin_splits_trades_at_bucket_edges() -> None:
    # Buckets of 10: [buy 6, sell 4 | sell 3, buy 7 | buy 2, buy 8] + 3 left open.
    expected = [
        VpinBucket(0, T0 + SECOND, 6, 4, None),
        VpinBucket(1, T0 + 2 * SECOND, 7, 3, (2 + 4) / 20),
        VpinBucket(2, T0 + 3 * SECOND, 10, 0, (4 + 10) / 20),  # the edge ends the 4th trade
    ]
    vpin = Vpin(bucket_volume=10, window=2)
    out: list[VpinBucket] = []
    for t in vpin_trades():
        vpin.update(t, out)
    assert out == expected
    frames = load_frames(vpin_trades(), INST)
    batch = vpin_buckets(frames.trades, 10, 2)
    assert batch.rows() == [(b.index, b.end_ts, b.buy, b.sell, b.vpin) for b in expected]


def test_vpin_one_trade_fills_several_buckets() -> None:
    big = [Trade("test", INST.symbol, T0, 0, 100, 35, SELL, "x")]
    out: list[VpinBucket] = []
    vpin = Vpin(10, 3)
    vpin.update(big[0], out)
    assert [(b.buy, b.sell, b.vpin) for b in out] == [(0, 10, None), (0, 10, None), (0, 10, 1.0)]
    assert vpin_buckets(load_frames(big, INST).trades, 10, 3)["vpin"].to_list() == [
        None,
        None,
        1.0,
    ]


def kyle_trades() -> list[Trade]:
    # (second, price, size, side): impact roughly 1 price unit per 100 size units bought.
    raw = [
        (0.1, 100.00, 1.0, BUY),
        (1.2, 100.02, 2.0, BUY),
        (1.9, 100.03, 1.0, BUY),
        (2.5, 99.99, 4.0, SELL),
        (4.0, 100.00, 1.0, BUY),  # after an empty interval
        (5.5, 99.97, 3.0, SELL),
    ]
    return [trade(s * 1000, p, q, side) for s, p, q, side in raw]


def test_kyle_lambda_regression() -> None:
    config = KyleConfig(interval_ns=SECOND, window=10, min_points=3)
    kyle = KyleLambda(INST, config)
    out: list = []  # type: ignore[type-arg]
    for t in kyle_trades():
        kyle.update(t, out)
    kyle.flush(out)
    assert [i.start_ns for i in out] == [T0 + s * SECOND for s in (0, 1, 2, 4, 5)]
    assert [i.price_change for i in out] == [0, px(0.03), px(-0.04), px(0.01), px(-0.03)]
    x = [i.signed_notional for i in out[1:]]
    assert x[0] == px(100.02) * qty(2) + px(100.03) * qty(1)
    assert x[1] == -px(99.99) * qty(4)
    y = [i.price_change for i in out[1:]]
    # Slope in price per unit of quote notional.
    slope = np.polyfit(np.array(x, dtype=float) / 10**5, np.array(y, dtype=float) / 100, 1)[0]
    assert out[-1].kyle_lambda == pytest.approx(slope, rel=1e-9)
    assert out[2].kyle_lambda is None  # two points only
    assert kyle_lambda_intervals(load_frames(kyle_trades(), INST).trades, INST, config) == out


def test_liquidity_consumed() -> None:
    events: list[Event] = [
        trade(0, 50_000, 1, BUY),  # before any book: nothing to measure
        ladder(49_999, 50_000, 0.5, count=3),
        trade(10, 50_000, 0.5, BUY),
        trade(11, 49_999, 0.3, SELL),
    ]
    tracker = BookTracker(INST)
    consumed = LiquidityConsumption(tracker, depth_levels=2)
    shares = []
    for e in events:
        if isinstance(e, Trade):
            shares.append(consumed.update(e))
        else:
            tracker.apply(e)  # type: ignore[arg-type]
    assert [c.depth for c in shares] == [0, qty(1.0), qty(1.0)]
    assert math.isnan(shares[0].share)
    assert [c.share for c in shares[1:]] == [0.5, 0.3]
    assert consumed.bought == qty(1.5) and consumed.sold == qty(0.3)
    frames = load_frames(events, INST, depth_levels=2)
    batch = consumption_frame(frames.trades, frames.top)
    assert batch["depth"].to_list() == [c.depth for c in shares]
    assert batch["share"].to_list()[1:] == [0.5, 0.3]
