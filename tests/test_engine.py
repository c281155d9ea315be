"""The engine: event-time wiring, the unified symbol across venues, the analytics registry."""

from __future__ import annotations

from pathlib import Path

import msgspec

from orderscope.book import L2Book
from orderscope.engine import AnalyticContext, AnalyticSpec, Engine, Scope, Update
from orderscope.model import (
    BookSnapshot,
    Instrument,
    InstrumentKind,
    MarketEvent,
    Side,
    Trade,
)
from orderscope.replay import Replay
from orderscope.service.feeds import renamed
from orderscope.venues.base import Venue
from orderscope.venues.binance import BinanceSpot

SECOND = 1_000_000_000
T0 = 1_700_000_000 * SECOND  # 2023-11-14T22:13:20Z


def instrument(venue: str, pd: int, sd: int, tick: int = 1) -> Instrument:
    return Instrument(
        venue, "BTC/USDT", "BTCUSDT", "BTC", "USDT", InstrumentKind.SPOT, pd, sd, tick, 1
    )


def venue(name: str, inst: Instrument) -> Venue:
    return renamed(BinanceSpot, name)([inst])


def trade(v: str, ts: int, price: int, size: int, side: Side = Side.BUY) -> Trade:
    return Trade(v, "BTC/USDT", ts, ts, price, size, side, str(ts))


def encoded(updates: list[Update]) -> list[bytes]:
    return [msgspec.json.encode(u) for u in updates]


def test_replay_publishes_the_same_updates_twice(captures: Path) -> None:
    runs = []
    for _ in range(2):
        engine = Engine()
        updates: list[Update] = []
        engine.subscribe(updates.append)
        replay = Replay([captures / "BINANCE.ws.1.0"], None)
        engine.run_replay(replay)
        runs.append(encoded(updates))
        ticks = sum(1 for u in updates if u.type == "tick")
        assert ticks == sum(t.count for t in replay.trades.values()) > 0
        assert {u.type for u in updates} >= {"tick", "book", "status", "footprint_update"}
    assert runs[0] == runs[1]


def test_unified_symbol_on_a_common_scale() -> None:
    a, b = instrument("a", 2, 3), instrument("b", 1, 5)
    engine = Engine()
    engine.add_venue(venue("a", a), [a])
    engine.add_venue(venue("b", b), [b])
    scale = engine.scales["BTC/USDT"]
    assert (scale.instrument.price_decimals, scale.instrument.size_decimals) == (2, 5)
    engine.on_events(None, [trade("a", T0, 6_000_012, 1_500)])  # 60000.12 x 1.5
    engine.on_events(None, [trade("b", T0 + 1, 600_001, 250_000, Side.SELL)])  # 60000.1 x 2.5
    unified = engine.state("BTC/USDT")
    assert unified is not None and unified.instrument.venue == "*"
    assert unified.delta.cvd == 150_000 - 250_000  # 1.5 - 2.5 BTC at 5 decimals
    bar = unified.footprints[unified.push_ns].current()
    assert bar is not None and bar.volume == 400_000 and bar.high == 6_000_012
    assert bar.low == 6_000_010


def test_a_finer_venue_joining_rebuilds_the_unified_state() -> None:
    a, b = instrument("a", 1, 2), instrument("b", 2, 4)
    engine = Engine()
    engine.add_venue(venue("a", a), [a])
    engine.on_events(None, [trade("a", T0, 600_001, 150)])
    engine.add_venue(venue("b", b), [b])
    engine.on_events(None, [trade("b", T0 + SECOND, 6_000_012, 5)])
    assert engine.counters.rescaled == 1
    unified = engine.state("BTC/USDT")
    assert unified is not None and unified.instrument.price_decimals == 2
    assert unified.trades == 2 and unified.delta.cvd == 15_000 + 5


def test_flush_publishes_only_what_is_wanted_and_imbalances_once() -> None:
    a = instrument("a", 2, 3)
    engine = Engine()
    engine.add_venue(venue("a", a), [a])
    updates: list[Update] = []
    engine.subscribe(updates.append)
    engine.interest = lambda kind, symbol, v: v is None  # only the aggregate is listened to
    # rows of 2.00: buyers lift 60002 ten times what sellers hit at 60000: a buy imbalance
    for i in range(3):
        engine.on_events(None, [trade("a", T0 + i, 6_000_000, 100, Side.SELL)])
        engine.on_events(None, [trade("a", T0 + i, 6_000_200, 1_000)])
        engine.flush()
    kinds = [(u.type, u.venue) for u in updates if u.type != "tick"]
    assert ("footprint_update", "a") not in kinds and ("footprint_update", None) in kinds
    detected = [u for u in updates if u.type == "imbalance_detected"]
    assert len(detected) == 1


class Recorder:
    """A registered analytic that counts what it sees and publishes at each flush."""

    def __init__(self, ctx: AnalyticContext) -> None:
        self.ctx = ctx
        self.instruments: list[Instrument] = []
        self.events: list[tuple[MarketEvent, L2Book | None]] = []

    def add_instrument(self, instrument: Instrument) -> None:
        self.instruments.append(instrument)

    def on_event(self, event: MarketEvent, book: L2Book | None) -> None:
        self.events.append((event, book))

    def flush(self, publish: object) -> None:
        assert callable(publish)
        if self.events:
            publish(Update("signal", "signals", self.ctx.symbol, self.ctx.venue, len(self.events)))
            self.events.clear()


def test_registered_analytics_are_fed_found_and_publish() -> None:
    specs = [
        AnalyticSpec("per_venue", Scope.VENUE, Recorder, {"signals": ("signal",)}),
        AnalyticSpec("cross", Scope.SYMBOL, Recorder),
    ]
    engine = Engine(analytics=specs)
    assert engine.channels["signals"] == ("signal",)
    a, b = instrument("a", 2, 3), instrument("b", 2, 3)
    va, vb = venue("a", a), venue("b", b)
    engine.add_venue(va, [a])
    engine.add_venue(vb, [b])
    cross = engine.analytic("cross", "BTC/USDT")
    per_a = engine.analytic("per_venue", "BTC/USDT", "a")
    assert isinstance(cross, Recorder) and isinstance(per_a, Recorder)
    assert [i.venue for i in cross.instruments] == ["a", "b"] and per_a.instruments == [a]
    snapshot = BookSnapshot("a", "BTC/USDT", T0, T0, [(599_999, 10)], [(600_001, 10)])
    va.books["BTC/USDT"] = L2Book(a)
    engine.on_events(va, [snapshot, trade("a", T0, 600_000, 5)])
    engine.on_events(vb, [trade("b", T0, 600_000, 5)])
    assert len(cross.events) == 3 and len(per_a.events) == 2
    assert per_a.events[0][1] is va.books["BTC/USDT"]
    updates: list[Update] = []
    engine.subscribe(updates.append)
    engine.flush()
    signals = sorted((u.venue or "", u.data) for u in updates if u.type == "signal")
    assert signals == [("", 3), ("a", 2), ("b", 1)]
