"""How a benchmark sample is taken: passes per sample calibrated once, median of the samples.

A capture replays in milliseconds, too short for one replay to be timed reliably, so a sample
is several back-to-back passes (each over fresh state made beforehand, outside the timer) and
lasts at least ``min_time`` seconds. The figure reported is the median of the samples' per-pass
time: the median, because a shared machine adds slow outliers, never fast ones.

The clock is the process's CPU time, not the wall clock: the benchmark is one thread doing no
I/O, so on an idle core both agree, and on a machine shared with other work the CPU time does
not count the moments the process waited for a core. (It still feels shared caches.)
"""

from __future__ import annotations

import gc
import math
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from time import process_time
from typing import Any, Generic, TypeVar

T = TypeVar("T")

MAX_PASSES = 10_000
clock = process_time  # seconds of CPU time of this process


@dataclass(frozen=True, slots=True)
class Measurement:
    """Per-pass seconds of each sample (one sample per run)."""

    samples: tuple[float, ...]
    passes: int  # passes per sample

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    def rate(self, count: int) -> float:
        """``count`` things per pass, per second at the median."""
        median = self.median
        return count / median if median > 0 else math.inf


@dataclass(frozen=True, slots=True)
class Contender(Generic[T]):
    """Something to time: ``prepare(n)`` builds the state for n passes (untimed), ``execute``
    runs them and returns the seconds they took (it times itself, so that an event loop's
    start-up stays outside), ``first`` is the seconds of one warm-up pass."""

    prepare: Callable[[int], T]
    execute: Callable[[T], float]
    first: float

    def passes(self, min_time: float) -> int:
        if self.first <= 0:
            return MAX_PASSES
        return max(1, min(MAX_PASSES, math.ceil(min_time / self.first)))

    def sample(self, passes: int) -> float:
        state = self.prepare(passes)
        gc.collect()  # start each sample from the same heap state, not mid-way to a collection
        return self.execute(state) / passes


def measure_together(
    contenders: Sequence[Contender[Any]], *, runs: int, min_time: float, slices: int = 1
) -> list[Measurement]:
    """``runs`` samples of each contender, taken in turn (A B A B ...), so that a machine whose
    load changes during the benchmark weighs on all of them alike.

    With ``slices`` > 1 each run's samples are taken in that many slices, in turn
    (A B A B ... within the run), a sample being its slices' passes together: a machine whose
    speed changes faster than a whole sample lasts (a shared VM: see docs/PERFORMANCE.md,
    Method) then weighs on each run's samples alike too, instead of slowing A's and sparing
    B's."""
    if runs < 1:
        raise ValueError("runs must be >= 1")
    if slices < 1:
        raise ValueError("slices must be >= 1")
    passes = [math.ceil(c.passes(min_time) / slices) for c in contenders]  # per slice
    samples: list[list[float]] = [[] for _ in contenders]
    for _ in range(runs):
        taken = [0.0] * len(contenders)
        for _ in range(slices):
            for i, (contender, n) in enumerate(zip(contenders, passes, strict=True)):
                taken[i] += contender.sample(n)
        for seconds, sample in zip(taken, samples, strict=True):
            sample.append(seconds / slices)
    return [Measurement(tuple(t), n * slices) for t, n in zip(samples, passes, strict=True)]


def measure(
    prepare: Callable[[int], T],
    execute: Callable[[T], float],
    *,
    runs: int,
    min_time: float,
    first: float,
) -> Measurement:
    """``runs`` samples of one contender (see ``Contender``)."""
    (timing,) = measure_together([Contender(prepare, execute, first)], runs=runs, min_time=min_time)
    return timing
