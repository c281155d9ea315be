"""REST routes under /api/v1 (SPEC.md section 6): order flow, books, symbols, venue status.

Routes read the engine's live state in the event loop (small: bounded by the retention and the
``limit`` parameter). Analytics asked with other parameters than the live ones (another
timeframe, bars by volume or trade count, another row, a visible-range profile) are computed by
the vectorized functions of ``orderscope.flow`` over a copy of the retained trades, in a worker
thread, so the event loop keeps serving the feeds meanwhile.
"""

from __future__ import annotations

import asyncio
import enum
import functools
from collections.abc import Awaitable, Callable
from dataclasses import replace as dc_replace
from typing import TYPE_CHECKING, Annotated, Any

import msgspec
from fastapi import APIRouter, FastAPI, Path, Query
from fastapi.responses import Response

from orderscope.api import schemas as s
from orderscope.api.params import (
    RFC3339_PATTERN,
    SYMBOL_PATTERN,
    ApiError,
    bad,
    fixed_amount,
    parse_ratio,
    parse_row_param,
    parse_symbol,
    parse_timeframe_param,
    time_range,
)
from orderscope.flow.delta import DeltaParams, build_delta, delta_bars
from orderscope.flow.footprint import (
    BarSpec,
    FootprintBar,
    ImbalanceParams,
    footprint,
    imbalances,
    stacked_imbalances,
)
from orderscope.flow.profile import ProfileParams, build_profile, session_profiles, volume_profile
from orderscope.flowstate import FlowState, Part, trades_frame
from orderscope.model import Instrument
from orderscope.views import (
    DeltaBarView,
    FootprintBarView,
    ProfileView,
    book_view,
    delta_bar_view,
    footprint_bar_view,
    profile_view,
    rfc3339,
)

if TYPE_CHECKING:
    from orderscope.api.app import Service


class Aggregation(enum.StrEnum):
    TIME = "TIME"
    VOLUME = "VOLUME"
    TICK_COUNT = "TICK_COUNT"


class ProfileType(enum.StrEnum):
    VPSV = "VPSV"  # session volume profile (one per UTC day)
    VPVR = "VPVR"  # visible-range volume profile: one profile over [start_time, end_time)


VenueParam = Annotated[
    str | None,
    Query(max_length=32, description="one venue (binance, ...); omitted: every venue together"),
]
StartParam = Annotated[
    str | None,
    Query(
        max_length=40,
        pattern=RFC3339_PATTERN,
        description="RFC 3339 with an offset, e.g. 2026-01-02T03:04:05.5Z",
    ),
]
EndParam = Annotated[
    str | None,
    Query(max_length=40, pattern=RFC3339_PATTERN, description="RFC 3339, exclusive"),
]
SymbolPath = Annotated[
    str,
    Path(
        max_length=100,
        pattern=SYMBOL_PATTERN,
        description="BTC-USDT, BTC-USDT-USDT (for BTC/USDT:USDT) or URL-encoded BTC%2FUSDT",
    ),
]
RowParam = Annotated[
    str | None,
    Query(max_length=24, description="row height: a price step ('0.5') or ticks ('10t')"),
]
LimitParam = Annotated[int, Query(ge=1, le=1000, description="the newest N bars")]


Endpoint = Callable[..., Awaitable[msgspec.Struct]]


def get(
    api: APIRouter | FastAPI, path: str, response: type[msgspec.Struct], summary: str
) -> Callable[[Endpoint], Endpoint]:
    """Register a GET route whose function returns the ``data`` Struct: it is sent in the
    ``response`` envelope, encoded by msgspec, and documented under that envelope's schema."""

    def decorate(fn: Endpoint) -> Endpoint:
        @functools.wraps(fn)
        async def route(*args: Any, **kwargs: Any) -> Response:
            body = s.ok(response, await fn(*args, **kwargs))
            return Response(body, media_type="application/json")

        api.get(
            path,
            response_class=Response,
            response_model=None,
            responses=s.responses(response.__name__),
            summary=summary,
        )(route)
        return fn

    return decorate


class Key:
    """The symbol (and venue) a request is about, resolved against what the engine serves."""

    def __init__(self, service: Service, symbol_text: str, venue: str | None) -> None:
        engine = service.engine
        self.engine = engine
        self.symbol = parse_symbol(symbol_text)
        members = engine.members.get(self.symbol)
        if not members:
            known = ", ".join(engine.symbols()) or "none yet"
            raise ApiError(404, "unknown_symbol", f"{self.symbol} is not served (served: {known})")
        if venue is not None:
            venue = venue.lower()
            if venue not in members:
                raise ApiError(
                    404,
                    "unknown_venue",
                    f"no venue {venue[:32]!r} serves {self.symbol} "
                    f"(venues: {', '.join(sorted(members))})",
                )
        self.venue = venue
        self.venues = [venue] if venue is not None else sorted(members)
        self.instrument: Instrument = (
            members[venue] if venue is not None else engine.scales[self.symbol].instrument
        )
        self.state: FlowState | None = engine.state(self.symbol, venue)

    def parts(self) -> list[Part]:
        """Copies of the retained trades of the key's venues, with their scale factors."""
        out = []
        scale = self.engine.scales[self.symbol]
        for venue in self.venues:
            state = self.engine.states.get((venue, self.symbol))
            if state is None or state.store is None or not len(state.store):
                continue
            fp, fs = scale.factors[venue] if self.venue is None else (1, 1)
            out.append((state.store.columns(), fp, fs))
        return out

    def data_start(self) -> int | None:
        firsts = []
        for venue in self.venues:
            state = self.engine.states.get((venue, self.symbol))
            if state is not None and state.store is not None and (f := state.store.first_ns()):
                firsts.append(f)
        return min(firsts) if firsts else None

    def row(self, text: str | None) -> int:
        row = parse_row_param(text, self.instrument)
        if row is not None:
            return row
        if self.state is not None:
            return self.state.row
        return max(self.instrument.tick_size, 1)


def _maybe_time(ns: int | None) -> str | None:
    return rfc3339(ns) if ns is not None else None


def _bar_views(
    bars: list[FootprintBar], row: int, inst: Instrument, params: ImbalanceParams
) -> list[FootprintBarView]:
    out = []
    for bar in bars:
        found = imbalances(bar, row, params) if bar.rows else []
        out.append(
            footprint_bar_view(bar, inst, found, stacked_imbalances(found, row, params.stack))
        )
    return out


def router(service: Service) -> APIRouter:
    api = APIRouter()
    engine = service.engine
    session_ns = engine.config.session_ns

    @get(api, "/symbols", s.SymbolsResponse, "Symbols served, with their venues and precision")
    async def symbols() -> msgspec.Struct:
        infos = []
        for symbol in engine.symbols():
            members = engine.members[symbol]
            state = engine.state(symbol)
            scale = engine.scales[symbol].instrument
            infos.append(
                s.SymbolInfo(
                    symbol,
                    symbol.replace("/", "-").replace(":", "-"),
                    [
                        s.VenueInstrument(
                            v,
                            i.venue_symbol,
                            i.kind.value,
                            i.price_decimals,
                            i.size_decimals,
                            i.price_text(i.tick_size),
                            i.size_text(i.lot_size),
                        )
                        for v, i in sorted(members.items())
                    ],
                    scale.price_text(state.row) if state is not None else None,
                    state.trades if state is not None else 0,
                )
            )
        cfg = engine.config
        data = s.SymbolsData(list(cfg.timeframes), cfg.push_timeframe, infos)
        return data

    @get(
        api,
        "/orderflow/footprint/{symbol:path}",
        s.FootprintResponse,
        "Footprint bars: by time, volume or trade count, with imbalances and POC",
    )
    async def footprint_route(
        symbol: SymbolPath,
        venue: VenueParam = None,
        timeframe: Annotated[str, Query(max_length=8)] = "1m",
        aggregation: Aggregation = Aggregation.TIME,
        bar_size: Annotated[
            str | None,
            Query(max_length=24, description="VOLUME: base units a bar; TICK_COUNT: trades"),
        ] = None,
        row: RowParam = None,
        start_time: StartParam = None,
        end_time: EndParam = None,
        limit: LimitParam = 100,
        imbalance_ratio: Annotated[str | None, Query(max_length=16)] = None,
        imbalance_min_volume: Annotated[str | None, Query(max_length=24)] = None,
    ) -> msgspec.Struct:
        key = Key(service, symbol, venue)
        inst = key.instrument
        start_ns, end_ns = time_range(start_time, end_time)
        row_units = key.row(row)
        params = ImbalanceParams()
        if (ratio := parse_ratio(imbalance_ratio, "imbalance_ratio")) is not None:
            params = dc_replace(params, ratio=ratio)
        if imbalance_min_volume is not None:
            params = dc_replace(
                params, min_volume=fixed_amount(imbalance_min_volume, inst.size_decimals, "min")
            )
        tf_ns = parse_timeframe_param(timeframe, session_ns)
        if aggregation is Aggregation.TIME:
            spec = BarSpec.time(tf_ns)
            size_text = None
        elif bar_size is None:
            raise bad(f"bar_size is required with aggregation {aggregation.value}")
        elif aggregation is Aggregation.VOLUME:
            spec = BarSpec.volume(
                fixed_amount(bar_size, inst.size_decimals, "bar_size", positive=True)
            )
            size_text = inst.size_text(spec.size)
        else:
            spec = BarSpec.trades(_count(bar_size))
            size_text = str(spec.size)
        state = key.state
        live = (
            state.footprints.get(tf_ns)
            if state is not None and aggregation is Aggregation.TIME and row_units == state.row
            else None
        )
        if live is not None:
            bars = live.bars_between(start_ns, end_ns, limit)  # frozen: safe in another thread
            views = await asyncio.to_thread(_bar_views, bars, row_units, inst, params)
            source, first = "live", live.first_ns()
        else:
            parts = key.parts()

            def compute() -> list[FootprintBarView]:
                frame = trades_frame(parts, start_ns, end_ns)
                result = footprint(frame, row_units, spec) if frame.height else None
                bars = result.bars[-limit:] if result is not None else []
                return _bar_views(bars, row_units, inst, params)

            views = await asyncio.to_thread(compute)
            source, first = "trades", key.data_start()
        data = s.FootprintData(
            key.symbol,
            key.venue,
            aggregation.value,
            timeframe if aggregation is Aggregation.TIME else None,
            size_text,
            inst.price_text(row_units),
            source,
            _maybe_time(first),
            views,
        )
        return data

    @get(
        api,
        "/orderflow/volume-profile/{symbol:path}",
        s.ProfileResponse,
        "Volume profile: per session (VPSV) or over a range (VPVR); POC, value area",
    )
    async def volume_profile_route(
        symbol: SymbolPath,
        type: ProfileType = ProfileType.VPSV,  # the SPEC's parameter name
        venue: VenueParam = None,
        start_time: StartParam = None,
        end_time: EndParam = None,
        row: RowParam = None,
        value_area: Annotated[
            str | None, Query(max_length=16, description="share inside the value area, (0, 1]")
        ] = None,
    ) -> msgspec.Struct:
        key = Key(service, symbol, venue)
        inst = key.instrument
        start_ns, end_ns = time_range(start_time, end_time)
        row_units = key.row(row)
        share = parse_ratio(value_area, "value_area", at_most_one=True)
        params = ProfileParams(value_area=share) if share is not None else ProfileParams()
        state = key.state
        if type is ProfileType.VPSV and state is not None and row_units == state.row:
            sessions = state.sessions.sessions
            starts = [
                k
                for k in sorted(sessions)
                if (end_ns is None or k < end_ns)
                and (start_ns is None or k + session_ns > start_ns)
            ]
            if start_ns is None and end_ns is None:
                starts = starts[-1:]  # the current session
            # copies of the live cells, built into profiles away from the event loop
            cells = {k: {p: list(c) for p, c in sessions[k].cells.items()} for k in starts}

            def build() -> list[ProfileView]:
                return [
                    profile_view(build_profile(row_units, c, params), inst, k, k + session_ns)
                    for k, c in cells.items()
                ]

            views = await asyncio.to_thread(build)
            return s.ProfileData(key.symbol, key.venue, type.value, "live", None, views)
        parts = key.parts()
        first = key.data_start()

        def compute() -> list[ProfileView]:
            frame = trades_frame(parts, start_ns, end_ns)
            if type is ProfileType.VPVR:
                profile = volume_profile(frame, row_units, params=params)
                return [profile_view(profile, inst, start_ns or first, end_ns)]
            found = session_profiles(frame, row_units, session_ns, params=params)
            if start_ns is None and end_ns is None:
                found = dict(list(found.items())[-1:])
            return [profile_view(p, inst, k, k + session_ns) for k, p in found.items()]

        views = await asyncio.to_thread(compute)
        data = s.ProfileData(key.symbol, key.venue, type.value, "trades", _maybe_time(first), views)
        return data

    @get(
        api,
        "/orderflow/delta/{symbol:path}",
        s.DeltaResponse,
        "Cumulative volume delta and delta bars (momentum, divergence, exhaustion)",
    )
    async def delta_route(
        symbol: SymbolPath,
        venue: VenueParam = None,
        timeframe: Annotated[str | None, Query(max_length=8)] = None,
        start_time: StartParam = None,
        end_time: EndParam = None,
        limit: LimitParam = 100,
    ) -> msgspec.Struct:
        key = Key(service, symbol, venue)
        inst = key.instrument
        start_ns, end_ns = time_range(start_time, end_time)
        tf_text = timeframe or engine.config.push_timeframe
        tf_ns = parse_timeframe_param(tf_text, session_ns)
        state = key.state

        def within(start: int) -> bool:
            return (start_ns is None or start + tf_ns > start_ns) and (
                end_ns is None or start < end_ns
            )

        if state is not None and tf_ns == state.push_ns:
            cells = {k: list(c) for k, c in state.delta.cells.items()}  # a copy for the thread
            offset = state.cvd_offset  # what pruned bars contributed: bars' cvd made absolute
            delta_params = state.delta.params

            def build() -> list[DeltaBarView]:
                result = build_delta(cells, delta_params)
                bars = [b for b in result.bars if within(b.start_ns)][-limit:]
                return [
                    delta_bar_view(msgspec.structs.replace(b, cvd=b.cvd + offset), inst)
                    for b in bars
                ]

            views = await asyncio.to_thread(build)
            first = min(cells) * tf_ns if cells else None
            data = s.DeltaData(
                key.symbol,
                key.venue,
                tf_text,
                "live",
                inst.size_text(state.delta.cvd),
                _maybe_time(first),
                views,
            )
            return data
        parts = key.parts()
        computed_params = DeltaParams(timeframe_ns=tf_ns, session_ns=session_ns)

        def compute() -> list[DeltaBarView]:
            result = delta_bars(trades_frame(parts, start_ns, end_ns), computed_params)
            return [delta_bar_view(b, inst) for b in result.bars[-limit:]]

        views = await asyncio.to_thread(compute)
        first = key.data_start()
        data = s.DeltaData(
            key.symbol, key.venue, tf_text, "trades", None, _maybe_time(first), views
        )
        return data

    @get(
        api,
        "/orderflow/metrics/{symbol:path}",
        s.MetricsResponse,
        "Order-flow and book metrics: last trade, volumes, CVD, VWAP, spreads, depth",
    )
    async def metrics_route(symbol: SymbolPath, venue: VenueParam = None) -> msgspec.Struct:
        key = Key(service, symbol, venue)
        return metrics(service, key)

    @get(
        api,
        "/book/{symbol:path}",
        s.BookResponse,
        "Each venue's exact book: top N levels a side, sync state",
    )
    async def book_route(
        symbol: SymbolPath,
        venue: VenueParam = None,
        depth: Annotated[int, Query(ge=1, le=1000, description="levels a side")] = 20,
    ) -> msgspec.Struct:
        key = Key(service, symbol, venue)
        books = []
        for v in key.venues:
            book = engine.book(v, key.symbol)
            if book is not None:
                books.append(book_view(v, book, depth, engine.book_ns.get((v, key.symbol), 0)))
        return s.BookData(key.symbol, depth, books)

    @get(
        api,
        "/venues",
        s.VenuesResponse,
        "Venues: feed state per connection, book states and counters",
    )
    async def venues_route() -> msgspec.Struct:
        return s.VenuesData(service.venue_infos())

    return api


def _count(text: str) -> int:
    if not text.strip().isdigit() or not 0 < int(text) <= 1_000_000_000:
        raise bad(f"bar_size must be a whole number of trades (1 .. 1e9), not {text[:24]!r}")
    return int(text)


def metrics(service: Service, key: Key) -> s.MetricsData:
    inst = key.instrument
    state = key.state
    size = inst.size_text
    books = []
    for v in key.venues:
        book = service.engine.book(v, key.symbol)
        if book is None:
            continue
        bi = book.instrument
        bid, ask = book.best_bid(), book.best_ask()
        mid, spread = book.mid(), book.spread()
        near_bid, near_ask = book.size_within_bps(10) if mid else (0, 0)
        books.append(
            s.BookMetrics(
                v,
                book.state.value,
                bi.price_text(bid[0]) if bid else None,
                bi.price_text(ask[0]) if ask else None,
                mid,
                bi.price_text(spread) if spread is not None else None,
                bi.price(spread) / mid * 10_000 if spread is not None and mid else None,
                bi.size_text(near_bid),
                bi.size_text(near_ask),
                (near_bid - near_ask) / (near_bid + near_ask) if near_bid + near_ask else None,
            )
        )
    if state is None:
        empty = s.WindowInfo(60.0, 0, size(0), None, None)
        return s.MetricsData(
            key.symbol, key.venue, None, None, 0, size(0), size(0), size(0), None,
            size(0), size(0), None, empty, [], books,
        )  # fmt: skip
    flow = state.flow.result()
    buy = sum(c.buy_volume for c in flow.classes)
    sell = sum(c.sell_volume for c in flow.classes)
    periods = state.vwap.result().periods
    vwap = None
    if periods:
        p = periods[-1]
        vwap = s.VwapInfo(rfc3339(p.start_ns), p.vwap, p.sigma, p.bands)
    w = flow.window
    last = state.last
    return s.MetricsData(
        key.symbol,
        key.venue,
        inst.price_text(last.price) if last else None,
        rfc3339(last.exch_ns or last.recv_ns) if last else None,
        state.trades,
        size(buy + sell),
        size(buy),
        size(sell),
        100 * buy / (buy + sell) if buy + sell else None,
        size(state.delta.cvd),
        size(state.session_delta),
        vwap,
        s.WindowInfo(
            state.flow.window_ns / 1e9,
            w.trades,
            size(w.volume),
            w.aggressive_buy_share,
            w.large_share,
        ),
        [
            s.SizeClassInfo(
                c.name, c.count, size(c.volume), size(c.buy_volume), size(c.sell_volume)
            )
            for c in flow.classes
        ],
        books,
    )
