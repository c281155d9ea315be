"""Unified symbols, in the convention of the big multi-exchange libraries.

``BTC/USDT`` is spot, ``BTC/USDT:USDT`` a linear perpetual settled in USDT, ``BTC/USD:BTC`` an
inverse perpetual settled in BTC, and a dated future adds ``-YYMMDD`` (``BTC/USD:BTC-220527``).
Venue asset codes are mapped to common ones (XBT -> BTC, UST -> USDT on Bitfinex, ...). Each
connector keeps its own venue-symbol <-> instrument map built from the venue's instrument list;
this module only knows the shared vocabulary.
"""

from __future__ import annotations

from orderscope.model import InstrumentKind

#: Asset codes that differ between venues, venue code -> common code. Venue-specific codes
#: (Kraken's X/Z prefixes) are handled by the venue module before this table.
ASSET_ALIASES: dict[str, str] = {
    "XBT": "BTC",
    "XDG": "DOGE",
    "UST": "USDT",  # Bitfinex calls Tether UST
}


def common_asset(code: str) -> str:
    code = code.upper()
    return ASSET_ALIASES.get(code, code)


def unified_symbol(
    base: str,
    quote: str,
    kind: InstrumentKind = InstrumentKind.SPOT,
    settle: str | None = None,
    expiry: str | None = None,
) -> str:
    """Build the unified symbol; ``expiry`` is YYMMDD for dated futures."""
    base, quote = common_asset(base), common_asset(quote)
    if kind is InstrumentKind.SPOT:
        return f"{base}/{quote}"
    if settle is None:
        settle = (
            base
            if kind in (InstrumentKind.INVERSE_PERPETUAL, InstrumentKind.INVERSE_FUTURE)
            else quote
        )
    symbol = f"{base}/{quote}:{common_asset(settle)}"
    if kind in (InstrumentKind.LINEAR_FUTURE, InstrumentKind.INVERSE_FUTURE):
        if not expiry:
            raise ValueError("a dated future needs its expiry (YYMMDD)")
        symbol += f"-{expiry}"
    return symbol


def parse_unified(symbol: str) -> tuple[str, str, str | None]:
    """Split a unified symbol into (base, quote, settle-with-expiry or None)."""
    pair, _, settle = symbol.partition(":")
    base, sep, quote = pair.partition("/")
    if not sep or not base or not quote:
        raise ValueError(f"not a unified symbol: {symbol!r} (expected BASE/QUOTE[:SETTLE])")
    return base, quote, settle or None


def normalize_user_symbol(text: str) -> str:
    """Accept what a person types or a URL carries: btc/usdt, BTC-USDT, BTC-USDT-USDT.

    Dashes stand for '/' (and a second dash for ':'), so ``BTC-USDT-USDT`` is
    ``BTC/USDT:USDT``; a unified symbol passes through unchanged (upper-cased).
    """
    text = text.strip().upper()
    if "/" in text:
        return text
    parts = text.split("-")
    if len(parts) == 2:
        return f"{parts[0]}/{parts[1]}"
    if len(parts) == 3:
        return f"{parts[0]}/{parts[1]}:{parts[2]}"
    if len(parts) == 4:
        return f"{parts[0]}/{parts[1]}:{parts[2]}-{parts[3]}"
    raise ValueError(f"not a symbol: {text!r}")
