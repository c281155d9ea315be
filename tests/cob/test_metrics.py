"""COB metrics on hand-built books, and rolling statistics in event time."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orderscope.cob import CobConfig, ConsolidatedBook
from orderscope.cob.metrics import band_keys, band_liquidity
from orderscope.model import Level
from tests.cob.synthetic import MS, SECOND, T0, delta, instrument, make_cob, snapshot


def two_venue_cob(**config: object) -> ConsolidatedBook:
    cob = make_cob(**config)
    # a (2, 3): bid 100.00 x 1.000, asks 100.10 x 2.000; b (1, 4): bid 100.0 x 0.5, ask 100.2
    cob.update(snapshot("a", T0, [(10000, 1000)], [(10010, 2000)]))
    cob.update(snapshot("b", T0, [(1000, 5000)], [(1002, 10000)]))
    return cob


def test_top_of_book_metrics() -> None:
    m = two_venue_cob().metrics()
    assert (m.best_bid, m.best_ask, m.spread) == (100000, 100100, 100)
    assert m.mid == pytest.approx(100.05)
    assert m.spread_bps == pytest.approx(0.1 / 100.05 * 1e4)
    assert m.micro_price == pytest.approx((100.0 * 2 + 100.1 * 1.5) / 3.5)
    assert m.vw_mid == pytest.approx((100.0 + (100.1 * 2 + 100.2 * 1) / 3) / 2)
    assert (m.bid_liquidity, m.ask_liquidity) == (1.5, 3.0)
    # within 10 bps of 100.05: [99.94995, 100.15005]: the 100.2 ask is outside
    assert m.imbalance == pytest.approx((1.5 - 2.0) / 3.5)
    assert not m.crossed
    a, b, c = m.venues
    assert a.spread_bps == pytest.approx(0.1 / 100.05 * 1e4)
    assert b.spread_bps == pytest.approx(0.2 / 100.1 * 1e4)
    assert (a.bid_share, b.bid_share) == (pytest.approx(1 / 1.5), pytest.approx(0.5 / 1.5))
    assert (a.ask_share, b.ask_share) == (pytest.approx(2 / 3), pytest.approx(1 / 3))
    assert c.state == "awaiting_snapshot" and c.bid_share is None


def test_weights_change_the_analytics_not_the_levels() -> None:
    cob = make_cob(weights={"b": 0.25})
    cob.update(snapshot("a", T0, [(10000, 1000)], [(10010, 1000)]))
    cob.update(snapshot("b", T0, [(1000, 15000)], [(1002, 10000)]))  # 1.5 at 100.0
    (level,) = cob.levels(True, 1)
    assert level.size == 25000 and level.dominant == "a"  # 1.0 vs 0.25 * 1.5
    m = cob.metrics()
    assert m.bid_liquidity == pytest.approx(1.0 + 0.375)
    assert m.depth[0].bid == pytest.approx(1.0 + 0.375)  # the bands are weighted too
    assert m.venues[0].bid_share == pytest.approx(1.0 / 1.375)
    unweighted = make_cob()
    unweighted.update(snapshot("a", T0, [(10000, 1000)], []))
    unweighted.update(snapshot("b", T0, [(1000, 15000)], []))
    assert unweighted.levels(True, 1)[0].dominant == "b"


def test_depth_band_edges_are_exact() -> None:
    cob = make_cob(depth_bps=(10.0,))
    # mid exactly 100.000; 10 bps = 0.100: 99.900 and 100.100 are inside, one tick out is not
    cob.update(snapshot("c", T0, [(99950, 1), (99900, 2), (99899, 4)], [(100050, 1), (100100, 2)]))
    cob.update(snapshot("a", T0, [], [(10011, 1)]))  # 100.11 is outside
    assert band_keys(200000, 10.0) == (99900, 100100)
    (band,) = cob.metrics().depth
    assert (band.bid, band.ask) == (0.03, 0.03)


def test_rolling_stats_are_time_windows() -> None:
    cob = make_cob(windows_ns=(1 * SECOND, 5 * SECOND))
    cob.update(snapshot("a", T0, [(10000, 1000)], [(10002, 1000)]))  # mid 100.01
    # 3 s later the mid moves to 100.11; then one more event 1.5 s after that
    moved = [(10000, 0), (10010, 1000)], [(10002, 0), (10012, 1000)]
    cob.update(delta("a", T0 + 3 * SECOND + MS, *moved))
    cob.update(delta("a", T0 + 4500 * MS, [], []))
    one, five = cob.metrics().rolling
    assert (one.window_ns, five.window_ns) == (SECOND, 5 * SECOND)
    # samples on every 100 ms boundary from T0+100ms to T0+4.5s: the quiet ones included
    assert five.samples == 45 and one.samples == 10
    assert one.mid is not None and five.mid is not None
    assert one.mid.min == one.mid.max == pytest.approx(100.11)  # the last second: new state
    assert (five.mid.min, five.mid.max) == (pytest.approx(100.01), pytest.approx(100.11))
    # 30 boundaries (0.1 .. 3.0 s) at 100.01, 15 (3.1 .. 4.5 s) at 100.11
    assert five.mid.avg == pytest.approx((30 * 100.01 + 15 * 100.11) / 45)
    assert five.spread_bps is not None
    assert five.spread_bps.max == pytest.approx(0.02 / 100.01 * 1e4)


def test_rolling_stats_forget_what_is_older_than_the_longest_window() -> None:
    cob = make_cob(windows_ns=(SECOND,), stale_after_ns=7200 * SECOND)
    cob.update(snapshot("a", T0, [(10000, 1000)], [(10002, 1000)]))
    cob.update(delta("a", T0 + 3600 * SECOND, [], []))  # an hour of silence, not yet stale
    assert len(cob.stats.samples) == 10  # what the 1 s window holds, not 36,000
    (window,) = cob.metrics().rolling
    assert window.samples == 10


def test_empty_side_gives_no_mid_metrics() -> None:
    cob = ConsolidatedBook([instrument("a")], CobConfig(taker_fees={"a": "0"}))
    cob.update(snapshot("a", T0, [(10000, 1)], []))
    m = cob.metrics()
    assert m.mid is None and m.spread_bps is None and m.micro_price is None
    assert m.imbalance is None or not math.isnan(m.imbalance)


side = st.lists(st.tuples(st.integers(99000, 101000), st.integers(1, 10**6)), max_size=30)


@settings(max_examples=100, deadline=None)
@given(
    side, side, side, side, st.lists(st.floats(0.5, 150.0), min_size=1, max_size=4), st.booleans()
)
def test_band_liquidity_equals_the_naive_sum(
    a_bids: list[Level],
    a_asks: list[Level],
    c_bids: list[Level],
    c_asks: list[Level],
    bands: list[float],
    weighted: bool,
) -> None:
    weights = {"a": 0.5, "c": 2.0} if weighted else {}
    cob = make_cob(weights=weights)
    cob.update(
        snapshot("a", T0, [(p // 10, s) for p, s in a_bids], [(p // 10, s) for p, s in a_asks])
    )
    cob.update(snapshot("c", T0, c_bids, c_asks))
    mid2 = cob.mid2()
    got = band_liquidity(cob, bands)
    for bps, (bid, ask) in zip(bands, got, strict=True):
        if mid2 is None:
            assert (bid, ask) == (0.0, 0.0)
            continue
        low, high = band_keys(mid2, bps)
        expected = []
        for is_bid in (True, False):
            total = 0.0
            for price in (cob.bids if is_bid else cob.asks).levels:
                if (price >= low) if is_bid else (price <= high):
                    for m, size in cob.venue_sizes(price, is_bid):
                        total += m.weight * size
            expected.append(total / 10**cob.size_decimals)
        assert bid == pytest.approx(expected[0]) and ask == pytest.approx(expected[1])
