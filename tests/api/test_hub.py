"""The hub's fan-out rules and bounded, coalescing outboxes (no server needed)."""

from __future__ import annotations

import asyncio

import msgspec

from orderscope.api.hub import Client, Hub
from orderscope.engine import Engine, Update


def sink() -> tuple[list[str], object]:
    frames: list[str] = []

    async def send(text: str) -> None:
        frames.append(text)

    return frames, send


def test_outbox_coalesces_books_and_bounds_the_rest() -> None:
    async def scenario() -> None:
        frames, send = sink()
        client = Client(send, max_pending=3)  # type: ignore[arg-type]
        key = ("book", "BTC/USDT", "a")
        assert client.push(b'{"n":1}', key) and client.push(b'{"n":2}', key)
        assert all(client.push(b'{"t":%d}' % i, None) for i in range(3))
        assert not client.push(b'{"t":3}', None)  # the fourth waiting tick is one too many
        assert client.push(b'{"n":3}', key)  # books still coalesce
        assert client.pending == 4 and client.coalesced == 2
        task = asyncio.ensure_future(client.run_sender())
        await asyncio.sleep(0.01)
        task.cancel()
        assert [msgspec.json.decode(f) for f in frames] == [
            [{"n": 3}, {"t": 0}, {"t": 1}, {"t": 2}]  # one frame, the latest book in its place
        ]

    asyncio.run(scenario())


def test_routing_by_venue_and_aggregate() -> None:
    async def scenario() -> None:
        engine = Engine()
        hub = Hub(engine, max_pending=100)
        got: dict[str, list[tuple[str, str | None]]] = {}
        clients = {}
        for name, key in {
            "all": ("orderflow", "BTC/USDT", None),
            "a": ("orderflow", "BTC/USDT", "a"),
            "status": ("status", "", None),
        }.items():
            client = hub.add(sink()[1])  # type: ignore[arg-type]
            hub.subscribe(client, key)
            clients[name] = client
            got[name] = []

        for update in (
            Update("tick", "orderflow", "BTC/USDT", "a", 1),
            Update("tick", "orderflow", "BTC/USDT", "b", 2),
            Update("footprint_update", "orderflow", "BTC/USDT", "a", 3),
            Update("footprint_update", "orderflow", "BTC/USDT", None, 4),
            Update("tick", "orderflow", "ETH/USDT", "a", 5),
            Update("status", "status", "", "a", 6),
            Update("status", "status", "BTC/USDT", "b", 7),
        ):
            engine.publish(update)
        for name, client in clients.items():
            got[name] = [msgspec.json.decode(p)["data"] for p in client.take_batch()]
        assert got["all"] == [1, 2, 4]  # every venue's ticks, the aggregate footprint only
        assert got["a"] == [1, 3]
        assert got["status"] == [6, 7]
        assert hub.wants("book", "BTC/USDT", "a") is False
        assert hub.wants("tick", "BTC/USDT", "b") and not hub.wants(
            "footprint_update", "BTC/USDT", "b"
        )
        hub.remove(clients["all"])
        assert not hub.wants("tick", "BTC/USDT", "b")

    asyncio.run(scenario())


def test_a_client_too_far_behind_is_dropped() -> None:
    async def scenario() -> None:
        engine = Engine()
        hub = Hub(engine, max_pending=2)
        client = hub.add(sink()[1])  # type: ignore[arg-type]
        hub.subscribe(client, ("orderflow", "BTC/USDT", None))
        for i in range(3):
            engine.publish(Update("tick", "orderflow", "BTC/USDT", "a", i))
        assert client.dropped and client.closed.is_set() and client not in hub.clients
        assert hub.dropped == 1 and not hub.wants("tick", "BTC/USDT", "a")

    asyncio.run(scenario())
