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
 * tests/venues/test_huobi_scan.py checks it against the reference.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

#include "_scan.h"

/* A level array at the cursor: `[]`, or `[` through the first `]]`; 1 with a new bytes object
 * holding it in *out, 0 if it does not start so, -1 with an exception set. */
static int
level_array(Cursor *c, PyObject **out)
{
    const unsigned char *start = c->p;
    *out = NULL;
    if (!LIT(c, "[")) {
        return 0;
    }
    if (!LIT(c, "]")) {
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
    if (!frame_cursor(args[0], &c) || !LIT(&c, "{\"ch\":\"market.")) {
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
    if (n == 0 || !LIT(&c, ".depth.step0\",\"ts\":")) {
        goto done;
    }
    if ((symbol = name_object(text, n)) == NULL) {
        status = -1;
        goto done;
    }
    if ((status = int_object(&c, &ts)) <= 0 || !LIT(&c, ",\"tick\":{\"bids\":") ||
        (status = level_array(&c, &bids)) <= 0 || !LIT(&c, ",\"asks\":") ||
        (status = level_array(&c, &asks)) <= 0 || !LIT(&c, ",\"version\":") ||
        (status = int_object(&c, &version)) <= 0 || !LIT(&c, ",\"ts\":") ||
        (status = int_object(&c, &tick_ts)) <= 0 || !LIT(&c, "}}") || c.p != c.end) {
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

static PyMethodDef methods[] = {
    {"scan_depth", (PyCFunction)(void (*)(void))scan_depth, METH_FASTCALL,
     "A depth frame of the usual shape -> (symbol, bids, asks, ts, version, tick_ts), else"
     " None."},
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
