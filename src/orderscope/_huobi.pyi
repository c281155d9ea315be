# The C kernel of orderscope/_huobi.c (built by setup.py; absent in a pure build or run).
# scan_depth cuts an HTX depth frame of the usual shape into (symbol, bids, asks, ts, version,
# tick_ts), the level arrays as their bytes, as the connector's msgspec path decodes it, or
# returns None for any other frame (the connector then runs that path): see
# orderscope.venues.huobi for the reference.

from collections.abc import Callable

def scan_depth(text: bytes) -> tuple[str, bytes, bytes, int, int, int] | None: ...
def reuse_levels(
    raw: bytes,
    old_raw: bytes,
    old_levels: list[tuple[int, int]],
    price_decimals: int,
    size_decimals: int,
    parse: Callable[[bytes, int, int], list[tuple[int, int]] | None],
) -> list[tuple[int, int]] | None: ...
