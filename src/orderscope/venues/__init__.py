"""Venue connectors, one module each, all of the shape of ``orderscope.venues.base.Venue``.

``REGISTRY`` maps a venue name (as used on the command line and in events) to its class;
``by_capture_prefix`` finds the connector for a capture file (``BINANCE_FUTURES.ws.1.0``).
"""

from __future__ import annotations

from orderscope.errors import ConfigError
from orderscope.venues.base import Venue, feed
from orderscope.venues.binance import BinanceSpot
from orderscope.venues.binance_futures import BinanceFutures
from orderscope.venues.bitfinex import Bitfinex
from orderscope.venues.bitstamp import Bitstamp
from orderscope.venues.bybit import Bybit
from orderscope.venues.coinbase import CoinbaseAdvanced, CoinbaseExchange
from orderscope.venues.huobi import Huobi
from orderscope.venues.kraken import Kraken
from orderscope.venues.okx import Okx

# One connector a line, so that adding a venue is a one-line change.
CONNECTORS: tuple[type[Venue], ...] = (
    BinanceSpot,
    BinanceFutures,
    CoinbaseExchange,
    CoinbaseAdvanced,
    Kraken,
    Okx,
    Bitfinex,
    Bitstamp,
    Huobi,
    Bybit,
)
REGISTRY: dict[str, type[Venue]] = {cls.name: cls for cls in CONNECTORS}


def venue_class(name: str) -> type[Venue]:
    try:
        return REGISTRY[name.lower()]
    except KeyError:
        known = ", ".join(sorted(REGISTRY))
        raise ConfigError(f"unknown venue {name!r} (known: {known})") from None


def supported_prefixes() -> set[str]:
    return {cls.capture_prefix for cls in REGISTRY.values()}


def by_capture_prefix(prefix: str) -> type[Venue]:
    for cls in REGISTRY.values():
        if cls.capture_prefix == prefix:
            return cls
    raise ConfigError(f"no connector reads {prefix} captures")


__all__ = ["REGISTRY", "Venue", "by_capture_prefix", "feed", "supported_prefixes", "venue_class"]
