"""``GET /api/v1/signals/{symbol}``: the recent order-flow signals of a symbol.

Answered from the rings the ``venue_flow`` analytic keeps (the newest ``SIGNAL_RING`` signals
per venue and symbol); the same signals are pushed on the WebSocket channel ``signals``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import msgspec
from fastapi import APIRouter, Query

from orderscope.api.params import bad, time_range
from orderscope.api.rest import EndParam, Key, StartParam, SymbolPath, VenueParam, get
from orderscope.api.schemas import envelope
from orderscope.flow.signals import Signal, SignalKind
from orderscope.service.venue_flow import SIGNAL_RING, SignalView, VenueFlow, signal_view

if TYPE_CHECKING:
    from orderscope.api.app import Service

KINDS = tuple(k.value for k in SignalKind)


class SignalsData(msgspec.Struct, frozen=True):
    symbol: str
    venue: str | None  # None: every venue's
    kinds: list[str]  # the kinds asked for (every kind when none was named)
    signals: list[SignalView]  # oldest first, the newest ``limit``


SignalsResponse = envelope("SignalsResponse", SignalsData)


def parse_kinds(text: str | None) -> set[SignalKind]:
    """``sweep,block_trade`` -> the kinds; every kind when None."""
    if text is None:
        return set(SignalKind)
    kinds = set()
    for part in text.split(","):
        name = part.strip().lower()
        if name not in KINDS:
            raise bad(f"kinds: unknown signal kind {name[:32]!r} (known: {', '.join(KINDS)})")
        kinds.add(SignalKind(name))
    return kinds


def router(service: Service) -> APIRouter:
    api = APIRouter()
    engine = service.engine

    @get(
        api,
        "/signals/{symbol:path}",
        SignalsResponse,
        "Recent order-flow signals: sweeps, absorption, icebergs, blocks, large orders, ...",
    )
    async def signals_route(
        symbol: SymbolPath,
        venue: VenueParam = None,
        kinds: Annotated[
            str | None,
            Query(
                max_length=200,
                description=f"comma-separated kinds; omitted: every kind ({', '.join(KINDS)})",
            ),
        ] = None,
        start_time: StartParam = None,
        end_time: EndParam = None,
        min_confidence: Annotated[float, Query(ge=0.0, le=1.0)] = 0.0,
        limit: Annotated[
            int, Query(ge=1, le=SIGNAL_RING, description="the newest N signals")
        ] = 100,
    ) -> msgspec.Struct:
        key = Key(service, symbol, venue)
        chosen = parse_kinds(kinds)
        start_ns, end_ns = time_range(start_time, end_time)
        found: list[tuple[Signal, VenueFlow]] = []
        for v in key.venues:
            flow = engine.analytic("venue_flow", key.symbol, v)
            if not isinstance(flow, VenueFlow):
                continue
            found.extend(
                (s, flow)
                for s in flow.recent
                if s.kind in chosen
                and s.confidence >= min_confidence
                and (start_ns is None or s.ts >= start_ns)
                and (end_ns is None or s.ts < end_ns)
            )
        found.sort(key=lambda pair: (pair[0].ts, pair[0].venue))
        views = [signal_view(s, flow.instrument) for s, flow in found[-limit:]]
        names = sorted(k.value for k in chosen)
        return SignalsData(key.symbol, key.venue, names, views)

    return api
