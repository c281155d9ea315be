"""Loading a hand-written C extension (``_compiled.NATIVE``) from its file, for its tests."""

from __future__ import annotations

import importlib.machinery
import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

from orderscope import fixed

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
