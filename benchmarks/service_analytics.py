"""CPU per event of the server's analytics (signals + heatmap, the COB) on the demo's stream.

The demo's venues (Binance, Coinbase and Kraken emulated on loopback, synthetic BTC/USDT and
ETH/USDT) are run through the live path for a while and every batch of events the connectors
hand over is recorded; then the same batches are fed to an ``Engine`` with no further
analytics, with each, and with both, and the CPU time per event is printed (best of three).

    .venv/bin/python benchmarks/service_analytics.py --seconds 20 --speed 4

Not a test: it prints the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections import Counter

from orderscope.book import L2Book
from orderscope.cob.service import COB
from orderscope.engine import AnalyticSpec, Engine
from orderscope.model import Instrument, MarketEvent
from orderscope.service.feeds import DEMO_VENUES, DemoFeeds
from orderscope.service.venue_flow import VENUE_FLOW
from orderscope.venues.base import Venue

Batch = tuple[str | None, list[MarketEvent]]


class Recorder(Engine):
    def __init__(self) -> None:
        super().__init__()
        self.batches: list[Batch] = []

    def on_events(self, venue: Venue | None, events: list[MarketEvent]) -> None:  # type: ignore[override]
        self.batches.append((venue.name if venue is not None else None, list(events)))
        super().on_events(venue, events)


async def record(seconds: float, speed: float) -> Recorder:
    engine = Recorder()
    feeds = DemoFeeds(engine, seed=5, speed=speed)
    await feeds.start()
    await asyncio.sleep(seconds)
    await feeds.stop()
    return engine


def engine_for(recorded: Recorder, specs: list[AnalyticSpec]) -> tuple[Engine, dict[str, Venue]]:
    """A fresh engine with the recorded venues' instruments (and empty books of their depth)."""
    engine = Engine(analytics=specs)
    venues = {}
    for demo in DEMO_VENUES:
        mine: list[Instrument] = [i for (v, _), i in recorded.instruments.items() if v == demo.name]
        venue = demo.connector(mine, [i.symbol for i in mine])
        for inst in mine:
            depth = recorded.venues[demo.name].books[inst.symbol].max_depth
            venue.books[inst.symbol] = L2Book(inst, depth)
        venues[demo.name] = venue
        engine.add_venue(venue, mine)
    return engine, venues


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--speed", type=float, default=4.0, help="the markets' pace")
    args = parser.parse_args()
    recorded = asyncio.run(record(args.seconds, args.speed))
    events = [e for _, batch in recorded.batches for e in batch]
    kinds = Counter(type(e).__name__ for e in events)
    print(f"{len(events):,} events: " + ", ".join(f"{k} {n:,}" for k, n in kinds.most_common()))
    variants = {
        "engine alone": [],
        "+ venue_flow (signals, heatmap)": [VENUE_FLOW],
        "+ cob": [COB],
        "+ both (the server)": [VENUE_FLOW, COB],
    }
    for label, specs in variants.items():
        best = float("inf")
        for _ in range(3):
            engine, venues = engine_for(recorded, specs)
            start = time.process_time()
            for name, batch in recorded.batches:
                engine.on_events(venues.get(name) if name else None, batch)
            best = min(best, time.process_time() - start)
        print(f"{label:32s} {best / len(events) * 1e6:6.2f} us CPU per event")


if __name__ == "__main__":
    main()
