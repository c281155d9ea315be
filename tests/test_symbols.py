from __future__ import annotations

import pytest

from orderscope.model import InstrumentKind
from orderscope.symbols import common_asset, normalize_user_symbol, parse_unified, unified_symbol


def test_unified_symbols() -> None:
    assert unified_symbol("XBT", "USD") == "BTC/USD"
    assert unified_symbol("btc", "usdt", InstrumentKind.LINEAR_PERPETUAL) == "BTC/USDT:USDT"
    assert unified_symbol("BTC", "USD", InstrumentKind.INVERSE_PERPETUAL) == "BTC/USD:BTC"
    assert (
        unified_symbol("BTC", "USD", InstrumentKind.INVERSE_FUTURE, expiry="220527")
        == "BTC/USD:BTC-220527"
    )
    with pytest.raises(ValueError, match="expiry"):
        unified_symbol("BTC", "USDT", InstrumentKind.LINEAR_FUTURE)


def test_aliases_and_parsing() -> None:
    assert (
        common_asset("xbt") == "BTC"
        and common_asset("XDG") == "DOGE"
        and common_asset("UST") == "USDT"
    )
    assert parse_unified("BTC/USDT:USDT") == ("BTC", "USDT", "USDT")
    assert parse_unified("BTC/USDT") == ("BTC", "USDT", None)
    with pytest.raises(ValueError):
        parse_unified("BTCUSDT")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("btc/usdt", "BTC/USDT"),
        ("BTC-USDT", "BTC/USDT"),
        ("BTC-USDT-USDT", "BTC/USDT:USDT"),
        ("BTC-USD-BTC-220527", "BTC/USD:BTC-220527"),
        ("BTC/USDT:USDT", "BTC/USDT:USDT"),
    ],
)
def test_user_symbols(text: str, expected: str) -> None:
    assert normalize_user_symbol(text) == expected
