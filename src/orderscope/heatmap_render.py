"""Render a ``HeatmapMatrix`` to PNG the way a Bookmap user reads it.

Dark background; resting liquidity from dark blue through blue, cyan and yellow to white (a
wall of orders glows white); trades as bubbles whose area grows with the volume traded, green
for aggressive buys and red for aggressive sells; the best bid (green) and best ask (red) as
step lines. Price grows upward; time runs left to right.

Pillow draws it: the matrix becomes an RGB array through a 256-entry colour table in NumPy,
bubbles and lines are drawn with ``ImageDraw`` on an RGBA overlay, labels use Pillow's built-in
font. No display, no network, nothing read from the system.

Scaling: each pixel shows the largest cell it covers (so a one-row wall survives a squeeze);
colours run linearly in sqrt(size / s) where s is the 99th percentile of non-empty cells, so a
few huge walls saturate to white instead of turning everything else dark.
"""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageDraw, ImageFont

from orderscope.errors import ConfigError
from orderscope.fixed import NumberFormatError, format_fixed, parse_fixed
from orderscope.flow.book_tracker import BookTracker, event_time
from orderscope.heatmap import HeatmapConfig, HeatmapMatrix, heatmap_from_events
from orderscope.model import BookDelta, BookSnapshot, Event, Instrument, Trade

BACKGROUND = (8, 10, 20)
PANEL = (16, 18, 30)
TEXT = (200, 205, 220)
BUY_BUBBLE = (40, 210, 90)
SELL_BUBBLE = (235, 60, 60)
BID_LINE = (80, 255, 150)
ASK_LINE = (255, 90, 90)

#: (position in [0, 1], colour): the Bookmap-like scale of resting liquidity.
SCALE_STOPS = (
    (0.0, (10, 14, 40)),
    (0.2, (20, 40, 150)),
    (0.45, (30, 120, 255)),
    (0.65, (0, 210, 230)),
    (0.85, (255, 230, 40)),
    (1.0, (255, 255, 255)),
)

RIGHT_MARGIN = 78  # price labels
BOTTOM_MARGIN = 16  # time labels
TOP_MARGIN = 16  # title


def colour_table() -> npt.NDArray[np.uint8]:
    """256 RGB colours interpolated between ``SCALE_STOPS``; index 0 is the background."""
    positions = np.linspace(0.0, 1.0, 256)
    stops = np.array([p for p, _ in SCALE_STOPS])
    table = np.stack(
        [np.interp(positions, stops, [c[i] for _, c in SCALE_STOPS]) for i in range(3)], axis=1
    )
    table[0] = BACKGROUND
    return np.round(table).astype(np.uint8)


def _pixel_starts(count: int, pixels: int) -> npt.NDArray[np.intp]:
    """For each pixel, the first cell it covers (cells repeat when there are fewer of them)."""
    return (np.arange(pixels) * count // pixels).astype(np.intp)


def _squeeze(matrix: npt.NDArray[np.int64], width: int, height: int) -> npt.NDArray[np.int64]:
    """(T, R) -> (height, width) image rows (top = highest price), max over covered cells."""
    cols = np.maximum.reduceat(matrix, _pixel_starts(matrix.shape[0], width), axis=0)
    pixels = np.maximum.reduceat(cols, _pixel_starts(matrix.shape[1], height), axis=1)
    return pixels.T[::-1]


def render_heatmap(
    matrix: HeatmapMatrix, width: int = 1200, height: int = 700, title: str | None = None
) -> Image.Image:
    """The picture, exactly ``width`` x ``height`` pixels."""
    if width < RIGHT_MARGIN + 20 or height < TOP_MARGIN + BOTTOM_MARGIN + 20:
        raise ValueError(f"image too small: {width}x{height}")
    image = Image.new("RGB", (width, height), PANEL)
    plot_w = width - RIGHT_MARGIN
    plot_h = height - TOP_MARGIN - BOTTOM_MARGIN
    steps, rows = matrix.bids.shape
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default()
    inst = matrix.instrument
    draw.text((4, 2), title or f"{inst.venue} {inst.symbol}", fill=TEXT, font=font)
    if not steps or not rows:
        draw.text((4, TOP_MARGIN + 4), "no book data", fill=TEXT, font=font)
        return image
    liquidity = _squeeze(matrix.liquidity, plot_w, plot_h)
    nonzero = liquidity[liquidity > 0]
    scale = float(np.percentile(nonzero, 99)) if len(nonzero) else 1.0
    level = np.sqrt(np.clip(liquidity / scale, 0.0, 1.0))
    index = np.where(liquidity > 0, np.maximum(1, np.round(level * 255)), 0).astype(np.uint8)
    image.paste(Image.fromarray(colour_table()[index], "RGB"), (0, TOP_MARGIN))
    overlay = Image.new("RGBA", (plot_w, plot_h), (0, 0, 0, 0))
    _bubbles(ImageDraw.Draw(overlay), matrix, plot_w, plot_h)
    _best_lines(ImageDraw.Draw(overlay), matrix, plot_w, plot_h)
    plot = image.crop((0, TOP_MARGIN, plot_w, TOP_MARGIN + plot_h)).convert("RGBA")
    image.paste(Image.alpha_composite(plot, overlay).convert("RGB"), (0, TOP_MARGIN))
    _labels(draw, font, matrix, plot_w, plot_h)
    return image


def _x(step: float, steps: int, plot_w: int) -> float:
    return (step + 0.5) * plot_w / steps


def _y(row: float, rows: int, plot_h: int) -> float:
    return plot_h - (row + 0.5) * plot_h / rows


def _bubbles(draw: ImageDraw.ImageDraw, matrix: HeatmapMatrix, plot_w: int, plot_h: int) -> None:
    steps, rows = matrix.buys.shape
    largest = int(max(matrix.buys.max(initial=0), matrix.sells.max(initial=0)))
    if not largest:
        return
    biggest = max(4.0, min(plot_w / steps, plot_h / rows, 40.0) * 1.5)
    for volumes, colour in ((matrix.sells, SELL_BUBBLE), (matrix.buys, BUY_BUBBLE)):
        for k, r in zip(*np.nonzero(volumes), strict=True):
            radius = max(2.0, biggest * float(np.sqrt(volumes[k, r] / largest)))
            x, y = _x(k, steps, plot_w), _y(r, rows, plot_h)
            draw.ellipse(
                (x - radius, y - radius, x + radius, y + radius),
                fill=(*colour, 170),
                outline=(*colour, 255),
            )


def _best_lines(draw: ImageDraw.ImageDraw, matrix: HeatmapMatrix, plot_w: int, plot_h: int) -> None:
    steps, rows = matrix.bids.shape
    first = int(matrix.price_rows[0])
    for prices, colour in ((matrix.best_bid, BID_LINE), (matrix.best_ask, ASK_LINE)):
        points: list[tuple[float, float]] = []
        for k, price in enumerate(prices.tolist()):
            if not price:
                if len(points) > 1:
                    draw.line(points, fill=(*colour, 255), width=2)
                points = []
                continue
            y = _y((price - first) / matrix.row, rows, plot_h)
            points += [(k * plot_w / steps, y), ((k + 1) * plot_w / steps, y)]
        if len(points) > 1:
            draw.line(points, fill=(*colour, 255), width=2)


def _labels(
    draw: ImageDraw.ImageDraw,
    font: ImageFont.ImageFont | ImageFont.FreeTypeFont,
    matrix: HeatmapMatrix,
    plot_w: int,
    plot_h: int,
) -> None:
    rows = len(matrix.price_rows)
    decimals = matrix.instrument.price_decimals
    for i in range(6):
        r = round(i * (rows - 1) / 5)
        y = TOP_MARGIN + _y(r, rows, plot_h)
        price = format_fixed(int(matrix.price_rows[r]), decimals, strip=True)
        draw.line((plot_w, y, plot_w + 4, y), fill=TEXT)
        draw.text((plot_w + 6, y - 6), price, fill=TEXT, font=font)
    for ns, anchor_x in ((matrix.time_edges[0], 2), (matrix.time_edges[-1], plot_w - 60)):
        stamp = datetime.fromtimestamp(int(ns) // 1_000_000_000, UTC).strftime("%H:%M:%S")
        draw.text((anchor_x, TOP_MARGIN + plot_h + 2), f"{stamp}Z", fill=TEXT, font=font)


def write_png(image: Image.Image, path: Path) -> None:
    """Write deterministically (no timestamps or metadata in the file)."""
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=False)
    path.write_bytes(buffer.getvalue())


def visible_window(
    events: list[Event],
    instrument: Instrument,
    row: int,
    *,
    max_depth: int | None = None,
    min_rows: int = 40,
) -> tuple[int, int] | None:
    """A price window around where the market was: the range of the best bid and ask (and of
    the trades) over the session, padded by half its height and at least ``min_rows`` rows in
    all. Deep levels far from the market (a bid at a tenth of the price) stay out of the
    matrix, which would otherwise be mostly empty rows."""
    tracker = BookTracker(instrument, max_depth)
    prices: list[int] = []
    for event in events:
        if isinstance(event, BookSnapshot | BookDelta):
            change = tracker.apply(event)
            prices.extend(p for p in (change.bid, change.ask) if p)
        elif isinstance(event, Trade):
            prices.append(event.price)
    if not prices:
        return None
    low, high = min(prices), max(prices)
    pad = max((high - low) // 2, (min_rows * row - (high - low)) // 2, row)
    return max(low - pad, 0), high + pad


def nice_step_ns(span_ns: int, pixels: int) -> int:
    """The smallest 1-2-5 x 10^k ms step that fits ``span_ns`` into ``pixels`` columns."""
    want = max(span_ns // max(pixels, 1), 1)
    step = 1_000_000
    while True:
        for factor in (1, 2, 5):
            if step * factor >= want:
                return step * factor
        step *= 10


def render_capture_heatmap(
    files: list[Path],
    symbol: str,
    out: Path,
    *,
    venue: str | None = None,
    width: int = 1200,
    height: int = 700,
    step_ns: int | None = None,
    row: str | None = None,
) -> str:
    """Replay captures, build the heatmap of one symbol and write it as PNG (the CLI command).

    Returns a one-line summary. Without ``step_ns`` the step is the 1-2-5 ms step that fits
    the session into the image width; the rows shown are ``visible_window``.
    """
    from orderscope.replay import Replay

    if width < RIGHT_MARGIN + 20 or height < TOP_MARGIN + BOTTOM_MARGIN + 20:
        raise ConfigError(
            f"image too small: {width}x{height} (at least {RIGHT_MARGIN + 20}x"
            f"{TOP_MARGIN + BOTTOM_MARGIN + 20})"
        )
    # A folder may hold venues without a connector yet: take the ones orderscope reads.
    session = Replay(files, [symbol], skip_unsupported=any(p.is_dir() for p in files))
    names = [v.name for v in session.venues]
    if venue is not None:
        if venue not in names:
            raise ConfigError(f"{symbol} is not in the {venue} captures (found: {names})")
        chosen = venue
    elif len(names) > 1:
        raise ConfigError(f"{symbol} is on several venues ({', '.join(names)}): pass --venue")
    else:
        chosen = names[0]
    events: list[Event] = []
    max_depth = None
    for source, _record, produced in session.run():
        if source.name == chosen:
            events.extend(e for e in produced if e.symbol == symbol)
            book = source.books.get(symbol)
            max_depth = book.max_depth if book is not None else None
    instrument = next(v for v in session.venues if v.name == chosen).instruments[symbol]
    if not events:
        raise ConfigError(f"no {symbol} events in the captures")
    times = [event_time(e) for e in events]
    step = step_ns or nice_step_ns(max(times) - min(times), width - RIGHT_MARGIN)
    row_units = None
    if row is not None:
        try:
            row_units = parse_fixed(row, instrument.price_decimals)
        except NumberFormatError as exc:
            raise ConfigError(f"--row: {exc}") from None
    config = HeatmapConfig(step_ns=step, row=row_units)
    window = visible_window(events, instrument, row_units or instrument.tick_size)
    if window is not None:
        config = replace(config, price_low=window[0], price_high=window[1])
    matrix = heatmap_from_events(events, instrument, config, max_depth=max_depth)
    write_png(render_heatmap(matrix, width, height), out)
    steps, rows = matrix.bids.shape
    return (
        f"wrote {out}: {width}x{height} px, {chosen} {symbol}, {steps} steps of "
        f"{step / 1e6:g} ms x {rows} rows of {instrument.price_text(matrix.row)}"
    )
