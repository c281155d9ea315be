// The liquidity heatmap: resting size per price row over time (the Bookmap picture), trades as
// bubbles sized by volume (green: buy aggressor, red: sell), the best bid / ask lines, the
// volume profile's POC and value area, a crosshair. Zoom with the wheel (shift or over the
// price axis: prices), pan by dragging, double-click to follow the market again.
//
// Two layers. The heat layer is painted into ImageData pixel by pixel and kept between frames:
// following the market scrolls it by whole pixels and only the new strip is painted, so a
// frame costs the few columns that changed, not the whole picture. The overlay (bubbles,
// lines, axes) is small vector work redrawn when anything on it changed.

import { STEP_MS } from "../market.js";
import { clockText, compact } from "../decimal.js";
import {
  BG,
  BUY,
  BUY_FILL,
  FONT,
  GREY,
  GRID,
  HEAT,
  MUTED,
  POC,
  SELL,
  SELL_FILL,
  STALE,
  Surface,
  TEXT,
  label,
  niceStep,
  timeStep,
} from "./common.js";

const AXIS_RIGHT = 78;
const AXIS_BOTTOM = 18;
const MIN_LEVEL_INDEX = 40; // the faintest liquidity still shows, on the dark end of the scale
const NEAR_LEVELS = 25; // levels a side that set the colour scale

export class HeatmapView {
  constructor(root, viewport, { onChange }) {
    this.root = root;
    this.view = viewport;
    this.onChange = onChange; // the user zoomed or panned
    this.heatCanvas = root.querySelector("canvas.heat");
    this.heatCtx = this.heatCanvas.getContext("2d", { willReadFrequently: false });
    this.overlay = new Surface(root.querySelector("canvas.overlay"));
    this.plotW = 0;
    this.plotH = 0;
    this.painted = null; // what the heat layer shows: geometry key, right edge, scale
    this.ref = 0; // the size that maps to the top of the colour scale
    this.acc = new Float32Array(0); // trusted liquidity per pixel (column-major strip)
    this.grey = new Float32Array(0); // untrusted liquidity per pixel
    this.mouse = null; // {x, y} over the plot
    this.stats = { full: 0, strips: 0, stripPx: 0 };
    this._bind();
  }

  // -- interaction ----------------------------------------------------------------------------

  _bind() {
    const el = this.overlay.canvas;
    let drag = null;
    el.addEventListener("wheel", (event) => {
      event.preventDefault();
      const { x, y } = this._local(event);
      const factor = event.deltaY > 0 ? 1.2 : 1 / 1.2;
      if (event.shiftKey || x > this.plotW) this.view.zoomPrice(1 / factor, Math.min(y, this.plotH));
      else this.view.zoomTime(factor, Math.min(x, this.plotW));
      this.onChange();
    }, { passive: false });
    el.addEventListener("mousedown", (event) => {
      drag = this._local(event);
    });
    window.addEventListener("mouseup", () => {
      drag = null;
    });
    el.addEventListener("mousemove", (event) => {
      const point = this._local(event);
      if (drag) {
        this.view.pan(point.x - drag.x, point.y - drag.y);
        drag = point;
      }
      this.mouse = point.x <= this.plotW && point.y <= this.plotH ? point : null;
      this.onChange();
    });
    el.addEventListener("mouseleave", () => {
      this.mouse = null;
      this.onChange();
    });
    el.addEventListener("dblclick", () => {
      this.view.resume();
      this.onChange();
    });
  }

  _local(event) {
    const box = this.overlay.canvas.getBoundingClientRect();
    return { x: event.clientX - box.left, y: event.clientY - box.top };
  }

  // -- drawing --------------------------------------------------------------------------------

  resize() {
    const changed = this.overlay.resize();
    const w = Math.max(1, this.overlay.width - AXIS_RIGHT);
    const h = Math.max(1, this.overlay.height - AXIS_BOTTOM);
    if (w !== this.plotW || h !== this.plotH) {
      this.plotW = w;
      this.plotH = h;
      this.heatCanvas.width = w; // one canvas pixel per CSS pixel: the heat is soft anyway
      this.heatCanvas.height = h;
      this.heatCanvas.style.width = `${w}px`;
      this.heatCanvas.style.height = `${h}px`;
      this.painted = null;
    }
    this.view.setSize(w, h);
    return changed;
  }

  /** The consolidated mid row (selected venues), to keep the view on the market. */
  static midRow(market, mask) {
    let bid = null;
    let ask = null;
    market.venues.forEach((venue, v) => {
      if (!mask[v]) return;
      const book = market.books.get(venue);
      if (!book || book.bestBid === null || book.bestAsk === null) return;
      if (bid === null || book.bestBid > bid) bid = book.bestBid;
      if (ask === null || book.bestAsk < ask) ask = book.bestAsk;
    });
    if (bid === null || ask === null) return null;
    return (bid + ask) / 2 / market.scale.grid;
  }

  /** Paint what changed of the heat layer, then the overlay. */
  draw(market, mask, profile) {
    const view = this.view;
    const dirtyStep = market.columns.takeDirty();
    const ref = this._reference(market, mask);
    const key = [this.plotW, this.plotH, view.msPerPx, view.pxPerRow, view.centerRow, mask.join("")].join("|");
    const drift = this.painted ? Math.abs(ref / this.painted.ref - 1) : 1;
    const shift = this.painted ? view.rightPx - this.painted.rightPx : 0;
    if (!this.painted || this.painted.key !== key || drift > 0.35 || shift < 0 || shift >= this.plotW) {
      this._paint(market, mask, 0, this.plotW, ref);
      this.painted = { key, rightPx: view.rightPx, ref };
      this.stats.full++;
    } else {
      if (shift > 0) {
        this.heatCtx.drawImage(this.heatCanvas, -shift, 0);
      }
      let from = this.plotW - shift;
      if (dirtyStep !== Infinity) from = Math.min(from, Math.floor(view.timeToX(dirtyStep * STEP_MS)));
      from = Math.max(0, from);
      if (from < this.plotW) {
        this._paint(market, mask, from, this.plotW, this.painted.ref);
        this.stats.strips++;
        this.stats.stripPx += this.plotW - from;
      }
      this.painted.rightPx = view.rightPx;
    }
    this._overlay(market, mask, profile);
  }

  /** The size at the top of the colour scale: a high percentile of the levels near the touch
   * (what a trader reads), so that far walls, which only grow, saturate instead of dimming the
   * rest. */
  _reference(market, mask) {
    const sizes = [];
    market.venues.forEach((venue, v) => {
      const book = market.books.get(venue);
      if (!mask[v] || !book) return;
      for (const side of [book.bidSizes, book.askSizes]) {
        for (let k = 0; k < Math.min(NEAR_LEVELS, side.length); k++) sizes.push(side[k]);
      }
    });
    if (!sizes.length) return this.ref || 1;
    sizes.sort((a, b) => a - b);
    let found = sizes[Math.floor(sizes.length * 0.95)] || sizes[sizes.length - 1];
    // zoomed out, a pixel sums several rows
    if (this.view.pxPerRow < 1) found *= Math.min(50, 0.7 / this.view.pxPerRow);
    this.ref = this.ref ? this.ref * 0.85 + found * 0.15 : found;
    return this.ref;
  }

  _paint(market, mask, x0, x1, ref) {
    const H = this.plotH;
    const w = x1 - x0;
    if (w <= 0) return;
    const n = w * H;
    if (this.acc.length < n) {
      this.acc = new Float32Array(n);
      this.grey = new Float32Array(n);
    }
    const acc = this.acc;
    const grey = this.grey;
    acc.fill(0, 0, n);
    grey.fill(0, 0, n);
    const view = this.view;
    const cols = market.columns;
    const vc = cols.venueCount;
    const pxPerRow = view.pxPerRow;
    const top = view.rowToY(0); // y of row 0's lower edge: y(row) = top - row * pxPerRow
    let previous = -1;
    for (let x = x0; x < x1; x++) {
      const base = (x - x0) * H;
      const i = cols.at(Math.floor(view.xToTime(x + 0.5) / STEP_MS));
      if (i < 0) {
        previous = -1;
        continue;
      }
      if (i === previous) {
        acc.copyWithin(base, base - H, base);
        grey.copyWithin(base, base - H, base);
        continue;
      }
      previous = i;
      const books = cols.books[i];
      for (let v = 0; v < vc; v++) {
        const book = books[v];
        if (!mask[v] || !book) continue;
        const target = cols.trust[i * vc + v] ? acc : grey;
        addLevels(target, base, H, top, pxPerRow, book.bidRows, book.bidSizes);
        addLevels(target, base, H, top, pxPerRow, book.askRows, book.askSizes);
      }
    }
    const image = this.heatCtx.createImageData(w, H);
    const pixels = new Uint32Array(image.data.buffer);
    const bg = HEAT[0];
    const scale = 1 / ref;
    for (let x = 0; x < w; x++) {
      const base = x * H;
      for (let y = 0; y < H; y++) {
        const a = acc[base + y];
        let color = bg;
        if (a > 0) color = HEAT[level(a * scale)];
        else {
          const g = grey[base + y];
          if (g > 0) color = GREY[level(g * scale) >> 1];
        }
        pixels[y * w + x] = color;
      }
    }
    this.heatCtx.putImageData(image, x0, 0);
  }

  // -- overlay --------------------------------------------------------------------------------

  _overlay(market, mask, profile) {
    const s = this.overlay;
    const ctx = s.ctx;
    const view = this.view;
    s.clear();
    ctx.save();
    ctx.beginPath();
    ctx.rect(0, 0, this.plotW, this.plotH);
    ctx.clip();
    this._grid(ctx);
    if (profile) this._profileLines(ctx, market, profile);
    this._bestLines(ctx, market, mask);
    this._bubbles(ctx, market, mask);
    ctx.restore();
    this._axes(ctx, market);
    this._marks(ctx, market, mask);
    if (this.mouse) this._crosshair(ctx, market, mask);
    // venues whose data is greyed, said in words too
    const untrusted = market.venues.filter((v, i) => mask[i] && !market.trusted(v));
    let y = 12;
    for (const venue of untrusted) {
      label(ctx, `${venue}: ${market.distrust(venue)} (greyed)`, 8, y, { color: "#0b0e14", bg: STALE });
      y += 16;
    }
    if (!view.followTime || !view.followPrice) {
      label(ctx, "not following: double-click or press Follow", 8, this.plotH - 10, { color: MUTED });
    }
  }

  _grid(ctx) {
    const view = this.view;
    ctx.strokeStyle = GRID;
    ctx.lineWidth = 1;
    ctx.beginPath();
    const rowsStep = niceStep(34 / view.pxPerRow, 1);
    const low = Math.floor(view.yToRow(this.plotH) / rowsStep) * rowsStep;
    for (let row = low; view.rowToY(row) > 0; row += rowsStep) {
      const y = Math.round(view.rowToY(row)) + 0.5;
      ctx.moveTo(0, y);
      ctx.lineTo(this.plotW, y);
    }
    const tStep = timeStep(view.msPerPx);
    for (let t = Math.ceil(view.leftMs / tStep) * tStep; t <= view.rightMs; t += tStep) {
      const x = Math.round(view.timeToX(t)) + 0.5;
      ctx.moveTo(x, 0);
      ctx.lineTo(x, this.plotH);
    }
    ctx.stroke();
  }

  _bestLines(ctx, market, mask) {
    const view = this.view;
    const cols = market.columns;
    const grid = market.scale.grid;
    const vc = cols.venueCount;
    for (const [side, color] of [["bid", BUY], ["ask", SELL]]) {
      ctx.strokeStyle = color;
      ctx.lineWidth = 1.5;
      ctx.beginPath();
      let drawing = false;
      let lastY = null;
      for (let x = 0; x <= this.plotW; x += 1) {
        const i = cols.at(Math.floor(view.xToTime(x + 0.5) / STEP_MS));
        let best = null;
        if (i >= 0) {
          for (let v = 0; v < vc; v++) {
            const book = cols.books[i][v];
            if (!mask[v] || !book || !cols.trust[i * vc + v]) continue;
            const p = side === "bid" ? book.bestBid : book.bestAsk;
            if (p === null) continue;
            if (best === null || (side === "bid" ? p > best : p < best)) best = p;
          }
        }
        if (best === null) {
          drawing = false;
          continue;
        }
        // the line runs along the top of the bid row / the bottom of the ask row
        const row = best / grid;
        const y = side === "bid" ? view.rowToY(row + 1) : view.rowToY(row);
        if (!drawing) {
          ctx.moveTo(x, y);
          drawing = true;
        } else if (y !== lastY) {
          ctx.lineTo(x, lastY);
          ctx.lineTo(x, y);
        }
        lastY = y;
        if (x === this.plotW || cols.at(Math.floor(view.xToTime(x + 1.5) / STEP_MS)) < 0) {
          ctx.lineTo(x, y);
        }
      }
      ctx.stroke();
    }
  }

  _bubbles(ctx, market, mask) {
    const view = this.view;
    const trades = market.trades;
    const grid = market.scale.grid;
    const bucketMs = Math.max(STEP_MS, view.msPerPx * 6);
    const groups = new Map(); // (bucket, side) -> [volume, price x volume, last time]
    const oldest = view.leftMs - bucketMs;
    for (const i of trades.newestFirst()) {
      const t = trades.t[i];
      if (t < oldest) break;
      if (!mask[trades.venue[i]] || t > view.rightMs + bucketMs) continue;
      const side = trades.side[i];
      const key = Math.floor(t / bucketMs) * 2 + (side > 0 ? 1 : 0);
      const size = trades.size[i];
      const group = groups.get(key);
      if (group) {
        group[0] += size;
        group[1] += trades.units[i] * size;
      } else groups.set(key, [size, trades.units[i] * size]);
    }
    // sized against the median bubble on screen: the usual ones small, the big prints stand out
    const volumes = [...groups.values()].map((g) => g[0]).sort((a, b) => a - b);
    const typical = volumes.length ? volumes[volumes.length >> 1] : 1;
    const bubbles = [];
    for (const [key, [volume, weighted]] of groups) {
      const buy = key % 2 === 1;
      const bucket = Math.floor(key / 2);
      const x = view.timeToX((bucket + 0.5) * bucketMs);
      const y = view.rowToY(weighted / volume / grid);
      const r = Math.min(30, 1.5 + 3.5 * Math.sqrt(volume / typical));
      bubbles.push([r, x, y, buy]);
    }
    bubbles.sort((a, b) => b[0] - a[0]); // big ones under small ones
    ctx.lineWidth = 1;
    for (const [r, x, y, buy] of bubbles) {
      ctx.beginPath();
      ctx.arc(x, y, r, 0, Math.PI * 2);
      ctx.fillStyle = buy ? BUY_FILL : SELL_FILL;
      ctx.fill();
      ctx.strokeStyle = buy ? BUY : SELL;
      ctx.stroke();
    }
    this.bubbleCount = bubbles.length;
  }

  _profileLines(ctx, market, profile) {
    const view = this.view;
    const scale = market.scale;
    const rowUnits = scale.units(profile.row);
    const mark = (text, color, dash, half) => {
      if (!text) return;
      const y = view.rowToY((scale.units(text) + (half ? rowUnits / 2 : 0)) / scale.grid);
      ctx.strokeStyle = color;
      ctx.setLineDash(dash);
      ctx.beginPath();
      ctx.moveTo(0, Math.round(y) + 0.5);
      ctx.lineTo(this.plotW, Math.round(y) + 0.5);
      ctx.stroke();
      ctx.setLineDash([]);
    };
    ctx.lineWidth = 1;
    mark(profile.poc, "rgba(255,212,59,0.55)", [], true);
    mark(profile.vah, "rgba(160,180,255,0.45)", [4, 4], false);
    mark(profile.val, "rgba(160,180,255,0.45)", [4, 4], false);
  }

  _axes(ctx, market) {
    const view = this.view;
    const scale = market.scale;
    ctx.fillStyle = BG;
    ctx.fillRect(this.plotW, 0, AXIS_RIGHT, this.overlay.height);
    ctx.fillRect(0, this.plotH, this.plotW, AXIS_BOTTOM);
    ctx.font = FONT;
    const rowsStep = niceStep(34 / view.pxPerRow, 1);
    const low = Math.floor(view.yToRow(this.plotH) / rowsStep) * rowsStep;
    for (let row = low; view.rowToY(row) > 0; row += rowsStep) {
      const y = view.rowToY(row);
      if (y < this.plotH - 4) label(ctx, scale.rowText(row), this.plotW + 4, y, { color: MUTED });
    }
    const tStep = timeStep(view.msPerPx);
    for (let t = Math.ceil(view.leftMs / tStep) * tStep; t <= view.rightMs; t += tStep) {
      const x = view.timeToX(t);
      if (x > 30 && x < this.plotW - 30) {
        label(ctx, clockText(t, tStep < 1000), x, this.plotH + AXIS_BOTTOM / 2, { color: MUTED, align: "center" });
      }
    }
  }

  _marks(ctx, market, mask) {
    const view = this.view;
    const scale = market.scale;
    const trades = market.trades;
    for (const i of trades.newestFirst()) {
      if (!mask[trades.venue[i]]) continue;
      const y = view.rowToY(trades.units[i] / scale.grid);
      if (y > 0 && y < this.plotH) {
        const color = trades.side[i] > 0 ? BUY : SELL;
        label(ctx, scale.priceText(trades.units[i]), this.plotW + 2, y, { color: "#0b0e14", bg: color });
      }
      break;
    }
  }

  _crosshair(ctx, market, mask) {
    const view = this.view;
    const { x, y } = this.mouse;
    ctx.strokeStyle = "rgba(255,255,255,0.35)";
    ctx.lineWidth = 1;
    ctx.beginPath();
    ctx.moveTo(Math.round(x) + 0.5, 0);
    ctx.lineTo(Math.round(x) + 0.5, this.plotH);
    ctx.moveTo(0, Math.round(y) + 0.5);
    ctx.lineTo(this.plotW, Math.round(y) + 0.5);
    ctx.stroke();
    const row = Math.floor(view.yToRow(y));
    const t = view.xToTime(x);
    label(ctx, market.scale.rowText(row), this.plotW + 2, y, { color: BG, bg: TEXT });
    label(ctx, clockText(t, true), x, this.plotH + AXIS_BOTTOM / 2, { color: BG, bg: TEXT, align: "center" });
    // resting size in the row at that moment, selected venues
    const cols = market.columns;
    const i = cols.at(Math.floor(t / STEP_MS));
    if (i < 0) return;
    let size = 0;
    for (let v = 0; v < cols.venueCount; v++) {
      const book = cols.books[i][v];
      if (!mask[v] || !book) continue;
      for (const [rows, sizes] of [[book.bidRows, book.bidSizes], [book.askRows, book.askSizes]]) {
        for (let k = 0; k < rows.length; k++) if (rows[k] === row) size += sizes[k];
      }
    }
    if (size > 0) label(ctx, `${compact(size)} resting`, x + 8, y - 12, { color: TEXT, bg: "rgba(11,14,20,0.8)" });
  }
}

/** Colour index of a size relative to the reference: square root, and never invisible. */
function level(ratio) {
  if (ratio >= 1) return 255;
  return Math.max(MIN_LEVEL_INDEX, Math.floor(Math.sqrt(ratio) * 255));
}

/** Add a side's levels to a pixel column (`base` .. `base + H`) of an accumulator. */
function addLevels(target, base, H, top, pxPerRow, rows, sizes) {
  if (pxPerRow >= 1) {
    for (let k = 0; k < rows.length; k++) {
      const yBottom = top - rows[k] * pxPerRow;
      let y0 = Math.round(yBottom - pxPerRow);
      let y1 = Math.round(yBottom);
      if (y1 <= 0 || y0 >= H) continue;
      if (y0 < 0) y0 = 0;
      if (y1 > H) y1 = H;
      const size = sizes[k];
      for (let y = y0; y < y1; y++) target[base + y] += size;
    }
  } else {
    for (let k = 0; k < rows.length; k++) {
      const y = Math.floor(top - (rows[k] + 0.5) * pxPerRow);
      if (y >= 0 && y < H) target[base + y] += sizes[k];
    }
  }
}
