"""Helpers shared by the frame scanners' tests (test_okx_scan.py, test_huobi_scan.py): a
capture fed to a fresh connector with every event, error and final state kept, so the scanner's
path and the msgspec path can be compared; which scanner a fresh process loads."""

from __future__ import annotations

import os
import subprocess
import sys

from orderscope import _compiled
from orderscope.bench.ours import LoadedCapture
from orderscope.capture import CaptureRecord, RecordKind
from orderscope.errors import FrameError
from orderscope.model import MarketEvent
from orderscope.venues.base import feed


def outcomes(loaded: LoadedCapture, records: list[CaptureRecord]) -> list[object]:
    """Every event and error of a fresh connector fed ``records``, and its final state."""
    venue = loaded.new_venue()
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


def loaded_module(expression: str, *, pure: bool) -> str:
    """``expression and expression.__module__`` in a fresh process, compiled or pure."""
    env = {k: v for k, v in os.environ.items() if k != _compiled.PURE_ENV}
    if pure:
        env[_compiled.PURE_ENV] = "1"
    module, _, _ = expression.rpartition(".")  # the attribute's module
    code = f"import {module}\nprint({expression} and {expression}.__module__)"
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    return out.stdout.strip()
