"""The issue-4 acceptance figures of the order-flow analytics, on one core (a script, not a test).

    .venv/bin/python benchmarks/flow_acceptance.py [--trades 500000] [--runs 5]
        [--vector-trades 5000000] [--json]

Three figures, each the median of ``--runs`` runs, per CPU second of this process (the one-core
rate: the machine is shared) and per wall-clock second:

(a) streaming trade path: every trade goes, one at a time, to a 1m ``Footprint``, a
    ``VolumeProfile``, a ``CumulativeDelta``, a session ``Vwap`` and the ``SignalEngine``
    (the seven detectors that read trades: sweep, absorption, iceberg, large-order fills,
    block, momentum burst, small-trade burst), through one ``flow.stream.TradeStream`` (the
    fan-out a live session uses: the trade's fields read once), then every result is built.
    Target: 300,000 trades/s.
(b) vectorized path: ``footprint`` + ``volume_profile`` + ``delta_bars`` + ``vwap`` over a
    Polars trades frame, the four sharing one ``TradeColumns`` (the frame read once, bars and
    rows cut once), as a research job over days of trades runs them. Target: 5,000,000
    trades/s. The acceptance figure is taken on ``--vector-trades`` (5,000,000) trades: the
    session's trades repeated end to end, each copy later by the session's length (in whole
    minutes) and moved by its net price change, so that time and price run on. A research job
    reads millions of trades (days of a liquid pair): there the columns outgrow the caches and
    every fresh temporary array costs page faults, which a 100,000-trade frame (a few MB) hardly
    sees, while its fixed per-call costs weigh more; the large frame is the representative
    case. Also printed: the same with each function given the frame (nothing shared), and the
    session's own trades. Every frame's results are checked equal to the streaming results.
    The detectors have no vectorized path: they are sequential by nature.
(c) book side: every depth diff goes to one ``BookTracker`` (the exact book) and its
    ``BookChange`` to ``OrderFlowImbalance``, a 100 ms ``Heatmap`` and the engine's book
    detectors (absorption, iceberg, large order placed / pulled, book imbalance). Target:
    200,000 book updates/s, given per level update and per diff message.

(a) and (c) run in one replay of one seeded session: trades and depth diffs interleaved as a
venue sends them (Binance: ``depth@100ms`` diffs, trades in between). The clock runs only while
a trade is handled for (a), only while a diff is handled for (c): the other side's events still
reach the detectors, untimed, so their state (watched levels, the book) is what a live session
would have. The session: a 1,000-level book a side around a 60,000.00 BTC/USDT mid (0.01 ticks,
10**-6 BTC sizes), taker orders in calm / busy / burst regimes walking the book (one order's
fills share their timestamp, large ones sweep levels), log-normal sizes with a heavy tail,
limit orders and cancels mostly near the touch, refills of taken levels, occasional walls
placed and pulled. ``--split`` re-cuts every diff into one-level messages (the shape of
Coinbase, Kraken and Bitfinex feeds) for a second (c) figure.

Polars is held to one thread (POLARS_MAX_THREADS=1 unless set). Figures and the machine go to
docs/PERFORMANCE.md ("Acceptance figures").
"""

from __future__ import annotations

import os

os.environ.setdefault("POLARS_MAX_THREADS", "1")  # before polars is imported: one core

import argparse
import cProfile
import gc
import operator
import platform
import pstats
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import msgspec
import polars as pl

from orderscope.bench.flow_session import INSTRUMENT as INST
from orderscope.bench.flow_session import MS, Session, SessionMaker
from orderscope.flow.base import MINUTE, trades_frame
from orderscope.flow.book_tracker import BookTracker
from orderscope.flow.columns import TradeColumns
from orderscope.flow.delta import CumulativeDelta, delta_bars
from orderscope.flow.footprint import BarSpec, Footprint, footprint
from orderscope.flow.micro import OrderFlowImbalance
from orderscope.flow.profile import VolumeProfile, volume_profile
from orderscope.flow.signals import Signal, SignalEngine
from orderscope.flow.stream import TradeStream
from orderscope.flow.vwap import Vwap, VwapParams, vwap
from orderscope.heatmap import Heatmap, HeatmapConfig
from orderscope.model import BookDelta, BookSnapshot, Side, Trade

ROW = 50  # footprint and profile rows: 0.50 at 2 price decimals

# -- the runs ---------------------------------------------------------------------------------


@dataclass
class Clock:
    cpu: float = 0.0
    wall: float = 0.0


#: Each interval's trades and diffs are kept encoded and decoded (untimed) just before they are
#: handled, as a connector hands over freshly parsed events: handling half a million events
#: built up front would time cache misses on cold objects that a live session never has.
TRADES = msgspec.msgpack.Decoder(list[Trade])
DIFFS = msgspec.msgpack.Decoder(list[BookDelta])


@dataclass
class Packed:
    snapshot: BookSnapshot
    frames: list[tuple[bytes, bytes]]  # per interval: its trades, its diffs (msgpack)


def pack(session: Session) -> Packed:
    encode = msgspec.msgpack.Encoder().encode
    return Packed(session.snapshot, [(encode(f.trades), encode(f.diffs)) for f in session.frames])


def replay(
    session: Packed, bars: bool = True, signals: bool = True, counted: str | None = None
) -> tuple[Clock, Clock, object, list[Signal]]:
    """One replay: (trade-side clock, book-side clock, trade-path results, signals).

    ``bars`` / ``signals`` leave the four bar analytics or the trade detectors out of the trade
    side (for the breakdown). ``counted`` ("trade" or "book") runs that side's work through
    ``operator.call``, so that ``valgrind --tool=callgrind --toggle-collect=_operator_call``
    counts the instructions of that side alone."""
    tracker = BookTracker(INST)
    engine = SignalEngine(INST, tracker=tracker)
    fp = Footprint(ROW, BarSpec.time(MINUTE))
    vp = VolumeProfile(ROW)
    cd = CumulativeDelta()
    vw = Vwap(VwapParams(INST.price_decimals))
    ofi = OrderFlowImbalance()
    heatmap = Heatmap(INST, HeatmapConfig(step_ns=100 * MS))
    out: list[Signal] = []
    trade_clock, book_clock = Clock(), Clock()
    stream = (
        TradeStream(footprints=[fp], profile=vp, delta=cd, vwaps=[vw]) if bars else TradeStream()
    )
    if signals:
        stream.engine = engine
    stream_update, signal_update, engine_on_book = stream.update, engine.update, engine.on_book
    apply, ofi_update, heat_book = tracker.apply, ofi.update, heatmap.on_book

    def on_trades(trades: list[Trade]) -> None:
        for trade in trades:
            stream_update(trade, out)

    def on_diffs(diffs: list[BookDelta]) -> None:
        for diff in diffs:
            change = apply(diff)
            ofi_update(change)
            heat_book(change)
            engine_on_book(change, out)

    def untimed_trades(trades: list[Trade]) -> None:
        if not signals:  # the detectors' state still follows the trades
            for trade in trades:
                signal_update(trade, out)
        for trade in trades:  # the heatmap's trade bubbles: neither figure
            heatmap.on_trade(trade)

    def results() -> object:
        return fp.result(), vp.result(), cd.result(), vw.result()

    trade_call = operator.call if counted == "trade" else _call
    book_call = operator.call if counted == "book" else _call
    cpu, wall = time.process_time, time.perf_counter
    engine.on_book(apply(session.snapshot), out)
    decode_trades, decode_diffs = TRADES.decode, DIFFS.decode
    for trade_blob, diff_blob in session.frames:
        trades, diffs = decode_trades(trade_blob), decode_diffs(diff_blob)
        c, w = cpu(), wall()
        trade_call(on_trades, trades)
        trade_clock.wall += wall() - w
        trade_clock.cpu += cpu() - c
        untimed_trades(trades)
        c, w = cpu(), wall()
        book_call(on_diffs, diffs)
        book_clock.wall += wall() - w
        book_clock.cpu += cpu() - c
    c, w = cpu(), wall()
    built = trade_call(results) if bars else None
    trade_clock.wall += wall() - w
    trade_clock.cpu += cpu() - c
    return trade_clock, book_clock, built, out


def _call(function: Callable[..., object], *args: object) -> object:
    return function(*args)


def vectorized(frame: pl.DataFrame) -> object:
    """The four analytics over one frame, sharing its columns, bars and rows."""
    return separately(TradeColumns.of(frame))


def separately(trades: pl.DataFrame | TradeColumns) -> object:
    """The four analytics, each given ``trades`` (a frame: each reads it on its own)."""
    return (
        footprint(trades, ROW, BarSpec.time(MINUTE)),
        volume_profile(trades, ROW),
        delta_bars(trades),
        vwap(trades, VwapParams(INST.price_decimals)),
    )


def streamed(frame: pl.DataFrame) -> object:
    """The four streaming analytics over a frame's trades, made one at a time (no list of
    millions of events is held)."""
    fp = Footprint(ROW, BarSpec.time(MINUTE))
    vp = VolumeProfile(ROW)
    cd = CumulativeDelta()
    vw = Vwap(VwapParams(INST.price_decimals))
    sides = {1: Side.BUY, -1: Side.SELL}
    for ts, price, size, side in frame.select("ts", "price", "size", "side").iter_rows():
        trade = Trade(INST.venue, INST.symbol, ts, ts, price, size, sides[side], "")
        fp.update(trade)
        vp.update(trade)
        cd.update(trade)
        vw.update(trade)
    return fp.result(), vp.result(), cd.result(), vw.result()


def repeated(frame: pl.DataFrame, trades: int) -> pl.DataFrame:
    """``trades`` rows: the frame's trades end to end, copy k later by k session lengths (whole
    minutes, so that every copy cuts into the same bars) and moved by k net price changes."""
    ts, price = frame["ts"], frame["price"]
    shift = -(-(int(ts.max()) - int(ts.min()) + 1) // MINUTE) * MINUTE
    drift = int(price[-1]) - int(price[0])
    copies = -(-trades // frame.height)
    copied = pl.concat(
        frame.with_columns(pl.col("ts") + k * shift, pl.col("price") + k * drift)
        for k in range(copies)
    )
    return copied.head(trades).rechunk()  # one chunk, as trades_frame makes


def timer_overhead(frames: int) -> float:
    """CPU seconds the per-frame clock reads add to one side's figure."""
    cpu, wall = time.process_time, time.perf_counter
    start = cpu()
    for _ in range(frames):
        c, w = cpu(), wall()
        _ = wall() - w, cpu() - c
    return cpu() - start


@dataclass
class Figure:
    name: str
    units: int
    unit: str
    messages: int = 0  # book figures: diff messages (one or more level updates each)
    cpu: list[float] = field(default_factory=list)
    wall: list[float] = field(default_factory=list)

    def add(self, clock: Clock) -> None:
        self.cpu.append(clock.cpu)
        self.wall.append(clock.wall)

    def entry(self) -> dict[str, object]:
        cpu, wall = statistics.median(self.cpu), statistics.median(self.wall)
        entry: dict[str, object] = {
            "unit": self.unit,
            "per_cpu_s": round(self.units / cpu),
            "per_wall_s": round(self.units / wall),
            "per_cpu_s_best": round(self.units / min(self.cpu)),
            "per_cpu_s_worst": round(self.units / max(self.cpu)),
            "us_per_unit_cpu": round(cpu / self.units * 1e6, 3),
        }
        if self.messages:
            entry["diff_messages_per_cpu_s"] = round(self.messages / cpu)
            entry["diff_messages_per_wall_s"] = round(self.messages / wall)
        return entry


TRADE_SIDE = "(a) streaming: footprint + profile + CVD + VWAP + trade signals"


def measure(
    session: Session, split: Session | None, runs: int, breakdown: bool, vector_trades: int
) -> tuple[list[Figure], dict[str, object]]:
    trades = session.trades
    frame = trades_frame(trades)
    big = repeated(frame, vector_trades)
    checked = time.perf_counter()
    big_results = vectorized(big)
    if big_results != streamed(big) or separately(big) != big_results:
        sys.exit(f"streaming and vectorized results differ over {big.height:,} trades")
    checked = time.perf_counter() - checked
    trade_fig = Figure(TRADE_SIDE, len(trades), "trades")
    vector_big = Figure(
        f"(b) vectorized: footprint + profile + delta + VWAP, {big.height:,} trades",
        big.height,
        "trades",
    )
    vector_apart = Figure(
        f"(b) the same, each function given the frame, {big.height:,} trades", big.height, "trades"
    )
    vector_fig = Figure(
        f"(b) the same, the session's {len(trades):,} trades", len(trades), "trades"
    )
    book_fig = Figure(
        "(c) book side: tracker + OFI + heatmap + book signals",
        session.level_updates(),
        "level updates",
        session.messages(),
    )
    figures = [trade_fig, vector_big, vector_apart, vector_fig, book_fig]
    if split is not None:
        split_fig = Figure(
            "(c) the same changes, one level a message",
            split.level_updates(),
            "level updates",
            split.messages(),
        )
        figures.append(split_fig)
    if breakdown:
        bars_fig = Figure("(a) part: footprint + profile + CVD + VWAP alone", len(trades), "trades")
        signals_fig = Figure("(a) part: trade signals alone", len(trades), "trades")
        figures += [bars_fig, signals_fig]
    packed = pack(session)
    packed_split = pack(split) if split is not None else None
    signals: list[Signal] = []
    for _ in range(runs):
        trade_clock, book_clock, stream_results, signals = replay(packed)
        trade_fig.add(trade_clock)
        book_fig.add(book_clock)
        if packed_split is not None:
            split_fig.add(replay(packed_split)[1])
        if breakdown:
            bars_fig.add(replay(packed, signals=False)[0])
            signals_fig.add(replay(packed, bars=False)[0])
        vector_results = timed(vector_fig, vectorized, frame)
        if vector_results != stream_results:  # two paths that disagree make no figure
            sys.exit("streaming and vectorized results differ")
        if timed(vector_big, vectorized, big) != big_results:
            sys.exit("vectorized results differ between runs")
        if timed(vector_apart, separately, big) != big_results:
            sys.exit("vectorized results differ between runs")
    facts: dict[str, object] = {
        "vector_frame": {
            "trades": big.height,
            "hours": round((int(big["ts"].max()) - int(big["ts"].min())) / 3600e9, 1),
            "one_minute_bars": (big["ts"] // MINUTE).n_unique(),
            "price_range": f"{big['price'].min()} .. {big['price'].max()}",
            "checked_against_streaming_in_s": round(checked, 1),
        },
        "signals": dict(sorted(Counter(s.kind.value for s in signals).items())),
        "timer_overhead_cpu_s": round(timer_overhead(len(session.frames)), 4),
    }
    return figures, facts


def timed(figure: Figure, run: Callable[[pl.DataFrame], object], frame: pl.DataFrame) -> object:
    """One timed run. The replays leave a million objects to the collector: a full collection
    of them would land in whichever timed region tipped the count, so it is done before."""
    gc.collect()
    c, w = time.process_time(), time.perf_counter()
    result = run(frame)
    figure.add(Clock(time.process_time() - c, time.perf_counter() - w))
    return result


def profile(session: Session, sort: str) -> None:
    """cProfile of one replay (both sides), the top functions by ``sort``."""
    profiler = cProfile.Profile()
    profiler.runcall(replay, pack(session))
    pstats.Stats(profiler).strip_dirs().sort_stats(sort).print_stats(30)


def session_facts(session: Session, made_s: float) -> dict[str, object]:
    trades = session.trades
    span = (trades[-1].exch_ns - trades[0].exch_ns) / 1e9
    per_second = Counter(t.exch_ns // 1_000_000_000 for t in trades)
    return {
        "trades": len(trades),
        "taker_orders": len({(t.exch_ns, t.side) for t in trades}),
        "session_s": round(span),
        "trades_per_s_mean": round(len(trades) / span),
        "trades_per_s_max": max(per_second.values()),
        "diffs": session.messages(),
        "level_updates": session.level_updates(),
        "levels_per_diff": round(session.level_updates() / session.messages(), 1),
        "generated_in_s": round(made_s, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trades", type=int, default=500_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--vector-trades",
        type=int,
        default=5_000_000,
        help="trades of the (b) acceptance frame (the session's, repeated)",
    )
    parser.add_argument("--seed", type=int, default=4)
    parser.add_argument("--split", action="store_true", help="also time one-level messages")
    parser.add_argument("--breakdown", action="store_true", help="also time (a)'s two parts")
    parser.add_argument("--profile", action="store_true", help="cProfile one replay instead")
    parser.add_argument(
        "--count",
        choices=("trade", "book"),
        help="one replay, that side through operator.call (for callgrind's --toggle-collect)",
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    made = time.perf_counter()
    session = SessionMaker(args.seed).make(args.trades)
    made = time.perf_counter() - made
    if args.profile:
        profile(session, "tottime")
        return
    if args.count:
        replay(pack(session), counted=args.count)
        return
    split = session.split() if args.split else None
    figures, facts = measure(session, split, args.runs, args.breakdown, args.vector_trades)
    machine = {
        "python": platform.python_version(),
        "polars": pl.__version__,
        "polars_max_threads": os.environ.get("POLARS_MAX_THREADS"),
        "processor": _cpu_name(),
        "cpus": os.cpu_count(),
        "load_average_1m": round(os.getloadavg()[0], 2),
        "runs": args.runs,
    }
    results = {fig.name: fig.entry() for fig in figures}
    report = {
        "machine": machine,
        "session": session_facts(session, made),
        "figures": results,
        **facts,
    }
    if args.json:
        sys.stdout.buffer.write(msgspec.json.encode(report) + b"\n")
        return
    for key, value in {**machine, **report["session"]}.items():  # type: ignore[dict-item]
        print(f"{key:>22}: {value:,}" if isinstance(value, int) else f"{key:>22}: {value}")
    print(f"{'signals':>22}: {facts['signals']}")
    print(f"{'timer overhead':>22}: {facts['timer_overhead_cpu_s']} CPU s per side and run")
    print(f"{'(b) frame':>22}: {facts['vector_frame']}")
    print(f"\nmedian of {args.runs} runs, per CPU second of this process | per wall second")
    for name, entry in results.items():
        print(name)
        print(
            f"    {entry['per_cpu_s']:>12,} {entry['unit']}/s CPU | {entry['per_wall_s']:>12,} wall"
            f"  (CPU best {entry['per_cpu_s_best']:,}, worst {entry['per_cpu_s_worst']:,};"
            f" {entry['us_per_unit_cpu']} us each)"
        )
        if "diff_messages_per_cpu_s" in entry:
            print(
                f"    {entry['diff_messages_per_cpu_s']:>12,} diff messages/s CPU | "
                f"{entry['diff_messages_per_wall_s']:>12,} wall"
            )


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


if __name__ == "__main__":
    main()
