# The C kernel of orderscope/_bitfinex.c (built by setup.py; absent in a pure build or run).
# scan() takes only the plain shapes of a book update, a book snapshot and a heartbeat; None
# for anything else. What it returns equals the connector's msgspec path on the same frame
# (orderscope.venues.bitfinex, the pure-Python reference).

from typing import TypeVar

_R = TypeVar("_R")

def scan(
    frame: str | bytes,
) -> (
    tuple[int, int | None, int, int, list[tuple[int, int]] | None, list[tuple[int, int]] | None]
    | None
): ...
def book_update(
    frame: str | bytes, routes: dict[int, _R]
) -> tuple[_R, int, list[tuple[int, int]], list[tuple[int, int]]] | None: ...
def scan_trades(
    frame: str | bytes,
) -> tuple[int | None, list[tuple[int, int, int, int, int]]] | None: ...
def trade_ids(frame: str | bytes) -> tuple[int | None, int | None] | None: ...
