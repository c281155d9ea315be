/* orderscope._coinbase: the Coinbase Exchange feed's l2update frames read in C (issues 2/3).
 *
 * scan_l2update(frame, decimals) -> (product_id, bids, asks, time_ns) | None
 *
 * For a frame of exactly the shape the venue sends (every key in this order, no whitespace,
 * no escapes, at least one change):
 *
 *   {"type":"l2update","product_id":"P","changes":[["buy","PRICE","SIZE"],...],
 *    "time":"YYYY-MM-DDTHH:MM:SS.fffffffffZ"}
 *
 * with P a key of `decimals` (product id -> (price_decimals, size_decimals)), returns what the
 * connector's reference path (msgspec decoding, orderscope.fixed.parse_fixed per number,
 * venues.coinbase.parse_iso8601_ns for the time) makes of it: bids ("buy") and asks ("sell")
 * as lists of (price, size) scaled ints in the frame's order, and the time in ns since the
 * epoch. Anything else -- another type or key order, whitespace, an escape, a number that is
 * not plain ASCII digits with at most one '.', a non-zero digit beyond the decimals, a value
 * beyond int64, another time shape, an impossible date, an unknown product -- returns None, and
 * the caller runs the reference path, whose values and errors are therefore unchanged.
 *
 * scan_snapshot(frame, decimals) -> (product_id, bids, asks, time_ns) | None
 *
 * The same for a level2 snapshot, {"type":"snapshot","product_id":"P","asks":[["PRICE","SIZE"],
 * ...],"bids":[...]} with an optional ,"time":"..." last (time_ns 0 without it, as the
 * connector reads a snapshot without a time).
 *
 * A value of `decimals` may also be a triple (price_decimals, size_decimals, key): the scanners
 * then return `key` in place of the product id (the connector keeps its per-product route record
 * there, so that a frame costs it no lookup of its own).
 *
 * tests/venues/test_coinbase_scan.py checks both against the reference.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

#include "_decimal.h"
#include "_scan.h" /* the cursor, take/TAKE, string_body, frame_cursor, append_level */

/* A JSON string whose opening quote was consumed, read through its closing quote as
 * parse_fixed(text, decimals) reads it, when that returns an int64 without raising
 * (_decimal.h's scan_decimal, the one orderscope._levels reads with): digits with at most one
 * '.', at least one digit, no non-zero digit beyond `decimals` (trailing zeros beyond are
 * accepted, not scaled in). Any other character (a backslash too) fails. `decimals` is 0..19. */
static inline int
number(Cursor *c, Py_ssize_t decimals, int64_t *out)
{
    const unsigned char *after = scan_decimal(c->p, c->end, decimals, out);
    if (after == NULL) {
        return 0;
    }
    c->p = after;
    return 1;
}

/* `n` ASCII digits at `s` as an int, or -1 if one is not a digit. */
static inline int64_t
digits_value(const unsigned char *s, Py_ssize_t n)
{
    int64_t v = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        const unsigned d = (unsigned)s[i] - '0';
        if (d > 9) {
            return -1;
        }
        v = v * 10 + (int64_t)d;
    }
    return v;
}

/* Days from 1970-01-01 to a valid proleptic Gregorian date (H. Hinnant's days_from_civil). */
static inline int64_t
days_from_civil(int64_t y, int64_t m, int64_t d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const int64_t yoe = y - era * 400;
    const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* parse_iso8601_ns for `YYYY-MM-DDTHH:MM:SS.f{1,9}Z` (the text of the time string): the same
 * checks (digits, hour <= 23, minute and second <= 59, a real date), years 1900-2200 only so
 * that the ns fit int64 with room; anything else is left to the reference. */
static inline int
time_value(const unsigned char *s, Py_ssize_t n, int64_t *out)
{
    if (n < 22 || n > 30 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' ||
        s[16] != ':' || s[19] != '.' || s[n - 1] != 'Z') {
        return 0;
    }
    const int64_t year = digits_value(s, 4), month = digits_value(s + 5, 2);
    const int64_t day = digits_value(s + 8, 2), hour = digits_value(s + 11, 2);
    const int64_t minute = digits_value(s + 14, 2), second = digits_value(s + 17, 2);
    const Py_ssize_t frac_len = n - 21;
    const int64_t frac = digits_value(s + 20, frac_len);
    if (year < 1900 || year > 2200 || month < 1 || month > 12 || day < 1 || hour < 0 ||
        hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59 || frac < 0) {
        return 0;
    }
    static const int64_t month_days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    const int leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    if (day > month_days[month - 1] + (month == 2 && leap)) {
        return 0;
    }
    const int64_t seconds =
        ((days_from_civil(year, month, day) * 24 + hour) * 60 + minute) * 60 + second;
    *out = seconds * 1000000000 + frac * (int64_t)POW10[9 - frac_len];
    return 1;
}

/* (price_decimals, size_decimals) of `product` in `decimals`, whose value is that pair or a
 * triple (price_decimals, size_decimals, key): 1 if found and both in 0..19, with *key the
 * triple's key (borrowed) or `product`; 0 if not (the reference path then runs); -1 with an
 * exception set. */
static int
product_decimals(PyObject *decimals, PyObject *product, Py_ssize_t *pd, Py_ssize_t *sd,
                 PyObject **key)
{
    PyObject *entry = PyDict_GetItemWithError(decimals, product); /* borrowed */
    if (entry == NULL) {
        return PyErr_Occurred() ? -1 : 0;
    }
    if (!PyTuple_CheckExact(entry) || PyTuple_GET_SIZE(entry) < 2 || PyTuple_GET_SIZE(entry) > 3) {
        return 0;
    }
    *pd = PyLong_AsSsize_t(PyTuple_GET_ITEM(entry, 0));
    if (*pd == -1 && PyErr_Occurred()) {
        return -1;
    }
    *sd = PyLong_AsSsize_t(PyTuple_GET_ITEM(entry, 1));
    if (*sd == -1 && PyErr_Occurred()) {
        return -1;
    }
    /* Read before any call that could run Python code: the entry is borrowed. */
    *key = PyTuple_GET_SIZE(entry) == 3 ? PyTuple_GET_ITEM(entry, 2) : product;
    return *pd >= 0 && *pd < 20 && *sd >= 0 && *sd < 20;
}

/* `PRICE","SIZE"]` (after the price's opening quote) appended to `side`, then the list's `]`
 * (returns 1) or the `,` before its next level (2); 0 if any of it is not of the fast shape, -1
 * with an exception set. */
static int
level_then_next(Cursor *c, Py_ssize_t pd, Py_ssize_t sd, PyObject *side)
{
    int64_t price, size;
    if (!number(c, pd, &price) || !TAKE(c, ",\"") || !number(c, sd, &size) || !TAKE(c, "]")) {
        return 0;
    }
    if (append_level(side, price, size) < 0) {
        return -1;
    }
    if (TAKE(c, "]")) {
        return 1;
    }
    return TAKE(c, ",") ? 2 : 0;
}

/* The changes after `"changes":[`, through the closing `]`, into bids and asks: 1 if they all
 * have the fast shape, 0 if not, -1 with an exception set. */
static int
scan_changes(Cursor *c, Py_ssize_t pd, Py_ssize_t sd, PyObject *bids, PyObject *asks)
{
    for (;;) {
        PyObject *side;
        if (TAKE(c, "[\"buy\",\"")) {
            side = bids;
        }
        else if (TAKE(c, "[\"sell\",\"")) {
            side = asks;
        }
        else {
            return 0;
        }
        const int next = level_then_next(c, pd, sd, side);
        if (next != 2) {
            return next;
        }
    }
}

/* Product ids read, each made a str once (_scan.h cached_name): a feed names a few products
 * over and over, and a str kept keeps its hash, so the dict lookups of the scanner and the
 * connector do not hash it again. */
#define PRODUCT_SLOTS 256
static PyObject *products[PRODUCT_SLOTS];

/* The product id after `"product_id":"` and its decimals: 1 with a new reference in *key (the
 * product's key in `decimals`, product_decimals); 0 if it is not a plain string or not in
 * `decimals` (*key NULL); -1 with an exception set. */
static int
scan_product(Cursor *c, PyObject *decimals, PyObject **key, Py_ssize_t *pd, Py_ssize_t *sd)
{
    const unsigned char *text;
    Py_ssize_t n;
    *key = NULL;
    if (!string_body(c, &text, &n) || n == 0) {
        return 0;
    }
    PyObject *product = cached_name(products, PRODUCT_SLOTS, text, n);
    if (product == NULL) {
        return -1;
    }
    PyObject *found = NULL;
    const int known = product_decimals(decimals, product, pd, sd, &found);
    if (known > 0) {
        *key = Py_NewRef(found);
    }
    Py_DECREF(product);
    return known;
}

/* The frame's end: `,"time":"T"}` (T read by time_value), or `}` alone (time 0) if `optional`;
 * nothing may follow. 1 with *ns set, or 0. */
static int
scan_end(Cursor *c, int optional, int64_t *ns)
{
    if (optional && TAKE(c, "}")) {
        *ns = 0;
        return c->p == c->end;
    }
    if (!TAKE(c, ",\"time\":\"")) {
        return 0;
    }
    /* No string_body: time_value checks every character of the text (digits or a separator in
     * its place), which a backslash or a control character never passes. */
    const unsigned char *text = c->p;
    const unsigned char *quote = memchr(text, '"', (size_t)(c->end - text));
    if (quote == NULL || !time_value(text, quote - text, ns)) {
        return 0;
    }
    c->p = quote + 1;
    return TAKE(c, "}") && c->p == c->end;
}

/* (key, bids, asks, ns), taking the references of all three objects, which are released if
 * the tuple cannot be made. */
static PyObject *
scanned(PyObject *key, PyObject *bids, PyObject *asks, int64_t ns)
{
    PyObject *items[4] = {key, bids, asks, PyLong_FromLongLong(ns)};
    return tuple_of(items, 4);
}

/* `[["p","q"],...]` (possibly empty) appended to `side`: 1 if all of the fast shape, 0 if not,
 * -1 with an exception set. */
static int
scan_pairs(Cursor *c, Py_ssize_t pd, Py_ssize_t sd, PyObject *side)
{
    if (!TAKE(c, "[")) {
        return 0;
    }
    if (TAKE(c, "]")) {
        return 1;
    }
    for (;;) {
        if (!TAKE(c, "[\"")) {
            return 0;
        }
        const int next = level_then_next(c, pd, sd, side);
        if (next != 2) {
            return next;
        }
    }
}

typedef enum { L2UPDATE, SNAPSHOT } Kind;

/* Both scanners: the checks of the arguments, the product, the levels, the end. */
static PyObject *
scan(PyObject *const *args, Py_ssize_t nargs, Kind kind)
{
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "a scanner takes 2 arguments: (frame, decimals)");
        return NULL;
    }
    PyObject *decimals = args[1];
    if (!PyDict_Check(decimals)) {
        PyErr_SetString(PyExc_TypeError, "decimals must be a dict");
        return NULL;
    }
    Cursor c;
    if (!frame_cursor(args[0], &c) ||
        !(kind == L2UPDATE ? TAKE(&c, "{\"type\":\"l2update\",\"product_id\":\"")
                           : TAKE(&c, "{\"type\":\"snapshot\",\"product_id\":\""))) {
        Py_RETURN_NONE;
    }
    PyObject *key;
    Py_ssize_t pd = 0, sd = 0;
    const int known = scan_product(&c, decimals, &key, &pd, &sd);
    if (known <= 0) {
        if (known < 0) {
            return NULL;
        }
        Py_RETURN_NONE;
    }
    PyObject *bids = PyList_New(0);
    PyObject *asks = PyList_New(0);
    int found = 0;
    if (bids != NULL && asks != NULL) {
        if (kind == L2UPDATE) {
            found = TAKE(&c, ",\"changes\":[") ? scan_changes(&c, pd, sd, bids, asks) : 0;
        }
        else {
            found = TAKE(&c, ",\"asks\":") ? scan_pairs(&c, pd, sd, asks) : 0;
            if (found > 0) {
                found = TAKE(&c, ",\"bids\":") ? scan_pairs(&c, pd, sd, bids) : 0;
            }
        }
    }
    int64_t ns = 0;
    if (found > 0 && scan_end(&c, kind == SNAPSHOT, &ns)) {
        return scanned(key, bids, asks, ns);
    }
    Py_DECREF(key);
    Py_XDECREF(bids);
    Py_XDECREF(asks);
    if (bids == NULL || asks == NULL || found < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyObject *
scan_l2update(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    return scan(args, nargs, L2UPDATE);
}

static PyObject *
scan_snapshot(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    return scan(args, nargs, SNAPSHOT);
}

static PyMethodDef methods[] = {
    {"scan_l2update", (PyCFunction)(void (*)(void))scan_l2update, METH_FASTCALL,
     "An l2update frame of the usual shape -> (product_id, bids, asks, time_ns), else None."},
    {"scan_snapshot", (PyCFunction)(void (*)(void))scan_snapshot, METH_FASTCALL,
     "A level2 snapshot frame of the usual shape -> (product_id, bids, asks, time_ns), else None."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef coinbase_module = {
    PyModuleDef_HEAD_INIT,
    "orderscope._coinbase",
    "Coinbase l2update frames read in C; the connector's msgspec path is the reference.",
    -1,
    methods,
    NULL,
    NULL,
    NULL,
    NULL,
};

PyMODINIT_FUNC
PyInit__coinbase(void)
{
    return PyModule_Create(&coinbase_module);
}
