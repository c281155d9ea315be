from __future__ import annotations

import pytest

from orderscope.errors import ConfigError
from orderscope.flow.base import SECOND, trades_frame
from orderscope.flow.trades import (
    SizeClasses,
    TradeFlow,
    TradeFlowResult,
    rolling_shares,
    trade_flow,
)
from orderscope.model import Trade

from .helpers import INSTRUMENT, T0, trade

# INSTRUMENT: price 2 decimals, size 3 decimals: notional 1.00000 quote = 10**5 units
QUOTE = 10**5


def both(trades: list[Trade], **kwargs: object) -> TradeFlowResult:
    flow = TradeFlow(INSTRUMENT, **kwargs)  # type: ignore[arg-type]
    for t in trades:
        flow.update(t)
    result = flow.result()
    assert result == trade_flow(trades_frame(trades), INSTRUMENT, **kwargs)  # type: ignore[arg-type]
    return result


def test_size_classes_by_notional_bounds_belong_above() -> None:
    classes = SizeClasses(INSTRUMENT)
    names = classes.names
    assert names[classes.classify(999_99 * 1000)] == "micro"  # 999.99
    assert names[classes.classify(1000 * QUOTE)] == "small"
    assert names[classes.classify(49_999 * QUOTE)] == "medium"
    assert names[classes.classify(50_000 * QUOTE)] == "large"
    assert names[classes.classify(100_000 * QUOTE)] == "block"


def test_class_totals() -> None:
    # 100.00 x 10.000 = 1,000 (small); 100.00 x 0.500 = 50 (micro); 100.00 x 2000 = block
    trades = [trade(10_000, 10_000, 1), trade(10_000, 500, -1), trade(10_000, 2_000_000, -1)]
    r = both(trades)
    by_name = {c.name: c for c in r.classes}
    assert (by_name["small"].count, by_name["small"].buy_volume) == (1, 10_000)
    assert (by_name["micro"].sell_volume, by_name["micro"].notional) == (500, 50 * QUOTE)
    assert by_name["block"].count == 1 and by_name["large"].count == 0


def test_custom_bounds() -> None:
    classes = SizeClasses(
        INSTRUMENT, bounds=["10.5"], names=["retail", "whale"], large_from="whale"
    )
    assert classes.classify(10 * QUOTE) == 0 and classes.classify(1050 * 1000) == 1
    with pytest.raises(ConfigError):
        SizeClasses(INSTRUMENT, bounds=["10", "5"], names=["a", "b", "c"], large_from="c")
    with pytest.raises(ConfigError):
        SizeClasses(INSTRUMENT, bounds=["10"], names=["a"])
    with pytest.raises(ConfigError):
        SizeClasses(INSTRUMENT, bounds=["ten"], names=["a", "b"], large_from="b")


def test_bounds_in_another_currency_through_the_quote_rate() -> None:
    # a BTC-quoted pair at 60,000 USD per BTC: 1,000 USD is 0.0166666... BTC
    classes = SizeClasses(INSTRUMENT, quote_rate="60000")
    assert classes.bounds[0] == 1667  # 0.01667 BTC in units of 10**-5
    assert classes.names[classes.classify(1666)] == "micro"
    assert classes.names[classes.classify(1667)] == "small"


def test_window_is_event_time_and_half_open() -> None:
    trades = [
        trade(10_000, 100_000, 1, ts=T0),  # 100.00 x 100.000 = 10,000 quote: medium, buy
        trade(10_000, 600_000, -1, ts=T0 + SECOND // 2),  # 60,000: large, sell
        trade(10_000, 100_000, 1, ts=T0 + SECOND),  # the first one leaves: (T0, T0 + 1 s]
    ]
    window = both(trades, window_ns=SECOND).window
    assert (window.clock_ns, window.trades, window.volume) == (T0 + SECOND, 2, 700_000)
    assert window.aggressive_buy_share == pytest.approx(1 / 7)
    assert window.aggressive_sell_share == pytest.approx(6 / 7)
    assert window.large_share == pytest.approx(6 / 7)
    assert window.small_share == pytest.approx(1 / 7)
    assert window.large_trades == 1


def test_a_late_trade_counts_at_the_clock() -> None:
    trades = [trade(10_000, 1000, 1, ts=T0 + 5 * SECOND), trade(10_000, 1000, -1, ts=T0)]
    flow = TradeFlow(INSTRUMENT, window_ns=SECOND)
    for t in trades:
        flow.update(t)
    window = flow.window()
    assert (window.clock_ns, window.trades) == (T0 + 5 * SECOND, 2)
    rolled = rolling_shares(trades_frame(trades), INSTRUMENT, window_ns=SECOND)
    assert rolled["clock_ns"].to_list() == [T0 + 5 * SECOND] * 2


def test_empty_window_has_no_shares() -> None:
    r = both([])
    assert r.window.aggressive_buy_share is None and r.window.large_share is None
