"""Live flow state: automatic rows, the trade store, bounded footprints, the common scale."""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from orderscope.flow.footprint import BarSpec
from orderscope.flowstate import (
    EngineConfig,
    FlowState,
    LiveFootprint,
    TradeStore,
    auto_row,
    row_for,
    trades_frame,
)
from orderscope.model import Instrument, InstrumentKind, Side, Trade

MINUTE = 60_000_000_000


def inst(pd: int = 2, tick: int = 1) -> Instrument:
    return Instrument(
        "x", "BTC/USDT", "BTCUSDT", "BTC", "USDT", InstrumentKind.SPOT, pd, 5, tick, 1
    )


def trade(ts: int, price: int, size: int = 10, side: Side = Side.BUY) -> Trade:
    return Trade("x", "BTC/USDT", ts, ts, price, size, side, "")


def test_auto_rows_are_nice_steps_of_whole_ticks() -> None:
    half_bp = Fraction(1, 2)
    assert auto_row(6_000_000, inst(), half_bp) == 200  # 60,000.00: $3 -> 2.00
    assert auto_row(300_000, inst(), half_bp) == 10  # 3,000.00: $0.15 -> 0.10
    assert auto_row(6_000_000, inst(tick=50), half_bp) == 200  # a multiple of the 0.50 tick
    assert auto_row(100, inst(), half_bp) == 1  # below a tick: one tick
    assert row_for("10t", 6_000_000, inst(tick=5), half_bp) == 50
    assert row_for("0.07", 6_000_000, inst(tick=5), half_bp) == 10  # rounded up to ticks


def test_store_keeps_the_newest_trades_in_order() -> None:
    store = TradeStore(capacity=3 * TradeStore.CHUNK)
    total = 5 * TradeStore.CHUNK + 7
    for i in range(total):
        store.append(trade(i, 100 + i % 5))
    ts, _price, _size, side = store.columns()
    assert len(store) == len(ts) >= 3 * TradeStore.CHUNK
    assert ts[-1] == total - 1 and np.all(np.diff(ts) == 1)
    assert store.dropped == total - len(ts) and store.first_ns() == ts[0]
    assert set(side.tolist()) == {1}


def test_trades_frame_merges_venues_by_time_and_rescales() -> None:
    a = (np.array([1, 5]), np.array([10, 11]), np.array([1, 1]), np.array([1, -1]))
    b = (np.array([3]), np.array([105]), np.array([20]), np.array([1]))
    frame = trades_frame([(a, 10, 100), (b, 1, 1)], start_ns=2)  # type: ignore[list-item]
    assert frame["ts"].to_list() == [3, 5]
    assert frame["price"].to_list() == [105, 110] and frame["size"].to_list() == [20, 100]


def test_live_footprint_prunes_and_serves_ranges() -> None:
    fp = LiveFootprint(10, BarSpec.time(MINUTE))
    for minute in range(5):
        fp.update(trade(minute * MINUTE + 1, 1_000 + minute))
    assert [b.start_ns for b in fp.bars_between(MINUTE, 3 * MINUTE, 10)] == [MINUTE, 2 * MINUTE]
    assert len(fp.bars_between(None, None, 2)) == 2
    fp.prune(3)
    assert fp.first_ns() == 2 * MINUTE
    current = fp.current()
    assert current is not None and current.start_ns == 4 * MINUTE


def test_prune_keeps_the_running_cvd_through_an_offset() -> None:
    state = FlowState(inst(), 1, EngineConfig(retain_bars=2))
    for minute in range(4):
        state.on_trade(trade(minute * MINUTE, 100, size=10 + minute))
    state.prune()
    assert len(state.delta.cells) == 2 and state.cvd_offset == 10 + 11
    assert state.delta.cvd == 10 + 11 + 12 + 13
    state.on_trade(trade(3 * MINUTE + 5, 100, size=1, side=Side.SELL))  # the cached bar again
    assert state.delta.cells[3][1] == 1


def test_a_trade_in_a_pruned_cached_bar_is_not_lost() -> None:
    state = FlowState(inst(), 1, EngineConfig(retain_bars=2))
    for minute in range(4):
        state.on_trade(trade(minute * MINUTE, 100))
    state.on_trade(trade(5, 100))  # late: minute 0 is the cached bar now
    state.prune()  # drops minutes 0 and 1, the cached bar among them
    state.on_trade(trade(6, 100, size=7))
    assert state.delta.cells[0][0] == 7 and state.vwap.sums[0][0] == 7
