"""The venue emulator: a local server speaking real venues' WebSocket and REST protocols.

One aiohttp application on 127.0.0.1 serves every emulated venue under its own path prefix
(``/binance``, ``/coinbase``, ``/kraken``), each fed by synthetic markets
(``orderscope.synthetic``) or by a recorded capture (``emulator.capture_feed``). A connector
points at it by configuration only
(``Endpoints(ws="ws://127.0.0.1:PORT/binance", rest="http://127.0.0.1:PORT/binance")``).

The market clock is simulated time mapped onto the wall clock at ``speed`` (1 = real time).
Frames carry the simulated time as the venue's timestamp, so a client can measure the latency
from a frame's creation to its own processing. A pause freezes the markets, not the time: on
resume the simulated clock jumps over the pause, so at speed 1 it stays the wall clock. A clock
starved of CPU (a loaded machine) that falls more than 100 ms behind skips ahead likewise: the
markets make fewer events and timestamps stay true (``Emulator.dropped_ns`` counts the skips).

Faults are injected per venue (``Faults``, ``VenueProtocol.inject``): drop every connection,
skip book frames (a lost update: a sequence gap on Binance, a checksum failure or a removed
level that is not there on Kraken and Coinbase), corrupt a book frame (sent truncated), stall
(frames are held back, then delivered late), answer REST with 429 / 403.
"""

from __future__ import annotations

import asyncio
import heapq
import logging
import socket
import time
from abc import ABC, abstractmethod
from collections import Counter, deque
from dataclasses import dataclass, field

from aiohttp import WSMsgType, web

from orderscope.emulator.wire import LogHistogram
from orderscope.errors import ConfigError
from orderscope.synthetic import MarketSpec, MarketStep, SyntheticMarket

log = logging.getLogger("orderscope.emulator")

TICK_NS = 100_000_000  # venues that batch book updates do it every 100 ms
WALL_TICK_S = 0.25  # housekeeping (heartbeats) runs on the wall clock, paused or not
CLIENT_QUEUE = 50_000  # frames; a client that lags further is disconnected, as venues do
DEFAULT_STALL_S = 10.0
MAX_BEHIND_S = 0.1  # further behind the wall clock, the clock skips ahead (see _run_clock)
CATCH_UP_YIELD = 16  # steps run back to back, at most, when the clock is behind

#: Every fault a venue may take; a protocol lists the ones that make sense for it.
FAULT_KINDS = ("skip", "corrupt", "stall", "drop", "rest_429", "rest_403")

Frame = str | bytes


@dataclass(slots=True)
class Faults:
    """Faults to inject into one emulated venue. Counts are consumed as they fire."""

    skip_book_frames: int = 0  # book frames not sent (a lost update)
    corrupt_book_frames: int = 0  # book frames sent truncated
    stall_until: float = 0.0  # monotonic time until which frames are held back
    rest_failures: deque[int] = field(default_factory=deque)  # HTTP statuses to answer next
    fired: dict[str, int] = field(default_factory=dict)

    def count(self, kind: str) -> None:
        self.fired[kind] = self.fired.get(kind, 0) + 1

    @property
    def book_faults_pending(self) -> bool:
        return bool(self.skip_book_frames or self.corrupt_book_frames)


class Client:
    """One connected WebSocket client and its outgoing queue."""

    def __init__(
        self, ws: web.WebSocketResponse, faults: Faults, waits: LogHistogram | None = None
    ) -> None:
        self.ws = ws
        self.faults = faults
        #: how long frames waited in the queue before they were written (the venue's backlog)
        self.waits = waits if waits is not None else LogHistogram()
        self.queue: asyncio.Queue[tuple[int, Frame]] = asyncio.Queue(CLIENT_QUEUE)
        self.subscriptions: set[tuple[str, str]] = set()  # (channel, venue symbol)
        self.sent = 0
        self.last_push = time.monotonic()

    def push(self, frame: Frame) -> bool:
        try:
            self.queue.put_nowait((time.monotonic_ns(), frame))
        except asyncio.QueueFull:
            return False
        self.last_push = time.monotonic()
        return True

    async def put(self, frame: Frame) -> None:
        """Queue a frame, waiting for room (a recording waits for its reader)."""
        await self.queue.put((time.monotonic_ns(), frame))
        self.last_push = time.monotonic()

    async def writer(self) -> None:
        while True:
            queued_ns, frame = await self.queue.get()
            # A stall holds frames back (the venue goes quiet); they are delivered late.
            while (delay := self.faults.stall_until - time.monotonic()) > 0:
                await asyncio.sleep(delay)
            if self.ws.closed:
                return
            if isinstance(frame, bytes):
                await self.ws.send_bytes(frame)
            else:
                await self.ws.send_str(frame)
            self.waits.add(time.monotonic_ns() - queued_ns)
            self.sent += 1


class VenueProtocol(ABC):
    """One emulated venue: routes, subscriptions and the encoding of market steps to frames."""

    name: str  # path prefix and venue name
    #: The faults that make sense for this venue (REST failures only where books need REST).
    fault_kinds: tuple[str, ...] = FAULT_KINDS

    def __init__(self, markets: dict[str, SyntheticMarket]) -> None:
        self.markets = markets  # by venue symbol
        self.faults = Faults()
        self.clients: set[Client] = set()
        self.subscribers: Counter[tuple[str, str]] = Counter()  # (channel, symbol) -> clients
        self.connections = 0
        self._sent_by_gone = 0  # frames sent to clients that went away
        self.send_waits = LogHistogram()  # time frames spent queued before being written
        self.speed = 1.0  # set by the Emulator
        self.running = asyncio.Event()  # set by the Emulator while the markets run
        self.running.set()
        self._closing: set[asyncio.Future[bool]] = set()

    # -- what a venue implements -----------------------------------------------------------

    @classmethod
    def venue_symbol(cls, spec: MarketSpec) -> str:
        """How the venue writes a synthetic market's symbol (``BTCUSDT``, ``XBT/USDT``)."""
        raise ConfigError(f"{cls.name} serves no synthetic markets")

    @abstractmethod
    def routes(self) -> list[web.RouteDef]: ...

    @abstractmethod
    def on_step(self, venue_symbol: str, step: MarketStep, now_ns: int) -> None:
        """Encode one market step into frames for the subscribed clients."""

    def on_tick(self, now_ns: int) -> None:  # noqa: B027 - optional hook
        """Called every 100 ms of simulated time (venues that batch their book updates)."""

    def on_wall_tick(self, now_ns: int) -> None:  # noqa: B027 - optional hook
        """Called every 250 ms of wall time, even while paused (heartbeats)."""

    def on_subscribe_frame(self, client: Client, text: str) -> None:  # noqa: B027
        """A frame a client sent (subscriptions, pings)."""

    def on_connect(self, client: Client, request: web.Request) -> None:  # noqa: B027
        """A client connected (venues that subscribe in the URL read it here)."""

    async def on_connected(self, client: Client, request: web.Request) -> None:  # noqa: B027
        """After ``on_connect``, while the connection lives (a capture feed plays here)."""

    # -- subscriptions ---------------------------------------------------------------------

    def subscribe(self, client: Client, key: tuple[str, str]) -> bool:
        """Add a subscription; False if the client had it already."""
        if key in client.subscriptions:
            return False
        client.subscriptions.add(key)
        self.subscribers[key] += 1
        return True

    def unsubscribe(self, client: Client, key: tuple[str, str]) -> bool:
        """Remove a subscription; False if the client did not have it."""
        if key not in client.subscriptions:
            return False
        client.subscriptions.discard(key)
        self.subscribers[key] -= 1
        if self.subscribers[key] <= 0:
            del self.subscribers[key]
        return True

    def has_subscribers(self, channel: str, venue_symbol: str) -> bool:
        return (channel, venue_symbol) in self.subscribers

    def frames_sent(self) -> int:
        return self._sent_by_gone + sum(client.sent for client in self.clients)

    # -- shared machinery ------------------------------------------------------------------

    def book_fault(self, *, lossable: bool = True, corruptible: bool = True) -> str | None:
        """Consume a pending book-frame fault this frame can take: "skip", "corrupt" or None.

        Venues whose clients cannot see every loss (Kraken, Coinbase) only lose frames whose
        loss their clients can see (``lossable``), see ``emulator.lost``.
        """
        faults = self.faults
        if faults.skip_book_frames and lossable:
            faults.skip_book_frames -= 1
            faults.count("skipped_book_frame")
            return "skip"
        if faults.corrupt_book_frames and corruptible:
            faults.corrupt_book_frames -= 1
            faults.count("corrupt_book_frame")
            return "corrupt"
        return None

    def broadcast(
        self,
        channel: str,
        venue_symbol: str,
        frame: Frame,
        *,
        book: bool = False,
        lossable: bool = True,
        corruptible: bool = True,
    ) -> str | None:
        """Send a frame to every subscribed client; returns the book fault it took, if any."""
        fault = self.book_fault(lossable=lossable, corruptible=corruptible) if book else None
        if fault == "skip":
            return fault
        if fault == "corrupt":
            frame = frame[: len(frame) // 2]
        for client in list(self.clients):
            if (channel, venue_symbol) in client.subscriptions and not client.push(frame):
                self.faults.count("slow_client_dropped")
                self._drop(client)
        return fault

    def send(self, client: Client, frame: Frame) -> None:
        if not client.push(frame):
            self.faults.count("slow_client_dropped")
            self._drop(client)

    def _drop(self, client: Client) -> None:
        self._forget(client)
        task = asyncio.ensure_future(client.ws.close())
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    def _forget(self, client: Client) -> None:
        if client in self.clients:
            self.clients.discard(client)
            self._sent_by_gone += client.sent
            for key in list(client.subscriptions):
                self.unsubscribe(client, key)
            self.on_disconnect(client)

    def on_disconnect(self, client: Client) -> None:  # noqa: B027 - optional hook
        """A client went away (venues with per-client state forget it here)."""

    def drop_connections(self) -> None:
        """Fault: close every connection abruptly."""
        self.faults.count("dropped_connections")
        for client in list(self.clients):
            self._drop(client)

    def inject(self, kind: str, seconds: float = DEFAULT_STALL_S) -> str:
        """Inject one fault by name (``FAULT_KINDS``); returns what was done, for logs."""
        if kind not in self.fault_kinds:
            known = ", ".join(self.fault_kinds)
            raise ConfigError(f"{self.name}: no fault {kind!r} here (known: {known})")
        faults = self.faults
        if kind == "skip":
            faults.skip_book_frames += 1
            return "the next book frame is not sent"
        if kind == "corrupt":
            faults.corrupt_book_frames += 1
            return "the next book frame is sent truncated"
        if kind == "stall":
            faults.stall_until = max(faults.stall_until, time.monotonic() + seconds)
            faults.count("stall")
            return f"frames held back for {seconds:g}s"
        if kind == "drop":
            dropped = len(self.clients)
            self.drop_connections()
            return f"{dropped} connection(s) dropped"
        status = int(kind.removeprefix("rest_"))
        faults.rest_failures.append(status)
        return f"the next REST request answers {status}"

    def rest_failure(self) -> web.Response | None:
        """Fault: the next queued HTTP status, with a Retry-After for 429."""
        if not self.faults.rest_failures:
            return None
        status = self.faults.rest_failures.popleft()
        self.faults.count(f"rest_{status}")
        headers = {"Retry-After": "1"} if status == 429 else {}
        return web.json_response(
            {"code": -1003, "msg": "emulated failure"}, status=status, headers=headers
        )

    async def websocket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(heartbeat=20.0, max_msg_size=0)
        await ws.prepare(request)
        client = Client(ws, self.faults, self.send_waits)
        self.clients.add(client)
        self.connections += 1
        self.on_connect(client, request)
        writer = asyncio.ensure_future(client.writer())
        player = asyncio.ensure_future(self.on_connected(client, request))
        try:
            async for message in ws:
                if message.type is WSMsgType.TEXT:
                    self.on_subscribe_frame(client, message.data)
        finally:
            self._forget(client)
            for task in (writer, player):
                task.cancel()
            await asyncio.gather(writer, player, return_exceptions=True)
        return ws


def _later(
    queue: list[tuple[int, int, str, str]], next_tick: int, gap: int
) -> tuple[list[tuple[int, int, str, str]], int]:
    """The clock's agenda moved ``gap`` ns later."""
    moved = [(due + gap, tie, venue, symbol) for due, tie, venue, symbol in queue]
    heapq.heapify(moved)
    return moved, next_tick + gap


class Emulator:
    """Emulated venues (synthetic markets or recorded captures) on one local port."""

    def __init__(self, protocols: list[VenueProtocol], *, speed: float = 1.0) -> None:
        self.protocols = {p.name: p for p in protocols}
        if len(self.protocols) != len(protocols):
            raise ConfigError("two emulated venues with the same name")
        self.speed = speed
        self.app = web.Application()
        self._running = asyncio.Event()
        for protocol in protocols:
            protocol.speed = speed
            protocol.running = self._running
            self.app.add_routes(protocol.routes())
        from orderscope.emulator.control import control_routes  # it needs this module

        self.app.add_routes(control_routes(self))
        self._runner: web.AppRunner | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self.port = 0
        self.sim_ns = 0
        self.steps = 0
        #: wall time minus simulated time when a step's frames were made: the emulator's own
        #: lateness, part of any latency a client measures from the frames' timestamps
        self.lag = LogHistogram()
        self.dropped_ns = 0  # simulated time skipped because the clock fell too far behind
        self._late = 0

    @staticmethod
    def market(spec: MarketSpec, seed: int) -> SyntheticMarket:
        return SyntheticMarket(spec, seed)

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> int:
        self._runner = web.AppRunner(self.app, access_log=None)
        await self._runner.setup()
        sock = socket.create_server((host, port))  # port 0: the OS picks a free one
        self.port = sock.getsockname()[1]
        await web.SockSite(self._runner, sock).start()
        self._running.set()
        self._tasks = [
            asyncio.ensure_future(self._run_clock()),
            asyncio.ensure_future(self._run_wall_ticks()),
        ]
        return self.port

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for protocol in self.protocols.values():
            for client in list(protocol.clients):
                await client.ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    def pause(self) -> None:
        """Stop the markets (pending batched updates are still flushed)."""
        self._running.clear()

    def resume(self) -> None:
        self._running.set()

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    def url(self, venue: str, scheme: str = "http") -> str:
        return f"{scheme}://127.0.0.1:{self.port}/{venue}"

    async def _run_clock(self) -> None:
        """Step every market in simulated time, paced on the wall clock."""
        self.sim_ns = time.time_ns()
        wall0, sim0 = time.monotonic(), self.sim_ns
        queue: list[tuple[int, int, str, str]] = []  # (due ns, tie, venue, venue symbol)
        for tie, (protocol, venue_symbol) in enumerate(
            (p, s) for p in self.protocols.values() for s in p.markets
        ):
            heapq.heappush(queue, (sim0 + tie, tie, protocol.name, venue_symbol))
        next_tick = sim0 + TICK_NS
        max_behind = int(MAX_BEHIND_S * 1e9 * self.speed)
        while True:
            if not self._running.is_set():
                for protocol in self.protocols.values():
                    protocol.on_tick(self.sim_ns)  # flush what is batched
                paused_at = time.monotonic()
                await self._running.wait()
                # Time went on while the markets stood still: what was due moves by the pause
                # (the markets do not catch up), and simulated time keeps mapping onto the wall.
                gap = int((time.monotonic() - paused_at) * 1e9 * self.speed)
                queue, next_tick = _later(queue, next_tick, gap)
                self.sim_ns += gap
            upcoming = next_tick if not queue else min(next_tick, queue[0][0])
            behind = sim0 + int((time.monotonic() - wall0) * 1e9 * self.speed) - upcoming
            if behind > max_behind:
                # Starved of CPU: drop the simulated time it cannot make up rather than send a
                # growing backlog with stale stamps (fewer events, timestamps stay true).
                queue, next_tick = _later(queue, next_tick, behind)
                self.dropped_ns += behind
                continue
            if not queue or next_tick <= queue[0][0]:
                await self._sleep_until(next_tick, wall0, sim0)
                self.sim_ns = next_tick
                for protocol in self.protocols.values():
                    protocol.on_tick(next_tick)
                next_tick += TICK_NS
                continue
            due, tie, venue, venue_symbol = queue[0]
            await self._sleep_until(due, wall0, sim0)
            if not self._running.is_set():
                continue  # paused while asleep: this step waits for the resume
            heapq.heappop(queue)
            self.sim_ns = due
            protocol = self.protocols[venue]
            step = protocol.markets[venue_symbol].step()
            self.steps += 1
            protocol.on_step(venue_symbol, step, due)
            if self.speed == 1.0:
                self.lag.add(time.time_ns() - due)
            heapq.heappush(queue, (due + step.dt_ns, tie, venue, venue_symbol))

    async def _sleep_until(self, sim_ns: int, wall0: float, sim0: int) -> None:
        delay = (sim_ns - sim0) / 1e9 / self.speed - (time.monotonic() - wall0)
        if delay > 0:
            await asyncio.sleep(delay)
            self._late = 0
            return
        # Behind the wall clock (a loaded machine): catch up, but let the writers send as
        # it goes, or the frames would leave in one burst at the end.
        self._late += 1
        if self._late % CATCH_UP_YIELD == 0:
            await asyncio.sleep(0)

    async def _run_wall_ticks(self) -> None:
        while True:
            await asyncio.sleep(WALL_TICK_S)
            now = time.time_ns()
            for protocol in self.protocols.values():
                protocol.on_wall_tick(now)
