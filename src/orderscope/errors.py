"""Typed errors for bad input. Each names the venue, the channel and a clip of the frame.

A connector raises one of these *before* it changes any state, so a bad frame never leaves a
book half-updated. The session that feeds frames catches exactly ``FrameError``, counts it,
resyncs the book it concerned (if any) and goes on.
"""

from __future__ import annotations

CLIP_CHARS = 160


def clip(frame: str | bytes, limit: int = CLIP_CHARS) -> str:
    text = frame.decode("utf-8", "replace") if isinstance(frame, bytes) else frame
    return text if len(text) <= limit else text[: limit - 3] + "..."


class OrderscopeError(Exception):
    """Base of every error orderscope raises on purpose."""


class FrameError(OrderscopeError):
    """A frame that could not be used.

    ``symbol`` is the unified symbol when the frame could be attributed to one, else None;
    ``book`` says the frame was a book update, so that symbol's book may now be missing an
    update and is resynced.
    """

    kind = "bad_frame"

    def __init__(
        self,
        venue: str,
        channel: str,
        frame: str | bytes,
        reason: str,
        symbol: str | None = None,
        *,
        book: bool = False,
    ) -> None:
        self.venue = venue
        self.channel = channel
        self.frame_clip = clip(frame)
        self.reason = reason
        self.symbol = symbol
        self.book = book
        super().__init__(f"{venue} {channel}: {reason} in frame {self.frame_clip}")


class MalformedFrame(FrameError):
    """Not valid JSON (or gzip, ...), or not the shape the channel defines."""

    kind = "malformed"


class BadValue(FrameError):
    """Well-formed, but a value is impossible: a negative or NaN size, a price off precision."""

    kind = "bad_value"


class UnknownSymbol(FrameError):
    """A symbol the venue's instrument list does not have."""

    kind = "unknown_symbol"


class UnsubscribedChannel(FrameError):
    """Data for a channel or symbol this session did not subscribe to."""

    kind = "unsubscribed"


class VenueErrorMessage(FrameError):
    """The venue itself reported an error (rejected subscription, rate limit, ...)."""

    kind = "venue_error"


class ConfigError(OrderscopeError):
    """Bad configuration or arguments (unknown venue, missing exchange info, ...)."""
