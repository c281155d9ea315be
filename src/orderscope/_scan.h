/* A bounds-checked cursor over a frame's bytes and the level lists built from it, shared by the
 * hand-written frame scanners (_coinbase.c, _kraken.c, _okx.c, _huobi.c, _bitfinex.c;
 * _binance.c and _bitstamp.c through _jsonscan.h): literals, plain strings, JSON integers, kept
 * names, (price, size) levels, result tuples. Header-only (static inline, no symbol exported),
 * like _decimal.h. A change here rebuilds the extensions (setup.py `depends`, the Makefile) and
 * makes them stale (_compiled.stale). */
#ifndef ORDERSCOPE_SCAN_H
#define ORDERSCOPE_SCAN_H

#include <Python.h>
#include <stdint.h>
#include <string.h>

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

/* The text of a JSON string whose opening quote was consumed, up to its closing quote (which is
 * consumed): only printable ASCII without a backslash, so the text is the string's value. */
static inline int
string_body(Cursor *c, const unsigned char **start, Py_ssize_t *n)
{
    const unsigned char *q = c->p;
    while (q < c->end && *q != '"') {
        if (*q < 0x20 || *q > 0x7e || *q == '\\') {
            return 0;
        }
        q++;
    }
    if (q >= c->end) {
        return 0;
    }
    *start = c->p;
    *n = q - c->p;
    c->p = q + 1;
    return 1;
}

/* A JSON integer as msgspec reads it into an `int`: -?(0|[1-9][0-9]*), here of at most 18
 * digits (within int64 whatever they are). */
static inline int
json_int(Cursor *c, int64_t *out)
{
    const int negative = c->p < c->end && *c->p == '-';
    const unsigned char *s = c->p + negative;
    const unsigned char *q = s;
    int64_t v = 0;
    while (q < c->end && (unsigned)(*q - '0') <= 9) {
        if (q - s >= 18) {
            return 0;
        }
        v = v * 10 + (*q - '0');
        q++;
    }
    if (q == s || (*s == '0' && q - s > 1)) {
        return 0;
    }
    /* What follows is the caller's to check: a '.', 'e' or another digit never passes it. */
    *out = negative ? -v : v;
    c->p = q;
    return 1;
}

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

/* Short names a feed repeats (pairs, channels), each made a str once: a str kept keeps its
 * hash, so the dict lookups that follow do not hash it again. A small table by a hash of the
 * bytes (the caller's own, static: `slots` entries); a colliding name replaces the entry. Holds
 * one reference per entry; the GIL serialises access. A new reference, or NULL with an error. */
static inline PyObject *
cached_name(PyObject **table, uint32_t slots, const unsigned char *s, Py_ssize_t n)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (Py_ssize_t i = 0; i < n; i++) {
        h = (h ^ s[i]) * 16777619u;
    }
    PyObject **slot = &table[h % slots];
    PyObject *known = *slot;
    if (known != NULL && PyUnicode_GET_LENGTH(known) == n &&
        memcmp(PyUnicode_DATA(known), s, (size_t)n) == 0) {
        return Py_NewRef(known);
    }
    PyObject *name = PyUnicode_DecodeASCII((const char *)s, n, NULL);
    if (name == NULL) {
        return NULL;
    }
    Py_XSETREF(*slot, Py_NewRef(name));
    return name;
}

/* A tuple of `n` new references (stolen: released if the tuple cannot be made; any NULL among
 * them means an exception is set). */
static inline PyObject *
tuple_of(PyObject **items, Py_ssize_t n)
{
    PyObject *result = NULL;
    for (Py_ssize_t i = 0; i < n; i++) {
        if (items[i] == NULL) {
            goto done;
        }
    }
    result = PyTuple_New(n);
    if (result != NULL) {
        for (Py_ssize_t i = 0; i < n; i++) {
            PyTuple_SET_ITEM(result, i, items[i]);
        }
        return result;
    }
done:
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_XDECREF(items[i]);
    }
    return NULL;
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

/* Append (price, size) to `side`: 0 on success, -1 with an exception set. */
static inline int
append_level(PyObject *side, int64_t price, int64_t size)
{
    PyObject *level = level_pair(price, size);
    if (level == NULL) {
        return -1;
    }
    const int status = PyList_Append(side, level);
    Py_DECREF(level);
    return status;
}

/* (price_decimals, size_decimals) of `key` (a pair, a product) in `decimals`: 1 if found and
 * both in 0..19 (what scan_decimal takes), 0 if not (the reference path then runs), -1 with an
 * exception set. */
static inline int
level_decimals(PyObject *decimals, PyObject *key, Py_ssize_t *pd, Py_ssize_t *sd)
{
    PyObject *both = PyDict_GetItemWithError(decimals, key); /* borrowed */
    if (both == NULL) {
        return PyErr_Occurred() ? -1 : 0;
    }
    if (!PyTuple_CheckExact(both) || PyTuple_GET_SIZE(both) != 2) {
        return 0;
    }
    *pd = PyLong_AsSsize_t(PyTuple_GET_ITEM(both, 0));
    if (*pd == -1 && PyErr_Occurred()) {
        return -1;
    }
    *sd = PyLong_AsSsize_t(PyTuple_GET_ITEM(both, 1));
    if (*sd == -1 && PyErr_Occurred()) {
        return -1;
    }
    return *pd >= 0 && *pd < 20 && *sd >= 0 && *sd < 20;
}

#endif /* ORDERSCOPE_SCAN_H */
