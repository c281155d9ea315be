"""Market impact walking the COB, and the optimal split of an order across venues."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orderscope.cob import ConsolidatedBook, impact, route
from orderscope.cob.config import FEE_ONE, CobConfig
from orderscope.model import Level
from tests.cob.synthetic import T0, instrument, snapshot

VENUES = ("x", "y", "z")


def routing_cob(fees: dict[str, str]) -> ConsolidatedBook:
    """Three venues with whole-unit sizes and cent prices (the COB scale is theirs)."""
    return ConsolidatedBook([instrument(v, 2, 0) for v in VENUES], CobConfig(taker_fees=fees))


def hand_built() -> ConsolidatedBook:
    cob = routing_cob({"x": "0.001", "y": "0.0002", "z": "0.003"})
    cob.update(snapshot("x", T0, [(9990, 4)], [(10000, 5), (10050, 5)]))
    cob.update(snapshot("y", T0, [(9995, 2), (9980, 10)], [(10005, 3), (10010, 10)]))
    cob.update(snapshot("z", T0, [(10001, 1)], [(9995, 2), (10100, 10)]))  # crossed itself
    return cob


def test_impact_walks_the_consolidated_levels() -> None:
    cob = hand_built()
    # asks: 99.95 x2 (z), 100.00 x5 (x), 100.05 x3 (y), 100.10 x10, ...
    walk = impact(cob, True, 8)
    assert (walk.filled, walk.levels, walk.worst_price, walk.complete) == (8, 3, 10005, True)
    assert walk.notional == 2 * 9995 + 5 * 10000 + 1 * 10005
    assert walk.average_price == pytest.approx(walk.notional / 8 / 100)
    assert walk.slippage_bps == pytest.approx((walk.notional / 8 - 9995) / 9995 * 1e4)
    short = impact(cob, True, 1000)
    assert not short.complete and short.filled == 35
    budget = impact(cob, True, 2 * 9995 + 3 * 10000 + 50, by_quote=True)  # $599.40 + change
    assert (budget.filled, budget.complete) == (5, True)
    sell = impact(cob, False, 3)
    assert sell.notional == 10001 + 2 * 9995 and sell.slippage_bps > 0


def test_route_uses_fees_and_beats_the_best_single_venue() -> None:
    cob = hand_built()
    r = route(cob, True, 10)
    # effective asks: y 100.07001 (3), x 100.1 (5), y 100.12002 (10), z 100.24985 (2), ...
    # z's 99.95 is the best raw price, but its 0.3% fee makes it the worst
    assert [(leg.venue, leg.filled) for leg in r.legs] == [("x", 5), ("y", 5)]
    assert r.complete and r.filled == 10
    expected = 3 * 10005 * (FEE_ONE + 20_000) + 5 * 10000 * (FEE_ONE + 100_000)
    expected += 2 * 10010 * (FEE_ONE + 20_000)
    assert sum(leg.value for leg in r.legs) == expected
    assert r.total == pytest.approx(1000.95007)
    assert r.best_single is not None and r.best_single.venue == "y"
    assert r.best_single.total == pytest.approx(1001.05017)
    assert r.saving == pytest.approx(0.1001)
    assert r.saving_bps is not None and r.saving_bps > 0


def ladder_costs(cob: ConsolidatedBook, venue: str, is_buy: bool) -> list[int]:
    """The fee-adjusted price of each successive unit on one venue (best first)."""
    m = cob.member(venue)
    factor = FEE_ONE + m.fee if is_buy else FEE_ONE - m.fee
    levels = cob.venue_levels(m, not is_buy)
    return [price * m.pm * factor for price, size in levels for _ in range(size * m.sm)]


def brute_force(
    units: list[list[int]], quantity: int, is_buy: bool
) -> tuple[int, tuple[int, ...]] | None:
    """The best total over every split of ``quantity`` units (exhaustive)."""
    best = None
    for split in itertools.product(*(range(len(u) + 1) for u in units)):
        if sum(split) != quantity:
            continue
        total = sum(sum(u[:q]) for u, q in zip(units, split, strict=True))
        if best is None or (total < best[0] if is_buy else total > best[0]):
            best = (total, split)
    return best


side_levels = st.lists(
    st.tuples(st.integers(9990, 10010), st.integers(1, 4)), max_size=3, unique_by=lambda x: x[0]
)
three_books = st.lists(st.tuples(side_levels, side_levels), min_size=3, max_size=3)
three_fees = st.lists(st.sampled_from(["0", "0.0002", "0.001", "0.0025"]), min_size=3, max_size=3)


def build(books: list[tuple[list[Level], list[Level]]], fees: list[str]) -> ConsolidatedBook:
    cob = routing_cob(dict(zip(VENUES, fees, strict=True)))
    for venue, (bids, asks) in zip(VENUES, books, strict=True):
        cob.update(snapshot(venue, T0, bids, asks))
    return cob


@settings(max_examples=150, deadline=None)
@given(three_books, three_fees, st.booleans(), st.integers(1, 14))
def test_split_is_optimal_and_never_worse_than_one_venue(
    books: list[tuple[list[Level], list[Level]]], fees: list[str], is_buy: bool, quantity: int
) -> None:
    cob = build(books, fees)
    units = [ladder_costs(cob, v, is_buy) for v in VENUES]
    r = route(cob, is_buy, quantity)
    value = sum(leg.value for leg in r.legs)
    best = brute_force(units, quantity, is_buy)
    if best is None:  # not enough liquidity anywhere together
        assert not r.complete and r.filled == sum(len(u) for u in units)
        return
    assert r.complete and r.filled == quantity
    assert value == best[0]  # exactly the optimum
    # equal marginal cost: no unit left anywhere is better than the worst unit taken
    used = {leg.venue: leg.filled for leg in r.legs}
    taken = [u[used.get(v, 0) - 1] for v, u in zip(VENUES, units, strict=True) if used.get(v)]
    left = [
        u[used.get(v, 0)] for v, u in zip(VENUES, units, strict=True) if len(u) > used.get(v, 0)
    ]
    if taken and left:
        assert max(taken) <= min(left) if is_buy else min(taken) >= max(left)
    for leg in r.legs:
        assert leg.marginal == units[VENUES.index(leg.venue)][leg.filled - 1]
    # never worse than sending everything to one venue that can take it
    for u in units:
        if len(u) >= quantity:
            alone = sum(u[:quantity])
            assert value <= alone if is_buy else value >= alone
    if r.single_complete:
        assert r.saving is not None and r.saving >= 0


@settings(max_examples=100, deadline=None)
@given(three_books, three_fees, st.booleans(), st.integers(1, 6000))
def test_quote_amount_orders_are_optimal(
    books: list[tuple[list[Level], list[Level]]], fees: list[str], is_buy: bool, amount: int
) -> None:
    cob = build(books, fees)  # COB notional units: cents x whole units
    units = [ladder_costs(cob, v, is_buy) for v in VENUES]
    target = amount * FEE_ONE
    r = route(cob, is_buy, amount, by_quote=True)
    value = sum(leg.value for leg in r.legs)
    splits = itertools.product(*(range(len(u) + 1) for u in units))
    totals = [
        (sum(split), sum(sum(u[:q]) for u, q in zip(units, split, strict=True))) for split in splits
    ]
    if is_buy:  # the most units within the budget
        assert value <= target
        assert r.filled == max(n for n, total in totals if total <= target)
    else:  # the fewest units whose proceeds reach the target
        reachable = [n for n, total in totals if total >= target]
        assert r.complete == bool(reachable)
        if reachable:
            assert value >= target and r.filled == min(reachable)
