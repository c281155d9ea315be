"""apply_snapshot builds a side with one sort: it must equal applying its levels one by one."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from orderscope.bench.synthetic import SYNTHETIC_INSTRUMENT
from orderscope.book import L2Book
from orderscope.model import Level

INSTRUMENT = SYNTHETIC_INSTRUMENT  # BTC/USDT at 2 price and 6 size decimals

# Small price ranges, so that duplicates and deletes of earlier levels happen often.
levels = st.lists(st.tuples(st.integers(1, 60), st.integers(0, 5)), max_size=80)


def _one_by_one(side: list[Level]) -> dict[int, int]:
    book: dict[int, int] = {}
    for price, size in side:
        if size:
            book[price] = size
        else:
            book.pop(price, None)
    return book


@given(levels, levels, levels, levels)
def test_snapshot_equals_levels_applied_in_order(
    bids: list[Level], asks: list[Level], delta_bids: list[Level], delta_asks: list[Level]
) -> None:
    book = L2Book(INSTRUMENT)
    book.apply_delta([(7, 7)], [(70, 7)])  # a snapshot replaces whatever was there
    book.apply_snapshot(iter(bids), asks)  # any iterable, in any order
    want_bids, want_asks = _one_by_one(bids), _one_by_one(asks)
    assert book.bids() == sorted(want_bids.items(), reverse=True)
    assert book.asks() == sorted(want_asks.items())
    assert book.counters.levels_applied == 2 + len(bids) + len(asks)
    # the sorted price lists stay consistent for the deltas that follow
    book.apply_delta(delta_bids, delta_asks)
    assert book.bids() == sorted(_one_by_one(bids + delta_bids).items(), reverse=True)
    assert book.asks() == sorted(_one_by_one(asks + delta_asks).items())
