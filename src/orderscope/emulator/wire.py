"""Text the emulated venues share: numbers at a venue's wire decimals, times, 24h statistics."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

from orderscope.fixed import POW10, format_fixed


def wire_text(value: int, decimals: int, wire_decimals: int) -> str:
    """A scaled int (``decimals``) written with the venue's ``wire_decimals`` (more or equal)."""
    return format_fixed(value * POW10[wire_decimals - decimals], wire_decimals)


def stripped_text(value: int, decimals: int) -> str:
    """A scaled int as the shortest decimal text: what two venues' numbers compare on."""
    return format_fixed(value, decimals, strip=True)


_SECOND_TEXT: dict[int, str] = {}  # epoch second -> "YYYY-MM-DDTHH:MM:SS" (a pure cache)


def iso8601(ns: int) -> str:
    """Epoch nanoseconds as ISO 8601 UTC with microseconds: ``2021-04-17T16:43:37.075687Z``."""
    second, rest = divmod(ns, 1_000_000_000)
    text = _SECOND_TEXT.get(second)
    if text is None:
        if len(_SECOND_TEXT) > 64:
            _SECOND_TEXT.clear()
        text = _SECOND_TEXT[second] = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
    return f"{text}.{rest // 1000:06d}Z"


def seconds_text(ns: int) -> str:
    """Epoch nanoseconds as seconds with microseconds: ``1618678133.579874`` (Kraken)."""
    return format_fixed(ns // 1000, 6)


def order_id(n: int) -> str:
    """A deterministic UUID-shaped order id."""
    return str(uuid.UUID(int=n))


@dataclass(slots=True)
class DayStats:
    """Rolling statistics of a synthetic market's trades (the emulator's "24 hours" are the
    session: nothing rolls out)."""

    open: int = 0
    high: int = 0
    low: int = 0
    last: int = 0
    last_size: int = 0
    volume: int = 0  # size units
    notional: int = 0  # price units x size units
    trades: int = 0

    def trade(self, price: int, size: int) -> None:
        if not self.trades:
            self.open = self.high = self.low = price
        self.high = max(self.high, price)
        self.low = min(self.low, price)
        self.last = price
        self.last_size = size
        self.volume += size
        self.notional += price * size
        self.trades += 1

    def vwap(self) -> int:
        """Volume-weighted average price in price units (rounded down)."""
        return self.notional // self.volume if self.volume else self.last
