"""The emulator's control API, on its own port under ``/control`` (loopback only):

- ``GET /control``: status (clients, frames sent, faults fired, the emulator's own lag, live
  Python objects);
- ``POST /control/pause``, ``POST /control/resume``: freeze and restart the markets;
- ``POST /control/fault/{venue}/{kind}[?seconds=S]``: inject a fault (``FAULT_KINDS``);
- ``GET /control/book/{venue}?symbol=VENUE_SYMBOL``: a synthetic market's true book, levels as
  the shortest decimal text (``[["60000.1", "0.25"], ...]``, best first).

Tools (the soak benchmark, a person with curl) drive a running ``orderscope emulate`` with it.
"""

from __future__ import annotations

import gc
import random
from typing import TYPE_CHECKING, Any

from aiohttp import web

from orderscope.emulator.server import DEFAULT_STALL_S
from orderscope.emulator.wire import stripped_text
from orderscope.errors import ConfigError

if TYPE_CHECKING:
    from orderscope.emulator.server import Emulator


def status(emulator: Emulator) -> dict[str, Any]:
    venues = {}
    for name, protocol in emulator.protocols.items():
        lost = getattr(protocol, "lost", None)
        venues[name] = {
            "clients": len(protocol.clients),
            "connections": protocol.connections,
            "frames_sent": protocol.frames_sent(),
            "faults": dict(protocol.faults.fired),
            "lost_pending": lost.pending if lost is not None else 0,
            "send_wait": protocol.send_waits.summary(),
            "symbols": list(protocol.markets),
        }
    return {
        "paused": emulator.paused,
        "speed": emulator.speed,
        "steps": emulator.steps,
        "objects": len(gc.get_objects()),  # Python objects alive: flat when nothing leaks
        "lag": emulator.lag.summary(),
        "dropped_s": round(emulator.dropped_ns / 1e9, 3),  # simulated time skipped: starved
        "venues": venues,
    }


def inject_random(emulator: Emulator, rng: random.Random, seconds: float = DEFAULT_STALL_S) -> str:
    """Inject one fault, venue and kind chosen by ``rng``; returns a line for the log."""
    venue = rng.choice(sorted(emulator.protocols))
    protocol = emulator.protocols[venue]
    kind = rng.choice(protocol.fault_kinds)
    return f"{venue} {kind}: {protocol.inject(kind, seconds)}"


def control_routes(emulator: Emulator) -> list[web.RouteDef]:
    async def get_status(request: web.Request) -> web.Response:
        return web.json_response(status(emulator))

    async def pause(request: web.Request) -> web.Response:
        emulator.pause()
        return web.json_response({"paused": True})

    async def resume(request: web.Request) -> web.Response:
        emulator.resume()
        return web.json_response({"paused": False})

    async def fault(request: web.Request) -> web.Response:
        protocol = emulator.protocols.get(request.match_info["venue"])
        if protocol is None:
            return web.json_response({"error": "no such venue"}, status=404)
        try:
            seconds = float(request.query.get("seconds", DEFAULT_STALL_S))
            done = protocol.inject(request.match_info["kind"], seconds)
        except (ConfigError, ValueError) as exc:
            return web.json_response({"error": str(exc)}, status=400)
        return web.json_response({"venue": protocol.name, "done": done})

    async def book(request: web.Request) -> web.Response:
        protocol = emulator.protocols.get(request.match_info["venue"])
        market = protocol.markets.get(request.query.get("symbol", "")) if protocol else None
        if market is None:
            return web.json_response({"error": "no such venue or symbol"}, status=404)
        pd, sd = market.spec.price_decimals, market.spec.size_decimals

        def side(levels: list[tuple[int, int]]) -> list[list[str]]:
            return [[stripped_text(p, pd), stripped_text(s, sd)] for p, s in levels]

        return web.json_response(
            {"bids": side(market.book.bids()), "asks": side(market.book.asks())}
        )

    return [
        web.get("/control", get_status),
        web.post("/control/pause", pause),
        web.post("/control/resume", resume),
        web.post("/control/fault/{venue}/{kind}", fault),
        web.get("/control/book/{venue}", book),
    ]
