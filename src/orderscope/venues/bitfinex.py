"""Bitfinex v2: the public WebSocket (``book`` P0-P4, ``trades``, ``ticker``) and conf pair lists.

Protocol: ``wss://api-pub.bitfinex.com/ws/2`` (API v2, 2018-2026 message format). Channel data
are JSON arrays ``[CHAN_ID, PAYLOAD, ...]`` whose channel is known from the ``subscribed``
event; numbers are JSON numbers, not strings. Instruments come from
``/v2/conf/pub:list:pair:exchange`` (spot) and ``/v2/conf/pub:list:pair:future`` (perpetuals).

Numbers. Bitfinex quotes prices with 5 significant digits and at most 8 decimals, and amounts
with at most 8 decimals, so every instrument is kept at 8 price and 8 size decimals and each
float is checked to be such a decimal (``parse_fixed_float``). Some floats carry Bitfinex's own
rounding noise (``1.7023900800000002`` in tickers); they are still exact at 8 decimals.

Configuration flags (``{"event":"conf","flags":N}``, learned from the acknowledgement):

- ``SEQ_ALL`` (65536) appends a sequence number to every channel message of the connection.
  It must grow by exactly one: anything else is a gap, and since the lost message may have
  been any book's, every book of the connection is marked OUT_OF_SYNC and resynced. (The
  capture runs with this flag: 1,670 messages in sequence, and no checksum frames.)
- ``OB_CHECKSUM`` (131072) makes Bitfinex send ``[CHAN_ID, "cs", CHECKSUM]`` after book
  changes: the signed CRC32 of the top 25 bids and asks interleaved
  ``bid_price:bid_amount:ask_price:ask_amount:...``, numbers written as JavaScript writes them
  and ask amounts negative. Verified on every ``cs`` frame of a synced book; a mismatch marks
  the book OUT_OF_SYNC and asks for a resync (live: ``resubscribe_frames`` resubscribes).

Books. A snapshot lists bids (amount > 0) then asks (amount < 0); an update
``[PRICE, COUNT, AMOUNT]`` sets the level's size ``|AMOUNT|`` on the side of its sign, and
``COUNT == 0`` deletes the level (``AMOUNT`` 1 from the bids, -1 from the asks). Bitfinex keeps
the book at the subscribed length itself (it deletes the levels that fall out).

Trades. ``te`` (executed) and ``tu`` (updated) announce the same trade; only ``te`` makes a
Trade (it comes first), ``tu`` is counted as ignored. The amount's sign is the taker's side. The
trade snapshot sent on subscribing is history: on the first subscription it only records the
last trade id; after a resubscription it fills in the trades missed meanwhile (ids above it).

Speed. In a compiled build, ``orderscope._bitfinex`` (C) reads book updates, book snapshots,
heartbeats and trade snapshots in their plain shape straight from the text into exact ints;
for any other frame it returns None and the msgspec Structs (``venues.bitfinex_wire``) parse
it, as they do every frame in a pure run (docs/PERFORMANCE.md, "Bitfinex's channel frames in C").
A book channel, once routed, has a ``_Route`` (its book, symbol, noisy dicts, counters) in its
connection's ``routes``; ``book_update`` reads an update and finds that route in one C call
(docs/PERFORMANCE.md, "Round 3: Bitfinex").
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import ClassVar, Final

import msgspec

from orderscope._compiled import kernel
from orderscope.book import L2Book
from orderscope.errors import (
    BadValue,
    MalformedFrame,
    UnsubscribedChannel,
    VenueErrorMessage,
)
from orderscope.fixed import POW10, NumberFormatError, parse_fixed_float
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
from orderscope.symbols import unified_symbol
from orderscope.venues.base import (
    Connection,
    Endpoints,
    KeepAlive,
    SubscribeLimits,
    Subscriptions,
    Venue,
    grouped,
    remember_float,
)
from orderscope.venues.bitfinex_wire import (
    _BOOK_SNAPSHOT,
    _BOOK_UPDATE,
    _CHECKSUM,
    _EVENT,
    _HEARTBEAT,
    _PAIR_LIST,
    _TICKER,
    _TRADE,
    _TRADE_SNAPSHOT,
    _Event,
    _Level,
    _TradeRow,
)
from orderscope.venues.checksum import (
    CHECKSUM_DEPTH,
    interleave,
    js_decimal_text,
    js_number_text,
    signed_crc32,
)

_TradeInts = tuple[int, int, int, int, int]
_Scanned = tuple[
    int, int | None, int, int, list[tuple[int, int]] | None, list[tuple[int, int]] | None
]
#: ``orderscope._bitfinex.scan`` (C: a book update, book snapshot or heartbeat in its plain
#: shape -> ``(chan_id, seq, price, side, bids, asks)``, side 2 for a snapshot, bids None for a
#: heartbeat; None for anything else), or None in a pure build or run. What it returns is what
#: the msgspec path below makes of the same frame.
SCAN: Callable[[str | bytes], _Scanned | None] | None = kernel("_bitfinex", "scan")
#: ``orderscope._bitfinex.scan_trades`` (C: a trade snapshot in its plain shape -> ``(seq, rows)``
#: of ``(id, mts, price, size, buy)`` as ``_trade`` reads them; None otherwise), or None.
SCAN_TRADES: Callable[[str | bytes], tuple[int | None, list[_TradeInts]] | None] | None = kernel(
    "_bitfinex", "scan_trades"
)
#: ``orderscope._bitfinex.trade_ids`` (C: a trade snapshot checked as ``SCAN_TRADES`` checks it ->
#: ``(seq, newest id or None)``; None otherwise), or None: a first subscription's history.
TRADE_IDS: Callable[[str | bytes], tuple[int | None, int | None] | None] | None = kernel(
    "_bitfinex", "trade_ids"
)
#: ``orderscope._bitfinex.book_update`` (C: a one-level book update with its sequence number, in
#: its plain shape, on a routed channel -> ``(route, seq, bids, asks)`` as ``SCAN`` reads it; None
#: otherwise), or None.
BOOK_UPDATE: (
    Callable[[str | bytes, dict[int, _Route]], tuple[_Route, int, list[Level], list[Level]] | None]
    | None
) = kernel("_bitfinex", "book_update")

# Enum members as module constants: on Python 3.11 ``BookState.SYNCED`` goes through
# EnumType.__getattr__ (a Python-level lookup, ~0.3 us a time); a global is a dict read.
_SYNCED: Final = BookState.SYNCED
_BUY: Final = Side.BUY
_SELL: Final = Side.SELL
_BOOK_DELTA: Final = BookDelta  # a C static in the compiled module, not a globals lookup

MS = 1_000_000  # nanoseconds per millisecond
DECIMALS = 8  # prices (5 significant digits, at most 8 decimals) and amounts (8 decimals)
SCALE = 10**DECIMALS
_SNAPSHOT_SECOND = frozenset("[]")
_SNAPSHOT_SIDE: Final = 2  # the scanner's "side" of a snapshot
FLAG_SEQ_ALL: Final = 65536
FLAG_OB_CHECKSUM = 131072
INFO_RESTART = 20051  # the server restarts: reconnect
INFO_MAINTENANCE_START = 20060  # pause until 20061
INFO_MAINTENANCE_END = 20061  # resubscribe everything
CHANNELS = ("book", "trades", "ticker")

#: Bitfinex's own currency codes -> the common ones (UST -> USDT is in symbols.ASSET_ALIASES).
CURRENCY_ALIASES = {
    "ALG": "ALGO",
    "AMP": "AMPL",
    "ATO": "ATOM",
    "DAT": "DATA",
    "DSH": "DASH",
    "EUT": "EURT",
    "IOT": "IOTA",
    "IQX": "IQ",
    "MNA": "MANA",
    "QSH": "QASH",
    "QTM": "QTUM",
    "SNG": "SNGLS",
    "STJ": "STORJ",
    "TSD": "TUSD",
    "UDC": "USDC",
    "VSY": "VSYS",
    "XCH": "XCHF",
    "YYW": "YOYOW",
}


@dataclass(slots=True)
class _Tally:
    sequenced: int = 0  # frames whose SEQ_ALL number was checked (``sequenced_frames``)


@dataclass(slots=True)
class _Route:
    """What a book update needs of its channel, found once: the fast path in ``on_frame`` reads
    these fields (compiled: C struct reads) instead of the venue's attributes (each a dict
    lookup on an interpreted base class: ~120 instructions) and three dicts. Set on a book
    channel (``_Connection.routes``) once ``attribute()`` routed it (checked subscribed and
    wanted) and its book exists; dropped when the subscriptions change
    (``Bitfinex._subscriptions_changed``), as the base class drops its routes."""

    venue: str
    instrument: Instrument
    symbol: str
    book: L2Book
    #: the symbol's noisy amounts (``Bitfinex._noisy[symbol]``, kept in place), two fields: a
    #: tuple field is unboxed in compiled code and boxed again (a new tuple) on each read
    noisy_bids: dict[int, float]
    noisy_asks: dict[int, float]
    tally: _Tally
    #: frames counted here, not yet in the venue's ``_symbol_frames``: one field increment per
    #: frame instead of a dict get and set; ``Bitfinex._fold_frame_counts`` adds them there
    unfolded_frames: int = 0


@dataclass(slots=True)
class _Channel:
    name: str  # as subscribed: "book", "trades", "ticker", "candles", ...
    kind: str  # what orderscope makes of it: the name, or "raw book" for R0 books
    instrument: Instrument


@dataclass(slots=True)
class _Connection:
    flags: int = 0
    #: the last SEQ_ALL number, once ``sequenced``: an ``int`` field (``int | None`` would keep
    #: it boxed, and storing each new number would allocate an int object)
    last_seq: int = 0
    sequenced: bool = False
    channels: dict[int, _Channel] = field(default_factory=dict)
    #: the routed book channels (chan_id -> _Route), what ``BOOK_UPDATE`` looks its frame up in
    routes: dict[int, _Route] = field(default_factory=dict)


def _common(code: str) -> str:
    return CURRENCY_ALIASES.get(code, code)


def _number(value: float) -> int:
    """A non-negative JSON number as an int at 8 decimals (NumberFormatError otherwise)."""
    return parse_fixed_float(value, DECIMALS)


def _remembered(numbers: dict[float, int], value: float) -> int:
    """``_number(value)`` through the venue's memo of floats (``Bitfinex._numbers``): ticker
    prices are mostly book prices seen already. A memo holds only numbers that parsed, so a bad
    value still raises the same error."""
    known = numbers.get(value)
    if known is None:
        known = remember_float(numbers, value, parse_fixed_float, DECIMALS)
    return known


def _trailing_int(text: str) -> int | None:
    """The last element of a JSON array frame if it is an integer (the SEQ_ALL number)."""
    tail = text[text.rfind(",") + 1 :].rstrip().removesuffix("]").strip()
    return int(tail) if tail.isdigit() and tail.isascii() else None


def price_tick(price: int) -> int:
    """The price step at ``price`` (8-decimal units): 5 significant digits, at most 8 decimals."""
    digits = len(str(price)) if price > 0 else 1
    return max(1, POW10[max(0, digits - 5)])


def _trade_id(row: _TradeInts) -> int:
    return row[0]


class Bitfinex(Venue):
    name = "bitfinex"
    capture_prefix = "BITFINEX"
    protocol = "Bitfinex API v2 public WebSocket + REST /v2/conf pair lists (2018-2026 format)"

    default_endpoints = Endpoints("wss://api-pub.bitfinex.com", "https://api-pub.bitfinex.com")
    ws_path: ClassVar[str] = "/ws/2"
    # Bitfinex sends a heartbeat on every channel each 15 s; {"event":"ping"} is answered too.
    keepalive = KeepAlive(
        ping_text='{"event":"ping","cid":1}', ping_after_s=20.0, stale_after_s=30.0
    )
    # 25 channels a connection, 20 connections a minute; the request rate is not documented.
    limits = SubscribeLimits(channels_per_connection=25, connections_per_minute=20)
    flags: ClassVar[int] = FLAG_SEQ_ALL | FLAG_OB_CHECKSUM

    def __init__(
        self,
        instruments: Iterable[Instrument],
        symbols: Iterable[str] | None = None,
        *,
        endpoints: Endpoints | None = None,
        book_length: int = 25,
    ) -> None:
        super().__init__(instruments, symbols, endpoints=endpoints)
        self.book_length = book_length
        self._tally = _Tally()
        # The base class's routes are forgotten when the subscriptions change; so are the
        # channels' (_Route). The set is still empty: replacing it loses nothing.
        self._subscriptions = Subscriptions(self._subscriptions_changed)
        self._conns: dict[int, _Connection] = {}
        self._last_trade_id: dict[str, int] = {}
        # Amounts whose float is not the nearest float of its 8-decimal value (venue rounding
        # noise): the checksum hashes the float as sent. symbol -> (bids, asks) price -> float
        self._noisy: dict[str, tuple[dict[int, float], dict[int, float]]] = {}
        #: float -> ``_number(float)``: prices and amounts come back frame after frame
        self._numbers: dict[float, int] = {}
        #: the connection of the last frame, and its state (``_connection``, ``on_open``)
        self._last_conn = 0
        self._last_state: _Connection | None = None
        #: ``BOOK_UPDATE``, read once: a field read per frame, where a module global that is
        #: not Final costs a dict lookup in compiled code (tests set the global before)
        self._book_update = BOOK_UPDATE

    @property
    def sequenced_frames(self) -> int:
        """Frames whose SEQ_ALL number was checked."""
        return self._tally.sequenced

    def _subscriptions_changed(self) -> None:
        self._routes.clear()
        self._fold_frame_counts()
        for state in self._conns.values():
            state.routes.clear()

    def _fold_frame_counts(self) -> None:
        for state in self._conns.values():
            for route in state.routes.values():
                self._fold_route(route)

    def _fold_route(self, route: _Route) -> None:
        """The route's frame count into ``_symbol_frames`` (before a read, or the route goes)."""
        if route.unfolded_frames:
            frames = self._symbol_frames
            frames[route.symbol] = frames.get(route.symbol, 0) + route.unfolded_frames
            route.unfolded_frames = 0

    # -- instruments -----------------------------------------------------------------------

    @classmethod
    def parse_instruments(cls, url: str, body: str | bytes) -> list[Instrument]:
        if url.endswith("pub:list:pair:exchange"):
            perpetual = False
        elif url.endswith("pub:list:pair:future"):
            perpetual = True
        else:
            return []  # currencies, margin pairs: nothing new to trade
        instruments = []
        for pairs in _PAIR_LIST.decode(body):
            for pair in pairs:
                instrument = cls._instrument(pair, perpetual)
                if instrument is not None:
                    instruments.append(instrument)
        return instruments

    @classmethod
    def _instrument(cls, pair: str, perpetual: bool) -> Instrument | None:
        if ":" in pair:
            base, _, quote = pair.partition(":")
        elif len(pair) == 6:
            base, quote = pair[:3], pair[3:]
        else:
            return None
        if perpetual:  # BTCF0:USTF0: the F0 suffix marks the derivative currencies
            base, quote = base.removesuffix("F0"), quote.removesuffix("F0")
        base, quote = _common(base), _common(quote)
        kind = InstrumentKind.LINEAR_PERPETUAL if perpetual else InstrumentKind.SPOT
        symbol = unified_symbol(base, quote, kind)
        return Instrument(
            venue=cls.name,
            symbol=symbol,
            venue_symbol=f"t{pair}",
            base=base,
            quote=quote,
            kind=kind,
            price_decimals=DECIMALS,
            size_decimals=DECIMALS,
            tick_size=1,  # the finest; the real step depends on the price: see price_tick()
            lot_size=1,
            settle=symbol.partition(":")[2] or None,
        )

    # -- what a live session sends ---------------------------------------------------------

    @classmethod
    def instruments_urls(cls, endpoints: Endpoints) -> list[str]:
        return [f"{endpoints.rest}/v2/conf/pub:list:pair:{kind}" for kind in ("exchange", "future")]

    def connections(self, instruments: Sequence[Instrument]) -> list[Connection]:
        """Connections of at most ``limits.channels_per_connection`` channels (8 instruments of
        3), each opening with the conf frame (sequence numbers and checksums on), then the
        book, trades and ticker subscriptions of each instrument."""
        conf = msgspec.json.encode({"event": "conf", "flags": self.flags}).decode()
        url = self.endpoints.ws + self.ws_path
        limit = self.limits.channels_per_connection
        return [
            Connection(
                url,
                (
                    conf,
                    *(self._subscribe_frame(c, i.venue_symbol) for i in group for c in CHANNELS),
                ),
                tuple(i.symbol for i in group),
            )
            for group in grouped(instruments, lambda _: len(CHANNELS), limit)
        ]

    def resubscribe_frames(self, instrument: Instrument) -> list[str]:
        """Unsubscribe the book channel and subscribe it again: a fresh snapshot follows."""
        frames = [
            msgspec.json.encode({"event": "unsubscribe", "chanId": chan_id}).decode()
            for conn in self._conns.values()
            for chan_id, channel in conn.channels.items()
            if channel.kind == "book" and channel.instrument is instrument
        ]
        return [*frames, self._subscribe_frame("book", instrument.venue_symbol)]

    def _subscribe_frame(self, channel: str, venue_symbol: str) -> str:
        request: dict[str, str] = {"event": "subscribe", "channel": channel, "symbol": venue_symbol}
        if channel == "book":
            request |= {"prec": "P0", "freq": "F0", "len": str(self.book_length)}
        return msgspec.json.encode(request).decode()

    # -- connections and subscriptions -----------------------------------------------------

    def on_open(self, conn: int, url: str, recv_ns: int) -> None:
        old = self._conns.get(conn)
        if old is not None:
            for route in old.routes.values():
                self._fold_route(route)
        # channel ids and sequence numbers start afresh
        state = self._conns[conn] = _Connection()
        if conn == self._last_conn:
            self._last_state = state

    def on_sent(self, conn: int, text: str, recv_ns: int) -> None:
        try:
            request = msgspec.json.decode(text)
        except msgspec.DecodeError:
            return
        # The conf flags and unsubscriptions take effect on Bitfinex's acknowledgement.
        if isinstance(request, dict) and request.get("event") == "subscribe":
            self.subscriptions.add((str(request.get("channel")), str(request.get("symbol"))))

    def _connection(self, conn: int) -> _Connection:
        """The connection's state, made on its first frame if need be, and remembered as the
        last connection's (``on_frame``)."""
        state = self._conns.get(conn)
        if state is None:
            state = self._conns[conn] = _Connection()
        self._last_conn = conn
        self._last_state = state
        return state

    # -- frames ----------------------------------------------------------------------------

    def on_frame(self, conn: int, frame: str | bytes, recv_ns: int, out: list[MarketEvent]) -> None:
        # The fast path: 94% of the capture's frames are one-level book updates. The C kernel
        # parses them (exactly as the msgspec path would, or not at all) and finds their
        # channel's route; what follows is attribute(), _sequence and _on_book's update branch,
        # inline, on the route's fields. Any other frame takes the paths below, which parse it
        # again: nothing changed yet.
        # The last frame's connection is the next one's too, nearly always: two field reads
        # instead of boxing conn and a dict lookup.
        state = self._last_state
        if conn != self._last_conn or state is None:
            state = self._connection(conn)
        book_update = self._book_update
        hit = book_update(frame, state.routes) if book_update is not None else None
        if hit is not None:
            route, seq, bids, asks = hit
            route.unfolded_frames += 1
            symbol = route.symbol
            if state.flags & FLAG_SEQ_ALL and state.sequenced and seq - 1 == state.last_seq:
                state.last_seq = seq
                route.tally.sequenced += 1
            else:  # a gap, the first one, or SEQ_ALL off
                self._sequence(conn, state, seq, frame, recv_ns, out)
            l2 = route.book
            if l2.state is not _SYNCED:
                l2.counters.skipped_deltas += 1
                return
            l2.apply_delta(bids, asks)
            known = route.noisy_bids if bids else route.noisy_asks
            if known:  # a scanned amount is never noisy, but it replaces a noisy one
                known.pop((bids or asks)[0][0], None)
            out.append(_BOOK_DELTA(route.venue, symbol, 0, recv_ns, bids, asks))
            return
        # A book snapshot, a heartbeat, or an update not routed yet: the C scanner reads them
        # (or returns None); a book channel's first update routes it.
        scan = SCAN
        scanned = scan(frame) if scan is not None else None
        if scanned is not None:
            channel_id, seq_or_none, _, side, bids_or_none, asks_or_none = scanned
            if bids_or_none is None or asks_or_none is None:  # a heartbeat
                self._sequence(conn, state, seq_or_none, frame, recv_ns, out)
                self.stats.control_frames += 1
                return
            channel = state.channels.get(channel_id)
            if (
                channel is not None
                and channel.kind == "book"
                and (self.symbols is None or channel.instrument.symbol in self.symbols)
            ):
                instrument = self.attribute(channel.name, channel.instrument.venue_symbol, frame)
                if instrument is None:
                    return
                bids, asks = bids_or_none, asks_or_none
                if side == _SNAPSHOT_SIDE:
                    self._snapshot(
                        conn, state, instrument, bids, asks, [], seq_or_none, frame, recv_ns, out
                    )
                else:
                    self._sequence(conn, state, seq_or_none, frame, recv_ns, out)
                    self._update(instrument, bids, asks, [], recv_ns, out)
                old = state.routes.get(channel_id)
                if old is not None:
                    self._fold_route(old)
                state.routes[channel_id] = self._route_of(instrument)
                return
        try:
            text = frame if isinstance(frame, str) else frame.decode()
        except UnicodeDecodeError:
            raise MalformedFrame(self.name, "?", frame, "not UTF-8") from None
        text = text.strip()
        # Characters compared by one-character slices: str.startswith parses its arguments
        # as a tuple (about 800 instructions a call in 3.11) and this runs on every frame.
        first = text[:1]
        if first == "{":
            self._on_event(conn, text, recv_ns, out)
            return
        head, comma, rest = text.partition(",")  # (str.find, like startswith, parses a tuple)
        try:
            chan_id = int(head[1:]) if first == "[" and comma and head else None
        except ValueError:
            chan_id = None
        if chan_id is None:
            raise MalformedFrame(self.name, "?", text, "neither an event nor channel data")
        channel = state.channels.get(chan_id)
        rest = rest.lstrip()
        if rest[:1] == '"':
            tag = rest[1 : rest.find('"', 1)]
            if tag == "hb":  # heartbeats may come before their channel's "subscribed" event
                beat = self.decode(_HEARTBEAT, text, "heartbeat", text)
                self._sequence(conn, state, beat.seq, text, recv_ns, out)
                self.stats.control_frames += 1
                return
        else:
            tag = ""
        if channel is None:
            # Well-formed data on a channel this session never subscribed: its sequence number
            # still counts, so that dropping it is not mistaken for a gap later.
            trailing = _trailing_int(text)
            if trailing is not None:
                self._sequence(conn, state, trailing, text, recv_ns, out)
            raise UnsubscribedChannel(self.name, "?", text, f"no subscribed channel {chan_id}")
        handler = _HANDLERS.get(channel.kind)
        symbols = self.symbols  # wants(), inline: this runs on every frame
        if handler is None or (symbols is not None and channel.instrument.symbol not in symbols):
            # subscribed but not normalized (raw books, candles), or filtered out: its
            # sequence number still counts
            self._sequence(conn, state, _trailing_int(text), text, recv_ns, out)
            self.stats.ignored_frames += 1
            return
        instrument = self.attribute(channel.name, channel.instrument.venue_symbol, text)
        if instrument is None:
            return
        try:  # the handlers parse every number of a message before they change anything
            handler(self, conn, state, instrument, tag, rest, text, recv_ns, out)
        except NumberFormatError as exc:
            book = channel.kind == "book"
            raise BadValue(
                self.name, channel.name, text, str(exc), instrument.symbol, book=book
            ) from None

    def _sequence(
        self,
        conn: int,
        state: _Connection,
        seq: int | None,
        frame: str | bytes,
        recv_ns: int,
        out: list[MarketEvent],
    ) -> None:
        """Check SEQ_ALL continuity; called once a frame is known to be good, before using it."""
        if not state.flags & FLAG_SEQ_ALL:
            return
        if seq is None:
            raise MalformedFrame(self.name, "?", frame, "no sequence number while SEQ_ALL is on")
        last = state.last_seq if state.sequenced else None
        state.last_seq = seq
        state.sequenced = True
        self._tally.sequenced += 1
        if last is not None and seq != last + 1:
            reason = f"sequence gap (last {last}, got {seq})"
            for book in self._books_of(state):
                self.out_of_sync(book, reason, 0, recv_ns, out)

    def _no_noise(self, symbol: str) -> tuple[dict[int, float], dict[int, float]]:
        known: tuple[dict[int, float], dict[int, float]] = ({}, {})
        self._noisy[symbol] = known
        return known

    def _books_of(self, state: _Connection) -> list[L2Book]:
        return [
            self.books[c.instrument.symbol]
            for c in state.channels.values()
            if c.kind == "book" and c.instrument.symbol in self.books
        ]

    # -- events ----------------------------------------------------------------------------

    def _on_event(self, conn: int, text: str, recv_ns: int, out: list[MarketEvent]) -> None:
        event = self.decode(_EVENT, text, "event", text)
        state = self._connection(conn)
        kind = event.event
        if kind == "error":
            raise VenueErrorMessage(self.name, "event", text, f"error {event.code}: {event.msg}")
        if kind == "subscribed":
            self._on_subscribed(state, event, text)
        elif kind == "unsubscribed" and event.chanId is not None:
            channel = state.channels.pop(event.chanId, None)
            if channel is not None:
                self.subscriptions.discard((channel.name, channel.instrument.venue_symbol))
        elif kind == "conf":  # flags other than SEQ_ALL and OB_CHECKSUM change the frames'
            # layout (strings, timestamps, bulk): not supported, their frames fail loudly
            if event.status != "OK" or event.flags is None:
                raise VenueErrorMessage(self.name, "conf", text, f"flags refused: {event.status}")
            state.flags = event.flags
        elif kind == "info" and event.code in (INFO_RESTART, INFO_MAINTENANCE_START):
            if event.code == INFO_RESTART:
                self.request_reconnect()
            for book in self._books_of(state):
                self.out_of_sync(book, f"venue info {event.code}", 0, recv_ns, out, gap=False)
        elif kind == "info" and event.code == INFO_MAINTENANCE_END:
            self.resync_requests.update(b.instrument.symbol for b in self._books_of(state))
        self.stats.control_frames += 1  # info, pong and the rest

    def _on_subscribed(self, state: _Connection, event: _Event, text: str) -> None:
        if event.chanId is None:
            raise MalformedFrame(self.name, "event", text, "subscribed without a chanId")
        instrument = self.instrument(event.symbol, event.channel, text)
        kind = event.channel
        if kind == "book" and not event.prec.startswith("P"):
            kind = "raw book"  # R0: one level per order, not normalized here
        state.channels[event.chanId] = _Channel(event.channel, kind, instrument)
        self.subscriptions.add((event.channel, instrument.venue_symbol))

    # -- books -----------------------------------------------------------------------------

    def _on_book(
        self,
        conn: int,
        state: _Connection,
        instrument: Instrument,
        tag: str,
        rest: str,
        text: str,
        recv_ns: int,
        out: list[MarketEvent],
    ) -> None:
        if tag == "cs":
            self._on_checksum(conn, state, instrument, text, recv_ns, out)
            return
        if tag:
            raise MalformedFrame(self.name, "book", text, f"unexpected {tag!r}")
        symbol = instrument.symbol
        second = rest[1:2]  # after the payload's "[": "[" or "]" (or space) for a snapshot
        if second in _SNAPSHOT_SECOND or (
            second.isspace() and rest[1:].lstrip()[:1] in _SNAPSHOT_SECOND
        ):
            snapshot = self.decode(_BOOK_SNAPSHOT, text, "book", text, symbol, book=True)
            bids, asks, noisy = self._levels(snapshot.levels)
            self._snapshot(
                conn, state, instrument, bids, asks, noisy, snapshot.seq, text, recv_ns, out
            )
            return
        # An update: one level, the most frequent frame of a book channel.
        update = self.decode(_BOOK_UPDATE, text, "book", text, symbol, book=True)
        bids, asks, noisy = self._levels([update.level])
        self._sequence(conn, state, update.seq, text, recv_ns, out)
        self._update(instrument, bids, asks, noisy, recv_ns, out)

    def _update(
        self,
        instrument: Instrument,
        bids: list[Level],
        asks: list[Level],
        noisy: list[tuple[int, int, float]],
        recv_ns: int,
        out: list[MarketEvent],
    ) -> None:
        """A book update's levels (parsed, sequence checked) into the book."""
        symbol = instrument.symbol
        book = self.books.get(symbol) or self.book(instrument)
        if book.state is not _SYNCED:
            book.counters.skipped_deltas += 1
            return
        book.apply_delta(bids, asks)
        known = self._noisy.get(symbol) or self._no_noise(symbol)
        noisy_bids, noisy_asks = known
        for price, _ in bids:
            noisy_bids.pop(price, None)
        for price, _ in asks:
            noisy_asks.pop(price, None)
        for index, price, amount in noisy:
            known[index][price] = amount
        out.append(BookDelta(self.name, symbol, 0, recv_ns, bids, asks))

    def _route_of(self, instrument: Instrument) -> _Route:
        """The route of a book channel just attributed to ``instrument`` (its book exists)."""
        symbol = instrument.symbol
        noisy_bids, noisy_asks = self._noisy.get(symbol) or self._no_noise(symbol)
        return _Route(
            self.name,
            instrument,
            symbol,
            self.books[symbol],
            noisy_bids,
            noisy_asks,
            self._tally,
        )

    def _snapshot(
        self,
        conn: int,
        state: _Connection,
        instrument: Instrument,
        bids: list[Level],
        asks: list[Level],
        noisy: list[tuple[int, int, float]],
        seq: int | None,
        text: str | bytes,
        recv_ns: int,
        out: list[MarketEvent],
    ) -> None:
        """A snapshot's levels (parsed, by _levels or the C scanner) into the book."""
        self._sequence(conn, state, seq, text, recv_ns, out)
        symbol = instrument.symbol
        book = self.book(instrument)
        was = book.state
        book.apply_snapshot(bids, asks)
        # in place: a route (_Route.noisy) holds the pair
        kept = self._noisy.get(symbol) or self._no_noise(symbol)
        kept[0].clear()
        kept[1].clear()
        for index, price, amount in noisy:
            kept[index][price] = amount
        out.append(BookSnapshot(self.name, symbol, 0, recv_ns, bids, asks))
        self.synced(book, was, 0, recv_ns, out)

    def _levels(
        self, raw: list[_Level]
    ) -> tuple[list[Level], list[Level], list[tuple[int, int, float]]]:
        """Bitfinex levels -> (bids, asks) as exact ints (size 0: delete), plus the amounts
        whose float is noisier than the nearest float of their value (for the checksum), as
        (0 for bids or 1 for asks, price, amount)."""
        numbers = self._numbers
        bids: list[Level] = []
        asks: list[Level] = []
        noisy: list[tuple[int, int, float]] = []
        for level in raw:
            value = level.price
            price = numbers.get(value)
            if price is None:
                price = remember_float(numbers, value, parse_fixed_float, DECIMALS)
            amount = level.amount
            if level.count == 0:  # delete: AMOUNT says the side
                if amount == 1:
                    bids.append((price, 0))
                elif amount == -1:
                    asks.append((price, 0))
                else:
                    raise NumberFormatError(f"delete with amount {amount!r}, not 1 or -1")
                continue
            magnitude = abs(amount)
            size = numbers.get(magnitude)
            if size is None:
                size = remember_float(numbers, magnitude, parse_fixed_float, DECIMALS)
            if level.count < 0 or size == 0 or price == 0:
                raise NumberFormatError(f"bad level {level.price!r} x {amount!r}")
            if amount > 0:
                bids.append((price, size))
                if size / SCALE != magnitude:
                    noisy.append((0, price, magnitude))
            else:
                asks.append((price, size))
                if size / SCALE != magnitude:
                    noisy.append((1, price, magnitude))
        return bids, asks, noisy

    def _on_checksum(
        self,
        conn: int,
        state: _Connection,
        instrument: Instrument,
        text: str,
        recv_ns: int,
        out: list[MarketEvent],
    ) -> None:
        frame = self.decode(_CHECKSUM, text, "book", text, instrument.symbol, book=True)
        self._sequence(conn, state, frame.seq, text, recv_ns, out)
        book = self.books.get(instrument.symbol)
        if book is None or book.state is not _SYNCED:
            return  # nothing trustworthy to compare with; the snapshot on its way will be
        computed = self.checksum(book)
        if computed == frame.checksum:
            book.counters.checksums_ok += 1
            return
        book.counters.checksums_failed += 1
        self.out_of_sync(
            book,
            f"checksum mismatch (bitfinex {frame.checksum}, book {computed})",
            0,
            recv_ns,
            out,
            gap=False,
        )

    def checksum(self, book: L2Book) -> int:
        """Bitfinex's checksum of a P-precision book: top 25 a side, JS number text."""
        noisy_bids, noisy_asks = self._noisy.get(book.instrument.symbol, ({}, {}))

        def text(level: Level, noisy: dict[int, float], sign: str) -> str:
            price, size = level
            raw = noisy.get(price)
            amount = js_decimal_text(size, DECIMALS) if raw is None else js_number_text(raw)
            return f"{js_decimal_text(price, DECIMALS)}:{sign}{amount}"

        return signed_crc32(
            interleave(
                [text(level, noisy_bids, "") for level in book.bids(CHECKSUM_DEPTH)],
                [text(level, noisy_asks, "-") for level in book.asks(CHECKSUM_DEPTH)],
            )
        )

    # -- trades ----------------------------------------------------------------------------

    def _on_trades(
        self,
        conn: int,
        state: _Connection,
        instrument: Instrument,
        tag: str,
        rest: str,
        text: str,
        recv_ns: int,
        out: list[MarketEvent],
    ) -> None:
        symbol = instrument.symbol
        if tag in ("te", "tu"):
            message = self.decode(_TRADE, text, "trades", text, symbol)
            trades = [self._trade(message.trade, symbol, recv_ns)]
            self._sequence(conn, state, message.seq, text, recv_ns, out)
            if tag == "tu":  # the same trade again, once written to Bitfinex's database
                self.stats.ignored_frames += 1
                return
        elif tag:
            raise MalformedFrame(self.name, "trades", text, f"unexpected {tag!r}", symbol)
        else:
            if TRADE_IDS is not None and symbol not in self._last_trade_id:
                # history from before the session (the first subscription's snapshot): only
                # where it ends is remembered, as below; the rows are checked, not built
                head = TRADE_IDS(text)
                if head is not None:
                    seq, newest = head
                    self._sequence(conn, state, seq, text, recv_ns, out)
                    if newest is not None:
                        self._last_trade_id[symbol] = newest
                    self.stats.ignored_frames += 1
                    return
            scanned = SCAN_TRADES(text) if SCAN_TRADES is not None else None
            if scanned is None:
                snapshot = self.decode(_TRADE_SNAPSHOT, text, "trades", text, symbol)
                rows = sorted(snapshot.trades, key=lambda row: row.id)
                trades = [self._trade(row, symbol, recv_ns) for row in rows]
                ids = [row.id for row in rows]
                seq = snapshot.seq
            else:  # checked by the scanner: the Trades are made only if they are used
                seq, parsed = scanned
                parsed.sort(key=_trade_id)  # stable, as sorted() above
                ids = [row[0] for row in parsed]
                trades = []
            self._sequence(conn, state, seq, text, recv_ns, out)
            last = self._last_trade_id.get(symbol)
            if last is None:  # history from before the session: only remember where it ends
                if ids:
                    self._last_trade_id[symbol] = ids[-1]
                self.stats.ignored_frames += 1
                return
            if scanned is not None:
                trades = [self._trade_of(row, symbol, recv_ns) for row in scanned[1]]
            trades = [t for t, i in zip(trades, ids, strict=True) if i > last]
        for trade in trades:
            trade_id = int(trade.trade_id)
            if trade_id > self._last_trade_id.get(symbol, -1):
                self._last_trade_id[symbol] = trade_id
        out.extend(trades)

    def _trade_of(self, row: _TradeInts, symbol: str, recv_ns: int) -> Trade:
        """A scanned trade row (exact ints, checked) as _trade makes it."""
        trade_id, mts, price, size, buy = row
        side = _BUY if buy else _SELL
        return Trade(self.name, symbol, mts * MS, recv_ns, price, size, side, str(trade_id))

    def _trade(self, row: _TradeRow, symbol: str, recv_ns: int) -> Trade:
        size = _number(abs(row.amount))
        price = _number(row.price)
        if size == 0 or price == 0 or row.mts < 0:
            raise NumberFormatError(f"trade of {row.amount!r} at {row.price!r}")
        side = _BUY if row.amount > 0 else _SELL
        return Trade(self.name, symbol, row.mts * MS, recv_ns, price, size, side, str(row.id))

    # -- ticker ----------------------------------------------------------------------------

    def _on_ticker(
        self,
        conn: int,
        state: _Connection,
        instrument: Instrument,
        tag: str,
        rest: str,
        text: str,
        recv_ns: int,
        out: list[MarketEvent],
    ) -> None:
        symbol = instrument.symbol
        if tag:
            raise MalformedFrame(self.name, "ticker", text, f"unexpected {tag!r}", symbol)
        message = self.decode(_TICKER, text, "ticker", text, symbol)
        values = message.values
        if len(values) < 10:
            raise MalformedFrame(self.name, "ticker", text, "a ticker has 10 fields", symbol)
        bid, _, ask, _, change, _, last, volume, high, low = values[:10]
        numbers = self._numbers
        last_price = _remembered(numbers, last)
        change_units = _remembered(numbers, abs(change))
        open_24h = last_price - change_units if change >= 0 else last_price + change_units
        if open_24h < 0:
            raise NumberFormatError(f"daily change {change!r} larger than the price")
        ticker = Ticker(
            self.name,
            symbol,
            0,  # Bitfinex does not stamp tickers
            recv_ns,
            last_price=last_price,
            open_24h=open_24h,
            high_24h=_remembered(numbers, high),
            low_24h=_remembered(numbers, low),
            volume_24h=_remembered(numbers, volume),
            best_bid=_remembered(numbers, bid),
            best_ask=_remembered(numbers, ask),
        )
        self._sequence(conn, state, message.seq, text, recv_ns, out)
        out.append(ticker)


_HANDLERS = {
    "book": Bitfinex._on_book,
    "trades": Bitfinex._on_trades,
    "ticker": Bitfinex._on_ticker,
}
