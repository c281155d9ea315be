"""OKX v5: the public WebSocket channels and the REST instrument list.

Protocol: ``wss://ws.okx.com:8443/ws/v5/public`` (API v5, 2022-2026 message format) with the
channels ``books`` (also ``books-l2-tbt`` / ``books50-l2-tbt``, same format), ``trades``,
``tickers``, and for derivatives ``funding-rate``, ``mark-price``, ``open-interest`` and
``liquidation-orders``; instruments from ``GET /api/v5/public/instruments?instType=...``.

Book sync, as OKX documents it:

1. subscribing sends a full ``snapshot`` (400 levels), then ``update`` messages with absolute
   sizes for the levels that changed (size ``"0"`` deletes);
2. every message may carry ``checksum``: the signed CRC32 of the top 25 levels interleaved
   ``bid:size:ask:size:...`` with prices and sizes written as OKX writes them. It is verified
   on every message that carries one; a mismatch marks the book OUT_OF_SYNC (counted in
   ``checksums_failed``, not as a gap) and asks for a resync: live, ``resubscribe_frames``
   resubscribes; in a replay the next snapshot restores the book;
3. newer messages carry ``seqId``/``prevSeqId``: an update's ``prevSeqId`` must equal the
   previous message's ``seqId`` (a keep-alive repeats it; a reset after maintenance only lowers
   ``seqId``), anything else is a gap. Since June 2026 OKX sends ``checksum: 0`` (deprecated)
   and relies on the sequence ids; a checksum of 0 is therefore taken as "not sent".

Sizes. OKX quotes spot sizes in the base currency and SWAP/FUTURES sizes in contracts. This
connector converts contracts, exactly, into an amount of currency with each instrument's
contract value (``ctVal * ctMult``), for the book and for every event alike:

- linear contracts (``ctValCcy`` is the base currency, e.g. 0.01 BTC): sizes are in the base
  currency, ``size = contracts * ctVal``;
- inverse contracts (``ctValCcy`` is USD, e.g. 100 USD): sizes are in the *quote* currency,
  ``size = contracts * ctVal``. The base amount, ``contracts * ctVal / price``, is not a finite
  decimal, so keeping it would make the book inexact; ``base_amount()`` gives it as a float.

Either way ``Instrument.size_decimals`` covers the product (lot decimals + contract value
decimals), ``Instrument.contract_size`` says what one contract is, and the checksum divides
the exact size back into the contract count OKX hashed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import ClassVar, Final, cast

import msgspec

from orderscope._compiled import kernel
from orderscope.book import L2Book
from orderscope.errors import (
    BadValue,
    ConfigError,
    MalformedFrame,
    UnsubscribedChannel,
    VenueErrorMessage,
)
from orderscope.fixed import (
    NATIVE_COLUMNS,
    NATIVE_RAW,
    POW10,
    NumberFormatError,
    decimals_of,
    format_fixed,
    parse_fixed,
    parse_fixed_many,
)
from orderscope.model import (
    BookDelta,
    BookSnapshot,
    BookState,
    FundingRate,
    Instrument,
    InstrumentKind,
    Level,
    Liquidation,
    MarketEvent,
    OpenInterest,
    Side,
    Ticker,
    Trade,
)
from orderscope.symbols import unified_symbol
from orderscope.venues.base import (
    BATCH_LEVELS,
    Connection,
    Endpoints,
    KeepAlive,
    SubscribeLimits,
    Venue,
    batched,
    grouped,
)
from orderscope.venues.checksum import CHECKSUM_DEPTH, NATIVE_OKX, interleave, signed_crc32

# Enum members as module constants: on Python 3.11 ``BookState.SYNCED`` goes through
# EnumType.__getattr__ (a Python-level lookup, ~0.3 us a time); a global is a dict read.
_SYNCED = BookState.SYNCED
_BUY = Side.BUY
_SELL = Side.SELL

MS = 1_000_000  # nanoseconds per millisecond
BOOK_CHANNELS = frozenset({"books", "books-l2-tbt", "books50-l2-tbt"})
#: args per subscribe frame: OKX caps a request at 64 KB; 50 args stay far below it
ARGS_PER_FRAME = 50
#: checksum texts (by level) kept per book before the cache starts afresh (prices drift)
TEXT_CACHE_LEVELS = 4096


# -- wire messages -----------------------------------------------------------------------------


class _Arg(msgspec.Struct):
    channel: str
    instId: str = ""
    instType: str = ""


class _Envelope(msgspec.Struct):
    arg: _Arg | None = None
    event: str = ""
    action: str = ""
    data: msgspec.Raw = msgspec.Raw(b"")  # empty when absent
    code: str = ""
    msg: str = ""


class _Book(msgspec.Struct):
    asks: list[tuple[str, ...]]
    bids: list[tuple[str, ...]]
    ts: str
    checksum: int | None = None
    prevSeqId: int | None = None
    seqId: int | None = None


class _RawBook(msgspec.Struct):
    """A book with its level arrays left undecoded, for ``NATIVE_RAW`` to read from the bytes."""

    asks: msgspec.Raw
    bids: msgspec.Raw
    ts: str
    checksum: int | None = None
    prevSeqId: int | None = None
    seqId: int | None = None


class _Trade(msgspec.Struct):
    instId: str
    tradeId: str
    px: str
    sz: str
    side: str  # the taker's side
    ts: str


class _Ticker(msgspec.Struct):
    instId: str
    ts: str
    last: str = ""
    open24h: str = ""
    high24h: str = ""
    low24h: str = ""
    vol24h: str = ""  # base currency (spot), contracts (derivatives)
    bidPx: str = ""
    askPx: str = ""


class _Funding(msgspec.Struct):
    instId: str
    fundingRate: str
    fundingTime: str  # the settlement this rate applies to
    ts: str = ""


class _MarkPrice(msgspec.Struct):
    instId: str
    markPx: str
    ts: str


class _OpenInterest(msgspec.Struct):
    instId: str
    oi: str  # contracts
    ts: str


class _LiquidationDetail(msgspec.Struct):
    side: str  # the liquidation order's side
    bkPx: str
    sz: str  # contracts (SWAP/FUTURES)
    ts: str


class _Liquidations(msgspec.Struct):
    instId: str
    details: list[_LiquidationDetail]


class _InstrumentInfo(msgspec.Struct):
    instType: str
    instId: str
    tickSz: str
    lotSz: str
    baseCcy: str = ""
    quoteCcy: str = ""
    uly: str = ""
    instFamily: str = ""
    ctType: str = ""
    ctVal: str = ""
    ctMult: str = ""
    ctValCcy: str = ""
    settleCcy: str = ""
    expTime: str = ""


class _Instruments(msgspec.Struct):
    code: str
    data: list[_InstrumentInfo]
    msg: str = ""


class _BookFrame(_Envelope):
    """A whole ``books`` frame, decoded in one pass (the envelope alone skips over ``data``,
    which is then parsed a second time): the envelope's fields and types, ``data`` the books."""

    data: list[_Book] | None = None  # type: ignore[assignment]


class _RawBookFrame(_Envelope):
    """``_BookFrame`` with the books' level arrays undecoded (``_RawBook``)."""

    data: list[_RawBook] | None = None  # type: ignore[assignment]


_ENVELOPE = msgspec.json.Decoder(_Envelope)
_BOOK_FRAME = msgspec.json.Decoder(_BookFrame)
#: Book frames in one pass: levels left as bytes for the C kernel when it is loaded.
_FAST_BOOK_FRAME: msgspec.json.Decoder[_BookFrame] | msgspec.json.Decoder[_RawBookFrame] = (
    _BOOK_FRAME if NATIVE_RAW is None else msgspec.json.Decoder(_RawBookFrame)
)
_BOOK_FRAME_PREFIX = '{"arg":{"channel":"books'  # how OKX writes them
_BOOK_FRAME_PREFIX_LEN = len(_BOOK_FRAME_PREFIX)
_BOOKS = msgspec.json.Decoder(list[_Book])
_TRADES = msgspec.json.Decoder(list[_Trade])
_TICKERS = msgspec.json.Decoder(list[_Ticker])
_FUNDING = msgspec.json.Decoder(list[_Funding])
_MARK_PRICES = msgspec.json.Decoder(list[_MarkPrice])
_OPEN_INTEREST = msgspec.json.Decoder(list[_OpenInterest])
_LIQUIDATIONS = msgspec.json.Decoder(list[_Liquidations])
_INSTRUMENTS = msgspec.json.Decoder(_Instruments)
_SIDES = {"buy": _BUY, "sell": _SELL}

#: What ``orderscope._okx.scan_books`` makes of a books frame: (channel, instId, is_snapshot,
#: bids, asks, exch_ns, checksum, prevSeqId, seqId).
_Scanned = tuple[str, str, bool, list[Level], list[Level], int, int | None, int | None, int | None]
_Scanner = Callable[[str | bytes, dict[str, tuple[int, int, int]]], _Scanned | None]


#: ``orderscope._okx.scan_books`` (C): a books frame of the usual shape read in one pass ->
#: exactly what the msgspec path below makes of it (sizes times the contract multiplier); None
#: for any other frame, which then takes that path (so its values and errors are unchanged).
#: Without it, msgspec walks the frame (skipping the levels) and ``_levels`` walks the levels
#: again (docs/PERFORMANCE.md, "Round 3: OKX books frames in one pass").
_SCAN: Final[_Scanner | None] = kernel("_okx", "scan_books")


# -- numbers -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Units:
    """How an instrument's wire sizes become exact sizes: ``parse(wire, decimals) * multiplier``."""

    wire_decimals: int  # decimals of sizes as OKX sends them (contracts, or base for spot)
    multiplier: int  # size units per wire unit: the contract value, scaled (1 for spot)

    @classmethod
    def of(cls, instrument: Instrument) -> _Units:
        if not instrument.contract_size:
            return cls(instrument.size_decimals, 1)
        value_decimals = decimals_of(instrument.contract_size)
        return cls(
            instrument.size_decimals - value_decimals,
            parse_fixed(instrument.contract_size, value_decimals),
        )


def _ms(text: str) -> int:
    """A millisecond timestamp string as nanoseconds (strictly digits: int() allows '1_0')."""
    if not (text.isdigit() and text.isascii()):
        raise NumberFormatError(f"not a millisecond timestamp: {text!r}")
    return int(text) * MS


def _signed_decimal(text: str) -> str:
    """Check a signed decimal string (a funding rate) and return it unchanged."""
    magnitude = text[1:] if text.startswith("-") else text
    parse_fixed(magnitude, len(magnitude))  # any number of decimals, but a plain decimal
    return text


def _rounded(text: str, decimals: int) -> int:
    """A decimal string rounded (half to even) to ``decimals``: for statistics OKX computes in
    floating point, such as open interest ("2216113.01000000309" contracts)."""
    dot = text.find(".")
    places = 0 if dot < 0 else len(text) - dot - 1
    exact = parse_fixed(text, places)
    if places <= decimals:
        return exact * POW10[decimals - places]
    quotient, remainder = divmod(exact, POW10[places - decimals])
    half = POW10[places - decimals] // 2
    if remainder > half or (remainder == half and quotient % 2):
        quotient += 1
    return quotient


def _plain(value: int, decimals: int) -> str:
    """A non-negative scaled int in OKX's minimal decimal text ("30316", "0.00012")."""
    if not decimals:
        return str(value)
    digits = str(value).rjust(decimals + 1, "0")
    frac = digits[-decimals:].rstrip("0")
    return f"{digits[:-decimals]}.{frac}" if frac else digits[:-decimals]


def base_amount(instrument: Instrument, size: int, price: int) -> float:
    """The base-currency amount of a size of this instrument at ``price`` (both scaled ints).

    Spot and linear sizes already are base amounts; inverse sizes are quote amounts (USD), worth
    ``size / price`` of the base currency. A float: the exact value is not a finite decimal.
    """
    amount = size / POW10[instrument.size_decimals]
    if instrument.kind in (InstrumentKind.INVERSE_PERPETUAL, InstrumentKind.INVERSE_FUTURE):
        return amount / (price / POW10[instrument.price_decimals])
    return amount


# -- the connector -----------------------------------------------------------------------------


class Okx(Venue):
    name = "okx"
    capture_prefix = "OKX"
    protocol = "OKX API v5 public WebSocket + REST /api/v5/public/instruments (2022-2026 format)"

    default_endpoints = Endpoints("wss://ws.okx.com:8443", "https://www.okx.com")
    ws_path: ClassVar[str] = "/ws/v5/public"
    inst_types: ClassVar[tuple[str, ...]] = ("SPOT", "SWAP", "FUTURES")  # options: not loaded
    # OKX closes a connection silent for 30 s; the client sends "ping" (answer "pong") sooner.
    keepalive = KeepAlive(ping_text="ping", ping_after_s=20.0, stale_after_s=30.0)
    # OKX asks for fewer than 30 depth channels a connection (counted here over all channels,
    # to stay simple and safe) and takes 3 new connections a second from one IP.
    limits = SubscribeLimits(channels_per_connection=30, connections_per_minute=180)

    def __init__(
        self,
        instruments: Iterable[Instrument],
        symbols: Iterable[str] | None = None,
        *,
        endpoints: Endpoints | None = None,
    ) -> None:
        super().__init__(instruments, symbols, endpoints=endpoints)
        self._units = {i.venue_symbol: _Units.of(i) for i in self.instruments.values()}
        #: what ``_SCAN`` reads levels with: instId -> (price decimals, wire decimals, multiplier)
        self._scan_units = {
            symbol: (self.by_venue_symbol[symbol].price_decimals, u.wire_decimals, u.multiplier)
            for symbol, u in self._units.items()
        }
        self._seq: dict[str, int | None] = {}  # unified symbol -> seqId of the last message
        # Funding and mark price come on two channels; each event carries the latest of both.
        self._funding: dict[str, tuple[str, int]] = {}  # symbol -> (rate, funding time ns)
        self._mark: dict[str, int] = {}  # symbol -> last mark price
        self._texts: dict[str, dict[Level, str]] = {}  # checksum text of each level

    # -- instruments -----------------------------------------------------------------------

    @classmethod
    def parse_instruments(cls, url: str, body: str | bytes) -> list[Instrument]:
        reply = _INSTRUMENTS.decode(body)
        if reply.code != "0":
            raise ConfigError(f"okx instruments: error {reply.code}: {reply.msg}")
        instruments = []
        for info in reply.data:
            instrument = cls._instrument(info)
            if instrument is not None:
                instruments.append(instrument)
        return instruments

    @classmethod
    def _instrument(cls, info: _InstrumentInfo) -> Instrument | None:
        price_decimals = decimals_of(info.tickSz)
        lot_decimals = decimals_of(info.lotSz)
        lot = parse_fixed(info.lotSz, lot_decimals)
        if info.instType == "SPOT":
            return Instrument(
                venue=cls.name,
                symbol=unified_symbol(info.baseCcy, info.quoteCcy),
                venue_symbol=info.instId,
                base=info.baseCcy,
                quote=info.quoteCcy,
                kind=InstrumentKind.SPOT,
                price_decimals=price_decimals,
                size_decimals=lot_decimals,
                tick_size=parse_fixed(info.tickSz, price_decimals),
                lot_size=lot,
            )
        if info.instType not in ("SWAP", "FUTURES") or (
            info.instType == "FUTURES" and not info.expTime.isdigit()
        ):
            return None  # options: no unified option symbols or events in orderscope yet
        base, _, quote = (info.instFamily or info.uly).partition("-")
        inverse = info.ctType == "inverse"
        if info.ctValCcy != (quote if inverse else base):
            return None  # a contract value in some third currency: no exact conversion
        multiplier = info.ctMult or "1"
        value_decimals = decimals_of(info.ctVal) + decimals_of(multiplier)
        value = parse_fixed(info.ctVal, decimals_of(info.ctVal)) * parse_fixed(
            multiplier, decimals_of(multiplier)
        )
        while value_decimals and value % 10 == 0:  # 0.5 x 0.2 is 0.1, not 0.10
            value //= 10
            value_decimals -= 1
        if info.instType == "SWAP":
            kind = InstrumentKind.INVERSE_PERPETUAL if inverse else InstrumentKind.LINEAR_PERPETUAL
            expiry = None
        else:
            kind = InstrumentKind.INVERSE_FUTURE if inverse else InstrumentKind.LINEAR_FUTURE
            expiry = datetime.fromtimestamp(int(info.expTime) / 1000, UTC).strftime("%y%m%d")
        return Instrument(
            venue=cls.name,
            symbol=unified_symbol(base, quote, kind, info.settleCcy or None, expiry),
            venue_symbol=info.instId,
            base=base,
            quote=quote,
            kind=kind,
            price_decimals=price_decimals,
            size_decimals=lot_decimals + value_decimals,
            tick_size=parse_fixed(info.tickSz, price_decimals),
            lot_size=lot * value,
            settle=info.settleCcy or None,
            contract_size=format_fixed(value, value_decimals, strip=True),
        )

    # -- what a live session sends ---------------------------------------------------------

    @classmethod
    def instruments_urls(cls, endpoints: Endpoints) -> list[str]:
        return [f"{endpoints.rest}/api/v5/public/instruments?instType={t}" for t in cls.inst_types]

    def channels_for(self, instrument: Instrument) -> list[str]:
        """The per-instrument channels a live session subscribes to."""
        channels = ["books", "trades", "tickers"]
        if instrument.kind in (InstrumentKind.LINEAR_PERPETUAL, InstrumentKind.INVERSE_PERPETUAL):
            channels += ["funding-rate", "mark-price", "open-interest"]
        elif instrument.kind is not InstrumentKind.SPOT:
            channels += ["mark-price", "open-interest"]
        return channels

    def connections(self, instruments: Sequence[Instrument]) -> list[Connection]:
        """Instruments in order, a new connection whenever the next one would take a connection
        past ``limits.channels_per_connection``; subscribe requests of ``ARGS_PER_FRAME``
        channels. ``liquidation-orders`` is per instrument type: subscribed once, on the first
        connection carrying that type (twice would deliver each liquidation twice)."""
        with_args: list[tuple[Instrument, list[dict[str, str]]]] = []
        liquidations: set[str] = set()
        for instrument in instruments:
            args = [
                {"channel": channel, "instId": instrument.venue_symbol}
                for channel in self.channels_for(instrument)
            ]
            if instrument.kind is not InstrumentKind.SPOT:
                inst_type = "SWAP" if instrument.kind.endswith("perpetual") else "FUTURES"
                if inst_type not in liquidations:
                    liquidations.add(inst_type)
                    args.append({"channel": "liquidation-orders", "instType": inst_type})
            with_args.append((instrument, args))
        url = self.endpoints.ws + self.ws_path
        connections = []
        for group in grouped(
            with_args, lambda pair: len(pair[1]), self.limits.channels_per_connection
        ):
            args = [arg for _, instrument_args in group for arg in instrument_args]
            frames = tuple(_request("subscribe", batch) for batch in batched(args, ARGS_PER_FRAME))
            connections.append(Connection(url, frames, tuple(i.symbol for i, _ in group)))
        return connections

    def resubscribe_frames(self, instrument: Instrument) -> list[str]:
        """Unsubscribe and subscribe the book again: OKX answers with a fresh snapshot."""
        arg = [{"channel": "books", "instId": instrument.venue_symbol}]
        return [_request("unsubscribe", arg), _request("subscribe", arg)]

    # -- subscriptions ---------------------------------------------------------------------

    def on_sent(self, conn: int, text: str, recv_ns: int) -> None:
        if text == "ping":
            return
        try:
            request = msgspec.json.decode(text)
        except msgspec.DecodeError:
            return
        # Unsubscribing takes effect on OKX's acknowledgement, not here: data already on the
        # way is still expected.
        if isinstance(request, dict) and request.get("op") == "subscribe":
            for arg in request.get("args", []):
                if isinstance(arg, dict):
                    self._subscribe(str(arg.get("channel", "")), arg)

    def _subscribe(self, channel: str, arg: dict[str, str] | _Arg) -> None:
        if isinstance(arg, _Arg):
            key = arg.instId or arg.instType
        else:
            key = str(arg.get("instId") or arg.get("instType") or "")
        self.subscriptions.add((channel, key))

    # -- frames ----------------------------------------------------------------------------

    def on_frame(self, conn: int, frame: str | bytes, recv_ns: int, out: list[MarketEvent]) -> None:
        if frame == "pong" or frame == b"pong":
            self.stats.control_frames += 1
            return
        env: _Envelope | None = None
        # (str.startswith parses its arguments as a tuple: a slice compared is cheaper)
        if isinstance(frame, str) and frame[:_BOOK_FRAME_PREFIX_LEN] == _BOOK_FRAME_PREFIX:
            scanned = None if _SCAN is None else _SCAN(frame, self._scan_units)
            if scanned is not None:
                self._on_scanned(scanned, frame, recv_ns, out)
                return
            try:
                env = _FAST_BOOK_FRAME.decode(frame)
            except msgspec.DecodeError:
                env = None  # not a good book frame: the general path below says what is wrong
            if env is not None and not env.data:
                env = None  # no book in it: the general path decides what that means
        if env is None:
            env = self.decode(_ENVELOPE, frame, "?", frame)
        if env.event:
            self._on_event(env, frame)
            return
        if env.arg is None or not env.data:
            raise MalformedFrame(self.name, "?", frame, "neither an event nor channel data")
        channel = env.arg.channel
        if channel == "liquidation-orders":  # per instrument type, not per instrument
            self._on_liquidations(channel, env, frame, recv_ns, out)
            return
        handler = _HANDLERS.get("books" if channel in BOOK_CHANNELS else channel)
        if handler is None:
            key = env.arg.instId or env.arg.instType
            if (channel, key) not in self.subscriptions:
                raise MalformedFrame(self.name, channel, frame, f"unexpected channel {channel!r}")
            self.stats.ignored_frames += 1  # subscribed (candles...) but not normalized
            return
        instrument = self.attribute(channel, env.arg.instId, frame)
        if instrument is None:
            return
        try:  # the handlers parse every number of a message before they change anything
            handler(self, channel, instrument, env, frame, recv_ns, out)
        except NumberFormatError as exc:
            book = channel in BOOK_CHANNELS
            raise BadValue(
                self.name, channel, frame, str(exc), instrument.symbol, book=book
            ) from None

    def _on_event(self, env: _Envelope, frame: str | bytes) -> None:
        if env.event == "error":
            raise VenueErrorMessage(self.name, "event", frame, f"error {env.code}: {env.msg}")
        if env.event == "notice":  # e.g. 64008: closing soon for a service upgrade
            self.request_reconnect()
        if env.arg is not None:
            if env.event == "subscribe":
                self._subscribe(env.arg.channel, env.arg)
            elif env.event == "unsubscribe":
                self.subscriptions.discard((env.arg.channel, env.arg.instId or env.arg.instType))
        # subscribe / unsubscribe acks, notices ("reconnect soon"), channel-conn-count
        self.stats.control_frames += 1

    # -- books -----------------------------------------------------------------------------

    def _on_scanned(
        self, scanned: _Scanned, frame: str, recv_ns: int, out: list[MarketEvent]
    ) -> None:
        """A books frame read by ``_SCAN``: what ``on_frame`` and ``_on_books`` do with it."""
        channel, inst_id, snapshot, bids, asks, exch_ns, checksum, prev_seq, seq = scanned
        instrument = self.attribute(channel, inst_id, frame)
        if instrument is None:
            return
        if snapshot:
            self._snapshot(instrument, seq, checksum, bids, asks, exch_ns, recv_ns, out)
        else:
            self._update(instrument, prev_seq, seq, checksum, bids, asks, exch_ns, recv_ns, out)

    def _on_books(
        self,
        channel: str,
        instrument: Instrument,
        env: _Envelope,
        frame: str | bytes,
        recv_ns: int,
        out: list[MarketEvent],
    ) -> None:
        symbol = instrument.symbol
        data: msgspec.Raw | list[_Book] | list[_RawBook] | None = env.data
        if isinstance(data, list):  # decoded with its frame
            items: list[_Book] | list[_RawBook] = data
        else:
            items = self.decode(_BOOKS, env.data, channel, frame, symbol, book=True)
        if len(items) != 1:
            raise MalformedFrame(self.name, channel, frame, "expected one book", symbol, book=True)
        msg = items[0]
        units = self._units[instrument.venue_symbol]
        levels = self._raw_levels(msg, instrument, units) if isinstance(msg, _RawBook) else None
        if levels is not None:
            bids, asks = levels
        else:
            if isinstance(msg, _RawBook):  # levels the kernel does not take: the typed path,
                # decoding and failing exactly as it does without the kernel
                typed = self.decode(_ENVELOPE, frame, "?", frame).data
                msg = self.decode(_BOOKS, typed, channel, frame, symbol, book=True)[0]
            try:
                bids = self._levels(msg.bids, instrument, units)
                asks = self._levels(msg.asks, instrument, units)
            except IndexError:
                raise MalformedFrame(
                    self.name, channel, frame, "a level needs a price and a size", symbol, book=True
                ) from None
        exch_ns = _ms(msg.ts)
        if env.action == "snapshot":
            self._snapshot(instrument, msg.seqId, msg.checksum, bids, asks, exch_ns, recv_ns, out)
        elif env.action == "update":
            self._update(
                instrument,
                msg.prevSeqId,
                msg.seqId,
                msg.checksum,
                bids,
                asks,
                exch_ns,
                recv_ns,
                out,
            )
        else:
            raise MalformedFrame(
                self.name, channel, frame, f"unknown action {env.action!r}", symbol, book=True
            )

    @staticmethod
    def _raw_levels(
        msg: _RawBook, instrument: Instrument, units: _Units
    ) -> tuple[list[Level], list[Level]] | None:
        """Both sides read by the C kernel from the frame's bytes (levels of strings only, at
        least a price and a size, as ``tuple[str, ...]`` and ``_levels`` demand); None when it
        does not take one of them."""
        if NATIVE_RAW is None:  # (a _RawBook is decoded only when the kernel is loaded)
            return None
        pd, wd, multiplier = instrument.price_decimals, units.wire_decimals, units.multiplier
        bids = NATIVE_RAW(msg.bids, pd, wd, 0, 0, True)
        asks = NATIVE_RAW(msg.asks, pd, wd, 0, 0, True) if bids is not None else None
        if asks is None or bids is None:
            return None
        if multiplier != 1:
            bids = [(p, s * multiplier) for p, s in bids]
            asks = [(p, s * multiplier) for p, s in asks]
        return bids, asks

    def _levels(
        self, raw: list[tuple[str, ...]], instrument: Instrument, units: _Units
    ) -> list[Level]:
        """[price, size, ...] wire levels -> exact levels; IndexError for a level too short."""
        pd, wd, multiplier = instrument.price_decimals, units.wire_decimals, units.multiplier
        levels: list[Level]
        if NATIVE_COLUMNS is not None:  # the C kernel: both paths below in one C loop, faster
            levels = NATIVE_COLUMNS(raw, pd, wd, 0)
            return levels if multiplier == 1 else [(p, s * multiplier) for p, s in levels]
        if len(raw) >= BATCH_LEVELS:  # a snapshot (400 levels): each column as one batch
            try:
                columns = list(zip(*raw, strict=False))  # as many as the shortest level has
                prices = parse_fixed_many(columns[0], pd)
                levels = list(zip(prices, parse_fixed_many(columns[1], wd), strict=True))
            except (IndexError, NumberFormatError):  # the loop below finds the first problem
                pass  # in order, as it would have without this path
            else:
                return levels if multiplier == 1 else [(p, s * multiplier) for p, s in levels]
        # The memo lookup of Venue.parse_levels, written out for this shape of level: a
        # helper called per level would cost more than the lookup it saves.
        known_prices, known_sizes = self.level_memos(pd, wd, len(raw))
        levels = []
        for level in raw:
            p, q = level[0], level[1]
            price = known_prices.get(p)
            if price is None:
                price = known_prices[p] = parse_fixed(p, pd)
            size = known_sizes.get(q)
            if size is None:
                size = known_sizes[q] = parse_fixed(q, wd)
            levels.append((price, size))
        return levels if multiplier == 1 else [(p, s * multiplier) for p, s in levels]

    def _snapshot(
        self,
        instrument: Instrument,
        seq: int | None,
        checksum: int | None,
        bids: list[Level],
        asks: list[Level],
        exch_ns: int,
        recv_ns: int,
        out: list[MarketEvent],
    ) -> None:
        book = self.book(instrument)
        was = book.state
        book.apply_snapshot(bids, asks, seq or 0)
        self._seq[instrument.symbol] = seq
        out.append(
            BookSnapshot(self.name, instrument.symbol, exch_ns, recv_ns, bids, asks, seq or 0)
        )
        if self._verify(book, checksum, exch_ns, recv_ns, out):
            self.synced(book, was, exch_ns, recv_ns, out)

    def _update(
        self,
        instrument: Instrument,
        prev_seq: int | None,
        seq: int | None,
        checksum: int | None,
        bids: list[Level],
        asks: list[Level],
        exch_ns: int,
        recv_ns: int,
        out: list[MarketEvent],
    ) -> None:
        book = self.book(instrument)
        if book.state is not _SYNCED:
            book.counters.skipped_deltas += 1  # waiting for a snapshot
            return
        last = self._seq.get(instrument.symbol)
        if prev_seq is not None and last is not None and prev_seq != last:
            book.counters.skipped_deltas += 1
            self.out_of_sync(
                book,
                f"seqId gap (last seqId={last}, got prevSeqId={prev_seq})",
                exch_ns,
                recv_ns,
                out,
            )
            return
        if seq is not None:
            self._seq[instrument.symbol] = seq
        book.apply_delta(bids, asks, seq or 0)
        out.append(
            BookDelta(
                self.name,
                instrument.symbol,
                exch_ns,
                recv_ns,
                bids,
                asks,
                prev_seq or 0,
                seq or 0,
            )
        )
        self._verify(book, checksum, exch_ns, recv_ns, out)

    def _verify(
        self,
        book: L2Book,
        checksum: int | None,
        exch_ns: int,
        recv_ns: int,
        out: list[MarketEvent],
    ) -> bool:
        """Check OKX's checksum against the book; False (and OUT_OF_SYNC) on a mismatch."""
        if not checksum:  # not sent, or OKX's deprecated constant 0
            return True
        computed = self.checksum(book)
        if computed == checksum:
            book.counters.checksums_ok += 1
            return True
        book.counters.checksums_failed += 1
        self.out_of_sync(
            book,
            f"checksum mismatch (okx {checksum}, book {computed})",
            exch_ns,
            recv_ns,
            out,
            gap=False,
        )
        return False

    def checksum(self, book: L2Book) -> int:
        """OKX's checksum of a book: top 25 levels a side, sizes back in contracts.

        The texts are written from the exact book (so the checksum checks the integers, not a
        copy of the strings): in C when built (``orderscope._checksum`` reads the levels from
        the book and hashes their digits as it writes them), else (and for whatever the C
        leaves to it, e.g. values beyond int64) by ``reference_checksum``.
        """
        instrument = book.instrument
        units = self._units[instrument.venue_symbol]
        pd, wd, multiplier = instrument.price_decimals, units.wire_decimals, units.multiplier
        if NATIVE_OKX is not None:
            ours = NATIVE_OKX(book, CHECKSUM_DEPTH, pd, wd, multiplier)
            if ours is not None:
                return ours
        cache = self._texts.get(instrument.symbol)
        if cache is None or len(cache) > TEXT_CACHE_LEVELS:
            cache = self._texts[instrument.symbol] = {}
        return reference_checksum(book, pd, wd, multiplier, CHECKSUM_DEPTH, cache)

    # -- trades and tickers ----------------------------------------------------------------

    def _on_trades(
        self,
        channel: str,
        instrument: Instrument,
        env: _Envelope,
        frame: str | bytes,
        recv_ns: int,
        out: list[MarketEvent],
    ) -> None:
        symbol = instrument.symbol
        trades = self.decode(_TRADES, env.data, channel, frame, symbol)
        units = self._units[instrument.venue_symbol]
        events: list[MarketEvent] = []
        for t in trades:
            size = parse_fixed(t.sz, units.wire_decimals) * units.multiplier
            side = _SIDES.get(t.side)
            if side is None or size == 0:
                raise NumberFormatError(f"bad trade side {t.side!r} or size {t.sz!r}")
            events.append(
                Trade(
                    self.name,
                    symbol,
                    _ms(t.ts),
                    recv_ns,
                    parse_fixed(t.px, instrument.price_decimals),
                    size,
                    side,
                    t.tradeId,
                )
            )
        out.extend(events)

    def _on_tickers(
        self,
        channel: str,
        instrument: Instrument,
        env: _Envelope,
        frame: str | bytes,
        recv_ns: int,
        out: list[MarketEvent],
    ) -> None:
        symbol = instrument.symbol
        tickers = self.decode(_TICKERS, env.data, channel, frame, symbol)
        units = self._units[instrument.venue_symbol]
        pd = instrument.price_decimals

        def price(text: str) -> int | None:
            return parse_fixed(text, pd) if text else None

        events: list[MarketEvent] = []
        for t in tickers:
            volume = (
                parse_fixed(t.vol24h, units.wire_decimals) * units.multiplier if t.vol24h else None
            )
            events.append(
                Ticker(
                    self.name,
                    symbol,
                    _ms(t.ts),
                    recv_ns,
                    last_price=price(t.last),
                    open_24h=price(t.open24h),
                    high_24h=price(t.high24h),
                    low_24h=price(t.low24h),
                    volume_24h=volume,
                    best_bid=price(t.bidPx),
                    best_ask=price(t.askPx),
                )
            )
        out.extend(events)

    # -- futures data ----------------------------------------------------------------------

    def _on_funding(
        self,
        channel: str,
        instrument: Instrument,
        env: _Envelope,
        frame: str | bytes,
        recv_ns: int,
        out: list[MarketEvent],
    ) -> None:
        symbol = instrument.symbol
        items = self.decode(_FUNDING, env.data, channel, frame, symbol)
        parsed = [
            (_signed_decimal(f.fundingRate), _ms(f.fundingTime), _ms(f.ts) if f.ts else 0)
            for f in items
        ]
        for rate, funding_ns, exch_ns in parsed:
            self._funding[symbol] = (rate, funding_ns)
            out.append(
                FundingRate(
                    self.name,
                    symbol,
                    exch_ns,
                    recv_ns,
                    rate,
                    funding_ns,
                    self._mark.get(symbol),
                )
            )

    def _on_mark_price(
        self,
        channel: str,
        instrument: Instrument,
        env: _Envelope,
        frame: str | bytes,
        recv_ns: int,
        out: list[MarketEvent],
    ) -> None:
        """A mark price becomes a FundingRate event carrying the latest rate, once a rate is
        known; before that (and on dated futures, which have no funding) it is only kept, to
        ride on the next funding event, because the model has no event for a mark price alone."""
        symbol = instrument.symbol
        items = self.decode(_MARK_PRICES, env.data, channel, frame, symbol)
        parsed = [(parse_fixed(m.markPx, instrument.price_decimals), _ms(m.ts)) for m in items]
        for mark, exch_ns in parsed:
            self._mark[symbol] = mark
            funding = self._funding.get(symbol)
            if funding is not None:
                rate, funding_ns = funding
                out.append(FundingRate(self.name, symbol, exch_ns, recv_ns, rate, funding_ns, mark))

    def _on_open_interest(
        self,
        channel: str,
        instrument: Instrument,
        env: _Envelope,
        frame: str | bytes,
        recv_ns: int,
        out: list[MarketEvent],
    ) -> None:
        symbol = instrument.symbol
        items = self.decode(_OPEN_INTEREST, env.data, channel, frame, symbol)
        units = self._units[instrument.venue_symbol]
        parsed = [
            (_rounded(item.oi, units.wire_decimals) * units.multiplier, _ms(item.ts))
            for item in items
        ]
        out.extend(
            OpenInterest(self.name, symbol, exch_ns, recv_ns, open_interest)
            for open_interest, exch_ns in parsed
        )

    def _on_liquidations(
        self, channel: str, env: _Envelope, frame: str | bytes, recv_ns: int, out: list[MarketEvent]
    ) -> None:
        """``liquidation-orders`` is subscribed per instrument type and covers every instrument
        of that type: each one is looked up, and kept only if the session wants it."""
        assert env.arg is not None
        items = self.decode(_LIQUIDATIONS, env.data, channel, frame)
        events: list[MarketEvent] = []
        for item in items:
            instrument = self.instrument(item.instId, channel, frame)
            symbol = instrument.symbol
            if (channel, env.arg.instType) not in self.subscriptions:
                raise UnsubscribedChannel(
                    self.name, channel, frame, f"not subscribed to {channel} {env.arg.instType}"
                )
            if not self.wants(symbol):
                continue
            try:
                events += self._liquidations(item, instrument, recv_ns)
            except NumberFormatError as exc:
                raise BadValue(self.name, channel, frame, str(exc), symbol) from None
            self._symbol_frames[symbol] = self._symbol_frames.get(symbol, 0) + 1
        if not events:
            self.stats.ignored_frames += 1
        out.extend(events)

    def _liquidations(
        self, item: _Liquidations, instrument: Instrument, recv_ns: int
    ) -> list[MarketEvent]:
        units = self._units[item.instId]
        events: list[MarketEvent] = []
        for d in item.details:
            side = _SIDES.get(d.side)
            size = parse_fixed(d.sz, units.wire_decimals) * units.multiplier
            if side is None or size == 0:
                raise NumberFormatError(f"bad side {d.side!r} or size {d.sz!r}")
            price = parse_fixed(d.bkPx, instrument.price_decimals)
            events.append(
                Liquidation(self.name, instrument.symbol, _ms(d.ts), recv_ns, price, size, side)
            )
        return events


def reference_checksum(
    book: L2Book,
    price_decimals: int,
    wire_decimals: int,
    multiplier: int,
    depth: int,
    cache: dict[Level, str],
) -> int:
    """OKX's checksum of the top ``depth`` levels a side, in Python (``Okx.checksum``'s
    reference): sizes divided back into what OKX sent. The top levels change little between
    messages, so each level's text is kept in ``cache`` until its size changes."""
    sides: list[list[str]] = []
    for levels in (book.bids(depth), book.asks(depth)):
        texts: list[str | None] = list(map(cache.get, levels))  # in C: usually all known
        if not all(texts):  # (a text is never empty; ``None in`` would compare each one)
            for index, (price, size) in enumerate(levels):
                if texts[index] is None:
                    size_text = _plain(size // multiplier, wire_decimals)
                    text = f"{_plain(price, price_decimals)}:{size_text}"
                    texts[index] = cache[price, size] = text
        sides.append(cast(list[str], texts))
    return signed_crc32(interleave(sides[0], sides[1]))


def _request(op: str, args: list[dict[str, str]]) -> str:
    return msgspec.json.encode({"op": op, "args": args}).decode()


_HANDLERS = {
    "books": Okx._on_books,
    "trades": Okx._on_trades,
    "tickers": Okx._on_tickers,
    "funding-rate": Okx._on_funding,
    "mark-price": Okx._on_mark_price,
    "open-interest": Okx._on_open_interest,
}
