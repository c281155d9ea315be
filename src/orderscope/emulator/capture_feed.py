"""A recorded session served back: the emulator fed by a capture instead of a synthetic market.

``CaptureFeed`` serves one venue's capture (``orderscope.capture.VenueCapture``) under the path
prefix of the connector that reads it (``BINANCE`` files under ``/binance``):

- a WebSocket client (on any path under the prefix) receives every frame the recording
  received, on all of its connections merged in receive order, exactly as recorded, paced by
  the recorded receive times at the emulator's speed (0: as fast as the client reads). Each
  connection plays the recording from its start; after the last frame it stays open, silent.
- Subscriptions are not interpreted: a client gets what the recording subscribed to, whatever
  it asks for, so it should ask for the same (``recorded_subscriptions`` lists what the
  recording opened and sent; ``orderscope emulate`` prints it).
- Any other GET under the prefix is answered with the recorded REST response to the same path
  and query (exchange info from ``VENUE.0``, book snapshots from the http files); of several,
  the latest recorded at or before the point the playback has reached, else the first. A
  request the recording never made is a 404.

Faults: ``skip`` and ``corrupt`` hit the next frame played, whatever it is (the feed does not
parse frames); ``stall``, ``drop`` and REST failures work as for synthetic venues.
"""

from __future__ import annotations

import asyncio
import time
from urllib.parse import urlsplit

from aiohttp import web

from orderscope.capture import RecordKind, VenueCapture
from orderscope.emulator.server import Client, Frame, VenueProtocol
from orderscope.synthetic import MarketStep
from orderscope.venues import by_capture_prefix

YIELD_EVERY = 200  # frames played between yields to the loop when not paced


def _request_key(url: str) -> str:
    """What a REST response is found by: path and query, without scheme and host."""
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


class CaptureFeed(VenueProtocol):
    """One venue's capture, played to every connecting client."""

    def __init__(self, capture: VenueCapture, name: str | None = None) -> None:
        super().__init__({})
        self.name = name or by_capture_prefix(capture.prefix).name
        self.capture = capture
        self.frames: list[tuple[int, Frame]] = []
        self.responses: dict[str, list[tuple[int, Frame]]] = {}
        #: what the recording opened (URLs) and sent (subscription frames), in order
        self.recorded_subscriptions: list[str] = []
        for record in capture.info_records():
            if record.kind is RecordKind.REST:
                self.responses.setdefault(_request_key(record.url), []).append(
                    (record.recv_ns, record.payload)
                )
        for record in capture.records():
            if record.kind is RecordKind.RECV:
                self.frames.append((record.recv_ns, record.payload))
            elif record.kind is RecordKind.REST:
                self.responses.setdefault(_request_key(record.url), []).append(
                    (record.recv_ns, record.payload)
                )
            elif record.kind is RecordKind.OPEN:
                self.recorded_subscriptions.append(record.url)
            else:
                payload = record.payload
                text = payload if isinstance(payload, str) else payload.decode("utf-8", "replace")
                self.recorded_subscriptions.append(text)
        for answers in self.responses.values():
            answers.sort(key=lambda answer: answer[0])
        #: how far (recorded receive time) the furthest playback has come
        self.position_ns = self.frames[0][0] if self.frames else 0
        self.played = 0  # frames handed to clients

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get(f"/{self.name}", self.serve),
            web.get(f"/{self.name}/{{tail:.*}}", self.serve),
        ]

    def on_step(self, venue_symbol: str, step: MarketStep, now_ns: int) -> None:
        """A capture has no synthetic markets."""

    async def serve(self, request: web.Request) -> web.StreamResponse:
        if request.headers.get("Upgrade", "").lower() == "websocket":
            return await self.websocket(request)
        return self.rest(request)

    def rest(self, request: web.Request) -> web.Response:
        if (failure := self.rest_failure()) is not None:
            return failure
        path = request.path.removeprefix(f"/{self.name}") or "/"
        key = f"{path}?{request.query_string}" if request.query_string else path
        answers = self.responses.get(key)
        if not answers:
            return web.json_response(
                {"error": f"the recording has no response to {key}"}, status=404
            )
        body = answers[0][1]
        for recorded_ns, answer in answers:
            if recorded_ns > self.position_ns:
                break
            body = answer
        if isinstance(body, bytes):
            return web.Response(body=body, content_type="application/json")
        return web.Response(text=body, content_type="application/json")

    async def on_connected(self, client: Client, request: web.Request) -> None:
        """Play the recording to this client."""
        if not self.frames:
            return
        first_ns = self.frames[0][0]
        start = time.monotonic()
        for n, (recv_ns, payload) in enumerate(self.frames):
            if not self.running.is_set():  # paused: the recording waits, its pace is kept
                paused_at = time.monotonic()
                await self.running.wait()
                start += time.monotonic() - paused_at
            if self.speed > 0:
                delay = start + (recv_ns - first_ns) / 1e9 / self.speed - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
            elif n % YIELD_EVERY == 0:
                await asyncio.sleep(0)
            self.position_ns = max(self.position_ns, recv_ns)
            fault = self.book_fault()
            if fault == "skip":
                continue
            frame = payload[: len(payload) // 2] if fault == "corrupt" else payload
            await client.put(frame)  # a recording waits for its reader
            self.played += 1
