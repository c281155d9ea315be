/* orderscope._kraken: Kraken's v1 book frames read in C, in one pass over the bytes (round 3).
 *
 * scan_book(frame, decimals)
 *     -> (channel, pair, asks, bids, exch_ns, checksum, snapshot, price_frac, size_frac) | None
 *
 * For a book frame of exactly the shape Kraken sends (no whitespace, no escapes, keys in this
 * order), an update
 *
 *   [CHANNEL_ID,{"a":[LEVEL,...],"b":[...],"c":"CRC"}(,{...}),"book-N","PAIR"]
 *
 * (each payload holds "a", "b" or both, then an optional "c"; at most two payloads, at least one
 * level in all) or a snapshot
 *
 *   [CHANNEL_ID,{"as":[LEVEL,...],"bs":[LEVEL,...]},"book-N","PAIR"]
 *
 * with LEVEL = ["PRICE","VOLUME","TIME"] or ["PRICE","VOLUME","TIME","r"] (a republished level,
 * which the connector treats like any other) and PAIR a key of `decimals` (pair -> (price
 * decimals, size decimals)), returns what the connector's reference path (msgspec decoding,
 * orderscope.fixed.parse_fixed for each number, Kraken._levels) makes of it: asks and bids as
 * lists of (price, size) scaled ints in the frame's order, the newest level time in ns (0 without
 * a level), the checksum "c" as an int (the last payload's; -1 without one), whether it is a
 * snapshot, and the fractional digits Kraken wrote in the first level's price and volume (-1
 * without a level: the connector learns the book's wire format from them). Anything else -- a
 * trade or ticker frame, another key or key order, whitespace, an escape, a number that is not
 * plain ASCII digits with at most one '.', a non-zero digit beyond the decimals, a value beyond
 * int64, a checksum that is not 1-10 digits, an unknown pair, an update without a level, more
 * payloads -- returns None, and the caller runs the reference path, whose values and errors are
 * therefore unchanged.
 *
 * The pair comes last in the frame but its decimals are needed to read the levels: the tail
 * `"PAIR"]` is found first, backwards, then the whole frame is read forwards, which checks that
 * the pair it reaches is the one looked up.
 *
 * tests/venues/test_kraken_scan.py checks it against the reference.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

#include "_decimal.h"
#include "_scan.h"

#define TIME_DECIMALS 9     /* "1618678133.365913" -> ns, as kraken.py's TIME_DECIMALS */
#define CHANNEL_ID_DIGITS 18 /* any int64 a channel id is: a longer one is left to msgspec */
#define CHECKSUM_DIGITS 10  /* the reference's bound: a CRC32 has at most 10 digits */
#define NAME_SLOTS 64       /* channel and pair strs kept (_scan.h cached_name) */

static PyObject *names[NAME_SLOTS];

/* What the levels of one frame share: the decimals, and what is learned while reading them. */
typedef struct {
    Py_ssize_t pd, sd;
    int64_t newest;                 /* the newest level time, ns */
    Py_ssize_t price_frac, size_frac; /* of the frame's first level; -1 before it */
} Levels;

/* The digits after the '.' of the number text [s, quote) (0 without a '.'): _frac_digits. */
static inline Py_ssize_t
frac_digits(const unsigned char *s, const unsigned char *quote)
{
    const unsigned char *dot = memchr(s, '.', (size_t)(quote - s));
    return dot == NULL ? 0 : quote - dot - 1;
}

/* A decimal string's content through its closing quote (scan_decimal): 1, or 0. */
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

/* A list of levels `[...]` (possibly empty) appended to `side`: 1 if all of the fast shape, 0 if
 * not, -1 with an exception set. */
static int
scan_levels(Cursor *c, Levels *lv, PyObject *side)
{
    if (!TAKE(c, "[")) {
        return 0;
    }
    if (TAKE(c, "]")) {
        return 1;
    }
    for (;;) {
        int64_t price, size, time;
        if (!TAKE(c, "[\"")) {
            return 0;
        }
        const unsigned char *const price_text = c->p;
        if (!number(c, lv->pd, &price)) {
            return 0;
        }
        const unsigned char *const price_end = c->p - 1; /* its closing quote */
        if (!TAKE(c, ",\"")) {
            return 0;
        }
        const unsigned char *const size_text = c->p;
        if (!number(c, lv->sd, &size)) {
            return 0;
        }
        const unsigned char *const size_end = c->p - 1;
        if (!TAKE(c, ",\"") || !number(c, TIME_DECIMALS, &time)) {
            return 0;
        }
        if (!TAKE(c, "]") && !TAKE(c, ",\"r\"]")) {
            return 0;
        }
        if (lv->price_frac < 0) {
            lv->price_frac = frac_digits(price_text, price_end);
            lv->size_frac = frac_digits(size_text, size_end);
        }
        if (time > lv->newest) {
            lv->newest = time;
        }
        if (append_level(side, price, size) < 0) {
            return -1;
        }
        if (TAKE(c, "]")) {
            return 1;
        }
        if (!TAKE(c, ",")) {
            return 0;
        }
    }
}

/* An update payload `{"a":[...],"b":[...],"c":"CRC"}` ("a", "b" or both, "c" optional): 1 (the
 * checksum in *checksum when given), 0 if not of that shape, -1 with an exception set. */
static int
scan_update(Cursor *c, Levels *lv, PyObject *asks, PyObject *bids, int64_t *checksum)
{
    if (!TAKE(c, "{")) {
        return 0;
    }
    int found = 0;
    const int has_asks = TAKE(c, "\"a\":");
    if (has_asks) {
        found = scan_levels(c, lv, asks);
        if (found <= 0) {
            return found;
        }
    }
    if (has_asks ? TAKE(c, ",\"b\":") : TAKE(c, "\"b\":")) {
        found = scan_levels(c, lv, bids);
        if (found <= 0) {
            return found;
        }
    }
    if (!found) {
        return 0; /* neither "a" nor "b" */
    }
    if (TAKE(c, ",\"c\":\"")) {
        int64_t value = 0;
        Py_ssize_t n = 0;
        while (c->p < c->end && (unsigned)(*c->p - '0') <= 9) {
            if (++n > CHECKSUM_DIGITS) {
                return 0;
            }
            value = value * 10 + (*c->p - '0');
            c->p++;
        }
        if (n == 0 || !TAKE(c, "\"")) {
            return 0;
        }
        *checksum = value;
    }
    return TAKE(c, "}");
}

/* The frame's last string, `"PAIR"]` at its end: its text (printable ASCII, no backslash, not
 * empty), 1; or 0. The forward scan checks that it is indeed the pair. */
static int
tail_pair(const Cursor *c, const unsigned char **text, Py_ssize_t *n)
{
    const Py_ssize_t size = c->end - c->p;
    if (size < 4 || c->end[-1] != ']' || c->end[-2] != '"') {
        return 0;
    }
    Py_ssize_t i = size - 3; /* the pair's last character */
    while (i > 0 && c->p[i] != '"') {
        if (c->p[i] < 0x20 || c->p[i] > 0x7e || c->p[i] == '\\') {
            return 0;
        }
        i--;
    }
    if (i <= 0 || i == size - 3) {
        return 0; /* no opening quote, or an empty pair */
    }
    *text = c->p + i + 1;
    *n = size - 3 - i;
    return 1;
}

/* `[CHANNEL_ID,`: a JSON int of at most CHANNEL_ID_DIGITS digits (no sign, no leading 0). */
static int
scan_head(Cursor *c)
{
    if (!TAKE(c, "[")) {
        return 0;
    }
    const unsigned char *const digits = c->p;
    while (c->p < c->end && (unsigned)(*c->p - '0') <= 9) {
        c->p++;
    }
    const Py_ssize_t n = c->p - digits;
    if (n == 0 || n > CHANNEL_ID_DIGITS || (n > 1 && digits[0] == '0')) {
        return 0;
    }
    return TAKE(c, ",");
}

/* The payloads after the channel id into asks and bids: 1, 0 if not of the fast shape, -1 with
 * an exception set. */
static int
scan_payloads(Cursor *c, Levels *lv, PyObject *asks, PyObject *bids, int64_t *checksum,
              int *snapshot)
{
    if (TAKE(c, "{\"as\":")) {
        *snapshot = 1;
        int found = scan_levels(c, lv, asks);
        if (found > 0) {
            found = TAKE(c, ",\"bs\":") ? scan_levels(c, lv, bids) : 0;
        }
        return found > 0 ? TAKE(c, "}") : found;
    }
    *snapshot = 0;
    int found = scan_update(c, lv, asks, bids, checksum);
    if (found > 0 && c->end - c->p >= 2 && c->p[0] == ',' && c->p[1] == '{') {
        c->p++; /* asks and bids in two payloads */
        found = scan_update(c, lv, asks, bids, checksum);
    }
    if (found > 0 && PyList_GET_SIZE(asks) == 0 && PyList_GET_SIZE(bids) == 0) {
        return 0; /* an empty update: the reference's error */
    }
    return found;
}

/* `,"CHANNEL","PAIR"]` and the frame's end, the pair at `pair_text` (as found by tail_pair) and
 * the channel a book's ("book-..."): the channel str (a new reference), or NULL with *failed
 * 0 (not of that shape) or -1 (an exception set). */
static PyObject *
scan_tail(Cursor *c, const unsigned char *pair_text, Py_ssize_t pair_n, int *failed)
{
    const unsigned char *text;
    Py_ssize_t n;
    *failed = 0;
    if (!TAKE(c, ",\"") || !string_body(c, &text, &n) || n < 5 || memcmp(text, "book-", 5) != 0
        || !TAKE(c, ",\"") || c->p != pair_text) {
        return NULL;
    }
    c->p += pair_n;
    if (!TAKE(c, "\"]") || c->p != c->end) {
        return NULL;
    }
    PyObject *channel = cached_name(names, NAME_SLOTS, text, n);
    if (channel == NULL) {
        *failed = -1;
    }
    return channel;
}

/* The result tuple; takes the references of channel, pair, asks and bids (released if it cannot
 * be made). */
static PyObject *
scanned(PyObject *channel, PyObject *pair, PyObject *asks, PyObject *bids, const Levels *lv,
        int64_t checksum, int snapshot)
{
    PyObject *items[9] = {channel, pair, asks, bids, PyLong_FromLongLong(lv->newest),
                          PyLong_FromLongLong(checksum), Py_NewRef(snapshot ? Py_True : Py_False),
                          PyLong_FromSsize_t(lv->price_frac), PyLong_FromSsize_t(lv->size_frac)};
    return tuple_of(items, 9);
}

static PyObject *
scan_book(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "scan_book(frame, decimals) takes 2 arguments");
        return NULL;
    }
    PyObject *decimals = args[1];
    if (!PyDict_Check(decimals)) {
        PyErr_SetString(PyExc_TypeError, "decimals must be a dict");
        return NULL;
    }
    Cursor c;
    const unsigned char *pair_text;
    Py_ssize_t pair_n;
    if (!frame_cursor(args[0], &c) || c.p == c.end || *c.p != '['
        || !tail_pair(&c, &pair_text, &pair_n)) {
        Py_RETURN_NONE;
    }
    PyObject *pair = cached_name(names, NAME_SLOTS, pair_text, pair_n);
    if (pair == NULL) {
        return NULL;
    }
    Levels lv = {0, 0, 0, -1, -1};
    const int known = level_decimals(decimals, pair, &lv.pd, &lv.sd);
    if (known <= 0) {
        Py_DECREF(pair);
        if (known < 0) {
            return NULL;
        }
        Py_RETURN_NONE;
    }
    PyObject *asks = PyList_New(0);
    PyObject *bids = asks == NULL ? NULL : PyList_New(0);
    if (bids == NULL) {
        Py_DECREF(pair);
        Py_XDECREF(asks);
        return NULL;
    }
    int64_t checksum = -1;
    int snapshot = 0;
    int found = scan_head(&c) ? scan_payloads(&c, &lv, asks, bids, &checksum, &snapshot) : 0;
    PyObject *channel = NULL;
    if (found > 0) {
        channel = scan_tail(&c, pair_text, pair_n, &found);
    }
    if (channel != NULL) {
        return scanned(channel, pair, asks, bids, &lv, checksum, snapshot);
    }
    Py_DECREF(pair);
    Py_DECREF(asks);
    Py_DECREF(bids);
    if (found < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"scan_book", (PyCFunction)(void (*)(void))scan_book, METH_FASTCALL,
     "A Kraken book frame of the usual shape -> (channel, pair, asks, bids, exch_ns, checksum,"
     " snapshot, price_frac, size_frac), else None."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef kraken_module = {
    PyModuleDef_HEAD_INIT,
    "orderscope._kraken",
    "Kraken v1 book frames read in C; the connector's msgspec path is the reference.",
    -1,
    methods,
    NULL,
    NULL,
    NULL,
    NULL,
};

PyMODINIT_FUNC
PyInit__kraken(void)
{
    return PyModule_Create(&kraken_module);
}
