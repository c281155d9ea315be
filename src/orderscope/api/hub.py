"""The WebSocket hub: engine updates fanned out to subscribed clients, never blocking the engine.

Each update is encoded once (msgspec) and appended to the outbox of every client subscribed to
its (channel, symbol, venue). An outbox is bounded:

- ``book``, ``footprint_update`` and ``delta_update`` are *coalesced*: an update waiting for a
  client is replaced by a newer one of the same (type, symbol, venue), so a client that reads
  slowly gets the latest book, not a backlog of stale ones;
- every other message (ticks, imbalances, signals, status) queues; when ``max_pending`` of them
  wait, the client is dropped (closed with 1013, "try again later").

A sender task per client drains its outbox: everything waiting goes out as one WebSocket text
frame holding a JSON array of messages, so a busy feed costs one frame per wake-up, not one per
message. The engine and the other clients never wait for a client: ``on_update`` only appends.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable

import msgspec

from orderscope.engine import Engine, Update

log = logging.getLogger("orderscope.hub")

COALESCED = frozenset({"book", "footprint_update", "delta_update"})
MAX_BATCH = 500  # messages in one frame
SubKey = tuple[str, str, str | None]  # (channel, symbol, venue or None for all / aggregate)
Send = Callable[[str], Awaitable[None]]


class Client:
    """One connected WebSocket client: its subscriptions and its bounded outbox."""

    def __init__(self, send: Send, max_pending: int, peer: str = "") -> None:
        self.send = send
        self.max_pending = max_pending
        self.peer = peer
        self.subscriptions: set[SubKey] = set()
        self._queue: deque[bytes | SubKey] = deque()
        self._latest: dict[SubKey, bytes] = {}
        self._queued = 0  # non-coalesced messages waiting
        self._wake = asyncio.Event()
        self.dropped: str | None = None  # why the hub dropped this client
        self.close_code = 1013  # 1013 "try again later" (too slow); 1008 for a policy breach
        self.closed = asyncio.Event()  # set when dropped
        self.sent_frames = 0
        self.sent_messages = 0
        self.coalesced = 0

    @property
    def pending(self) -> int:
        return len(self._queue)

    def push(self, payload: bytes, key: SubKey | None) -> bool:
        """Queue one encoded message; False when the client is too far behind."""
        if key is None:
            if self._queued >= self.max_pending:
                return False
            self._queued += 1
            self._queue.append(payload)
        elif key in self._latest:
            self._latest[key] = payload
            self.coalesced += 1
        else:
            self._latest[key] = payload
            self._queue.append(key)
        self._wake.set()
        return True

    def take_batch(self) -> list[bytes]:
        batch: list[bytes] = []
        queue, latest = self._queue, self._latest
        while queue and len(batch) < MAX_BATCH:
            item = queue.popleft()
            if isinstance(item, bytes):
                self._queued -= 1
                batch.append(item)
            else:
                batch.append(latest.pop(item))
        if queue:
            self._wake.set()
        return batch

    async def run_sender(self) -> None:
        """Send what waits, one frame (a JSON array) per wake-up, until cancelled."""
        while True:
            await self._wake.wait()
            self._wake.clear()
            batch = self.take_batch()
            if batch:
                await self.send(b"".join((b"[", b",".join(batch), b"]")).decode())
                self.sent_frames += 1
                self.sent_messages += len(batch)


class Hub:
    """Subscriptions and fan-out; plugged into an engine as subscriber and interest."""

    def __init__(self, engine: Engine, max_pending: int) -> None:
        self.engine = engine
        self.max_pending = max_pending
        self.clients: set[Client] = set()
        self._subs: dict[SubKey, set[Client]] = {}
        self._encoder = msgspec.json.Encoder()
        self._channel_of = {t: ch for ch, types in engine.channels.items() for t in types}
        self.dropped = 0
        engine.subscribe(self.on_update)
        engine.interest = self.wants

    # -- clients ---------------------------------------------------------------------------

    def add(self, send: Send, peer: str = "") -> Client:
        client = Client(send, self.max_pending, peer)
        self.clients.add(client)
        return client

    def remove(self, client: Client) -> None:
        self.clients.discard(client)
        for key in client.subscriptions:
            subs = self._subs.get(key)
            if subs is not None:
                subs.discard(client)
                if not subs:
                    del self._subs[key]
        client.subscriptions.clear()

    def subscribe(self, client: Client, key: SubKey) -> None:
        client.subscriptions.add(key)
        self._subs.setdefault(key, set()).add(client)
        for update in self.engine.current(*key):  # where the subscriber starts from
            self._deliver(client, update, self._encoder.encode(update))

    def unsubscribe(self, client: Client, key: SubKey) -> bool:
        if key not in client.subscriptions:
            return False
        client.subscriptions.discard(key)
        subs = self._subs.get(key)
        if subs is not None:
            subs.discard(client)
            if not subs:
                del self._subs[key]
        return True

    def send_control(self, client: Client, update: Update) -> None:
        """A reply to the client's own message (acks, pongs, errors): queued like any other."""
        self._deliver(client, update, self._encoder.encode(update))

    # -- fan-out ---------------------------------------------------------------------------

    def wants(self, kind: str, symbol: str, venue: str | None) -> bool:
        """Whether an update of this type and key would reach anyone (the engine's interest)."""
        channel = self._channel_of.get(kind, "")
        if (channel, symbol, venue) in self._subs or (channel, "", None) in self._subs:
            return True
        aggregated = kind in self.engine.aggregated_types
        return venue is not None and not aggregated and (channel, symbol, None) in self._subs

    def on_update(self, update: Update) -> None:
        channel, symbol, venue = update.channel, update.symbol, update.venue
        subs = self._subs
        if not symbol:  # about a whole venue (a connection's status): every subscriber
            targets: set[Client] = set()
            for (ch, _s, v), clients in subs.items():
                if ch == channel and (v is None or v == venue):
                    targets |= clients
        else:
            found = [subs.get((channel, symbol, venue)), subs.get((channel, "", None))]
            if venue is not None and update.type not in self.engine.aggregated_types:
                found.append(subs.get((channel, symbol, None)))
            sets = [s for s in found if s]
            targets = sets[0] if len(sets) == 1 else set().union(*sets)
        if not targets:
            return
        payload = self._encoder.encode(update)
        for client in tuple(targets):
            self._deliver(client, update, payload)

    def _deliver(self, client: Client, update: Update, payload: bytes) -> None:
        key = (update.type, update.symbol, update.venue) if update.type in COALESCED else None
        if client.dropped is None and not client.push(payload, key):
            self.drop(client, f"too slow: {client.max_pending} messages waiting")

    def drop(self, client: Client, reason: str, code: int = 1013) -> None:
        """Stop serving a client; its connection handler closes the socket with ``code``."""
        client.dropped = reason
        client.close_code = code
        self.dropped += 1
        self.remove(client)
        client.closed.set()
        log.info("dropped WebSocket client %s: %s", client.peer, reason)
