"""Follow one instrument's book from its events and say exactly what each update changed.

Book-aware analytics (OFI, the heatmap, book signals) need more than the book after an update:
they need the top of book *before* it and, per level, the size before and after. A venue's
``L2Book`` only keeps the present, and replay hands out events after the connector has applied
a whole frame, so each analytic keeps its own exact copy: ``BookTracker`` applies the same
``BookSnapshot`` / ``BookDelta`` events with the same ``L2Book`` code (and the venue's depth
limit, if it has one) and returns a ``BookChange`` per event.

A ``BookChange`` lists levels as ``(price, old, new)``: a delta lists every level it names
(a level restated at the same size is news to a detector watching it refill), a snapshot lists
every level it removed or altered (not the thousands it merely restated), and a depth-limited
book adds the levels it trimmed. The sizes are taken for the whole message at once (a venue's
diff is one atomic update; its levels never existed in any intermediate state).
"""

from __future__ import annotations

from operator import itemgetter

import msgspec

from orderscope.book import L2Book
from orderscope.model import (
    BookDelta,
    BookSnapshot,
    BookState,
    BookStatus,
    Event,
    Instrument,
    Level,
)

#: (price, size before, size after) of one level, scaled ints.
LevelChange = tuple[int, int, int]


_price = itemgetter(0)


def event_time(event: Event) -> int:
    """Event time in ns: the venue's timestamp, or the receive time where the venue sends none
    (a REST snapshot, for instance). Analytics never read the wall clock."""
    return event.exch_ns or event.recv_ns


class BookChange(msgspec.Struct, frozen=True, gc=False):
    """What one book event did. Prices/sizes are scaled ints; 0 stands for an empty side."""

    ts: int
    snapshot: bool
    #: A snapshot that (re)starts the book: the first one, or one after the venue flagged the
    #: book out of sync. Its differences are a resynchronisation, not order flow. A snapshot on
    #: a synced book (venues that publish full books as their update stream) is an update.
    resync: bool
    bids: list[LevelChange]
    asks: list[LevelChange]
    prev_bid: int
    prev_bid_size: int
    prev_ask: int
    prev_ask_size: int
    bid: int
    bid_size: int
    ask: int
    ask_size: int


class TrackedBook(L2Book):
    """An L2Book that remembers which levels its depth limit trimmed in the last update."""

    __slots__ = ("trimmed_asks", "trimmed_bids")

    def __init__(self, instrument: Instrument, max_depth: int | None) -> None:
        super().__init__(instrument, max_depth)
        self.trimmed_bids: list[Level] = []
        self.trimmed_asks: list[Level] = []

    def _trim(self, depth: int) -> None:
        # Read what the base class is about to drop (worst bids first, worst asks last).
        bid_prices = self._bid_prices
        if len(bid_prices) > depth:
            sizes = self._bid_sizes
            self.trimmed_bids = [(p, sizes[p]) for p in bid_prices[: len(bid_prices) - depth]]
        ask_prices = self._ask_prices
        if len(ask_prices) > depth:
            sizes = self._ask_sizes
            self.trimmed_asks = [(p, sizes[p]) for p in ask_prices[depth:]]
        super()._trim(depth)

    def levels_between(self, bids: bool, low: int, high: int) -> int:
        """How many bid (or ask) levels have a price in ``[low, high]`` (two bisects)."""
        prices = self._bid_prices if bids else self._ask_prices
        return max(0, _bisect_right(prices, high) - _bisect_left(prices, low))

    def top(self) -> tuple[int, int, int, int]:
        bid_prices = self._bid_prices
        ask_prices = self._ask_prices
        if bid_prices:
            bid = bid_prices[-1]
            bid_size = self._bid_sizes[bid]
        else:
            bid = bid_size = 0
        if ask_prices:
            ask = ask_prices[0]
            ask_size = self._ask_sizes[ask]
        else:
            ask = ask_size = 0
        return bid, bid_size, ask, ask_size


# The two bisects as loops over ``list[int]``: compiled, each step compares machine ints, where
# the ``bisect`` module compares through Python's generic rich comparison. Same results as
# ``bisect.bisect_left`` / ``bisect_right``.
def _bisect_left(prices: list[int], price: int) -> int:
    low, high = 0, len(prices)
    while low < high:
        middle = (low + high) // 2
        if prices[middle] < price:
            low = middle + 1
        else:
            high = middle
    return low


def _bisect_right(prices: list[int], price: int) -> int:
    low, high = 0, len(prices)
    while low < high:
        middle = (low + high) // 2
        if price < prices[middle]:
            high = middle
        else:
            low = middle + 1
    return low


def _side_changes(
    before: dict[int, int], after: dict[int, int], trimmed: list[Level], restated: bool
) -> list[LevelChange]:
    if not before and not trimmed:  # a delta of the other side only (one-level feeds)
        return []
    changes = [(p, old, after.get(p, 0)) for p, old in before.items()]
    if not restated:
        changes = [c for c in changes if c[1] != c[2]]
    if trimmed:  # a level pushed out by the depth limit, not named in the update
        changes.extend((p, size, 0) for p, size in trimmed if p not in before)
    return changes


class BookTracker:
    """An exact copy of one instrument's book, fed with its events, reporting each change."""

    __slots__ = ("_top_sizes", "asks", "bids", "book", "synced")

    def __init__(self, instrument: Instrument, max_depth: int | None = None) -> None:
        self.book = TrackedBook(instrument, max_depth)
        #: False until a snapshot arrives, and after the venue reports the book OUT_OF_SYNC.
        self.synced = False
        self._top_sizes: tuple[int, int, int] | None = None  # (levels, bids, asks) cache
        #: price -> size of each side of ``book``, for the detectors that read one level per
        #: trade (a dict lookup instead of a method call); taken again after every update.
        self.bids: dict[int, int] = self.book._bid_sizes
        self.asks: dict[int, int] = self.book._ask_sizes

    def on_status(self, status: BookStatus) -> None:
        if status.state is not BookState.SYNCED:
            self.synced = False

    def apply(self, event: BookSnapshot | BookDelta) -> BookChange:
        book = self.book
        bid_sizes = book._bid_sizes
        ask_sizes = book._ask_sizes
        prev_bid, prev_bid_size, prev_ask, prev_ask_size = book.top()
        cached = self._top_sizes
        depth = cached[0] if cached is not None else 0
        nth_bid, nth_ask = _nth(book, depth) if cached is not None else (None, None)
        book.trimmed_bids = book.trimmed_asks = []
        if type(event) is BookSnapshot:
            self._top_sizes = None
            old_bids = dict(bid_sizes)
            old_asks = dict(ask_sizes)
            for price, _ in event.bids:
                old_bids.setdefault(price, 0)
            for price, _ in event.asks:
                old_asks.setdefault(price, 0)
            book.apply_snapshot(event.bids, event.asks, event.sequence)
            resync = not self.synced
            self.synced = True
            snapshot = True
        else:
            assert type(event) is BookDelta
            old_bids = {p: bid_sizes.get(p, 0) for p, _ in event.bids}
            old_asks = {p: ask_sizes.get(p, 0) for p, _ in event.asks}
            book.apply_delta(event.bids, event.asks, event.last_sequence)
            snapshot = resync = False
            if cached is not None and not _top_unchanged(book, depth, event, nth_bid, nth_ask):
                self._top_sizes = None
        bid, bid_size, ask, ask_size = book.top()
        self.bids = bid_sizes = book._bid_sizes
        self.asks = ask_sizes = book._ask_sizes
        return BookChange(
            event_time(event),
            snapshot,
            resync,
            _side_changes(old_bids, bid_sizes, book.trimmed_bids, not snapshot),
            _side_changes(old_asks, ask_sizes, book.trimmed_asks, not snapshot),
            prev_bid,
            prev_bid_size,
            prev_ask,
            prev_ask_size,
            bid,
            bid_size,
            ask,
            ask_size,
        )

    def nth_best(self, depth: int) -> tuple[int | None, int | None]:
        """The ``depth``-th best bid and ask prices (None: the side has fewer levels)."""
        return _nth(self.book, depth)

    def top_sizes(self, levels: int) -> tuple[int, int]:
        """Total resting size of the best ``levels`` bids and asks (cached, since several
        analytics ask for the same figure after every update, until an update changes a
        level among the best ``levels`` of a side, before or after it)."""
        cached = self._top_sizes
        if cached is not None and cached[0] == levels:
            return cached[1], cached[2]
        book = self.book
        bid_prices = book._bid_prices
        ask_prices = book._ask_prices
        bid_sizes = book._bid_sizes
        ask_sizes = book._ask_sizes
        bids = sum([bid_sizes[p] for p in bid_prices[-levels:]]) if levels else 0
        asks = sum([ask_sizes[p] for p in ask_prices[:levels]]) if levels else 0
        self._top_sizes = (levels, bids, asks)
        return bids, asks


def _nth(book: TrackedBook, depth: int) -> tuple[int | None, int | None]:
    """The ``depth``-th best bid and ask prices (None: the side has fewer levels)."""
    bid_prices, ask_prices = book._bid_prices, book._ask_prices
    return (
        bid_prices[-depth] if 0 < depth <= len(bid_prices) else None,
        ask_prices[depth - 1] if 0 < depth <= len(ask_prices) else None,
    )


def _top_unchanged(
    book: TrackedBook, depth: int, delta: BookDelta, nth_bid: int | None, nth_ask: int | None
) -> bool:
    """Whether a delta left the best ``depth`` levels of both sides as they were: every price
    it names lies beyond the ``depth``-th best level, both before and after it (a level that
    left the best, or entered them, or changed among them, lies within one of the two). The
    depth limit only trims levels beyond ``depth`` when the book keeps more than that."""
    if not depth:
        return True
    after_bid, after_ask = _nth(book, depth)
    if delta.bids:
        if nth_bid is None or after_bid is None:
            return False
        if max(map(_price, delta.bids)) >= min(nth_bid, after_bid):
            return False
    if delta.asks:
        if nth_ask is None or after_ask is None:
            return False
        if min(map(_price, delta.asks)) <= max(nth_ask, after_ask):
            return False
    return True
