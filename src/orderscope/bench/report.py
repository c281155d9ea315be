"""What ``orderscope bench`` found, as plain data, and its JSON (``orderscope.bench/1``,
documented in docs/PERFORMANCE.md)."""

from __future__ import annotations

import os
import platform
from dataclasses import dataclass
from importlib import metadata
from typing import Any

from orderscope.bench import cryptofeed_peer as peer
from orderscope.bench.ours import ReplayCounts
from orderscope.bench.synthetic import SyntheticConfig
from orderscope.bench.timing import Measurement

FORMAT = "orderscope.bench/1"
TARGET_RATIO = 5.0  # orderscope frames/s over cryptofeed frames/s, on every capture
TARGET_SYNTHETIC = 500_000  # level updates/s on one core


@dataclass(frozen=True, slots=True)
class PeerResult:
    name: str
    counts: peer.PeerCounts | None = None
    timing: Measurement | None = None
    error: str | None = None  # why cryptofeed could not be driven on this capture
    notes: tuple[str, ...] = ()
    checksum_validation: bool = False


@dataclass(frozen=True, slots=True)
class VenueResult:
    prefix: str
    venue: str
    frames: int
    counts: ReplayCounts
    timing: Measurement
    peer: PeerResult | None
    top_of_book: tuple[int, int] | None  # (books agreeing with cryptofeed, books compared)

    @property
    def frames_per_s(self) -> float:
        return self.timing.rate(self.frames)

    @property
    def levels_per_s(self) -> float:
        return self.timing.rate(self.counts.levels)

    @property
    def peer_frames_per_s(self) -> float | None:
        if self.peer is None or self.peer.timing is None:
            return None
        return self.peer.timing.rate(self.frames)

    @property
    def ratio(self) -> float | None:
        theirs = self.peer_frames_per_s
        return None if theirs is None else self.frames_per_s / theirs


@dataclass(frozen=True, slots=True)
class SyntheticResult:
    config: SyntheticConfig
    deltas: int
    levels: int  # level updates in the deltas
    timing: Measurement
    depth: tuple[int, int]  # final (bid, ask) levels
    crossed_updates: int

    @property
    def levels_per_s(self) -> float:
        return self.timing.rate(self.levels)


@dataclass(frozen=True, slots=True)
class BenchReport:
    machine: dict[str, Any]
    runs: int
    venues: list[VenueResult]
    skipped: list[str]  # capture prefixes without an orderscope connector
    synthetic: SyntheticResult | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "machine": self.machine,
            "runs": self.runs,
            "targets": {
                "ratio_vs_cryptofeed": TARGET_RATIO,
                "synthetic_levels_per_s": TARGET_SYNTHETIC,
            },
            "venues": [_venue_dict(v) for v in self.venues],
            "skipped_captures": self.skipped,
            "synthetic": None if self.synthetic is None else _synthetic_dict(self.synthetic),
        }


# -- the machine and the JSON --------------------------------------------------------------


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.partition(":")[2].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def machine_info() -> dict[str, Any]:
    return {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "orderscope": _version("orderscope"),
        "msgspec": _version("msgspec"),
        "cryptofeed": peer.cryptofeed_version(),
    }


def _timing_dict(timing: Measurement) -> dict[str, Any]:
    return {
        "median_s": timing.median,
        "samples_s": list(timing.samples),
        "passes_per_sample": timing.passes,
    }


def _venue_dict(v: VenueResult) -> dict[str, Any]:
    c = v.counts
    entry: dict[str, Any] = {
        "capture": v.prefix,
        "venue": v.venue,
        "frames": v.frames,
        "orderscope": {
            "frames_per_s": v.frames_per_s,
            "levels_per_s": v.levels_per_s,
            "books": c.books,
            "levels": c.levels,
            "snapshots": c.snapshots,
            "deltas": c.deltas,
            "checksums_ok": c.checksums_ok,
            "checksums_failed": c.checksums_failed,
            "gaps": c.gaps,
            "errors": c.errors,
            **_timing_dict(v.timing),
        },
        "cryptofeed": None,
        "ratio": v.ratio,
        "top_of_book_agreement": None
        if v.top_of_book is None
        else {"agree": v.top_of_book[0], "compared": v.top_of_book[1]},
    }
    p = v.peer
    if p is not None:
        theirs: dict[str, Any] = {
            "name": p.name,
            "error": p.error,
            "notes": list(p.notes),
            "checksum_validation": p.checksum_validation,
        }
        if p.counts is not None and p.timing is not None:
            theirs.update(
                frames_per_s=v.peer_frames_per_s,
                book_callbacks=p.counts.book_callbacks,
                callbacks=p.counts.callbacks,
                books=p.counts.books,
                book_levels=p.counts.book_levels,
                snapshot_requests=p.counts.snapshot_requests,
                **_timing_dict(p.timing),
            )
        entry["cryptofeed"] = theirs
    return entry


def _synthetic_dict(s: SyntheticResult) -> dict[str, Any]:
    cfg = s.config
    return {
        "deltas": s.deltas,
        "levels": s.levels,
        "levels_per_s": s.levels_per_s,
        "deltas_per_s": s.timing.rate(s.deltas),
        "seed": cfg.seed,
        "start_depth_ticks": cfg.depth,
        "final_depth": {"bids": s.depth[0], "asks": s.depth[1]},
        "crossed_updates": s.crossed_updates,
        **_timing_dict(s.timing),
    }
