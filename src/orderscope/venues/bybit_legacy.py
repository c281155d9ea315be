"""Bybit's retired 2021 protocol, kept so that the recorded sessions still replay.

``wss://stream.bybit.com/realtime_public`` (USDT perpetuals) and ``.../realtime`` (inverse
contracts) spoke ``{"op": "subscribe", "args": ["trade.BTCUSD"]}`` and pushed
``{"topic": "trade.BTCUSD", "data": [...]}``; instruments came from ``GET /v2/public/symbols``.
Only trades are read from it (the ``orderBookL2_25`` book of that protocol is retired with it and
its frames are counted as ignored). The two endpoints wrote numbers differently (USDT perpetuals:
price as a string and size as a float; inverse: both as numbers), so each value is converted by
its JSON type, exactly (floats by ``parse_float_exact``, never rounded). The current protocol
(v5) is in ``orderscope.venues.bybit``.
"""

from __future__ import annotations

import msgspec

from orderscope.fixed import decimals_of, parse_fixed, parse_float_exact
from orderscope.model import Instrument, InstrumentKind
from orderscope.symbols import unified_symbol

#: Legacy endpoint path -> the v5 category its instruments belong to.
LEGACY_PATHS = {"/realtime_public": "linear", "/realtime": "inverse"}
TRADE_CHANNEL = "trade"
#: USDT-perpetual sizes were JSON floats that often fall off the lot grid (``273.30002`` on a
#: 0.1 step): they are kept at this many decimals at least, exactly, instead of being rounded.
LINEAR_SIZE_DECIMALS = 8
#: Dated inverse futures are named BTCUSD + month code + year (BTCUSDM21).
_MONTH_CODES = frozenset("FGHJKMNQUVXZ")


class LegacyTrade(msgspec.Struct):
    symbol: str
    price: str | float
    size: float | int
    trade_time_ms: int | str
    side: str  # the taker's side
    trade_id: str


class _PriceFilter(msgspec.Struct):
    tick_size: str


class _LotSizeFilter(msgspec.Struct):
    qty_step: float | int


class _Symbol(msgspec.Struct):
    name: str
    alias: str
    base_currency: str
    quote_currency: str
    price_scale: int
    price_filter: _PriceFilter
    lot_size_filter: _LotSizeFilter


class _Symbols(msgspec.Struct):
    result: list[_Symbol]
    ret_code: int = 0


LEGACY_TRADES = msgspec.json.Decoder(list[LegacyTrade])
_SYMBOLS = msgspec.json.Decoder(_Symbols)


def legacy_number(value: str | float | int, decimals: int) -> int:
    """A legacy price or size (a decimal string, a float or an int) as a scaled int."""
    if isinstance(value, float):
        return parse_float_exact(value, decimals)
    return parse_fixed(value if isinstance(value, str) else str(value), decimals)


def legacy_time_ms(value: int | str) -> int:
    if isinstance(value, int):
        return value
    if not (value.isdigit() and value.isascii()):
        raise ValueError(f"bad trade_time_ms {value!r}")
    return int(value)


def parse_v2_symbols(venue: str, body: str | bytes) -> list[Instrument]:
    """Instruments from ``GET /v2/public/symbols`` (USDT perpetuals and inverse contracts)."""
    instruments = []
    for s in _SYMBOLS.decode(body).result:
        base, quote = s.base_currency, s.quote_currency
        kind, expiry, contract_size = _kind(s)
        tick = s.price_filter.tick_size
        step = repr(s.lot_size_filter.qty_step)  # 0.001 -> "0.001", 1 -> "1"
        price_decimals = max(s.price_scale, decimals_of(tick))
        size_decimals = decimals_of(step)
        if kind is InstrumentKind.LINEAR_PERPETUAL:
            size_decimals = max(size_decimals, LINEAR_SIZE_DECIMALS)
        instruments.append(
            Instrument(
                venue=venue,
                symbol=unified_symbol(base, quote, kind, None, expiry),
                venue_symbol=s.name,
                base=base,
                quote=quote,
                kind=kind,
                price_decimals=price_decimals,
                size_decimals=size_decimals,
                tick_size=parse_fixed(tick, price_decimals),
                lot_size=parse_fixed(step, size_decimals),
                settle=quote if kind is InstrumentKind.LINEAR_PERPETUAL else base,
                contract_size=contract_size,
            )
        )
    return instruments


def _kind(s: _Symbol) -> tuple[InstrumentKind, str | None, str | None]:
    """(kind, expiry YYMMDD, contract size) of a v2 symbol."""
    if s.quote_currency != "USD":
        return InstrumentKind.LINEAR_PERPETUAL, None, None  # sizes in base currency
    suffix = s.name[len(s.base_currency) + len(s.quote_currency) :]
    # Inverse contracts are worth 1 USD each; sizes stay in contracts (= USD).
    if len(suffix) == 3 and suffix[0] in _MONTH_CODES and suffix[1:].isdigit():
        month_day = s.alias[-4:]  # alias BTCUSD0625: delivery on 06-25
        return InstrumentKind.INVERSE_FUTURE, suffix[1:] + month_day, "1"
    return InstrumentKind.INVERSE_PERPETUAL, None, "1"
