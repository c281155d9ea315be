"""All detectors of one instrument behind one ``update(event, out)``.

``SignalEngine`` owns (or shares) the instrument's ``BookTracker``: trades go to every
detector, book events go through the tracker and the resulting ``BookChange`` to the
book-aware detectors, and ``BookStatus`` events keep the tracker's ``synced`` flag honest so no
book detector reads a book the venue flagged as possibly wrong.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from orderscope.flow.book_tracker import BookChange, BookTracker
from orderscope.flow.signals.imbalance import BookImbalanceConfig, BookImbalanceDetector
from orderscope.flow.signals.liquidity import (
    AbsorptionConfig,
    AbsorptionDetector,
    IcebergConfig,
    IcebergDetector,
)
from orderscope.flow.signals.record import Signal
from orderscope.flow.signals.resting import LargeOrderConfig, LargeOrderDetector
from orderscope.flow.signals.sweep import SweepConfig, SweepDetector
from orderscope.flow.signals.trade_flow import (
    BlockTradeConfig,
    BlockTradeDetector,
    MomentumBurstConfig,
    MomentumBurstDetector,
    SmallTradeBurstConfig,
    SmallTradeBurstDetector,
    TradeWindow,
    small_max,
)
from orderscope.model import (
    BookDelta,
    BookSnapshot,
    BookStatus,
    Event,
    Instrument,
    Side,
    Trade,
)


@dataclass(frozen=True, slots=True)
class SignalConfig:
    """Every detector's parameters (each a frozen dataclass with documented defaults)."""

    sweep: SweepConfig = field(default_factory=SweepConfig)
    absorption: AbsorptionConfig = field(default_factory=AbsorptionConfig)
    iceberg: IcebergConfig = field(default_factory=IcebergConfig)
    block_trade: BlockTradeConfig = field(default_factory=BlockTradeConfig)
    large_order: LargeOrderConfig = field(default_factory=LargeOrderConfig)
    momentum_burst: MomentumBurstConfig = field(default_factory=MomentumBurstConfig)
    small_trade_burst: SmallTradeBurstConfig = field(default_factory=SmallTradeBurstConfig)
    book_imbalance: BookImbalanceConfig = field(default_factory=BookImbalanceConfig)


class SignalEngine:
    def __init__(
        self,
        instrument: Instrument,
        config: SignalConfig | None = None,
        tracker: BookTracker | None = None,
    ) -> None:
        config = config or SignalConfig()
        self.instrument = instrument
        #: Pass a shared tracker to run beside other book analytics; the engine then leaves
        #: applying book events to whoever owns it (call ``on_book`` with its changes).
        self.owns_tracker = tracker is None
        self.tracker = tracker or BookTracker(instrument)
        t = self.tracker
        self.sweep = SweepDetector(instrument, t, config.sweep)
        self.absorption = AbsorptionDetector(instrument, t, config.absorption)
        self.iceberg = IcebergDetector(instrument, t, config.iceberg)
        self.large_order = LargeOrderDetector(instrument, t, config.large_order)
        self.book_imbalance = BookImbalanceDetector(instrument, t, config.book_imbalance)
        self.block_trade = BlockTradeDetector(instrument, config.block_trade)
        momentum, small = config.momentum_burst, config.small_trade_burst
        #: One window for the momentum and small-trade detectors when they span the same
        #: time: the momentum detector adds each trade to it (once), the small-trade one
        #: only reads it.
        shared: TradeWindow | None = None
        if momentum.window_ns == small.window_ns:
            shared = TradeWindow(small.window_ns, small_max(instrument, small))
        self.momentum_burst = MomentumBurstDetector(instrument, momentum, shared)
        self.small_trade_burst = SmallTradeBurstDetector(
            instrument, small, shared, feed=shared is None
        )
        self._on_book = [
            d.on_book
            for d in (self.absorption, self.iceberg, self.large_order, self.book_imbalance)
        ]

    def update(self, event: Event, out: list[Signal]) -> None:
        """Route one event of this instrument; append what it triggered to ``out``."""
        if type(event) is Trade:  # narrows the type for mypy at no cost (no isinstance)
            # The Trade's fields are read once here (a msgspec attribute read is a generic
            # Python lookup even from compiled code).
            self.trade(event.exch_ns or event.recv_ns, event.price, event.size, event.side, out)
        elif type(event) is BookDelta or type(event) is BookSnapshot:
            if self.owns_tracker:
                change = self.tracker.apply(event)
                for on_book in self._on_book:
                    on_book(change, out)
        elif type(event) is BookStatus and self.owns_tracker:
            self.tracker.on_status(event)

    def trade(self, ts: int, price: int, size: int, side: Side, out: list[Signal]) -> None:
        """One trade's fields (as ``update`` or ``flow.stream.TradeStream`` read them) to every
        detector, called directly: native calls when compiled."""
        self.sweep.trade(ts, price, size, side, out)
        self.absorption.trade(ts, price, size, side, out)
        self.iceberg.trade(ts, price, size, side, out)
        self.large_order.trade(ts, price, size, side, out)
        self.block_trade.trade(ts, price, size, side, out)
        # the momentum detector before the small-trade one: it feeds their shared window
        self.momentum_burst.trade(ts, price, size, side, out)
        self.small_trade_burst.trade(ts, price, size, side, out)

    def on_book(self, change: BookChange, out: list[Signal]) -> None:
        """Feed a change from a shared tracker (when the engine does not own it)."""
        for on_book in self._on_book:
            on_book(change, out)


def detect_signals(
    events: Iterable[Event], instrument: Instrument, config: SignalConfig | None = None
) -> list[Signal]:
    """Run every detector over one instrument's recorded events (the batch entry point: the
    detectors are sequential by nature, so batch and live share this one code path)."""
    engine = SignalEngine(instrument, config)
    out: list[Signal] = []
    for event in events:
        if event.symbol == instrument.symbol:
            engine.update(event, out)
    return out
