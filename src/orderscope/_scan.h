/* Reading a frame of a known shape straight from its bytes, shared by the hand-written frame
 * scanners (_okx.c, _huobi.c): a bounds-checked cursor, literals, plain strings, JSON integers,
 * kept names, (price, size) levels appended. Header-only, each includes it (static inline, no
 * symbol exported); a change here rebuilds them (setup.py `depends`, the Makefile) and makes
 * them stale (_compiled.stale). */
#ifndef ORDERSCOPE_SCAN_H
#define ORDERSCOPE_SCAN_H

#include <Python.h>
#include <stdint.h>
#include <string.h>

/* A cursor over the frame: every read is bounds-checked against `end`. */
typedef struct {
    const unsigned char *p;
    const unsigned char *end;
} Cursor;

/* Consume the literal `lit` (length n) if the frame continues with it. */
static inline int
literal(Cursor *c, const char *lit, Py_ssize_t n)
{
    if (c->end - c->p < n || memcmp(c->p, lit, (size_t)n) != 0) {
        return 0;
    }
    c->p += n;
    return 1;
}

#define LIT(c, s) literal((c), (s), (Py_ssize_t)(sizeof(s) - 1))

/* A string whose opening quote was consumed, through its closing quote: printable ASCII without
 * a backslash only (so its text is its value). Its text is [*start, *start + *n). */
static inline int
plain_string(Cursor *c, const unsigned char **start, Py_ssize_t *n)
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

/* Strings kept, each made once: a feed names a few instruments over and over, and a str kept
 * keeps its hash, so the scanner's and the connector's dict lookups do not hash it again. A
 * small table by a hash of the bytes; a colliding name replaces the entry. One reference per
 * entry (bounded: NAME_SLOTS short strs); the GIL serialises access. */
#define NAME_SLOTS 64
static PyObject *names[NAME_SLOTS];

static inline PyObject *
name_object(const unsigned char *s, Py_ssize_t n)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (Py_ssize_t i = 0; i < n; i++) {
        h = (h ^ s[i]) * 16777619u;
    }
    PyObject **slot = &names[h % NAME_SLOTS];
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

/* The frame's text, if it is a str of ASCII or bytes: 1 (the cursor over it), else 0. */
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

/* Append (price, size) to `side`: 0, or -1 with an exception set. */
static inline int
append_level(PyObject *side, int64_t price, int64_t size)
{
    PyObject *p = PyLong_FromLongLong(price);
    if (p == NULL) {
        return -1;
    }
    PyObject *q = PyLong_FromLongLong(size);
    if (q == NULL) {
        Py_DECREF(p);
        return -1;
    }
    PyObject *level = PyTuple_New(2);
    if (level == NULL) {
        Py_DECREF(p);
        Py_DECREF(q);
        return -1;
    }
    PyTuple_SET_ITEM(level, 0, p);
    PyTuple_SET_ITEM(level, 1, q);
    /* Two ints cannot be part of a cycle: untracked now, as the collector would do at its first
     * pass, so the hundreds of a snapshot cost it nothing. */
    PyObject_GC_UnTrack(level);
    const int status = PyList_Append(side, level);
    Py_DECREF(level);
    return status;
}

#endif /* ORDERSCOPE_SCAN_H */
