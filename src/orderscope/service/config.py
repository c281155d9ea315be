"""The service's configuration: a TOML file, then command-line flags over it.

```toml
[server]
host = "127.0.0.1"          # loopback by default; another address needs a token
port = 8000
token = "..."               # or the ORDERSCOPE_TOKEN environment variable
cors_origins = []           # CORS is closed unless origins are listed
requests_per_second = 20.0  # per client address, REST and WebSocket handshakes
burst = 40
push_interval = 0.1         # seconds between two engine flushes (book, footprint, CVD pushes)
event_loop = "auto"         # "uvloop" (the default where installed: Linux, macOS) or "asyncio"

[websocket]
max_pending = 2000          # messages waiting for one client; beyond, the client is dropped
max_clients = 200
messages_per_second = 10.0  # what one client may send (subscriptions, pings)

[feeds]
venues = ["binance", "coinbase", "kraken", "okx", "bybit"]
symbols = ["BTC/USDT", "ETH/USDT", "BTC/USD", "ETH/USD"]

[analytics]
timeframes = ["1m", "5m", "15m"]
push_timeframe = "1m"
book_depth = 20
retain_trades = 200000
rows = { "BTC/USDT" = "1" }  # row heights: a price step, or "N" + "t" for N ticks
```

Every key is optional; unknown keys are errors (a typo must not be silently ignored).
"""

from __future__ import annotations

import ipaddress
import os
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path

import msgspec

from orderscope.errors import ConfigError
from orderscope.flowstate import EngineConfig
from orderscope.symbols import normalize_user_symbol

DEFAULT_VENUES = ("binance", "coinbase", "kraken", "okx", "bybit")
DEFAULT_SYMBOLS = ("BTC/USDT", "ETH/USDT", "BTC/USD", "ETH/USD")
TOKEN_ENV = "ORDERSCOPE_TOKEN"
#: The event loops the server can run on: "auto" is uvloop where it is installed.
EVENT_LOOPS = ("auto", "uvloop", "asyncio")


@dataclass(frozen=True, slots=True)
class ServerConfig:
    host: str = "127.0.0.1"
    port: int = 8000
    token: str | None = None
    cors_origins: tuple[str, ...] = ()
    requests_per_second: float = 20.0
    burst: int = 40
    push_interval: float = 0.1
    max_body_bytes: int = 1024  # the API takes no request bodies; a little slack for clients
    max_query_chars: int = 2048
    max_pending: int = 2000
    max_clients: int = 200
    ws_messages_per_second: float = 10.0
    ws_max_message_bytes: int = 4096
    allow_no_token: bool = False  # bind a non-loopback address without a token (not advised)
    event_loop: str = "auto"  # service.server.EVENT_LOOPS

    def check(self) -> None:
        if not 0 <= self.port <= 65535:
            raise ConfigError(f"port {self.port} is not a TCP port")
        if self.requests_per_second <= 0 or self.burst < 1:
            raise ConfigError("requests_per_second must be > 0 and burst >= 1")
        if not 0.01 <= self.push_interval <= 10:
            raise ConfigError("push_interval must be between 0.01 and 10 seconds")
        if self.max_pending < 10 or self.max_clients < 1:
            raise ConfigError("max_pending must be >= 10 and max_clients >= 1")
        if self.event_loop not in EVENT_LOOPS:
            choices = ", ".join(EVENT_LOOPS)
            raise ConfigError(f"event_loop {self.event_loop!r} is not one of {choices}")
        if self.token is not None and len(self.token) < 8:
            raise ConfigError("a token must have at least 8 characters")
        if not self.token and not is_loopback(self.host) and not self.allow_no_token:
            raise ConfigError(
                f"binding {self.host} exposes the API beyond this machine: set a token "
                f"(--token or {TOKEN_ENV}), or pass --allow-no-token if you really mean it"
            )


@dataclass(frozen=True, slots=True)
class FeedsConfig:
    venues: tuple[str, ...] = DEFAULT_VENUES
    symbols: tuple[str, ...] = DEFAULT_SYMBOLS


@dataclass(frozen=True, slots=True)
class ServiceConfig:
    server: ServerConfig = field(default_factory=ServerConfig)
    feeds: FeedsConfig = field(default_factory=FeedsConfig)
    engine: EngineConfig = field(default_factory=EngineConfig)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


# -- the file ------------------------------------------------------------------------------


class _Server(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    host: str | None = None
    port: int | None = None
    token: str | None = None
    cors_origins: list[str] | None = None
    requests_per_second: float | None = None
    burst: int | None = None
    push_interval: float | None = None
    event_loop: str | None = None


class _WebSocket(msgspec.Struct, forbid_unknown_fields=True):
    max_pending: int | None = None
    max_clients: int | None = None
    messages_per_second: float | None = None


class _Feeds(msgspec.Struct, forbid_unknown_fields=True):
    venues: list[str] | None = None
    symbols: list[str] | None = None


class _Analytics(msgspec.Struct, forbid_unknown_fields=True):
    timeframes: list[str] | None = None
    push_timeframe: str | None = None
    book_depth: int | None = None
    retain_trades: int | None = None
    retain_bars: int | None = None
    rows: dict[str, str] | None = None


class _File(msgspec.Struct, forbid_unknown_fields=True):
    server: _Server = msgspec.field(default_factory=_Server)
    websocket: _WebSocket = msgspec.field(default_factory=_WebSocket)
    feeds: _Feeds = msgspec.field(default_factory=_Feeds)
    analytics: _Analytics = msgspec.field(default_factory=_Analytics)


def _symbols(values: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    try:
        return tuple(dict.fromkeys(normalize_user_symbol(v) for v in values))
    except ValueError as exc:
        raise ConfigError(str(exc)) from None


def load_config(
    path: Path | None = None,
    *,
    venues: list[str] | None = None,
    symbols: list[str] | None = None,
    host: str | None = None,
    port: int | None = None,
    token: str | None = None,
    allow_no_token: bool = False,
) -> ServiceConfig:
    """The configuration from ``path`` (if any), the token from the environment, and flags
    (those that are not None) over both."""
    parsed = _File()
    if path is not None:
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
            parsed = msgspec.convert(raw, _File)
        except OSError as exc:
            raise ConfigError(f"cannot read {path}: {exc.strerror}") from None
        except (tomllib.TOMLDecodeError, msgspec.ValidationError) as exc:
            raise ConfigError(f"{path}: {exc}") from None
    s, w = parsed.server, parsed.websocket
    server = ServerConfig()
    server = replace(
        server,
        host=host or s.host or server.host,
        port=port if port is not None else s.port if s.port is not None else server.port,
        token=token or s.token or os.environ.get(TOKEN_ENV) or None,
        cors_origins=tuple(s.cors_origins or ()),
        requests_per_second=s.requests_per_second or server.requests_per_second,
        burst=s.burst or server.burst,
        push_interval=s.push_interval or server.push_interval,
        event_loop=s.event_loop or server.event_loop,
        max_pending=w.max_pending or server.max_pending,
        max_clients=w.max_clients or server.max_clients,
        ws_messages_per_second=w.messages_per_second or server.ws_messages_per_second,
        allow_no_token=allow_no_token,
    )
    server.check()
    f = parsed.feeds
    feeds = FeedsConfig(
        venues=tuple(v.lower() for v in (venues or f.venues or DEFAULT_VENUES)),
        symbols=_symbols(symbols or f.symbols or list(DEFAULT_SYMBOLS)),
    )
    if not feeds.venues or not feeds.symbols:
        raise ConfigError("at least one venue and one symbol are needed")
    a = parsed.analytics
    base = EngineConfig()
    engine = EngineConfig(
        timeframes=tuple(a.timeframes or base.timeframes),
        push_timeframe=a.push_timeframe or base.push_timeframe,
        rows={normalize_user_symbol(k): v for k, v in (a.rows or {}).items()},
        book_depth=a.book_depth or base.book_depth,
        retain_trades=a.retain_trades or base.retain_trades,
        retain_bars=a.retain_bars or base.retain_bars,
    )
    return ServiceConfig(server, feeds, engine)
