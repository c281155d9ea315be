"""Run the service: uvicorn serving the app in this process, with its feeds.

``serve`` blocks until interrupted. ``ServerThread`` runs the same server in a background thread
with its own event loop, on a free loopback port (tests and benchmarks).
"""

from __future__ import annotations

import asyncio
import errno
import logging
import os
import socket
import sys
import threading
import time
import webbrowser
from collections.abc import Callable
from typing import Any

import uvicorn

from orderscope.api.app import Feeds, Service, create_app
from orderscope.engine import Engine
from orderscope.errors import ConfigError
from orderscope.service.config import ServiceConfig

log = logging.getLogger("orderscope.service")
CONSOLE_BROWSERS = {"www-browser", "lynx", "links", "elinks", "w3m"}


def uvicorn_config(app: Any, config: ServiceConfig) -> uvicorn.Config:
    server = config.server
    return uvicorn.Config(
        app,
        log_level="warning",
        access_log=False,
        ws_max_size=server.ws_max_message_bytes,
        ws_ping_interval=20.0,
        ws_ping_timeout=20.0,
        lifespan="on",
        server_header=False,
        timeout_graceful_shutdown=3,
    )


def new_event_loop(choice: str = "auto") -> asyncio.AbstractEventLoop:
    """The server's event loop: uvloop's (libuv) for ``"uvloop"``, and for ``"auto"`` where it
    is installed; asyncio's own otherwise. The server's work is mostly the loop's (waking a
    sender task per client, socket writes, timers), which uvloop does in C: it cut the server's
    CPU and the latency tail at 2,000 frames/s with 20 clients (docs/PERFORMANCE.md, Service)."""
    if choice != "asyncio":
        try:
            import uvloop
        except ImportError:
            if choice == "uvloop":
                raise ConfigError("event_loop = 'uvloop' but uvloop is not installed") from None
        else:
            return uvloop.new_event_loop()
    return asyncio.new_event_loop()


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(256)
    sock.setblocking(False)
    return sock


def url_of(sock: socket.socket, token: str | None = None) -> str:
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/" + (f"#token={token}" if token else "")


def has_graphical_browser() -> bool:
    """Whether ``webbrowser`` would open a window (not a console browser in this terminal)."""
    if sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    ):
        return False
    try:
        browser = webbrowser.get()
    except webbrowser.Error:
        return False
    return getattr(browser, "name", "") not in CONSOLE_BROWSERS


async def _open_when_started(server: uvicorn.Server, url: str) -> None:
    while not server.started:
        await asyncio.sleep(0.05)
    await asyncio.get_running_loop().run_in_executor(None, webbrowser.open, url)


def serve(
    config: ServiceConfig,
    feeds: Callable[[Engine], Feeds],
    *,
    open_browser: bool,
    fallback_port: bool = False,
    announce: Callable[[str], None] = print,
) -> None:
    """Serve until interrupted (Ctrl-C). With ``fallback_port``, a port in use is replaced by
    a free one (the default port was not asked for by name)."""
    service = Service(config, feeds=feeds)
    app = create_app(service)
    try:
        sock = bind(config.server.host, config.server.port)
    except OSError as exc:
        if not fallback_port or exc.errno != errno.EADDRINUSE:
            raise ConfigError(
                f"cannot listen on {config.server.host}:{config.server.port}: {exc.strerror}"
            ) from None
        sock = bind(config.server.host, 0)
    server = uvicorn.Server(uvicorn_config(app, config))
    url = url_of(sock, config.server.token)
    announce(f"orderscope is serving on {url}  (API docs: {url_of(sock)}docs; Ctrl-C stops)")

    async def main() -> None:
        opener = None
        if open_browser and has_graphical_browser():
            opener = asyncio.ensure_future(_open_when_started(server, url))
        await server.serve(sockets=[sock])
        if opener is not None:
            opener.cancel()

    loop = new_event_loop(config.server.event_loop)
    with asyncio.Runner(loop_factory=lambda: loop) as runner:
        runner.run(main())


class ServerThread:
    """The server in a background thread on a free loopback port, until ``stop()``."""

    def __init__(self, service: Service) -> None:
        self.service = service
        self.sock = bind(service.config.server.host, service.config.server.port)
        self.port: int = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(uvicorn_config(create_app(service), service.config))
        self.loop: asyncio.AbstractEventLoop | None = None
        self._thread = threading.Thread(target=self._run, name="orderscope-server", daemon=True)

    def _run(self) -> None:
        self.loop = new_event_loop(self.service.config.server.event_loop)
        self.loop.run_until_complete(self.server.serve(sockets=[self.sock]))
        self.loop.close()

    def start(self, timeout: float = 20.0) -> ServerThread:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the server did not start")
            time.sleep(0.02)
        return self

    def call(self, fn: Callable[[], Any], timeout: float = 10.0) -> Any:
        """Run ``fn`` in the server's event loop (engine and hub are not thread-safe)."""
        assert self.loop is not None

        async def run() -> Any:
            return fn()

        return asyncio.run_coroutine_threadsafe(run(), self.loop).result(timeout)

    def stop(self) -> None:
        self.server.should_exit = True
        self._thread.join(15)
