# The C kernel of orderscope/_book.c (built by setup.py; absent in a pure build or run). Each
# function equals its pure-Python reference in orderscope/book.py (same dicts, lists, counts and
# errors); None means "not taken: run the reference" (nothing was changed).
from collections.abc import Callable, Iterable
from typing import Literal

from orderscope.model import Level

def apply_sides(
    bid_sizes: dict[int, int],
    bid_prices: list[int],
    ask_sizes: dict[int, int],
    ask_prices: list[int],
    bids: Iterable[Level],
    asks: Iterable[Level],
    reference: Callable[[dict[int, int], list[int], Iterable[Level]], int],
) -> int: ...
def load_side(sizes: dict[int, int], prices: list[int], levels: Iterable[Level]) -> int | None: ...
def replace_side(
    sizes: dict[int, int], prices: list[int], levels: Iterable[Level]
) -> int | None: ...
def top_levels(
    sizes: dict[int, int], prices: list[int], n: int | None, best_last: bool
) -> list[Level] | None: ...
def absent_deletion(
    bid_sizes: dict[int, int],
    ask_sizes: dict[int, int],
    bids: Iterable[Level],
    asks: Iterable[Level],
) -> tuple[str, int] | Literal[False] | None: ...
