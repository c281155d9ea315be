"""Small helpers shared by the connector tests: build records, feed them, look at a book."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import msgspec

from orderscope.book import L2Book
from orderscope.capture import CaptureRecord, RecordKind
from orderscope.errors import FrameError
from orderscope.model import Instrument, MarketEvent
from orderscope.replay import Replay
from orderscope.venues.base import Connection, Venue, feed

T0 = 1_700_000_000_000_000_000  # an arbitrary receive time (ns)


def opened(url: str, conn: int = 0) -> CaptureRecord:
    return CaptureRecord(T0, RecordKind.OPEN, url, "", conn)


def sent(text: str, conn: int = 0) -> CaptureRecord:
    return CaptureRecord(T0, RecordKind.SENT, "", text, conn)


def received(payload: str | bytes | dict[str, Any], conn: int = 0, at: int = T0) -> CaptureRecord:
    if isinstance(payload, dict):
        payload = msgspec.json.encode(payload).decode()
    return CaptureRecord(at, RecordKind.RECV, "", payload, conn)


def rest(url: str, body: str | dict[str, Any], at: int = T0) -> CaptureRecord:
    if isinstance(body, dict):
        body = msgspec.json.encode(body).decode()
    return CaptureRecord(at, RecordKind.REST, url, body, -2)


def open_live(venue: Venue, instruments: Sequence[Instrument]) -> list[Connection]:
    """Open the venue's ``connections()`` as a live session does (connection n: its open
    record, then its subscribe frames as sent records) and return them."""
    connections = venue.connections(instruments)
    for conn, connection in enumerate(connections):
        run(venue, [opened(connection.url, conn), *(sent(f, conn) for f in connection.subscribe)])
    return connections


def run(venue: Venue, records: Iterable[CaptureRecord]) -> list[MarketEvent]:
    """Feed records the way a session does (bad frames contained) and collect the events."""
    out: list[MarketEvent] = []
    for record in records:
        feed(venue, record, out)
    return out


def book_view(book: L2Book) -> tuple[object, ...]:
    """Everything a half-applied update could change."""
    return (book.state, book.sequence, book.bids(), book.asks(), book.counters.deltas)


def errors(venue: Venue) -> dict[str, int]:
    return dict(venue.stats.errors)


def replay_bytes(paths: list[Path]) -> bytes:
    """The JSON report of a whole replay, as ``orderscope replay --json`` prints it."""
    session = Replay(paths)
    session.run_all()
    return msgspec.json.encode(session.report())


def outcome(venue: Venue, records: Iterable[CaptureRecord]) -> list[object]:
    """Every event and error of ``venue`` fed ``records``, then its stats and books: what a C
    frame scanner and the msgspec path it stands in for must agree on."""
    seen: list[object] = []
    for record in records:
        out: list[MarketEvent] = []
        if record.kind is not RecordKind.RECV:
            feed(venue, record, out)
            continue
        try:
            venue.on_frame(record.conn, record.payload, record.recv_ns, out)
        except FrameError as exc:
            seen.append(
                ("error", type(exc).__name__, exc.channel, exc.reason, exc.symbol, exc.book)
            )
            out.clear()
            venue.handle_error(exc, record.recv_ns, out)
        seen.extend(out)
    stats = venue.stats  # but its recent errors, whose frame clips differ by the spaces
    seen.append((stats.frames, stats.control_frames, stats.ignored_frames, stats.errors))
    seen.append(sorted(venue.symbol_frames.items()))
    seen.extend(
        (s, b.state, b.counters, b.bids(), b.asks()) for s, b in sorted(venue.books.items())
    )
    return seen


def bent(
    records: Sequence[CaptureRecord], bends: Iterable[tuple[int, str, str]]
) -> list[CaptureRecord]:
    """``records`` with each ``(at, old, new)`` of ``bends`` applied once to the frame at ``at``
    (which must hold ``old``): frames a C scanner leaves to the reference, among the usual ones."""
    records = list(records)
    for at, old, new in bends:
        r = records[at]
        assert isinstance(r.payload, str) and old in r.payload
        records[at] = CaptureRecord(
            r.recv_ns, r.kind, r.url, r.payload.replace(old, new, 1), r.conn
        )
    return records


def respaced(record: CaptureRecord) -> CaptureRecord:
    """The same JSON with spaces: never a C scanner's shape, so the msgspec path reads it."""
    if record.kind is not RecordKind.RECV:
        return record
    assert isinstance(record.payload, str)
    text = json.dumps(json.loads(record.payload))
    return CaptureRecord(record.recv_ns, record.kind, record.url, text, record.conn)
