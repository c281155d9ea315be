"""orderscope: order-book and order-flow analysis for crypto venues."""

from orderscope import _compiled

# Before anything imports a compiled module: ORDERSCOPE_PURE=1 (or stale extensions in a
# source checkout) loads the pure-Python source instead (see orderscope/_compiled.py).
_compiled.choose()
