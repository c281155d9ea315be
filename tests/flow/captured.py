"""The real captures as per-symbol event streams, for the tests that replay them through the
flow analytics. The capture prefixes come from the venue registry, so a venue merged later is
covered without touching the tests."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from orderscope.model import Event, Instrument
from orderscope.paths import default_captures
from orderscope.replay import Replay
from orderscope.venues import supported_prefixes


def capture_prefixes() -> list[str]:
    folder = default_captures()
    present = {p.name.split(".", 1)[0] for p in folder.iterdir() if ".ws." in p.name}
    return sorted(supported_prefixes() & present)


@dataclass
class Stream:
    instrument: Instrument
    events: list[Event]
    venue_book: tuple[list[tuple[int, int]], list[tuple[int, int]]]
    max_depth: int | None


def streams(captures: Path, prefix: str) -> list[Stream]:
    session = Replay(sorted(captures.glob(f"{prefix}.ws.*")))
    by_symbol: dict[str, list[Event]] = defaultdict(list)
    for _venue, _record, events in session.run():
        for event in events:
            by_symbol[event.symbol].append(event)
    (venue,) = session.venues
    out = []
    for symbol, events in sorted(by_symbol.items()):
        book = venue.books.get(symbol)
        out.append(
            Stream(
                venue.instruments[symbol],
                events,
                (book.bids(), book.asks()) if book else ([], []),
                book.max_depth if book else None,
            )
        )
    return out
