"""Coinbase Exchange, emulated: the WebSocket feed and REST ``/products``.

What ``orderscope.venues.coinbase.CoinbaseExchange`` reads, shaped as the 2021 capture shows it:

- ``{"type": "subscribe"|"unsubscribe", "product_ids": [...], "channels": [...]}`` (a channel is
  a name or ``{"name", "product_ids"}``) is answered with ``subscriptions``, every channel the
  connection has (named as subscribed); an unknown product or channel with an ``error`` and no
  change;
- ``level2`` / ``level2_batch``: a ``snapshot`` of the whole book when subscribed, then one
  ``l2update`` per market step (``changes`` of ``[side, price, new size]``, ``time`` in ISO 8601
  with microseconds). A batch of one step is a valid ``level2_batch`` message; the real feed
  batches 50 ms;
- ``matches``: ``last_match`` when subscribed (once a trade happened), then a ``match`` per fill
  with consecutive ``trade_id``s. ``side`` is the MAKER's side, the opposite of the aggressor;
- ``ticker``: after each market order (and when subscribed, once a trade happened), with the
  taker's side, 24h statistics and the best bid and ask with their sizes (the current feed);
- ``heartbeat``: every second per product.

Prices go on the wire with the product's ``quote_increment`` decimals, sizes with 8.

Level2 carries no sequence number: a client sees a lost update only when a later one removes a
level it does not have. A skipped frame is therefore one whose changes all add new levels near
the touch (they are soon removed or updated again), and ``emulator.lost`` follows whether the
client must have seen it. A corrupt frame is seen at once (the product stays readable).
"""

from __future__ import annotations

from typing import Any

import msgspec
from aiohttp import web

from orderscope.emulator.lost import LostFrames
from orderscope.emulator.server import Client, VenueProtocol
from orderscope.emulator.wire import DayStats, iso8601, order_id, wire_text
from orderscope.fixed import format_fixed
from orderscope.model import Side
from orderscope.synthetic import MarketSpec, MarketStep, SyntheticMarket

WIRE_SIZE_DECIMALS = 8
NEAR_TOUCH = 10  # levels a side within which a lost addition is soon visible
#: subscription channel -> the stream it brings (the emulator's subscription key)
CHANNELS = {
    "level2": "level2",
    "level2_batch": "level2",
    "matches": "matches",
    "ticker": "ticker",
    "ticker_batch": "ticker",
    "heartbeat": "heartbeat",
}
_FAULT_KINDS = ("skip", "corrupt", "stall", "drop")  # no REST snapshots on Coinbase


def _encode(obj: Any) -> str:
    return msgspec.json.encode(obj).decode()


class _BadRequest(Exception):
    """A subscribe request the feed refuses (its reason goes back in an ``error``)."""


class CoinbaseEmulator(VenueProtocol):
    name = "coinbase"
    fault_kinds = _FAULT_KINDS

    def __init__(self, markets: dict[str, SyntheticMarket]) -> None:
        super().__init__(markets)
        self.lost = LostFrames(self.faults)
        self.stats = {product: DayStats() for product in markets}
        self.trade_ids = dict.fromkeys(markets, 100_000)
        self.sequences = dict.fromkeys(markets, 5_000_000)
        self._last_match: dict[str, dict[str, Any]] = {}
        self._last_ticker: dict[str, str] = {}
        #: per client, (stream, product) -> the channel name it subscribed with
        self._names: dict[Client, dict[tuple[str, str], str]] = {}
        self._last_heartbeat = 0

    @classmethod
    def venue_symbol(cls, spec: MarketSpec) -> str:
        return f"{spec.base}-{spec.quote}"

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get(f"/{self.name}", self.websocket),
            web.get(f"/{self.name}/products", self.products),
        ]

    # -- text ------------------------------------------------------------------------------

    def _price(self, spec: MarketSpec, price: int) -> str:
        return format_fixed(price, spec.price_decimals)

    def _size(self, spec: MarketSpec, size: int) -> str:
        return wire_text(size, spec.size_decimals, WIRE_SIZE_DECIMALS)

    # -- requests --------------------------------------------------------------------------

    def on_subscribe_frame(self, client: Client, text: str) -> None:
        try:
            request = msgspec.json.decode(text)
            subscribe, pairs = self._read_request(request)
        except (msgspec.DecodeError, _BadRequest) as exc:
            reason = str(exc) if isinstance(exc, _BadRequest) else "malformed JSON"
            self.send(client, _encode({"type": "error", "message": "Failed", "reason": reason}))
            return
        names = self._names.setdefault(client, {})
        new: list[tuple[str, str]] = []
        for name, product in pairs:
            key = (CHANNELS[name], product)
            if subscribe:
                if self.subscribe(client, key):
                    new.append(key)
                    names[key] = name
            elif self.unsubscribe(client, key):
                names.pop(key, None)
        self.send(client, self._subscriptions(names))
        for stream, product in new:
            if stream == "level2":
                self._send_snapshot(client, product)
            elif stream == "matches" and product in self._last_match:
                self.send(client, _encode({**self._last_match[product], "type": "last_match"}))
            elif stream == "ticker" and product in self._last_ticker:
                self.send(client, self._last_ticker[product])

    def _read_request(self, request: Any) -> tuple[bool, list[tuple[str, str]]]:
        """(subscribe?, [(channel name, product)]) from a request, or _BadRequest."""
        if not isinstance(request, dict) or request.get("type") not in ("subscribe", "unsubscribe"):
            raise _BadRequest("type must be subscribe or unsubscribe")
        products = request.get("product_ids") or []
        channels = request.get("channels") or []
        if not isinstance(products, list) or not isinstance(channels, list) or not channels:
            raise _BadRequest("no channels requested")
        pairs: list[tuple[str, str]] = []
        for channel in channels:
            if isinstance(channel, dict):
                name, wanted = channel.get("name"), channel.get("product_ids") or products
            else:
                name, wanted = channel, products
            if not isinstance(name, str) or name not in CHANNELS:
                raise _BadRequest(f"{name} is not a valid channel")
            for product in wanted:
                if not isinstance(product, str) or product not in self.markets:
                    raise _BadRequest(f"{product} is not a valid product")
                pairs.append((name, product))
        return request["type"] == "subscribe", pairs

    def _subscriptions(self, names: dict[tuple[str, str], str]) -> str:
        by_name: dict[str, list[str]] = {}
        for (_stream, product), name in sorted(names.items()):
            by_name.setdefault(name, []).append(product)
        channels = [{"name": n, "product_ids": p} for n, p in by_name.items()]
        return _encode({"type": "subscriptions", "channels": channels})

    def on_disconnect(self, client: Client) -> None:
        self._names.pop(client, None)

    def _send_snapshot(self, client: Client, product: str) -> None:
        market = self.markets[product]
        spec = market.spec
        snapshot = {
            "type": "snapshot",
            "product_id": product,
            "bids": [[self._price(spec, p), self._size(spec, s)] for p, s in market.book.bids()],
            "asks": [[self._price(spec, p), self._size(spec, s)] for p, s in market.book.asks()],
        }
        self.send(client, _encode(snapshot))
        self.lost.forget(product)

    def on_wall_tick(self, now_ns: int) -> None:
        if now_ns - self._last_heartbeat < 1_000_000_000:
            return
        self._last_heartbeat = now_ns
        for product in self.markets:
            if self.has_subscribers("heartbeat", product):
                heartbeat = {
                    "type": "heartbeat",
                    "last_trade_id": self.trade_ids[product],
                    "product_id": product,
                    "sequence": self.sequences[product],
                    "time": iso8601(now_ns),
                }
                self.broadcast("heartbeat", product, _encode(heartbeat))

    # -- market data -----------------------------------------------------------------------

    def on_step(self, venue_symbol: str, step: MarketStep, now_ns: int) -> None:
        product = venue_symbol
        if step.changes:
            self.sequences[product] += 1
            if self.has_subscribers("level2", product):
                self._l2update(product, step, now_ns)
        if step.fills:
            self._matches(product, step, now_ns)

    def _l2update(self, product: str, step: MarketStep, now_ns: int) -> None:
        market = self.markets[product]
        spec = market.spec
        changes = [
            ["buy" if is_bid else "sell", self._price(spec, price), self._size(spec, size)]
            for is_bid, price, size in step.changes
        ]
        update = {"type": "l2update", "product_id": product, "changes": changes}
        update["time"] = iso8601(now_ns)
        lossable = self.faults.skip_book_frames > 0 and self._visible_if_lost(market, step)
        fault = self.broadcast("level2", product, _encode(update), book=True, lossable=lossable)
        if fault == "skip":
            self.lost.lose(product, step.changes, step.before)
        elif fault is None and product in self.lost.held:
            self._follow_loss(product, step)

    def _visible_if_lost(self, market: SyntheticMarket, step: MarketStep) -> bool:
        """Every change adds a level near the touch: losing it leaves the client without
        levels that are soon removed (the client sees it) or updated (the loss heals)."""
        bids = market.book.bids(NEAR_TOUCH)
        asks = market.book.asks(NEAR_TOUCH)
        if not bids or not asks:
            return False
        floor, ceiling = bids[-1][0], asks[-1][0]
        return all(
            size and not before and (price >= floor if is_bid else price <= ceiling)
            for (is_bid, price, size), before in zip(step.changes, step.before, strict=True)
        )

    def _follow_loss(self, product: str, step: MarketStep) -> None:
        """A frame reached a client that lost an earlier one: does it remove a level the
        client lacks (the connector's rule for a lost update)?"""
        held = self.lost.held[product]
        for is_bid, price, size in step.changes:
            if not size and held.get((is_bid, price)) == 0:
                self.lost.detected(product)
                return
        self.lost.overwritten(product, [(is_bid, price) for is_bid, price, _ in step.changes])

    def _matches(self, product: str, step: MarketStep, now_ns: int) -> None:
        market = self.markets[product]
        spec, stats = market.spec, self.stats[product]
        when = iso8601(now_ns)
        send = self.has_subscribers("matches", product)
        for price, size, side in step.fills:
            stats.trade(price, size)
            self.trade_ids[product] += 1
            self.sequences[product] += 1
            sequence = self.sequences[product]
            match = {
                "type": "match",
                "trade_id": self.trade_ids[product],
                "maker_order_id": order_id(2 * sequence),
                "taker_order_id": order_id(2 * sequence + 1),
                "side": "sell" if side is Side.BUY else "buy",  # the maker's side
                "size": self._size(spec, size),
                "price": self._price(spec, price),
                "product_id": product,
                "sequence": sequence,
                "time": when,
            }
            self._last_match[product] = match
            if send:
                self.broadcast("matches", product, _encode(match))
        taker = step.fills[-1][2]
        self._last_ticker[product] = ticker = _encode(self._ticker(product, taker, when))
        if self.has_subscribers("ticker", product):
            self.broadcast("ticker", product, ticker)

    def _ticker(self, product: str, taker: Side, when: str) -> dict[str, Any]:
        market = self.markets[product]
        spec, book, stats = market.spec, market.book, self.stats[product]
        bid = book.best_bid() or (0, 0)
        ask = book.best_ask() or (0, 0)
        return {
            "type": "ticker",
            "sequence": self.sequences[product],
            "product_id": product,
            "price": self._price(spec, stats.last),
            "open_24h": self._price(spec, stats.open),
            "volume_24h": self._size(spec, stats.volume),
            "low_24h": self._price(spec, stats.low),
            "high_24h": self._price(spec, stats.high),
            "volume_30d": self._size(spec, stats.volume),
            "best_bid": self._price(spec, bid[0]),
            "best_bid_size": self._size(spec, bid[1]),
            "best_ask": self._price(spec, ask[0]),
            "best_ask_size": self._size(spec, ask[1]),
            "side": "buy" if taker is Side.BUY else "sell",
            "time": when,
            "trade_id": self.trade_ids[product],
            "last_size": self._size(spec, stats.last_size),
        }

    # -- REST ------------------------------------------------------------------------------

    async def products(self, request: web.Request) -> web.Response:
        if (failure := self.rest_failure()) is not None:
            return failure
        listed = []
        for product, market in self.markets.items():
            spec = market.spec
            listed.append(
                {
                    "id": product,
                    "base_currency": spec.base,
                    "quote_currency": spec.quote,
                    "quote_increment": format_fixed(spec.tick, spec.price_decimals),
                    "base_increment": format_fixed(1, spec.size_decimals),
                    "display_name": f"{spec.base}/{spec.quote}",
                    "min_market_funds": "1",
                    "margin_enabled": False,
                    "post_only": False,
                    "limit_only": False,
                    "cancel_only": False,
                    "trading_disabled": False,
                    "status": "online",
                    "status_message": "",
                }
            )
        return web.json_response(listed)


__all__ = ["CoinbaseEmulator"]
