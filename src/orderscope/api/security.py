"""Access control for exposed deployments, as one ASGI middleware in front of the app.

- **Token**: when one is configured, every request to the API (``/api/...``, ``/health``) and
  every WebSocket (``/ws/...``) must carry it: ``Authorization: Bearer TOKEN`` or
  ``X-Orderscope-Token: TOKEN``; a WebSocket may also pass ``?token=TOKEN`` (browsers cannot set
  headers on one). Compared in constant time. The dashboard's static files and the API docs
  (``/``, ``/docs``, ``/docs-static/``, ``/openapi.json``) hold no market data and are served
  without it.
- **Rate limits**: a token bucket per client address over the same paths (429 + Retry-After).
- **Size limits**: query strings and paths beyond ``max_query_chars`` (414), request bodies
  beyond ``max_body_bytes`` (413; the API takes none). WebSocket messages are limited by the
  server (``ws_max_size``) and the hub.

Refusals use the API's error body; a refused WebSocket gets the HTTP error where the server
supports the ASGI "websocket.http.response" extension, else a 1008 close.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qs

from orderscope.api.schemas import error_body

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]

MAX_BUCKETS = 10_000  # client addresses remembered; the idlest are forgotten beyond


class RateLimiter:
    """Token buckets per key: ``rate`` a second, bursts of ``burst``."""

    def __init__(self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic):
        self.rate = rate
        self.burst = burst
        self.clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, stamp)

    def allow(self, key: str) -> float:
        """0 when allowed (a token is taken), else the seconds until one is available."""
        now = self.clock()
        tokens, stamp = self._buckets.get(key, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - stamp) * self.rate)
        if tokens >= 1:
            self._buckets[key] = (tokens - 1, now)
            if len(self._buckets) > MAX_BUCKETS:
                self._forget()
            return 0.0
        self._buckets[key] = (tokens, now)
        return (1 - tokens) / self.rate

    def _forget(self) -> None:
        oldest = sorted(self._buckets.items(), key=lambda kv: kv[1][1])
        for key, _ in oldest[: len(oldest) // 2]:
            del self._buckets[key]


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return None


def presented_token(scope: Scope) -> str | None:
    auth = _header(scope, b"authorization")
    if auth is not None and auth[:7].lower() == "bearer ":
        return auth[7:].strip()
    token = _header(scope, b"x-orderscope-token")
    if token is not None:
        return token.strip()
    if scope["type"] == "websocket":
        query = parse_qs(bytes(scope.get("query_string", b"")).decode("latin-1"))
        values = query.get("token")
        if values:
            return values[0]
    return None


def protected(path: str) -> bool:
    return path.startswith(("/api/", "/ws/")) or path in ("/api", "/ws", "/health")


class Guard:
    """The middleware: size limits everywhere, then rate limit and token on protected paths."""

    def __init__(
        self,
        app: App,
        *,
        token: str | None,
        limiter: RateLimiter,
        max_body_bytes: int,
        max_query_chars: int,
    ) -> None:
        self.app = app
        self.token = token.encode() if token else None
        self.limiter = limiter
        self.max_body = max_body_bytes
        self.max_query = max_query_chars

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        if len(path) + len(scope.get("query_string", b"")) > self.max_query:
            await self._refuse(scope, send, 414, "uri_too_long", "the URL is too long")
            return
        if protected(path):
            client = scope.get("client")
            wait = self.limiter.allow(client[0] if client else "-")
            if wait:
                await self._refuse(
                    scope, send, 429, "rate_limited", "too many requests", retry_after=wait
                )
                return
            if self.token is not None:
                given = presented_token(scope)
                if given is None or not hmac.compare_digest(given.encode(), self.token):
                    await self._refuse(
                        scope, send, 401, "unauthorized", "a valid token is required"
                    )
                    return
        if kind == "http":
            length = _header(scope, b"content-length")
            chunked = (_header(scope, b"transfer-encoding") or "").lower() == "chunked"
            if length is not None and (not length.isdigit() or int(length) > self.max_body):
                await self._refuse(scope, send, 413, "payload_too_large", "the body is too large")
                return
            if chunked:
                body = await self._read_body(receive)
                if body is None:
                    await self._refuse(
                        scope, send, 413, "payload_too_large", "the body is too large"
                    )
                    return
                receive = _replay(body)
        await self.app(scope, receive, send)

    async def _read_body(self, receive: Receive) -> bytes | None:
        parts: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                return None
            parts.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(parts)

    async def _refuse(
        self,
        scope: Scope,
        send: Send,
        status: int,
        code: str,
        message: str,
        retry_after: float | None = None,
    ) -> None:
        body = error_body(code, message)
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
        ]
        if retry_after is not None:
            headers.append((b"retry-after", str(max(1, round(retry_after + 0.5))).encode()))
        if scope["type"] == "http":
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return
        if "websocket.http.response" in scope.get("extensions", {}):
            start = {"type": "websocket.http.response.start", "status": status, "headers": headers}
            await send(start)
            await send({"type": "websocket.http.response.body", "body": body})
            return
        await send({"type": "websocket.close", "code": 1008, "reason": code})


def _replay(body: bytes) -> Receive:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return {"type": "http.disconnect"}

    return receive
