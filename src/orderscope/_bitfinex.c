/* orderscope._bitfinex: Bitfinex's hot channel frames scanned in C (issues 2/3, replay cost).
 *
 * scan(frame) -> tuple | None
 *
 * Recognises exactly two frame shapes, written without any whitespace:
 *
 *   a book update   [CHAN_ID,[PRICE,COUNT,AMOUNT]]  or  [CHAN_ID,[PRICE,COUNT,AMOUNT],SEQ]
 *       -> (chan_id, seq or None, price, side, bids, asks)
 *   a heartbeat     [CHAN_ID,"hb"]  or  [CHAN_ID,"hb",SEQ]
 *       -> (chan_id, seq or None, 0, 0, None, None)
 *
 * For a book update, price and size are ints at 8 decimals, side is 0 (bids) or 1 (asks), and
 * bids / asks are the lists orderscope.venues.bitfinex._levels makes of the level: one of them
 * holds (price, size) (size 0: a delete), the other is empty.
 *
 * Exact by construction: a number is taken only if it is a plain JSON decimal (no sign but the
 * amount's '-', no exponent, no leading zero) with at most 8 fraction digits whose value at 8
 * decimals is below 10**15. The float msgspec reads from such a text is within 2**-53 of it
 * relatively, so parse_fixed_float (round(value * 1e8), error below 0.25) returns exactly that
 * value and size / 10**8 == float(text): the amount is never "noisy". CHAN_ID, COUNT and SEQ
 * are plain digit runs of at most 18 digits. A zero price or size, a delete whose amount is not
 * 1 / -1, any other shape, a non-str or a str subclass: None, and the connector's msgspec path
 * runs (same values, same errors). tests/venues/test_bitfinex_scan.py checks it against that
 * path.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>

#define SCALE 100000000LL          /* 10**8: Bitfinex numbers are kept at 8 decimals */
#define FRACTION_DIGITS 8
#define VALUE_LIMIT 1000000000000000LL /* 10**15: below, the float path is exact (see above) */
#define INT_DIGITS 18              /* a digit run of at most 18 digits fits int64 */

static const int64_t POW10[FRACTION_DIGITS + 1] = {
    1LL, 10LL, 100LL, 1000LL, 10000LL, 100000LL, 1000000LL, 10000000LL, 100000000LL,
};

/* A digit run at s[*i] (no leading zero unless it is "0"): 1 and *out set, *i past it; else 0. */
static inline int
scan_int(const unsigned char *s, Py_ssize_t n, Py_ssize_t *i, int64_t *out)
{
    Py_ssize_t j = *i;
    int64_t acc = 0;
    while (j < n && (unsigned)(s[j] - '0') <= 9) {
        if (j - *i >= INT_DIGITS) {
            return 0;
        }
        acc = acc * 10 + (s[j] - '0');
        j++;
    }
    if (j == *i || (s[*i] == '0' && j - *i > 1)) {
        return 0; /* no digit, or a leading zero (not JSON) */
    }
    *i = j;
    *out = acc;
    return 1;
}

/* A non-negative JSON decimal at s[*i] as an int at 8 decimals: digits, optionally '.' and
 * 1..8 digits; the value below VALUE_LIMIT. 1 and *out set, *i past it; else 0. */
static inline int
scan_decimal(const unsigned char *s, Py_ssize_t n, Py_ssize_t *i, int64_t *out)
{
    Py_ssize_t j = *i;
    int64_t whole = 0;
    while (j < n && (unsigned)(s[j] - '0') <= 9) {
        whole = whole * 10 + (s[j] - '0');
        if (whole >= VALUE_LIMIT / SCALE) {
            return 0;
        }
        j++;
    }
    if (j == *i || (s[*i] == '0' && j - *i > 1)) {
        return 0;
    }
    int64_t fraction = 0;
    Py_ssize_t digits = 0;
    if (j < n && s[j] == '.') {
        j++;
        while (j < n && (unsigned)(s[j] - '0') <= 9) {
            if (digits == FRACTION_DIGITS) {
                return 0;
            }
            fraction = fraction * 10 + (s[j] - '0');
            digits++;
            j++;
        }
        if (digits == 0) {
            return 0; /* "1." is not JSON */
        }
    }
    if (j < n && (s[j] == 'e' || s[j] == 'E')) {
        return 0;
    }
    *i = j;
    *out = whole * SCALE + fraction * POW10[FRACTION_DIGITS - digits];
    return 1;
}

static PyObject *
level_list(int64_t price, int64_t size)
{
    PyObject *list = PyList_New(1);
    if (list == NULL) {
        return NULL;
    }
    PyObject *level = Py_BuildValue("(LL)", (long long)price, (long long)size);
    if (level == NULL) {
        Py_DECREF(list);
        return NULL;
    }
    PyList_SET_ITEM(list, 0, level);
    return list;
}

static PyObject *
scan(PyObject *module, PyObject *frame)
{
    if (!PyUnicode_CheckExact(frame) || !PyUnicode_IS_COMPACT_ASCII(frame)) {
        Py_RETURN_NONE;
    }
    const unsigned char *s = (const unsigned char *)PyUnicode_DATA(frame);
    const Py_ssize_t n = PyUnicode_GET_LENGTH(frame);
    Py_ssize_t i = 0;
    int64_t chan_id, price = 0, count = 0, amount = 0, seq = 0;
    int heartbeat = 0, negative = 0, has_seq = 0;
    if (n < 2 || s[0] != '[' || s[n - 1] != ']') {
        Py_RETURN_NONE;
    }
    i = 1;
    if (!scan_int(s, n, &i, &chan_id) || i >= n || s[i] != ',') {
        Py_RETURN_NONE;
    }
    i++;
    if (n - i >= 4 && s[i] == '"' && s[i + 1] == 'h' && s[i + 2] == 'b' && s[i + 3] == '"') {
        heartbeat = 1;
        i += 4;
    }
    else {
        if (i >= n || s[i] != '[') {
            Py_RETURN_NONE;
        }
        i++;
        if (!scan_decimal(s, n, &i, &price) || i >= n || s[i] != ',') {
            Py_RETURN_NONE;
        }
        i++;
        if (!scan_int(s, n, &i, &count) || i >= n || s[i] != ',') {
            Py_RETURN_NONE;
        }
        i++;
        if (i < n && s[i] == '-') {
            negative = 1;
            i++;
        }
        if (!scan_decimal(s, n, &i, &amount) || i >= n || s[i] != ']') {
            Py_RETURN_NONE;
        }
        i++;
    }
    if (i < n && s[i] == ',') {
        i++;
        if (!scan_int(s, n, &i, &seq)) {
            Py_RETURN_NONE;
        }
        has_seq = 1;
    }
    if (i != n - 1) { /* only the closing ']' is left */
        Py_RETURN_NONE;
    }
    PyObject *seq_obj;
    if (has_seq) {
        seq_obj = PyLong_FromLongLong(seq);
        if (seq_obj == NULL) {
            return NULL;
        }
    }
    else {
        seq_obj = Py_NewRef(Py_None);
    }
    if (heartbeat) {
        return Py_BuildValue("(LNiiOO)", (long long)chan_id, seq_obj, 0, 0, Py_None, Py_None);
    }
    int64_t size = amount;
    if (count == 0) { /* a delete: the amount 1 or -1 says the side */
        if (amount != SCALE) {
            Py_DECREF(seq_obj);
            Py_RETURN_NONE;
        }
        size = 0;
    }
    if (price == 0 || amount == 0) { /* errors (or a zero-priced delete): the msgspec path */
        Py_DECREF(seq_obj);
        Py_RETURN_NONE;
    }
    PyObject *level = level_list(price, size);
    if (level == NULL) {
        Py_DECREF(seq_obj);
        return NULL;
    }
    PyObject *empty = PyList_New(0);
    if (empty == NULL) {
        Py_DECREF(seq_obj);
        Py_DECREF(level);
        return NULL;
    }
    /* "N" steals the references (also when building the tuple fails). */
    if (negative) {
        return Py_BuildValue("(LNLiNN)", (long long)chan_id, seq_obj, (long long)price, 1, empty,
                             level);
    }
    return Py_BuildValue("(LNLiNN)", (long long)chan_id, seq_obj, (long long)price, 0, level,
                         empty);
}

static PyMethodDef methods[] = {
    {"scan", (PyCFunction)scan, METH_O,
     "scan(frame) -> (chan_id, seq, price, side, bids, asks) for a one-level book update or"
     " a heartbeat in their plain shapes, else None"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef bitfinex_module = {
    PyModuleDef_HEAD_INIT,
    "orderscope._bitfinex",
    "Bitfinex book-update and heartbeat frames scanned in C; the msgspec path is the reference.",
    -1,
    methods,
    NULL,
    NULL,
    NULL,
    NULL,
};

PyMODINIT_FUNC
PyInit__bitfinex(void)
{
    return PyModule_Create(&bitfinex_module);
}
