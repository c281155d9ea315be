"""Where a capture replay spends its time: instruction counts, profiles, an events digest.

The same pass as ``orderscope bench`` (``orderscope.bench.ours``: a fresh connector fed every
record of a capture through ``venues.base.feed``), run in ways that a shared machine cannot
blur:

- ``--callgrind``: instructions per pass, counted by valgrind's callgrind. The script runs
  itself twice under valgrind, building the same connectors both times and replaying them 0 and
  ``--passes`` times; the difference over the passes is the cost of one pass (loading, imports
  and start-up cancel out). ``PYTHONHASHSEED`` is fixed, so the counts repeat to the last few
  thousand instructions. ``--peer`` counts cryptofeed 2.4.0's pass the same way.
- ``--profile``: cProfile of ``--passes`` passes, own time grouped by function.
- ``--digest``: a SHA-256 of every event each venue produced (msgspec JSON), plus the books'
  counters and final levels: two code versions that print the same digest produced the same
  events, not only the same ``orderscope replay --json`` summary.

    python benchmarks/replay_cost.py --callgrind [--only KRAKEN]... [--passes 3] [--peer]
    python benchmarks/replay_cost.py --profile --only COINBASE --passes 20
    python benchmarks/replay_cost.py --digest
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import hashlib
import os
import pstats
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import msgspec

from orderscope.bench import cryptofeed_peer as peer
from orderscope.bench.ours import LoadedCapture, load_capture, replay
from orderscope.capture import group_captures
from orderscope.model import MarketEvent
from orderscope.paths import default_captures
from orderscope.venues import supported_prefixes
from orderscope.venues.base import feed

HASH_SEED = "0"
_TOTALS = re.compile(r"^(?:summary|totals):\s*(\d+)", re.MULTILINE)


def _captures(directory: Path, only: list[str]) -> list[LoadedCapture]:
    wanted = {o.upper() for o in only}
    known = supported_prefixes()
    return [
        load_capture(c)
        for c in group_captures([directory])
        if c.prefix in known and (not wanted or c.prefix in wanted)
    ]


def _run_passes(loaded: LoadedCapture, passes: int, build: int, use_peer: bool) -> None:
    """Build ``build`` fresh contenders, replay ``passes`` of them (one warm-up before)."""
    if use_peer:
        capture = peer.load_peer(loaded)
        peer.warm_pass(capture)
        runs = [peer.new_pass(capture) for _ in range(build)]
        gc.collect()
        if passes:
            peer.drive(capture, runs[:passes])
        return
    replay([loaded.new_venue()], loaded.records)
    venues = [loaded.new_venue() for _ in range(build)]
    gc.collect()
    if passes:
        replay(venues[:passes], loaded.records)


def _instructions(script_args: list[str], out_dir: Path, tag: str) -> int:
    out = out_dir / f"callgrind.{tag}"
    env = dict(os.environ, PYTHONHASHSEED=HASH_SEED)
    cmd = [
        "valgrind",
        "--tool=callgrind",
        f"--callgrind-out-file={out}",
        sys.executable,
        __file__,
        *script_args,
    ]
    subprocess.run(cmd, check=True, env=env, capture_output=True)
    match = _TOTALS.search(out.read_text(errors="replace"))
    if match is None:
        raise SystemExit(f"no totals in {out}")
    return int(match.group(1))


def callgrind(args: argparse.Namespace) -> None:
    prefixes = [c.prefix for c in _captures(args.captures, args.only)]
    side = "cryptofeed" if args.peer else "orderscope"
    print(f"{'capture':<16} {side + ' instructions/pass':>28} {'per frame':>10}")
    with tempfile.TemporaryDirectory() as tmp:
        for prefix in prefixes:
            base = ["--captures", str(args.captures), "--only", prefix, "--build", str(args.passes)]
            if args.peer:
                base.append("--peer")
            counts = [
                _instructions([*base, "--run", str(n)], Path(tmp), f"{prefix}.{n}")
                for n in (0, args.passes)
            ]
            per_pass = (counts[1] - counts[0]) / args.passes
            frames = next(c.frames for c in _captures(args.captures, [prefix]))
            print(f"{prefix:<16} {per_pass / 1e6:>26.2f} M {per_pass / frames:>10,.0f}")


def profile(args: argparse.Namespace) -> None:
    for loaded in _captures(args.captures, args.only):
        replay([loaded.new_venue()], loaded.records)
        venues = [loaded.new_venue() for _ in range(args.passes)]
        profiler = cProfile.Profile()
        profiler.enable()
        replay(venues, loaded.records)
        profiler.disable()
        print(f"== {loaded.prefix}: {args.passes} passes, {loaded.frames} frames each")
        stats = pstats.Stats(profiler)
        stats.sort_stats("tottime").print_stats(args.top)


def digest(args: argparse.Namespace) -> None:
    encoder = msgspec.json.Encoder()
    for loaded in _captures(args.captures, args.only):
        venue = loaded.new_venue()
        sha = hashlib.sha256()
        out: list[MarketEvent] = []
        events = 0
        for record in loaded.records:
            feed(venue, record, out)
            for event in out:
                sha.update(encoder.encode(event))
                sha.update(b"\n")
            events += len(out)
            out.clear()
        for symbol, book in sorted(venue.books.items()):
            state = [symbol, book.state, book.crossed, book.sequence, book.counters.as_dict()]
            sha.update(encoder.encode([*state, book.bids(), book.asks()]))
        stats = venue.stats
        sha.update(encoder.encode([stats.frames, stats.control_frames, stats.ignored_frames]))
        sha.update(
            encoder.encode([sorted(stats.errors.items()), sorted(venue.symbol_frames.items())])
        )
        print(f"{loaded.prefix:<16} {events:>7} events  {sha.hexdigest()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--captures", type=Path, default=default_captures())
    parser.add_argument("--only", action="append", default=[], help="a capture prefix")
    parser.add_argument("--passes", type=int, default=3)
    parser.add_argument("--peer", action="store_true", help="cryptofeed instead of orderscope")
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--callgrind", action="store_true")
    mode.add_argument("--profile", action="store_true")
    mode.add_argument("--digest", action="store_true")
    mode.add_argument("--run", type=int, help=argparse.SUPPRESS)  # the callgrind child
    parser.add_argument("--build", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--top", type=int, default=30)
    args = parser.parse_args()
    if args.callgrind:
        callgrind(args)
    elif args.profile:
        profile(args)
    elif args.digest:
        digest(args)
    else:
        for loaded in _captures(args.captures, args.only):
            _run_passes(loaded, args.run, max(args.build, args.run), args.peer)


if __name__ == "__main__":
    main()
