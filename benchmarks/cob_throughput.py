"""Consolidated order book throughput: 3 venues x 20-levels-changed deltas into one COB.

    python benchmarks/cob_throughput.py [--deltas 100000] [--profile] [--json]

Three synthetic BTC venues with the precisions of real ones (0.01/1e-5, 0.01/1e-8, 0.1/1e-4),
1000 levels a side each around 60,000. Each delta changes 20 levels (10 a side) near the top,
as depth diffs do: most change a size, some add a level, some delete one. Each venue sends a
delta every millisecond of event time, so the COB ticks (staleness, rate, rolling-stat sample)
every 300 deltas. Events are built before the clock starts; the figures are the best of
``--repeat`` runs. A script, not a test: it asserts nothing about time.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import json
import platform
import pstats
import random
import statistics
import sys
import time
from collections.abc import Callable

from orderscope.book import L2Book
from orderscope.cob import CobConfig, CobSnapshot, ConsolidatedBook, make_buckets, route
from orderscope.cob.side import apply_levels
from orderscope.model import BookDelta, BookSnapshot, Instrument, InstrumentKind, Level

MS = 1_000_000

#: The timer: CPU time of this process by default. The machines this runs on are often shared
#: (CI, a team's box): wall time would count the time slices other jobs take. ``--clock wall``
#: measures wall time.
clock = time.process_time
T0 = 1_700_000_000_000_000_000
MID = 60_000
LEVELS = 1000
CHANGES = 10  # a side, per delta

#: venue -> (price decimals, size decimals, tick in price units)
VENUES = {"binance": (2, 5, 1), "coinbase": (2, 8, 1), "kraken": (1, 4, 1)}


def instruments() -> list[Instrument]:
    return [
        Instrument(v, "BTC/USDT", "BTCUSDT", "BTC", "USDT", InstrumentKind.SPOT, pd, sd, tick, 1)
        for v, (pd, sd, tick) in VENUES.items()
    ]


def venue_events(
    inst: Instrument, deltas: int, rng: random.Random, offset_ns: int
) -> tuple[BookSnapshot, list[BookDelta]]:
    """A snapshot and ``deltas`` deltas of one venue, generated against a model of its book."""
    tick = inst.tick_size
    mid = MID * 10**inst.price_decimals
    one = 10**inst.size_decimals
    bids = {mid - tick * (1 + k): rng.randint(1, 5 * one) for k in range(LEVELS)}
    asks = {mid + tick * (1 + k): rng.randint(1, 5 * one) for k in range(LEVELS)}
    snap = BookSnapshot(
        inst.venue,
        inst.symbol,
        T0,
        T0,
        sorted(bids.items(), reverse=True),
        sorted(asks.items()),
    )
    out = []
    for n in range(deltas):
        changes: list[list[Level]] = []
        for side, sign in ((bids, -1), (asks, 1)):
            levels: list[Level] = []
            for _ in range(CHANGES):
                price = mid + sign * tick * (1 + int(rng.expovariate(1 / 30)))
                if price in side and rng.random() < 0.2:
                    size = 0  # a level removed
                    del side[price]
                else:
                    size = rng.randint(1, 5 * one)
                    side[price] = size
                levels.append((price, size))
            changes.append(levels)
        ts = T0 + (n + 1) * MS + offset_ns
        out.append(BookDelta(inst.venue, inst.symbol, ts, ts, changes[0], changes[1]))
    return snap, out


def build(deltas: int, seed: int) -> tuple[list[BookSnapshot], list[BookDelta]]:
    rng = random.Random(seed)
    snaps, streams = [], []
    for k, inst in enumerate(instruments()):
        snap, events = venue_events(inst, deltas, rng, k * 1000)
        snaps.append(snap)
        streams.append(events)
    merged = [e for trio in zip(*streams, strict=True) for e in trio]  # receive-time order
    return snaps, merged


def fresh_cob(
    snaps: list[BookSnapshot], on_tick: Callable[[CobSnapshot], None] | None
) -> ConsolidatedBook:
    cob = ConsolidatedBook(instruments(), CobConfig(), on_tick=on_tick)
    for snap in snaps:
        cob.update(snap)
    return cob


def best_of_interleaved(repeat: int, runs: dict[str, Callable[[], float]]) -> dict[str, float]:
    """The best time of each run over ``repeat`` rounds, the runs interleaved in each round so
    that a busy machine slows them alike."""
    best: dict[str, float] = {}
    for _ in range(repeat):
        for name, run in runs.items():
            gc.collect()
            elapsed = run()
            best[name] = min(best.get(name, elapsed), elapsed)
    return best


def ingest(snaps: list[BookSnapshot], events: list[BookDelta], with_display: bool) -> float:
    shown: list[CobSnapshot] = []  # a display keeps the latest snapshot, not all of them

    def show(snapshot: CobSnapshot) -> None:
        shown[:] = [snapshot]

    cob = fresh_cob(snaps, show if with_display else None)
    update = cob.update
    start = clock()
    for event in events:
        update(event)
    return clock() - start


def apply_only(snaps: list[BookSnapshot], events: list[BookDelta]) -> float:
    """Only the COB's hot loop (``apply_levels``), without the event dispatch around it."""
    cob = fresh_cob(snaps, None)
    members = {m.venue: (m.slot, m.pm, m.sm) for m in cob.members}
    bids, asks = cob.bids, cob.asks
    start = clock()
    for event in events:
        slot, pm, sm = members[event.venue]
        apply_levels(event.bids, slot, pm, sm, bids, event.recv_ns)
        apply_levels(event.asks, slot, pm, sm, asks, event.recv_ns)
    return clock() - start


def books_only(snaps: list[BookSnapshot], events: list[BookDelta]) -> float:
    """The same deltas into three plain L2Books: what each connector already pays."""
    books = {s.venue: L2Book(i) for s, i in zip(snaps, instruments(), strict=True)}
    for s in snaps:
        books[s.venue].apply_snapshot(s.bids, s.asks)
    start = clock()
    for event in events:
        books[event.venue].apply_delta(event.bids, event.asks)
    return clock() - start


def per_call(fn: Callable[[], object], calls: int) -> float:
    """Median seconds per call over ``calls`` calls (after one warm-up)."""
    fn()
    times = []
    for _ in range(calls):
        start = clock()
        fn()
        times.append(clock() - start)
    return statistics.median(times)


def snapshots_in_run(snaps: list[BookSnapshot], events: list[BookDelta]) -> list[float]:
    """Seconds each display snapshot took inside a run (cold caches, as in real use)."""
    times: list[float] = []
    cob = fresh_cob(snaps, lambda _snapshot: None)
    build = cob._snapshot_at

    def timed(now: int, n: int, bands: list[tuple[float, float]] | None) -> CobSnapshot:
        start = clock()
        snapshot = build(now, n, bands)
        times.append(clock() - start)
        return snapshot

    cob._snapshot_at = timed  # type: ignore[method-assign]
    for event in events:
        cob.update(event)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--deltas", type=int, default=100_000, help="deltas per venue")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--profile", action="store_true", help="cProfile one ingest run")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--clock", choices=("cpu", "wall"), default="cpu")
    args = parser.parse_args()
    global clock
    clock = time.process_time if args.clock == "cpu" else time.perf_counter

    snaps, events = build(args.deltas, args.seed)
    # The prepared events (millions of tuples) stay alive for the whole run, which a live
    # session never does: keep them out of the collector's way, as they would be.
    gc.freeze()
    n = len(events)
    best = best_of_interleaved(
        args.repeat,
        {
            "cob": lambda: ingest(snaps, events, with_display=False),
            "display": lambda: ingest(snaps, events, with_display=True),
            "l2": lambda: books_only(snaps, events),
            "apply": lambda: apply_only(snaps, events),
        },
    )
    plain, display, l2, apply = best["cob"], best["display"], best["l2"], best["apply"]

    cob = fresh_cob(snaps, None)
    for event in events:
        cob.update(event)
    in_run = sorted(snapshots_in_run(snaps, events))
    figures = {
        "venues": len(VENUES),
        "deltas": n,
        "levels_changed_per_delta": 2 * CHANGES,
        "cob_deltas_per_s": n / plain,
        "cob_ns_per_level": plain / n / (2 * CHANGES) * 1e9,
        "cob_with_display_deltas_per_s": n / display,
        "apply_levels_only_deltas_per_s": n / apply,
        "l2books_deltas_per_s": n / l2,
        "cob_cost_vs_l2books": plain / l2,
        "ticks": cob.counters.ticks,
        "cob_levels": {"bids": len(cob.bids.prices), "asks": len(cob.asks.prices)},
        "snapshot_200_ms": per_call(lambda: cob.snapshot(levels=200), 200) * 1e3,
        "snapshot_200_in_run_median_ms": in_run[len(in_run) // 2] * 1e3,
        "snapshot_200_in_run_p99_ms": in_run[int(len(in_run) * 0.99)] * 1e3,
        "levels_200_both_sides_ms": per_call(
            lambda: (cob.levels(True, 200), cob.levels(False, 200)), 200
        )
        * 1e3,
        "metrics_ms": per_call(cob.metrics, 200) * 1e3,
        "buckets_1bp_50_ms": per_call(lambda: make_buckets(cob, bps=1.0, count=50), 200) * 1e3,
        "route_10_btc_ms": per_call(lambda: route(cob, True, 10 * 10**8), 50) * 1e3,
        "clock": args.clock,
        "python": sys.version.split()[0],
        "machine": f"{platform.machine()} {platform.processor() or ''}".strip(),
    }
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        for key, value in figures.items():
            shown = f"{value:,.3f}" if isinstance(value, float) else value
            print(f"{key:32} {shown}")
    if args.profile:
        profiler = cProfile.Profile()
        cob = fresh_cob(snaps, None)
        update = cob.update
        profiler.enable()
        for event in events:
            update(event)
        profiler.disable()
        pstats.Stats(profiler).sort_stats("tottime").print_stats(12)


if __name__ == "__main__":
    main()
