"""The control API of a running emulator: status, pause/resume, faults, true books."""

from __future__ import annotations

import asyncio
import random

from orderscope.emulator import BinanceEmulator, Emulator, KrakenEmulator
from orderscope.emulator.control import inject_random
from orderscope.emulator.wire import LogHistogram, stripped_text
from orderscope.synthetic import BTC_USDT, SyntheticMarket

from .helpers import serving


def test_status_pause_fault_and_book() -> None:
    async def scenario() -> None:
        protocol = KrakenEmulator({"XBT/USDT": SyntheticMarket(BTC_USDT, 3)})
        async with serving(protocol) as (emulator, http):
            control = emulator.url("control")
            async with http.post(f"{control}/pause") as answer:
                assert (await answer.json()) == {"paused": True}
            async with http.get(f"{control}/book/kraken?symbol=XBT/USDT") as answer:
                book = await answer.json()
            market = protocol.markets["XBT/USDT"].book  # paused: it stays as it was sent
            assert book == {
                "bids": [[stripped_text(p, 2), stripped_text(s, 5)] for p, s in market.bids()],
                "asks": [[stripped_text(p, 2), stripped_text(s, 5)] for p, s in market.asks()],
            }
            async with http.get(f"{control}/book/kraken?symbol=ETH/USDT") as answer:
                assert answer.status == 404
            async with http.post(f"{control}/fault/kraken/stall?seconds=0.5") as answer:
                assert (await answer.json())["done"] == "frames held back for 0.5s"
            async with http.post(f"{control}/fault/kraken/rest_429") as answer:
                assert answer.status == 400  # Kraken books need no REST: no such fault there
            async with http.post(f"{control}/fault/okx/drop") as answer:
                assert answer.status == 404
            async with http.get(control) as answer:
                status = await answer.json()
            assert status["paused"] is True
            assert status["venues"]["kraken"]["faults"] == {"stall": 1}
            assert status["venues"]["kraken"]["symbols"] == ["XBT/USDT"]
            async with http.post(f"{control}/resume") as answer:
                assert not emulator.paused

    asyncio.run(scenario())


def test_random_faults_are_seeded() -> None:
    def faults(seed: int) -> list[str]:
        emulator = Emulator(
            [
                BinanceEmulator({"BTCUSDT": SyntheticMarket(BTC_USDT, 1)}),
                KrakenEmulator({"XBT/USDT": SyntheticMarket(BTC_USDT, 1)}),
            ]
        )
        rng = random.Random(seed)
        return [inject_random(emulator, rng, seconds=0.0) for _ in range(12)]

    first = faults(5)
    assert first == faults(5) and first != faults(6)
    assert any(line.startswith("binance rest_") for line in first + faults(6))
    assert not any(line.startswith("kraken rest_") for line in first + faults(6))


def test_log_histogram_quantiles_to_one_percent() -> None:
    histogram = LogHistogram()
    for ms in range(1, 1001):
        histogram.add(ms * 1_000_000)
    assert 495 <= histogram.quantile_ms(0.5) <= 500
    assert 980 <= histogram.quantile_ms(0.99) <= 990
    assert histogram.summary()["max_ms"] == 1000.0 and histogram.n == 1000
    histogram.add(-5)  # a clock step backwards lands in the first bucket
    assert 0.00099 < histogram.quantile_ms(0.0) <= 0.001
