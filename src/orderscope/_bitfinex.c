/* orderscope._bitfinex: Bitfinex's hot channel frames scanned in C (issues 2/3, replay cost).
 *
 * scan(frame) -> tuple | None
 *
 * Recognises exactly three frame shapes, written without any whitespace (",SEQ" is there when
 * SEQ_ALL is on):
 *
 *   a book update    [CHAN_ID,[PRICE,COUNT,AMOUNT],SEQ]
 *       -> (chan_id, seq or None, price, side, bids, asks)
 *   a book snapshot  [CHAN_ID,[[PRICE,COUNT,AMOUNT],...],SEQ]
 *       -> (chan_id, seq or None, 0, 2, bids, asks)
 *   a heartbeat      [CHAN_ID,"hb",SEQ]
 *       -> (chan_id, seq or None, 0, 0, None, None)
 *
 * book_update(frame, routes) -> (route, seq, bids, asks) | None
 *
 * The hot frame alone: a book update [CHAN_ID,[PRICE,COUNT,AMOUNT],SEQ] whose CHAN_ID is a key of
 * the dict routes (route = routes[CHAN_ID]); seq, bids and asks as scan() reads them.
 *
 * scan_trades(frame) -> (seq or None, rows) | None
 *
 * A trade snapshot [CHAN_ID,[[ID,MTS,AMOUNT,PRICE],...],SEQ] in the same plain shape: rows of
 * (id, mts, price, size, buy), in the frame's order, as _trade reads them (buy: AMOUNT > 0).
 *
 * trade_ids(frame) -> (seq or None, newest id or None) | None
 *
 * The same snapshot, every row checked alike, but only its greatest id kept (None: no row): what
 * the history snapshot of a first subscription is read for.
 *
 * Prices and sizes are ints at 8 decimals, bids / asks the lists of (price, size) that
 * orderscope.venues.bitfinex._levels makes of the levels (size 0: a delete); for an update,
 * side is 0 (its level is in bids) or 1 (in asks) and price is the level's.
 *
 * Exact by construction: a number is taken only if it is valid JSON (no sign but the amount's
 * '-', no leading zero; an exponent is fine: 1.1e-7) whose value is a whole number D < 10**15 of
 * 1e-8 units. msgspec reads such a text as the double nearest to D / 10**8, within 2**-53 of it
 * relatively, so parse_fixed_float (round(value * 1e8), off by less than 0.25) returns exactly
 * D, and size / 10**8 (correctly rounded) is that same double: the amount is never "noisy".
 * The digits are read as one int64, so at most 17 of them count. CHAN_ID, COUNT and SEQ
 * are plain digit runs of at most 18 digits. A zero price or size, a delete whose amount is not
 * 1 / -1, any other shape, a non-str or a str subclass: None, and the connector's msgspec path
 * runs (same values, same errors). tests/venues/test_bitfinex_scan.py checks it against that
 * path.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>

#include "_scan.h" /* tuple_of */

#define SCALE 100000000LL          /* 10**8: Bitfinex numbers are kept at 8 decimals */
#define FRACTION_DIGITS 8
#define VALUE_LIMIT 1000000000000000LL /* 10**15: below, the float path is exact (see above) */
#define INT_DIGITS 18              /* a digit run of at most 18 digits fits int64 */
#define SNAPSHOT 2                 /* the side of a snapshot's result */

#define VALUE_DIGITS 15            /* VALUE_LIMIT == 10**VALUE_DIGITS */
#define MANTISSA_LIMIT 100000000000000000LL /* 10**17: the digits read as one int64 */
#define MANTISSA_DIGITS 17

static const int64_t POW10[MANTISSA_DIGITS + 1] = {
    1LL,
    10LL,
    100LL,
    1000LL,
    10000LL,
    100000LL,
    1000000LL,
    10000000LL,
    100000000LL,
    1000000000LL,
    10000000000LL,
    100000000000LL,
    1000000000000LL,
    10000000000000LL,
    100000000000000LL,
    1000000000000000LL,
    10000000000000000LL,
    100000000000000000LL,
};

/* VALUE_LIMIT / 10**k for k < VALUE_DIGITS: a table, where dividing by a 10**k not known at
 * compile time is a hardware divide (tens of cycles) on every number read. */
static const int64_t VALUE_LIMIT_BY_POW10[VALUE_DIGITS] = {
    VALUE_LIMIT / 1LL,
    VALUE_LIMIT / 10LL,
    VALUE_LIMIT / 100LL,
    VALUE_LIMIT / 1000LL,
    VALUE_LIMIT / 10000LL,
    VALUE_LIMIT / 100000LL,
    VALUE_LIMIT / 1000000LL,
    VALUE_LIMIT / 10000000LL,
    VALUE_LIMIT / 100000000LL,
    VALUE_LIMIT / 1000000000LL,
    VALUE_LIMIT / 10000000000LL,
    VALUE_LIMIT / 100000000000LL,
    VALUE_LIMIT / 1000000000000LL,
    VALUE_LIMIT / 10000000000000LL,
    VALUE_LIMIT / 100000000000000LL,
};

/* A digit run at s[*i] (no leading zero unless it is "0"): 1 and *out set, *i past it; else 0. */
static inline int
scan_int(const unsigned char *s, Py_ssize_t n, Py_ssize_t *i, int64_t *out)
{
    Py_ssize_t j = *i;
    int64_t acc = 0;
    while (j < n && (unsigned)(s[j] - '0') <= 9) {
        if (j - *i >= INT_DIGITS) {
            return 0;
        }
        acc = acc * 10 + (s[j] - '0');
        j++;
    }
    if (j == *i || (s[*i] == '0' && j - *i > 1)) {
        return 0; /* no digit, or a leading zero (not JSON) */
    }
    *i = j;
    *out = acc;
    return 1;
}

/* A non-negative JSON number at s[*i] (digits, optionally '.' and digits, optionally an
 * exponent) whose value is an int D below VALUE_LIMIT at 8 decimals: 1 and *out = D, *i past it;
 * else 0. The digits are read into an int M below 10**17 with f fraction digits and exponent
 * e, so the value is M * 10**(e - f), and D = M * 10**(8 + e - f) must be a whole number. */
static inline int
scan_decimal(const unsigned char *s, Py_ssize_t n, Py_ssize_t *i, int64_t *out)
{
    Py_ssize_t j = *i;
    int64_t mantissa = 0;
    Py_ssize_t fraction = 0, exponent = 0;
    while (j < n && (unsigned)(s[j] - '0') <= 9) {
        if (mantissa >= MANTISSA_LIMIT / 10) {
            return 0;
        }
        mantissa = mantissa * 10 + (s[j] - '0');
        j++;
    }
    if (j == *i || (s[*i] == '0' && j - *i > 1)) {
        return 0; /* no digit, or a leading zero (not JSON) */
    }
    if (j < n && s[j] == '.') {
        const Py_ssize_t start = ++j;
        while (j < n && (unsigned)(s[j] - '0') <= 9) {
            if (mantissa >= MANTISSA_LIMIT / 10) {
                return 0;
            }
            mantissa = mantissa * 10 + (s[j] - '0');
            j++;
        }
        fraction = j - start;
        if (fraction == 0) {
            return 0; /* "1." is not JSON */
        }
    }
    if (j < n && (s[j] == 'e' || s[j] == 'E')) {
        int negative = 0;
        j++;
        if (j < n && (s[j] == '-' || s[j] == '+')) {
            negative = s[j] == '-';
            j++;
        }
        const Py_ssize_t start = j;
        while (j < n && (unsigned)(s[j] - '0') <= 9) {
            if (j - start >= 3) {
                return 0;
            }
            exponent = exponent * 10 + (s[j] - '0');
            j++;
        }
        if (j == start) {
            return 0; /* "1e" is not JSON */
        }
        if (negative) {
            exponent = -exponent;
        }
    }
    /* fraction <= 17 (the mantissa's digits) and |exponent| <= 999 */
    const Py_ssize_t shift = FRACTION_DIGITS + exponent - fraction;
    int64_t value;
    if (shift >= 0) {
        if (shift >= VALUE_DIGITS || mantissa >= VALUE_LIMIT_BY_POW10[shift]) {
            return 0;
        }
        value = mantissa * POW10[shift];
    }
    else {
        if (-shift > MANTISSA_DIGITS || mantissa % POW10[-shift] != 0) {
            return 0; /* more than 8 decimals (or zero, written finer than that) */
        }
        value = mantissa / POW10[-shift];
    }
    if (value >= VALUE_LIMIT) {
        return 0;
    }
    *i = j;
    *out = value;
    return 1;
}

/* One level [PRICE,COUNT,AMOUNT] at s[*i] as _levels reads it: 1 with *price, *size (0: a
 * delete) and *ask set, *i past its ']'; 0 for another shape, a bad level (a zero price or
 * amount, a delete whose amount is not 1 or -1: _levels' errors, or a zero-priced delete, left
 * to the msgspec path too). */
static inline int
scan_level(const unsigned char *s, Py_ssize_t n, Py_ssize_t *i, int64_t *price, int64_t *size,
           int *ask)
{
    Py_ssize_t j = *i;
    int64_t count, amount;
    if (j >= n || s[j] != '[') {
        return 0;
    }
    j++;
    if (!scan_decimal(s, n, &j, price) || j >= n || s[j] != ',') {
        return 0;
    }
    j++;
    if (!scan_int(s, n, &j, &count) || j >= n || s[j] != ',') {
        return 0;
    }
    j++;
    *ask = 0;
    if (j < n && s[j] == '-') {
        *ask = 1;
        j++;
    }
    if (!scan_decimal(s, n, &j, &amount) || j >= n || s[j] != ']') {
        return 0;
    }
    if (*price == 0 || amount == 0 || (count == 0 && amount != SCALE)) {
        return 0;
    }
    *size = count == 0 ? 0 : amount;
    *i = j + 1;
    return 1;
}

/* A new (price, size) tuple, or NULL with an exception; *price_obj (if not NULL) gets a new
 * reference to its price. Unlike _scan.h's level_pair, left tracked by the collector: untracking
 * each costs ~60 instructions a Bitfinex frame, and the book update path makes one a frame. */
static inline PyObject *
level_tuple(int64_t price, int64_t size, PyObject **price_obj)
{
    PyObject *level = PyTuple_New(2);
    if (level == NULL) {
        return NULL;
    }
    PyObject *p = PyLong_FromLongLong(price);
    if (p == NULL) {
        Py_DECREF(level);
        return NULL;
    }
    PyTuple_SET_ITEM(level, 0, p);
    if (price_obj != NULL) {
        *price_obj = Py_NewRef(p);
    }
    PyObject *q = PyLong_FromLongLong(size);
    if (q == NULL) {
        Py_DECREF(level);
        return NULL;
    }
    PyTuple_SET_ITEM(level, 1, q);
    return level;
}

/* The result tuple; steals seq, price, bids and asks (also on failure; price may be NULL
 * with an exception set, then the result is NULL). */
static PyObject *
result(int64_t chan_id, PyObject *seq, PyObject *price, int side, PyObject *bids,
       PyObject *asks)
{
    PyObject *items[6] = {PyLong_FromLongLong(chan_id), seq, price, PyLong_FromLong(side), bids,
                          asks};
    return tuple_of(items, 6);
}

/* The frame's tail after its payload: "]" or ",SEQ]". 1 with *seq set (None without one, a
 * new reference), 0 for anything else, -1 with an exception. */
static int
scan_tail(const unsigned char *s, Py_ssize_t n, Py_ssize_t i, PyObject **seq)
{
    int64_t value = 0;
    int has_seq = 0;
    if (i < n && s[i] == ',') {
        i++;
        if (!scan_int(s, n, &i, &value)) {
            return 0;
        }
        has_seq = 1;
    }
    if (i != n - 1 || s[i] != ']') {
        return 0;
    }
    *seq = has_seq ? PyLong_FromLongLong(value) : Py_NewRef(Py_None);
    return *seq == NULL ? -1 : 1;
}

/* A snapshot's levels from s[*i] (just past the payload's '['): the bids and asks lists as
 * _levels makes them (in the frame's order), *i past the payload's ']'. 1, 0 (another shape or
 * a bad level: the lists are released) or -1 with an exception. */
static int
scan_snapshot(const unsigned char *s, Py_ssize_t n, Py_ssize_t *i, PyObject **bids,
              PyObject **asks)
{
    Py_ssize_t j = *i;
    *bids = PyList_New(0);
    *asks = PyList_New(0);
    if (*bids == NULL || *asks == NULL) {
        goto error;
    }
    if (j < n && s[j] == ']') { /* an empty book */
        *i = j + 1;
        return 1;
    }
    for (;;) {
        int64_t price, size;
        int ask;
        if (!scan_level(s, n, &j, &price, &size, &ask)) {
            Py_CLEAR(*bids);
            Py_CLEAR(*asks);
            return 0;
        }
        PyObject *level = level_tuple(price, size, NULL);
        if (level == NULL) {
            goto error;
        }
        const int failed = PyList_Append(ask ? *asks : *bids, level);
        Py_DECREF(level);
        if (failed) {
            goto error;
        }
        if (j < n && s[j] == ',') {
            j++;
            continue;
        }
        if (j < n && s[j] == ']') {
            *i = j + 1;
            return 1;
        }
        Py_CLEAR(*bids);
        Py_CLEAR(*asks);
        return 0;
    }
error:
    Py_CLEAR(*bids);
    Py_CLEAR(*asks);
    return -1;
}

/* The start every channel frame shares, "[CHAN_ID,", in an exact ASCII str: the index just past
 * the comma, with the frame's bytes, length and chan_id set; 0 for any other frame. */
static Py_ssize_t
channel_head(PyObject *frame, const unsigned char **s, Py_ssize_t *n, int64_t *chan_id)
{
    if (!PyUnicode_CheckExact(frame) || !PyUnicode_IS_COMPACT_ASCII(frame)) {
        return 0;
    }
    *s = (const unsigned char *)PyUnicode_DATA(frame);
    *n = PyUnicode_GET_LENGTH(frame);
    Py_ssize_t i = 1;
    if (*n < 2 || (*s)[0] != '[' || !scan_int(*s, *n, &i, chan_id) || i >= *n || (*s)[i] != ',') {
        return 0;
    }
    return i + 1;
}

static PyObject *
scan(PyObject *module, PyObject *frame)
{
    const unsigned char *s;
    Py_ssize_t n;
    int64_t chan_id;
    Py_ssize_t i = channel_head(frame, &s, &n, &chan_id);
    PyObject *seq = NULL;
    int found;
    if (i == 0) {
        Py_RETURN_NONE;
    }
    if (n - i >= 4 && s[i] == '"' && s[i + 1] == 'h' && s[i + 2] == 'b' && s[i + 3] == '"') {
        found = scan_tail(s, n, i + 4, &seq);
        if (found <= 0) {
            return found < 0 ? NULL : Py_NewRef(Py_None);
        }
        return result(chan_id, seq, PyLong_FromLong(0), 0, Py_NewRef(Py_None), Py_NewRef(Py_None));
    }
    if (n - i < 2 || s[i] != '[') {
        Py_RETURN_NONE;
    }
    if (s[i + 1] == '[' || s[i + 1] == ']') { /* a snapshot */
        PyObject *bids, *asks;
        i++;
        found = scan_snapshot(s, n, &i, &bids, &asks);
        if (found <= 0) {
            return found < 0 ? NULL : Py_NewRef(Py_None);
        }
        found = scan_tail(s, n, i, &seq);
        if (found <= 0) {
            Py_DECREF(bids);
            Py_DECREF(asks);
            return found < 0 ? NULL : Py_NewRef(Py_None);
        }
        return result(chan_id, seq, PyLong_FromLong(0), SNAPSHOT, bids, asks);
    }
    int64_t price, size;
    int ask;
    if (!scan_level(s, n, &i, &price, &size, &ask)) {
        Py_RETURN_NONE;
    }
    found = scan_tail(s, n, i, &seq);
    if (found <= 0) {
        return found < 0 ? NULL : Py_NewRef(Py_None);
    }
    PyObject *price_obj;
    PyObject *level = level_tuple(price, size, &price_obj);
    if (level == NULL) {
        Py_DECREF(seq);
        return NULL;
    }
    PyObject *one = PyList_New(1);
    PyObject *none = PyList_New(0);
    if (one == NULL || none == NULL) {
        Py_DECREF(seq);
        Py_DECREF(price_obj);
        Py_DECREF(level);
        Py_XDECREF(one);
        Py_XDECREF(none);
        return NULL;
    }
    PyList_SET_ITEM(one, 0, level);
    return ask ? result(chan_id, seq, price_obj, 1, none, one)
               : result(chan_id, seq, price_obj, 0, one, none);
}

/* The routes dicts' own key objects, by channel id: a dict lookup first compares its keys by
 * identity, so looking a route up with the very int object the dict holds skips both a new
 * int and an int comparison (a fresh key made every lookup cost ~350 instructions a frame).
 * Direct-mapped; a slot keeps a strong reference, so its object is never another's. A stale
 * slot (the dict's key replaced by an equal int) only makes the lookup compare by value. */
#define KEY_SLOTS 64
static struct {
    int64_t chan_id;
    PyObject *key; /* an exact int equal to chan_id, or NULL */
} route_keys[KEY_SLOTS];

/* routes[chan_id] (borrowed), or NULL: absent (no exception) or an error. */
static PyObject *
route_of(PyObject *routes, int64_t chan_id)
{
    const size_t slot = (size_t)((uint64_t)chan_id % KEY_SLOTS);
    if (route_keys[slot].key != NULL && route_keys[slot].chan_id == chan_id) {
        return PyDict_GetItemWithError(routes, route_keys[slot].key);
    }
    PyObject *key = PyLong_FromLongLong(chan_id);
    if (key == NULL) {
        return NULL;
    }
    PyObject *route = PyDict_GetItemWithError(routes, key);
    Py_DECREF(key);
    if (route == NULL) {
        return NULL;
    }
    /* found: remember the dict's own key for chan_id (its keys are exact ints, which compare
     * without running code, so the dict cannot change during the walk) */
    Py_ssize_t pos = 0;
    PyObject *held, *value;
    while (PyDict_Next(routes, &pos, &held, &value)) {
        if (!PyLong_CheckExact(held)) {
            continue;
        }
        int overflow;
        const long long v = PyLong_AsLongLongAndOverflow(held, &overflow);
        if (!overflow && v == chan_id) {
            Py_XSETREF(route_keys[slot].key, Py_NewRef(held));
            route_keys[slot].chan_id = chan_id;
            break;
        }
    }
    return route;
}

/* book_update(frame, routes) -> (route, seq, bids, asks) | None: the hot frame alone, a one-level
 * book update with its SEQ_ALL number, [CHAN_ID,[PRICE,COUNT,AMOUNT],SEQ], whose CHAN_ID is a key
 * of routes (a dict: the connection's routed book channels); route is routes[CHAN_ID], the rest
 * what scan() returns for the same frame. One call instead of scan() and a dict lookup in Python,
 * and no chan_id, price or side object. None for anything else, the routes unread if the frame is
 * not such an update. */
static PyObject *
book_update(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2 || !PyDict_CheckExact(args[1])) {
        PyErr_SetString(PyExc_TypeError, "book_update(frame, routes: dict)");
        return NULL;
    }
    const unsigned char *s;
    Py_ssize_t n;
    int64_t chan_id, price, size, seq;
    int ask;
    Py_ssize_t i = channel_head(args[0], &s, &n, &chan_id);
    if (i == 0 || i >= n || s[i] != '[' || !scan_level(s, n, &i, &price, &size, &ask)) {
        Py_RETURN_NONE;
    }
    if (i >= n || s[i] != ',') {
        Py_RETURN_NONE; /* no SEQ_ALL number: scan() and the general path */
    }
    i++;
    if (!scan_int(s, n, &i, &seq) || i != n - 1 || s[i] != ']') {
        Py_RETURN_NONE;
    }
    PyObject *route = route_of(args[1], chan_id); /* borrowed */
    if (route == NULL) {
        return PyErr_Occurred() ? NULL : Py_NewRef(Py_None);
    }
    PyObject *out = PyTuple_New(4);
    if (out == NULL) {
        return NULL;
    }
    PyTuple_SET_ITEM(out, 0, Py_NewRef(route));
    PyObject *seq_obj = PyLong_FromLongLong(seq);
    if (seq_obj == NULL) {
        Py_DECREF(out);
        return NULL;
    }
    PyTuple_SET_ITEM(out, 1, seq_obj);
    PyObject *level = level_tuple(price, size, NULL);
    PyObject *one = level == NULL ? NULL : PyList_New(1);
    if (one == NULL) {
        Py_XDECREF(level);
        Py_DECREF(out);
        return NULL;
    }
    PyList_SET_ITEM(one, 0, level);
    PyObject *none = PyList_New(0);
    if (none == NULL) {
        Py_DECREF(one);
        Py_DECREF(out);
        return NULL;
    }
    PyTuple_SET_ITEM(out, 2, ask ? none : one);
    PyTuple_SET_ITEM(out, 3, ask ? one : none);
    return out;
}

/* One trade row [ID,MTS,AMOUNT,PRICE] at s[*i] as _trade reads it: 1 with the fields set, *i
 * past its ']'; 0 for another shape or a bad row (a zero amount or price: _trade's error, left
 * to the msgspec path). */
static int
parse_trade_row(const unsigned char *s, Py_ssize_t n, Py_ssize_t *i, int64_t *id, int64_t *mts,
                int64_t *price, int64_t *amount, int *buy)
{
    Py_ssize_t j = *i;
    int sell = 0;
    if (j >= n || s[j] != '[') {
        return 0;
    }
    j++;
    if (!scan_int(s, n, &j, id) || j >= n || s[j] != ',') {
        return 0;
    }
    j++;
    if (!scan_int(s, n, &j, mts) || j >= n || s[j] != ',') {
        return 0;
    }
    j++;
    if (j < n && s[j] == '-') {
        sell = 1;
        j++;
    }
    if (!scan_decimal(s, n, &j, amount) || j >= n || s[j] != ',') {
        return 0;
    }
    j++;
    if (!scan_decimal(s, n, &j, price) || j >= n || s[j] != ']') {
        return 0;
    }
    if (*amount == 0 || *price == 0) {
        return 0;
    }
    *buy = !sell;
    *i = j + 1;
    return 1;
}

/* A trade snapshot [CHAN_ID,[[ID,MTS,AMOUNT,PRICE],...]] (",SEQ" before the last ']' with
 * SEQ_ALL) in its plain shape: every row parsed (appended to rows as (id, mts, price, size, buy)
 * tuples if rows is not NULL) and the greatest id kept in *newest (-1 for no row). 1 with *seq
 * set (a new reference), 0 for another shape or a bad row, -1 with an exception. */
static int
trade_snapshot(PyObject *frame, PyObject *rows, PyObject **seq, int64_t *newest)
{
    const unsigned char *s;
    Py_ssize_t n;
    int64_t chan_id;
    Py_ssize_t i = channel_head(frame, &s, &n, &chan_id);
    *newest = -1;
    if (i == 0 || n - i < 2 || s[i] != '[') {
        return 0;
    }
    i++;
    if (i < n && s[i] == ']') {
        i++;
    }
    else {
        for (;;) {
            int64_t id, mts, price, amount;
            int buy;
            if (!parse_trade_row(s, n, &i, &id, &mts, &price, &amount, &buy)) {
                return 0;
            }
            if (id > *newest) {
                *newest = id;
            }
            if (rows != NULL) {
                PyObject *row = Py_BuildValue("(LLLLi)", (long long)id, (long long)mts,
                                              (long long)price, (long long)amount, buy);
                if (row == NULL) {
                    return -1;
                }
                const int failed = PyList_Append(rows, row);
                Py_DECREF(row);
                if (failed) {
                    return -1;
                }
            }
            if (i < n && s[i] == ',') {
                i++;
                continue;
            }
            if (i < n && s[i] == ']') {
                i++;
                break;
            }
            return 0;
        }
    }
    return scan_tail(s, n, i, seq);
}

/* scan_trades(frame) -> (seq, rows) for a trade snapshot in its plain shape, else None. */
static PyObject *
scan_trades(PyObject *module, PyObject *frame)
{
    PyObject *rows = PyList_New(0);
    if (rows == NULL) {
        return NULL;
    }
    PyObject *seq;
    int64_t newest;
    const int found = trade_snapshot(frame, rows, &seq, &newest);
    if (found <= 0) {
        Py_DECREF(rows);
        return found < 0 ? NULL : Py_NewRef(Py_None);
    }
    PyObject *items[2] = {seq, rows};
    return tuple_of(items, 2);
}

/* trade_ids(frame) -> (seq, newest id or None) for a trade snapshot in its plain shape (every
 * row checked as scan_trades checks it; None for no row), else None: all the history snapshot
 * of a first subscription is used for, without a tuple per row. */
static PyObject *
trade_ids(PyObject *module, PyObject *frame)
{
    PyObject *seq;
    int64_t newest;
    const int found = trade_snapshot(frame, NULL, &seq, &newest);
    if (found <= 0) {
        return found < 0 ? NULL : Py_NewRef(Py_None);
    }
    PyObject *items[2] = {seq, newest < 0 ? Py_NewRef(Py_None) : PyLong_FromLongLong(newest)};
    return tuple_of(items, 2);
}

static PyMethodDef methods[] = {
    {"scan", (PyCFunction)scan, METH_O,
     "scan(frame) -> (chan_id, seq, price, side, bids, asks) for a book update, snapshot or"
     " heartbeat in its plain shape, else None"},
    {"book_update", (PyCFunction)(void (*)(void))book_update, METH_FASTCALL,
     "book_update(frame, routes) -> (routes[chan_id], seq, bids, asks) for a one-level book"
     " update with a sequence number in its plain shape on a channel in routes, else None"},
    {"scan_trades", (PyCFunction)scan_trades, METH_O,
     "scan_trades(frame) -> (seq, [(id, mts, price, size, buy), ...]) for a trade snapshot in"
     " its plain shape, else None"},
    {"trade_ids", (PyCFunction)trade_ids, METH_O,
     "trade_ids(frame) -> (seq, newest id or None) for a trade snapshot in its plain shape, else"
     " None"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef bitfinex_module = {
    PyModuleDef_HEAD_INIT,
    "orderscope._bitfinex",
    "Bitfinex book and heartbeat frames scanned in C; the msgspec path is the reference.",
    -1,
    methods,
    NULL,
    NULL,
    NULL,
    NULL,
};

PyMODINIT_FUNC
PyInit__bitfinex(void)
{
    return PyModule_Create(&bitfinex_module);
}
