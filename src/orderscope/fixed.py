"""Fixed-point numbers: venue decimal strings <-> scaled integers, exactly.

Every price and size in orderscope is an ``int`` in units of ``10**-decimals``, where
``decimals`` belongs to the instrument (``Instrument.price_decimals``/``size_decimals``).
Integers keep the venue's precision exactly (two distinct prices can never merge, sums never
drift) and are what the hot loops want. Floats appear only at the edges (display, analytics
that are statistical by nature).

The parsers are the hot path of every connector, so they avoid ``Decimal``: ``parse_fixed``
works on the string with ``str.partition`` and one ``int()`` call; ``parse_fixed_many`` checks a
whole batch of same-precision strings (a book snapshot) with one regex and converts it in a C
loop, falling back to ``parse_fixed`` string by string for anything else.

In a compiled build, ``orderscope._levels`` (C written by hand, ``_levels.c``) does the batches
and the connectors' (price, size) levels in one C loop: ``NATIVE_MANY``, ``NATIVE_PAIRS`` and
``NATIVE_COLUMNS`` are its functions, or None in a pure build or run (``_compiled.py``), when
the pure-Python code here runs. ``parse_fixed`` stays the reference: the C code takes only
plain ASCII digits that fit an int64 and hands every other text to ``parse_fixed``.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    import msgspec

#: ``orderscope._levels.parse_many`` (a text batch -> ints at one precision), or None.
NATIVE_MANY: Callable[[Sequence[str], int], list[int]] | None
#: ``orderscope._levels.parse_pairs``: ``[(parse_fixed(p, pd), parse_fixed(q, sd)) for p, q in
#: raw]`` (a level of another length raises ValueError, as unpacking does), or None.
NATIVE_PAIRS: Callable[[Sequence[Sequence[str]], int, int], list[tuple[int, int]]] | None
#: ``orderscope._levels.parse_columns``: the same for levels of more fields, of which fields
#: ``first`` and ``first + 1`` (the last argument) are read; a shorter level raises IndexError.
NATIVE_COLUMNS: Callable[[Sequence[Sequence[str]], int, int, int], list[tuple[int, int]]] | None
#: ``orderscope._levels.parse_raw_levels(raw, pd, sd, first, width, strings)``: the levels from
#: a JSON array's bytes (a ``msgspec.Raw``), as ``NATIVE_COLUMNS`` would make them from the
#: decoded array, or None for anything it does not take (the caller decodes ``raw`` then), or
#: None itself in a pure build or run.
NATIVE_RAW: Callable[[msgspec.Raw, int, int, int, int, bool], list[tuple[int, int]] | None] | None
#: ``orderscope._levels.parse_raw_float_levels(raw, pd, sd)``: a JSON array of [price, size]
#: numbers -> ``[(parse_float_exact(p, pd), parse_float_rounded(q, sd))]`` of the doubles
#: msgspec decodes, or None to fall back (HTX); None itself in a pure build or run.
NATIVE_RAW_FLOATS: Callable[[msgspec.Raw, int, int], list[tuple[int, int]] | None] | None
try:
    from orderscope import _levels
except ImportError:  # a pure build, ORDERSCOPE_PURE=1 or a stale build
    NATIVE_MANY = NATIVE_PAIRS = NATIVE_COLUMNS = NATIVE_RAW = NATIVE_RAW_FLOATS = None
else:
    NATIVE_MANY, NATIVE_PAIRS = _levels.parse_many, _levels.parse_pairs
    NATIVE_COLUMNS, NATIVE_RAW = _levels.parse_columns, _levels.parse_raw_levels
    NATIVE_RAW_FLOATS = _levels.parse_raw_float_levels

POW10: Final[tuple[int, ...]] = tuple(10**i for i in range(40))
#: How far (in units in the last place) a venue's float may sit from the decimal it means.
FLOAT_SLACK_ULPS: Final = 16


class NumberFormatError(ValueError):
    """A string that is not a plain non-negative decimal number at the expected precision."""


def parse_fixed(text: str, decimals: int) -> int:
    """Parse a non-negative decimal string into an int scaled by ``10**decimals``.

    Trailing zeros beyond ``decimals`` are accepted ("354.16000000" at 2 decimals is 35416);
    a non-zero digit beyond ``decimals`` raises, because rounding it would change the number.
    Signs, exponents, spaces, NaN and infinities raise: venues send none of them for prices and
    sizes, so seeing one means the frame is bad.
    """
    whole, _, frac = text.partition(".")  # one C call; a second "." stays in frac and fails
    digits = whole + frac
    if not (digits.isdigit() and digits.isascii()):
        raise NumberFormatError(f"not a plain non-negative decimal: {text!r}")
    shift = decimals - len(frac)
    if shift >= 0:
        return int(digits) * POW10[shift]
    if digits[shift:].strip("0"):
        raise NumberFormatError(f"{text!r} has more than {decimals} decimals")
    return int(digits[:shift] or "0")


_BATCH_PATTERNS: dict[int, re.Pattern[str]] = {}


def _batch_pattern(frac_len: int) -> re.Pattern[str]:
    """``d+.d{frac_len}`` (or ``d+`` for 0) repeated with commas: a whole batch, validated."""
    pattern = _BATCH_PATTERNS.get(frac_len)
    if pattern is None:
        one = f"[0-9]+\\.[0-9]{{{frac_len}}}" if frac_len else "[0-9]+"
        pattern = _BATCH_PATTERNS[frac_len] = re.compile(f"{one}(?:,{one})*")
    return pattern


def parse_fixed_many(texts: Sequence[str], decimals: int) -> list[int]:
    """``[parse_fixed(t, decimals) for t in texts]``, faster on the venues' usual batches.

    Venues write every number of a book at one precision ("0.35210000", "672.00000000"). When
    all of ``texts`` have the same number of decimals, no more than ``decimals``, one regex
    checks the whole batch and ``int`` runs in a C loop, about three times faster than one
    ``parse_fixed`` call per string. Anything else (mixed precisions, trailing zeros beyond
    ``decimals``, a bad string) takes the per-string path, so results and errors are the same.
    In a compiled build the C kernel does it all (``NATIVE_MANY``).
    """
    if NATIVE_MANY is not None:
        return NATIVE_MANY(texts, decimals)
    if not texts:
        return []
    first = texts[0]
    dot = first.find(".")
    frac_len = len(first) - dot - 1 if dot >= 0 else 0
    if frac_len <= decimals:
        text = ",".join(texts)
        if _batch_pattern(frac_len).fullmatch(text):
            values = list(map(int, text.replace(".", "").split(",")))
            if len(values) == len(texts):  # a "," inside one of the texts would shift them
                if frac_len == decimals:
                    return values
                scale = POW10[decimals - frac_len]
                return [v * scale for v in values]
    return [parse_fixed(t, decimals) for t in texts]


def parse_fixed_float(value: float, decimals: int) -> int:
    """Convert a JSON number that a venue sends as a float into a scaled int.

    Venues that send numbers (not strings) still mean a decimal at a known precision; the
    nearest scaled integer is taken and checked to be that decimal, not an approximation of a
    finer one.
    """
    if type(value) is int:  # JSON integers decode as int: exact already
        if value < 0:
            raise NumberFormatError(f"not a non-negative number: {value!r}")
        return value * POW10[decimals]
    if not math.isfinite(value) or value < 0:
        raise NumberFormatError(f"not a finite non-negative number: {value!r}")
    scaled = value * POW10[decimals]
    nearest = round(scaled)
    # The float a venue sends may sit a few ulps off its decimal (1.7023900800000002 is
    # 1.70239008 after the venue's own float arithmetic), while a real extra decimal moves it
    # by at least 0.1 unit, which this check sees as long as 16 ulps < 0.1 (scaled values below
    # 2**44: 175,921 at 8 decimals). A relative tolerance such as 1e-6 would let 0.123456789
    # pass as 0.12345679 at 8 decimals.
    if abs(scaled - nearest) > FLOAT_SLACK_ULPS * math.ulp(scaled):
        raise NumberFormatError(f"{value!r} has more than {decimals} decimals")
    return int(nearest)


def format_fixed(value: int, decimals: int, *, strip: bool = False) -> str:
    """Render a scaled int as a decimal string with ``decimals`` places (or minimal if strip)."""
    sign = "-" if value < 0 else ""
    value = abs(value)
    if decimals == 0:
        return f"{sign}{value}"
    whole, frac = divmod(value, POW10[decimals])
    frac_text = str(frac).rjust(decimals, "0")
    if strip:
        frac_text = frac_text.rstrip("0")
        if not frac_text:
            return f"{sign}{whole}"
    return f"{sign}{whole}.{frac_text}"


def decimals_of(text: str) -> int:
    """Number of significant decimals in a tick/lot size string ("0.01000" -> 2, "1" -> 0)."""
    text = text.strip()
    if "e" in text.lower():
        # Some venues publish tick sizes as floats ("1e-05").
        mantissa, _, exponent = text.lower().partition("e")
        return max(0, decimals_of(mantissa) - int(exponent))
    dot = text.find(".")
    if dot < 0:
        return 0
    return len(text[dot + 1 :].rstrip("0"))


def to_float(value: int, decimals: int) -> float:
    """A scaled int as the nearest float (for display and statistics only)."""
    return div(value, POW10[decimals])


#: Ints of at most 2**53 in magnitude convert to float exactly.
_EXACT_INT: Final = 1 << 53
_truediv: Final = operator.truediv


def div(a: int, b: int) -> float:
    """``a / b`` for ints, correctly rounded as CPython computes it, compiled or not.

    mypyc compiles ``int / int`` to a division of the two converted to doubles, which rounds
    twice when one is above 2**53 in magnitude: the last bit can differ from CPython's. The
    modules it compiles (orderscope/_compiled.py) divide ints through here;
    tests/test_compiled.py checks that no ``int / int`` is left in them."""
    if -_EXACT_INT <= a <= _EXACT_INT and -_EXACT_INT <= b <= _EXACT_INT:
        return a / b  # both exact as doubles: one rounding, CPython's result
    return _truediv(a, b)  # type: ignore[no-any-return]  # CPython's int division


_FAST_LIMIT: Final = 1 << 52
_FEW_DECIMALS: Final = 8


def parse_float_exact(value: float, decimals: int) -> int:
    """Convert a JSON number into a scaled int at ``decimals``, keeping every digit it has.

    The decimal taken is the float's shortest round-trip form (``repr``): the text the venue
    wrote for any number of up to 15 significant digits, and the double it meant otherwise.
    Unlike ``parse_fixed_float`` nothing is ever rounded: a value with more than ``decimals``
    decimals raises. For venues whose numbers are doubles computed off the instrument's grid
    (HTX book sizes such as ``0.575610404535042``).
    """
    if not math.isfinite(value) or value < 0:
        raise NumberFormatError(f"not a finite non-negative number: {value!r}")
    # Fast paths: a scaled integer below 2**52 that maps back to ``value`` (int / int division
    # is correctly rounded) is the only one that does, so it holds the shortest form's digits.
    # Most venue numbers have few decimals: try those first when many are asked for.
    # (Compiled, ``few / POW10[...]`` stays CPython's division: see setup.py, DIV_ALLOWED.)
    if _FEW_DECIMALS < decimals < len(POW10):
        few = round(value * POW10[_FEW_DECIMALS])
        if few < _FAST_LIMIT and few / POW10[_FEW_DECIMALS] == value:
            return few * POW10[decimals - _FEW_DECIMALS]
    if decimals < len(POW10):
        nearest = round(value * POW10[decimals])
        if nearest < _FAST_LIMIT and nearest / POW10[decimals] == value:
            return nearest
    mantissa, _, exponent = repr(value).partition("e")
    shift = decimals + int(exponent or 0)  # mantissa * 10**exponent at ``decimals``
    if not 0 <= shift < len(POW10):
        raise NumberFormatError(f"{value!r} does not fit {decimals} decimals")
    return parse_fixed(mantissa, shift)


def parse_float_rounded(value: float, decimals: int) -> int:
    """``parse_float_exact``, but digits beyond ``decimals`` are rounded half to even.

    For venues that send doubles computed off any grid (HTX sizes such as 0.575610404535042)
    at magnitudes where keeping every digit would not fit the int64 columns of the analytics:
    the venue's double itself carries only 15-17 significant digits, so at 10 decimals nothing
    is lost above 1e5 units and at most 1e-10 unit below.
    """
    try:
        return parse_float_exact(value, decimals)
    except NumberFormatError:
        if not math.isfinite(value) or value < 0:
            raise
    mantissa, _, exponent = repr(value).partition("e")
    whole, _, frac = mantissa.partition(".")
    digits = whole + frac
    keep = len(whole) + int(exponent or 0) + decimals  # digits left of the cut
    if keep < 0:  # below a tenth of the last unit
        return 0
    kept = int(digits[:keep] or "0")  # keep == 0: the cut is just before the first digit
    rest = digits[keep:]
    half = "5".ljust(len(rest), "0")
    if rest > half or (rest == half and kept % 2):
        kept += 1
    return kept
