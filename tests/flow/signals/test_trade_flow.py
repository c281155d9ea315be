"""Trade-only detectors fire on their pattern and stay quiet on its near misses."""

from __future__ import annotations

import pytest

from orderscope.flow.signals import (
    BlockTradeDetector,
    MomentumBurstDetector,
    Signal,
    SignalKind,
    SmallTradeBurstDetector,
)
from orderscope.model import Side, Trade
from tests.flow.builders import BUY, INST, SELL, T0, qty, trade


def run(
    detector: BlockTradeDetector | MomentumBurstDetector | SmallTradeBurstDetector,
    trades: list[Trade],
) -> list[Signal]:
    out: list[Signal] = []
    for t in trades:
        detector.on_trade(t, out)
    return out


def test_block_trade_is_one_signal_per_aggressive_order() -> None:
    # One taker order filled at three prices in the same match: 3 BTC at ~50k = 150k USDT.
    fills = [trade(0, 50_000, 1, BUY), trade(0, 50_001, 1, BUY), trade(0, 50_002, 1, BUY)]
    (signal,) = run(BlockTradeDetector(INST), fills)
    assert signal.kind is SignalKind.BLOCK_TRADE
    assert signal.side is BUY
    assert signal.size == qty(2)  # the running size when the order crossed 100k
    assert signal.price == 5_000_100
    assert 0.5 <= signal.confidence < 0.6
    assert "block buy" in signal.description and "USDT" in signal.description


def test_block_trade_quiet_below_threshold_and_for_separate_orders() -> None:
    assert run(BlockTradeDetector(INST), [trade(0, 50_000, 1.9, BUY)]) == []
    # Two orders of 75k each, one ms apart, and two same-time fills of opposite sides.
    separate = [trade(0, 50_000, 1.5, BUY), trade(1, 50_000, 1.5, BUY)]
    assert run(BlockTradeDetector(INST), separate) == []
    sides = [trade(5, 50_000, 1.5, BUY), trade(5, 50_000, 1.5, SELL)]
    assert run(BlockTradeDetector(INST), sides) == []


def rising(step_ms: float, sides: list[Side]) -> list[Trade]:
    return [trade(i * step_ms, 50_000 + 20 * i, 0.1, side) for i, side in enumerate(sides)]


def test_momentum_burst_up_with_buy_aggression() -> None:
    trades = rising(150, [BUY] * 6)  # +20.00 (4 bps) every 150 ms
    (signal,) = run(MomentumBurstDetector(INST), trades)
    assert signal.kind is SignalKind.MOMENTUM_BURST
    assert signal.side is BUY
    assert signal.start_ns == T0
    assert signal.ts == trades[4].exch_ns  # the 5th trade: +80 = 16 bps, min_trades reached
    assert signal.confidence == pytest.approx(0.65)  # 16 bps: 0.5 + 0.5 * 6 / 20


def test_momentum_burst_needs_one_sided_aggression_trades_and_speed() -> None:
    assert run(MomentumBurstDetector(INST), rising(150, [BUY, SELL] * 3)) == []
    assert run(MomentumBurstDetector(INST), rising(150, [BUY] * 4)) == []
    assert run(MomentumBurstDetector(INST), rising(400, [BUY] * 6)) == []  # 2 s: too slow


def test_momentum_burst_cooldown() -> None:
    first = rising(150, [BUY] * 6)
    again = [trade(1000 + i * 150, 50_100 + 20 * i, 0.1, BUY) for i in range(6)]
    assert len(run(MomentumBurstDetector(INST), first + again)) == 1


def test_small_trade_burst() -> None:
    trades = [trade(i * 10, 50_000, 0.001, BUY if i % 4 else SELL) for i in range(40)]
    (signal,) = run(SmallTradeBurstDetector(INST), trades)
    assert signal.kind is SignalKind.SMALL_TRADE_BURST
    assert signal.side is BUY  # 3 buys in 4
    assert signal.size == qty(0.030)


def test_small_trade_burst_quiet_when_slow_or_mixed_with_large() -> None:
    slow = [trade(i * 100, 50_000, 0.001, BUY) for i in range(40)]  # 4 s
    assert run(SmallTradeBurstDetector(INST), slow) == []
    mixed = [trade(i * 10, 50_000, 0.001 if i % 2 else 1, BUY) for i in range(80)]
    assert run(SmallTradeBurstDetector(INST), mixed) == []
