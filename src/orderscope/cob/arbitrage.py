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

from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING

import msgspec

from orderscope.cob.config import FEE_DECIMALS, FEE_ONE
from orderscope.fixed import POW10, format_fixed

if TYPE_CHECKING:
    from orderscope.cob.consolidated import ConsolidatedBook
    from orderscope.cob.member import Member


RECENT_SIGNALS = 1000


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


def _match(cob: ConsolidatedBook, buyer: Member, seller: Member) -> tuple[int, int, int] | None:
    """(size, profit, first-unit edge) of buying on ``buyer`` and selling on ``seller``.

    ``profit`` is in units of 10**-(price + size + fee decimals); None when not profitable.
    """
    asks = cob.venue_ladder(buyer, False)
    bids = cob.venue_ladder(seller, True)
    ask = next(asks, None)
    bid = next(bids, None)
    if ask is None or bid is None:
        return None
    buy_factor = FEE_ONE + buyer.fee
    sell_factor = FEE_ONE - seller.fee
    (ask_price, ask_left), (bid_price, bid_left) = ask, bid
    first_edge = bid_price * sell_factor - ask_price * buy_factor
    size = profit = 0
    edge = first_edge
    while edge > 0:
        take = min(ask_left, bid_left)
        size += take
        profit += take * edge
        ask_left -= take
        bid_left -= take
        if not ask_left:
            ask = next(asks, None)
            if ask is None:
                break
            ask_price, ask_left = ask
        if not bid_left:
            bid = next(bids, None)
            if bid is None:
                break
            bid_price, bid_left = bid
        edge = bid_price * sell_factor - ask_price * buy_factor
    return (size, profit, first_edge) if size else None


def find_opportunities(cob: ConsolidatedBook, now: int) -> list[ArbitrageSignal]:
    """Every (buy venue, sell venue) pair of active venues that is profitable now."""
    members = cob.active_members
    out: list[ArbitrageSignal] = []
    best_bid, best_ask = cob.best_bid(), cob.best_ask()
    if not members or best_bid is None or best_ask is None:
        return out
    # Exact early outs (a crossed COB is checked on every delta, and crossings are mostly
    # thinner than two taker fees): no venue bids above the COB's best bid or asks below its
    # best ask, and no fee is below the lowest, so no pair can earn more than this.
    low_fee = min(m.fee for m in members)
    if best_bid[0] * (FEE_ONE - low_fee) <= best_ask[0] * (FEE_ONE + low_fee):
        return out
    bests = {m.slot: (cob.venue_best(m, True), cob.venue_best(m, False)) for m in members}
    scale = POW10[cob.price_decimals + cob.size_decimals + FEE_DECIMALS]
    for buyer in members:
        ask = bests[buyer.slot][1]
        if ask is None:
            continue
        for seller in members:
            bid = bests[seller.slot][0]
            if buyer is seller or bid is None:
                continue
            if bid * (FEE_ONE - seller.fee) <= ask * (FEE_ONE + buyer.fee):
                continue  # the first unit earns nothing: what _match would find
            found = _match(cob, buyer, seller)
            if found is None:
                continue
            size, profit, edge = found
            buy_price = cob.venue_best(buyer, False)
            sell_price = cob.venue_best(seller, True)
            assert buy_price is not None and sell_price is not None
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
        #: the latest openings, in event-time order (bounded: a live session runs for days)
        self.signals: deque[ArbitrageSignal] = deque(maxlen=RECENT_SIGNALS)
        self.opened = 0
        self.closed = 0

    def check(self, now: int) -> None:
        current: dict[tuple[str, str], ArbitrageSignal] = {}
        for signal in find_opportunities(self.cob, now):
            pair = (signal.buy_venue, signal.sell_venue)
            previous = self.open.get(pair)
            if previous is None:
                self.opened += 1
                self.signals.append(signal)
                if self.on_signal is not None:
                    self.on_signal(signal)
            else:
                signal = msgspec.structs.replace(signal, opened_ns=previous.opened_ns)
            current[pair] = signal
        self.closed += len(self.open.keys() - current.keys())
        self.open = current
