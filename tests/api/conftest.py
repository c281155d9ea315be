"""The real server (uvicorn on a free loopback port, in a background thread) with the venue
emulator behind it: three emulated venues with synthetic BTC/USDT and ETH/USDT markets."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

import httpx
import pytest

from orderscope.api.app import Service
from orderscope.live import LiveConfig
from orderscope.model import BookState
from orderscope.service.config import FeedsConfig, ServerConfig, ServiceConfig
from orderscope.service.feeds import DEMO_SYMBOLS, DEMO_VENUES, DemoFeeds
from orderscope.service.server import ServerThread

TOKEN = "test-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
VENUES = tuple(v.name for v in DEMO_VENUES)
FAST = LiveConfig(stale_after_s=5.0, backoff_initial_s=0.05, backoff_max_s=0.5)


def config(**server: Any) -> ServiceConfig:
    base = ServerConfig(
        port=0, token=TOKEN, requests_per_second=10_000.0, burst=10_000, max_pending=500
    )
    return ServiceConfig(replace(base, **server), FeedsConfig(venues=VENUES, symbols=DEMO_SYMBOLS))


@dataclass
class Demo:
    server: ServerThread
    service: Service
    http: httpx.Client

    @property
    def ws_url(self) -> str:
        return self.server.url.replace("http://", "ws://") + f"/ws/orderflow?token={TOKEN}"

    def call(self, fn: Callable[[], Any]) -> Any:
        return self.server.call(fn)

    def feeds(self) -> DemoFeeds:
        feeds = self.service.feeds
        assert isinstance(feeds, DemoFeeds)
        return feeds


def wait_until(condition: Callable[[], bool], timeout: float = 30.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what or condition}")


@contextmanager
def quiet(demo: Demo) -> Iterator[None]:
    """The markets paused and what was in flight processed: the server's state holds still."""
    emulator = demo.feeds().emulator
    demo.call(emulator.pause)
    try:
        time.sleep(0.4)
        yield
    finally:
        demo.call(emulator.resume)


def start_demo(cfg: ServiceConfig, *, speed: float = 1.0, seed: int = 3) -> Demo:
    service = Service(
        cfg, feeds=lambda engine: DemoFeeds(engine, seed=seed, speed=speed, config=FAST)
    )
    server = ServerThread(service).start()
    demo = Demo(server, service, httpx.Client(base_url=server.url, headers=AUTH, timeout=20))

    def ready() -> bool:
        engine = service.engine
        books = [engine.book(v, s) for v in VENUES for s in DEMO_SYMBOLS]
        return all(b is not None and b.state is BookState.SYNCED for b in books) and all(
            (v, s) in engine.states for v in VENUES for s in DEMO_SYMBOLS
        )

    wait_until(lambda: demo.call(ready), what="every venue synced with trades")
    return demo


@pytest.fixture(scope="session")
def demo() -> Iterator[Demo]:
    running = start_demo(config())
    yield running
    running.http.close()
    running.server.stop()
