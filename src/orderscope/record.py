"""Recording: a live session's raw records written in the capture format the replay reads.

One file per WebSocket connection (``PREFIX.ws.CONN.PART``), the REST snapshots in
``PREFIX.http.0.PART`` and the exchange-info responses in ``PREFIX.0``. A file is rotated (PART
+1) when it grows past ``rotate_bytes`` or gets older than ``rotate_seconds`` of receive time;
a rotated WebSocket file starts again with the connection's open line, so each part replays on
its own. Replaying a recording runs the same connector over the same records in the same order
(the live session makes receive times strictly increasing), so it rebuilds the same books.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from orderscope.capture import CaptureRecord, CaptureWriter, RecordKind

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
