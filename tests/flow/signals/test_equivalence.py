"""The optimized detectors give exactly the signals of the implementation they replaced.

``reference.py`` keeps the detectors as they were before the performance work. Both run over
seeded synthetic streams (the benchmark's session, the emulator's stochastic market, with
depth diffs batched and unbatched, a venue flagging its book out of sync and a fresh snapshot)
and over every real capture, with the default thresholds and with sensitive ones that make
every kind fire often; the signal lists must be equal, record for record and in order.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import msgspec
import pytest

from orderscope.bench.flow_session import INSTRUMENT as SESSION_INSTRUMENT
from orderscope.bench.flow_session import SessionMaker
from orderscope.flow.signals import (
    AbsorptionConfig,
    BlockTradeConfig,
    BlockTradeDetector,
    BookImbalanceConfig,
    IcebergConfig,
    LargeOrderConfig,
    MomentumBurstConfig,
    MomentumBurstDetector,
    Signal,
    SignalConfig,
    SignalEngine,
    SignalKind,
    SmallTradeBurstConfig,
    SmallTradeBurstDetector,
    SweepConfig,
    detect_signals,
)
from orderscope.model import (
    BookDelta,
    BookSnapshot,
    BookState,
    BookStatus,
    Event,
    Instrument,
    Level,
    Trade,
)
from orderscope.synthetic import BTC_USDT, ETH_USDT, MarketSpec, SyntheticMarket
from tests.flow.captured import capture_prefixes, streams
from tests.flow.signals.reference import (
    RefBlockTradeDetector,
    RefMomentumBurstDetector,
    RefSmallTradeBurstDetector,
    reference_signals,
)

MS = 1_000_000
SECOND = 1_000_000_000

#: Thresholds low enough that every detector fires many times on a short stream, cool-downs
#: short or zero (so that what the cool-down hides is compared too). The momentum and small
#: trade detectors span the same time here (the engine gives them one window), not in SLOW.
SENSITIVE = SignalConfig(
    sweep=SweepConfig(min_levels=2, full_levels=4, min_notional=10.0, cooldown_ns=0),
    absorption=AbsorptionConfig(
        window_ns=2 * SECOND,
        min_notional=500.0,
        full_notional=5_000.0,
        move_ticks=400,
        min_refill=0.2,
        cooldown_ns=200 * MS,
    ),
    iceberg=IcebergConfig(
        window_ns=5 * SECOND,
        ratio=0.5,
        full_ratio=2.0,
        min_fills=2,
        min_notional=200.0,
        cooldown_ns=0,
    ),
    block_trade=BlockTradeConfig(min_notional=2_000.0, full_notional=20_000.0),
    large_order=LargeOrderConfig(
        min_notional=2_000.0,
        full_notional=50_000.0,
        size_multiple=2.0,
        reference_levels=5,
        pull_window_ns=5 * SECOND,
        pull_fraction=0.5,
        max_traded_fraction=0.5,
        cooldown_ns=0,
    ),
    momentum_burst=MomentumBurstConfig(
        window_ns=SECOND,
        min_move_bps=0.5,
        full_move_bps=3.0,
        min_trades=3,
        min_share=0.55,
        cooldown_ns=100 * MS,
    ),
    small_trade_burst=SmallTradeBurstConfig(
        window_ns=SECOND,
        max_notional=300.0,
        min_count=4,
        full_count=20,
        min_share=0.3,
        cooldown_ns=0,
    ),
    book_imbalance=BookImbalanceConfig(
        levels=5, threshold=0.3, full=0.8, min_duration_ns=200 * MS, cooldown_ns=0
    ),
)
#: The same with long cool-downs and windows: the keyed cool-downs and window edges differ.
SLOW = replace(
    SENSITIVE,
    absorption=replace(SENSITIVE.absorption, window_ns=20 * SECOND, cooldown_ns=30 * SECOND),
    iceberg=replace(SENSITIVE.iceberg, window_ns=120 * SECOND, cooldown_ns=5 * SECOND),
    momentum_burst=replace(SENSITIVE.momentum_burst, window_ns=10 * SECOND),
    small_trade_burst=replace(SENSITIVE.small_trade_burst, window_ns=3 * SECOND),
)
CONFIGS = {"default": SignalConfig(), "sensitive": SENSITIVE, "slow": SLOW}


def market_events(spec: MarketSpec, seed: int, steps: int, batch_ns: int) -> list[Event]:
    """The stochastic market as a venue would publish it: fills as trades, level changes as
    depth diffs (every step's, or gathered over ``batch_ns``), trades before the diff that
    reflects them; halfway the venue flags its book out of sync and sends a new snapshot."""
    market = SyntheticMarket(spec, seed)
    inst = market.book.instrument
    venue, symbol = inst.venue, inst.symbol
    ts = 1_700_000_000 * SECOND
    events: list[Event] = [
        BookSnapshot(venue, symbol, ts, ts, market.book.bids(), market.book.asks())
    ]
    bids: dict[int, int] = {}
    asks: dict[int, int] = {}
    published = ts
    for i in range(steps):
        step = market.step()
        ts += step.dt_ns
        for n, (price, size, side) in enumerate(step.fills):
            events.append(Trade(venue, symbol, ts, ts, price, size, side, f"{i}.{n}"))
        for is_bid, price, size in step.changes:
            (bids if is_bid else asks)[price] = size
        if ts - published >= batch_ns and (bids or asks):
            events.append(BookDelta(venue, symbol, ts, ts, _levels(bids), _levels(asks)))
            bids, asks, published = {}, {}, ts
        if i == steps // 2:
            events.append(BookStatus(venue, symbol, ts, ts, BookState.OUT_OF_SYNC, "gap"))
            events += [Trade(venue, symbol, ts, ts, p, s, d, "") for p, s, d in step.fills]
            bids, asks = {}, {}
            events.append(
                BookSnapshot(venue, symbol, ts, ts, market.book.bids(), market.book.asks())
            )
    return events


def _levels(side: dict[int, int]) -> list[Level]:
    return list(side.items())


def synthetic_streams() -> dict[str, tuple[Instrument, list[Event]]]:
    session = SessionMaker(seed=11).make(8_000)
    btc = BTC_USDT.instrument("synthetic", "BTCUSDT")
    eth = ETH_USDT.instrument("synthetic", "ETHUSDT")
    return {
        "session": (SESSION_INSTRUMENT, session.events()),
        "session, one level a message": (SESSION_INSTRUMENT, session.split().events()),
        "btc, every step": (btc, market_events(BTC_USDT, 3, 25_000, 0)),
        "btc, 100 ms diffs": (btc, market_events(BTC_USDT, 4, 25_000, 100 * MS)),
        "eth, 250 ms diffs": (eth, market_events(ETH_USDT, 5, 25_000, 250 * MS)),
    }


@pytest.fixture(scope="module")
def synthetic() -> dict[str, tuple[Instrument, list[Event]]]:
    return synthetic_streams()


def test_synthetic_streams_give_the_reference_signals(
    synthetic: dict[str, tuple[Instrument, list[Event]]],
) -> None:
    kinds: set[SignalKind] = set()
    for name, (inst, events) in synthetic.items():
        for label, config in CONFIGS.items():
            expected = reference_signals(events, inst, config)
            assert detect_signals(events, inst, config) == expected, (name, label)
            kinds |= {s.kind for s in expected}
    assert kinds == set(SignalKind)  # every detector fired: the comparison is not vacuous


@pytest.mark.parametrize("prefix", capture_prefixes())
def test_real_captures_give_the_reference_signals(captures: Path, prefix: str) -> None:
    found = 0
    for stream in streams(captures, prefix):
        for label, config in CONFIGS.items():
            expected = reference_signals(stream.events, stream.instrument, config)
            got = detect_signals(stream.events, stream.instrument, config)
            assert got == expected, (stream.instrument.symbol, label)
            found += len(expected)
    has_trades = any(isinstance(e, Trade) for s in streams(captures, prefix) for e in s.events)
    assert found or not has_trades, prefix


def test_trade_detectors_alone_give_the_reference_signals(
    synthetic: dict[str, tuple[Instrument, list[Event]]],
) -> None:
    """The trade-only detectors also run on their own (without an engine or a book)."""
    pairs = [
        (BlockTradeDetector, RefBlockTradeDetector, "block_trade"),
        (MomentumBurstDetector, RefMomentumBurstDetector, "momentum_burst"),
        (SmallTradeBurstDetector, RefSmallTradeBurstDetector, "small_trade_burst"),
    ]
    fired = 0
    for inst, events in synthetic.values():
        trades = [e for e in events if isinstance(e, Trade)]
        for config in CONFIGS.values():
            for fast, slow, field in pairs:
                got: list[Signal] = []
                expected: list[Signal] = []
                detector, reference = (
                    fast(inst, getattr(config, field)),
                    slow(inst, getattr(config, field)),
                )
                for t in trades:
                    detector.on_trade(t, got)
                    reference.on_trade(t, expected)
                assert got == expected, field
                fired += len(expected)
    assert fired


def test_trade_times_going_backwards_give_the_reference_signals(
    synthetic: dict[str, tuple[Instrument, list[Event]]],
) -> None:
    """Absorption forgets stale levels from its trades in arrival order while their event times
    never go backwards, and by scanning every level from the first trade that does: the signals
    match the reference before and after that trade."""
    inst, events = synthetic["btc, 100 ms diffs"]
    half = len(events) // 2
    late = [
        msgspec.structs.replace(e, exch_ns=e.exch_ns - 3 * SECOND)
        if type(e) is Trade and e.exch_ns and i > half and not i % 97
        else e
        for i, e in enumerate(events)
    ]
    for label, config in CONFIGS.items():
        expected = reference_signals(late, inst, config)
        engine = SignalEngine(inst, config)
        got: list[Signal] = []
        for event in late:
            engine.update(event, got)
        assert got == expected, label
        assert not engine.absorption._ordered  # the scan ran: the comparison covers both
    sensitive = reference_signals(late, inst, CONFIGS["sensitive"])
    absorbed = [s.ts for s in sensitive if s.kind is SignalKind.ABSORPTION]
    middle = events[half].exch_ns or events[half].recv_ns
    assert min(absorbed) < middle < max(absorbed)
