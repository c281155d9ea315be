"""The venue_flow analytic inside an Engine: signals published and kept (bounded), the rolling
heatmap fed from the same book copy and equal to the batch heatmap of the same events."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from orderscope.engine import Engine, Update
from orderscope.heatmap import HeatmapConfig, heatmap_from_events
from orderscope.model import Event
from orderscope.service import venue_flow
from orderscope.service.feeds import renamed
from orderscope.service.venue_flow import HEATMAP_STEP_NS, VENUE_FLOW, VenueFlow
from orderscope.venues.binance import BinanceSpot
from tests.flow.builders import BUY, INST, SELL, delta, px, snap, trade

NAMED_TEST = renamed(BinanceSpot, "test")  # a connector named as the builders' events


def engine_with(events: list[Event]) -> tuple[Engine, VenueFlow, list[Update]]:
    engine = Engine(analytics=[VENUE_FLOW])
    engine.add_venue(NAMED_TEST([INST]), [INST])
    published: list[Update] = []
    engine.subscribe(published.append)
    for event in events:
        engine.on_events(None, [event])
    engine.flush()
    flow = engine.analytic("venue_flow", INST.symbol, "test")
    assert isinstance(flow, VenueFlow)
    return engine, flow, published


def session() -> list[Event]:
    return [
        snap(0, [(100, 1), (99, 2)], [(101, 1), (102, 3)]),
        delta(400, bids=[(100, 4)]),
        trade(1_200, 101, 2_000, BUY),  # 202,000 USDT: a block trade
        trade(2_500, 100, 0.5, SELL),
        delta(3_100, asks=[(101, 0.5)]),
    ]


def test_signals_are_published_on_their_channel_and_kept() -> None:
    _, flow, published = engine_with(session())
    signals = [u for u in published if u.type == "signal"]
    kinds = [u.data.kind for u in signals]
    assert kinds[0] == "block_trade"  # (the one ask it ate also reads as absorption)
    update = signals[0]
    assert (update.channel, update.symbol, update.venue) == ("signals", "BTC/USDT", "test")
    assert update.data.side == "buy" and update.data.price == "101.00"
    assert update.data.time.endswith("Z") and 0.5 <= update.data.confidence <= 1
    assert [s.kind.value for s in flow.recent] == kinds and not flow.found


def test_the_signal_ring_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    ring = 3
    events: list[Event] = [snap(0, [(100, 1)], [(101, 1)])]
    events += [trade(1_000 * k, 101, 2_000, BUY) for k in range(1, 8)]
    monkeypatch.setattr(venue_flow, "SIGNAL_RING", ring)
    _, flow, published = engine_with(events)
    assert len([u for u in published if u.type == "signal"]) > ring
    assert len(flow.recent) == ring
    assert [s.ts for s in flow.recent] == sorted(s.ts for s in flow.recent)[-ring:]


def test_heatmap_matches_the_batch_one_on_the_footprint_row() -> None:
    events = session()
    engine, flow, _ = engine_with(events)
    assert flow.heatmap is not None
    live = flow.heatmap.result()
    row = flow.heatmap.row
    batch = heatmap_from_events(events, INST, HeatmapConfig(step_ns=HEATMAP_STEP_NS, row=row))
    assert live.equals(batch)
    # the row is the footprint's (automatic: half a basis point of the first price, >= a tick)
    assert row == INST.tick_size and engine.states[("test", "BTC/USDT")].row == row
    assert np.array_equal(live.best_bid[:1], [px(100)])


def test_a_configured_row_is_the_heatmap_row_too() -> None:
    engine = Engine(replace(Engine().config, rows={"BTC/USDT": "2"}), analytics=[VENUE_FLOW])
    engine.add_venue(NAMED_TEST([INST]), [INST])
    engine.on_events(None, session())
    flow = engine.analytic("venue_flow", INST.symbol, "test")
    assert isinstance(flow, VenueFlow) and flow.heatmap is not None
    assert flow.heatmap.row == px(2)
