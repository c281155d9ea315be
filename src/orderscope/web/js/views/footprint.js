// The footprint chart: one column per bar, per price row "sell x buy" (aggressor volumes), the
// cell tinted by its delta; diagonal imbalances boxed and bright (buy: green on the right,
// sell: red on the left); the POC row outlined in yellow; stacked imbalances as a bar on the
// column's edge; a candle at its left; delta and volume under it. Bars, rows, POC and
// imbalances are the server's (exact): this view only lays them out.
// Wheel: row height; shift + wheel: bar width; drag: pan; double-click: follow.

import { clockText, compact, timeMs } from "../decimal.js";
import { BG, BUY, FONT, GRID, MUTED, POC, SELL, Surface, TEXT, label } from "./common.js";

const AXIS_RIGHT = 78;
const FOOTER = 30;
const HEADER = 14;

export class FootprintView {
  constructor(canvas, { onChange }) {
    this.surface = new Surface(canvas);
    this.onChange = onChange;
    this.rowH = 15;
    this.barW = 124;
    this.centerRow = null; // in footprint rows; null: follow the last price
    this.offsetBars = 0; // bars scrolled back from the newest
    this.followRow = null; // the row at the centre in the last frame
    this.summary = null;
    this._bind();
  }

  _bind() {
    const el = this.surface.canvas;
    let drag = null;
    el.addEventListener("wheel", (event) => {
      event.preventDefault();
      const factor = event.deltaY > 0 ? 1 / 1.15 : 1.15;
      if (event.shiftKey) this.barW = Math.min(260, Math.max(40, this.barW * factor));
      else this.rowH = Math.min(40, Math.max(3, this.rowH * factor));
      this.onChange();
    }, { passive: false });
    el.addEventListener("mousedown", (event) => {
      drag = { x: event.clientX, y: event.clientY, row: this.followRow, bars: this.offsetBars };
    });
    window.addEventListener("mouseup", () => {
      drag = null;
    });
    el.addEventListener("mousemove", (event) => {
      if (!drag || drag.row === null) return;
      this.centerRow = drag.row + (event.clientY - drag.y) / this.rowH;
      this.offsetBars = Math.max(0, Math.round(drag.bars + (event.clientX - drag.x) / this.barW));
      this.onChange();
    });
    el.addEventListener("dblclick", () => {
      this.centerRow = null;
      this.offsetBars = 0;
      this.onChange();
    });
  }

  resize() {
    return this.surface.resize();
  }

  draw(market, bars, rowText, caption) {
    const s = this.surface;
    const ctx = s.ctx;
    s.clear(BG);
    const W = s.width - AXIS_RIGHT;
    const H = s.height - FOOTER;
    label(ctx, caption, 6, 8, { color: MUTED });
    if (!bars.length || !rowText) {
      label(ctx, "no bars yet", 6, 26, { color: MUTED });
      this.summary = null;
      this.followRow = null;
      return;
    }
    const scale = market.scale;
    const R = scale.units(rowText);
    const last = bars[bars.length - 1];
    const lastRow = scale.units(last.close) / R;
    this.followRow = this.centerRow ?? lastRow;
    const center = this.followRow;
    const yOf = (row) => HEADER + (H - HEADER) / 2 - (row - center) * this.rowH;
    const textRows = this.rowH >= 11;
    ctx.font = FONT;
    ctx.textBaseline = "middle";
    const visible = Math.max(1, Math.floor(W / this.barW));
    const end = bars.length - Math.min(this.offsetBars, bars.length - 1);
    const start = Math.max(0, end - visible);
    ctx.save();
    ctx.beginPath();
    ctx.rect(0, 0, W, s.height);
    ctx.clip();
    for (let b = start; b < end; b++) {
      const bar = bars[b];
      const x = W - (end - b) * this.barW;
      this._bar(ctx, scale, bar, R, x, yOf, H, textRows);
    }
    ctx.restore();
    // price axis
    ctx.fillStyle = BG;
    ctx.fillRect(W, 0, AXIS_RIGHT, s.height);
    const every = Math.max(1, Math.ceil(16 / this.rowH));
    const top = Math.ceil(center + (H - HEADER) / 2 / this.rowH);
    for (let row = Math.floor(top / every) * every; yOf(row) < H; row -= every) {
      const y = yOf(row + 0.5);
      if (y > HEADER) label(ctx, scale.priceText(row * R), W + 4, y, { color: MUTED });
    }
    const closeY = yOf(lastRow + 0.5);
    if (closeY > HEADER && closeY < H) {
      label(ctx, scale.priceText(scale.units(last.close)), W + 2, closeY, { color: BG, bg: TEXT });
    }
    this.summary = {
      bars: bars.length,
      start: last.start,
      volume: last.volume,
      trades: last.trades,
      poc: last.poc,
      imbalances: last.imbalances.length,
    };
  }

  _bar(ctx, scale, bar, R, x, yOf, H, textRows) {
    const w = this.barW;
    const cellX = x + 7;
    const cellW = w - 12;
    const mid = cellX + cellW / 2;
    const poc = scale.units(bar.poc);
    const buyImb = new Set();
    const sellImb = new Set();
    for (const imb of bar.imbalances) (imb.side === "buy" ? buyImb : sellImb).add(scale.units(imb.price));
    let maxDelta = 0;
    for (const row of bar.rows) maxDelta = Math.max(maxDelta, Math.abs(Number(row.delta)));
    ctx.strokeStyle = GRID;
    ctx.beginPath();
    ctx.moveTo(x + 0.5, HEADER);
    ctx.lineTo(x + 0.5, H + 26);
    ctx.stroke();
    for (const row of bar.rows) {
      const p = scale.units(row.price);
      const j = p / R;
      const y0 = yOf(j + 1);
      const y1 = yOf(j);
      if (y1 < HEADER || y0 > H) continue;
      const delta = Number(row.delta);
      const strength = maxDelta ? 0.12 + 0.5 * (Math.abs(delta) / maxDelta) : 0.12;
      ctx.fillStyle = delta >= 0 ? `rgba(47,191,113,${strength})` : `rgba(240,82,79,${strength})`;
      ctx.fillRect(cellX, y0, cellW, Math.max(1, y1 - y0 - 1));
      const sellBox = sellImb.has(p);
      const buyBox = buyImb.has(p);
      if (sellBox || buyBox) {
        ctx.lineWidth = 1.5;
        ctx.strokeStyle = sellBox ? SELL : BUY;
        if (sellBox) ctx.strokeRect(cellX + 1, y0 + 1, cellW / 2 - 2, y1 - y0 - 3);
        if (buyBox) {
          ctx.strokeStyle = BUY;
          ctx.strokeRect(mid + 1, y0 + 1, cellW / 2 - 2, y1 - y0 - 3);
        }
      }
      if (p === poc) {
        ctx.lineWidth = 1.5;
        ctx.strokeStyle = POC;
        ctx.strokeRect(cellX - 1, y0 - 0.5, cellW + 2, y1 - y0);
      }
      if (textRows) {
        const y = (y0 + y1) / 2;
        ctx.font = sellBox ? `bold ${FONT}` : FONT;
        ctx.fillStyle = sellBox ? "#ff8a87" : TEXT;
        ctx.textAlign = "right";
        ctx.fillText(compact(Number(row.sell)), mid - 4, y);
        ctx.font = buyBox ? `bold ${FONT}` : FONT;
        ctx.fillStyle = buyBox ? "#6ff0a8" : TEXT;
        ctx.textAlign = "left";
        ctx.fillText(compact(Number(row.buy)), mid + 4, y);
      }
    }
    ctx.font = FONT;
    // the candle: wick high-low, body open-close
    const open = scale.units(bar.open) / R;
    const close = scale.units(bar.close) / R;
    const color = close >= open ? BUY : SELL;
    ctx.fillStyle = color;
    ctx.fillRect(x + 3, yOf(scale.units(bar.high) / R + 1), 1, yOf(scale.units(bar.low) / R) - yOf(scale.units(bar.high) / R + 1));
    const top = yOf(Math.max(open, close) + 1);
    ctx.fillRect(x + 2, top, 3, Math.max(2, yOf(Math.min(open, close)) - top));
    // stacked imbalances: a bar on the column's right edge
    for (const run of bar.stacked_imbalances) {
      const low = scale.units(run.low) / R;
      const high = scale.units(run.high) / R;
      ctx.fillStyle = run.side === "buy" ? BUY : SELL;
      ctx.fillRect(x + w - 4, yOf(high + 1), 3, yOf(low) - yOf(high + 1));
    }
    // header and footer
    ctx.textAlign = "left";
    ctx.fillStyle = BG;
    ctx.fillRect(x + 1, 0, w - 1, HEADER);
    ctx.fillRect(x + 1, H, w - 1, 30);
    label(ctx, clockText(timeMs(bar.start)), x + 6, 8, { color: MUTED });
    const delta = Number(bar.delta);
    label(ctx, `Δ ${delta >= 0 ? "+" : ""}${compact(delta)}`, x + 6, H + 8, { color: delta >= 0 ? BUY : SELL });
    label(ctx, `vol ${compact(Number(bar.volume))}  ${bar.trades}t`, x + 6, H + 22, { color: MUTED });
  }
}
