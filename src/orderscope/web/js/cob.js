// The consolidated book (COB) the ladder draws: per price bucket, each venue's resting size.
//
// Built here from the venues' own books as the server pushes them (`book` messages, every venue
// of the symbol). The server's COB analytics (orderscope.cob) compute the same thing with
// weights, groups and stablecoin rates; when their route / channel is served, a function that
// maps its levels to this `Ladder` shape replaces `fromVenueBooks` in app.js, and the ladder
// view does not change.

/**
 * @typedef {object} Ladder
 * @property {number} bucket  price units a row
 * @property {Map<number, {bid: Float64Array, ask: Float64Array}>} levels  bucket price -> size
 *   per venue (index of `venues`)
 * @property {number|null} bestBid  the highest bid bucket among trusted venues (else any)
 * @property {number|null} bestAsk  the lowest ask bucket among trusted venues (else any)
 * @property {boolean[]} trusted  per venue
 */

/** Bids fall to their bucket's floor, asks rise to its ceiling: the spread never closes up. */
export function bidBucket(units, bucket) {
  return Math.floor(units / bucket) * bucket;
}

export function askBucket(units, bucket) {
  return Math.ceil(units / bucket) * bucket;
}

/**
 * @param {import("./market.js").Market} market
 * @param {number} bucket  price units a row (a multiple of the symbol's grid)
 * @param {Set<string>|null} only  venues to include (null: every venue)
 * @returns {Ladder}
 */
export function fromVenueBooks(market, bucket, only = null) {
  const count = market.venues.length;
  const levels = new Map();
  const trusted = market.venues.map((v) => market.trusted(v));
  const best = { bid: [null, null], ask: [null, null] }; // [trusted only, any]
  const level = (price) => {
    let found = levels.get(price);
    if (!found) {
      found = { bid: new Float64Array(count), ask: new Float64Array(count) };
      levels.set(price, found);
    }
    return found;
  };
  const grid = market.scale.grid;
  market.venues.forEach((venue, v) => {
    if (only && !only.has(venue)) return;
    const book = market.books.get(venue);
    if (!book) return;
    for (let i = 0; i < book.bidRows.length; i++) {
      const price = bidBucket(book.bidRows[i] * grid, bucket);
      level(price).bid[v] += book.bidSizes[i];
      if (i === 0) {
        if (trusted[v] && (best.bid[0] === null || price > best.bid[0])) best.bid[0] = price;
        if (best.bid[1] === null || price > best.bid[1]) best.bid[1] = price;
      }
    }
    for (let i = 0; i < book.askRows.length; i++) {
      const price = askBucket(book.askRows[i] * grid, bucket);
      level(price).ask[v] += book.askSizes[i];
      if (i === 0) {
        if (trusted[v] && (best.ask[0] === null || price < best.ask[0])) best.ask[0] = price;
        if (best.ask[1] === null || price < best.ask[1]) best.ask[1] = price;
      }
    }
  });
  return {
    bucket,
    levels,
    bestBid: best.bid[0] ?? best.bid[1],
    bestAsk: best.ask[0] ?? best.ask[1],
    trusted,
  };
}
