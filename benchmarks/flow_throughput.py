"""Throughput of the order-flow analytics over synthetic trades (a script, not a test).

Streaming: one loop feeding every trade to a 1m Footprint, a VolumeProfile, a CumulativeDelta
and a session Vwap (the live path). Vectorized: the same four analytics over a Polars trades
frame (the research path). Both build the same results; the figures are trades per second.

    .venv/bin/python benchmarks/flow_throughput.py [--trades 1000000] [--repeat 3] [--json]

Polars uses every core it may; set POLARS_MAX_THREADS=1 for a one-core vectorized figure.
Each figure is given per wall-clock second and per CPU second of this process (the one-core
rate when other processes share the machine); the 1-minute load average is printed beside.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import sys
import time
from collections.abc import Callable

import msgspec

from orderscope.flow.base import MINUTE, SECOND, trades_frame
from orderscope.flow.delta import CumulativeDelta, delta_bars
from orderscope.flow.footprint import BarSpec, Footprint, footprint
from orderscope.flow.profile import VolumeProfile, volume_profile
from orderscope.flow.vwap import Vwap, VwapParams, vwap
from orderscope.model import Side, Trade

ROW = 50  # price units: 0.50 at 2 decimals, a BTC-like row
PRICE_DECIMALS = 2


def synthetic_trades(count: int, seed: int = 7) -> list[Trade]:
    """A BTC-like day: a random walk around 60,000.00, sizes 0.00001-2 BTC, ~0.1 s apart."""
    rng = random.Random(seed)
    ts = 1_700_000_000 * SECOND
    price = 6_000_000
    out = []
    for i in range(count):
        ts += rng.randrange(0, 170_000_000)
        price += rng.randrange(-3, 4)
        size = rng.randrange(1, 200_000)
        side = Side.BUY if rng.random() < 0.5 else Side.SELL
        out.append(Trade("synthetic", "BTC/USDT", ts, ts, price, size, side, str(i)))
    return out


def streaming(trades: list[Trade]) -> object:
    fp = Footprint(ROW, BarSpec.time(MINUTE))
    vp = VolumeProfile(ROW)
    cd = CumulativeDelta()
    vw = Vwap(VwapParams(PRICE_DECIMALS))
    fp_update, vp_update, cd_update, vw_update = fp.update, vp.update, cd.update, vw.update
    for trade in trades:
        fp_update(trade)
        vp_update(trade)
        cd_update(trade)
        vw_update(trade)
    return fp.result(), vp.result(), cd.result(), vw.result()


def vectorized(frame: object) -> object:
    import polars as pl

    assert isinstance(frame, pl.DataFrame)
    return (
        footprint(frame, ROW, BarSpec.time(MINUTE)),
        volume_profile(frame, ROW),
        delta_bars(frame),
        vwap(frame, VwapParams(PRICE_DECIMALS)),
    )


def best_rate(run: Callable[[], object], count: int, repeat: int) -> tuple[float, float, object]:
    """(trades per wall second, trades per CPU second of this process, result), best of
    ``repeat``. On a shared machine the CPU figure is the one-core rate: the wall figure also
    counts the time other processes held the core."""
    wall = cpu = float("inf")
    result: object = None
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        result = run()
        wall = min(wall, time.perf_counter() - start)
        cpu = min(cpu, time.process_time() - start_cpu)
    return count / wall, count / cpu, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trades", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    trades = synthetic_trades(args.trades)
    frame = trades_frame(trades)
    stream_wall, stream_cpu, stream_result = best_rate(
        lambda: streaming(trades), len(trades), args.repeat
    )
    vector_wall, vector_cpu, vector_result = best_rate(
        lambda: vectorized(frame), len(trades), args.repeat
    )
    if stream_result != vector_result:  # a benchmark of two paths that disagree is worthless
        sys.exit("streaming and vectorized results differ")
    figures = {
        "trades": len(trades),
        "streaming_trades_per_s": round(stream_wall),
        "streaming_trades_per_cpu_s": round(stream_cpu),
        "vectorized_trades_per_s": round(vector_wall),
        "vectorized_trades_per_cpu_s": round(vector_cpu),
        "load_average_1m": round(os.getloadavg()[0], 2),
        "polars_max_threads": os.environ.get("POLARS_MAX_THREADS", "all"),
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
    }
    if args.json:
        sys.stdout.buffer.write(msgspec.json.encode(figures) + b"\n")
    else:
        for key, value in figures.items():
            print(f"{key:>26}: {value:,}" if isinstance(value, int) else f"{key:>26}: {value}")


if __name__ == "__main__":
    main()
