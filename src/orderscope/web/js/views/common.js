// What the views share: canvas sizing, colours, axis steps.

export const BG = "#0b0e14";
export const GRID = "rgba(255,255,255,0.06)";
export const TEXT = "#c9d1d9";
export const MUTED = "#7d8590";
export const BUY = "#2fbf71";
export const SELL = "#f0524f";
export const BUY_FILL = "rgba(47,191,113,0.5)";
export const SELL_FILL = "rgba(240,82,79,0.5)";
export const POC = "#ffd43b";
export const STALE = "#6e7681";
export const FONT = "11px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace";

// Venue colours: none of them green or red (those mean buy and sell).
const PALETTE = ["#4ea1ff", "#f5a623", "#b57bff", "#2ed3c6", "#ff6fb5", "#c8d64a", "#8c9eff"];

export function venueColor(index) {
  return PALETTE[index % PALETTE.length];
}

/**
 * A canvas drawn at the device's pixel ratio (sharp text), sized to its box. `resize()` returns
 * true when the size changed; the 2D context is then scaled so drawing uses CSS pixels.
 */
export class Surface {
  constructor(canvas, { ratio = null } = {}) {
    this.canvas = canvas;
    this.ctx = canvas.getContext("2d", { alpha: true });
    this.fixedRatio = ratio;
    this.width = 0;
    this.height = 0;
    this.ratio = 1;
  }

  resize() {
    const box = this.canvas.getBoundingClientRect();
    const ratio = this.fixedRatio ?? (window.devicePixelRatio || 1);
    const width = Math.max(1, Math.floor(box.width));
    const height = Math.max(1, Math.floor(box.height));
    if (width === this.width && height === this.height && ratio === this.ratio) return false;
    this.width = width;
    this.height = height;
    this.ratio = ratio;
    this.canvas.width = Math.round(width * ratio);
    this.canvas.height = Math.round(height * ratio);
    this.ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    return true;
  }

  clear(color = null) {
    const ctx = this.ctx;
    if (color) {
      ctx.fillStyle = color;
      ctx.fillRect(0, 0, this.width, this.height);
    } else {
      ctx.clearRect(0, 0, this.width, this.height);
    }
  }
}

/** The smallest of 1, 2, 5 x 10^k times `unit` that is at least `minimum`. */
export function niceStep(minimum, unit = 1) {
  let step = unit;
  const factors = [1, 2, 5];
  for (let k = 0; k < 40; k++) {
    for (const f of factors) {
      const candidate = unit * f * 10 ** k;
      if (candidate >= minimum) return candidate;
    }
    step = unit * 10 ** (k + 1);
  }
  return step;
}

const TIME_STEPS = [100, 250, 500, 1e3, 2e3, 5e3, 10e3, 15e3, 30e3, 60e3, 120e3, 300e3, 600e3, 900e3];

/** A time-axis step in ms with labels at least `minPx` apart. */
export function timeStep(msPerPx, minPx = 90) {
  for (const step of TIME_STEPS) if (step / msPerPx >= minPx) return step;
  return 3600e3;
}

export function label(ctx, text, x, y, { color = TEXT, bg = null, align = "left" } = {}) {
  ctx.font = FONT;
  const width = ctx.measureText(text).width;
  const left = align === "right" ? x - width - 4 : align === "center" ? x - width / 2 - 2 : x;
  if (bg) {
    ctx.fillStyle = bg;
    ctx.fillRect(left, y - 7, width + 4, 14);
  }
  ctx.fillStyle = color;
  ctx.textBaseline = "middle";
  ctx.fillText(text, left + 2, y);
}

/** Colours from stops [[position 0..1, "#rrggbb"]], as 256 packed RGBA words (ImageData order). */
export function colorTable(stops) {
  const table = new Uint32Array(256);
  const rgb = stops.map(([p, hex]) => [p, parseInt(hex.slice(1, 3), 16), parseInt(hex.slice(3, 5), 16), parseInt(hex.slice(5, 7), 16)]);
  for (let i = 0; i < 256; i++) {
    const x = i / 255;
    let k = 1;
    while (k < rgb.length - 1 && rgb[k][0] < x) k++;
    const [p0, r0, g0, b0] = rgb[k - 1];
    const [p1, r1, g1, b1] = rgb[k];
    const f = p1 > p0 ? Math.min(1, Math.max(0, (x - p0) / (p1 - p0))) : 0;
    const r = Math.round(r0 + (r1 - r0) * f);
    const g = Math.round(g0 + (g1 - g0) * f);
    const b = Math.round(b0 + (b1 - b0) * f);
    table[i] = (255 << 24) | (b << 16) | (g << 8) | r; // little-endian RGBA
  }
  return table;
}

/** The Bookmap-like scale: dark blue, cyan, yellow, orange, red, white for the walls. */
export const HEAT = colorTable([
  [0, "#0b0e14"],
  [0.08, "#0e2350"],
  [0.25, "#1560a8"],
  [0.42, "#1fb3c9"],
  [0.6, "#d8e043"],
  [0.78, "#ff9a1f"],
  [0.92, "#ff3b2f"],
  [1, "#fff2e0"],
]);

/** What an untrusted (stale, out-of-sync) venue's liquidity is drawn with. */
export const GREY = colorTable([
  [0, "#0b0e14"],
  [1, "#8b949e"],
]);
