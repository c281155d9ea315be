"""Service latency: from a trade frame leaving the venue emulator to its ``tick`` at a client.

Layout (three venues of the Binance emulator, BTC/USDT and ETH/USDT each):

    this process: emulator --WebSocket--> server process (orderscope serve, live path)
                  20 clients <--WebSocket (/ws/orderflow)--+

The emulator stamps each ``aggTrade`` frame with the wall clock when it hands it to its socket
(``time.time_ns``, keyed by venue and trade id); each client stamps the frame that brings the
matching ``tick`` when it arrives. Both run in this process on the same clock. The server runs
in its own process, whose CPU time and memory are read from /proc (Linux).

    .venv/bin/python benchmarks/service_latency.py --seconds 30 --clients 20 --rate 2000

Not a test: it prints the figures (p50 / p99 / max latency, frames/s, server CPU and memory).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import functools
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
import msgspec
from aiohttp import web

from orderscope.emulator import BinanceEmulator, Emulator
from orderscope.emulator.server import Client
from orderscope.service.config import EVENT_LOOPS
from orderscope.synthetic import BTC_USDT, ETH_USDT, MarketSpec, SyntheticMarket

VENUES = ("binance", "binance_b", "binance_c")
SYMBOLS = ("BTC/USDT", "ETH/USDT")
#: frames the emulator sends per market step, measured at the default specs (trades, top of
#: book changes, and the 100 ms depth batches); used to pick the step rate for a frame rate
FRAMES_PER_STEP = 0.45


class _Trade(msgspec.Struct):
    a: int


class _AggTrade(msgspec.Struct):
    stream: str
    data: _Trade


_decode_agg = msgspec.json.Decoder(_AggTrade)


class TimedBinance(BinanceEmulator):
    """The Binance emulator under a name, noting when each trade frame is written to a socket
    (the frame has left the emulator then, whatever its own event loop does next)."""

    def __init__(self, name: str, markets: dict[str, SyntheticMarket], sent: dict[str, int]):
        super().__init__(markets)
        self.name = name
        self.sent = sent
        self.frames = 0

    def on_connect(self, client: Client, request: web.Request) -> None:
        super().on_connect(client, request)
        # the connection's writer task starts after this hook: it runs the timed one
        client.writer = functools.partial(self._timed_writer, client)  # type: ignore[method-assign]

    async def _timed_writer(self, client: Client) -> None:
        while True:
            _queued_ns, frame = await client.queue.get()
            if client.ws.closed:
                return
            if isinstance(frame, bytes):
                await client.ws.send_bytes(frame)
                continue
            await client.ws.send_str(frame)
            self.frames += 1
            if "@aggTrade" in frame[:40]:
                agg = _decode_agg.decode(frame)
                venue_symbol = agg.stream.partition("@")[0].upper()
                self.sent[f"{self.name}:{venue_symbol}:{agg.data.a}"] = time.time_ns()


class _Tick(msgspec.Struct):
    type: str
    symbol: str = ""
    venue: str | None = None
    data: msgspec.Raw = msgspec.Raw(b"null")


class _TickData(msgspec.Struct):
    trade_id: str
    received_ns: int


_decode_batch = msgspec.json.Decoder(list[_Tick])
_decode_tick = msgspec.json.Decoder(_TickData)


@dataclasses.dataclass
class Stats:
    # keys and receive times in two flat lists: strings and ints are not tracked by the garbage
    # collector, where 300k tuples would make its full passes stall this process
    keys: list[str] = dataclasses.field(default_factory=list)
    times: list[int] = dataclasses.field(default_factory=list)
    server: list[int] = dataclasses.field(default_factory=list)  # the server's receive time
    messages: int = 0
    frames: int = 0
    measuring: bool = False


async def client(url: str, stats: Stats, ready: asyncio.Event) -> None:
    async with aiohttp.ClientSession() as http, http.ws_connect(url, max_msg_size=0) as ws:
        for symbol in SYMBOLS:
            sub = {"type": "subscribe", "data": {"channel": "orderflow", "symbol": symbol}}
            await ws.send_str(msgspec.json.encode(sub).decode())
        sub = {"type": "subscribe", "data": {"channel": "book", "symbol": SYMBOLS[0]}}
        await ws.send_str(msgspec.json.encode(sub).decode())
        ready.set()
        async for message in ws:
            now = time.time_ns()
            if message.type is not aiohttp.WSMsgType.TEXT:
                break
            if not stats.measuring:
                continue
            stats.frames += 1
            for item in _decode_batch.decode(message.data):
                stats.messages += 1
                if item.type == "tick":
                    tick = _decode_tick.decode(item.data)
                    trade_id = tick.trade_id
                    stats.server.append(tick.received_ns)
                    venue_symbol = item.symbol.replace("/", "")
                    stats.keys.append(f"{item.venue}:{venue_symbol}:{trade_id}")
                    stats.times.append(now)


async def run_clients(url: str, count: int) -> None:
    """The clients' process: connect, say READY, measure between START and STOP on stdin,
    then write what was received (msgspec JSON) on stdout."""
    stats = Stats()
    readies = [asyncio.Event() for _ in range(count)]
    tasks = [asyncio.ensure_future(client(url, stats, r)) for r in readies]
    await asyncio.gather(*(r.wait() for r in readies))
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    print("READY", flush=True)
    assert (await reader.readline()).strip() == b"START"
    cpu0 = time.process_time()
    stats.measuring = True
    assert (await reader.readline()).strip() == b"STOP"
    stats.measuring = False
    cpu = time.process_time() - cpu0
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    out = {
        "keys": stats.keys,
        "times": stats.times,
        "server": stats.server,
        "messages": stats.messages,
        "frames": stats.frames,
        "cpu": cpu,
    }
    sys.stdout.buffer.write(msgspec.json.encode(out) + b"\n")
    sys.stdout.flush()


def proc_cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def proc_schedstat(pid: int) -> tuple[float, float]:
    """(seconds run on a CPU, seconds waited for one while runnable) of a process so far."""
    run_ns, wait_ns, _slices = Path(f"/proc/{pid}/schedstat").read_text().split()
    return int(run_ns) / 1e9, int(wait_ns) / 1e9


def cpu_pressure() -> str:
    """The machine's CPU pressure (PSI): the share of time some task waited for a CPU."""
    try:
        some = Path("/proc/pressure/cpu").read_text().splitlines()[0]
    except OSError:
        return "n/a"
    return some.split()[1].replace("avg10=", "") + "% (last 10 s)"


def proc_memory_mib(pid: int) -> tuple[float, float]:
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0]) / 1024
    return values["VmRSS"], values["VmHWM"]


async def _tell(groups: list[asyncio.subprocess.Process], line: bytes) -> None:
    for group in groups:
        assert group.stdin is not None
        group.stdin.write(line)
        await group.stdin.drain()


async def wait_ready(base: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    async with aiohttp.ClientSession() as http:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise SystemExit("the server exited")
            try:
                async with http.get(base + "/health") as response:
                    data = (await response.json())["data"]
                    if data["venues_running"] == len(VENUES) and data["trades"] > 50:
                        return
            except (aiohttp.ClientError, OSError):
                pass
            await asyncio.sleep(0.2)
    raise SystemExit("the server did not get ready")


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def measure(args: argparse.Namespace) -> None:
    steps_per_market = args.rate / FRAMES_PER_STEP / (len(VENUES) * 2)
    specs: dict[str, MarketSpec] = {
        "BTCUSDT": dataclasses.replace(BTC_USDT, events_per_second=steps_per_market),
        "ETHUSDT": dataclasses.replace(ETH_USDT, events_per_second=steps_per_market),
    }
    sent: dict[str, int] = {}
    protocols = [
        TimedBinance(
            name,
            {vs: SyntheticMarket(spec, 10 * n + k) for k, (vs, spec) in enumerate(specs.items())},
            sent,
        )
        for n, name in enumerate(VENUES)
    ]
    emulator = Emulator(list(protocols))
    emulator_port = await emulator.start()
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(emulator_port), "--port", str(port),
         "--loop", args.loop]
    )  # fmt: skip
    if args.pin:
        # The server gets a core of its own; the emulator and the clients (this process and
        # its children) share the other, as remote clients would not take the server's CPU.
        os.sched_setaffinity(proc.pid, {0})
        os.sched_setaffinity(0, {1})
    base = f"http://127.0.0.1:{port}"
    groups: list[asyncio.subprocess.Process] = []
    try:
        await wait_ready(base, proc)
        url = base.replace("http", "ws") + "/ws/orderflow"
        per_process = [
            len(range(i, args.clients, args.client_processes)) for i in range(args.client_processes)
        ]
        for count in per_process:
            group = await asyncio.create_subprocess_exec(
                sys.executable, __file__, "--clients-of", url, "--clients", str(count),
                stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, limit=2**30,
            )  # fmt: skip
            groups.append(group)
        for group in groups:
            assert group.stdin is not None and group.stdout is not None
            assert (await group.stdout.readline()).strip() == b"READY"
        await asyncio.sleep(args.warmup)
        frames0 = sum(p.frames for p in protocols)
        cpu0, wall0, own0 = proc_cpu_seconds(proc.pid), time.monotonic(), time.process_time()
        ran0, waited0 = proc_schedstat(proc.pid)
        await _tell(groups, b"START\n")
        await asyncio.sleep(args.seconds)
        await _tell(groups, b"STOP\n")
        wall = time.monotonic() - wall0
        cpu = proc_cpu_seconds(proc.pid) - cpu0
        ran, waited = (
            b - a for a, b in zip((ran0, waited0), proc_schedstat(proc.pid), strict=True)
        )
        pressure = cpu_pressure()
        own = time.process_time() - own0
        frames = sum(p.frames for p in protocols) - frames0
        rss, peak = proc_memory_mib(proc.pid)
        results = []
        for group in groups:
            assert group.stdout is not None
            results.append(msgspec.json.decode(await group.stdout.readline()))
            await group.wait()
    finally:
        for group in groups:
            if group.returncode is None:
                group.kill()
        proc.terminate()
        proc.wait(10)
        await emulator.stop()
    lat = []
    inbound = []  # emulator -> server receive
    unmatched = 0
    for result in results:
        columns = (result["keys"], result["times"], result["server"])
        for key, recv_ns, server_ns in zip(*columns, strict=True):
            left = sent.get(key)
            if left is None:
                unmatched += 1
            else:
                lat.append(recv_ns - left)
                inbound.append(server_ns - left)
    result = {k: sum(r[k] for r in results) for k in ("frames", "messages", "cpu")}
    lat.sort()
    if not lat:
        raise SystemExit("no tick matched")

    def pct(q: float) -> float:
        return lat[min(len(lat) - 1, int(q * len(lat)))] / 1e6

    inbound.sort()
    load = os.getloadavg()[0]
    print(
        f"machine: {os.cpu_count()} CPUs, load average (1 min) {load:.2f}; "
        f"server event loop: {args.loop}"
    )
    print(f"emulator frames to the server: {frames / wall:,.0f}/s over {wall:.1f} s")
    print(
        f"clients: {args.clients}, WebSocket frames received {result['frames'] / wall:,.0f}/s, "
        f"messages {result['messages'] / wall:,.0f}/s, ticks matched {len(lat):,} "
        f"(unmatched {unmatched})"
    )
    print(
        f"latency frame -> tick at a client: p50 {pct(0.5):.2f} ms, p90 {pct(0.9):.2f} ms, "
        f"p99 {pct(0.99):.2f} ms, max {lat[-1] / 1e6:.2f} ms, "
        f"mean {statistics.fmean(lat) / 1e6:.2f} ms"
    )
    n = len(inbound)
    print(
        f"  of which emulator -> server receive: p50 {inbound[n // 2] / 1e6:.2f} ms, "
        f"p99 {inbound[min(n - 1, int(0.99 * n))] / 1e6:.2f} ms"
    )
    print(
        f"server process: CPU {100 * cpu / wall:.0f}% of one core, "
        f"memory {rss:.0f} MiB resident (peak {peak:.0f} MiB)"
    )
    print(
        f"server scheduling: ran {ran:.1f} s, waited {waited:.1f} s for a CPU while runnable; "
        f"machine CPU pressure {pressure}"
    )
    print(
        f"load generators: emulator process {100 * own / wall:.0f}%, "
        f"{args.client_processes} client process(es) {100 * result['cpu'] / wall:.0f}% of one core"
    )


def serve(emulator_port: int, port: int, event_loop: str) -> None:
    """The server process: ``orderscope serve`` wired to the emulator's three venues."""
    from orderscope.service.config import FeedsConfig, ServerConfig, ServiceConfig
    from orderscope.service.feeds import LiveFeeds, renamed
    from orderscope.service.server import serve as run
    from orderscope.venues.base import Endpoints
    from orderscope.venues.binance import BinanceSpot

    emulator = f"127.0.0.1:{emulator_port}"
    endpoints = {v: Endpoints(f"ws://{emulator}/{v}", f"http://{emulator}/{v}") for v in VENUES}
    classes = {v: renamed(BinanceSpot, v) for v in VENUES}
    server = ServerConfig(
        port=port,
        requests_per_second=1000.0,
        burst=1000,
        max_pending=20_000,
        event_loop=event_loop,
    )
    config = ServiceConfig(server, FeedsConfig(venues=VENUES, symbols=SYMBOLS))
    run(
        config,
        lambda engine: LiveFeeds(engine, classes, SYMBOLS, endpoints=endpoints),
        open_browser=False,
        announce=lambda _line: None,
    )


def engine_cost(count: int = 200_000) -> None:
    """The engine alone: microseconds per trade (its venue's and the unified state, the tick)."""
    import random

    from orderscope.engine import Engine
    from orderscope.model import Instrument, InstrumentKind, Side, Trade
    from orderscope.service.feeds import renamed
    from orderscope.venues.binance import BinanceSpot

    engine = Engine()
    for name in VENUES:
        inst = Instrument(
            name, "BTC/USDT", "BTCUSDT", "BTC", "USDT", InstrumentKind.SPOT, 2, 5, 1, 1
        )
        engine.add_venue(renamed(BinanceSpot, name)([inst]), [inst])
    engine.subscribe(lambda _update: None)
    rng = random.Random(1)
    t0 = 1_700_000_000 * 10**9
    trades = [
        Trade(
            VENUES[k % 3], "BTC/USDT", t0 + k * 10**6, t0 + k * 10**6,
            6_000_000 + rng.randint(-500, 500), rng.randint(1, 10**5),
            Side.BUY if rng.random() < 0.5 else Side.SELL, str(k),
        )
        for k in range(count)
    ]  # fmt: skip
    start = time.process_time()
    for trade in trades:
        engine.on_events(None, [trade])
    per_trade = (time.process_time() - start) / count * 1e6
    start = time.process_time()
    for _ in range(1000):
        engine._dirty_flow.update({("BTC/USDT", None), ("BTC/USDT", VENUES[0])})
        engine._dirty_books.update((v, "BTC/USDT") for v in VENUES)
        engine.flush()
    per_flush = (time.process_time() - start) / 1000 * 1e3
    print(f"engine: {per_trade:.1f} us CPU per trade, {per_flush:.2f} ms CPU per flush")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--client-processes", type=int, default=1)
    parser.add_argument("--rate", type=float, default=2000.0, help="emulator frames per second")
    parser.add_argument(
        "--pin", action="store_true", help="server on CPU 0, emulator and clients on CPU 1"
    )
    parser.add_argument(
        "--loop",
        choices=EVENT_LOOPS,
        default="auto",
        help="the server's event loop (auto: uvloop where installed)",
    )
    parser.add_argument("--serve", type=int, metavar="EMULATOR_PORT", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--clients-of", metavar="URL", help=argparse.SUPPRESS)
    parser.add_argument("--engine-only", action="store_true", help="the engine's CPU per trade")
    args = parser.parse_args()
    if args.engine_only:
        engine_cost()
    elif args.serve:
        serve(args.serve, args.port, args.loop)
    elif args.clients_of:
        asyncio.run(run_clients(args.clients_of, args.clients))
    else:
        asyncio.run(measure(args))


if __name__ == "__main__":
    main()
