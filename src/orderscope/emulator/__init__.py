"""A local venue emulator: real venues' protocols over loopback, fed by synthetic markets."""

from orderscope.emulator.binance import BinanceEmulator
from orderscope.emulator.server import Emulator, Faults, VenueProtocol

__all__ = ["BinanceEmulator", "Emulator", "Faults", "VenueProtocol"]
