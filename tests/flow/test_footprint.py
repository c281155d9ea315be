from __future__ import annotations

import pytest

from orderscope.errors import ConfigError
from orderscope.flow.base import DAY, HOUR, MINUTE, SECOND, trades_frame
from orderscope.flow.footprint import (
    BarSpec,
    Footprint,
    FootprintResult,
    ImbalanceParams,
    ZeroSide,
    footprint,
    imbalances,
    stacked_imbalances,
)
from orderscope.model import Side, Trade

from .helpers import T0, trade


def both(trades: list[Trade], row: int, spec: BarSpec) -> FootprintResult:
    fp = Footprint(row, spec)
    for t in trades:
        fp.update(t)
    result = fp.result()
    assert result == footprint(trades_frame(trades), row, spec)
    return result


def test_rows_keyed_by_lower_edge_and_edge_trades_start_a_row() -> None:
    bar = both([trade(100, 1), trade(104, 2), trade(105, 4)], 5, BarSpec.time(MINUTE)).bars[0]
    assert [(r.price, r.volume) for r in bar.rows] == [(100, 3), (105, 4)]


def test_time_bars_are_aligned_to_the_epoch() -> None:
    trades = [trade(100, 1, ts=T0 + 59 * SECOND + 999), trade(100, 1, ts=T0 + MINUTE)]
    bars = both(trades, 1, BarSpec.time(MINUTE)).bars
    assert [(b.start_ns, b.end_ns) for b in bars] == [
        (T0, T0 + MINUTE),
        (T0 + MINUTE, T0 + 2 * MINUTE),
    ]
    for length in (4 * HOUR, DAY):
        (bar,) = both(trades, 1, BarSpec.time(length)).bars
        assert bar.start_ns % length == 0 and bar.start_ns <= T0 < bar.end_ns


def test_bar_figures_follow_arrival_order() -> None:
    trades = [trade(101, 5, 1), trade(99, 8, -1), trade(103, 2, 1), trade(100, 1, -1)]
    (bar,) = both(trades, 1, BarSpec.time(MINUTE)).bars
    assert (bar.open, bar.high, bar.low, bar.close) == (101, 103, 99, 100)
    assert (bar.volume, bar.trades, bar.delta) == (16, 4, -2)
    # running delta after each trade: 5, -3, -1, -2
    assert (bar.max_delta, bar.min_delta) == (5, -3)
    assert bar.poc == 99
    assert [(r.price, r.buy, r.sell, r.delta, r.trades) for r in bar.rows] == [
        (99, 0, 8, -8, 1),
        (100, 0, 1, -1, 1),
        (101, 5, 0, 5, 1),
        (103, 2, 0, 2, 1),
    ]


def test_a_bar_opened_by_a_sell_has_a_negative_max_delta() -> None:
    (bar,) = both([trade(100, 3, -1), trade(100, 1, -1)], 1, BarSpec.time(MINUTE)).bars
    assert (bar.max_delta, bar.min_delta) == (-3, -4)


def test_a_late_trade_goes_to_the_bar_of_its_own_time() -> None:
    trades = [trade(100, 1, ts=T0), trade(110, 1, ts=T0 + MINUTE), trade(90, 2, ts=T0 + 1)]
    first, second = both(trades, 1, BarSpec.time(MINUTE)).bars
    assert (first.open, first.close, first.low, first.volume) == (100, 90, 90, 3)
    assert second.volume == 1


def test_unstamped_trades_use_the_receive_time() -> None:
    (bar,) = both([trade(100, 1, ts=0, recv=T0 + 5)], 1, BarSpec.time(MINUTE)).bars
    assert bar.start_ns == T0


def test_volume_bars_close_on_reaching_the_size_and_never_split_a_trade() -> None:
    trades = [trade(100, 6, ts=T0 + i) for i in range(3)] + [trade(100, 4, ts=T0 + 9)]
    bars = both(trades, 1, BarSpec.volume(10)).bars
    assert [b.volume for b in bars] == [12, 10]
    assert [(b.start_ns, b.end_ns) for b in bars] == [(T0, T0 + 1), (T0 + 2, T0 + 9)]


def test_trade_count_bars() -> None:
    trades = [trade(100 + i, 1, ts=T0 + i) for i in range(5)]
    bars = both(trades, 1, BarSpec.trades(2)).bars
    assert [(b.open, b.close, b.trades) for b in bars] == [
        (100, 101, 2),
        (102, 103, 2),
        (104, 104, 1),
    ]


@pytest.mark.parametrize(
    ("volumes", "poc"),
    [
        ({100: 5, 101: 5, 102: 5}, 101),  # three-way tie: the middle row
        ({100: 5, 101: 5}, 100),  # the middle is between two rows: the lower
        ({100: 5, 101: 1, 102: 5, 103: 1}, 102),  # 102 is nearer the middle (101.5) than 100
        ({100: 1, 101: 9}, 101),  # no tie
    ],
)
def test_poc_ties_go_to_the_middle_then_down(volumes: dict[int, int], poc: int) -> None:
    trades = [trade(p, v) for p, v in volumes.items()]
    assert both(trades, 1, BarSpec.time(MINUTE)).bars[0].poc == poc


def bar_of(rows: dict[int, tuple[int, int]]) -> FootprintResult:
    """A one-minute footprint with the given (buy, sell) per row, one tick per row."""
    trades = []
    for price, (buy, sell) in rows.items():
        if buy:
            trades.append(trade(price, buy, 1))
        if sell:
            trades.append(trade(price, sell, -1))
    return both(trades, 1, BarSpec.time(MINUTE))


def found(rows: dict[int, tuple[int, int]], **params: object) -> list[tuple[int, Side, int, int]]:
    (bar,) = bar_of(rows).bars
    return [
        (i.price, i.side, i.volume, i.against)
        for i in imbalances(bar, 1, ImbalanceParams(**params))  # type: ignore[arg-type]
    ]


def test_diagonal_imbalance_compares_buy_at_p_with_sell_one_row_lower() -> None:
    # buy 9 at 101 against sell 3 at 100: exactly 300% counts; sell 3 at 100 vs buy 9 at 101
    assert found({100: (1, 3), 101: (9, 1)}) == [(101, Side.BUY, 9, 3)]
    assert found({100: (1, 3), 101: (8, 1)}) == []
    assert found({100: (1, 3), 101: (8, 1)}, ratio=2.5) == [(101, Side.BUY, 8, 3)]


def test_sell_imbalance_compares_sell_at_p_with_buy_one_row_higher() -> None:
    assert found({100: (1, 12), 101: (4, 1)}) == [(100, Side.SELL, 12, 4)]


def test_a_zero_side_follows_the_documented_rule() -> None:
    rows = {100: (1, 0), 101: (5, 1)}  # buy 5 at 101 against sell 0 at 100
    assert found(rows) == [(101, Side.BUY, 5, 0)]
    assert found(rows, zero_side=ZeroSide.IGNORE) == []
    assert found(rows, min_volume=6) == []
    # a row inside the range with no trade at all (101) is a zero side for both neighbours
    assert found({100: (0, 2), 102: (3, 0)}) == [(100, Side.SELL, 2, 0), (102, Side.BUY, 3, 0)]


def test_rows_at_the_range_edges_are_not_compared_outside_it() -> None:
    # the lowest row's buy has no row below; the highest row's sell none above
    assert found({100: (50, 0), 101: (0, 50)}) == []


def test_stacked_imbalances_need_three_adjacent_rows() -> None:
    rows = {100: (0, 1), 101: (9, 0), 102: (9, 0), 103: (9, 0), 105: (9, 0), 106: (9, 0)}
    (bar,) = bar_of(rows).bars
    found_ = imbalances(bar, 1)
    (stack,) = stacked_imbalances(found_, 1)
    assert (stack.side, stack.low, stack.high, stack.rows) == (Side.BUY, 101, 103, 3)
    assert len(stacked_imbalances(found_, 1, stack=2)) == 2


def test_time_footprints_merge_like_a_single_pass() -> None:
    trades = [
        trade(100 + (i * 7) % 5, 1 + i % 4, 1 if i % 3 else -1, ts=T0 + i * 7 * SECOND)
        for i in range(40)
    ]
    single = both(trades, 2, BarSpec.time(MINUTE))
    for cut in (0, 9, 17, 40):
        first, second = Footprint(2, BarSpec.time(MINUTE)), Footprint(2, BarSpec.time(MINUTE))
        for t in trades[:cut]:
            first.update(t)
        for t in trades[cut:]:
            second.update(t)
        first.merge(second)
        assert first.result() == single


def test_only_matching_time_footprints_merge() -> None:
    with pytest.raises(ConfigError):
        Footprint(1, BarSpec.volume(5)).merge(Footprint(1, BarSpec.volume(5)))
    with pytest.raises(ConfigError):
        Footprint(1, BarSpec.time(MINUTE)).merge(Footprint(2, BarSpec.time(MINUTE)))


def test_sparse_rows_take_the_hashing_path() -> None:
    # a price range of millions of rows: too wide for a dense count, same result
    trades = [trade(1, 1), trade(9_000_000, 2, -1), trade(9_000_000, 1)]
    (bar,) = both(trades, 1, BarSpec.time(MINUTE)).bars
    assert [(r.price, r.buy, r.sell) for r in bar.rows] == [(1, 1, 0), (9_000_000, 1, 2)]


def test_bad_sizes_are_refused() -> None:
    with pytest.raises(ConfigError):
        BarSpec.time(0)
    with pytest.raises(ConfigError):
        Footprint(0, BarSpec.time(MINUTE))


def test_empty_frame_gives_no_bars() -> None:
    assert footprint(trades_frame([]), 1, BarSpec.time(MINUTE)).bars == []
