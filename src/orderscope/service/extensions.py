"""What the server runs beyond the built-in order flow: further analytics and their routes.

One line each, so that merging an analytic is a one-line change here (and nothing here is
imported for its side effects). The order flow (footprints, profiles, CVD, VWAP, trade flow),
the books and the venue status are built in. Registered here: ``venue_flow`` (signals and the
rolling heatmap of each venue's symbol, sharing one book copy: orderscope.service.venue_flow)
and ``cob`` (the consolidated book of each symbol: orderscope.cob.service), with their routers
(orderscope.api.signals, .cob, .heatmap). The shape of an entry, e.g. for the signals:

```python
# orderscope/flow/signals/service.py
class SignalsAnalytic:  # one per (venue, symbol)
    def __init__(self, ctx: AnalyticContext) -> None:
        assert ctx.instrument is not None
        self.engine, self.found = SignalEngine(ctx.instrument), []

    def add_instrument(self, instrument: Instrument) -> None: ...

    def on_event(self, event: MarketEvent, book: L2Book | None) -> None:
        self.engine.update(event, self.found)

    def flush(self, publish: Subscriber) -> None:
        for signal in self.found:
            publish(Update("signal", "signals", signal.symbol, signal.venue, signal_view(signal)))
        self.found.clear()

SIGNALS = AnalyticSpec("signals", Scope.VENUE, SignalsAnalytic, {"signals": ("signal",)})

# here:
ANALYTICS = (SIGNALS,)
ROUTERS = (signals_router,)  # def signals_router(service) -> APIRouter, reads
                             # service.engine.analytic("signals", symbol, venue)
SCHEMAS = (SignalsResponse,)  # the Structs its routes answer with, for the OpenAPI document
```

A SYMBOL-scope analytic (the COB) gets one instance per unified symbol, told of each venue's
instrument by ``add_instrument`` and fed every venue's events with that venue's exact book.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import msgspec

from orderscope.api import cob, heatmap, signals
from orderscope.cob.service import COB
from orderscope.engine import AnalyticSpec
from orderscope.service.venue_flow import VENUE_FLOW

if TYPE_CHECKING:
    from fastapi import APIRouter

    from orderscope.api.app import Service

#: Further analytics the engine runs (none is listed before it computes something).
ANALYTICS: tuple[AnalyticSpec, ...] = (VENUE_FLOW, COB)
#: Factories of their REST routers, mounted under /api/v1.
ROUTERS: tuple[Callable[[Service], APIRouter], ...] = (
    signals.router,
    cob.router,
    heatmap.router,
)
#: Response Structs of those routes, whose JSON Schemas the OpenAPI document needs.
SCHEMAS: tuple[type[msgspec.Struct], ...] = (
    signals.SignalsResponse,
    *cob.RESPONSES,
    heatmap.HeatmapResponse,
)
