# The C kernel of orderscope/_binance.c (built by setup.py; absent in a pure build or run).
# scan returns what the Binance connectors' msgspec path makes of a depth or bookTicker
# combined-stream frame of the usual shape whose stream is in ``routes``, or None for any other
# frame (the connector then runs that path): see orderscope.venues.binance for the reference.
# routes: stream name -> (kind: 0 depth, 1 bookTicker, 2 aggTrade, price_decimals, size_decimals,
# symbol).
# depth -> (venue_symbol, T or E (ms), U, u, pu or -1, bids, asks);
# bookTicker -> (venue_symbol, T or E (ms), bid, bid_size, ask, ask_size);
# aggTrade -> (venue_symbol, T (ms), price, size (negative: the aggressor sold), aggTrade id or -1).
# scan_rest: a REST depth body -> (lastUpdateId, T or E (ms), bids, asks).

def scan(
    frame: str | bytes, routes: dict[str, tuple[int, int, int, str]]
) -> (
    tuple[str, int, int, int, int, list[tuple[int, int]], list[tuple[int, int]]]
    | tuple[str, int, int, int, int, int]
    | tuple[str, int, int, int, int]
    | None
): ...
def scan_rest(
    body: str | bytes, price_decimals: int, size_decimals: int
) -> tuple[int, int, list[tuple[int, int]], list[tuple[int, int]]] | None: ...
