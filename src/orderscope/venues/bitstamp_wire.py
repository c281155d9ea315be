"""Bitstamp on the wire: the msgspec Structs and Decoders of the Bitstamp connector.

Interpreted on purpose: mypyc does not compile msgspec Structs, so the connector module
(``orderscope.venues.bitstamp``) can be compiled while these stay plain Python.
"""

from __future__ import annotations

import msgspec


class _Envelope(msgspec.Struct):
    event: str
    channel: str = ""
    data: msgspec.Raw = msgspec.Raw(b"null")


class _Diff(msgspec.Struct):
    microtimestamp: str
    bids: list[tuple[str, str]]
    asks: list[tuple[str, str]]
    timestamp: str = ""


class _DiffRaw(msgspec.Struct):
    """``_Diff`` with the level arrays left as JSON, for ``NATIVE_RAW`` (same fields, types)."""

    microtimestamp: str
    bids: msgspec.Raw
    asks: msgspec.Raw
    timestamp: str = ""


class _DiffFrame(msgspec.Struct):
    """A frame read with its ``data`` as a ``_DiffRaw`` in one decode (no skip of ``data`` as
    Raw, then a second decode of it); ``event`` and ``channel`` typed as in ``_Envelope``, so a
    frame it decodes ``_Envelope`` decodes too."""

    data: _DiffRaw
    event: str
    channel: str = ""


class _Trade(msgspec.Struct):
    id: int
    microtimestamp: str
    price_str: str
    amount_str: str
    type: int  # 0 buy, 1 sell: the taker's side


class _Error(msgspec.Struct):
    message: str = ""
    code: int | str | None = None


class _Pair(msgspec.Struct):
    name: str  # "BTC/USD"
    url_symbol: str  # "btcusd"
    base_decimals: int
    counter_decimals: int
    trading: str = ""


_ENVELOPE = msgspec.json.Decoder(_Envelope)
_DIFF = msgspec.json.Decoder(_Diff)
_DIFF_RAW = msgspec.json.Decoder(_DiffRaw)
_DIFF_FRAME = msgspec.json.Decoder(_DiffFrame)
_TRADE = msgspec.json.Decoder(_Trade)
_ERROR = msgspec.json.Decoder(_Error)
_PAIRS = msgspec.json.Decoder(list[_Pair])
