"""Live sessions: a venue connector driven by real WebSocket connections and REST snapshots.

A ``LiveSession`` owns the I/O of one venue, and knows venues only through the live API of
``venues.base.Venue``: it opens the connector's ``connections()`` (no faster than
``limits.connections_per_minute``), sends their subscriptions (no faster than
``limits.requests_per_second``), hands every frame it sends or receives to the same
``venues.base.feed`` the replay uses, sends the connector's ``replies`` (pongs) on their
connection, fetches REST snapshots through one shared, rate-limited HTTP client, and watches
the feed:

- nothing received for ``keepalive.ping_after_s``: the venue's ping text is sent (venues that
  want the client to ping);
- nothing received for ``stale_after_s`` (the session's setting, or the venue's
  ``keepalive.stale_after_s`` if shorter): the connection is STALE, its books are marked
  OUT_OF_SYNC, it is dropped and reopened;
- the venue announced it will close the connection (``reconnect_requested``): it is reopened
  at once;
- a closed or failed connection is reopened after an exponential back-off with jitter;
- after every (re)connect, the books of that connection are resynced (REST snapshot, or the
  snapshot the venue sends on subscribe);
- a gap or checksum failure reported by the connector (``venue.resync_requests``) triggers a
  snapshot request (or a resubscribe, for venues without REST snapshots).

Every state change is an event (``FeedStatus``) handed to the sink with the market events.
This module is the only place besides the demo pacing that reads the wall clock: receive
timestamps and timers are the transport's business.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import random
import signal
import time
from collections import Counter
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import aiohttp

from orderscope.capture import CaptureRecord, RecordKind
from orderscope.errors import ConfigError
from orderscope.model import FeedState, FeedStatus, Instrument, MarketEvent
from orderscope.venues import venue_class
from orderscope.venues.base import Connection, Endpoints, Venue, feed

log = logging.getLogger("orderscope.live")
#: the longest stretch of buffered frames one connection handles before other tasks get to run
YIELD_AFTER_S = 0.002

Sink = Callable[[Venue, list[MarketEvent]], None]


class Recorder(Protocol):
    """Where a live session writes what it hears (see ``orderscope.record``)."""

    def write(self, record: CaptureRecord) -> None: ...


@dataclass(frozen=True, slots=True)
class LiveConfig:
    stale_after_s: float = 30.0  # no frame for this long: the feed is stale
    backoff_initial_s: float = 0.5
    backoff_max_s: float = 30.0
    backoff_jitter: float = 0.5  # the delay is multiplied by 1 +- this, uniformly
    connect_timeout_s: float = 10.0
    ws_heartbeat_s: float = 20.0  # WebSocket-level pings; a missing pong closes the socket
    resubscribe_timeout_s: float = 10.0  # no snapshot after a resubscribe: try again
    rest_retry_max_s: float = 60.0


@dataclass(slots=True)
class SessionCounters:
    connects: int = 0
    disconnects: int = 0
    stale: int = 0
    frames: int = 0
    snapshot_requests: int = 0
    snapshots: int = 0
    resubscribes: int = 0
    polls: int = 0  # REST-only data fetched (poll_urls)
    pings: int = 0  # keep-alive pings sent (the venue's ping text after a silence)
    requested_reconnects: int = 0  # reconnects the venue asked for
    rest_errors: Counter[str] = field(default_factory=Counter)  # by HTTP status / error type


def backoff_delay(attempt: int, config: LiveConfig, rng: random.Random) -> float:
    """Exponential back-off with jitter: initial * 2**attempt, capped, times 1 +- jitter."""
    base = min(config.backoff_max_s, config.backoff_initial_s * 2.0 ** min(attempt, 30))
    return base * (1 + config.backoff_jitter * (2 * rng.random() - 1))


class RateLimiter:
    """A token bucket: at most ``rate`` requests per second, bursts of ``burst``."""

    def __init__(self, rate: float, burst: int = 1) -> None:
        self.rate = rate
        self.burst = burst
        self._tokens = float(burst)
        self._stamp = time.monotonic()
        self._lock = asyncio.Lock()

    async def acquire(self) -> None:
        async with self._lock:
            while True:
                now = time.monotonic()
                self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
                self._stamp = now
                if self._tokens >= 1:
                    self._tokens -= 1
                    return
                await asyncio.sleep((1 - self._tokens) / self.rate)


class RestError(Exception):
    """A REST request that did not return 200: ``status`` is the HTTP status (0: no answer)."""

    def __init__(self, url: str, status: int, retry_after_s: float | None, detail: str) -> None:
        self.url = url
        self.status = status
        self.retry_after_s = retry_after_s
        super().__init__(f"GET {url}: {status or detail}")


class RestClient:
    """One HTTP client shared by every session, with a rate limiter per venue."""

    def __init__(self, session: aiohttp.ClientSession) -> None:
        self.session = session
        self._limiters: dict[str, RateLimiter] = {}

    def limiter(self, key: str, rate: float) -> RateLimiter:
        """The limiter of ``key`` (a venue's name for its REST requests, ``NAME connect`` for
        its new connections), shared by every session of this client."""
        limiter = self._limiters.get(key)
        if limiter is None:
            limiter = self._limiters[key] = RateLimiter(rate)
        return limiter

    async def get(self, venue_name: str, rate: float, url: str) -> str:
        """GET ``url`` within the venue's rate; a non-200 answer raises ``RestError``."""
        await self.limiter(venue_name, rate).acquire()
        try:
            async with self.session.get(url) as response:
                body = await response.text()
                if response.status != 200:
                    retry_after = response.headers.get("Retry-After")
                    raise RestError(
                        url,
                        response.status,
                        float(retry_after) if retry_after else None,
                        body[:200],
                    )
                return body
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise RestError(url, 0, None, type(exc).__name__) from exc


async def load_instruments(
    http: RestClient,
    venue_cls: type[Venue],
    endpoints: Endpoints,
    recorder: Recorder | None = None,
) -> list[Instrument]:
    """Fetch and parse a venue's instrument list (its exchange-info REST responses)."""
    instruments: list[Instrument] = []
    for url in venue_cls.instruments_urls(endpoints):
        body = await http.get(venue_cls.name, venue_cls.rest_requests_per_second, url)
        if recorder is not None:
            recorder.write(CaptureRecord(time.time_ns(), RecordKind.REST, url, body, -1))
        instruments.extend(venue_cls.parse_instruments(url, body))
    return instruments


class LiveSession:
    """Drive one venue connector over live connections until ``stop()``."""

    def __init__(
        self,
        venue: Venue,
        instruments: Sequence[Instrument],
        http: RestClient,
        sink: Sink,
        *,
        config: LiveConfig | None = None,
        recorder: Recorder | None = None,
        seed: int | None = None,
    ) -> None:
        self.venue = venue
        self.instruments = list(instruments)
        self.http = http
        self.sink = sink
        self.config = config or LiveConfig()
        self.recorder = recorder
        self.counters = SessionCounters()
        self.states: dict[int, FeedState] = {}
        venue_stale = venue.keepalive.stale_after_s
        #: silence that makes a connection stale: the session's setting or the venue's, if less
        self.stale_after_s = min(self.config.stale_after_s, venue_stale or math.inf)
        self._rng = random.Random(seed)
        self._stopping = asyncio.Event()
        self._connections: list[Connection] = []
        self._sockets: dict[int, aiohttp.ClientWebSocketResponse] = {}
        self._send_limiters: dict[int, RateLimiter] = {}  # per open connection
        self._connection_of: dict[str, int] = {}
        self._fetching: set[str] = set()  # symbols whose REST snapshot is being fetched
        self._resubscribed: dict[str, float] = {}  # symbol -> monotonic time of the request
        self._tasks: set[asyncio.Task[Any]] = set()
        self._last_ns = 0
        self._rest_conn = 1000  # conn ids of REST records, apart from WebSocket connections

    # -- lifecycle -------------------------------------------------------------------------

    async def run(self) -> None:
        self._connections = self.venue.connections(self.instruments)
        for conn_id, connection in enumerate(self._connections):
            for symbol in connection.symbols:
                self._connection_of[symbol] = conn_id
        runners = [self._run_connection(i, c) for i, c in enumerate(self._connections)]
        for url, every in self.venue.poll_urls(self.instruments):
            self._keep(asyncio.ensure_future(self._poll(url, every)))
        try:
            await asyncio.gather(*runners)
        finally:
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)

    def stop(self) -> None:
        self._stopping.set()
        for ws in list(self._sockets.values()):
            task = asyncio.ensure_future(ws.close())
            self._keep(task)

    def _keep(self, task: asyncio.Task[Any]) -> None:
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _unless_stopped(self, wait: Coroutine[Any, Any, None]) -> bool:
        """Await ``wait`` unless the session is stopped first (a long wait for a connection
        slot must not hold up Ctrl-C); whether it completed."""
        waiting = asyncio.ensure_future(wait)
        stopped = asyncio.ensure_future(self._stopping.wait())
        await asyncio.wait((waiting, stopped), return_when=asyncio.FIRST_COMPLETED)
        for task in (waiting, stopped):
            task.cancel()
        await asyncio.gather(waiting, stopped, return_exceptions=True)
        return not waiting.cancelled()

    # -- one connection --------------------------------------------------------------------

    async def _run_connection(self, conn_id: int, connection: Connection) -> None:
        attempt = 0
        per_minute = self.venue.limits.connections_per_minute
        while not self._stopping.is_set():
            self._status(conn_id, FeedState.CONNECTING, connection.url, attempt)
            if per_minute is not None:  # the venue's limit on new connections from one IP
                limiter = self.http.limiter(f"{self.venue.name} connect", per_minute / 60)
                if not await self._unless_stopped(limiter.acquire()):
                    break
            reason, at_once = "closed by the venue", False
            try:
                # Receive timeouts are ours (stale detection, below); aiohttp's defaults for the
                # rest work from 3.9 (which cryptofeed 2.4.0, the benchmark peer, pins) onwards.
                async with self.http.session.ws_connect(
                    connection.url, heartbeat=self.config.ws_heartbeat_s, max_msg_size=0
                ) as ws:
                    attempt = 0
                    self.counters.connects += 1
                    self._sockets[conn_id] = ws
                    await self._open(conn_id, connection, ws)
                    reason, at_once = await self._read(conn_id, connection, ws)
            except (aiohttp.ClientError, TimeoutError, OSError) as exc:
                reason = f"{type(exc).__name__}: {exc}"
            finally:
                self._sockets.pop(conn_id, None)
            if self._stopping.is_set():
                break
            self.counters.disconnects += 1
            self._books_lost(connection, f"connection lost: {reason}")
            if at_once:
                continue
            delay = backoff_delay(attempt, self.config, self._rng)
            self._status(conn_id, FeedState.BACKOFF, f"{reason}; retry in {delay:.2f}s", attempt)
            attempt += 1
            with contextlib.suppress(TimeoutError):  # sleep, unless stopped meanwhile
                await asyncio.wait_for(self._stopping.wait(), delay)
        self._status(conn_id, FeedState.STOPPED, "stopped", 0)

    async def _open(
        self, conn_id: int, connection: Connection, ws: aiohttp.ClientWebSocketResponse
    ) -> None:
        now = self._now()
        self._handle(CaptureRecord(now, RecordKind.OPEN, connection.url, "", conn_id))
        rate = self.venue.limits.requests_per_second
        if rate is not None:
            self._send_limiters[conn_id] = RateLimiter(rate)  # a fresh budget per connection
        for frame in connection.subscribe:
            await self._send(conn_id, ws, frame)
        self._status(conn_id, FeedState.LIVE, "subscribed", 0)
        # Every book of the connection starts again from a snapshot.
        for symbol in connection.symbols:
            self.venue.resync_requests.add(symbol)
            self._resubscribed.pop(symbol, None)
        await self._resync(conn_id, ws, initial=True)

    async def _read(
        self, conn_id: int, connection: Connection, ws: aiohttp.ClientWebSocketResponse
    ) -> tuple[str, bool]:
        """Read until the connection should end: why, and whether to reconnect at once."""
        ping = self.venue.keepalive.ping_text
        ping_after = self.venue.keepalive.ping_after_s
        last = time.monotonic()  # when the last frame came
        pinged = False  # a ping went out since
        stretch = last  # since when frames are handled without this task yielding (at most)
        while True:
            ping_due = ping is not None and not pinged and ping_after < self.stale_after_s
            deadline = last + (ping_after if ping_due else self.stale_after_s)
            try:  # aiohttp takes a timeout of 0 for none: wait at least a millisecond
                message = await ws.receive(max(deadline - time.monotonic(), 0.001))
            except TimeoutError:
                if ping is not None and ping_due:
                    self.counters.pings += 1
                    await self._send(conn_id, ws, ping)
                    pinged = True
                    continue
                self.counters.stale += 1
                silence = f"nothing received for {self.stale_after_s:g}s"
                self._status(conn_id, FeedState.STALE, silence, 0)
                return "stale feed", False
            if message.type is aiohttp.WSMsgType.TEXT or message.type is aiohttp.WSMsgType.BINARY:
                last, pinged = time.monotonic(), False
                self.counters.frames += 1
                payload: str | bytes = message.data
                self._handle(
                    CaptureRecord(self._now(), RecordKind.RECV, connection.url, payload, conn_id)
                )
                if (now := time.monotonic()) - stretch > YIELD_AFTER_S:
                    # A backlog is read without suspending (the frames are buffered): after a
                    # long stretch, let the other tasks (clients' senders, other venues) run.
                    await asyncio.sleep(0)
                    stretch = now
                await self._send_replies()
                if self.venue.reconnect_requested:  # set by the frame just handled: this one's
                    self.venue.reconnect_requested = False
                    self.counters.requested_reconnects += 1
                    return "the venue asked for a reconnect", True
                if self._resubscribed:
                    self._answered_resubscribes()
                if self.venue.resync_requests:
                    await self._resync(conn_id, ws)
                elif self.states.get(conn_id) is FeedState.RESYNCING:
                    self._status(conn_id, FeedState.LIVE, "every book synced", 0)
            elif message.type is aiohttp.WSMsgType.ERROR:
                return f"socket error: {ws.exception()}", False
            else:  # CLOSE, CLOSING, CLOSED
                return f"closed ({ws.close_code})", False

    async def _send(self, conn_id: int, ws: aiohttp.ClientWebSocketResponse, frame: str) -> None:
        """Send a frame within the venue's request rate; the connector and the recorder see it
        as the replay of a capture shows it to them (subscriptions are learnt from it)."""
        limiter = self._send_limiters.get(conn_id)
        if limiter is not None:
            await limiter.acquire()
        await ws.send_str(frame)
        url = self._connections[conn_id].url
        self._handle(CaptureRecord(self._now(), RecordKind.SENT, url, frame, conn_id))

    async def _send_replies(self) -> None:
        """Send what the connector asked to send back, each on the connection it belongs to."""
        replies = self.venue.replies
        while replies:
            conn_id, frame = replies.popleft()
            ws = self._sockets.get(conn_id)
            if ws is not None and not ws.closed:  # an answer to a closed connection is moot
                await self._send(conn_id, ws, frame)

    # -- resync ----------------------------------------------------------------------------

    async def _resync(
        self,
        conn_id: int,
        ws: aiohttp.ClientWebSocketResponse,
        *,
        initial: bool = False,
    ) -> None:
        now = time.monotonic()
        for symbol in sorted(self.venue.resync_requests):
            if self._connection_of.get(symbol, conn_id) != conn_id:
                continue
            if symbol in self._fetching:
                continue  # a REST snapshot is on its way (its task retries by itself)
            started = self._resubscribed.get(symbol)
            if started is not None and now - started < self.config.resubscribe_timeout_s:
                continue
            instrument = self.venue.instruments[symbol]
            url = self.venue.snapshot_url(instrument)
            if url is not None:
                self._fetching.add(symbol)
                self.counters.snapshot_requests += 1
                self._keep(asyncio.ensure_future(self._fetch_snapshot(symbol, url)))
                continue
            self._resubscribed[symbol] = now
            if initial:  # the venue sends a snapshot on subscribe; later ones need asking
                continue
            frames = self.venue.resubscribe_frames(instrument)  # none: the next message will do
            if frames:
                self.counters.resubscribes += 1
            for frame in frames:
                await self._send(conn_id, ws, frame)
        waiting = [s for s in self.venue.resync_requests if self._connection_of.get(s) == conn_id]
        if waiting and self.states.get(conn_id) is not FeedState.RESYNCING:
            reason = f"{len(waiting)} book(s) waiting for a snapshot"
            self._status(conn_id, FeedState.RESYNCING, reason, 0)

    def _answered_resubscribes(self) -> None:
        """Forget the resubscribes whose snapshot came: a book that fails again soon after
        must be resubscribed at once, not after ``resubscribe_timeout_s``."""
        requests = self.venue.resync_requests
        for symbol in [s for s in self._resubscribed if s not in requests]:
            del self._resubscribed[symbol]

    async def _fetch_snapshot(self, symbol: str, url: str) -> None:
        attempt = 0
        while not self._stopping.is_set():
            try:
                body = await self.http.get(
                    self.venue.name, self.venue.rest_requests_per_second, url
                )
            except RestError as error:
                self.counters.rest_errors[str(error.status or "network")] += 1
                log.warning("%s: snapshot %s", self.venue.name, error)
                delay = error.retry_after_s or backoff_delay(attempt, self.config, self._rng)
                attempt += 1
                await asyncio.sleep(min(delay, self.config.rest_retry_max_s))
                continue
            self.counters.snapshots += 1
            self._fetching.discard(symbol)
            self._handle(CaptureRecord(self._now(), RecordKind.REST, url, body, self._rest_conn))
            return

    async def _poll(self, url: str, every: float) -> None:
        """Fetch a REST URL every ``every`` seconds for the connector (REST-only data)."""
        while not self._stopping.is_set():
            try:
                body = await self.http.get(
                    self.venue.name, self.venue.rest_requests_per_second, url
                )
            except RestError as error:
                self.counters.rest_errors[str(error.status or "network")] += 1
            else:
                self.counters.polls += 1
                self._handle(
                    CaptureRecord(self._now(), RecordKind.REST, url, body, self._rest_conn)
                )
            with contextlib.suppress(TimeoutError):  # sleep, unless stopped meanwhile
                await asyncio.wait_for(self._stopping.wait(), every)

    def _books_lost(self, connection: Connection, reason: str) -> None:
        """A connection went away: its books may miss updates from now on."""
        out: list[MarketEvent] = []
        for symbol in connection.symbols:
            book = self.venue.books.get(symbol)
            if book is not None:
                self.venue.out_of_sync(book, reason, 0, self._now(), out, gap=False)
        if out:
            self.sink(self.venue, out)

    # -- plumbing --------------------------------------------------------------------------

    def _handle(self, record: CaptureRecord) -> None:
        if self.recorder is not None:
            self.recorder.write(record)
        out: list[MarketEvent] = []
        feed(self.venue, record, out)
        if out:
            self.sink(self.venue, out)

    def _now(self) -> int:
        """Receive time: the wall clock, made strictly increasing so that a recording of this
        session replays in exactly the order it was handled."""
        self._last_ns = max(time.time_ns(), self._last_ns + 1)
        return self._last_ns

    def _status(self, conn_id: int, state: FeedState, reason: str, attempt: int) -> None:
        self.states[conn_id] = state
        event = FeedStatus(self.venue.name, "", 0, self._now(), state, reason, conn_id, attempt)
        self.sink(self.venue, [event])


# -- running a session from the command line ---------------------------------------------------


async def run_live(
    venue_name: str,
    symbols: Sequence[str],
    sink: Sink,
    *,
    endpoints: Endpoints | None = None,
    recorder: Recorder | None = None,
    duration_s: float | None = None,
    on_tick: Callable[[LiveSession], None] | None = None,
    tick_s: float = 0.25,
    config: LiveConfig | None = None,
) -> LiveSession:
    """Run a session on ``symbols`` of a registered venue until ``duration_s`` has passed or
    the process is interrupted (Ctrl-C, SIGTERM), then stop it cleanly and return it.

    The venue's instruments are fetched first (and recorded, as the capture's ``VENUE.0``).
    ``on_tick`` is called every ``tick_s`` seconds
    (a status line, a ladder). Instruments that cannot be fetched, or a symbol the venue does
    not list, raise ``ConfigError``."""
    cls = venue_class(venue_name)
    endpoints = endpoints or cls.default_endpoints
    loop = asyncio.get_running_loop()
    interrupted = asyncio.Event()
    handled = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        # Unix, main thread only; elsewhere Ctrl-C raises KeyboardInterrupt as usual.
        with contextlib.suppress(NotImplementedError, ValueError, RuntimeError):
            loop.add_signal_handler(sig, interrupted.set)
            handled.append(sig)
    try:
        async with aiohttp.ClientSession() as http_session:
            http = RestClient(http_session)
            try:
                instruments = await load_instruments(http, cls, endpoints, recorder)
            except RestError as error:  # a wrong URL, no network: nothing to run
                raise ConfigError(f"{cls.name}: cannot list the instruments: {error}") from None
            unknown = set(symbols) - {i.symbol for i in instruments}
            if unknown:
                listed = f"{cls.name} lists {len(instruments)} instruments"
                raise ConfigError(f"{listed}, not {', '.join(sorted(unknown))}")
            venue = cls(instruments, symbols, endpoints=endpoints)
            wanted = [venue.instruments[symbol] for symbol in symbols]
            session = LiveSession(venue, wanted, http, sink, config=config, recorder=recorder)
            task = asyncio.ensure_future(session.run())
            deadline = None if duration_s is None else time.monotonic() + duration_s
            while not interrupted.is_set() and not task.done():
                wait = tick_s if deadline is None else min(tick_s, deadline - time.monotonic())
                if wait <= 0:
                    break
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(interrupted.wait(), wait)
                if on_tick is not None:
                    on_tick(session)
            session.stop()
            await task
            if on_tick is not None:
                on_tick(session)
            return session
    finally:
        for sig in handled:
            loop.remove_signal_handler(sig)
