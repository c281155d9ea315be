"""Hand-built instruments and events for the flow tests (prices in cents, sizes in 0.001)."""

from __future__ import annotations

from orderscope.model import (
    BookDelta,
    BookSnapshot,
    Instrument,
    InstrumentKind,
    Level,
    Side,
    Trade,
)

MS = 1_000_000
SECOND = 1_000_000_000
T0 = 1_700_000_000 * SECOND

INST = Instrument(
    venue="test",
    symbol="BTC/USDT",
    venue_symbol="BTCUSDT",
    base="BTC",
    quote="USDT",
    kind=InstrumentKind.SPOT,
    price_decimals=2,
    size_decimals=3,
    tick_size=100,  # 1.00
    lot_size=1,
)

BUY, SELL = Side.BUY, Side.SELL


def px(value: float) -> int:
    return round(value * 100)


def qty(value: float) -> int:
    return round(value * 1000)


def trade(ms: float, price: float, size: float, side: Side, trade_id: str = "") -> Trade:
    return Trade("test", INST.symbol, T0 + round(ms * MS), 0, px(price), qty(size), side, trade_id)


def levels(pairs: list[tuple[float, float]]) -> list[Level]:
    return [(px(p), qty(s)) for p, s in pairs]


def snap(
    ms: float, bids: list[tuple[float, float]], asks: list[tuple[float, float]]
) -> BookSnapshot:
    return BookSnapshot("test", INST.symbol, T0 + round(ms * MS), 0, levels(bids), levels(asks))


def delta(
    ms: float,
    bids: list[tuple[float, float]] | None = None,
    asks: list[tuple[float, float]] | None = None,
) -> BookDelta:
    return BookDelta(
        "test", INST.symbol, T0 + round(ms * MS), 0, levels(bids or []), levels(asks or [])
    )


def ladder(
    best_bid: float, best_ask: float, size: float, count: int = 10, step: float = 1.0
) -> BookSnapshot:
    """A book of ``count`` levels of ``size`` a side, one ``step`` apart."""
    bids = [(best_bid - i * step, size) for i in range(count)]
    asks = [(best_ask + i * step, size) for i in range(count)]
    return snap(0, bids, asks)
