"""TradeStream: the fan-out gives every analytic exactly what its own update(trade) gives."""

from __future__ import annotations

from orderscope.bench.flow_session import INSTRUMENT, SessionMaker
from orderscope.flow.base import MINUTE
from orderscope.flow.delta import CumulativeDelta
from orderscope.flow.footprint import BarSpec, Footprint
from orderscope.flow.profile import SessionProfiles, VolumeProfile
from orderscope.flow.signals import Signal, SignalEngine
from orderscope.flow.stream import TradeStream
from orderscope.flow.trades import TradeFlow
from orderscope.flow.vwap import Vwap, VwapParams
from orderscope.model import BookDelta, BookSnapshot, Trade

ROW = 50


class Analytics:
    def __init__(self) -> None:
        self.footprints = [
            Footprint(ROW, BarSpec.time(MINUTE)),
            Footprint(ROW, BarSpec.volume(10**6)),
        ]
        self.profile = VolumeProfile(ROW)
        self.sessions = SessionProfiles(ROW, 5 * MINUTE)
        self.delta = CumulativeDelta()
        self.vwaps = [Vwap(VwapParams(2)), Vwap(VwapParams(2, session_ns=None))]
        self.flow = TradeFlow(INSTRUMENT)
        self.engine = SignalEngine(INSTRUMENT)
        self.signals: list[Signal] = []

    def results(self) -> object:
        return (
            [f.result() for f in self.footprints],
            self.profile.result(),
            self.sessions.result(),
            self.delta.result(),
            [v.result() for v in self.vwaps],
            self.flow.result(),
            self.signals,
        )


def test_stream_equals_each_analytic_fed_alone() -> None:
    events = SessionMaker(7).make(4_000).events()
    alone, fanned = Analytics(), Analytics()
    stream = TradeStream(
        footprints=fanned.footprints,
        profile=fanned.profile,
        sessions=fanned.sessions,
        delta=fanned.delta,
        vwaps=fanned.vwaps,
        flow=fanned.flow,
        engine=fanned.engine,
    )
    trades = 0
    for event in events:
        if type(event) is Trade:
            trades += 1
            for footprint in alone.footprints:
                footprint.update(event)
            alone.profile.update(event)
            alone.sessions.update(event)
            alone.delta.update(event)
            for vwap in alone.vwaps:
                vwap.update(event)
            alone.flow.update(event)
            alone.engine.update(event, alone.signals)
            stream.update(event, fanned.signals)
        else:
            assert isinstance(event, BookDelta | BookSnapshot)
            alone.engine.update(event, alone.signals)
            fanned.engine.update(event, fanned.signals)
    assert trades > 3_000 and alone.signals  # the session trades and triggers detectors
    assert fanned.results() == alone.results()
