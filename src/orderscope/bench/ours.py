"""orderscope's side of the capture benchmark: the replay path, records already in memory.

What is timed is exactly what ``orderscope replay`` does per record (``venues.base.feed``:
parse, validate, sync rules, book updates, checksums, events), minus what a live session would
not repeat: reading the files and parsing the venue's instrument list happen once, before.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from orderscope.bench.timing import clock
from orderscope.capture import CaptureRecord, RecordKind, VenueCapture
from orderscope.model import Instrument, MarketEvent
from orderscope.replay import load_venue
from orderscope.venues.base import Venue, feed


@dataclass(frozen=True, slots=True)
class LoadedCapture:
    """A venue's capture read into memory, with the connector class and its instruments."""

    capture: VenueCapture
    venue_cls: type[Venue]
    instruments: tuple[Instrument, ...]
    records: tuple[CaptureRecord, ...]

    @property
    def prefix(self) -> str:
        return self.capture.prefix

    @property
    def frames(self) -> int:
        return sum(1 for r in self.records if r.kind is RecordKind.RECV)

    def new_venue(self) -> Venue:
        return self.venue_cls(self.instruments, None)


def load_capture(capture: VenueCapture) -> LoadedCapture:
    venue = load_venue(capture)
    return LoadedCapture(
        capture,
        type(venue),
        tuple(venue.instruments.values()),
        tuple(capture.records()),
    )


def replay(venues: list[Venue], records: Sequence[CaptureRecord]) -> float:
    """Feed every record to each venue in turn; seconds taken.

    Each venue is taken out of ``venues`` for its pass and let go after it, outside the timer
    (``cryptofeed_peer`` does the same with its passes): a sample's passes then run in the
    memory the previous pass freed, instead of each growing the heap by a whole set of books
    that the harness alone keeps alive (fresh pages, cold caches: the small captures' figures
    swung by half from run to run)."""
    out: list[MarketEvent] = []
    seconds = 0.0
    while venues:
        venue = venues.pop()
        start = clock()
        for record in records:
            feed(venue, record, out)
            out.clear()
        seconds += clock() - start
        del venue  # the connector and its books freed here, untimed
    return seconds


@dataclass(frozen=True, slots=True)
class ReplayCounts:
    """What one replay pass did, to show the work was real (and the same on every pass)."""

    frames: int
    books: int
    levels: int  # level updates applied, snapshot levels included
    snapshots: int
    deltas: int
    checksums_ok: int
    checksums_failed: int
    gaps: int
    errors: int

    @classmethod
    def of(cls, venue: Venue) -> ReplayCounts:
        books = venue.books.values()
        return cls(
            frames=venue.stats.frames,
            books=len(venue.books),
            levels=sum(b.counters.levels_applied for b in books),
            snapshots=sum(b.counters.snapshots for b in books),
            deltas=sum(b.counters.deltas for b in books),
            checksums_ok=sum(b.counters.checksums_ok for b in books),
            checksums_failed=sum(b.counters.checksums_failed for b in books),
            gaps=sum(b.counters.gaps for b in books),
            errors=sum(venue.stats.errors.values()),
        )
