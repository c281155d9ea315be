"""The dashboard's pure modules (exact decimals, the consolidated ladder, the heatmap's columns),
run in the browser as the page runs them: imported from the server like the page imports them."""

from __future__ import annotations

from typing import Any

from tests.api.conftest import Demo


def run(page: Any, demo: Demo, body: str) -> Any:
    """Evaluate `body` (an async function body) with the modules imported."""
    page.goto(f"{demo.server.url}/openapi.json")  # a page of the server's origin, no script
    return page.evaluate(
        f"""async () => {{
          const dec = await import('/js/decimal.js');
          const cob = await import('/js/cob.js');
          const mk = await import('/js/market.js');
          {body}
        }}"""
    )


def test_decimal_strings_are_exact_integers(page: Any, web_demo: Demo) -> None:
    got = run(
        page,
        web_demo,
        """
        const bad = (f) => {
          try { f(); return false; } catch (e) { return e instanceof RangeError; }
        };
        return {
          units: [dec.toUnits('60004.30000000', 8), dec.toUnits('0.1', 2), dec.toUnits('-1.5', 1),
                  dec.toUnits('7', 3), dec.toUnits('0.29', 2) + dec.toUnits('0.01', 2)],
          text: [dec.fromUnits(6000430000000, 8, 1), dec.fromUnits(-15, 1), dec.fromUnits(5, 3),
                 dec.fromUnits(30, 2, 0)],
          extra: bad(() => dec.toUnits('1.234', 2)), huge: bad(() => dec.toUnits('1e30', 0)),
          zeros: dec.toUnits('1.2300', 2),
          decimals: [dec.significantDecimals('0.10000000'), dec.significantDecimals('5')],
          time: dec.timeMs('2026-11-21T16:21:06.865281350Z') - Date.UTC(2026, 10, 21, 16, 21, 6),
          gcd: dec.gcd(10000000, 1000000),
        };
        """,
    )
    assert got["units"] == [6000430000000, 10, -15, 7000, 30]
    assert got["text"] == ["60004.3", "-1.5", "0.005", "0"]
    assert got["extra"] and got["huge"] and got["zeros"] == 123
    assert got["decimals"] == [1, 0]
    assert abs(got["time"] - 865.28135) < 1e-3  # sub-millisecond digits kept (to a microsecond)
    assert got["gcd"] == 1000000


def test_ladder_buckets_and_trust(page: Any, web_demo: Demo) -> None:
    got = run(
        page,
        web_demo,
        """
        const scale = new mk.SymbolScale({symbol: 'X/Y', path: 'X-Y', venues: [
          {venue: 'a', price_decimals: 2, tick_size: '0.01'},
          {venue: 'b', price_decimals: 1, tick_size: '0.1'}]});
        const market = new mk.Market(scale);
        const t = '2026-01-01T00:00:00.100Z';
        market.onBook({venue: 'a', state: 'synced', crossed: false, time: t,
          bids: [['100.04', '1'], ['100.01', '2']], asks: [['100.06', '3'], ['100.12', '4']]});
        market.onBook({venue: 'b', state: 'out_of_sync', crossed: false, time: t,
          bids: [['100.1', '5']], asks: [['100.2', '6']]});
        const ladder = cob.fromVenueBooks(market, 10);  // rows of 0.10
        const rows = [...ladder.levels.entries()].sort((x, y) => x[0] - y[0])
          .map(([p, l]) => [scale.priceText(p, 2), Array.from(l.bid), Array.from(l.ask)]);
        return {grid: scale.grid, tick: scale.tick, rows, bestBid: ladder.bestBid,
                bestAsk: ladder.bestAsk, trusted: ladder.trusted, why: market.distrust('b')};
        """,
    )
    assert got["grid"] == 1 and got["tick"] == 10  # rows of the finest tick, ladder the coarsest
    # bids fall to their bucket, asks rise to theirs: 100.04 and 100.01 -> 100.00; 100.06 -> 100.10
    assert got["rows"] == [
        ["100.00", [3, 0], [0, 0]],
        ["100.10", [0, 5], [3, 0]],
        ["100.20", [0, 0], [4, 6]],
    ]
    # the out-of-sync venue is not trusted: the best prices are the trusted venue's
    assert got["trusted"] == [True, False] and got["why"] == "out of sync"
    assert (got["bestBid"], got["bestAsk"]) == (10000, 10010)


def test_heatmap_columns_carry_books_forward(page: Any, web_demo: Demo) -> None:
    got = run(
        page,
        web_demo,
        """
        const cols = new mk.Columns(2, 8);
        const trust = () => true;
        cols.advance(100, trust);
        cols.put(100, 0, 'A1', true);
        cols.advance(103, trust);          // 101..103 repeat A1
        cols.put(103, 1, 'B3', true);
        cols.put(101, 0, 'A1b', true);     // a late book: replaces A1 where it was carried
        cols.advance(104, (v) => v === 0); // venue 1 no longer trusted from 104
        const at = (s) => { const i = cols.at(s); return i < 0 ? null :
          [cols.books[i][0], cols.books[i][1], cols.trust[i * 2], cols.trust[i * 2 + 1]]; };
        const kept = [100, 101, 102, 103, 104].map(at);
        cols.advance(120, trust);           // beyond the capacity: only what fits is kept
        return {kept, gone: at(104), last: at(120), oldest: at(113), dropped: at(112)};
        """,
    )
    assert got["kept"] == [
        ["A1", None, 1, 1],
        ["A1b", None, 1, 1],
        ["A1b", None, 1, 1],
        ["A1b", "B3", 1, 1],
        ["A1b", "B3", 1, 0],
    ]
    assert got["gone"] is None and got["dropped"] is None
    assert got["last"] == ["A1b", "B3", 1, 1] and got["oldest"] == ["A1b", "B3", 1, 1]
