"""Soak of the live path against the venue emulator (a script, not a test).

``orderscope emulate`` runs in its own process (Binance, Coinbase and Kraken, 5 synthetic
markets each); this process runs one ``LiveSession`` per venue with the real connectors, over
loopback, for ``--minutes``. Every ``--fault-every`` seconds it injects a fault through the
emulator's control API (venues and kinds in a seeded shuffle, so every kind comes round), and
half-way between two faults it checks the books: pause the markets, let the client drain,
compare every book with the emulator's true book, resume.

Reported: frames per second; memory (RSS) of both processes over time; book comparisons and
mismatches; each venue's counters, checked against what the emulator says it did (losses
detected, corrupt frames, dropped connections, stalls); latency from a frame's timestamp (the
emulator's simulated time = the wall clock, speed 1) to the moment the client's book was
updated, p50/p99 per venue, in steady state (no fault being recovered on that venue) and
overall, next to the emulator's own lateness.

    .venv/bin/python benchmarks/soak.py [--minutes 10] [--fault-every 30] [--rate 365]
        [--seed 7] [--json soak.json]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import math
import os
import platform
import random
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import msgspec

from orderscope.emulator.wire import LogHistogram, stripped_text
from orderscope.live import LiveConfig, LiveSession, RestClient, load_instruments
from orderscope.model import BookDelta, BookState, MarketEvent
from orderscope.venues.base import Endpoints, Venue
from orderscope.venues.binance import BinanceSpot
from orderscope.venues.coinbase import CoinbaseExchange
from orderscope.venues.kraken import Kraken

SYMBOLS = ("BTC/USDT", "ETH/USDT", "SOL/USDT", "XRP/USDT", "DOGE/USDT")
CONNECTORS: dict[str, type[Venue]] = {
    "binance": BinanceSpot,
    "coinbase": CoinbaseExchange,
    "kraken": Kraken,
}
FAULT_KINDS = {
    "binance": ("skip", "corrupt", "stall", "drop", "rest_429", "rest_403"),
    "coinbase": ("skip", "corrupt", "stall", "drop"),
    "kraken": ("skip", "corrupt", "stall", "drop"),
}
STALL_S = 8.0  # longer than STALE_S: the client must notice, drop the connection and reconnect
STALE_S = 5.0
CONFIG = LiveConfig(stale_after_s=STALE_S, backoff_initial_s=0.2, backoff_max_s=2.0)
SETTLE_GRACE_S = 2.0  # after a venue is synced again, its backlog drains
MEMORY_EVERY_S = 10.0


@dataclass
class VenueRun:
    name: str
    venue: Venue
    session: LiveSession
    steady: LogHistogram = field(default_factory=LogHistogram)
    overall: LogHistogram = field(default_factory=LogHistogram)
    disturbed_until: float = 0.0  # monotonic; math.inf while a fault is being recovered
    stalled: bool = False  # the fault being recovered is a stall (its backlog comes late)
    injected: Counter[str] = field(default_factory=Counter)

    def synced(self) -> bool:
        books = self.venue.books
        return len(books) == len(SYMBOLS) and all(
            b.state is BookState.SYNCED for b in books.values()
        )

    def sink(self, _venue: Venue, events: list[MarketEvent]) -> None:
        now = time.time_ns()
        steady = time.monotonic() >= self.disturbed_until
        for event in events:
            if type(event) is BookDelta and event.exch_ns:
                latency = now - event.exch_ns
                self.overall.add(latency)
                if steady:
                    self.steady.add(latency)


def rss_mb(pid: int | str | None = "self") -> float:
    if pid is None:
        return 0.0
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def cpu_s(pid: int | str | None = "self") -> float:
    if pid is None:
        return 0.0
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def start_emulator(seed: int, rate: float) -> tuple[subprocess.Popen[str], str]:
    command = [
        sys.executable,
        "-c",
        "from orderscope.cli import main; main()",
        "emulate",
        "--port",
        "0",
        "--venues",
        ",".join(CONNECTORS),
        "--symbols",
        ",".join(SYMBOLS),
        "--seed",
        str(seed),
        "--rate",
        str(rate),
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    for line in process.stdout:
        if match := re.search(r"control\s+(http://\S+)", line):
            return process, match.group(1)
    raise SystemExit("the emulator did not start")


class Soak:
    def __init__(self, args: argparse.Namespace, control: str) -> None:
        self.args = args
        self.control = control
        self.base = control.removesuffix("/control")
        self.runs: dict[str, VenueRun] = {}
        self.faults: list[dict[str, Any]] = []
        self.comparisons: list[dict[str, Any]] = []
        self.memory: list[dict[str, float]] = []
        self.http: aiohttp.ClientSession | None = None
        self.loop_lag = LogHistogram()  # how late the client's event loop wakes up

    async def api(self, method: str, path: str) -> Any:
        assert self.http is not None
        async with self.http.request(method, f"{self.control}{path}") as answer:
            return await answer.json()

    async def run(self, emulator_pid: int | None) -> None:
        async with aiohttp.ClientSession() as http:
            self.http = http
            rest = RestClient(http)
            tasks = []
            for name, cls in CONNECTORS.items():
                endpoints = Endpoints(
                    f"{self.base.replace('http', 'ws')}/{name}", f"{self.base}/{name}"
                )
                instruments = await load_instruments(rest, cls, endpoints)
                venue = cls(instruments, endpoints=endpoints)
                wanted = [i for i in instruments if i.symbol in SYMBOLS]
                sink = self.sink_of(name)
                session = LiveSession(venue, wanted, rest, sink, config=CONFIG, seed=1)
                self.runs[name] = VenueRun(name, venue, session)
                tasks.append(asyncio.ensure_future(session.run()))
            probe = asyncio.ensure_future(self.probe_loop())
            try:
                await self.wait(lambda: all(r.synced() for r in self.runs.values()), 60)
                await self.timeline(emulator_pid)
            finally:
                probe.cancel()
                for run in self.runs.values():
                    run.session.stop()
                await asyncio.wait_for(asyncio.gather(*tasks), 30)

    async def probe_loop(self) -> None:
        """The client's own lateness: how much later than asked a 10 ms sleep returns."""
        while True:
            asked = time.monotonic_ns() + 10_000_000
            await asyncio.sleep(0.01)
            self.loop_lag.add(time.monotonic_ns() - asked)

    def sink_of(self, name: str) -> Any:
        def sink(venue: Venue, events: list[MarketEvent]) -> None:
            self.runs[name].sink(venue, events)

        return sink

    async def wait(self, condition: Any, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return True
            await asyncio.sleep(0.05)
        return bool(condition())

    async def timeline(self, emulator_pid: int | None) -> None:
        rng = random.Random(self.args.seed)
        plan = [(v, k) for v, kinds in FAULT_KINDS.items() for k in kinds]
        rng.shuffle(plan)
        every = self.args.fault_every
        start = time.monotonic()
        self.t0 = start
        end = start + self.args.minutes * 60
        self.cpu0 = (cpu_s(), cpu_s(emulator_pid))
        self.frames0 = sum(r.session.counters.frames for r in self.runs.values())
        next_fault, next_check, next_memory, n = start + every, start + every / 2, start, 0
        while (now := time.monotonic()) < end:
            if now >= next_memory:
                await self.sample_memory(emulator_pid)
                next_memory += MEMORY_EVERY_S
            if now >= next_fault:
                venue, kind = plan[n % len(plan)] if n < len(plan) else rng.choice(plan)
                await self.inject(venue, kind)
                n += 1
                next_fault += every
            if now >= next_check:
                await self.compare()
                next_check += every
            for run in self.runs.values():  # a recovered venue is steady again, after a grace
                if run.disturbed_until == math.inf and run.synced():
                    grace = SETTLE_GRACE_S + (STALL_S if run.stalled else 0)
                    run.disturbed_until = time.monotonic() + grace
                    run.stalled = False
            await asyncio.sleep(0.1)
        self.elapsed = time.monotonic() - start
        self.cpu1 = (cpu_s(), cpu_s(emulator_pid))
        self.frames1 = sum(r.session.counters.frames for r in self.runs.values())
        await self.sample_memory(emulator_pid)
        self.status = await self.api("GET", "")

    async def inject(self, venue: str, kind: str) -> None:
        run = self.runs[venue]
        run.disturbed_until = math.inf
        run.injected[kind] += 1
        run.stalled = kind == "stall"
        seconds = f"?seconds={STALL_S}" if kind == "stall" else ""
        answer = await self.api("POST", f"/fault/{venue}/{kind}{seconds}")
        if kind.startswith("rest_"):  # a REST failure waits for a request: make one come
            await self.api("POST", f"/fault/{venue}/skip")
            run.injected["skip (for rest)"] += 1
        self.faults.append(
            {
                "t_s": round(time.monotonic() - self.t0, 1),
                "venue": venue,
                "kind": kind,
                "done": answer.get("done", answer),
            }
        )
        print(f"{self.faults[-1]['t_s']:7.1f}s fault {venue} {kind}", flush=True)

    async def compare(self) -> None:
        """Pause the markets, let the client drain, compare every book with the truth."""
        ready = await self.wait(lambda: all(r.synced() for r in self.runs.values()), 20)
        status = await self.api("GET", "")
        for _ in range(50):  # a loss not shown yet would show only with more frames
            if not any(v["lost_pending"] for v in status["venues"].values()):
                break
            await asyncio.sleep(0.1)
            status = await self.api("GET", "")
        await self.api("POST", "/pause")
        paused_at = time.monotonic()
        truth: dict[tuple[str, str], Any] = {}
        for name, run in self.runs.items():
            for inst in run.session.instruments:
                book = await self.api("GET", f"/book/{name}?symbol={inst.venue_symbol}")
                truth[(name, inst.symbol)] = (book["bids"], book["asks"])

        def differing() -> list[str]:
            bad = []
            for (name, symbol), (bids, asks) in truth.items():
                book = self.runs[name].venue.books.get(symbol)
                if book is None or book.state is not BookState.SYNCED:
                    bad.append(f"{name} {symbol} not synced")
                    continue
                pd, sd = book.instrument.price_decimals, book.instrument.size_decimals
                mine = [
                    [[stripped_text(p, pd), stripped_text(s, sd)] for p, s in side]
                    for side in (book.bids(), book.asks())
                ]
                if mine != [bids, asks]:
                    bad.append(f"{name} {symbol} differs")
            return bad

        await self.wait(lambda: not differing(), 3.0)
        bad = differing()
        await self.api("POST", "/resume")
        self.comparisons.append(
            {
                "t_s": round(paused_at - self.t0, 1),
                "ready": ready,
                "books": len(truth),
                "mismatches": bad,
                "pause_s": round(time.monotonic() - paused_at, 2),
            }
        )
        note = "ok" if not bad else f"MISMATCH {bad}"
        print(f"{paused_at - self.t0:7.1f}s compare {len(truth)} books: {note}", flush=True)

    async def sample_memory(self, emulator_pid: int | None) -> None:
        """RSS of both processes, and their live Python objects (flat when nothing leaks)."""
        status = await self.api("GET", "")
        self.memory.append(
            {
                "t_s": round(time.monotonic() - self.t0, 1),
                "client_mb": round(rss_mb(), 1),
                "client_objects": len(gc.get_objects()),
                "emulator_mb": round(rss_mb(emulator_pid), 1),
                "emulator_objects": status["objects"],
            }
        )

    def report(self) -> dict[str, Any]:
        venues = {}
        for name, run in self.runs.items():
            books = run.venue.books.values()
            sums = Counter[str]()
            for book in books:
                sums.update(book.counters.as_dict())
            emulated = self.status["venues"][name]
            fired = emulated["faults"]
            s = run.session.counters
            checks = self.expected(name, run, sums, fired)
            venues[name] = {
                "frames": s.frames,
                "session": {
                    "connects": s.connects,
                    "disconnects": s.disconnects,
                    "stale": s.stale,
                    "resubscribes": s.resubscribes,
                    "snapshot_requests": s.snapshot_requests,
                    "snapshots": s.snapshots,
                    "rest_errors": dict(s.rest_errors),
                },
                "books": {
                    k: sums[k]
                    for k in (
                        "snapshots",
                        "deltas",
                        "gaps",
                        "resyncs",
                        "checksums_ok",
                        "checksums_failed",
                        "crossed_updates",
                        "errors",
                    )
                },
                "frame_errors": dict(run.venue.stats.errors),
                "injected": dict(run.injected),
                "emulator_fired": fired,
                "checks": checks,
                "emulator_send_wait": emulated["send_wait"],
                "latency_steady": run.steady.summary(),
                "latency_all": run.overall.summary(),
            }
        frames = self.frames1 - self.frames0
        return {
            "machine": f"{platform.machine()} {os.cpu_count()} CPUs, {platform.python_version()}",
            "load_average": os.getloadavg(),
            "minutes": self.args.minutes,
            "rate_per_market": self.args.rate,
            "elapsed_s": round(self.elapsed, 1),
            "frames": frames,
            "frames_per_s": round(frames / self.elapsed),
            "cpu_share": {
                "client": round((self.cpu1[0] - self.cpu0[0]) / self.elapsed, 2),
                "emulator": round((self.cpu1[1] - self.cpu0[1]) / self.elapsed, 2),
            },
            "emulator_lag": self.status["lag"],
            "emulator_time_dropped_s": self.status["dropped_s"],
            "client_loop_lag": self.loop_lag.summary(),
            "faults": self.faults,
            "comparisons": len(self.comparisons),
            "mismatches": sum(len(c["mismatches"]) for c in self.comparisons),
            "comparison_log": self.comparisons,
            "memory": self.memory,
            "venues": venues,
        }

    @staticmethod
    def expected(
        name: str, run: VenueRun, books: Counter[str], fired: dict[str, int]
    ) -> dict[str, str]:
        """What the counters must show, from what the emulator did."""
        s = run.session.counters
        got = run.venue.stats.errors
        checks: dict[str, tuple[int, int]] = {
            "reconnects = drops + stalls": (
                s.connects - 1,
                fired.get("dropped_connections", 0) + fired.get("stall", 0),
            ),
            "malformed frames = corrupt frames": (
                got["malformed"],
                fired.get("corrupt_book_frame", 0),
            ),
            "other frame errors = 0": (sum(got.values()) - got["malformed"], 0),
            "slow clients dropped = 0": (fired.get("slow_client_dropped", 0), 0),
        }
        lost = fired.get("lost_detected", 0)
        if name == "binance":
            checks["gaps = skipped + corrupt"] = (
                books["gaps"],
                fired.get("skipped_book_frame", 0) + fired.get("corrupt_book_frame", 0),
            )
            checks["REST errors = REST faults"] = (
                sum(s.rest_errors.values()),
                fired.get("rest_429", 0) + fired.get("rest_403", 0),
            )
        elif name == "kraken":
            checks["checksum failures = losses shown"] = (books["checksums_failed"], lost)
            checks["resubscribes = losses shown"] = (s.resubscribes, lost)
        else:
            checks["gaps = losses shown"] = (books["gaps"], lost)
            checks["resubscribes = losses shown + corrupt"] = (
                s.resubscribes,
                lost + fired.get("corrupt_book_frame", 0),
            )
        return {k: f"{a} vs {b}: {'ok' if a == b else 'DIFFERS'}" for k, (a, b) in checks.items()}


def stop_emulator(process: subprocess.Popen[str]) -> None:
    """Ctrl-C for the emulator (it closes its sockets), then SIGTERM, then SIGKILL: a process
    started from a background job inherits SIGINT ignored, and must not outlive the soak."""
    process.send_signal(signal.SIGINT)
    for escalate in (process.terminate, process.kill):
        try:
            process.wait(timeout=15)
            return
        except subprocess.TimeoutExpired:
            escalate()
    process.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--fault-every", type=float, default=30.0)
    parser.add_argument(
        "--rate", type=float, default=365.0, help="market events/s per market (5,000 frames/s)"
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", help="write the report here too")
    parser.add_argument(
        "--attach",
        help="the control URL of a running `orderscope emulate` "
        "(started with the same --symbols and --venues) instead of starting one",
    )
    parser.add_argument("--emulator-pid", type=int, help="with --attach: its pid, for memory/CPU")
    args = parser.parse_args()
    if args.attach:  # an emulator started by hand (under a profiler, say)
        soak = Soak(args, args.attach)
        asyncio.run(soak.run(args.emulator_pid))
    else:
        process, control = start_emulator(args.seed, args.rate)
        soak = Soak(args, control)
        try:
            asyncio.run(soak.run(process.pid))
        finally:
            stop_emulator(process)
    report = soak.report()
    text = msgspec.json.format(msgspec.json.encode(report), indent=2).decode()
    print(text)
    if args.json:
        with open(args.json, "w") as out:
            out.write(text + "\n")


if __name__ == "__main__":
    main()
