// The server's REST API (/api/v1) and its WebSocket (/ws/orderflow), as the dashboard uses them.
//
// A token given in the page's address (#token=...: `orderscope serve --token` prints such a URL)
// goes with every request: `Authorization: Bearer` on REST, `?token=` on the WebSocket (browsers
// cannot set headers on one).

export class ApiError extends Error {
  constructor(status, code, message) {
    super(`${status} ${code}: ${message}`);
    this.status = status;
    this.code = code;
  }
}

/** A unified symbol in a URL path: BTC/USDT -> BTC-USDT, BTC/USDT:USDT -> BTC-USDT-USDT. */
export function symbolPath(symbol) {
  return symbol.replace("/", "-").replace(":", "-");
}

export class Api {
  constructor(base, token) {
    this.base = base.replace(/\/$/, "");
    this.token = token || null;
  }

  async get(path, params = {}) {
    const query = new URLSearchParams();
    for (const [key, value] of Object.entries(params)) {
      if (value !== null && value !== undefined) query.set(key, String(value));
    }
    const url = `${this.base}${path}${query.size ? `?${query}` : ""}`;
    const headers = this.token ? { Authorization: `Bearer ${this.token}` } : {};
    const response = await fetch(url, { headers, cache: "no-store" });
    let body = null;
    try {
      body = await response.json();
    } catch (_) {
      throw new ApiError(response.status, "bad_response", "the answer is not JSON");
    }
    if (!response.ok || !body.success) {
      const error = body && body.error ? body.error : { code: "http_error", message: "" };
      throw new ApiError(response.status, error.code, error.message);
    }
    return body.data;
  }

  wsUrl() {
    const url = new URL(`${this.base}/ws/orderflow`);
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    if (this.token) url.searchParams.set("token", this.token);
    return url.toString();
  }
}

/**
 * The WebSocket, kept open: it reconnects with growing delays (0.5 s doubling to 10 s) and
 * subscribes again to what is wanted. `onMessages(batch)` gets each frame's array of messages;
 * `onState(state)` gets "connecting" | "open" | "closed".
 */
export class Feed {
  constructor(url, { onMessages, onState }) {
    this.url = url;
    this.onMessages = onMessages;
    this.onState = onState;
    this.wanted = new Map(); // key -> {channel, symbol, venue}
    this.unknownChannels = new Set(); // channels this server does not have (no retry)
    this.socket = null;
    this.delay = 500;
    this.closedByUs = false;
    this.frames = 0;
    this.messages = 0;
  }

  static key(sub) {
    return `${sub.channel}|${sub.symbol}|${sub.venue ?? ""}`;
  }

  open() {
    this.closedByUs = false;
    this.onState("connecting");
    const socket = new WebSocket(this.url);
    this.socket = socket;
    socket.onopen = () => {
      this.delay = 500;
      this.onState("open");
      for (const sub of this.wanted.values()) this._send("subscribe", sub);
    };
    socket.onmessage = (event) => {
      let batch;
      try {
        batch = JSON.parse(event.data);
      } catch (_) {
        return; // not ours to interpret; the server only sends JSON arrays
      }
      this.frames += 1;
      this.messages += batch.length;
      for (const message of batch) {
        if (message.type === "error" && message.data.code === "unknown_channel") {
          // e.g. "signals" before the signal analytics are on this server
          for (const [key, sub] of this.wanted) {
            if (message.data.message.includes(`'${sub.channel}'`)) {
              this.unknownChannels.add(sub.channel);
              this.wanted.delete(key);
            }
          }
        }
      }
      this.onMessages(batch);
    };
    socket.onclose = () => {
      this.socket = null;
      this.onState("closed");
      if (!this.closedByUs) {
        setTimeout(() => this.open(), this.delay);
        this.delay = Math.min(this.delay * 2, 10000);
      }
    };
  }

  close() {
    this.closedByUs = true;
    if (this.socket) this.socket.close();
  }

  subscribe(sub) {
    if (this.unknownChannels.has(sub.channel)) return;
    const key = Feed.key(sub);
    if (this.wanted.has(key)) return;
    this.wanted.set(key, sub);
    this._send("subscribe", sub);
  }

  unsubscribe(sub) {
    const key = Feed.key(sub);
    if (!this.wanted.delete(key)) return;
    this._send("unsubscribe", sub);
  }

  _send(type, data) {
    if (this.socket && this.socket.readyState === WebSocket.OPEN) {
      this.socket.send(JSON.stringify({ type, data }));
    }
  }
}
