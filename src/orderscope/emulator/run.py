"""``orderscope emulate``: emulated venues on a local port until Ctrl-C, faults on a timer."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import random
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from orderscope.capture import group_captures
from orderscope.emulator.binance import BinanceEmulator
from orderscope.emulator.capture_feed import CaptureFeed
from orderscope.emulator.coinbase import CoinbaseEmulator
from orderscope.emulator.control import inject_random
from orderscope.emulator.kraken import KrakenEmulator
from orderscope.emulator.server import DEFAULT_STALL_S, Emulator, VenueProtocol
from orderscope.errors import ConfigError
from orderscope.synthetic import SyntheticMarket, spec_for

#: The venues the emulator speaks, fed by synthetic markets.
SYNTHETIC: dict[str, type[VenueProtocol]] = {
    "binance": BinanceEmulator,
    "coinbase": CoinbaseEmulator,
    "kraken": KrakenEmulator,
}
DEFAULT_VENUES = ("binance", "coinbase", "kraken")
DEFAULT_SYMBOLS = ("BTC/USDT", "ETH/USDT")
DEFAULT_PORT = 8765


def build_emulator(
    venues: Sequence[str] = (),
    symbols: Sequence[str] = DEFAULT_SYMBOLS,
    *,
    captures: Sequence[Path] = (),
    speed: float = 1.0,
    seed: int = 7,
    rate: float | None = None,
) -> Emulator:
    """Synthetic ``venues`` x ``symbols`` (each market its own seed, derived from ``seed``;
    ``rate``: market events per second instead of each market's own), plus capture feeds."""
    if speed < 0 or (speed == 0 and not captures) or speed != speed:
        raise ConfigError("speed must be > 0 (0, as fast as possible, is for captures only)")
    specs = [spec_for(symbol) for symbol in symbols]
    if rate is not None:
        if rate <= 0:
            raise ConfigError("rate must be > 0 events per second")
        specs = [dataclasses.replace(spec, events_per_second=rate) for spec in specs]
    protocols: list[VenueProtocol] = []
    for n, venue in enumerate(venues):
        cls = SYNTHETIC.get(venue)
        if cls is None:
            known = ", ".join(SYNTHETIC)
            raise ConfigError(f"the emulator does not speak {venue!r} (known: {known})")
        markets = {
            cls.venue_symbol(spec): SyntheticMarket(spec, seed * 1_000 + n * 100 + m)
            for m, spec in enumerate(specs)
        }
        protocols.append(cls(markets))
    protocols.extend(CaptureFeed(capture) for capture in group_captures(captures))
    if not protocols:
        raise ConfigError("nothing to emulate: no venues and no captures")
    return Emulator(protocols, speed=speed)


def describe(emulator: Emulator) -> list[str]:
    """What a person needs to point connectors at a started emulator."""
    lines = [f"orderscope emulator on 127.0.0.1:{emulator.port} (speed {emulator.speed:g})"]
    width = max(9, *(len(name) for name in emulator.protocols))
    for name, protocol in emulator.protocols.items():
        ws, rest = emulator.url(name, "ws"), emulator.url(name)
        lines.append(f"  {name:<{width}} ws {ws}  rest {rest}")
        if isinstance(protocol, CaptureFeed):
            lines.append(
                f"            capture {protocol.capture.prefix}: {len(protocol.frames)} frames; "
                "subscribe to what it recorded:"
            )
            lines.extend(f"              {s[:160]}" for s in protocol.recorded_subscriptions)
        else:
            lines.append(f"            symbols {' '.join(protocol.markets)}")
    control = emulator.url("control")
    lines.append(f"  {'control':<{width}} {control} (status, pause, resume, fault, book)")
    lines.append('  a connector: Endpoints(ws="<ws>", rest="<rest>"); Ctrl-C stops')
    return lines


async def serve(
    emulator: Emulator,
    *,
    port: int = DEFAULT_PORT,
    fault_every: float | None = None,
    seed: int = 7,
    stall_s: float = DEFAULT_STALL_S,
    out: Callable[[str], None] = print,
) -> None:
    """Run until cancelled; with ``fault_every``, inject a random (seeded) fault that often."""
    await emulator.start(port=port)
    try:
        for line in describe(emulator):
            out(line)
        if fault_every is None:
            await asyncio.Event().wait()  # until cancelled
            return
        rng = random.Random(seed)
        while True:
            await asyncio.sleep(fault_every)
            if emulator.paused:
                continue  # no faults into a frozen market
            stamp = time.strftime("%H:%M:%S")
            out(f"{stamp} fault {inject_random(emulator, rng, stall_s)}")
    finally:
        await emulator.stop()


def run_emulate(
    emulator: Emulator,
    *,
    port: int = DEFAULT_PORT,
    fault_every: float | None = None,
    seed: int = 7,
) -> None:
    """``serve`` until Ctrl-C, printing as it goes."""

    def out(line: str) -> None:
        print(line, flush=True)  # a tool reading the pipe sees each line at once

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(emulator, port=port, fault_every=fault_every, seed=seed, out=out))
