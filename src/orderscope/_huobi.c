/* orderscope._huobi: HTX depth frames cut up in C, instead of a msgspec pass over the levels.
 *
 * scan_depth(text) -> (symbol, bids, asks, ts, version, tick_ts) | None
 *
 * For a (decompressed) frame of exactly the shape HTX sends (every key in this order, no
 * whitespace outside the level arrays, no escapes):
 *
 *   {"ch":"market.SYMBOL.depth.step0","ts":N,"tick":{"bids":[[P,Q],...],"asks":[...],
 *    "version":N,"ts":N}}
 *
 * returns the symbol, the bytes of the two level arrays and the three ints, each as the
 * connector's msgspec path (``_RAW_DEPTH_FRAME``: ``_split_topic(ch)``, ``tick.bids`` and
 * ``tick.asks`` as ``msgspec.Raw``, the envelope's and the tick's ints) reads them, PROVIDED
 * the arrays then pass ``orderscope._levels.parse_raw_float_levels`` (the connector's next
 * step, which takes only a JSON array of [number, number] levels and nothing after it): the
 * array is cut at its first "]]" (or is "[]"), which is its closing bracket exactly when it
 * is such an array. Anything else -- another key order, whitespace, an escape, an integer that
 * is not plain or has more than 18 digits, another channel, a symbol with a '.' -- returns
 * None, and the caller runs the msgspec path, whose values and errors are therefore unchanged.
 *
 * reuse_levels(raw, old_raw, old_levels, price_decimals, size_decimals, parse) -> list | None
 *
 * HTX sends the whole book in every frame, mostly the previous frame's levels again (93% of them
 * in the capture). For two compact level arrays (`[[P,Q],...]`, no whitespace, no nesting) of
 * the same instrument, `old_levels` being what parse_raw_float_levels made of `old_raw`: the
 * levels of `raw`, each level whose bytes are those of an old level (aligned in order, a few
 * levels of look-ahead) taken from `old_levels`, the others read by ONE call of `parse`
 * (orderscope._levels.parse_raw_float_levels) on an array of them alone. A level's value is a
 * function of its bytes and the decimals, so this is what parse(raw, pd, sd) returns; None
 * whenever that call returns None or the arrays are not of that shape (the caller then parses
 * `raw` whole), so a bad level is reported as before.
 *
 * tests/venues/test_huobi_scan.py checks both against the reference.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

#include "_scan.h"

#define NAME_SLOTS 64 /* instrument strs kept (_scan.h cached_name) */
static PyObject *names[NAME_SLOTS];

/* A level array at the cursor: `[]`, or `[` through the first `]]`; 1 with a new bytes object
 * holding it in *out, 0 if it does not start so, -1 with an exception set. */
static int
level_array(Cursor *c, PyObject **out)
{
    const unsigned char *start = c->p;
    *out = NULL;
    if (!TAKE(c, "[")) {
        return 0;
    }
    if (!TAKE(c, "]")) {
        /* memchr (vectorised) from one ']' to the next: glibc's memmem is several times slower
         * for a two-byte needle */
        const unsigned char *q = c->p;
        for (;;) {
            q = memchr(q, ']', (size_t)(c->end - q));
            if (q == NULL || q + 1 >= c->end) {
                return 0;
            }
            if (q[1] == ']') {
                break;
            }
            q += 2; /* what follows a level's ']' is not a ']' of interest */
        }
        c->p = q + 2;
    }
    *out = PyBytes_FromStringAndSize((const char *)start, c->p - start);
    return *out == NULL ? -1 : 1;
}

/* A JSON integer (json_int) as a new int in *out: 1, 0 if not a plain one, -1 with an
 * exception set. */
static int
int_object(Cursor *c, PyObject **out)
{
    int64_t v;
    *out = NULL;
    if (!json_int(c, &v)) {
        return 0;
    }
    *out = PyLong_FromLongLong(v);
    return *out == NULL ? -1 : 1;
}

static PyObject *
scan_depth(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 1) {
        PyErr_SetString(PyExc_TypeError, "scan_depth takes 1 argument: (text)");
        return NULL;
    }
    Cursor c;
    if (!frame_cursor(args[0], &c) || !TAKE(&c, "{\"ch\":\"market.")) {
        Py_RETURN_NONE;
    }
    PyObject *symbol = NULL, *bids = NULL, *asks = NULL;
    PyObject *ts = NULL, *version = NULL, *tick_ts = NULL, *result = NULL;
    int status = 0; /* 0: fall back; -1: an exception is set */
    /* the symbol: _split_topic's, up to the next '.', of plain characters */
    const unsigned char *text = c.p;
    while (c.p < c.end && *c.p != '.' && *c.p != '"' && *c.p != '\\' && *c.p >= 0x20 &&
           *c.p <= 0x7e) {
        c.p++;
    }
    const Py_ssize_t n = c.p - text;
    if (n == 0 || !TAKE(&c, ".depth.step0\",\"ts\":")) {
        goto done;
    }
    if ((symbol = cached_name(names, NAME_SLOTS, text, n)) == NULL) {
        status = -1;
        goto done;
    }
    if ((status = int_object(&c, &ts)) <= 0 || !TAKE(&c, ",\"tick\":{\"bids\":") ||
        (status = level_array(&c, &bids)) <= 0 || !TAKE(&c, ",\"asks\":") ||
        (status = level_array(&c, &asks)) <= 0 || !TAKE(&c, ",\"version\":") ||
        (status = int_object(&c, &version)) <= 0 || !TAKE(&c, ",\"ts\":") ||
        (status = int_object(&c, &tick_ts)) <= 0 || !TAKE(&c, "}}") || c.p != c.end) {
        status = status < 0 ? -1 : 0;
        goto done;
    }
    result = PyTuple_Pack(6, symbol, bids, asks, ts, version, tick_ts);
    status = result == NULL ? -1 : 1;
done:
    Py_XDECREF(symbol);
    Py_XDECREF(bids);
    Py_XDECREF(asks);
    Py_XDECREF(ts);
    Py_XDECREF(version);
    Py_XDECREF(tick_ts);
    if (result != NULL) {
        return result;
    }
    if (status < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

/* ---- reuse_levels ---------------------------------------------------------------------- */

/* A level's bytes, '[' to ']'. */
typedef struct {
    const unsigned char *p;
    Py_ssize_t n;
} Span;

/* More levels than this a side: parsed whole (HTX sends 150; the spans live on the stack). */
#define MAX_LEVELS 512
/* How many old levels past the next one a new level is compared with (levels deleted since). */
#define LOOK_AHEAD 8

/* The levels of a compact array of the bytes `b` (each '[' to its first ']'): their count, or
 * -1 if it is not `[]` or `[[...],...]` with no whitespace between levels, at most `cap`. */
static Py_ssize_t
split_levels(PyObject *b, Span *spans, Py_ssize_t cap)
{
    const unsigned char *p = (const unsigned char *)PyBytes_AS_STRING(b);
    const Py_ssize_t n = PyBytes_GET_SIZE(b);
    if (n < 2 || p[0] != '[' || p[n - 1] != ']') {
        return -1;
    }
    const unsigned char *q = p + 1, *const end = p + n - 1; /* the outer ']' */
    Py_ssize_t count = 0;
    if (q == end) {
        return 0;
    }
    for (;;) {
        if (q >= end || *q != '[' || count >= cap) {
            return -1;
        }
        /* No check for a '[' inside: the array is these spans joined by ',', and a span is used
         * only as a level that parsed before (byte for byte) or that parses now, so a span that
         * is no level ("[1,[2]") fails the parse and the call returns None. */
        const unsigned char *close = memchr(q, ']', (size_t)(end - q));
        if (close == NULL) {
            return -1;
        }
        spans[count].p = q;
        spans[count].n = close + 1 - q;
        count++;
        q = close + 1;
        if (q == end) {
            return count;
        }
        if (*q != ',') {
            return -1;
        }
        q++;
    }
}

static inline int
same_span(const Span *a, const Span *b)
{
    return a->n == b->n && memcmp(a->p, b->p, (size_t)a->n) == 0;
}

static PyObject *
reuse_levels(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 6) {
        PyErr_SetString(PyExc_TypeError,
                        "reuse_levels(raw, old_raw, old_levels, price_decimals, size_decimals,"
                        " parse) takes 6 arguments");
        return NULL;
    }
    PyObject *raw = args[0], *old_raw = args[1], *old_levels = args[2];
    if (!PyBytes_CheckExact(raw) || !PyBytes_CheckExact(old_raw) ||
        !PyList_CheckExact(old_levels)) {
        Py_RETURN_NONE;
    }
    Span fresh[MAX_LEVELS], old[MAX_LEVELS];
    Py_ssize_t matched[MAX_LEVELS]; /* the old level's index, or -1: read anew */
    const Py_ssize_t count = split_levels(raw, fresh, MAX_LEVELS);
    const Py_ssize_t old_count = split_levels(old_raw, old, MAX_LEVELS);
    if (count < 0 || old_count < 0 || old_count != PyList_GET_SIZE(old_levels)) {
        Py_RETURN_NONE;
    }
    Py_ssize_t j = 0, unmatched = 0, unmatched_bytes = 0;
    for (Py_ssize_t i = 0; i < count; i++) {
        matched[i] = -1;
        for (Py_ssize_t k = j; k < old_count && k <= j + LOOK_AHEAD; k++) {
            if (same_span(&fresh[i], &old[k])) {
                matched[i] = k;
                j = k + 1;
                break;
            }
        }
        if (matched[i] < 0) {
            unmatched++;
            unmatched_bytes += fresh[i].n + 1;
        }
    }
    PyObject *parsed = NULL;
    if (unmatched > 0) {
        /* `[` the new levels joined by ',' `]`: one call of the kernel for all of them */
        PyObject *text = PyBytes_FromStringAndSize(NULL, unmatched_bytes + 1);
        if (text == NULL) {
            return NULL;
        }
        unsigned char *w = (unsigned char *)PyBytes_AS_STRING(text);
        *w++ = '[';
        for (Py_ssize_t i = 0; i < count; i++) {
            if (matched[i] < 0) {
                memcpy(w, fresh[i].p, (size_t)fresh[i].n);
                w += fresh[i].n;
                *w++ = ',';
            }
        }
        w[-1] = ']';
        PyObject *call[3] = {text, args[3], args[4]};
        parsed = PyObject_Vectorcall(args[5], call, 3, NULL);
        Py_DECREF(text);
        if (parsed == NULL) {
            return NULL;
        }
        if (!PyList_CheckExact(parsed) || PyList_GET_SIZE(parsed) != unmatched) {
            Py_DECREF(parsed);
            Py_RETURN_NONE; /* a level it does not take: the caller's whole parse says which */
        }
    }
    PyObject *result = PyList_New(count);
    if (result == NULL) {
        Py_XDECREF(parsed);
        return NULL;
    }
    Py_ssize_t next = 0;
    for (Py_ssize_t i = 0; i < count; i++) {
        PyObject *level = matched[i] >= 0 ? PyList_GET_ITEM(old_levels, matched[i])
                                          : PyList_GET_ITEM(parsed, next++);
        PyList_SET_ITEM(result, i, Py_NewRef(level));
    }
    Py_XDECREF(parsed);
    return result;
}

static PyMethodDef methods[] = {
    {"scan_depth", (PyCFunction)(void (*)(void))scan_depth, METH_FASTCALL,
     "A depth frame of the usual shape -> (symbol, bids, asks, ts, version, tick_ts), else"
     " None."},
    {"reuse_levels", (PyCFunction)(void (*)(void))reuse_levels, METH_FASTCALL,
     "parse_raw_float_levels(raw, pd, sd), reading only the levels not in old_raw, or None."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef huobi_module = {
    PyModuleDef_HEAD_INIT,
    "orderscope._huobi",
    "HTX depth frames cut up in C; the connector's msgspec path is the reference.",
    -1,
    methods,
    NULL,
    NULL,
    NULL,
    NULL,
};

PyMODINIT_FUNC
PyInit__huobi(void)
{
    return PyModule_Create(&huobi_module);
}
