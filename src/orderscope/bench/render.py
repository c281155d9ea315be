"""The ``orderscope bench`` table (Rich), from a ``BenchReport``."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from orderscope.bench.runner import TARGET_RATIO, TARGET_SYNTHETIC, BenchReport, VenueResult


def _rate(value: float | None) -> str:
    if value is None:
        return "-"
    if value >= 10_000:
        return f"{value / 1000:,.0f}k"
    return f"{value:,.0f}"


def _ratio(value: float | None) -> str:
    if value is None:
        return "-"
    mark = "[green]" if value >= TARGET_RATIO else "[red]"
    return f"{mark}{value:.2f}x[/]"


def _checks(v: VenueResult) -> str:
    c = v.counts
    parts = []
    if c.checksums_ok or c.checksums_failed:
        parts.append(f"crc {c.checksums_ok}/{c.checksums_ok + c.checksums_failed}")
    if c.gaps:
        parts.append(f"gaps {c.gaps}")
    if c.errors:
        parts.append(f"errors {c.errors}")
    if v.top_of_book is not None:
        parts.append(f"tob {v.top_of_book[0]}/{v.top_of_book[1]}")
    return " ".join(parts) or "-"


def print_report(report: BenchReport, console: Console) -> None:
    m = report.machine
    console.print(
        f"[bold]orderscope bench[/]  {m['cpu']}, {m['cores']} cores, Python {m['python']}, "
        f"median of {report.runs} runs, one thread"
    )
    if report.venues:
        table = Table(show_edge=False, pad_edge=False)
        for column in (
            "venue",
            "frames",
            "orderscope frames/s",
            "level updates/s",
            "cryptofeed frames/s",
            "ratio",
            "cf book cbs",
            "checks",
        ):
            table.add_column(column, justify="left" if column in ("venue", "checks") else "right")
        for v in report.venues:
            peer = v.peer
            callbacks = "-"
            if peer is not None and peer.counts is not None:
                callbacks = f"{peer.counts.book_callbacks:,}"
            table.add_row(
                v.prefix,
                f"{v.frames:,}",
                _rate(v.frames_per_s),
                _rate(v.levels_per_s),
                _rate(v.peer_frames_per_s),
                _ratio(v.ratio),
                callbacks,
                _checks(v),
            )
        console.print(table)
        for v in report.venues:
            if v.peer is None:
                continue
            if v.peer.error:
                console.print(f"  [yellow]{v.prefix}[/]: {v.peer.name} not driven: {v.peer.error}")
            for note in v.peer.notes:
                console.print(f"  [dim]{v.prefix}: {v.peer.name}: {note}[/]")
    if report.skipped:
        console.print(
            f"  [dim]captures without an orderscope connector: {', '.join(report.skipped)}[/]"
        )
    s = report.synthetic
    if s is not None:
        ok = s.levels_per_s >= TARGET_SYNTHETIC
        mark = "[green]" if ok else "[red]"
        console.print(
            f"synthetic L2Book: {s.deltas:,} deltas, {s.levels:,} level updates: "
            f"{mark}{_rate(s.levels_per_s)} level updates/s[/] "
            f"(target {TARGET_SYNTHETIC:,}), final depth {s.depth[0]:,}/{s.depth[1]:,}, "
            f"crossed {s.crossed_updates}"
        )
