"""Replay captures through the same connector code that runs live, and summarize the result.

``Replay`` owns one connector per venue in the captures and feeds it every record in receive
order. It can be iterated (``for venue, record, events in replay.run()``) by anything that wants
the events, such as the terminal demo, and ``report()`` summarizes books and trades as plain
data (the ``orderscope replay --json`` output, documented in docs/API.md).

Nothing here reads the wall clock: replaying the same files twice gives the same report.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from orderscope.capture import CaptureRecord, RecordKind, VenueCapture, group_captures
from orderscope.errors import ConfigError
from orderscope.fixed import format_fixed
from orderscope.model import Event, Instrument, MarketEvent, Side, Trade
from orderscope.venues import by_capture_prefix, supported_prefixes
from orderscope.venues.base import Venue, feed

TOP_LEVELS = 10


@dataclass(slots=True)
class TradeTotals:
    count: int = 0
    volume: int = 0  # size units
    buy_volume: int = 0
    sell_volume: int = 0
    notional: int = 0  # price * size, units of 10**-(price_decimals + size_decimals)

    def add(self, trade: Trade) -> None:
        self.count += 1
        self.volume += trade.size
        if trade.side is Side.BUY:
            self.buy_volume += trade.size
        else:
            self.sell_volume += trade.size
        self.notional += trade.price * trade.size

    def as_dict(self, instrument: Instrument) -> dict[str, Any]:
        sd = instrument.size_decimals
        vwap = self.notional / self.volume / 10**instrument.price_decimals if self.volume else None
        return {
            "count": self.count,
            "volume": format_fixed(self.volume, sd),
            "buy_volume": format_fixed(self.buy_volume, sd),
            "sell_volume": format_fixed(self.sell_volume, sd),
            "vwap": vwap,
        }


@dataclass(slots=True)
class EventSpan:
    first_ns: int = 0
    last_ns: int = 0

    def add(self, event: Event) -> None:
        ts = event.exch_ns or event.recv_ns
        if not self.first_ns or ts < self.first_ns:
            self.first_ns = ts
        if ts > self.last_ns:
            self.last_ns = ts


def rfc3339_ns(ns: int) -> str | None:
    if not ns:
        return None
    seconds, frac = divmod(ns, 1_000_000_000)
    stamp = datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{stamp}.{frac:09d}Z"


def load_venue(capture: VenueCapture, symbols: Iterable[str] | None = None) -> Venue:
    """A connector for a venue's capture, with instruments from its ``VENUE.0`` file."""
    cls = by_capture_prefix(capture.prefix)
    instruments: list[Instrument] = []
    for record in capture.info_records():
        if record.kind is RecordKind.REST:
            instruments.extend(cls.parse_instruments(record.url, record.payload))
    if not instruments:
        raise ConfigError(
            f"{capture.prefix}: no exchange info ({capture.prefix}.0) beside the capture"
        )
    known = {i.symbol for i in instruments}
    wanted = None if symbols is None else [s for s in symbols if s in known]
    return cls(instruments, wanted)


class Replay:
    """Captures of one or more venues, replayed in receive order per venue."""

    def __init__(
        self,
        paths: Iterable[Path],
        symbols: Iterable[str] | None = None,
        *,
        skip_unsupported: bool = False,
    ) -> None:
        self.captures = group_captures(paths)
        if skip_unsupported:  # a whole folder: replay the venues orderscope has connectors for
            self.captures = [c for c in self.captures if c.prefix in supported_prefixes()]
        if not self.captures:
            raise ConfigError("no capture files given")
        wanted = list(symbols) if symbols is not None else None
        self.venues = [load_venue(c, wanted) for c in self.captures]
        if wanted is not None:
            listed = set().union(*(v.instruments.keys() for v in self.venues))
            missing = sorted(set(wanted) - listed)
            if missing:
                raise ConfigError(f"no venue in these captures lists {', '.join(missing)}")
            pairs = [(c, v) for c, v in zip(self.captures, self.venues, strict=True) if v.symbols]
            self.captures = [c for c, _ in pairs]
            self.venues = [v for _, v in pairs]
        self.trades: dict[tuple[str, str], TradeTotals] = {}
        self.spans: dict[tuple[str, str], EventSpan] = {}

    def run(self) -> Iterator[tuple[Venue, CaptureRecord, list[MarketEvent]]]:
        """Feed every record; yield what each produced (after the built-in totals saw it)."""
        for capture, venue in zip(self.captures, self.venues, strict=True):
            for record in capture.records():
                out: list[MarketEvent] = []
                feed(venue, record, out)
                self._account(venue, out)
                yield venue, record, out

    def run_all(self, on_events: Callable[[Venue, list[MarketEvent]], None] | None = None) -> None:
        for venue, _record, events in self.run():
            if on_events is not None and events:
                on_events(venue, events)

    def _account(self, venue: Venue, events: list[MarketEvent]) -> None:
        for event in events:
            key = (venue.name, event.symbol)
            span = self.spans.get(key)
            if span is None:
                span = self.spans[key] = EventSpan()
            span.add(event)
            if type(event) is Trade:
                totals = self.trades.get(key)
                if totals is None:
                    totals = self.trades[key] = TradeTotals()
                totals.add(event)

    def report(self) -> dict[str, Any]:
        """Per venue and unified symbol: frames, book counters, top of book, trade totals."""
        venues = []
        for venue in self.venues:
            symbols = sorted(
                set(venue.symbol_frames)
                | set(venue.books)
                | {s for (v, s) in self.spans if v == venue.name}
                | (venue.symbols or set())  # asked for by name: listed even without data
            )
            venues.append(
                {
                    "venue": venue.name,
                    "protocol": venue.protocol,
                    "frames": venue.stats.frames,
                    "control_frames": venue.stats.control_frames,
                    "ignored_frames": venue.stats.ignored_frames,
                    "rest_responses": venue.stats.rest_responses,
                    "errors": dict(sorted(venue.stats.errors.items())),
                    "symbols": [self._symbol_report(venue, s) for s in symbols],
                }
            )
        return {"format": "orderscope.replay/1", "venues": venues}

    def _symbol_report(self, venue: Venue, symbol: str) -> dict[str, Any]:
        instrument = venue.instruments[symbol]
        key = (venue.name, symbol)
        span = self.spans.get(key, EventSpan())
        book = venue.books.get(symbol)
        entry: dict[str, Any] = {
            "symbol": symbol,
            "venue_symbol": instrument.venue_symbol,
            "frames": venue.symbol_frames.get(symbol, 0),
            "first_event_time": rfc3339_ns(span.first_ns),
            "last_event_time": rfc3339_ns(span.last_ns),
            "book": None,
            "trades": self.trades.get(key, TradeTotals()).as_dict(instrument),
        }
        if book is not None:
            bid_levels, ask_levels = book.depth()
            entry["book"] = {
                "state": book.state.value,
                "crossed": book.crossed,
                "levels": {"bids": bid_levels, "asks": ask_levels},
                **book.counters.as_dict(),
                "top_bids": [
                    [instrument.price_text(p), instrument.size_text(s)]
                    for p, s in book.bids(TOP_LEVELS)
                ],
                "top_asks": [
                    [instrument.price_text(p), instrument.size_text(s)]
                    for p, s in book.asks(TOP_LEVELS)
                ],
            }
        return entry
