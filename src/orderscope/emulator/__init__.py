"""A local venue emulator: real venues' protocols over loopback, fed by synthetic markets or by
recorded captures."""

from orderscope.emulator.binance import BinanceEmulator
from orderscope.emulator.coinbase import CoinbaseEmulator
from orderscope.emulator.kraken import KrakenEmulator
from orderscope.emulator.server import Emulator, Faults, VenueProtocol

__all__ = [
    "BinanceEmulator",
    "CoinbaseEmulator",
    "Emulator",
    "Faults",
    "KrakenEmulator",
    "VenueProtocol",
]
