/* A cursor over one JSON frame for the one-pass frame scanners (_binance.c, _bitstamp.c):
 * header-only, like _decimal.h (static inline, no symbol exported). Every reader is
 * bounds-checked against the frame's end and accepts only the plain shape venues send (compact,
 * or with JSON whitespace where a reader says so; no escapes, printable ASCII); anything else
 * makes the scanner return None, and the connector's msgspec path reads the frame (its values
 * and errors are the reference). A change here rebuilds the extensions (setup.py `depends`, the
 * Makefile) and makes them stale (_compiled.stale). */
#ifndef ORDERSCOPE_JSONSCAN_H
#define ORDERSCOPE_JSONSCAN_H

#include <Python.h>
#include <stdint.h>
#include <string.h>

#include "_decimal.h"

typedef struct {
    const unsigned char *p;
    const unsigned char *end;
} Cursor;

/* Consume the literal `lit` (length n) if the frame continues with it. */
static inline int
take(Cursor *c, const char *lit, Py_ssize_t n)
{
    if (c->end - c->p < n || memcmp(c->p, lit, (size_t)n) != 0) {
        return 0;
    }
    c->p += n;
    return 1;
}

#define TAKE(c, lit) take((c), (lit), (Py_ssize_t)(sizeof(lit) - 1))

/* The frame's text, if it is a str of ASCII or bytes (a cursor over it): 1, else 0. */
static inline int
frame_cursor(PyObject *frame, Cursor *c)
{
    if (PyUnicode_CheckExact(frame) && PyUnicode_IS_COMPACT_ASCII(frame)) {
        c->p = (const unsigned char *)PyUnicode_DATA(frame);
        c->end = c->p + PyUnicode_GET_LENGTH(frame);
        return 1;
    }
    if (PyBytes_CheckExact(frame)) {
        c->p = (const unsigned char *)PyBytes_AS_STRING(frame);
        c->end = c->p + PyBytes_GET_SIZE(frame);
        return 1;
    }
    return 0;
}

/* The text of a JSON string whose opening quote was consumed, up to its closing quote (which is
 * consumed): only printable ASCII without a backslash, so the text is the string's value. */
static inline int
string_body(Cursor *c, const unsigned char **start, Py_ssize_t *n)
{
    const unsigned char *s = c->p;
    const unsigned char *q = s;
    while (q < c->end && *q != '"') {
        if (*q < 0x20 || *q > 0x7e || *q == '\\') {
            return 0;
        }
        q++;
    }
    if (q >= c->end) {
        return 0;
    }
    *start = s;
    *n = q - s;
    c->p = q + 1;
    return 1;
}

/* A JSON integer as msgspec reads it into an `int` field, for the values that fit easily:
 * -?(0|[1-9][0-9]{0,17}) (at most 18 digits: within int64), followed by something that is not
 * a digit, '.', 'e' or 'E' (a float is msgspec's error, a longer integer its business). */
static inline int
integer(Cursor *c, int64_t *out)
{
    const unsigned char *p = c->p;
    int negative = 0;
    if (p < c->end && *p == '-') {
        negative = 1;
        p++;
    }
    const unsigned char *const digits = p;
    int64_t v = 0;
    while (p < c->end && (unsigned)(*p - '0') <= 9) {
        v = v * 10 + (*p - '0');
        p++;
        if (p - digits > 18) {
            return 0;
        }
    }
    const Py_ssize_t n = p - digits;
    if (n == 0 || (n > 1 && *digits == '0') || p >= c->end || *p == '.' || *p == 'e' ||
        *p == 'E') {
        return 0;
    }
    *out = negative ? -v : v;
    c->p = p;
    return 1;
}

/* A JSON string whose opening quote was consumed, read through its closing quote as
 * parse_fixed(text, decimals) reads it when that returns an int64 (_decimal.h). */
static inline int
decimal(Cursor *c, Py_ssize_t decimals, int64_t *out)
{
    const unsigned char *after = scan_decimal(c->p, c->end, decimals, out);
    if (after == NULL) {
        return 0;
    }
    c->p = after;
    return 1;
}

/* (price, size) of two int64: a new tuple (untracked by the collector: two ints make no cycle,
 * as _levels.c's pairs), or NULL with an exception set. */
static inline PyObject *
level_pair(int64_t price, int64_t size)
{
    PyObject *p = PyLong_FromLongLong(price);
    if (p == NULL) {
        return NULL;
    }
    PyObject *q = PyLong_FromLongLong(size);
    if (q == NULL) {
        Py_DECREF(p);
        return NULL;
    }
    PyObject *pair = PyTuple_New(2);
    if (pair == NULL) {
        Py_DECREF(p);
        Py_DECREF(q);
        return NULL;
    }
    PyTuple_SET_ITEM(pair, 0, p);
    PyTuple_SET_ITEM(pair, 1, q);
    PyObject_GC_UnTrack(pair);
    return pair;
}

/* JSON whitespace skipped, for bodies written with it (REST responses: `, ` and `: `). */
static inline void
skip_space(Cursor *c)
{
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\n' || *c->p == '\r' || *c->p == '\t')) {
        c->p++;
    }
}

/* The literal `lit` after optional whitespace when `spaced`, else right here. */
static inline int
take_spaced(Cursor *c, const char *lit, Py_ssize_t n, int spaced)
{
    if (spaced) {
        skip_space(c);
    }
    return take(c, lit, n);
}

#define TAKE_SP(c, lit, spaced) take_spaced((c), (lit), (Py_ssize_t)(sizeof(lit) - 1), (spaced))

/* `[["p","q"],...]` (possibly empty; exactly two decimal strings a level) as a new list of
 * (price, size) in *side: 1; 0 if any of it is not of that shape (*side NULL); -1 with an
 * exception set. `spaced`: JSON whitespace allowed between the tokens (before the array too). */
static inline int
pair_levels_in(Cursor *c, Py_ssize_t pd, Py_ssize_t sd, PyObject **side, int spaced)
{
    *side = NULL;
    if (!TAKE_SP(c, "[", spaced)) {
        return 0;
    }
    PyObject *levels = PyList_New(0);
    if (levels == NULL) {
        return -1;
    }
    if (TAKE_SP(c, "]", spaced)) {
        *side = levels;
        return 1;
    }
    for (;;) {
        int64_t price, size;
        /* compact: `["` and `,"` each in one comparison */
        const int opened = spaced ? TAKE_SP(c, "[", 1) && TAKE_SP(c, "\"", 1) : TAKE(c, "[\"");
        if (!opened || !decimal(c, pd, &price) ||
            !(spaced ? TAKE_SP(c, ",", 1) && TAKE_SP(c, "\"", 1) : TAKE(c, ",\"")) ||
            !decimal(c, sd, &size) || !TAKE_SP(c, "]", spaced)) {
            Py_DECREF(levels);
            return 0;
        }
        PyObject *pair = level_pair(price, size);
        if (pair == NULL || PyList_Append(levels, pair) < 0) {
            Py_XDECREF(pair);
            Py_DECREF(levels);
            return -1;
        }
        Py_DECREF(pair);
        if (TAKE_SP(c, "]", spaced)) {
            *side = levels;
            return 1;
        }
        if (!TAKE_SP(c, ",", spaced)) {
            Py_DECREF(levels);
            return 0;
        }
    }
}

/* pair_levels_in for a compact frame. */
static inline int
pair_levels(Cursor *c, Py_ssize_t pd, Py_ssize_t sd, PyObject **side)
{
    return pair_levels_in(c, pd, sd, side, 0);
}

/* (price_decimals, size_decimals) of `key` in `decimals` (a dict of 2-tuples): 1 if found and
 * both in 0..19, 0 if not (the reference path then runs), -1 with an exception set. */
static inline int
key_decimals(PyObject *decimals, PyObject *key, Py_ssize_t *pd, Py_ssize_t *sd)
{
    PyObject *entry = PyDict_GetItemWithError(decimals, key); /* borrowed */
    if (entry == NULL) {
        return PyErr_Occurred() ? -1 : 0;
    }
    if (!PyTuple_CheckExact(entry) || PyTuple_GET_SIZE(entry) != 2) {
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
    return *pd >= 0 && *pd < 20 && *sd >= 0 && *sd < 20;
}

/* The arguments of a REST body scanner, (body, price_decimals, size_decimals): 1 with a cursor
 * over the body and both decimals in 0..19; 0 if the scanner does not take them (it returns
 * None); -1 with an exception set (`usage` the TypeError's message). */
static inline int
body_args(PyObject *const *args, Py_ssize_t nargs, const char *usage, Cursor *c, Py_ssize_t *pd,
          Py_ssize_t *sd)
{
    if (nargs != 3) {
        PyErr_SetString(PyExc_TypeError, usage);
        return -1;
    }
    *pd = PyLong_AsSsize_t(args[1]);
    if (*pd == -1 && PyErr_Occurred()) {
        return -1;
    }
    *sd = PyLong_AsSsize_t(args[2]);
    if (*sd == -1 && PyErr_Occurred()) {
        return -1;
    }
    return *pd >= 0 && *pd < 20 && *sd >= 0 && *sd < 20 && frame_cursor(args[0], c);
}

/* The arguments of a frame scanner, (frame, table): 1 with a cursor over the frame (a str of
 * ASCII or bytes) and the table (a dict, borrowed); 0 for another frame (the scanner returns
 * None); -1 with a TypeError set (`usage` its message) for other arguments. */
static inline int
frame_args(PyObject *const *args, Py_ssize_t nargs, const char *usage, Cursor *c,
           PyObject **table)
{
    if (nargs != 2 || !PyDict_Check(args[1])) {
        PyErr_SetString(PyExc_TypeError, usage);
        return -1;
    }
    *table = args[1];
    return frame_cursor(args[0], c);
}

/* A small table of strs made from frame text (stream names, channel names): a feed names a few
 * over and over, and a str kept keeps its hash, so the dict lookups of the scanner and of the
 * connector do not hash it again. Indexed by a hash of the bytes; a colliding text replaces the
 * entry. Holds one reference per entry (bounded: the table's slots); the GIL serialises access. */
#define STR_SLOTS 256

static inline PyObject *
cached_str(PyObject **table, const unsigned char *s, Py_ssize_t n)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (Py_ssize_t i = 0; i < n; i++) {
        h = (h ^ s[i]) * 16777619u;
    }
    PyObject **slot = &table[h % STR_SLOTS];
    PyObject *known = *slot;
    if (known != NULL && PyUnicode_GET_LENGTH(known) == n &&
        memcmp(PyUnicode_DATA(known), s, (size_t)n) == 0) {
        return Py_NewRef(known);
    }
    PyObject *text = PyUnicode_DecodeASCII((const char *)s, n, NULL);
    if (text == NULL) {
        return NULL;
    }
    Py_XSETREF(*slot, Py_NewRef(text));
    return text;
}

#endif /* ORDERSCOPE_JSONSCAN_H */
