"""Coinbase: the Exchange (ex-"Pro") WebSocket feed, and the Advanced Trade WebSocket feed.

Two connectors live here because they share Coinbase's product ids, number formats, timestamps
and trade-side convention, but speak different protocols.

``coinbase`` -- Coinbase Exchange feed, as recorded in 2021 (``COINBASE.ws.28.0``)
===============================================================================

Endpoint ``wss://ws-feed.pro.coinbase.com`` then (``wss://ws-feed.exchange.coinbase.com`` now).
The capture is the ground truth this connector is tested on, message by message:

- the client sends ``{"type": "subscribe", "product_ids": [...], "channels": [...]}`` (a channel
  is a name or ``{"name", "product_ids"}``); the server answers ``subscriptions`` with every
  active (channel, products) pair. ``error`` messages (``message``, ``reason``) reject requests.
- ``level2``: one ``snapshot`` per product (``bids``/``asks`` as ``[price, size]`` decimal
  strings, the whole book, no time), then ``l2update`` frames: ``changes`` of
  ``[side, price, size]`` with side ``buy`` (bid) or ``sell`` (ask); size is the new absolute
  size of the level, ``"0"`` removes it; ``time`` is the engine time, ISO 8601 with
  microseconds (``2021-04-17T16:43:37.075687Z``).
- ``matches``: ``last_match`` (the product's last trade *before* the subscription), then one
  ``match`` per trade. ``side`` is the side of the MAKER order (Coinbase: "a sell side match is
  an up-tick"): the aggressor is the opposite side. The ``ticker`` of the same trade carries the
  taker side, and the capture agrees on all of its 97 trades.
- ``ticker``: rolling 24h statistics sent on each trade -> ``Ticker`` events. A ticker is never
  turned into a ``Trade``: matches are the trades, so counting tickers too would count twice.
- ``last_match`` makes no ``Trade`` either: it happened before the session (possibly hours
  before) and every reconnect re-sends it. It seeds the trade-id continuity check.

What the current Exchange feed changes: ``level2`` now requires an authenticated (signed)
subscribe; the unauthenticated way to a book is ``level2_batch``, the same ``snapshot`` and
``l2update`` messages batched every 50 ms, which this connector reads as ``level2``. ``ticker``
messages gained ``best_bid_size``/``best_ask_size`` (read when present, giving
``BestBidOffer`` events). Messages the connector does not normalize (``heartbeat``, ``status``,
the ``full`` channel's order messages) are counted and ignored, as Coinbase asks clients to do
with message types they do not know.

Book integrity without sequence numbers
---------------------------------------
``level2`` messages carry no sequence number (``match``/``ticker`` carry the product's ``full``
channel sequence, which skips by design on these channels), so a lost ``l2update`` cannot be
seen directly. Coinbase states the ``level2`` channel guarantees delivery; what can still be
checked, is checked:

- a frame that cannot be read, or that is bad, marks its book OUT_OF_SYNC (if the product cannot
  even be read from it, every book is marked: the lost update could be for any of them);
- an update that removes a level the book does not have proves the book missed an update:
  the book is marked OUT_OF_SYNC (counted as a gap). The capture has none in 9,719 updates;
- a crossed book is counted by ``L2Book`` (never altered);
- trade ids are consecutive per product: a jump is counted in ``trade_gaps`` (a lost match or a
  reconnect), a repeat in ``duplicate_trades`` and dropped (reconnect overlap).

An OUT_OF_SYNC book ignores updates (``skipped_deltas``) until a new ``snapshot``; live, that
means re-subscribing ``level2`` for the product (it is listed in ``resync_requests``).

``coinbase_advanced`` -- Advanced Trade feed (``wss://advanced-trade-ws.coinbase.com``)
=====================================================================================

The protocol Coinbase documents today for public market data; no capture of it exists here, so
its tests use frames written from the documentation. Every message is an envelope
``{"channel", "client_id", "timestamp", "sequence_num", "events": [...]}``; one subscribe per
channel (``{"type": "subscribe", "product_ids": [...], "channel": "level2"}``, JWT optional for
public channels).

- ``level2`` (messages on channel ``l2_data``): events ``{"type": "snapshot"|"update",
  "product_id", "updates": [{"side": "bid"|"offer", "event_time", "price_level",
  "new_quantity"}]}``; ``new_quantity`` is the new absolute size, ``"0"`` removes the level.
- ``market_trades``: events ``{"type", "trades": [{"trade_id", "product_id", "price", "size",
  "side": "BUY"|"SELL", "time"}]}``. The documentation found does not say whose side it is; it
  is taken, as on the Exchange feed (same matching engine), to be the maker's, so the aggressor
  is the opposite (NautilusTrader's adapter reads it the same way). Unverified against a
  recording: check it on the first live capture (a buy aggressor trades at the ask). The first
  event (``snapshot``) lists trades from before the subscription and makes no ``Trade``.
- ``ticker`` / ``ticker_batch``: ``Ticker`` (and ``BestBidOffer`` when quantities are sent).
- ``heartbeats``, ``subscriptions``: control. ``{"type": "error", "message"}``: venue error.
- ``timestamp``/``event_time`` carry up to nanoseconds (``2023-02-09T20:32:50.714964855Z``).

``sequence_num`` counts every message of a connection, all channels together. A number that is
not the previous one + 1 means a message was lost, and nobody can tell for which product: every
``l2_data`` book of that connection is marked OUT_OF_SYNC until its next snapshot (live:
re-subscribe ``level2``). A bad ``l2_data`` frame whose envelope can be read counts as received
and marks the books of the products it names (all of the connection's books if it names none
readable); a frame whose envelope cannot be read is not counted, so the next frame reports the
gap. Coinbase serves ``-USDC`` products' market data as the matching ``-USD`` products: subscribe
with the ``-USD`` ids.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, ClassVar, Final, final
from urllib.parse import urlsplit

import msgspec

from orderscope._compiled import kernel
from orderscope.book import L2Book
from orderscope.errors import BadValue, FrameError, MalformedFrame, VenueErrorMessage
from orderscope.fixed import (
    NATIVE_COLUMNS,
    NATIVE_MANY,
    POW10,
    NumberFormatError,
    decimals_of,
    parse_fixed,
)
from orderscope.model import (
    BestBidOffer,
    BookDelta,
    BookSnapshot,
    BookState,
    Instrument,
    InstrumentKind,
    Level,
    MarketEvent,
    Side,
    Ticker,
    Trade,
)
from orderscope.symbols import unified_symbol
from orderscope.venues.base import (
    PARSE_MEMO_LIMIT,
    Connection,
    Endpoints,
    KeepAlive,
    Subscriptions,
    Venue,
    log,
)
from orderscope.venues.coinbase_wire import (
    _ADVANCED_ENVELOPE,
    _ADVANCED_PRODUCTS,
    _EXCHANGE_MESSAGE,
    _HEAD,
    _L2_EVENTS,
    _NAMED_EVENTS,
    _PRODUCTS,
    _SUBSCRIPTION_EVENTS,
    _TICKER_EVENTS,
    _TRADE_EVENTS,
    _Error,
    _ExchangeTicker,
    _Head,
    _L2Update,
    _LastMatch,
    _Match,
    _Snapshot,
    _Subscriptions,
)

# Enum members as module constants: on Python 3.11 ``BookState.SYNCED`` goes through
# EnumType.__getattr__ (a Python-level lookup, ~0.3 us a time); a global is a dict read.
_SYNCED: Final = BookState.SYNCED
_BUY: Final = Side.BUY
_SELL: Final = Side.SELL
# Compiled, a Final name is a static; an imported class is looked up in the module's dict.
_BOOK_DELTA: Final = BookDelta

#: Decimals kept for every Coinbase price and size, at least. Coinbase writes amounts with up to
#: 8 decimals (sizes and 24h volumes as "94381.28000000"), increments have been changed over the
#: years (an order resting since keeps its finer price or size), and no product's increment is
#: finer than 1e-8. Keeping 8 means no real frame fails on precision; ints do not mind the width.
MIN_DECIMALS: Final = 8


@final
class _L2Route:
    """What an ``l2update`` of one routed product needs, found by the C scanner in the lookup it
    makes for the product's decimals (``CoinbaseExchange._l2_keys``): compiled, these are native
    attribute reads, while the connector's own attributes (its base class is interpreted) are
    generic lookups costing ~200 instructions each. Valid until the subscriptions change."""

    def __init__(self, venue: str, instrument: Instrument, book: L2Book):
        self.venue = venue
        self.instrument = instrument
        self.symbol = instrument.symbol
        self.book = book
        #: frames counted here, not yet in the connector's ``_symbol_frames``: a field
        #: increment per frame instead of a dict get and set (``_fold_frame_counts``)
        self.unfolded_frames = 0


#: What the scanners find for a product: its id, or its route record once it has one.
_L2Key = str | _L2Route
#: A time in ns (an int) on the l2update path, typed Any so that, compiled, it stays the int
#: object it came as: an ``int`` is unboxed on the way in and boxed again (a new object of a
#: time's size, ~130 instructions, freed with the event) for the event it goes into.
_Ns = Any
_Scanned = tuple[_L2Key, list[Level], list[Level], _Ns]
_Scanner = Callable[[str | bytes, dict[str, tuple[int, int, _L2Key]]], _Scanned | None]


#: ``orderscope._coinbase.scan_l2update`` (C): an ``l2update`` frame of the usual shape ->
#: (product id or its route record, bids, asks, time ns), exactly what the msgspec path below
#: makes of it; None for any other frame, which then takes that path (so its values and errors
#: are unchanged). Without it, a frame costs ~9 k instructions of msgspec decoding and freeing,
#: ~3 k of level parsing and ~3 k of time parsing (docs/PERFORMANCE.md, "Coinbase l2update
#: frames in C").
_SCAN: Final[_Scanner | None] = kernel("_coinbase", "scan_l2update")
#: ``orderscope._coinbase.scan_snapshot``: the same for a level2 ``snapshot``.
_SCAN_SNAPSHOT: Final[_Scanner | None] = kernel("_coinbase", "scan_snapshot")

# -- exact ISO 8601 timestamps -------------------------------------------------------------------


class TimeFormatError(ValueError):
    """Not a ``YYYY-MM-DDTHH:MM:SS[.f{1,9}]Z`` UTC timestamp."""


_EPOCH_ORDINAL: Final = date(1970, 1, 1).toordinal()
_SECONDS: dict[str, int] = {}  # "YYYY-MM-DDTHH:MM:SS" -> ns since the epoch (a pure cache)
_SECONDS_MAX: Final = 4096


def _second_ns(prefix: str) -> int:
    """``YYYY-MM-DDTHH:MM:SS`` -> ns since the epoch, validated, and cached."""
    if (
        len(prefix) != 19
        or prefix[4] != "-"
        or prefix[7] != "-"
        or prefix[10] != "T"
        or prefix[13] != ":"
        or prefix[16] != ":"
    ):
        raise TimeFormatError(f"not an ISO 8601 UTC time: {prefix!r}")
    clock = prefix[11:13] + prefix[14:16] + prefix[17:19]
    digits = prefix[0:4] + prefix[5:7] + prefix[8:10] + clock
    if not (digits.isdigit() and digits.isascii()):
        raise TimeFormatError(f"not an ISO 8601 UTC time: {prefix!r}")
    hour, minute, second = int(clock[0:2]), int(clock[2:4]), int(clock[4:6])
    if hour > 23 or minute > 59 or second > 59:
        raise TimeFormatError(f"no such time: {prefix!r}")
    try:
        day = date(int(prefix[0:4]), int(prefix[5:7]), int(prefix[8:10])).toordinal()
    except ValueError:
        raise TimeFormatError(f"no such date: {prefix!r}") from None
    value = (((day - _EPOCH_ORDINAL) * 24 + hour) * 60 + minute) * 60 + second
    if len(_SECONDS) >= _SECONDS_MAX:
        _SECONDS.clear()
    _SECONDS[prefix] = value = value * 10**9
    return value


class _LastSecond:
    """The last ``YYYY-MM-DDTHH:MM:SS`` read (validated) and its ns: consecutive stamps of a
    feed mostly share their second, and a prefix test is cheaper than a cut and a dict lookup.
    One tuple, replaced whole, so that no thread ever reads a second with another's ns."""

    def __init__(self) -> None:
        self.second: tuple[str, int] = ("1970-01-01T00:00:00", 0)


_LAST: Final = _LastSecond()


def parse_iso8601_ns(text: str) -> int:
    """``2021-04-17T16:43:30.244075Z`` -> integer nanoseconds since the epoch, exactly.

    The part up to the second is validated once and cached (a feed sends many messages within
    one second); the fraction, 1 to 9 digits, is read with one ``int()``. No float anywhere, so
    every digit the venue sends is kept. Only UTC (``Z``) is accepted. One ``partition`` cuts
    the text (this runs on every Coinbase frame: slicing it five times cost a tenth of one).
    """
    last_head, last_ns = _LAST.second
    if text.startswith(last_head) and text[19:20] == ".":  # within the previous stamp's second
        return _plus_fraction(text, last_ns, text[20:])
    head, dot, tail = text.partition(".")
    if not dot:  # whole seconds: YYYY-MM-DDTHH:MM:SSZ
        if text[-1:] != "Z":
            raise TimeFormatError(f"not an ISO 8601 UTC time: {text!r}")
        head = text[:-1]
    base = _SECONDS.get(head)
    if base is None:
        base = _second_ns(head)
    _LAST.second = (head, base)
    if not dot:
        return base
    return _plus_fraction(text, base, tail)


def _plus_fraction(text: str, base: int, tail: str) -> int:
    """``base`` (a second, in ns) plus the fraction ``tail`` of ``text`` ("244075Z")."""
    frac = tail[:-1]
    if tail[-1:] != "Z" or not 0 < len(frac) <= 9 or not (frac.isdigit() and frac.isascii()):
        raise TimeFormatError(f"not an ISO 8601 UTC time: {text!r}")
    return base + int(frac) * POW10[9 - len(frac)]


# -- what both connectors share ------------------------------------------------------------------


def _instrument(
    venue: str, venue_symbol: str, base: str, quote: str, tick: str, lot: str
) -> Instrument:
    price_decimals = max(MIN_DECIMALS, decimals_of(tick))
    size_decimals = max(MIN_DECIMALS, decimals_of(lot))
    return Instrument(
        venue=venue,
        symbol=unified_symbol(base, quote),
        venue_symbol=venue_symbol,
        base=base,
        quote=quote,
        kind=InstrumentKind.SPOT,
        price_decimals=price_decimals,
        size_decimals=size_decimals,
        tick_size=parse_fixed(tick, price_decimals),
        lot_size=parse_fixed(lot, size_decimals),
    )


class _Coinbase(Venue):
    """Timestamps, numbers and trade-id continuity, common to both Coinbase feeds."""

    #: Both feeds' live subscriptions include a heartbeat channel, once a second: 10 s of
    #: silence is a dead connection.
    keepalive = KeepAlive(stale_after_s=10.0)

    def __init__(
        self,
        instruments: Iterable[Instrument],
        symbols: Iterable[str] | None = None,
        *,
        endpoints: Endpoints | None = None,
    ) -> None:
        super().__init__(instruments, symbols, endpoints=endpoints)
        self.trade_gaps: Counter[str] = Counter()  # trade-id jumps per unified symbol
        self.duplicate_trades: Counter[str] = Counter()  # trade ids seen again (dropped)
        self._last_trade_id: dict[str, int] = {}

    def _attribute(self, channel: str, venue_symbol: str, frame: str | bytes) -> Instrument | None:
        """``attribute(channel, venue_symbol, frame)``, for a pair routed already (most frames)
        written out: two dict reads instead of a call into the interpreted base class."""
        routes = self._routes.get(channel)
        instrument = routes.get(venue_symbol) if routes is not None else None
        if instrument is None:
            return self.attribute(channel, venue_symbol, frame)
        frames = self._symbol_frames
        symbol = instrument.symbol
        frames[symbol] = frames.get(symbol, 0) + 1
        return instrument

    def _ns(
        self,
        text: str,
        channel: str,
        frame: str | bytes,
        symbol: str | None,
        *,
        book: bool = False,
    ) -> int:
        if not text:
            return 0  # the venue did not stamp this message
        try:
            return parse_iso8601_ns(text)
        except TimeFormatError as exc:
            raise BadValue(self.name, channel, frame, str(exc), symbol, book=book) from None

    def _number(
        self, text: str | None, decimals: int, channel: str, frame: str | bytes, symbol: str
    ) -> int | None:
        if text is None or text == "":
            return None
        try:
            if NATIVE_MANY is not None:  # the C kernel, exact (the same values and errors)
                return NATIVE_MANY([text], decimals)[0]
            return parse_fixed(text, decimals)
        except NumberFormatError as exc:
            raise BadValue(self.name, channel, frame, str(exc), symbol) from None

    def _new_trade(self, symbol: str, trade_id: int, *, seed: bool = False) -> bool:
        """Track a product's trade ids (consecutive on Coinbase); False for one already seen.

        ``seed`` marks a trade reported from before the subscription (``last_match``): seen
        again on a reconnect, it is not a duplicate but the point to continue from.
        """
        last = self._last_trade_id.get(symbol)
        if last is not None and trade_id <= last:
            if not seed:
                self.duplicate_trades[symbol] += 1
            return False
        if last is not None and trade_id != last + 1:
            self.trade_gaps[symbol] += 1
            log.info("%s %s: trade ids jump from %d to %d", self.name, symbol, last, trade_id)
        self._last_trade_id[symbol] = trade_id
        return True

    def _trade(
        self,
        instrument: Instrument,
        channel: str,
        frame: str | bytes,
        recv_ns: int,
        fields: tuple[str, str, str, str, str],
    ) -> Trade:
        """A validated trade from (trade id, price, size, time, maker side) as sent."""
        trade_id, price_text, size_text, time, maker_side = fields
        symbol = instrument.symbol
        [(price, size)] = self.parse_levels(
            [(price_text, size_text)], instrument, frame, channel, book=False
        )
        if size == 0:
            raise BadValue(self.name, channel, frame, "trade of size 0", symbol)
        exch_ns = self._ns(time, channel, frame, symbol)
        side = aggressor_of_maker_side(maker_side)
        return Trade(self.name, symbol, exch_ns, recv_ns, price, size, side, trade_id)

    def _ticker_events(
        self,
        instrument: Instrument,
        channel: str,
        frame: str | bytes,
        exch_ns: int,
        recv_ns: int,
        fields: _TickerFields,
        out: list[MarketEvent],
    ) -> None:
        symbol = instrument.symbol
        pd, sd = instrument.price_decimals, instrument.size_decimals
        # Direct calls, not through a closure: compiled, a closure is called as a Python object
        # (and a bound method too).
        ticker = Ticker(
            self.name,
            symbol,
            exch_ns,
            recv_ns,
            last_price=self._number(fields.last, pd, channel, frame, symbol),
            open_24h=self._number(fields.open_24h, pd, channel, frame, symbol),
            high_24h=self._number(fields.high_24h, pd, channel, frame, symbol),
            low_24h=self._number(fields.low_24h, pd, channel, frame, symbol),
            volume_24h=self._number(fields.volume_24h, sd, channel, frame, symbol),
            best_bid=self._number(fields.best_bid, pd, channel, frame, symbol),
            best_ask=self._number(fields.best_ask, pd, channel, frame, symbol),
        )
        bid_size = self._number(fields.bid_size, sd, channel, frame, symbol)
        ask_size = self._number(fields.ask_size, sd, channel, frame, symbol)
        out.append(ticker)
        if None not in (ticker.best_bid, ticker.best_ask, bid_size, ask_size):
            out.append(
                BestBidOffer(
                    self.name,
                    symbol,
                    exch_ns,
                    recv_ns,
                    ticker.best_bid or 0,
                    bid_size or 0,
                    ticker.best_ask or 0,
                    ask_size or 0,
                )
            )

    def _levels_by_side(
        self,
        changes: Sequence[tuple[str, str, str]],
        bid_side: str,
        instrument: Instrument,
        frame: str | bytes,
        channel: str,
    ) -> tuple[list[Level], list[Level]]:
        """(side, price, size) changes -> exact bid and ask levels, or BadValue (book frame)."""
        pd, sd = instrument.price_decimals, instrument.size_decimals
        bids: list[Level] = []
        asks: list[Level] = []
        if NATIVE_COLUMNS is not None:  # the C kernel: faster than the memo lookups below
            try:
                levels = NATIVE_COLUMNS(changes, pd, sd, 1)  # (price, size) of each change
            except NumberFormatError as exc:
                raise BadValue(
                    self.name, channel, frame, str(exc), instrument.symbol, book=True
                ) from None
            # By index, not zip(strict=True): compiled, a zip with a keyword is a generic call.
            for i in range(len(levels)):
                (bids if changes[i][0] == bid_side else asks).append(levels[i])
            return bids, asks
        # The memo lookup of Venue.parse_levels, written out for this shape of level: a
        # helper called per level (or per frame) would cost more than the lookups it saves.
        known_prices, known_sizes = self._parse_memo_pairs.get((pd, sd)) or self._memos(pd, sd)
        try:
            for side, p, q in changes:
                price = known_prices.get(p)
                if price is None:
                    if len(known_prices) >= PARSE_MEMO_LIMIT:
                        known_prices.clear()
                    price = known_prices[p] = parse_fixed(p, pd)
                size = known_sizes.get(q)
                if size is None:
                    if len(known_sizes) >= PARSE_MEMO_LIMIT:
                        known_sizes.clear()
                    size = known_sizes[q] = parse_fixed(q, sd)
                (bids if side == bid_side else asks).append((price, size))
        except NumberFormatError as exc:
            raise BadValue(
                self.name, channel, frame, str(exc), instrument.symbol, book=True
            ) from None
        return bids, asks

    def _apply_update(
        self,
        book: L2Book,
        bids: list[Level],
        asks: list[Level],
        exch_ns: int,
        recv_ns: int,
        out: list[MarketEvent],
    ) -> None:
        """Apply a validated update to a synced book; updates to any other book are skipped."""
        if book.state is not _SYNCED:
            book.counters.skipped_deltas += 1
            return
        book.apply_delta(bids, asks)
        out.append(BookDelta(self.name, book.instrument.symbol, exch_ns, recv_ns, bids, asks))

    def _apply_snapshot(
        self,
        instrument: Instrument,
        bids: list[Level],
        asks: list[Level],
        exch_ns: int,
        recv_ns: int,
        out: list[MarketEvent],
    ) -> None:
        book = self.book(instrument)
        was = book.state
        book.apply_snapshot(bids, asks)
        out.append(BookSnapshot(self.name, instrument.symbol, exch_ns, recv_ns, bids, asks))
        self.synced(book, was, exch_ns, recv_ns, out)


@final
class _TickerFields:
    """A ticker's fields as decimal strings (None: not sent), whichever feed it came from.

    A plain class: compiled, a frozen dataclass cost ~9.6 k instructions to build (its
    ``__init__`` sets each field through ``object.__setattr__``), this one a few hundred."""

    def __init__(
        self,
        last: str | None,
        open_24h: str | None,
        high_24h: str | None,
        low_24h: str | None,
        volume_24h: str | None,
        best_bid: str | None,
        best_ask: str | None,
        bid_size: str | None,
        ask_size: str | None,
    ) -> None:
        self.last = last
        self.open_24h = open_24h
        self.high_24h = high_24h
        self.low_24h = low_24h
        self.volume_24h = volume_24h
        self.best_bid = best_bid
        self.best_ask = best_ask
        self.bid_size = bid_size
        self.ask_size = ask_size


# -- Coinbase Exchange feed (the capture's protocol) ---------------------------------------------


#: Message type -> the channel it belongs to (the key of ``Venue.subscriptions``).
_EXCHANGE_CHANNEL_OF_TYPE = {
    "snapshot": "level2",
    "l2update": "level2",
    "match": "matches",
    "last_match": "matches",
    "ticker": "ticker",
    "subscriptions": "control",
    "error": "control",
}
_BOOK_TYPES = frozenset({"snapshot", "l2update"})
#: Subscription names -> the channel whose messages they bring.
_EXCHANGE_CHANNEL_ALIASES = {
    "level2_batch": "level2",
    "ticker_batch": "ticker",
    "full": "matches",  # the full channel sends match messages too (and order messages)
}
_TYPE_IN_TEXT = re.compile(r'"type"\s*:\s*"([A-Za-z0-9_]+)"')
_PRODUCT_IN_TEXT = re.compile(r'"product_id"\s*:\s*"([A-Za-z0-9_.\-]+)"')


class CoinbaseExchange(_Coinbase):
    name = "coinbase"
    capture_prefix = "COINBASE"
    protocol = (
        "Coinbase Exchange (ex-Pro) WebSocket feed, 2021 format: level2 snapshot + l2update "
        "(also level2_batch), matches, ticker; level2 has no sequence numbers"
    )
    #: Live subscriptions today: level2 needs authentication, level2_batch does not.
    live_channels: ClassVar[tuple[str, ...]] = ("level2_batch", "ticker", "matches", "heartbeat")
    default_endpoints = Endpoints(
        "wss://ws-feed.exchange.coinbase.com", "https://api.exchange.coinbase.com"
    )

    def __init__(
        self,
        instruments: Iterable[Instrument],
        symbols: Iterable[str] | None = None,
        *,
        endpoints: Endpoints | None = None,
    ) -> None:
        super().__init__(instruments, symbols, endpoints=endpoints)
        #: product id -> (price decimals, size decimals, key), what the C scanners read a book
        #: frame's numbers with and return in place of its product id: the id itself, then the
        #: product's _L2Route once a frame was routed (a product not in it takes the msgspec
        #: path). Routes follow the subscriptions, so they are forgotten with base's own.
        self._l2_keys: dict[str, tuple[int, int, _L2Key]] = {}
        self._forget_l2_routes()
        self._subscriptions = Subscriptions(self._subscriptions_changed)

    def _subscriptions_changed(self) -> None:
        self._routes.clear()  # what Venue's subscriptions do on a change
        self._forget_l2_routes()

    def _forget_l2_routes(self) -> None:
        self._fold_frame_counts()  # the routes' counts, before the routes go
        self._l2_keys = {
            venue_symbol: (i.price_decimals, i.size_decimals, venue_symbol)
            for venue_symbol, i in self.by_venue_symbol.items()
        }

    def _fold_frame_counts(self) -> None:
        frames = self._symbol_frames
        for _, _, key in self._l2_keys.values():
            if isinstance(key, _L2Route) and key.unfolded_frames:
                frames[key.symbol] = frames.get(key.symbol, 0) + key.unfolded_frames
                key.unfolded_frames = 0

    def _l2_route(self, instrument: Instrument) -> _L2Route:
        """The route record of a product whose level2 frame was just attributed (made once)."""
        product = instrument.venue_symbol
        pd, sd, key = self._l2_keys[product]
        if isinstance(key, _L2Route):
            return key
        route = _L2Route(self.name, instrument, self.book(instrument))
        self._l2_keys[product] = (pd, sd, route)
        return route

    @classmethod
    def instruments_urls(cls, endpoints: Endpoints) -> list[str]:
        return [f"{endpoints.rest}/products"]

    def connections(self, instruments: Sequence[Instrument]) -> list[Connection]:
        return [
            Connection(
                self.endpoints.ws,
                (self.subscribe_request(instruments),),
                tuple(i.symbol for i in instruments),
            )
        ]

    def resubscribe_frames(self, instrument: Instrument) -> list[str]:
        # The feed sends a fresh level2 snapshot when the channel is subscribed again.
        book_channel = self.live_channels[0]
        unsubscribe = {
            "type": "unsubscribe",
            "product_ids": [instrument.venue_symbol],
            "channels": [book_channel],
        }
        return [
            msgspec.json.encode(unsubscribe).decode(),
            self.subscribe_request([instrument], [book_channel]),
        ]

    # -- instruments -----------------------------------------------------------------------

    @classmethod
    def parse_instruments(cls, url: str, body: str | bytes) -> list[Instrument]:
        """Instruments from ``GET /products`` (``quote_increment`` and ``base_increment``)."""
        if not urlsplit(url).path.rstrip("/").endswith("/products"):
            return []
        return [
            _instrument(
                cls.name,
                p.id,
                p.base_currency,
                p.quote_currency,
                p.quote_increment,
                p.base_increment,
            )
            for p in _PRODUCTS.decode(body)
        ]

    # -- subscriptions ---------------------------------------------------------------------

    def subscribe_request(
        self, instruments: Iterable[Instrument], channels: Iterable[str] | None = None
    ) -> str:
        """The frame a live session sends (also to resync a book: re-subscribing level2 sends
        a new snapshot)."""
        request = {
            "type": "subscribe",
            "product_ids": [i.venue_symbol for i in instruments],
            "channels": list(channels or self.live_channels),
        }
        return msgspec.json.encode(request).decode()

    def on_sent(self, conn: int, text: str, recv_ns: int) -> None:
        try:
            request = msgspec.json.decode(text)
        except msgspec.DecodeError:
            return
        if not isinstance(request, dict) or request.get("type") not in ("subscribe", "unsubscribe"):
            return
        pairs = self._requested_pairs(request)
        if request["type"] == "subscribe":
            self.subscriptions.update(pairs)
        else:
            self.subscriptions.difference_update(pairs)

    @staticmethod
    def _requested_pairs(request: dict[str, Any]) -> set[tuple[str, str]]:
        products = [str(p) for p in request.get("product_ids") or []]
        pairs: set[tuple[str, str]] = set()
        for channel in request.get("channels") or []:
            if isinstance(channel, dict):
                name = str(channel.get("name", ""))
                channel_products = [str(p) for p in channel.get("product_ids") or products]
            else:
                name, channel_products = str(channel), products
            name = _EXCHANGE_CHANNEL_ALIASES.get(name, name)
            pairs.update((name, product) for product in channel_products)
        return pairs

    # -- frames ----------------------------------------------------------------------------

    def on_frame(self, conn: int, frame: str | bytes, recv_ns: _Ns, out: list[MarketEvent]) -> None:
        if _SCAN is not None:
            scanned = _SCAN(frame, self._l2_keys)
            if scanned is not None:  # an l2update, valid but for its product's subscription
                key, bids, asks, exch_ns = scanned
                if isinstance(key, _L2Route):
                    # Routed by an earlier frame (most frames): what attribute() does, counting
                    # the frame for its symbol on the route, with no lookup but this one.
                    route = key
                    route.unfolded_frames += 1
                else:
                    instrument = self.attribute("level2", key, frame)
                    if instrument is None:
                        return
                    route = self._l2_route(instrument)
                self._apply_l2update(route, bids, asks, exch_ns, recv_ns, out)
                return
        if _SCAN_SNAPSHOT is not None:
            scanned = _SCAN_SNAPSHOT(frame, self._l2_keys)
            if scanned is not None:
                key, bids, asks, exch_ns = scanned
                product = key.instrument.venue_symbol if isinstance(key, _L2Route) else key
                instrument = self._attribute("level2", product, frame)
                if instrument is not None:
                    self._apply_snapshot(instrument, bids, asks, exch_ns, recv_ns, out)
                return
        try:
            msg = _EXCHANGE_MESSAGE.decode(frame)
        except msgspec.DecodeError as exc:
            self._undecodable(frame, str(exc))
            return
        # l2update first (every other frame); compiled, these are direct C calls.
        kind = type(msg)
        if kind is _L2Update:
            self._on_l2update(msg, frame, recv_ns, out)
        else:
            _EXCHANGE_HANDLERS[kind](self, msg, frame, recv_ns, out)

    def _undecodable(self, frame: str | bytes, reason: str) -> None:
        """Raise MalformedFrame for a frame of a known type, attributed as well as it can be;
        return (counting the frame as ignored) for a message type this connector does not read.
        """
        try:
            head = _HEAD.decode(frame)
        except msgspec.DecodeError:  # not even JSON: read what the text still shows
            text = frame.decode("utf-8", "replace") if isinstance(frame, bytes) else frame
            type_match, product_match = _TYPE_IN_TEXT.search(text), _PRODUCT_IN_TEXT.search(text)
            head = _Head(
                type_match.group(1) if type_match else "",
                product_match.group(1) if product_match else "",
            )
        else:
            if head.type and head.type not in _EXCHANGE_CHANNEL_OF_TYPE:
                self.stats.ignored_frames += 1  # heartbeat, status, full-channel orders...
                return
        instrument = self.by_venue_symbol.get(head.product_id)
        # A book frame (or one that may have been) that names no readable product may have been
        # an update to any book: symbol None with book=True makes handle_error flag them all.
        is_book = head.type in _BOOK_TYPES or not head.type
        raise MalformedFrame(
            self.name,
            _EXCHANGE_CHANNEL_OF_TYPE.get(head.type, "?"),
            frame,
            reason,
            instrument.symbol if instrument is not None else None,
            book=is_book and (instrument is not None or not head.product_id),
        )

    def _on_snapshot(
        self, msg: _Snapshot, frame: str | bytes, recv_ns: int, out: list[MarketEvent]
    ) -> None:
        instrument = self._attribute("level2", msg.product_id, frame)
        if instrument is None:
            return
        bids = self.parse_levels(msg.bids, instrument, frame, "level2")
        asks = self.parse_levels(msg.asks, instrument, frame, "level2")
        exch_ns = self._ns(msg.time, "level2", frame, instrument.symbol, book=True)
        self._apply_snapshot(instrument, bids, asks, exch_ns, recv_ns, out)

    def _on_l2update(
        self, msg: _L2Update, frame: str | bytes, recv_ns: int, out: list[MarketEvent]
    ) -> None:
        # The reference of the C scanner's path (on_frame), which runs when it cannot.
        instrument = self._attribute("level2", msg.product_id, frame)
        if instrument is None:
            return
        bids, asks = self._levels_by_side(msg.changes, "buy", instrument, frame, "level2")
        time = msg.time
        try:
            exch_ns = parse_iso8601_ns(time) if time else 0
        except TimeFormatError as exc:
            raise BadValue(
                self.name, "level2", frame, str(exc), instrument.symbol, book=True
            ) from None
        self._apply_l2update(self._l2_route(instrument), bids, asks, exch_ns, recv_ns, out)

    def _apply_l2update(
        self,
        route: _L2Route,
        bids: list[Level],
        asks: list[Level],
        exch_ns: _Ns,
        recv_ns: _Ns,
        out: list[MarketEvent],
    ) -> None:
        """A valid l2update's levels to its book (whichever path read them)."""
        book = route.book
        if book.state is not _SYNCED:
            book.counters.skipped_deltas += 1
            return
        missing = book.absent_deletion(bids, asks)
        if missing is not None:
            side, price = missing
            reason = (
                f"l2update removes the {side} level {route.instrument.price_text(price)}, "
                "which the book does not have: an update was lost"
            )
            self.out_of_sync(book, reason, exch_ns, recv_ns, out)
            return
        book.apply_delta(bids, asks)
        out.append(_BOOK_DELTA(route.venue, route.symbol, exch_ns, recv_ns, bids, asks))

    def _on_match(
        self, msg: _Match, frame: str | bytes, recv_ns: int, out: list[MarketEvent]
    ) -> None:
        instrument = self._attribute("matches", msg.product_id, frame)
        if instrument is None:
            return
        symbol = instrument.symbol
        fields = (str(msg.trade_id), msg.price, msg.size, msg.time, msg.side)
        trade = self._trade(instrument, "matches", frame, recv_ns, fields)
        if type(msg) is _LastMatch:
            self._new_trade(symbol, msg.trade_id, seed=True)
            self.stats.ignored_frames += 1  # a trade from before the subscription
        elif self._new_trade(symbol, msg.trade_id):
            out.append(trade)

    def _on_ticker(
        self, msg: _ExchangeTicker, frame: str | bytes, recv_ns: int, out: list[MarketEvent]
    ) -> None:
        instrument = self._attribute("ticker", msg.product_id, frame)
        if instrument is None:
            return
        fields = _TickerFields(
            msg.price,
            msg.open_24h,
            msg.high_24h,
            msg.low_24h,
            msg.volume_24h,
            msg.best_bid,
            msg.best_ask,
            msg.best_bid_size,
            msg.best_ask_size,
        )
        exch_ns = self._ns(msg.time, "ticker", frame, instrument.symbol)
        self._ticker_events(instrument, "ticker", frame, exch_ns, recv_ns, fields, out)

    def _on_subscriptions(
        self, msg: _Subscriptions, frame: str | bytes, recv_ns: int, out: list[MarketEvent]
    ) -> None:
        # The server's list is what is really active: it adds what a request spelled another way
        # (a channel object, an alias) and is kept even if the request frame was not recorded.
        for channel in msg.channels:
            name = _EXCHANGE_CHANNEL_ALIASES.get(channel.name, channel.name)
            self.subscriptions.update((name, product) for product in channel.product_ids)
        self.stats.control_frames += 1

    def _on_error(
        self, msg: _Error, frame: str | bytes, recv_ns: int, out: list[MarketEvent]
    ) -> None:
        reason = f"{msg.message}: {msg.reason}" if msg.reason else msg.message
        raise VenueErrorMessage(self.name, "control", frame, reason or "error")

    def handle_error(self, error: FrameError, recv_ns: int, out: list[MarketEvent]) -> None:
        super().handle_error(error, recv_ns, out)
        if error.book and error.symbol is None:
            # A lost book frame whose product is unknown may have updated any book.
            for book in self.books.values():
                book.counters.errors += 1
                reason = f"unattributed bad frame: {error.kind}"
                self.out_of_sync(book, reason, 0, recv_ns, out, gap=False)


def aggressor_of_maker_side(maker_side: str) -> Side:
    """Coinbase reports the maker's side of a trade; the aggressor took the other side."""
    return _SELL if maker_side in ("buy", "BUY") else _BUY


_ExchangeHandler = Callable[[CoinbaseExchange, Any, str | bytes, int, list[MarketEvent]], None]
_EXCHANGE_HANDLERS: dict[type, _ExchangeHandler] = {
    _Snapshot: CoinbaseExchange._on_snapshot,
    _L2Update: CoinbaseExchange._on_l2update,
    _Match: CoinbaseExchange._on_match,
    _LastMatch: CoinbaseExchange._on_match,
    _ExchangeTicker: CoinbaseExchange._on_ticker,
    _Subscriptions: CoinbaseExchange._on_subscriptions,
    _Error: CoinbaseExchange._on_error,
}


# -- Coinbase Advanced Trade feed (the current protocol) -----------------------------------------


#: Subscription channel -> the ``channel`` its messages carry.
_ADVANCED_MESSAGE_CHANNEL = {"level2": "l2_data"}
_ADVANCED_IGNORED = frozenset({"candles", "status", "user", "futures_balance_summary"})


@dataclass(slots=True)
class _Pending:
    """The frame being handled, for ``handle_error`` if it turns out bad."""

    conn: int
    sequence_num: int
    channel: str
    events: msgspec.Raw


class CoinbaseAdvanced(_Coinbase):
    name = "coinbase_advanced"
    capture_prefix = "COINBASE_ADVANCED"
    protocol = (
        "Coinbase Advanced Trade WebSocket (advanced-trade-ws.coinbase.com): level2 (l2_data), "
        "market_trades, ticker, heartbeats; per-connection sequence_num gap detection"
    )
    live_channels: ClassVar[tuple[str, ...]] = ("level2", "market_trades", "ticker", "heartbeats")
    default_endpoints = Endpoints(
        "wss://advanced-trade-ws.coinbase.com", "https://api.coinbase.com"
    )

    def __init__(
        self,
        instruments: Iterable[Instrument],
        symbols: Iterable[str] | None = None,
        *,
        endpoints: Endpoints | None = None,
    ) -> None:
        super().__init__(instruments, symbols, endpoints=endpoints)
        self._next_sequence: dict[int, int] = {}  # connection -> the sequence_num expected next
        self._book_conn: dict[str, int] = {}  # unified symbol -> connection of its l2_data
        self._pending: _Pending | None = None

    @classmethod
    def parse_instruments(cls, url: str, body: str | bytes) -> list[Instrument]:
        """Spot instruments from ``GET /api/v3/brokerage/market/products`` (futures are left
        out: their contract terms need more than this response's increments)."""
        if not urlsplit(url).path.rstrip("/").endswith("/products"):
            return []
        return [
            _instrument(
                cls.name,
                p.product_id,
                p.base_currency_id,
                p.quote_currency_id,
                p.price_increment or p.quote_increment,
                p.base_increment,
            )
            for p in _ADVANCED_PRODUCTS.decode(body).products
            if p.product_type == "SPOT"
        ]

    # -- subscriptions ---------------------------------------------------------------------

    def subscribe_requests(
        self, instruments: Iterable[Instrument], jwt: str | None = None
    ) -> list[str]:
        """One subscribe frame per channel, as the Advanced Trade feed wants them (re-sending
        the level2 one resyncs a book: the feed answers with a new snapshot)."""
        products = [i.venue_symbol for i in instruments]
        frames = []
        for channel in self.live_channels:
            request: dict[str, Any] = {"type": "subscribe", "channel": channel}
            if channel != "heartbeats":
                request["product_ids"] = products
            if jwt is not None:
                request["jwt"] = jwt
            frames.append(msgspec.json.encode(request).decode())
        return frames

    @classmethod
    def instruments_urls(cls, endpoints: Endpoints) -> list[str]:
        return [f"{endpoints.rest}/api/v3/brokerage/market/products"]

    def connections(self, instruments: Sequence[Instrument]) -> list[Connection]:
        return [
            Connection(
                self.endpoints.ws,
                tuple(self.subscribe_requests(instruments)),
                tuple(i.symbol for i in instruments),
            )
        ]

    def resubscribe_frames(self, instrument: Instrument) -> list[str]:
        request = {
            "type": "subscribe",
            "channel": "level2",
            "product_ids": [instrument.venue_symbol],
        }
        return [msgspec.json.encode(request).decode()]

    def on_sent(self, conn: int, text: str, recv_ns: int) -> None:
        try:
            request = msgspec.json.decode(text)
        except msgspec.DecodeError:
            return
        if not isinstance(request, dict) or request.get("type") not in ("subscribe", "unsubscribe"):
            return
        channel = str(request.get("channel", ""))
        pairs = {(_message_channel(channel), str(p)) for p in request.get("product_ids") or []}
        if request["type"] == "subscribe":
            self.subscriptions.update(pairs)
        else:
            self.subscriptions.difference_update(pairs)

    # -- frames ----------------------------------------------------------------------------

    def on_frame(self, conn: int, frame: str | bytes, recv_ns: int, out: list[MarketEvent]) -> None:
        self._pending = None
        env = self.decode(_ADVANCED_ENVELOPE, frame, "?", frame)
        if env.type == "error":
            raise VenueErrorMessage(self.name, "control", frame, env.message or "error")
        channel = env.channel
        if not channel:
            raise MalformedFrame(self.name, "?", frame, "neither a channel message nor an error")
        self._pending = _Pending(conn, env.sequence_num, channel, env.events)
        # Validate the whole frame first; only then count its number and change state.
        exch_ns = self._ns(env.timestamp, channel, frame, None)
        apply: Callable[[], None] | None = None
        if channel == "l2_data":
            apply = self._prepare_l2(conn, exch_ns, env.events, frame, recv_ns, out)
        elif channel == "market_trades":
            apply = self._prepare_trades(env.events, frame, recv_ns, out)
        elif channel in ("ticker", "ticker_batch"):
            apply = self._prepare_tickers(channel, exch_ns, env.events, frame, recv_ns, out)
        elif channel == "subscriptions":
            apply = self._prepare_subscriptions(env.events, frame)
        elif channel == "heartbeats":
            self.stats.control_frames += 1
        elif channel in _ADVANCED_IGNORED:
            self.stats.ignored_frames += 1
        else:
            raise MalformedFrame(self.name, channel, frame, f"unknown channel {channel!r}")
        self._pending = None
        self._count(conn, env.sequence_num, exch_ns, recv_ns, out)
        if apply is not None:
            apply()

    def _count(
        self, conn: int, sequence_num: int, exch_ns: int, recv_ns: int, out: list[MarketEvent]
    ) -> None:
        """Check a connection's message number; a gap flags every book fed by it."""
        if sequence_num < 0:
            return
        expected = self._next_sequence.get(conn)
        self._next_sequence[conn] = sequence_num + 1
        if expected is None or sequence_num == expected:
            return
        reason = f"sequence_num gap on connection {conn}: expected {expected}, got {sequence_num}"
        for symbol, book_conn in self._book_conn.items():
            if book_conn == conn:
                self.out_of_sync(self.books[symbol], reason, exch_ns, recv_ns, out)

    def handle_error(self, error: FrameError, recv_ns: int, out: list[MarketEvent]) -> None:
        pending, self._pending = self._pending, None
        if pending is not None:  # the frame was read far enough to know its number
            self._count(pending.conn, pending.sequence_num, 0, recv_ns, out)
            if pending.channel == "l2_data":
                self._flag_lost_updates(pending, error, recv_ns, out)
        super().handle_error(error, recv_ns, out)

    def _flag_lost_updates(
        self, pending: _Pending, error: FrameError, recv_ns: int, out: list[MarketEvent]
    ) -> None:
        """A dropped l2_data frame may hold updates for every product it names (or, if none can
        be read, for any book of its connection): flag those books."""
        try:
            named = {e.product_id for e in _NAMED_EVENTS.decode(pending.events)}
        except msgspec.DecodeError:
            named = set(_PRODUCT_IN_TEXT.findall(bytes(pending.events).decode("utf-8", "replace")))
        symbols = [i.symbol for p in named if (i := self.by_venue_symbol.get(p)) is not None]
        if not named:
            symbols = [s for s, c in self._book_conn.items() if c == pending.conn]
        for symbol in symbols:
            book = self.books.get(symbol)
            if book is not None:
                self.out_of_sync(
                    book, f"bad l2_data frame: {error.kind}", 0, recv_ns, out, gap=False
                )

    def _prepare_l2(
        self,
        conn: int,
        envelope_ns: int,
        raw: msgspec.Raw,
        frame: str | bytes,
        recv_ns: int,
        out: list[MarketEvent],
    ) -> Callable[[], None]:
        events = self.decode(_L2_EVENTS, raw, "l2_data", frame, book=True)
        prepared = []
        for event in events:
            instrument = self.attribute("l2_data", event.product_id, frame)
            if instrument is None:
                continue
            updates = event.updates
            bids, asks = self._levels_by_side(
                [(u.side, u.price_level, u.new_quantity) for u in updates],
                "bid",
                instrument,
                frame,
                "l2_data",
            )
            exch_ns = envelope_ns
            if event.type == "update" and updates:  # snapshot levels are stamped 1970-01-01
                symbol = instrument.symbol
                exch_ns = max(
                    self._ns(u.event_time, "l2_data", frame, symbol, book=True) for u in updates
                )
            prepared.append((event.type == "snapshot", instrument, bids, asks, exch_ns))

        def apply() -> None:
            for is_snapshot, instrument, bids, asks, exch_ns in prepared:
                if is_snapshot:
                    self._apply_snapshot(instrument, bids, asks, exch_ns, recv_ns, out)
                    self._book_conn[instrument.symbol] = conn
                else:
                    self._apply_update(self.book(instrument), bids, asks, exch_ns, recv_ns, out)

        return apply

    def _prepare_trades(
        self, raw: msgspec.Raw, frame: str | bytes, recv_ns: int, out: list[MarketEvent]
    ) -> Callable[[], None]:
        events = self.decode(_TRADE_EVENTS, raw, "market_trades", frame)
        prepared = []
        for event in events:
            for t in event.trades:
                instrument = self.attribute("market_trades", t.product_id, frame)
                if instrument is None:
                    continue
                if not (t.trade_id.isdigit() and t.trade_id.isascii()):
                    raise BadValue(
                        self.name,
                        "market_trades",
                        frame,
                        f"trade id {t.trade_id!r}",
                        instrument.symbol,
                    )
                fields = (t.trade_id, t.price, t.size, t.time, t.side)
                trade = self._trade(instrument, "market_trades", frame, recv_ns, fields)
                prepared.append((event.type == "snapshot", int(t.trade_id), trade))
        # Trades are sent newest first; the continuity check and consumers want them in order.
        prepared.sort(key=lambda item: item[1])

        def apply() -> None:
            for before_subscription, trade_id, trade in prepared:
                if before_subscription:  # recent history, not this session's flow
                    self._new_trade(trade.symbol, trade_id, seed=True)
                elif self._new_trade(trade.symbol, trade_id):
                    out.append(trade)

        return apply

    def _prepare_tickers(
        self,
        channel: str,
        exch_ns: int,
        raw: msgspec.Raw,
        frame: str | bytes,
        recv_ns: int,
        out: list[MarketEvent],
    ) -> Callable[[], None]:
        events = self.decode(_TICKER_EVENTS, raw, channel, frame)
        made: list[MarketEvent] = []
        for event in events:
            for t in event.tickers:
                instrument = self.attribute(channel, t.product_id, frame)
                if instrument is None:
                    continue
                fields = _TickerFields(
                    t.price,
                    None,  # no 24h open on this feed
                    t.high_24_h,
                    t.low_24_h,
                    t.volume_24_h,
                    t.best_bid,
                    t.best_ask,
                    t.best_bid_quantity,
                    t.best_ask_quantity,
                )
                self._ticker_events(instrument, channel, frame, exch_ns, recv_ns, fields, made)
        return lambda: out.extend(made)

    def _prepare_subscriptions(self, raw: msgspec.Raw, frame: str | bytes) -> Callable[[], None]:
        events = self.decode(_SUBSCRIPTION_EVENTS, raw, "subscriptions", frame)
        pairs = {
            (_message_channel(channel), product)
            for event in events
            for channel, products in event.subscriptions.items()
            for product in products
        }

        def apply() -> None:
            self.subscriptions.update(pairs)
            self.stats.control_frames += 1

        return apply


def _message_channel(subscription_channel: str) -> str:
    """The ``channel`` that messages of a subscription carry (level2 -> l2_data)."""
    return _ADVANCED_MESSAGE_CHANNEL.get(subscription_channel, subscription_channel)
