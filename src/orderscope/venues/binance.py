"""Binance spot: combined streams (``/stream?streams=...``) and REST depth snapshots.

Protocol: the public market-data WebSocket API as documented for spot (``depth@100ms`` diffs
with ``U``/``u`` update ids, ``aggTrade``, ``trade``, ``bookTicker``, ``ticker``) and REST
``GET /api/v3/depth``. Binance USD-M futures (``binance_futures``) speaks the same protocol with
a different continuity rule and is a subclass.

Book sync, as Binance documents it for spot:

1. buffer the diffs of a symbol, then take a REST snapshot (``lastUpdateId``);
2. drop buffered diffs with ``u <= lastUpdateId``;
3. the first diff applied must contain ``lastUpdateId + 1`` (``U <= lastUpdateId + 1 <= u``);
4. afterwards every diff's ``U`` must be the previous diff's ``u + 1``.

Anything else is a gap: the book is marked OUT_OF_SYNC, diffs are buffered again, and the next
snapshot (live: a new REST request; replay: the next one in the capture) restores it.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import ClassVar
from urllib.parse import parse_qs, urlsplit

import msgspec

from orderscope._compiled import kernel
from orderscope.book import L2Book
from orderscope.errors import BadValue, MalformedFrame, UnsubscribedChannel, VenueErrorMessage
from orderscope.fixed import NATIVE_RAW, NumberFormatError, decimals_of, parse_fixed
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
from orderscope.venues.base import Connection, Endpoints, SubscribeLimits, Venue, grouped

# Enum members as module constants: on Python 3.11 ``BookState.SYNCED`` goes through
# EnumType.__getattr__ (a Python-level lookup, ~0.3 us a time); a global is a dict read.
_SYNCED = BookState.SYNCED
_BUY = Side.BUY
_SELL = Side.SELL

MS = 1_000_000  # nanoseconds per millisecond
MAX_BUFFERED_DIFFS = 5_000  # per symbol while waiting for a snapshot
MAX_STREAMS = 4_096  # stream names whose (symbol, channel) are remembered


class _Envelope(msgspec.Struct):
    stream: str = ""
    data: msgspec.Raw = msgspec.Raw(b"")
    e: str = ""  # raw (non-combined) streams put the event type at the top level
    id: int | str | None = None  # replies to SUBSCRIBE/UNSUBSCRIBE requests
    result: msgspec.Raw | None = None
    code: int | None = None
    msg: str = ""


class _Depth(msgspec.Struct):
    s: str
    U: int
    u: int
    b: list[tuple[str, str]]
    a: list[tuple[str, str]]
    E: int = 0
    T: int = 0  # futures: transaction time
    pu: int = -1  # futures: the previous diff's u


class _DepthRaw(msgspec.Struct):
    """``_Depth`` with the level arrays left as JSON, for ``NATIVE_RAW`` (same fields, types)."""

    s: str
    U: int
    u: int
    b: msgspec.Raw
    a: msgspec.Raw
    E: int = 0
    T: int = 0
    pu: int = -1


class _AggTrade(msgspec.Struct):
    s: str
    p: str
    q: str
    T: int
    m: bool  # the buyer was the maker: the aggressor sold
    a: int = -1  # aggTrade id
    t: int = -1  # trade id (the raw ``trade`` stream)


class _BookTicker(msgspec.Struct):
    s: str
    b: str
    B: str
    a: str
    A: str
    u: int = 0
    E: int = 0
    T: int = 0


class _Ticker24h(msgspec.Struct):
    s: str
    c: str
    o: str
    h: str
    l: str  # noqa: E741 - Binance's field name
    v: str
    E: int = 0
    b: str | None = None
    a: str | None = None


class _RestDepth(msgspec.Struct):
    lastUpdateId: int
    bids: list[tuple[str, str]]
    asks: list[tuple[str, str]]
    E: int = 0
    T: int = 0


class _RestDepthRaw(msgspec.Struct):
    """``_RestDepth`` with the level arrays left as JSON, for ``NATIVE_RAW``."""

    lastUpdateId: int
    bids: msgspec.Raw
    asks: msgspec.Raw
    E: int = 0
    T: int = 0


class _Filter(msgspec.Struct):
    filterType: str
    tickSize: str = ""
    stepSize: str = ""


class _SymbolInfo(msgspec.Struct):
    symbol: str
    baseAsset: str
    quoteAsset: str
    filters: list[_Filter]
    status: str = ""
    baseAssetPrecision: int = 8
    quotePrecision: int = 8
    pricePrecision: int = 0  # futures
    quantityPrecision: int = 0  # futures
    contractType: str = ""  # futures: PERPETUAL, CURRENT_QUARTER, ...
    deliveryDate: int = 0
    marginAsset: str = ""


class _ExchangeInfo(msgspec.Struct):
    symbols: list[_SymbolInfo]


_ENVELOPE = msgspec.json.Decoder(_Envelope)
_DEPTH = msgspec.json.Decoder(_Depth)
_DEPTH_RAW = msgspec.json.Decoder(_DepthRaw)
_AGG_TRADE = msgspec.json.Decoder(_AggTrade)
_BOOK_TICKER = msgspec.json.Decoder(_BookTicker)
_TICKER = msgspec.json.Decoder(_Ticker24h)
_REST_DEPTH = msgspec.json.Decoder(_RestDepth)
_REST_DEPTH_RAW = msgspec.json.Decoder(_RestDepthRaw)
_EXCHANGE_INFO = msgspec.json.Decoder(_ExchangeInfo)

_EVENT_TYPES = {
    "depthUpdate": "depth",
    "aggTrade": "aggTrade",
    "trade": "trade",
    "bookTicker": "bookTicker",
    "24hrTicker": "ticker",
}
_SYMBOL_IN_URL = re.compile(r"[?&]symbol=([A-Za-z0-9_]+)")

_ScannedDepth = tuple[str, int, int, int, int, list[Level], list[Level]]
_ScannedTicker = tuple[str, int, int, int, int, int]
_ScannedTrade = tuple[str, int, int, int, int]
_Scan = Callable[
    [str | bytes, dict[str, tuple[int, int, int, str]]],
    _ScannedDepth | _ScannedTicker | _ScannedTrade | None,
]


_ScanRest = Callable[[str | bytes, int, int], tuple[int, int, list[Level], list[Level]] | None]


#: ``orderscope._binance.scan`` (C): a ``depth`` or ``bookTicker`` combined-stream frame of the
#: usual shape -> its fields and levels in one pass over the bytes, exactly what the msgspec path
#: below makes of it; None for any other frame, which then takes that path (so its values and
#: errors are unchanged). Without it a diff's bytes are walked three times (the envelope, the
#: data, the levels) and a Python object is made per field. ``orderscope._binance.scan_rest``:
#: the same for a REST depth snapshot's body -> (lastUpdateId, T or E, bids, asks).
_SCAN: _Scan | None = kernel("_binance", "scan")
_SCAN_REST: _ScanRest | None = kernel("_binance", "scan_rest")
#: The scanner's ``kind`` of a stream (``_stream_route`` routes a stream to it only while its
#: channel's handler is the one the scanner stands in for).
_SCANNED_DEPTH = 0
_SCANNED_BOOK_TICKER = 1
_SCANNED_AGG_TRADE = 2


def _channel_of(stream_suffix: str) -> str:
    """``depth@100ms`` -> ``depth``; ``kline_1m`` -> ``kline_1m`` (not normalized)."""
    return stream_suffix.split("@", 1)[0]


@dataclass(slots=True)
class _DepthSync:
    """Per-symbol state of the snapshot + diff protocol."""

    #: diffs received while the book waits for a snapshot, each with its ``pu`` (futures)
    buffer: deque[tuple[BookDelta, int]] = field(
        default_factory=lambda: deque(maxlen=MAX_BUFFERED_DIFFS)
    )
    bridged: bool = False  # the first diff after the snapshot has been applied


class BinanceSpot(Venue):
    name = "binance"
    capture_prefix = "BINANCE"
    protocol = "Binance spot WebSocket streams + REST /api/v3/depth (2021-2026 format)"
    default_endpoints = Endpoints("wss://stream.binance.com:9443", "https://api.binance.com")
    rest_depth_path: ClassVar[str] = "/api/v3/depth"
    exchange_info_path: ClassVar[str] = "/api/v3/exchangeInfo"
    #: channel -> handler(self, channel, venue symbol, data, frame, recv_ns, out); set below
    handlers: ClassVar[dict[str, Callable[..., None]]]
    # Binance allows 1024 streams a connection (stay well below, to keep URLs short), 5 frames
    # a second from the client (spot; pings included) and 300 new connections in 5 minutes.
    limits = SubscribeLimits(
        channels_per_connection=200, requests_per_second=5.0, connections_per_minute=60
    )
    rest_requests_per_second = 1.0  # depth?limit=1000 weighs 50 of 6000/min on spot

    def __init__(
        self,
        instruments: Iterable[Instrument],
        symbols: Iterable[str] | None = None,
        *,
        endpoints: Endpoints | None = None,
    ) -> None:
        super().__init__(instruments, symbols, endpoints=endpoints)
        self._sync: dict[str, _DepthSync] = {}
        self._streams: dict[str, tuple[str, str]] = {}  # stream name -> (symbol, channel)
        #: stream name -> (kind, price decimals, size decimals, symbol): the scanner's routes
        self._scan_routes: dict[str, tuple[int, int, int, str]] = {}

    # -- instruments -----------------------------------------------------------------------

    @classmethod
    def parse_instruments(cls, url: str, body: str | bytes) -> list[Instrument]:
        info = _EXCHANGE_INFO.decode(body)
        instruments = []
        for s in info.symbols:
            kind, settle, expiry = cls._kind(s)
            if kind is None:
                continue
            tick = next((f.tickSize for f in s.filters if f.filterType == "PRICE_FILTER"), "")
            step = next((f.stepSize for f in s.filters if f.filterType == "LOT_SIZE"), "")
            price_decimals, size_decimals = cls._decimals(s, tick, step)
            instruments.append(
                Instrument(
                    venue=cls.name,
                    symbol=unified_symbol(s.baseAsset, s.quoteAsset, kind, settle, expiry),
                    venue_symbol=s.symbol,
                    base=s.baseAsset,
                    quote=s.quoteAsset,
                    kind=kind,
                    price_decimals=price_decimals,
                    size_decimals=size_decimals,
                    tick_size=parse_fixed(tick, price_decimals) if tick else 1,
                    lot_size=parse_fixed(step, size_decimals) if step else 1,
                    settle=settle,
                )
            )
        return instruments

    @classmethod
    def _kind(cls, s: _SymbolInfo) -> tuple[InstrumentKind | None, str | None, str | None]:
        return InstrumentKind.SPOT, None, None

    @classmethod
    def _decimals(cls, s: _SymbolInfo, tick: str, step: str) -> tuple[int, int]:
        # Spot sends every price and size with the asset precision (8): keep all of it, so a
        # level at a price finer than today's tick (left from an older tick size) stays exact.
        return max(s.quotePrecision, decimals_of(tick)), max(
            s.baseAssetPrecision, decimals_of(step)
        )

    # -- subscriptions ---------------------------------------------------------------------

    def on_open(self, conn: int, url: str, recv_ns: int) -> None:
        streams = parse_qs(urlsplit(url).query).get("streams", [])
        for group in streams:
            for stream in group.split("/"):
                self._add_stream(stream)
        path = urlsplit(url).path
        if "/ws/" in path and "@" in path:  # raw stream: /ws/btcusdt@depth
            self._add_stream(path.rpartition("/ws/")[2])

    def on_sent(self, conn: int, text: str, recv_ns: int) -> None:
        try:
            request = msgspec.json.decode(text)
        except msgspec.DecodeError:
            return
        if isinstance(request, dict) and request.get("method") == "SUBSCRIBE":
            for stream in request.get("params", []):
                self._add_stream(str(stream))

    def _add_stream(self, stream: str) -> None:
        symbol, _, suffix = stream.partition("@")
        self.subscriptions.add((_channel_of(suffix), symbol.upper()))

    def stream_names(self, instrument: Instrument) -> list[str]:
        """The streams a live session subscribes to for one instrument."""
        low = instrument.venue_symbol.lower()
        return [f"{low}@depth@100ms", f"{low}@aggTrade", f"{low}@bookTicker"]

    @classmethod
    def instruments_urls(cls, endpoints: Endpoints) -> list[str]:
        return [endpoints.rest + cls.exchange_info_path]

    def connections(self, instruments: Sequence[Instrument]) -> list[Connection]:
        # Combined streams subscribe in the URL; on_open reads them back from it.
        connections = []
        limit = self.limits.channels_per_connection
        for group in grouped(instruments, lambda i: len(self.stream_names(i)), limit):
            streams = "/".join(name for inst in group for name in self.stream_names(inst))
            url = f"{self.endpoints.ws}/stream?streams={streams}"
            connections.append(Connection(url, symbols=tuple(inst.symbol for inst in group)))
        return connections

    def snapshot_url(self, instrument: Instrument, limit: int = 1000) -> str:
        return (
            f"{self.endpoints.rest}{self.rest_depth_path}"
            f"?symbol={instrument.venue_symbol}&limit={limit}"
        )

    # -- frames ----------------------------------------------------------------------------

    def on_frame(self, conn: int, frame: str | bytes, recv_ns: int, out: list[MarketEvent]) -> None:
        if _SCAN is not None:
            scanned = _SCAN(frame, self._scan_routes)
            if scanned is not None:
                if len(scanned) == 7:
                    self._on_scanned_depth(scanned, frame, recv_ns, out)
                elif len(scanned) == 6:
                    self._on_scanned_book_ticker(scanned, frame, recv_ns, out)
                else:
                    self._on_scanned_trade(scanned, frame, recv_ns, out)
                return
        try:  # not through self.decode: one call fewer on every frame
            env = _ENVELOPE.decode(frame)
        except msgspec.DecodeError as exc:
            raise MalformedFrame(self.name, "?", frame, str(exc)) from None
        stream = env.stream
        if stream:
            route = self._streams.get(stream)
            if route is None:
                route = self._stream_route(stream)
            venue_symbol, channel = route
            data: str | bytes | msgspec.Raw = env.data
        elif env.e:
            channel = _EVENT_TYPES.get(env.e, env.e)
            data = frame
            venue_symbol = ""
        else:
            self._control(env, frame)
            return
        handler = self.handlers.get(channel)
        if handler is None:
            if venue_symbol and (channel, venue_symbol) not in self.subscriptions:
                raise UnsubscribedChannel(
                    self.name, channel, frame, f"not subscribed to {env.stream}"
                )
            self.stats.ignored_frames += 1  # subscribed (klines...) but not normalized
            return
        handler(self, channel, venue_symbol, data, frame, recv_ns, out)

    def _stream_route(self, stream: str) -> tuple[str, str]:
        """``nknusdt@depth@100ms`` -> (``NKNUSDT``, ``depth``), remembered: streams repeat."""
        venue_symbol, _, suffix = stream.partition("@")
        if len(self._streams) >= MAX_STREAMS:
            self._streams.clear()
            self._scan_routes.clear()
        route = self._streams[stream] = (venue_symbol.upper(), _channel_of(suffix))
        symbol, channel = route
        handler = self.handlers.get(channel)
        if handler is BinanceSpot._on_depth:
            kind = _SCANNED_DEPTH
        elif handler is BinanceSpot._on_book_ticker:
            kind = _SCANNED_BOOK_TICKER
        elif handler is BinanceSpot._on_trade and channel == "aggTrade":  # not ``trade``: its id
            kind = _SCANNED_AGG_TRADE
        else:
            return route
        instrument = self.by_venue_symbol.get(symbol)
        if instrument is not None:  # an unknown symbol stays the reference path's error
            pd, sd = instrument.price_decimals, instrument.size_decimals
            self._scan_routes[stream] = (kind, pd, sd, symbol)
        return route

    def _on_scanned_depth(
        self, scanned: _ScannedDepth, frame: str | bytes, recv_ns: int, out: list[MarketEvent]
    ) -> None:
        """``_on_depth`` for a diff the scanner read (``orderscope._binance``)."""
        venue_symbol, ms, first, last, prev_u, bids, asks = scanned
        instrument = self.attribute("depth", venue_symbol, frame)
        if instrument is not None:
            delta = BookDelta(
                self.name, instrument.symbol, ms * MS, recv_ns, bids, asks, first, last
            )
            self._apply_diff(instrument, delta, prev_u, out)

    def _on_scanned_trade(
        self, scanned: _ScannedTrade, frame: str | bytes, recv_ns: int, out: list[MarketEvent]
    ) -> None:
        """``_on_trade`` for an aggTrade the scanner read (``orderscope._binance``): the size
        comes negative when the aggressor sold (the buyer was the maker), never 0."""
        venue_symbol, ms, price, size, trade_id = scanned
        instrument = self.attribute("aggTrade", venue_symbol, frame)
        if instrument is not None:
            side = _SELL if size < 0 else _BUY
            out.append(
                Trade(
                    self.name,
                    instrument.symbol,
                    ms * MS,
                    recv_ns,
                    price,
                    -size if size < 0 else size,
                    side,
                    str(trade_id),
                )
            )

    def _on_scanned_book_ticker(
        self, scanned: _ScannedTicker, frame: str | bytes, recv_ns: int, out: list[MarketEvent]
    ) -> None:
        """``_on_book_ticker`` for a frame the scanner read (``orderscope._binance``)."""
        venue_symbol, ms, bid, bid_size, ask, ask_size = scanned
        instrument = self.attribute("bookTicker", venue_symbol, frame)
        if instrument is not None:
            out.append(
                BestBidOffer(
                    self.name,
                    instrument.symbol,
                    ms * MS,
                    recv_ns,
                    bid,
                    bid_size,
                    ask,
                    ask_size,
                )
            )

    def _control(self, env: _Envelope, frame: str | bytes) -> None:
        if env.code is not None:
            raise VenueErrorMessage(self.name, "control", frame, f"error {env.code}: {env.msg}")
        if env.id is None:
            raise MalformedFrame(self.name, "?", frame, "neither a stream frame nor a reply")
        self.stats.control_frames += 1

    def _on_depth(
        self,
        channel: str,
        venue_symbol: str,
        data: str | bytes | msgspec.Raw,
        frame: str | bytes,
        recv_ns: int,
        out: list[MarketEvent],
    ) -> None:
        if NATIVE_RAW is not None and self._on_depth_raw(
            channel, venue_symbol, data, frame, recv_ns, out
        ):
            return
        try:  # not through self.decode: one call fewer on every diff
            msg = _DEPTH.decode(data)
        except msgspec.DecodeError as exc:
            # Name the symbol, so that a broken diff still resyncs the right book.
            hint = self.by_venue_symbol.get(venue_symbol)
            raise MalformedFrame(
                self.name, channel, frame, str(exc), hint.symbol if hint else None, book=True
            ) from None
        instrument = self.attribute(channel, venue_symbol or msg.s, frame)
        if instrument is None:
            return
        exch_ns = (msg.T or msg.E) * MS
        delta = BookDelta(
            self.name,
            instrument.symbol,
            exch_ns,
            recv_ns,
            self.parse_levels(msg.b, instrument, frame, channel),
            self.parse_levels(msg.a, instrument, frame, channel),
            msg.U,
            msg.u,
        )
        # Binance-specific: ``pu`` rides along in sequence bookkeeping for futures.
        self._apply_diff(instrument, delta, msg.pu, out)

    def _on_depth_raw(
        self,
        channel: str,
        venue_symbol: str,
        data: str | bytes | msgspec.Raw,
        frame: str | bytes,
        recv_ns: int,
        out: list[MarketEvent],
    ) -> bool:
        """``_on_depth`` with the levels read by the C kernel straight from the frame's bytes
        (no str per number); False, having changed nothing, for any diff it does not take,
        which ``_on_depth`` then decodes and checks as always (same values, same errors)."""
        assert NATIVE_RAW is not None
        try:
            msg = _DEPTH_RAW.decode(data)
        except msgspec.DecodeError:
            return False
        # The instrument ``attribute`` returns (it routes through ``by_venue_symbol``), looked
        # up without its checks and counters: those run only once the levels are known good.
        hint = self.by_venue_symbol.get(venue_symbol or msg.s)
        if hint is None:
            return False
        pd, sd = hint.price_decimals, hint.size_decimals
        bids = NATIVE_RAW(msg.b, pd, sd, 0, 2, True)
        if bids is None:
            return False
        asks = NATIVE_RAW(msg.a, pd, sd, 0, 2, True)
        if asks is None:
            return False
        instrument = self.attribute(channel, venue_symbol or msg.s, frame)
        if instrument is not None:
            delta = BookDelta(
                self.name,
                instrument.symbol,
                (msg.T or msg.E) * MS,
                recv_ns,
                bids,
                asks,
                msg.U,
                msg.u,
            )
            self._apply_diff(instrument, delta, msg.pu, out)
        return True

    def _apply_diff(
        self, instrument: Instrument, delta: BookDelta, prev_u: int, out: list[MarketEvent]
    ) -> None:
        symbol = instrument.symbol
        book = self.books.get(symbol) or self.book(instrument)
        sync = self._sync.get(symbol) or self._depth_sync(instrument)
        if book.state is not _SYNCED:
            sync.buffer.append((delta, prev_u))
            return
        self._apply_synced(book, sync, delta, prev_u, out)

    def _depth_sync(self, instrument: Instrument) -> _DepthSync:
        # Not setdefault(): that would build a _DepthSync (and its deque) on every diff.
        sync = self._sync.get(instrument.symbol)
        if sync is None:
            sync = self._sync[instrument.symbol] = _DepthSync()
        return sync

    def _apply_synced(
        self, book: L2Book, sync: _DepthSync, delta: BookDelta, prev_u: int, out: list[MarketEvent]
    ) -> None:
        if not sync.bridged:
            if self._is_stale(book.sequence, delta):
                book.counters.skipped_deltas += 1
                return
            if not self._bridges(book.sequence, delta):
                self._gap(book, sync, delta, prev_u, "first diff does not follow the snapshot", out)
                return
            sync.bridged = True
        elif not self._continues(book.sequence, delta, prev_u):
            self._gap(book, sync, delta, prev_u, "update id gap", out)
            return
        book.apply_delta(delta.bids, delta.asks, delta.last_sequence)
        out.append(delta)

    def _gap(
        self,
        book: L2Book,
        sync: _DepthSync,
        delta: BookDelta,
        prev_u: int,
        reason: str,
        out: list[MarketEvent],
    ) -> None:
        self.out_of_sync(
            book,
            f"{reason} (last u={book.sequence}, got U={delta.first_sequence} "
            f"u={delta.last_sequence})",
            delta.exch_ns,
            delta.recv_ns,
            out,
        )
        sync.bridged = False
        sync.buffer.clear()
        sync.buffer.append((delta, prev_u))

    # The sync rules, overridden by USD-M futures.
    @staticmethod
    def _is_stale(snapshot_id: int, delta: BookDelta) -> bool:
        return delta.last_sequence <= snapshot_id

    @staticmethod
    def _bridges(snapshot_id: int, delta: BookDelta) -> bool:
        return delta.first_sequence <= snapshot_id + 1 <= delta.last_sequence

    @staticmethod
    def _continues(last_u: int, delta: BookDelta, prev_u: int) -> bool:
        return delta.first_sequence == last_u + 1

    # -- REST snapshot ---------------------------------------------------------------------

    def on_rest(self, url: str, body: str | bytes, recv_ns: int, out: list[MarketEvent]) -> None:
        self.stats.rest_responses += 1
        if "/depth" not in url:
            return
        match = _SYMBOL_IN_URL.search(url)
        if match is None:
            raise MalformedFrame(self.name, "rest depth", url, "no symbol in the snapshot URL")
        instrument = self.instrument(match.group(1).upper(), "rest depth", body)
        if not self.wants(instrument.symbol):
            return
        bids, asks, last_id, exch_ns = self._rest_levels(instrument, body)
        book = self.book(instrument)
        was = book.state
        book.apply_snapshot(bids, asks, last_id)
        out.append(
            BookSnapshot(self.name, instrument.symbol, exch_ns, recv_ns, bids, asks, last_id)
        )
        self.synced(book, was, exch_ns, recv_ns, out)
        sync = self._depth_sync(instrument)
        sync.bridged = False
        buffered = list(sync.buffer)
        sync.buffer.clear()
        for delta, prev_u in buffered:
            if book.state is _SYNCED:
                self._apply_synced(book, sync, delta, prev_u, out)
            else:  # a gap inside the buffer: keep the rest for the next snapshot
                sync.buffer.append((delta, prev_u))

    def _rest_levels(
        self, instrument: Instrument, body: str | bytes
    ) -> tuple[list[Level], list[Level], int, int]:
        """A REST depth body's bids, asks, ``lastUpdateId`` and time (ns), or a FrameError."""
        pd, sd = instrument.price_decimals, instrument.size_decimals
        if _SCAN_REST is not None:  # the whole body in one pass
            scanned = _SCAN_REST(body, pd, sd)
            if scanned is not None:
                return scanned[2], scanned[3], scanned[0], scanned[1] * MS
        if NATIVE_RAW is not None:  # the C kernel on the JSON bytes; the typed path otherwise
            try:
                raw = _REST_DEPTH_RAW.decode(body)
            except msgspec.DecodeError:
                pass
            else:
                bids = NATIVE_RAW(raw.bids, pd, sd, 0, 2, True)
                asks = NATIVE_RAW(raw.asks, pd, sd, 0, 2, True) if bids is not None else None
                if bids is not None and asks is not None:
                    return bids, asks, raw.lastUpdateId, (raw.T or raw.E) * MS
        msg = self.decode(_REST_DEPTH, body, "rest depth", body, instrument.symbol, book=True)
        bids = self.parse_levels(msg.bids, instrument, body, "rest depth")
        asks = self.parse_levels(msg.asks, instrument, body, "rest depth")
        return bids, asks, msg.lastUpdateId, (msg.T or msg.E) * MS

    # -- trades and tickers ----------------------------------------------------------------

    def _on_trade(
        self,
        channel: str,
        venue_symbol: str,
        data: str | bytes | msgspec.Raw,
        frame: str | bytes,
        recv_ns: int,
        out: list[MarketEvent],
    ) -> None:
        msg = self.decode(_AGG_TRADE, data, channel, frame)
        instrument = self.attribute(channel, venue_symbol or msg.s, frame)
        if instrument is None:
            return
        price, size = self.parse_levels([(msg.p, msg.q)], instrument, frame, channel, book=False)[0]
        if size == 0:
            raise BadValue(self.name, channel, frame, "trade of size 0", instrument.symbol)
        trade_id = msg.a if channel == "aggTrade" else msg.t
        out.append(
            Trade(
                self.name,
                instrument.symbol,
                msg.T * MS,
                recv_ns,
                price,
                size,
                _SELL if msg.m else _BUY,
                str(trade_id),
            )
        )

    def _on_book_ticker(
        self,
        channel: str,
        venue_symbol: str,
        data: str | bytes | msgspec.Raw,
        frame: str | bytes,
        recv_ns: int,
        out: list[MarketEvent],
    ) -> None:
        msg = self.decode(_BOOK_TICKER, data, channel, frame)
        instrument = self.attribute(channel, venue_symbol or msg.s, frame)
        if instrument is None:
            return
        (bid, bid_size), (ask, ask_size) = self.parse_levels(
            [(msg.b, msg.B), (msg.a, msg.A)], instrument, frame, channel, book=False
        )
        out.append(
            BestBidOffer(
                self.name,
                instrument.symbol,
                (msg.T or msg.E) * MS,
                recv_ns,
                bid,
                bid_size,
                ask,
                ask_size,
            )
        )

    def _on_ticker(
        self,
        channel: str,
        venue_symbol: str,
        data: str | bytes | msgspec.Raw,
        frame: str | bytes,
        recv_ns: int,
        out: list[MarketEvent],
    ) -> None:
        msg = self.decode(_TICKER, data, channel, frame)
        instrument = self.attribute(channel, venue_symbol or msg.s, frame)
        if instrument is None:
            return
        pd, sd = instrument.price_decimals, instrument.size_decimals
        try:
            out.append(
                Ticker(
                    self.name,
                    instrument.symbol,
                    msg.E * MS,
                    recv_ns,
                    last_price=parse_fixed(msg.c, pd),
                    open_24h=parse_fixed(msg.o, pd),
                    high_24h=parse_fixed(msg.h, pd),
                    low_24h=parse_fixed(msg.l, pd),
                    volume_24h=parse_fixed(msg.v, sd),
                    best_bid=parse_fixed(msg.b, pd) if msg.b else None,
                    best_ask=parse_fixed(msg.a, pd) if msg.a else None,
                )
            )
        except NumberFormatError as exc:
            raise BadValue(self.name, channel, frame, str(exc), instrument.symbol) from None


BinanceSpot.handlers = {
    "depth": BinanceSpot._on_depth,
    "aggTrade": BinanceSpot._on_trade,
    "trade": BinanceSpot._on_trade,
    "bookTicker": BinanceSpot._on_book_ticker,
    "ticker": BinanceSpot._on_ticker,
}
