"""Bybit's retired 2021 protocol: the recorded sessions' trades still replay, exactly."""

from __future__ import annotations

import json
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pytest

from orderscope.capture import RecordKind, read_capture_file
from orderscope.errors import BadValue, MalformedFrame
from orderscope.model import InstrumentKind, Side, Trade
from orderscope.replay import Replay
from orderscope.venues.bybit import Bybit
from tests.venues.venue_testing import errors, opened, received, replay_bytes, run, sent

CAPTURES = ("BYBIT.ws.25.0", "BYBIT.ws.26.0")


def capture_venue(captures: Path) -> Bybit:
    records = read_capture_file(captures / "BYBIT.0")
    return Bybit([i for r in records for i in Bybit.parse_instruments(r.url, r.payload)])


def test_v2_symbols_become_linear_and_inverse_instruments(captures: Path) -> None:
    venue = capture_venue(captures)
    bch = venue.instruments["BCH/USDT:USDT"]
    assert (bch.kind, bch.settle, bch.price_decimals) == (
        InstrumentKind.LINEAR_PERPETUAL,
        "USDT",
        2,
    )
    assert (bch.size_decimals, bch.lot_size) == (8, 10**6)  # 0.01 step kept at 8 decimals
    btc = venue.instruments["BTC/USD:BTC"]
    assert (btc.kind, btc.contract_size, btc.size_decimals) == (
        InstrumentKind.INVERSE_PERPETUAL,
        "1",
        0,
    )
    june = venue.instruments["BTC/USD:BTC-210625"]
    assert (june.kind, june.venue_symbol) == (InstrumentKind.INVERSE_FUTURE, "BTCUSDM21")
    assert venue.by_venue_symbol["inverse:BTCUSD"] is btc


def _reference_trades(captures: Path) -> dict[str, tuple[int, Decimal, Decimal]]:
    """Per venue symbol: trade count, buy volume, sell volume, read with json and Decimal."""
    counts: dict[str, int] = defaultdict(int)
    volumes: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for name in CAPTURES:
        for record in read_capture_file(captures / name):
            if record.kind is not RecordKind.RECV:
                continue
            message = json.loads(record.payload)
            if not message.get("topic", "").startswith("trade."):
                continue
            for t in message["data"]:
                counts[t["symbol"]] += 1
                volumes[t["symbol"], t["side"]] += Decimal(repr(t["size"]))
    return {s: (n, volumes[s, "Buy"], volumes[s, "Sell"]) for s, n in counts.items()}


def test_capture_trades_replay_with_no_error(captures: Path) -> None:
    session = Replay([captures / name for name in CAPTURES])
    session.run_all()
    venue = session.venues[0]
    assert errors(venue) == {}
    assert venue.stats.control_frames == 20  # subscription replies
    assert venue.stats.ignored_frames == 4278  # the retired orderBookL2_25 book, not read
    assert venue.books == {}
    reference = _reference_trades(captures)
    assert sum(count for count, _, _ in reference.values()) == 251
    for (_, symbol), totals in session.trades.items():
        inst = venue.instruments[symbol]
        count, buys, sells = reference[inst.venue_symbol]
        assert totals.count == count
        assert Decimal(inst.size_text(totals.buy_volume)) == buys
        assert Decimal(inst.size_text(totals.sell_volume)) == sells


def test_capture_replay_is_deterministic(captures: Path) -> None:
    paths = [captures / name for name in CAPTURES]
    assert replay_bytes(paths) == replay_bytes(paths)


def legacy_venue(captures: Path) -> Bybit:
    venue = capture_venue(captures)
    subscribe = json.dumps({"op": "subscribe", "args": ["trade.XTZUSDT"]})
    run(venue, [opened("wss://stream.bybit.com/realtime_public"), sent(subscribe)])
    return venue


def trade(**changes: object) -> str:
    item = {
        "symbol": "XTZUSDT",
        "tick_direction": "ZeroPlusTick",
        "price": "7.211",
        "size": 273.30002,
        "timestamp": "2021-04-17T16:43:07.000Z",
        "trade_time_ms": "1618677787233",
        "side": "Sell",
        "trade_id": "a5ac6a6b-1b80-56ee-9d0d-7b6c66c3aa7c",
    }
    return json.dumps({"topic": "trade.XTZUSDT", "data": [item | changes]})


def test_off_grid_float_sizes_are_kept_exactly(captures: Path) -> None:
    venue = legacy_venue(captures)
    (event,) = run(venue, [received(trade())])
    assert isinstance(event, Trade)
    assert (event.side, event.price, event.size) == (Side.SELL, 7211, 27330002000)
    assert event.exch_ns == 1618677787233 * 10**6


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"trade_time_ms": "soon"}, BadValue),
        ({"price": "7.2115"}, BadValue),
        ({"size": -1.0}, BadValue),
        ({"side": "Both"}, BadValue),
        ({"size": "273.3"}, MalformedFrame),  # the protocol sent sizes as numbers
        ({"size": -5}, BadValue),  # inverse sizes are ints of contracts
    ],
)
def test_bad_legacy_trades_are_typed_errors(
    captures: Path, changes: dict[str, object], error: type[Exception]
) -> None:
    venue = legacy_venue(captures)
    assert run(venue, [received(trade(**changes))]) == []
    assert errors(venue) == {error.kind: 1}  # type: ignore[attr-defined]
    assert len(run(venue, [received(trade())])) == 1
