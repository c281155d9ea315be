"""The venue emulator: a local server speaking real venues' WebSocket and REST protocols.

One aiohttp application on 127.0.0.1 serves every emulated venue under its own path prefix
(``/binance``, ``/coinbase``, ``/kraken``), each fed by synthetic markets
(``orderscope.synthetic``). A connector points at it by configuration only
(``Endpoints(ws="ws://127.0.0.1:PORT/binance", rest="http://127.0.0.1:PORT/binance")``).

The market clock is simulated time mapped onto the wall clock at ``speed`` (1 = real time).
Frames carry the simulated time as the venue's timestamp, so a client can measure the latency
from a frame's creation to its own processing.

Faults are injected per venue (``Faults``): drop every connection, skip book frames (a sequence
gap), corrupt a book frame, stall (send nothing), answer REST with 429 / 403.
"""

from __future__ import annotations

import asyncio
import heapq
import logging
import socket
import time
from abc import ABC, abstractmethod
from collections import deque
from dataclasses import dataclass, field

from aiohttp import WSMsgType, web

from orderscope.synthetic import MarketSpec, MarketStep, SyntheticMarket

log = logging.getLogger("orderscope.emulator")

TICK_NS = 100_000_000  # venues that batch book updates do it every 100 ms
CLIENT_QUEUE = 10_000  # frames; a client that lags further is disconnected, as venues do


@dataclass(slots=True)
class Faults:
    """Faults to inject into one emulated venue. Counts are consumed as they fire."""

    skip_book_frames: int = 0  # book frames not sent (the client sees a sequence gap)
    corrupt_book_frames: int = 0  # book frames sent truncated
    stall_until: float = 0.0  # monotonic time until which nothing is sent
    rest_failures: deque[int] = field(default_factory=deque)  # HTTP statuses to answer next
    fired: dict[str, int] = field(default_factory=dict)

    def count(self, kind: str) -> None:
        self.fired[kind] = self.fired.get(kind, 0) + 1


class Client:
    """One connected WebSocket client and its outgoing queue."""

    def __init__(self, ws: web.WebSocketResponse) -> None:
        self.ws = ws
        self.queue: asyncio.Queue[str | None] = asyncio.Queue(CLIENT_QUEUE)
        self.subscriptions: set[tuple[str, str]] = set()  # (channel, venue symbol)
        self.sent = 0

    def push(self, frame: str) -> bool:
        try:
            self.queue.put_nowait(frame)
        except asyncio.QueueFull:
            return False
        return True

    async def writer(self) -> None:
        while True:
            frame = await self.queue.get()
            if frame is None or self.ws.closed:
                return
            await self.ws.send_str(frame)
            self.sent += 1


class VenueProtocol(ABC):
    """One emulated venue: routes, subscriptions and the encoding of market steps to frames."""

    name: str  # path prefix and venue name

    def __init__(self, markets: dict[str, SyntheticMarket]) -> None:
        self.markets = markets  # by venue symbol
        self.faults = Faults()
        self.clients: set[Client] = set()
        self.connections = 0
        self._closing: set[asyncio.Future[bool]] = set()

    # -- what a venue implements -----------------------------------------------------------

    @abstractmethod
    def routes(self) -> list[web.RouteDef]: ...

    @abstractmethod
    def on_step(self, venue_symbol: str, step: MarketStep, now_ns: int) -> None:
        """Encode one market step into frames for the subscribed clients."""

    def on_tick(self, now_ns: int) -> None:  # noqa: B027 - optional hook
        """Called every 100 ms of simulated time (venues that batch their book updates)."""

    def on_subscribe_frame(self, client: Client, text: str) -> None:  # noqa: B027
        """A frame a client sent (subscriptions, pings)."""

    def on_connect(self, client: Client, request: web.Request) -> None:  # noqa: B027
        """A client connected (venues that subscribe in the URL read it here)."""

    # -- shared machinery ------------------------------------------------------------------

    def broadcast(self, channel: str, venue_symbol: str, frame: str, *, book: bool = False) -> None:
        if book and self.faults.skip_book_frames:
            self.faults.skip_book_frames -= 1
            self.faults.count("skipped_book_frame")
            return
        if book and self.faults.corrupt_book_frames:
            self.faults.corrupt_book_frames -= 1
            self.faults.count("corrupt_book_frame")
            frame = frame[: len(frame) // 2]
        if time.monotonic() < self.faults.stall_until:
            return
        for client in list(self.clients):
            if (channel, venue_symbol) in client.subscriptions and not client.push(frame):
                self.faults.count("slow_client_dropped")
                self._drop(client)

    def send(self, client: Client, frame: str) -> None:
        if not client.push(frame):
            self._drop(client)

    def _drop(self, client: Client) -> None:
        self.clients.discard(client)
        task = asyncio.ensure_future(client.ws.close())
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    def drop_connections(self) -> None:
        """Fault: close every connection abruptly."""
        self.faults.count("dropped_connections")
        for client in list(self.clients):
            self._drop(client)

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
        client = Client(ws)
        self.clients.add(client)
        self.connections += 1
        self.on_connect(client, request)
        writer = asyncio.ensure_future(client.writer())
        try:
            async for message in ws:
                if message.type is WSMsgType.TEXT:
                    self.on_subscribe_frame(client, message.data)
        finally:
            self.clients.discard(client)
            writer.cancel()
            await asyncio.gather(writer, return_exceptions=True)
        return ws


class Emulator:
    """Synthetic markets behind emulated venues, on one local port."""

    def __init__(self, protocols: list[VenueProtocol], *, speed: float = 1.0) -> None:
        self.protocols = {p.name: p for p in protocols}
        self.speed = speed
        self.app = web.Application()
        for protocol in protocols:
            self.app.add_routes(protocol.routes())
        self._runner: web.AppRunner | None = None
        self._clock: asyncio.Task[None] | None = None
        self._running = asyncio.Event()
        self.port = 0
        self.sim_ns = 0
        self.steps = 0

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
        self._clock = asyncio.ensure_future(self._run_clock())
        return self.port

    async def stop(self) -> None:
        if self._clock is not None:
            self._clock.cancel()
            await asyncio.gather(self._clock, return_exceptions=True)
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
        while True:
            if not self._running.is_set():
                for protocol in self.protocols.values():
                    protocol.on_tick(self.sim_ns)  # flush what is batched
                await self._running.wait()
                wall0, sim0 = time.monotonic(), self.sim_ns  # paused time does not count
            due, tie, venue, venue_symbol = queue[0]
            if next_tick <= due:
                await self._sleep_until(next_tick, wall0, sim0)
                self.sim_ns = next_tick
                for protocol in self.protocols.values():
                    protocol.on_tick(next_tick)
                next_tick += TICK_NS
                continue
            await self._sleep_until(due, wall0, sim0)
            heapq.heappop(queue)
            self.sim_ns = due
            protocol = self.protocols[venue]
            step = protocol.markets[venue_symbol].step()
            self.steps += 1
            protocol.on_step(venue_symbol, step, due)
            heapq.heappush(queue, (due + step.dt_ns, tie, venue, venue_symbol))

    async def _sleep_until(self, sim_ns: int, wall0: float, sim0: int) -> None:
        delay = (sim_ns - sim0) / 1e9 / self.speed - (time.monotonic() - wall0)
        if delay > 0:
            await asyncio.sleep(delay)
