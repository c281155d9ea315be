// What the dashboard holds about one symbol: its venues' books, the heatmap's columns, trades,
// CVD points, footprint bars. Everything is bounded (ring buffers), and every time is event time
// (the venues' and the server's stamps): the browser's clock is never read here.

import { fromUnits, gcd, significantDecimals, timeMs, toUnits } from "./decimal.js";

export const STEP_MS = 100; // one heatmap column: the server's push cadence
export const MAX_COLUMNS = 3000; // 5 minutes of columns
export const MAX_TRADES = 40000;
export const MAX_POINTS = 20000; // CVD points a series
export const MAX_BARS = 240; // footprint bars kept

/** A symbol's precision across its venues: the common integer scale of prices. */
export class SymbolScale {
  constructor(info) {
    this.symbol = info.symbol;
    this.path = info.path;
    this.venues = info.venues.map((v) => v.venue);
    this.decimals = Math.max(...info.venues.map((v) => v.price_decimals));
    const ticks = info.venues.map((v) => Math.max(1, toUnits(v.tick_size, this.decimals)));
    this.grid = ticks.reduce(gcd); // heatmap rows: every venue's prices fall on them
    this.tick = Math.max(...ticks); // the coarsest tick: the default ladder bucket
    this.shown = significantDecimals(fromUnits(this.grid, this.decimals));
  }

  units(text) {
    return toUnits(text, this.decimals);
  }

  row(units) {
    return Math.floor(units / this.grid);
  }

  priceText(units, shown = this.shown) {
    return fromUnits(Math.round(units), this.decimals, Math.min(shown, this.decimals));
  }

  rowText(row) {
    return this.priceText(row * this.grid);
  }
}

/** One venue's book as pushed (its top levels), rows on the symbol's grid. */
export class VenueBook {
  constructor(scale, view) {
    this.venue = view.venue;
    this.state = view.state;
    this.crossed = view.crossed;
    this.timeMs = view.time ? timeMs(view.time) : 0;
    this.bidRows = new Int32Array(view.bids.length);
    this.bidSizes = new Float32Array(view.bids.length);
    this.askRows = new Int32Array(view.asks.length);
    this.askSizes = new Float32Array(view.asks.length);
    view.bids.forEach(([p, s], i) => {
      this.bidRows[i] = scale.row(scale.units(p));
      this.bidSizes[i] = Number(s);
    });
    view.asks.forEach(([p, s], i) => {
      this.askRows[i] = scale.row(scale.units(p));
      this.askSizes[i] = Number(s);
    });
    this.bestBid = view.bids.length ? scale.units(view.bids[0][0]) : null;
    this.bestAsk = view.asks.length ? scale.units(view.asks[0][0]) : null;
  }

  /** Only a synced, uncrossed book can be trusted (the server says which state it is in). */
  get synced() {
    return this.state === "synced" && !this.crossed;
  }
}

/**
 * The heatmap's columns: per STEP_MS of event time, each venue's book as it stood (the latest
 * push within the step; a step without a push repeats the previous book, by reference) and
 * whether the venue could be trusted then.
 */
export class Columns {
  constructor(venueCount, capacity = MAX_COLUMNS) {
    this.venueCount = venueCount;
    this.capacity = capacity;
    this.steps = new Float64Array(capacity).fill(-1);
    this.books = Array.from({ length: capacity }, () => new Array(venueCount).fill(null));
    this.trust = new Uint8Array(capacity * venueCount);
    this.last = null; // newest step held
    this.version = 0; // bumps on every change (views compare it)
    this.dirtyFrom = Infinity; // the oldest step changed since the heatmap last painted
  }

  /** The oldest step changed since the last call (Infinity: none), for incremental painting. */
  takeDirty() {
    const step = this.dirtyFrom;
    this.dirtyFrom = Infinity;
    return step;
  }

  at(step) {
    const i = step % this.capacity;
    return this.steps[i] === step ? i : -1;
  }

  /** Make columns up to `step`, carrying the newest books forward; trust(v) says each venue's
   * trust now. After a silence longer than the capacity only the newest columns are made. */
  advance(step, trust) {
    if (this.last !== null && step <= this.last) return;
    const j = this.last === null ? -1 : this.at(this.last);
    const carried = j < 0 ? null : [...this.books[j]]; // a copy: its slot may be reused below
    const from = Math.max(this.last === null ? step : this.last + 1, step - this.capacity + 1);
    for (let s = from; s <= step; s++) {
      const i = s % this.capacity;
      for (let v = 0; v < this.venueCount; v++) {
        this.books[i][v] = carried ? carried[v] : null;
        this.trust[i * this.venueCount + v] = trust(v) ? 1 : 0;
      }
      this.steps[i] = s;
    }
    this.dirtyFrom = Math.min(this.dirtyFrom, from);
    this.last = step;
    this.version++;
  }

  /** A venue's book pushed at `step` (older steps than the newest are set where still held). */
  put(step, venue, book, trusted) {
    const i = this.at(step);
    if (i < 0) return;
    const replaced = this.books[i][venue];
    this.books[i][venue] = book;
    this.trust[i * this.venueCount + venue] = trusted ? 1 : 0;
    // a late book also stands in the later columns that carried the one it replaces forward
    for (let s = step + 1; s <= this.last; s++) {
      const j = this.at(s);
      if (j < 0 || this.books[j][venue] !== replaced) break;
      this.books[j][venue] = book;
    }
    this.dirtyFrom = Math.min(this.dirtyFrom, step);
    this.version++;
  }

  /** The newest column's trust of a venue changed (a status message). */
  retrust(venue, trusted) {
    if (this.last === null) return;
    const i = this.at(this.last);
    if (i >= 0) this.trust[i * this.venueCount + venue] = trusted ? 1 : 0;
    this.dirtyFrom = Math.min(this.dirtyFrom, this.last);
    this.version++;
  }
}

/** Trades as parallel arrays in a ring, in arrival order. */
export class Trades {
  constructor(capacity = MAX_TRADES) {
    this.capacity = capacity;
    this.t = new Float64Array(capacity);
    this.units = new Float64Array(capacity);
    this.size = new Float32Array(capacity);
    this.side = new Int8Array(capacity); // +1 buy aggressor, -1 sell
    this.venue = new Uint8Array(capacity);
    this.count = 0; // ever added
  }

  add(t, units, size, side, venue) {
    const i = this.count % this.capacity;
    this.t[i] = t;
    this.units[i] = units;
    this.size[i] = size;
    this.side[i] = side;
    this.venue[i] = venue;
    this.count++;
  }

  /** Indexes from newest to oldest (at most the capacity). */
  *newestFirst() {
    const held = Math.min(this.count, this.capacity);
    for (let k = 1; k <= held; k++) yield (this.count - k) % this.capacity;
  }
}

/** A time series of (event time, value) in a ring: the CVD line. */
export class Series {
  constructor(capacity = MAX_POINTS) {
    this.capacity = capacity;
    this.t = new Float64Array(capacity);
    this.v = new Float64Array(capacity);
    this.count = 0;
  }

  add(t, v) {
    // a point at the same time replaces the previous one; an older one is ignored
    if (this.count) {
      const last = (this.count - 1) % this.capacity;
      if (t < this.t[last]) return;
      if (t === this.t[last]) {
        this.v[last] = v;
        return;
      }
    }
    const i = this.count % this.capacity;
    this.t[i] = t;
    this.v[i] = v;
    this.count++;
  }

  *points() {
    const held = Math.min(this.count, this.capacity);
    for (let k = held; k >= 1; k--) {
      const i = (this.count - k) % this.capacity;
      yield [this.t[i], this.v[i]];
    }
  }
}

const TRUSTED_FEED_STATES = new Set(["live"]);

function getOrMake(map, key, make) {
  let found = map.get(key);
  if (found === undefined) {
    found = make();
    map.set(key, found);
  }
  return found;
}

/** Everything about the symbol on screen. */
export class Market {
  constructor(scale) {
    this.scale = scale;
    this.venues = scale.venues;
    this.venueIndex = new Map(this.venues.map((v, i) => [v, i]));
    this.books = new Map(); // venue -> VenueBook (latest)
    this.feedStates = new Map(); // venue -> Map(connection -> state)
    this.columns = new Columns(this.venues.length);
    this.trades = new Trades();
    this.cvd = new Map(); // flow key ("" for every venue together) -> Series
    this.bars = new Map(); // flow key -> Map(start -> bar view)
    this.rows = new Map(); // flow key -> footprint row text
    this.nowMs = 0; // the latest event time seen
    this.lastTradeMs = new Map(); // flow key -> latest tick time
    this.connected = true;
    this.version = { books: 0, trades: 0, cvd: 0, bars: 0, status: 0 };
  }

  /** Whether a venue's data can be shown as good now. */
  trusted(venue) {
    if (!this.connected) return false;
    const book = this.books.get(venue);
    if (book && !book.synced) return false;
    const states = this.feedStates.get(venue);
    if (states) {
      for (const state of states.values()) if (!TRUSTED_FEED_STATES.has(state)) return false;
    }
    return true;
  }

  /** Why a venue is not trusted ("" when it is): shown beside its name. */
  distrust(venue) {
    if (!this.connected) return "disconnected";
    const states = this.feedStates.get(venue);
    if (states) {
      for (const state of states.values()) if (!TRUSTED_FEED_STATES.has(state)) return state;
    }
    const book = this.books.get(venue);
    if (book && book.crossed) return "crossed";
    if (book && !book.synced) return book.state.replaceAll("_", " ");
    return "";
  }

  _clock(t) {
    if (t > this.nowMs) this.nowMs = t;
    const step = Math.floor(this.nowMs / STEP_MS);
    if (this.columns.last === null || step > this.columns.last) {
      this.columns.advance(step, (v) => this.trusted(this.venues[v]));
    }
  }

  onBook(view) {
    const v = this.venueIndex.get(view.venue);
    if (v === undefined) return;
    const book = new VenueBook(this.scale, view);
    this.books.set(view.venue, book);
    if (book.timeMs) {
      this._clock(book.timeMs);
      this.columns.put(Math.floor(book.timeMs / STEP_MS), v, book, this.trusted(view.venue));
    }
    this.version.books++;
  }

  onTick(venue, view) {
    const v = this.venueIndex.get(venue);
    if (v === undefined) return;
    const t = timeMs(view.time);
    this._clock(t);
    const side = view.side === "buy" ? 1 : -1;
    this.trades.add(t, this.scale.units(view.price), Number(view.size), side, v);
    for (const key of ["", venue]) {
      const last = this.lastTradeMs.get(key) || 0;
      if (t > last) this.lastTradeMs.set(key, t);
    }
    this.version.trades++;
  }

  onDelta(key, data) {
    const t = this.lastTradeMs.get(key);
    if (!t) return;
    getOrMake(this.cvd, key, () => new Series()).add(t, Number(data.cvd));
    this.version.cvd++;
  }

  /** Delta bars from REST: points at the end of each finished bar; the current bar's CVD
   * comes with the pushes (`delta_update`), at the times of its trades. */
  loadDelta(key, data, timeframeMs) {
    const series = new Series();
    for (const bar of data.bars.slice(0, -1)) {
      series.add(timeMs(bar.start) + timeframeMs, Number(bar.cvd));
    }
    const old = this.cvd.get(key);
    if (old) for (const [t, v] of old.points()) series.add(t, v);
    this.cvd.set(key, series);
    this.version.cvd++;
  }

  onFootprint(key, data) {
    this.rows.set(key, data.row);
    getOrMake(this.bars, key, () => new Map()).set(data.bar.start, data.bar);
    this._trimBars(key);
    this.version.bars++;
  }

  loadFootprint(key, data) {
    this.rows.set(key, data.row);
    const map = new Map();
    for (const bar of data.bars) map.set(bar.start, bar);
    this.bars.set(key, map);
    this._trimBars(key);
    this.version.bars++;
  }

  _trimBars(key) {
    const map = this.bars.get(key);
    if (map.size <= MAX_BARS) return;
    const starts = [...map.keys()].sort();
    for (const start of starts.slice(0, map.size - MAX_BARS)) map.delete(start);
  }

  /** Bars of a flow key, oldest first. */
  barList(key) {
    const map = this.bars.get(key);
    if (!map) return [];
    return [...map.values()].sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
  }

  /** A feed's or a book's status (pushed, or from GET /venues); true when trust changed. */
  onStatus(data) {
    const venue = data.venue;
    const before = this.venueIndex.has(venue) ? this.trusted(venue) : null;
    if (data.kind === "feed") {
      getOrMake(this.feedStates, venue, () => new Map()).set(data.connection, data.state);
    } else if (data.kind === "book" && data.symbol === this.scale.symbol) {
      const book = this.books.get(venue);
      if (book) book.state = data.state;
    }
    this.version.status++;
    return this._retrust(venue, before);
  }

  setConnected(connected) {
    if (this.connected === connected) return;
    const before = this.venues.map((v) => this.trusted(v));
    this.connected = connected;
    this.venues.forEach((v, i) => this._retrust(v, before[i]));
    this.version.status++;
  }

  _retrust(venue, before) {
    const v = this.venueIndex.get(venue);
    if (v === undefined) return false;
    const now = this.trusted(venue);
    if (now === before) return false;
    this.columns.retrust(v, now);
    return true;
  }
}
