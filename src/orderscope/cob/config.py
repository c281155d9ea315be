"""What a consolidated book is made of: its venues, their fees and weights, rates, windows.

Everything a trader would tune lives in ``CobConfig``; everything has a documented default
except what cannot be guessed safely (the conversion rate between two quote currencies: a
USDT book is never silently treated as a USD book).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from orderscope.errors import ConfigError
from orderscope.fixed import NumberFormatError, parse_fixed
from orderscope.model import Instrument, InstrumentKind

MS = 1_000_000
SECOND = 1_000_000_000

#: Taker fees and rates are kept as ints in units of 10**-FEE_DECIMALS (0.001 -> 100_000).
FEE_DECIMALS = 8
FEE_ONE = 10**FEE_DECIMALS

#: Entry-tier (lowest 30-day volume) taker fees as the venues published them in 2024-2025, as a
#: fraction of the notional. Fee schedules change and most traders have a better tier: pass
#: your own in ``CobConfig.taker_fees``. A venue missing here and in the config is an error.
DEFAULT_TAKER_FEES: dict[str, str] = {
    "binance": "0.001",  # spot, 0.10%
    "binance_futures": "0.0005",  # USD-M, 0.05%
    "coinbase": "0.006",  # Advanced, 0.60% (< $10k / 30 days)
    "kraken": "0.004",  # Pro spot, 0.40% (< $10k / 30 days)
    "okx": "0.001",  # spot, 0.10%
    "bybit": "0.001",  # spot, 0.10%
    "bitfinex": "0.002",  # 0.20%
    "bitstamp": "0.004",  # 0.40% (< $10k / 30 days)
    "huobi": "0.002",  # HTX spot, 0.20%
}

#: Quote currencies a trader merges, by group name.
GROUPS: dict[str, tuple[str, ...]] = {
    "USD": ("USD",),
    "USDT": ("USDT",),
    "USDC": ("USDC",),
    "ALL": ("USD", "USDT", "USDC"),
}

#: Fixed quote-amount bucket widths by base asset (in the COB's quote currency).
DEFAULT_BUCKET_QUOTE: dict[str, str] = {"BTC": "10", "ETH": "1"}


@dataclass(frozen=True, slots=True)
class CobConfig:
    """Configuration of one consolidated book. Times are event-time nanoseconds."""

    #: The currency the COB prices in; default: the quote shared by every venue.
    quote: str | None = None
    #: COB-quote per unit of another quote, as decimal strings: {"USDT": "0.9998"}.
    rates: Mapping[str, str] = field(default_factory=dict)
    #: Precision of conversion rates (config and live); converted prices stay exact ints.
    rate_decimals: int = 6
    #: Taker fee per venue as a fraction ("0.001" = 10 bps); overrides DEFAULT_TAKER_FEES.
    taker_fees: Mapping[str, str] = field(default_factory=dict)
    #: Weight per venue (or member label) in the liquidity analytics; default 1.
    weights: Mapping[str, float] = field(default_factory=dict)
    #: Levels a side the venue's connector keeps (its subscribed depth), to trim the same way.
    max_depth: Mapping[str, int] = field(default_factory=dict)
    #: A venue with no book event for this long leaves the COB as stale.
    stale_after_ns: int = 5 * SECOND
    #: Display snapshots, staleness checks and rolling-stat samples happen on this grid.
    tick_ns: int = 100 * MS
    #: Rolling statistics windows.
    windows_ns: tuple[int, ...] = (1 * SECOND, 5 * SECOND)
    #: Levels a side in the volume-weighted mid.
    vwap_levels: int = 10
    #: Bands around the mid (bps) in which liquidity is reported.
    depth_bps: tuple[float, ...] = (10.0, 50.0, 100.0)
    #: The band whose liquidity and imbalance are the headline figures and the rolling stats.
    imbalance_bps: float = 10.0
    #: Levels a side in a display snapshot.
    display_levels: int = 200
    #: Default bucket width in bps of the mid, for bases without a quote-amount width.
    bucket_bps: float = 1.0
    #: Default bucket width in quote amount, by base asset.
    bucket_quote: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_BUCKET_QUOTE))

    def __post_init__(self) -> None:
        if self.tick_ns <= 0 or self.stale_after_ns <= 0:
            raise ConfigError("tick_ns and stale_after_ns must be > 0")
        if any(w <= 0 for w in self.windows_ns):
            raise ConfigError("rolling windows must be > 0")
        if any(w <= 0 for w in self.weights.values()):
            raise ConfigError("venue weights must be > 0 (leave a venue out instead of 0)")
        if not 0 <= self.rate_decimals <= 12:
            raise ConfigError("rate_decimals must be within 0..12")

    def taker_fee(self, venue: str) -> int:
        """The taker fee of ``venue`` in units of 10**-FEE_DECIMALS."""
        text = self.taker_fees.get(venue, DEFAULT_TAKER_FEES.get(venue))
        if text is None:
            raise ConfigError(f"no taker fee known for venue {venue!r}: set taker_fees[{venue!r}]")
        fee = parse_decimal(text, FEE_DECIMALS, f"taker fee of {venue}")
        if fee >= FEE_ONE:
            raise ConfigError(f"taker fee of {venue} must be < 1, got {text!r}")
        return fee

    def weight(self, label: str, venue: str) -> float:
        return self.weights.get(label, self.weights.get(venue, 1.0))


def parse_decimal(text: str, decimals: int, what: str) -> int:
    """A configured decimal string as a scaled int, or a ConfigError naming it."""
    try:
        return parse_fixed(text.strip(), decimals)
    except NumberFormatError as exc:
        raise ConfigError(f"{what}: {exc}") from None


def parse_rate(text: str, decimals: int, what: str) -> int:
    rate = parse_decimal(text, decimals, what)
    if rate <= 0:
        raise ConfigError(f"{what} must be > 0, got {text!r}")
    return rate


def select_group(
    instruments: Iterable[Instrument],
    base: str,
    group: str,
    kind: InstrumentKind = InstrumentKind.SPOT,
) -> list[Instrument]:
    """The instruments of ``base`` whose quote belongs to ``group`` (USD, USDT, USDC, ALL)."""
    try:
        quotes = GROUPS[group.upper()]
    except KeyError:
        raise ConfigError(f"unknown venue group {group!r} (known: {', '.join(GROUPS)})") from None
    base = base.upper()
    chosen = [i for i in instruments if i.base == base and i.quote in quotes and i.kind is kind]
    return sorted(chosen, key=lambda i: (i.venue, i.symbol))
