from __future__ import annotations

import pytest

from orderscope.errors import ConfigError
from orderscope.flow.base import DAY, HOUR, trades_frame
from orderscope.flow.profile import (
    Profile,
    ProfileParams,
    SessionProfiles,
    VolumeProfile,
    composite,
    session_profiles,
    volume_profile,
)
from orderscope.model import Trade

from .helpers import T0, trade

DEFAULT = ProfileParams()


def both(trades: list[Trade], row: int = 1, params: ProfileParams = DEFAULT) -> Profile:
    vp = VolumeProfile(row, params=params)
    for t in trades:
        vp.update(t)
    result = vp.result()
    assert result == volume_profile(trades_frame(trades), row, params=params)
    return result


def profile_of(volumes: list[int], params: ProfileParams = DEFAULT) -> Profile:
    """Rows 100, 101, ... with these volumes (buys); a zero makes an empty row."""
    return both([trade(100 + i, v) for i, v in enumerate(volumes) if v], 1, params)


def test_rows_by_lower_edge_with_every_empty_row_between() -> None:
    p = both([trade(1000, 2, 1), trade(1009, 3, -1), trade(1030, 1, 1), trade(1010, 4)], 10)
    assert [(r.price, r.buy, r.sell, r.trades) for r in p.rows] == [
        (1000, 2, 3, 2),
        (1010, 4, 0, 1),
        (1020, 0, 0, 0),
        (1030, 1, 0, 1),
    ]
    assert (p.volume, p.buy, p.sell) == (10, 7, 3)


def test_a_one_row_profile() -> None:
    p = profile_of([7])
    assert (p.poc, p.vah, p.val, p.value_area_volume) == (100, 100, 100, 7)
    assert (p.hvn, p.lvn) == ([100], [])


def test_empty_profile() -> None:
    p = both([])
    assert (p.poc, p.vah, p.val, p.rows, p.volume) == (None, None, None, [], 0)


@pytest.mark.parametrize(
    ("volumes", "poc"),
    [
        ([5, 5, 5], 101),
        ([5, 5], 100),
        ([5, 1, 5, 1], 102),
        ([5, 0, 0, 0, 5, 0, 5], 104),  # 104 is nearer the middle (103) than 100 or 106
    ],
)
def test_poc_ties_go_to_the_middle_of_the_range_then_down(volumes: list[int], poc: int) -> None:
    assert profile_of(volumes).poc == poc


def test_value_area_adds_the_larger_pair() -> None:
    # POC 103 (40 of 100); up pair 104+105 = 20, down pair 102+101 = 30: down, then 70% in
    p = profile_of([5, 10, 20, 40, 15, 5, 5])
    assert (p.poc, p.val, p.vah, p.value_area_volume) == (103, 101, 103, 70)


def test_value_area_ties_go_up() -> None:
    p = profile_of([10, 10, 40, 10, 10])
    assert (p.val, p.vah, p.value_area_volume) == (102, 104, 60)


def test_value_area_takes_what_is_left_at_an_edge() -> None:
    # POC at the top: only pairs below; then a single row is left below
    p = profile_of([3, 5, 5, 50], ProfileParams(value_area=0.99))
    assert (p.val, p.vah, p.value_area_volume) == (100, 103, 63)
    # one row above the POC against a pair below: 9 vs 2 + 2
    p = profile_of([2, 2, 20, 9])
    assert (p.val, p.vah) == (102, 103)


def test_value_area_share_is_configurable_and_exact() -> None:
    # 7 of 10 is exactly 70%: enough
    p = profile_of([1, 7, 1, 1])
    assert (p.val, p.vah) == (101, 101)
    p = profile_of([1, 7, 1, 1], ProfileParams(value_area="0.8"))
    assert (p.val, p.vah) == (101, 103)


def test_high_and_low_volume_nodes_of_the_smoothed_profile() -> None:
    raw = ProfileParams(smooth=0)
    p = profile_of([1, 10, 1, 1, 10, 1], raw)
    assert (p.hvn, p.lvn) == ([101, 104], [102])  # the 1, 1 plateau reports its lower middle
    # smoothed over 3 rows: 11, 12, 12, 12, 12, 11 -> one wide node in the middle
    p = profile_of([1, 10, 1, 1, 10, 1])
    assert (p.hvn, p.lvn) == ([102], [])


def test_edges_can_be_high_volume_nodes_but_not_low_ones() -> None:
    p = profile_of([9, 1, 9], ProfileParams(smooth=0))
    assert (p.hvn, p.lvn) == ([100, 102], [101])


def test_time_range() -> None:
    trades = [trade(100, 1, ts=T0), trade(101, 1, ts=T0 + 10), trade(102, 1, ts=T0 + 20)]
    vp = VolumeProfile(1, start_ns=T0 + 10, end_ns=T0 + 20)
    for t in trades:
        vp.update(t)
    expected = vp.result()
    assert [r.price for r in expected.rows] == [101]
    assert expected == volume_profile(trades_frame(trades), 1, T0 + 10, T0 + 20)


def test_composite_is_a_single_pass() -> None:
    trades = [trade(100 + i % 7, 1 + i % 3, 1 if i % 2 else -1) for i in range(30)]
    single = both(trades, 2)
    a, b = VolumeProfile(2), VolumeProfile(2)
    for t in trades[:11]:
        a.update(t)
    for t in trades[11:]:
        b.update(t)
    assert composite([a.result(), b.result()]) == single
    a.merge(b)
    assert a.result() == single


def test_only_profiles_with_the_same_rows_merge() -> None:
    with pytest.raises(ConfigError):
        VolumeProfile(1).merge(VolumeProfile(2))
    with pytest.raises(ConfigError):
        composite([])


def test_sessions_are_utc_days_by_default() -> None:
    midnight = T0 - T0 % DAY + DAY
    trades = [
        trade(100, 1, ts=midnight - 1),
        trade(101, 2, ts=midnight),
        trade(102, 1, ts=midnight + HOUR),
    ]
    sessions = SessionProfiles(1)
    for t in trades:
        sessions.update(t)
    result = sessions.result()
    assert list(result) == [midnight - DAY, midnight]
    assert [r.poc for r in result.values()] == [100, 101]
    assert result == session_profiles(trades_frame(trades), 1)


def test_params_are_checked() -> None:
    with pytest.raises(ConfigError):
        ProfileParams(value_area=1.5)
    with pytest.raises(ConfigError):
        ProfileParams(smooth=-1)
