/* orderscope._binance: Binance combined-stream frames read in C, in one pass (spot and USD-M).
 *
 * scan(frame, routes) -> tuple | None
 *
 * routes maps a stream name to (kind, price_decimals, size_decimals, venue_symbol), kind 0 for a
 * ``depth`` stream, 1 for a ``bookTicker`` and 2 for an ``aggTrade`` stream (the connector fills
 * it in for the streams whose channel is that and whose symbol it knows). For a frame of exactly the shape the venue
 * sends, {"stream":"NAME","data":{...}} with NAME in routes, no whitespace, no escapes, the data
 * object's keys in any order but each once and only those listed:
 *
 *   depth:      "e":"depthUpdate", "E", "T", "s", "U", "u", "pu" (ints; "s" a string),
 *               "b" and "a": [["PRICE","SIZE"],...];  s, U, u, b, a required
 *               -> (venue_symbol, T or E, U, u, pu (-1 if absent), bids, asks)
 *   bookTicker: "e":"bookTicker", "u", "s", "E", "T", "b", "B", "a", "A" (decimal strings);
 *               s, b, B, a, A required
 *               -> (venue_symbol, T or E, bid, bid_size, ask, ask_size)
 *   aggTrade:   "e":"aggTrade", "E", "s", "a", "f", "l", "T" (ints), "p", "q" (decimal strings),
 *               "m", "M" (true/false); s, p, q, T, m required; q not 0
 *               -> (venue_symbol, T, price, size or -size if m (the aggressor sold), a or -1)
 *
 * returns what the connector's reference path (msgspec decoding of the envelope and of the data,
 * orderscope.fixed.parse_fixed per number) makes of it, the levels as lists of (price, size)
 * scaled ints in the frame's order. Anything else -- another shape, a stream not in routes,
 * a number that is not plain ASCII digits with at most one '.', a non-zero digit beyond the
 * decimals, a value beyond int64, an integer of more than 18 digits -- returns None, and the
 * connector runs the reference path, whose values and errors are therefore unchanged.
 *
 * scan_rest(body, price_decimals, size_decimals) -> (lastUpdateId, T or E, bids, asks) | None
 *
 * The same for a REST depth snapshot body, {"lastUpdateId":N,"E":N,"T":N,"bids":[...],
 * "asks":[...]} (keys in any order, each once; E and T optional): what the connector's
 * `_rest_levels` makes of it.
 *
 * tests/venues/test_binance_scan.py checks both against the reference.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

#include "_jsonscan.h"

enum { DEPTH = 0, BOOK_TICKER = 1, AGG_TRADE = 2 };

/* The data object's keys (a bit each: present once). */
enum {
    K_e = 1 << 0,
    K_E = 1 << 1,
    K_T = 1 << 2,
    K_s = 1 << 3,
    K_U = 1 << 4,
    K_u = 1 << 5,
    K_pu = 1 << 6,
    K_b = 1 << 7,
    K_a = 1 << 8,
    K_B = 1 << 9,
    K_A = 1 << 10,
    K_p = 1 << 11, /* aggTrade: price, quantity, first and last trade id, maker, best match */
    K_q = 1 << 12,
    K_f = 1 << 13,
    K_l = 1 << 14,
    K_m = 1 << 15,
    K_M = 1 << 16,
};

static unsigned
key_bit(const unsigned char *s, Py_ssize_t n)
{
    if (n == 1) {
        switch (s[0]) {
        case 'e':
            return K_e;
        case 'E':
            return K_E;
        case 'T':
            return K_T;
        case 's':
            return K_s;
        case 'U':
            return K_U;
        case 'u':
            return K_u;
        case 'b':
            return K_b;
        case 'a':
            return K_a;
        case 'B':
            return K_B;
        case 'A':
            return K_A;
        case 'p':
            return K_p;
        case 'q':
            return K_q;
        case 'f':
            return K_f;
        case 'l':
            return K_l;
        case 'm':
            return K_m;
        case 'M':
            return K_M;
        default:
            return 0;
        }
    }
    if (n == 2 && s[0] == 'p' && s[1] == 'u') {
        return K_pu;
    }
    return 0;
}

/* What a data object holds, once read. */
typedef struct {
    unsigned seen;
    int64_t E, T, U, u, pu;
    int64_t bid, bid_size, ask, ask_size; /* bookTicker; aggTrade: price, size, maker (0/1) */
    PyObject *bids, *asks;                /* depth: new references once read */
} Data;

/* A JSON true (1) or false (0) in *out: 1, or 0 if neither. */
static int
boolean(Cursor *c, int64_t *out)
{
    if (TAKE(c, "true")) {
        *out = 1;
        return 1;
    }
    *out = 0;
    return TAKE(c, "false");
}

/* One value after `"KEY":`, into `d`: 1, 0 if not of the fast shape, -1 with an exception. */
static int
value(Cursor *c, int kind, unsigned key, Py_ssize_t pd, Py_ssize_t sd, Data *d)
{
    const unsigned char *text;
    Py_ssize_t n;
    switch (key) {
    case K_e:
        return kind == DEPTH         ? TAKE(c, "\"depthUpdate\"")
               : kind == AGG_TRADE ? TAKE(c, "\"aggTrade\"")
                                   : TAKE(c, "\"bookTicker\"");
    case K_s:
        return TAKE(c, "\"") && string_body(c, &text, &n);
    case K_E:
        return integer(c, &d->E);
    case K_T:
        return integer(c, &d->T);
    case K_u:
        return integer(c, &d->u);
    }
    if (kind == DEPTH) {
        switch (key) {
        case K_U:
            return integer(c, &d->U);
        case K_pu:
            return integer(c, &d->pu);
        case K_b:
            return pair_levels(c, pd, sd, &d->bids);
        case K_a:
            return pair_levels(c, pd, sd, &d->asks);
        }
        return 0;
    }
    if (kind == AGG_TRADE) {
        int64_t ignored;
        switch (key) {
        case K_a:
            return integer(c, &d->U);
        case K_p:
            return TAKE(c, "\"") && decimal(c, pd, &d->bid);
        case K_q:
            return TAKE(c, "\"") && decimal(c, sd, &d->bid_size);
        case K_f:
        case K_l:
            return integer(c, &ignored);
        case K_m:
            return boolean(c, &d->ask);
        case K_M:
            return boolean(c, &ignored);
        }
        return 0;
    }
    switch (key) {
    case K_b:
        return TAKE(c, "\"") && decimal(c, pd, &d->bid);
    case K_B:
        return TAKE(c, "\"") && decimal(c, sd, &d->bid_size);
    case K_a:
        return TAKE(c, "\"") && decimal(c, pd, &d->ask);
    case K_A:
        return TAKE(c, "\"") && decimal(c, sd, &d->ask_size);
    }
    return 0;
}

/* The data object after its `{`, through the frame's end (`}}`): 1 if all of it has the fast
 * shape and the required keys are there, 0 if not, -1 with an exception set. */
static int
data_object(Cursor *c, int kind, Py_ssize_t pd, Py_ssize_t sd, Data *d)
{
    for (;;) {
        const unsigned char *text;
        Py_ssize_t n;
        if (!TAKE(c, "\"") || !string_body(c, &text, &n) || !TAKE(c, ":")) {
            return 0;
        }
        const unsigned key = key_bit(text, n);
        if (key == 0 || (d->seen & key)) {
            return 0;
        }
        d->seen |= key;
        const int got = value(c, kind, key, pd, sd, d);
        if (got <= 0) {
            return got;
        }
        if (TAKE(c, "}")) {
            break;
        }
        if (!TAKE(c, ",")) {
            return 0;
        }
    }
    const unsigned required = kind == DEPTH       ? K_s | K_U | K_u | K_b | K_a
                              : kind == AGG_TRADE ? K_s | K_p | K_q | K_T | K_m
                                                  : K_s | K_b | K_B | K_a | K_A;
    return (d->seen & required) == required && TAKE(c, "}") && c->p == c->end;
}

/* The route of a stream: (kind, pd, sd, venue_symbol) with pd and sd in 0..19 and a str
 * symbol: 1; 0 if not (the reference path then runs); -1 with an exception set. */
static int
route(PyObject *routes, PyObject *stream, int *kind, Py_ssize_t *pd, Py_ssize_t *sd,
      PyObject **symbol)
{
    PyObject *entry = PyDict_GetItemWithError(routes, stream); /* borrowed */
    if (entry == NULL) {
        return PyErr_Occurred() ? -1 : 0;
    }
    if (!PyTuple_CheckExact(entry) || PyTuple_GET_SIZE(entry) != 4 ||
        !PyUnicode_CheckExact(PyTuple_GET_ITEM(entry, 3))) {
        return 0;
    }
    const long k = PyLong_AsLong(PyTuple_GET_ITEM(entry, 0));
    if (k == -1 && PyErr_Occurred()) {
        return -1;
    }
    *pd = PyLong_AsSsize_t(PyTuple_GET_ITEM(entry, 1));
    if (*pd == -1 && PyErr_Occurred()) {
        return -1;
    }
    *sd = PyLong_AsSsize_t(PyTuple_GET_ITEM(entry, 2));
    if (*sd == -1 && PyErr_Occurred()) {
        return -1;
    }
    *kind = (int)k;
    *symbol = PyTuple_GET_ITEM(entry, 3);
    return (k == DEPTH || k == BOOK_TICKER || k == AGG_TRADE) && *pd >= 0 && *pd < 20 && *sd >= 0 && *sd < 20;
}

static PyObject *streams[STR_SLOTS];

static PyObject *
scan(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    Cursor c;
    PyObject *routes;
    const int taken =
        frame_args(args, nargs, "scan takes 2 arguments: (frame, routes: dict)", &c, &routes);
    if (taken < 0) {
        return NULL;
    }
    const unsigned char *text;
    Py_ssize_t n;
    if (!taken || !TAKE(&c, "{\"stream\":\"") ||
        !string_body(&c, &text, &n) || !TAKE(&c, ",\"data\":{")) {
        Py_RETURN_NONE;
    }
    PyObject *stream = cached_name(streams, STR_SLOTS, text, n);
    if (stream == NULL) {
        return NULL;
    }
    int kind = 0;
    Py_ssize_t pd = 0, sd = 0;
    PyObject *symbol = NULL;
    const int known = route(routes, stream, &kind, &pd, &sd, &symbol);
    if (known <= 0) {
        Py_DECREF(stream);
        if (known < 0) {
            return NULL;
        }
        Py_RETURN_NONE;
    }
    Py_INCREF(symbol); /* borrowed from routes: a collection while reading may run Python */
    Py_DECREF(stream);
    Data d = {0};
    d.pu = -1;
    d.U = kind == AGG_TRADE ? -1 : 0; /* an aggTrade's id: -1 if absent */
    int found = data_object(&c, kind, pd, sd, &d);
    if (found > 0 && kind == AGG_TRADE && d.bid_size == 0) {
        found = 0; /* a trade of size 0: the reference's BadValue */
    }
    if (found <= 0) {
        Py_DECREF(symbol);
        Py_XDECREF(d.bids);
        Py_XDECREF(d.asks);
        if (found < 0) {
            return NULL;
        }
        Py_RETURN_NONE;
    }
    const int64_t ms = d.T != 0 ? d.T : d.E;
    if (kind == DEPTH) {
        PyObject *items[7] = {
            symbol,
            PyLong_FromLongLong(ms),
            PyLong_FromLongLong(d.U),
            PyLong_FromLongLong(d.u),
            PyLong_FromLongLong(d.pu),
            d.bids,
            d.asks,
        };
        return tuple_of(items, 7);
    }
    if (kind == AGG_TRADE) {
        PyObject *items[5] = {
            symbol,
            PyLong_FromLongLong(d.T),
            PyLong_FromLongLong(d.bid),
            PyLong_FromLongLong(d.ask ? -d.bid_size : d.bid_size),
            PyLong_FromLongLong(d.U),
        };
        return tuple_of(items, 5);
    }
    PyObject *items[6] = {
        symbol,
        PyLong_FromLongLong(ms),
        PyLong_FromLongLong(d.bid),
        PyLong_FromLongLong(d.bid_size),
        PyLong_FromLongLong(d.ask),
        PyLong_FromLongLong(d.ask_size),
    };
    return tuple_of(items, 6);
}

/* scan_rest: a REST depth body after its `{`, through its end: 1 if all of the fast shape with
 * the required keys (lastUpdateId, bids, asks), 0 if not, -1 with an exception set. */
static int
rest_object(Cursor *c, Py_ssize_t pd, Py_ssize_t sd, Data *d)
{
    enum { LAST = 1, E = 2, T = 4, BIDS = 8, ASKS = 16 };
    for (;;) {
        unsigned key;
        int got;
        if (TAKE(c, "\"lastUpdateId\":")) {
            key = LAST;
            got = integer(c, &d->u);
        }
        else if (TAKE(c, "\"E\":")) {
            key = E;
            got = integer(c, &d->E);
        }
        else if (TAKE(c, "\"T\":")) {
            key = T;
            got = integer(c, &d->T);
        }
        else if (TAKE(c, "\"bids\":")) {
            key = BIDS;
            got = (d->seen & key) ? 0 : pair_levels(c, pd, sd, &d->bids);
        }
        else if (TAKE(c, "\"asks\":")) {
            key = ASKS;
            got = (d->seen & key) ? 0 : pair_levels(c, pd, sd, &d->asks);
        }
        else {
            return 0;
        }
        if (got <= 0 || (d->seen & key)) {
            return got < 0 ? -1 : 0;
        }
        d->seen |= key;
        if (TAKE(c, "}")) {
            break;
        }
        if (!TAKE(c, ",")) {
            return 0;
        }
    }
    return (d->seen & (LAST | BIDS | ASKS)) == (LAST | BIDS | ASKS) && c->p == c->end;
}

static PyObject *
scan_rest(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    Cursor c;
    Py_ssize_t pd, sd;
    const int taken = body_args(args, nargs, "scan_rest takes 3 arguments: (body, "
                                "price_decimals, size_decimals)", &c, &pd, &sd);
    if (taken < 0) {
        return NULL;
    }
    if (!taken || !TAKE(&c, "{")) {
        Py_RETURN_NONE;
    }
    Data d = {0};
    const int found = rest_object(&c, pd, sd, &d);
    if (found <= 0) {
        Py_XDECREF(d.bids);
        Py_XDECREF(d.asks);
        if (found < 0) {
            return NULL;
        }
        Py_RETURN_NONE;
    }
    PyObject *items[4] = {
        PyLong_FromLongLong(d.u),
        PyLong_FromLongLong(d.T != 0 ? d.T : d.E),
        d.bids,
        d.asks,
    };
    return tuple_of(items, 4);
}

static PyMethodDef methods[] = {
    {"scan", (PyCFunction)(void (*)(void))scan, METH_FASTCALL,
     "A depth or bookTicker combined-stream frame of the usual shape -> its fields, else None."},
    {"scan_rest", (PyCFunction)(void (*)(void))scan_rest, METH_FASTCALL,
     "A REST depth body of the usual shape -> (lastUpdateId, T or E, bids, asks), else None."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef binance_module = {
    PyModuleDef_HEAD_INIT,
    "orderscope._binance",
    "Binance depth and bookTicker frames read in C; the connector's msgspec path is the "
    "reference.",
    -1,
    methods,
    NULL,
    NULL,
    NULL,
    NULL,
};

PyMODINIT_FUNC
PyInit__binance(void)
{
    return PyModule_Create(&binance_module);
}
