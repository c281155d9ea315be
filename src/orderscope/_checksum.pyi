# The C kernel of orderscope/_checksum.c (built by setup.py; absent in a pure build or run).
# Each function equals a pure-Python checksum (kraken.py's _BookWire.checksum over book.asks(n)
# and book.bids(n), okx.py's Okx.checksum) or returns None: the caller then runs that reference.
from orderscope.book import L2Book

def kraken(book: L2Book, n: int, price_zeros: int, size_zeros: int) -> int | None: ...
def okx(
    book: L2Book, n: int, price_decimals: int, size_decimals: int, multiplier: int
) -> int | None: ...
