"""Book-aware detectors on constructed books: each fires on its scenario, not on near misses."""

from __future__ import annotations

from dataclasses import replace

import pytest

from orderscope.flow.signals import (
    AbsorptionConfig,
    BookImbalanceConfig,
    IcebergConfig,
    LargeOrderConfig,
    Signal,
    SignalConfig,
    SignalKind,
    detect_signals,
)
from orderscope.model import BookState, BookStatus, Event
from tests.flow.builders import BUY, INST, MS, SELL, T0, delta, ladder, px, qty, snap, trade

QUIET = SignalConfig()


def kinds(events: list[Event], config: SignalConfig = QUIET) -> list[Signal]:
    return detect_signals(events, INST, config)


def only(signals: list[Signal], kind: SignalKind) -> list[Signal]:
    return [s for s in signals if s.kind is kind]


# -- sweep ------------------------------------------------------------------------------------


def test_sweep_three_ask_levels_in_one_ms() -> None:
    book = ladder(49_999, 50_000, 0.5)
    fills = [trade(10, 50_000, 0.5, BUY), trade(10, 50_001, 0.5, BUY), trade(11, 50_002, 0.2, BUY)]
    (signal,) = only(kinds([book, *fills]), SignalKind.SWEEP)
    assert signal.side is BUY
    assert signal.price == px(50_002)
    assert signal.size == qty(1.2)
    assert signal.start_ns == T0 + 10 * MS
    assert "3 ask levels" in signal.description


def test_sweep_counts_book_levels_jumped_over_without_a_print() -> None:
    book = ladder(49_999, 50_000, 0.5)
    fills = [trade(10, 50_000, 0.5, BUY), trade(10, 50_002, 1.0, BUY)]
    (signal,) = only(kinds([book, *fills]), SignalKind.SWEEP)
    assert "3 ask levels" in signal.description


def test_sell_sweep_through_bids() -> None:
    book = ladder(49_999, 50_000, 0.5)
    fills = [trade(10, p, 0.5, SELL) for p in (49_999, 49_998, 49_997, 49_996)]
    (signal,) = only(kinds([book, *fills]), SignalKind.SWEEP)
    assert signal.side is SELL and "3 bid levels" in signal.description  # fires at the third
    assert signal.confidence == 0.5


def test_no_sweep_for_one_level_or_slow_trades() -> None:
    book = ladder(49_999, 50_000, 5)
    same_level = [trade(10, 50_000, 0.5, BUY) for _ in range(5)]
    assert only(kinds([book, *same_level]), SignalKind.SWEEP) == []
    slow = [trade(10 + 50 * i, 50_000 + i, 0.5, BUY) for i in range(3)]
    assert only(kinds([book, *slow]), SignalKind.SWEEP) == []


# -- absorption -------------------------------------------------------------------------------

ABSORB = replace(QUIET, absorption=AbsorptionConfig(min_notional=100_000.0))


def absorbed_bid(refill: bool, drift: float = 0.0) -> list[Event]:
    """Sellers hit the 49,999 bid (5 BTC shown) with 0.5 BTC every 500 ms."""
    events: list[Event] = [ladder(49_999, 50_000, 5)]
    for i in range(8):
        price = 49_999 - drift * i
        events.append(trade(100 + 500 * i, price, 0.5, SELL))
        shown = 5 if refill else max(5 - 0.5 * (i + 1), 0.5)
        events.append(delta(150 + 500 * i, bids=[(price, shown)]))
    return events


def test_absorption_when_the_bid_refills_and_price_holds() -> None:
    (signal,) = only(kinds(absorbed_bid(refill=True), ABSORB), SignalKind.ABSORPTION)
    assert signal.side is BUY  # the passive buyers absorbed the selling
    assert signal.price == px(49_999)
    assert signal.size == qty(2.5)  # 5 x 0.5 = 125k USDT, the first above 100k
    assert signal.ts == T0 + 2150 * MS
    assert "refilled" in signal.description


def test_no_absorption_when_the_level_depletes_or_price_moves() -> None:
    assert only(kinds(absorbed_bid(refill=False), ABSORB), SignalKind.ABSORPTION) == []
    assert only(kinds(absorbed_bid(refill=True, drift=1), ABSORB), SignalKind.ABSORPTION) == []


# -- iceberg ----------------------------------------------------------------------------------


def iceberg_ask(shown_after: float, shows: float = 1.0) -> list[Event]:
    events: list[Event] = [ladder(49_999, 50_000, shows)]
    for i in range(5):
        events.append(trade(100 + 200 * i, 50_000, 0.6, BUY))
        events.append(delta(150 + 200 * i, asks=[(50_000, shown_after)]))
    return events


def test_iceberg_traded_beyond_what_it_showed() -> None:
    config = replace(QUIET, iceberg=IcebergConfig(min_notional=5_000.0))
    (signal,) = only(kinds(iceberg_ask(1.0), config), SignalKind.ICEBERG)
    assert signal.side is SELL  # a resting sell order
    assert signal.size == qty(1.8)  # fired at the 3rd fill's refill: 1.8 > 1.0 shown
    assert signal.ts == T0 + 550 * MS
    assert "1.8x" in signal.description


def test_no_iceberg_when_level_empties_or_showed_enough() -> None:
    assert only(kinds(iceberg_ask(0.0)), SignalKind.ICEBERG) == []
    assert only(kinds(iceberg_ask(5.0, shows=5.0)), SignalKind.ICEBERG) == []


# -- large order placed / pulled ----------------------------------------------------------------


def test_large_bid_placed_then_pulled_without_trading() -> None:
    events: list[Event] = [
        ladder(49_999, 50_000, 0.1),
        delta(1_000, bids=[(49_995, 5.1)]),  # +5 BTC = 250k USDT, 50x its neighbours
        delta(3_000, bids=[(49_995, 0.1)]),
    ]
    placed, pulled = kinds(events)
    assert placed.kind is SignalKind.LARGE_ORDER_PLACED and placed.side is BUY
    assert placed.size == qty(5)
    assert pulled.kind is SignalKind.LARGE_ORDER_PULLED and pulled.side is BUY
    assert pulled.start_ns == placed.ts and pulled.ts == T0 + 3_000 * MS
    assert pulled.confidence == 1.0


def test_large_order_filled_is_not_pulled_and_far_or_small_orders_are_ignored() -> None:
    filled: list[Event] = [
        ladder(49_999, 50_000, 0.1),
        delta(1_000, bids=[(49_995, 5.1)]),
        *[trade(2_000 + i, 49_995, 1.0, SELL) for i in range(5)],
        delta(2_100, bids=[(49_995, 0.1)]),
    ]
    assert [s.kind for s in kinds(filled)] == [SignalKind.LARGE_ORDER_PLACED]
    far = [ladder(49_999, 50_000, 0.1), delta(1_000, bids=[(45_000, 5)])]  # 10% away
    assert kinds(far) == []
    small = [ladder(49_999, 50_000, 0.1), delta(1_000, bids=[(49_995, 0.9)])]  # 40k USDT
    assert kinds(small) == []


def test_large_order_placed_deeper_than_the_reference_levels_is_measured_against_them() -> None:
    """Placed beyond the best 10 bids, the order is not among the levels it is compared with:
    the reference is their whole mean (the detector once subtracted the order from a sum that
    did not hold it, which made a 4x order pass the 5x test and a larger one read negative)."""
    deep = 49_999 - 12  # the 13th bid level
    four_x = [ladder(49_999, 50_000, 2.0), delta(1_000, bids=[(deep, 8.0)])]
    assert kinds(four_x) == []
    (six_x,) = kinds([ladder(49_999, 50_000, 2.0), delta(1_000, bids=[(deep, 12.0)])])
    assert six_x.kind is SignalKind.LARGE_ORDER_PLACED and six_x.size == qty(12)
    assert "6.0x" in six_x.description


# -- book imbalance ---------------------------------------------------------------------------


def heavy_bids(durations_ms: list[int]) -> list[Event]:
    """Bids 5 BTC a level vs asks 1: imbalance +0.67; updates every 100 ms in the runs given,
    with a balanced book between runs."""
    events: list[Event] = [ladder(49_999, 50_000, 1)]
    now = 0
    for duration in durations_ms:
        events.append(delta(now, bids=[(49_999 - i, 5) for i in range(10)]))
        events.extend(
            delta(now + t, asks=[(50_009, 1 + t / 1e5)]) for t in range(100, duration + 1, 100)
        )
        now += duration + 100
        events.append(delta(now, bids=[(49_999 - i, 1) for i in range(10)]))
        now += 100
    return events


def test_book_imbalance_that_holds_fires_once() -> None:
    (signal,) = kinds(heavy_bids([3_000]))
    assert signal.kind is SignalKind.BOOK_IMBALANCE and signal.side is BUY
    assert signal.ts - signal.start_ns == 1_000 * MS
    assert signal.confidence == pytest.approx(0.5 + 0.5 * (40 / 60 - 0.6) / 0.3, abs=1e-3)


def test_flickering_imbalance_is_quiet() -> None:
    assert kinds(heavy_bids([500] * 8)) == []
    short = replace(QUIET, book_imbalance=BookImbalanceConfig(min_duration_ns=400 * MS))
    assert len(kinds(heavy_bids([500] * 8), short)) == 1  # then the cool-down holds


# -- the engine -------------------------------------------------------------------------------


def test_book_detectors_ignore_a_book_the_venue_flagged() -> None:
    flagged = BookStatus("test", INST.symbol, T0, 0, BookState.OUT_OF_SYNC, "gap")
    book = ladder(49_999, 50_000, 0.5)
    fills = [trade(10, 50_000, 0.5, BUY), trade(10, 50_001, 0.5, BUY), trade(11, 50_002, 0.2, BUY)]
    # Without a book the sweep counts distinct traded prices only (still 3 here) ...
    assert len(kinds([book, flagged, *fills])) == 1
    # ... and a level jumped over is no longer measurable.
    jump = [trade(10, 50_000, 0.5, BUY), trade(10, 50_002, 1.0, BUY)]
    assert kinds([book, flagged, *jump]) == []
    resynced = snap(5, [(49_999, 0.5)], [(50_000, 0.5), (50_001, 0.5), (50_002, 0.5)])
    assert len(kinds([book, flagged, resynced, *jump])) == 1


def test_an_expired_large_order_touched_in_the_update_that_expires_it() -> None:
    """More than 256 watched orders: a placement expires the old ones, and the same update
    then shrinks one of them. It is simply gone (it used to raise KeyError)."""
    config = replace(
        QUIET,
        large_order=LargeOrderConfig(
            min_notional=1.0, size_multiple=0.0, pull_window_ns=1_000 * MS, cooldown_ns=0
        ),
    )
    events: list[Event] = [ladder(49_999, 50_000, 0.1)]
    events += [delta(1 + i, bids=[(49_998 - i, 1)]) for i in range(257)]  # all within 1%
    events.append(delta(2_000, bids=[(49_700, 1), (49_998, 0.5)]))
    placed = [s for s in kinds(events, config) if s.kind is SignalKind.LARGE_ORDER_PLACED]
    assert len(placed) == 258
    assert not [s for s in kinds(events, config) if s.kind is SignalKind.LARGE_ORDER_PULLED]
