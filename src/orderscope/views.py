"""JSON views of events and analytics results, as the REST and WebSocket API send them.

Prices and sizes are decimal strings at the instrument's precision (exact: the scaled ints of
``orderscope.fixed`` written out, never a float); times are RFC 3339 UTC with nanoseconds;
ratios and percentages are floats. One set of ``msgspec.Struct`` types describes both the
encoding (msgspec writes them) and the OpenAPI schema (``msgspec.json.schema_components``), so
the documented shape cannot drift from the sent one.

The functions here only format: they take results of ``orderscope.flow`` (and books, events)
and an ``Instrument`` that says how many decimals the numbers carry.
"""

from __future__ import annotations

from datetime import UTC, datetime

import msgspec

from orderscope.book import L2Book
from orderscope.fixed import format_fixed
from orderscope.flow.delta import DeltaBar
from orderscope.flow.footprint import FootprintBar, Imbalance, StackedImbalance
from orderscope.flow.profile import Profile
from orderscope.model import BookStatus, FeedStatus, Instrument, Side, Trade

_second = (-1, "")  # the last second formatted: replaced whole, so threads read a pair that fits


def rfc3339(ns: int) -> str:
    """Nanoseconds since the epoch -> ``2026-01-02T03:04:05.123456789Z`` (0 is the epoch).

    The formatted second is cached: consecutive events mostly share it, and ticks are formatted
    on the hot path.
    """
    global _second
    seconds, frac = divmod(ns, 1_000_000_000)
    cached_seconds, text = _second
    if cached_seconds != seconds:
        text = datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S")
        _second = (seconds, text)
    return f"{text}.{frac:09d}Z"


def side_name(side: Side) -> str:
    return "buy" if side is Side.BUY else "sell"


# -- ticks and books ----------------------------------------------------------------------


class TradeView(msgspec.Struct, frozen=True):
    time: str  # event time: the venue's stamp, else the receive time
    price: str
    size: str
    side: str  # the aggressor: "buy" | "sell"
    trade_id: str
    received_ns: int  # when orderscope received the frame (ns since the epoch): feed latency


def trade_view(trade: Trade, inst: Instrument) -> TradeView:
    return TradeView(
        rfc3339(trade.exch_ns or trade.recv_ns),
        format_fixed(trade.price, inst.price_decimals),
        format_fixed(trade.size, inst.size_decimals),
        side_name(trade.side),
        trade.trade_id,
        trade.recv_ns,
    )


class BookView(msgspec.Struct, frozen=True):
    venue: str
    symbol: str
    state: str  # awaiting_snapshot | synced | out_of_sync: only "synced" can be trusted
    crossed: bool
    time: str | None  # receive time of the last update applied (None before any)
    bids: list[tuple[str, str]]  # (price, size), best first
    asks: list[tuple[str, str]]
    levels: tuple[int, int]  # levels held in the book (bids, asks), beyond the N shown


def book_view(venue: str, book: L2Book, depth: int, last_ns: int) -> BookView:
    inst = book.instrument
    pd, sd = inst.price_decimals, inst.size_decimals
    return BookView(
        venue,
        inst.symbol,
        book.state.value,
        book.crossed,
        rfc3339(last_ns) if last_ns else None,
        [(format_fixed(p, pd), format_fixed(s, sd)) for p, s in book.bids(depth)],
        [(format_fixed(p, pd), format_fixed(s, sd)) for p, s in book.asks(depth)],
        book.depth(),
    )


# -- footprint ----------------------------------------------------------------------------


class ImbalanceView(msgspec.Struct, frozen=True):
    price: str  # the dominant row's lower edge
    side: str  # buy: buy[P] over sell[P - row]; sell: sell[P] over buy[P + row]
    volume: str
    against: str


class StackedView(msgspec.Struct, frozen=True):
    side: str
    low: str
    high: str
    rows: int


class FootprintRowView(msgspec.Struct, frozen=True):
    price: str  # lower edge of the row
    buy: str
    sell: str
    delta: str
    trades: int


class FootprintBarView(msgspec.Struct, frozen=True):
    start: str
    end: str
    open: str
    high: str
    low: str
    close: str
    volume: str
    delta: str
    max_delta: str
    min_delta: str
    trades: int
    poc: str
    imbalances: list[ImbalanceView]
    stacked_imbalances: list[StackedView]
    rows: list[FootprintRowView]


def imbalance_views(found: list[Imbalance], inst: Instrument) -> list[ImbalanceView]:
    pd, sd = inst.price_decimals, inst.size_decimals
    return [
        ImbalanceView(
            format_fixed(i.price, pd),
            side_name(i.side),
            format_fixed(i.volume, sd),
            format_fixed(i.against, sd),
        )
        for i in found
    ]


def stacked_views(stacked: list[StackedImbalance], inst: Instrument) -> list[StackedView]:
    pd = inst.price_decimals
    return [
        StackedView(side_name(s.side), format_fixed(s.low, pd), format_fixed(s.high, pd), s.rows)
        for s in stacked
    ]


def footprint_bar_view(
    bar: FootprintBar,
    inst: Instrument,
    found: list[Imbalance],
    stacked: list[StackedImbalance],
) -> FootprintBarView:
    pd, sd = inst.price_decimals, inst.size_decimals
    return FootprintBarView(
        rfc3339(bar.start_ns),
        rfc3339(bar.end_ns),
        format_fixed(bar.open, pd),
        format_fixed(bar.high, pd),
        format_fixed(bar.low, pd),
        format_fixed(bar.close, pd),
        format_fixed(bar.volume, sd),
        format_fixed(bar.delta, sd),
        format_fixed(bar.max_delta, sd),
        format_fixed(bar.min_delta, sd),
        bar.trades,
        format_fixed(bar.poc, pd),
        imbalance_views(found, inst),
        stacked_views(stacked, inst),
        [
            FootprintRowView(
                format_fixed(r.price, pd),
                format_fixed(r.buy, sd),
                format_fixed(r.sell, sd),
                format_fixed(r.buy - r.sell, sd),
                r.trades,
            )
            for r in bar.rows
        ],
    )


# -- profile ------------------------------------------------------------------------------


class ProfileRowView(msgspec.Struct, frozen=True):
    price: str
    buy: str
    sell: str
    volume: str
    trades: int


class ProfileView(msgspec.Struct, frozen=True):
    start: str | None  # the session's start (VPSV) or the range asked for (VPVR)
    end: str | None
    row: str
    volume: str
    buy: str
    sell: str
    poc: str | None  # None: no trades
    vah: str | None
    val: str | None
    value_area_volume: str
    hvn: list[str]
    lvn: list[str]
    rows: list[ProfileRowView]  # lowest first; rows without trades inside the range included


def profile_view(
    profile: Profile, inst: Instrument, start_ns: int | None, end_ns: int | None
) -> ProfileView:
    pd, sd = inst.price_decimals, inst.size_decimals

    def maybe(value: int | None) -> str | None:
        return None if value is None else format_fixed(value, pd)

    return ProfileView(
        rfc3339(start_ns) if start_ns is not None else None,
        rfc3339(end_ns) if end_ns is not None else None,
        format_fixed(profile.row, pd),
        format_fixed(profile.volume, sd),
        format_fixed(profile.buy, sd),
        format_fixed(profile.sell, sd),
        maybe(profile.poc),
        maybe(profile.vah),
        maybe(profile.val),
        format_fixed(profile.value_area_volume, sd),
        [format_fixed(p, pd) for p in profile.hvn],
        [format_fixed(p, pd) for p in profile.lvn],
        [
            ProfileRowView(
                format_fixed(r.price, pd),
                format_fixed(r.buy, sd),
                format_fixed(r.sell, sd),
                format_fixed(r.buy + r.sell, sd),
                r.trades,
            )
            for r in profile.rows
        ],
    )


# -- delta --------------------------------------------------------------------------------


class DeltaBarView(msgspec.Struct, frozen=True):
    start: str
    buy: str
    sell: str
    delta: str
    trades: int
    high: str
    low: str
    close: str
    cvd: str  # running, from the start of the retained window (see ``cvd_offset``)
    session_cvd: str
    momentum: str | None
    acceleration: str | None
    buy_pct: float
    divergence: str | None  # bearish | bullish
    exhaustion: str | None  # buying | selling


def delta_bar_view(bar: DeltaBar, inst: Instrument) -> DeltaBarView:
    pd, sd = inst.price_decimals, inst.size_decimals

    def maybe(value: int | None) -> str | None:
        return None if value is None else format_fixed(value, sd)

    return DeltaBarView(
        rfc3339(bar.start_ns),
        format_fixed(bar.buy, sd),
        format_fixed(bar.sell, sd),
        format_fixed(bar.buy - bar.sell, sd),
        bar.trades,
        format_fixed(bar.high, pd),
        format_fixed(bar.low, pd),
        format_fixed(bar.close, pd),
        format_fixed(bar.cvd, sd),
        format_fixed(bar.session_cvd, sd),
        maybe(bar.momentum),
        maybe(bar.acceleration),
        bar.buy_pct,
        bar.divergence,
        bar.exhaustion,
    )


# -- status -------------------------------------------------------------------------------


class FeedStatusView(msgspec.Struct, frozen=True):
    kind: str  # "feed": a connection of a venue
    venue: str
    connection: int
    state: str  # connecting | live | stale | resyncing | backoff | stopped (| unsupported | error)
    reason: str
    attempt: int
    time: str


class BookStatusView(msgspec.Struct, frozen=True):
    kind: str  # "book": one book of a venue
    venue: str
    symbol: str
    state: str  # awaiting_snapshot | synced | out_of_sync
    reason: str
    time: str


def feed_status_view(event: FeedStatus) -> FeedStatusView:
    return FeedStatusView(
        "feed",
        event.venue,
        event.connection,
        event.state.value,
        event.reason,
        event.attempt,
        rfc3339(event.exch_ns or event.recv_ns),
    )


def book_status_view(event: BookStatus) -> BookStatusView:
    return BookStatusView(
        "book",
        event.venue,
        event.symbol,
        event.state.value,
        event.reason,
        rfc3339(event.exch_ns or event.recv_ns),
    )


# -- pushed updates -------------------------------------------------------------------------


class FootprintUpdate(msgspec.Struct, frozen=True):
    timeframe: str
    row: str
    bar: FootprintBarView  # the bar the latest trades went to, whole


class ImbalanceDetected(msgspec.Struct, frozen=True):
    timeframe: str
    bar_start: str
    imbalances: list[ImbalanceView]  # new since the last push of this bar
    stacked_imbalances: list[StackedView]  # every stacked run of the bar now


class DeltaUpdate(msgspec.Struct, frozen=True):
    timeframe: str
    cvd: str  # running, since the engine started
    session_cvd: str  # since the start of the current session (UTC day)
    bar_start: str
    bar_buy: str
    bar_sell: str
    bar_delta: str
    bar_trades: int
    bar_buy_pct: float
