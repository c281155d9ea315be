"""The WebSocket endpoint ``/ws/orderflow``: the client protocol on top of the hub.

Client -> server, one JSON object per frame:

    {"type": "subscribe",   "data": {"channel": "orderflow", "symbol": "BTC/USDT"}}
    {"type": "subscribe",   "data": {"channel": "book", "symbol": "BTC-USDT", "venue": "binance"}}
    {"type": "unsubscribe", "data": {"channel": "orderflow", "symbol": "BTC/USDT"}}
    {"type": "ping", "data": <anything, echoed>}

Server -> client: every frame is a JSON array of messages ``{"type", "channel", "symbol",
"venue", "data"}`` (see docs/API.md): acks (``subscribed``, ``unsubscribed``), ``pong``,
``error``, and the pushed updates (``tick``, ``footprint_update``, ``imbalance_detected``,
``delta_update``, ``book``, ``status``, and what registered analytics add, e.g. ``signal``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING

import msgspec
from fastapi import WebSocket

from orderscope.api.hub import Client
from orderscope.api.params import ApiError, parse_symbol
from orderscope.api.security import RateLimiter
from orderscope.engine import Update

if TYPE_CHECKING:
    from orderscope.api.app import Service

log = logging.getLogger("orderscope.ws")

MAX_SUBSCRIPTIONS = 64
MAX_VIOLATIONS = 20  # rate-limited or invalid messages before the client is dropped


class _ClientMessage(msgspec.Struct, forbid_unknown_fields=True):
    type: str
    data: msgspec.Raw = msgspec.Raw(b"null")


class _Subscription(msgspec.Struct, forbid_unknown_fields=True):
    channel: str
    symbol: str = ""
    venue: str | None = None


class Ack(msgspec.Struct, frozen=True):
    subscriptions: int


class ErrorData(msgspec.Struct, frozen=True):
    code: str
    message: str


_decode_message = msgspec.json.Decoder(_ClientMessage)
_decode_subscription = msgspec.json.Decoder(_Subscription)


class Session:
    """One client connection's protocol state."""

    def __init__(self, service: Service, client: Client) -> None:
        self.service = service
        self.hub = service.hub
        self.client = client
        self.limiter = RateLimiter(service.config.server.ws_messages_per_second, burst=20)
        self.violations = 0

    def error(self, code: str, message: str, channel: str = "", symbol: str = "") -> None:
        self.violations += 1
        self.hub.send_control(
            self.client, Update("error", channel, symbol, None, ErrorData(code, message))
        )
        if self.violations >= MAX_VIOLATIONS:
            self.hub.drop(self.client, "too many invalid or rate-limited messages", 1008)

    def handle(self, text: str | bytes) -> None:
        if self.limiter.allow("client"):
            self.error("rate_limited", "too many messages; slow down")
            return
        try:
            message = _decode_message.decode(text)
        except msgspec.DecodeError as exc:
            self.error("invalid_message", f"not a message: {exc}")
            return
        if message.type == "ping":
            self.hub.send_control(self.client, Update("pong", "", "", None, message.data))
        elif message.type in ("subscribe", "unsubscribe"):
            try:
                sub = _decode_subscription.decode(message.data)
                key = self.resolve(sub)
            except msgspec.DecodeError as exc:
                self.error("invalid_message", f"bad subscription: {exc}")
                return
            except ApiError as exc:
                self.error(exc.code, exc.message, "", "")
                return
            if message.type == "subscribe":
                self.subscribe(key)
            else:
                done = self.hub.unsubscribe(self.client, key)
                kind = "unsubscribed" if done else "error"
                data: msgspec.Struct = Ack(len(self.client.subscriptions))
                if not done:
                    data = ErrorData("not_subscribed", "no such subscription")
                self.hub.send_control(self.client, Update(kind, *key, data))
        else:
            self.error("invalid_message", f"unknown message type {message.type[:32]!r}")

    def resolve(self, sub: _Subscription) -> tuple[str, str, str | None]:
        engine = self.service.engine
        if sub.channel not in engine.channels:
            known = ", ".join(sorted(engine.channels))
            raise ApiError(400, "unknown_channel", f"no channel {sub.channel[:32]!r} ({known})")
        if sub.channel == "status" and sub.symbol in ("", "*"):
            symbol = ""
        else:
            symbol = parse_symbol(sub.symbol)
            if symbol not in self.service.known_symbols():
                raise ApiError(404, "unknown_symbol", f"{symbol} is not served")
        venue = sub.venue.lower() if sub.venue else None
        if venue is not None and venue not in self.service.venue_names():
            raise ApiError(404, "unknown_venue", f"no venue {venue[:32]!r}")
        if symbol == "" and venue is not None:
            raise ApiError(
                400, "invalid_parameter", "a status subscription for all symbols has no venue"
            )
        return sub.channel, symbol, venue

    def subscribe(self, key: tuple[str, str, str | None]) -> None:
        client = self.client
        if key not in client.subscriptions and len(client.subscriptions) >= MAX_SUBSCRIPTIONS:
            self.error("too_many_subscriptions", f"at most {MAX_SUBSCRIPTIONS} subscriptions")
            return
        self.hub.send_control(
            client, Update("subscribed", *key, Ack(len(client.subscriptions) + 1))
        )
        self.hub.subscribe(client, key)


async def endpoint(service: Service, websocket: WebSocket) -> None:
    hub = service.hub
    if len(hub.clients) >= service.config.server.max_clients:
        await websocket.close(code=1013, reason="too many clients")
        return
    await websocket.accept()
    peer = f"{websocket.client.host}:{websocket.client.port}" if websocket.client else "-"
    client = hub.add(websocket.send_text, peer)
    session = Session(service, client)

    async def receive() -> None:
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
            payload = message.get("text")
            if payload is None:
                payload = message.get("bytes") or b""
            session.handle(payload)

    tasks = [
        asyncio.ensure_future(receive()),
        asyncio.ensure_future(client.run_sender()),
        asyncio.ensure_future(client.closed.wait()),
    ]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        results = await asyncio.gather(*tasks, return_exceptions=True)
        for result in results:  # a peer gone mid-send ends its tasks with the server's error
            if isinstance(result, BaseException) and not isinstance(result, asyncio.CancelledError):
                log.debug("WebSocket %s ended: %r", peer, result)
        hub.remove(client)
    if client.dropped is not None:
        with contextlib.suppress(RuntimeError, OSError, TimeoutError):
            reason = client.dropped[:100]
            await asyncio.wait_for(websocket.close(code=client.close_code, reason=reason), 1.0)
