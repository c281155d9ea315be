// Venue status: each venue's connection state (connecting, live, stale, resyncing, backoff,
// stopped), its book for the symbol on screen, how far its last book is behind the newest
// event, and the server's frame and error counters. Anything not good is said in colour.

import { venueColor } from "./common.js";

const GOOD = new Set(["live", "synced", "running"]);

function pill(text) {
  const span = document.createElement("span");
  span.className = `pill ${GOOD.has(text) ? "good" : text ? "bad" : ""}`;
  span.textContent = text || "-";
  return span;
}

export class StatusView {
  constructor(table) {
    this.body = table.querySelector("tbody");
  }

  /** `venues`: GET /venues data (counters), may be null before the first answer. */
  draw(market, venues) {
    const info = new Map((venues ? venues.venues : []).map((v) => [v.venue, v]));
    const rows = market.venues.map((venue, i) => {
      const tr = document.createElement("tr");
      const states = market.feedStates.get(venue);
      const feedState = states && states.size ? [...new Set(states.values())].join(", ") : info.get(venue)?.state || "";
      const book = market.books.get(venue);
      const bookState = book ? (book.crossed ? "crossed" : book.state.replaceAll("_", " ")) : "";
      const behind = book && book.timeMs && market.nowMs ? (market.nowMs - book.timeMs) / 1000 : null;
      const found = info.get(venue);
      const errors = found ? Object.values(found.errors).reduce((a, b) => a + b, 0) : 0;
      const trusted = market.trusted(venue);
      tr.className = trusted ? "" : "untrusted";
      tr.dataset.venue = venue;
      const name = document.createElement("td");
      const chip = document.createElement("i");
      chip.className = "chip";
      chip.style.background = venueColor(i);
      name.append(chip, venue);
      const cells = [
        name,
        pill(market.connected ? feedState : "disconnected"),
        pill(bookState === "synced" ? "synced" : bookState),
        behind === null ? "-" : `${behind.toFixed(1)} s`,
        found ? String(found.frames) : "-",
        String(errors),
      ];
      for (const cell of cells) {
        if (typeof cell === "string") {
          const td = document.createElement("td");
          td.textContent = cell;
          tr.append(td);
        } else if (cell.tagName === "TD") tr.append(cell);
        else {
          const td = document.createElement("td");
          td.append(cell);
          tr.append(td);
        }
      }
      return tr;
    });
    this.body.replaceChildren(...rows);
  }
}
