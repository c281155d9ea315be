"""Bitfinex on the wire: the msgspec Structs and Decoders of the v2 public WebSocket.

Interpreted on purpose: mypyc drops msgspec Struct class options (``array_like=``), so the
connector module (``orderscope.venues.bitfinex``) can be compiled while these stay plain Python.
"""

from __future__ import annotations

import msgspec


class _Event(msgspec.Struct):
    event: str
    channel: str = ""
    chanId: int | None = None
    symbol: str = ""
    prec: str = ""
    flags: int | None = None
    status: str = ""
    code: int | None = None
    msg: str = ""


class _Level(msgspec.Struct, array_like=True, gc=False):
    price: float
    count: int
    amount: float


class _TradeRow(msgspec.Struct, array_like=True, gc=False):
    id: int
    mts: int
    amount: float
    price: float


# Channel messages; extra trailing fields are ignored, as Bitfinex asks ("never hardcode
# lengths"); ``seq`` is there when SEQ_ALL is on.
class _BookUpdate(msgspec.Struct, array_like=True):
    chan_id: int
    level: _Level
    seq: int | None = None


class _BookSnapshot(msgspec.Struct, array_like=True):
    chan_id: int
    levels: list[_Level]
    seq: int | None = None


class _Heartbeat(msgspec.Struct, array_like=True):
    chan_id: int
    tag: str
    seq: int | None = None


class _ChecksumFrame(msgspec.Struct, array_like=True):
    chan_id: int
    tag: str
    checksum: int
    seq: int | None = None


class _TradeFrame(msgspec.Struct, array_like=True):
    chan_id: int
    tag: str
    trade: _TradeRow
    seq: int | None = None


class _TradeSnapshot(msgspec.Struct, array_like=True):
    chan_id: int
    trades: list[_TradeRow]
    seq: int | None = None


class _TickerFrame(msgspec.Struct, array_like=True):
    chan_id: int
    # BID, BID_SIZE, ASK, ASK_SIZE, DAILY_CHANGE, DAILY_CHANGE_RELATIVE, LAST, VOLUME, HIGH, LOW
    values: list[float]
    seq: int | None = None


_EVENT = msgspec.json.Decoder(_Event)
_BOOK_UPDATE = msgspec.json.Decoder(_BookUpdate)
_BOOK_SNAPSHOT = msgspec.json.Decoder(_BookSnapshot)
_HEARTBEAT = msgspec.json.Decoder(_Heartbeat)
_CHECKSUM = msgspec.json.Decoder(_ChecksumFrame)
_TRADE = msgspec.json.Decoder(_TradeFrame)
_TRADE_SNAPSHOT = msgspec.json.Decoder(_TradeSnapshot)
_TICKER = msgspec.json.Decoder(_TickerFrame)
_PAIR_LIST = msgspec.json.Decoder(list[list[str]])
