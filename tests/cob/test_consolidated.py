"""The COB against the sum of its venue books, and its venues entering and leaving."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orderscope.book import L2Book
from orderscope.cob import CobConfig, CobSnapshot, ConsolidatedBook, VenueState, select_group
from orderscope.errors import ConfigError
from orderscope.model import BookSnapshot, BookState, Level, Side, Trade
from orderscope.synthetic import MarketSpec, SyntheticMarket
from tests.cob.synthetic import (
    MS,
    PRECISIONS,
    SECOND,
    T0,
    delta,
    instrument,
    make_cob,
    naive_sum,
    snapshot,
    status,
    three_venues,
)

# Prices on each venue's own grid, over the same real range (99.90 .. 100.10) so that some
# coincide across venues and some exist on one venue only: "a" steps 0.05, "b" 0.1, "c" 0.025.
GRID = {"a": (9990, 5), "b": (999, 1), "c": (99900, 25)}


def venue_levels(venue: str, allow_zero: bool) -> st.SearchStrategy[list[Level]]:
    base, step = GRID[venue]
    price = st.integers(0, 4).map(lambda k: base + k * step)
    size = st.integers(0 if allow_zero else 1, 30)
    if allow_zero:
        return st.lists(st.tuples(price, size), max_size=6)
    return st.lists(st.tuples(price, size), max_size=5, unique_by=lambda lv: lv[0])


def operation() -> st.SearchStrategy[tuple[object, ...]]:
    venue = st.sampled_from(sorted(PRECISIONS))
    return st.one_of(
        venue.flatmap(
            lambda v: st.tuples(
                st.just("snapshot"), st.just(v), venue_levels(v, False), venue_levels(v, False)
            )
        ),
        venue.flatmap(
            lambda v: st.tuples(
                st.just("delta"), st.just(v), venue_levels(v, True), venue_levels(v, True)
            )
        ),
        st.tuples(st.just("out_of_sync"), venue),
        st.tuples(st.just("remove"), venue),
    )


def check_consolidation(cob: ConsolidatedBook, books: dict[str, L2Book]) -> None:
    """Every level is the exact sum of the venue books, with the right breakdown."""
    bids, asks = naive_sum(books, cob.price_decimals, cob.size_decimals)
    assert cob.bid_levels() == bids
    assert cob.ask_levels() == asks
    assert cob.bids.total == sum(s for _, s in bids)
    assert cob.asks.total == sum(s for _, s in asks)
    assert set(cob.bids.levels) == {p for p, _ in bids}
    for is_bid, expected in ((True, bids), (False, asks)):
        for level in cob.levels(is_bid, len(expected)):
            parts = {v.venue: v.size for v in level.venues}
            assert sum(parts.values()) == level.size
            for venue, size in parts.items():
                book = books[venue]
                pm = 10 ** (cob.price_decimals - book.instrument.price_decimals)
                sm = 10 ** (cob.size_decimals - book.instrument.size_decimals)
                venue_price, rest = divmod(level.price, pm)
                assert rest == 0
                own = book.bid_size(venue_price) if is_bid else book.ask_size(venue_price)
                assert own * sm == size
            assert parts[level.dominant] == max(parts.values())


#: Gaps between events: most are short, some make the venues that stay silent go stale.
GAPS = st.sampled_from([MS, MS, 40 * MS, 400 * MS, 1050 * MS, 1150 * MS])
STALE_AFTER = SECOND
TICK = 100 * MS


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(GAPS, operation()), max_size=40))
def test_cob_equals_sum_of_venue_books_at_every_step(
    steps: list[tuple[int, tuple[object, ...]]],
) -> None:
    cob = make_cob(stale_after_ns=STALE_AFTER, tick_ns=TICK)
    books = {i.venue: L2Book(i) for i in three_venues()}
    # the reference: which venues should be in, from the rules (synced, not removed, fresh at
    # the last tick boundary the COB's clock crossed)
    synced: set[str] = set()
    removed: set[str] = set()
    last: dict[str, int] = {}
    boundary: int | None = None
    next_tick = 0
    ts = T0
    for gap, op in steps:
        ts += gap
        kind, venue = op[0], op[1]
        assert isinstance(venue, str)
        if venue in removed:
            continue
        book = books[venue]
        if kind != "remove":  # an event: the clock may cross a tick boundary first
            if ts >= next_tick:
                if next_tick:
                    boundary = ts - ts % TICK
                next_tick = ts - ts % TICK + TICK
            last[venue] = ts
        if kind == "snapshot":
            bids, asks = op[2], op[3]
            book.apply_snapshot(bids, asks)  # type: ignore[arg-type]
            cob.update(snapshot(venue, ts, bids, asks))  # type: ignore[arg-type]
            synced.add(venue)
        elif kind == "delta":
            bids, asks = op[2], op[3]
            if book.is_synced:  # a connector emits no delta for a book that is not synced
                book.apply_delta(bids, asks)  # type: ignore[arg-type]
            cob.update(delta(venue, ts, bids, asks))  # type: ignore[arg-type]
        elif kind == "out_of_sync":
            book.mark_out_of_sync()
            cob.update(status(venue, ts, BookState.OUT_OF_SYNC))
            synced.discard(venue)
        else:
            before_bids, before_asks = cob.bid_levels(), cob.ask_levels()
            contribution = {venue: book} if cob.member(venue).active else {}
            cob.remove_venue(venue)
            removed.add(venue)
            synced.discard(venue)
            # exactly the venue's contribution left: before - after == its rescaled book
            own_bids, own_asks = naive_sum(contribution, cob.price_decimals, cob.size_decimals)
            for before, after, own in (
                (before_bids, cob.bid_levels(), own_bids),
                (before_asks, cob.ask_levels(), own_asks),
            ):
                gone = dict(before)
                for price, size in after:
                    gone[price] -= size
                assert {p: s for p, s in gone.items() if s} == dict(own)
        stale = {v for v in synced if boundary is not None and boundary - last[v] > STALE_AFTER}
        for member in cob.members:
            expected = (
                VenueState.STALE
                if member.venue in stale
                else VenueState.ACTIVE
                if member.venue in synced
                else member.state  # awaiting a snapshot or out of sync: checked below
            )
            assert member.state is expected
            assert member.active == (member.venue in synced - stale)
            if member.venue not in synced:
                assert member.state in (VenueState.AWAITING_SNAPSHOT, VenueState.OUT_OF_SYNC)
        check_consolidation(cob, {v: books[v] for v in synced - stale})
        for member in cob.members:
            if member.book_state is BookState.SYNCED:  # the COB holds the venue's book
                assert cob.venue_levels(member, True) == books[member.venue].bids()
                assert cob.venue_levels(member, False) == books[member.venue].asks()


def test_common_scale_is_exact_and_distinct_prices_stay_distinct() -> None:
    cob = make_cob()
    assert (cob.price_decimals, cob.size_decimals) == (3, 4)
    cob.update(snapshot("a", T0, [(10000, 1500)], [(10010, 1)]))  # 100.00 x 1.500
    cob.update(snapshot("b", T0, [(1000, 25000)], [(1002, 1)]))  # 100.0 x 2.5000
    cob.update(snapshot("c", T0, [(100001, 3)], [(100150, 1)]))  # 100.001 x 0.03
    assert cob.bid_levels() == [(100001, 300), (100000, 40000)]
    assert cob.ask_levels() == [(100100, 10), (100150, 100), (100200, 1)]


def test_venue_going_stale_leaves_and_comes_back_after_resync() -> None:
    snapshots: list[CobSnapshot] = []
    cob = ConsolidatedBook(
        three_venues(),
        CobConfig(
            taker_fees={"a": "0.001", "b": "0.001", "c": "0.001"},
            stale_after_ns=500 * MS,
        ),
        on_tick=snapshots.append,
    )
    books = {i.venue: L2Book(i) for i in three_venues()}
    start = {"a": [(10000, 1000)], "b": [(1000, 10000)], "c": [(100000, 100)]}
    for venue, bids in start.items():
        asks = [(10010, 1000)] if venue == "a" else [(1002, 10)] if venue == "b" else [(100300, 5)]
        books[venue].apply_snapshot(bids, asks)
        cob.update(snapshot(venue, T0, bids, asks))
    # every venue updates every 50 ms; "c" stops after 1 s
    ts = T0
    for step in range(1, 61):
        ts = T0 + step * 50 * MS
        for venue in ("a", "b", "c"):
            if venue == "c" and ts > T0 + SECOND:
                continue
            book = books[venue]
            best = book.best_bid()
            assert best is not None
            change = [(best[0], best[1] + 1)]
            book.apply_delta(change, [])
            cob.update(delta(venue, ts, change, []))
    c = cob.member("c")
    assert c.state is VenueState.STALE and not c.active
    assert c.counters.stale == 1 and c.counters.leaves == 1
    assert "no book event" in c.reason
    # c left at the first tick more than 500 ms after its last event (T0 + 1 s)
    assert c.since_ns == T0 + SECOND + 600 * MS
    check_consolidation(cob, {"a": books["a"], "b": books["b"]})
    states = [(s.ts, next(v.state for v in s.metrics.venues if v.venue == "c")) for s in snapshots]
    assert all(state is VenueState.ACTIVE for t, state in states if t <= T0 + 1500 * MS)
    assert all(state is VenueState.STALE for t, state in states if t >= T0 + 1600 * MS)
    assert all(
        all(part.venue != "c" for level in s.bids for part in level.venues)
        for s in snapshots
        if s.ts >= T0 + 1600 * MS
    )
    # the venue resyncs (a fresh snapshot): back in, with its new book
    books["c"].apply_snapshot([(99990, 7)], [(100250, 9)])
    cob.update(snapshot("c", ts + MS, [(99990, 7)], [(100250, 9)]))
    assert c.state is VenueState.ACTIVE and c.counters.joins == 2
    check_consolidation(cob, books)


def test_stale_venue_comes_back_with_its_next_update() -> None:
    cob = make_cob(stale_after_ns=200 * MS)
    for venue in "abc":
        cob.update(snapshot(venue, T0, [], []))
    cob.update(delta("a", T0 + 500 * MS, [(10000, 1)], []))
    assert cob.member("b").state is VenueState.STALE
    cob.update(delta("b", T0 + 600 * MS, [(1000, 1)], []))
    assert cob.member("b").state is VenueState.ACTIVE
    assert cob.bid_levels() == [(100000, 11)]  # a: 0.001 = 10 units of 1e-4, b: 1 unit


def test_out_of_sync_venue_leaves_until_a_snapshot() -> None:
    cob = make_cob()
    cob.update(snapshot("a", T0, [(10000, 1)], []))  # 100.00 x 0.001
    cob.update(snapshot("b", T0, [(1000, 1)], []))  # 100.0 x 0.0001
    cob.update(snapshot("c", T0, [(100000, 1)], []))  # 100.000 x 0.01
    cob.update(status("b", T0 + MS, BookState.OUT_OF_SYNC))
    b = cob.member("b")
    assert b.state is VenueState.OUT_OF_SYNC and not b.active
    cob.update(delta("b", T0 + 2 * MS, [(1001, 5)], []))
    assert b.counters.skipped_deltas == 1
    cob.update(status("b", T0 + 3 * MS, BookState.SYNCED))  # no snapshot came with it
    assert b.state is VenueState.OUT_OF_SYNC
    assert cob.bid_levels() == [(100000, 110)]  # a 10 + c 100 units of 1e-4; b is out
    cob.update(snapshot("b", T0 + 4 * MS, [(1000, 5)], []))
    assert b.state is VenueState.ACTIVE
    assert cob.bid_levels() == [(100000, 115)]


def test_conversion_rate_rekeys_exactly() -> None:
    usd = instrument("d", 2, 3, quote="USD")
    cob = ConsolidatedBook(
        [instrument("a", 2, 3), usd],
        CobConfig(quote="USDT", rates={"USD": "0.9998"}, taker_fees={"a": "0", "d": "0"}),
    )
    assert cob.price_decimals == 2 + 6 and cob.symbol == "BTC/USDT"
    cob.update(snapshot("a", T0, [(10000, 1)], []))
    cob.update(snapshot("d", T0, [(10000, 2)], [], quote="USD"))
    assert cob.bid_levels() == [(100_000_000 * 100, 1), (99_980_000 * 100, 2)]
    cob.set_rate("USD", "1")
    assert cob.bid_levels() == [(10_000_000_000, 3)]
    with pytest.raises(ConfigError):
        cob.set_rate("USDC", "1")


def test_missing_rate_keeps_the_venue_out_until_given() -> None:
    cob = ConsolidatedBook(
        [instrument("a"), instrument("d", quote="USDC")],
        CobConfig(quote="USDT", taker_fees={"a": "0", "d": "0"}),
    )
    cob.update(snapshot("d", T0, [(10000, 2)], [], quote="USDC"))
    d = cob.member("d")
    assert d.state is VenueState.AWAITING_RATE and cob.bid_levels() == []
    cob.update(delta("d", T0 + MS, [(10001, 4)], [], quote="USDC"))  # mirror kept current
    cob.set_rate("USDC", "1.000100")
    assert d.state is VenueState.ACTIVE
    assert cob.bid_levels() == [(10001 * 1_000_100, 4), (10000 * 1_000_100, 2)]


def test_live_stablecoin_rate_from_a_book() -> None:
    cob = ConsolidatedBook(
        [instrument("a", quote="USD"), instrument("b", quote="USDT")],
        CobConfig(quote="USD", taker_fees={"a": "0", "b": "0"}, rate_decimals=4),
    )
    usdt_usd = instrument("k", 4, 2, quote="USD", base="USDT")
    cob.add_rate_source(usdt_usd)
    cob.update(snapshot("a", T0, [], [], quote="USD"))
    cob.update(snapshot("b", T0, [(10000, 1)], []))
    assert cob.member("b").state is VenueState.AWAITING_RATE
    # 1 USDT = 1.0002 USD (the mid); it is read when the clock crosses the next tick
    cob.update(BookSnapshot("k", "USDT/USD", T0 + MS, T0 + MS, [(10001, 100)], [(10003, 100)]))
    cob.update(delta("a", T0 + 100 * MS, [], [], quote="USD"))
    assert cob.member("b").rate == 10002
    assert cob.bid_levels() == [(10000 * 10002, 1)]


def test_max_depth_trims_like_the_venue_book() -> None:
    inst = instrument("a")
    cob = ConsolidatedBook([inst], CobConfig(taker_fees={"a": "0"}, max_depth={"a": 3}))
    book = L2Book(inst, max_depth=3)
    book.apply_snapshot([(100, 1), (99, 1), (98, 1)], [(101, 1)])
    cob.update(snapshot("a", T0, [(100, 1), (99, 1), (98, 1)], [(101, 1)]))
    for ts, bids in enumerate(([(101, 2)], [(102, 5), (97, 1)], [(102, 0)]), 1):
        book.apply_delta(bids, [])
        cob.update(delta("a", T0 + ts * MS, bids, []))
        assert cob.venue_levels(cob.member("a"), True) == book.bids()
        assert cob.bid_levels() == book.bids()


def test_load_existing_l2books() -> None:
    insts = three_venues()
    books = {i.venue: L2Book(i) for i in insts}
    books["a"].apply_snapshot([(10000, 5)], [(10005, 1)])
    books["b"].apply_snapshot([(1000, 5)], [(1001, 1)])
    books["c"].apply_snapshot([(99995, 5)], [(100010, 1)])
    books["c"].mark_out_of_sync()
    cob = make_cob(insts)
    for book in books.values():
        cob.load_book(book, T0)
    assert cob.member("c").state is VenueState.OUT_OF_SYNC
    check_consolidation(cob, {"a": books["a"], "b": books["b"]})


def test_ticks_every_100ms_of_event_time() -> None:
    seen: list[int] = []
    cob = ConsolidatedBook(
        three_venues(),
        CobConfig(taker_fees={"a": "0", "b": "0", "c": "0"}),
        on_tick=lambda s: seen.append(s.ts),
    )
    cob.update(snapshot("a", T0 + 5 * MS, [(10000, 1)], [(10001, 1)]))
    for ms in (30, 99, 100, 101, 250, 730):
        cob.update(delta("a", T0 + ms * MS, [(10000, ms)], []))
    assert seen == [T0 + 100 * MS, T0 + 200 * MS, T0 + 700 * MS]
    assert cob.stats.samples[-1][0] == T0 + 700 * MS
    assert len(cob.stats.samples) == 7  # 100..700 ms: the quiet boundaries sampled too


def test_other_events_and_instruments_are_ignored() -> None:
    cob = make_cob()
    cob.update(Trade("a", "BTC/USDT", T0, T0, 10000, 1, Side.BUY, "1"))
    cob.update(snapshot("zz", T0, [(1, 1)], []))
    assert cob.counters.events == 1 and cob.bid_levels() == []


def test_config_errors() -> None:
    with pytest.raises(ConfigError, match="taker fee"):
        ConsolidatedBook([instrument("nowhere")])
    with pytest.raises(ConfigError, match="quote"):
        ConsolidatedBook(
            [instrument("a"), instrument("b", quote="USD")],
            CobConfig(taker_fees={"a": "0", "b": "0"}),
        )
    with pytest.raises(ConfigError, match="weights"):
        CobConfig(weights={"a": 0})
    with pytest.raises(ConfigError):
        ConsolidatedBook([])


def test_level_age_is_the_event_time_of_its_last_change() -> None:
    cob = make_cob()
    cob.update(snapshot("a", T0, [(10000, 1000), (9990, 1000)], []))
    cob.update(snapshot("b", T0 + 5 * MS, [], []))
    cob.update(delta("b", T0 + 7 * MS, [(1000, 10)], []))  # b joins a at 100.0
    cob.update(delta("b", T0 + 9 * MS, [(1000, 10)], []))  # the same size: no change
    top, second = cob.levels(True, 2)
    assert (top.price, top.changed_ns) == (100000, T0 + 7 * MS)
    assert (second.price, second.changed_ns) == (99900, T0)
    cob.update(status("b", T0 + 11 * MS, BookState.OUT_OF_SYNC))  # b leaves: its levels change
    assert cob.levels(True, 1)[0].changed_ns == T0 + 11 * MS


def test_heartbeat_advances_event_time_without_events() -> None:
    cob = make_cob(stale_after_ns=SECOND)
    cob.update(snapshot("a", T0, [(10000, 1)], []))
    cob.advance(T0 + 1500 * MS)  # a live session's clock, nothing received
    assert cob.member("a").state is VenueState.STALE and cob.bid_levels() == []


def test_venue_groups() -> None:
    listed = [
        instrument("a", quote="USDT"),
        instrument("b", quote="USD"),
        instrument("c", quote="USDC"),
        instrument("d", quote="EUR"),
        instrument("e", quote="USDT", base="ETH"),
    ]
    assert [i.venue for i in select_group(listed, "btc", "usdt")] == ["a"]
    assert [i.venue for i in select_group(listed, "BTC", "ALL")] == ["a", "b", "c"]
    with pytest.raises(ConfigError, match="group"):
        select_group(listed, "BTC", "EUR")
    cob = ConsolidatedBook(
        select_group(listed, "BTC", "ALL"),
        CobConfig(
            quote="USD",
            rates={"USDT": "0.9995", "USDC": "1.0001"},
            taker_fees={"a": "0", "b": "0", "c": "0"},
        ),
    )
    assert cob.symbol == "BTC/USD" and [m.rate for m in cob.members] == [999500, 10**6, 1000100]


def test_three_synthetic_markets_one_feed_stalls_and_resyncs() -> None:
    """Three venues driven by the project's synthetic market model (the emulator's), at
    different precisions. Venue c's feed stalls from 2 s to 5 s while its market goes on; it
    goes stale, leaves, and comes back with the resync snapshot of its true book."""
    specs = {
        "a": MarketSpec(price_decimals=2, size_decimals=5, tick=1, depth=80),
        "b": MarketSpec(price_decimals=1, size_decimals=4, tick=1, depth=80, start_price=600_000),
        "c": MarketSpec(
            price_decimals=3, size_decimals=8, tick=10, depth=80, start_price=60_000_000
        ),
    }
    markets = {
        v: SyntheticMarket(spec, seed, spec.instrument(v, "BTCUSDT"))
        for seed, (v, spec) in enumerate(specs.items())
    }
    cob = make_cob([m.book.instrument for m in markets.values()], stale_after_ns=SECOND)
    sent = {v: L2Book(m.book.instrument) for v, m in markets.items()}  # what each feed sent
    for v, m in markets.items():
        sent[v].apply_snapshot(m.book.bids(), m.book.asks())
        cob.update(snapshot(v, T0, m.book.bids(), m.book.asks()))
    clock = dict.fromkeys(markets, T0)
    stalled, resynced, checks = False, False, 0
    while min(clock.values()) < T0 + 8 * SECOND:
        venue = min(clock, key=lambda v: clock[v])
        step = markets[venue].step()
        clock[venue] += step.dt_ns
        ts = clock[venue]
        silent = venue == "c" and T0 + 2 * SECOND <= ts < T0 + 5 * SECOND
        if venue == "c" and ts >= T0 + 5 * SECOND and not resynced:
            resynced = True  # the feed is back: the connector resyncs with a snapshot
            book = markets["c"].book
            sent["c"].apply_snapshot(book.bids(), book.asks())
            cob.update(snapshot("c", ts, book.bids(), book.asks()))
            continue
        if silent:
            continue  # the market moves, nothing reaches the COB
        bids = [(p, s) for is_bid, p, s in step.changes if is_bid]
        asks = [(p, s) for is_bid, p, s in step.changes if not is_bid]
        sent[venue].apply_delta(bids, asks)
        cob.update(delta(venue, ts, bids, asks))
        c = cob.member("c")
        stalled = stalled or c.state is VenueState.STALE
        if (int(ts) // MS) % 7 == 0:  # check often, not on every event
            active = {v: sent[v] for v in sent if cob.member(v).active}
            check_consolidation(cob, active)
            checks += 1
        if T0 + 3200 * MS <= ts < T0 + 5 * SECOND:
            assert c.state is VenueState.STALE and not c.active
    assert stalled and resynced and checks > 20
    c = cob.member("c")
    assert c.state is VenueState.ACTIVE and c.counters.stale == 1 and c.counters.joins == 2
    check_consolidation(cob, sent)
    assert sent["c"].bids() == markets["c"].book.bids()  # the resync brought the truth back
