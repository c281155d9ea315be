"""Order-flow signals: immutable ``Signal`` records from one detector per pattern.

Trade-only detectors (``trade_flow``): block trade, momentum burst, small-trade burst.
Book-aware detectors read the exact book of a shared ``BookTracker`` and its ``BookChange``s:
sweep, absorption, iceberg (``liquidity``), large order placed / pulled (``resting``), book
imbalance (``imbalance``). ``SignalEngine`` runs them all for one instrument. Every detector
works in event time only and documents its thresholds and false-positive control on its
frozen config dataclass.
"""

from orderscope.flow.signals.engine import SignalConfig, SignalEngine, detect_signals
from orderscope.flow.signals.imbalance import BookImbalanceConfig, BookImbalanceDetector
from orderscope.flow.signals.liquidity import (
    AbsorptionConfig,
    AbsorptionDetector,
    IcebergConfig,
    IcebergDetector,
)
from orderscope.flow.signals.record import Signal, SignalKind
from orderscope.flow.signals.resting import LargeOrderConfig, LargeOrderDetector
from orderscope.flow.signals.sweep import SweepConfig, SweepDetector
from orderscope.flow.signals.trade_flow import (
    BlockTradeConfig,
    BlockTradeDetector,
    MomentumBurstConfig,
    MomentumBurstDetector,
    SmallTradeBurstConfig,
    SmallTradeBurstDetector,
)

__all__ = [
    "AbsorptionConfig",
    "AbsorptionDetector",
    "BlockTradeConfig",
    "BlockTradeDetector",
    "BookImbalanceConfig",
    "BookImbalanceDetector",
    "IcebergConfig",
    "IcebergDetector",
    "LargeOrderConfig",
    "LargeOrderDetector",
    "MomentumBurstConfig",
    "MomentumBurstDetector",
    "Signal",
    "SignalConfig",
    "SignalEngine",
    "SignalKind",
    "SmallTradeBurstConfig",
    "SmallTradeBurstDetector",
    "SweepConfig",
    "SweepDetector",
    "detect_signals",
]
