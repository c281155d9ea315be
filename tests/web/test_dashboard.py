"""The dashboard against the live demo server: it draws, it moves, it switches, it greys a
stale venue. Screenshots go to artifacts/ (git-ignored)."""

from __future__ import annotations

import time
from typing import Any

from orderscope.flow.signals import SignalKind
from tests.api.conftest import Demo
from tests.web.conftest import dashboard_url, screenshot

READY = """() => {
  const s = window.orderscope && window.orderscope.snapshot();
  return s && s.ready && s.connected && s.ladder && s.ladder.rows > 10 && s.footprint
    && s.trades > 20 && s.columns !== null;
}"""

# What a canvas shows, in numbers: pixels that differ from the background, and a checksum.
PIXELS = """(selector) => {
  const canvas = document.querySelector(selector);
  const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  let drawn = 0, sum = 0;
  for (let i = 0; i < data.length; i += 4) {
    const r = data[i], g = data[i + 1], b = data[i + 2], a = data[i + 3];
    if (a && !(r === 11 && g === 14 && b === 20)) drawn++;
    sum = (sum * 31 + r * 7 + g * 3 + b) % 2147483647;
  }
  return {drawn, sum, total: data.length / 4};
}"""


def snapshot(page: Any) -> dict[str, Any]:
    result: dict[str, Any] = page.evaluate("window.orderscope.snapshot()")
    return result


def open_dashboard(page: Any, demo: Demo, **params: str) -> dict[str, Any]:
    page.goto(dashboard_url(demo, **params))
    page.wait_for_function(READY, timeout=20_000)
    return snapshot(page)


def later(page: Any, first: dict[str, Any], steps: int = 15) -> dict[str, Any]:
    """The page once the heatmap has `steps` more columns of event time (not wall time)."""
    page.wait_for_function(
        f"() => window.orderscope.snapshot().columns >= {first['columns'] + steps}",
        timeout=20_000,
    )
    page.wait_for_timeout(100)  # a frame to draw them
    return snapshot(page)


def test_heatmap_ladder_footprint_draw_and_update(page: Any, web_demo: Demo) -> None:
    first = open_dashboard(page, web_demo)
    assert first["symbol"] == "BTC/USDT" and first["venue"] is None
    assert all(first["trusted"].values())
    heat1 = page.evaluate(PIXELS, "#heatmap canvas.heat")
    ladder1 = page.evaluate(PIXELS, "#ladder")
    footprint1 = page.evaluate(PIXELS, "#footprint")
    second = later(page, first)
    heat2 = page.evaluate(PIXELS, "#heatmap canvas.heat")
    ladder2 = page.evaluate(PIXELS, "#ladder")
    footprint2 = page.evaluate(PIXELS, "#footprint")
    # the heatmap is drawn (liquidity on a good part of its columns so far) and moves on
    assert heat2["drawn"] > heat1["drawn"] > 0
    assert heat2["sum"] != heat1["sum"]
    assert second["heatmap"]["strips"] > first["heatmap"]["strips"]  # incremental painting
    assert second["heatmap"]["bubbles"] > 0
    # the ladder: both sides around the touch, redrawn as the books move
    assert second["ladder"]["rows"] > 10 and ladder2["drawn"] > 0
    assert ladder2["sum"] != ladder1["sum"]
    bid, ask = float(second["ladder"]["bestBid"]), float(second["ladder"]["bestAsk"])
    assert 40_000 < bid < 80_000 and 40_000 < ask < 80_000
    # the footprint's current bar grows with the trades
    fp1, fp2 = first["footprint"], second["footprint"]
    assert (fp2["start"], fp2["trades"]) > (fp1["start"], fp1["trades"])
    assert footprint2["sum"] != footprint1["sum"] and footprint2["drawn"] > 0
    assert second["cvdPoints"] > first["cvdPoints"] >= 0 and second["cvdPoints"] > 0
    assert second["trades"] > first["trades"]
    # the venue status table lists every venue as good
    rows = page.locator("#status tbody tr")
    assert rows.count() == 3 and page.locator("#status tr.untrusted").count() == 0
    screenshot(page, "dashboard-btc")


def test_symbol_switch(page: Any, web_demo: Demo) -> None:
    first = open_dashboard(page, web_demo)
    page.select_option("#symbol", "ETH/USDT")
    page.wait_for_function(
        """() => { const s = window.orderscope.snapshot();
          return s.symbol === 'ETH/USDT' && s.ladder && s.ladder.rows > 10 && s.footprint
            && s.trades > 5; }""",
        timeout=20_000,
    )
    now = later(page, snapshot(page), steps=5)
    assert 1_000 < float(now["ladder"]["bestBid"]) < 6_000  # ETH, not BTC
    assert float(now["footprint"]["poc"]) < 6_000
    assert page.evaluate(PIXELS, "#heatmap canvas.heat")["drawn"] > 0
    assert "symbol=ETH-USDT" in page.evaluate("location.hash")
    assert now["trades"] < first["trades"] + 10_000  # the BTC trades were left behind
    screenshot(page, "dashboard-eth")


def test_venue_picker(page: Any, web_demo: Demo) -> None:
    open_dashboard(page, web_demo)
    page.select_option("#venue", "coinbase")
    page.wait_for_function(
        """() => { const s = window.orderscope.snapshot();
          return s.venue === 'coinbase' && s.footprint && s.cvdPoints > 0; }""",
        timeout=20_000,
    )
    assert "venue=coinbase" in page.evaluate("location.hash")
    caption = page.evaluate("window.orderscope.app.footprint.summary")
    assert caption is not None and caption["trades"] > 0


def test_stale_venue_is_marked_and_greyed(page: Any, web_demo: Demo) -> None:
    open_dashboard(page, web_demo)
    protocol = web_demo.feeds().emulator.protocols["kraken"]

    def stall() -> None:
        protocol.faults.stall_until = time.monotonic() + 3.0

    web_demo.call(stall)
    page.wait_for_function(
        "() => window.orderscope.snapshot().trusted.kraken === false", timeout=15_000
    )
    page.wait_for_function(
        "() => document.querySelector('#status tr.untrusted[data-venue=kraken]') !== null",
        timeout=5_000,
    )
    legend = page.locator("#legend .untrusted").inner_text()
    assert "kraken" in legend
    assert page.evaluate("window.orderscope.snapshot().trusted.binance") is True
    screenshot(page, "dashboard-stale-venue")
    # when the venue is back and resynced, it is shown as good again
    page.wait_for_function(
        "() => window.orderscope.snapshot().trusted.kraken === true", timeout=20_000
    )


def test_zoom_pan_and_follow(page: Any, web_demo: Demo) -> None:
    open_dashboard(page, web_demo)
    view = "(() => { const v = window.orderscope.app.viewport; return [v.msPerPx, v.pxPerRow, v.followTime, v.followPrice]; })()"  # noqa: E501
    ms0, px0, *_ = page.evaluate(view)
    box = page.locator("#heatmap canvas.overlay").bounding_box()
    x, y = box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.5
    page.mouse.move(x, y)
    page.mouse.wheel(0, -100)  # time zoom in
    page.keyboard.down("Shift")
    page.mouse.wheel(0, -100)  # price zoom in
    page.keyboard.up("Shift")
    page.wait_for_timeout(100)
    ms1, px1, follow_time, follow_price = page.evaluate(view)
    assert ms1 < ms0 and px1 > px0 and follow_time and follow_price
    page.mouse.down()
    page.mouse.move(x + 150, y + 50, steps=4)  # drag into the past
    page.mouse.up()
    assert page.evaluate(view)[2:] == [False, False]
    page.mouse.dblclick(x, y)
    assert page.evaluate(view)[2:] == [True, True]


def test_signal_feed_shows_the_servers_signals(page: Any, web_demo: Demo) -> None:
    open_dashboard(page, web_demo)
    kinds = [k.value for k in SignalKind]
    selector = ", ".join(f"#signals li.signal.{kind}" for kind in kinds)
    page.wait_for_selector(selector, timeout=60_000)
    # read one item at once: the feed prepends new ones all the time
    title, label, text = page.eval_on_selector(
        selector,
        "li => [li.querySelector('b').title, li.querySelector('b').textContent, li.textContent]",
    )
    assert title.replace(" ", "_") in kinds  # the whole kind, as the label's tooltip
    assert label and label in text  # the label itself is short enough for the column
    assert any(venue in text for venue in ("binance", "coinbase", "kraken"))
