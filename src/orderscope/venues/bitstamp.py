"""Bitstamp: WebSocket API v2 (``diff_order_book``, ``live_trades``) and REST order-book snapshots.

Protocol: ``wss://ws.bitstamp.net`` (WebSocket API v2, 2019-2026 format). The client sends one
``{"event": "bts:subscribe", "data": {"channel": ...}}`` per channel and the venue answers
``bts:subscription_succeeded``. Frames are ``{"event", "channel", "data"}``:

- ``diff_order_book_<pair>`` (event ``data``): the levels that changed since the last broadcast,
  absolute sizes (0 deletes), stamped with ``microtimestamp``. There is no sequence number.
- ``live_trades_<pair>`` (event ``trade``): one trade; ``type`` 0 is a buy and 1 a sell, i.e. the
  taker's side. ``price_str``/``amount_str`` carry the exact decimals.
- ``bts:heartbeat``: the answer to a client heartbeat; ``bts:request_reconnect``: the server
  asks the client to reconnect (it is about to go away); ``bts:error``: a rejected request.

REST ``GET /api/v2/order_book/<pair>`` returns the full book with its ``microtimestamp``.
``trading-pairs-info`` (the ``BITSTAMP.0`` file) gives each pair's ``base_decimals`` (sizes) and
``counter_decimals`` (prices).

Book sync. Bitstamp's WebSocket v2 documentation gives the diff channel's data as the changed
bids and asks with ``timestamp``/``microtimestamp``, and the REST order book carries the same
``microtimestamp``; it spells out no step-by-step procedure and diffs carry no sequence id, so
the microtimestamp is the only order there is. The rule used here (the one the venue's fields
allow, and the one libraries that follow Bitstamp's docs use):

1. buffer the diffs of a pair until a REST snapshot arrives;
2. apply the snapshot; drop every diff with ``microtimestamp <= snapshot.microtimestamp`` (its
   changes are already in the snapshot), apply the others in order;
3. afterwards every diff must be strictly newer than the last one applied. A diff that is not
   (a duplicate or out-of-order broadcast) makes the book OUT_OF_SYNC until the next snapshot.

What this cannot see: a diff lost in transit leaves no trace (no sequence id), so a gap is
undetectable within a connection. Between connections it is likely (a reconnect, also after
``bts:request_reconnect``), so a book whose diffs start coming from another connection than the
one it followed is marked OUT_OF_SYNC and resynced from a new snapshot.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Final, cast

import msgspec
from mypy_extensions import mypyc_attr

from orderscope._compiled import kernel
from orderscope.book import L2Book
from orderscope.errors import BadValue, MalformedFrame, VenueErrorMessage
from orderscope.fixed import NATIVE_RAW
from orderscope.model import (
    BookDelta,
    BookSnapshot,
    BookState,
    Instrument,
    InstrumentKind,
    Level,
    MarketEvent,
    Side,
    Trade,
)
from orderscope.symbols import unified_symbol
from orderscope.venues.base import Connection, Endpoints, KeepAlive, Venue
from orderscope.venues.bitstamp_wire import (
    _DIFF,
    _DIFF_FRAME,
    _DIFF_RAW,
    _ENVELOPE,
    _ERROR,
    _PAIRS,
    _TRADE,
)

# Enum members as module constants: on Python 3.11 ``BookState.SYNCED`` goes through
# EnumType.__getattr__ (a Python-level lookup, ~0.3 us a time); a global is a dict read.
_SYNCED: Final = BookState.SYNCED
_BUY: Final = Side.BUY
_SELL: Final = Side.SELL

US: Final = 1_000  # nanoseconds per microsecond
MAX_BUFFERED_DIFFS: Final = 5_000  # per pair while waiting for a snapshot
DIFF_CHANNEL: Final = "diff_order_book"
TRADES_CHANNEL: Final = "live_trades"


_Scanner = Callable[..., tuple[object, ...] | None]
_ScannedDiff = tuple[str, int, list[Level], list[Level]]


#: ``orderscope._bitstamp.scan_diff`` (C): a ``diff_order_book`` frame of the usual shape ->
#: (pair, microtimestamp, bids, asks) in one pass over its bytes, exactly what ``_diff_frame``
#: makes of it; None for any other frame, which then takes that path (so its values and errors
#: are unchanged).
_SCAN_DIFF: Final[_Scanner | None] = kernel("_bitstamp", "scan_diff")
#: ``orderscope._bitstamp.scan_book``: the same for a REST order book's body (with its spaces)
#: -> (microtimestamp, bids, asks), what ``_book_levels`` makes of it.
_SCAN_BOOK: Final[_Scanner | None] = kernel("_bitstamp", "scan_book")

_CONTROL_EVENTS = frozenset(
    {"bts:subscription_succeeded", "bts:unsubscription_succeeded", "bts:heartbeat"}
)


@dataclass(slots=True)
class _DiffSync:
    """Per-pair state of the snapshot + diff protocol (``book.sequence`` is the last
    microtimestamp applied)."""

    #: diffs waiting for a snapshot, each with the connection it came on
    buffer: deque[tuple[BookDelta, int]] = field(
        default_factory=lambda: deque(maxlen=MAX_BUFFERED_DIFFS)
    )
    bridged: bool = False  # a diff newer than the snapshot has been applied
    conn: int | None = None  # the connection whose diffs the book follows since the snapshot


# Compiled (``_compiled.COMPILED``); subclasses stay possible (a test or a user adjusting e.g.
# the keep-alive timings).
@mypyc_attr(allow_interpreted_subclasses=True)
class Bitstamp(Venue):
    name = "bitstamp"
    default_endpoints = Endpoints("wss://ws.bitstamp.net", "https://www.bitstamp.net")
    capture_prefix = "BITSTAMP"
    protocol = "Bitstamp WebSocket API v2 + REST /api/v2/order_book (2019-2026 format)"
    #: A live session sends ``bts:heartbeat`` after 10 s of silence: Bitstamp does not require
    #: it, but answers each one, and an unanswered heartbeat is the quickest sign of a dead
    #: connection.
    keepalive = KeepAlive(
        ping_text='{"event":"bts:heartbeat"}', ping_after_s=10.0, stale_after_s=20.0
    )

    def __init__(
        self,
        instruments: Iterable[Instrument],
        symbols: Iterable[str] | None = None,
        *,
        endpoints: Endpoints | None = None,
    ) -> None:
        super().__init__(instruments, symbols, endpoints=endpoints)
        self._sync: dict[str, _DiffSync] = {}
        #: pair -> (price decimals, size decimals), the scanner's (``_SCAN_DIFF``)
        self._scan_decimals: dict[str, tuple[int, int]] = {
            pair: (i.price_decimals, i.size_decimals) for pair, i in self.by_venue_symbol.items()
        }

    # -- instruments -----------------------------------------------------------------------

    @classmethod
    def parse_instruments(cls, url: str, body: str | bytes) -> list[Instrument]:
        if "trading-pairs-info" not in url:
            return []
        instruments = []
        for pair in _PAIRS.decode(body):
            base, sep, quote = pair.name.partition("/")
            if not sep:
                continue
            instruments.append(
                Instrument(
                    venue=cls.name,
                    symbol=unified_symbol(base, quote),
                    venue_symbol=pair.url_symbol,
                    base=base,
                    quote=quote,
                    kind=InstrumentKind.SPOT,
                    price_decimals=pair.counter_decimals,
                    size_decimals=pair.base_decimals,
                    tick_size=1,
                    lot_size=1,
                )
            )
        return instruments

    # -- what a live session sends ---------------------------------------------------------

    @classmethod
    def instruments_urls(cls, endpoints: Endpoints) -> list[str]:
        return [f"{endpoints.rest}/api/v2/trading-pairs-info/"]

    def connections(self, instruments: Sequence[Instrument]) -> list[Connection]:
        """One connection for every instrument, its book and trades channels subscribed one
        ``bts:subscribe`` each (Bitstamp takes one channel a message, so nothing to batch)."""
        frames = [
            msgspec.json.encode(
                {"event": "bts:subscribe", "data": {"channel": f"{channel}_{i.venue_symbol}"}}
            ).decode()
            for i in instruments
            for channel in (DIFF_CHANNEL, TRADES_CHANNEL)
        ]
        return [Connection(self.endpoints.ws, tuple(frames), tuple(i.symbol for i in instruments))]

    def snapshot_url(self, instrument: Instrument) -> str:
        return f"{self.endpoints.rest}/api/v2/order_book/{instrument.venue_symbol}"

    # -- subscriptions ---------------------------------------------------------------------

    def on_sent(self, conn: int, text: str, recv_ns: int) -> None:
        try:
            request = msgspec.json.decode(text)
        except msgspec.DecodeError:
            return
        if not isinstance(request, dict) or request.get("event") != "bts:subscribe":
            return
        data = request.get("data")
        if isinstance(data, dict) and isinstance(data.get("channel"), str):
            channel, _, pair = data["channel"].rpartition("_")
            self.subscriptions.add((channel, pair))

    # -- frames ----------------------------------------------------------------------------

    def on_frame(self, conn: int, frame: str | bytes, recv_ns: int, out: list[MarketEvent]) -> None:
        # Nearly every frame is a diff: read in one pass by the C scanner, else tried in one
        # decode (the usual path below for anything else, with nothing changed).
        if _SCAN_DIFF is not None:
            scanned = _SCAN_DIFF(frame, self._scan_decimals)
            if scanned is not None:
                self._scanned_diff(conn, scanned, frame, recv_ns, out)
                return
        if NATIVE_RAW is not None and self._diff_frame(conn, frame, recv_ns, out):
            return
        try:  # not through self.decode: one call fewer on every frame
            env = _ENVELOPE.decode(frame)
        except msgspec.DecodeError as exc:
            raise MalformedFrame(self.name, "?", frame, str(exc)) from None
        channel, _, pair = env.channel.rpartition("_")
        if env.event == "data" and channel == DIFF_CHANNEL:
            self._on_diff(conn, pair, env.data, frame, recv_ns, out)
        elif env.event == "trade" and channel == TRADES_CHANNEL:
            self._on_trade(pair, env.data, frame, recv_ns, out)
        elif env.event in _CONTROL_EVENTS:
            self.stats.control_frames += 1
        elif env.event == "bts:request_reconnect":
            self.stats.control_frames += 1
            self.request_reconnect()
        elif env.event == "bts:error":
            error = self.decode(_ERROR, env.data, "control", frame)
            raise VenueErrorMessage(self.name, "control", frame, f"error: {error.message}")
        elif channel and pair:  # another channel: fine if subscribed (order_book...), unused
            if self.attribute(channel, pair, frame) is not None:
                self.stats.ignored_frames += 1
        else:
            raise MalformedFrame(
                self.name, env.channel or "?", frame, f"unexpected event {env.event!r}"
            )

    def _diff_frame(
        self, conn: int, frame: str | bytes, recv_ns: int, out: list[MarketEvent]
    ) -> bool:
        """A diff with its levels read by the C kernel from the frame's bytes, envelope and diff
        decoded together; False, having changed nothing, for any other frame or a diff the
        kernel does not take, which ``on_frame`` then reads as always (same values and errors).
        The checks run in ``_on_diff``'s order: the route, then the levels, then the time."""
        assert NATIVE_RAW is not None
        try:
            env = _DIFF_FRAME.decode(frame)
        except msgspec.DecodeError:
            return False
        channel, _, pair = env.channel.rpartition("_")
        if env.event != "data" or channel != DIFF_CHANNEL:
            return False
        # The instrument ``attribute`` returns (it routes through ``by_venue_symbol``), looked
        # up without its checks and counters: those run only once the levels are known good.
        hint = self.by_venue_symbol.get(pair)
        if hint is None:
            return False
        msg = env.data
        pd, sd = hint.price_decimals, hint.size_decimals
        bids = NATIVE_RAW(msg.bids, pd, sd, 0, 2, True)
        if bids is None:
            return False
        asks = NATIVE_RAW(msg.asks, pd, sd, 0, 2, True)
        if asks is None:
            return False
        instrument = self.attribute(DIFF_CHANNEL, pair, frame)
        if instrument is not None:
            stamp = self._microtimestamp(msg.microtimestamp, DIFF_CHANNEL, frame, instrument)
            self._diff(conn, instrument, stamp, bids, asks, recv_ns, out)
        return True

    def _scanned_diff(
        self,
        conn: int,
        scanned: tuple[object, ...],
        frame: str | bytes,
        recv_ns: int,
        out: list[MarketEvent],
    ) -> None:
        """``_diff_frame`` for a diff the scanner read (its checks passed: the levels, the
        microtimestamp's digits); the route is checked here, as there."""
        pair, stamp, bids, asks = cast(_ScannedDiff, scanned)
        instrument = self.attribute(DIFF_CHANNEL, pair, frame)
        if instrument is not None:
            self._diff(conn, instrument, stamp, bids, asks, recv_ns, out)

    def _on_diff(
        self,
        conn: int,
        pair: str,
        data: msgspec.Raw,
        frame: str | bytes,
        recv_ns: int,
        out: list[MarketEvent],
    ) -> None:
        instrument = self.attribute(DIFF_CHANNEL, pair, frame)
        if instrument is None:
            return
        stamp, bids, asks = self._book_levels(data, instrument, frame, DIFF_CHANNEL)
        self._diff(conn, instrument, stamp, bids, asks, recv_ns, out)

    def _diff(
        self,
        conn: int,
        instrument: Instrument,
        stamp: int,
        bids: list[Level],
        asks: list[Level],
        recv_ns: int,
        out: list[MarketEvent],
    ) -> None:
        delta = BookDelta(
            self.name, instrument.symbol, stamp * US, recv_ns, bids, asks, stamp, stamp
        )
        symbol = instrument.symbol
        book = self.books.get(symbol) or self.book(instrument)
        sync = self._sync.get(symbol) or self._diff_sync(symbol)
        if book.state is _SYNCED:
            self._apply(book, sync, delta, conn, out)
        else:
            sync.buffer.append((delta, conn))

    def _diff_sync(self, symbol: str) -> _DiffSync:
        # Not setdefault(): that would build a _DiffSync (and its deque) on every diff.
        sync = self._sync[symbol] = _DiffSync()
        return sync

    def _apply(
        self, book: L2Book, sync: _DiffSync, delta: BookDelta, conn: int, out: list[MarketEvent]
    ) -> None:
        if delta.last_sequence <= book.sequence and not sync.bridged:
            book.counters.skipped_deltas += 1  # already contained in the snapshot
            return
        detected = delta.last_sequence <= book.sequence  # out of order: a real break
        if detected:
            reason = (
                f"diff not newer than the last (last {book.sequence}, got {delta.last_sequence})"
            )
        elif sync.conn is not None and conn != sync.conn:
            reason = "diffs now come from another connection: some may be missing"
        else:
            sync.bridged = True
            sync.conn = conn
            book.apply_delta(delta.bids, delta.asks, delta.last_sequence)
            out.append(delta)
            return
        self.out_of_sync(book, reason, delta.exch_ns, delta.recv_ns, out, gap=detected)
        sync.bridged = False
        sync.conn = None
        sync.buffer.clear()
        sync.buffer.append((delta, conn))  # may be newer than the next snapshot

    def _book_levels(
        self,
        data: str | bytes | msgspec.Raw,
        instrument: Instrument,
        frame: str | bytes,
        channel: str,
    ) -> tuple[int, list[Level], list[Level]]:
        """A diff's or REST snapshot's microtimestamp, bids and asks, or a FrameError."""
        pd, sd = instrument.price_decimals, instrument.size_decimals
        if _SCAN_BOOK is not None and channel != DIFF_CHANNEL:  # a REST body in one pass
            scanned = _SCAN_BOOK(data, pd, sd)
            if scanned is not None:
                return cast(tuple[int, list[Level], list[Level]], scanned)
        if NATIVE_RAW is not None:  # the C kernel on the JSON bytes (no str per number)
            try:
                raw = _DIFF_RAW.decode(data)
            except msgspec.DecodeError:
                pass  # the typed decode below names what is wrong
            else:
                bids = NATIVE_RAW(raw.bids, pd, sd, 0, 2, True)
                asks = NATIVE_RAW(raw.asks, pd, sd, 0, 2, True) if bids is not None else None
                if bids is not None and asks is not None:
                    return (
                        self._microtimestamp(raw.microtimestamp, channel, frame, instrument),
                        bids,
                        asks,
                    )
        # Anything the kernel does not take: decoded and checked as always (same errors).
        try:  # not through self.decode: one call fewer on every diff
            msg = _DIFF.decode(data)
        except msgspec.DecodeError as exc:
            raise MalformedFrame(
                self.name, channel, frame, str(exc), instrument.symbol, book=True
            ) from None
        stamp = self._microtimestamp(msg.microtimestamp, channel, frame, instrument)
        bids = self.parse_levels(msg.bids, instrument, frame, channel)
        return stamp, bids, self.parse_levels(msg.asks, instrument, frame, channel)

    def _microtimestamp(
        self, text: str, channel: str, frame: str | bytes, instrument: Instrument
    ) -> int:
        if not (text.isdigit() and text.isascii()):
            raise BadValue(
                self.name,
                channel,
                frame,
                f"bad microtimestamp {text!r}",
                instrument.symbol,
                book=channel == DIFF_CHANNEL,
            )
        return int(text)

    # -- REST snapshot ---------------------------------------------------------------------

    def on_rest(self, url: str, body: str | bytes, recv_ns: int, out: list[MarketEvent]) -> None:
        self.stats.rest_responses += 1
        marker = url.find("/order_book/")
        if marker < 0:
            return
        pair = url[marker + len("/order_book/") :].split("?", 1)[0].strip("/")
        instrument = self.instrument(pair, "rest order_book", body)
        if not self.wants(instrument.symbol):
            return
        channel = "rest order_book"
        stamp, bids, asks = self._book_levels(body, instrument, body, channel)
        book = self.book(instrument)
        was = book.state
        book.apply_snapshot(bids, asks, stamp)
        out.append(
            BookSnapshot(self.name, instrument.symbol, stamp * US, recv_ns, bids, asks, stamp)
        )
        self.synced(book, was, stamp * US, recv_ns, out)
        sync = self._sync.get(instrument.symbol) or self._diff_sync(instrument.symbol)
        sync.bridged = False
        sync.conn = None
        buffered = list(sync.buffer)
        sync.buffer.clear()
        for delta, conn in buffered:
            if book.state is _SYNCED:
                self._apply(book, sync, delta, conn, out)
            else:  # a problem inside the buffer: keep the rest for the next snapshot
                sync.buffer.append((delta, conn))

    # -- trades ----------------------------------------------------------------------------

    def _on_trade(
        self, pair: str, data: msgspec.Raw, frame: str | bytes, recv_ns: int, out: list[MarketEvent]
    ) -> None:
        instrument = self.attribute(TRADES_CHANNEL, pair, frame)
        if instrument is None:
            return
        msg = self.decode(_TRADE, data, TRADES_CHANNEL, frame, instrument.symbol)
        stamp = self._microtimestamp(msg.microtimestamp, TRADES_CHANNEL, frame, instrument)
        price, size = self.parse_levels(
            [(msg.price_str, msg.amount_str)], instrument, frame, TRADES_CHANNEL, book=False
        )[0]
        if size == 0:
            raise BadValue(self.name, TRADES_CHANNEL, frame, "trade of size 0", instrument.symbol)
        if msg.type not in (0, 1):
            raise BadValue(
                self.name, TRADES_CHANNEL, frame, f"trade type {msg.type}", instrument.symbol
            )
        side = _BUY if msg.type == 0 else _SELL
        out.append(
            Trade(self.name, instrument.symbol, stamp * US, recv_ns, price, size, side, str(msg.id))
        )
