"""Streaming and batch paths agree exactly on every capture a connector on this branch reads.

The capture prefixes come from the venue registry, so a venue merged later is covered without
touching this file.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from orderscope.errors import ConfigError
from orderscope.flow.batches import load_frames
from orderscope.flow.book_tracker import BookTracker
from orderscope.flow.micro import (
    Consumption,
    ImpactInterval,
    KyleConfig,
    KyleLambda,
    LiquidityConsumption,
    OrderFlowImbalance,
    Vpin,
    VpinBucket,
    consumption_frame,
    kyle_lambda_intervals,
    ofi_series,
    vpin_buckets,
    weighted_mid,
    weighted_mid_series,
)
from orderscope.flow.microprice import MicroPrice, fit_microprice
from orderscope.flow.signals import detect_signals
from orderscope.heatmap import Heatmap, HeatmapConfig, heatmap_from_frames
from orderscope.model import BookDelta, BookSnapshot, BookStatus, Instrument, Trade
from tests.flow.captured import Stream, capture_prefixes, streams


def test_every_supported_capture_is_covered() -> None:
    assert {"BINANCE", "BINANCE_FUTURES"} <= set(capture_prefixes())


@pytest.mark.parametrize("prefix", capture_prefixes())
def test_streaming_equals_batch(captures: Path, prefix: str) -> None:
    seen: dict[str, int] = defaultdict(int)
    for stream in streams(captures, prefix):
        for name, count in _check(stream).items():
            seen[name] += count
    # The comparisons above were about real numbers, not empty lists.
    assert seen["book updates"] or seen["trades"] or seen["beyond int64"], seen
    if seen["book updates"]:
        assert seen["ofi nonzero"] and seen["heatmap cells"], seen
    if seen["trades"] > 10:
        assert seen["vpin values"] and seen["kyle estimates"], seen


def _beyond_int64(stream: Stream) -> bool:
    sizes = [
        s
        for e in stream.events
        if isinstance(e, BookSnapshot | BookDelta)
        for _, s in (*e.bids, *e.asks)
    ]
    sizes += [e.size for e in stream.events if isinstance(e, Trade)]
    return bool(sizes) and max(sizes) >= 2**63


def _check(stream: Stream) -> dict[str, int]:
    inst = stream.instrument
    if _beyond_int64(stream):
        # Sizes kept at 18 decimals (HTX) do not fit the batch path's Int64 columns: the frames
        # refuse them with a typed error, never wrap (the heatmap too: tests/test_heatmap.py).
        with pytest.raises(ConfigError, match="64 bits"):
            load_frames(stream.events, inst, max_depth=stream.max_depth)
        detect_signals(stream.events, inst)  # the streaming side runs on Python ints
        return {"beyond int64": 1}
    frames = load_frames(stream.events, inst, max_depth=stream.max_depth)
    model = fit_microprice(frames.top, inst.tick_size, inst.price_decimals)
    volume = int(frames.trades["size"].sum())
    bucket = max(1, volume // 10)
    kyle_config = KyleConfig(window=10, min_points=3)
    heat_configs = _heat_configs(frames.top, frames.trades, inst)

    tracker = BookTracker(inst, stream.max_depth)
    ofi = OrderFlowImbalance()
    micro = MicroPrice(model)
    vpin = Vpin(bucket, window=3)
    kyle = KyleLambda(inst, kyle_config)
    consumed = LiquidityConsumption(tracker)
    heatmaps = [Heatmap(inst, c) for c in heat_configs]
    ofis: list[int] = []
    mids: list[float] = []
    micros: list[float] = []
    buckets: list[VpinBucket] = []
    intervals: list[ImpactInterval] = []
    consumptions: list[Consumption] = []
    for event in stream.events:
        if isinstance(event, BookSnapshot | BookDelta):
            change = tracker.apply(event)
            ofis.append(ofi.update(change))
            mids.append(
                weighted_mid(
                    change.bid, change.bid_size, change.ask, change.ask_size, inst.price_decimals
                )
            )
            micros.append(micro.update(change))
            for heatmap in heatmaps:
                heatmap.on_book(change)
        elif isinstance(event, Trade):
            vpin.update(event, buckets)
            kyle.update(event, intervals)
            consumptions.append(consumed.update(event))
            for heatmap in heatmaps:
                heatmap.on_trade(event)
        elif isinstance(event, BookStatus):
            tracker.on_status(event)
    kyle.flush(intervals)

    label = f"{inst.venue} {inst.symbol}"
    assert (tracker.book.bids(), tracker.book.asks()) == stream.venue_book, label
    assert ofis == ofi_series(frames.top).tolist(), label
    assert np.array_equal(
        np.array(mids), weighted_mid_series(frames.top, inst.price_decimals), equal_nan=True
    ), label
    assert np.array_equal(np.array(micros), model.series(frames.top), equal_nan=True), label
    batch_buckets = vpin_buckets(frames.trades, bucket, window=3)
    assert [(b.index, b.end_ts, b.buy, b.sell, b.vpin) for b in buckets] == batch_buckets.rows()
    assert intervals == kyle_lambda_intervals(frames.trades, inst, kyle_config), label
    batch_consumed = consumption_frame(frames.trades, frames.top)
    assert [c.depth for c in consumptions] == batch_consumed["depth"].to_list(), label
    assert np.array_equal(
        np.array([c.share for c in consumptions]),
        batch_consumed["share"].to_numpy(),
        equal_nan=True,
    ), label
    cells = 0
    for heatmap, config in zip(heatmaps, heat_configs, strict=True):
        matrix = heatmap.result()
        assert matrix.equals(heatmap_from_frames(frames, config)), (label, config)
        cells += int((matrix.liquidity > 0).sum() + (matrix.buys + matrix.sells > 0).sum())
    # Detectors run one code path for live and batch: replaying gives the same signals.
    assert detect_signals(stream.events, inst) == detect_signals(stream.events, inst)
    return {
        "book updates": len(ofis),
        "ofi nonzero": sum(1 for e in ofis if e),
        "heatmap cells": cells,
        "trades": len(frames.trades),
        "vpin values": sum(1 for b in buckets if b.vpin is not None),
        "kyle estimates": sum(1 for i in intervals if i.kyle_lambda is not None),
    }


def _heat_configs(top: pl.DataFrame, trades: pl.DataFrame, inst: Instrument) -> list[HeatmapConfig]:
    """A window of 300 ticks either side of the first price seen (some books span a price
    range of 10**11 ticks), at two resolutions."""
    prices = [p for p in (*top["bid"].head(1), *top["ask"].head(1)) if p]
    prices += trades["price"].head(1).to_list()
    if not prices:
        return [HeatmapConfig()]
    low, high = prices[0] - 300 * inst.tick_size, prices[0] + 300 * inst.tick_size
    return [
        HeatmapConfig(step_ns=1_000_000_000, price_low=low, price_high=high),
        HeatmapConfig(step_ns=250_000_000, row=5 * inst.tick_size, price_low=low, price_high=high),
    ]


def test_real_sweeps_are_found(captures: Path) -> None:
    (sushi,) = [s for s in streams(captures, "BINANCE_FUTURES") if s.instrument.base == "SUSHI"]
    signals = detect_signals(sushi.events, sushi.instrument)
    assert [s.kind.value for s in signals].count("sweep") >= 2
    assert all(0.0 <= s.confidence <= 1.0 for s in signals)
