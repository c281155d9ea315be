"""Throughput of the book-side analytics (OFI + heatmap + book signals) and the trade signals.

A script, not a test: ``python benchmarks/book_analytics.py [--messages N] [--trades N]``.
Inputs are synthetic and seeded (the real captures are too short to time): a 1,000-level book
a side around a random-walk mid, updated by depth diffs of ~7 levels (the mean of the Binance
captures: 7.2 levels per diff), mostly near the touch, with inserts, deletes and quote moves;
and a trade tape with bursts. Figures go to docs/PERFORMANCE.md ("Signals, microstructure,
heatmap"). A "book update" is one price level changed (one (price, size) entry of a diff);
messages/s is given beside it.
"""

from __future__ import annotations

import argparse
import platform
import random
import time
from collections.abc import Callable

from orderscope.flow.batches import load_frames
from orderscope.flow.book_tracker import BookTracker
from orderscope.flow.micro import OrderFlowImbalance, Vpin, VpinBucket, ofi_series
from orderscope.flow.signals import Signal, SignalEngine
from orderscope.heatmap import Heatmap, HeatmapConfig, heatmap_from_frames
from orderscope.model import BookDelta, BookSnapshot, Instrument, InstrumentKind, Side, Trade

MS = 1_000_000
INST = Instrument(
    venue="synthetic",
    symbol="BTC/USDT",
    venue_symbol="BTCUSDT",
    base="BTC",
    quote="USDT",
    kind=InstrumentKind.SPOT,
    price_decimals=2,
    size_decimals=5,
    tick_size=1,
    lot_size=1,
)
DEPTH = 1_000


def synthetic_book(messages: int, seed: int = 7) -> list[BookSnapshot | BookDelta]:
    rng = random.Random(seed)
    mid = 5_000_000  # 50,000.00
    bids = {mid - i: rng.randint(1, 200_000) for i in range(1, DEPTH + 1)}
    asks = {mid + i: rng.randint(1, 200_000) for i in range(1, DEPTH + 1)}
    ts = 1_700_000_000_000 * MS
    events: list[BookSnapshot | BookDelta] = [
        BookSnapshot(
            "synthetic",
            INST.symbol,
            ts,
            ts,
            sorted(bids.items(), reverse=True),
            sorted(asks.items()),
        )
    ]
    for _ in range(messages):
        ts += rng.choice((1, 2, 5, 10, 100)) * MS
        bid_levels: list[tuple[int, int]] = []
        ask_levels: list[tuple[int, int]] = []
        if rng.random() < 0.1:  # the quote moves a tick: clear what it crossed
            mid += rng.choice((-1, 1))
            for p in [p for p in asks if p <= mid]:
                del asks[p]
                ask_levels.append((p, 0))
            for p in [p for p in bids if p >= mid]:
                del bids[p]
                bid_levels.append((p, 0))
        for _ in range(7):
            distance = min(int(rng.expovariate(0.15)) + 1, DEPTH)
            size = 0 if rng.random() < 0.15 else rng.randint(1, 200_000)
            if rng.random() < 0.5:
                price = mid - distance
                bids[price] = size
                bid_levels.append((price, size))
                if not size:
                    del bids[price]
            else:
                price = mid + distance
                asks[price] = size
                ask_levels.append((price, size))
                if not size:
                    del asks[price]
        events.append(BookDelta("synthetic", INST.symbol, ts, ts, bid_levels, ask_levels))
    return events


def synthetic_trades(count: int, seed: int = 11) -> list[Trade]:
    rng = random.Random(seed)
    price = 5_000_000
    ts = 1_700_000_000_000 * MS
    trades = []
    for i in range(count):
        ts += rng.choice((0, 0, 1, 3, 20, 200)) * MS // 2
        side = Side.BUY if rng.random() < 0.5 else Side.SELL
        price = max(1, price + rng.choice((-1, 0, 0, 0, 1)))
        size = max(1, int(rng.lognormvariate(7, 2)))
        trades.append(Trade("synthetic", INST.symbol, ts, ts, price, size, side, str(i)))
    return trades


def timed(label: str, run: Callable[[], object], units: int, unit: str, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    rate = units / best
    print(f"{label:<58} {rate:>14,.0f} {unit}/s   ({best * 1e3:,.0f} ms)")
    return rate


def book_side(events: list[BookSnapshot | BookDelta]) -> None:
    tracker = BookTracker(INST)
    ofi = OrderFlowImbalance()
    heatmap = Heatmap(INST, HeatmapConfig(step_ns=100 * MS))
    engine = SignalEngine(INST, tracker=tracker)
    out: list[Signal] = []
    apply = tracker.apply
    for event in events:
        change = apply(event)
        ofi.update(change)
        heatmap.on_book(change)
        engine.on_book(change, out)


def tracker_only(events: list[BookSnapshot | BookDelta]) -> None:
    tracker = BookTracker(INST)
    for event in events:
        tracker.apply(event)


def trade_signals(trades: list[Trade]) -> None:
    engine = SignalEngine(INST)
    engine.update(synthetic_book(0)[0], [])  # a book for the book-aware trade handlers
    out: list[Signal] = []
    update = engine.update
    for trade in trades:
        update(trade, out)


def trade_micro(trades: list[Trade]) -> None:
    vpin = Vpin(bucket_volume=5_000_000, window=50)
    out: list[VpinBucket] = []
    for trade in trades:
        vpin.update(trade, out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--trades", type=int, default=300_000)
    args = parser.parse_args()
    events = synthetic_book(args.messages)
    updates = sum(len(e.bids) + len(e.asks) for e in events[1:])
    trades = synthetic_trades(args.trades)
    print(f"python {platform.python_version()} on {platform.machine()}, one core")
    print(
        f"{args.messages:,} diffs, {updates:,} level updates ({updates / args.messages:.1f}/diff)"
    )
    timed("book tracker alone", lambda: tracker_only(events), updates, "level updates")
    rate = timed(
        "OFI + heatmap + book signals (incl. tracker)",
        lambda: book_side(events),
        updates,
        "level updates",
    )
    print(f"{'':<58} {rate * args.messages / updates:>14,.0f} diffs/s")
    frames = load_frames(events, INST)
    timed(
        "batch: OFI series over the top frame",
        lambda: ofi_series(frames.top),
        len(events),
        "book updates",
    )
    timed(
        "batch: heatmap from frames (100 ms steps)",
        lambda: heatmap_from_frames(frames, HeatmapConfig(step_ns=100 * MS)),
        updates,
        "level updates",
    )
    timed(
        "all trade signals (the 7 detectors that read trades)",
        lambda: trade_signals(trades),
        len(trades),
        "trades",
    )
    timed("VPIN", lambda: trade_micro(trades), len(trades), "trades")


if __name__ == "__main__":
    main()
