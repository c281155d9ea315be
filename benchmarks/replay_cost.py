"""Where a capture replay spends its time: instruction counts, profiles, an events digest.

The same pass as ``orderscope bench`` (``orderscope.bench.ours``: a fresh connector fed every
record of a capture through ``venues.base.feed``), run in ways that a shared machine cannot
blur:

- ``--callgrind``: instructions per pass, counted by valgrind's callgrind. The script runs
  itself once under valgrind, which counts only inside ``functools.reduce`` calls; for each
  capture, after loading it and one warm-up pass, ``--passes`` fresh connectors replay it inside
  one such call (nothing else calls it), and callgrind writes that call's count as a part of
  its own. Loading, imports and start-up are not counted. ``PYTHONHASHSEED`` is fixed, so the
  counts repeat. ``--peer`` counts cryptofeed 2.4.0's passes the same way; ``--keep DIR``
  keeps the parts for ``callgrind_annotate``. ``--cachesim`` adds callgrind's cache and branch
  simulation and an estimate of cycles per pass (``estimated_cycles``): instructions alone
  overstate our lead, because our code misses the instruction cache and mispredicts branches
  more often per instruction than cryptofeed's (more distinct code per frame).
- ``--profile``: cProfile of ``--passes`` passes, own time grouped by function.
- ``--digest``: a SHA-256 of every event each venue produced (msgspec JSON), plus the books'
  counters and final levels: two code versions that print the same digest produced the same
  events, not only the same ``orderscope replay --json`` summary.

    python benchmarks/replay_cost.py --callgrind [--only KRAKEN]... [--passes 3] [--peer]
    python benchmarks/replay_cost.py --callgrind --cachesim --only BITFINEX [--peer]
    python benchmarks/replay_cost.py --profile --only COINBASE --passes 20
    python benchmarks/replay_cost.py --digest
"""

from __future__ import annotations

import argparse
import cProfile
import functools
import gc
import hashlib
import os
import pstats
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
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
_EVENTS = re.compile(r"^events:\s*(.+)$", re.MULTILINE)
_SUMMARY = re.compile(r"^(?:summary|totals):\s*(.+)$", re.MULTILINE)

#: --cachesim's cycle model: what a first-level cache miss (served by L2) and a mispredicted
#: branch cost on a Zen-class core, roughly. Rough, but calibrated: on the 2026-11-22 main, the
#: ratio of the estimates (cryptofeed / orderscope) was KRAKEN 4.39x against 4.24-4.73x by the
#: clock, BITFINEX 3.25x against 2.90-3.03x, where instructions alone said 5.70x and 3.17x.
L1_MISS_CYCLES = 12
MISPREDICT_CYCLES = 16


def _captures(directory: Path, only: list[str]) -> list[LoadedCapture]:
    wanted = {o.upper() for o in only}
    known = supported_prefixes()
    return [
        load_capture(c)
        for c in group_captures([directory])
        if c.prefix in known and (not wanted or c.prefix in wanted)
    ]


#: The C function inside which callgrind counts (``--toggle-collect``), and after which it writes
#: a part (``--dump-after``): each measured body runs in one call of it, nothing else does.
MARK = "functools_reduce"


def _counted(body: Callable[[], object]) -> None:
    functools.reduce(lambda _acc, _item: body(), [None], None)


def _run_passes(loaded: LoadedCapture, passes: int, use_peer: bool) -> None:
    """One warm-up pass, then ``passes`` over fresh contenders, built before the count."""
    if use_peer:
        capture = peer.load_peer(loaded)
        peer.warm_pass(capture)
        runs = [peer.new_pass(capture) for _ in range(passes)]
        gc.collect()
        _counted(lambda: peer.drive(capture, runs))
        return
    replay([loaded.new_venue()], loaded.records)
    venues = [loaded.new_venue() for _ in range(passes)]
    gc.collect()
    _counted(lambda: replay(venues, loaded.records))


def callgrind(args: argparse.Namespace) -> None:
    loaded = _captures(args.captures, args.only)
    side = "cryptofeed" if args.peer else "orderscope"
    child = [sys.executable, __file__, "--captures", str(args.captures), "--run", str(args.passes)]
    child += [a for c in loaded for a in ("--only", c.prefix)]
    if args.peer:
        child.append("--peer")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "callgrind.out"
        cmd = [
            "valgrind",
            "--tool=callgrind",
            "--collect-atstart=no",
            f"--toggle-collect={MARK}",
            f"--dump-after={MARK}",
            f"--callgrind-out-file={out}",
        ]
        if args.cachesim:
            cmd += ["--cache-sim=yes", "--branch-sim=yes"]
        env = dict(os.environ, PYTHONHASHSEED=HASH_SEED)
        subprocess.run([*cmd, *child], check=True, env=env, capture_output=True)
        parts = sorted(Path(tmp).glob("callgrind.out.*"), key=lambda p: int(p.suffix[1:]))
        if len(parts) != len(loaded):
            raise SystemExit(f"{len(parts)} callgrind parts for {len(loaded)} captures")
        if args.keep:
            args.keep.mkdir(parents=True, exist_ok=True)
            for capture, part in zip(loaded, parts, strict=True):
                shutil.copy(part, args.keep / f"callgrind.{capture.prefix}")
        if args.cachesim:
            _print_cachesim(side, loaded, parts, args.passes)
            return
        print(f"{'capture':<16} {side + ' instructions/pass':>28} {'per frame':>10}")
        for capture, part in zip(loaded, parts, strict=True):
            match = _TOTALS.search(part.read_text(errors="replace"))
            if match is None:
                raise SystemExit(f"no totals in {part}")
            per_pass = int(match.group(1)) / args.passes
            per_frame = per_pass / capture.frames
            print(f"{capture.prefix:<16} {per_pass / 1e6:>26.2f} M {per_frame:>10,.0f}")


def simulated_events(part: Path) -> dict[str, int]:
    """A callgrind part's totals by event name (Ir, I1mr, D1mr, D1mw, Bcm, Bim, ...)."""
    text = part.read_text(errors="replace")
    names, totals = _EVENTS.search(text), _SUMMARY.search(text)
    if names is None or totals is None:
        raise SystemExit(f"no events or totals in {part}")
    values = [int(v) for v in totals.group(1).split()]
    return dict(zip(names.group(1).split(), values, strict=False))


def estimated_cycles(events: dict[str, int]) -> int:
    """Instructions plus the modelled cost of L1 misses and mispredicted branches."""
    misses = events["I1mr"] + events["D1mr"] + events["D1mw"]
    mispredicts = events["Bcm"] + events["Bim"]
    return events["Ir"] + L1_MISS_CYCLES * misses + MISPREDICT_CYCLES * mispredicts


def _print_cachesim(side: str, loaded: list[LoadedCapture], parts: list[Path], passes: int) -> None:
    print(f"{side}, per pass (millions)")
    header = ("instructions", "I1 misses", "D1 misses", "mispredicts", "est. cycles")
    print(f"{'capture':<16} " + " ".join(f"{h:>12}" for h in header))
    for capture, part in zip(loaded, parts, strict=True):
        events = simulated_events(part)
        values = (
            events["Ir"],
            events["I1mr"],
            events["D1mr"] + events["D1mw"],
            events["Bcm"] + events["Bim"],
            estimated_cycles(events),
        )
        print(f"{capture.prefix:<16} " + " ".join(f"{v / passes / 1e6:>12.2f}" for v in values))


#: What a pass's instructions are spent in, by C function (inclusive: with what they call).
#: The rest is the interpreter running Python code (the connectors, the book, the base).
CATEGORIES = {
    "msgspec decode": ("JSONDecoder_decode", "msgspec_json_decode"),
    "event structs": ("Struct_vectorcall",),
    "int()": ("long_new",),
    "batch regex": ("_sre_SRE_Pattern_fullmatch",),
    "str % format": ("PyUnicode_Format",),
    "zlib": ("zlib_decompress", "zlib_crc32"),
    "cyclic gc": ("gc_collect_main",),
}
_ANNOTATED = re.compile(r"^\s*([\d,]+) \(\s*[\d.]+%\)\s+\S*?:?([A-Za-z_][\w.]*)(?:\s|$)")


def inclusive_costs(part: Path) -> tuple[int, dict[str, int]]:
    """(total, {function: inclusive instructions}) of a callgrind part, outermost calls."""
    text = subprocess.run(
        ["callgrind_annotate", "--inclusive=yes", "--threshold=100", str(part)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    total = int(_TOTALS.search(part.read_text(errors="replace")).group(1))  # type: ignore[union-attr]
    costs: dict[str, int] = {}
    for line in text.splitlines():
        match = _ANNOTATED.match(line)
        if match:
            name, value = match.group(2), int(match.group(1).replace(",", ""))
            costs[name] = max(costs.get(name, 0), value)
    return total, costs


def annotate(args: argparse.Namespace) -> None:
    """Per capture, instructions per frame by category, from parts kept with --keep."""
    names = list(CATEGORIES)
    print(f"{'capture':<16} {'total':>8} " + " ".join(f"{n:>14}" for n in names) + " ")
    for loaded in _captures(args.captures, args.only):
        part = args.annotate / f"callgrind.{loaded.prefix}"
        if not part.exists():
            continue
        total, costs = inclusive_costs(part)
        per_frame = args.passes * loaded.frames
        shares = [sum(costs.get(f, 0) for f in CATEGORIES[n]) for n in names]
        cells = " ".join(f"{v / per_frame:>8,.0f} {v / total:>4.0%}" for v in shares)
        rest = total - sum(shares)
        print(f"{loaded.prefix:<16} {total / per_frame:>8,.0f} {cells}  rest {rest / total:.0%}")


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
    mode.add_argument("--annotate", type=Path, help="a folder of parts kept with --keep")
    mode.add_argument("--run", type=int, help=argparse.SUPPRESS)  # the callgrind child
    parser.add_argument("--keep", type=Path, help="--callgrind: keep each part in this folder")
    parser.add_argument(
        "--cachesim", action="store_true", help="--callgrind: simulate caches and branches"
    )
    parser.add_argument("--top", type=int, default=30)
    args = parser.parse_args()
    if args.callgrind:
        callgrind(args)
    elif args.profile:
        profile(args)
    elif args.digest:
        digest(args)
    elif args.annotate:
        annotate(args)
    else:
        for loaded in _captures(args.captures, args.only):
            _run_passes(loaded, args.run, args.peer)


if __name__ == "__main__":
    main()
