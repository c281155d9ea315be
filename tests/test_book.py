"""The L2 book against a naive reference model, plus its reads and flags."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orderscope.book import L2Book
from orderscope.model import BookState, Instrument, InstrumentKind, Level

INSTRUMENT = Instrument(
    venue="test",
    symbol="BTC/USDT",
    venue_symbol="BTCUSDT",
    base="BTC",
    quote="USDT",
    kind=InstrumentKind.SPOT,
    price_decimals=2,
    size_decimals=3,
    tick_size=1,
    lot_size=1,
)

prices = st.integers(1, 60)
sizes = st.integers(0, 50)
levels = st.lists(st.tuples(prices, sizes), max_size=12)
snapshot_levels = st.lists(
    st.tuples(prices, st.integers(1, 50)), max_size=12, unique_by=lambda x: x[0]
)
operations = st.lists(
    st.one_of(
        st.tuples(st.just("snapshot"), snapshot_levels, snapshot_levels),
        st.tuples(st.just("delta"), levels, levels),
    ),
    max_size=40,
)


class NaiveBook:
    """The obvious model: two dicts, sorted on every read."""

    def __init__(self) -> None:
        self.bids: dict[int, int] = {}
        self.asks: dict[int, int] = {}

    def snapshot(self, bids: list[Level], asks: list[Level]) -> None:
        self.bids = {p: s for p, s in bids if s}
        self.asks = {p: s for p, s in asks if s}

    def delta(self, bids: list[Level], asks: list[Level]) -> None:
        for side, changes in ((self.bids, bids), (self.asks, asks)):
            for price, size in changes:
                if size:
                    side[price] = size
                else:
                    side.pop(price, None)

    def sorted_bids(self) -> list[Level]:
        return sorted(self.bids.items(), reverse=True)

    def sorted_asks(self) -> list[Level]:
        return sorted(self.asks.items())


@settings(max_examples=400)
@given(operations, st.one_of(st.none(), st.integers(1, 6)))
def test_book_equals_naive_model(
    ops: list[tuple[str, list[Level], list[Level]]], depth: int | None
) -> None:
    """The book is the naive model after every update; one kept at ``max_depth`` (Kraken,
    Bybit) is the naive model cut to its best levels. Every level given is counted."""
    book = L2Book(INSTRUMENT, max_depth=depth)
    naive = NaiveBook()
    crossed = given_levels = 0
    for kind, bids, asks in ops:
        if kind == "snapshot":
            book.apply_snapshot(bids, asks)
            naive.snapshot(bids, asks)
        else:
            book.apply_delta(bids, asks)
            naive.delta(bids, asks)
        given_levels += len(bids) + len(asks)
        if depth is not None:
            naive.bids = dict(naive.sorted_bids()[:depth])
            naive.asks = dict(naive.sorted_asks()[:depth])
        assert book.bids() == naive.sorted_bids()
        assert book.asks() == naive.sorted_asks()
        assert book.bids(3) == naive.sorted_bids()[:3]
        assert book.asks(3) == naive.sorted_asks()[:3]
        expect_crossed = bool(naive.bids and naive.asks and max(naive.bids) >= min(naive.asks))
        assert book.crossed is expect_crossed
        crossed += expect_crossed
    assert book.counters.crossed_updates == crossed
    assert book.counters.levels_applied == given_levels


@given(snapshot_levels, snapshot_levels, levels, levels)
def test_absent_deletion_is_the_first_delete_of_a_missing_level(
    bids: list[Level], asks: list[Level], delta_bids: list[Level], delta_asks: list[Level]
) -> None:
    book = L2Book(INSTRUMENT)
    book.apply_snapshot(bids, asks)
    have_bids, have_asks = {p for p, _ in bids}, {p for p, _ in asks}
    missing = [("bid", p) for p, s in delta_bids if not s and p not in have_bids]
    missing += [("ask", p) for p, s in delta_asks if not s and p not in have_asks]
    assert book.absent_deletion(delta_bids, delta_asks) == (missing[0] if missing else None)


@settings(max_examples=300)
@given(snapshot_levels, snapshot_levels, levels, levels, st.integers(1, 6))
def test_beyond_top_means_the_top_levels_did_not_change(
    bids: list[Level], asks: list[Level], delta_bids: list[Level], delta_asks: list[Level], n: int
) -> None:
    book = L2Book(INSTRUMENT)
    book.apply_snapshot(bids, asks)
    before = book.bids(n), book.asks(n)
    book.apply_delta(delta_bids, delta_asks)
    if book.beyond_top(n, delta_bids, delta_asks):
        assert (book.bids(n), book.asks(n)) == before
    if not delta_bids and not delta_asks:
        assert book.beyond_top(n, delta_bids, delta_asks)


@settings(max_examples=300)
@given(snapshot_levels, snapshot_levels, st.integers(0, 500), st.booleans())
def test_walk_equals_naive_sum(
    bids: list[Level], asks: list[Level], qty: int, is_buy: bool
) -> None:
    book = L2Book(INSTRUMENT)
    book.apply_snapshot(bids, asks)
    side = sorted(asks) if is_buy else sorted(bids, reverse=True)
    remaining, cost, used, worst = qty, 0, 0, None
    for price, size in side:
        if remaining == 0:
            break
        take = min(size, remaining)
        cost += take * price
        remaining -= take
        used += 1
        worst = price
    walk = book.walk(is_buy, qty)
    assert (walk.filled, walk.cost, walk.levels, walk.worst_price) == (
        qty - remaining,
        cost,
        used,
        worst,
    )


def test_crossed_book_is_flagged_not_altered() -> None:
    book = L2Book(INSTRUMENT)
    book.apply_snapshot([(100, 1)], [(101, 1)])
    assert not book.crossed
    book.apply_delta([(102, 5)], [])
    assert book.crossed
    assert book.best_bid() == (102, 5) and book.best_ask() == (101, 1)  # left as sent
    assert book.counters.crossed_updates == 1
    book.apply_delta([(102, 0)], [])
    assert not book.crossed
    assert book.counters.crossed_updates == 1


def test_states_and_resync_counter() -> None:
    book = L2Book(INSTRUMENT)
    assert book.state is BookState.AWAITING_SNAPSHOT
    book.apply_snapshot([(100, 1)], [(101, 1)], sequence=7)
    assert book.state is BookState.SYNCED and book.sequence == 7
    assert book.mark_out_of_sync()
    assert not book.mark_out_of_sync()  # already flagged
    book.apply_snapshot([(100, 1)], [(101, 1)])
    assert book.state is BookState.SYNCED
    assert book.counters.resyncs == 1 and book.counters.snapshots == 2


def test_max_depth_trims_worst_levels() -> None:
    book = L2Book(INSTRUMENT, max_depth=3)
    book.apply_snapshot([(10, 1), (9, 1), (8, 1)], [(11, 1), (12, 1), (13, 1)])
    book.apply_delta([(10, 2), (9, 0), (7, 1), (10, 3)], [(10, 0), (11, 4)])
    assert book.bids() == [(10, 3), (8, 1), (7, 1)]
    book.apply_delta([(9, 5)], [(10, 2)])  # inserts push the worst level out
    assert book.bids() == [(10, 3), (9, 5), (8, 1)]
    assert book.asks() == [(10, 2), (11, 4), (12, 1)]


def test_mid_spread_and_depth_within_bps() -> None:
    book = L2Book(INSTRUMENT)
    # mid 100.00; 10 bps = 0.10 each side -> bids >= 99.90, asks <= 100.10
    book.apply_snapshot(
        [(9_995, 2), (9_990, 3), (9_989, 100)], [(10_005, 4), (10_010, 5), (10_011, 100)]
    )
    assert book.mid2() == 20_000 and book.mid() == 100.0
    assert book.spread() == 10
    assert book.size_within_bps(10) == (5, 9)
    assert book.size_within_bps(0) == (0, 0)
    empty = L2Book(INSTRUMENT)
    assert empty.mid() is None and empty.spread() is None and empty.size_within_bps(10) == (0, 0)


def test_walk_average_price() -> None:
    book = L2Book(INSTRUMENT)
    book.apply_snapshot([(9_990, 1_000)], [(10_000, 1_000), (10_100, 1_000)])
    walk = book.walk(True, 1_500)
    assert walk.filled == 1_500 and walk.levels == 2 and walk.worst_price == 10_100
    assert walk.average_price(INSTRUMENT) == pytest.approx((100.0 + 101.0 * 0.5) / 1.5, rel=1e-15)
    short = book.walk(False, 5_000)
    assert short.filled == 1_000  # the book ran out
