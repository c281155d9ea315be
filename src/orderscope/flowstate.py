"""The live order-flow state of one key: a (venue, symbol), or a unified symbol across venues.

``FlowState`` holds the streaming analytics of ``orderscope.flow`` for one key (footprints by
timeframe, session volume profiles, CVD, VWAP, trade flow) and feeds them one trade at a time.
What a person may ask about later with other parameters (footprints by volume or trade count,
any timeframe, a visible-range profile) is computed on request by the vectorized functions over
the trades kept in a ``TradeStore``: the same numbers, as flow/'s paths-agree tests say.

Memory is bounded: footprints keep their newest ``retain_bars`` bars, delta and VWAP cells the
same, session profiles ``retain_sessions`` sessions, a store its newest ``capacity`` trades.

Nothing here reads the wall clock: every window follows the trades' event time.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field
from fractions import Fraction
from typing import TypeVar

import msgspec
import numpy as np
import numpy.typing as npt
import polars as pl

from orderscope.errors import ConfigError
from orderscope.fixed import POW10
from orderscope.flow.base import DAY, TRADE_SCHEMA, parse_row, parse_timeframe, session_of
from orderscope.flow.delta import CumulativeDelta, DeltaParams
from orderscope.flow.footprint import BarSpec, Footprint, FootprintBar, ImbalanceParams
from orderscope.flow.profile import SessionProfiles
from orderscope.flow.signals.record import Signal
from orderscope.flow.stream import TradeStream
from orderscope.flow.trades import TradeFlow
from orderscope.flow.vwap import Vwap, VwapParams
from orderscope.model import Instrument, Side, Trade

I64 = npt.NDArray[np.int64]
Columns = tuple[I64, I64, I64, I64]  # ts, price, size, side
Part = tuple[Columns, int, int]  # a store's columns, its price factor and size factor
C = TypeVar("C")  # a bar cell of a streaming analytic


@dataclass(frozen=True, slots=True)
class EngineConfig:
    """What the engine keeps live, and how much of it."""

    timeframes: tuple[str, ...] = ("1m", "5m", "15m")  # footprints kept live, streaming
    push_timeframe: str = "1m"  # footprint/delta pushes and the live CVD bars use this one
    rows: dict[str, str] = field(default_factory=dict)  # unified symbol -> "10t" | "0.5"
    row_bps: Fraction = Fraction(1, 2)  # automatic rows: the nice step nearest 0.5 bp of price
    book_depth: int = 20  # levels a side in ``book`` pushes
    retain_trades: int = 200_000  # per (venue, symbol), for analytics computed on request
    retain_bars: int = 1500  # per live footprint timeframe, CVD and VWAP (> a day of 1m)
    retain_sessions: int = 7  # session volume profiles kept
    session_ns: int = DAY  # sessions are UTC days unless said otherwise
    imbalance: ImbalanceParams = field(default_factory=ImbalanceParams)

    def __post_init__(self) -> None:
        if self.push_timeframe not in self.timeframes:
            raise ConfigError(f"push timeframe {self.push_timeframe} is not a live timeframe")
        for tf in self.timeframes:
            if self.session_ns % parse_timeframe(tf):
                raise ConfigError(f"timeframe {tf} does not divide the session")
        if self.book_depth <= 0 or self.retain_trades <= 0 or self.retain_bars <= 0:
            raise ConfigError("book_depth, retain_trades and retain_bars must be positive")


# -- automatic rows -----------------------------------------------------------------------


def auto_row(price: int, instrument: Instrument, bps: Fraction) -> int:
    """A row height in price units: the largest 1-2-5 step at or below ``bps`` of ``price``,
    a whole number of ticks (at least one)."""
    tick = max(instrument.tick_size, 1)
    target = price * bps / 10_000
    if target <= tick:
        return tick
    exponent = math.floor(math.log10(target))
    best = tick
    for e in (exponent - 1, exponent):
        for m in (1, 2, 5):
            step = Fraction(m) * Fraction(10) ** e
            if step <= target and step.denominator == 1 and step % tick == 0 and step > best:
                best = int(step)
    return best


def row_for(row_text: str | None, price: int, instrument: Instrument, bps: Fraction) -> int:
    """The row of one instrument: configured (rounded up to whole ticks) or automatic."""
    if row_text is None:
        return auto_row(price, instrument, bps)
    row = parse_row(row_text, instrument)
    tick = max(instrument.tick_size, 1)
    return -(-row // tick) * tick


# -- the trade store ----------------------------------------------------------------------


class TradeStore:
    """The newest ``capacity`` trades of a key as columns, for on-request analytics.

    Appending is four list appends; every ``CHUNK`` trades the lists become NumPy arrays and
    the oldest chunks beyond the capacity are dropped.
    """

    CHUNK = 16_384

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._ts: list[int] = []
        self._price: list[int] = []
        self._size: list[int] = []
        self._side: list[int] = []
        self._chunks: deque[tuple[I64, I64, I64, I64]] = deque()
        self._sealed = 0
        self.dropped = 0  # trades evicted so far

    def __len__(self) -> int:
        return self._sealed + len(self._ts)

    def append(self, trade: Trade) -> None:
        self._ts.append(trade.exch_ns or trade.recv_ns)
        self._price.append(trade.price)
        self._size.append(trade.size)
        self._side.append(int(trade.side))
        if len(self._ts) >= self.CHUNK:
            self._seal()

    def _seal(self) -> None:
        chunk = tuple(
            np.array(column, dtype=np.int64)
            for column in (self._ts, self._price, self._size, self._side)
        )
        self._chunks.append(chunk)  # type: ignore[arg-type]
        self._sealed += len(self._ts)
        self._ts, self._price, self._size, self._side = [], [], [], []
        while self._chunks and self._sealed - len(self._chunks[0][0]) >= self.capacity:
            dropped = len(self._chunks.popleft()[0])
            self._sealed -= dropped
            self.dropped += dropped

    def first_ns(self) -> int | None:
        """The earliest event time retained (None when empty)."""
        if self._chunks:
            return int(self._chunks[0][0].min())
        return min(self._ts) if self._ts else None

    def columns(self) -> tuple[I64, I64, I64, I64]:
        """Copies of (ts, price, size, side), oldest first."""
        parts = [*self._chunks]
        if self._ts:
            parts.append(
                tuple(  # type: ignore[arg-type]
                    np.array(c, dtype=np.int64)
                    for c in (self._ts, self._price, self._size, self._side)
                )
            )
        if not parts:
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty, empty, empty
        ts, price, size, side = (np.concatenate([p[i] for p in parts]) for i in range(4))
        return ts, price, size, side


def trades_frame(
    parts: list[Part],
    start_ns: int | None = None,
    end_ns: int | None = None,
) -> pl.DataFrame:
    """A trades frame (``flow.base.TRADE_SCHEMA``) from store columns, each part rescaled by
    (price factor, size factor), within ``[start_ns, end_ns)``, merged in event-time order."""
    columns: list[list[I64]] = [[], [], [], []]
    for (ts, price, size, side), fp, fs in parts:
        mask = np.ones(len(ts), dtype=bool)
        if start_ns is not None:
            mask &= ts >= start_ns
        if end_ns is not None:
            mask &= ts < end_ns
        columns[0].append(ts[mask])
        columns[1].append(price[mask] * fp)
        columns[2].append(size[mask] * fs)
        columns[3].append(side[mask])
    if not parts:
        return pl.DataFrame(schema=TRADE_SCHEMA)
    ts, price, size, side = (np.concatenate(c) for c in columns)
    if len(parts) > 1:  # venues interleave: merge by event time, stable (arrival order kept)
        order = np.argsort(ts, kind="stable")
        ts, price, size, side = ts[order], price[order], size[order], side[order]
    return pl.DataFrame(
        {"ts": ts, "price": price, "size": size, "side": side.astype(np.int8)},
        schema=TRADE_SCHEMA,
    )


# -- live wrappers with bounded memory ------------------------------------------------------


class LiveFootprint(Footprint):
    """A time footprint that also serves its current bar and a range, and forgets old bars."""

    def current(self) -> FootprintBar | None:
        """The bar the last trade went to (a time bar: the newest, or one a late trade hit)."""
        return None if self._open is None else self._open.freeze()

    def bars_between(
        self, start_ns: int | None, end_ns: int | None, limit: int
    ) -> list[FootprintBar]:
        """The newest ``limit`` bars overlapping ``[start_ns, end_ns)``, oldest first."""
        keys = sorted(self._bars)
        picked = [
            k
            for k in keys
            if (end_ns is None or self._bars[k].start_ns < end_ns)
            and (start_ns is None or self._bars[k].end_ns > start_ns)
        ][-limit:]
        return [self._bars[k].freeze() for k in picked]

    def first_ns(self) -> int | None:
        return self._bars[min(self._bars)].start_ns if self._bars else None

    def prune(self, keep: int) -> None:
        if len(self._bars) > keep:
            for key in sorted(self._bars)[: len(self._bars) - keep]:
                bar = self._bars.pop(key)
                if bar is self._open:
                    self._open, self._open_key = None, -1


def prune_cells(cells: dict[int, C], keep: int) -> list[C]:
    """Drop all but the newest ``keep`` cells (by key); return the dropped cells."""
    if len(cells) <= keep:
        return []
    return [cells.pop(k) for k in sorted(cells)[: len(cells) - keep]]


# -- one key's analytics --------------------------------------------------------------------


class FlowState:
    """The live order-flow analytics of one key, fed one trade at a time."""

    def __init__(
        self,
        instrument: Instrument,
        row: int,
        config: EngineConfig,
        *,
        store: bool = True,
    ) -> None:
        self.instrument = instrument
        self.row = row
        self.config = config
        self.push_ns = parse_timeframe(config.push_timeframe)
        self.footprints: dict[int, LiveFootprint] = {
            parse_timeframe(tf): LiveFootprint(row, BarSpec.time(parse_timeframe(tf)))
            for tf in config.timeframes
        }
        self.sessions = SessionProfiles(row, config.session_ns)
        self.delta = CumulativeDelta(
            DeltaParams(timeframe_ns=self.push_ns, session_ns=config.session_ns)
        )
        self.vwap = Vwap(
            VwapParams(
                instrument.price_decimals,
                session_ns=config.session_ns,
                timeframe_ns=self.push_ns,
            )
        )
        self.flow = TradeFlow(instrument)
        self.store = TradeStore(config.retain_trades) if store else None
        self.trades = 0
        self.last: Trade | None = None
        self.cvd_offset = 0  # delta of the CVD cells pruned so far (bars' cvd start after it)
        self.session_start = -(2**63)
        self.session_delta = 0
        self._stream = TradeStream(
            footprints=self.footprints.values(),
            sessions=self.sessions,
            delta=self.delta,
            vwaps=[self.vwap],
            flow=self.flow,
        )
        self._no_signals: list[Signal] = []  # the stream has no engine: nothing lands here

    def on_trade(self, trade: Trade) -> None:
        self._stream.update(trade, self._no_signals)
        if self.store is not None:
            self.store.append(trade)
        self.trades += 1
        self.last = trade
        ts = trade.exch_ns or trade.recv_ns
        session = session_of(ts, self.config.session_ns, 0)
        if session > self.session_start:
            self.session_start, self.session_delta = session, 0
        if session == self.session_start:  # a late trade of an earlier session is not in it
            self.session_delta += trade.size if trade.side is Side.BUY else -trade.size

    def prune(self) -> None:
        """Forget what is beyond the retention (called now and then, not per trade)."""
        keep = self.config.retain_bars
        for footprint in self.footprints.values():
            footprint.prune(keep)
        for cell in prune_cells(self.delta.bars, keep):
            self.cvd_offset += cell.buy - cell.sell
        prune_cells(self.vwap.cells, keep)
        # both cache the cell of the last trade's bar, which may just have been dropped: make
        # the next trade look its bar up again
        self.delta.forget_open_bar()
        self.vwap.forget_open_bar()
        sessions = self.sessions.sessions
        for start in sorted(sessions)[: max(0, len(sessions) - self.config.retain_sessions)]:
            del sessions[start]


# -- the unified symbol's scale -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Scale:
    """A common integer scale for the instruments of one unified symbol on several venues."""

    instrument: Instrument  # venue "*", the finest decimals of the members
    factors: dict[str, tuple[int, int]]  # venue -> (price factor, size factor)

    @classmethod
    def of(cls, symbol: str, members: dict[str, Instrument]) -> Scale:
        if not members:
            raise ConfigError(f"{symbol}: no instrument to scale")
        pd = max(i.price_decimals for i in members.values())
        sd = max(i.size_decimals for i in members.values())
        ticks = [i.tick_size * POW10[pd - i.price_decimals] for i in members.values()]
        lots = [i.lot_size * POW10[sd - i.size_decimals] for i in members.values()]
        first = next(iter(members.values()))
        instrument = Instrument(
            venue="*",
            symbol=symbol,
            venue_symbol=symbol,
            base=first.base,
            quote=first.quote,
            kind=first.kind,
            price_decimals=pd,
            size_decimals=sd,
            tick_size=math.gcd(*ticks) or 1,
            lot_size=math.gcd(*lots) or 1,
            settle=first.settle,
        )
        factors = {
            venue: (POW10[pd - i.price_decimals], POW10[sd - i.size_decimals])
            for venue, i in members.items()
        }
        return cls(instrument, factors)

    def rescale(self, trade: Trade) -> Trade:
        fp, fs = self.factors[trade.venue]
        if fp == 1 and fs == 1:
            return trade
        return msgspec.structs.replace(trade, price=trade.price * fp, size=trade.size * fs)
