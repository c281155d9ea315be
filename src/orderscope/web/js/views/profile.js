// The volume profile beside the heatmap, on the heatmap's price scale: volume per row split by
// aggressor (sell left part, buy right part), the value area brighter, the POC in yellow, the
// value area's high and low marked. The profile itself is the server's (POC and value area are
// computed there exactly, grown out from the POC): this view only draws it.

import { compact } from "../decimal.js";
import { BG, MUTED, POC, Surface, label } from "./common.js";

export class ProfileView {
  constructor(canvas, viewport) {
    this.surface = new Surface(canvas);
    this.view = viewport;
  }

  resize() {
    return this.surface.resize();
  }

  draw(market, profile, caption) {
    const s = this.surface;
    const ctx = s.ctx;
    const view = this.view;
    s.clear(BG);
    const H = view.height;
    if (!profile || !profile.rows.length) {
      label(ctx, "no trades yet", 6, 14, { color: MUTED });
      return;
    }
    const scale = market.scale;
    const rowUnits = scale.units(profile.row);
    const poc = profile.poc ? scale.units(profile.poc) : null;
    const vah = profile.vah ? scale.units(profile.vah) : null;
    const val = profile.val ? scale.units(profile.val) : null;
    const buy = new Float64Array(H);
    const sell = new Float64Array(H);
    const inside = new Uint8Array(H); // 1: value area, 2: POC
    for (const row of profile.rows) {
      const low = scale.units(row.price);
      let y0 = Math.floor(view.rowToY((low + rowUnits) / scale.grid));
      let y1 = Math.ceil(view.rowToY(low / scale.grid));
      if (y1 <= 0 || y0 >= H) continue;
      if (y1 - y0 >= 3) y1 -= 1; // a gap between visible rows
      y0 = Math.max(0, y0);
      y1 = Math.min(H, Math.max(y1, y0 + 1));
      const b = Number(row.buy);
      const sl = Number(row.sell);
      const mark = low === poc ? 2 : val !== null && low >= val && low <= vah ? 1 : 0;
      for (let y = y0; y < y1; y++) {
        buy[y] += b;
        sell[y] += sl;
        if (mark > inside[y]) inside[y] = mark;
      }
    }
    let max = 0;
    for (let y = 0; y < H; y++) max = Math.max(max, buy[y] + sell[y]);
    const width = s.width - 4;
    for (let y = 0; y < H; y++) {
      const total = buy[y] + sell[y];
      if (!total) continue;
      const w = (total / max) * width;
      const ws = (sell[y] / total) * w;
      const alpha = inside[y] ? 0.9 : 0.4;
      ctx.fillStyle = `rgba(240,82,79,${alpha})`;
      ctx.fillRect(2, y, ws, 1);
      ctx.fillStyle = `rgba(47,191,113,${alpha})`;
      ctx.fillRect(2 + ws, y, w - ws, 1);
    }
    // the POC: a yellow frame around its row
    let first = -1;
    for (let y = 0; y <= H; y++) {
      if (y < H && inside[y] === 2) {
        if (first < 0) first = y;
      } else if (first >= 0) {
        ctx.strokeStyle = POC;
        ctx.lineWidth = 1.5;
        ctx.strokeRect(1.5, first - 0.5, s.width - 3, Math.max(2, y - first));
        first = -1;
      }
    }
    label(ctx, caption, 4, 10, { color: MUTED });
    label(ctx, `POC ${profile.poc ? scale.priceText(poc) : "-"}`, 4, 24, { color: POC });
    label(ctx, `VAH ${vah !== null ? scale.priceText(vah) : "-"}`, 4, 38, { color: "#a0b4ff" });
    label(ctx, `VAL ${val !== null ? scale.priceText(val) : "-"}`, 4, 52, { color: "#a0b4ff" });
    label(ctx, `vol ${compact(Number(profile.volume))}`, 4, 66, { color: MUTED });
  }
}
