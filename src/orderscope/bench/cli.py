"""``orderscope bench`` glue: options in, progress bar while running, table or JSON out."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from pathlib import Path

import msgspec
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from orderscope.bench.render import print_report
from orderscope.bench.runner import BenchOptions, plan, run
from orderscope.bench.synthetic import SyntheticConfig


def run_bench(
    captures: Path,
    *,
    runs: int,
    as_json: bool,
    only: Iterable[str],
    deltas: int,
    min_time: float,
    peers: bool,
    slices: int = 4,
) -> None:
    options = BenchOptions(
        captures=captures,
        runs=runs,
        only=frozenset(only),
        min_time=min_time,
        slices=slices,
        peers=peers,
        synthetic=SyntheticConfig(deltas=deltas),
    )
    the_plan = plan(options)
    # Progress goes to stderr, so that --json output on stdout stays clean.
    progress = Progress(
        TextColumn("{task.description:<32}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    )
    with progress:
        task = progress.add_task("benchmarking", total=the_plan.steps)

        def step(what: str) -> None:
            progress.update(task, advance=1, description=what)

        report = run(options, the_plan, step)
    if as_json:
        sys.stdout.buffer.write(msgspec.json.encode(report.as_dict()) + b"\n")
    else:
        # Piped into a file, Rich would wrap the table at 80 columns.
        print_report(report, Console(width=None if sys.stdout.isatty() else 132))
