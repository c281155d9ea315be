"""The shape every venue connector has.

A connector turns what the venue says into normalized events and keeps one exact ``L2Book`` per
subscribed instrument in sync by the venue's own rules. It does no I/O: the live transport, the
capture replay and the tests all hand it the same four kinds of input,

- ``on_open(conn, url)``: a WebSocket connection was opened (its URL may carry subscriptions),
- ``on_sent(conn, text)``: a frame the client sent (subscriptions),
- ``on_frame(conn, frame, recv_ns, out)``: a frame received,
- ``on_rest(url, body, recv_ns, out)``: a REST response it asked for (book snapshots),

and read ``resync_requests`` to learn which books need a fresh snapshot. A connector validates a
whole frame before it changes anything, and raises a ``FrameError`` for bad input; ``feed`` (in
this module) catches exactly that, counts it, resyncs the book it concerned and goes on.

The live API (what ``orderscope.live`` asks of every connector, as plain data, still no I/O):
``endpoints`` (configurable, so the emulator needs no code change), ``instruments_urls``,
``connections`` (URLs, subscribe frames and symbols, within ``limits``), ``snapshot_url`` (REST
snapshots) or ``resubscribe_frames`` (venues that send snapshots on subscribe), ``keepalive``
(the venue's ping and silence rules), ``replies`` (frames to send back, e.g. pongs) and
``reconnect_requested`` (the venue announced that it will close the connection).
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections import Counter, deque
from collections.abc import Callable, Iterable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from typing import Any, ClassVar, Final, Self, TypeVar

import msgspec
from mypy_extensions import mypyc_attr

from orderscope.book import L2Book
from orderscope.capture import CaptureRecord, RecordKind
from orderscope.errors import (
    BadValue,
    FrameError,
    MalformedFrame,
    UnknownSymbol,
    UnsubscribedChannel,
)
from orderscope.fixed import NATIVE_PAIRS, NumberFormatError, parse_fixed, parse_fixed_many
from orderscope.model import BookState, BookStatus, Instrument, Level, MarketEvent

# Enum members as module constants: on Python 3.11 ``BookState.SYNCED`` goes through
# EnumType.__getattr__ (a Python-level lookup, ~0.3 us a time); a global is a dict read.
_SYNCED = BookState.SYNCED
_OUT_OF_SYNC = BookState.OUT_OF_SYNC

log = logging.getLogger("orderscope.venues")
#: From this many levels on, ``parse_levels`` parses prices and sizes as two batches
#: (``parse_fixed_many``, fastest for snapshots); below, level by level through the memo, which
#: wins on diffs, whose prices (and many sizes) were seen in earlier frames.
BATCH_LEVELS = 32
#: Distinct strings remembered per precision by ``parse_levels`` before it starts afresh.
PARSE_MEMO_LIMIT = 50_000
T = TypeVar("T")
MAX_PENDING_REPLIES = 64


@dataclass(slots=True)
class FeedStats:
    """Frame-level counters of one venue feed."""

    frames: int = 0  # frames received
    control_frames: int = 0  # acks, heartbeats, status messages
    ignored_frames: int = 0  # subscribed data orderscope does not normalize, or filtered out
    rest_responses: int = 0
    reconnect_requests: int = 0  # the venue asked the client to reconnect
    errors: Counter[str] = field(default_factory=Counter)  # by FrameError.kind
    recent_errors: deque[FrameError] = field(default_factory=lambda: deque(maxlen=20))


@mypyc_attr(native_class=False)  # a set subclass: mypyc cannot make it native
class Subscriptions(set[tuple[str, str]]):
    """The (channel, venue symbol) pairs a session is subscribed to: a set that tells its venue
    when it changes, so that the routes ``Venue.attribute`` keeps are computed again."""

    __slots__ = ("_changed",)

    def __init__(self, changed: Callable[[], None]) -> None:
        super().__init__()
        self._changed = changed

    def add(self, element: tuple[str, str]) -> None:
        super().add(element)
        self._changed()

    def discard(self, element: object) -> None:
        super().discard(element)
        self._changed()

    def remove(self, element: tuple[str, str]) -> None:
        super().remove(element)
        self._changed()

    def pop(self) -> tuple[str, str]:
        element = super().pop()
        self._changed()
        return element

    def clear(self) -> None:
        super().clear()
        self._changed()

    def update(self, *others: Iterable[tuple[str, str]]) -> None:
        super().update(*others)
        self._changed()

    def difference_update(self, *others: Iterable[Any]) -> None:
        super().difference_update(*others)
        self._changed()

    def intersection_update(self, *others: Iterable[Any]) -> None:
        super().intersection_update(*others)
        self._changed()

    def symmetric_difference_update(self, other: Iterable[tuple[str, str]]) -> None:
        super().symmetric_difference_update(other)
        self._changed()

    def __ior__(self, other: AbstractSet[tuple[str, str]]) -> Self:  # type: ignore[override,misc]
        self.update(other)
        return self

    def __iand__(self, other: AbstractSet[object]) -> Self:
        self.intersection_update(other)
        return self

    def __isub__(self, other: AbstractSet[object]) -> Self:
        self.difference_update(other)
        return self

    def __ixor__(self, other: AbstractSet[tuple[str, str]]) -> Self:  # type: ignore[override,misc]
        self.symmetric_difference_update(other)
        return self


@dataclass(frozen=True, slots=True)
class Endpoints:
    """Where a venue lives. Configurable, so a live session can point at the emulator."""

    #: Bases of the URLs, to which each connector appends the venue's documented paths
    #: (``/stream?streams=...``, ``/ws/v5/public``, ``/api/v3/depth``...).
    ws: str  # e.g. wss://stream.binance.com:9443
    rest: str  # e.g. https://api.binance.com


@dataclass(frozen=True, slots=True)
class KeepAlive:
    """How a connection to the venue stays alive, and when a silent one counts as dead."""

    #: the text frame the client sends after ``ping_after_s`` without receiving anything (None:
    #: the venue needs none, because it pings or sends heartbeats itself)
    ping_text: str | None = None
    ping_after_s: float = 20.0
    #: nothing received for this long: the feed is stale (None: the session's setting decides)
    stale_after_s: float | None = None


@dataclass(frozen=True, slots=True)
class SubscribeLimits:
    """The venue's documented limits on connections and subscriptions (None: none documented)."""

    #: channels one connection may carry: ``connections()`` cuts its batches by it
    channels_per_connection: int | None = None
    #: frames the client may send on one connection per second: the live session paces them
    requests_per_second: float | None = None
    #: new connections one IP may open per minute: the live session paces them
    connections_per_minute: int | None = None


@dataclass(frozen=True, slots=True)
class Connection:
    """One WebSocket connection a live session opens: its URL and the frames to send first."""

    url: str
    subscribe: tuple[str, ...] = ()
    symbols: tuple[str, ...] = ()  # unified symbols whose data arrives on this connection


@mypyc_attr(allow_interpreted_subclasses=True)  # binance, okx, huobi, bybit, tests
class Venue(ABC):
    """A venue connector. Subclasses set ``name`` and implement the parsing."""

    name: ClassVar[str]  # registry key, lower case: "binance"
    capture_prefix: ClassVar[str]  # file prefix in captures: "BINANCE"
    #: The protocol this connector speaks, said out loud (venues move on).
    protocol: ClassVar[str] = ""
    default_endpoints: ClassVar[Endpoints]
    keepalive: ClassVar[KeepAlive] = KeepAlive()
    limits: ClassVar[SubscribeLimits] = SubscribeLimits()
    #: REST requests per second the shared HTTP client allows itself towards this venue.
    rest_requests_per_second: ClassVar[float] = 2.0

    def __init__(
        self,
        instruments: Iterable[Instrument],
        symbols: Iterable[str] | None = None,
        *,
        endpoints: Endpoints | None = None,
    ) -> None:
        self.endpoints = endpoints if endpoints is not None else self.default_endpoints
        #: frames the connector wants sent back on a connection (pongs), oldest first:
        #: (conn, frame). A live transport drains it after each frame; replay never does, so
        #: it is bounded.
        self.replies: deque[tuple[int, str]] = deque(maxlen=MAX_PENDING_REPLIES)
        #: the venue announced that it will close a connection (a restart, an upgrade): the
        #: live transport reopens the connection whose frame set it, and clears the flag
        self.reconnect_requested = False
        self.instruments: dict[str, Instrument] = {}
        self.by_venue_symbol: dict[str, Instrument] = {}
        for instrument in instruments:
            self.instruments[instrument.symbol] = instrument
            self.by_venue_symbol[instrument.venue_symbol] = instrument
        wanted = set(symbols) if symbols is not None else None
        if wanted is not None:
            unknown = wanted - self.instruments.keys()
            if unknown:
                raise UnknownSymbol(
                    self.name, "config", ",".join(sorted(unknown)), "not listed by the venue"
                )
        self.symbols = wanted  # None: every instrument the session subscribed to
        self.books: dict[str, L2Book] = {}
        #: data frames per unified symbol, read through ``symbol_frames``. A dict, not a
        #: Counter: Counter defines __delitem__ in Python, which makes every
        #: ``counter[key] = n`` a Python-level slot call (about a thousand instructions, on
        #: every frame).
        self._symbol_frames: dict[str, int] = {}
        self.stats = FeedStats()
        #: attribute()'s answers: channel -> venue symbol -> the instrument (None: filtered
        #: out by ``symbols``), for pairs found subscribed; forgotten when subscriptions change
        self._routes: dict[str, dict[str, Instrument | None]] = {}
        self._subscriptions = Subscriptions(self._routes.clear)
        self.resync_requests: set[str] = set()  # unified symbols that need a snapshot
        self._logged: set[tuple[str, str, str]] = set()
        #: decimals -> {text: parse_fixed(text, decimals)}: the same prices (and many sizes)
        #: come back frame after frame, and a dict hit costs a tenth of a parse.
        self._parse_memo: dict[int, dict[str, int]] = {}
        #: (price decimals, size decimals) -> the two memos, found with one lookup per call
        self._parse_memo_pairs: dict[tuple[int, int], tuple[dict[str, int], dict[str, int]]] = {}

    @property
    def subscriptions(self) -> Subscriptions:
        """(channel, venue symbol) pairs subscribed to. Mutate it; it cannot be replaced."""
        return self._subscriptions

    @property
    def symbol_frames(self) -> dict[str, int]:
        """Data frames per unified symbol (the dict itself: counting goes on into it)."""
        self._fold_frame_counts()
        return self._symbol_frames

    def _fold_frame_counts(self) -> None:  # noqa: B027 - optional hook
        """Add to ``_symbol_frames`` the frames a connector counted elsewhere. Bitfinex and
        Coinbase count their hot frames on the route record of the channel or product (a
        field increment, where a dict get and set cost about 430 instructions a frame) and
        fold them here, and before they drop a route."""

    # -- the inputs ------------------------------------------------------------------------

    @classmethod
    @abstractmethod
    def parse_instruments(cls, url: str, body: str | bytes) -> list[Instrument]:
        """Instruments from one of the venue's exchange-info REST responses."""

    def on_open(self, conn: int, url: str, recv_ns: int) -> None:  # noqa: B027 - optional hook
        """A connection opened; venues that subscribe in the URL read it here."""

    def on_sent(self, conn: int, text: str, recv_ns: int) -> None:  # noqa: B027 - optional hook
        """A frame the client sent; venues record the subscriptions in it."""

    @abstractmethod
    def on_frame(self, conn: int, frame: str | bytes, recv_ns: int, out: list[MarketEvent]) -> None:
        """Handle one received frame, appending the events it makes to ``out``."""

    def on_rest(self, url: str, body: str | bytes, recv_ns: int, out: list[MarketEvent]) -> None:
        """Handle a REST response (a book snapshot). Venues without REST snapshots ignore it."""
        self.stats.rest_responses += 1

    # -- what a live session needs ---------------------------------------------------------

    @classmethod
    def instruments_urls(cls, endpoints: Endpoints) -> list[str]:
        """REST URLs whose responses ``parse_instruments`` reads."""
        return []

    def connections(self, instruments: Sequence[Instrument]) -> list[Connection]:
        """The WebSocket connections (URL and subscribe frames) for these instruments."""
        raise NotImplementedError(f"{self.name}: live sessions are not supported yet")

    def poll_urls(self, instruments: list[Instrument]) -> list[tuple[str, float]]:
        """REST URLs a live session fetches every N seconds and hands to ``on_rest`` (data a
        venue publishes over REST only, such as Binance's open interest)."""
        return []

    def snapshot_url(self, instrument: Instrument) -> str | None:
        """The REST URL of a book snapshot, or None when the venue sends snapshots itself."""
        return None

    def resubscribe_frames(self, instrument: Instrument) -> list[str]:
        """Frames that make the venue send a fresh snapshot (venues without REST snapshots).

        None are needed where every book message is a whole book (HTX)."""
        return []

    # -- helpers for subclasses ------------------------------------------------------------

    def request_reconnect(self) -> None:
        """The venue said it will close the connection soon: ask the transport for a new one."""
        self.reconnect_requested = True
        self.stats.reconnect_requests += 1

    def wants(self, symbol: str) -> bool:
        return self.symbols is None or symbol in self.symbols

    def instrument(self, venue_symbol: str, channel: str, frame: str | bytes) -> Instrument:
        try:
            return self.by_venue_symbol[venue_symbol]
        except KeyError:
            raise UnknownSymbol(
                self.name, channel, frame, f"unknown symbol {venue_symbol!r}"
            ) from None

    def attribute(self, channel: str, venue_symbol: str, frame: str | bytes) -> Instrument | None:
        """The instrument a data frame is about, checked against the subscriptions.

        Raises UnknownSymbol / UnsubscribedChannel; returns None (and counts the frame as
        ignored) when the instrument is filtered out by ``symbols``. Counts the frame for the
        symbol otherwise.
        """
        # Once per frame: a pair found subscribed is remembered (``_route``), so the next frame
        # costs two dict lookups instead of three calls and a tuple.
        try:
            instrument = self._routes[channel][venue_symbol]
        except KeyError:
            instrument = self._route(channel, venue_symbol, frame)
        if instrument is None:
            self.stats.ignored_frames += 1
            return None
        frames = self._symbol_frames
        symbol = instrument.symbol
        frames[symbol] = frames.get(symbol, 0) + 1
        return instrument

    def _route(self, channel: str, venue_symbol: str, frame: str | bytes) -> Instrument | None:
        """``attribute``'s checks for a pair not seen since the subscriptions last changed."""
        instrument = self.instrument(venue_symbol, channel, frame)
        self.check_subscribed(channel, instrument, frame)  # a subclass may check otherwise
        route = instrument if self.wants(instrument.symbol) else None
        self._routes.setdefault(channel, {})[venue_symbol] = route
        return route

    def parse_levels(
        self,
        raw: Sequence[tuple[str, str]] | Sequence[list[str]],
        instrument: Instrument,
        frame: str | bytes,
        channel: str,
        *,
        book: bool = True,
    ) -> list[Level]:
        """Decimal-string (price, size) pairs -> exact scaled ints, or BadValue."""
        pd, sd = instrument.price_decimals, instrument.size_decimals
        try:
            if NATIVE_PAIRS is not None:  # the C kernel: faster than the memos below
                return NATIVE_PAIRS(raw, pd, sd)
            if len(raw) >= BATCH_LEVELS:
                # strict: every level has as many fields as the first; unpacking: exactly two.
                price_texts, size_texts = zip(*raw, strict=True)
                prices = parse_fixed_many(price_texts, pd)
                return list(zip(prices, parse_fixed_many(size_texts, sd), strict=True))
            # No call on this path (diffs are small and many): the memos are looked up and
            # kept bounded inline.
            known_prices, known_sizes = self._parse_memo_pairs.get((pd, sd)) or self._memos(pd, sd)
            levels: list[Level] = []
            for p, q in raw:
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
                levels.append((price, size))
            return levels
        except NumberFormatError as exc:
            raise BadValue(
                self.name, channel, frame, str(exc), instrument.symbol, book=book
            ) from None
        except ValueError as not_pair:  # a level that is not a pair (own name: mypyc types
            # a handler's variable by the first handler that binds it)
            raise MalformedFrame(
                self.name, channel, frame, f"bad level: {not_pair}", instrument.symbol, book=book
            ) from None

    def level_memos(self, pd: int, sd: int, room: int) -> tuple[dict[str, int], dict[str, int]]:
        """The memos ``parse_levels`` reads prices at ``pd`` and sizes at ``sd`` decimals
        through (text -> ``parse_fixed(text, decimals)``), each with room for ``room`` more
        texts: look a text up, and store its value when it is missing. For connectors whose
        levels are not (price, size) pairs. A memo that is full starts afresh."""
        pair = self._parse_memo_pairs.get((pd, sd)) or self._memos(pd, sd)
        prices, sizes = pair
        if len(prices) > PARSE_MEMO_LIMIT - room:
            prices.clear()
        if len(sizes) > PARSE_MEMO_LIMIT - room:
            sizes.clear()
        return pair

    def _memos(self, pd: int, sd: int) -> tuple[dict[str, int], dict[str, int]]:
        memo = self._parse_memo
        pair = self._parse_memo_pairs[pd, sd] = (memo.setdefault(pd, {}), memo.setdefault(sd, {}))
        return pair

    def check_subscribed(self, channel: str, instrument: Instrument, frame: str | bytes) -> None:
        if (channel, instrument.venue_symbol) not in self.subscriptions:
            raise UnsubscribedChannel(
                self.name,
                channel,
                frame,
                f"not subscribed to {channel} {instrument.venue_symbol}",
                instrument.symbol,
            )

    def book(self, instrument: Instrument, max_depth: int | None = None) -> L2Book:
        book = self.books.get(instrument.symbol)
        if book is None:
            book = self.books[instrument.symbol] = L2Book(instrument, max_depth)
        return book

    def decode(
        self,
        decoder: msgspec.json.Decoder[T],
        data: str | bytes | msgspec.Raw,
        channel: str,
        frame: str | bytes,
        symbol: str | None = None,
        *,
        book: bool = False,
    ) -> T:
        """Decode with a typed msgspec decoder, turning its errors into a MalformedFrame."""
        try:
            return decoder.decode(data)
        except msgspec.DecodeError as exc:
            raise MalformedFrame(self.name, channel, frame, str(exc), symbol, book=book) from None

    def out_of_sync(
        self,
        book: L2Book,
        reason: str,
        exch_ns: int,
        recv_ns: int,
        out: list[MarketEvent],
        *,
        gap: bool = True,
    ) -> None:
        """Flag a book as possibly wrong (a gap, a checksum mismatch, a bad frame)."""
        if gap:
            book.counters.gaps += 1
        self.resync_requests.add(book.instrument.symbol)
        if book.mark_out_of_sync():
            out.append(
                BookStatus(
                    self.name,
                    book.instrument.symbol,
                    exch_ns,
                    recv_ns,
                    _OUT_OF_SYNC,
                    reason,
                )
            )

    def synced(
        self,
        book: L2Book,
        was: BookState,
        exch_ns: int,
        recv_ns: int,
        out: list[MarketEvent],
        reason: str = "snapshot",
    ) -> None:
        """Announce that a snapshot made a book trustworthy again."""
        self.resync_requests.discard(book.instrument.symbol)
        if was is not _SYNCED:
            out.append(
                BookStatus(self.name, book.instrument.symbol, exch_ns, recv_ns, _SYNCED, reason)
            )

    def handle_error(self, error: FrameError, recv_ns: int, out: list[MarketEvent]) -> None:
        """Count a bad frame, log it once per kind, and resync the book it touched."""
        self.stats.errors[error.kind] += 1
        self.stats.recent_errors.append(error)
        key = (error.kind, error.channel, error.symbol or "")
        if key not in self._logged:
            self._logged.add(key)
            log.warning("%s", error)
        if error.symbol is None:
            return
        book = self.books.get(error.symbol)
        if book is not None:
            book.counters.errors += 1
            if error.book:
                self.out_of_sync(book, f"bad frame: {error.kind}", 0, recv_ns, out, gap=False)


def remember_float(
    memo: dict[float, int], value: float, parse: Callable[[float, int], int], decimals: int
) -> int:
    """``parse(value, decimals)`` for venues that send JSON numbers, kept in ``memo`` (which
    starts afresh when full). Only for float values: an int equal to a float hashes alike."""
    if len(memo) >= PARSE_MEMO_LIMIT:
        memo.clear()
    result = memo[value] = parse(value, decimals)
    return result


# Module constants, Final: compiled, each is a C static (a plain module global is a dict
# lookup on every record, about 130 instructions); interpreted, a global lookup, cheaper than
# an enum member looked up on its class.
_RECV: Final = RecordKind.RECV
_REST: Final = RecordKind.REST
_SENT: Final = RecordKind.SENT


def feed(venue: Venue, record: CaptureRecord, out: list[MarketEvent]) -> None:
    """Route one capture record (or live frame) to its connector, containing bad frames.

    On a ``FrameError`` the events the frame produced so far are dropped (the connector changed
    no state before raising), the error is counted and the affected book resynced.
    """
    kind = record.kind
    if kind is _RECV:
        venue.stats.frames += 1
        mark = len(out)
        try:
            venue.on_frame(record.conn, record.payload, record.recv_ns, out)
        except FrameError as error:
            del out[mark:]
            venue.handle_error(error, record.recv_ns, out)
    elif kind is _REST:
        mark = len(out)
        try:
            venue.on_rest(record.url, record.payload, record.recv_ns, out)
        except FrameError as error:
            del out[mark:]
            venue.handle_error(error, record.recv_ns, out)
    elif kind is _SENT:
        text = record.payload if isinstance(record.payload, str) else record.payload.decode()
        venue.on_sent(record.conn, text, record.recv_ns)
    else:
        venue.on_open(record.conn, record.url, record.recv_ns)


def batched(items: Sequence[T], size: int) -> list[list[T]]:
    """``items`` cut into consecutive lists of at most ``size`` (itertools.batched is 3.12+)."""
    if size < 1:
        raise ValueError("batch size must be >= 1")
    return [list(items[i : i + size]) for i in range(0, len(items), size)]


def grouped(items: Iterable[T], cost: Callable[[T], int], limit: int | None) -> list[list[T]]:
    """``items`` in order, cut into groups whose costs add up to at most ``limit`` (an item
    dearer than the limit alone makes a group); ``limit`` None: one group. This is how
    ``connections()`` spreads instruments over connections within a venue's limits."""
    groups: list[list[T]] = []
    used = 0
    for item in items:
        price = cost(item)
        if not groups or (limit is not None and used + price > limit):
            groups.append([])
            used = 0
        groups[-1].append(item)
        used += price
    return groups
