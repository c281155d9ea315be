"""The consolidated book (COB) routes: ``GET /api/v1/cob/{symbol}/{book|buckets|venues|depth|
impact}``.

Each reads the symbol's ``ConsolidatedBook`` (the ``cob`` analytic) in the event loop: levels,
buckets and bands are bounded by their parameters, and an impact walk stops when the order is
filled. Prices and sizes are decimal strings on the COB's common scale (the finest precision
among its venues); statistical figures (mid, bps, imbalance, weighted liquidity) are numbers.
"""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING, Annotated

import msgspec
from fastapi import APIRouter, Query

from orderscope.api.params import ApiError, bad, fixed_amount
from orderscope.api.rest import Key, SymbolPath, get
from orderscope.api.schemas import envelope
from orderscope.cob.buckets import make_buckets
from orderscope.cob.consolidated import ConsolidatedBook
from orderscope.cob.impact import Fill, impact, route
from orderscope.cob.metrics import band_liquidity
from orderscope.cob.records import CobLevel, Stat
from orderscope.cob.service import CobAnalytic
from orderscope.errors import ConfigError
from orderscope.fixed import format_fixed
from orderscope.views import rfc3339

if TYPE_CHECKING:
    from orderscope.api.app import Service

MAX_BANDS = 10


class Side(enum.StrEnum):
    BUY = "buy"
    SELL = "sell"


# -- response bodies --------------------------------------------------------------------------


class CobLevelView(msgspec.Struct, frozen=True):
    price: str
    size: str  # every venue's size here together
    notional: str  # price * size, quote currency
    dominant: str  # the venue with the most (weighted) size at this price
    venues: dict[str, str]  # venue -> its size at this price


class CobBookData(msgspec.Struct, frozen=True):
    symbol: str
    quote: str
    time: str | None  # event time of the COB (receive time of its last book event)
    venues: list[str]  # venues in the COB now (synced and fresh)
    best_bid: str | None
    best_ask: str | None
    mid: float | None
    spread: str | None  # negative when venues cross each other
    spread_bps: float | None
    crossed: bool
    depth: int
    bids: list[CobLevelView]  # best first
    asks: list[CobLevelView]


class CobBucketView(msgspec.Struct, frozen=True):
    price: str  # the bucket's grid price (bids: at or below its levels, asks: at or above)
    size: str
    weighted_size: float  # base units, venue weights applied
    notional: str
    levels: int
    venues: dict[str, str]


class CobBucketsData(msgspec.Struct, frozen=True):
    symbol: str
    quote: str
    time: str | None
    width: str | None  # the bucket width in price (None: bps buckets and no mid yet)
    bps: float | None  # the bps of mid asked for
    quote_amount: str | None  # the price width asked for
    bids: list[CobBucketView]  # best first
    asks: list[CobBucketView]


class CobVenueView(msgspec.Struct, frozen=True):
    venue: str
    exchange: str
    symbol: str
    state: str  # active | stale | out_of_sync | awaiting_snapshot | awaiting_rate
    reason: str
    since: str | None
    last_update: str | None
    weight: float
    taker_fee: float  # fraction of the notional
    fee_known: bool  # False: no published default fee (the highest default is assumed)
    levels: tuple[int, int]  # (bids, asks) the venue holds
    best_bid: str | None
    best_ask: str | None
    spread_bps: float | None
    bid_liquidity: str  # the venue's whole book side, base units
    ask_liquidity: str
    bid_share: float | None  # weighted share of the COB's bid liquidity (active venues)
    ask_share: float | None
    crossed: bool
    counters: dict[str, int]


class CobVenuesData(msgspec.Struct, frozen=True):
    symbol: str
    quote: str
    time: str | None
    venues: list[CobVenueView]


class DepthBandView(msgspec.Struct, frozen=True):
    bps: float
    bid: float  # weighted base size within bps of the mid
    ask: float
    imbalance: float | None  # (bid - ask) / (bid + ask)


class StatView(msgspec.Struct, frozen=True):
    min: float
    max: float
    avg: float


class WindowView(msgspec.Struct, frozen=True):
    seconds: float
    samples: int  # COB samples (every 100 ms of event time) in the window
    mid: StatView | None
    spread_bps: StatView | None
    bid_liquidity: StatView | None
    ask_liquidity: StatView | None
    imbalance: StatView | None


class CobDepthData(msgspec.Struct, frozen=True):
    symbol: str
    quote: str
    time: str | None
    mid: float | None
    spread_bps: float | None
    vw_mid: float | None
    micro_price: float | None
    bid_liquidity: float  # weighted base size, whole book
    ask_liquidity: float
    imbalance: float | None  # within imbalance_bps of the mid
    imbalance_bps: float
    bands: list[DepthBandView]
    rolling: list[WindowView]  # 1 s and 5 s statistics


class FillView(msgspec.Struct, frozen=True):
    venue: str
    filled: str
    total: float  # quote paid (buy) or received (sell), taker fee included
    levels: int
    average_price: float | None  # fees excluded
    worst_price: str | None


class CobImpactData(msgspec.Struct, frozen=True):
    symbol: str
    quote: str
    time: str | None
    side: str
    size: str | None  # the order in base units...
    quote_amount: str | None  # ... or in quote currency
    complete: bool  # False: the COB ran out first
    filled: str
    notional: str
    levels: int  # COB price levels used
    best_price: str | None
    worst_price: str | None
    average_price: float | None  # fees excluded
    slippage_bps: float | None  # average vs the best price, positive = worse
    mid_impact_bps: float | None  # average vs the mid
    fills: list[FillView]  # the best split across venues, taker fees included
    total: float  # of that split: quote paid or received, fees included
    effective_price: float | None
    best_single: FillView | None  # the best venue for the whole order alone
    saving_bps: float | None  # what the split saves over it


CobBookResponse = envelope("CobBookResponse", CobBookData)
CobBucketsResponse = envelope("CobBucketsResponse", CobBucketsData)
CobVenuesResponse = envelope("CobVenuesResponse", CobVenuesData)
CobDepthResponse = envelope("CobDepthResponse", CobDepthData)
CobImpactResponse = envelope("CobImpactResponse", CobImpactData)
RESPONSES = (
    CobBookResponse,
    CobBucketsResponse,
    CobVenuesResponse,
    CobDepthResponse,
    CobImpactResponse,
)


# -- formatting -------------------------------------------------------------------------------


class _Fmt:
    """Decimal text on a COB's scale."""

    def __init__(self, cob: ConsolidatedBook) -> None:
        self.pd, self.sd = cob.price_decimals, cob.size_decimals

    def price(self, value: int | None) -> str | None:
        return None if value is None else format_fixed(value, self.pd)

    def size(self, value: int) -> str:
        return format_fixed(value, self.sd)

    def notional(self, value: int) -> str:
        return format_fixed(value, self.pd + self.sd)


def _time(cob: ConsolidatedBook) -> str | None:
    return rfc3339(cob.clock) if cob.clock else None


def _stat(stat: Stat | None) -> StatView | None:
    return None if stat is None else StatView(stat.min, stat.max, stat.avg)


def _level(f: _Fmt, level: CobLevel) -> CobLevelView:
    return CobLevelView(
        f.price(level.price) or "",
        f.size(level.size),
        f.notional(level.notional),
        level.dominant,
        {v.venue: f.size(v.size) for v in level.venues},
    )


def _fill(f: _Fmt, fill: Fill | None) -> FillView | None:
    if fill is None:
        return None
    return FillView(
        fill.venue,
        f.size(fill.filled),
        fill.total,
        fill.levels,
        fill.average_price,
        f.price(fill.worst_price),
    )


def _amount(text: str, decimals: int, name: str) -> int:
    # a quadrillion units: no book holds that much
    return fixed_amount(text, decimals, name, positive=True, below=10 ** (decimals + 15))


def parse_bands(text: str | None) -> list[float] | None:
    """``5,10,50`` -> bands in bps (0 < b <= 10,000, at most ``MAX_BANDS``)."""
    if text is None:
        return None
    bands = []
    for part in text.split(","):
        try:
            value = float(part)
        except ValueError:
            raise bad(f"bands: not a number of bps: {part[:24]!r}") from None
        if not 0 < value <= 10_000:  # also refuses nan
            raise bad(f"bands: {part[:24]} is outside (0, 10000] bps")
        bands.append(value)
    if len(bands) > MAX_BANDS:
        raise bad(f"bands: at most {MAX_BANDS}")
    return bands


# -- routes -----------------------------------------------------------------------------------


def router(service: Service) -> APIRouter:
    api = APIRouter()

    def consolidated(symbol: str) -> tuple[str, ConsolidatedBook]:
        key = Key(service, symbol, None)
        found = service.engine.analytic("cob", key.symbol)
        if not isinstance(found, CobAnalytic) or found.cob is None:  # pragma: no cover
            raise ApiError(404, "unknown_symbol", f"no consolidated book of {key.symbol}")
        return key.symbol, found.cob

    @get(
        api,
        "/cob/{symbol:path}/book",
        CobBookResponse,
        "Consolidated book: the best levels across venues, each with its per-venue sizes",
    )
    async def cob_book(
        symbol: SymbolPath,
        depth: Annotated[int, Query(ge=1, le=1000, description="levels a side")] = 20,
    ) -> msgspec.Struct:
        name, cob = consolidated(symbol)
        f = _Fmt(cob)
        bid, ask = cob.best_bid(), cob.best_ask()
        mid2 = cob.mid2()
        spread = ask[0] - bid[0] if bid and ask else None
        return CobBookData(
            name,
            cob.quote,
            _time(cob),
            [m.label for m in cob.active_members],
            f.price(bid[0]) if bid else None,
            f.price(ask[0]) if ask else None,
            mid2 / 2 / 10**cob.price_decimals if mid2 is not None else None,
            format_fixed(spread, cob.price_decimals) if spread is not None else None,
            spread * 20_000 / mid2 if spread is not None and mid2 else None,
            cob.crossed(),
            depth,
            [_level(f, lv) for lv in cob.levels(True, depth)],
            [_level(f, lv) for lv in cob.levels(False, depth)],
        )

    @get(
        api,
        "/cob/{symbol:path}/buckets",
        CobBucketsResponse,
        "Consolidated book in price buckets: bps of the mid, or a fixed price width",
    )
    async def cob_buckets(
        symbol: SymbolPath,
        bps: Annotated[
            float | None, Query(gt=0, le=1000, description="bucket width in bps of the mid")
        ] = None,
        quote_amount: Annotated[
            str | None,
            Query(max_length=24, description="bucket width in price (10 for $10 buckets)"),
        ] = None,
        count: Annotated[int, Query(ge=1, le=500, description="buckets a side")] = 20,
    ) -> msgspec.Struct:
        name, cob = consolidated(symbol)
        if bps is not None and quote_amount is not None:
            raise bad("give bps or quote_amount, not both")
        if quote_amount is not None:
            _amount(quote_amount, cob.price_decimals, "quote_amount")
        try:
            buckets = make_buckets(cob, bps=bps, quote_amount=quote_amount, count=count)
        except ConfigError as exc:
            raise bad(str(exc)) from None
        f = _Fmt(cob)
        views = [
            [
                CobBucketView(
                    f.price(b.price) or "",
                    f.size(b.size),
                    b.weighted_size,
                    f.notional(b.notional),
                    b.levels,
                    {v.venue: f.size(v.size) for v in b.venues},
                )
                for b in side
            ]
            for side in (buckets.bids, buckets.asks)
        ]
        return CobBucketsData(
            name,
            cob.quote,
            _time(cob),
            f.price(buckets.width) if buckets.width else None,
            buckets.bps,
            buckets.quote_amount,
            *views,
        )

    @get(
        api,
        "/cob/{symbol:path}/venues",
        CobVenuesResponse,
        "Venue breakdown of the consolidated book: state, best prices, liquidity and share",
    )
    async def cob_venues(symbol: SymbolPath) -> msgspec.Struct:
        name, cob = consolidated(symbol)
        f = _Fmt(cob)
        analytic = service.engine.analytic("cob", name)
        known = analytic.fee_known if isinstance(analytic, CobAnalytic) else {}
        views = [
            CobVenueView(
                v.venue,
                v.exchange,
                v.symbol,
                v.state.value,
                v.reason,
                rfc3339(v.since_ns) if v.since_ns else None,
                rfc3339(v.last_update_ns) if v.last_update_ns else None,
                v.weight,
                v.taker_fee,
                known.get(v.exchange, True),
                (v.bid_levels, v.ask_levels),
                f.price(v.best_bid),
                f.price(v.best_ask),
                v.spread_bps,
                f.size(v.bid_liquidity),
                f.size(v.ask_liquidity),
                v.bid_share,
                v.ask_share,
                v.crossed,
                v.counters,
            )
            for v in cob.metrics().venues
        ]
        return CobVenuesData(name, cob.quote, _time(cob), views)

    @get(
        api,
        "/cob/{symbol:path}/depth",
        CobDepthResponse,
        "Depth analysis: liquidity within bps bands of the mid, imbalance, rolling statistics",
    )
    async def cob_depth(
        symbol: SymbolPath,
        bands: Annotated[
            str | None,
            Query(max_length=120, description="comma-separated bps bands, e.g. 5,10,50"),
        ] = None,
    ) -> msgspec.Struct:
        name, cob = consolidated(symbol)
        chosen = parse_bands(bands)
        m = cob.metrics()
        if chosen is None:
            views = [DepthBandView(b.bps, b.bid, b.ask, b.imbalance) for b in m.depth]
        else:
            views = [
                DepthBandView(bps, bid, ask, (bid - ask) / (bid + ask) if bid + ask else None)
                for bps, (bid, ask) in zip(chosen, band_liquidity(cob, chosen), strict=True)
            ]
        rolling = [
            WindowView(
                w.window_ns / 1e9,
                w.samples,
                _stat(w.mid),
                _stat(w.spread_bps),
                _stat(w.bid_liquidity),
                _stat(w.ask_liquidity),
                _stat(w.imbalance),
            )
            for w in m.rolling
        ]
        return CobDepthData(
            name,
            cob.quote,
            _time(cob),
            m.mid,
            m.spread_bps,
            m.vw_mid,
            m.micro_price,
            m.bid_liquidity,
            m.ask_liquidity,
            m.imbalance,
            cob.config.imbalance_bps,
            views,
            rolling,
        )

    @get(
        api,
        "/cob/{symbol:path}/impact",
        CobImpactResponse,
        "Market impact of an order walking the consolidated book, and its best venue split",
    )
    async def cob_impact(
        symbol: SymbolPath,
        side: Side,
        size: Annotated[str | None, Query(max_length=24, description="base units")] = None,
        quote_amount: Annotated[
            str | None, Query(max_length=24, description="quote currency to spend / receive")
        ] = None,
    ) -> msgspec.Struct:
        name, cob = consolidated(symbol)
        if (size is None) == (quote_amount is None):
            raise bad("give exactly one of size (base units) and quote_amount")
        by_quote = quote_amount is not None
        if size is not None:
            quantity = _amount(size, cob.size_decimals, "size")
        else:
            assert quote_amount is not None
            quantity = _amount(quote_amount, cob.price_decimals + cob.size_decimals, "quote_amount")
        is_buy = side is Side.BUY
        walk = impact(cob, is_buy, quantity, by_quote=by_quote)
        split = route(cob, is_buy, quantity, by_quote=by_quote)
        f = _Fmt(cob)
        return CobImpactData(
            name,
            cob.quote,
            _time(cob),
            side.value,
            f.size(quantity) if not by_quote else None,
            f.notional(quantity) if by_quote else None,
            walk.complete,
            f.size(walk.filled),
            f.notional(walk.notional),
            walk.levels,
            f.price(walk.best_price),
            f.price(walk.worst_price),
            walk.average_price,
            walk.slippage_bps,
            walk.mid_impact_bps,
            [v for leg in split.legs if (v := _fill(f, leg)) is not None],
            split.total,
            split.effective_price,
            _fill(f, split.best_single),
            split.saving_bps,
        )

    return api
