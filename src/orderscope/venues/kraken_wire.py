"""Kraken on the wire: the msgspec Structs and Decoders of the v1 WebSocket feed and AssetPairs.

Interpreted on purpose: mypyc refuses ``msgspec.field`` defaults (``as``/``bs`` are renamed
fields), so the connector module (``orderscope.venues.kraken``) can be compiled while these stay
plain Python, as for Coinbase (``venues.coinbase_wire``).
"""

from __future__ import annotations

import msgspec

# -- wire types ------------------------------------------------------------------------------


class _BookPayload(msgspec.Struct):
    """One payload object of a book frame: a snapshot or (part of) an update."""

    snap_asks: list[list[str]] | None = msgspec.field(default=None, name="as")
    snap_bids: list[list[str]] | None = msgspec.field(default=None, name="bs")
    a: list[list[str]] | None = None
    b: list[list[str]] | None = None
    c: str | None = None  # CRC32 as a decimal string, on the last payload of an update


class _TickerPayload(msgspec.Struct):
    a: tuple[str, int | str, str]  # best ask: price, whole lot volume, lot volume
    b: tuple[str, int | str, str]  # best bid
    c: tuple[str, str]  # last trade: price, volume
    v: tuple[str, str]  # volume: today, last 24h
    l: tuple[str, str]  # noqa: E741 - Kraken's field name; low: today, last 24h
    h: tuple[str, str]  # high: today, last 24h
    o: tuple[str, str]  # open: today, last 24h


class _Subscription(msgspec.Struct):
    name: str = ""
    depth: int = 0  # book; 0: not given (Kraken's default applies)
    interval: int = 0  # ohlc


class _Event(msgspec.Struct):
    """A control frame (object with ``event``), or a request the client sent."""

    event: str
    status: str = ""
    pair: str | list[str] = ""  # a string in replies, a list in subscribe requests
    channelName: str = ""
    subscription: _Subscription | None = None
    errorMessage: str = ""


class _AssetPair(msgspec.Struct):
    base: str
    quote: str
    pair_decimals: int
    lot_decimals: int
    wsname: str = ""
    altname: str = ""
    tick_size: str = ""  # newer AssetPairs responses publish it


class _AssetPairs(msgspec.Struct):
    error: list[str]
    result: dict[str, _AssetPair] = {}  # absent when ``error`` is not empty


_FRAME = msgspec.json.Decoder(list[msgspec.Raw] | _Event)
#: A book frame in one pass: ``[channelID, payload, (payload,) channelName, pair]`` with every
#: payload decoded as it is read (the general path decodes the array of raw items, then each
#: item again). Anything else fails or is not of that shape, and takes the general path.
_BOOK_FRAME = msgspec.json.Decoder(list[int | str | _BookPayload])
_TEXT = msgspec.json.Decoder(str)
_BOOK = msgspec.json.Decoder(_BookPayload)
_TRADES = msgspec.json.Decoder(list[list[str]])
_TICKER = msgspec.json.Decoder(_TickerPayload)
_REQUEST = msgspec.json.Decoder(_Event)
_ASSET_PAIRS = msgspec.json.Decoder(_AssetPairs)
