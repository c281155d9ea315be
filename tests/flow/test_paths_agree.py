"""The streaming and vectorized paths of every analytic give identical results.

On the real captures of every venue orderscope can replay (the parameters come from the
connector registry, so a venue merged later is covered without editing this file), and on
random trades drawn by Hypothesis, late and out-of-order stamps included.
"""

from __future__ import annotations

from pathlib import Path

import msgspec
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orderscope import frames
from orderscope.capture import venue_of
from orderscope.errors import ConfigError
from orderscope.flow.base import MINUTE, SECOND, trades_frame
from orderscope.flow.delta import CumulativeDelta, DeltaParams, delta_bars
from orderscope.flow.footprint import BarSpec, Footprint, footprint
from orderscope.flow.profile import SessionProfiles, VolumeProfile, session_profiles, volume_profile
from orderscope.flow.trades import TradeFlow, rolling_shares, trade_flow
from orderscope.flow.vwap import Vwap, VwapParams, vwap
from orderscope.model import Instrument, Side, Trade
from orderscope.paths import default_captures
from orderscope.replay import Replay
from orderscope.venues import supported_prefixes

from .helpers import INSTRUMENT, T0, feed

BARS = [
    BarSpec.time(SECOND),
    BarSpec.time(5 * SECOND),
    BarSpec.time(MINUTE),
    BarSpec.volume(7),
    BarSpec.trades(3),
]


def assert_paths_agree(trades: list[Trade], frame: pl.DataFrame, instrument: Instrument) -> None:
    tick = instrument.tick_size
    for row in (tick, 3 * tick):
        for spec in BARS:
            size = spec.size if spec.kind == "time" else max(1, spec.size * instrument.lot_size)
            spec = BarSpec(spec.kind, size)
            streaming = feed(Footprint(row, spec), trades).result()
            assert streaming == footprint(frame, row, spec), (row, spec)
        assert feed(VolumeProfile(row), trades).result() == volume_profile(frame, row)
        sessions = SessionProfiles(row, session_ns=10 * SECOND)
        assert feed(sessions, trades).result() == session_profiles(
            frame, row, session_ns=10 * SECOND
        )
    for params in (DeltaParams(), DeltaParams(timeframe_ns=SECOND, session_ns=10 * SECOND)):
        assert feed(CumulativeDelta(params), trades).result() == delta_bars(frame, params)
    pd = instrument.price_decimals
    middle = trades[len(trades) // 2].exch_ns or trades[len(trades) // 2].recv_ns
    for vp in (
        VwapParams(pd),
        VwapParams(pd, session_ns=10 * SECOND, timeframe_ns=SECOND),
        VwapParams(pd, session_ns=None, anchor_ns=middle),
    ):
        assert feed(Vwap(vp), trades).result() == vwap(frame, vp)
    for window in (SECOND, MINUTE):
        flow = TradeFlow(instrument, window_ns=window)
        windows = []
        for t in trades:
            flow.update(t)
            windows.append(flow.window())
        assert flow.result() == trade_flow(frame, instrument, window_ns=window)
        rolled = rolling_shares(frame, instrument, window_ns=window)
        assert [msgspec.structs.astuple(w) for w in windows] == rolled.rows()


def capture_prefixes() -> list[str]:
    """Every venue in the captures folder that a connector reads (found at collection time; a
    missing folder leaves every supported venue in, and the test fails loudly on it)."""
    try:
        folder = default_captures()
    except ConfigError:
        return sorted(supported_prefixes())
    present = {venue_of(p) for p in folder.iterdir() if ".ws." in p.name}
    return sorted(present & supported_prefixes())


#: The Bitfinex session holds only the trade-history snapshots sent on subscription, which are
#: not live trades: its capture has none to compare.
WITHOUT_LIVE_TRADES = {"BITFINEX"}


@pytest.mark.parametrize("prefix", capture_prefixes())
def test_paths_agree_on_captures(captures: Path, prefix: str) -> None:
    files = sorted(captures.glob(f"{prefix}.ws.*"))
    assert files, f"no {prefix} capture in {captures}: a supported venue must have one"
    recording = frames.load(files)
    by_symbol: dict[tuple[str, str], list[Trade]] = {}
    session = Replay(files)
    for venue, _record, events in session.run():
        for event in events:
            if isinstance(event, Trade):
                by_symbol.setdefault((venue.name, event.symbol), []).append(event)
    if prefix in WITHOUT_LIVE_TRADES:
        assert not by_symbol and recording.trades.height == 0
        return
    assert by_symbol, f"{prefix}: the capture has no trades to compare"
    for (name, symbol), trades in by_symbol.items():
        frame = recording.trades_of(name, symbol)
        assert frame.height == len(trades)
        assert_paths_agree(trades, frame, recording.instrument(name, symbol))


trade_lists = st.lists(
    st.tuples(
        st.integers(0, 90 * SECOND),  # time since T0
        st.integers(-2 * SECOND, 0),  # how late the stamp is (out of order arrivals)
        st.integers(9_990, 10_010),  # price, ticks of 1
        st.integers(1, 12),  # size
        st.sampled_from([1, -1]),
    ),
    min_size=1,
    max_size=60,
).map(
    lambda raw: [
        Trade("test", "BTC/USDT", T0 + at + late, 0, p, q, Side(s), "")
        for at, late, p, q, s in sorted(raw, key=lambda r: r[0])
    ]
)


@settings(max_examples=60, deadline=None)
@given(trade_lists)
def test_paths_agree_on_random_trades(trades: list[Trade]) -> None:
    assert_paths_agree(trades, trades_frame(trades), INSTRUMENT)
