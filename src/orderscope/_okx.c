/* orderscope._okx: OKX v5 book frames read in C, in one pass over the bytes.
 *
 * scan_books(frame, units)
 *     -> (channel, inst_id, is_snapshot, bids, asks, ts_ns, checksum, prev_seq_id, seq_id) | None
 *
 * For a frame of exactly the shape OKX sends (every key in this order, no whitespace, no
 * escapes, one book):
 *
 *   {"arg":{"channel":"books","instId":"I"},"action":"update","data":[{"asks":[["P","Q","0","1"],
 *    ...],"bids":[...],"ts":"MS"[,"checksum":N][,"prevSeqId":N][,"seqId":N]}]}
 *
 * (channel books, books-l2-tbt or books50-l2-tbt; action update or snapshot; levels of at least
 * a price and a size, every item a plain string), with I a key of `units` (instId ->
 * (price_decimals, wire_decimals, multiplier)), returns what the connector's reference path
 * (msgspec decoding, orderscope.fixed.parse_fixed per price and size, the size times the
 * instrument's contract multiplier, `int(ts) * 1_000_000`) makes of it: bids and asks as lists
 * of (price, size) scaled ints in the frame's order, the time in ns, and the three ints, None
 * where absent. Anything else -- another key order, whitespace, an escape, a null, a number that
 * is not plain ASCII digits with at most one '.', a non-zero digit beyond the decimals, a value
 * (or a size times the multiplier, or a time in ns) beyond int64, an unknown instrument --
 * returns None, and the caller runs the reference path, whose values and errors are therefore
 * unchanged.
 *
 * tests/venues/test_okx_scan.py checks it against the reference.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

#include "_decimal.h"
#include "_scan.h"

#define NAME_SLOTS 64 /* instrument strs kept (_scan.h cached_name) */
static PyObject *names[NAME_SLOTS];

/* The ts string's text (after its opening quote) as _ms reads it: ASCII digits only, at least
 * one; here at most 18 and a value in ms whose ns fit int64. */
static inline int
millis(Cursor *c, int64_t *ns)
{
    const unsigned char *s = c->p;
    const unsigned char *q = s;
    int64_t v = 0;
    while (q < c->end && (unsigned)(*q - '0') <= 9 && q - s < 18) {
        v = v * 10 + (*q - '0');
        q++;
    }
    if (q == s || q >= c->end || *q != '"' || v > INT64_MAX / 1000000) {
        return 0;
    }
    *ns = v * 1000000;
    c->p = q + 1;
    return 1;
}

/* How an instrument's levels are read: decimals of prices and of wire sizes, and the contract
 * multiplier sizes are scaled by. */
typedef struct {
    Py_ssize_t pd, wd;
    int64_t multiplier;
} Units;

/* A tuple item as a C integer in [lo, hi]: 1; 0 if it is another value (or not an int); -1
 * with an exception set. */
static int
small_int(PyObject *item, long long lo, long long hi, long long *out)
{
    if (!PyLong_CheckExact(item)) {
        return 0;
    }
    int overflow = 0;
    *out = PyLong_AsLongLongAndOverflow(item, &overflow);
    if (*out == -1 && PyErr_Occurred()) {
        return -1;
    }
    return !overflow && *out >= lo && *out <= hi;
}

/* `units[inst_id]` as Units: 1 if found, a tuple of three ints within the fast path's range; 0
 * if not (the reference path then runs); -1 with an exception set. */
static int
units_of(PyObject *units, PyObject *inst_id, Units *u)
{
    PyObject *entry = PyDict_GetItemWithError(units, inst_id); /* borrowed */
    if (entry == NULL) {
        return PyErr_Occurred() ? -1 : 0;
    }
    if (!PyTuple_CheckExact(entry) || PyTuple_GET_SIZE(entry) != 3) {
        return 0;
    }
    long long pd, wd, multiplier;
    int ok = small_int(PyTuple_GET_ITEM(entry, 0), 0, 19, &pd);
    if (ok > 0) {
        ok = small_int(PyTuple_GET_ITEM(entry, 1), 0, 19, &wd);
    }
    if (ok > 0) {
        ok = small_int(PyTuple_GET_ITEM(entry, 2), 1, INT64_MAX, &multiplier);
    }
    if (ok > 0) {
        u->pd = (Py_ssize_t)pd;
        u->wd = (Py_ssize_t)wd;
        u->multiplier = (int64_t)multiplier;
    }
    return ok;
}

/* A side, `[[...],...]` (possibly empty), appended to `side`: 1 if all of the fast shape, 0 if
 * not, -1 with an exception set. */
static int
scan_side(Cursor *c, const Units *u, PyObject *side)
{
    if (!TAKE(c, "[")) {
        return 0;
    }
    if (TAKE(c, "]")) {
        return 1;
    }
    for (;;) {
        int64_t price, size;
        if (!TAKE(c, "[\"")) {
            return 0;
        }
        const unsigned char *after = scan_decimal(c->p, c->end, u->pd, &price);
        if (after == NULL) {
            return 0;
        }
        c->p = after;
        if (!TAKE(c, ",\"") || (after = scan_decimal(c->p, c->end, u->wd, &size)) == NULL) {
            return 0;
        }
        c->p = after;
        /* OKX's liquidation-order and order counts: any strings, not read */
        while (TAKE(c, ",\"")) {
            const unsigned char *text;
            Py_ssize_t n;
            if (!string_body(c, &text, &n)) {
                return 0;
            }
        }
        if (!TAKE(c, "]") || __builtin_mul_overflow(size, u->multiplier, &size)) {
            return 0;
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

/* The channel names, made once (module init). */
static PyObject *books_channel, *tbt_channel, *tbt50_channel;

/* `"channel":"C"` read into a new reference to its kept str: 1, or 0 for another channel. */
static int
scan_channel(Cursor *c, PyObject **channel)
{
    if (TAKE(c, "books\"")) {
        *channel = Py_NewRef(books_channel);
    }
    else if (TAKE(c, "books-l2-tbt\"")) {
        *channel = Py_NewRef(tbt_channel);
    }
    else if (TAKE(c, "books50-l2-tbt\"")) {
        *channel = Py_NewRef(tbt50_channel);
    }
    else {
        return 0;
    }
    return 1;
}

/* The book's optional ints, in the order OKX writes them: `,"KEY":N` for each KEY present, N
 * a plain integer. */
static const char *const OPTIONAL_KEYS[3] = {",\"checksum\":", ",\"prevSeqId\":", ",\"seqId\":"};

/* Each optional int into values[i]: a new int, or None (a new reference) where absent. 1, 0 if
 * one is not a plain integer, -1 with an exception set. values[] is filled as far as it got
 * (NULL after that) either way. */
static int
optional_ints(Cursor *c, PyObject *values[3])
{
    for (int i = 0; i < 3; i++) {
        values[i] = NULL;
    }
    for (int i = 0; i < 3; i++) {
        if (!take(c, OPTIONAL_KEYS[i], (Py_ssize_t)strlen(OPTIONAL_KEYS[i]))) {
            values[i] = Py_NewRef(Py_None);
            continue;
        }
        int64_t v;
        if (!json_int(c, &v)) {
            return 0;
        }
        if ((values[i] = PyLong_FromLongLong(v)) == NULL) {
            return -1;
        }
    }
    return 1;
}

static PyObject *
scan_books(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "scan_books takes 2 arguments: (frame, units)");
        return NULL;
    }
    PyObject *units = args[1];
    if (!PyDict_Check(units)) {
        PyErr_SetString(PyExc_TypeError, "units must be a dict");
        return NULL;
    }
    Cursor c;
    if (!frame_cursor(args[0], &c) || !TAKE(&c, "{\"arg\":{\"channel\":\"")) {
        Py_RETURN_NONE;
    }
    PyObject *channel = NULL, *inst_id = NULL, *bids = NULL, *asks = NULL;
    PyObject *time_ns = NULL, *ints[3] = {NULL, NULL, NULL}; /* checksum, prevSeqId, seqId */
    PyObject *result = NULL;
    const unsigned char *text;
    Py_ssize_t n;
    Units u;
    int status = 0; /* 0: fall back; -1: an exception is set */
    if (!scan_channel(&c, &channel) || !TAKE(&c, ",\"instId\":\"") ||
        !string_body(&c, &text, &n) || n == 0 || !TAKE(&c, "},\"action\":\"")) {
        goto done;
    }
    if ((inst_id = cached_name(names, NAME_SLOTS, text, n)) == NULL) {
        status = -1;
        goto done;
    }
    const int known = units_of(units, inst_id, &u);
    if (known <= 0) {
        status = known;
        goto done;
    }
    int snapshot;
    if (TAKE(&c, "update\"")) {
        snapshot = 0;
    }
    else if (TAKE(&c, "snapshot\"")) {
        snapshot = 1;
    }
    else {
        goto done;
    }
    if (!TAKE(&c, ",\"data\":[{\"asks\":")) {
        goto done;
    }
    if ((bids = PyList_New(0)) == NULL || (asks = PyList_New(0)) == NULL) {
        status = -1;
        goto done;
    }
    int found = scan_side(&c, &u, asks);
    if (found > 0) {
        found = TAKE(&c, ",\"bids\":") ? scan_side(&c, &u, bids) : 0;
    }
    if (found <= 0) {
        status = found;
        goto done;
    }
    int64_t ns;
    if (!TAKE(&c, ",\"ts\":\"") || !millis(&c, &ns)) {
        goto done;
    }
    if ((found = optional_ints(&c, ints)) <= 0) {
        status = found;
        goto done;
    }
    if (!TAKE(&c, "}]}") || c.p != c.end) {
        goto done;
    }
    if ((time_ns = PyLong_FromLongLong(ns)) == NULL) {
        status = -1;
        goto done;
    }
    result = PyTuple_Pack(9, channel, inst_id, snapshot ? Py_True : Py_False, bids, asks, time_ns,
                          ints[0], ints[1], ints[2]);
    if (result == NULL) {
        status = -1;
    }
done:
    Py_XDECREF(channel);
    Py_XDECREF(inst_id);
    Py_XDECREF(bids);
    Py_XDECREF(asks);
    Py_XDECREF(time_ns);
    for (int i = 0; i < 3; i++) {
        Py_XDECREF(ints[i]);
    }
    if (result != NULL) {
        return result;
    }
    if (status < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"scan_books", (PyCFunction)(void (*)(void))scan_books, METH_FASTCALL,
     "A books frame of the usual shape -> (channel, inst_id, is_snapshot, bids, asks, ts_ns,"
     " checksum, prev_seq_id, seq_id), else None."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef okx_module = {
    PyModuleDef_HEAD_INIT,
    "orderscope._okx",
    "OKX books frames read in C; the connector's msgspec path is the reference.",
    -1,
    methods,
    NULL,
    NULL,
    NULL,
    NULL,
};

PyMODINIT_FUNC
PyInit__okx(void)
{
    if (books_channel == NULL) {
        books_channel = PyUnicode_InternFromString("books");
        tbt_channel = PyUnicode_InternFromString("books-l2-tbt");
        tbt50_channel = PyUnicode_InternFromString("books50-l2-tbt");
        if (books_channel == NULL || tbt_channel == NULL || tbt50_channel == NULL) {
            return NULL;
        }
    }
    return PyModule_Create(&okx_module);
}
