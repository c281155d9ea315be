"""The floor under a pure-Python replay: what the steps no connector can skip cost per frame.

For each capture orderscope reads, the received frames are timed (CPU time, median of
``--runs`` samples of ``--passes`` passes each) through:

- ``call``: one Python function call per frame (``on_frame``'s four arguments), in a loop;
- ``decode``: ``msgspec.json.decode`` of the frame into Python objects (HTX: gunzip first),
  the least JSON work that reads every byte;
- ``event``: building one ``BookDelta`` per frame from ready-made lists;

and ``floor`` = the three together, beside the per-frame budget that ``--ratio`` times
cryptofeed's throughput leaves (cryptofeed's figure comes from an ``orderscope bench --json``
report given with ``--bench``). No connector can be faster than ``floor`` in Python: it still
has to validate, parse numbers, keep sync state and update the book on top.

    python benchmarks/replay_floor.py --bench results.json [--only COINBASE] [--runs 5]
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import zlib
from collections.abc import Callable
from pathlib import Path
from time import process_time

import msgspec

from orderscope.bench.ours import load_capture
from orderscope.capture import RecordKind, group_captures
from orderscope.model import BookDelta
from orderscope.paths import default_captures
from orderscope.venues import supported_prefixes

GZIP_WBITS = 16 + zlib.MAX_WBITS


def _on_frame(conn: int, frame: str | bytes, recv_ns: int, out: list[object]) -> None:
    pass


def _time(body: Callable[[], None], passes: int, runs: int) -> float:
    """Median seconds of one pass."""
    samples = []
    for _ in range(runs):
        gc.collect()
        start = process_time()
        for _ in range(passes):
            body()
        samples.append((process_time() - start) / passes)
    return statistics.median(samples)


def floors(frames: list[str | bytes], passes: int, runs: int) -> dict[str, float]:
    texts = [zlib.decompress(f, GZIP_WBITS) if isinstance(f, bytes) else f for f in frames]
    decode = msgspec.json.decode
    out: list[object] = []
    bids = [(1, 1)]
    asks: list[tuple[int, int]] = []

    def call() -> None:
        for frame in frames:
            _on_frame(0, frame, 0, out)

    def decoded() -> None:
        for text in texts:
            decode(text)

    def gunzip() -> None:
        for frame in frames:
            if isinstance(frame, bytes):
                zlib.decompress(frame, GZIP_WBITS)

    def event() -> None:
        for _ in frames:
            BookDelta("venue", "BTC/USDT", 0, 0, bids, asks)

    def empty() -> None:
        for _ in frames:
            pass

    loop = _time(empty, passes, runs)
    n = len(frames)
    return {
        "call": (_time(call, passes, runs) - loop) / n,
        "decode": (_time(decoded, passes, runs) - loop + _time(gunzip, passes, runs) - loop) / n,
        "event": (_time(event, passes, runs) - loop) / n,
        "loop": loop / n,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--captures", type=Path, default=default_captures())
    parser.add_argument("--only", action="append", default=[])
    parser.add_argument("--bench", type=Path, help="an `orderscope bench --json` report")
    parser.add_argument("--ratio", type=float, default=5.0)
    parser.add_argument("--passes", type=int, default=20)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    peers: dict[str, float] = {}
    ours: dict[str, float] = {}
    if args.bench:
        report = json.loads(args.bench.read_text())
        for venue in report["venues"]:
            ours[venue["capture"]] = venue["orderscope"]["frames_per_s"]
            if venue["cryptofeed"] and venue["cryptofeed"].get("frames_per_s"):
                peers[venue["capture"]] = venue["cryptofeed"]["frames_per_s"]
    wanted = {o.upper() for o in args.only}
    print(
        f"{'capture':<16} {'call':>6} {'decode':>7} {'event':>6} {'floor':>6}   "
        f"{'budget':>7} {'now':>7}   (ns per frame)"
    )
    for capture in group_captures([args.captures]):
        if capture.prefix not in supported_prefixes() or (wanted and capture.prefix not in wanted):
            continue
        loaded = load_capture(capture)
        frames = [r.payload for r in loaded.records if r.kind is RecordKind.RECV]
        f = floors(frames, args.passes, args.runs)
        floor = f["call"] + f["decode"] + f["event"]
        peer = peers.get(capture.prefix)
        budget = f"{1e9 / (args.ratio * peer):7.0f}" if peer else "      -"
        now = f"{1e9 / ours[capture.prefix]:7.0f}" if capture.prefix in ours else "      -"
        print(
            f"{capture.prefix:<16} {f['call'] * 1e9:6.0f} {f['decode'] * 1e9:7.0f} "
            f"{f['event'] * 1e9:6.0f} {floor * 1e9:6.0f}   {budget} {now}"
        )


if __name__ == "__main__":
    main()
