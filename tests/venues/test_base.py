"""Venue.parse_levels: the batch path (>= BATCH_LEVELS levels), the cached path and their errors
are the same function of the input. Venue.attribute: the routes it remembers follow every change
of the subscriptions."""

from __future__ import annotations

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from orderscope.bench.synthetic import SYNTHETIC_INSTRUMENT
from orderscope.errors import BadValue, MalformedFrame, UnknownSymbol, UnsubscribedChannel
from orderscope.fixed import parse_fixed
from orderscope.venues.base import BATCH_LEVELS, PARSE_MEMO_LIMIT
from orderscope.venues.binance import BinanceSpot

INSTRUMENT = msgspec.structs.replace(
    SYNTHETIC_INSTRUMENT,
    venue="binance",
    symbol="NKN/USDT",
    venue_symbol="NKNUSDT",
    price_decimals=8,
    size_decimals=8,
)

number = st.one_of(
    st.decimals(min_value=0, max_value=10**6, places=8, allow_nan=False).map(str),
    st.integers(0, 10**6).map(lambda i: f"{i / 10**4:.8f}"),
    st.sampled_from(["0.00000000", "1", "-1", "NaN", "1e5", "0.000000001", " 1"]),
)


def _venue() -> BinanceSpot:
    return BinanceSpot([INSTRUMENT])


@given(st.lists(st.tuples(number, number), max_size=2 * BATCH_LEVELS))
def test_parse_levels_is_parse_fixed_per_level(raw: list[tuple[str, str]]) -> None:
    venue = _venue()
    try:
        want = [(parse_fixed(p, 8), parse_fixed(q, 8)) for p, q in raw]
    except ValueError:
        with pytest.raises(BadValue):
            venue.parse_levels(raw, INSTRUMENT, "frame", "depth")
        return
    assert venue.parse_levels(raw, INSTRUMENT, "frame", "depth") == want
    assert venue.parse_levels(raw, INSTRUMENT, "frame", "depth") == want  # from the memo


def test_levels_that_are_not_pairs_are_malformed() -> None:
    venue = _venue()
    for raw in (
        [["1.0", "2.0", "3.0"]],
        [["1.0", "2.0"]] * BATCH_LEVELS + [["1.0", "2.0", "3.0"]],
        [["1.0", "2.0"]] * BATCH_LEVELS + [["1.0"]],
        [["1.0", "2.0", "3.0"]] * BATCH_LEVELS,
    ):
        with pytest.raises(MalformedFrame):
            venue.parse_levels(raw, INSTRUMENT, "frame", "depth")


def test_the_memo_stays_bounded() -> None:
    venue = _venue()
    for i in range(PARSE_MEMO_LIMIT + 10):
        assert venue.parse_levels([(f"{i}.5", "1")], INSTRUMENT, "f", "depth") == [
            (i * 10**8 + 5 * 10**7, 10**8)
        ]
    assert all(len(cache) <= PARSE_MEMO_LIMIT for cache in venue._parse_memo.values())


def test_attribute_follows_every_change_of_the_subscriptions() -> None:
    venue = _venue()
    pair = ("depth", "NKNUSDT")

    def attributed() -> bool:
        try:
            assert venue.attribute("depth", "NKNUSDT", "frame") is INSTRUMENT
        except UnsubscribedChannel:
            return False
        return True

    assert not attributed()
    venue.subscriptions.add(pair)
    assert attributed() and attributed()  # the second one from the remembered route
    changes = [
        lambda: venue.subscriptions.discard(pair),
        lambda: venue.subscriptions.update([pair]),
        lambda: venue.subscriptions.remove(pair),
        lambda: venue.subscriptions.__ior__({pair}),
        lambda: venue.subscriptions.difference_update([pair]),
        lambda: venue.subscriptions.symmetric_difference_update([pair]),
        lambda: venue.subscriptions.intersection_update(set()),
        lambda: venue.subscriptions.__ixor__({pair}),
        lambda: venue.subscriptions.__isub__({pair}),
        lambda: venue.subscriptions.add(pair),
        lambda: venue.subscriptions.__iand__(set()),
        lambda: venue.subscriptions.add(pair),
        lambda: venue.subscriptions.clear(),
        lambda: venue.subscriptions.add(pair),
        lambda: venue.subscriptions.pop(),
    ]
    subscribed = 0
    for change in changes:
        change()
        subscribed += pair in venue.subscriptions
        assert attributed() is (pair in venue.subscriptions)
    assert subscribed == 7  # the changes above alternate between the two states
    assert venue.symbol_frames["NKN/USDT"] == 2 + subscribed
    with pytest.raises(AttributeError):
        venue.subscriptions = set()  # type: ignore[misc]


def test_attribute_of_a_filtered_or_unknown_symbol() -> None:
    other = msgspec.structs.replace(INSTRUMENT, symbol="BTC/USDT", venue_symbol="BTCUSDT")
    venue = BinanceSpot([INSTRUMENT, other], ["BTC/USDT"])
    venue.subscriptions.update([("depth", "NKNUSDT"), ("depth", "BTCUSDT")])
    for _ in range(3):
        assert venue.attribute("depth", "NKNUSDT", "frame") is None
        assert venue.attribute("depth", "BTCUSDT", "frame") is other
        with pytest.raises(UnknownSymbol):
            venue.attribute("depth", "ETHUSDT", "frame")
    assert venue.stats.ignored_frames == 3
    assert venue.symbol_frames == {"BTC/USDT": 3}
