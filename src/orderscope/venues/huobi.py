"""HTX (Huobi) spot: the market WebSocket ``wss://api.huobi.pro/ws``.

Protocol: the HTX spot market WebSocket (``/ws``), in its 2017-2026 format. Every frame the
venue sends is gzip-compressed JSON in a binary WebSocket frame. The client subscribes with
``{"sub": "market.<symbol>.<topic>", "id": ...}`` and gets ``{"id", "status": "ok", "subbed"}``
(or ``{"status": "error", "err-code", "err-msg"}``). Data frames are ``{"ch", "ts", "tick"}``:

- ``market.<symbol>.depth.step0``: the top 150 levels of each side at full price precision, a
  whole book in every message (``tick.version`` is the book's version).
- ``market.<symbol>.trade.detail``: one or more trades; ``direction`` is the taker's side and
  ``tradeId`` the trade id (HTX retires the older ``id`` field in its favour).

Heartbeat: the server sends ``{"ping": N}`` every few seconds and closes the connection after a
few unanswered ones; the client must answer ``{"pong": N}``. The connector cannot send, so it
appends the answer to ``replies``, which a live transport drains after each frame (in replay
the capture already holds the pongs that were sent; they are only counted).

Prices and sizes are JSON numbers (``9.121E-7``), converted exactly (``parse_float_exact``: the
shortest decimal of the double, never rounded). Prices sit on the ``price-precision`` grid of
``/v1/common/symbols`` and a price off it is rejected. Sizes do not always sit on
``amount-precision``: HTX computes some book sizes as doubles (``0.575610404535042`` on a
6-decimal pair), so sizes are kept at ``SIZE_DECIMALS`` (10, the digits past it rounded half to
even: see the constant) and ``lot_size`` records the order-entry step.

Book sync: there is none to keep. Each ``depth.step0`` message replaces the book, so a lost
message only costs freshness and no gap can exist between two messages. A book is SYNCED from its
first message on; a bad depth frame marks it OUT_OF_SYNC (it may now be stale) and the next
message (about one a second per symbol in the capture) restores it without any REST request.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterable, Sequence
from typing import ClassVar, cast

import msgspec

from orderscope._compiled import kernel
from orderscope.errors import BadValue, MalformedFrame, VenueErrorMessage
from orderscope.fixed import (
    NATIVE_RAW_FLOATS,
    POW10,
    NumberFormatError,
    parse_float_exact,
    parse_float_rounded,
)
from orderscope.model import (
    BookSnapshot,
    Instrument,
    InstrumentKind,
    Level,
    MarketEvent,
    Side,
    Trade,
)
from orderscope.symbols import unified_symbol
from orderscope.venues.base import PARSE_MEMO_LIMIT, Connection, Endpoints, KeepAlive, Venue

# Enum members as module constants: on Python 3.11 ``BookState.SYNCED`` goes through
# EnumType.__getattr__ (a Python-level lookup, ~0.3 us a time); a global is a dict read.
_BUY = Side.BUY
_SELL = Side.SELL

MS = 1_000_000  # nanoseconds per millisecond
#: Sizes are kept at this many decimals (at least): HTX book and trade sizes are doubles that
#: often fall off the order-entry grid (``amount-precision``), e.g. ``0.575610404535042`` on a
#: 6-decimal pair. Every digit of them would need 15+ decimals, which with sizes up to 1e9
#: units does not fit the int64 columns the analytics work on; at 10 decimals the digits past
#: 1e-10 unit are rounded half to even (``parse_float_rounded``), below the double's own
#: precision for any size of 1e5 units and up.
SIZE_DECIMALS = 10
DEPTH_CHANNEL = "depth.step0"
TRADES_CHANNEL = "trade.detail"
_GZIP_WBITS = 16 + zlib.MAX_WBITS  # zlib header detection for the gzip container


class _Envelope(msgspec.Struct):
    ch: str = ""
    ts: int = 0
    tick: msgspec.Raw = msgspec.Raw(b"")
    ping: int | None = None
    status: str = ""
    subbed: str = ""
    unsubbed: str = ""
    id: int | str | None = None
    err_code: str = msgspec.field(default="", name="err-code")
    err_msg: str = msgspec.field(default="", name="err-msg")


class _Depth(msgspec.Struct):
    bids: list[tuple[float, float]]
    asks: list[tuple[float, float]]
    version: int = 0
    ts: int = 0


class _TradeItem(msgspec.Struct):
    tradeId: int
    ts: int
    price: float
    amount: float
    direction: str  # "buy" / "sell": the taker's side


class _Trades(msgspec.Struct):
    data: list[_TradeItem]
    ts: int = 0


class _SymbolInfo(msgspec.Struct):
    symbol: str
    base_currency: str = msgspec.field(name="base-currency")
    quote_currency: str = msgspec.field(name="quote-currency")
    price_precision: int = msgspec.field(name="price-precision")
    amount_precision: int = msgspec.field(name="amount-precision")
    state: str = ""


class _Symbols(msgspec.Struct):
    data: list[_SymbolInfo]
    status: str = "ok"


class _DepthFrame(_Envelope):
    """A whole depth frame, decoded in one pass (the envelope alone would skip over the tick,
    and the tick would then be parsed a second time): the envelope's fields and types, the
    tick a ``_Depth``."""

    tick: _Depth | None = None  # type: ignore[assignment]


class _RawDepth(msgspec.Struct):
    """``_Depth`` with the level arrays left as JSON, for ``NATIVE_RAW_FLOATS``."""

    bids: msgspec.Raw
    asks: msgspec.Raw
    version: int = 0
    ts: int = 0


class _RawDepthFrame(_Envelope):
    """``_DepthFrame`` with a ``_RawDepth`` tick (same fields, same types elsewhere)."""

    tick: _RawDepth | None = None  # type: ignore[assignment]


_ENVELOPE = msgspec.json.Decoder(_Envelope)
_DEPTH_FRAME = msgspec.json.Decoder(_DepthFrame)
_RAW_DEPTH_FRAME = msgspec.json.Decoder(_RawDepthFrame)
_DEPTH = msgspec.json.Decoder(_Depth)
_TRADES = msgspec.json.Decoder(_Trades)
_SYMBOLS = msgspec.json.Decoder(_Symbols)
_SIDES = {"buy": _BUY, "sell": _SELL}

#: What ``orderscope._huobi.scan_depth`` cuts a depth frame into: (symbol, bids, asks, ts,
#: version, tick ts), the two level arrays as their bytes.
_Cut = tuple[str, bytes, bytes, int, int, int]

#: ``orderscope._huobi.scan_depth`` (C): a depth frame of the usual shape cut into what
#: ``_RAW_DEPTH_FRAME`` decodes from it, without msgspec's pass over the levels (which
#: ``NATIVE_RAW_FLOATS`` then reads anyway); None for any other frame, which msgspec decodes.
_CUT: Callable[[bytes], _Cut | None] | None = kernel("_huobi", "scan_depth")
#: ``orderscope._huobi.reuse_levels`` (C): a side's levels from its bytes and the previous
#: frame's (bytes, levels) of the same side, only the levels not sent before parsed (by
#: ``NATIVE_RAW_FLOATS``); None when it does not take them (they are then parsed whole).
_REUSE: (
    Callable[
        [bytes, bytes, list[Level], int, int, Callable[[bytes, int, int], list[Level] | None]],
        list[Level] | None,
    ]
    | None
) = kernel("_huobi", "reuse_levels")
#: ``NATIVE_RAW_FLOATS`` as ``orderscope._levels`` types it: it reads bytes as well as a Raw.
_RAW_FLOATS = cast(
    Callable[[bytes | msgspec.Raw, int, int], list[Level] | None] | None, NATIVE_RAW_FLOATS
)


class Huobi(Venue):
    name = "huobi"
    default_endpoints = Endpoints("wss://api.huobi.pro", "https://api.huobi.pro")
    ws_path: ClassVar[str] = "/ws"
    capture_prefix = "HUOBI"
    protocol = "HTX (Huobi) spot market WebSocket v1, gzip frames (2017-2026 format)"
    #: The server pings every 5 s and the client only answers (``replies``): nothing to send on
    #: a timer, and 20 s without a frame is a dead connection.
    keepalive = KeepAlive(stale_after_s=20.0)

    def __init__(
        self,
        instruments: Iterable[Instrument],
        symbols: Iterable[str] | None = None,
        *,
        endpoints: Endpoints | None = None,
    ) -> None:
        super().__init__(instruments, symbols, endpoints=endpoints)
        self.pings = 0  # pings received (each answered in ``replies``)
        #: symbol -> the last depth frame's (bids bytes, bids, asks bytes, asks), for _REUSE
        self._last_depth: dict[str, tuple[bytes, list[Level], bytes, list[Level]]] = {}
        #: (price decimals, size decimals) -> {(price, size) as sent: the exact level}
        self._levels_memo: dict[tuple[int, int], dict[tuple[float, float], Level]] = {}

    # -- instruments -----------------------------------------------------------------------

    @classmethod
    def parse_instruments(cls, url: str, body: str | bytes) -> list[Instrument]:
        if "/common/symbols" not in url:
            return []
        instruments = []
        for s in _SYMBOLS.decode(body).data:
            base, quote = s.base_currency.upper(), s.quote_currency.upper()
            instruments.append(
                Instrument(
                    venue=cls.name,
                    symbol=unified_symbol(base, quote),
                    venue_symbol=s.symbol,
                    base=base,
                    quote=quote,
                    kind=InstrumentKind.SPOT,
                    price_decimals=s.price_precision,
                    size_decimals=max(s.amount_precision, SIZE_DECIMALS),
                    tick_size=1,
                    lot_size=POW10[max(0, SIZE_DECIMALS - s.amount_precision)],
                )
            )
        return instruments

    # -- what a live session sends ---------------------------------------------------------

    @classmethod
    def instruments_urls(cls, endpoints: Endpoints) -> list[str]:
        return [f"{endpoints.rest}/v1/common/symbols"]

    def connections(self, instruments: Sequence[Instrument]) -> list[Connection]:
        """One connection, one ``sub`` request per topic (the venue takes one topic a request).

        No ``resubscribe_frames``: every depth message is a whole book."""
        topics = [
            f"market.{i.venue_symbol}.{channel}"
            for i in instruments
            for channel in (DEPTH_CHANNEL, TRADES_CHANNEL)
        ]
        frames = tuple(
            msgspec.json.encode({"sub": topic, "id": str(n)}).decode()
            for n, topic in enumerate(topics, 1)
        )
        url = self.endpoints.ws + self.ws_path
        return [Connection(url, frames, tuple(i.symbol for i in instruments))]

    # -- subscriptions ---------------------------------------------------------------------

    def on_sent(self, conn: int, text: str, recv_ns: int) -> None:
        try:
            request = msgspec.json.decode(text)
        except msgspec.DecodeError:
            return
        if isinstance(request, dict) and isinstance(request.get("sub"), str):
            parsed = _split_topic(request["sub"])
            if parsed is not None:
                self.subscriptions.add((parsed[1], parsed[0]))

    # -- frames ----------------------------------------------------------------------------

    def on_frame(self, conn: int, frame: str | bytes, recv_ns: int, out: list[MarketEvent]) -> None:
        text = self._gunzip(frame)
        if b".depth." in text[:64]:  # a depth frame (ch comes first): decoded in one pass
            if NATIVE_RAW_FLOATS is not None and self._on_raw_depth(text, recv_ns, out):
                return
            try:
                whole = _DEPTH_FRAME.decode(text)
            except msgspec.DecodeError:
                pass  # not a good depth frame: the general path below says what is wrong
            else:
                parsed = _split_topic(whole.ch)
                if whole.tick is not None and parsed is not None and parsed[1] == DEPTH_CHANNEL:
                    self._on_depth(parsed[0], whole.ts, whole.tick, text, recv_ns, out)
                    return
        env = self.decode(_ENVELOPE, text, "?", text)
        if env.ch:
            self._on_data(env, text, recv_ns, out)
        elif env.ping is not None:
            self.stats.control_frames += 1
            self.pings += 1
            self.replies.append((conn, f'{{"pong":{env.ping}}}'))
        elif env.status == "error":
            raise VenueErrorMessage(
                self.name, "control", text, f"error {env.err_code}: {env.err_msg}"
            )
        elif env.status == "ok" and (env.subbed or env.unsubbed):
            self.stats.control_frames += 1
        else:
            raise MalformedFrame(self.name, "?", text, "neither a data frame nor a control reply")

    def _on_raw_depth(self, text: bytes, recv_ns: int, out: list[MarketEvent]) -> bool:
        """A depth frame with its levels read by the C kernel from the JSON numbers' text (no
        float objects, no memo lookups); False, having changed nothing, for a frame it does not
        take, which the typed path then handles as always (same values, same errors)."""
        assert _RAW_FLOATS is not None
        cut = None if _CUT is None else _CUT(text)
        raw_bids: bytes | msgspec.Raw
        raw_asks: bytes | msgspec.Raw
        if cut is not None:
            symbol, raw_bids, raw_asks, ts, version, tick_ts = cut
        else:
            try:
                whole = _RAW_DEPTH_FRAME.decode(text)
            except msgspec.DecodeError:
                return False
            parsed = _split_topic(whole.ch)
            tick = whole.tick
            if tick is None or parsed is None or parsed[1] != DEPTH_CHANNEL:
                return False
            symbol, raw_bids, raw_asks = parsed[0], tick.bids, tick.asks
            ts, version, tick_ts = whole.ts, tick.version, tick.ts
        # The instrument ``attribute`` returns (it routes through ``by_venue_symbol``), looked
        # up without its checks and counters: those run only once the levels are known good.
        hint = self.by_venue_symbol.get(symbol)
        if hint is None:
            return False
        pd, sd = hint.price_decimals, hint.size_decimals
        last = self._last_depth.get(symbol) if cut is not None else None
        bids = asks = None
        if last is not None and _REUSE is not None:
            bids = _REUSE(raw_bids, last[0], last[1], pd, sd, _RAW_FLOATS)
            asks = _REUSE(raw_asks, last[2], last[3], pd, sd, _RAW_FLOATS)
        if bids is None:
            bids = _RAW_FLOATS(raw_bids, pd, sd)
            if bids is None:
                return False
        if asks is None:
            asks = _RAW_FLOATS(raw_asks, pd, sd)
            if asks is None:
                return False
        if cut is not None:  # a pure function's memo: kept whatever happens to the frame next
            self._last_depth[symbol] = (cut[1], bids, cut[2], asks)
        instrument = self.attribute(DEPTH_CHANNEL, symbol, text)
        if instrument is not None:
            self._snapshot(instrument, bids, asks, version, (tick_ts or ts) * MS, recv_ns, out)
        return True

    def _gunzip(self, frame: str | bytes) -> bytes:
        if isinstance(frame, str):
            raise MalformedFrame(self.name, "?", frame, "a text frame: HTX sends gzip binary")
        try:
            return zlib.decompress(frame, _GZIP_WBITS)
        except zlib.error as exc:
            raise MalformedFrame(self.name, "?", frame, f"bad gzip: {exc}") from None

    def _on_data(self, env: _Envelope, text: bytes, recv_ns: int, out: list[MarketEvent]) -> None:
        parsed = _split_topic(env.ch)
        if parsed is None:
            raise MalformedFrame(self.name, "?", text, f"unexpected channel {env.ch!r}")
        venue_symbol, channel = parsed
        if not env.tick:
            raise MalformedFrame(self.name, channel, text, "data frame without a tick")
        if channel == DEPTH_CHANNEL:
            self._on_depth(venue_symbol, env.ts, env.tick, text, recv_ns, out)
        elif channel == TRADES_CHANNEL:
            self._on_trades(venue_symbol, env.tick, text, recv_ns, out)
        elif self.attribute(channel, venue_symbol, text) is not None:
            self.stats.ignored_frames += 1  # subscribed (bbo, kline...), not normalized

    def _on_depth(
        self,
        venue_symbol: str,
        envelope_ts: int,
        tick: _Depth | msgspec.Raw,
        text: bytes,
        recv_ns: int,
        out: list[MarketEvent],
    ) -> None:
        instrument = self.attribute(DEPTH_CHANNEL, venue_symbol, text)
        if instrument is None:
            return
        msg = (
            self.decode(_DEPTH, tick, DEPTH_CHANNEL, text, instrument.symbol, book=True)
            if isinstance(tick, msgspec.Raw)
            else tick  # decoded with its frame
        )
        bids = self._levels(msg.bids, instrument, text)
        asks = self._levels(msg.asks, instrument, text)
        self._snapshot(
            instrument, bids, asks, msg.version, (msg.ts or envelope_ts) * MS, recv_ns, out
        )

    def _snapshot(
        self,
        instrument: Instrument,
        bids: list[Level],
        asks: list[Level],
        version: int,
        exch_ns: int,
        recv_ns: int,
        out: list[MarketEvent],
    ) -> None:
        book = self.book(instrument)
        was = book.state
        book.apply_snapshot(bids, asks, version)
        out.append(
            BookSnapshot(self.name, instrument.symbol, exch_ns, recv_ns, bids, asks, version)
        )
        self.synced(book, was, exch_ns, recv_ns, out)

    def _levels(
        self, raw: list[tuple[float, float]], instrument: Instrument, text: bytes
    ) -> list[Level]:
        pd, sd = instrument.price_decimals, instrument.size_decimals
        # Every frame is a whole book, mostly the previous one's levels again: a level as sent
        # (a tuple of two floats) is looked up whole, in a C loop, and parsed only when new.
        known = self._levels_memo.get((pd, sd)) or self._levels_memo.setdefault((pd, sd), {})
        found: list[Level | None] = list(map(known.get, raw))
        if all(found):  # (a level is a non-empty tuple; ``None in`` would compare each one)
            return cast(list[Level], found)
        try:
            for index, level in enumerate(raw):  # in order: the first bad level is reported
                if found[index] is None:
                    p, q = level
                    parsed = (parse_float_exact(p, pd), parse_float_rounded(q, sd))
                    if len(known) >= PARSE_MEMO_LIMIT:
                        known.clear()
                    found[index] = known[level] = parsed
            return cast(list[Level], found)
        except NumberFormatError as exc:
            raise BadValue(
                self.name, DEPTH_CHANNEL, text, str(exc), instrument.symbol, book=True
            ) from None

    def _on_trades(
        self,
        venue_symbol: str,
        tick: msgspec.Raw,
        text: bytes,
        recv_ns: int,
        out: list[MarketEvent],
    ) -> None:
        instrument = self.attribute(TRADES_CHANNEL, venue_symbol, text)
        if instrument is None:
            return
        msg = self.decode(_TRADES, tick, TRADES_CHANNEL, text, instrument.symbol)
        pd, sd = instrument.price_decimals, instrument.size_decimals
        trades = []
        for item in msg.data:  # every trade is checked before any is emitted
            try:
                price = parse_float_exact(item.price, pd)
                size = parse_float_rounded(item.amount, sd)
            except NumberFormatError as exc:
                raise BadValue(
                    self.name, TRADES_CHANNEL, text, str(exc), instrument.symbol
                ) from None
            side = _SIDES.get(item.direction)
            if side is None or size == 0:
                reason = "trade of size 0" if side else f"direction {item.direction!r}"
                raise BadValue(self.name, TRADES_CHANNEL, text, reason, instrument.symbol)
            trades.append(
                Trade(
                    self.name,
                    instrument.symbol,
                    item.ts * MS,
                    recv_ns,
                    price,
                    size,
                    side,
                    str(item.tradeId),
                )
            )
        out.extend(trades)


def _split_topic(topic: str) -> tuple[str, str] | None:
    """``market.btcusdt.depth.step0`` -> (``btcusdt``, ``depth.step0``)."""
    prefix, _, rest = topic.partition(".")
    symbol, _, channel = rest.partition(".")
    if prefix != "market" or not symbol or not channel:
        return None
    return symbol, channel
