# The C kernel of orderscope/_kraken.c (built by setup.py; absent in a pure build or run).
# scan_book returns what the Kraken connector's msgspec path makes of a book update or snapshot
# frame of the usual shape, or None for any other frame (the connector then runs that path): see
# orderscope.venues.kraken (``_on_book``) for the reference.

def scan_book(
    frame: str | bytes, decimals: dict[str, tuple[int, int]]
) -> (
    tuple[str, str, list[tuple[int, int]], list[tuple[int, int]], int, int, bool, int, int] | None
): ...
