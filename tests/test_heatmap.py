"""The heatmap matrix pinned on a hand-built session; streaming and batch paths side by side."""

from __future__ import annotations

import numpy as np
import pytest

from orderscope.errors import ConfigError
from orderscope.flow.batches import load_frames
from orderscope.flow.book_tracker import BookTracker
from orderscope.heatmap import (
    Heatmap,
    HeatmapConfig,
    HeatmapMatrix,
    coarsen,
    heatmap_from_events,
    heatmap_from_frames,
    time_slice,
)
from orderscope.model import BookDelta, BookSnapshot, Event, Trade
from tests.flow.builders import BUY, INST, MS, SECOND, SELL, T0, delta, px, qty, snap, trade

ROW = px(2.00)  # rows of two ticks: [98, 100), [100, 102), [102, 104)


def session() -> list[Event]:
    return [
        snap(100, [(100, 1), (99, 2)], [(101, 1), (102, 3)]),
        delta(500, bids=[(100, 5)]),
        delta(700, bids=[(100, 2)]),  # step 0: the row held 5 at most, 2 at the end
        trade(1_200, 101, 0.5, BUY),
        trade(1_300, 100, 0.25, SELL),
        # nothing in step 2: the book carries over
        delta(3_500, asks=[(102, 0)]),  # the row had 3 when step 3 began
        delta(3_600, bids=[(99, 0), (98, 2)]),  # one update moving within a row: never 0 or 4
        trade(2_950, 101, 0.1, BUY),  # stamped late: counts in the current step (3)
    ]


def both(events: list[Event], config: HeatmapConfig) -> HeatmapMatrix:
    streamed = heatmap_from_events(events, INST, config)
    batch = heatmap_from_frames(load_frames(events, INST), config)
    assert streamed.equals(batch)
    return streamed


def test_definitions_on_a_hand_built_session() -> None:
    m = both(session(), HeatmapConfig(step_ns=SECOND, row=ROW))
    assert m.time_edges.tolist() == [T0 + k * SECOND for k in range(5)]
    assert m.price_rows.tolist() == [px(98), px(100), px(102)]
    assert m.bids.tolist() == [[qty(2), qty(5), 0]] + [[qty(2), qty(2), 0]] * 3
    assert m.asks.tolist() == [[0, qty(1), qty(3)]] * 4  # step 3: max includes its start
    assert m.buys.tolist() == [[0, 0, 0], [0, qty(0.5), 0], [0, 0, 0], [0, qty(0.1), 0]]
    assert m.sells.tolist() == [[0, 0, 0], [0, qty(0.25), 0], [0, 0, 0], [0, 0, 0]]
    assert m.best_bid.tolist() == [px(100)] * 4
    assert m.best_ask.tolist() == [px(101)] * 3 + [px(101)]
    assert (m.liquidity == m.bids + m.asks).all()


def test_rows_default_to_the_tick_and_prices_on_a_row_edge_start_it() -> None:
    m = both(session(), HeatmapConfig(step_ns=SECOND))
    assert m.row == INST.tick_size
    assert m.price_rows[0] == px(98) and m.price_rows[-1] == px(102)
    assert m.bids[0, m.price_rows.tolist().index(px(100))] == qty(5)


def test_price_window_and_crop() -> None:
    config = HeatmapConfig(step_ns=SECOND, row=ROW, price_low=px(100), price_high=px(101.99))
    m = both(session(), config)
    assert m.price_rows.tolist() == [px(100)]
    full = both(session(), HeatmapConfig(step_ns=SECOND, row=ROW))
    cropped = full.crop(px(100), px(101.99))
    assert np.array_equal(cropped.bids, m.bids) and np.array_equal(cropped.buys, m.buys)


def test_empty_and_too_large(monkeypatch: pytest.MonkeyPatch) -> None:
    empty = both([], HeatmapConfig())
    assert empty.bids.shape[1] == 0
    with pytest.raises(ConfigError, match="steps"):
        heatmap_from_events(session(), INST, HeatmapConfig(step_ns=100))
    with pytest.raises(ConfigError, match="steps"):
        heatmap_from_frames(load_frames(session(), INST), HeatmapConfig(step_ns=100))
    monkeypatch.setattr("orderscope.heatmap.MAX_CELLS", 11)  # 4 steps x 3 rows
    with pytest.raises(ConfigError, match="too large"):
        heatmap_from_events(session(), INST, HeatmapConfig(step_ns=SECOND, row=ROW))
    with pytest.raises(ConfigError, match="too large"):
        heatmap_from_frames(load_frames(session(), INST), HeatmapConfig(step_ns=SECOND, row=ROW))


def test_sizes_beyond_64_bits_are_refused_not_wrapped() -> None:
    huge = [snap(0, [(100, 1)], [(101, 1)]), delta(10, bids=[(100, 2e16)])]  # 2e19 units
    with pytest.raises(ConfigError, match="64 bits"):
        heatmap_from_events(huge, INST, HeatmapConfig())
    with pytest.raises(ConfigError, match="64 bits"):
        load_frames(huge, INST)


def random_session(seed: int, count: int = 400) -> list[Event]:
    """Book updates and trades over ~40 s of event time, with idle gaps of several steps."""
    rng = np.random.default_rng(seed)
    events: list[Event] = [snap(0, [(100, 1), (99, 2)], [(101, 1), (102, 3)])]
    ms = 0
    for _ in range(count):
        ms += int(rng.choice([10, 50, 300, 2_500]))
        price = (
            95 + int(rng.integers(0, 6)) if rng.random() < 0.5 else 101 + int(rng.integers(0, 6))
        )
        size = float(rng.integers(0, 4))
        if rng.random() < 0.2:
            events.append(trade(ms, price, 0.1 + size, BUY if rng.random() < 0.5 else SELL))
        elif price <= 100:
            events.append(delta(ms, bids=[(price, size)]))
        else:
            events.append(delta(ms, asks=[(price, size)]))
    return events


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("keep", [1, 3, 7])
def test_rolling_history_is_the_tail_of_the_whole_one(seed: int, keep: int) -> None:
    events = random_session(seed)
    config = HeatmapConfig(step_ns=SECOND, row=ROW)
    rolling = Heatmap(INST, HeatmapConfig(step_ns=SECOND, row=ROW, max_steps=keep))
    tracker = BookTracker(INST)
    for n, event in enumerate(events):
        if isinstance(event, BookDelta | BookSnapshot):
            rolling.on_book(tracker.apply(event))
        elif isinstance(event, Trade):
            rolling.on_trade(event)
        if n % 37 == 0 or n == len(events) - 1:  # checked along the way, not only at the end
            whole = heatmap_from_events(events[: n + 1], INST, config)
            part = rolling.result()
            steps = min(keep, len(whole.time_edges) - 1)
            assert part.time_edges.tolist() == whole.time_edges[-steps - 1 :].tolist()
            assert part.best_bid.tolist() == whole.best_bid[-steps:].tolist()
            tail = whole.crop(int(part.price_rows[0]), int(part.price_rows[-1]))
            for name in ("bids", "asks", "buys", "sells"):
                got, want = getattr(part, name), getattr(tail, name)[-steps:]
                assert np.array_equal(got, want), name
            # the rows left out hold nothing in the kept steps
            assert whole.liquidity[-steps:].sum() == part.liquidity.sum()
    window = rolling.result(px(100), px(101.99))
    assert window.price_rows.tolist() in ([px(100)], [])


def test_rolling_history_needs_a_step() -> None:
    with pytest.raises(ConfigError, match="max_steps"):
        Heatmap(INST, HeatmapConfig(max_steps=0))


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("factor", [1, 2, 5, 60])
def test_coarser_steps_are_the_heatmap_of_the_longer_step(seed: int, factor: int) -> None:
    events = random_session(seed)
    fine = heatmap_from_events(events, INST, HeatmapConfig(step_ns=SECOND, row=ROW))
    coarse = heatmap_from_events(events, INST, HeatmapConfig(step_ns=factor * SECOND, row=ROW))
    assert coarsen(fine, factor).equals(coarse)


def test_time_slice_keeps_the_overlapping_steps() -> None:
    m = heatmap_from_events(session(), INST, HeatmapConfig(step_ns=SECOND, row=ROW))
    part = time_slice(m, T0 + 1_500 * MS, T0 + 3 * SECOND)  # steps 1 and 2
    assert part.time_edges.tolist() == [T0 + SECOND, T0 + 2 * SECOND, T0 + 3 * SECOND]
    assert np.array_equal(part.bids, m.bids[1:3]) and np.array_equal(part.buys, m.buys[1:3])
    assert part.best_ask.tolist() == m.best_ask[1:3].tolist()
    assert time_slice(m, None, None).equals(m)
    empty = time_slice(m, T0 + 100 * SECOND, None)
    assert empty.bids.shape == (0, 3) and empty.time_edges.tolist() == [T0]
    with pytest.raises(ConfigError):
        coarsen(m, 0)
