"""Binance USD-M futures: the spot protocol with the futures sync rules.

Protocol: ``fstream`` combined streams (``depth@100ms`` diffs carrying ``pu``, ``aggTrade``,
``bookTicker``) and REST ``GET /fapi/v1/depth``. Update ids are not consecutive on futures, so
continuity is stated with ``pu`` (the previous diff's ``u``), as Binance documents:

1. drop buffered diffs with ``u < lastUpdateId``;
2. the first diff applied must have ``U <= lastUpdateId <= u``;
3. afterwards each diff's ``pu`` must equal the previous diff's ``u``.

Futures data: ``markPrice@1s`` (mark and index price, funding rate and next funding time) makes
``FundingRate`` events, ``forceOrder`` (the latest liquidation per symbol and second) makes
``Liquidation`` events, and open interest, which Binance publishes over REST only
(``GET /fapi/v1/openInterest``), makes ``OpenInterest`` events from the responses a live
session polls (``poll_urls``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import ClassVar

import msgspec

from orderscope.errors import BadValue, MalformedFrame
from orderscope.fixed import NumberFormatError, decimals_of, parse_fixed
from orderscope.model import (
    BookDelta,
    FundingRate,
    Instrument,
    InstrumentKind,
    Liquidation,
    MarketEvent,
    OpenInterest,
    Side,
)
from orderscope.venues.base import Endpoints, SubscribeLimits
from orderscope.venues.binance import _SYMBOL_IN_URL, MS, BinanceSpot, _SymbolInfo

OPEN_INTEREST_POLL_S = 10.0  # Binance updates open interest about every few seconds
RATE_DECIMALS = 18  # funding rates are checked to be plain decimals of at most this many


class _MarkPrice(msgspec.Struct):
    s: str
    p: str  # mark price
    E: int = 0
    i: str = ""  # index price
    r: str = ""  # funding rate ("" on dated contracts)
    T: int = 0  # next funding time (0 on dated contracts)


class _ForceOrderDetail(msgspec.Struct):
    s: str
    S: str  # the liquidation order's side: SELL closes a long
    q: str  # original quantity
    p: str  # price
    ap: str = "0"  # average fill price
    z: str = "0"  # filled quantity, accumulated
    T: int = 0


class _ForceOrder(msgspec.Struct):
    o: _ForceOrderDetail
    E: int = 0


class _OpenInterest(msgspec.Struct):
    symbol: str
    openInterest: str
    time: int = 0


_MARK_PRICE = msgspec.json.Decoder(_MarkPrice)
_FORCE_ORDER = msgspec.json.Decoder(_ForceOrder)
_OPEN_INTEREST = msgspec.json.Decoder(_OpenInterest)


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

    def stream_names(self, instrument: Instrument) -> list[str]:
        low = instrument.venue_symbol.lower()
        return [*super().stream_names(instrument), f"{low}@markPrice@1s", f"{low}@forceOrder"]

    def poll_urls(self, instruments: list[Instrument]) -> list[tuple[str, float]]:
        rest = self.endpoints.rest
        return [
            (f"{rest}/fapi/v1/openInterest?symbol={i.venue_symbol}", OPEN_INTEREST_POLL_S)
            for i in instruments
        ]

    def _on_mark_price(
        self,
        channel: str,
        venue_symbol: str,
        data: str | bytes | msgspec.Raw,
        frame: str | bytes,
        recv_ns: int,
        out: list[MarketEvent],
    ) -> None:
        msg = self.decode(_MARK_PRICE, data, channel, frame)
        instrument = self.attribute(channel, venue_symbol or msg.s, frame)
        if instrument is None:
            return
        pd = instrument.price_decimals
        try:
            mark = parse_fixed(msg.p, pd)
            index = parse_fixed(msg.i, pd) if msg.i else None
            if msg.r:  # a signed decimal: checked, and kept as the venue wrote it
                parse_fixed(msg.r.removeprefix("-"), RATE_DECIMALS)
        except NumberFormatError as exc:
            raise BadValue(self.name, channel, frame, str(exc), instrument.symbol) from None
        if not msg.r:  # a dated contract: a mark price, no funding
            return
        out.append(
            FundingRate(
                self.name, instrument.symbol, msg.E * MS, recv_ns, msg.r, msg.T * MS, mark, index
            )
        )

    def _on_force_order(
        self,
        channel: str,
        venue_symbol: str,
        data: str | bytes | msgspec.Raw,
        frame: str | bytes,
        recv_ns: int,
        out: list[MarketEvent],
    ) -> None:
        msg = self.decode(_FORCE_ORDER, data, channel, frame)
        order = msg.o
        instrument = self.attribute(channel, venue_symbol or order.s, frame)
        if instrument is None:
            return
        if order.S not in ("BUY", "SELL"):
            raise BadValue(self.name, channel, frame, f"side {order.S!r}", instrument.symbol)
        try:
            average = parse_fixed(order.ap, instrument.price_decimals)
            filled = parse_fixed(order.z, instrument.size_decimals)
            price = average or parse_fixed(order.p, instrument.price_decimals)
            size = filled or parse_fixed(order.q, instrument.size_decimals)
        except NumberFormatError as exc:
            raise BadValue(self.name, channel, frame, str(exc), instrument.symbol) from None
        side = Side.BUY if order.S == "BUY" else Side.SELL
        out.append(
            Liquidation(
                self.name, instrument.symbol, (order.T or msg.E) * MS, recv_ns, price, size, side
            )
        )

    def on_rest(self, url: str, body: str | bytes, recv_ns: int, out: list[MarketEvent]) -> None:
        if "/openInterest" not in url:
            super().on_rest(url, body, recv_ns, out)
            return
        self.stats.rest_responses += 1
        match = _SYMBOL_IN_URL.search(url)
        if match is None:
            raise MalformedFrame(self.name, "rest openInterest", url, "no symbol in the URL")
        instrument = self.instrument(match.group(1).upper(), "rest openInterest", body)
        if not self.wants(instrument.symbol):
            return
        msg = self.decode(_OPEN_INTEREST, body, "rest openInterest", body, instrument.symbol)
        try:
            value = parse_fixed(msg.openInterest, instrument.size_decimals)
        except NumberFormatError as exc:
            raise BadValue(
                self.name, "rest openInterest", body, str(exc), instrument.symbol
            ) from None
        out.append(OpenInterest(self.name, instrument.symbol, msg.time * MS, recv_ns, value))

    @staticmethod
    def _is_stale(snapshot_id: int, delta: BookDelta) -> bool:
        return delta.last_sequence < snapshot_id

    @staticmethod
    def _bridges(snapshot_id: int, delta: BookDelta) -> bool:
        return delta.first_sequence <= snapshot_id <= delta.last_sequence

    @staticmethod
    def _continues(last_u: int, delta: BookDelta, prev_u: int) -> bool:
        return prev_u == last_u


BinanceFutures.handlers = {
    **BinanceSpot.handlers,
    "markPrice": BinanceFutures._on_mark_price,
    "forceOrder": BinanceFutures._on_force_order,
}
