"""The ``orderscope bench`` table (Rich), from a ``BenchReport``."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from orderscope.bench.report import TARGET_RATIO, TARGET_SYNTHETIC, BenchReport, VenueResult


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
        mark = "[green]" if s.levels_per_s >= TARGET_SYNTHETIC else "[red]"
        console.print(
            f"synthetic L2Book: {mark}{_rate(s.levels_per_s)} level updates/s[/] "
            f"(target {TARGET_SYNTHETIC:,}); {s.deltas:,} deltas, {s.levels:,} level updates"
        )
        console.print(
            f"  [dim]final depth {s.depth[0]:,} bids / {s.depth[1]:,} asks, "
            f"{s.crossed_updates} crossed updates[/]"
        )
    console.print(_verdict(report))


def _verdict(report: BenchReport) -> str:
    parts = []
    ratios = [(v.prefix, v.ratio) for v in report.venues if v.ratio is not None]
    if ratios:
        met = all(r >= TARGET_RATIO for _, r in ratios)
        lowest = min(ratios, key=lambda pr: pr[1])
        parts.append(
            f">= {TARGET_RATIO:g}x cryptofeed on every capture: "
            + ("[green]met[/]" if met else f"[red]not met[/] (lowest {lowest[0]} {lowest[1]:.2f}x)")
        )
    if report.synthetic is not None:
        met = report.synthetic.levels_per_s >= TARGET_SYNTHETIC
        parts.append(
            f">= {TARGET_SYNTHETIC:,} level updates/s synthetic: "
            + ("[green]met[/]" if met else "[red]not met[/]")
        )
    return "targets: " + ("; ".join(parts) if parts else "nothing measured against a target")
