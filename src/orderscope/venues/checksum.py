"""Book checksums as venues compute them: CRC32 of the top levels, written as the venue writes.

OKX and Bitfinex both interleave the top 25 bids and asks (``bid1:size:ask1:size:bid2...``,
the shorter side simply stopping) and send the CRC32 as a *signed* 32-bit integer. What differs
is how a number is written: OKX hashes its decimal strings as sent (minimal: ``"30316"``,
``"0.00012"``), Bitfinex hashes JavaScript's ``Number.prototype.toString`` of its JSON numbers
(``5e-7``, ``0.00000125``, ``-382.22913024``). Both are rebuilt here from the exact book.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from orderscope.book import L2Book

#: ``orderscope._checksum.kraken(book, n, price_zeros, size_zeros)``: Kraken's CRC32 read from
#: the book (kraken.py's ``_BookWire.checksum`` is the reference), or None: the reference's case.
NATIVE_KRAKEN: Callable[[L2Book, int, int, int], int | None] | None
#: ``orderscope._checksum.okx(book, n, price_decimals, size_decimals, multiplier)``: OKX's
#: signed CRC32 (okx.py's ``reference_checksum``), or None: the reference's case.
NATIVE_OKX: Callable[[L2Book, int, int, int, int], int | None] | None
try:
    from orderscope import _checksum
except ImportError:  # a pure build, ORDERSCOPE_PURE=1 or a stale build
    NATIVE_KRAKEN = NATIVE_OKX = None
else:
    NATIVE_KRAKEN, NATIVE_OKX = _checksum.kraken, _checksum.okx

#: Levels per side that OKX and Bitfinex cover with their checksum.
CHECKSUM_DEPTH = 25


def signed_crc32(text: str) -> int:
    """CRC32 of the ASCII text as a signed 32-bit integer (what OKX and Bitfinex send)."""
    value = zlib.crc32(text.encode("ascii"))
    return value - (1 << 32) if value & 0x8000_0000 else value


def interleave(bids: Sequence[str], asks: Sequence[str]) -> str:
    """``b1:a1:b2:a2:...`` where each item is already ``price:size``; a shorter side stops."""
    common = min(len(bids), len(asks))
    parts = [""] * (2 * common)
    parts[0::2] = bids[:common]  # slice assignments: the interleaving is done in C
    parts[1::2] = asks[:common]
    parts += bids[common:]
    parts += asks[common:]
    return ":".join(parts)


def js_number_text(value: float) -> str:
    """JavaScript's ``Number.prototype.toString`` for a finite number (ECMA-262 Number::toString).

    Python's ``repr`` already gives the shortest digits that round-trip, the same digits JS
    picks; only the layout differs: JS writes plain decimals for 1e-7 < |x| < 1e21 and
    ``d.ddde-7`` / ``de+21`` beyond, where Python switches to exponents below 1e-4 and at 1e16.
    """
    if value == 0:
        return "0"
    if value < 0:
        return "-" + js_number_text(-value)
    text = repr(float(value))
    mantissa, _, exp = text.partition("e")
    whole, _, frac = mantissa.partition(".")
    digits = (whole + frac).lstrip("0")
    # value == int(digits) * 10**power
    power = (int(exp) if exp else 0) - len(frac)
    stripped = digits.rstrip("0")
    power += len(digits) - len(stripped)
    digits = stripped
    k = len(digits)
    n = power + k  # value == 0.d1d2...dk * 10**n
    if k <= n <= 21:
        return digits + "0" * (n - k)
    if 0 < n <= 21:
        return f"{digits[:n]}.{digits[n:]}"
    if -6 < n <= 0:
        return "0." + "0" * -n + digits
    exponent = n - 1
    head = digits[0] + ("." + digits[1:] if k > 1 else "")
    return f"{head}e{'+' if exponent >= 0 else '-'}{abs(exponent)}"


def js_decimal_text(scaled: int, decimals: int) -> str:
    """JS text of the float nearest to ``scaled * 10**-decimals`` (an exact book value).

    For the decimals venues use (at most 15 significant digits) the nearest float's shortest
    digits are the decimal's own, so this is the number exactly as the venue wrote it.
    """
    return js_number_text(scaled / 10**decimals)
