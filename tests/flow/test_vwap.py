from __future__ import annotations

import math

import pytest

from orderscope.errors import ConfigError
from orderscope.flow.base import MINUTE, SECOND, trades_frame
from orderscope.flow.vwap import Vwap, VwapParams, VwapResult, vwap
from orderscope.model import Trade

from .helpers import T0, trade


def both(trades: list[Trade], params: VwapParams) -> VwapResult:
    v = Vwap(params)
    for t in trades:
        v.update(t)
    result = v.result()
    assert result == vwap(trades_frame(trades), params)
    return result


def test_vwap_sigma_and_bands() -> None:
    # prices 1.00 and 1.10 (2 decimals), sizes 1 and 1: VWAP 1.05, sigma 0.05
    r = both([trade(100, 1), trade(110, 1)], VwapParams(2))
    (period,) = r.periods
    assert period.vwap == pytest.approx(1.05) and period.sigma == pytest.approx(0.05)
    assert period.bands == [
        pytest.approx((1.0, 1.1)),
        pytest.approx((0.95, 1.15)),
        pytest.approx((0.9, 1.2)),
    ]


def test_vwap_is_volume_weighted() -> None:
    (period,) = both([trade(100, 3), trade(200, 1)], VwapParams(0)).periods
    assert period.vwap == 125.0
    assert period.sigma == math.sqrt((3 * 100**2 + 200**2) / 4 - 125**2)


def test_sessions_restart() -> None:
    params = VwapParams(0, session_ns=10 * SECOND, timeframe_ns=SECOND)
    trades = [trade(100, 1, ts=T0), trade(200, 1, ts=T0 + 10 * SECOND)]
    r = both(trades, params)
    assert [(p.start_ns, p.vwap) for p in r.periods] == [(T0, 100.0), (T0 + 10 * SECOND, 200.0)]


def test_anchored_vwap_ignores_earlier_trades_and_draws_points_per_bar() -> None:
    params = VwapParams(0, session_ns=None, anchor_ns=T0 + SECOND, timeframe_ns=SECOND)
    trades = [trade(50, 9, ts=T0), trade(100, 1, ts=T0 + SECOND), trade(200, 1, ts=T0 + 2 * SECOND)]
    (period,) = both(trades, params).periods
    assert (period.start_ns, period.volume, period.vwap) == (T0 + SECOND, 2, 150.0)
    assert [(p.start_ns, p.vwap) for p in period.points] == [
        (T0 + SECOND, 100.0),
        (T0 + 2 * SECOND, 150.0),
    ]


def test_whole_input_vwap_starts_at_the_first_bar() -> None:
    params = VwapParams(0, session_ns=None, timeframe_ns=SECOND)
    (period,) = both([trade(100, 1, ts=T0 + SECOND + 5)], params).periods
    assert period.start_ns == T0 + SECOND


def test_exact_sums_do_not_overflow() -> None:
    big = [trade(9_000_000_000_000, 10**12), trade(9_000_000_000_001, 10**12)]
    (period,) = both(big, VwapParams(0)).periods
    assert period.vwap == 9_000_000_000_000.5


def test_streaming_sums_are_the_exact_sums() -> None:
    # Kept from each bar's first price: the sums come back exact whether the deviations stay
    # small (the common case), swing far from the first price, or outgrow 63 bits.
    trades = [
        trade(6_000_000, 250_000, ts=T0),
        trade(5_999_950, 3, ts=T0 + 1),
        trade(6_000_480, 10**9, ts=T0 + 2),
        trade(1, 7, ts=T0 + 3),
        trade(9_000_000_000_000, 10**12, ts=T0 + 4),
        trade(6_000_010, 1, ts=T0 + SECOND * 60),
        trade(6_000_000, 2, ts=T0 + SECOND * 61),
    ]
    v = Vwap(VwapParams(2))
    for t in trades:
        v.update(t)
    expected: dict[int, list[int]] = {}
    for t in trades:
        cell = expected.setdefault(t.exch_ns // MINUTE, [0, 0, 0])
        cell[0] += t.size
        cell[1] += t.price * t.size
        cell[2] += t.price**2 * t.size
    assert v.sums == expected
    assert both(trades, VwapParams(2)) == v.result()


def test_params_are_checked() -> None:
    with pytest.raises(ConfigError):
        VwapParams(2, anchor_ns=T0)  # an anchor needs session_ns=None
    with pytest.raises(ConfigError):
        VwapParams(2, timeframe_ns=7 * SECOND)
