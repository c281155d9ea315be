"""Coinbase on the wire: the msgspec Structs and Decoders of both Coinbase feeds.

Interpreted on purpose: mypyc drops msgspec Struct class options (``tag=``), so the connector
module (``orderscope.venues.coinbase``) can be compiled while these stay plain Python.
"""

from __future__ import annotations

from typing import Literal

import msgspec


class _Snapshot(msgspec.Struct, tag="snapshot", tag_field="type"):
    product_id: str
    bids: list[tuple[str, str]]
    asks: list[tuple[str, str]]
    time: str = ""  # absent in 2021


class _L2Update(msgspec.Struct, tag="l2update", tag_field="type"):
    product_id: str
    changes: list[tuple[Literal["buy", "sell"], str, str]]
    time: str = ""


class _Match(msgspec.Struct, tag="match", tag_field="type"):
    product_id: str
    trade_id: int
    side: Literal["buy", "sell"]  # the MAKER order's side
    size: str
    price: str
    time: str
    sequence: int = 0
    maker_order_id: str = ""
    taker_order_id: str = ""


class _LastMatch(_Match, tag="last_match"):
    pass


class _ExchangeTicker(msgspec.Struct, tag="ticker", tag_field="type"):
    product_id: str
    price: str | None = None
    open_24h: str | None = None
    volume_24h: str | None = None
    low_24h: str | None = None
    high_24h: str | None = None
    best_bid: str | None = None
    best_ask: str | None = None
    best_bid_size: str | None = None  # current feed only
    best_ask_size: str | None = None
    time: str = ""  # absent on the ticker sent at subscription in older feeds


class _ChannelSpec(msgspec.Struct):
    name: str
    product_ids: list[str] = []


class _Subscriptions(msgspec.Struct, tag="subscriptions", tag_field="type"):
    channels: list[_ChannelSpec]


class _Error(msgspec.Struct, tag="error", tag_field="type"):
    message: str = ""
    reason: str = ""


class _Head(msgspec.Struct):
    """What a frame that failed typed decoding still tells: its type and product."""

    type: str = ""
    product_id: str = ""


class _Product(msgspec.Struct):
    id: str
    base_currency: str
    quote_currency: str
    quote_increment: str
    base_increment: str


_EXCHANGE_MESSAGE = msgspec.json.Decoder(
    _Snapshot | _L2Update | _Match | _LastMatch | _ExchangeTicker | _Subscriptions | _Error
)
_HEAD = msgspec.json.Decoder(_Head)
_PRODUCTS = msgspec.json.Decoder(list[_Product])


class _AdvancedEnvelope(msgspec.Struct):
    channel: str = ""
    timestamp: str = ""
    sequence_num: int = -1
    events: msgspec.Raw = msgspec.Raw(b"[]")
    type: str = ""  # only error messages: {"type": "error", "message": ...}
    message: str = ""


class _L2Entry(msgspec.Struct):
    side: Literal["bid", "offer", "ask"]
    event_time: str
    price_level: str
    new_quantity: str


class _L2Event(msgspec.Struct):
    type: Literal["snapshot", "update"]
    product_id: str
    updates: list[_L2Entry]


class _MarketTrade(msgspec.Struct):
    trade_id: str
    product_id: str
    price: str
    size: str
    side: Literal["BUY", "SELL"]  # taken to be the maker's side, as on the Exchange feed
    time: str


class _MarketTradesEvent(msgspec.Struct):
    type: Literal["snapshot", "update"]
    trades: list[_MarketTrade]


class _AdvancedTicker(msgspec.Struct):
    product_id: str
    price: str | None = None
    volume_24_h: str | None = None
    low_24_h: str | None = None
    high_24_h: str | None = None
    best_bid: str | None = None
    best_bid_quantity: str | None = None
    best_ask: str | None = None
    best_ask_quantity: str | None = None


class _TickerEvent(msgspec.Struct):
    tickers: list[_AdvancedTicker]
    type: str = ""


class _SubscriptionsEvent(msgspec.Struct):
    subscriptions: dict[str, list[str]]


class _AdvancedProduct(msgspec.Struct):
    product_id: str
    base_increment: str
    quote_increment: str
    base_currency_id: str
    quote_currency_id: str
    price_increment: str = ""
    product_type: str = "SPOT"


class _AdvancedProducts(msgspec.Struct):
    products: list[_AdvancedProduct]


_ADVANCED_ENVELOPE = msgspec.json.Decoder(_AdvancedEnvelope)
_L2_EVENTS = msgspec.json.Decoder(list[_L2Event])
_TRADE_EVENTS = msgspec.json.Decoder(list[_MarketTradesEvent])
_TICKER_EVENTS = msgspec.json.Decoder(list[_TickerEvent])
_SUBSCRIPTION_EVENTS = msgspec.json.Decoder(list[_SubscriptionsEvent])
_ADVANCED_PRODUCTS = msgspec.json.Decoder(_AdvancedProducts)


class _Named(msgspec.Struct):
    product_id: str = ""


_NAMED_EVENTS = msgspec.json.Decoder(list[_Named])
