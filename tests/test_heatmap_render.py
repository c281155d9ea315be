"""A heatmap PNG of a real capture looks like one: size, content, bids below asks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image
from typer.testing import CliRunner

from orderscope.cli import app
from orderscope.heatmap_render import (
    ASK_LINE,
    BACKGROUND,
    BID_LINE,
    TOP_MARGIN,
    colour_table,
    nice_step_ns,
)


def test_heatmap_png_of_a_real_capture(captures: Path, tmp_path: Path) -> None:
    out = tmp_path / "sushi.png"
    result = CliRunner().invoke(
        app,
        [
            "heatmap",
            str(captures / "BINANCE_FUTURES.ws.1.0"),
            "--symbol",
            "SUSHI/USDT:USDT",
            "--out",
            str(out),
            "--width",
            "640",
            "--height",
            "360",
        ],
    )
    assert result.exit_code == 0, result.output
    image = Image.open(out)
    assert image.size == (640, 360) and image.mode == "RGB"
    pixels = np.asarray(image)
    plot = pixels[TOP_MARGIN:-16, :-78]
    background = (plot == BACKGROUND).all(axis=2).mean()
    assert background < 0.5  # mostly liquidity
    # The best bid line runs below the best ask line wherever both are drawn.
    bid_y = _line_rows(plot, BID_LINE)
    ask_y = _line_rows(plot, ASK_LINE)
    columns = sorted(set(bid_y) & set(ask_y))
    assert len(columns) > 300
    assert all(min(bid_y[x]) > max(ask_y[x]) for x in columns)
    # Same input, same bytes.
    again = tmp_path / "again.png"
    CliRunner().invoke(
        app,
        [
            "heatmap",
            str(captures / "BINANCE_FUTURES.ws.1.0"),
            "-s",
            "SUSHI/USDT:USDT",
            "-o",
            str(again),
            "--width",
            "640",
            "--height",
            "360",
        ],
    )
    assert again.read_bytes() == out.read_bytes()


def _line_rows(plot: np.ndarray, colour: tuple[int, int, int]) -> dict[int, list[int]]:  # type: ignore[type-arg]
    ys, xs = np.nonzero((plot == colour).all(axis=2))
    rows: dict[int, list[int]] = {}
    for y, x in zip(ys.tolist(), xs.tolist(), strict=True):
        rows.setdefault(x, []).append(y)
    return rows


def test_cli_errors_are_reported(captures: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    out = str(tmp_path / "x.png")
    result = runner.invoke(app, ["heatmap", str(captures), "-s", "NOPE/USDT", "-o", out])
    assert result.exit_code == 2
    nkn = ["heatmap", str(captures / "BINANCE.ws.1.0"), "-s", "NKN/USDT", "-o", out]
    for bad, message in (
        (["--step", "fast"], "not a duration"),
        (["--width", "10"], "too small"),
        (["--row", "0.000000001"], "--row"),
    ):
        result = runner.invoke(app, [*nkn, *bad])
        assert result.exit_code == 2 and message in result.output, bad
    assert not (tmp_path / "x.png").exists()


def test_colour_scale_and_step() -> None:
    table = colour_table()
    assert tuple(table[0]) == BACKGROUND and tuple(table[255]) == (255, 255, 255)
    blue, yellow = table[110], table[217]
    assert blue[2] > blue[0] and yellow[0] > 200 and yellow[1] > 200 and yellow[2] < 100
    assert nice_step_ns(30_000_000_000, 600) == 50_000_000
    assert nice_step_ns(1, 600) == 1_000_000
