# The C kernel of orderscope/_bitfinex.c (built by setup.py; absent in a pure build or run).
# scan() takes only the plain shapes of a book update, a book snapshot and a heartbeat; None
# for anything else. What it returns equals the connector's msgspec path on the same frame
# (orderscope.venues.bitfinex, the pure-Python reference).

def scan(
    frame: str | bytes,
) -> (
    tuple[int, int | None, int, int, list[tuple[int, int]] | None, list[tuple[int, int]] | None]
    | None
): ...
def scan_trades(
    frame: str | bytes,
) -> tuple[int | None, list[tuple[int, int, int, int, int]]] | None: ...
