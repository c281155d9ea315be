/* orderscope._levels: the connectors' decimal-string parsing in C (issues 2/3, replay cost).
 *
 * The reference is orderscope.fixed.parse_fixed (pure Python, always kept): this module only
 * takes the common case -- an ASCII str of digits with at most one '.', whose scaled value fits
 * an int64 -- and hands every other input to parse_fixed itself, so results and errors (type
 * and message) are parse_fixed's by construction: NumberFormatError for bad text, Python ints
 * beyond int64, whatever parse_fixed raises for a non-str. tests/test_levels.py checks it.
 *
 * parse_many(texts, decimals) -> list[int]
 * parse_pairs(raw, price_decimals, size_decimals) -> list[tuple[int, int]]
 *     raw: a sequence of (price, size) levels, each a list or tuple (any sequence is accepted)
 *     of exactly two items; another length raises ValueError as Python's unpacking does.
 * parse_columns(raw, price_decimals, size_decimals, first=0) -> list[tuple[int, int]]
 *     the same for levels of two *or more* items (venues that send [price, size, count, ...],
 *     or [side, price, size] with first=1): items first and first + 1 are parsed, the rest
 *     ignored; a level too short for them raises IndexError (before its fields are parsed, as
 *     `p, q = level[first], level[first + 1]` does).
 * parse_raw_levels(raw, price_decimals, size_decimals, first=0, width=0, strings=False)
 *     -> list[tuple[int, int]] | None
 *     raw: a buffer (bytes, memoryview, msgspec.Raw) holding a JSON array of levels, each an
 *     array of JSON strings and numbers whose items first and first + 1 are strings of plain
 *     decimals (the fast path of parse_fast); width > 0: every level has exactly width items;
 *     strings true: every item is a string (for levels typed tuple[str, ...]: OKX, Kraken).
 *     The levels as parse_columns makes them, or None for ANY other input (escapes, numbers
 *     where strings belong, short levels, bad digits, values beyond int64, malformed JSON):
 *     the caller then decodes the slice with msgspec and runs the str path, so every value and
 *     error is the reference's. It never raises for the content, only for bad arguments.
 * parse_raw_float_levels(raw, price_decimals, size_decimals) -> list[tuple[int, int]] | None
 *     raw: a JSON array of [price, size] JSON numbers (HTX): [(parse_float_exact(p, pd),
 *     parse_float_rounded(q, sd))] of the doubles msgspec would decode, or None to fall back.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "_decimal.h"


/* orderscope.fixed.parse_fixed, looked up on first use: fixed imports this module, so it cannot
 * be imported while this one initialises. */
static PyObject *reference = NULL;

static PyObject *
parse_by_reference(PyObject *text, PyObject *decimals)
{
    if (reference == NULL) {
        PyObject *fixed = PyImport_ImportModule("orderscope.fixed");
        if (fixed == NULL) {
            return NULL;
        }
        reference = PyObject_GetAttrString(fixed, "parse_fixed");
        Py_DECREF(fixed);
        if (reference == NULL) {
            return NULL;
        }
    }
    return PyObject_CallFunctionObjArgs(reference, text, decimals, NULL);
}

/* The digits of a plain decimal: 1 and *out when s[0:n] is ASCII digits with at most one '.',
 * at least one digit, no non-zero digit beyond `decimals` and a scaled value within int64; 0 for
 * anything else. `decimals` is within 0..19 here (the callers check it). */
static inline int
parse_digits(const unsigned char *s, Py_ssize_t n, Py_ssize_t decimals, int64_t *out)
{
    uint64_t acc = 0;
    Py_ssize_t digits = 0;    /* digits seen, whole and fractional */
    Py_ssize_t frac = -1;     /* fractional digits seen; -1 before the '.' */
    for (Py_ssize_t i = 0; i < n; i++) {
        const unsigned d = (unsigned)s[i] - '0';
        if (d > 9) {
            if (s[i] != '.' || frac >= 0) {
                return 0; /* a sign, space, exponent, second '.': parse_fixed's error */
            }
            frac = 0;
            continue;
        }
        digits++;
        if (frac >= 0) {
            if (frac >= decimals) {
                if (d != 0) {
                    return 0; /* a non-zero digit beyond decimals: parse_fixed's error */
                }
                continue; /* a trailing zero beyond decimals: accepted, not scaled in */
            }
            frac++;
        }
        if (acc > (UINT64_MAX - 9) / 10) {
            return 0; /* beyond uint64: parse_fixed makes the Python int */
        }
        acc = acc * 10 + d;
    }
    if (digits == 0) {
        return 0; /* "", ".": parse_fixed's error */
    }
    const Py_ssize_t shift = decimals - (frac < 0 ? 0 : frac);
    if (acc > INT64_MAX_BY_POW10[shift]) {
        return 0;
    }
    *out = (int64_t)(acc * POW10[shift]);
    return 1;
}

/* The fast path. Returns 1 and sets *out when `text` is an exact ASCII str that parse_digits
 * takes; 0 for anything else (bad text, a huge value, a str subclass, a non-str), which the
 * caller hands to parse_fixed. */
static inline int
parse_fast(PyObject *text, Py_ssize_t decimals, int64_t *out)
{
    if (!PyUnicode_CheckExact(text) || !PyUnicode_IS_COMPACT_ASCII(text)) {
        return 0;
    }
    return parse_digits((const unsigned char *)PyUnicode_DATA(text), PyUnicode_GET_LENGTH(text),
                        decimals, out);
}

/* One text at `decimals` (its Python int `decimals_obj` for the reference): a new reference. */
static inline PyObject *
parse_one(PyObject *text, Py_ssize_t decimals, PyObject *decimals_obj)
{
    int64_t value;
    if (decimals >= 0 && decimals < 20 && parse_fast(text, decimals, &value)) {
        return PyLong_FromLongLong(value);
    }
    return parse_by_reference(text, decimals_obj);
}

static PyObject *
parse_many(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "parse_many(texts, decimals) takes 2 arguments");
        return NULL;
    }
    const Py_ssize_t decimals = PyNumber_AsSsize_t(args[1], PyExc_OverflowError);
    if (decimals == -1 && PyErr_Occurred()) {
        return NULL;
    }
    PyObject *seq = PySequence_Fast(args[0], "parse_many: texts must be a sequence");
    if (seq == NULL) {
        return NULL;
    }
    const Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    PyObject **items = PySequence_Fast_ITEMS(seq);
    PyObject *result = PyList_New(n);
    if (result == NULL) {
        Py_DECREF(seq);
        return NULL;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *value = parse_one(items[i], decimals, args[1]);
        if (value == NULL) {
            Py_DECREF(result);
            Py_DECREF(seq);
            return NULL;
        }
        PyList_SET_ITEM(result, i, value);
    }
    Py_DECREF(seq);
    return result;
}

/* Levels -> list of (price, size) tuples. `exact`: each level has exactly two items (as
 * `for p, q in raw` unpacks); otherwise at least first + 2 (as `level[first], level[first + 1]`
 * reads). */
static PyObject *
parse_levels(PyObject *const *args, int exact, Py_ssize_t first)
{
    const Py_ssize_t pd = PyNumber_AsSsize_t(args[1], PyExc_OverflowError);
    if (pd == -1 && PyErr_Occurred()) {
        return NULL;
    }
    const Py_ssize_t sd = PyNumber_AsSsize_t(args[2], PyExc_OverflowError);
    if (sd == -1 && PyErr_Occurred()) {
        return NULL;
    }
    PyObject *seq = PySequence_Fast(args[0], "levels must be a sequence");
    if (seq == NULL) {
        return NULL;
    }
    const Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    PyObject **levels = PySequence_Fast_ITEMS(seq);
    PyObject *result = PyList_New(n);
    if (result == NULL) {
        Py_DECREF(seq);
        return NULL;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *level = PySequence_Fast(levels[i], "cannot unpack a level that is not a sequence");
        if (level == NULL) {
            goto error;
        }
        const Py_ssize_t size = PySequence_Fast_GET_SIZE(level);
        if (size < first + 2 || (exact && size != 2)) {
            if (!exact) { /* the message of level[first + 1] */
                PyErr_SetString(PyExc_IndexError, PyTuple_Check(levels[i])
                                                      ? "tuple index out of range"
                                                      : "list index out of range");
            }
            else if (size < 2) {
                PyErr_Format(PyExc_ValueError,
                             "not enough values to unpack (expected 2, got %zd)", size);
            }
            else {
                PyErr_SetString(PyExc_ValueError, "too many values to unpack (expected 2)");
            }
            Py_DECREF(level);
            goto error;
        }
        PyObject **fields = PySequence_Fast_ITEMS(level);
        PyObject *price = parse_one(fields[first], pd, args[1]);
        if (price == NULL) {
            Py_DECREF(level);
            goto error;
        }
        PyObject *amount = parse_one(fields[first + 1], sd, args[2]);
        Py_DECREF(level);
        if (amount == NULL) {
            Py_DECREF(price);
            goto error;
        }
        PyObject *pair = PyTuple_New(2);
        if (pair == NULL) {
            Py_DECREF(price);
            Py_DECREF(amount);
            goto error;
        }
        PyTuple_SET_ITEM(pair, 0, price);
        PyTuple_SET_ITEM(pair, 1, amount);
        PyList_SET_ITEM(result, i, pair);
    }
    Py_DECREF(seq);
    return result;
error:
    /* The list's unfilled slots are NULL, which list deallocation skips. */
    Py_DECREF(result);
    Py_DECREF(seq);
    return NULL;
}

static PyObject *
parse_pairs(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 3) {
        PyErr_SetString(PyExc_TypeError,
                        "parse_pairs(raw, price_decimals, size_decimals) takes 3 arguments");
        return NULL;
    }
    return parse_levels(args, 1, 0);
}

static PyObject *
parse_columns(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 3 && nargs != 4) {
        PyErr_SetString(PyExc_TypeError,
                        "parse_columns(raw, price_decimals, size_decimals, first=0) takes 3 or 4"
                        " arguments");
        return NULL;
    }
    Py_ssize_t first = 0;
    if (nargs == 4) {
        first = PyNumber_AsSsize_t(args[3], PyExc_OverflowError);
        if (first == -1 && PyErr_Occurred()) {
            return NULL;
        }
        if (first < 0) {
            PyErr_SetString(PyExc_ValueError, "parse_columns: first must be >= 0");
            return NULL;
        }
    }
    return parse_levels(args, 0, first);
}

/* ---- parse_raw_levels: the levels straight from the frame's JSON bytes --------------------
 *
 * A small JSON scanner for one shape only: an array of arrays whose items are strings or
 * numbers. Every function returns the position after what it read, or NULL when the input is
 * anything else (the caller then returns None and the connector decodes the slice with msgspec:
 * values and errors stay msgspec's and parse_fixed's). */

static inline const unsigned char *
skip_ws(const unsigned char *p, const unsigned char *end)
{
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) {
        p++;
    }
    return p;
}

/* A JSON string at p (p[0] == '"') without escapes, control or non-ASCII bytes: its content is
 * [*start, *stop). Escapes and non-ASCII are legal JSON but never a plain decimal; a skipped item
 * holding them is left to msgspec too (it checks UTF-8, this code does not). */
static inline const unsigned char *
scan_string(const unsigned char *p, const unsigned char *end, const unsigned char **start,
            const unsigned char **stop)
{
    p++; /* the opening quote */
    *start = p;
    while (p < end && *p != '"') {
        if (*p == '\\' || *p < 0x20 || *p >= 0x80) {
            return NULL;
        }
        p++;
    }
    if (p >= end) {
        return NULL;
    }
    *stop = p;
    return p + 1;
}

/* A JSON number at p, by the grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static inline const unsigned char *
scan_number(const unsigned char *p, const unsigned char *end)
{
    if (p < end && *p == '-') {
        p++;
    }
    if (p >= end || (unsigned)(*p - '0') > 9) {
        return NULL;
    }
    if (*p == '0') {
        p++;
    }
    else {
        while (p < end && (unsigned)(*p - '0') <= 9) {
            p++;
        }
    }
    if (p < end && *p == '.') {
        p++;
        if (p >= end || (unsigned)(*p - '0') > 9) {
            return NULL;
        }
        while (p < end && (unsigned)(*p - '0') <= 9) {
            p++;
        }
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < end && (*p == '+' || *p == '-')) {
            p++;
        }
        if (p >= end || (unsigned)(*p - '0') > 9) {
            return NULL;
        }
        while (p < end && (unsigned)(*p - '0') <= 9) {
            p++;
        }
    }
    return p;
}

/* A number msgspec decodes without complaint whatever the type asked (JSON allows 1e999, which
 * overflows a double): at most 64 characters, an exponent of at most two digits. */
static inline int
modest_number(const unsigned char *start, const unsigned char *stop)
{
    if (stop - start > 64) {
        return 0;
    }
    for (const unsigned char *p = start; p < stop; p++) {
        if (*p == 'e' || *p == 'E') {
            p++;
            if (p < stop && (*p == '+' || *p == '-')) {
                p++;
            }
            return stop - p <= 2;
        }
    }
    return 1;
}

/* What a level reader needs: the precisions and, for string levels, where the two fields are. */
typedef struct {
    Py_ssize_t pd, sd, first, width;
    int strings; /* every item a string: a number anywhere is msgspec's error (tuple[str, ...]) */
} level_shape;

/* A level reader: one level at p (p[0] == '['): the position after it, *pair a new (price,
 * size) tuple; NULL to fall back, NULL with an exception set on an error (out of memory). */
typedef const unsigned char *(*level_reader)(const unsigned char *p, const unsigned char *end,
                                             const level_shape *shape, PyObject **pair);

/* (price, size) of two int64: a new tuple, or NULL with an exception set. */
static PyObject *
int_pair(int64_t price, int64_t size)
{
    PyObject *first = PyLong_FromLongLong(price);
    if (first == NULL) {
        return NULL;
    }
    PyObject *second = PyLong_FromLongLong(size);
    if (second == NULL) {
        Py_DECREF(first);
        return NULL;
    }
    PyObject *pair = PyTuple_New(2);
    if (pair == NULL) {
        Py_DECREF(first);
        Py_DECREF(second);
        return NULL;
    }
    PyTuple_SET_ITEM(pair, 0, first);
    PyTuple_SET_ITEM(pair, 1, second);
    /* Two ints cannot be part of a cycle: untracked now, as the collector would untrack it at
     * its first pass (_PyTuple_MaybeUntrack), so the thousands of a snapshot cost it nothing. */
    PyObject_GC_UnTrack(pair);
    return pair;
}

/* A level of strings and numbers: items `first` and `first + 1` are decimal strings, the
 * others skipped; `width` > 0 asks for exactly that many items, 0 for at least first + 2. */
static const unsigned char *
read_text_level(const unsigned char *p, const unsigned char *end, const level_shape *shape,
                PyObject **pair)
{
    const Py_ssize_t first = shape->first;
    int64_t price = 0, size = 0;
    Py_ssize_t item = 0;
    *pair = NULL;
    p = skip_ws(p + 1, end);
    for (;;) {
        if (p >= end) {
            return NULL;
        }
        if (item == first || item == first + 1) {
            if (*p != '"') {
                return NULL; /* a number where a decimal string belongs: msgspec's error */
            }
            p = scan_decimal(p + 1, end, item == first ? shape->pd : shape->sd,
                             item == first ? &price : &size);
            if (p == NULL) {
                return NULL;
            }
        }
        else if (*p == '"') {
            const unsigned char *start, *stop;
            if ((p = scan_string(p, end, &start, &stop)) == NULL) {
                return NULL;
            }
        }
        else {
            const unsigned char *number = p;
            if (shape->strings || (p = scan_number(p, end)) == NULL || !modest_number(number, p)) {
                return NULL; /* [] too: an empty level is too short for any shape */
            }
        }
        item++;
        p = skip_ws(p, end);
        if (p >= end) {
            return NULL;
        }
        if (*p == ']') {
            break;
        }
        if (*p != ',') {
            return NULL;
        }
        p = skip_ws(p + 1, end);
    }
    if (item < first + 2 || (shape->width > 0 && item != shape->width)) {
        return NULL;
    }
    *pair = int_pair(price, size);
    return *pair == NULL ? NULL : p + 1;
}

/* ---- parse_raw_float_levels: HTX's [price, size] JSON numbers -----------------------------
 *
 * The reference is what the HTX connector does with the doubles msgspec decodes:
 * parse_float_exact(price, pd) and parse_float_rounded(size, sd) (orderscope.fixed), both
 * working on the double's shortest round-trip decimal (repr). A number of at most 15
 * significant digits is that decimal itself (every such decimal round-trips through a double,
 * DBL_DIG), so its scaled value comes straight from the text here: exact, or rounded half to
 * even for the size. Any other number (16-17 digits, a value beyond int64) goes to the Python
 * reference with the double parsed from the text (PyOS_string_to_double, correctly rounded
 * like msgspec's parser); when that raises ValueError (NumberFormatError) or the input is not
 * this shape, the whole call returns None and the connector runs its typed path. */

#define MAX_SIGNIFICANT 15
#define MAX_NUMBER_TEXT 64

typedef struct {
    const unsigned char *start; /* the number's text */
    Py_ssize_t len;
    uint64_t digits;     /* its significant digits (leading zeros skipped), if few enough */
    int significant;     /* how many, trailing zeros included; > MAX_SIGNIFICANT: not kept */
    Py_ssize_t places;   /* the value is digits * 10**-places */
} number_text;

/* One digit of a number's mantissa into `n`: leading zeros skipped, the first MAX_SIGNIFICANT
 * significant digits kept, the others only counted. */
static inline void
add_digit(number_text *n, unsigned d)
{
    if (n->significant == 0 && d == 0) {
        return;
    }
    if (++n->significant <= MAX_SIGNIFICANT) {
        n->digits = n->digits * 10 + d;
    }
}

/* A JSON number at p, in one pass by the grammar (0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
 * (no sign: a negative price or size is the reference's error; "01" stops after the 0 and the
 * caller finds no ',' there). */
static const unsigned char *
scan_float(const unsigned char *p, const unsigned char *end, number_text *n)
{
    n->start = p;
    n->digits = 0;
    n->significant = 0;
    Py_ssize_t places = 0;
    if (p >= end || (unsigned)(*p - '0') > 9) {
        return NULL;
    }
    if (*p == '0') {
        p++;
    }
    else {
        while (p < end && (unsigned)(*p - '0') <= 9) {
            add_digit(n, (unsigned)(*p - '0'));
            p++;
        }
    }
    if (p < end && *p == '.') {
        p++;
        if (p >= end || (unsigned)(*p - '0') > 9) {
            return NULL;
        }
        while (p < end && (unsigned)(*p - '0') <= 9) {
            add_digit(n, (unsigned)(*p - '0'));
            places++;
            p++;
        }
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        const int negative = p < end && *p == '-';
        if (p < end && (*p == '-' || *p == '+')) {
            p++;
        }
        if (p >= end || (unsigned)(*p - '0') > 9) {
            return NULL;
        }
        Py_ssize_t exponent = 0;
        while (p < end && (unsigned)(*p - '0') <= 9) {
            if (exponent > 100000) {
                return NULL;
            }
            exponent = exponent * 10 + (*p - '0');
            p++;
        }
        places += negative ? exponent : -exponent;
    }
    n->places = places;
    n->len = p - n->start;
    return p;
}

/* The value of `n` at `decimals`, exact (rounded = 0) or rounded half to even: 1 and *out, or
 * 0 when this fast path does not decide (too many digits, beyond int64, an exact value with
 * more decimals than asked). */
static int
float_fast(const number_text *n, Py_ssize_t decimals, int rounded, int64_t *out)
{
    if (n->significant > MAX_SIGNIFICANT) {
        return 0;
    }
    if (n->digits == 0) {
        *out = 0;
        return 1;
    }
    const Py_ssize_t shift = decimals - n->places;
    if (shift >= 0) {
        if (shift >= 20 || n->digits > INT64_MAX_BY_POW10[shift]) {
            return 0;
        }
        *out = (int64_t)(n->digits * POW10[shift]);
        return 1;
    }
    const Py_ssize_t drop = -shift;
    if (drop >= 20) { /* digits < 10**15 <= half a unit: the value rounds to 0 */
        if (!rounded) {
            return 0;
        }
        *out = 0;
        return 1;
    }
    uint64_t kept = n->digits / POW10[drop];
    const uint64_t rest = n->digits % POW10[drop];
    if (rest != 0) {
        if (!rounded) {
            return 0; /* more decimals than asked: the reference's error */
        }
        const uint64_t half = POW10[drop] / 2;
        if (rest > half || (rest == half && (kept & 1))) {
            kept++;
        }
    }
    *out = (int64_t)kept;
    return 1;
}

/* parse_float_exact / parse_float_rounded, looked up on first use. */
static PyObject *float_exact = NULL;
static PyObject *float_rounded = NULL;

/* The reference on the double the text means: a new reference, Py_None (new) when it raises
 * ValueError or the text is not a finite double, NULL on another error. */
static PyObject *
float_by_reference(const number_text *n, Py_ssize_t decimals, int rounded)
{
    if (float_exact == NULL) {
        PyObject *fixed = PyImport_ImportModule("orderscope.fixed");
        if (fixed == NULL) {
            return NULL;
        }
        PyObject *exact = PyObject_GetAttrString(fixed, "parse_float_exact");
        PyObject *round_ = exact ? PyObject_GetAttrString(fixed, "parse_float_rounded") : NULL;
        Py_DECREF(fixed);
        if (round_ == NULL) {
            Py_XDECREF(exact);
            return NULL;
        }
        float_exact = exact;
        float_rounded = round_;
    }
    char text[MAX_NUMBER_TEXT + 1];
    if (n->len > MAX_NUMBER_TEXT || n->places > 300 || n->places < -300) {
        Py_RETURN_NONE;
    }
    memcpy(text, n->start, (size_t)n->len);
    text[n->len] = '\0';
    char *stop = NULL;
    const double value = PyOS_string_to_double(text, &stop, NULL);
    if (value == -1.0 && PyErr_Occurred()) {
        PyErr_Clear();
        Py_RETURN_NONE;
    }
    if (stop != text + n->len || !isfinite(value)) {
        Py_RETURN_NONE;
    }
    PyObject *number = PyFloat_FromDouble(value);
    if (number == NULL) {
        return NULL;
    }
    PyObject *places = PyLong_FromSsize_t(decimals);
    if (places == NULL) {
        Py_DECREF(number);
        return NULL;
    }
    PyObject *result = PyObject_CallFunctionObjArgs(rounded ? float_rounded : float_exact, number,
                                                    places, NULL);
    Py_DECREF(number);
    Py_DECREF(places);
    if (result == NULL && PyErr_ExceptionMatches(PyExc_ValueError)) {
        PyErr_Clear();
        Py_RETURN_NONE;
    }
    return result;
}

/* One value: a new reference, Py_None (new) to fall back, NULL on error. */
static PyObject *
float_value(const number_text *n, Py_ssize_t decimals, int rounded)
{
    int64_t value;
    if (float_fast(n, decimals, rounded, &value)) {
        return PyLong_FromLongLong(value);
    }
    return float_by_reference(n, decimals, rounded);
}

/* Books come again and again (HTX sends whole books, snapshots repeat most levels of the one
 * before): a level's (price, size) is remembered by its exact bytes ('[' to ']'), its reader
 * and shape, in a direct-mapped table (a new level replaces the one in its slot). The value is
 * a function of that key alone, so a hit returns what parsing would: the same ints, in a shared
 * (immutable) tuple. Two tables, because their best sizes differ (wall time on the captures,
 * `orderscope bench`; instruction counts alone favour the largest table): HTX's whole books of
 * numbers hit often and pay for a table the size of L2; diffs of decimal strings (Binance,
 * Bitstamp, OKX) hit less, and a table that large made them slower by its cache misses than
 * parsing, so theirs stays within a small part of L2 (112 bytes a slot). */
#define FLOAT_CACHE_SLOTS 8192
#define TEXT_CACHE_SLOTS 1024
#define CACHE_KEY 48

typedef struct {
    PyObject *pair; /* owned; NULL: an empty slot */
    level_reader read;
    level_shape shape;
    Py_ssize_t len;
    unsigned char key[CACHE_KEY];
} cache_slot;

static cache_slot float_cache[FLOAT_CACHE_SLOTS];
static cache_slot text_cache[TEXT_CACHE_SLOTS];

/* The slot of the level at p (p[0] == '[') and its length ('[' to ']' included), or NULL when
 * it is longer than a key (then it is parsed every time). */
static inline cache_slot *
cache_slot_of(cache_slot *table, uint64_t mask, const unsigned char *p, const unsigned char *end,
              Py_ssize_t *len)
{
    const Py_ssize_t room = end - p > CACHE_KEY ? CACHE_KEY : end - p;
    const unsigned char *close = memchr(p, ']', (size_t)room);
    if (close == NULL) {
        return NULL;
    }
    *len = close + 1 - p;
    /* A multiplicative hash of the key 8 bytes at a time (the last word zero-padded). */
    uint64_t hash = 0x9E3779B97F4A7C15ULL ^ (uint64_t)*len;
    for (Py_ssize_t at = 0; at < *len; at += 8) {
        uint64_t word = 0;
        memcpy(&word, p + at, (size_t)(*len - at < 8 ? *len - at : 8));
        hash = (hash ^ word) * 0xFF51AFD7ED558CCDULL;
        hash ^= hash >> 29;
    }
    return &table[hash & mask];
}

/* `read` through a cache of `mask + 1` slots (a power of two). */
static inline const unsigned char *
read_cached(cache_slot *table, uint64_t mask, const unsigned char *p, const unsigned char *end,
            const level_shape *shape, PyObject **pair, level_reader read)
{
    Py_ssize_t len = 0;
    cache_slot *slot = cache_slot_of(table, mask, p, end, &len);
    if (slot != NULL && slot->pair != NULL && slot->len == len && slot->read == read &&
        slot->shape.pd == shape->pd && slot->shape.sd == shape->sd &&
        slot->shape.first == shape->first && slot->shape.width == shape->width &&
        slot->shape.strings == shape->strings && memcmp(slot->key, p, (size_t)len) == 0) {
        *pair = Py_NewRef(slot->pair);
        return p + len;
    }
    const unsigned char *after = read(p, end, shape, pair);
    if (after != NULL && slot != NULL && after == p + len) {
        Py_XSETREF(slot->pair, Py_NewRef(*pair));
        slot->read = read;
        slot->shape = *shape;
        slot->len = len;
        memcpy(slot->key, p, (size_t)len);
    }
    return after;
}

static const unsigned char *read_float_level_uncached(const unsigned char *p,
                                                      const unsigned char *end,
                                                      const level_shape *shape, PyObject **pair);

/* An HTX level: exactly [price, size], two JSON numbers; through the cache. */
static const unsigned char *
read_float_level(const unsigned char *p, const unsigned char *end, const level_shape *shape,
                 PyObject **pair)
{
    return read_cached(float_cache, FLOAT_CACHE_SLOTS - 1, p, end, shape, pair,
                       read_float_level_uncached);
}

static const unsigned char *
read_float_level_uncached(const unsigned char *p, const unsigned char *end,
                          const level_shape *shape, PyObject **pair)
{
    number_text price_text, size_text;
    *pair = NULL;
    p = skip_ws(p + 1, end);
    if (p >= end || (p = scan_float(p, end, &price_text)) == NULL) {
        return NULL;
    }
    p = skip_ws(p, end);
    if (p >= end || *p != ',') {
        return NULL;
    }
    p = skip_ws(p + 1, end);
    if (p >= end || (p = scan_float(p, end, &size_text)) == NULL) {
        return NULL;
    }
    p = skip_ws(p, end);
    if (p >= end || *p != ']') {
        return NULL; /* not exactly two items */
    }
    PyObject *price = float_value(&price_text, shape->pd, 0);
    if (price == NULL || price == Py_None) {
        Py_XDECREF(price);
        return NULL;
    }
    PyObject *size = float_value(&size_text, shape->sd, 1);
    if (size == NULL || size == Py_None) {
        Py_DECREF(price);
        Py_XDECREF(size);
        return NULL;
    }
    *pair = PyTuple_New(2);
    if (*pair == NULL) {
        Py_DECREF(price);
        Py_DECREF(size);
        return NULL;
    }
    PyTuple_SET_ITEM(*pair, 0, price);
    PyTuple_SET_ITEM(*pair, 1, size);
    PyObject_GC_UnTrack(*pair); /* as in int_pair */
    return p + 1;
}

/* A level of strings and numbers (read_text_level), through the cache. */
static const unsigned char *
read_text_level_cached(const unsigned char *p, const unsigned char *end,
                       const level_shape *shape, PyObject **pair)
{
    return read_cached(text_cache, TEXT_CACHE_SLOTS - 1, p, end, shape, pair, read_text_level);
}

/* ---- the array of levels, and the two entry points ----------------------------------------- */

/* The whole buffer, a JSON array of levels each read by `read`: a new list, Py_None (a new
 * reference) for input it does not take, NULL with an exception set on an error. */
static PyObject *
scan_levels(const unsigned char *p, const unsigned char *end, level_reader read,
            const level_shape *shape)
{
    p = skip_ws(p, end);
    if (p >= end || *p != '[') {
        Py_RETURN_NONE;
    }
    PyObject *result = PyList_New(0);
    if (result == NULL) {
        return NULL;
    }
    p = skip_ws(p + 1, end);
    if (p < end && *p == ']') {
        p++;
    }
    else {
        for (;;) {
            PyObject *pair;
            if (p >= end || *p != '[' || (p = read(p, end, shape, &pair)) == NULL) {
                if (PyErr_Occurred()) {
                    goto error;
                }
                goto fall_back;
            }
            const int appended = PyList_Append(result, pair);
            Py_DECREF(pair);
            if (appended < 0) {
                goto error;
            }
            p = skip_ws(p, end);
            if (p >= end) {
                goto fall_back;
            }
            if (*p == ']') {
                p++;
                break;
            }
            if (*p != ',') {
                goto fall_back;
            }
            p = skip_ws(p + 1, end);
        }
    }
    if (skip_ws(p, end) != end) {
        goto fall_back; /* something after the array */
    }
    return result;
fall_back:
    Py_DECREF(result);
    Py_RETURN_NONE;
error:
    Py_DECREF(result);
    return NULL;
}

/* A non-negative Py_ssize_t argument. */
static int
size_arg(PyObject *arg, const char *name, Py_ssize_t *out)
{
    *out = PyNumber_AsSsize_t(arg, PyExc_OverflowError);
    if (*out == -1 && PyErr_Occurred()) {
        return -1;
    }
    if (*out < 0) {
        PyErr_Format(PyExc_ValueError, "%s must be >= 0", name);
        return -1;
    }
    return 0;
}

/* The buffer args[0] scanned by `read` with the shape args[1:] give (pd, sd, first, width). */
static PyObject *
scan_buffer(PyObject *const *args, Py_ssize_t nargs, level_reader read)
{
    level_shape shape = {0, 0, 0, 0, 0};
    if (size_arg(args[1], "price_decimals", &shape.pd) < 0 ||
        size_arg(args[2], "size_decimals", &shape.sd) < 0 ||
        (nargs > 3 && size_arg(args[3], "first", &shape.first) < 0) ||
        (nargs > 4 && size_arg(args[4], "width", &shape.width) < 0)) {
        return NULL;
    }
    if (nargs > 5 && (shape.strings = PyObject_IsTrue(args[5])) < 0) {
        return NULL;
    }
    if (shape.pd >= 20 || shape.sd >= 20 || shape.first > 1000) {
        Py_RETURN_NONE; /* beyond the fast path: the caller's reference path */
    }
    Py_buffer view;
    if (PyObject_GetBuffer(args[0], &view, PyBUF_SIMPLE) < 0) {
        return NULL;
    }
    const unsigned char *p = (const unsigned char *)view.buf;
    PyObject *result = scan_levels(p, p + view.len, read, &shape);
    PyBuffer_Release(&view);
    return result;
}

static PyObject *
parse_raw_levels(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs < 3 || nargs > 6) {
        PyErr_SetString(PyExc_TypeError,
                        "parse_raw_levels(raw, price_decimals, size_decimals, first=0, width=0,"
                        " strings=False) takes 3 to 6 arguments");
        return NULL;
    }
    return scan_buffer(args, nargs, read_text_level_cached);
}

static PyObject *
parse_raw_float_levels(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 3) {
        PyErr_SetString(PyExc_TypeError,
                        "parse_raw_float_levels(raw, price_decimals, size_decimals) takes 3"
                        " arguments");
        return NULL;
    }
    return scan_buffer(args, nargs, read_float_level);
}

static PyMethodDef methods[] = {
    {"parse_many", (PyCFunction)(void (*)(void))parse_many, METH_FASTCALL,
     "[parse_fixed(t, decimals) for t in texts]"},
    {"parse_pairs", (PyCFunction)(void (*)(void))parse_pairs, METH_FASTCALL,
     "[(parse_fixed(p, pd), parse_fixed(q, sd)) for p, q in raw]"},
    {"parse_columns", (PyCFunction)(void (*)(void))parse_columns, METH_FASTCALL,
     "[(parse_fixed(v[first], pd), parse_fixed(v[first + 1], sd)) for v in raw]"},
    {"parse_raw_levels", (PyCFunction)(void (*)(void))parse_raw_levels, METH_FASTCALL,
     "JSON levels (a buffer) -> [(price, size)] like parse_columns, or None to fall back"},
    {"parse_raw_float_levels", (PyCFunction)(void (*)(void))parse_raw_float_levels,
     METH_FASTCALL,
     "JSON [price, size] numbers (a buffer) -> [(parse_float_exact(p, pd),"
     " parse_float_rounded(q, sd))], or None to fall back"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef levels_module = {
    PyModuleDef_HEAD_INIT,
    "orderscope._levels",
    "Decimal-string levels -> scaled ints, in C; orderscope.fixed.parse_fixed is the reference.",
    -1,
    methods,
    NULL,
    NULL,
    NULL,
    NULL,
};

PyMODINIT_FUNC
PyInit__levels(void)
{
    return PyModule_Create(&levels_module);
}
