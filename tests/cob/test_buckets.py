"""Buckets: side-aware rounding, widths, and nothing lost or counted twice."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orderscope.cob import make_buckets
from orderscope.cob.buckets import bucket_width
from orderscope.errors import ConfigError
from tests.cob.synthetic import T0, instrument, make_cob, snapshot


def test_bids_round_down_asks_round_up() -> None:
    cob = make_cob()  # COB scale: 3 price decimals
    cob.update(snapshot("a", T0, [(10007, 1000), (10003, 1000)], [(10013, 1000)]))
    cob.update(snapshot("c", T0, [(100099, 100)], [(100101, 100), (100200, 100)]))
    buckets = make_buckets(cob, quote_amount="0.1")
    assert buckets.width == 100
    assert [(b.price, b.size, b.levels) for b in buckets.bids] == [(100000, 30000, 3)]
    assert [(b.price, b.size, b.levels) for b in buckets.asks] == [
        (100200, 30000, 3),  # 100.101, 100.13 and 100.2 itself: the 100.2 bucket
    ]
    (bid,) = buckets.bids
    assert [(v.venue, v.size) for v in bid.venues] == [("a", 20000), ("c", 10000)]
    assert bid.notional == 100070 * 10000 + 100030 * 10000 + 100099 * 10000


def test_bps_width_follows_the_mid_on_the_tick_grid() -> None:
    cob = make_cob()
    cob.update(snapshot("c", T0, [(99990, 1)], [(100010, 1)]))  # mid 100.000
    assert bucket_width(cob, 1.0, None) == 10  # 1 bp of 100 = 0.010
    assert bucket_width(cob, 0.01, None) == 1  # never below one tick
    coarse = make_cob([instrument("a", 2, 3, tick=5)])  # tick 0.05
    coarse.update(snapshot("a", T0, [(9995, 1)], [(10005, 1)]))
    assert bucket_width(coarse, 12.0, None) == 10  # 0.12 rounded down to ticks: 0.10
    with pytest.raises(ConfigError):
        bucket_width(cob, 1.0, "10")
    with pytest.raises(ConfigError):
        make_buckets(cob, quote_amount="0")


def test_default_widths_per_base_and_count() -> None:
    cob = make_cob()  # BTC: $10 by default
    cob.update(snapshot("a", T0, [(10000 - 1000 * k, 1) for k in range(5)], [(10100, 1)]))
    buckets = make_buckets(cob, count=3)
    assert buckets.quote_amount == "10" and buckets.width == 10_000
    assert [b.price for b in buckets.bids] == [100000, 90000, 80000]
    assert make_buckets(cob, count=0).bids == []


levels = st.lists(st.tuples(st.integers(99000, 101000), st.integers(1, 50)), max_size=25)


@settings(max_examples=100, deadline=None)
@given(levels, levels, st.integers(1, 700))
def test_every_level_in_exactly_one_bucket(
    bids: list[tuple[int, int]], asks: list[tuple[int, int]], width: int
) -> None:
    cob = make_cob()
    cob.update(snapshot("c", T0, bids, asks))  # "c" prices are on the COB scale already
    buckets = make_buckets(cob, quote_amount=f"{width / 1000:.3f}", count=10_000)
    for side, levels_, is_bid in (
        (buckets.bids, cob.bid_levels(), True),
        (buckets.asks, cob.ask_levels(), False),
    ):
        assert sum(b.size for b in side) == sum(s for _, s in levels_)
        assert sum(b.levels for b in side) == len(levels_)
        prices = [b.price for b in side]
        assert prices == sorted(prices, reverse=is_bid) and len(set(prices)) == len(prices)
        for price, _ in levels_:
            (home,) = [
                b
                for b in side
                if (
                    b.price <= price < b.price + width
                    if is_bid
                    else b.price - width < price <= b.price
                )
            ]
            assert home.price % width == 0
