// Exact decimal strings <-> integer units, and RFC 3339 times -> milliseconds.
//
// The API sends prices and sizes as decimal strings at the instrument's precision. Prices are
// turned into integers of 10**-decimals (exact below 2**53 units: prices up to 90 million at 8
// decimals), so price rows and buckets never suffer float rounding. Sizes only scale bars,
// cells and bubbles, and are shown rounded: floats are enough for them.

const POW10 = Array.from({ length: 19 }, (_, i) => 10 ** i);

/** "60004.30000000" at 2 decimals -> 6000430 (digits beyond `decimals` must be zeros). */
export function toUnits(text, decimals) {
  let negative = false;
  let s = text;
  if (s.charCodeAt(0) === 45 /* - */) {
    negative = true;
    s = s.slice(1);
  }
  const dot = s.indexOf(".");
  let whole = s;
  let frac = "";
  if (dot >= 0) {
    whole = s.slice(0, dot);
    frac = s.slice(dot + 1);
  }
  if (frac.length > decimals) {
    const extra = frac.slice(decimals);
    if (!/^0*$/.test(extra)) throw new RangeError(`${text} has more than ${decimals} decimals`);
    frac = frac.slice(0, decimals);
  }
  const units = Number(whole || "0") * POW10[decimals] + Number(frac.padEnd(decimals, "0") || "0");
  if (!Number.isSafeInteger(units)) throw new RangeError(`${text} is beyond exact integers`);
  return negative ? -units : units;
}

/** 6000430 units at 2 decimals -> "60004.30"; `shown` decimals (<= decimals) trims digits. */
export function fromUnits(units, decimals, shown = decimals) {
  const negative = units < 0;
  const abs = Math.abs(units);
  const scale = POW10[decimals];
  const whole = Math.floor(abs / scale);
  let text = String(whole);
  if (shown > 0) {
    const frac = String(abs - whole * scale).padStart(decimals, "0").slice(0, shown);
    text += `.${frac}`;
  }
  return negative ? `-${text}` : text;
}

/** Decimals written in a decimal string once trailing zeros are dropped ("0.10000" -> 1). */
export function significantDecimals(text) {
  const dot = text.indexOf(".");
  if (dot < 0) return 0;
  return text.slice(dot + 1).replace(/0+$/, "").length;
}

/** Greatest common divisor of positive integers (safe integers). */
export function gcd(a, b) {
  while (b) [a, b] = [b, a % b];
  return a;
}

/**
 * "2026-11-21T16:21:06.865281350Z" -> milliseconds since the epoch, the sub-millisecond digits
 * kept as a fraction (a float holds them to a microsecond or so: plenty for drawing). Event
 * times only: nothing here reads a clock.
 */
export function timeMs(text) {
  const dot = text.indexOf(".");
  if (dot < 0) return Date.parse(text);
  let end = dot + 1;
  while (end < text.length && text.charCodeAt(end) >= 48 && text.charCodeAt(end) <= 57) end++;
  const digits = text.slice(dot + 1, end);
  const base = Date.parse(text.slice(0, dot) + text.slice(end));
  return base + Number(`0.${digits}`) * 1000;
}

/** Milliseconds since the epoch -> "2026-11-21T16:21:06.865Z" (for API parameters). */
export function rfc3339(ms) {
  return new Date(Math.floor(ms)).toISOString();
}

/** UTC clock time of an event, "16:21:06" (or with tenths when `tenths`). */
export function clockText(ms, tenths = false) {
  const d = new Date(ms);
  const two = (n) => String(n).padStart(2, "0");
  const text = `${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())}`;
  return tenths ? `${text}.${Math.floor(d.getUTCMilliseconds() / 100)}` : text;
}

/** A size for a narrow cell: 0.1234, 12.34, 123.4, 1.23k, 12.3M. */
export function compact(value) {
  const abs = Math.abs(value);
  if (abs === 0) return "0";
  if (abs >= 1e6) return `${(value / 1e6).toFixed(abs >= 1e7 ? 1 : 2)}M`;
  if (abs >= 1e4) return `${(value / 1e3).toFixed(abs >= 1e5 ? 0 : 1)}k`;
  if (abs >= 1000) return value.toFixed(0);
  if (abs >= 100) return value.toFixed(1);
  if (abs >= 10) return value.toFixed(2);
  if (abs >= 1) return value.toFixed(3);
  return value.toFixed(4);
}
