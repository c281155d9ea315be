"""Cross-venue arbitrage: one venue's bid above another's ask, net of both taker fees.

Buying at venue A's ask and selling at venue B's bid earns, per unit,
``bid_B * (1 - fee_B) - ask_A * (1 + fee_A)``. The comparison is exact (integer prices on the
COB's scale times integer fee factors). The size available walks both books while each next
unit still earns something, so a thin top level does not hide (or inflate) the opportunity.

The COB only looks when it is crossed (its best bid >= its best ask), which costs one
comparison per delta; an opportunity is signalled once when it opens, and the tracker keeps
its latest figures while it stays open. Venues outside the COB (stale, out of sync) never
count: a price that may be wrong is not an opportunity.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import msgspec

from orderscope.cob.config import FEE_DECIMALS, FEE_ONE
from orderscope.fixed import POW10, format_fixed

if TYPE_CHECKING:
    from orderscope.cob.consolidated import ConsolidatedBook
    from orderscope.cob.member import Member


class ArbitrageSignal(msgspec.Struct, frozen=True, gc=False):
    ts: int  # event time of these figures
    opened_ns: int  # event time the opportunity opened
    buy_venue: str  # buy at its best ask ...
    sell_venue: str  # ... sell at its best bid
    buy_price: int  # COB price units
    sell_price: int
    size: int  # COB size units that can be bought and sold at a net profit
    profit: float  # in the COB's quote, net of both taker fees, over ``size``
    edge_bps: float  # net edge of the first unit, bps of its cost
    description: str


def _match(buyer: Member, seller: Member) -> tuple[int, int, int] | None:
    """(size, profit, first-unit edge) of buying on ``buyer`` and selling on ``seller``.

    ``profit`` is in units of 10**-(price + size + fee decimals); None when not profitable.
    """
    asks = buyer.ask_prices
    bids = seller.bid_prices
    if not asks or not bids:
        return None
    buy_factor = buyer.pm * (FEE_ONE + buyer.fee)
    sell_factor = seller.pm * (FEE_ONE - seller.fee)
    first_edge = bids[-1] * sell_factor - asks[0] * buy_factor
    if first_edge <= 0:
        return None
    ask_sizes, bid_sizes = buyer.ask_sizes, seller.bid_sizes
    ai, bi = 0, len(bids) - 1
    ask_left = ask_sizes[asks[0]] * buyer.sm
    bid_left = bid_sizes[bids[-1]] * seller.sm
    size = profit = 0
    while True:
        edge = bids[bi] * sell_factor - asks[ai] * buy_factor
        if edge <= 0:
            break
        take = min(ask_left, bid_left)
        size += take
        profit += take * edge
        ask_left -= take
        bid_left -= take
        if not ask_left:
            ai += 1
            if ai == len(asks):
                break
            ask_left = ask_sizes[asks[ai]] * buyer.sm
        if not bid_left:
            bi -= 1
            if bi < 0:
                break
            bid_left = bid_sizes[bids[bi]] * seller.sm
    return size, profit, first_edge


def find_opportunities(cob: ConsolidatedBook, now: int) -> list[ArbitrageSignal]:
    """Every (buy venue, sell venue) pair of active venues that is profitable now."""
    members = cob.active_members
    out = []
    scale = POW10[cob.price_decimals + cob.size_decimals + FEE_DECIMALS]
    for buyer in members:
        for seller in members:
            if buyer is seller:
                continue
            found = _match(buyer, seller)
            if found is None:
                continue
            size, profit, edge = found
            buy_price = buyer.ask_prices[0] * buyer.pm
            sell_price = seller.bid_prices[-1] * seller.pm
            edge_bps = edge * 10_000 / (buy_price * (FEE_ONE + buyer.fee))
            text = (
                f"buy {format_fixed(size, cob.size_decimals, strip=True)} {cob.base} on "
                f"{buyer.label} from {format_fixed(buy_price, cob.price_decimals, strip=True)}, "
                f"sell on {seller.label} from "
                f"{format_fixed(sell_price, cob.price_decimals, strip=True)}: "
                f"{profit / scale:.6g} {cob.quote} net of taker fees ({edge_bps:.2f} bps)"
            )
            out.append(
                ArbitrageSignal(
                    now,
                    now,
                    buyer.label,
                    seller.label,
                    buy_price,
                    sell_price,
                    size,
                    profit / scale,
                    edge_bps,
                    text,
                )
            )
    return out


class ArbitrageTracker:
    """Open opportunities of one COB; a signal when a pair opens."""

    def __init__(
        self, cob: ConsolidatedBook, on_signal: Callable[[ArbitrageSignal], None] | None
    ) -> None:
        self.cob = cob
        self.on_signal = on_signal
        self.open: dict[tuple[str, str], ArbitrageSignal] = {}
        self.signals: list[ArbitrageSignal] = []  # every opening, in event-time order
        self.closed = 0

    def check(self, now: int) -> None:
        current: dict[tuple[str, str], ArbitrageSignal] = {}
        for signal in find_opportunities(self.cob, now):
            pair = (signal.buy_venue, signal.sell_venue)
            previous = self.open.get(pair)
            if previous is None:
                self.signals.append(signal)
                if self.on_signal is not None:
                    self.on_signal(signal)
            else:
                signal = msgspec.structs.replace(signal, opened_ns=previous.opened_ns)
            current[pair] = signal
        self.closed += len(self.open.keys() - current.keys())
        self.open = current
