"""Cross-venue arbitrage signals, net of both taker fees."""

from __future__ import annotations

import random

import pytest

from orderscope.cob import ArbitrageSignal, CobConfig, ConsolidatedBook, find_opportunities
from orderscope.cob.arbitrage import _match
from tests.cob.synthetic import MS, T0, delta, instrument, snapshot


def arb_cob(signals: list[ArbitrageSignal] | None = None, **config: object) -> ConsolidatedBook:
    fees = {"a": "0.001", "b": "0.0005"}
    return ConsolidatedBook(
        [instrument("a", 2, 1), instrument("b", 2, 1)],
        CobConfig(taker_fees=fees, **config),  # type: ignore[arg-type]
        on_signal=None if signals is None else signals.append,
    )


def test_bid_above_ask_net_of_fees_is_a_signal_with_size_and_profit() -> None:
    signals: list[ArbitrageSignal] = []
    cob = arb_cob(signals)
    cob.update(snapshot("a", T0, [(9990, 10)], [(10000, 10), (10020, 10)]))  # asks 1.0, 1.0
    cob.update(snapshot("b", T0 + MS, [(10030, 5), (10025, 20)], [(10040, 10)]))
    (signal,) = signals
    assert (signal.buy_venue, signal.sell_venue) == ("a", "b")
    assert (signal.buy_price, signal.sell_price) == (10000, 10030)
    # 0.5 at 100.00 -> 100.30, then 0.5 at 100.00 -> 100.25; 100.20 -> 100.25 loses to fees
    assert signal.size == 10
    per_unit_1 = 100.30 * (1 - 0.0005) - 100.00 * (1 + 0.001)
    per_unit_2 = 100.25 * (1 - 0.0005) - 100.00 * (1 + 0.001)
    assert signal.profit == pytest.approx(0.5 * per_unit_1 + 0.5 * per_unit_2)
    assert signal.edge_bps == pytest.approx(per_unit_1 / (100.0 * 1.001) * 1e4)
    assert "buy 1 BTC on a" in signal.description
    assert cob.arbitrage.open[("a", "b")].opened_ns == T0 + MS


def test_fees_can_eat_the_crossing() -> None:
    cob = arb_cob()
    cob.update(snapshot("a", T0, [], [(10000, 10)]))
    cob.update(snapshot("b", T0, [(10015, 10)], []))  # 100.15 * 0.9995 < 100.00 * 1.001
    assert cob.crossed() and find_opportunities(cob, T0) == []
    assert cob.arbitrage.opened == 0 and not cob.arbitrage.signals


def test_one_signal_per_opening() -> None:
    signals: list[ArbitrageSignal] = []
    cob = arb_cob(signals)
    cob.update(snapshot("a", T0, [], [(10000, 10)]))
    cob.update(snapshot("b", T0, [(10100, 10)], []))
    cob.update(delta("b", T0 + MS, [(10100, 20)], []))  # still open: figures updated only
    assert len(signals) == 1 and cob.arbitrage.open[("a", "b")].size == 10
    cob.update(delta("b", T0 + 2 * MS, [(10100, 0)], []))  # closed
    assert cob.arbitrage.open == {} and cob.arbitrage.closed == 1
    cob.update(delta("b", T0 + 3 * MS, [(10100, 5)], []))  # opens again
    assert len(signals) == 2 and signals[1].opened_ns == T0 + 3 * MS


def test_a_venue_out_of_the_cob_is_no_opportunity() -> None:
    signals: list[ArbitrageSignal] = []
    cob = arb_cob(signals, stale_after_ns=50 * MS)
    cob.update(snapshot("b", T0, [(10100, 10)], []))
    cob.update(snapshot("a", T0 + 100 * MS, [], [(10000, 10)]))  # b is stale by now
    assert cob.member("b").state == "stale" and signals == []


def random_cob(seed: int) -> ConsolidatedBook:
    rng = random.Random(seed)
    names = ("a", "b", "c")
    fees = {n: rng.choice(["0", "0.0005", "0.001", "0.004"]) for n in names}
    cob = ConsolidatedBook([instrument(n, 2, 1) for n in names], CobConfig(taker_fees=fees))
    for n in names:
        mid = 10_000 + rng.randint(-40, 40)
        bids = [(mid - k - rng.randint(1, 3), rng.randint(1, 9)) for k in range(0, 12, 3)]
        asks = [(mid + k + rng.randint(1, 3), rng.randint(1, 9)) for k in range(0, 12, 3)]
        cob.update(snapshot(n, T0, bids, asks))
    return cob


def test_early_outs_find_what_every_pair_walked_finds() -> None:
    """The O(1) rejection and the per-venue best prices change nothing: the same pairs, with
    the same sizes, as walking every pair of active venues (books with and without any)."""
    outcomes = set()
    for seed in range(40):
        cob = random_cob(seed)
        found = {(s.buy_venue, s.sell_venue): s.size for s in find_opportunities(cob, T0)}
        members = cob.active_members
        walked = {
            (b.label, s.label): m[0]
            for b in members
            for s in members
            if b is not s and (m := _match(cob, b, s)) is not None
        }
        assert found == walked, seed
        outcomes.add(bool(found))
    assert outcomes == {True, False}
