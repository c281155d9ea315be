"""TradeColumns: the shared keys of the vectorized analytics give the streaming results, on
every path the shortcuts take (sorted or not, dense or sparse grids, sums near the limits)."""

from __future__ import annotations

from unittest.mock import patch

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orderscope.errors import ConfigError
from orderscope.flow import _vector
from orderscope.flow._vector import exact_bincount
from orderscope.flow.base import MINUTE, SECOND, trades_frame
from orderscope.flow.columns import TradeColumns
from orderscope.flow.delta import CumulativeDelta, DeltaParams, delta_bars
from orderscope.flow.footprint import BarSpec, Footprint, footprint
from orderscope.flow.profile import (
    SessionProfiles,
    VolumeProfile,
    session_profiles,
    volume_profile,
)
from orderscope.flow.vwap import Vwap, VwapParams, vwap
from orderscope.model import Trade

from .helpers import T0, feed, trade

SPEC = BarSpec.time(SECOND)
DELTA = DeltaParams(timeframe_ns=SECOND, session_ns=10 * SECOND)
VWAP = VwapParams(2, session_ns=10 * SECOND, timeframe_ns=SECOND)


def streaming(trades: list[Trade], row: int) -> tuple[object, ...]:
    return (
        feed(Footprint(row, SPEC), trades).result(),
        feed(VolumeProfile(row), trades).result(),
        feed(CumulativeDelta(DELTA), trades).result(),
        feed(Vwap(VWAP), trades).result(),
    )


def check(trades: list[Trade], row: int) -> None:
    """Streaming == vectorized on the frame == vectorized on one shared TradeColumns, in both
    orders (the profile summed from the footprint's cells, or from the trades)."""
    expected = streaming(trades, row)
    frame = trades_frame(trades)
    fp, vp, cd, vw = expected
    assert (footprint(frame, row, SPEC), volume_profile(frame, row)) == (fp, vp)
    assert (delta_bars(frame, DELTA), vwap(frame, VWAP)) == (cd, vw)
    shared = TradeColumns.of(frame)
    assert footprint(shared, row, SPEC) == fp
    assert volume_profile(shared, row) == vp  # from the footprint's cells
    assert (delta_bars(shared, DELTA), vwap(shared, VWAP)) == (cd, vw)
    shared = TradeColumns.of(frame)
    assert volume_profile(shared, row) == vp  # from the trades
    assert footprint(shared, row, SPEC) == fp


def trade_lists(prices: st.SearchStrategy[int]) -> st.SearchStrategy[list[Raw]]:
    return st.lists(
        st.tuples(
            st.integers(0, 30 * SECOND),
            st.integers(-3 * SECOND, 0),  # late stamps: the unsorted path
            prices,
            st.one_of(st.integers(1, 12), st.integers(1, 2**52)),  # small or huge sizes
            st.sampled_from([1, -1]),
        ),
        min_size=1,
        max_size=40,
    )


Raw = tuple[int, int, int, int, int]

#: (row, trades): narrow ranges in small rows, wide ones in large rows (a profile lists every
#: row of its range, so a wide range in small rows is slow for both paths alike)
cases = st.one_of(
    st.tuples(st.sampled_from([1, 3]), trade_lists(st.integers(9_990, 10_010))),
    st.tuples(st.just(10_000), trade_lists(st.integers(0, 10**8))),
)


def build(raw: list[Raw], late: bool) -> list[Trade]:
    raw = sorted(raw, key=lambda r: r[0])
    return [trade(p, q, s, ts=T0 + at + (lag if late else 0)) for at, lag, p, q, s in raw]


@settings(max_examples=80, deadline=None)
@given(cases, st.booleans(), st.booleans())
def test_shared_columns_agree_with_streaming(
    case: tuple[int, list[Raw]], late: bool, sparse: bool
) -> None:
    row, raw = case
    with patch.object(_vector, "dense", lambda cells, rows: not sparse):
        check(build(raw, late), row)


def test_sparse_footprint_cells_are_hashed() -> None:
    # bars spanning a range far wider than the trades in rows of 1: too sparse for bincount
    prices = (1, 10**9, 5, 7, 10**9 - 1)
    trades = [trade(p, 1 + i % 4, 1 if i % 3 else -1, T0 + i) for i, p in enumerate(prices)]
    assert footprint(trades_frame(trades), 1, SPEC) == feed(Footprint(1, SPEC), trades).result()


def test_bars_far_apart_are_found_by_division() -> None:
    # more (empty) one-second bars between the first and last trade than trades
    trades = [trade(100, 1, ts=T0), trade(101, 2, -1, ts=T0 + 3_600 * SECOND)]
    check(trades, 1)


def test_vwap_sums_beyond_int64_take_the_int128_path() -> None:
    # a bar whose range**2 * volume passes 2**61
    trades = [trade(1, 2**40, ts=T0), trade(2**30, 2**40, -1, ts=T0 + 1)]
    check(trades, 2**20)


def test_sizes_that_overflow_int64_are_refused() -> None:
    near = [trade(100, 2**60, ts=T0), trade(100, 2**61, ts=T0 + 1)]  # twice the sum fits
    assert delta_bars(trades_frame(near)) == feed(CumulativeDelta(), near).result()
    frame = trades_frame([trade(100, 2**61, ts=T0), trade(100, 2**61, ts=T0 + 1)])
    with pytest.raises(ConfigError, match="64 bits"):
        delta_bars(frame)


def test_time_range_of_sorted_and_unsorted_trades() -> None:
    for stamps in ([0, 10, 20, 30], [10, 0, 30, 20]):
        trades = [trade(100 + k, 1, ts=T0 + s) for k, s in enumerate(stamps)]
        expected = feed(VolumeProfile(1, T0 + 10, T0 + 30), trades).result()
        traded = [r.price for r in expected.rows if r.trades]
        assert traded == sorted([100 + stamps.index(10), 100 + stamps.index(20)])
        assert volume_profile(trades_frame(trades), 1, T0 + 10, T0 + 30) == expected


def test_sessions_with_an_offset() -> None:
    trades = [trade(100 + i % 5, 1 + i % 2, ts=T0 + i * 3 * SECOND) for i in range(20)]
    for offset in (0, 2 * SECOND, 10 * SECOND):
        profiles = SessionProfiles(1, session_ns=10 * SECOND, offset_ns=offset)
        expected = feed(profiles, trades).result()
        got = session_profiles(trades_frame(trades), 1, session_ns=10 * SECOND, offset_ns=offset)
        assert got == expected


def test_minute_bars_shared_by_footprint_delta_and_vwap() -> None:
    trades = [
        trade(100 + i % 9, 1 + i % 4, 1 if i % 3 else -1, T0 + i * SECOND) for i in range(200)
    ]
    shared = TradeColumns.of(trades_frame(trades))
    assert (
        footprint(shared, 2, BarSpec.time(MINUTE))
        == feed(Footprint(2, BarSpec.time(MINUTE)), trades).result()
    )
    assert delta_bars(shared) == feed(CumulativeDelta(), trades).result()
    assert vwap(shared, VwapParams(2)) == feed(Vwap(VwapParams(2)), trades).result()
    assert len(shared._bars) == 1  # one cut into minute bars served all three


@pytest.mark.parametrize("total_bits", [10, 60])
def test_exact_bincount(total_bits: int) -> None:
    rng = np.random.default_rng(total_bits)
    weights = rng.integers(0, 2 ** (total_bits - 7), 100, dtype=np.int64)
    index = rng.integers(0, 7, 100, dtype=np.int64)
    expected = [
        sum(int(w) for w, i in zip(weights, index, strict=True) if i == k) for k in range(7)
    ]
    got = exact_bincount(index, weights, 7, int(weights.sum()))
    assert got.tolist() == expected
