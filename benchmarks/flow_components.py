"""Where the streaming trade path's time goes: CPU microseconds per trade of each component.

    .venv/bin/python benchmarks/flow_components.py [--trades 100000] [--runs 3]

The session and the replay are those of ``flow_acceptance.py`` (figure (a)): trades and depth
diffs interleaved, the diffs applied (untimed) to a shared ``BookTracker`` and given to the
engine's book detectors, so that every detector sees the book a live session would have. Each
component is timed in its own replay, alone on the trade side: the clock runs only while that
component handles an interval's trades. "engine dispatch" is the whole engine
(``SignalEngine.update``) minus the sum of its detectors. The momentum and small-trade
detectors share one trade window that the momentum detector feeds, so they are timed together.

Each figure is the median of ``--runs`` replays, in CPU seconds of this process.
"""

from __future__ import annotations

import os

os.environ.setdefault("POLARS_MAX_THREADS", "1")

import argparse
import statistics
import time
from collections.abc import Callable

from flow_acceptance import DIFFS, ROW, TRADES, Packed, pack
from orderscope.bench.flow_session import INSTRUMENT as INST
from orderscope.bench.flow_session import SessionMaker
from orderscope.flow.base import MINUTE
from orderscope.flow.book_tracker import BookTracker
from orderscope.flow.delta import CumulativeDelta
from orderscope.flow.footprint import BarSpec, Footprint
from orderscope.flow.profile import VolumeProfile
from orderscope.flow.signals import Signal, SignalEngine
from orderscope.flow.vwap import Vwap, VwapParams
from orderscope.model import Trade

#: Handles one interval's trades (the loop inside, as in flow_acceptance.py: no extra call
#: per trade).
Handler = Callable[[list[Trade]], object]


def _bars(
    name: str,
) -> Callable[[SignalEngine, list[Signal]], tuple[Handler, Callable[[], object]]]:
    def make(engine: SignalEngine, out: list[Signal]) -> tuple[Handler, Callable[[], object]]:
        analytic: Footprint | VolumeProfile | CumulativeDelta | Vwap
        if name == "footprint":
            analytic = Footprint(ROW, BarSpec.time(MINUTE))
        elif name == "profile":
            analytic = VolumeProfile(ROW)
        elif name == "cvd":
            analytic = CumulativeDelta()
        else:
            analytic = Vwap(VwapParams(INST.price_decimals))
        update = analytic.update

        def handle(trades: list[Trade]) -> None:
            for trade in trades:
                update(trade)

        return handle, analytic.result

    return make


def _detectors(*names: str) -> Callable[[SignalEngine, list[Signal]], tuple[Handler, None]]:
    def make(engine: SignalEngine, out: list[Signal]) -> tuple[Handler, None]:
        calls = [getattr(engine, n).on_trade for n in names]
        if len(calls) == 1:
            (call,) = calls

            def one(trades: list[Trade]) -> None:
                for trade in trades:
                    call(trade, out)

            return one, None
        first, second = calls

        def both(trades: list[Trade]) -> None:
            for trade in trades:
                first(trade, out)
                second(trade, out)

        return both, None

    return make


def _engine(engine: SignalEngine, out: list[Signal]) -> tuple[Handler, None]:
    update = engine.update

    def handle(trades: list[Trade]) -> None:
        for trade in trades:
            update(trade, out)

    return handle, None


COMPONENTS = {
    "footprint": _bars("footprint"),
    "volume profile": _bars("profile"),
    "CVD": _bars("cvd"),
    "VWAP": _bars("vwap"),
    "sweep": _detectors("sweep"),
    "absorption": _detectors("absorption"),
    "iceberg": _detectors("iceberg"),
    "large-order fills": _detectors("large_order"),
    "block trade": _detectors("block_trade"),
    "momentum + small-trade burst": _detectors("momentum_burst", "small_trade_burst"),
    "signal engine (all 7 detectors)": _engine,
}
DETECTORS = list(COMPONENTS)[4:10]


def replay_one(packed: Packed, make: Callable[..., tuple[Handler, object]]) -> float:
    """CPU seconds one component spends on the session's trades (its result built too)."""
    tracker = BookTracker(INST)
    engine = SignalEngine(INST, tracker=tracker)
    out: list[Signal] = []
    handle, result = make(engine, out)
    # Detectors not timed in this replay still need their trade state only for their own
    # signals: the book detectors' state comes from on_book, which runs for every replay.
    apply, on_book = tracker.apply, engine.on_book
    on_book(apply(packed.snapshot), out)
    cpu = time.process_time
    spent = 0.0
    for trade_blob, diff_blob in packed.frames:
        trades, diffs = TRADES.decode(trade_blob), DIFFS.decode(diff_blob)
        start = cpu()
        handle(trades)
        spent += cpu() - start
        for diff in diffs:
            on_book(apply(diff), out)
    if result is not None:
        start = cpu()
        result()  # type: ignore[operator]
        spent += cpu() - start
    return spent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trades", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=4)
    args = parser.parse_args()
    session = SessionMaker(args.seed).make(args.trades)
    n = len(session.trades)
    packed = pack(session)
    figures: dict[str, float] = {}
    samples: dict[str, list[float]] = {name: [] for name in COMPONENTS}
    for _ in range(args.runs):  # components in turn within a run: the load hits them alike
        for name, make in COMPONENTS.items():
            samples[name].append(replay_one(packed, make))
    for name in COMPONENTS:
        figures[name] = statistics.median(samples[name]) / n * 1e6
    print(f"{n:,} trades, median of {args.runs} runs, CPU us per trade")
    for name, us in figures.items():
        print(f"  {name:<34} {us:7.3f}")
    dispatch = figures["signal engine (all 7 detectors)"] - sum(figures[d] for d in DETECTORS)
    bars = sum(figures[k] for k in list(COMPONENTS)[:4])
    print(f"  {'engine dispatch (engine - detectors)':<34} {dispatch:7.3f}")
    print(f"  {'bars (sum of the four)':<34} {bars:7.3f}")
    total = bars + figures["signal engine (all 7 detectors)"]
    print(f"  {'total (bars + engine)':<34} {total:7.3f}  = {1e6 / total:,.0f} trades/s")


if __name__ == "__main__":
    main()
