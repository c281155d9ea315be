"""The service configuration: TOML file, environment token, flags, refusals."""

from __future__ import annotations

from pathlib import Path

import pytest

from orderscope.errors import ConfigError
from orderscope.service.config import DEFAULT_VENUES, load_config


def test_defaults_are_loopback_and_the_big_venues() -> None:
    cfg = load_config()
    assert cfg.server.host == "127.0.0.1" and cfg.server.token is None
    assert cfg.feeds.venues == DEFAULT_VENUES
    assert "BTC/USDT" in cfg.feeds.symbols and "ETH/USDT" in cfg.feeds.symbols
    assert cfg.server.cors_origins == ()


def test_file_then_flags(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "orderscope.toml"
    path.write_text(
        '[server]\nport = 9000\ncors_origins = ["https://me.example"]\n'
        '[feeds]\nvenues = ["Binance"]\nsymbols = ["btc-usdt", "ETH/USDT"]\n'
        '[analytics]\ntimeframes = ["1m", "1h"]\nrows = { "btc-usdt" = "10t" }\n'
    )
    monkeypatch.setenv("ORDERSCOPE_TOKEN", "from-the-environment")
    cfg = load_config(path)
    assert cfg.server.port == 9000 and cfg.server.token == "from-the-environment"
    assert cfg.server.cors_origins == ("https://me.example",)
    assert cfg.feeds.venues == ("binance",) and cfg.feeds.symbols == ("BTC/USDT", "ETH/USDT")
    assert cfg.engine.timeframes == ("1m", "1h") and cfg.engine.rows == {"BTC/USDT": "10t"}
    flagged = load_config(path, port=9100, venues=["kraken"], token="from-the-flag")
    assert flagged.server.port == 9100 and flagged.feeds.venues == ("kraken",)
    assert flagged.server.token == "from-the-flag"


@pytest.mark.parametrize(
    "text",
    [
        "[server]\nprot = 1\n",  # a typo is an error, not ignored
        "[server]\nport = 'eighty'\n",
        "[server]\nport = 70000\n",
        "[analytics]\ntimeframes = ['7m']\n",
        "[analytics]\npush_timeframe = '5m'\ntimeframes = ['1m']\n",
        "not toml at all [",
        "[feeds]\nsymbols = ['not a symbol']\n",
        "[server]\nevent_loop = 'trio'\n",
    ],
)
def test_bad_files_are_config_errors(tmp_path: Path, text: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ConfigError):
        load_config(path)


def test_exposed_address_needs_a_token() -> None:
    with pytest.raises(ConfigError, match="token"):
        load_config(host="0.0.0.0")
    assert load_config(host="0.0.0.0", token="long-enough-token").server.host == "0.0.0.0"
    assert load_config(host="0.0.0.0", allow_no_token=True).server.token is None
    with pytest.raises(ConfigError, match="8 characters"):
        load_config(token="short")


def test_event_loop_choice(tmp_path: Path) -> None:
    assert load_config().server.event_loop == "auto"
    path = tmp_path / "orderscope.toml"
    path.write_text('[server]\nevent_loop = "asyncio"\n')
    assert load_config(path).server.event_loop == "asyncio"
