"""Market impact of an order walking the consolidated book, and its best split across venues.

A market order of size ``Q`` is either a base quantity (COB size units) or, with
``by_quote=True``, a quote amount (COB notional units: price units x size units): a buy spends
at most that amount, a sell goes on until its proceeds reach it.

Routing with taker fees: at a venue with fee ``f`` a unit bought at price ``p`` costs
``p * (1 + f)`` and a unit sold brings ``p * (1 - f)``. Each venue's cost is then a convex
piecewise-linear function of the quantity sent there (its levels get worse), so taking units
from the merged fee-adjusted ladder of all venues, best first, is optimal: every venue used
ends at a marginal cost no worse than the next unit anywhere else (equal marginal cost, up to
the discrete levels), and no split, in particular "everything to one venue", does better. The
comparison is exact: fee-adjusted prices are integers (price x (FEE_ONE +/- fee)) and ties go
to the venue listed first.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import msgspec

from orderscope.cob.config import FEE_DECIMALS, FEE_ONE
from orderscope.cob.side import TOTAL
from orderscope.fixed import POW10

if TYPE_CHECKING:
    from orderscope.cob.consolidated import ConsolidatedBook
    from orderscope.cob.member import Member

BPS = 10_000

#: A ladder step: (fee-adjusted price, source index, price, size); COB units, best first.
Step = tuple[int, int, int, int]


class Fill(msgspec.Struct, frozen=True, gc=False):
    """What one venue (or the whole COB) fills of an order."""

    venue: str
    filled: int  # COB size units
    notional: int  # sum(price * size), fees excluded, COB notional units
    value: int  # sum(fee-adjusted price * size), units of 10**-(notional + FEE_DECIMALS)
    total: float  # quote paid (buy) or received (sell), fees included
    levels: int
    average_price: float | None  # fees excluded
    worst_price: int | None  # the last level used (its fee-adjusted price is the marginal one)
    marginal: int | None  # fee-adjusted price of the last unit, price units x FEE_ONE


class Impact(msgspec.Struct, frozen=True, gc=False):
    is_buy: bool
    quantity: int
    by_quote: bool
    complete: bool  # False: the COB ran out first
    filled: int
    notional: int
    levels: int
    best_price: int | None
    worst_price: int | None
    average_price: float | None
    slippage_bps: float | None  # average vs the best price, positive = worse
    mid_impact_bps: float | None  # average vs the mid, positive = worse


class Route(msgspec.Struct, frozen=True, gc=False):
    is_buy: bool
    quantity: int
    by_quote: bool
    complete: bool
    legs: list[Fill]  # venues used, in member order
    filled: int
    total: float  # quote paid or received, fees included
    effective_price: float | None  # total / filled
    best_single: Fill | None  # the best venue for the whole order alone
    single_complete: bool
    #: What the split gains over the best single venue: quote saved (base orders) or base
    #: gained / kept (quote orders); None when the single venue cannot fill it either.
    saving: float | None
    saving_bps: float | None


@dataclass(slots=True)
class _Acc:
    filled: int = 0
    notional: int = 0
    value: int = 0
    levels: int = 0
    worst: int | None = None
    marginal: int | None = None


def _greedy(
    ladder: Iterable[Step], quantity: int, by_quote: bool, is_buy: bool, sources: int
) -> tuple[list[_Acc], bool]:
    """Take the ladder's units best first until ``quantity`` is done; (per source, complete)."""
    accs = [_Acc() for _ in range(sources)]
    remaining = quantity
    if remaining <= 0:
        return accs, True
    for eff, source, price, size in ladder:
        if by_quote:
            if eff * size <= remaining:
                take = size
            elif is_buy:  # never spend more than the budget
                take = remaining // eff
            else:  # sell until the proceeds reach the target
                take = -(-remaining // eff)
            if not take:
                return accs, True  # what is left buys less than one size unit
            remaining -= take * eff
        else:
            take = min(size, remaining)
            remaining -= take
        acc = accs[source]
        acc.filled += take
        acc.notional += take * price
        acc.value += take * eff
        acc.levels += 1
        acc.worst = price
        acc.marginal = eff
        if remaining <= 0 or take < size:
            return accs, True
    return accs, False


def _member_ladder(cob: ConsolidatedBook, m: Member, index: int, is_buy: bool) -> Iterator[Step]:
    factor = FEE_ONE + m.fee if is_buy else FEE_ONE - m.fee
    for price, size in cob.venue_ladder(m, not is_buy):
        yield price * factor, index, price, size


def _merged(ladders: list[Iterator[Step]], is_buy: bool) -> Iterator[Step]:
    # Each ladder is sorted best first; merge keeps that, ties in ladder order.
    return heapq.merge(*ladders, key=lambda step: step[0], reverse=not is_buy)


def _fill(cob: ConsolidatedBook, venue: str, acc: _Acc) -> Fill:
    scale = POW10[cob.price_decimals + cob.size_decimals + FEE_DECIMALS]
    avg = acc.notional / acc.filled / POW10[cob.price_decimals] if acc.filled else None
    return Fill(
        venue,
        acc.filled,
        acc.notional,
        acc.value,
        acc.value / scale,
        acc.levels,
        avg,
        acc.worst,
        acc.marginal,
    )


def impact(cob: ConsolidatedBook, is_buy: bool, quantity: int, *, by_quote: bool = False) -> Impact:
    """Walk the COB (real sizes of the active venues, fees excluded)."""
    if quantity < 0:
        raise ValueError("quantity must be >= 0")
    levels = (cob.asks if is_buy else cob.bids).levels
    ladder = ((p, 0, p, levels[p][TOTAL]) for p in cob.prices(not is_buy))
    (acc,), complete = _greedy(ladder, quantity, by_quote, is_buy, 1)
    best = cob.best_ask() if is_buy else cob.best_bid()
    best_price = best[0] if best else None
    avg = acc.notional / acc.filled if acc.filled else None  # price units
    sign = 1 if is_buy else -1
    mid2 = cob.mid2()
    px = POW10[cob.price_decimals]
    return Impact(
        is_buy=is_buy,
        quantity=quantity,
        by_quote=by_quote,
        complete=complete,
        filled=acc.filled,
        notional=acc.notional,
        levels=acc.levels,
        best_price=best_price,
        worst_price=acc.worst,
        average_price=avg / px if avg is not None else None,
        # "+ 0.0" turns a -0.0 (a sell filled at its best price) into 0.0
        slippage_bps=sign * (avg - best_price) * BPS / best_price + 0.0
        if avg is not None and best_price
        else None,
        mid_impact_bps=sign * (2 * avg - mid2) * BPS / mid2 + 0.0
        if avg is not None and mid2
        else None,
    )


def _score(acc: _Acc, complete: bool, is_buy: bool, by_quote: bool) -> tuple[int, int, int]:
    """Larger is better: complete first, then the order's own objective."""
    if by_quote and not is_buy:  # least base sold for the proceeds
        return int(complete), -acc.filled, acc.value
    if is_buy:  # most base (for a budget), least cost (for a quantity)
        return int(complete), acc.filled, -acc.value
    return int(complete), acc.filled, acc.value  # most proceeds


def route(cob: ConsolidatedBook, is_buy: bool, quantity: int, *, by_quote: bool = False) -> Route:
    """The best split of a market order across the active venues, taker fees included."""
    if quantity < 0:
        raise ValueError("quantity must be >= 0")
    members = cob.active_members
    target = quantity * FEE_ONE if by_quote else quantity  # quote amounts carry the fee scale
    ladders = [_member_ladder(cob, m, i, is_buy) for i, m in enumerate(members)]
    accs, complete = _greedy(_merged(ladders, is_buy), target, by_quote, is_buy, len(members))
    legs = [_fill(cob, m.label, a) for m, a in zip(members, accs, strict=True) if a.filled]
    split = _Acc(
        filled=sum(a.filled for a in accs),
        notional=sum(a.notional for a in accs),
        value=sum(a.value for a in accs),
    )
    best: tuple[tuple[int, int, int], _Acc, Member, bool] | None = None
    for m in members:
        (acc, *_), alone = _greedy(_member_ladder(cob, m, 0, is_buy), target, by_quote, is_buy, 1)
        score = _score(acc, alone, is_buy, by_quote)
        if best is None or score > best[0]:
            best = (score, acc, m, alone)
    scale = POW10[cob.price_decimals + cob.size_decimals + FEE_DECIMALS]
    total = split.value / scale
    saving: float | None = None
    saving_bps: float | None = None
    single: Fill | None = None
    single_complete = False
    if best is not None:
        _, acc, m, single_complete = best
        single = _fill(cob, m.label, acc)
        if single_complete and complete:
            if by_quote:
                gain = split.filled - acc.filled if is_buy else acc.filled - split.filled
                saving = gain / POW10[cob.size_decimals]
                saving_bps = gain * BPS / acc.filled if acc.filled else None
            else:
                gain = acc.value - split.value if is_buy else split.value - acc.value
                saving = gain / scale
                saving_bps = gain * BPS / acc.value if acc.value else None
    return Route(
        is_buy=is_buy,
        quantity=quantity,
        by_quote=by_quote,
        complete=complete,
        legs=legs,
        filled=split.filled,
        total=total,
        effective_price=total / (split.filled / POW10[cob.size_decimals]) if split.filled else None,
        best_single=single,
        single_complete=single_complete,
        saving=saving,
        saving_bps=saving_bps,
    )
