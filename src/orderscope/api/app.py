"""The FastAPI application: REST under /api/v1, the WebSocket, /health, the dashboard's files.

``Service`` ties one process together: the configuration, the engine, the WebSocket hub and the
feeds (live sessions or the demo's emulator). Its lifespan starts the feeds and the flush clock
(every ``push_interval`` seconds of wall time the engine publishes what accumulated) and stops
them at shutdown.

Extension point: ``orderscope.service.extensions`` lists the further analytics the engine runs
and their routers (the COB, signals, heatmap routes), included under /api/v1 beside the
built-in ones when their analytics are merged.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator, Callable, Mapping
from pathlib import Path
from typing import Any, Protocol

import fastapi_offline
import msgspec
from fastapi import FastAPI, Request, WebSocket
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.openapi.utils import get_openapi
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException

from orderscope.api import schemas as s
from orderscope.api import ws
from orderscope.api.hub import Hub
from orderscope.api.params import ApiError
from orderscope.api.rest import get
from orderscope.api.rest import router as rest_router
from orderscope.api.security import Guard, RateLimiter
from orderscope.engine import Engine
from orderscope.service import extensions
from orderscope.service.config import ServiceConfig
from orderscope.service.feeds import VenueFeed
from orderscope.views import book_status_view, feed_status_view, rfc3339

log = logging.getLogger("orderscope.api")

WEB_DIR = Path(__file__).resolve().parent.parent / "web"
#: Swagger UI's files, as fastapi-offline packages them (no CDN: the demo runs offline)
DOCS_DIR = Path(fastapi_offline.__file__).resolve().parent / "static"
STATUS_CODES = {404: "not_found", 405: "method_not_allowed", 413: "payload_too_large"}


class Feeds(Protocol):
    """Where events come from: ``service.feeds.LiveFeeds`` or ``DemoFeeds``."""

    @property
    def venues(self) -> Mapping[str, VenueFeed]: ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


class Service:
    """One server process: config, engine, hub, feeds."""

    def __init__(
        self,
        config: ServiceConfig,
        engine: Engine | None = None,
        feeds: Callable[[Engine], Feeds] | None = None,
    ) -> None:
        self.config = config
        self.engine = engine or Engine(config.engine, extensions.ANALYTICS)
        self.hub = Hub(self.engine, config.server.max_pending)
        self._make_feeds = feeds
        self.feeds: Feeds | None = None
        self._ticker: asyncio.Task[None] | None = None

    def known_symbols(self) -> set[str]:
        return set(self.engine.members) | set(self.config.feeds.symbols)

    def venue_names(self) -> set[str]:
        return set(self.engine.venues) | set(self.config.feeds.venues) | set(self.feed_venues())

    def feed_venues(self) -> Mapping[str, VenueFeed]:
        return self.feeds.venues if self.feeds is not None else {}

    def venue_infos(self) -> list[s.VenueInfo]:
        engine = self.engine
        feeds = self.feed_venues()
        names = sorted(set(feeds) | set(engine.venues))
        out = []
        for name in names:
            feed = feeds.get(name)
            venue = engine.venues.get(name)
            books = []
            if venue is not None:
                for symbol, book in sorted(venue.books.items()):
                    c = book.counters
                    status = engine.book_status.get((name, symbol))
                    books.append(
                        s.VenueBook(
                            symbol,
                            book.state.value,
                            book.crossed,
                            book.depth(),
                            c.snapshots,
                            c.deltas,
                            c.gaps,
                            c.resyncs,
                            c.checksums_ok,
                            c.checksums_failed,
                            book_status_view(status) if status is not None else None,
                        )
                    )
            connections = [
                feed_status_view(e) for (v, _), e in sorted(engine.feed_status.items()) if v == name
            ]
            out.append(
                s.VenueInfo(
                    name,
                    feed.state if feed is not None else "running",
                    feed.reason if feed is not None else "",
                    list(feed.symbols)
                    if feed is not None
                    else sorted(venue.books if venue else []),
                    venue.stats.frames if venue is not None else 0,
                    dict(sorted(venue.stats.errors.items())) if venue is not None else {},
                    connections,
                    books,
                )
            )
        return out

    @contextlib.asynccontextmanager
    async def lifespan(self, _app: FastAPI) -> AsyncIterator[None]:
        if self._make_feeds is not None:
            self.feeds = self._make_feeds(self.engine)
            await self.feeds.start()
        # Everything alive now (modules, schemas, the app) lives as long as the process: out of
        # the collector's sight, so that a full collection does not pause the feeds for tens of
        # milliseconds scanning it (measured: ~70 ms per gen-2 pass without this).
        gc.collect()
        gc.freeze()
        self._ticker = asyncio.ensure_future(self._flush_clock())
        try:
            yield
        finally:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
            if self.feeds is not None:
                await self.feeds.stop()

    async def _flush_clock(self) -> None:
        """The server's push cadence (wall time: the transport's business, not the engine's)."""
        interval = self.config.server.push_interval
        while True:
            await asyncio.sleep(interval)
            self.engine.flush()


def _error(
    status: int, code: str, message: str, headers: Mapping[str, str] | None = None
) -> Response:
    body = s.error_body(code, message)
    return Response(body, status_code=status, media_type="application/json", headers=headers)


def create_app(service: Service) -> Any:
    """The ASGI application (FastAPI behind the access-control middleware)."""
    app = FastAPI(
        title="orderscope",
        version="1",
        summary="Order-book and order-flow analytics of crypto venues: REST and WebSocket API",
        docs_url=None,  # served below from packaged files: the docs work offline too
        redoc_url=None,
        openapi_url="/openapi.json",
        lifespan=service.lifespan,
    )
    app.state.service = service

    @app.exception_handler(ApiError)
    async def api_error(_request: Request, exc: ApiError) -> Response:
        return _error(exc.status, exc.code, exc.message)

    @app.exception_handler(RequestValidationError)
    async def invalid(_request: Request, exc: RequestValidationError) -> Response:
        first = exc.errors()[0] if exc.errors() else {}
        loc = tuple(first.get("loc", ()))
        where = ".".join(str(p) for p in loc if p not in ("query", "path"))
        code = "invalid_symbol" if loc == ("path", "symbol") else "invalid_parameter"
        return _error(400, code, f"{where}: {first.get('msg', 'invalid')}")

    @app.exception_handler(HTTPException)
    async def http_error(_request: Request, exc: HTTPException) -> Response:
        code = STATUS_CODES.get(exc.status_code, "http_error")
        return _error(exc.status_code, code, str(exc.detail), exc.headers)

    @get(app, "/health", s.HealthResponse, "Liveness and a few counters")
    async def health() -> msgspec.Struct:
        engine = service.engine
        infos = service.feed_venues()
        running = sum(1 for f in infos.values() if f.state == "running")
        return s.HealthData(
            "ok",
            running,
            len(infos),
            engine.counters.events,
            engine.counters.trades,
            len(service.hub.clients),
            rfc3339(engine.clock_ns) if engine.clock_ns else None,
        )

    app.include_router(rest_router(service), prefix="/api/v1")
    for make in extensions.ROUTERS:
        app.include_router(make(service), prefix="/api/v1")

    @app.websocket("/ws/orderflow")
    async def orderflow(websocket: WebSocket) -> None:
        await ws.endpoint(service, websocket)

    @app.get("/docs", include_in_schema=False)
    async def docs() -> Response:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="orderscope API",
            swagger_js_url="/docs-static/swagger-ui-bundle.js",
            swagger_css_url="/docs-static/swagger-ui.css",
            swagger_favicon_url="/docs-static/favicon.png",
        )

    app.mount("/docs-static", StaticFiles(directory=DOCS_DIR), name="docs-static")
    app.mount("/", StaticFiles(directory=WEB_DIR, html=True), name="web")

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title, version=app.version, summary=app.summary, routes=app.routes
            )
            schema.setdefault("components", {}).setdefault("schemas", {}).update(
                s.components(list(extensions.SCHEMAS))
            )
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    server = service.config.server
    guarded: Any = Guard(
        app,
        token=server.token,
        limiter=RateLimiter(server.requests_per_second, server.burst),
        max_body_bytes=server.max_body_bytes,
        max_query_chars=server.max_query_chars,
    )
    if not server.cors_origins:
        return guarded
    # outside the guard: preflights carry no token, and refusals need the CORS headers too
    return CORSMiddleware(
        guarded,
        allow_origins=list(server.cors_origins),
        allow_methods=["GET"],
        allow_headers=["Authorization", "X-Orderscope-Token"],
    )
