# The C kernel of orderscope/_levels.c (built by setup.py; absent in a pure build or run).
# Every function equals orderscope.fixed.parse_fixed applied to each text (same ints, same
# errors): see orderscope.fixed for the pure-Python reference.
from collections.abc import Sequence

from msgspec import Raw

def parse_many(texts: Sequence[str], decimals: int) -> list[int]: ...
def parse_pairs(
    raw: Sequence[Sequence[str]], price_decimals: int, size_decimals: int
) -> list[tuple[int, int]]: ...
def parse_columns(
    raw: Sequence[Sequence[str]], price_decimals: int, size_decimals: int, first: int = 0
) -> list[tuple[int, int]]: ...
def parse_raw_levels(
    raw: bytes | bytearray | memoryview | Raw,
    price_decimals: int,
    size_decimals: int,
    first: int = 0,
    width: int = 0,
    strings: bool = False,
) -> list[tuple[int, int]] | None: ...
def parse_raw_float_levels(
    raw: bytes | bytearray | memoryview | Raw, price_decimals: int, size_decimals: int
) -> list[tuple[int, int]] | None: ...
