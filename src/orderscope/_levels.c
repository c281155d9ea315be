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
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>

/* 10**k for k <= 19 fits uint64; a scaled value is kept only if it fits int64. */
static const uint64_t POW10[20] = {
    1ULL,
    10ULL,
    100ULL,
    1000ULL,
    10000ULL,
    100000ULL,
    1000000ULL,
    10000000ULL,
    100000000ULL,
    1000000000ULL,
    10000000000ULL,
    100000000000ULL,
    1000000000000ULL,
    10000000000000ULL,
    100000000000000ULL,
    1000000000000000ULL,
    10000000000000000ULL,
    100000000000000000ULL,
    1000000000000000000ULL,
    10000000000000000000ULL,
};

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

/* The fast path. Returns 1 and sets *out when `text` is an exact ASCII str of digits with at
 * most one '.', no non-zero digit beyond `decimals`, and a scaled value within int64; 0 for
 * anything else (bad text, a huge value, a str subclass, a non-str), which the caller hands to
 * parse_fixed. `decimals` is within 0..19 here (the callers check it). */
static inline int
parse_fast(PyObject *text, Py_ssize_t decimals, int64_t *out)
{
    if (!PyUnicode_CheckExact(text) || !PyUnicode_IS_COMPACT_ASCII(text)) {
        return 0;
    }
    const unsigned char *s = (const unsigned char *)PyUnicode_DATA(text);
    const Py_ssize_t n = PyUnicode_GET_LENGTH(text);
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
    if (acc > (uint64_t)INT64_MAX / POW10[shift]) {
        return 0;
    }
    *out = (int64_t)(acc * POW10[shift]);
    return 1;
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

static PyMethodDef methods[] = {
    {"parse_many", (PyCFunction)(void (*)(void))parse_many, METH_FASTCALL,
     "[parse_fixed(t, decimals) for t in texts]"},
    {"parse_pairs", (PyCFunction)(void (*)(void))parse_pairs, METH_FASTCALL,
     "[(parse_fixed(p, pd), parse_fixed(q, sd)) for p, q in raw]"},
    {"parse_columns", (PyCFunction)(void (*)(void))parse_columns, METH_FASTCALL,
     "[(parse_fixed(v[first], pd), parse_fixed(v[first + 1], sd)) for v in raw]"},
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
