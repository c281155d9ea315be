"""The heatmap route against the real server and emulator: the matrix and its axes, coarser
steps and time ranges, the PNG, and bad input answered with a 4xx."""

from __future__ import annotations

import io
from decimal import Decimal
from itertools import pairwise
from typing import Any

import pytest
from PIL import Image

from tests.api.conftest import VENUES, Demo, quiet, wait_until
from tests.api.test_rest import ok, refused

HEATMAP = "/api/v1/heatmap/BTC-USDT"


def heatmap(demo: Demo, **params: Any) -> dict[str, Any]:
    data: dict[str, Any] = ok(demo.http.get(HEATMAP, params=params))
    return data


@pytest.fixture(scope="module")
def steps(demo: Demo) -> int:
    """At least a few seconds of history on every venue."""
    wait_until(
        lambda: all(len(heatmap(demo, venue=v, rows=1)["times"]) >= 4 for v in VENUES),
        what="four heatmap steps",
    )
    return 4


@pytest.mark.parametrize("venue", VENUES)
def test_matrix_and_axes(demo: Demo, steps: int, venue: str) -> None:
    with quiet(demo):
        data = heatmap(demo, venue=venue, rows=40)
        book = ok(demo.http.get("/api/v1/book/BTC-USDT", params={"venue": venue, "depth": 1}))
    assert data["symbol"] == "BTC/USDT" and data["venue"] == venue and data["step"] == "1s"
    times, prices = data["times"], data["prices"]
    assert len(times) >= steps and times == sorted(times) and data["history_start"] == times[0]
    assert 0 < len(prices) <= 40
    row = Decimal(data["row"])
    assert row > 0 and all(Decimal(b) - Decimal(a) == row for a, b in pairwise(prices))
    for name in ("bids", "asks", "buys", "sells"):
        matrix = data[name]
        assert len(matrix) == len(times) and all(len(r) == len(prices) for r in matrix)
        assert all(v >= 0 for r in matrix for v in r)
    assert any(v for r in data["bids"] for v in r) and any(v for r in data["asks"] for v in r)
    assert len(data["best_bid"]) == len(times)
    # the last column's best prices are the venue's book now, inside the rows shown
    (bids, asks) = book["books"][0]["bids"], book["books"][0]["asks"]
    assert Decimal(data["best_bid"][-1]) == Decimal(bids[0][0])
    assert Decimal(data["best_ask"][-1]) == Decimal(asks[0][0])
    assert Decimal(prices[0]) <= Decimal(bids[0][0]) < Decimal(prices[-1]) + row
    # the resting size of the best bid's row includes the best bid's size (max within step)
    column = prices.index(next(p for p in reversed(prices) if Decimal(p) <= Decimal(bids[0][0])))
    scale = 10 ** data["size_decimals"]
    assert data["bids"][-1][column] >= Decimal(bids[0][1]) * scale


def test_coarser_steps_and_time_range(demo: Demo, steps: int) -> None:
    with quiet(demo):
        fine = heatmap(demo, venue="kraken", rows=20)
        coarse = heatmap(demo, venue="kraken", rows=20, step="2s")
    assert coarse["step"] == "2s" and coarse["prices"] == fine["prices"]
    assert all(t[17:19].isdigit() and int(t[17:19]) % 2 == 0 for t in coarse["times"])
    # resting: the most of the merged steps; traded: their sum
    assert sum(map(sum, coarse["buys"])) == sum(map(sum, fine["buys"]))
    assert max(map(max, coarse["bids"])) == max(map(max, fine["bids"]))
    middle = fine["times"][len(fine["times"]) // 2]
    later = heatmap(demo, venue="kraken", rows=20, start_time=middle)
    assert later["times"] and later["times"][0] == middle
    old = heatmap(
        demo, venue="kraken", start_time="2001-01-01T00:00:00Z", end_time="2001-01-02T00:00:00Z"
    )
    assert old["times"] == [] and old["bids"] == []


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/api/v1/heatmap/BTC-USDT.png", {"venue": "binance"}),
        ("/api/v1/heatmap/ETH-USDT", {"venue": "coinbase", "format": "png"}),
    ],
)
def test_png(demo: Demo, steps: int, path: str, params: dict[str, str]) -> None:
    response = demo.http.get(path, params={**params, "width": "400", "height": "300"})
    assert response.status_code == 200 and response.headers["content-type"] == "image/png"
    image = Image.open(io.BytesIO(response.content))
    assert image.format == "PNG" and image.size == (400, 300)
    colours = image.convert("RGB").getcolors(maxcolors=1 << 16)
    assert colours is not None and len(colours) > 10  # drawn, not a blank panel


@pytest.mark.parametrize(
    ("url", "params", "status", "code"),
    [
        (HEATMAP, {}, 400, "invalid_parameter"),  # three venues: name one
        (HEATMAP, {"venue": "okx"}, 404, "unknown_venue"),
        (HEATMAP, {"venue": "binance", "rows": "0"}, 400, "invalid_parameter"),
        (HEATMAP, {"venue": "binance", "rows": "501"}, 400, "invalid_parameter"),
        (HEATMAP, {"venue": "binance", "step": "7s"}, 400, "invalid_parameter"),
        (HEATMAP, {"venue": "binance", "step": "500ms"}, 400, "invalid_parameter"),
        (HEATMAP, {"venue": "binance", "step": "2m"}, 400, "invalid_parameter"),
        (HEATMAP, {"venue": "binance", "step": "0s"}, 400, "invalid_parameter"),
        (HEATMAP, {"venue": "binance", "step": "soon"}, 400, "invalid_parameter"),
        (HEATMAP, {"venue": "binance", "format": "gif"}, 400, "invalid_parameter"),
        (HEATMAP, {"venue": "binance", "format": "png", "width": "50"}, 400, "invalid_parameter"),
        (HEATMAP, {"venue": "binance", "height": "5000"}, 400, "invalid_parameter"),
        (HEATMAP, {"venue": "binance", "start_time": "now"}, 400, "invalid_parameter"),
        (
            HEATMAP,
            {
                "venue": "binance",
                "start_time": "2026-01-02T00:00:00Z",
                "end_time": "2026-01-01T00:00:00Z",
            },
            400,
            "invalid_parameter",
        ),
        ("/api/v1/heatmap/DOGE-USDT.png", {"venue": "binance"}, 404, "unknown_symbol"),
        ("/api/v1/heatmap/.png", {}, 400, "invalid_symbol"),
    ],
)
def test_invalid_input(
    demo: Demo, url: str, params: dict[str, str], status: int, code: str
) -> None:
    refused(demo.http.get(url, params=params), status, code)
