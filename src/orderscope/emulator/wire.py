"""Text the emulated venues share: numbers at a venue's wire decimals, times, 24h statistics."""

from __future__ import annotations

import math
import time
import uuid
from collections import Counter
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


class LogHistogram:
    """Durations (ns) in 1% log buckets from 1 µs: constant memory however long it runs."""

    STEP = math.log(1.01)

    def __init__(self) -> None:
        self.counts: Counter[int] = Counter()
        self.n = 0
        self.max_ns = 0

    def add(self, ns: int) -> None:
        self.counts[int(math.log(max(ns, 1_000)) / self.STEP)] += 1
        self.n += 1
        if ns > self.max_ns:
            self.max_ns = ns

    def quantile_ms(self, q: float) -> float:
        """The q-quantile (0..1) in milliseconds, to 1% (a bucket's lower bound)."""
        rank = q * self.n
        seen = 0
        for bucket in sorted(self.counts):
            seen += self.counts[bucket]
            if seen >= rank:
                return math.exp(bucket * self.STEP) / 1e6
        return self.max_ns / 1e6

    def summary(self) -> dict[str, float]:
        return {
            "n": self.n,
            "p50_ms": round(self.quantile_ms(0.5), 3),
            "p99_ms": round(self.quantile_ms(0.99), 3),
            "p999_ms": round(self.quantile_ms(0.999), 3),
            "max_ms": round(self.max_ns / 1e6, 3),
        }
