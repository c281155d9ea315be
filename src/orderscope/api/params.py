"""Request parameters: validated, with an ``ApiError`` (a 4xx and its code) for anything wrong.

Symbols in a URL path are written with dashes (``BTC-USDT``; ``BTC-USDT-USDT`` for
``BTC/USDT:USDT``) or URL-encoded unified (``BTC%2FUSDT``); both are accepted. Times are RFC 3339
with a UTC offset (``2026-01-02T03:04:05.123456789Z``, ``...+02:00``), kept to the nanosecond.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from fractions import Fraction

from orderscope.errors import ConfigError
from orderscope.fixed import NumberFormatError, parse_fixed
from orderscope.flow.base import parse_row, parse_timeframe
from orderscope.model import Instrument
from orderscope.symbols import normalize_user_symbol

RFC3339_PATTERN = (
    r"^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?"
    r"(?:([Zz])|([+-])(\d{2}):(\d{2}))$"
)
SYMBOL_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._]{0,31}([/:\-][A-Za-z0-9._]{1,32}){1,3}$"
_RFC3339 = re.compile(RFC3339_PATTERN)
_SYMBOL = re.compile(SYMBOL_PATTERN)
MAX_NS = 2**63 - 1
MAX_TIMEFRAME_NS = 7 * 24 * 3600 * 1_000_000_000


class ApiError(Exception):
    """A request the API refuses: HTTP status, machine code, message for a person."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def bad(message: str, code: str = "invalid_parameter") -> ApiError:
    return ApiError(400, code, message)


def parse_symbol(text: str) -> str:
    """A path's symbol -> the unified symbol (``BTC-USDT`` -> ``BTC/USDT``)."""
    if not _SYMBOL.match(text):
        raise bad(f"not a symbol: {text[:40]!r} (write BTC-USDT or BTC%2FUSDT)", "invalid_symbol")
    try:
        return normalize_user_symbol(text)
    except ValueError as exc:
        raise bad(str(exc), "invalid_symbol") from None


def parse_time(text: str | None, name: str) -> int | None:
    """RFC 3339 -> ns since the epoch (exact to the nanosecond); None passes through."""
    if text is None:
        return None
    match = _RFC3339.match(text.strip())
    if match is None:
        raise bad(f"{name} is not an RFC 3339 time with an offset: {text[:40]!r}")
    year, month, day, hour, minute, second = (int(g) for g in match.groups()[:6])
    frac, zulu, sign, off_h, off_m = match.groups()[6:]
    try:
        offset = timedelta(0)
        if not zulu:
            offset = timedelta(hours=int(off_h), minutes=int(off_m))
            offset = -offset if sign == "-" else offset
        stamp = datetime(year, month, day, hour, minute, second, tzinfo=timezone(offset))
    except ValueError as exc:
        raise bad(f"{name}: {exc}") from None
    seconds = int(stamp.timestamp())
    ns = seconds * 1_000_000_000 + int((frac or "0").ljust(9, "0"))
    if not 0 <= ns <= MAX_NS:
        raise bad(f"{name} is outside 1970-01-01 .. 2262-04-11")
    return ns


def time_range(start: str | None, end: str | None) -> tuple[int | None, int | None]:
    start_ns, end_ns = parse_time(start, "start_time"), parse_time(end, "end_time")
    if start_ns is not None and end_ns is not None and start_ns >= end_ns:
        raise bad("start_time must be before end_time")
    return start_ns, end_ns


def parse_timeframe_param(text: str, session_ns: int) -> int:
    try:
        ns = parse_timeframe(text)
    except ConfigError as exc:
        raise bad(str(exc)) from None
    if ns > MAX_TIMEFRAME_NS or session_ns % ns:
        raise bad(f"timeframe {text} must divide a day (1s .. 1d, e.g. 1m 5m 15m 1h 4h 1d)")
    return ns


def parse_row_param(text: str | None, instrument: Instrument) -> int | None:
    if text is None:
        return None
    try:
        row = parse_row(text, instrument)
    except ConfigError as exc:
        raise bad(str(exc)) from None
    if row % max(instrument.tick_size, 1):
        tick = instrument.price_text(instrument.tick_size)
        raise bad(f"row {text} is not a whole number of ticks ({tick})")
    if row > instrument.tick_size * 1_000_000:
        raise bad(f"row {text} is too high")
    return row


def parse_ratio(text: str | None, name: str, *, at_most_one: bool = False) -> Fraction | None:
    if text is None:
        return None
    try:
        value = Fraction(text.strip())
    except (ValueError, ZeroDivisionError):
        raise bad(f"{name} is not a number: {text[:40]!r}") from None
    if value <= 0 or (at_most_one and value > 1) or value > 1_000_000:
        raise bad(f"{name} out of range: {text}")
    return value


def fixed_amount(
    text: str, decimals: int, name: str, *, positive: bool = False, below: int = 2**62
) -> int:
    """A decimal amount as scaled ints of ``decimals`` (sizes, notionals), under ``below``."""
    try:
        value = parse_fixed(text.strip(), decimals)
    except NumberFormatError as exc:
        raise bad(f"{name}: {exc}") from None
    if positive and value <= 0:
        raise bad(f"{name} must be positive")
    if value >= below:
        raise bad(f"{name} is too large")
    return value
