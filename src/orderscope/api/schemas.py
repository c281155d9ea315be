"""Response bodies of the REST API, as msgspec Structs, and their place in the OpenAPI schema.

Every response is ``{"success": true, "data": ...}`` or ``{"success": false, "error": {"code",
"message"}}``. The Structs below are encoded by msgspec (fast, exact) and their JSON Schema,
made by ``msgspec.json.schema_components``, is merged into FastAPI's OpenAPI document, so the
documented shapes are the sent ones (the schemathesis tests check responses against them).
"""

from __future__ import annotations

from typing import Any

import msgspec

from orderscope.views import (
    BookStatusView,
    BookView,
    DeltaBarView,
    FeedStatusView,
    FootprintBarView,
    ProfileView,
)

REF = "#/components/schemas/{name}"


class ErrorBody(msgspec.Struct, frozen=True):
    code: str  # machine-readable: invalid_parameter, unknown_symbol, unauthorized, ...
    message: str  # for a person


class ErrorResponse(msgspec.Struct, frozen=True):
    success: bool
    error: ErrorBody


# -- data ----------------------------------------------------------------------------------


class VenueInstrument(msgspec.Struct, frozen=True):
    venue: str
    venue_symbol: str
    kind: str
    price_decimals: int
    size_decimals: int
    tick_size: str
    lot_size: str


class SymbolInfo(msgspec.Struct, frozen=True):
    symbol: str  # unified; in a URL path write BTC-USDT (or BTC-USDT-USDT for BTC/USDT:USDT)
    path: str  # the dash form
    venues: list[VenueInstrument]
    row: str | None  # the live footprint / profile row height (None until the first trade)
    trades: int


class SymbolsData(msgspec.Struct, frozen=True):
    timeframes: list[str]  # footprints kept live (other timeframes are computed on request)
    push_timeframe: str
    symbols: list[SymbolInfo]


class FootprintData(msgspec.Struct, frozen=True):
    symbol: str
    venue: str | None  # None: every venue together
    aggregation: str  # TIME | VOLUME | TICK_COUNT
    timeframe: str | None  # TIME bars
    bar_size: str | None  # VOLUME: base units a bar; TICK_COUNT: trades a bar
    row: str
    source: str  # live (the streaming bars) | trades (computed now from the retained trades)
    data_start: str | None  # the oldest data this answer could use (retention)
    bars: list[FootprintBarView]  # oldest first, at most ``limit``


class ProfileData(msgspec.Struct, frozen=True):
    symbol: str
    venue: str | None
    type: str  # VPSV (one profile per session) | VPVR (one over the range)
    source: str
    data_start: str | None
    profiles: list[ProfileView]


class DeltaData(msgspec.Struct, frozen=True):
    symbol: str
    venue: str | None
    timeframe: str
    source: str
    cvd: str | None  # running since the engine started (live source), None for computed
    data_start: str | None
    bars: list[DeltaBarView]


class VwapInfo(msgspec.Struct, frozen=True):
    session_start: str
    vwap: float
    sigma: float
    bands: list[tuple[float, float]]  # (lower, upper) at 1, 2 and 3 sigma


class WindowInfo(msgspec.Struct, frozen=True):
    seconds: float
    trades: int
    volume: str
    aggressive_buy_share: float | None
    large_share: float | None  # share of notional in large and block trades


class SizeClassInfo(msgspec.Struct, frozen=True):
    name: str
    count: int
    volume: str
    buy_volume: str
    sell_volume: str


class BookMetrics(msgspec.Struct, frozen=True):
    venue: str
    state: str
    best_bid: str | None
    best_ask: str | None
    mid: float | None
    spread: str | None
    spread_bps: float | None
    bid_depth_10bps: str  # size resting within 10 bps of the mid
    ask_depth_10bps: str
    imbalance_10bps: float | None  # (bid - ask) / (bid + ask) within 10 bps


class MetricsData(msgspec.Struct, frozen=True):
    symbol: str
    venue: str | None
    last_price: str | None
    last_time: str | None
    trades: int
    volume: str
    buy_volume: str
    sell_volume: str
    buy_pct: float | None
    cvd: str
    session_cvd: str
    vwap: VwapInfo | None
    window: WindowInfo
    size_classes: list[SizeClassInfo]
    books: list[BookMetrics]


class BookData(msgspec.Struct, frozen=True):
    symbol: str
    depth: int
    books: list[BookView]


class VenueBook(msgspec.Struct, frozen=True):
    symbol: str
    state: str
    crossed: bool
    levels: tuple[int, int]
    snapshots: int
    deltas: int
    gaps: int
    resyncs: int
    checksums_ok: int
    checksums_failed: int
    last_status: BookStatusView | None


class VenueInfo(msgspec.Struct, frozen=True):
    venue: str
    state: str  # starting | loading | running | unsupported | no_symbols | error
    reason: str
    symbols: list[str]
    frames: int
    errors: dict[str, int]
    connections: list[FeedStatusView]
    books: list[VenueBook]


class VenuesData(msgspec.Struct, frozen=True):
    venues: list[VenueInfo]


class HealthData(msgspec.Struct, frozen=True):
    status: str  # ok
    venues_running: int
    venues: int
    events: int
    trades: int
    clients: int
    event_time: str | None  # the latest event time the engine has seen


# -- envelopes (one per route, so the schema says exactly what ``data`` is) -----------------


def envelope(name: str, data: type[msgspec.Struct]) -> type[msgspec.Struct]:
    """``{"success": true, "data": <data>}`` as a Struct named ``name`` (its schema's name)."""
    return msgspec.defstruct(name, [("success", bool), ("data", data)], frozen=True)


SymbolsResponse = envelope("SymbolsResponse", SymbolsData)
FootprintResponse = envelope("FootprintResponse", FootprintData)
ProfileResponse = envelope("ProfileResponse", ProfileData)
DeltaResponse = envelope("DeltaResponse", DeltaData)
MetricsResponse = envelope("MetricsResponse", MetricsData)
BookResponse = envelope("BookResponse", BookData)
VenuesResponse = envelope("VenuesResponse", VenuesData)
HealthResponse = envelope("HealthResponse", HealthData)

RESPONSES: list[type[msgspec.Struct]] = [
    ErrorResponse,
    SymbolsResponse,
    FootprintResponse,
    ProfileResponse,
    DeltaResponse,
    MetricsResponse,
    BookResponse,
    VenuesResponse,
    HealthResponse,
]

_ENCODER = msgspec.json.Encoder()


def ok(response: type[msgspec.Struct], data: msgspec.Struct) -> bytes:
    """The encoded success envelope ``response(success=True, data=data)``."""
    return _ENCODER.encode(response(True, data))


def error_body(code: str, message: str) -> bytes:
    return _ENCODER.encode(ErrorResponse(False, ErrorBody(code, message)))


def components(extra: list[type[msgspec.Struct]] | None = None) -> dict[str, Any]:
    """JSON Schemas of every response body, for ``components/schemas`` of the OpenAPI."""
    _, found = msgspec.json.schema_components([*RESPONSES, *(extra or [])], ref_template=REF)
    return found


def json_content(schema_name: str, description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": REF.format(name=schema_name)}}},
    }


ERRORS: dict[int | str, dict[str, Any]] = {
    400: json_content("ErrorResponse", "Invalid parameter"),
    401: json_content("ErrorResponse", "Missing or wrong token"),
    404: json_content("ErrorResponse", "Unknown symbol or venue"),
    413: json_content("ErrorResponse", "Request too large"),
    414: json_content("ErrorResponse", "URL too long"),
    429: json_content("ErrorResponse", "Too many requests"),
}


def responses(schema_name: str) -> dict[int | str, dict[str, Any]]:
    return {200: json_content(schema_name, "Success"), **ERRORS}
