"""Run the benchmark: every capture orderscope reads, against cryptofeed, and the synthetic book.

``plan`` says what will run (so a progress bar knows its length), ``run`` does it and returns
plain data (``report.BenchReport``). Nothing here prints.
"""

from __future__ import annotations

import dataclasses
import gc
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from orderscope.bench import cryptofeed_peer as peer
from orderscope.bench.ours import LoadedCapture, ReplayCounts, load_capture, replay
from orderscope.bench.report import (
    BenchReport,
    PeerResult,
    SyntheticResult,
    VenueResult,
    machine_info,
)
from orderscope.bench.synthetic import SYNTHETIC_INSTRUMENT, SyntheticConfig, SyntheticMarket
from orderscope.bench.timing import Contender, Measurement, clock, measure_together
from orderscope.book import L2Book
from orderscope.capture import VenueCapture, group_captures
from orderscope.errors import ConfigError
from orderscope.venues import REGISTRY, supported_prefixes
from orderscope.venues.base import Venue

SYNTHETIC = "synthetic"

Step = Callable[[str], None]  # told what was just done, once per planned step


@dataclass(frozen=True, slots=True)
class BenchOptions:
    captures: Path
    runs: int = 5
    only: frozenset[str] = frozenset()  # venue names, capture prefixes or "synthetic"
    min_time: float = 0.2  # seconds per sample, at least
    #: each capture run's samples taken in this many slices in turn, ours and cryptofeed's
    #: (``timing.measure_together``): ~50 ms slices, finer than this VM's speed changes
    slices: int = 4
    peers: bool = True
    synthetic: SyntheticConfig = field(default_factory=SyntheticConfig)

    def __post_init__(self) -> None:
        # names are matched case-insensitively: KRAKEN, kraken, Binance_Futures
        object.__setattr__(self, "only", frozenset(o.lower() for o in self.only))

    def wants(self, *names: str) -> bool:
        return not self.only or any(n.lower() in self.only for n in names)


# -- planning ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Plan:
    captures: list[VenueCapture]
    skipped: list[str]
    synthetic_chunks: int

    @property
    def steps(self) -> int:
        per_capture = 3  # load, warm up, measure
        return per_capture * len(self.captures) + self.synthetic_chunks


def plan(options: BenchOptions) -> Plan:
    if not options.captures.is_dir():
        raise ConfigError(f"no capture directory {options.captures}")
    known = supported_prefixes()
    names = {cls.capture_prefix: name for name, cls in REGISTRY.items()}
    chosen: list[VenueCapture] = []
    skipped: list[str] = []
    for capture in group_captures([options.captures]):
        if capture.prefix not in known:
            skipped.append(capture.prefix)
        elif options.wants(capture.prefix, names[capture.prefix]):
            chosen.append(capture)
    unknown = set(options.only) - {SYNTHETIC} - {p.lower() for p in names} - set(names.values())
    if unknown:
        raise ConfigError(
            f"--only: no capture with a connector named {', '.join(sorted(unknown))} "
            f"(known: {', '.join(sorted(names.values()))}, {SYNTHETIC})"
        )
    chunks = 0
    if options.wants(SYNTHETIC):
        cfg = options.synthetic
        chunks = -(-cfg.deltas // cfg.chunk)
    return Plan(chosen, skipped, chunks)


# -- running -------------------------------------------------------------------------------


def run(options: BenchOptions, the_plan: Plan, step: Step | None = None) -> BenchReport:
    told: Step = step if step is not None else (lambda _what: None)
    venues = [_run_capture(capture, options, told) for capture in the_plan.captures]
    synthetic = None
    if the_plan.synthetic_chunks:
        synthetic = run_synthetic(options.synthetic, options.runs, told)
    return BenchReport(machine_info(), options.runs, venues, the_plan.skipped, synthetic)


def _run_capture(capture: VenueCapture, options: BenchOptions, told: Step) -> VenueResult:
    loaded = load_capture(capture)
    told(f"{capture.prefix}: loaded")
    warm = loaded.new_venue()
    ours = Contender(
        lambda n: [loaded.new_venue() for _ in range(n)],
        lambda venues: replay(venues, loaded.records),
        replay([warm], loaded.records),
    )
    counts = ReplayCounts.of(warm)
    peer_result: PeerResult | None = None
    contenders: list[Contender[Any]] = [ours]
    if options.peers:
        peer_result, theirs = _prepare_peer(loaded)
        if theirs is not None:
            contenders.append(theirs)
    told(f"{capture.prefix}: warmed up")
    timing, *peer_timing = measure_together(
        contenders, runs=options.runs, min_time=options.min_time, slices=options.slices
    )
    if peer_result is not None and peer_timing:
        peer_result = dataclasses.replace(peer_result, timing=peer_timing[0])
    told(f"{capture.prefix}: measured")
    agreement = None
    if peer_result is not None and peer_result.counts is not None:
        agreement = _agreement(warm, peer_result.counts)
    return VenueResult(
        capture.prefix,
        loaded.venue_cls.name,
        loaded.frames,
        counts,
        timing,
        peer_result,
        agreement,
    )


def _prepare_peer(loaded: LoadedCapture) -> tuple[PeerResult, Contender[Any] | None]:
    """cryptofeed loaded and warmed up on the capture, or why it cannot be."""
    name = f"cryptofeed {peer.cryptofeed_version() or '(not installed)'}"
    try:
        capture = peer.load_peer(loaded)
        counts, first = peer.warm_pass(capture)
    except (peer.PeerUnavailable, peer.PeerFailed) as exc:
        return PeerResult(name, error=str(exc)), None
    notes = list(capture.notes)
    if counts.repeated_snapshots:
        notes.append(f"asked again for {counts.repeated_snapshots} snapshot(s) after a reset")
    if counts.warnings:
        notes.append(f"{counts.warnings} warning(s) logged, first: {counts.first_warning}")
    result = PeerResult(name, counts, None, None, tuple(notes), capture.checksum_validation)
    contender = Contender(
        lambda n: [peer.new_pass(capture) for _ in range(n)],
        lambda passes: peer.drive(capture, passes),
        first,
    )
    return result, contender


def _agreement(venue: Venue, counts: peer.PeerCounts) -> tuple[int, int]:
    """Books whose best bid and ask are the same in orderscope and cryptofeed."""
    agree = compared = 0
    for book in venue.books.values():
        theirs = counts.top_of_book.get(peer.symbol_key(book.instrument.venue_symbol))
        if theirs is None:
            continue
        compared += 1
        mine = (_price(book, book.best_bid()), _price(book, book.best_ask()))
        agree += mine == theirs
    return agree, compared


def _price(book: L2Book, level: tuple[int, int] | None) -> Decimal | None:
    return None if level is None else Decimal(book.instrument.price_text(level[0]))


def run_synthetic(config: SyntheticConfig, runs: int, told: Step) -> SyntheticResult:
    """Apply the stream to ``runs`` fresh books, chunk by chunk, timing each book separately.

    Every book sees the whole stream (a run); generating it is not timed and happens once.
    """
    market = SyntheticMarket(config)
    bids, asks = market.snapshot()
    books = [L2Book(SYNTHETIC_INSTRUMENT) for _ in range(runs)]
    for book in books:
        book.apply_snapshot(bids, asks)
    elapsed = [0.0] * runs
    deltas = levels = 0
    for chunk in market.chunks():
        deltas += len(chunk)
        levels += sum(len(b) + len(a) for b, a in chunk)
        gc.collect()
        for index, book in enumerate(books):
            elapsed[index] += _apply_chunk(book, chunk)
        told(f"synthetic: {deltas:,} deltas")
    first = books[0]
    for book in books[1:]:  # every run must have built the same book
        if book.bids() != first.bids() or book.asks() != first.asks():
            raise AssertionError("synthetic runs ended with different books")
    samples = tuple(elapsed)
    return SyntheticResult(
        config,
        deltas,
        levels,
        Measurement(samples, 1),
        first.depth(),
        first.counters.crossed_updates,
    )


def _apply_chunk(book: L2Book, chunk: Iterable[tuple[list[Any], list[Any]]]) -> float:
    apply = book.apply_delta
    start = clock()
    for bids, asks in chunk:
        apply(bids, asks)
    return clock() - start
