"""Signals over the API against the real server and emulator: the REST route (filters, bounds,
invalid input) and the ``signal`` messages of the WebSocket channel ``signals``."""

from __future__ import annotations

from typing import Any

import pytest

from orderscope.api.signals import KINDS
from tests.api.conftest import VENUES, Demo, wait_until
from tests.api.test_rest import ok, refused
from tests.api.test_ws import Ws

SIGNALS = "/api/v1/signals/BTC-USDT"
FIELDS = {
    "venue",
    "time",
    "start",
    "kind",
    "side",
    "price",
    "size",
    "confidence",
    "description",
}


def signals(demo: Demo, **params: Any) -> dict[str, Any]:
    data: dict[str, Any] = ok(demo.http.get(SIGNALS, params=params))
    return data


@pytest.fixture(scope="module")
def seen(demo: Demo) -> list[dict[str, Any]]:
    """The BTC/USDT signals once several kinds from every venue have been found."""

    def enough() -> bool:
        found = signals(demo, limit=1000)["signals"]
        return len({s["kind"] for s in found}) >= 2 and {s["venue"] for s in found} == set(VENUES)

    wait_until(enough, timeout=60, what="signals of two kinds from every venue")
    found: list[dict[str, Any]] = signals(demo, limit=1000)["signals"]
    return found


def test_recent_signals_of_every_venue(demo: Demo, seen: list[dict[str, Any]]) -> None:
    data = signals(demo)
    assert data["symbol"] == "BTC/USDT" and data["venue"] is None
    assert data["kinds"] == sorted(KINDS)
    assert 1 <= len(data["signals"]) <= 100
    for s in seen:
        assert set(s) == FIELDS and s["kind"] in KINDS and s["side"] in ("buy", "sell", None)
        assert 0 <= s["confidence"] <= 1 and s["description"] and float(s["price"]) > 0
        assert s["start"] <= s["time"]
    times = [s["time"] for s in seen]
    assert times == sorted(times)  # oldest first


def test_filters(demo: Demo, seen: list[dict[str, Any]]) -> None:
    kind = seen[-1]["kind"]
    one_kind = signals(demo, kinds=kind.upper(), limit=1000)
    assert one_kind["kinds"] == [kind]
    assert one_kind["signals"] and {s["kind"] for s in one_kind["signals"]} == {kind}
    venue = seen[-1]["venue"]
    one_venue = signals(demo, venue=venue, limit=1000)
    assert one_venue["venue"] == venue and {s["venue"] for s in one_venue["signals"]} == {venue}
    assert len(signals(demo, limit=2)["signals"]) == 2
    middle = seen[len(seen) // 2]["time"]
    later = signals(demo, start_time=middle, limit=1000)["signals"]
    assert later and all(s["time"] >= middle for s in later)
    earlier = signals(demo, end_time=middle, limit=1000)["signals"]
    assert all(s["time"] < middle for s in earlier)
    sure = signals(demo, min_confidence=0.9, limit=1000)["signals"]
    assert all(s["confidence"] >= 0.9 for s in sure)
    none = signals(demo, start_time="2001-01-01T00:00:00Z", end_time="2001-01-02T00:00:00Z")
    assert none["signals"] == []


@pytest.mark.parametrize(
    ("url", "params", "status", "code"),
    [
        (SIGNALS, {"kinds": "sweep,teleport"}, 400, "invalid_parameter"),
        (SIGNALS, {"kinds": ""}, 400, "invalid_parameter"),
        (SIGNALS, {"limit": "0"}, 400, "invalid_parameter"),
        (SIGNALS, {"limit": "1001"}, 400, "invalid_parameter"),
        (SIGNALS, {"min_confidence": "2"}, 400, "invalid_parameter"),
        (SIGNALS, {"min_confidence": "nan"}, 400, "invalid_parameter"),
        (SIGNALS, {"start_time": "2026-01-01"}, 400, "invalid_parameter"),
        (
            SIGNALS,
            {"start_time": "2026-01-02T00:00:00Z", "end_time": "2026-01-01T00:00:00Z"},
            400,
            "invalid_parameter",
        ),
        (SIGNALS, {"venue": "okx"}, 404, "unknown_venue"),
        ("/api/v1/signals/DOGE-USDT", {}, 404, "unknown_symbol"),
        ("/api/v1/signals/%%", {}, 400, "invalid_symbol"),
    ],
)
def test_invalid_input(
    demo: Demo, url: str, params: dict[str, str], status: int, code: str
) -> None:
    refused(demo.http.get(url, params=params), status, code)


def test_websocket_pushes_signals(demo: Demo) -> None:
    ws = Ws(demo.ws_url)
    try:
        ack = ws.subscribe("signals", "BTC-USDT")
        assert ack["type"] == "subscribed" and ack["channel"] == "signals"
        message = ws.until(lambda m: m["type"] == "signal", timeout=60)
        assert message["channel"] == "signals" and message["symbol"] == "BTC/USDT"
        assert message["venue"] in VENUES and message["data"]["venue"] == message["venue"]
        assert set(message["data"]) == FIELDS and message["data"]["kind"] in KINDS
        # per venue: only that venue's
        ws.send("unsubscribe", {"channel": "signals", "symbol": "BTC/USDT"})
        ws.until(lambda m: m["type"] == "unsubscribed")
        ws.subscribe("signals", "ETH/USDT", "kraken")
        other = ws.until(lambda m: m["type"] == "signal", timeout=60)
        assert (other["symbol"], other["venue"]) == ("ETH/USDT", "kraken")
    finally:
        ws.close()
