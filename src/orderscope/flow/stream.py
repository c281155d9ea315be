"""One trade to every streaming analytic of an instrument, its fields read once.

A live session hands each ``Trade`` to several streaming analytics (footprints, profiles, CVD,
VWAP, trade flow, the signal engine). Each of them used to read the Trade's fields itself: from
compiled code a msgspec attribute read is a generic Python lookup (type lookup, member
descriptor, a boxed int), so four fields read by a dozen consumers were a fifth of the trade
path. ``TradeStream.update`` reads them once and calls each analytic's ``trade(ts, price, size,
side)`` with plain ints: compiled, those are native calls with unboxed ints.

Every analytic keeps its ``update(trade)``, which does the same for one analytic alone.
"""

from __future__ import annotations

from collections.abc import Iterable

from orderscope.flow.delta import CumulativeDelta
from orderscope.flow.footprint import Footprint
from orderscope.flow.profile import SessionProfiles, VolumeProfile
from orderscope.flow.signals.engine import SignalEngine
from orderscope.flow.signals.record import Signal
from orderscope.flow.trades import TradeFlow
from orderscope.flow.vwap import Vwap
from orderscope.model import Trade


class TradeStream:
    """Feeds the analytics given (any of them may be left out) one trade at a time, in this
    order: footprints, profile, session profiles, CVD, VWAP, trade flow, signal engine (the
    order is immaterial: none reads another's state)."""

    __slots__ = ("delta", "engine", "flow", "footprints", "profile", "sessions", "vwaps")

    def __init__(
        self,
        *,
        footprints: Iterable[Footprint] = (),
        profile: VolumeProfile | None = None,
        sessions: SessionProfiles | None = None,
        delta: CumulativeDelta | None = None,
        vwaps: Iterable[Vwap] = (),
        flow: TradeFlow | None = None,
        engine: SignalEngine | None = None,
    ) -> None:
        self.footprints = list(footprints)
        self.profile = profile
        self.sessions = sessions
        self.delta = delta
        self.vwaps = list(vwaps)
        self.flow = flow
        self.engine = engine

    def update(self, trade: Trade, out: list[Signal]) -> None:
        """One trade; the engine's signals (if it has one) are appended to ``out``."""
        ts = trade.exch_ns or trade.recv_ns
        price, size, side = trade.price, trade.size, trade.side
        for footprint in self.footprints:
            footprint.trade(ts, price, size, side)
        if self.profile is not None:
            self.profile.trade(ts, price, size, side)
        if self.sessions is not None:
            self.sessions.trade(ts, price, size, side)
        if self.delta is not None:
            self.delta.trade(ts, price, size, side)
        for vwap in self.vwaps:
            vwap.trade(ts, price, size, side)
        if self.flow is not None:
            self.flow.trade(ts, price, size, side)
        if self.engine is not None:
            self.engine.trade(ts, price, size, side, out)
