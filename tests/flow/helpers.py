"""Small hand-built trades for the flow tests."""

from __future__ import annotations

from typing import Protocol, TypeVar

from orderscope.model import Instrument, InstrumentKind, Side, Trade

#: 2 price decimals, 3 size decimals, tick 0.01, lot 0.001
INSTRUMENT = Instrument(
    "test", "BTC/USDT", "BTCUSDT", "BTC", "USDT", InstrumentKind.SPOT, 2, 3, 1, 1
)
T0 = 1_700_000_040_000_000_000  # a whole minute (and second) of the epoch


def trade(price: int, size: int, side: int = 1, ts: int = T0, recv: int = 0) -> Trade:
    """A trade at ``ts`` (exchange time; 0 means 'not stamped', so recv is used)."""
    return Trade("test", "BTC/USDT", ts, recv or ts, price, size, Side(side), "")


class Streaming(Protocol):
    def update(self, trade: Trade) -> None: ...


S = TypeVar("S", bound=Streaming)


def feed(analytic: S, trades: list[Trade]) -> S:
    """The streaming object after every trade."""
    for t in trades:
        analytic.update(t)
    return analytic
