"""Kraken spot: the public WebSocket API v1 (``wss://ws.kraken.com``) and REST ``AssetPairs``.

Protocol: WebSocket API **v1** (the captures' 1.8.x). Data frames are arrays
``[channelID, payload, (payload,) channelName, pair]`` with decimal strings; control frames are
objects with an ``event`` (``systemStatus``, ``subscriptionStatus``, ``heartbeat``, ``pong``,
``error``). Pairs are written as in ``AssetPairs``' ``wsname`` (``XBT/USD``). Channels:

- ``book-N``: a snapshot (``as``/``bs``), then updates (``a``/``b``; one frame may carry two
  payload objects, asks then bids; an entry may carry a 4th element ``"r"``, a republish: an
  absolute level like any other). The last payload of an update carries ``c``, a CRC32 of the
  top 10 levels. Subscriptions learn the depth N; the book is trimmed to N (``L2Book.max_depth``)
  because Kraken documents that it sends no delete for levels pushed out of the subscribed depth.
- ``trade``: ``[price, volume, time, side, ordertype, misc]``; ``side`` is the taker's.
- ``ticker``: best bid/ask, last trade, 24h open/high/low/volume -> ``Ticker`` (no timestamp).

Kraken's current **WebSocket v2** (``wss://ws.kraken.com/v2``) changes the shape, not the
semantics: JSON objects ``{"channel", "type": "snapshot"|"update", "data": [...]}`` instead of
arrays, ``method: subscribe`` requests with ``params``, symbols written ``BTC/USD`` (no XBT),
prices and quantities as JSON numbers, RFC 3339 timestamps, a checksum on snapshots as well as
updates, sequential integer trade ids, and an L3 (order-by-order) book. The checksum algorithm is
the same, but v2's numbers must be formatted with the precisions its ``instrument`` channel
publishes. This module speaks v1 only, which Kraken still serves and the captures record.

Book checksum, as Kraken documents it for v1: apply *every* level of the frame (both payloads),
trim to the subscribed depth, then concatenate the top 10 asks (ascending) and the top 10 bids
(descending), each level as its price with ``.`` and leading zeros removed followed by its volume
likewise, and compare the CRC32 of that string (unsigned) with ``c``. The strings are Kraken's
wire formatting, which carries more decimals than ``pair_decimals`` (XMR/USD: 2 decimals, wire
``"354.15000000"``): the wire decimals are learned per book from its snapshot, and a level is
written for the checksum as its scaled int followed by the missing zeros (one ``%`` format).

A checksum mismatch increments ``checksums_failed`` and marks the book OUT_OF_SYNC. It is not a
sequence gap (v1 has no sequence numbers), so ``gaps`` is left alone; the symbol goes into
``resync_requests`` (live: unsubscribe and subscribe the book again, which sends a fresh
snapshot; replay: the next snapshot in the capture). A bad book frame does the same (through
``Venue.handle_error``), since an update may have been lost. Until the snapshot, updates are
skipped (``skipped_deltas``), as are updates that arrive before the first snapshot.

Trade ids: v1 trades carry none. orderscope builds ``"<time_ns>-<n>"``, ``n`` counting trades of
the symbol with the same timestamp in arrival order (0 for the first): deterministic for a given
stream, and unique within it while a symbol's trade times only move forward (as in the captures).
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Final, TypeVar, cast

import msgspec
from mypy_extensions import mypyc_attr

from orderscope._compiled import kernel
from orderscope.book import L2Book
from orderscope.errors import (
    BadValue,
    ConfigError,
    MalformedFrame,
    VenueErrorMessage,
)
from orderscope.fixed import (
    NATIVE_COLUMNS,
    NATIVE_MANY,
    POW10,
    NumberFormatError,
    decimals_of,
    parse_fixed,
    parse_fixed_many,
)
from orderscope.model import (
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
from orderscope.symbols import common_asset, unified_symbol
from orderscope.venues.base import (
    BATCH_LEVELS,
    Connection,
    Endpoints,
    KeepAlive,
    SubscribeLimits,
    Venue,
)
from orderscope.venues.checksum import NATIVE_KRAKEN
from orderscope.venues.kraken_wire import (
    _ASSET_PAIRS,
    _BOOK,
    _BOOK_FRAME,
    _FRAME,
    _REQUEST,
    _TEXT,
    _TICKER,
    _TRADES,
    _BookPayload,
    _Event,
    _Subscription,
    _TickerPayload,
)

# Enum members as module constants: on Python 3.11 ``BookState.SYNCED`` goes through
# EnumType.__getattr__ (a Python-level lookup, ~0.3 us a time); a global is a dict read.
# (``Final``: compiled by mypyc, a module constant is then read without a dict lookup.)
_SYNCED: Final = BookState.SYNCED
_BUY: Final = Side.BUY
_SELL: Final = Side.SELL

DEFAULT_BOOK_DEPTH: Final = 10  # Kraken's default when a book subscription names no depth
CHECKSUM_LEVELS: Final = 10
TIME_DECIMALS: Final = 9  # "1618678133.365913" -> integer nanoseconds, exactly
TEXT_CACHE_LEVELS: Final = 4096  # checksum texts kept per book before the cache starts afresh
T = TypeVar("T")

_SIDES: Final = {"b": _BUY, "s": _SELL}

#: What ``orderscope._kraken.scan_book`` reads of a book frame: (channel, pair, asks, bids,
#: newest level time ns, checksum or -1, snapshot?, fractional digits of the first level's price
#: and volume or -1).
_Scanned = tuple[str, str, list[Level], list[Level], int, int, bool, int, int]
_Scanner = Callable[[str | bytes, dict[str, tuple[int, int]]], _Scanned | None]


#: ``orderscope._kraken.scan_book`` (C): a book update or snapshot of the usual shape, read in
#: one pass -> exactly what the msgspec path (``_on_book``) makes of it; None for any other frame,
#: which then takes that path (so its values and errors are unchanged). Without it, msgspec
#: builds a str per price, volume and time, ``_levels`` parses them and they are freed.
_SCAN_BOOK: Final[_Scanner | None] = kernel("_kraken", "scan_book")


# -- symbols and checksum --------------------------------------------------------------------


def kraken_asset(code: str) -> str:
    """A REST asset code as written on the wire: ``XXBT`` -> ``XBT``, ``ZUSD`` -> ``USD``.

    Kraken's legacy assets carry an X (crypto) or Z (fiat) prefix that makes them four letters;
    newer ones are unprefixed (``USDT``, ``DAI``, ``XTZ`` is Tezos, not a prefixed ``TZ``). The
    ``wsname`` of a pair is authoritative; this is the fallback for pairs that lack one.
    """
    if len(code) == 4 and code[0] in "XZ":
        return code[1:]
    return code


def _channel_name(subscription: _Subscription) -> str:
    """The ``channelName`` data frames of a subscription carry: ``book-1000``, ``trade``."""
    if subscription.name == "book":
        return f"book-{subscription.depth or DEFAULT_BOOK_DEPTH}"
    if subscription.name == "ohlc":
        return f"ohlc-{subscription.interval or 1}"
    return subscription.name


def _frac_digits(text: str) -> int:
    dot = text.find(".")
    return 0 if dot < 0 else len(text) - dot - 1


def _plain_levels(raw: list[list[str]]) -> bool:
    """Whether every level is a triple or a republished ``[price, volume, time, "r"]``: the
    shapes the C level parser takes (compiled, a loop in C; no set built per call)."""
    for entry in raw:
        n = len(entry)
        if n != 3 and (n != 4 or entry[3] != "r"):
            return False
    return True


def _wire_digits(value: int, shift: int) -> str:
    """A scaled int as Kraken's wire digits (no '.', no leading zeros), for negative shifts."""
    return str(value * POW10[shift]) if shift >= 0 else str(value // POW10[-shift])


@dataclass(slots=True)
class _BookWire:
    """How Kraken writes one book's numbers, learned from its snapshot.

    ``price_shift``/``size_shift`` are the wire decimals minus the instrument's: the digits
    Kraken writes for a level are ``value * 10**shift``. As prices and volumes are never 0 in a
    book, that is ``str(value)`` followed by ``shift`` zeros, so one ``%`` template per book
    formats a level for the checksum.
    """

    price_shift: int = 0
    size_shift: int = 0
    level_format: str = "%d%d"
    #: (price, volume) -> its checksum text: the top levels change little from frame to frame,
    #: and formatting them again was a fifth of a replay
    texts: dict[Level, str] = field(default_factory=dict)
    #: (the book's delta count, its checksum) when last computed: most updates of a deep book
    #: leave its top 10 as they were, and the same levels give the same checksum
    last: tuple[int, int] | None = None

    @classmethod
    def of(cls, price_shift: int, size_shift: int) -> _BookWire:
        return cls(
            price_shift,
            size_shift,
            f"%d{'0' * max(price_shift, 0)}%d{'0' * max(size_shift, 0)}",
        )

    @classmethod
    def learn(cls, price_text: str, size_text: str, instrument: Instrument) -> _BookWire:
        return cls.written(_frac_digits(price_text), _frac_digits(size_text), instrument)

    @classmethod
    def written(cls, price_frac: int, size_frac: int, instrument: Instrument) -> _BookWire:
        """The format of a book whose wire numbers carry these fractional digits."""
        return cls.of(price_frac - instrument.price_decimals, size_frac - instrument.size_decimals)

    def book_checksum(self, book: L2Book) -> int:
        """Kraken's CRC32 of the book's top levels: in C when built (``orderscope._checksum``
        reads them from the book, no list or text built), else (and for whatever the C leaves
        to it, e.g. values beyond int64) ``checksum``, the reference."""
        if NATIVE_KRAKEN is not None:
            ours = NATIVE_KRAKEN(book, CHECKSUM_LEVELS, self.price_shift, self.size_shift)
            if ours is not None:
                return ours
        return self.checksum(book.asks(CHECKSUM_LEVELS), book.bids(CHECKSUM_LEVELS))

    def checksum(self, asks: list[Level], bids: list[Level]) -> int:
        """Kraken's CRC32 over the top asks (best first) then the top bids (best first)."""
        if self.price_shift >= 0 and self.size_shift >= 0:
            levels = asks + bids
            texts = self.texts
            found: list[str | None] = list(map(texts.get, levels))  # in C: usually all known
            if not all(found):  # (a text is never empty; ``None in`` would compare each one)
                if len(texts) > TEXT_CACHE_LEVELS:
                    texts.clear()
                fmt = self.level_format
                for index, level in enumerate(levels):
                    if found[index] is None:
                        found[index] = texts[level] = fmt % level
            text = "".join(cast(list[str], found))
        else:  # wire decimals below pair_decimals: never seen; exact while the levels fit them
            ps, ss = self.price_shift, self.size_shift
            text = "".join(_wire_digits(p, ps) + _wire_digits(s, ss) for p, s in asks + bids)
        return zlib.crc32(text.encode("ascii"))


class _Hot:
    """What a scanned book frame reaches of the connector, held by one compiled (native) object.

    ``Kraken`` subclasses the interpreted ``Venue``, so every ``self.<attribute>`` read in its
    compiled methods is a generic attribute lookup (~200 instructions; there were about ten a
    frame); a field of this object is a C struct read. It holds the venue's own dicts, which
    ``Venue`` and ``Kraken`` change in place and never rebind.
    """

    def __init__(
        self,
        name: str,
        decimals: dict[str, tuple[int, int]],
        routes: dict[str, dict[str, Instrument | None]],
        symbol_frames: dict[str, int],
        books: dict[str, L2Book],
        wire: dict[str, _BookWire],
    ) -> None:
        self.name = name
        #: pair -> (price decimals, size decimals): what the C book scanner needs to read a
        #: frame's numbers (a pair not in it takes the msgspec path)
        self.decimals = decimals
        self.routes = routes
        self.symbol_frames = symbol_frames
        self.books = books
        self.wire = wire


# -- the connector ---------------------------------------------------------------------------


# Interpreted subclasses allowed: a session may tune the connector by subclassing it (the
# emulator tests subscribe at depth 25 that way), as with any interpreted connector.
@mypyc_attr(allow_interpreted_subclasses=True)
class Kraken(Venue):
    name = "kraken"
    capture_prefix = "KRAKEN"
    protocol = "Kraken spot WebSocket API v1 (wss://ws.kraken.com) + REST AssetPairs"
    default_endpoints = Endpoints("wss://ws.kraken.com", "https://api.kraken.com")
    # Kraken sends a heartbeat after a second without data, so 10 s of silence is a dead feed;
    # it allows about 150 connection attempts in 10 minutes.
    keepalive = KeepAlive(stale_after_s=10.0)
    limits = SubscribeLimits(connections_per_minute=15)

    def __init__(
        self,
        instruments: Iterable[Instrument],
        symbols: Iterable[str] | None = None,
        *,
        endpoints: Endpoints | None = None,
    ) -> None:
        super().__init__(instruments, symbols, endpoints=endpoints)
        self._wire: dict[str, _BookWire] = {}
        self._last_trade: dict[str, tuple[int, int]] = {}  # symbol -> (time_ns, n)
        decimals = {
            venue_symbol: (i.price_decimals, i.size_decimals)
            for venue_symbol, i in self.by_venue_symbol.items()
        }
        self._hot = _Hot(
            self.name, decimals, self._routes, self._symbol_frames, self.books, self._wire
        )

    # -- instruments -----------------------------------------------------------------------

    @classmethod
    def parse_instruments(cls, url: str, body: str | bytes) -> list[Instrument]:
        if "AssetPairs" not in url:
            return []
        try:
            info = _ASSET_PAIRS.decode(body)
        except msgspec.DecodeError as exc:
            raise ConfigError(f"kraken: unreadable AssetPairs response: {exc}") from None
        if info.error:
            raise ConfigError(f"kraken: AssetPairs returned errors: {', '.join(info.error)}")
        instruments = []
        for key, pair in info.result.items():
            if key.endswith(".d"):
                continue  # dark-pool twins of a pair: no public book or trades on WebSocket
            if pair.wsname:
                base, _, quote = pair.wsname.partition("/")
            else:
                base, quote = kraken_asset(pair.base), kraken_asset(pair.quote)
            price_decimals = max(pair.pair_decimals, decimals_of(pair.tick_size or "0"))
            tick = parse_fixed(pair.tick_size, price_decimals) if pair.tick_size else 1
            instrument = Instrument(
                venue=cls.name,
                symbol=unified_symbol(base, quote),  # XBT/USD -> BTC/USD, XDG/EUR -> DOGE/EUR
                venue_symbol=pair.wsname or f"{base}/{quote}",
                base=common_asset(base),
                quote=common_asset(quote),
                kind=InstrumentKind.SPOT,
                price_decimals=price_decimals,
                size_decimals=pair.lot_decimals,
                tick_size=tick,
                lot_size=1,
            )
            instruments.append(instrument)
        return instruments

    # -- subscriptions ---------------------------------------------------------------------

    def on_sent(self, conn: int, text: str, recv_ns: int) -> None:
        try:
            request = _REQUEST.decode(text)
        except msgspec.DecodeError:
            return  # not a request this connector reads (the client's own business)
        if request.event != "subscribe" or request.subscription is None:
            return
        channel = _channel_name(request.subscription)
        pairs = [request.pair] if isinstance(request.pair, str) else request.pair
        for pair in pairs:
            self.subscriptions.add((channel, pair))

    @classmethod
    def instruments_urls(cls, endpoints: Endpoints) -> list[str]:
        return [f"{endpoints.rest}/0/public/AssetPairs"]

    def connections(self, instruments: Sequence[Instrument]) -> list[Connection]:
        return [
            Connection(
                self.endpoints.ws,
                tuple(self.subscribe_requests(list(instruments))),
                tuple(i.symbol for i in instruments),
            )
        ]

    def resubscribe_frames(self, instrument: Instrument, depth: int = 1000) -> list[str]:
        """Unsubscribe and subscribe the book again: Kraken answers with a fresh snapshot."""
        book = {"name": "book", "depth": depth}
        return [
            msgspec.json.encode(
                {"event": event, "pair": [instrument.venue_symbol], "subscription": book}
            ).decode()
            for event in ("unsubscribe", "subscribe")
        ]

    def subscribe_requests(self, instruments: list[Instrument], depth: int = 1000) -> list[str]:
        """The frames a live session sends for these instruments (book, trades, ticker)."""
        pairs = [i.venue_symbol for i in instruments]
        return [
            msgspec.json.encode(
                {"event": "subscribe", "pair": pairs, "subscription": subscription}
            ).decode()
            for subscription in (
                {"name": "book", "depth": depth},
                {"name": "trade"},
                {"name": "ticker"},
            )
        ]

    # -- frames ----------------------------------------------------------------------------

    def on_frame(self, conn: int, frame: str | bytes, recv_ns: int, out: list[MarketEvent]) -> None:
        # Most frames are book updates: read in C when they have the usual shape, else decoded
        # in one pass when they have exactly the shape the general path accepts, so that path
        # (and its errors) sees every other frame.
        if _SCAN_BOOK is not None:
            hot = self._hot
            scanned = _SCAN_BOOK(frame, hot.decimals)
            if scanned is not None:
                self._on_scanned(hot, scanned, frame, recv_ns, out)
                return
        if frame[:1] == "[" or frame[:1] == b"[":
            try:
                items = _BOOK_FRAME.decode(frame)
            except msgspec.DecodeError:
                items = None  # a trade frame, or not a good book frame: the general path
            if items is not None and len(items) >= 4:
                channel, pair = items[-2], items[-1]
                if type(channel) is str and type(pair) is str and channel[:5] == "book-":
                    parts = items[1:-2]  # one payload, or asks and bids in two
                    if type(parts[0]) is _BookPayload and (
                        len(parts) == 1 or all(type(part) is _BookPayload for part in parts)
                    ):
                        self._on_book(channel, pair, parts, True, frame, recv_ns, out)
                        return
        msg = self.decode(_FRAME, frame, "?", frame)
        if isinstance(msg, _Event):
            self._on_event(msg, frame)
            return
        if len(msg) < 4:
            raise MalformedFrame(self.name, "?", frame, "a data array has at least 4 elements")
        # Decoded here rather than through self.decode (one call fewer each, every frame).
        try:
            channel = _TEXT.decode(msg[-2])
        except msgspec.DecodeError as exc:
            raise MalformedFrame(self.name, "?", frame, str(exc)) from None
        try:
            pair = _TEXT.decode(msg[-1])
        except msgspec.DecodeError as exc:
            raise MalformedFrame(self.name, channel, frame, str(exc)) from None
        payloads = msg[1:-2]
        if channel[:5] == "book-":  # a slice: str.startswith costs a tuple parse of its args
            self._on_book(channel, pair, payloads, False, frame, recv_ns, out)
        elif channel == "trade":
            trades = self._one_payload(_TRADES, channel, pair, payloads, frame)
            if trades is not None:
                self._on_trades(*trades, channel, frame, recv_ns, out)
        elif channel == "ticker":
            ticker = self._one_payload(_TICKER, channel, pair, payloads, frame)
            if ticker is not None:
                self._on_ticker(*ticker, channel, frame, recv_ns, out)
        else:  # spread, ohlc-N: fine if subscribed, not normalized
            instrument = self.instrument(pair, channel, frame)
            self.check_subscribed(channel, instrument, frame)
            self.stats.ignored_frames += 1

    def _on_event(self, msg: _Event, frame: str | bytes) -> None:
        if msg.event == "subscriptionStatus":
            self._on_subscription_status(msg, frame)
        elif msg.event == "error":
            raise VenueErrorMessage(self.name, "control", frame, msg.errorMessage or "error")
        elif msg.event in ("heartbeat", "systemStatus", "pong"):
            self.stats.control_frames += 1
        else:  # an event v1 may add later: harmless, not ours to normalize
            self.stats.ignored_frames += 1

    def _on_subscription_status(self, msg: _Event, frame: str | bytes) -> None:
        pair = msg.pair if isinstance(msg.pair, str) else ""
        channel = msg.channelName
        if not channel and msg.subscription is not None:
            channel = _channel_name(msg.subscription)
        if msg.status == "subscribed":
            self.subscriptions.add((channel, pair))
        elif msg.status == "unsubscribed":
            self.subscriptions.discard((channel, pair))
        elif msg.status == "error":
            self.subscriptions.discard((channel, pair))
            known = self.by_venue_symbol.get(pair)
            raise VenueErrorMessage(
                self.name,
                channel or "subscription",
                frame,
                f"subscription refused: {msg.errorMessage or 'no reason given'}",
                known.symbol if known is not None else None,
            )
        else:
            raise MalformedFrame(self.name, "subscription", frame, f"unknown status {msg.status!r}")
        self.stats.control_frames += 1

    # -- book ------------------------------------------------------------------------------

    def _levels(
        self, raw: list[list[str]], instrument: Instrument, channel: str, frame: str | bytes
    ) -> tuple[list[Level], int]:
        """Wire levels -> exact (price, volume) ints and the newest level time (ns)."""
        pd, sd = instrument.price_decimals, instrument.size_decimals
        if len(raw) >= BATCH_LEVELS:  # a snapshot: three columns, each parsed as one batch
            try:
                # list() first: compiled by mypyc, unpacking the zip itself would take its
                # strict ValueError (levels of 3 and 4 items) for the end and leave it set.
                prices, sizes, times = list(zip(*raw, strict=True))
                levels = list(
                    zip(parse_fixed_many(prices, pd), parse_fixed_many(sizes, sd), strict=True)
                )
                return levels, max(parse_fixed_many(times, TIME_DECIMALS))
            except ValueError:  # a level that is not a triple, or a bad number: the loop
                pass  # below finds the first problem, as it would have without this path
        # The C kernel when every level is a triple (or a republished 4th "r"); any problem:
        # the loop below finds the first one, in order, as it would have without this path.
        if NATIVE_COLUMNS is not None and NATIVE_MANY is not None and _plain_levels(raw):
            try:
                levels = NATIVE_COLUMNS(raw, pd, sd, 0)
                stamps = NATIVE_MANY([entry[2] for entry in raw], TIME_DECIMALS)
                # (max() with ``default=`` parses its keywords: a few hundred instructions)
                return levels, max(stamps) if stamps else 0
            except NumberFormatError:
                pass
        # The memo lookup of Venue.parse_levels, written out for this shape of level: a
        # helper called per level would cost more than the lookup it saves.
        known_prices, known_sizes = self.level_memos(pd, sd, len(raw))
        levels = []
        newest = 0
        try:
            for entry in raw:
                n = len(entry)
                if n != 3 and (n != 4 or entry[3] != "r"):
                    raise MalformedFrame(
                        self.name,
                        channel,
                        frame,
                        f"bad level {entry!r}",
                        instrument.symbol,
                        book=True,
                    )
                p, q = entry[0], entry[1]
                price = known_prices.get(p)
                if price is None:
                    price = known_prices[p] = parse_fixed(p, pd)
                size = known_sizes.get(q)
                if size is None:
                    size = known_sizes[q] = parse_fixed(q, sd)
                levels.append((price, size))
                ts = parse_fixed(entry[2], TIME_DECIMALS)
                if ts > newest:
                    newest = ts
        except NumberFormatError as exc:
            raise BadValue(
                self.name, channel, frame, str(exc), instrument.symbol, book=True
            ) from None
        return levels, newest

    def _on_book(
        self,
        channel: str,
        pair: str,
        payloads: Sequence[msgspec.Raw | int | str | _BookPayload],
        decoded: bool,
        frame: str | bytes,
        recv_ns: int,
        out: list[MarketEvent],
    ) -> None:
        """A book frame; its payloads raw, or ``decoded`` (all ``_BookPayload``) already."""
        instrument = self.attribute(channel, pair, frame)
        if instrument is None:
            return
        symbol = instrument.symbol
        if decoded:
            parts = cast(list[_BookPayload], payloads)
        else:
            try:
                parts = [_BOOK.decode(cast(msgspec.Raw, p)) for p in payloads]
            except msgspec.DecodeError as exc:
                raise MalformedFrame(
                    self.name, channel, frame, str(exc), symbol, book=True
                ) from None
        first = parts[0]
        if first.snap_asks is not None or first.snap_bids is not None:
            if len(parts) != 1 or first.a is not None or first.b is not None:
                raise MalformedFrame(
                    self.name, channel, frame, "snapshot mixed with an update", symbol, book=True
                )
            self._snapshot(instrument, channel, first, frame, recv_ns, out)
            return
        book = self._synced_book(instrument, channel, frame)
        if book is None:
            return
        asks: list[Level] = []
        bids: list[Level] = []
        checksum: str | None = None
        exch_ns = 0
        for part in parts:
            if part.snap_asks is not None or part.snap_bids is not None:
                raise MalformedFrame(
                    self.name, channel, frame, "snapshot mixed with an update", symbol, book=True
                )
            if part.a is not None:
                levels, newest = self._levels(part.a, instrument, channel, frame)
                asks += levels
                if newest > exch_ns:  # (a comparison, not a call of max())
                    exch_ns = newest
            if part.b is not None:
                levels, newest = self._levels(part.b, instrument, channel, frame)
                bids += levels
                if newest > exch_ns:
                    exch_ns = newest
            if part.c is not None:
                checksum = part.c
        if not asks and not bids:
            raise MalformedFrame(self.name, channel, frame, "empty book update", symbol, book=True)
        expected = -1
        if checksum is not None:
            if not (checksum.isdigit() and checksum.isascii() and len(checksum) <= 10):
                raise BadValue(
                    self.name, channel, frame, f"bad checksum {checksum!r}", symbol, book=True
                )
            expected = int(checksum)
        wire = self._wire.get(symbol)
        if wire is None:  # the snapshot was empty: learn Kraken's formatting from this update
            sample = next(raw[0] for part in parts for raw in (part.a, part.b) if raw)
            wire = self._wire[symbol] = _BookWire.learn(sample[0], sample[1], instrument)
        self._update(self.name, book, wire, symbol, bids, asks, exch_ns, expected, recv_ns, out)

    def _on_scanned(
        self,
        hot: _Hot,
        scanned: _Scanned,
        frame: str | bytes,
        recv_ns: int,
        out: list[MarketEvent],
    ) -> None:
        """A book frame read by ``orderscope._kraken``: what ``_on_book`` does with its levels."""
        channel, pair, asks, bids, exch_ns, expected, snapshot, price_frac, size_frac = scanned
        # Venue.attribute's hit path (the pair routed already), written out: the interpreted
        # call cost ~2.5 k instructions a frame. A miss (a new pair, or one filtered out) takes
        # attribute itself, which checks, remembers and counts.
        routes = hot.routes.get(channel)
        instrument = routes.get(pair) if routes is not None else None
        if instrument is not None:
            frames = hot.symbol_frames
            frames[instrument.symbol] = frames.get(instrument.symbol, 0) + 1
        else:
            instrument = self.attribute(channel, pair, frame)
            if instrument is None:
                return
        if snapshot:
            depth = self._depth(channel, frame)
            wire = None if price_frac < 0 else _BookWire.written(price_frac, size_frac, instrument)
            self._load(instrument, depth, bids, asks, exch_ns, wire, recv_ns, out)
            return
        symbol = instrument.symbol
        book = hot.books.get(symbol)
        if book is None or book.state is not _SYNCED:
            self._synced_book(instrument, channel, frame)  # None: it counts the skip
            return
        wire = hot.wire.get(symbol)
        if wire is None:  # the snapshot was empty: learn Kraken's formatting from this update
            wire = _BookWire.written(price_frac, size_frac, instrument)
            hot.wire[symbol] = wire
        self._update(hot.name, book, wire, symbol, bids, asks, exch_ns, expected, recv_ns, out)

    def _synced_book(
        self, instrument: Instrument, channel: str, frame: str | bytes
    ) -> L2Book | None:
        """The instrument's book for an update, or None: the update is skipped (no snapshot yet,
        or the book is out of sync)."""
        book = self.books.get(instrument.symbol)
        if book is None or book.state is not _SYNCED:
            if book is None:
                book = self.book(instrument, self._depth(channel, frame))
            book.counters.skipped_deltas += 1
            return None
        return book

    def _update(
        self,
        name: str,
        book: L2Book,
        wire: _BookWire,
        symbol: str,
        bids: list[Level],
        asks: list[Level],
        exch_ns: int,
        expected: int,
        recv_ns: int,
        out: list[MarketEvent],
    ) -> None:
        """A valid update applied (from here on state changes), and its checksum verified."""
        book.apply_delta(bids, asks)
        out.append(BookDelta(name, symbol, exch_ns, recv_ns, bids, asks))
        if expected >= 0:
            self._verify(book, wire, bids, asks, expected, exch_ns, recv_ns, out)

    def _verify(
        self,
        book: L2Book,
        wire: _BookWire,
        bids: list[Level],
        asks: list[Level],
        expected: int,
        exch_ns: int,
        recv_ns: int,
        out: list[MarketEvent],
    ) -> None:
        deltas = book.counters.deltas
        last = wire.last
        if (
            last is not None
            and last[0] == deltas - 1  # computed right before this delta, which changed
            and book.beyond_top(CHECKSUM_LEVELS, bids, asks)  # nothing in the top 10
        ):
            ours = last[1]
        elif NATIVE_KRAKEN is None:
            ours = wire.book_checksum(book)
        else:  # book_checksum's first step, written out: one Python call fewer per update
            found = NATIVE_KRAKEN(book, CHECKSUM_LEVELS, wire.price_shift, wire.size_shift)
            ours = wire.book_checksum(book) if found is None else found
        wire.last = (deltas, ours)
        if ours == expected:
            book.counters.checksums_ok += 1
        else:
            book.counters.checksums_failed += 1
            self.out_of_sync(
                book,
                f"checksum mismatch (venue {expected}, book {ours})",
                exch_ns,
                recv_ns,
                out,
                gap=False,
            )

    def _depth(self, channel: str, frame: str | bytes) -> int:
        try:
            return int(channel[5:])  # "book-1000"
        except ValueError:
            raise MalformedFrame(self.name, channel, frame, "bad book depth") from None

    def _snapshot(
        self,
        instrument: Instrument,
        channel: str,
        msg: _BookPayload,
        frame: str | bytes,
        recv_ns: int,
        out: list[MarketEvent],
    ) -> None:
        raw_asks = msg.snap_asks or []
        raw_bids = msg.snap_bids or []
        asks, newest_ask = self._levels(raw_asks, instrument, channel, frame)
        bids, newest_bid = self._levels(raw_bids, instrument, channel, frame)
        depth = self._depth(channel, frame)
        sample = raw_asks[0] if raw_asks else raw_bids[0] if raw_bids else None
        # Kraken writes every price (every volume) of a book with the same decimals
        wire = None if sample is None else _BookWire.learn(sample[0], sample[1], instrument)
        exch_ns = max(newest_ask, newest_bid)
        self._load(instrument, depth, bids, asks, exch_ns, wire, recv_ns, out)

    def _load(
        self,
        instrument: Instrument,
        depth: int,
        bids: list[Level],
        asks: list[Level],
        exch_ns: int,
        wire: _BookWire | None,
        recv_ns: int,
        out: list[MarketEvent],
    ) -> None:
        """A valid snapshot loaded into the book (from here on state changes); ``wire``: its
        numbers' format (None: the snapshot had no level)."""
        if wire is None:
            self._wire.pop(instrument.symbol, None)
        else:
            self._wire[instrument.symbol] = wire
        book = self.book(instrument, depth)
        book.max_depth = depth
        was = book.state
        book.apply_snapshot(bids, asks)
        out.append(
            BookSnapshot(self.name, instrument.symbol, exch_ns, recv_ns, book.bids(), book.asks())
        )
        self.synced(book, was, exch_ns, recv_ns, out)

    # -- trades and ticker -----------------------------------------------------------------

    def _one_payload(
        self,
        decoder: msgspec.json.Decoder[T],
        channel: str,
        pair: str,
        payloads: list[msgspec.Raw],
        frame: str | bytes,
    ) -> tuple[Instrument, T] | None:
        """The instrument and the single typed payload of a trade or ticker frame (None: the
        instrument is filtered out)."""
        instrument = self.attribute(channel, pair, frame)
        if instrument is None:
            return None
        if len(payloads) != 1:
            raise MalformedFrame(
                self.name, channel, frame, "expected one payload", instrument.symbol
            )
        return instrument, self.decode(decoder, payloads[0], channel, frame, instrument.symbol)

    def _on_trades(
        self,
        instrument: Instrument,
        raw: list[list[str]],
        channel: str,
        frame: str | bytes,
        recv_ns: int,
        out: list[MarketEvent],
    ) -> None:
        symbol = instrument.symbol
        pd, sd = instrument.price_decimals, instrument.size_decimals
        parsed: list[tuple[int, int, int, Side]] = []
        try:
            for entry in raw:
                if len(entry) < 4:
                    raise MalformedFrame(self.name, channel, frame, f"bad trade {entry!r}", symbol)
                side = _SIDES.get(entry[3])
                if side is None:
                    raise BadValue(self.name, channel, frame, f"bad side {entry[3]!r}", symbol)
                size = parse_fixed(entry[1], sd)
                if size == 0:
                    raise BadValue(self.name, channel, frame, "trade of size 0", symbol)
                parsed.append(
                    (parse_fixed(entry[0], pd), size, parse_fixed(entry[2], TIME_DECIMALS), side)
                )
        except NumberFormatError as exc:
            raise BadValue(self.name, channel, frame, str(exc), symbol) from None
        last_ns, n = self._last_trade.get(symbol, (0, -1))
        for price, size, ts, side in parsed:
            n = n + 1 if ts == last_ns else 0
            last_ns = ts
            out.append(Trade(self.name, symbol, ts, recv_ns, price, size, side, f"{ts}-{n}"))
        self._last_trade[symbol] = (last_ns, n)

    def _on_ticker(
        self,
        instrument: Instrument,
        msg: _TickerPayload,
        channel: str,
        frame: str | bytes,
        recv_ns: int,
        out: list[MarketEvent],
    ) -> None:
        symbol = instrument.symbol
        pd, sd = instrument.price_decimals, instrument.size_decimals
        try:
            ticker = Ticker(
                self.name,
                symbol,
                0,  # v1 tickers carry no time
                recv_ns,
                last_price=parse_fixed(msg.c[0], pd),
                open_24h=parse_fixed(msg.o[1], pd),
                high_24h=parse_fixed(msg.h[1], pd),
                low_24h=parse_fixed(msg.l[1], pd),
                volume_24h=parse_fixed(msg.v[1], sd),
                best_bid=parse_fixed(msg.b[0], pd),
                best_ask=parse_fixed(msg.a[0], pd),
            )
        except NumberFormatError as exc:
            raise BadValue(self.name, channel, frame, str(exc), symbol) from None
        out.append(ticker)


__all__ = ["Kraken", "kraken_asset"]
