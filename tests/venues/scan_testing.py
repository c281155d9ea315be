"""Helpers shared by the frame scanners' tests (test_okx_scan.py, test_huobi_scan.py): a
capture fed to a fresh connector with every event, error and final state kept, so the scanner's
path and the msgspec path can be compared; which scanner a fresh process loads."""

from __future__ import annotations

import os
import subprocess
import sys

from orderscope import _compiled
from orderscope.bench.ours import LoadedCapture
from orderscope.capture import CaptureRecord
from tests.venues.venue_testing import outcome


def outcomes(loaded: LoadedCapture, records: list[CaptureRecord]) -> list[object]:
    """Every event and error of a fresh connector fed ``records``, and its final state."""
    return outcome(loaded.new_venue(), records)


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
