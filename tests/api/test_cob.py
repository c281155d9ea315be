"""The consolidated book routes against the real server with Binance, Coinbase and Kraken
emulated behind it: the COB is exactly the venues' books merged, and bad input is a 4xx."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from tests.api.conftest import VENUES, Demo, quiet
from tests.api.test_rest import ok, refused

COB = "/api/v1/cob/BTC-USDT"


def get(demo: Demo, route: str, symbol: str = "BTC-USDT", **params: Any) -> dict[str, Any]:
    data: dict[str, Any] = ok(demo.http.get(f"/api/v1/cob/{symbol}/{route}", params=params))
    return data


def test_book_is_the_venues_books_merged(demo: Demo) -> None:
    with quiet(demo):
        cob = get(demo, "book", depth=15)
        books = ok(demo.http.get("/api/v1/book/BTC-USDT", params={"depth": 1000}))["books"]
    assert cob["symbol"] == "BTC/USDT" and cob["quote"] == "USDT" and cob["depth"] == 15
    assert cob["venues"] == sorted(VENUES)  # every venue synced and fresh is in
    sizes = {
        (b["venue"], side): {Decimal(p): Decimal(s) for p, s in b[side]}
        for b in books
        for side in ("bids", "asks")
    }
    for side in ("bids", "asks"):
        levels = cob[side]
        assert len(levels) == 15
        prices = [Decimal(level["price"]) for level in levels]
        assert prices == sorted(prices, reverse=side == "bids")
        for level in levels:
            price = Decimal(level["price"])
            parts = {v: Decimal(s) for v, s in level["venues"].items()}
            assert sum(parts.values()) == Decimal(level["size"]) > 0
            assert Decimal(level["notional"]) == price * Decimal(level["size"])
            assert level["dominant"] == max(parts, key=lambda v: parts[v])
            for venue in VENUES:  # each venue's size here is exactly its book's
                assert parts.get(venue, Decimal(0)) == sizes[(venue, side)].get(price, 0)
    best_bid, best_ask = Decimal(cob["best_bid"]), Decimal(cob["best_ask"])
    assert Decimal(cob["spread"]) == best_ask - best_bid
    assert cob["crossed"] == (best_bid >= best_ask)


def test_buckets_by_price_and_by_bps(demo: Demo) -> None:
    data = get(demo, "buckets", quote_amount="10", count=5)
    assert data["width"] is not None and Decimal(data["width"]) == 10
    assert data["quote_amount"] == "10" and data["bps"] is None
    for side in ("bids", "asks"):
        assert 2 <= len(data[side]) <= 5  # the synthetic books span tens of dollars
        for bucket in data[side]:
            assert Decimal(bucket["price"]) % 10 == 0
            assert sum(Decimal(s) for s in bucket["venues"].values()) == Decimal(bucket["size"])
            assert bucket["levels"] >= 1
    prices = [Decimal(b["price"]) for b in data["bids"]]
    assert prices == sorted(prices, reverse=True)
    by_bps = get(demo, "buckets", bps=2.5, count=3)
    assert by_bps["bps"] == 2.5 and by_bps["quote_amount"] is None and Decimal(by_bps["width"]) > 0
    default = get(demo, "buckets")  # the configured width of BTC: $10
    assert Decimal(default["width"]) == 10 and 2 <= len(default["bids"]) <= 20


def test_venue_breakdown(demo: Demo) -> None:
    with quiet(demo):
        data = get(demo, "venues")
    venues = data["venues"]
    assert [v["venue"] for v in venues] == sorted(VENUES)
    for v in venues:
        assert v["state"] == "active" and v["fee_known"] and 0 < v["taker_fee"] < 0.01
        assert v["levels"][0] > 0 and v["levels"][1] > 0
        assert Decimal(v["best_bid"]) < Decimal(v["best_ask"]) and not v["crossed"]
        assert v["counters"]["snapshots"] >= 1
    assert sum(v["bid_share"] for v in venues) == pytest.approx(1.0)
    assert sum(v["ask_share"] for v in venues) == pytest.approx(1.0)


def test_depth_analysis(demo: Demo) -> None:
    data = get(demo, "depth")
    assert [b["bps"] for b in data["bands"]] == [10.0, 50.0, 100.0]
    assert data["mid"] > 0 and data["imbalance_bps"] == 10.0
    assert -1 <= data["imbalance"] <= 1
    assert [w["seconds"] for w in data["rolling"]] == [1.0, 5.0]
    assert data["rolling"][0]["samples"] > 0 and data["rolling"][0]["mid"]["min"] > 0
    custom = get(demo, "depth", bands="1,2.5")
    near, wider = custom["bands"]
    assert (near["bps"], wider["bps"]) == (1.0, 2.5)
    assert near["bid"] <= wider["bid"] and near["ask"] <= wider["ask"]


def test_impact_of_a_market_order(demo: Demo) -> None:
    with quiet(demo):
        buy = get(demo, "impact", symbol="ETH-USDT", side="buy", size="40")
        sell = get(demo, "impact", symbol="ETH-USDT", side="sell", quote_amount="30000")
        book = get(demo, "book", symbol="ETH-USDT", depth=1)
    assert buy["side"] == "buy" and buy["size"] == "40.00000000" and buy["complete"]
    assert Decimal(buy["filled"]) == 40 and buy["levels"] >= 1
    assert buy["best_price"] == book["best_ask"]
    assert Decimal(buy["best_price"]) <= Decimal(buy["worst_price"])
    assert buy["slippage_bps"] >= 0
    assert Decimal(buy["best_price"]) <= Decimal(str(buy["average_price"]))
    # the fee-aware split across venues fills the same size
    assert sum(Decimal(f["filled"]) for f in buy["fills"]) == 40
    assert {f["venue"] for f in buy["fills"]} <= set(VENUES)
    assert buy["total"] > 40 * buy["average_price"]  # taker fees on top
    assert buy["best_single"]["venue"] in VENUES and buy["saving_bps"] >= 0
    assert sell["quote_amount"] is not None and sell["size"] is None and sell["complete"]
    assert Decimal(sell["notional"]) >= 30000 and sell["slippage_bps"] >= 0
    huge = get(demo, "impact", symbol="ETH-USDT", side="sell", size="1000000")
    assert not huge["complete"] and Decimal(huge["filled"]) < 1_000_000


@pytest.mark.parametrize(
    ("url", "params", "status", "code"),
    [
        (f"{COB}/book", {"depth": "0"}, 400, "invalid_parameter"),
        (f"{COB}/book", {"depth": "1001"}, 400, "invalid_parameter"),
        (f"{COB}/buckets", {"bps": "2", "quote_amount": "10"}, 400, "invalid_parameter"),
        (f"{COB}/buckets", {"bps": "0"}, 400, "invalid_parameter"),
        (f"{COB}/buckets", {"bps": "-1"}, 400, "invalid_parameter"),
        (f"{COB}/buckets", {"bps": "nan"}, 400, "invalid_parameter"),
        (f"{COB}/buckets", {"quote_amount": "ten"}, 400, "invalid_parameter"),
        (f"{COB}/buckets", {"quote_amount": "-10"}, 400, "invalid_parameter"),
        (f"{COB}/buckets", {"quote_amount": "0.000000001"}, 400, "invalid_parameter"),
        (f"{COB}/buckets", {"count": "0"}, 400, "invalid_parameter"),
        (f"{COB}/buckets", {"count": "501"}, 400, "invalid_parameter"),
        (f"{COB}/depth", {"bands": "0"}, 400, "invalid_parameter"),
        (f"{COB}/depth", {"bands": "ten"}, 400, "invalid_parameter"),
        (f"{COB}/depth", {"bands": "nan"}, 400, "invalid_parameter"),
        (f"{COB}/depth", {"bands": "1,"}, 400, "invalid_parameter"),
        (f"{COB}/depth", {"bands": ",".join(["1"] * 11)}, 400, "invalid_parameter"),
        (f"{COB}/impact", {"size": "1"}, 400, "invalid_parameter"),
        (f"{COB}/impact", {"side": "hold", "size": "1"}, 400, "invalid_parameter"),
        (f"{COB}/impact", {"side": "buy"}, 400, "invalid_parameter"),
        (
            f"{COB}/impact",
            {"side": "buy", "size": "1", "quote_amount": "5"},
            400,
            "invalid_parameter",
        ),
        (f"{COB}/impact", {"side": "buy", "size": "0"}, 400, "invalid_parameter"),
        (f"{COB}/impact", {"side": "buy", "size": "1e3"}, 400, "invalid_parameter"),
        (f"{COB}/impact", {"side": "sell", "size": "9" * 24}, 400, "invalid_parameter"),
        ("/api/v1/cob/DOGE-USDT/book", {}, 404, "unknown_symbol"),
        ("/api/v1/cob/!!/venues", {}, 400, "invalid_symbol"),
        (f"{COB}/ladder", {}, 404, "not_found"),
    ],
)
def test_invalid_input(
    demo: Demo, url: str, params: dict[str, str], status: int, code: str
) -> None:
    refused(demo.http.get(url, params=params), status, code)
