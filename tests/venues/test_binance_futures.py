"""Binance USD-M futures data: funding and mark price, liquidations, polled open interest."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from orderscope.capture import CaptureRecord, RecordKind, group_captures
from orderscope.live import LiveConfig, LiveSession, RestClient
from orderscope.model import FundingRate, Liquidation, MarketEvent, OpenInterest, Side
from orderscope.replay import load_venue
from orderscope.venues.base import Endpoints, Venue, feed
from orderscope.venues.binance_futures import BinanceFutures

SUSHI = "SUSHI/USDT:USDT"


def futures(captures: Path) -> Venue:
    (capture,) = group_captures([captures / "BINANCE_FUTURES.ws.1.0"])
    venue = load_venue(capture)
    url = "wss://fstream.binance.com/stream?streams=sushiusdt@markPrice@1s/sushiusdt@forceOrder"
    feed(venue, CaptureRecord(1, RecordKind.OPEN, url, "", 0), [])
    return venue


def received(venue: Venue, frame: str) -> list[MarketEvent]:
    out: list[MarketEvent] = []
    feed(venue, CaptureRecord(2, RecordKind.RECV, "", frame, 0), out)
    return out


MARK = (
    '{"stream":"sushiusdt@markPrice@1s","data":{"e":"markPriceUpdate","E":1562305380000,'
    '"s":"SUSHIUSDT","p":"7.61230000","i":"7.60990000","P":"7.6","r":"%s","T":1562306400000}}'
)
FORCE = (
    '{"stream":"sushiusdt@forceOrder","data":{"e":"forceOrder","E":1568014460893,"o":{'
    '"s":"SUSHIUSDT","S":"%s","o":"LIMIT","f":"IOC","q":"14","p":"7.5","ap":"%s","X":"FILLED",'
    '"l":"14","z":"%s","T":1568014460890}}}'
)


def test_mark_price_makes_a_funding_event(captures: Path) -> None:
    venue = futures(captures)
    (event,) = received(venue, MARK % "-0.00038167")
    assert event == FundingRate(
        "binance_futures",
        SUSHI,
        1562305380000_000_000,
        2,
        "-0.00038167",
        1562306400000_000_000,
        76123,
        76099,
    )
    assert received(venue, MARK % "") == []  # a dated contract has no funding
    assert not venue.stats.errors


def test_liquidation_uses_the_fill_and_the_order_side(captures: Path) -> None:
    venue = futures(captures)
    (event,) = received(venue, FORCE % ("SELL", "7.49", "14"))
    assert event == Liquidation(
        "binance_futures", SUSHI, 1568014460890_000_000, 2, 74900, 14, Side.SELL
    )
    (unfilled,) = received(venue, FORCE % ("BUY", "0", "0"))  # no fill yet: the order's terms
    assert (unfilled.price, unfilled.size, unfilled.side) == (75000, 14, Side.BUY)


@pytest.mark.parametrize(
    ("frame", "kind"),
    [
        (MARK % "NaN", "bad_value"),
        (MARK % "1e-4", "bad_value"),
        (FORCE % ("SIDEWAYS", "7.49", "14"), "bad_value"),
        (FORCE % ("SELL", "-7.49", "14"), "bad_value"),
        (MARK.replace('"p":"7.61230000"', '"p":7.6123') % "0.0001", "malformed"),
    ],
)
def test_bad_futures_frames_are_typed(captures: Path, frame: str, kind: str) -> None:
    venue = futures(captures)
    assert received(venue, frame) == []
    assert venue.stats.errors == {kind: 1}


def test_open_interest_from_rest(captures: Path) -> None:
    venue = futures(captures)
    url = "https://fapi.binance.com/fapi/v1/openInterest?symbol=SUSHIUSDT"
    body = '{"openInterest":"10659.509","symbol":"SUSHIUSDT","time":1589437530011}'
    out: list[MarketEvent] = []
    feed(venue, CaptureRecord(3, RecordKind.REST, url, body, 9), out)
    assert venue.stats.errors == {"bad_value": 1}  # 3 decimals: SUSHI's lot is whole contracts
    feed(venue, CaptureRecord(4, RecordKind.REST, url, body.replace("10659.509", "10659"), 9), out)
    assert out == [OpenInterest("binance_futures", SUSHI, 1589437530011_000_000, 4, 10659)]
    assert (venue.poll_urls([venue.instruments[SUSHI]])) == [
        ("https://fapi.binance.com/fapi/v1/openInterest?symbol=SUSHIUSDT", 10.0)
    ]


def test_a_live_session_polls_open_interest(
    captures: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The session fetches ``poll_urls`` on their period and hands them to the connector."""
    venue = futures(captures)
    instrument = venue.instruments[SUSHI]
    served: list[str] = []

    async def open_interest(request: web.Request) -> web.Response:
        served.append(request.query["symbol"])
        return web.json_response({"openInterest": "42", "symbol": "SUSHIUSDT", "time": 5})

    async def quiet_stream(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        async for _ in ws:  # says nothing: only the poll produces events
            pass
        return ws

    async def depth(request: web.Request) -> web.Response:
        return web.json_response({"lastUpdateId": 1, "bids": [], "asks": []})

    async def scenario() -> list[MarketEvent]:
        app = web.Application()
        app.add_routes(
            [
                web.get("/fapi/v1/openInterest", open_interest),
                web.get("/stream", quiet_stream),
                web.get("/fapi/v1/depth", depth),
            ]
        )
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        live = BinanceFutures(
            list(venue.instruments.values()),
            endpoints=Endpoints(f"ws://127.0.0.1:{port}", f"http://127.0.0.1:{port}"),
        )
        events: list[MarketEvent] = []
        async with aiohttp.ClientSession() as http:
            session = LiveSession(
                live,
                [instrument],
                RestClient(http),
                lambda _v, evs: events.extend(evs),
                config=LiveConfig(),
            )
            task = asyncio.ensure_future(session.run())
            for _ in range(200):
                if session.counters.polls >= 2:
                    break
                await asyncio.sleep(0.05)
            session.stop()
            await asyncio.wait_for(task, 5)
        await runner.cleanup()
        return events

    monkeypatch.setattr("orderscope.venues.binance_futures.OPEN_INTEREST_POLL_S", 0.2)
    events = asyncio.run(scenario())
    polled = [e for e in events if isinstance(e, OpenInterest)]
    assert len(polled) >= 2 and all(e.open_interest == 42 for e in polled)
    assert served[:2] == ["SUSHIUSDT", "SUSHIUSDT"]
