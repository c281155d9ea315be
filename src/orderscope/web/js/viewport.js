// The price/time view shared by the heatmap, the volume profile (price) and the CVD (time).
//
// Time runs left to right in event time; the right edge is kept on a whole pixel index
// (`rightPx` x `msPerPx`) so that following the market scrolls the picture by whole pixels and
// the heatmap only paints the new strip. Prices are in rows of the symbol's grid (its finest
// tick); a row spans [rowToY(row + 1), rowToY(row)].

export const FOLLOW_MARGIN_PX = 48; // room right of the newest data for bubbles

export class Viewport {
  constructor() {
    this.width = 1;
    this.height = 1;
    this.msPerPx = 100;
    this.rightPx = 0;
    this.followTime = true;
    this.pxPerRow = 2;
    this.centerRow = 0;
    this.followPrice = true;
    this.version = 0; // bumps on any change but a follow scroll
  }

  get rightMs() {
    return this.rightPx * this.msPerPx;
  }

  get leftMs() {
    return this.rightMs - this.width * this.msPerPx;
  }

  timeToX(t) {
    return this.width - (this.rightMs - t) / this.msPerPx;
  }

  xToTime(x) {
    return this.rightMs - (this.width - x) * this.msPerPx;
  }

  rowToY(row) {
    return this.height / 2 - (row - this.centerRow) * this.pxPerRow;
  }

  yToRow(y) {
    return this.centerRow + (this.height / 2 - y) / this.pxPerRow;
  }

  setSize(width, height) {
    if (width === this.width && height === this.height) return;
    this.width = width;
    this.height = height;
    this.version++;
  }

  /** Follow the newest event time (scroll) and keep `row` (the mid) in the middle band. */
  follow(nowMs, row) {
    if (this.followTime && nowMs > 0) {
      this.rightPx = Math.ceil(nowMs / this.msPerPx) + FOLLOW_MARGIN_PX;
    }
    if (this.followPrice && row !== null) {
      const y = this.rowToY(row);
      if (y < this.height * 0.2 || y > this.height * 0.8) {
        this.centerRow = row;
        this.version++;
      }
    }
  }

  zoomTime(factor, x) {
    const anchor = this.followTime ? this.rightMs : this.xToTime(x);
    const anchorX = this.followTime ? this.width : x;
    this.msPerPx = Math.min(60000, Math.max(5, this.msPerPx * factor));
    this.rightPx = Math.round((anchor + (this.width - anchorX) * this.msPerPx) / this.msPerPx);
    this.version++;
  }

  zoomPrice(factor, y) {
    const row = this.yToRow(y);
    this.pxPerRow = Math.min(64, Math.max(0.01, this.pxPerRow * factor));
    this.centerRow = row - (this.height / 2 - y) / this.pxPerRow;
    this.version++;
  }

  pan(dx, dy) {
    if (dx) {
      this.rightPx -= Math.round(dx);
      this.followTime = false;
    }
    if (dy) {
      this.centerRow += dy / this.pxPerRow;
      this.followPrice = false;
    }
    this.version++;
  }

  resume() {
    this.followTime = true;
    this.followPrice = true;
    this.version++;
  }
}
