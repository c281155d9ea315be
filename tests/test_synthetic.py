"""The synthetic market's anchor: markets of one asset pulled together, and deterministic."""

from __future__ import annotations

import hashlib
import heapq
import statistics

from orderscope.synthetic import BTC_USDT, MarketSpec, SyntheticMarket


def _gaps(spec: MarketSpec, anchored: bool, seconds: int = 60) -> list[int]:
    """The spread of the three markets' mids (price units), once a simulated second."""
    leader = SyntheticMarket(spec, 1)
    anchor = leader.mid if anchored else None
    markets = [leader, *(SyntheticMarket(spec, 1 + 100 * n, anchor=anchor) for n in (1, 2))]
    queue = [(0, i) for i in range(len(markets))]
    gaps: list[int] = []
    while len(gaps) < seconds:
        t, i = heapq.heappop(queue)
        heapq.heappush(queue, (t + markets[i].step().dt_ns, i))
        if t >= (len(gaps) + 1) * 10**9:
            mids = [m.mid() or 0 for m in markets]
            gaps.append(max(mids) - min(mids))
    return gaps


def test_anchored_markets_stay_a_few_ticks_apart() -> None:
    free = statistics.median(_gaps(BTC_USDT, anchored=False))
    held = statistics.median(_gaps(BTC_USDT, anchored=True))
    assert free >= 60 * BTC_USDT.tick  # independent random walks drift dollars apart
    assert held <= 15 * BTC_USDT.tick  # anchored ones stay about a dollar apart


def test_anchored_markets_are_deterministic() -> None:
    def run() -> list[tuple[int, list[tuple[bool, int, int]], list[tuple[int, int, int]]]]:
        leader = SyntheticMarket(BTC_USDT, 7)
        follower = SyntheticMarket(BTC_USDT, 8, anchor=leader.mid)
        out = []
        for _ in range(3000):
            leader.step()
            step = follower.step()
            out.append((step.dt_ns, step.changes, [(p, s, int(d)) for p, s, d in step.fills]))
        return out

    assert run() == run()


def test_without_an_anchor_the_market_is_unchanged() -> None:
    # The digest of the first 2,000 steps of seed 5 before anchors existed: a market without
    # one draws the same random numbers as before, so recorded demos and tests stay as they were.
    market = SyntheticMarket(BTC_USDT, 5)
    digest = hashlib.sha256()
    for _ in range(2000):
        step = market.step()
        fills = [(p, s, int(d)) for p, s, d in step.fills]
        digest.update(repr((step.dt_ns, step.changes, fills)).encode())
    assert digest.hexdigest() == (
        "20a71f7bfc439078c131bd3dac8dcb78ecb3843b775df7f1b5a81a75df03f69f"
    )


def test_a_market_near_zero_never_quotes_a_price_at_or_below_it() -> None:
    # Found by the soak: XRP/USDT (0.5000 at 4 decimals) random-walked down far enough in ten
    # minutes for the replenished bids to reach "-0.0001", which the connectors rightly refuse.
    import dataclasses

    from orderscope.synthetic import XRP_USDT

    spec = dataclasses.replace(XRP_USDT, start_price=150)  # 1.5 depths above zero
    market = SyntheticMarket(spec, 3)
    bids_seen = 0
    for _ in range(20_000):
        step = market.step()
        assert all(price > 0 for _is_bid, price, _size in step.changes)
        assert all(price > 0 for price, _size, _side in step.fills)
        bids_seen += sum(1 for is_bid, _p, _s in step.changes if is_bid)
    assert bids_seen > 1000  # the bid side still lives
    assert market.book.best_bid() is not None
