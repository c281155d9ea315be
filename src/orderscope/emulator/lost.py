"""What a client that lost book frames holds: the emulator's account of a silent loss.

On Binance a lost diff is a sequence gap the client sees at once. Kraken (v1) and Coinbase
(level2) number nothing, so whether a client notices a lost frame depends on what comes next:
on Kraken the CRC32 of the next update covers only the top 10 levels; on Coinbase only an update
that removes a level the client lacks shows the loss. A later update of the same level may also
repair the client's book before anything shows (it sends absolute sizes).

The emulator follows the difference frame by frame, so that a test (or the soak) knows exactly
what the client must have seen: each loss ends as ``lost_detected`` (the client's rule fires; it
resyncs) or ``lost_healed`` (later frames overwrote every lost level), counted in
``Faults.fired``. The account assumes one client per book, as tests and the soak have.
"""

from __future__ import annotations

from collections.abc import Iterable

from orderscope.emulator.server import Faults

#: (is_bid, price)
LevelKey = tuple[bool, int]


class LostFrames:
    """Per book, the levels where a client that missed frames differs from the truth."""

    def __init__(self, faults: Faults) -> None:
        self.faults = faults
        #: venue symbol -> {(is_bid, price): the size the client still holds there}
        self.held: dict[str, dict[LevelKey, int]] = {}

    def lose(
        self, symbol: str, changes: Iterable[tuple[bool, int, int]], before: Iterable[int]
    ) -> None:
        """A frame with these changes (and these sizes before them) did not reach the client."""
        held = self.held.setdefault(symbol, {})
        for (is_bid, price, _size), size_before in zip(changes, before, strict=True):
            held.setdefault((is_bid, price), size_before)  # the client keeps the oldest

    def overwritten(self, symbol: str, levels: Iterable[tuple[bool, int]]) -> dict[LevelKey, int]:
        """A frame that reached the client set these levels; what it still holds differently
        (empty, and counted as healed, when nothing is left)."""
        held = self.held.get(symbol)
        if held is None:
            return {}
        for key in levels:
            held.pop(key, None)
        if not held:
            del self.held[symbol]
            self.faults.count("lost_healed")
            return {}
        return held

    def detected(self, symbol: str) -> None:
        """The client's own rule showed the loss: it resyncs from a snapshot."""
        if self.held.pop(symbol, None) is not None:
            self.faults.count("lost_detected")

    def forget(self, symbol: str) -> None:
        """The client got a snapshot for another reason (a reconnect): nothing differs."""
        self.held.pop(symbol, None)

    @property
    def pending(self) -> int:
        """Books whose loss has not shown yet."""
        return len(self.held)
