"""The WebSocket protocol against the real server: subscriptions, each message type, acks and
errors, and a slow client that stops reading dropped without affecting a fast one."""

from __future__ import annotations

import base64
import os
import socket
import time
from collections.abc import Callable, Iterator
from typing import Any

import msgspec
import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import ClientConnection, connect

from tests.api.conftest import TOKEN, VENUES, Demo, config, start_demo, wait_until

Message = dict[str, Any]


class Ws:
    """A test client: every frame from the server is a JSON array of messages."""

    def __init__(self, url: str) -> None:
        self.pending: list[Message] = []
        # no receive queue limit: closing must not wait behind unread frames
        self.conn: ClientConnection = connect(
            url, max_size=2**24, max_queue=None, open_timeout=10
        ).__enter__()

    def send(self, kind: str, data: Any = None) -> None:
        self.conn.send(msgspec.json.encode({"type": kind, "data": data}).decode())

    def subscribe(self, channel: str, symbol: str, venue: str | None = None) -> Message:
        self.send("subscribe", {"channel": channel, "symbol": symbol, "venue": venue})
        return self.until(lambda m: m["type"] in ("subscribed", "error"))

    def messages(self, timeout: float) -> Iterator[Message]:
        """Messages as they come; those of a frame not consumed yet wait for the next call."""
        deadline = time.monotonic() + timeout
        while True:
            while self.pending:
                yield self.pending.pop(0)
            left = deadline - time.monotonic()
            if left <= 0:
                return
            try:
                frame = self.conn.recv(timeout=left)
            except TimeoutError:
                return
            batch = msgspec.json.decode(frame)
            assert isinstance(batch, list) and batch, frame
            self.pending.extend(batch)

    def until(self, predicate: Callable[[Message], bool], timeout: float = 20.0) -> Message:
        for message in self.messages(timeout):
            if predicate(message):
                return message
        raise AssertionError("no such message in time")

    def close(self) -> None:
        self.conn.close()


@pytest.fixture
def ws(demo: Demo) -> Iterator[Ws]:
    client = Ws(demo.ws_url)
    yield client
    client.close()


def test_orderflow_pushes_each_type(ws: Ws) -> None:
    ack = ws.subscribe("orderflow", "BTC/USDT")
    assert ack == {
        "type": "subscribed",
        "channel": "orderflow",
        "symbol": "BTC/USDT",
        "venue": None,
        "data": {"subscriptions": 1},
    }
    seen: dict[str, Message] = {}
    venues: set[str] = set()
    for message in ws.messages(90):  # seconds at most; ends as soon as all are seen
        assert message["channel"] == "orderflow" and message["symbol"] == "BTC/USDT"
        seen.setdefault(message["type"], message)
        if message["type"] == "tick":
            venues.add(message["venue"])
        if len(seen) == 4 and venues == set(VENUES):
            break
    assert set(seen) == {"tick", "footprint_update", "delta_update", "imbalance_detected"}
    assert venues == set(VENUES)  # no venue asked: every venue's ticks
    tick = seen["tick"]["data"]
    assert set(tick) == {"time", "price", "size", "side", "trade_id", "received_ns"}
    assert tick["side"] in ("buy", "sell") and float(tick["price"]) > 0
    footprint = seen["footprint_update"]
    assert footprint["venue"] is None  # the aggregate of every venue
    assert footprint["data"]["timeframe"] == "1m" and footprint["data"]["bar"]["rows"]
    delta = seen["delta_update"]["data"]
    assert float(delta["bar_delta"]) == pytest.approx(
        float(delta["bar_buy"]) - float(delta["bar_sell"])
    )
    imbalance = seen["imbalance_detected"]["data"]
    assert imbalance["imbalances"] and imbalance["imbalances"][0]["side"] in ("buy", "sell")


def test_book_channel_for_one_venue(ws: Ws) -> None:
    assert ws.subscribe("book", "ETH-USDT", "kraken")["type"] == "subscribed"
    books = [m for m in ws.messages(1.5) if m["type"] == "book"]
    assert books, "the current book comes at once, then its updates"
    for message in books:
        assert message["venue"] == "kraken" and message["data"]["venue"] == "kraken"
        data = message["data"]
        assert data["state"] == "synced" and len(data["bids"]) == 20
        assert float(data["bids"][0][0]) < float(data["asks"][0][0])


def test_per_venue_orderflow(ws: Ws) -> None:
    ws.subscribe("orderflow", "ETH/USDT", "binance")
    for message in ws.messages(1.5):
        assert message["venue"] == "binance"


def test_status_starts_from_the_current_states(ws: Ws) -> None:
    assert ws.subscribe("status", "ETH/USDT", "coinbase")["type"] == "subscribed"
    current = [m for m in ws.messages(0.5) if m["type"] == "status"]
    kinds = {(m["venue"], m["data"]["kind"], m["symbol"]) for m in current}
    assert kinds == {("coinbase", "feed", ""), ("coinbase", "book", "ETH/USDT")}
    assert {m["data"]["state"] for m in current} <= {"live", "synced", "resyncing"}


def test_status_channel_reports_a_gap_and_its_resync(demo: Demo, ws: Ws) -> None:
    assert ws.subscribe("status", "")["type"] == "subscribed"
    protocol = demo.feeds().emulator.protocols["kraken"]

    def gap() -> None:
        protocol.faults.skip_book_frames = 1

    demo.call(gap)
    states: list[tuple[str, str]] = []  # the current states first, then the changes
    for message in ws.messages(20):
        if message["type"] == "status" and message["venue"] == "kraken":
            states.append((message["data"]["kind"], message["data"]["state"]))
            if ("book", "out_of_sync") in states:
                lost = states.index(("book", "out_of_sync"))
                if ("book", "synced") in states[lost:]:
                    break
    lost = states.index(("book", "out_of_sync"))
    assert ("book", "synced") in states[lost:], states


def test_unsubscribe_stops_the_updates(ws: Ws) -> None:
    ws.subscribe("orderflow", "ETH/USDT")
    ws.until(lambda m: m["type"] == "tick")
    ws.send("unsubscribe", {"channel": "orderflow", "symbol": "ETH-USDT"})
    ack = ws.until(lambda m: m["type"] == "unsubscribed")
    assert ack["data"] == {"subscriptions": 0}
    assert [m for m in ws.messages(1.5) if m["channel"] == "orderflow"] == []


def test_ping_pong(ws: Ws) -> None:
    ws.send("ping", {"id": 7})
    pong = ws.until(lambda m: m["type"] == "pong")
    assert pong["data"] == {"id": 7}


SUB = '{"type": "subscribe", "data": %s}'


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ("not json", "invalid_message"),
        ('{"type": "subscribe"}', "invalid_message"),
        ('{"type": "dance", "data": null}', "invalid_message"),
        (SUB % '{"channel": "gossip", "symbol": "BTC/USDT"}', "unknown_channel"),
        (SUB % '{"channel": "book", "symbol": "DOGE/USDT"}', "unknown_symbol"),
        (SUB % '{"channel": "book", "symbol": "@@"}', "invalid_symbol"),
        (SUB % '{"channel": "book", "symbol": "BTC/USDT", "venue": "x"}', "unknown_venue"),
        (SUB % '{"channel": "status", "symbol": "", "venue": "binance"}', "invalid_parameter"),
        (
            '{"type": "unsubscribe", "data": {"channel": "book", "symbol": "BTC/USDT"}}',
            "not_subscribed",
        ),
    ],
)
def test_bad_messages_get_an_error(ws: Ws, frame: str, code: str) -> None:
    ws.conn.send(frame)
    error = ws.until(lambda m: m["type"] == "error")
    assert error["data"]["code"] == code and error["data"]["message"]


def test_token_required(demo: Demo) -> None:
    url = demo.ws_url.split("?")[0]
    with pytest.raises(InvalidStatus) as refused:
        connect(url, open_timeout=10)
    assert refused.value.response.status_code == 401
    with connect(url, additional_headers={"Authorization": f"Bearer {TOKEN}"}) as ok:
        ok.send('{"type": "ping", "data": 1}')
        assert msgspec.json.decode(ok.recv(timeout=10))[0]["type"] == "pong"


# -- a slow client --------------------------------------------------------------------------


def raw_websocket(port: int, path: str) -> socket.socket:
    """A WebSocket that will never be read: a tiny receive buffer, the handshake by hand."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 2048)
    sock.connect(("127.0.0.1", port))
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
        "Sec-WebSocket-Version: 13\r\n\r\n".encode()
    )
    answer = b""
    while b"\r\n\r\n" not in answer:
        answer += sock.recv(1)
    assert answer.startswith(b"HTTP/1.1 101"), answer
    return sock


def send_text(sock: socket.socket, text: str) -> None:
    payload = text.encode()
    mask = os.urandom(4)
    assert len(payload) < 126
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    sock.sendall(bytes([0x81, 0x80 | len(payload)]) + mask + masked)


def test_slow_client_is_dropped_without_slowing_a_fast_one() -> None:
    running = start_demo(config(max_pending=600), speed=4.0, seed=11)
    slow = raw_websocket(running.server.port, f"/ws/orderflow?token={TOKEN}")
    fast = Ws(running.ws_url)
    try:
        fast.subscribe("orderflow", "BTC/USDT")
        for symbol in ("BTC/USDT", "ETH/USDT"):
            for channel in ("orderflow", "book"):
                # the slow one asks for much more (every venue's footprints too): its buffers fill
                for venue in (None, *VENUES):
                    sub = {"channel": channel, "symbol": symbol, "venue": venue}
                    send_text(
                        slow, msgspec.json.encode({"type": "subscribe", "data": sub}).decode()
                    )
        hub = running.service.hub
        ticks_before_drop = 0
        deadline = time.monotonic() + 90
        while not running.call(lambda: hub.dropped) and time.monotonic() < deadline:
            ticks_before_drop += sum(1 for m in fast.messages(0.5) if m["type"] == "tick")
        assert running.call(lambda: hub.dropped) == 1, "the slow client was not dropped"
        assert ticks_before_drop > 0
        # the fast client goes on, at the market's pace, and is the only one left
        ticks_after = [m for m in fast.messages(2.0) if m["type"] == "tick"]
        assert len(ticks_after) > 10
        assert running.call(lambda: len(hub.clients)) == 1
        # the server closed the slow one: its socket ends (EOF or reset) once drained
        slow.settimeout(10)
        wait_until(lambda: _closed(slow), timeout=20, what="the slow socket closed")
    finally:
        slow.close()
        fast.close()
        running.http.close()
        running.server.stop()


def _closed(sock: socket.socket) -> bool:
    try:
        while chunk := sock.recv(65536):
            del chunk
    except (ConnectionResetError, TimeoutError):
        return True
    return True
