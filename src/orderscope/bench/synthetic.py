"""A synthetic L2 stream, to measure ``L2Book`` alone on a long, realistic run.

The market: a book of a few thousand levels a side (BTC/USDT-like, 0.01 ticks), a mid that
random-walks one tick at a time, and deltas that each change 1 to ``max_levels`` levels at
distances from the touch drawn from an exponential law (most activity near the top, some
far), a share of them deletes of levels that exist. When the mid moves, the level it moves
onto is deleted in the same delta, so the book never crosses, as on a real venue.

The generator keeps only the sets of live prices, so a delta never deletes a level that is
not there and never names a price twice. It is seeded: the same config gives the same stream.
Deltas come in chunks, so that a million of them (~10 million levels) never sit in memory at
once.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass

from orderscope.model import Instrument, InstrumentKind, Level

Delta = tuple[list[Level], list[Level]]


@dataclass(frozen=True, slots=True)
class SyntheticConfig:
    deltas: int = 1_000_000
    seed: int = 20_240_601
    depth: int = 2_000  # price ticks a side covered by the starting book
    fill: float = 0.8  # share of those ticks holding a level at the start
    start_mid: int = 3_000_000  # in ticks: 30000.00 at 2 decimals
    max_levels: int = 20  # levels changed per delta: uniform in 1..max_levels
    mean_distance: float = 40.0  # mean distance from the touch of a changed level, in ticks
    delete_share: float = 0.2  # chance that a change to a live level deletes it
    move_share: float = 0.1  # chance that a delta moves the mid one tick (up or down)
    max_size: int = 5_000_000  # size units (10**-6 BTC)
    chunk: int = 20_000  # deltas per chunk

    def __post_init__(self) -> None:
        if self.deltas < 0 or self.depth < 1 or self.chunk < 1 or self.max_levels < 1:
            raise ValueError("deltas >= 0, depth >= 1, chunk >= 1, max_levels >= 1")


SYNTHETIC_INSTRUMENT = Instrument(
    venue="synthetic",
    symbol="BTC/USDT",
    venue_symbol="BTCUSDT",
    base="BTC",
    quote="USDT",
    kind=InstrumentKind.SPOT,
    price_decimals=2,
    size_decimals=6,
    tick_size=1,
    lot_size=1,
)


class SyntheticMarket:
    """The seeded stream: ``snapshot()`` once, then ``chunks()``."""

    def __init__(self, config: SyntheticConfig) -> None:
        self.config = config
        self._rng = random.Random(config.seed)
        # Bids are at prices <= top, asks at prices >= top + 1: ``top`` is the mid, rounded down.
        self._top = config.start_mid
        self._bids: set[int] = set()
        self._asks: set[int] = set()

    def snapshot(self) -> Delta:
        """The starting book, best first on each side."""
        cfg, rng = self.config, self._rng
        bids: list[Level] = []
        asks: list[Level] = []
        for distance in range(cfg.depth):
            if distance == 0 or rng.random() < cfg.fill:
                bids.append((self._top - distance, self._size()))
            if distance == 0 or rng.random() < cfg.fill:
                asks.append((self._top + 1 + distance, self._size()))
        self._bids = {p for p, _ in bids}
        self._asks = {p for p, _ in asks}
        return bids, asks

    def chunks(self) -> Iterator[list[Delta]]:
        remaining = self.config.deltas
        while remaining > 0:
            count = min(self.config.chunk, remaining)
            yield [self._delta() for _ in range(count)]
            remaining -= count

    def _size(self) -> int:
        return 1 + int(self._rng.random() * self.config.max_size)

    def _delta(self) -> Delta:
        cfg = self.config
        random_ = self._rng.random
        bids: dict[int, int] = {}
        asks: dict[int, int] = {}
        wanted = 1 + int(random_() * cfg.max_levels)
        if random_() < cfg.move_share:
            self._move(random_() < 0.5, bids, asks)
        scale = cfg.mean_distance
        while len(bids) + len(asks) < wanted:
            distance = int(-math.log(1.0 - random_()) * scale)
            if random_() < 0.5:
                self._change(self._top - distance, self._bids, bids)
            else:
                self._change(self._top + 1 + distance, self._asks, asks)
        return list(bids.items()), list(asks.items())

    def _move(self, up: bool, bids: dict[int, int], asks: dict[int, int]) -> None:
        """Move the mid one tick, deleting the level it lands on (the other side's best)."""
        if up:
            self._top += 1
            if self._top in self._asks:
                self._asks.discard(self._top)
                asks[self._top] = 0
        else:
            if self._top in self._bids:
                self._bids.discard(self._top)
                bids[self._top] = 0
            self._top -= 1

    def _change(self, price: int, live: set[int], side: dict[int, int]) -> None:
        if price <= 0 or price in side:  # a delta names a price once
            return
        if price in live and self._rng.random() < self.config.delete_share:
            live.discard(price)
            side[price] = 0
        else:
            live.add(price)
            side[price] = self._size()
