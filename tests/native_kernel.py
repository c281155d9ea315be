"""Loading a hand-written C extension (``_compiled.NATIVE``) from its file, for its tests."""

from __future__ import annotations

import importlib.machinery
import importlib.util
from pathlib import Path
from types import ModuleType

import pytest
from hypothesis import strategies as st

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
