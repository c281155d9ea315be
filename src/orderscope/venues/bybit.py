"""Bybit: the v5 public WebSocket streams (spot and linear), and the retired 2021 protocol's
trades for the recorded sessions.

Protocol versions spoken:

- **v5** (2023-2026), ``wss://stream.bybit.com/v5/public/{spot,linear}`` with instruments from
  ``GET /v5/market/instruments-info?category=...``. Subscribe with ``{"op": "subscribe",
  "args": [topics]}``; the venue answers ``{"success": true, "op": "subscribe", ...}``.
  Topics normalized here:

  - ``orderbook.{depth}.{symbol}``: ``snapshot`` then ``delta`` messages carrying ``u`` (update
    id) and ``seq`` (cross sequence);
  - ``publicTrade.{symbol}``: trades, ``S`` is the taker's side, ``T`` the fill time, ``i`` the id;
  - ``tickers.{symbol}``: 24h statistics; on linear also ``fundingRate``, ``nextFundingTime``,
    ``markPrice``, ``indexPrice`` and ``openInterest``. Linear tickers are ``snapshot`` then
    ``delta``, and a delta omits every field that did not change, so the connector keeps the
    merged state and emits FundingRate / OpenInterest / Ticker events when their fields change;
  - ``allLiquidation.{symbol}`` (and the deprecated ``liquidation.{symbol}``): ``S``/``side`` is
    the side of the *position* liquidated, so the forced order is on the other side.

- **the 2021 realtime protocol** (``/realtime_public``, ``/realtime``, ``/v2/public/symbols``):
  trades only, see ``orderscope.venues.bybit_legacy``.

The v5 message shapes and the instruments-info parsing are in ``orderscope.venues.bybit_wire``.

Book sync, as the v5 documentation states it: subscribing yields a ``snapshot``, then ``delta``
messages; a new ``snapshot`` resets the local book whatever its ``u``. ``u`` is a sequence: each
delta's ``u`` must be the previous message's ``u + 1``, otherwise messages were lost and the book
is OUT_OF_SYNC until the next snapshot (live: resubscribe to get one). The venue occasionally
sends a snapshot with ``u == 1`` after a service restart: it simply replaces the book, and the
sequence starts again from 1. Level-1 books are snapshot-only (re-pushed with an unchanged ``u``
after 3 s without change). ``seq``, the cross sequence, orders data across depths and trades but
is not consecutive, so it plays no part in continuity. Books are kept at the subscribed depth
(levels pushed past it are dropped, as the venue's view drops them).

Bybit lists the same symbol in several categories (``BTCUSDT`` is spot and a linear perpetual),
and the category of a frame is that of its connection's URL. Instruments are therefore keyed by
``category:SYMBOL`` in ``by_venue_symbol`` and in ``subscriptions``.

Sizes: spot and linear sizes are in the base currency. Inverse contracts (old captures) are
1 USD each and their sizes stay in contracts (``contract_size = "1"``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import ClassVar, NoReturn
from urllib.parse import urlsplit

import msgspec

from orderscope.errors import (
    BadValue,
    ConfigError,
    MalformedFrame,
    UnsubscribedChannel,
    VenueErrorMessage,
)
from orderscope.fixed import NumberFormatError, parse_fixed
from orderscope.model import (
    BookDelta,
    BookSnapshot,
    BookState,
    FundingRate,
    Instrument,
    InstrumentKind,
    Liquidation,
    MarketEvent,
    OpenInterest,
    Side,
    Ticker,
    Trade,
)
from orderscope.venues import bybit_legacy as legacy
from orderscope.venues import bybit_wire as wire
from orderscope.venues.base import (
    Connection,
    Endpoints,
    KeepAlive,
    SubscribeLimits,
    Venue,
    batched,
    grouped,
)

# Enum members as module constants: on Python 3.11 ``BookState.SYNCED`` goes through
# EnumType.__getattr__ (a Python-level lookup, ~0.3 us a time); a global is a dict read.
_SYNCED = BookState.SYNCED
_BUY = Side.BUY
_SELL = Side.SELL

MS = 1_000_000  # nanoseconds per millisecond
BOOK_DEPTHS = (1, 50, 200, 1000)  # spot and linear, as documented
ARGS_CHARS_PER_CONNECTION = 21_000  # "args" of one public connection, all requests together
ARGS_PER_REQUEST = {"spot": 10}  # spot takes 10 topics a request; no limit documented elsewhere
DEFAULT_ARGS_PER_REQUEST = 100
_SIDES = {"Buy": _BUY, "Sell": _SELL}
_OPPOSITE = {"Buy": _SELL, "Sell": _BUY}  # liquidated position side -> order side


def _category_of_url(url: str) -> str | None:
    path = urlsplit(url).path.rstrip("/")
    _, v5, category = path.rpartition("/v5/public/")  # after any prefix (an emulator's)
    if v5:
        return category
    return legacy.LEGACY_PATHS.get(path)


def _split_topic(topic: str) -> tuple[str, str]:
    """``orderbook.50.BTCUSDT`` -> (``orderbook.50``, ``BTCUSDT``)."""
    channel, _, symbol = topic.rpartition(".")
    return channel, symbol


class Bybit(Venue):
    name = "bybit"
    default_endpoints = Endpoints("wss://stream.bybit.com", "https://api.bybit.com")
    capture_prefix = "BYBIT"
    protocol = (
        "Bybit v5 public streams, spot + linear (2023-2026); "
        "2021 realtime protocol: trades only (replay of old captures)"
    )
    categories: ClassVar[tuple[str, ...]] = ("spot", "linear")
    # Bybit asks for a ping every 20 s (it cuts a connection after 10 minutes without ping or
    # data), and for at most 500 new connections in 5 minutes from one IP.
    keepalive = KeepAlive(ping_text='{"op":"ping"}', ping_after_s=20.0, stale_after_s=30.0)
    limits = SubscribeLimits(connections_per_minute=100)

    def __init__(
        self,
        instruments: Iterable[Instrument],
        symbols: Iterable[str] | None = None,
        *,
        endpoints: Endpoints | None = None,
        book_depth: int = 50,
    ) -> None:
        if book_depth not in BOOK_DEPTHS:
            raise ConfigError(f"bybit order book depth {book_depth} (known: {BOOK_DEPTHS})")
        instruments = list(instruments)
        super().__init__(instruments, symbols, endpoints=endpoints)
        # The same symbol can be spot and linear: key it with its category.
        self.by_venue_symbol = {f"{wire.category_of(i)}:{i.venue_symbol}": i for i in instruments}
        self.book_depth = book_depth  # the depth live sessions subscribe to
        self._conn_category: dict[int, str] = {}
        self._book_depth: dict[str, int] = {}  # unified symbol -> the depth its book follows
        self._tickers: dict[str, dict[str, int | str]] = {}  # merged ticker fields

    # -- instruments -----------------------------------------------------------------------

    @classmethod
    def parse_instruments(cls, url: str, body: str | bytes) -> list[Instrument]:
        if "/v2/public/symbols" in url:
            return legacy.parse_v2_symbols(cls.name, body)
        if "/v5/market/instruments-info" not in url:
            return []
        return wire.parse_instruments(cls.name, body)

    # -- what a live session sends ---------------------------------------------------------

    @classmethod
    def instruments_urls(cls, endpoints: Endpoints) -> list[str]:
        return [
            f"{endpoints.rest}/v5/market/instruments-info?category={category}&limit=1000"
            for category in cls.categories
        ]

    def topics(self, instrument: Instrument) -> list[str]:
        sym = instrument.venue_symbol
        topics = [f"orderbook.{self.book_depth}.{sym}", f"publicTrade.{sym}", f"tickers.{sym}"]
        if instrument.kind is not InstrumentKind.SPOT:
            topics.append(f"allLiquidation.{sym}")
        return topics

    def connections(self, instruments: Sequence[Instrument]) -> list[Connection]:
        """Connections to open, each with the subscribe frames to send on it.

        One group per category (each has its own URL); a group is split over several
        connections when its topics would pass the 21,000 characters of "args" a public
        connection takes, and each request carries at most the category's topics per request.
        """
        by_category: dict[str, list[Instrument]] = {}
        for instrument in instruments:
            by_category.setdefault(wire.category_of(instrument), []).append(instrument)
        connections = []
        for category, members in by_category.items():
            url = f"{self.endpoints.ws}/v5/public/{category}"
            per_request = ARGS_PER_REQUEST.get(category, DEFAULT_ARGS_PER_REQUEST)
            for group in grouped(members, self._args_chars, ARGS_CHARS_PER_CONNECTION - 2):
                topics = [topic for instrument in group for topic in self.topics(instrument)]
                frames = tuple(
                    _request("subscribe", batch) for batch in batched(topics, per_request)
                )
                connections.append(Connection(url, frames, tuple(i.symbol for i in group)))
        return connections

    def _args_chars(self, instrument: Instrument) -> int:
        """What an instrument's topics add to a connection's "args": quotes, comma and a space
        each, counted however the venue counts (the brackets are taken off the limit)."""
        return sum(len(topic) + 4 for topic in self.topics(instrument))

    def resubscribe_frames(self, instrument: Instrument) -> list[str]:
        """Unsubscribe and subscribe the book again: Bybit answers with a fresh snapshot."""
        depth = self._book_depth.get(instrument.symbol, self.book_depth)
        topic = [f"orderbook.{depth}.{instrument.venue_symbol}"]
        return [_request("unsubscribe", topic), _request("subscribe", topic)]

    # -- subscriptions ---------------------------------------------------------------------

    def on_open(self, conn: int, url: str, recv_ns: int) -> None:
        category = _category_of_url(url)
        if category is not None:
            self._conn_category[conn] = category

    def on_sent(self, conn: int, text: str, recv_ns: int) -> None:
        try:
            request = msgspec.json.decode(text)
        except msgspec.DecodeError:
            return
        category = self._conn_category.get(conn)
        if category is None or not isinstance(request, dict) or request.get("op") != "subscribe":
            return
        for topic in request.get("args") or ():
            if not isinstance(topic, str):
                continue
            channel, symbol = _split_topic(topic)
            self.subscriptions.add((channel, f"{category}:{symbol}"))
            instrument = self.by_venue_symbol.get(f"{category}:{symbol}")
            if instrument is not None and channel.startswith("orderbook."):
                depth = channel.partition(".")[2]
                if depth.isdigit():  # the first depth subscribed is the one the book follows
                    self._book_depth.setdefault(instrument.symbol, int(depth))

    def check_subscribed(self, channel: str, instrument: Instrument, frame: str | bytes) -> None:
        key = f"{wire.category_of(instrument)}:{instrument.venue_symbol}"
        if (channel, key) not in self.subscriptions:
            raise UnsubscribedChannel(
                self.name, channel, frame, f"not subscribed to {channel} {key}", instrument.symbol
            )

    # -- frames ----------------------------------------------------------------------------

    def on_frame(self, conn: int, frame: str | bytes, recv_ns: int, out: list[MarketEvent]) -> None:
        env = self.decode(wire.ENVELOPE, frame, "?", frame)
        if not env.topic:
            self._control(env, frame)
            return
        channel, symbol = _split_topic(env.topic)
        category = self._conn_category.get(conn)
        if category is None:
            raise MalformedFrame(self.name, channel, frame, "connection URL has no category")
        instrument = self.attribute(channel, f"{category}:{symbol}", frame)
        if instrument is None:
            return
        kind, _, variant = channel.partition(".")
        if kind == "orderbook" and variant.isdigit():  # not orderbook.rpi / orderbook.full
            self._on_book(instrument, channel, int(variant), env, frame, recv_ns, out)
        elif kind == "publicTrade":
            self._on_trades(instrument, channel, env, frame, recv_ns, out)
        elif kind == "tickers":
            self._on_ticker(instrument, channel, env, frame, recv_ns, out)
        elif kind in ("allLiquidation", "liquidation"):
            self._on_liquidations(instrument, channel, env, frame, recv_ns, out)
        elif kind == legacy.TRADE_CHANNEL:
            self._on_legacy_trades(instrument, env, frame, recv_ns, out)
        else:
            self.stats.ignored_frames += 1  # subscribed, not normalized (kline, orderbook.rpi...)

    def _control(self, env: wire.Envelope, frame: str | bytes) -> None:
        if env.success is False:
            raise VenueErrorMessage(self.name, "control", frame, f"rejected: {env.ret_msg}")
        if env.success is None and env.op not in ("pong", "ping"):
            raise MalformedFrame(self.name, "?", frame, "neither a topic frame nor a reply")
        self.stats.control_frames += 1

    def _bad(
        self, channel: str, frame: str | bytes, reason: str, instrument: Instrument
    ) -> NoReturn:
        book = channel.startswith("orderbook.")
        raise BadValue(self.name, channel, frame, reason, instrument.symbol, book=book)

    # -- books -----------------------------------------------------------------------------

    def _on_book(
        self,
        instrument: Instrument,
        channel: str,
        depth: int,
        env: wire.Envelope,
        frame: str | bytes,
        recv_ns: int,
        out: list[MarketEvent],
    ) -> None:
        if self._book_depth.setdefault(instrument.symbol, depth) != depth:
            self.stats.ignored_frames += 1  # a second depth of a book already followed
            return
        msg = self.decode(wire.BOOK, env.data, channel, frame, instrument.symbol, book=True)
        if msg.s != instrument.venue_symbol:
            self._bad(channel, frame, f"symbol {msg.s!r} on topic {env.topic!r}", instrument)
        bids = self.parse_levels(msg.b, instrument, frame, channel)
        asks = self.parse_levels(msg.a, instrument, frame, channel)
        exch_ns = (env.cts or env.ts) * MS  # cts: the matching engine's time, as trades' T
        book = self.book(instrument, max_depth=depth)
        if env.type == "snapshot":
            was = book.state
            restart = msg.u == 1 and was is _SYNCED
            book.apply_snapshot(bids, asks, msg.u)
            out.append(
                BookSnapshot(self.name, instrument.symbol, exch_ns, recv_ns, bids, asks, msg.u)
            )
            self.synced(book, was, exch_ns, recv_ns, out, "snapshot u=1" if restart else "snapshot")
        elif env.type == "delta":
            if book.state is not _SYNCED:
                book.counters.skipped_deltas += 1  # waiting for the next snapshot
            elif msg.u != book.sequence + 1:
                reason = f"update id gap (last u={book.sequence}, got u={msg.u})"
                self.out_of_sync(book, reason, exch_ns, recv_ns, out)
            else:
                book.apply_delta(bids, asks, msg.u)
                out.append(
                    BookDelta(
                        self.name, instrument.symbol, exch_ns, recv_ns, bids, asks, msg.u, msg.u
                    )
                )
        else:
            raise MalformedFrame(
                self.name, channel, frame, f"type {env.type!r}", instrument.symbol, book=True
            )

    # -- trades and liquidations -----------------------------------------------------------

    def _on_trades(
        self,
        instrument: Instrument,
        channel: str,
        env: wire.Envelope,
        frame: str | bytes,
        recv_ns: int,
        out: list[MarketEvent],
    ) -> None:
        items = self.decode(wire.PUBLIC_TRADES, env.data, channel, frame, instrument.symbol)
        trades = []
        for t in items:  # every trade is checked before any is emitted
            price, size = self._price_size(t.p, t.v, t.s, instrument, channel, frame)
            side = _SIDES.get(t.S)
            if side is None:
                self._bad(channel, frame, f"side {t.S!r}", instrument)
            trades.append(
                Trade(self.name, instrument.symbol, t.T * MS, recv_ns, price, size, side, t.i)
            )
        out.extend(trades)

    def _price_size(
        self,
        price: str,
        size: str,
        symbol: str,
        instrument: Instrument,
        channel: str,
        frame: str | bytes,
    ) -> tuple[int, int]:
        if symbol != instrument.venue_symbol:
            self._bad(
                channel,
                frame,
                f"symbol {symbol!r} in a {instrument.venue_symbol} topic",
                instrument,
            )
        levels = self.parse_levels([(price, size)], instrument, frame, channel, book=False)
        if levels[0][1] == 0:
            self._bad(channel, frame, "size 0", instrument)
        return levels[0]

    def _on_liquidations(
        self,
        instrument: Instrument,
        channel: str,
        env: wire.Envelope,
        frame: str | bytes,
        recv_ns: int,
        out: list[MarketEvent],
    ) -> None:
        rows: list[tuple[int, str, str, str, str]]  # time, symbol, position side, size, price
        if channel == "allLiquidation":
            data = self.decode(wire.ALL_LIQUIDATIONS, env.data, channel, frame, instrument.symbol)
            items = data if isinstance(data, list) else [data]
            rows = [(x.T, x.s, x.S, x.v, x.p) for x in items]
        else:
            old = self.decode(wire.LIQUIDATIONS, env.data, channel, frame, instrument.symbol)
            olds = old if isinstance(old, list) else [old]
            rows = [(x.updatedTime, x.symbol, x.side, x.size, x.price) for x in olds]
        events = []
        for time_ms, symbol, position_side, size_text, price_text in rows:
            price, size = self._price_size(
                price_text, size_text, symbol, instrument, channel, frame
            )
            side = _OPPOSITE.get(position_side)
            if side is None:
                self._bad(channel, frame, f"side {position_side!r}", instrument)
            events.append(
                Liquidation(self.name, instrument.symbol, time_ms * MS, recv_ns, price, size, side)
            )
        out.extend(events)

    def _on_legacy_trades(
        self,
        instrument: Instrument,
        env: wire.Envelope,
        frame: str | bytes,
        recv_ns: int,
        out: list[MarketEvent],
    ) -> None:
        channel = legacy.TRADE_CHANNEL
        items = self.decode(legacy.LEGACY_TRADES, env.data, channel, frame, instrument.symbol)
        pd, sd = instrument.price_decimals, instrument.size_decimals
        trades = []
        for t in items:
            if t.symbol != instrument.venue_symbol:
                self._bad(channel, frame, f"symbol {t.symbol!r}", instrument)
            try:
                price = legacy.legacy_number(t.price, pd)
                size = legacy.legacy_number(t.size, sd)
                time_ms = legacy.legacy_time_ms(t.trade_time_ms)
            except ValueError as exc:  # NumberFormatError included
                self._bad(channel, frame, str(exc), instrument)
            side = _SIDES.get(t.side)
            if side is None or size == 0:
                self._bad(channel, frame, f"side {t.side!r} size {t.size!r}", instrument)
            trades.append(
                Trade(
                    self.name,
                    instrument.symbol,
                    time_ms * MS,
                    recv_ns,
                    price,
                    size,
                    side,
                    t.trade_id,
                )
            )
        out.extend(trades)

    # -- tickers ---------------------------------------------------------------------------

    def _on_ticker(
        self,
        instrument: Instrument,
        channel: str,
        env: wire.Envelope,
        frame: str | bytes,
        recv_ns: int,
        out: list[MarketEvent],
    ) -> None:
        msg = self.decode(wire.TICKER, env.data, channel, frame, instrument.symbol)
        if msg.symbol != instrument.venue_symbol:
            self._bad(channel, frame, f"symbol {msg.symbol!r}", instrument)
        changes = self._ticker_changes(msg, instrument, channel, frame)
        if env.type == "snapshot":
            state = self._tickers[instrument.symbol] = changes
        elif env.type == "delta":
            state = self._tickers.setdefault(instrument.symbol, {})
            state.update(changes)
        else:
            raise MalformedFrame(self.name, channel, frame, f"type {env.type!r}", instrument.symbol)
        self._ticker_events(instrument, state, changes.keys(), env.ts * MS, recv_ns, out)

    def _ticker_changes(
        self, msg: wire.TickerData, instrument: Instrument, channel: str, frame: str | bytes
    ) -> dict[str, int | str]:
        """The fields present in a tickers message, parsed (nothing is stored before all are)."""
        changes: dict[str, int | str] = {}
        pd, sd = instrument.price_decimals, instrument.size_decimals
        try:
            for name in wire.PRICE_FIELDS:
                text = getattr(msg, name)
                if text:
                    changes[name] = parse_fixed(text, pd)
            for name in wire.SIZE_FIELDS:
                text = getattr(msg, name)
                if text:
                    changes[name] = parse_fixed(text, sd)
            if msg.fundingRate:
                parse_fixed(msg.fundingRate.removeprefix("-"), 18)  # a plain decimal
                changes["fundingRate"] = msg.fundingRate
            if msg.nextFundingTime:
                changes["nextFundingTime"] = parse_fixed(msg.nextFundingTime, 0)
        except NumberFormatError as exc:
            raise BadValue(self.name, channel, frame, str(exc), instrument.symbol) from None
        return changes

    def _ticker_events(
        self,
        instrument: Instrument,
        state: dict[str, int | str],
        changed: Iterable[str],
        exch_ns: int,
        recv_ns: int,
        out: list[MarketEvent],
    ) -> None:
        changed = set(changed)
        sym = instrument.symbol

        def known(name: str) -> int | None:
            value = state.get(name)
            return value if isinstance(value, int) else None

        if changed & wire.TICKER_FIELDS:
            out.append(
                Ticker(
                    self.name,
                    sym,
                    exch_ns,
                    recv_ns,
                    last_price=known("lastPrice"),
                    open_24h=known("prevPrice24h"),
                    high_24h=known("highPrice24h"),
                    low_24h=known("lowPrice24h"),
                    volume_24h=known("volume24h"),
                    best_bid=known("bid1Price"),
                    best_ask=known("ask1Price"),
                )
            )
        rate = state.get("fundingRate")
        if changed & wire.FUNDING_FIELDS and isinstance(rate, str):
            next_ms = known("nextFundingTime") or 0
            out.append(
                FundingRate(
                    self.name,
                    sym,
                    exch_ns,
                    recv_ns,
                    rate,
                    next_ms * MS,
                    known("markPrice"),
                    known("indexPrice"),
                )
            )
        open_interest = known("openInterest")
        # Inverse open interest is in contracts (USD): not convertible to base exactly.
        if (
            "openInterest" in changed
            and open_interest is not None
            and wire.category_of(instrument) == "linear"
        ):
            out.append(OpenInterest(self.name, sym, exch_ns, recv_ns, open_interest))


def _request(op: str, topics: list[str]) -> str:
    return msgspec.json.encode({"op": op, "args": topics}).decode()
