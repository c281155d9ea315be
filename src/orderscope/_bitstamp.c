/* orderscope._bitstamp: Bitstamp diff_order_book frames read in C, in one pass (issues 2/3).
 *
 * scan_diff(frame, decimals) -> (pair, microtimestamp, bids, asks) | None
 *
 * For a frame of exactly the shape the venue sends (no whitespace, no escapes):
 *
 *   {"data":{"timestamp":"T","microtimestamp":"M","bids":[["PRICE","SIZE"],...],"asks":[...]},
 *    "channel":"diff_order_book_PAIR","event":"data"}
 *
 * (the data object's keys in any order, each once, "timestamp" optional) with PAIR a key of
 * `decimals` (pair -> (price_decimals, size_decimals)) and M at most 18 ASCII digits, returns
 * what the connector's reference path (msgspec decoding, orderscope.fixed.parse_fixed per
 * number, int(M)) makes of it: the levels as lists of (price, size) scaled ints in the frame's
 * order. Anything else returns None, and the connector runs the reference path, whose values
 * and errors are therefore unchanged.
 *
 * The pair comes last in the frame but its decimals are needed for the levels: it is read
 * first, from the end (the frame must end with `","event":"data"}`), and the data object read
 * from the start must then end exactly where `,"channel":"` begins.
 *
 * scan_book(body, price_decimals, size_decimals) -> (microtimestamp, bids, asks) | None
 *
 * The same for the REST order book's body, the same object (keys in any order, each once) with
 * JSON whitespace allowed between its tokens, as the venue writes it.
 *
 * tests/venues/test_bitstamp_scan.py checks both against the reference.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

#include "_jsonscan.h"

static PyObject *pairs[STR_SLOTS];

enum { K_TIMESTAMP = 1, K_MICRO = 2, K_BIDS = 4, K_ASKS = 8 };

/* The microtimestamp's text after its opening quote: 1 to 18 ASCII digits (int() of them, as
 * the connector's `text.isdigit() and text.isascii()` then int(text)), through the closing
 * quote. */
static int
stamp(Cursor *c, int64_t *out)
{
    int64_t v = 0;
    const unsigned char *p = c->p;
    while (p < c->end && (unsigned)(*p - '0') <= 9) {
        v = v * 10 + (*p - '0');
        p++;
        if (p - c->p > 18) {
            return 0;
        }
    }
    if (p == c->p || p >= c->end || *p != '"') {
        return 0;
    }
    *out = v;
    c->p = p + 1;
    return 1;
}

/* The data object after its `{` through its `}`: 1 if all of the fast shape with the required
 * keys, 0 if not, -1 with an exception set. New references in *bids and *asks once read.
 * `spaced`: JSON whitespace allowed between the tokens (the REST body). */
static int
diff_data(Cursor *c, Py_ssize_t pd, Py_ssize_t sd, int64_t *micro, PyObject **bids,
          PyObject **asks, int spaced)
{
    unsigned seen = 0;
    for (;;) {
        unsigned key;
        int got;
        const unsigned char *text;
        Py_ssize_t n;
        if (!TAKE_SP(c, "\"", spaced)) {
            return 0;
        }
        if (TAKE(c, "timestamp\"")) {
            key = K_TIMESTAMP;
        }
        else if (TAKE(c, "microtimestamp\"")) {
            key = K_MICRO;
        }
        else if (TAKE(c, "bids\"")) {
            key = K_BIDS;
        }
        else if (TAKE(c, "asks\"")) {
            key = K_ASKS;
        }
        else {
            return 0;
        }
        if ((seen & key) || !TAKE_SP(c, ":", spaced)) {
            return 0;
        }
        seen |= key;
        switch (key) {
        case K_TIMESTAMP:
            got = TAKE_SP(c, "\"", spaced) && string_body(c, &text, &n);
            break;
        case K_MICRO:
            got = TAKE_SP(c, "\"", spaced) && stamp(c, micro);
            break;
        case K_BIDS:
            got = pair_levels_in(c, pd, sd, bids, spaced);
            break;
        default:
            got = pair_levels_in(c, pd, sd, asks, spaced);
            break;
        }
        if (got <= 0) {
            return got;
        }
        if (TAKE_SP(c, "}", spaced)) {
            break;
        }
        if (!TAKE_SP(c, ",", spaced)) {
            return 0;
        }
    }
    return (seen & (K_MICRO | K_BIDS | K_ASKS)) == (K_MICRO | K_BIDS | K_ASKS);
}

#define TAIL "\",\"event\":\"data\"}"
#define CHANNEL_KEY "},\"channel\":\"diff_order_book_"

static PyObject *
scan_diff(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    Cursor c;
    PyObject *decimals;
    const int taken = frame_args(args, nargs, "scan_diff takes 2 arguments: (frame, decimals: dict)",
                                 &c, &decimals);
    if (taken < 0) {
        return NULL;
    }
    if (!taken || !TAKE(&c, "{\"data\":{")) {
        Py_RETURN_NONE;
    }
    /* The pair, from the end: `},"channel":"diff_order_book_PAIR","event":"data"}`. */
    const Py_ssize_t tail = (Py_ssize_t)(sizeof(TAIL) - 1);
    const Py_ssize_t key = (Py_ssize_t)(sizeof(CHANNEL_KEY) - 1);
    if (c.end - c.p < tail + key || memcmp(c.end - tail, TAIL, (size_t)tail) != 0) {
        Py_RETURN_NONE;
    }
    const unsigned char *const pair_end = c.end - tail;
    const unsigned char *pair_start = pair_end;
    while (pair_start > c.p && pair_start[-1] != '_' && pair_start[-1] != '"') {
        const unsigned char ch = pair_start[-1];
        if (ch < 0x20 || ch > 0x7e || ch == '\\') {
            Py_RETURN_NONE;
        }
        pair_start--;
    }
    if (pair_start == pair_end || pair_start - c.p < key ||
        memcmp(pair_start - key, CHANNEL_KEY, (size_t)key) != 0) {
        Py_RETURN_NONE;
    }
    const unsigned char *const data_end = pair_start - key; /* where the data's `}` must be */
    PyObject *pair = cached_name(pairs, STR_SLOTS, pair_start, pair_end - pair_start);
    if (pair == NULL) {
        return NULL;
    }
    Py_ssize_t pd = 0, sd = 0;
    const int known = level_decimals(decimals, pair, &pd, &sd);
    if (known <= 0) {
        Py_DECREF(pair);
        if (known < 0) {
            return NULL;
        }
        Py_RETURN_NONE;
    }
    Cursor data = {c.p, data_end + 1}; /* the data object's keys and values, through its `}` */
    int64_t micro = 0;
    PyObject *bids = NULL, *asks = NULL;
    const int found = diff_data(&data, pd, sd, &micro, &bids, &asks, 0);
    if (found > 0 && data.p == data.end) {
        PyObject *items[4] = {pair, PyLong_FromLongLong(micro), bids, asks};
        return tuple_of(items, 4);
    }
    Py_DECREF(pair);
    Py_XDECREF(bids);
    Py_XDECREF(asks);
    if (found < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyObject *
scan_book(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    Cursor c;
    Py_ssize_t pd, sd;
    const int taken = body_args(args, nargs, "scan_book takes 3 arguments: (body, "
                                "price_decimals, size_decimals)", &c, &pd, &sd);
    if (taken < 0) {
        return NULL;
    }
    if (!taken || !TAKE_SP(&c, "{", 1)) {
        Py_RETURN_NONE;
    }
    int64_t micro = 0;
    PyObject *bids = NULL, *asks = NULL;
    const int found = diff_data(&c, pd, sd, &micro, &bids, &asks, 1);
    skip_space(&c);
    if (found > 0 && c.p == c.end) {
        PyObject *items[3] = {PyLong_FromLongLong(micro), bids, asks};
        return tuple_of(items, 3);
    }
    Py_XDECREF(bids);
    Py_XDECREF(asks);
    if (found < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"scan_book", (PyCFunction)(void (*)(void))scan_book, METH_FASTCALL,
     "A REST order_book body of the usual shape -> (microtimestamp, bids, asks), else None."},
    {"scan_diff", (PyCFunction)(void (*)(void))scan_diff, METH_FASTCALL,
     "A diff_order_book frame of the usual shape -> (pair, microtimestamp, bids, asks), else "
     "None."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef bitstamp_module = {
    PyModuleDef_HEAD_INIT,
    "orderscope._bitstamp",
    "Bitstamp diff_order_book frames read in C; the connector's msgspec path is the reference.",
    -1,
    methods,
    NULL,
    NULL,
    NULL,
    NULL,
};

PyMODINIT_FUNC
PyInit__bitstamp(void)
{
    return PyModule_Create(&bitstamp_module);
}
