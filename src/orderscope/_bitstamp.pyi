# The C kernel of orderscope/_bitstamp.c (built by setup.py; absent in a pure build or run).
# scan_diff returns what the Bitstamp connector's msgspec path makes of a diff_order_book frame
# of the usual shape whose pair is in ``decimals`` (pair -> (price_decimals, size_decimals)):
# (pair, microtimestamp, bids, asks); scan_book that of a REST order book body:
# (microtimestamp, bids, asks); None for anything else (the connector then runs that path):
# see orderscope.venues.bitstamp for the reference.

def scan_diff(
    frame: str | bytes, decimals: dict[str, tuple[int, int]]
) -> tuple[str, int, list[tuple[int, int]], list[tuple[int, int]]] | None: ...
def scan_book(
    body: str | bytes, price_decimals: int, size_decimals: int
) -> tuple[int, list[tuple[int, int]], list[tuple[int, int]]] | None: ...
