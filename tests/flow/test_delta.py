from __future__ import annotations

import pytest

from orderscope.errors import ConfigError
from orderscope.flow.base import MINUTE, SECOND, trades_frame
from orderscope.flow.delta import CumulativeDelta, DeltaParams, DeltaResult, delta_bars
from orderscope.model import Trade

from .helpers import T0, trade

SECONDS = DeltaParams(timeframe_ns=SECOND, session_ns=10 * SECOND, momentum_bars=2, lookback=2)


def both(trades: list[Trade], params: DeltaParams = SECONDS) -> DeltaResult:
    cd = CumulativeDelta(params)
    for t in trades:
        cd.update(t)
    result = cd.result()
    assert result == delta_bars(trades_frame(trades), params)
    assert cd.cvd == result.cvd
    return result


def bars(*spec: tuple[int, int, int]) -> list[Trade]:
    """One second per entry: (buy, sell, price); buys then sells at that price."""
    out = []
    for i, (buy, sell, price) in enumerate(spec):
        if buy:
            out.append(trade(price, buy, 1, ts=T0 + i * SECOND))
        if sell:
            out.append(trade(price, sell, -1, ts=T0 + i * SECOND + 1))
    return out


def test_cvd_running_and_per_session() -> None:
    trades = [trade(100, 5, 1, ts=T0), trade(100, 2, -1, ts=T0 + 9 * SECOND)]
    trades.append(trade(100, 4, -1, ts=T0 + 10 * SECOND))  # the next 10 s session
    r = both(trades)
    assert (r.cvd, r.buy, r.sell, r.trades) == (-1, 5, 6, 3)
    assert [(s.start_ns, s.delta) for s in r.sessions] == [(T0, 3), (T0 + 10 * SECOND, -4)]
    assert [(b.cvd, b.session_cvd) for b in r.bars] == [(5, 5), (3, 3), (-1, -4)]
    assert r.buy_pct == pytest.approx(100 * 5 / 11)


def test_momentum_acceleration_and_pressure() -> None:
    r = both(bars((6, 2, 100), (1, 3, 100), (5, 0, 100)))
    assert [b.delta for b in r.bars] == [4, -2, 5]
    assert [b.momentum for b in r.bars] == [None, 2, 3]  # sum of the last 2 bar deltas
    assert [b.acceleration for b in r.bars] == [None, None, 1]
    assert [b.buy_pct for b in r.bars] == [75.0, 25.0, 100.0]


def test_bearish_divergence_higher_high_without_higher_cvd() -> None:
    r = both(bars((5, 0, 100), (5, 0, 101), (1, 3, 102)))
    assert [b.divergence for b in r.bars] == [None, None, "bearish"]


def test_bullish_divergence_lower_low_without_lower_cvd() -> None:
    r = both(bars((0, 5, 100), (0, 5, 99), (3, 1, 98)))
    assert [b.divergence for b in r.bars] == [None, None, "bullish"]


def test_no_divergence_when_cvd_confirms() -> None:
    r = both(bars((5, 0, 100), (5, 0, 101), (5, 0, 102)))
    assert [b.divergence for b in r.bars] == [None, None, None]


def test_buying_exhaustion_new_high_on_fading_buying() -> None:
    # the strongest recent buying delta is 10; a new high on +4 (< 0.5 * 10) is exhaustion,
    # on +5 (= 0.5 * 10) it is not
    r = both(bars((10, 0, 100), (2, 0, 101), (4, 0, 102)))
    assert r.bars[-1].exhaustion == "buying"
    r = both(bars((10, 0, 100), (2, 0, 101), (5, 0, 102)))
    assert r.bars[-1].exhaustion is None


def test_selling_exhaustion_new_low_on_fading_selling() -> None:
    r = both(bars((0, 10, 100), (0, 2, 99), (0, 4, 98)))
    assert r.bars[-1].exhaustion == "selling"


def test_params_are_checked() -> None:
    with pytest.raises(ConfigError):
        DeltaParams(timeframe_ns=7 * SECOND)  # a day is not whole 7 s bars
    with pytest.raises(ConfigError):
        DeltaParams(momentum_bars=0)


def test_empty() -> None:
    r = both([], DeltaParams(timeframe_ns=MINUTE))
    assert (r.cvd, r.bars, r.buy_pct) == (0, [], None)
