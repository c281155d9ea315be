"""A seeded trading session for the order-flow benchmarks: trades and depth diffs that agree.

``benchmarks/flow_acceptance.py`` times the streaming analytics on it, and the signal tests
replay it, so the generator lives in the package. The market: a 1,000-level book a side
around a 60,000.00 BTC/USDT mid (0.01 ticks, 10**-6 BTC sizes); taker orders in calm, busy and
burst regimes (20, 120 and 900 orders/s) walk the book, so one order's fills share their
timestamp and large ones sweep levels; taker sizes are log-normal with a heavy tail (some
bursts are HFT-like crumbs); limit orders and cancels land mostly near the touch, a level
taken out refills now and then (hidden size), walls are placed a few ticks away and some are
pulled; the far end of the book follows the drift. The venue publishes what changed every
100 ms, as Binance's ``depth@100ms`` does, with the interval's trades before the diff.

Everything comes from one ``random.Random(seed)`` and a simulated clock: the same seed gives
the same session.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from orderscope.bench.synthetic import SYNTHETIC_INSTRUMENT
from orderscope.model import BookDelta, BookSnapshot, Event, Side, Trade

MS = 1_000_000
#: BTC/USDT at 0.01 ticks and 10**-6 BTC sizes (the L2 benchmark's instrument)
INSTRUMENT = SYNTHETIC_INSTRUMENT
LOT = 10**INSTRUMENT.size_decimals

#: Taker orders per second and how long a regime lasts (frames of 100 ms) on average.
#: Per regime: taker orders per second, how long it lasts (in 100 ms frames) on average, and
#: how far market makers move their quotes per frame (standard deviation, in ticks).
REGIMES = {"calm": (20.0, 300, 12.0), "busy": (120.0, 100, 30.0), "burst": (900.0, 8, 100.0)}


@dataclass
class Frame:
    """What a venue sends in one diff interval: trades, then the diff(s) of the interval."""

    trades: list[Trade]
    diffs: list[BookDelta]


@dataclass
class Session:
    snapshot: BookSnapshot
    frames: list[Frame]

    @property
    def trades(self) -> list[Trade]:
        return [t for f in self.frames for t in f.trades]

    def events(self) -> list[Event]:
        """The snapshot, then each interval's trades and diff(s), as a venue sends them."""
        out: list[Event] = [self.snapshot]
        for frame in self.frames:
            out += frame.trades
            out += frame.diffs
        return out

    def level_updates(self) -> int:
        return sum(len(d.bids) + len(d.asks) for f in self.frames for d in f.diffs)

    def messages(self) -> int:
        return sum(len(f.diffs) for f in self.frames)

    def split(self) -> Session:
        """The same changes, one level a message (Coinbase / Kraken / Bitfinex shape)."""
        frames = []
        for f in self.frames:
            diffs = []
            for d in f.diffs:
                diffs += [
                    BookDelta(d.venue, d.symbol, d.exch_ns, d.recv_ns, [b], []) for b in d.bids
                ]
                diffs += [
                    BookDelta(d.venue, d.symbol, d.exch_ns, d.recv_ns, [], [a]) for a in d.asks
                ]
            frames.append(Frame(f.trades, diffs))
        return Session(self.snapshot, frames)


class _Side:
    """One side of the generator's book: sizes by price, its best price and its far edge.

    ``sign`` is +1 for asks (better is lower) and -1 for bids; the book is dense near the
    touch, so finding the next best after a level goes is a short walk in ticks."""

    def __init__(self, sign: int) -> None:
        self.sign = sign
        self.sizes: dict[int, int] = {}
        self.changed: dict[int, int] = {}
        self.best = self.edge = 0

    def set(self, price: int, size: int) -> None:
        sizes, sign = self.sizes, self.sign
        self.changed[price] = size
        if size:
            if not sizes:
                self.best = self.edge = price
            elif (price - self.best) * sign < 0:
                self.best = price
            elif (price - self.edge) * sign > 0:
                self.edge = price
            sizes[price] = size
            return
        if sizes.pop(price, None) is None or not sizes:
            return
        if price == self.best:
            while self.best not in sizes:
                self.best += sign
        elif price == self.edge:
            while self.edge not in sizes:
                self.edge -= sign


class SessionMaker:
    """A seeded market that prints trades and publishes the book's changes every 100 ms."""

    def __init__(self, seed: int, depth: int = 1_000, frame_ns: int = 100 * MS) -> None:
        self.rng = random.Random(seed)
        self.depth = depth
        self.frame_ns = frame_ns
        self.bids = _Side(-1)
        self.asks = _Side(1)
        self.walls: list[tuple[_Side, int]] = []
        self.side = Side.BUY
        self.regime = "calm"
        self.trade_id = 0
        self.ts = 1_700_000_000_000 * MS

    def _resting(self, median: float) -> int:
        return max(1, int(self.rng.lognormvariate(math.log(median), 1.2) * LOT))

    def make(self, trades: int) -> Session:
        rng = self.rng
        mid = 6_000_000  # 60,000.00
        for i in range(1, int(self.depth * 1.4)):
            if i == 1 or rng.random() < 0.7:
                self.bids.set(mid - i, self._resting(0.15))
            if i == 1 or rng.random() < 0.7:
                self.asks.set(mid + i, self._resting(0.15))
        snapshot = BookSnapshot(
            INSTRUMENT.venue,
            INSTRUMENT.symbol,
            self.ts,
            self.ts,
            sorted(self.bids.sizes.items(), reverse=True),
            sorted(self.asks.sizes.items()),
        )
        self.bids.changed, self.asks.changed = {}, {}
        frames: list[Frame] = []
        made = 0
        while made < trades:
            frame = self._frame()
            made += len(frame.trades)
            frames.append(frame)
        return Session(snapshot, frames)

    def _frame(self) -> Frame:
        rng = self.rng
        rate, mean_frames, sigma = REGIMES[self.regime]
        if rng.random() < 1 / mean_frames:
            self.regime = rng.choices(list(REGIMES), weights=(2, 5, 1))[0]
        self._requote(round(rng.gauss(0.0, sigma)))
        orders = _poisson(rng, rate * self.frame_ns / 1e9)
        stamps = sorted(self.ts + rng.randrange(self.frame_ns) for _ in range(orders))
        trades: list[Trade] = []
        small = self.regime == "burst" and rng.random() < 0.5  # an HFT-like burst of crumbs
        for ts in stamps:
            self._taker(ts, trades, small)
        self.ts += self.frame_ns
        self._limit_flow()
        bids, asks = self.bids, self.asks
        diff = BookDelta(
            INSTRUMENT.venue,
            INSTRUMENT.symbol,
            self.ts,
            self.ts,
            [*bids.changed.items()],
            [*asks.changed.items()],
        )
        bids.changed, asks.changed = {}, {}
        return Frame(trades, [diff])

    def _taker(self, ts: int, trades: list[Trade], small: bool) -> None:
        rng = self.rng
        # Aggressor sides persist a little (so the price trends and reverts).
        if rng.random() > 0.65:
            self.side = Side.SELL if self.side is Side.BUY else Side.BUY
        side = self.side
        median = 0.0004 if small else 0.004
        remaining = max(1, int(rng.lognormvariate(math.log(median), 1.7) * LOT))
        book = self.asks if side is Side.BUY else self.bids
        sizes = book.sizes
        while remaining > 0 and len(sizes) > 50:
            price = book.best
            size = sizes[price]
            take = min(size, remaining)
            remaining -= take
            self.trade_id += 1
            trades.append(
                Trade(
                    INSTRUMENT.venue,
                    INSTRUMENT.symbol,
                    ts,
                    ts,
                    price,
                    take,
                    side,
                    str(self.trade_id),
                )
            )
            if take < size:
                book.set(price, size - take)
            elif rng.random() < 0.15:  # a level taken out refills now and then (hidden size)
                book.set(price, self._resting(0.1))
                break
            else:
                book.set(price, 0)

    def _requote(self, move: int) -> None:
        """Market makers follow the price: a move up takes the asks below the new quote away
        and fills the gap with bids (and the mirror for a move down); takers lean the same
        way."""
        if not move:
            return
        rng = self.rng
        up, down = (self.asks, self.bids) if move > 0 else (self.bids, self.asks)
        target = up.best + move
        while (target - up.best) * up.sign > 0 and len(up.sizes) > 50:
            up.set(up.best, 0)
        for price in range(down.best - down.sign, up.best, -down.sign):
            if rng.random() < 0.7:
                down.set(price, self._resting(0.04))
        if abs(move) > 3:
            self.side = Side.BUY if move > 0 else Side.SELL

    def _limit_flow(self) -> None:
        """Limit orders and cancels of one interval, mostly near the touch; walls come and go."""
        rng = self.rng
        bids, asks = self.bids, self.asks
        for _ in range(_poisson(rng, 9.0)):
            book = bids if rng.random() < 0.5 else asks
            bid, ask = bids.best, asks.best
            if ask - bid > 1 and rng.random() < 0.5:  # the spread fills back in
                price = rng.randrange(bid + 1, ask)
            else:
                price = book.best + book.sign * min(int(rng.expovariate(0.08)), self.depth)
            size = book.sizes.get(price, 0)
            u = rng.random()
            if size and u < 0.35:
                book.set(price, 0 if u < 0.15 else int(size * rng.uniform(0.1, 0.9)))
            else:
                book.set(price, size + self._resting(0.08))
        if rng.random() < 0.01:  # a wall a few ticks away
            book = bids if rng.random() < 0.5 else asks
            price = book.best + book.sign * rng.randrange(2, 30)
            book.set(price, self._resting(0.1) + rng.randrange(2, 12) * LOT)
            self.walls.append((book, price))
        if self.walls and rng.random() < 0.01:  # pulled, unless the price got there first
            book, price = self.walls.pop(rng.randrange(len(self.walls)))
            if price in book.sizes and (price - book.best) * book.sign > 0:
                book.set(price, self._resting(0.05))
        for book in (bids, asks):  # the far end follows the drift (a few levels a frame)
            for _ in range(4):
                if len(book.sizes) < self.depth:
                    book.set(book.edge + book.sign, self._resting(0.3))
                elif len(book.sizes) > self.depth * 1.2:
                    book.set(book.edge, 0)


def _poisson(rng: random.Random, mean: float) -> int:
    count, total = 0, rng.expovariate(1.0)
    while total < mean:
        count += 1
        total += rng.expovariate(1.0)
    return count
