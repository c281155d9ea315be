"""``Venue.parse_levels`` on diff-sized inputs: the C kernel against the memo path it replaced.

    .venv/bin/python benchmarks/levels_memo.py [--frames 2000] [--runs 7]

Binance-like diffs (1-13 levels; prices drawn from 400 texts and sizes from 2,000, so the memos
are warm, their best case) through one ``BinanceSpot``'s ``parse_levels``, with
``venues.base.NATIVE_PAIRS`` set (C) or None (the memo path), interleaved in one process. Each
figure is the median over ``--runs`` of the best of 3 passes, in CPU ns per level (the Python
call per frame included). Needs the compiled build (``make native``).
"""

from __future__ import annotations

import argparse
import random
import statistics
import time

import msgspec

from orderscope.model import Instrument, InstrumentKind
from orderscope.venues import base
from orderscope.venues.binance import BinanceSpot

INSTRUMENT = Instrument(
    "BINANCE", "BTC/USDT", "BTCUSDT", "BTC", "USDT", InstrumentKind.SPOT, 2, 8, 1, 1
)


def diffs(count: int) -> list[list[tuple[str, str]]]:
    rng = random.Random(1)
    prices = [f"{rng.randint(6_000_000, 6_010_000) / 100:.2f}000000" for _ in range(400)]
    sizes = [f"{rng.randint(0, 10**8) / 10**8:.8f}" for _ in range(2000)]
    wire = [
        [[rng.choice(prices), rng.choice(sizes)] for _ in range(rng.choice([1, 2, 3, 5, 8, 13]))]
        for _ in range(count)
    ]
    # decoded as the connector's msgspec types give them: fresh str objects, no cached hash
    return [msgspec.json.decode(msgspec.json.encode(d), type=list[tuple[str, str]]) for d in wire]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    native = base.NATIVE_PAIRS
    if native is None:
        raise SystemExit("the C kernel is not loaded: `make native` (and no ORDERSCOPE_PURE)")
    frames = diffs(args.frames)
    venue = BinanceSpot([INSTRUMENT])

    def one_pass() -> float:
        start = time.process_time()
        for raw in frames:
            venue.parse_levels(raw, INSTRUMENT, b"", "depth")
        return time.process_time() - start

    results: dict[str, list[float]] = {"C kernel": [], "memo path": []}
    try:
        for _ in range(args.runs):
            for mode, times in results.items():
                base.NATIVE_PAIRS = native if mode == "C kernel" else None
                one_pass()  # warm: the memos filled
                times.append(min(one_pass() for _ in range(3)))
    finally:
        base.NATIVE_PAIRS = native
    levels = sum(len(raw) for raw in frames)
    for mode, times in results.items():
        per_level = statistics.median(times) * 1e9 / levels
        print(f"{mode:10} {per_level:6.1f} ns/level ({len(frames)} diffs, {levels} levels)")


if __name__ == "__main__":
    main()
