"""Which modules the build compiles with mypyc, and running without them (never compiled itself).

``setup.py`` reads ``COMPILED`` (the one list) and ``NATIVE`` (C written by hand). A compiled
module is a C extension beside its ``.py``; Python's import system prefers the extension. Two
ways to run the pure-Python source instead, e.g. to compare or to debug with tracebacks into the
source:

- ``ORDERSCOPE_PURE=1``: every ``orderscope`` module is loaded from its ``.py``, and the
  ``NATIVE`` modules (no ``.py``) do not import: their callers use the pure-Python reference;
- automatically, with a warning, when an extension is older than its ``.py`` (or ``.c``, or a
  shared ``_*.h``) in a source checkout (an editable install whose source was edited or checked
  out after the last build: the stale extension would otherwise run the old code). ``make
  native`` rebuilds.

All or nothing: compiled modules call each other's functions directly in C, so one module
loaded from source next to stale compiled ones would not be used by them.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import os
import sys
import warnings
from collections.abc import Sequence
from importlib.machinery import ModuleSpec
from pathlib import Path
from types import ModuleType
from typing import Any

#: Compiled by mypyc: the streaming order-flow path (issue 4), with the book and the number
#: parser it builds on, and the Coinbase connector, whose msgspec Structs live in the
#: interpreted ``venues.coinbase_wire`` (mypyc drops Struct class keywords such as ``tag=`` and
#: ``array_like=`` and refuses ``msgspec.field`` defaults): 25% fewer instructions per replay
#: pass (docs/PERFORMANCE.md, "Compiling a connector: Coinbase"); the Bitfinex, Bitstamp and
#: Kraken connectors likewise (``venues.bitfinex_wire``, ``venues.bitstamp_wire``,
#: ``venues.kraken_wire``; Kraken -22%; Bitfinex's hot frames are read by ``orderscope._bitfinex``,
#: C). ``venues/base.py`` is compiled too (``Venue`` allows interpreted subclasses: Binance, OKX,
#: HTX, Bybit, the tests' fakes): the compiled connectors' calls into it and reads of its
#: attributes are native (Coinbase -12% instructions, Bitfinex -12%, Kraken -6%, Bitstamp -6%),
#: at a cost to the interpreted ones (+0.3% to +6%: bytecode reading a native class's attributes).
COMPILED: tuple[str, ...] = (
    "orderscope.book",
    "orderscope.capture_record",
    "orderscope.fixed",
    "orderscope.flow.base",
    "orderscope.flow.book_tracker",
    "orderscope.flow.delta",
    "orderscope.flow.footprint",
    "orderscope.flow.profile",
    "orderscope.flow.stream",
    "orderscope.flow.trades",
    "orderscope.flow.vwap",
    "orderscope.flow.signals.engine",
    "orderscope.flow.signals.imbalance",
    "orderscope.flow.signals.liquidity",
    "orderscope.flow.signals.record",
    "orderscope.flow.signals.resting",
    "orderscope.flow.signals.sweep",
    "orderscope.flow.signals.trade_flow",
    "orderscope.venues.bitfinex",
    "orderscope.venues.coinbase",
    "orderscope.venues.bitstamp",
    "orderscope.venues.kraken",
    "orderscope.venues.base",
)

#: C extensions written by hand (module -> its C file in the package), each with a pure-Python
#: reference that runs when the module does not import: ``orderscope._levels``, the connectors'
#: level parsing (``orderscope.fixed.parse_fixed`` is the reference); ``orderscope._checksum``,
#: Kraken's and OKX's book checksums (``orderscope.venues.checksum``: the connectors' own);
#: ``orderscope._book``, the book's per-level operations (``orderscope.book``'s functions);
#: ``orderscope._coinbase``, Coinbase ``l2update`` and snapshot frames (``venues.coinbase``'s
#: msgspec path is the reference); ``orderscope._bitfinex``, Bitfinex's book-update, snapshot,
#: heartbeat and trade-snapshot frames (its connector's msgspec path is the reference);
#: ``orderscope._okx``, OKX ``books`` frames, and ``orderscope._huobi``, HTX depth frames cut
#: into their parts; ``orderscope._kraken``, Kraken's book update and snapshot frames;
#: ``orderscope._binance``, Binance depth and bookTicker frames and REST depth snapshots;
#: ``orderscope._bitstamp``, Bitstamp diff frames and REST order books (their connectors'
#: msgspec paths are the references).
NATIVE: dict[str, str] = {
    "orderscope._levels": "_levels.c",
    "orderscope._checksum": "_checksum.c",
    "orderscope._book": "_book.c",
    "orderscope._coinbase": "_coinbase.c",
    "orderscope._bitfinex": "_bitfinex.c",
    "orderscope._okx": "_okx.c",
    "orderscope._huobi": "_huobi.c",
    "orderscope._kraken": "_kraken.c",
    "orderscope._binance": "_binance.c",
    "orderscope._bitstamp": "_bitstamp.c",
}

PURE_ENV = "ORDERSCOPE_PURE"
_PACKAGE = Path(__file__).resolve().parent


class _SourceFinder:
    """A meta-path finder that loads ``orderscope`` modules from ``.py`` files only."""

    @classmethod
    def find_spec(
        cls, name: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        if name in NATIVE:  # C only: the next finder would load it
            raise ModuleNotFoundError(f"{name} is not loaded in a pure-Python run", name=name)
        if not name.startswith("orderscope.") or path is None:
            return None
        for entry in path:
            finder = importlib.machinery.FileFinder(
                entry, (importlib.machinery.SourceFileLoader, [".py"])
            )
            spec = finder.find_spec(name, target)
            if spec is not None:
                return spec
        return None


def kernel(module: str, name: str) -> Any:
    """``orderscope.<module>.<name>``, a function of a hand-written C extension (``NATIVE``), or
    None where the extension does not load: a pure build, ``ORDERSCOPE_PURE=1`` or a stale
    build (then the caller's pure-Python path runs). The caller declares its type."""
    try:
        extension = importlib.import_module(f"orderscope.{module}")
    except ImportError:
        return None
    return getattr(extension, name)


def stale(package: Path = _PACKAGE) -> list[str]:
    """Compiled modules whose extension is older than their source (source checkouts only)."""
    if not (package.parent.parent / "pyproject.toml").exists():
        return []  # an installed wheel: its extensions were built from its sources
    found = []
    sources = [package.parent.joinpath(*name.split(".")).with_suffix(".py") for name in COMPILED]
    sources += [package / c_file for c_file in NATIVE.values()]
    # The C extensions' shared headers (``_decimal.h``) count as part of each C file.
    headers = max((h.stat().st_mtime for h in package.glob("_*.h")), default=0.0)
    for name, source in zip([*COMPILED, *NATIVE], sources, strict=True):
        for suffix in importlib.machinery.EXTENSION_SUFFIXES:
            built = source.with_name(source.stem + suffix)
            if built.exists():
                changed = source.stat().st_mtime
                if source.suffix == ".c":
                    changed = max(changed, headers)
                if built.stat().st_mtime < changed:
                    found.append(name)
                break
    return found


def compiled() -> bool:
    """Whether this process runs the compiled modules (checked on ``orderscope.book``)."""
    import orderscope.book

    return not (orderscope.book.__file__ or "").endswith(".py")


def choose() -> None:
    """Called once by ``orderscope/__init__.py``, before any compiled module is imported."""
    if os.environ.get(PURE_ENV, "") not in ("", "0"):
        sys.meta_path.insert(0, _SourceFinder)
        return
    old = stale()
    if old:
        warnings.warn(
            f"orderscope: compiled modules older than their source ({', '.join(old)}); running"
            " the pure-Python source. Rebuild with `make native`.",
            RuntimeWarning,
            stacklevel=3,
        )
        sys.meta_path.insert(0, _SourceFinder)
