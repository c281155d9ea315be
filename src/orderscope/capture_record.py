"""One record of a capture (or of a live feed): what ``venues.base.feed`` hands a connector.

Its own module so that mypyc compiles it (``_compiled.COMPILED``) while ``capture`` (files,
parsing) stays interpreted: ``feed`` reads four fields of every record, which on a compiled
class are struct reads instead of a generic attribute lookup each (~110 instructions, some 7%
of a Bitfinex replay pass). ``orderscope.capture`` re-exports both names.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class RecordKind(enum.StrEnum):
    OPEN = "open"  # a WebSocket connection was opened (payload empty)
    SENT = "sent"  # a frame the client sent
    RECV = "recv"  # a frame received
    REST = "rest"  # a REST response; url is the request URL


@dataclass(frozen=True, slots=True)
class CaptureRecord:
    recv_ns: int
    kind: RecordKind
    url: str
    payload: str | bytes
    conn: int  # which connection (one per ws file); REST records have their own ids
