"""Every REST route against the real server with the emulator behind it: the happy path, and
invalid input answered with a 4xx and the documented error body (never a 500)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
import pytest

from tests.api.conftest import AUTH, VENUES, Demo, quiet


def ok(response: httpx.Response) -> Any:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["success"] is True and set(body) == {"success", "data"}
    return body["data"]


def refused(response: httpx.Response, status: int, code: str) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert body == {"success": False, "error": {"code": code, "message": body["error"]["message"]}}
    assert body["error"]["message"]
    return str(body["error"]["message"])


def test_health(demo: Demo) -> None:
    data = ok(demo.http.get("/health"))
    assert data["status"] == "ok" and data["venues_running"] == 3 and data["trades"] > 0


def test_symbols_list_venues_and_precision(demo: Demo) -> None:
    data = ok(demo.http.get("/api/v1/symbols"))
    assert data["push_timeframe"] == "1m" and "1m" in data["timeframes"]
    by_symbol = {s["symbol"]: s for s in data["symbols"]}
    assert set(by_symbol) == {"BTC/USDT", "ETH/USDT"}
    btc = by_symbol["BTC/USDT"]
    assert btc["path"] == "BTC-USDT"
    assert [v["venue"] for v in btc["venues"]] == sorted(VENUES)
    assert btc["row"] is not None and Decimal(btc["row"]) > 0 and btc["trades"] > 0


def test_venues_report_feeds_and_books(demo: Demo) -> None:
    venues = ok(demo.http.get("/api/v1/venues"))["venues"]
    assert [v["venue"] for v in venues] == sorted(VENUES)
    for venue in venues:
        assert venue["state"] == "running" and venue["frames"] > 0
        assert venue["symbols"] == ["BTC/USDT", "ETH/USDT"]
        assert venue["connections"][0]["kind"] == "feed"
        assert venue["connections"][0]["state"] in ("live", "resyncing")
        assert {b["symbol"] for b in venue["books"]} == {"BTC/USDT", "ETH/USDT"}
        for book in venue["books"]:
            assert book["state"] == "synced" and book["snapshots"] >= 1
            assert book["last_status"]["kind"] == "book"


@pytest.mark.parametrize("path", ["BTC-USDT", "BTC%2FUSDT", "btc-usdt"])
def test_symbol_in_path_dash_or_encoded(demo: Demo, path: str) -> None:
    data = ok(demo.http.get(f"/api/v1/orderflow/footprint/{path}"))
    assert data["symbol"] == "BTC/USDT"


def test_footprint_live_bars(demo: Demo) -> None:
    data = ok(demo.http.get("/api/v1/orderflow/footprint/BTC-USDT", params={"limit": 3}))
    assert data["source"] == "live" and data["aggregation"] == "TIME" and data["venue"] is None
    assert data["timeframe"] == "1m" and 1 <= len(data["bars"]) <= 3
    bar = data["bars"][-1]
    volume = sum(Decimal(r["buy"]) + Decimal(r["sell"]) for r in bar["rows"])
    assert volume == Decimal(bar["volume"]) > 0
    # the POC is its row's lower edge: within a row below the low, at most the high
    row = Decimal(data["row"])
    assert Decimal(bar["low"]) - row < Decimal(bar["poc"]) <= Decimal(bar["high"])
    assert bar["trades"] == sum(r["trades"] for r in bar["rows"])
    for imbalance in bar["imbalances"]:
        assert imbalance["side"] in ("buy", "sell")


def test_footprint_per_venue_sums_to_unified(demo: Demo) -> None:
    with quiet(demo):
        unified = ok(demo.http.get("/api/v1/orderflow/footprint/BTC-USDT", params={"limit": 1}))
        bar = unified["bars"][-1]
        total = Decimal(0)
        for venue in VENUES:
            data = ok(
                demo.http.get(
                    "/api/v1/orderflow/footprint/BTC-USDT", params={"venue": venue, "limit": 1}
                )
            )
            assert data["venue"] == venue
            if data["bars"] and data["bars"][-1]["start"] == bar["start"]:
                total += Decimal(data["bars"][-1]["volume"])
        assert total == Decimal(bar["volume"])


@pytest.mark.parametrize(
    ("params", "aggregation"),
    [
        ({"aggregation": "VOLUME", "bar_size": "2.5"}, "VOLUME"),
        ({"aggregation": "TICK_COUNT", "bar_size": "20"}, "TICK_COUNT"),
        ({"timeframe": "30s"}, "TIME"),
        ({"row": "5t"}, "TIME"),
    ],
)
def test_footprint_computed_on_request(
    demo: Demo, params: dict[str, str], aggregation: str
) -> None:
    data = ok(demo.http.get("/api/v1/orderflow/footprint/ETH-USDT", params={**params, "limit": 5}))
    assert data["source"] == "trades" and data["aggregation"] == aggregation
    assert data["bars"] and data["data_start"] is not None
    if aggregation == "TICK_COUNT":
        assert all(b["trades"] == 20 for b in data["bars"][:-1])
    if aggregation == "VOLUME":
        assert all(Decimal(b["volume"]) >= Decimal("2.5") for b in data["bars"][:-1])


def test_footprint_time_range(demo: Demo) -> None:
    bars = ok(demo.http.get("/api/v1/orderflow/footprint/BTC-USDT"))["bars"]
    start = bars[-1]["start"]
    data = ok(
        demo.http.get(
            "/api/v1/orderflow/footprint/BTC-USDT",
            params={"start_time": start, "end_time": "2262-01-01T00:00:00+00:00"},
        )
    )
    assert [b["start"] for b in data["bars"]] == [start]
    empty = ok(
        demo.http.get(
            "/api/v1/orderflow/footprint/BTC-USDT",
            params={"start_time": "2001-01-01T00:00:00Z", "end_time": "2001-01-02T00:00:00Z"},
        )
    )
    assert empty["bars"] == []


def test_volume_profiles(demo: Demo) -> None:
    with quiet(demo):
        session = ok(demo.http.get("/api/v1/orderflow/volume-profile/BTC-USDT"))
        assert session["type"] == "VPSV" and session["source"] == "live"
        (vpsv,) = session["profiles"]
        assert Decimal(vpsv["val"]) <= Decimal(vpsv["poc"]) <= Decimal(vpsv["vah"])
        assert Decimal(vpsv["value_area_volume"]) >= Decimal("0.7") * Decimal(vpsv["volume"])
        visible = ok(
            demo.http.get(
                "/api/v1/orderflow/volume-profile/BTC-USDT",
                params={"type": "VPVR", "start_time": vpsv["start"]},
            )
        )
        assert visible["source"] == "trades"
        (vpvr,) = visible["profiles"]
        # the same trades through the streaming and the vectorized paths
        assert vpvr["rows"] == vpsv["rows"] and vpvr["poc"] == vpsv["poc"]
        assert (vpvr["vah"], vpvr["val"]) == (vpsv["vah"], vpsv["val"])
    wider = ok(
        demo.http.get(
            "/api/v1/orderflow/volume-profile/ETH-USDT",
            params={"venue": "binance", "value_area": "0.5", "row": "10t"},
        )
    )
    (profile,) = wider["profiles"]
    assert wider["venue"] == "binance" and profile["row"].startswith("0.1")


def test_delta_live_and_computed(demo: Demo) -> None:
    live = ok(demo.http.get("/api/v1/orderflow/delta/BTC-USDT", params={"venue": "coinbase"}))
    assert live["source"] == "live" and live["timeframe"] == "1m" and live["cvd"] is not None
    assert live["bars"]
    last = live["bars"][-1]
    assert Decimal(last["delta"]) == Decimal(last["buy"]) - Decimal(last["sell"])
    computed = ok(demo.http.get("/api/v1/orderflow/delta/BTC-USDT", params={"timeframe": "5m"}))
    assert computed["source"] == "trades" and computed["cvd"] is None and computed["bars"]


def test_metrics(demo: Demo) -> None:
    data = ok(demo.http.get("/api/v1/orderflow/metrics/ETH-USDT"))
    assert data["trades"] > 0 and data["last_price"] is not None
    volume = Decimal(data["volume"])
    assert volume == Decimal(data["buy_volume"]) + Decimal(data["sell_volume"])
    assert data["vwap"] is not None and len(data["vwap"]["bands"]) == 3
    assert [c["name"] for c in data["size_classes"]] == [
        "micro",
        "small",
        "medium",
        "large",
        "block",
    ]
    assert [b["venue"] for b in data["books"]] == sorted(VENUES)
    for book in data["books"]:
        assert Decimal(book["best_bid"]) < Decimal(book["best_ask"]) and book["spread_bps"] > 0
    one = ok(demo.http.get("/api/v1/orderflow/metrics/ETH-USDT", params={"venue": "binance"}))
    assert [b["venue"] for b in one["books"]] == ["binance"]


def test_book_top_levels(demo: Demo) -> None:
    data = ok(demo.http.get("/api/v1/book/BTC-USDT", params={"depth": 5}))
    assert data["depth"] == 5 and [b["venue"] for b in data["books"]] == sorted(VENUES)
    for book in data["books"]:
        assert book["state"] == "synced" and not book["crossed"]
        bids = [Decimal(p) for p, _ in book["bids"]]
        asks = [Decimal(p) for p, _ in book["asks"]]
        assert len(bids) == len(asks) == 5
        assert bids == sorted(bids, reverse=True) and asks == sorted(asks) and bids[0] < asks[0]
    one = ok(demo.http.get("/api/v1/book/BTC-USDT", params={"venue": "KRAKEN"}))
    assert [b["venue"] for b in one["books"]] == ["kraken"] and len(one["books"][0]["bids"]) == 20


FOOTPRINT = "/api/v1/orderflow/footprint/BTC-USDT"


@pytest.mark.parametrize(
    ("url", "params", "status", "code"),
    [
        ("/api/v1/orderflow/footprint/DOGE-USDT", {}, 404, "unknown_symbol"),
        ("/api/v1/orderflow/footprint/!!", {}, 400, "invalid_symbol"),
        ("/api/v1/orderflow/footprint/BTC-USDT-USDT-X-Y", {}, 400, "invalid_symbol"),
        ("/api/v1/book/BTC-USDT", {"venue": "nasdaq"}, 404, "unknown_venue"),
        (FOOTPRINT, {"timeframe": "7x"}, 400, "invalid_parameter"),
        (FOOTPRINT, {"timeframe": "7m"}, 400, "invalid_parameter"),
        (FOOTPRINT, {"timeframe": "30d"}, 400, "invalid_parameter"),
        (FOOTPRINT, {"aggregation": "HOURLY"}, 400, "invalid_parameter"),
        (FOOTPRINT, {"aggregation": "VOLUME"}, 400, "invalid_parameter"),
        (FOOTPRINT, {"aggregation": "VOLUME", "bar_size": "-1"}, 400, "invalid_parameter"),
        (FOOTPRINT, {"aggregation": "VOLUME", "bar_size": "0"}, 400, "invalid_parameter"),
        (FOOTPRINT, {"aggregation": "TICK_COUNT", "bar_size": "2.5"}, 400, "invalid_parameter"),
        (FOOTPRINT, {"start_time": "yesterday"}, 400, "invalid_parameter"),
        (FOOTPRINT, {"start_time": "2026-01-01T00:00:00"}, 400, "invalid_parameter"),
        (FOOTPRINT, {"start_time": "2026-02-30T00:00:00Z"}, 400, "invalid_parameter"),
        (FOOTPRINT, {"start_time": "1969-12-31T23:59:59Z"}, 400, "invalid_parameter"),
        (
            FOOTPRINT,
            {"start_time": "2026-01-02T00:00:00Z", "end_time": "2026-01-01T00:00:00Z"},
            400,
            "invalid_parameter",
        ),
        (FOOTPRINT, {"limit": "0"}, 400, "invalid_parameter"),
        (FOOTPRINT, {"limit": "5000"}, 400, "invalid_parameter"),
        (FOOTPRINT, {"limit": "many"}, 400, "invalid_parameter"),
        (FOOTPRINT, {"row": "0"}, 400, "invalid_parameter"),
        (FOOTPRINT, {"row": "abc"}, 400, "invalid_parameter"),
        (FOOTPRINT, {"row": "0.05"}, 400, "invalid_parameter"),
        (FOOTPRINT, {"imbalance_ratio": "-3"}, 400, "invalid_parameter"),
        (FOOTPRINT, {"imbalance_ratio": "nan"}, 400, "invalid_parameter"),
        ("/api/v1/orderflow/volume-profile/BTC-USDT", {"type": "XYZ"}, 400, "invalid_parameter"),
        (
            "/api/v1/orderflow/volume-profile/BTC-USDT",
            {"value_area": "1.5"},
            400,
            "invalid_parameter",
        ),
        ("/api/v1/orderflow/delta/BTC-USDT", {"timeframe": "0m"}, 400, "invalid_parameter"),
        ("/api/v1/book/BTC-USDT", {"depth": "0"}, 400, "invalid_parameter"),
        ("/api/v1/book/BTC-USDT", {"depth": "1001"}, 400, "invalid_parameter"),
        ("/api/v1/orderflow/metrics/SOL-USDT", {}, 404, "unknown_symbol"),
        ("/api/v1/orderflow/metrics/ETH-USDT", {"venue": "x" * 40}, 400, "invalid_parameter"),
        ("/api/v1/orderflow/delta/ETH-USDT", {"venue": "okx"}, 404, "unknown_venue"),
        (
            "/api/v1/orderflow/delta/ETH-USDT",
            {"end_time": "2026-13-01T00:00:00Z"},
            400,
            "invalid_parameter",
        ),
        ("/api/v1/orderflow/volume-profile/ETH%2F", {}, 400, "invalid_symbol"),
        ("/api/v1/orderflow/volume-profile/ETH-USDT", {"row": "1e3"}, 400, "invalid_parameter"),
        ("/api/v1/nothing-here", {}, 404, "not_found"),
        ("/api/v1/orderflow/metrics", {}, 404, "not_found"),
    ],
)
def test_invalid_input_is_a_4xx_with_the_error_body(
    demo: Demo, url: str, params: dict[str, str], status: int, code: str
) -> None:
    refused(demo.http.get(url, params=params), status, code)


def test_wrong_method(demo: Demo) -> None:
    refused(demo.http.post("/api/v1/symbols"), 405, "method_not_allowed")


def test_token_required(demo: Demo) -> None:
    with httpx.Client(base_url=demo.server.url) as anonymous:
        refused(anonymous.get("/api/v1/symbols"), 401, "unauthorized")
        refused(anonymous.get("/health"), 401, "unauthorized")
        refused(
            anonymous.get("/api/v1/symbols", headers={"Authorization": "Bearer nope-nope-nope"}),
            401,
            "unauthorized",
        )
        refused(anonymous.get("/api/v1/symbols", params={"token": AUTH}), 401, "unauthorized")
        ok(
            anonymous.get(
                "/api/v1/symbols", headers={"X-Orderscope-Token": AUTH["Authorization"][7:]}
            )
        )
        # what holds no market data is served without it: the page and the API docs
        page = anonymous.get("/")
        assert page.status_code == 200 and "js/main.js" in page.text  # the dashboard
        docs = anonymous.get("/docs")
        assert docs.status_code == 200 and "/docs-static/swagger-ui-bundle.js" in docs.text
        # Swagger UI's files come from the package: the docs work without internet
        assert anonymous.get("/docs-static/swagger-ui-bundle.js").status_code == 200
        schema = anonymous.get("/openapi.json").json()
        assert "/api/v1/orderflow/footprint/{symbol}" in schema["paths"]


def test_size_limits(demo: Demo) -> None:
    refused(demo.http.get(FOOTPRINT, params={"row": "1" * 3000}), 414, "uri_too_long")
    refused(
        demo.http.request("GET", "/api/v1/symbols", content=b"x" * 5000), 413, "payload_too_large"
    )


def test_cors_closed_by_default(demo: Demo) -> None:
    response = demo.http.get("/api/v1/symbols", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in response.headers
    preflight = demo.http.options(
        "/api/v1/symbols",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"},
    )
    assert "access-control-allow-origin" not in preflight.headers
