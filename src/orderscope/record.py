"""Recording: a live session's raw records written in the capture format the replay reads.

One file per WebSocket connection (``PREFIX.ws.CONN.PART``), the REST snapshots in
``PREFIX.http.0.PART`` and the exchange-info responses in ``PREFIX.0``. A file is rotated (PART
+1) when it grows past ``rotate_bytes`` or gets older than ``rotate_seconds`` of receive time;
a rotated WebSocket file starts again with the connection's open line, so each part replays on
its own. Replaying a recording runs the same connector over the same records in the same order
(the live session makes receive times strictly increasing), so it rebuilds the same books.

``record_live`` is the ``orderscope record`` command: a live session written by a
``CaptureRecorder``, with a status line (Rich) until a duration has passed or Ctrl-C.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from rich.console import Console
from rich.text import Text

from orderscope.capture import CaptureRecord, CaptureWriter, RecordKind
from orderscope.ladder import live_view
from orderscope.live import LiveSession, run_live
from orderscope.model import BookState, MarketEvent, Trade
from orderscope.venues import venue_class
from orderscope.venues.base import Endpoints, Venue

NS = 1_000_000_000


@dataclass
class _OpenFile:
    handle: TextIO
    writer: CaptureWriter
    part: int
    opened_ns: int
    open_record: CaptureRecord | None  # repeated at the top of each rotated ws part


class CaptureRecorder:
    """Implements ``live.Recorder``: writes records as capture files under ``out_dir``."""

    def __init__(
        self,
        out_dir: Path,
        prefix: str,
        *,
        rotate_bytes: int = 256 * 2**20,
        rotate_seconds: float = 3600.0,
    ) -> None:
        self.out_dir = out_dir
        self.prefix = prefix
        self.rotate_bytes = rotate_bytes
        self.rotate_ns = int(rotate_seconds * NS)
        self.records = 0
        self._files: dict[str, _OpenFile] = {}
        out_dir.mkdir(parents=True, exist_ok=True)

    def _key(self, record: CaptureRecord) -> str:
        if record.kind is RecordKind.REST:
            return "info" if record.conn < 0 else "http"
        return f"ws.{record.conn}"

    def _path(self, key: str, part: int) -> Path:
        if key == "info":
            return self.out_dir / f"{self.prefix}.0"
        kind, _, conn = key.partition(".")
        return self.out_dir / f"{self.prefix}.{kind}.{conn or 0}.{part}"

    def write(self, record: CaptureRecord) -> None:
        key = self._key(record)
        current = self._files.get(key)
        if current is not None and key != "info" and self._due(current, record):
            self._rotate(key, current, record)
            current = self._files[key]
        if current is None:
            current = self._open(key, 0, record.recv_ns, None)
        if record.kind is RecordKind.OPEN:
            current.open_record = record
        current.writer.write(record)
        self.records += 1

    def _due(self, current: _OpenFile, record: CaptureRecord) -> bool:
        return (
            current.handle.tell() >= self.rotate_bytes
            or record.recv_ns - current.opened_ns >= self.rotate_ns
        )

    def _open(
        self, key: str, part: int, now_ns: int, open_record: CaptureRecord | None
    ) -> _OpenFile:
        handle = self._path(key, part).open("a", encoding="utf-8", newline="\n")
        opened = _OpenFile(handle, CaptureWriter(handle), part, now_ns, open_record)
        self._files[key] = opened
        return opened

    def _rotate(self, key: str, current: _OpenFile, record: CaptureRecord) -> None:
        current.handle.close()
        fresh = self._open(key, current.part + 1, record.recv_ns, current.open_record)
        if current.open_record is not None and record.kind is not RecordKind.OPEN:
            opening = current.open_record
            fresh.writer.write(
                CaptureRecord(record.recv_ns - 1, RecordKind.OPEN, opening.url, "", opening.conn)
            )

    def flush(self) -> None:
        for current in self._files.values():
            current.handle.flush()

    def close(self) -> None:
        for current in self._files.values():
            current.handle.close()
        self._files.clear()


def record_live(
    venue_name: str,
    symbols: Sequence[str],
    out_dir: Path,
    *,
    endpoints: Endpoints | None = None,
    duration_s: float | None = None,
    rotate_bytes: int = 256 * 2**20,
    rotate_seconds: float = 3600.0,
    console: Console | None = None,
) -> CaptureRecorder:
    """Record a live session of ``symbols`` into ``out_dir`` until ``duration_s`` or Ctrl-C."""
    prefix = venue_class(venue_name).capture_prefix
    recorder = CaptureRecorder(
        out_dir, prefix, rotate_bytes=rotate_bytes, rotate_seconds=rotate_seconds
    )
    counts: Counter[str] = Counter()
    started = time.monotonic()

    def count(_venue: Venue, events: list[MarketEvent]) -> None:
        counts["trades"] += sum(1 for e in events if type(e) is Trade)

    def status(session: LiveSession) -> Text:
        venue = session.venue
        states = Counter(state.value for state in session.states.values())
        connections = ", ".join(f"{n} {state}" for state, n in sorted(states.items()))
        synced = sum(1 for b in venue.books.values() if b.state is BookState.SYNCED)
        gaps = sum(b.counters.gaps for b in venue.books.values())
        errors = sum(venue.stats.errors.values())
        elapsed = int(time.monotonic() - started)
        return Text.assemble(
            ("● rec ", "bold red"),
            f"{elapsed // 3600:02d}:{elapsed // 60 % 60:02d}:{elapsed % 60:02d}  ",
            f"{venue.name} {connections or 'connecting'}  ",
            (
                f"books {synced}/{len(symbols)} synced  ",
                "green" if synced == len(symbols) else "yellow",
            ),
            f"frames {session.counters.frames:,}  trades {counts['trades']:,}  ",
            f"records {recorder.records:,}  gaps {gaps}  errors {errors}",
        )

    console = console or Console()
    with live_view(Text(f"connecting to {venue_name}..."), console, 4) as line:

        def tick(session: LiveSession) -> None:
            recorder.flush()  # what is recorded is on disk within a tick
            line.update(status(session))

        try:
            asyncio.run(
                run_live(
                    venue_name,
                    symbols,
                    count,
                    endpoints=endpoints,
                    recorder=recorder,
                    duration_s=duration_s,
                    on_tick=tick,
                )
            )
        finally:
            recorder.close()
    console.print(f"recorded {recorder.records:,} records in {out_dir}")
    return recorder
