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
#include "_scan.h" /* the cursor, literals, strings, integers, levels, kept strs */

/* A JSON integer as msgspec reads it into an `int` field, for the values that fit easily:
 * -?(0|[1-9][0-9]{0,17}) (at most 18 digits: within int64), followed by something that is not
 * a digit, '.', 'e' or 'E' (a float is msgspec's error, a longer integer its business). */
static inline int
integer(Cursor *c, int64_t *out)
{
    Cursor probe = *c;
    int64_t v;
    if (!json_int(&probe, &v) || probe.p >= probe.end || *probe.p == '.' || *probe.p == 'e' ||
        *probe.p == 'E') {
        return 0;
    }
    *out = v;
    *c = probe;
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

/* Slots of the tables of strs the scanners keep (_scan.h cached_name: stream names, channel
 * names, pairs). */
#define STR_SLOTS 256

#endif /* ORDERSCOPE_JSONSCAN_H */
