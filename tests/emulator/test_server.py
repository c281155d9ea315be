"""The emulator's clock: simulated time stays the wall clock through pauses and starvation."""

from __future__ import annotations

import asyncio
import time

from orderscope.emulator import KrakenEmulator
from orderscope.synthetic import BTC_USDT, SyntheticMarket

from .helpers import serving


def test_a_pause_freezes_the_markets_not_the_time() -> None:
    async def scenario() -> None:
        protocol = KrakenEmulator({"XBT/USDT": SyntheticMarket(BTC_USDT, 3)})
        async with serving(protocol) as (emulator, _http):
            await asyncio.sleep(0.2)
            emulator.pause()
            await asyncio.sleep(0.05)
            steps, paused_at = emulator.steps, time.time_ns()
            await asyncio.sleep(1.0)
            assert emulator.steps == steps  # nothing moved
            emulator.resume()
            await asyncio.sleep(0.2)
            assert emulator.steps > steps
            # The simulated clock went past the pause (it did not resume where it stopped).
            assert emulator.sim_ns > paused_at + 900_000_000

    asyncio.run(scenario())


def test_a_starved_clock_skips_ahead_instead_of_falling_behind() -> None:
    async def scenario() -> None:
        protocol = KrakenEmulator({"XBT/USDT": SyntheticMarket(BTC_USDT, 3)})
        async with serving(protocol) as (emulator, _http):
            await asyncio.sleep(0.2)
            time.sleep(0.6)  # the whole process held back, as on a loaded machine
            await asyncio.sleep(0.2)
            assert emulator.dropped_ns >= 500_000_000  # skipped, not sent late

    asyncio.run(scenario())
