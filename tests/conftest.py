"""Shared fixtures. Tests that need the real captures fail loudly when they are missing."""

from __future__ import annotations

from pathlib import Path

import pytest

from orderscope.errors import ConfigError
from orderscope.paths import default_captures


@pytest.fixture(scope="session")
def captures() -> Path:
    try:
        return default_captures()
    except ConfigError as exc:  # never skip: a missing capture is a broken setup
        pytest.fail(str(exc))
