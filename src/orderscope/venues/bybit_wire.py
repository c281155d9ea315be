"""Bybit v5 on the wire: the public stream messages and the instruments-info response.

Message shapes as Bybit documents them for the v5 public streams (``orderbook``, ``publicTrade``,
``tickers``, ``allLiquidation``, the deprecated ``liquidation``) and for
``GET /v5/market/instruments-info``. The connector that uses them is ``orderscope.venues.bybit``.
"""

from __future__ import annotations

from datetime import UTC, datetime

import msgspec

from orderscope.errors import ConfigError
from orderscope.fixed import decimals_of, parse_fixed
from orderscope.model import Instrument, InstrumentKind
from orderscope.symbols import unified_symbol

_CATEGORY_OF_KIND = {
    InstrumentKind.SPOT: "spot",
    InstrumentKind.LINEAR_PERPETUAL: "linear",
    InstrumentKind.LINEAR_FUTURE: "linear",
    InstrumentKind.INVERSE_PERPETUAL: "inverse",
    InstrumentKind.INVERSE_FUTURE: "inverse",
}
_CONTRACT_KINDS = {
    "LinearPerpetual": InstrumentKind.LINEAR_PERPETUAL,
    "LinearFutures": InstrumentKind.LINEAR_FUTURE,
    "InversePerpetual": InstrumentKind.INVERSE_PERPETUAL,
    "InverseFutures": InstrumentKind.INVERSE_FUTURE,
}


class Envelope(msgspec.Struct):
    topic: str = ""
    type: str = ""
    ts: int = 0
    cts: int = 0
    data: msgspec.Raw = msgspec.Raw(b"")
    success: bool | None = None  # replies to subscribe / ping
    ret_msg: str = ""
    op: str = ""


class BookMessage(msgspec.Struct):
    s: str
    b: list[tuple[str, str]]
    a: list[tuple[str, str]]
    u: int
    seq: int = 0


class PublicTrade(msgspec.Struct):
    T: int
    s: str
    S: str  # the taker's side
    v: str
    p: str
    i: str


class TickerData(msgspec.Struct):
    """A tickers message: in a linear ``delta`` every absent (empty) field is unchanged."""

    symbol: str
    lastPrice: str = ""
    prevPrice24h: str = ""
    highPrice24h: str = ""
    lowPrice24h: str = ""
    volume24h: str = ""
    bid1Price: str = ""
    ask1Price: str = ""
    markPrice: str = ""
    indexPrice: str = ""
    openInterest: str = ""
    fundingRate: str = ""
    nextFundingTime: str = ""


class AllLiquidation(msgspec.Struct):
    T: int
    s: str
    S: str  # side of the liquidated position: Buy = a long was liquidated
    v: str
    p: str  # bankruptcy price


class LiquidationItem(msgspec.Struct):  # the deprecated ``liquidation`` topic
    updatedTime: int
    symbol: str
    side: str  # side of the liquidated position, as in allLiquidation
    size: str
    price: str


class _PriceFilter(msgspec.Struct):
    tickSize: str


class _LotSizeFilter(msgspec.Struct):
    qtyStep: str = ""  # derivatives
    basePrecision: str = ""  # spot


class _InstrumentInfo(msgspec.Struct):
    symbol: str
    baseCoin: str
    quoteCoin: str
    priceFilter: _PriceFilter
    lotSizeFilter: _LotSizeFilter
    contractType: str = ""
    settleCoin: str = ""
    deliveryTime: str = "0"
    priceScale: str = ""
    status: str = ""


class _InstrumentsResult(msgspec.Struct):
    category: str
    items: list[_InstrumentInfo] = msgspec.field(name="list")


class _InstrumentsResponse(msgspec.Struct):
    retCode: int
    result: _InstrumentsResult
    retMsg: str = ""


ENVELOPE = msgspec.json.Decoder(Envelope)
BOOK = msgspec.json.Decoder(BookMessage)
PUBLIC_TRADES = msgspec.json.Decoder(list[PublicTrade])
TICKER = msgspec.json.Decoder(TickerData)
ALL_LIQUIDATIONS = msgspec.json.Decoder(list[AllLiquidation] | AllLiquidation)
LIQUIDATIONS = msgspec.json.Decoder(list[LiquidationItem] | LiquidationItem)
_INSTRUMENTS = msgspec.json.Decoder(_InstrumentsResponse)

PRICE_FIELDS = (
    "lastPrice",
    "prevPrice24h",
    "highPrice24h",
    "lowPrice24h",
    "bid1Price",
    "ask1Price",
    "markPrice",
    "indexPrice",
)
SIZE_FIELDS = ("volume24h", "openInterest")
TICKER_FIELDS = frozenset(PRICE_FIELDS[:6]) | {"volume24h"}
FUNDING_FIELDS = frozenset({"fundingRate", "nextFundingTime", "markPrice", "indexPrice"})


def category_of(instrument: Instrument) -> str:
    return _CATEGORY_OF_KIND[instrument.kind]


def parse_instruments(venue: str, body: str | bytes) -> list[Instrument]:
    """Instruments from ``GET /v5/market/instruments-info`` (spot, linear or inverse)."""
    response = _INSTRUMENTS.decode(body)
    if response.retCode != 0:
        raise ConfigError(f"bybit instruments-info: error {response.retCode} {response.retMsg}")
    spot = response.result.category == "spot"
    instruments = []
    for s in response.result.items:
        kind = InstrumentKind.SPOT if spot else _CONTRACT_KINDS.get(s.contractType)
        if kind is None:  # options and unknown contract types
            continue
        tick = s.priceFilter.tickSize
        step = s.lotSizeFilter.basePrecision if spot else s.lotSizeFilter.qtyStep
        price_decimals = max(decimals_of(tick), int(s.priceScale or 0))
        size_decimals = decimals_of(step)
        expiry = None
        if kind in (InstrumentKind.LINEAR_FUTURE, InstrumentKind.INVERSE_FUTURE):
            delivery = datetime.fromtimestamp(int(s.deliveryTime) / 1000, UTC)
            expiry = delivery.strftime("%y%m%d")
        settle = None if spot else (s.settleCoin or s.quoteCoin)
        inverse = kind in (InstrumentKind.INVERSE_PERPETUAL, InstrumentKind.INVERSE_FUTURE)
        instruments.append(
            Instrument(
                venue=venue,
                symbol=unified_symbol(s.baseCoin, s.quoteCoin, kind, settle, expiry),
                venue_symbol=s.symbol,
                base=s.baseCoin,
                quote=s.quoteCoin,
                kind=kind,
                price_decimals=price_decimals,
                size_decimals=size_decimals,
                tick_size=parse_fixed(tick, price_decimals),
                lot_size=parse_fixed(step, size_decimals),
                settle=settle,
                contract_size="1" if inverse else None,
            )
        )
    return instruments
