# The C kernel of orderscope/_coinbase.c (built by setup.py; absent in a pure build or run).
# scan_l2update / scan_snapshot return what the Coinbase connector's msgspec path makes of an
# l2update / level2 snapshot frame of the usual shape, or None for any other frame (the
# connector then runs that path): see orderscope.venues.coinbase for the reference. A value of
# `decimals` is (price decimals, size decimals), or those and a key returned for the product id.

from typing import TypeVar

K = TypeVar("K")

def scan_l2update(
    frame: str | bytes, decimals: dict[str, tuple[int, int]] | dict[str, tuple[int, int, K]]
) -> tuple[str | K, list[tuple[int, int]], list[tuple[int, int]], int] | None: ...
def scan_snapshot(
    frame: str | bytes, decimals: dict[str, tuple[int, int]] | dict[str, tuple[int, int, K]]
) -> tuple[str | K, list[tuple[int, int]], list[tuple[int, int]], int] | None: ...
