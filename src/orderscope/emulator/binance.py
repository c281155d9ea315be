"""Binance spot, emulated: combined streams and the REST depth / exchangeInfo endpoints.

Book changes are numbered with update ids and sent every 100 ms as ``depthUpdate`` diffs
(``U`` = first id in the batch, ``u`` = last), trades as ``aggTrade`` (one per fill), and the
top of book as ``bookTicker`` when it changes. The REST depth snapshot is the true book with
the last update id applied to it, exactly the contract Binance documents.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import parse_qs

import msgspec
from aiohttp import web

from orderscope.emulator.server import Client, VenueProtocol
from orderscope.emulator.wire import wire_text
from orderscope.model import Side
from orderscope.synthetic import MarketSpec, MarketStep, SyntheticMarket

WIRE_DECIMALS = 8  # Binance spot writes every price and size with 8 decimals


@dataclass(slots=True)
class _SymbolState:
    update_id: int = 1_000_000
    first_pending: int = 0
    pending_bids: dict[int, int] = field(default_factory=dict)
    pending_asks: dict[int, int] = field(default_factory=dict)
    trade_id: int = 5_000_000
    top: tuple[int, int, int, int] = (0, 0, 0, 0)


class BinanceEmulator(VenueProtocol):
    name = "binance"

    def __init__(self, markets: dict[str, SyntheticMarket]) -> None:
        super().__init__(markets)
        self.state = {symbol: _SymbolState() for symbol in markets}

    @classmethod
    def venue_symbol(cls, spec: MarketSpec) -> str:
        return f"{spec.base}{spec.quote}"

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get(f"/{self.name}/stream", self.websocket),
            web.get(f"/{self.name}/api/v3/depth", self.depth),
            web.get(f"/{self.name}/api/v3/exchangeInfo", self.exchange_info),
        ]

    # -- text formatting -------------------------------------------------------------------

    def _price(self, market: SyntheticMarket, price: int) -> str:
        return wire_text(price, market.spec.price_decimals, WIRE_DECIMALS)

    def _size(self, market: SyntheticMarket, size: int) -> str:
        return wire_text(size, market.spec.size_decimals, WIRE_DECIMALS)

    def _levels(
        self, market: SyntheticMarket, levels: dict[int, int] | list[tuple[int, int]]
    ) -> list[list[str]]:
        items = levels.items() if isinstance(levels, dict) else levels
        return [[self._price(market, p), self._size(market, s)] for p, s in items]

    # -- streams ---------------------------------------------------------------------------

    def on_connect(self, client: Client, request: web.Request) -> None:
        for group in parse_qs(request.query_string).get("streams", []):
            for stream in group.split("/"):
                symbol, _, suffix = stream.partition("@")
                self.subscribe(client, (suffix.split("@", 1)[0], symbol.upper()))

    def on_step(self, venue_symbol: str, step: MarketStep, now_ns: int) -> None:
        market = self.markets[venue_symbol]
        state = self.state[venue_symbol]
        for is_bid, price, size in step.changes:
            state.update_id += 1
            if not state.first_pending:
                state.first_pending = state.update_id
            (state.pending_bids if is_bid else state.pending_asks)[price] = size
        now_ms = now_ns // 1_000_000
        low = venue_symbol.lower()
        for price, size, side in step.fills:
            state.trade_id += 1
            frame = {
                "stream": f"{low}@aggTrade",
                "data": {
                    "e": "aggTrade",
                    "E": now_ms,
                    "s": venue_symbol,
                    "a": state.trade_id,
                    "p": self._price(market, price),
                    "q": self._size(market, size),
                    "f": state.trade_id,
                    "l": state.trade_id,
                    "T": now_ms,
                    "m": side is Side.SELL,  # the buyer was the maker when the aggressor sold
                },
            }
            self.broadcast("aggTrade", venue_symbol, msgspec.json.encode(frame).decode())
        bid, ask = market.book.best_bid(), market.book.best_ask()
        if bid is not None and ask is not None and (top := (*bid, *ask)) != state.top:
            state.top = top
            frame = {
                "stream": f"{low}@bookTicker",
                "data": {
                    "u": state.update_id,
                    "s": venue_symbol,
                    "b": self._price(market, bid[0]),
                    "B": self._size(market, bid[1]),
                    "a": self._price(market, ask[0]),
                    "A": self._size(market, ask[1]),
                },
            }
            self.broadcast("bookTicker", venue_symbol, msgspec.json.encode(frame).decode())

    def on_tick(self, now_ns: int) -> None:
        for venue_symbol, state in self.state.items():
            if not state.first_pending:
                continue
            market = self.markets[venue_symbol]
            frame = {
                "stream": f"{venue_symbol.lower()}@depth@100ms",
                "data": {
                    "e": "depthUpdate",
                    "E": now_ns // 1_000_000,
                    "s": venue_symbol,
                    "U": state.first_pending,
                    "u": state.update_id,
                    "b": self._levels(market, state.pending_bids),
                    "a": self._levels(market, state.pending_asks),
                },
            }
            state.first_pending = 0
            state.pending_bids.clear()
            state.pending_asks.clear()
            self.broadcast("depth", venue_symbol, msgspec.json.encode(frame).decode(), book=True)

    # -- REST ------------------------------------------------------------------------------

    async def depth(self, request: web.Request) -> web.Response:
        if (failure := self.rest_failure()) is not None:
            return failure
        venue_symbol = request.query.get("symbol", "")
        market = self.markets.get(venue_symbol)
        if market is None:
            return web.json_response({"code": -1121, "msg": "Invalid symbol."}, status=400)
        limit = int(request.query.get("limit", "100"))
        return web.json_response(
            {
                "lastUpdateId": self.state[venue_symbol].update_id,
                "bids": self._levels(market, market.book.bids(limit)),
                "asks": self._levels(market, market.book.asks(limit)),
            }
        )

    async def exchange_info(self, request: web.Request) -> web.Response:
        symbols = []
        for venue_symbol, market in self.markets.items():
            spec = market.spec
            symbols.append(
                {
                    "symbol": venue_symbol,
                    "status": "TRADING",
                    "baseAsset": spec.base,
                    "quoteAsset": spec.quote,
                    "baseAssetPrecision": WIRE_DECIMALS,
                    "quotePrecision": WIRE_DECIMALS,
                    "filters": [
                        {"filterType": "PRICE_FILTER", "tickSize": self._price(market, spec.tick)},
                        {"filterType": "LOT_SIZE", "stepSize": self._size(market, 1)},
                    ],
                }
            )
        return web.json_response({"timezone": "UTC", "symbols": symbols})
