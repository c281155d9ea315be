"""``GET /api/v1/heatmap/{symbol}``: the liquidity heatmap of one venue's symbol, as a matrix
(JSON) or an image (``.png`` after the symbol, or ``format=png``).

Read from the rolling heatmap of the ``venue_flow`` analytic (1 s steps, the last 10 minutes;
rows of the symbol's footprint row). The matrix is built for the rows asked only (``rows``
centred on the venue's mid), in the event loop: bounded by the history (600 steps) times
``rows`` (at most 500). Cutting to the time range, coarser steps and the PNG happen in a
worker thread, on that copy.
"""

from __future__ import annotations

import asyncio
import enum
import io
from typing import TYPE_CHECKING, Annotated, Any

import msgspec
import numpy as np
from fastapi import APIRouter, Query
from fastapi.responses import Response

from orderscope.api import schemas as s
from orderscope.api.params import bad, time_range
from orderscope.api.rest import EndParam, Key, StartParam, SymbolPath, VenueParam
from orderscope.api.schemas import envelope
from orderscope.errors import ConfigError
from orderscope.flow.base import parse_timeframe
from orderscope.heatmap import HeatmapMatrix, coarsen, time_slice
from orderscope.heatmap_render import render_heatmap
from orderscope.model import Instrument
from orderscope.service.venue_flow import HEATMAP_STEP_NS, HEATMAP_STEPS, VenueFlow
from orderscope.views import rfc3339

if TYPE_CHECKING:
    from orderscope.api.app import Service

MAX_ROWS = 500
MAX_STEP_NS = 60 * HEATMAP_STEP_NS
PNG_SUFFIX = ".png"


class Format(enum.StrEnum):
    JSON = "json"
    PNG = "png"


class HeatmapData(msgspec.Struct, frozen=True):
    symbol: str
    venue: str
    step: str  # the step asked for (1s .. 60s)
    row: str  # price height of a row
    size_decimals: int  # the matrices hold sizes in units of 10**-size_decimals
    history_start: str | None  # the oldest step the server still keeps
    times: list[str]  # start of each step, oldest first
    prices: list[str]  # lower price of each row, lowest first
    bids: list[list[int]]  # [step][row]: the most resting bid size within the step
    asks: list[list[int]]
    buys: list[list[int]]  # [step][row]: aggressive buy volume traded
    sells: list[list[int]]
    best_bid: list[str | None]  # at the end of each step
    best_ask: list[str | None]


HeatmapResponse = envelope("HeatmapResponse", HeatmapData)


def _data(symbol: str, step: str, m: HeatmapMatrix, history: int | None) -> HeatmapData:
    inst = m.instrument

    def best(prices: Any) -> list[str | None]:
        return [inst.price_text(p) if p else None for p in prices.tolist()]

    return HeatmapData(
        symbol,
        inst.venue,
        step,
        inst.price_text(m.row),
        inst.size_decimals,
        rfc3339(history) if history is not None else None,
        [rfc3339(t) for t in m.time_edges[:-1].tolist()],
        [inst.price_text(p) for p in m.price_rows.tolist()],
        m.bids.tolist(),
        m.asks.tolist(),
        m.buys.tolist(),
        m.sells.tolist(),
        best(m.best_bid),
        best(m.best_ask),
    )


def _png(m: HeatmapMatrix, width: int, height: int, title: str) -> bytes:
    buffer = io.BytesIO()
    render_heatmap(m, width, height, title).save(buffer, format="PNG", optimize=False)
    return buffer.getvalue()


def router(service: Service) -> APIRouter:
    api = APIRouter()
    engine = service.engine

    async def heatmap_route(
        symbol: SymbolPath,
        venue: VenueParam = None,
        start_time: StartParam = None,
        end_time: EndParam = None,
        step: Annotated[
            str, Query(max_length=8, description="1s .. 60s, whole seconds dividing a minute")
        ] = "1s",
        rows: Annotated[
            int, Query(ge=1, le=MAX_ROWS, description="price rows, centred on the mid")
        ] = 200,
        format: Format = Format.JSON,  # the parameter's public name
        width: Annotated[int, Query(ge=200, le=2400, description="PNG width, pixels")] = 1200,
        height: Annotated[int, Query(ge=120, le=1600, description="PNG height, pixels")] = 700,
    ) -> Response:
        png = format is Format.PNG
        if symbol.lower().endswith(PNG_SUFFIX):
            symbol, png = symbol[: -len(PNG_SUFFIX)], True
        key = Key(service, symbol, venue)
        if key.venue is None and len(key.venues) > 1:
            raise bad(f"venue is required: the heatmap is per venue ({', '.join(key.venues)})")
        name = key.venues[0]
        start_ns, end_ns = time_range(start_time, end_time)
        try:
            step_ns = parse_timeframe(step)
        except ConfigError:
            step_ns = 0
        if not step_ns or step_ns % HEATMAP_STEP_NS or MAX_STEP_NS % step_ns:
            raise bad(f"step {step[:8]!r}: whole seconds dividing a minute (1s 2s 5s 10s .. 60s)")
        flow = engine.analytic("venue_flow", key.symbol, name)
        heatmap = flow.heatmap if isinstance(flow, VenueFlow) else None
        if heatmap is None:  # nothing seen yet: an empty matrix
            matrix = _empty(engine.instruments[(name, key.symbol)])
        else:
            center = _center(service, name, key.symbol)
            if center is None:  # pragma: no cover - a heatmap exists once a price was seen
                matrix = _empty(heatmap.instrument)
            else:
                low = center - rows // 2 * heatmap.row
                matrix = heatmap.result(low, low + rows * heatmap.row - 1)
        history = int(matrix.time_edges[0]) if len(matrix.time_edges) > 1 else None

        def shape() -> bytes:
            m = coarsen(time_slice(matrix, start_ns, end_ns), step_ns // HEATMAP_STEP_NS)
            if png:
                title = f"{name} {key.symbol}   {step} x {m.instrument.price_text(m.row)}"
                return _png(m, width, height, title)
            return s.ok(HeatmapResponse, _data(key.symbol, step, m, history))

        body = await asyncio.to_thread(shape)
        return Response(body, media_type="image/png" if png else "application/json")

    responses = s.responses(HeatmapResponse.__name__)
    responses[200]["content"]["image/png"] = {"schema": {"type": "string", "format": "binary"}}
    api.get(
        "/heatmap/{symbol:path}",
        response_class=Response,
        response_model=None,
        responses=responses,
        summary=(
            f"Liquidity heatmap of a venue's symbol (the last {HEATMAP_STEPS} s): matrix as "
            "JSON, or PNG with format=png or BTC-USDT.png"
        ),
    )(heatmap_route)
    return api


def _empty(inst: Instrument) -> HeatmapMatrix:
    none = np.zeros(0, dtype=np.int64)
    cells = np.zeros((0, 0), dtype=np.int64)
    return HeatmapMatrix(
        inst, HEATMAP_STEP_NS, inst.tick_size, np.zeros(1, dtype=np.int64), none,
        cells, cells, cells, cells, none, none,
    )  # fmt: skip


def _center(service: Service, venue: str, symbol: str) -> int | None:
    """The venue's mid (else its last trade price), where the rows are centred."""
    book = service.engine.book(venue, symbol)
    if book is not None:
        bid, ask = book.best_bid(), book.best_ask()
        if bid and ask:
            return (bid[0] + ask[0]) // 2
    state = service.engine.state(symbol, venue)
    return state.last.price if state is not None and state.last is not None else None
