"""What a live transport needs to know about a venue's WebSocket, as plain data.

A connector parses frames and keeps books; it never opens a socket. The live session (another
module) asks it where to connect (``ws_url``), what to send after connecting
(``subscribe_frames``), how to keep the connection alive (``keepalive``), the venue's
subscription limits (``limits``), and what to send to resync a book (``resync_frames``). Keeping
these small and pure lets the same connector run against the real venue, the emulator or a test.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class KeepAlive:
    """How a connection stays alive and how a dead one is noticed."""

    #: text frame the client sends to keep the connection (None: the venue needs none)
    ping_text: str | None
    #: send ``ping_text`` after this many seconds without receiving anything
    ping_after_s: float
    #: nothing received for this long: the feed is stale, reconnect
    stale_after_s: float


@dataclass(frozen=True, slots=True)
class SubscribeLimits:
    """The venue's documented subscription limits, for the transport to respect."""

    #: channels (subscriptions) one connection may carry (None: no documented limit)
    channels_per_connection: int | None
    #: subscribe requests (frames) a connection may send per second
    requests_per_second: float
    #: new connections per minute from one IP
    connections_per_minute: int | None = None


def batched(items: Sequence[T], size: int) -> list[list[T]]:
    """``items`` cut into consecutive lists of at most ``size`` (itertools.batched is 3.12+)."""
    if size < 1:
        raise ValueError("batch size must be >= 1")
    return [list(items[i : i + size]) for i in range(0, len(items), size)]
