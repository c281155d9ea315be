"""Read (and write) the capture format of shared/data/captures.

A capture is a set of files per venue, named after the venue (``BINANCE``, ``KRAKEN``, ...):

- ``VENUE.ws.N.M``: one WebSocket connection. The first line is ``URL <-> RECV_TS`` (opened),
  ``URL <- RECV_TS: FRAME`` is a frame the client sent (subscriptions) and ``RECV_TS: FRAME`` a
  frame received. Binary frames (gzip, HTX) are written as a Python bytes literal ``b'...'``.
- ``VENUE.http.N.M``: REST responses, ``URL -> RECV_TS: BODY`` (e.g. depth snapshots).
- ``VENUE.0``: REST responses about the venue (exchange info), same line format, plus a
  ``configuration: {...}`` line that is not a response.

RECV_TS is the local receive time in epoch seconds; it is parsed exactly into nanoseconds.
Records of several files are merged in receive-time order, so that a replay sees frames and REST
snapshots in the order the recording process saw them.
"""

from __future__ import annotations

import ast
import heapq
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

# Re-exported: the record types live in a module of their own, compiled (capture_record).
from orderscope.capture_record import CaptureRecord as CaptureRecord
from orderscope.capture_record import RecordKind as RecordKind
from orderscope.errors import ConfigError
from orderscope.fixed import NumberFormatError, format_fixed, parse_fixed


class CaptureFormatError(ConfigError):
    """A capture file line that does not follow the format."""


def _ts_ns(text: str, path: Path, lineno: int) -> int:
    try:
        return parse_fixed(text.strip(), 9)
    except NumberFormatError as exc:
        raise CaptureFormatError(f"{path}:{lineno}: bad receive time {text!r}") from exc


def _payload(text: str) -> str | bytes:
    if text.startswith(("b'", 'b"')):
        value = ast.literal_eval(text)
        if isinstance(value, bytes):
            return value
    return text


def read_capture_file(path: Path, conn: int = 0) -> Iterator[CaptureRecord]:
    """Records of one capture file, in file order."""
    with path.open("r", encoding="utf-8", newline="\n") as handle:
        yield from _read_lines(handle, path, conn)


def _read_lines(handle: TextIO, path: Path, conn: int) -> Iterator[CaptureRecord]:
    url = ""
    for lineno, raw in enumerate(handle, 1):
        line = raw.rstrip("\n")
        if not line:
            continue
        if line[0].isdigit():
            head, sep, body = line.partition(": ")
            if not sep:
                raise CaptureFormatError(f"{path}:{lineno}: expected 'RECV_TS: FRAME'")
            yield CaptureRecord(
                _ts_ns(head, path, lineno), RecordKind.RECV, url, _payload(body), conn
            )
            continue
        if line.startswith("configuration: "):
            continue
        for marker, kind in (
            (" <-> ", RecordKind.OPEN),
            (" <- ", RecordKind.SENT),
            (" -> ", RecordKind.REST),
        ):
            where = line.find(marker)
            if where > 0:
                record_url = line[:where]
                rest = line[where + len(marker) :]
                if kind is RecordKind.OPEN:
                    url = record_url
                    yield CaptureRecord(_ts_ns(rest, path, lineno), kind, url, "", conn)
                else:
                    head, sep, body = rest.partition(": ")
                    if not sep:
                        raise CaptureFormatError(f"{path}:{lineno}: expected 'TS: BODY'")
                    yield CaptureRecord(
                        _ts_ns(head, path, lineno), kind, record_url, _payload(body), conn
                    )
                break
        else:
            raise CaptureFormatError(f"{path}:{lineno}: unrecognised line {line[:80]!r}")


def venue_of(path: Path) -> str:
    """The capture prefix of a file: ``BINANCE_FUTURES.ws.1.0`` -> ``BINANCE_FUTURES``."""
    return path.name.split(".", 1)[0]


@dataclass(frozen=True, slots=True)
class VenueCapture:
    """The files of one venue: exchange info, WebSocket sessions and REST responses."""

    prefix: str
    info: Path | None
    ws: tuple[Path, ...]
    http: tuple[Path, ...]

    def records(self) -> Iterator[CaptureRecord]:
        """Every ws and http record, merged in receive-time order (stable per file)."""
        streams = [read_capture_file(p, conn) for conn, p in enumerate(self.ws + self.http)]
        return heapq.merge(*streams, key=lambda r: r.recv_ns)

    def info_records(self) -> Iterator[CaptureRecord]:
        if self.info is None:
            return iter(())
        return read_capture_file(self.info, conn=-1)


def group_captures(paths: Iterable[Path]) -> list[VenueCapture]:
    """Group files (or directories of files) by venue, adding each venue's info and http files.

    Passing only ``KRAKEN.ws.50.0`` replays that connection with ``KRAKEN.0`` for instruments;
    passing ``BINANCE.ws.1.0`` also takes the ``BINANCE.http.*`` snapshots beside it, because a
    Binance book cannot start without them.
    """
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(p for p in path.iterdir() if p.is_file() and ".ws." in p.name))
        elif path.is_file():
            files.append(path)
        else:
            raise ConfigError(f"no such capture file or directory: {path}")
    by_prefix: dict[str, tuple[list[Path], list[Path]]] = {}
    for path in files:
        ws, http = by_prefix.setdefault(venue_of(path), ([], []))
        if ".http." in path.name:
            http.append(path)
        elif ".ws." in path.name:
            ws.append(path)
        elif path.name != f"{venue_of(path)}.0":
            raise ConfigError(f"not a capture file (VENUE.ws.N.M / VENUE.http.N.M): {path}")
    groups = []
    for prefix, (ws, http) in sorted(by_prefix.items()):
        if not ws and not http:
            raise ConfigError(f"{prefix}: exchange info alone is not a session to replay")
        folder = (ws or http)[0].parent
        if not http:
            http = sorted(folder.glob(f"{prefix}.http.*"))
        info = folder / f"{prefix}.0"
        groups.append(
            VenueCapture(
                prefix, info if info.is_file() else None, tuple(sorted(ws)), tuple(sorted(http))
            )
        )
    return groups


class CaptureWriter:
    """Write records in the capture format, so that ``read_capture_file`` reads them back."""

    def __init__(self, handle: TextIO) -> None:
        self._handle = handle

    def write(self, record: CaptureRecord) -> None:
        ts = format_fixed(record.recv_ns, 9)
        payload = record.payload if isinstance(record.payload, str) else repr(record.payload)
        if record.kind is RecordKind.OPEN:
            line = f"{record.url} <-> {ts}"
        elif record.kind is RecordKind.SENT:
            line = f"{record.url} <- {ts}: {payload}"
        elif record.kind is RecordKind.REST:
            line = f"{record.url} -> {ts}: {payload}"
        else:
            line = f"{ts}: {payload}"
        self._handle.write(line + "\n")
