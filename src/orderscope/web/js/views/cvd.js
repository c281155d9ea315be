// Cumulative volume delta under the heatmap, on its time scale. The values are the server's
// running CVD (exact, pushed with each `delta_update`; the REST delta bars before that), placed
// at the event time of the newest trade they include.

import { compact } from "../decimal.js";
import { BG, BUY, GRID, MUTED, SELL, Surface, label } from "./common.js";

const AXIS_RIGHT = 78;

export class CvdView {
  constructor(canvas, viewport) {
    this.surface = new Surface(canvas);
    this.view = viewport;
  }

  resize() {
    return this.surface.resize();
  }

  draw(series, caption) {
    const s = this.surface;
    const ctx = s.ctx;
    const view = this.view;
    s.clear(BG);
    const W = view.width;
    const H = s.height;
    const left = view.leftMs;
    const right = view.rightMs;
    const points = [];
    let before = null; // the last point left of the view: where the line enters
    if (series) {
      for (const p of series.points()) {
        if (p[0] < left) before = p;
        else if (p[0] <= right) points.push(p);
      }
    }
    if (before) points.unshift([left, before[1]]);
    label(ctx, caption, 6, 9, { color: MUTED });
    if (!points.length) return;
    let lo = Infinity;
    let hi = -Infinity;
    for (const [, v] of points) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    const pad = Math.max((hi - lo) * 0.12, Math.abs(hi) * 1e-6, 1e-9);
    lo -= pad;
    hi += pad;
    const yOf = (v) => 16 + ((hi - v) / (hi - lo)) * (H - 20);
    if (lo < 0 && hi > 0) {
      ctx.strokeStyle = GRID;
      ctx.beginPath();
      ctx.moveTo(0, Math.round(yOf(0)) + 0.5);
      ctx.lineTo(W, Math.round(yOf(0)) + 0.5);
      ctx.stroke();
    }
    ctx.lineWidth = 1.5;
    ctx.beginPath();
    let lastY = null;
    for (const [t, v] of points) {
      const x = view.timeToX(t);
      const y = yOf(v);
      if (lastY === null) ctx.moveTo(x, y);
      else {
        ctx.lineTo(x, lastY); // a step: the CVD holds until the next trade
        ctx.lineTo(x, y);
      }
      lastY = y;
    }
    const last = points[points.length - 1];
    ctx.strokeStyle = last[1] >= 0 ? BUY : SELL;
    ctx.stroke();
    ctx.fillStyle = BG;
    ctx.fillRect(W, 0, AXIS_RIGHT, H);
    label(ctx, compact(hi - pad), W + 4, 20, { color: MUTED });
    label(ctx, compact(lo + pad), W + 4, H - 8, { color: MUTED });
    label(ctx, compact(last[1]), W + 2, yOf(last[1]), { color: BG, bg: last[1] >= 0 ? BUY : SELL });
  }
}
