"""Kraken spot, emulated: the WebSocket API v1 and REST ``/0/public/AssetPairs``.

What ``orderscope.venues.kraken.Kraken`` reads, shaped as the captures show it:

- on connect a ``systemStatus``; ``{"event": "ping"}`` is answered with a ``pong``; a
  ``heartbeat`` goes to a subscribed client that got nothing for a second;
- ``subscribe`` / ``unsubscribe`` (``pair`` list, ``subscription`` ``book`` with a depth of 10,
  25, 100, 500 or 1000, ``trade``, ``ticker``) are answered per pair with a
  ``subscriptionStatus`` carrying the ``channelID`` and ``channelName`` (``book-1000``); a book
  subscription is followed by its snapshot (``as``/``bs``, the top N levels);
- each market step that changes the book is one update frame (``a`` then ``b`` payload, levels
  ``[price, volume, time]``), the last payload carrying ``c``: the CRC32 of the true book's top
  10 asks and bids as Kraken documents it, computed here from the wire text itself (decimal
  points and leading zeros removed);
- a client subscribed at depth N holds the top N levels: updates outside them are not sent,
  levels pushed out are not deleted (the client trims), and a level that enters the top N
  because one inside was removed is republished (``[price, volume, time, "r"]``);
- trades: one frame per market order (``[price, volume, time, side, "m", ""]``, the taker's
  side), then a ``ticker``.

Prices go on the wire with three decimals more than ``pair_decimals`` (Kraken writes XBT/USD,
pair_decimals 1, as ``"57000.10000"``), volumes with 8. Kraken's asset codes: BTC is XBT and
DOGE is XDG on the wire.

A lost or corrupt book frame is invisible to a Kraken client until a checksum shows it, and the
checksum covers only the top 10 levels, so these faults hit only frames whose changes are all
within the top 10 (see ``emulator.lost`` for the account of what the client then sees).
"""

from __future__ import annotations

import itertools
import time
import zlib
from typing import Any

import msgspec
from aiohttp import web

from orderscope.emulator.lost import LostFrames
from orderscope.emulator.server import Client, VenueProtocol
from orderscope.emulator.wire import DayStats, seconds_text, wire_text
from orderscope.fixed import format_fixed
from orderscope.model import Level, Side
from orderscope.synthetic import MarketSpec, MarketStep, SyntheticMarket

DEPTHS = (10, 25, 100, 500, 1000)
DEFAULT_DEPTH = 10
CHECKSUM_LEVELS = 10
WIRE_PRICE_EXTRA = 3
WIRE_SIZE_DECIMALS = 8
HEARTBEAT_S = 1.0
CHECKSUM_CACHE = 4_096  # level texts kept per market
#: Kraken's asset codes on the wire, and the legacy prefixed codes of its REST API.
WIRE_ASSETS = {"BTC": "XBT", "DOGE": "XDG"}
REST_ASSETS = {"XBT": "XXBT", "ETH": "XETH", "XRP": "XXRP", "XDG": "XXDG", "USD": "ZUSD"}

_FAULT_KINDS = ("skip", "corrupt", "stall", "drop")  # no REST snapshots on Kraken

#: One level as it goes out: (is_bid, price, size, size the client had before)
_Out = tuple[bool, int, int, int]


def _digits(text: str) -> str:
    """A wire number as the checksum wants it: no decimal point, no leading zeros."""
    return text.replace(".", "").lstrip("0")


def _encode(obj: Any) -> str:
    return msgspec.json.encode(obj).decode()


class KrakenEmulator(VenueProtocol):
    name = "kraken"
    fault_kinds = _FAULT_KINDS

    def __init__(self, markets: dict[str, SyntheticMarket]) -> None:
        super().__init__(markets)
        self.lost = LostFrames(self.faults)
        self.stats = {pair: DayStats() for pair in markets}
        self._channel_ids: dict[tuple[str, str], int] = {}
        self._next_channel_id = itertools.count(336)
        self._connection_ids = itertools.count(17_843_232_920_108_168_000)
        #: (pair, depth) -> the prices of the depth-th bid and ask (None: the side is shorter)
        self._edges: dict[tuple[str, int], tuple[int | None, int | None]] = {}
        self._last_ns = dict.fromkeys(markets, 0)
        self.republished = 0  # levels sent again because they entered a client's depth
        #: (price, size) -> the level's checksum text, per market
        self._checksum_text: dict[MarketSpec, dict[Level, str]] = {}

    @classmethod
    def venue_symbol(cls, spec: MarketSpec) -> str:
        return f"{WIRE_ASSETS.get(spec.base, spec.base)}/{WIRE_ASSETS.get(spec.quote, spec.quote)}"

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get(f"/{self.name}", self.websocket),
            web.get(f"/{self.name}/0/public/AssetPairs", self.asset_pairs),
        ]

    # -- text ------------------------------------------------------------------------------

    def _price(self, spec: MarketSpec, price: int) -> str:
        return wire_text(price, spec.price_decimals, spec.price_decimals + WIRE_PRICE_EXTRA)

    def _size(self, spec: MarketSpec, size: int) -> str:
        return wire_text(size, spec.size_decimals, WIRE_SIZE_DECIMALS)

    def _level(self, spec: MarketSpec, price: int, size: int, ts: str) -> list[str]:
        return [self._price(spec, price), self._size(spec, size), ts]

    def checksum(self, spec: MarketSpec, asks: list[Level], bids: list[Level]) -> int:
        """Kraken's CRC32 of the top asks (best first) then bids (best first), from the text."""
        cache = self._checksum_text.setdefault(spec, {})
        if len(cache) > CHECKSUM_CACHE:
            cache.clear()
        parts = []
        for level in asks + bids:
            text = cache.get(level)
            if text is None:  # the top levels change little from one update to the next
                price, size = level
                text = _digits(self._price(spec, price)) + _digits(self._size(spec, size))
                cache[level] = text
            parts.append(text)
        return zlib.crc32("".join(parts).encode("ascii"))

    def _channel_id(self, channel: str, pair: str) -> int:
        key = (channel, pair)
        if key not in self._channel_ids:
            self._channel_ids[key] = next(self._next_channel_id)
        return self._channel_ids[key]

    # -- requests --------------------------------------------------------------------------

    def on_connect(self, client: Client, request: web.Request) -> None:
        status = {
            "connectionID": next(self._connection_ids),
            "event": "systemStatus",
            "status": "online",
            "version": "1.9.0",
        }
        self.send(client, _encode(status))

    def on_subscribe_frame(self, client: Client, text: str) -> None:
        try:
            request = msgspec.json.decode(text)
        except msgspec.DecodeError:
            request = None
        if not isinstance(request, dict):
            self._error(client, "Malformed request", {})
            return
        event = request.get("event")
        if event == "ping":
            self._reply(client, {"event": "pong"}, request)
        elif event in ("subscribe", "unsubscribe"):
            self._on_subscription(client, request, subscribe=event == "subscribe")
        else:
            self._error(client, f"Unsupported event {event!r}", request)

    def _reply(self, client: Client, reply: dict[str, Any], request: dict[str, Any]) -> None:
        if "reqid" in request:
            reply["reqid"] = request["reqid"]
        self.send(client, _encode(reply))

    def _error(self, client: Client, message: str, request: dict[str, Any]) -> None:
        self._reply(client, {"errorMessage": message, "event": "error"}, request)

    def _on_subscription(self, client: Client, request: dict[str, Any], *, subscribe: bool) -> None:
        subscription = request.get("subscription")
        pairs = request.get("pair")
        if not isinstance(subscription, dict) or not isinstance(pairs, list):
            self._error(client, "Malformed request", request)
            return
        name = subscription.get("name")
        depth = subscription.get("depth", DEFAULT_DEPTH) if name == "book" else 0
        if name not in ("book", "trade", "ticker"):
            self._error(client, "Subscription name invalid", request)
            return
        if name == "book" and depth not in DEPTHS:
            self._error(client, "Subscription depth not supported", request)
            return
        channel = f"book-{depth}" if name == "book" else str(name)
        echo = {"name": name, "depth": depth} if name == "book" else {"name": name}
        for pair in pairs:
            status: dict[str, Any] = {
                "event": "subscriptionStatus",
                "pair": pair,
                "subscription": echo,
            }
            key = (channel, str(pair))
            if not isinstance(pair, str) or pair not in self.markets:
                status.update(status="error", errorMessage="Currency pair not supported")
            elif subscribe and key in client.subscriptions:
                status.update(status="error", errorMessage="Already subscribed")
            elif not subscribe and key not in client.subscriptions:
                status.update(status="error", errorMessage="Subscription Not Found")
            else:
                status.update(
                    channelID=self._channel_id(channel, pair),
                    channelName=channel,
                    status="subscribed" if subscribe else "unsubscribed",
                )
            self._reply(client, status, request)
            if status["status"] == "subscribed":
                if name == "book" and not self.has_subscribers(channel, pair):
                    self._edges[(pair, depth)] = self._view_edges(self.markets[pair], depth)
                self.subscribe(client, key)
                if name == "book":
                    self._send_snapshot(client, pair, depth)
            elif status["status"] == "unsubscribed":
                self.unsubscribe(client, key)

    def _send_snapshot(self, client: Client, pair: str, depth: int) -> None:
        market = self.markets[pair]
        spec = market.spec
        ts = seconds_text(self._last_ns[pair] or time.time_ns())
        payload = {
            "as": [self._level(spec, p, s, ts) for p, s in market.book.asks(depth)],
            "bs": [self._level(spec, p, s, ts) for p, s in market.book.bids(depth)],
        }
        channel = f"book-{depth}"
        self.send(client, _encode([self._channel_id(channel, pair), payload, channel, pair]))
        self.lost.forget(pair)

    def on_wall_tick(self, now_ns: int) -> None:
        quiet_since = time.monotonic() - HEARTBEAT_S
        for client in list(self.clients):
            if client.subscriptions and client.last_push <= quiet_since:
                self.send(client, '{"event":"heartbeat"}')

    # -- market data -----------------------------------------------------------------------

    def on_step(self, venue_symbol: str, step: MarketStep, now_ns: int) -> None:
        self._last_ns[venue_symbol] = now_ns
        if step.changes:
            self._book_frames(venue_symbol, step, now_ns)
        if step.fills:
            self._trade_frames(venue_symbol, step, now_ns)

    def _book_frames(self, pair: str, step: MarketStep, now_ns: int) -> None:
        depths = [d for d in DEPTHS if self.has_subscribers(f"book-{d}", pair)]
        if not depths:
            return
        market = self.markets[pair]
        spec, book = market.spec, market.book
        checksum = self.checksum(spec, book.asks(CHECKSUM_LEVELS), book.bids(CHECKSUM_LEVELS))
        # Only a loss inside the checksummed levels can show (see the module docstring).
        lossable = self.faults.book_faults_pending and self._within_top(market, step)
        ts = seconds_text(now_ns)
        for depth in depths:
            out = self._view_update(pair, depth, step)
            if not out:
                continue
            asks = [self._out_level(spec, level, ts) for level in out if not level[0]]
            bids = [self._out_level(spec, level, ts) for level in out if level[0]]
            payloads: list[dict[str, Any]] = []
            if asks:
                payloads.append({"a": asks})
            if bids:
                payloads.append({"b": bids})
            payloads[-1]["c"] = str(checksum)
            channel = f"book-{depth}"
            frame = _encode([self._channel_id(channel, pair), *payloads, channel, pair])
            fault = self.broadcast(
                channel, pair, frame, book=True, lossable=lossable, corruptible=lossable
            )
            if fault is not None:  # skipped, or unreadable: the client misses the same
                self.lost.lose(pair, [o[:3] for o in out], [max(o[3], 0) for o in out])
            elif pair in self.lost.held:
                self._follow_loss(market, pair, out, checksum)

    def _out_level(self, spec: MarketSpec, level: _Out, ts: str) -> list[str]:
        _is_bid, price, size, before = level
        text = self._level(spec, price, size, ts)
        if before < 0:  # a republished level
            text.append("r")
        return text

    def _follow_loss(
        self, market: SyntheticMarket, pair: str, out: list[_Out], checksum: int
    ) -> None:
        """After a frame reached a client that lost an earlier one: does its checksum fail?"""
        held = self.lost.overwritten(pair, [(o[0], o[1]) for o in out])
        if not held:
            return
        spec, book = market.spec, market.book
        extra = CHECKSUM_LEVELS + len(held)
        asks, bids = dict(book.asks(extra)), dict(book.bids(extra))
        for (is_bid, price), size in held.items():
            side = bids if is_bid else asks
            if size:
                side[price] = size
            else:
                side.pop(price, None)
        top_asks = sorted(asks.items())[:CHECKSUM_LEVELS]
        top_bids = sorted(bids.items(), reverse=True)[:CHECKSUM_LEVELS]
        if self.checksum(spec, top_asks, top_bids) != checksum:
            self.lost.detected(pair)

    def _within_top(self, market: SyntheticMarket, step: MarketStep) -> bool:
        bids = market.book.bids(CHECKSUM_LEVELS)
        asks = market.book.asks(CHECKSUM_LEVELS)
        if len(bids) < CHECKSUM_LEVELS or len(asks) < CHECKSUM_LEVELS:
            return True
        floor, ceiling = bids[-1][0], asks[-1][0]
        return all(
            (price >= floor) if is_bid else (price <= ceiling) for is_bid, price, _ in step.changes
        )

    def _view_edges(self, market: SyntheticMarket, depth: int) -> tuple[int | None, int | None]:
        n_bids, n_asks = market.book.depth()
        bid_edge = market.book.bids(depth)[-1][0] if n_bids >= depth else None
        ask_edge = market.book.asks(depth)[-1][0] if n_asks >= depth else None
        return bid_edge, ask_edge

    def _view_update(self, pair: str, depth: int, step: MarketStep) -> list[_Out]:
        """The levels a client holding the top ``depth`` levels must be sent for this step:
        the changes inside its old or new view (removals only inside the old one), then the
        unchanged levels that entered the view (republished, marked by ``before`` = -1)."""
        market = self.markets[pair]
        old_bid, old_ask = self._edges[(pair, depth)]
        new_bid, new_ask = self._view_edges(market, depth)
        self._edges[(pair, depth)] = (new_bid, new_ask)
        if old_bid is None and new_bid is None and old_ask is None and new_ask is None:
            levels = zip(step.changes, step.before, strict=True)
            return [(b, p, s, before) for (b, p, s), before in levels]
        low = -1  # below every price
        out: list[_Out] = []
        changed: set[tuple[bool, int]] = set()
        for (is_bid, price, size), before in zip(step.changes, step.before, strict=True):
            changed.add((is_bid, price))
            if is_bid:
                old_in = old_bid is None or price >= old_bid
                new_in = new_bid is None or price >= new_bid
            else:
                old_in = old_ask is None or price <= old_ask
                new_in = new_ask is None or price <= new_ask
            if old_in or (size and new_in):
                out.append((is_bid, price, size, before))
        # Levels that entered the view because levels inside it went away.
        changes = len(out)
        bid_from = low if new_bid is None else new_bid
        bid_to = low if old_bid is None else old_bid
        if bid_from < bid_to:
            out.extend(
                (True, p, s, -1)
                for p, s in market.book.bids(depth)
                if bid_from <= p < bid_to and (True, p) not in changed
            )
        if old_ask is not None and (new_ask is None or new_ask > old_ask):
            out.extend(
                (False, p, s, -1)
                for p, s in market.book.asks(depth)
                if p > old_ask and (new_ask is None or p <= new_ask) and (False, p) not in changed
            )
        self.republished += len(out) - changes
        return out

    def _trade_frames(self, pair: str, step: MarketStep, now_ns: int) -> None:
        spec = self.markets[pair].spec
        stats = self.stats[pair]
        ts = seconds_text(now_ns)
        trades = []
        for price, size, side in step.fills:
            stats.trade(price, size)
            trades.append(
                [
                    self._price(spec, price),
                    self._size(spec, size),
                    ts,
                    "b" if side is Side.BUY else "s",
                    "m",
                    "",
                ]
            )
        if self.has_subscribers("trade", pair):
            frame = [self._channel_id("trade", pair), trades, "trade", pair]
            self.broadcast("trade", pair, _encode(frame))
        if self.has_subscribers("ticker", pair):
            frame = [self._channel_id("ticker", pair), self._ticker(pair), "ticker", pair]
            self.broadcast("ticker", pair, _encode(frame))

    def _ticker(self, pair: str) -> dict[str, Any]:
        market = self.markets[pair]
        spec, book, stats = market.spec, market.book, self.stats[pair]
        bid = book.best_bid() or (0, 0)
        ask = book.best_ask() or (0, 0)

        def both(text: str) -> list[str]:
            return [text, text]  # today, last 24 hours: the session

        def quote(level: Level) -> list[Any]:
            whole = level[1] // 10**spec.size_decimals
            return [self._price(spec, level[0]), whole, self._size(spec, level[1])]

        return {
            "a": quote(ask),
            "b": quote(bid),
            "c": [self._price(spec, stats.last), self._size(spec, stats.last_size)],
            "v": both(self._size(spec, stats.volume)),
            "p": both(self._price(spec, stats.vwap())),
            "t": [stats.trades, stats.trades],
            "l": both(self._price(spec, stats.low)),
            "h": both(self._price(spec, stats.high)),
            "o": both(self._price(spec, stats.open)),
        }

    # -- REST ------------------------------------------------------------------------------

    async def asset_pairs(self, request: web.Request) -> web.Response:
        if (failure := self.rest_failure()) is not None:
            return failure
        result = {}
        for pair, market in self.markets.items():
            spec = market.spec
            base, quote = pair.split("/")
            result[pair.replace("/", "")] = {
                "altname": pair.replace("/", ""),
                "wsname": pair,
                "aclass_base": "currency",
                "base": REST_ASSETS.get(base, base),
                "aclass_quote": "currency",
                "quote": REST_ASSETS.get(quote, quote),
                "lot": "unit",
                "pair_decimals": spec.price_decimals,
                "lot_decimals": WIRE_SIZE_DECIMALS,
                "lot_multiplier": 1,
                "ordermin": format_fixed(1, spec.size_decimals),
                "tick_size": format_fixed(spec.tick, spec.price_decimals, strip=True),
                "status": "online",
            }
        return web.json_response({"error": [], "result": result})
