"""Where orderscope finds the recorded captures by default."""

from __future__ import annotations

import os
from pathlib import Path

from orderscope.errors import ConfigError

ENV_CAPTURES = "ORDERSCOPE_CAPTURES"


def captures_candidates() -> list[Path]:
    """$ORDERSCOPE_CAPTURES, else ../shared/data/captures beside the working directory or the
    repository this package was installed from."""
    if env := os.environ.get(ENV_CAPTURES):
        return [Path(env)]
    repo = Path(__file__).resolve().parents[2]
    return [Path.cwd().parent / "shared/data/captures", repo.parent / "shared/data/captures"]


def default_captures() -> Path:
    for candidate in captures_candidates():
        if candidate.is_dir():
            return candidate
    tried = ", ".join(str(c) for c in captures_candidates())
    raise ConfigError(f"no captures found (tried {tried}); set {ENV_CAPTURES}")
