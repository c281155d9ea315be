from __future__ import annotations

import polars as pl
import pytest

from orderscope.errors import ConfigError
from orderscope.flow.base import (
    DAY,
    HOUR,
    MINUTE,
    SECOND,
    event_time,
    parse_row,
    parse_timeframe,
    poc_index,
    ratio,
    require_trades,
    trades_frame,
)

from .helpers import INSTRUMENT, T0, trade


def test_timeframes() -> None:
    assert [parse_timeframe(t) for t in ("1m", "5m", "15m", "1h", "4h", "1d")] == [
        MINUTE,
        5 * MINUTE,
        15 * MINUTE,
        HOUR,
        4 * HOUR,
        DAY,
    ]
    assert parse_timeframe("30s") == 30 * SECOND
    for bad in ("", "0m", "1w", "m", "1.5m"):
        with pytest.raises(ConfigError):
            parse_timeframe(bad)


def test_rows_in_ticks_or_price_steps() -> None:
    assert parse_row("10t", INSTRUMENT) == 10  # tick 0.01 = 1 unit
    assert parse_row("0.5", INSTRUMENT) == 50
    for bad in ("0", "0.001", "-1", "t", "abc"):
        with pytest.raises(ConfigError):
            parse_row(bad, INSTRUMENT)


def test_event_time_prefers_the_exchange_stamp() -> None:
    assert event_time(trade(1, 1, ts=T0, recv=T0 + 5)) == T0
    assert event_time(trade(1, 1, ts=0, recv=T0 + 5)) == T0 + 5


def test_ratio_is_exact() -> None:
    assert ratio(3.0) == 3 and ratio(0.7).denominator == 10 and ratio("1.5") == ratio(1.5)
    with pytest.raises(ConfigError):
        ratio(0)


def test_poc_index_ties() -> None:
    assert poc_index([5, 5, 5], [10, 20, 30]) == 1
    assert poc_index([5, 5], [10, 20]) == 0
    assert poc_index([1, 5, 1, 5], [10, 20, 30, 40]) == 1  # 20 is nearer the middle (25)
    assert poc_index([7], [10]) == 0


def test_trades_frame_schema_is_required() -> None:
    frame = trades_frame([trade(100, 2, -1)])
    assert frame.rows() == [(T0, 100, 2, -1)]
    with pytest.raises(ConfigError, match="side"):
        require_trades(pl.DataFrame({"ts": [1], "price": [1], "size": [1]}))
