"""Loading a hand-written C extension (``_compiled.NATIVE``) from its file, for its tests."""

from __future__ import annotations

import gc
import importlib.machinery
import importlib.util
import os
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType

import pytest
from hypothesis import strategies as st

from orderscope import _compiled, fixed
from orderscope.bench.ours import LoadedCapture
from orderscope.capture import CaptureRecord
from tests.venues.venue_testing import bent, outcome

PACKAGE = Path(fixed.__file__ or "").parent


def load_native(stem: str) -> ModuleType:
    """``orderscope.<stem>`` loaded from its built file whatever this process runs (also under
    ORDERSCOPE_PURE=1, so that the C is compared with the pure-Python reference); skipped in a
    pure build, a failure when the C is not built beside the compiled modules."""
    for suffix in importlib.machinery.EXTENSION_SUFFIXES:
        path = PACKAGE / f"{stem}{suffix}"
        if path.exists():
            spec = importlib.util.spec_from_file_location(f"orderscope.{stem}", path)
            assert spec is not None and spec.loader is not None
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            return module
    if not any(PACKAGE.glob("book.*.so")):
        pytest.skip("a pure-Python build (ORDERSCOPE_PURE_BUILD=1): no extension to test")
    pytest.fail(f"orderscope/{stem}.c is not built beside the compiled modules: `make native`")


def scanner_modules(venue: str, names: Sequence[str], *, pure: bool = False) -> str:
    """The modules of ``orderscope.venues.<venue>``'s scanners (its globals ``names``; "None"
    for one that is None) in a fresh process: the compiled build (skipped in a pure build), or
    with ORDERSCOPE_PURE=1."""
    if pure:
        env = {**os.environ, _compiled.PURE_ENV: "1"}
    else:
        if not any(PACKAGE.glob("book.*.so")):
            pytest.skip("a pure-Python build (ORDERSCOPE_PURE_BUILD=1)")
        env = {k: v for k, v in os.environ.items() if k != _compiled.PURE_ENV}
    found = ", ".join(f"v.{name}" for name in names)
    code = (
        f"from orderscope.venues import {venue} as v\n"
        f"print(*[f and f.__module__ for f in ({found},)])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    return out.stdout.strip()


def fed(loaded: LoadedCapture, records: list[CaptureRecord]) -> list[object]:
    """Every event and error of a fresh connector fed ``records``, and its final state (to
    compare a scanner's path with the msgspec path on the same records)."""
    return outcome(loaded.new_venue(), records)


def errors_either_way(
    loaded: LoadedCapture,
    records: list[CaptureRecord],
    bends: Sequence[tuple[int, str, str]],
    respaced: Callable[[CaptureRecord], CaptureRecord],
) -> list[str]:
    """``records`` with each ``(at, old, new)`` of ``bends`` applied to a frame (frames a scanner
    leaves to the reference, among the usual ones), fed as they are and ``respaced`` (never a
    scanner's shape): the same events, errors and state both ways; the errors' names, sorted."""
    records = bent(records, bends)
    fast = fed(loaded, records)
    assert fast == fed(loaded, [respaced(r) for r in records])
    return sorted(str(e[1]) for e in fast if isinstance(e, tuple) and e[0] == "error")


def leaked_blocks(calls: Callable[[], object], rounds: int = 5_000) -> int:
    """Memory blocks still allocated after ``rounds`` runs of ``calls`` (a kernel's calls on
    good and bad input), after one run to warm up: a reference leaked a call shows as
    thousands. Measured twice and the smaller kept: other tests' threads (servers, loops) may
    allocate a few hundred blocks meanwhile, once, where a leak shows every time."""
    calls()
    growth: list[int] = []
    for _ in range(2):
        gc.collect()
        before = sys.getallocatedblocks()
        for _ in range(rounds):
            calls()
        gc.collect()
        growth.append(sys.getallocatedblocks() - before)
    return min(growth)


#: Digit runs for the frame scanners' property tests (some beyond int64).
digits = st.text("0123456789", min_size=1, max_size=22)


@st.composite
def number(draw: st.DrawFn) -> str:
    """A decimal string for a frame scanner's property test: mostly plain decimals (some beyond
    int64 or too fine), sometimes a near miss (a sign, an exponent, an escape, a non-ASCII
    digit)."""
    whole = draw(digits)
    if draw(st.integers(0, 9)) == 0:
        return draw(st.text('0123456789.,-+ eE\\"\u0663', max_size=12))
    if draw(st.booleans()):
        return whole
    return f"{whole}.{draw(st.text('0123456789', max_size=12))}"
