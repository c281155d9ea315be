"""The peer: cryptofeed 2.4.0 fed the same in-memory frames, to compare against.

cryptofeed's feeds normally own their WebSocket and HTTP connections. Here a feed is built as
a user would build it (its ``subscription`` is the one recorded in the capture's ``VENUE.0``
``configuration:`` line, since these captures were recorded by cryptofeed itself), and then its
own ``message_handler`` is awaited directly with each received frame, in one event loop,
without network:

- the exchange-info requests it makes at construction are answered from ``VENUE.0``;
- the REST book snapshots it requests (Binance, Binance futures, Bitstamp) are answered from
  the capture's ``VENUE.http.*`` responses, by URL;
- its ``subscribe`` coroutines run first, against connections that only record what is sent
  (Bitstamp takes its snapshots there, after a ``sleep(5)`` that is made instant);
- ``checksum_validation=True`` is passed where cryptofeed can verify a venue's checksum.

Every callback is counted, so the report can show that cryptofeed really built its books.
cryptofeed is an optional dependency (the ``bench`` extra); it is imported only here, lazily.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from importlib import metadata
from typing import Any
from unittest import mock

import msgspec

from orderscope.bench.ours import LoadedCapture
from orderscope.bench.timing import clock
from orderscope.capture import RecordKind, VenueCapture
from orderscope.errors import OrderscopeError

PINNED = "2.4.0"  # the release the targets are stated against (the bench extra pins it)
#: Venues whose cryptofeed handler gets ``checksum_validation=True``. cryptofeed 2.4.0 verifies
#: Kraken and OKX books; its Bitfinex handler has no checksum code (and the capture did not ask
#: Bitfinex for checksum frames), so the flag is passed but changes nothing there.
CHECKSUM_VENUES = frozenset({"KRAKEN", "OKX", "BITFINEX"})
LOGGER = "feedhandler"  # cryptofeed's logger

Frame = tuple[int, str | bytes, float]  # (connection, payload, receive time in seconds)


class PeerUnavailable(OrderscopeError):
    """cryptofeed is not installed, or has no feed for this capture."""


def cryptofeed_version() -> str | None:
    try:
        return metadata.version("cryptofeed")
    except metadata.PackageNotFoundError:
        return None


def _exchange_map() -> dict[str, Any]:
    try:
        exchanges = importlib.import_module("cryptofeed.exchanges")
    except ImportError as exc:
        raise PeerUnavailable(
            f"cryptofeed is not installed ({exc}); pip install -e '.[bench]'"
        ) from None
    exchange_map: dict[str, Any] = exchanges.EXCHANGE_MAP
    return exchange_map


def _peer_errors() -> tuple[type[BaseException], ...]:
    """What cryptofeed raises when it cannot digest a frame.

    Its own exceptions (a bad checksum, a missed sequence number, an unknown symbol) and the
    lookup/shape errors a format change makes in its dict-walking handlers. One of these ends
    the peer's run on that capture and is reported, never hidden; anything else propagates.
    """
    exceptions = importlib.import_module("cryptofeed.exceptions")
    own = tuple(
        value
        for value in vars(exceptions).values()
        if isinstance(value, type) and issubclass(value, Exception)
    )
    return (*own, KeyError, IndexError, ValueError, TypeError, AttributeError)


# -- the fakes cryptofeed talks to -------------------------------------------------------------


class _Responses:
    """REST responses by URL, in capture order.

    A URL asked for again after its responses are used up gets the last one again (cryptofeed
    re-requests a snapshot after it resets a book): counted, since such a book starts stale.
    With ``substitute`` (exchange info only, never book snapshots), a URL the capture lacks
    takes the next unused response in file order: the recording was made by cryptofeed and
    some of its endpoints were renamed since. Substitutions are noted in the report.
    """

    def __init__(self, pairs: list[tuple[str, str]], *, substitute: bool = False) -> None:
        self._entries = pairs
        self._substitute = substitute
        self._used = [False] * len(pairs)
        self.substituted: list[str] = []
        self.requests = 0
        self.repeated = 0

    def take(self, url: str) -> str:
        self.requests += 1
        last: str | None = None
        for index, (known, body) in enumerate(self._entries):
            if known == url:
                last = body
                if not self._used[index]:
                    self._used[index] = True
                    return body
        if last is not None:
            self.repeated += 1
            return last
        for index, (known, body) in enumerate(self._entries if self._substitute else ()):
            if not self._used[index]:
                self._used[index] = True
                self.substituted.append(f"asked {url}, served {known}")
                return body
        raise KeyError(f"the capture has no response for {url}")


class _SyncHTTP:
    """Stands in for ``cryptofeed.connection.HTTPSync`` while a feed class loads its symbols."""

    def __init__(self, responses: _Responses) -> None:
        self.responses = responses

    def read(
        self,
        address: str,
        params: object = None,
        headers: object = None,
        json: bool = False,  # cryptofeed's keyword
        text: bool = True,
        uuid: object = None,
    ) -> Any:
        body = self.responses.take(address)
        return _json_decimal(body) if json else body


def _json_decimal(body: str) -> Any:
    return json.loads(body, parse_float=Decimal)  # as cryptofeed parses REST bodies


class _AsyncHTTP:
    """Stands in for a feed's ``http_conn`` (REST book snapshots)."""

    def __init__(self, responses: _Responses) -> None:
        self.responses = responses

    async def read(self, address: str, *args: object, **kwargs: object) -> str:
        return self.responses.take(address)

    async def close(self) -> None:
        return None


@dataclass
class _Conn:
    """A connection as cryptofeed's handlers see it: an id, a subscription, a write()."""

    uuid: str
    subscription: dict[str, list[str]] = field(default_factory=dict)
    sent: int = 0

    @property
    def id(self) -> str:
        return self.uuid

    async def write(self, data: str) -> None:
        self.sent += 1


async def _no_sleep(delay: float, result: object = None) -> object:
    return result


class _CountingHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.count = 0
        self.first: str | None = None

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1
        if self.first is None:
            self.first = record.getMessage()[:200]


@contextmanager
def _quiet_peer() -> Iterator[_CountingHandler]:
    """Count cryptofeed's warnings instead of printing them; make its sleeps instant."""
    logger = logging.getLogger(LOGGER)
    handler = _CountingHandler()
    propagate = logger.propagate
    logger.addHandler(handler)
    logger.propagate = False
    try:
        with mock.patch.object(asyncio, "sleep", _no_sleep):
            yield handler
    finally:
        logger.removeHandler(handler)
        logger.propagate = propagate


# -- loading and driving -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PeerCapture:
    """What cryptofeed needs from a capture, in memory."""

    prefix: str
    feed_cls: Any
    subscription: dict[str, list[str]]
    frames: tuple[Frame, ...]
    snapshots: tuple[tuple[str, str], ...]  # (url, body) of the http files
    checksum_validation: bool
    notes: tuple[str, ...]


def _configuration(capture: VenueCapture) -> dict[str, list[str]]:
    if capture.info is None:
        raise PeerUnavailable(f"{capture.prefix}: no {capture.prefix}.0 beside the capture")
    with capture.info.open(encoding="utf-8") as handle:
        for line in handle:
            if line.startswith("configuration: "):
                return msgspec.json.decode(line.partition(": ")[2], type=dict[str, list[str]])
    raise PeerUnavailable(f"{capture.prefix}.0 has no configuration line (the subscription)")


def load_peer(loaded: LoadedCapture) -> PeerCapture:
    """Read what cryptofeed needs and let its feed class load its symbols (untimed)."""
    feed_cls = _exchange_map().get(loaded.prefix)
    if feed_cls is None:
        raise PeerUnavailable(f"cryptofeed {cryptofeed_version()} has no {loaded.prefix} feed")
    capture = loaded.capture
    info = [
        (r.url, r.payload if isinstance(r.payload, str) else r.payload.decode())
        for r in capture.info_records()
        if r.kind is RecordKind.REST
    ]
    responses = _Responses(info, substitute=True)
    had_own = "http_sync" in vars(feed_cls)
    previous = vars(feed_cls).get("http_sync")
    feed_cls.http_sync = _SyncHTTP(responses)
    try:
        feed_cls.symbol_mapping()
    except _peer_errors() as exc:
        raise PeerUnavailable(f"cryptofeed could not read {loaded.prefix}.0: {exc!r}") from None
    finally:
        if had_own:
            feed_cls.http_sync = previous
        else:
            del feed_cls.http_sync
    frames = tuple(
        (r.conn, r.payload, r.recv_ns / 1e9) for r in loaded.records if r.kind is RecordKind.RECV
    )
    snapshots = tuple(
        (r.url, r.payload if isinstance(r.payload, str) else r.payload.decode())
        for r in loaded.records
        if r.kind is RecordKind.REST
    )
    return PeerCapture(
        loaded.prefix,
        feed_cls,
        _configuration(capture),
        frames,
        snapshots,
        loaded.prefix in CHECKSUM_VENUES,
        tuple(_version_notes() + [f"exchange info: {s}" for s in responses.substituted]),
    )


def _version_notes() -> list[str]:
    version = cryptofeed_version()
    if version == PINNED:
        return []
    return [f"cryptofeed {version} installed: the targets are stated against {PINNED}"]


Callback = Callable[[Any, float], Awaitable[None]]


@dataclass
class _Pass:
    """One fresh feed, wired to fakes, ready to be driven through the capture once."""

    feed: Any
    subscribe: list[tuple[Callable[[_Conn], Awaitable[None]], _Conn]]
    conns: dict[int, _Conn]
    counts: Counter[str]
    responses: _Responses


def _counter(counts: Counter[str], kind: str) -> Callback:
    async def count(obj: Any, receipt_timestamp: float) -> None:
        counts[kind] += 1

    return count


def new_pass(peer: PeerCapture) -> _Pass:
    counts: Counter[str] = Counter()
    kwargs: dict[str, Any] = {}
    if peer.checksum_validation:
        kwargs["checksum_validation"] = True
    feed = peer.feed_cls(
        config={"uvloop": False},
        subscription=peer.subscription,
        callbacks={kind: _counter(counts, kind) for kind in peer.subscription},
        **kwargs,
    )
    responses = _Responses(list(peer.snapshots))
    feed.http_conn = _AsyncHTTP(responses)
    subscribe = [
        (sub, _Conn(f"{peer.prefix}.sub.{i}", dict(conn.subscription or {})))
        for i, (conn, sub, _handler, _auth) in enumerate(feed.connect())
    ]
    conns = {c: _Conn(f"{peer.prefix}.ws.{c}") for c in {f[0] for f in peer.frames}}
    return _Pass(feed, subscribe, conns, counts, responses)


async def _drive(passes: list[_Pass], frames: tuple[Frame, ...]) -> float:
    """Each pass taken out of ``passes``, timed, and let go after it, untimed (as
    ``ours.replay`` does: no pass runs in a heap grown by the ones before it)."""
    seconds = 0.0
    while passes:
        one = passes.pop()
        start = clock()
        await _one_pass(one, frames)
        seconds += clock() - start
        del one  # the feed and its books freed here, untimed
    return seconds


async def _one_pass(one: _Pass, frames: tuple[Frame, ...]) -> None:
    for subscribe, conn in one.subscribe:
        await subscribe(conn)
    handler = one.feed.message_handler
    conns = one.conns
    for conn_id, payload, ts in frames:
        await handler(payload, conns[conn_id], ts)


class PeerFailed(OrderscopeError):
    """cryptofeed raised while digesting the capture."""


def _run(peer: PeerCapture, passes: list[_Pass]) -> tuple[float, _CountingHandler]:
    with _quiet_peer() as warnings, asyncio.Runner() as runner:
        try:
            return runner.run(_drive(passes, peer.frames)), warnings
        except _peer_errors() as exc:
            raise PeerFailed(f"cryptofeed raised {exc!r}") from None


def drive(peer: PeerCapture, passes: list[_Pass]) -> float:
    """Run the passes in one event loop; seconds spent in cryptofeed's code."""
    return _run(peer, passes)[0]


@dataclass(frozen=True, slots=True)
class PeerCounts:
    """What one cryptofeed pass did: its callbacks and the books it ended with."""

    callbacks: dict[str, int]
    book_callbacks: int
    books: int
    book_levels: int
    warnings: int
    first_warning: str | None
    snapshot_requests: int
    repeated_snapshots: int
    top_of_book: dict[str, tuple[Decimal | None, Decimal | None]]  # by venue symbol key


def symbol_key(venue_symbol: str) -> str:
    """A venue symbol with case and separators dropped, to pair the two libraries' books."""
    return "".join(ch for ch in venue_symbol.upper() if ch.isalnum())


def warm_pass(peer: PeerCapture) -> tuple[PeerCounts, float]:
    """One pass, inspected: counts, warnings, books (and its time, to calibrate the samples)."""
    one = new_pass(peer)
    seconds, warnings = _run(peer, [one])
    feed = one.feed
    books: dict[str, Any] = feed._l2_book
    top: dict[str, tuple[Decimal | None, Decimal | None]] = {}
    levels = 0
    for std_symbol, book in books.items():
        bids, asks = book.book.bids, book.book.asks
        levels += len(bids) + len(asks)
        key = symbol_key(feed.std_symbol_to_exchange_symbol(std_symbol))
        top[key] = (
            bids.index(0)[0] if len(bids) else None,
            asks.index(0)[0] if len(asks) else None,
        )
    counts = PeerCounts(
        callbacks=dict(one.counts),
        book_callbacks=one.counts.get("l2_book", 0),
        books=len(books),
        book_levels=levels,
        warnings=warnings.count,
        first_warning=warnings.first,
        snapshot_requests=one.responses.requests,
        repeated_snapshots=one.responses.repeated,
        top_of_book=top,
    )
    return counts, seconds
