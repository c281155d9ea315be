// The signal feed: what the server detected (signals, imbalances) and what happened to the
// venues (stale, resynced), newest first, bounded. DOM nodes are added once per frame.

import { clockText } from "../decimal.js";

/** Labels that fit the feed's kind column (the full kind is the label's tooltip). */
const SHORT_KINDS = {
  large_order_placed: "placed",
  large_order_pulled: "pulled",
  small_trade_burst: "hft burst",
  momentum_burst: "momentum",
  book_imbalance: "book imb.",
  block_trade: "block",
};

export class SignalFeed {
  constructor(list, max = 150) {
    this.list = list;
    this.max = max;
    this.pending = [];
    this.count = 0;
  }

  /** @param {{timeMs: number, kind: string, side: string|null, text: string}} entry */
  push(entry) {
    this.pending.push(entry);
    this.count++;
  }

  clear() {
    this.pending = [];
    this.list.replaceChildren();
  }

  flush() {
    if (!this.pending.length) return false;
    const fragment = document.createDocumentFragment();
    for (const entry of this.pending.slice(-this.max).reverse()) {
      const item = document.createElement("li");
      item.className = `signal ${entry.kind} ${entry.side || ""}`;
      const time = document.createElement("time");
      time.textContent = entry.timeMs ? clockText(entry.timeMs) : "";
      const kind = document.createElement("b");
      kind.textContent = SHORT_KINDS[entry.kind] || entry.kind.replaceAll("_", " ");
      kind.title = entry.kind.replaceAll("_", " ");
      const text = document.createElement("span");
      text.textContent = entry.text;
      item.append(time, kind, text);
      fragment.append(item);
    }
    this.pending = [];
    this.list.prepend(fragment);
    while (this.list.childElementCount > this.max) this.list.lastElementChild.remove();
    return true;
  }
}
