// The dashboard: wires the server's REST and WebSocket API to the market state and the views.
//
// Messages only update state and mark views dirty; one requestAnimationFrame loop draws the
// dirty views, at most once per display frame, whatever the message rate. The page's address
// keeps the choices (#symbol=BTC-USDT&venue=binance&token=...), so a view can be shared.

import { Api, Feed, symbolPath } from "./api.js";
import { fromVenueBooks } from "./cob.js";
import { rfc3339, timeMs } from "./decimal.js";
import { Market, SymbolScale } from "./market.js";
import { Viewport } from "./viewport.js";
import { CvdView } from "./views/cvd.js";
import { SignalFeed } from "./views/feed.js";
import { FootprintView } from "./views/footprint.js";
import { HeatmapView } from "./views/heatmap.js";
import { LadderView } from "./views/ladder.js";
import { ProfileView } from "./views/profile.js";
import { venueColor } from "./views/common.js";
import { StatusView } from "./views/status.js";

const EXTRA_TIMEFRAMES = ["15s", "30s", "5m", "15m"]; // computed on request, polled
const LADDER_BUCKETS = [1, 2, 5, 10, 25, 50, 100]; // times the coarsest tick
const POLL_PROFILE_MS = 2000;
const POLL_VENUES_MS = 3000;
const POLL_FOOTPRINT_MS = 1000;

function parseHash() {
  const params = new URLSearchParams(location.hash.slice(1));
  return { token: params.get("token"), symbol: params.get("symbol"), venue: params.get("venue") };
}

function timeframeMs(text) {
  const n = Number(text.slice(0, -1));
  return n * { s: 1e3, m: 60e3, h: 3600e3, d: 86400e3 }[text.slice(-1)];
}

export class App {
  constructor(doc) {
    this.doc = doc;
    const hash = parseHash();
    this.wantedSymbol = hash.symbol;
    this.venue = hash.venue || null; // null: every venue
    this.api = new Api(location.origin, hash.token);
    this.token = hash.token;
    this.viewport = new Viewport();
    this.symbols = null;
    this.market = null;
    this.timeframe = null;
    this.pushTimeframe = null;
    this.bucketFactor = 1;
    this.profileType = "VPSV";
    this.profile = null;
    this.venuesInfo = null;
    this.subscriptions = [];
    this.dirty = new Set();
    this.work = new Float64Array(240); // ms of drawing per frame, a ring
    this.frames = 0;
    this.slowFrames = 0; // drawing took longer than a 60 Hz frame (16.7 ms)
    this.messages = 0;
    this.ready = false;
    const $ = (sel) => doc.querySelector(sel);
    this.el = {
      symbol: $("#symbol"),
      venue: $("#venue"),
      follow: $("#follow"),
      connection: $("#connection"),
      perf: $("#perf"),
      notice: $("#notice"),
      timeframe: $("#timeframe"),
      bucket: $("#bucket"),
      profileType: $("#profile-type"),
      legend: $("#legend"),
      metrics: $("#metrics"),
    };
    const redraw = () => this.mark("heatmap", "profile", "cvd");
    this.heatmap = new HeatmapView($("#heatmap"), this.viewport, { onChange: redraw });
    this.profileView = new ProfileView($("#profile"), this.viewport);
    this.cvd = new CvdView($("#cvd"), this.viewport);
    this.ladder = new LadderView($("#ladder"));
    this.footprint = new FootprintView($("#footprint"), { onChange: () => this.mark("footprint") });
    this.signals = new SignalFeed($("#signals"));
    this.status = new StatusView($("#status"));
    this.feed = new Feed(this.api.wsUrl(), {
      onMessages: (batch) => this.onMessages(batch),
      onState: (state) => this.onConnection(state),
    });
    this._bindControls();
  }

  // -- start and choices ----------------------------------------------------------------------

  async start() {
    for (let attempt = 0; !this.symbols; attempt++) {
      try {
        this.symbols = await this.api.get("/api/v1/symbols");
      } catch (error) {
        this.notice(`cannot load the symbols: ${error.message}`);
        await new Promise((r) => setTimeout(r, Math.min(5000, 500 * 2 ** attempt)));
      }
    }
    this.notice("");
    this.pushTimeframe = this.symbols.push_timeframe;
    this.timeframe = this.pushTimeframe;
    const timeframes = [this.pushTimeframe, ...EXTRA_TIMEFRAMES.filter((t) => t !== this.pushTimeframe)];
    this.el.timeframe.replaceChildren(
      ...timeframes.map((tf) => new Option(tf === this.pushTimeframe ? `${tf} live` : tf, tf)),
    );
    this.el.symbol.replaceChildren(...this.symbols.symbols.map((s) => new Option(s.symbol, s.symbol)));
    const wanted = this.symbols.symbols.find(
      (s) => s.symbol === this.wantedSymbol || s.path === this.wantedSymbol,
    );
    this.feed.open();
    await this.setSymbol((wanted || this.symbols.symbols[0]).symbol);
    setInterval(() => this.pollProfile(), POLL_PROFILE_MS);
    setInterval(() => this.pollVenues(), POLL_VENUES_MS);
    setInterval(() => {
      if (this.timeframe !== this.pushTimeframe) this.loadFootprint();
    }, POLL_FOOTPRINT_MS);
    new ResizeObserver(() => this.mark("all")).observe(this.doc.querySelector("main"));
    const loop = () => {
      this.frame();
      requestAnimationFrame(loop);
    };
    requestAnimationFrame(loop);
    this.ready = true;
  }

  _bindControls() {
    this.el.symbol.addEventListener("change", () => this.setSymbol(this.el.symbol.value));
    this.el.venue.addEventListener("change", () => this.setVenue(this.el.venue.value || null));
    this.el.follow.addEventListener("click", () => {
      this.viewport.resume();
      this.mark("heatmap", "profile", "cvd");
    });
    this.el.timeframe.addEventListener("change", () => {
      this.timeframe = this.el.timeframe.value;
      this.market.bars.delete(this.flowKey);
      this.loadFootprint();
      this.mark("footprint");
    });
    this.el.bucket.addEventListener("change", () => {
      this.bucketFactor = Number(this.el.bucket.value);
      this.mark("ladder");
    });
    this.el.profileType.addEventListener("change", () => {
      this.profileType = this.el.profileType.value;
      this.pollProfile();
    });
  }

  get flowKey() {
    return this.venue || "";
  }

  get mask() {
    return this.market.venues.map((v) => this.venue === null || v === this.venue);
  }

  async setSymbol(symbol) {
    const info = this.symbols.symbols.find((s) => s.symbol === symbol);
    for (const sub of this.subscriptions) this.feed.unsubscribe(sub);
    const scale = new SymbolScale(info);
    this.market = new Market(scale);
    this.market.setConnected(this.feed.socket !== null && this.feed.socket.readyState === 1);
    this.profile = null;
    this.signals.clear();
    this.viewport.resume();
    this.autoZoom = true; // fit the price scale to the first books
    this.el.symbol.value = symbol;
    if (this.venue && !scale.venues.includes(this.venue)) this.venue = null;
    this.el.venue.replaceChildren(new Option("all venues", ""), ...scale.venues.map((v) => new Option(v, v)));
    this.el.venue.value = this.venue || "";
    this.el.bucket.replaceChildren(
      ...LADDER_BUCKETS.map((f) => new Option(scale.priceText(f * scale.tick), String(f))),
    );
    this.bucketFactor = 1;
    this.subscriptions = [
      { channel: "book", symbol, venue: null },
      { channel: "orderflow", symbol, venue: null },
      { channel: "status", symbol: "", venue: null },
      { channel: "signals", symbol, venue: null },
    ];
    if (this.venue) this.subscriptions.push({ channel: "orderflow", symbol, venue: this.venue });
    for (const sub of this.subscriptions) this.feed.subscribe(sub);
    this._writeHash();
    this._legend();
    this.mark("all");
    await Promise.all([this.loadFlow(), this.pollVenues(), this.pollProfile()]);
  }

  setVenue(venue) {
    const symbol = this.market.scale.symbol;
    if (this.venue) this.feed.unsubscribe({ channel: "orderflow", symbol, venue: this.venue });
    this.venue = venue;
    if (venue) {
      const sub = { channel: "orderflow", symbol, venue };
      this.subscriptions.push(sub);
      this.feed.subscribe(sub);
    }
    this._writeHash();
    this.loadFlow();
    this.pollProfile();
    this.mark("all");
  }

  _writeHash() {
    const params = new URLSearchParams();
    params.set("symbol", symbolPath(this.market.scale.symbol));
    if (this.venue) params.set("venue", this.venue);
    if (this.token) params.set("token", this.token);
    history.replaceState(null, "", `#${params}`);
  }

  _legend() {
    const market = this.market;
    const chips = market.venues.map((venue, i) => {
      const span = this.doc.createElement("span");
      const why = market.distrust(venue);
      span.className = `venue ${why ? "untrusted" : ""}`;
      const chip = this.doc.createElement("i");
      chip.className = "chip";
      chip.style.background = venueColor(i);
      span.append(chip, why ? `${venue} (${why})` : venue);
      return span;
    });
    this.el.legend.replaceChildren(...chips);
  }

  // -- REST -----------------------------------------------------------------------------------

  async loadFlow() {
    await Promise.all([this.loadFootprint(), this.loadDelta()]);
  }

  async _get(path, params, market = this.market) {
    try {
      const data = await this.api.get(path, params);
      return market === this.market ? data : null; // the symbol changed meanwhile
    } catch (error) {
      this.notice(`${path.split("/").slice(3, 5).join(" ")}: ${error.message}`);
      return null;
    }
  }

  async loadFootprint() {
    const market = this.market;
    const key = this.flowKey;
    const tf = this.timeframe;
    const params = { venue: this.venue, timeframe: tf, limit: 60 };
    if (tf !== this.pushTimeframe && market.nowMs) {
      params.start_time = rfc3339(market.nowMs - 40 * timeframeMs(tf));
    }
    const data = await this._get(`/api/v1/orderflow/footprint/${symbolPath(market.scale.symbol)}`, params, market);
    if (data && key === this.flowKey && tf === this.timeframe) {
      market.loadFootprint(key, data);
      this.mark("footprint");
    }
  }

  async loadDelta() {
    const market = this.market;
    const key = this.flowKey;
    const data = await this._get(
      `/api/v1/orderflow/delta/${symbolPath(market.scale.symbol)}`,
      { venue: this.venue, limit: 200 },
      market,
    );
    if (data) {
      market.loadDelta(key, data, timeframeMs(data.timeframe));
      this.mark("cvd");
    }
  }

  async pollProfile() {
    if (this.doc.hidden || !this.market) return;
    const market = this.market;
    const path = symbolPath(market.scale.symbol);
    const params = { venue: this.venue, type: this.profileType };
    if (this.profileType === "VPVR") {
      if (!market.nowMs) return;
      params.start_time = rfc3339(Math.max(0, this.viewport.leftMs));
      params.end_time = rfc3339(Math.min(this.viewport.rightMs, market.nowMs + 1));
    }
    const [profile, metrics] = await Promise.all([
      this._get(`/api/v1/orderflow/volume-profile/${path}`, params, market),
      this._get(`/api/v1/orderflow/metrics/${path}`, { venue: this.venue }, market),
    ]);
    if (profile) {
      this.profile = profile.profiles.length ? profile.profiles[profile.profiles.length - 1] : null;
      this.mark("profile", "heatmap");
    }
    if (metrics) this._metrics(metrics);
  }

  async pollVenues() {
    if (!this.market) return;
    const market = this.market;
    const data = await this._get("/api/v1/venues", {}, market);
    if (!data) return;
    this.venuesInfo = data;
    for (const venue of data.venues) {
      for (const conn of venue.connections) market.onStatus(conn);
      for (const book of venue.books) {
        market.onStatus({ kind: "book", venue: venue.venue, symbol: book.symbol, state: book.state });
      }
    }
    this._legend();
    this.mark("status", "ladder", "heatmap");
  }

  _metrics(m) {
    const rows = [
      ["last", m.last_price ? this.market.scale.priceText(this.market.scale.units(m.last_price)) : "-"],
      ["VWAP", m.vwap ? m.vwap.vwap.toFixed(this.market.scale.shown) : "-"],
      ["buy %", m.buy_pct === null ? "-" : m.buy_pct.toFixed(1)],
      ["trades", String(m.trades)],
      ["1 min", `${m.window.trades} t`],
    ];
    this.el.metrics.replaceChildren(
      ...rows.map(([k, v]) => {
        const div = this.doc.createElement("div");
        const b = this.doc.createElement("b");
        b.textContent = k;
        div.append(b, v);
        return div;
      }),
    );
  }

  // -- WebSocket ------------------------------------------------------------------------------

  onConnection(state) {
    this.el.connection.textContent = state === "open" ? "live" : state;
    this.el.connection.className = `pill ${state === "open" ? "good" : "bad"}`;
    if (!this.market) return;
    this.market.setConnected(state === "open");
    if (state === "open" && this.ready) {
      // what happened while we were away: history again
      this.loadFlow();
      this.pollVenues();
    }
    this._legend();
    this.mark("all");
  }

  onMessages(batch) {
    const market = this.market;
    if (!market) return;
    const symbol = market.scale.symbol;
    this.messages += batch.length;
    for (const m of batch) {
      if (m.symbol && m.symbol !== symbol) continue; // the previous symbol's, still in flight
      switch (m.type) {
        case "book":
          market.onBook(m.data);
          this.mark("heatmap", "ladder", "status");
          break;
        case "tick":
          market.onTick(m.venue, m.data);
          this.mark("heatmap");
          break;
        case "footprint_update":
          if (this.timeframe === this.pushTimeframe && (m.venue || "") === this.flowKey) {
            const bars = market.bars.get(this.flowKey);
            const isNew = bars && !bars.has(m.data.bar.start);
            market.onFootprint(this.flowKey, m.data);
            // the previous bar's last update may have been coalesced away: fetch it whole
            if (isNew) this.loadFootprint();
            this.mark("footprint");
          }
          break;
        case "delta_update":
          market.onDelta(m.venue || "", m.data);
          this.mark("cvd");
          break;
        case "imbalance_detected":
          if ((m.venue || "") === this.flowKey) this._imbalances(m.data);
          break;
        case "signal":
          if (this.venue === null || m.venue === this.venue) this._signal(m.venue, m.data);
          break;
        case "status":
          this._status(m.data);
          break;
        case "error":
          if (m.data.code !== "unknown_channel") this.notice(`server: ${m.data.message}`);
          break;
        default:
          break; // acks, pongs
      }
    }
  }

  _imbalances(data) {
    const market = this.market;
    const t = market.lastTradeMs.get(this.flowKey) || market.nowMs;
    const scale = market.scale;
    for (const side of ["buy", "sell"]) {
      const found = data.imbalances.filter((i) => i.side === side);
      if (!found.length) continue;
      const text = found
        .slice(0, 4)
        .map((i) => `${scale.priceText(scale.units(i.price))} (${Number(i.volume).toFixed(3)} vs ${Number(i.against).toFixed(3)})`)
        .join(", ");
      this.signals.push({ timeMs: t, kind: "imbalance", side, text: `${side} ${text}${found.length > 4 ? ", ..." : ""}` });
    }
    for (const run of data.stacked_imbalances) {
      const key = `${data.bar_start}|${run.side}|${run.low}`;
      this.seenRuns = this.seenRuns || new Set();
      if (this.seenRuns.has(key)) continue;
      this.seenRuns.add(key);
      if (this.seenRuns.size > 500) this.seenRuns = new Set([key]);
      const text = `${run.side} ${run.rows} rows ${scale.priceText(scale.units(run.low))} - ${scale.priceText(scale.units(run.high))}`;
      this.signals.push({ timeMs: t, kind: "stacked", side: run.side, text });
    }
    this.mark("signals");
  }

  _signal(venue, data) {
    const side = data.side === 1 || data.side === "buy" ? "buy" : data.side === -1 || data.side === "sell" ? "sell" : null;
    const t = data.time ? timeMs(data.time) : this.market.nowMs;
    const confidence = typeof data.confidence === "number" ? ` (${Math.round(data.confidence * 100)}%)` : "";
    const text = `${venue || ""} ${data.description || ""}${confidence}`.trim();
    this.signals.push({ timeMs: t, kind: data.kind || "signal", side, text });
    this.mark("signals");
  }

  _status(data) {
    const market = this.market;
    if (data.kind === "book" && data.symbol !== market.scale.symbol) return;
    const before = market.distrust(data.venue);
    market.onStatus(data);
    const after = market.distrust(data.venue);
    if (before !== after || data.kind === "book") {
      const what = data.kind === "feed" ? `connection ${data.connection}` : `${data.symbol} book`;
      const text = `${data.venue} ${what}: ${data.state}${data.reason ? ` (${data.reason})` : ""}`;
      this.signals.push({ timeMs: timeMs(data.time), kind: "status", side: after ? "bad" : "good", text });
    }
    this._legend();
    this.mark("status", "ladder", "heatmap", "signals");
  }

  notice(text) {
    this.el.notice.textContent = text;
    this.el.notice.hidden = !text;
  }

  // -- drawing --------------------------------------------------------------------------------

  mark(...views) {
    for (const v of views) this.dirty.add(v);
  }

  frame() {
    if (!this.dirty.size || !this.market) return;
    const started = performance.now(); // the browser's clock: frame statistics only
    const dirty = this.dirty;
    this.dirty = new Set();
    const all = dirty.has("all");
    const market = this.market;
    const mask = this.mask;
    if (all) {
      this.heatmap.resize();
      this.profileView.resize();
      this.cvd.resize();
      this.ladder.resize();
      this.footprint.resize();
    }
    const ladder = fromVenueBooks(market, this.bucketFactor * market.scale.tick, null);
    if (all || dirty.has("heatmap")) {
      if (this.autoZoom && market.books.size) this._fitPrices(market);
      this.viewport.follow(market.nowMs, HeatmapView.midRow(market, mask));
      this.heatmap.draw(market, mask, this.profile);
      dirty.add("profile");
      dirty.add("cvd");
    }
    if (all || dirty.has("profile")) {
      this.profileView.draw(market, this.profile, this.profileType === "VPSV" ? "session" : "visible range");
    }
    if (all || dirty.has("cvd")) {
      const caption = `CVD ${this.venue || "all venues"}`;
      this.cvd.draw(market.cvd.get(this.flowKey), caption);
    }
    if (all || dirty.has("ladder")) this.ladder.draw(market, ladder, mask);
    if (all || dirty.has("footprint")) {
      const caption = `${this.timeframe} bars, rows of ${market.rows.get(this.flowKey) ? market.scale.priceText(market.scale.units(market.rows.get(this.flowKey))) : "-"}, ${this.venue || "all venues"}`;
      this.footprint.draw(market, market.barList(this.flowKey), market.rows.get(this.flowKey), caption);
    }
    if (all || dirty.has("signals")) this.signals.flush();
    if (all || dirty.has("status")) this._throttledStatus();
    const spent = performance.now() - started;
    this.work[this.frames % this.work.length] = spent;
    this.frames++;
    if (spent > 16.7) this.slowFrames++;
    if (this.frames % 20 === 0) this._perf();
  }

  /** The first price scale of a symbol: 5 bp of its price from top to bottom (at least 60
   * rows), around the mid; the wheel zooms from there. */
  _fitPrices(market) {
    const mid = HeatmapView.midRow(market, market.venues.map(() => true));
    if (mid === null) return;
    const rows = Math.max(60, (mid * 5) / 10000);
    this.viewport.pxPerRow = Math.min(24, Math.max(0.02, this.viewport.height / rows));
    this.viewport.centerRow = mid;
    this.viewport.version++;
    this.autoZoom = false;
  }

  _throttledStatus() {
    const now = performance.now();
    if (this.statusAt && now - this.statusAt < 500) {
      this.mark("status"); // again next frame, until half a second has passed
      return;
    }
    this.statusAt = now;
    this.status.draw(this.market, this.venuesInfo);
  }

  _perf() {
    const now = performance.now();
    if (this.perfAt) {
      const seconds = (now - this.perfAt) / 1000;
      const stats = this.frameStats();
      this.el.perf.textContent = `${(20 / seconds).toFixed(0)} draws/s · ${((this.messages - this.perfMessages) / seconds).toFixed(0)} msg/s · ${stats.p50.toFixed(1)} ms p50 · ${stats.max.toFixed(1)} ms max`;
    }
    this.perfAt = now;
    this.perfMessages = this.messages;
  }

  /** Drawing time per frame over the last frames (ms). */
  frameStats() {
    const n = Math.min(this.frames, this.work.length);
    const sorted = Array.from(this.work.slice(0, n)).sort((a, b) => a - b);
    const at = (q) => (n ? sorted[Math.min(n - 1, Math.floor(q * n))] : 0);
    return {
      frames: this.frames,
      slow: this.slowFrames,
      p50: at(0.5),
      p99: at(0.99),
      max: n ? sorted[n - 1] : 0,
    };
  }

  /** What the page shows, in numbers (the browser tests read it). */
  snapshot() {
    const market = this.market;
    return {
      ready: this.ready,
      symbol: market ? market.scale.symbol : null,
      venue: this.venue,
      connected: market ? market.connected : false,
      nowMs: market ? market.nowMs : 0,
      trades: market ? market.trades.count : 0,
      columns: market ? market.columns.last : null,
      ladder: this.ladder.summary,
      footprint: this.footprint.summary,
      cvdPoints: market && market.cvd.get(this.flowKey) ? market.cvd.get(this.flowKey).count : 0,
      heatmap: { ...this.heatmap.stats, bubbles: this.heatmap.bubbleCount || 0 },
      trusted: market ? Object.fromEntries(market.venues.map((v) => [v, market.trusted(v)])) : {},
      signals: this.signals.count,
      frame: this.frameStats(),
      messages: this.messages,
    };
  }
}
