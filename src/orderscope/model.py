"""Normalized market-data events and instruments.

Every event is an immutable ``msgspec.Struct`` that carries the venue, the unified symbol, the
exchange's own timestamp (``exch_ns``) and the local receive time (``recv_ns``), both integer
nanoseconds since the epoch. ``exch_ns`` is 0 when the venue does not stamp the message.

Prices and sizes are scaled integers (see ``orderscope.fixed``): a price is in units of
``10**-instrument.price_decimals`` and a size in units of ``10**-instrument.size_decimals``.
The instrument of an event is found by ``(venue, symbol)``.
"""

from __future__ import annotations

import enum

import msgspec

from orderscope.fixed import format_fixed, to_float

#: One book level: (price, size) as scaled integers. Size 0 in a delta deletes the level.
Level = tuple[int, int]


class Side(enum.IntEnum):
    """The aggressor (taker) side of a trade: BUY lifted the ask, SELL hit the bid."""

    BUY = 1
    SELL = -1


class InstrumentKind(enum.StrEnum):
    SPOT = "spot"
    LINEAR_PERPETUAL = "linear_perpetual"
    INVERSE_PERPETUAL = "inverse_perpetual"
    LINEAR_FUTURE = "linear_future"
    INVERSE_FUTURE = "inverse_future"


class Instrument(msgspec.Struct, frozen=True):
    """A tradable instrument on one venue, with the precision its numbers are kept at."""

    venue: str
    symbol: str  # unified: BTC/USDT, BTC/USDT:USDT, BTC/USD:BTC
    venue_symbol: str  # as the venue writes it on the wire: BTCUSDT, XBT/USD, BTC-USD
    base: str
    quote: str
    kind: InstrumentKind
    price_decimals: int
    size_decimals: int
    tick_size: int  # in price units (10**-price_decimals)
    lot_size: int  # in size units (10**-size_decimals)
    settle: str | None = None
    contract_size: str | None = None  # base (linear) or quote (inverse) per contract, decimal

    def price(self, value: int) -> float:
        return to_float(value, self.price_decimals)

    def size(self, value: int) -> float:
        return to_float(value, self.size_decimals)

    def price_text(self, value: int) -> str:
        return format_fixed(value, self.price_decimals)

    def size_text(self, value: int) -> str:
        return format_fixed(value, self.size_decimals)


class Event(msgspec.Struct, frozen=True, gc=False):
    venue: str
    symbol: str
    exch_ns: int
    recv_ns: int


class Trade(Event, frozen=True, gc=False, tag="trade"):
    price: int
    size: int
    side: Side  # aggressor side, as the venue reports it
    trade_id: str


class BookSnapshot(Event, frozen=True, gc=False, tag="book_snapshot"):
    """A full (possibly depth-limited) book that replaces whatever was there."""

    bids: list[Level]  # best first
    asks: list[Level]  # best first
    sequence: int = 0  # the venue's update id the snapshot is at (0: the venue sends none)


class BookDelta(Event, frozen=True, gc=False, tag="book_delta"):
    """Absolute new sizes for the levels that changed; size 0 deletes the level."""

    bids: list[Level]
    asks: list[Level]
    first_sequence: int = 0
    last_sequence: int = 0


class BestBidOffer(Event, frozen=True, gc=False, tag="bbo"):
    bid_price: int
    bid_size: int
    ask_price: int
    ask_size: int


class Ticker(Event, frozen=True, gc=False, tag="ticker"):
    """Rolling 24h statistics as the venue publishes them; None where it does not."""

    last_price: int | None = None
    open_24h: int | None = None
    high_24h: int | None = None
    low_24h: int | None = None
    volume_24h: int | None = None  # base units, at size_decimals
    best_bid: int | None = None
    best_ask: int | None = None


class FundingRate(Event, frozen=True, gc=False, tag="funding"):
    """Perpetual funding: the current (predicted) rate and the mark price where sent."""

    rate: str  # decimal string as the venue sends it, e.g. "0.00010000" (per funding interval)
    next_funding_ns: int = 0
    mark_price: int | None = None
    index_price: int | None = None


class OpenInterest(Event, frozen=True, gc=False, tag="open_interest"):
    open_interest: int  # base units at size_decimals (contracts converted)


class Liquidation(Event, frozen=True, gc=False, tag="liquidation"):
    """A forced order: ``side`` is the side of the liquidation order (SELL closes a long)."""

    price: int
    size: int
    side: Side


class BookState(enum.StrEnum):
    """Whether a book can be trusted."""

    AWAITING_SNAPSHOT = "awaiting_snapshot"  # subscribed, no snapshot yet
    SYNCED = "synced"  # every update since the snapshot was applied in order
    OUT_OF_SYNC = "out_of_sync"  # a gap or checksum failure: wrong until the next snapshot


class BookStatus(Event, frozen=True, gc=False, tag="book_status"):
    """A book changed state (e.g. a gap made it OUT_OF_SYNC; a snapshot made it SYNCED)."""

    state: BookState
    reason: str


class FeedState(enum.StrEnum):
    """The state of a live connection to a venue."""

    CONNECTING = "connecting"
    LIVE = "live"
    STALE = "stale"  # nothing received for too long: the connection is dropped
    RESYNCING = "resyncing"  # books of the connection wait for snapshots
    BACKOFF = "backoff"  # waiting before reconnecting
    STOPPED = "stopped"


class FeedStatus(Event, frozen=True, gc=False, tag="feed_status"):
    """A live connection changed state. ``symbol`` is empty: it concerns the connection."""

    state: FeedState
    reason: str
    connection: int = 0
    attempt: int = 0


MarketEvent = (
    Trade
    | BookSnapshot
    | BookDelta
    | BestBidOffer
    | Ticker
    | BookStatus
    | FundingRate
    | OpenInterest
    | Liquidation
    | FeedStatus
)
