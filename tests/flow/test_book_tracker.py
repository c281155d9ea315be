"""The tracker's BookChange: levels before/after, restated levels, snapshots and trims."""

from __future__ import annotations

import bisect
import random

from orderscope.flow.book_tracker import BookTracker, event_time
from orderscope.model import BookState, BookStatus
from tests.flow.builders import INST, T0, delta, px, qty, snap


def test_delta_lists_every_named_level_with_sizes_before_and_after() -> None:
    tracker = BookTracker(INST)
    first = tracker.apply(snap(0, [(100, 1), (99, 2)], [(101, 1)]))
    assert first.snapshot and first.resync and tracker.synced
    assert (first.prev_bid, first.bid, first.bid_size) == (0, px(100), qty(1))
    change = tracker.apply(delta(5, bids=[(100, 0), (99, 2), (98, 4)], asks=[(101, 3)]))
    assert change.bids == [(px(100), qty(1), 0), (px(99), qty(2), qty(2)), (px(98), 0, qty(4))]
    assert change.asks == [(px(101), qty(1), qty(3))]
    assert (change.prev_bid, change.prev_bid_size, change.bid, change.bid_size) == (
        px(100),
        qty(1),
        px(99),
        qty(2),
    )
    assert change.ts == T0 + 5_000_000


def test_snapshot_lists_removed_and_altered_levels_only() -> None:
    tracker = BookTracker(INST)
    tracker.apply(snap(0, [(100, 1), (99, 2)], [(101, 1)]))
    change = tracker.apply(snap(1, [(100, 1), (98, 5)], [(101, 1)]))
    assert change.snapshot and not change.resync  # a full book on a synced book: an update
    assert sorted(change.bids) == [(px(98), 0, qty(5)), (px(99), qty(2), 0)]
    assert change.asks == []


def test_depth_limit_reports_trimmed_levels() -> None:
    tracker = BookTracker(INST, max_depth=2)
    tracker.apply(snap(0, [(100, 1), (99, 1)], [(101, 1), (102, 1)]))
    change = tracker.apply(delta(1, asks=[(100.5, 2)]))
    assert change.asks == [(px(100.5), 0, qty(2)), (px(102), qty(1), 0)]
    assert tracker.book.asks() == [(px(100.5), qty(2)), (px(101), qty(1))]


def test_status_and_event_time() -> None:
    tracker = BookTracker(INST)
    tracker.apply(snap(0, [(100, 1)], [(101, 1)]))
    tracker.on_status(BookStatus("test", INST.symbol, 0, 7, BookState.OUT_OF_SYNC, "gap"))
    assert not tracker.synced
    assert tracker.apply(snap(1, [(100, 1)], [(101, 1)])).resync
    assert event_time(BookStatus("test", INST.symbol, 0, 7, BookState.SYNCED, "")) == 7
    assert tracker.top_sizes(5) == (qty(1), qty(1))


def _top(tracker: BookTracker, levels: int) -> tuple[int, int]:
    book = tracker.book
    return sum(s for _, s in book.bids(levels)) if levels else 0, (
        sum(s for _, s in book.asks(levels)) if levels else 0
    )


def test_top_sizes_stay_right_across_updates_that_keep_or_change_the_best_levels() -> None:
    """The cached sums survive deltas beyond the best levels and no others: random deltas
    near and far from the touch, deletes, quote moves, thin books and a depth limit."""
    rng = random.Random(5)
    kept = 0
    for max_depth in (None, 12, 3):
        tracker = BookTracker(INST, max_depth=max_depth)
        tracker.apply(
            snap(0, [(100 - i, 1 + i) for i in range(8)], [(101 + i, 1) for i in range(8)])
        )
        for step in range(3_000):
            levels = rng.choice((0, 1, 5, 10))
            before = tracker._top_sizes
            assert tracker.top_sizes(levels) == _top(tracker, levels), (max_depth, step)
            kept += before is not None and before is tracker._top_sizes
            bid = tracker.book.best_bid()
            mid = bid[0] / 100 if bid else 100
            bids = [(mid - rng.randrange(0, 20), rng.choice((0, 0.5, 2))) for _ in range(3)]
            asks = [(mid + 1 + rng.randrange(0, 20), rng.choice((0, 0.5, 2))) for _ in range(3)]
            side = rng.randrange(3)
            tracker.apply(delta(step, bids=bids if side != 1 else [], asks=asks if side else []))
    assert kept > 1_000  # the cache was used, not only rebuilt


def test_levels_between_counts_as_bisect_does() -> None:
    # the tracker's own binary search against the bisect module: on both sides, with bounds
    # below, above, on and between levels, and on an empty side
    rng = random.Random(5)
    for _ in range(200):
        bids = sorted(rng.sample(range(100, 200), rng.randint(0, 30)))
        asks = sorted(rng.sample(range(200, 300), rng.randint(0, 30)))
        tracker = BookTracker(INST)
        tracker.apply(snap(0, [(p / 100, 1) for p in bids], [(p / 100, 1) for p in asks]))
        book = tracker.book
        for _ in range(20):
            low = rng.randint(90, 310)
            high = low + rng.randint(-5, 60)
            for side, prices in ((True, bids), (False, asks)):
                scaled = [px(p / 100) for p in prices]
                lo, hi = px(low / 100), px(high / 100)
                expected = max(0, bisect.bisect_right(scaled, hi) - bisect.bisect_left(scaled, lo))
                assert book.levels_between(side, lo, hi) == expected
