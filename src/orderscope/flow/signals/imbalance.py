"""Book imbalance: one side of the near book much heavier than the other, for long enough.

The imbalance is (B - A) / (B + A) with B and A the resting sizes of the best ``levels`` bids
and asks, read from the exact book after every update.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from orderscope.fixed import div
from orderscope.flow.base import BUY, SELL
from orderscope.flow.book_tracker import BookChange, BookTracker
from orderscope.flow.signals.record import (
    Cooldown,
    Signal,
    SignalKind,
    book_side_word,
    price_text,
    scaled,
    size_text,
)
from orderscope.model import Instrument, Side

SECOND: Final = 1_000_000_000


@dataclass(frozen=True, slots=True)
class BookImbalanceConfig:
    """False-positive control: the imbalance must hold at or beyond ``threshold`` (same side)
    on every update for ``min_duration_ns`` (a single flickering update never fires), then one
    signal per run and per side per ``cooldown_ns``."""

    levels: int = 10
    threshold: float = 0.6
    full: float = 0.9
    min_duration_ns: int = SECOND
    cooldown_ns: int = 10 * SECOND


class BookImbalanceDetector:
    __slots__ = ("_cooldown", "_fired", "_side", "_since", "config", "instrument", "tracker")

    def __init__(
        self,
        instrument: Instrument,
        tracker: BookTracker,
        config: BookImbalanceConfig | None = None,
    ) -> None:
        self.instrument = instrument
        self.tracker = tracker
        self.config = config or BookImbalanceConfig()
        self._cooldown = Cooldown(self.config.cooldown_ns)
        self._side: Side | None = None
        self._since = 0
        self._fired = False

    def on_book(self, change: BookChange, out: list[Signal]) -> None:
        if not self.tracker.synced:
            self._side = None
            return
        config = self.config
        bids, asks = self.tracker.top_sizes(config.levels)
        total = bids + asks
        imbalance = div(bids - asks, total) if total else 0.0
        if abs(imbalance) < config.threshold:
            self._side = None
            return
        side = BUY if imbalance > 0 else SELL
        ts = change.ts
        if side is not self._side:
            self._side, self._since, self._fired = side, ts, False
            return
        if self._fired or ts - self._since < config.min_duration_ns:
            return
        self._fired = True
        if not self._cooldown.ready(side, ts):
            return
        self._cooldown.mark(side, ts)
        inst = self.instrument
        heavy = bids if side is BUY else asks
        out.append(
            Signal(
                ts,
                inst.venue,
                inst.symbol,
                SignalKind.BOOK_IMBALANCE,
                side,
                change.bid if side is BUY else change.ask,
                heavy,
                scaled(abs(imbalance), config.threshold, config.full),
                f"book imbalance {imbalance:+.2f} toward the {book_side_word(side)}s over the "
                f"best {config.levels} levels for {(ts - self._since) / 1e9:.1f} s: bids "
                f"{size_text(inst, bids)} vs asks {size_text(inst, asks)} "
                f"(touch {price_text(inst, change.bid)} / {price_text(inst, change.ask)})",
                self._since,
            )
        )
