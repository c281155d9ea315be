// The COB ladder: one row per price bucket around the consolidated touch; bids left, asks
// right, each bar split by venue in the venue's colour. A venue that cannot be trusted (stale,
// resyncing, out of sync, disconnected) is drawn grey and left out of the totals.

import { compact } from "../decimal.js";
import { BG, BUY, FONT, MUTED, SELL, STALE, Surface, TEXT, venueColor } from "./common.js";

const ROW = 15;
const SIZE_W = 58;
const PRICE_W = 84;

export class LadderView {
  constructor(canvas) {
    this.surface = new Surface(canvas);
    this.summary = null; // what the last frame showed (tests read it)
  }

  resize() {
    return this.surface.resize();
  }

  draw(market, ladder, mask) {
    const s = this.surface;
    const ctx = s.ctx;
    s.clear(BG);
    const W = s.width;
    const H = s.height;
    const scale = market.scale;
    const { bucket, levels, bestBid, bestAsk, trusted } = ladder;
    if (bestBid === null || bestAsk === null) {
      ctx.font = FONT;
      ctx.fillStyle = MUTED;
      ctx.fillText("waiting for books", 8, 16);
      this.summary = null;
      return;
    }
    const rows = Math.max(3, Math.floor(H / ROW));
    const half = Math.floor(rows / 2);
    const mid = Math.round((bestBid + bestAsk) / 2 / bucket) * bucket;
    const barW = Math.max(20, (W - 2 * SIZE_W - PRICE_W) / 2);
    const xBidSize = barW;
    const xPrice = barW + SIZE_W;
    const xAskSize = xPrice + PRICE_W;
    const xAskBar = xAskSize + SIZE_W;
    // bar scale: the largest row on screen
    let max = 0;
    for (let k = 0; k < rows; k++) {
      const found = levels.get(mid + (half - k) * bucket);
      if (!found) continue;
      let bid = 0;
      let ask = 0;
      for (let v = 0; v < found.bid.length; v++) {
        if (!mask[v]) continue;
        bid += found.bid[v];
        ask += found.ask[v];
      }
      max = Math.max(max, bid, ask);
    }
    ctx.font = FONT;
    ctx.textBaseline = "middle";
    let shown = 0;
    for (let k = 0; k < rows; k++) {
      const price = mid + (half - k) * bucket;
      const y = k * ROW;
      const found = levels.get(price);
      const isBid = price === bestBid;
      const isAsk = price === bestAsk;
      if (isBid || isAsk) {
        ctx.fillStyle = isBid ? "rgba(47,191,113,0.16)" : "rgba(240,82,79,0.16)";
        ctx.fillRect(0, y, W, ROW - 1);
      }
      ctx.fillStyle = price > bestBid && price < bestAsk ? MUTED : TEXT;
      ctx.textAlign = "center";
      ctx.fillText(scale.priceText(price), xPrice + PRICE_W / 2, y + ROW / 2);
      if (!found) continue;
      shown++;
      const totals = { bid: [0, 0], ask: [0, 0] }; // [trusted, untrusted]
      for (const side of ["bid", "ask"]) {
        let offset = 0;
        for (let v = 0; v < found[side].length; v++) {
          const size = found[side][v];
          if (!mask[v] || !size) continue;
          totals[side][trusted[v] ? 0 : 1] += size;
          const w = max ? (size / max) * (barW - 4) : 0;
          ctx.fillStyle = trusted[v] ? venueColor(v) : STALE;
          ctx.globalAlpha = trusted[v] ? 0.85 : 0.4;
          if (side === "bid") ctx.fillRect(barW - 2 - offset - w, y + 2, w, ROW - 5);
          else ctx.fillRect(xAskBar + 2 + offset, y + 2, w, ROW - 5);
          ctx.globalAlpha = 1;
          offset += w;
        }
      }
      ctx.textAlign = "right";
      for (const [side, x, color] of [["bid", xBidSize + SIZE_W - 4, BUY], ["ask", xAskSize + SIZE_W - 4, SELL]]) {
        const [good, bad] = totals[side];
        if (good) {
          ctx.fillStyle = color;
          ctx.fillText(compact(good), x, y + ROW / 2);
        } else if (bad) {
          ctx.fillStyle = STALE;
          ctx.fillText(compact(bad), x, y + ROW / 2);
        }
      }
    }
    ctx.textAlign = "left";
    if (bestBid >= bestAsk) {
      ctx.fillStyle = "#ffd43b";
      ctx.fillText("venues cross: bid >= ask across venues", 6, H - 8);
    }
    this.summary = {
      bestBid: scale.priceText(bestBid),
      bestAsk: scale.priceText(bestAsk),
      bucket: scale.priceText(bucket),
      rows: shown,
    };
  }
}
