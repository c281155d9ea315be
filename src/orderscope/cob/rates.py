"""Live conversion rates between quote currencies, from a stablecoin book's mid.

A USD COB can take USDT venues at the mid of a USDT/USD book (1 USDT = mid USD), or of a
USD/USDT book (1 USDT = 1 / mid USD). The rate is an int at the COB's ``rate_decimals``,
rounded half to even from the exact twice-mid; the COB re-keys the venues quoted in that
currency when the rounded rate changes (at most once a tick).
"""

from __future__ import annotations

from orderscope.book import L2Book
from orderscope.errors import ConfigError
from orderscope.fixed import POW10
from orderscope.model import BookDelta, BookSnapshot, BookState, BookStatus, Instrument, MarketEvent


def divide_half_even(num: int, den: int) -> int:
    quotient, rest = divmod(num, den)
    if 2 * rest > den or (2 * rest == den and quotient % 2):
        quotient += 1
    return quotient


class RateSource:
    """A stablecoin book whose mid converts one quote currency into the COB's."""

    __slots__ = ("book", "inverse", "quote")

    def __init__(self, instrument: Instrument, cob_quote: str) -> None:
        if instrument.quote == cob_quote:
            self.quote, self.inverse = instrument.base, False  # USDT/USD: USD per USDT
        elif instrument.base == cob_quote:
            self.quote, self.inverse = instrument.quote, True  # USD/USDT: 1 / mid
        else:
            raise ConfigError(
                f"{instrument.venue} {instrument.symbol} does not convert to {cob_quote}"
            )
        self.book = L2Book(instrument)

    def update(self, event: MarketEvent) -> None:
        """Keep the book from its venue's events (a snapshot restores it, as for members)."""
        book = self.book
        if isinstance(event, BookSnapshot):
            book.apply_snapshot(event.bids, event.asks, event.sequence)
        elif isinstance(event, BookDelta) and book.is_synced:
            book.apply_delta(event.bids, event.asks, event.last_sequence)
        elif isinstance(event, BookStatus) and event.state is not BookState.SYNCED:
            book.mark_out_of_sync()

    def rate(self, decimals: int) -> int | None:
        """COB quote per unit of ``quote`` at ``decimals``; None while the book is unusable."""
        book = self.book
        mid2 = book.mid2()
        if not book.is_synced or book.crossed or not mid2:
            return None
        two_units = 2 * POW10[book.instrument.price_decimals]  # mid = mid2 / two_units
        if self.inverse:
            return divide_half_even(two_units * POW10[decimals], mid2) or None
        return divide_half_even(mid2 * POW10[decimals], two_units) or None
