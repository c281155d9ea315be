from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from orderscope import frames
from orderscope.errors import ConfigError
from orderscope.model import BookDelta, BookSnapshot, Trade
from orderscope.replay import Replay


def test_frames_hold_what_the_replay_produced(captures: Path) -> None:
    files = [captures / "BINANCE_FUTURES.ws.1.0"]
    rec = frames.load(files)
    session = Replay(files)
    trades, levels = [], 0
    for _venue, _record, events in session.run():
        for e in events:
            if isinstance(e, Trade):
                trades.append(e)
            elif isinstance(e, BookSnapshot | BookDelta):
                levels += len(e.bids) + len(e.asks)
    assert rec.trades.height == len(trades) > 0
    assert rec.trades.select("price", "size", "trade_id").rows() == [
        (t.price, t.size, t.trade_id) for t in trades
    ]
    assert rec.trades["side"].to_list() == [int(t.side) for t in trades]
    assert rec.book_deltas.height == levels > 0
    assert set(rec.book_deltas["book_side"].unique()) == {1, -1}
    # the last top of book of each symbol is the replayed book's best levels
    (venue,) = session.venues
    for symbol, book in venue.books.items():
        last = rec.top_of("binance_futures", symbol).row(-1, named=True)
        bid, ask = book.best_bid(), book.best_ask()
        assert (last["bid_price"], last["bid_size"]) == (bid or (None, None))
        assert (last["ask_price"], last["ask_size"]) == (ask or (None, None))
        assert last["synced"] == book.is_synced


def test_event_time_falls_back_to_receive_time(captures: Path) -> None:
    rec = frames.load([captures / "BINANCE_FUTURES.ws.1.0"])
    expected = pl.when(pl.col("exch_ns") > 0).then(pl.col("exch_ns")).otherwise(pl.col("recv_ns"))
    assert rec.trades.select((pl.col("ts") == expected).all()).item()
    assert rec.top_of_book.select((pl.col("update").diff().drop_nulls() > 0).all()).item()


def test_instruments_and_lookups(captures: Path) -> None:
    rec = frames.load([captures / "BINANCE_FUTURES.ws.1.0"], ["SUSHI/USDT:USDT"])
    assert list(rec.instruments) == [("binance_futures", "SUSHI/USDT:USDT")]
    assert rec.instrument("binance_futures", "SUSHI/USDT:USDT").price_decimals == 4
    assert rec.trades_of("binance_futures", "SUSHI/USDT:USDT").height == 40
    assert set(rec.book_of("binance_futures", "SUSHI/USDT:USDT")["symbol"]) == {"SUSHI/USDT:USDT"}
    with pytest.raises(ConfigError):
        rec.trades_of("binance", "SUSHI/USDT:USDT")
