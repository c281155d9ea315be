"""Binance USD-M futures: the spot protocol with the futures sync rules.

Protocol: ``fstream`` combined streams (``depth@100ms`` diffs carrying ``pu``, ``aggTrade``,
``bookTicker``) and REST ``GET /fapi/v1/depth``. Update ids are not consecutive on futures, so
continuity is stated with ``pu`` (the previous diff's ``u``), as Binance documents:

1. drop buffered diffs with ``u < lastUpdateId``;
2. the first diff applied must have ``U <= lastUpdateId <= u``;
3. afterwards each diff's ``pu`` must equal the previous diff's ``u``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import ClassVar

from orderscope.fixed import decimals_of
from orderscope.model import BookDelta, InstrumentKind
from orderscope.venues.base import Endpoints, SubscribeLimits
from orderscope.venues.binance import BinanceSpot, _SymbolInfo


class BinanceFutures(BinanceSpot):
    name = "binance_futures"
    capture_prefix = "BINANCE_FUTURES"
    protocol = "Binance USD-M futures WebSocket streams + REST /fapi/v1/depth (2021-2026 format)"
    default_endpoints = Endpoints("wss://fstream.binance.com", "https://fapi.binance.com")
    rest_depth_path: ClassVar[str] = "/fapi/v1/depth"
    exchange_info_path: ClassVar[str] = "/fapi/v1/exchangeInfo"
    rest_requests_per_second = 1.0  # depth?limit=1000 weighs 20 of 2400/min
    # futures take 10 frames a second from the client; the rest as on spot
    limits = SubscribeLimits(
        channels_per_connection=200, requests_per_second=10.0, connections_per_minute=60
    )

    @classmethod
    def _kind(cls, s: _SymbolInfo) -> tuple[InstrumentKind | None, str | None, str | None]:
        settle = s.marginAsset or s.quoteAsset
        if s.contractType == "PERPETUAL":
            return InstrumentKind.LINEAR_PERPETUAL, settle, None
        if s.contractType in ("CURRENT_QUARTER", "NEXT_QUARTER", "CURRENT_MONTH", "NEXT_MONTH"):
            expiry = datetime.fromtimestamp(s.deliveryDate / 1000, UTC).strftime("%y%m%d")
            return InstrumentKind.LINEAR_FUTURE, settle, expiry
        return None, None, None  # delisted / settling contracts have no contract type

    @classmethod
    def _decimals(cls, s: _SymbolInfo, tick: str, step: str) -> tuple[int, int]:
        return max(s.pricePrecision, decimals_of(tick)), max(s.quantityPrecision, decimals_of(step))

    @staticmethod
    def _is_stale(snapshot_id: int, delta: BookDelta) -> bool:
        return delta.last_sequence < snapshot_id

    @staticmethod
    def _bridges(snapshot_id: int, delta: BookDelta) -> bool:
        return delta.first_sequence <= snapshot_id <= delta.last_sequence

    @staticmethod
    def _continues(last_u: int, delta: BookDelta, prev_u: int) -> bool:
        return prev_u == last_u
