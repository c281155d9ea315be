"""``orderscope analyze``: order-flow analytics of recorded sessions, per venue and symbol.

Captures are replayed through the connectors (``orderscope.replay.Replay``) and every trade of
the chosen symbols feeds the streaming analytics of ``orderscope.flow``: trade totals and size
classes, the volume profile, footprint bars, CVD and VWAP. ``report()`` returns plain data in
the ``orderscope.analyze/1`` format, published as a JSON schema in
docs/schemas/analyze.schema.json and described in docs/API.md. Prices and sizes are decimal
strings at the instrument's precision (exact); times are RFC 3339 UTC with nanoseconds.

Extension point: ``EXTENSIONS`` maps a name to a factory of further per-symbol analytics
(signals, microstructure). Each sees every event of its symbol with the venue's book, and its
``summary()`` appears under ``extensions.<name>`` in the report. Nothing is registered here:
an analytic is listed only once it computes something.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import msgspec
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from orderscope.book import L2Book
from orderscope.capture import group_captures, venue_of
from orderscope.errors import ConfigError
from orderscope.fixed import format_fixed
from orderscope.flow.base import MINUTE, parse_row, parse_timeframe
from orderscope.flow.delta import CumulativeDelta, DeltaBar, DeltaParams
from orderscope.flow.footprint import (
    BarSpec,
    Footprint,
    FootprintBar,
    ImbalanceParams,
    imbalances,
    stacked_imbalances,
)
from orderscope.flow.profile import Profile, VolumeProfile
from orderscope.flow.signals.record import Signal
from orderscope.flow.stream import TradeStream
from orderscope.flow.trades import TradeFlow
from orderscope.flow.vwap import Vwap, VwapParams
from orderscope.model import Instrument, MarketEvent, Trade
from orderscope.replay import Replay, rfc3339_ns
from orderscope.venues import by_capture_prefix, supported_prefixes, venue_class

FORMAT = "orderscope.analyze/1"
#: inputs with at least this many capture records show a progress bar
LONG_INPUT_RECORDS = 20_000


@dataclass(frozen=True, slots=True)
class AnalyzeOptions:
    row: str | None = None  # "10t" (ticks) or a price step "0.5"; None: one tick
    timeframe_ns: int = MINUTE  # footprint and delta bars
    imbalance: ImbalanceParams = field(default_factory=ImbalanceParams)


class Extension(Protocol):
    """A further per-symbol analytic (see ``EXTENSIONS``)."""

    def on_event(self, event: MarketEvent, book: L2Book | None) -> None:
        """Every event of the symbol, in replay order; ``book`` is the venue's exact book of
        the symbol after the record that produced the event (None before it exists)."""

    def summary(self) -> dict[str, Any]:
        """JSON-ready results, reported under ``extensions.<name>``."""


ExtensionFactory = Callable[[Instrument, AnalyzeOptions], Extension]

#: Named analytics run beside the built-in ones. Signals and microstructure (issue 4, items
#: 5 and 6) plug in here, e.g. ``EXTENSIONS["signals"] = SignalsExtension``; until then the
#: report's ``extensions`` object is empty.
EXTENSIONS: dict[str, ExtensionFactory] = {}


class SymbolAnalysis:
    """The streaming analytics of one (venue, symbol)."""

    def __init__(self, instrument: Instrument, options: AnalyzeOptions) -> None:
        self.instrument = instrument
        self.options = options
        row = parse_row(options.row, instrument) if options.row else instrument.tick_size
        self.row = row
        self.flow = TradeFlow(instrument)
        self.profile = VolumeProfile(row)
        self.footprint = Footprint(row, BarSpec.time(options.timeframe_ns))
        self.delta = CumulativeDelta(DeltaParams(timeframe_ns=options.timeframe_ns))
        self.vwap = Vwap(VwapParams(instrument.price_decimals, timeframe_ns=options.timeframe_ns))
        self.overall = Vwap(
            VwapParams(
                instrument.price_decimals, session_ns=None, timeframe_ns=options.timeframe_ns
            )
        )
        self._stream = TradeStream(
            footprints=[self.footprint],
            profile=self.profile,
            delta=self.delta,
            vwaps=[self.vwap, self.overall],
            flow=self.flow,
        )
        self._no_signals: list[Signal] = []  # the stream has no engine: nothing lands here
        self.extensions = {name: make(instrument, options) for name, make in EXTENSIONS.items()}

    def on_event(self, event: MarketEvent, book: L2Book | None) -> None:
        if type(event) is Trade:
            self._stream.update(event, self._no_signals)
        for extension in self.extensions.values():
            extension.on_event(event, book)

    def report(self) -> dict[str, Any]:
        inst = self.instrument
        price, size = inst.price_text, inst.size_text
        flow = self.flow.result()
        delta = self.delta.result()
        overall = self.overall.result().periods
        profile = self.profile.result()
        count = sum(c.count for c in flow.classes)
        return {
            "symbol": inst.symbol,
            "venue_symbol": inst.venue_symbol,
            "quote": inst.quote,
            "price_decimals": inst.price_decimals,
            "size_decimals": inst.size_decimals,
            "trades": {
                "count": count,
                "volume": size(delta.buy + delta.sell),
                "buy_volume": size(delta.buy),
                "sell_volume": size(delta.sell),
                "cvd": size(delta.cvd),
                "buy_pct": delta.buy_pct,
                "vwap": overall[0].vwap if overall else None,
                "vwap_sigma": overall[0].sigma if overall else None,
                "size_classes": [
                    {
                        "name": c.name,
                        "count": c.count,
                        "volume": size(c.volume),
                        "buy_volume": size(c.buy_volume),
                        "sell_volume": size(c.sell_volume),
                        "notional": _notional(c.notional, inst),
                    }
                    for c in flow.classes
                ],
            },
            "profile": _profile(profile, inst),
            "footprint": {
                "timeframe_ns": self.options.timeframe_ns,
                "row": price(self.row),
                "bars": _bars(self.footprint.result().bars, delta.bars, self, inst),
            },
            "delta_sessions": [
                {
                    "start": rfc3339_ns(s.start_ns),
                    "buy_volume": size(s.buy),
                    "sell_volume": size(s.sell),
                    "delta": size(s.delta),
                }
                for s in delta.sessions
            ],
            "vwap_sessions": [
                {
                    "start": rfc3339_ns(p.start_ns),
                    "volume": size(p.volume),
                    "vwap": p.vwap,
                    "sigma": p.sigma,
                    "bands": [list(b) for b in p.bands],
                }
                for p in self.vwap.result().periods
            ],
            "extensions": {name: ext.summary() for name, ext in self.extensions.items()},
        }


def _notional(value: int, inst: Instrument) -> str:
    return format_fixed(value, inst.price_decimals + inst.size_decimals)


def _profile(profile: Profile, inst: Instrument) -> dict[str, Any]:
    price, size = inst.price_text, inst.size_text

    def maybe(value: int | None) -> str | None:
        return None if value is None else price(value)

    return {
        "row": price(profile.row),
        "volume": size(profile.volume),
        "poc": maybe(profile.poc),
        "vah": maybe(profile.vah),
        "val": maybe(profile.val),
        "value_area_volume": size(profile.value_area_volume),
        "hvn": [price(p) for p in profile.hvn],
        "lvn": [price(p) for p in profile.lvn],
        "rows": [
            {"price": price(r.price), "buy": size(r.buy), "sell": size(r.sell), "trades": r.trades}
            for r in profile.rows
        ],
    }


def _bars(
    bars: Sequence[FootprintBar],
    deltas: Sequence[DeltaBar],
    analysis: SymbolAnalysis,
    inst: Instrument,
) -> list[dict[str, Any]]:
    price, size = inst.price_text, inst.size_text
    by_start = {d.start_ns: d for d in deltas}
    out = []
    for bar in bars:
        found = imbalances(bar, analysis.row, analysis.options.imbalance)
        stacked = stacked_imbalances(found, analysis.row, analysis.options.imbalance.stack)
        d = by_start[bar.start_ns]  # the same trades in the same time bars
        out.append(
            {
                "start": rfc3339_ns(bar.start_ns),
                "open": price(bar.open),
                "high": price(bar.high),
                "low": price(bar.low),
                "close": price(bar.close),
                "volume": size(bar.volume),
                "delta": size(bar.delta),
                "max_delta": size(bar.max_delta),
                "min_delta": size(bar.min_delta),
                "trades": bar.trades,
                "poc": price(bar.poc),
                "cvd": size(d.cvd),
                "divergence": d.divergence,
                "exhaustion": d.exhaustion,
                "imbalances": [
                    {"price": price(i.price), "side": i.side.name.lower()} for i in found
                ],
                "stacked_imbalances": [
                    {
                        "side": s.side.name.lower(),
                        "low": price(s.low),
                        "high": price(s.high),
                        "rows": s.rows,
                    }
                    for s in stacked
                ],
                "rows": [
                    {
                        "price": price(r.price),
                        "buy": size(r.buy),
                        "sell": size(r.sell),
                        "delta": size(r.delta),
                        "trades": r.trades,
                    }
                    for r in bar.rows
                ],
            }
        )
    return out


def select_venue(paths: Iterable[Path], venue: str | None) -> list[Path]:
    """The capture files to replay: of one venue (by connector name), or of every venue
    orderscope has a connector for. A file named explicitly must be one it can read."""
    paths = list(paths)
    for path in paths:
        if path.is_file():
            by_capture_prefix(venue_of(path))  # raises for a venue without a connector
    wanted = venue_class(venue).name if venue is not None else None
    supported = supported_prefixes()
    files: list[Path] = []
    for capture in group_captures(paths):
        if capture.prefix not in supported:
            continue
        if wanted is None or by_capture_prefix(capture.prefix).name == wanted:
            files.extend(capture.ws + capture.http)
    if not files:
        raise ConfigError(f"no {wanted or 'supported'} capture among the files given")
    return files


def count_records(paths: Iterable[Path]) -> int:
    """Capture records (lines) in the files a replay of ``paths`` reads, for progress."""
    total = 0
    for capture in group_captures(paths):
        for path in capture.ws + capture.http:
            with path.open("rb") as handle:
                while chunk := handle.read(1 << 20):
                    total += chunk.count(b"\n")
    return total


class Analysis:
    """A replay of captures with per-symbol analytics."""

    def __init__(
        self,
        paths: Iterable[Path],
        symbols: Sequence[str],
        venue: str | None = None,
        options: AnalyzeOptions = AnalyzeOptions(),
    ) -> None:
        if not symbols:
            raise ConfigError("analyze needs at least one --symbol")
        self.paths = select_venue(paths, venue)
        self.session = Replay(self.paths, symbols)
        self.options = options
        self.symbols: dict[tuple[str, str], SymbolAnalysis] = {}
        for v in self.session.venues:
            for symbol in sorted(v.symbols or ()):
                self.symbols[(v.name, symbol)] = SymbolAnalysis(v.instruments[symbol], options)

    def run(self, on_record: Callable[[], None] | None = None) -> None:
        for venue, _record, events in self.session.run():
            if on_record is not None:
                on_record()
            for event in events:
                analysis = self.symbols.get((venue.name, event.symbol))
                if analysis is not None:
                    analysis.on_event(event, venue.books.get(event.symbol))

    def report(self) -> dict[str, Any]:
        venues = []
        for v in self.session.venues:
            symbols = []
            for (name, symbol), analysis in self.symbols.items():
                if name != v.name:
                    continue
                span = self.session.spans.get((name, symbol))
                symbols.append(
                    {
                        **analysis.report(),
                        "first_event_time": rfc3339_ns(span.first_ns) if span else None,
                        "last_event_time": rfc3339_ns(span.last_ns) if span else None,
                    }
                )
            venues.append(
                {
                    "venue": v.name,
                    "frames": v.stats.frames,
                    "errors": dict(sorted(v.stats.errors.items())),
                    "symbols": symbols,
                }
            )
        return {"format": FORMAT, "venues": venues}


# -- terminal rendering ---------------------------------------------------------------------


def print_report(report: dict[str, Any], console: Console, max_bars: int = 30) -> None:
    """The report as Rich tables: per venue and symbol, totals, profile and the last bars."""
    for venue in report["venues"]:
        errors = ", ".join(f"{k}={v}" for k, v in venue["errors"].items()) or "none"
        for s in venue["symbols"]:
            console.rule(f"[bold]{venue['venue']}  {s['symbol']}[/]  errors: {errors}")
            t = s["trades"]
            vwap = f"{t['vwap']:.10g}" if t["vwap"] is not None else "-"
            console.print(
                f"trades {t['count']}  volume {t['volume']}  buy {t['buy_volume']}  "
                f"sell {t['sell_volume']}  CVD {t['cvd']}  VWAP {vwap}"
            )
            p = s["profile"]
            console.print(
                f"profile: row {p['row']}  POC {p['poc'] or '-'}  VAH {p['vah'] or '-'}  "
                f"VAL {p['val'] or '-'}  rows {len(p['rows'])}  "
                f"HVN {', '.join(p['hvn']) or '-'}  LVN {', '.join(p['lvn']) or '-'}"
            )
            bars = s["footprint"]["bars"]
            if not bars:
                console.print("footprint: no trades")
            table = Table(
                title=f"footprint: {len(bars)} bars, last {min(len(bars), max_bars)}",
                box=None,
                padding=(0, 1),
            )
            columns = ("time", "open", "high", "low", "close", "volume", "delta", "max Δ")
            for column in (*columns, "min Δ", "POC", "imb b/s", "stk"):
                table.add_column(column, justify="left" if column == "time" else "right")
            notes: list[str] = []
            for bar in bars[-max_bars:]:
                buys = sum(1 for i in bar["imbalances"] if i["side"] == "buy")
                table.add_row(
                    bar["start"][11:19],
                    bar["open"],
                    bar["high"],
                    bar["low"],
                    bar["close"],
                    bar["volume"],
                    bar["delta"],
                    bar["max_delta"],
                    bar["min_delta"],
                    bar["poc"],
                    f"{buys}/{len(bar['imbalances']) - buys}",
                    str(len(bar["stacked_imbalances"])),
                )
                notes.extend(
                    f"{bar['start'][11:19]} {note}"
                    for note in (bar["divergence"], bar["exhaustion"])
                    if note
                )
            if bars:
                console.print(table)
            if notes:
                console.print("delta: " + "; ".join(notes))
            for name, summary in s["extensions"].items():
                console.print(f"[bold]{name}[/]: {summary}")


def run_analyze(
    files: Sequence[Path],
    symbols: Sequence[str],
    venue: str | None,
    row: str | None,
    timeframe: str,
    as_json: bool,
    *,
    stdout: Console | None = None,
    stderr: Console | None = None,
    long_input: int = LONG_INPUT_RECORDS,
) -> dict[str, Any]:
    """The ``orderscope analyze`` command: replay, analyze, print (and return the report)."""
    options = AnalyzeOptions(row=row, timeframe_ns=parse_timeframe(timeframe))
    analysis = Analysis(files, symbols, venue, options)
    total = count_records(analysis.paths)
    progress = Progress(
        TextColumn("analyzing"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=stderr or Console(stderr=True),
        transient=True,
        disable=total < long_input,
    )
    with progress:
        task = progress.add_task("analyzing", total=total)
        analysis.run(lambda: progress.advance(task))
    report = analysis.report()
    out = stdout or Console()
    if not out.is_terminal and stdout is None:
        out = Console(width=160)  # piped: do not squeeze the tables into 80 columns
    if as_json:
        out.file.write(msgspec.json.encode(report).decode() + "\n")
    else:
        print_report(report, out)
    return report
