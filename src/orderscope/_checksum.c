/* orderscope._checksum: Kraken's and OKX's book checksums in C, read straight from the book.
 *
 * The references are the pure-Python checksums (always kept): kraken.py's _BookWire.checksum and
 * okx.py's Okx.checksum over book.asks(n) / book.bids(n). This module reads the same levels from
 * the book's own containers (orderscope.book.L2Book: a dict price -> size and an ascending list
 * of prices per side), so no top-N list of tuples and no str is built: each number's digits are
 * written into a C buffer (two digits a step) that CRC32 reads eight bytes a step.
 *
 * Kraken's level texts are kept in a small table (level_texts) for the next checksum.
 *
 * It only takes the case it fully understands -- exact ints, 0 < value <= INT64_MAX, every listed
 * price in its side's dict, shifts/decimals within bounds -- and returns None for anything else;
 * the caller then runs the Python reference, which gives the same result or raises its own
 * error. tests/test_checksum_native.py checks C == reference on random books.
 *
 * kraken(book, n, price_zeros, size_zeros) -> int | None
 *     CRC32 (unsigned) of the top n asks (best first) then the top n bids (best first), each
 *     level written as str(price) + "0" * price_zeros + str(size) + "0" * size_zeros.
 * okx(book, n, price_decimals, size_decimals, multiplier) -> int | None
 *     signed CRC32 of "bid1:a1:bid2:a2..." over the top n levels of each side (the shorter side
 *     simply stops), each level "price:size" with the price at price_decimals and the size
 *     divided (floor) by multiplier at size_decimals, in OKX's minimal decimal text ("30316",
 *     "0.00012": trailing fractional zeros and a bare '.' dropped).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>

/* Bounds of the fast path: zeros appended and decimals written (the references take any). */
#define MAX_ZEROS 32
#define MAX_DECIMALS 32
#define NUMBER_CHARS 64 /* >= 20 digits + MAX_DECIMALS + '.' */

static uint32_t crc_table[8][256];

/* zlib's CRC32 (reflected polynomial 0xEDB88320), its tables built once at import: table 0 is
 * the classic byte-at-a-time table, tables 1..7 advance it by 1..7 more zero bytes, so that
 * crc_update takes 8 bytes a step ("slicing-by-8"; the result is the same function). */
static void
crc_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) {
            c = (c & 1) ? 0xEDB88320U ^ (c >> 1) : c >> 1;
        }
        crc_table[0][i] = c;
    }
    for (int t = 1; t < 8; t++) {
        for (uint32_t i = 0; i < 256; i++) {
            const uint32_t c = crc_table[t - 1][i];
            crc_table[t][i] = (c >> 8) ^ crc_table[0][c & 0xFF];
        }
    }
}

/* The running register (pre-inverted: start at 0xFFFFFFFF, invert at the end). */
static inline uint32_t
crc_update(uint32_t crc, const char *text, Py_ssize_t n)
{
    const unsigned char *s = (const unsigned char *)text;
    for (; n >= 8; s += 8, n -= 8) {
        const uint32_t lo = crc ^ ((uint32_t)s[0] | (uint32_t)s[1] << 8 | (uint32_t)s[2] << 16
                                   | (uint32_t)s[3] << 24);
        const uint32_t hi =
            (uint32_t)s[4] | (uint32_t)s[5] << 8 | (uint32_t)s[6] << 16 | (uint32_t)s[7] << 24;
        crc = crc_table[7][lo & 0xFF] ^ crc_table[6][(lo >> 8) & 0xFF]
              ^ crc_table[5][(lo >> 16) & 0xFF] ^ crc_table[4][lo >> 24]
              ^ crc_table[3][hi & 0xFF] ^ crc_table[2][(hi >> 8) & 0xFF]
              ^ crc_table[1][(hi >> 16) & 0xFF] ^ crc_table[0][hi >> 24];
    }
    for (; n > 0; s++, n--) {
        crc = crc_table[0][(crc ^ *s) & 0xFF] ^ (crc >> 8);
    }
    return crc;
}

/* A level's text is written right-aligned in a small buffer, then appended to the text, which is
 * hashed whenever it fills (and at the end): few long crc_update runs, not one per level. */
#define TEXT_CHARS 2048

typedef struct {
    char text[TEXT_CHARS];
    Py_ssize_t used;
    uint32_t crc;
} Hash;

static inline void
hash_append(Hash *hash, const char *s, Py_ssize_t n)
{
    if (hash->used + n > TEXT_CHARS) {
        hash->crc = crc_update(hash->crc, hash->text, hash->used);
        hash->used = 0;
    }
    memcpy(hash->text + hash->used, s, (size_t)n); /* n <= the level buffer < TEXT_CHARS */
    hash->used += n;
}

static inline uint32_t
hash_value(Hash *hash)
{
    return crc_update(hash->crc, hash->text, hash->used) ^ 0xFFFFFFFFU;
}

static const char DIGIT_PAIRS[] = "00010203040506070809101112131415161718192021222324252627282930"
                                  "31323334353637383940414243444546474849505152535455565758596061"
                                  "62636465666768697071727374757677787980818283848586878889909192"
                                  "93949596979899";

/* str(value) for 0 < value, written right-aligned so that it ends at `end`: returns its start. */
static inline char *
digits_before(char *end, uint64_t value)
{
    char *p = end;
    while (value >= 100) { /* two digits a step */
        const unsigned pair = (unsigned)(value % 100);
        value /= 100;
        p -= 2;
        memcpy(p, DIGIT_PAIRS + 2 * pair, 2);
    }
    if (value >= 10) {
        p -= 2;
        memcpy(p, DIGIT_PAIRS + 2 * value, 2);
    }
    else {
        *--p = (char)('0' + value);
    }
    return p;
}

static const char ZEROS[MAX_ZEROS] = "00000000000000000000000000000000";

/* A positive exact int as int64; 0 (and no error set) when the fast path does not take it. */
static inline int
positive(PyObject *obj, int64_t *out)
{
    if (!PyLong_CheckExact(obj)) {
        return 0;
    }
#if PY_VERSION_HEX < 0x030C0000
    /* CPython 3.11's layout (Python.h includes cpython/longintrepr.h): the sign and digit
     * count in ob_size, PyLong_SHIFT-bit digits. One or two digits are read here directly
     * (a price or size below 2**60); zero, negative and longer ints take the API below. */
    const Py_ssize_t ndigits = Py_SIZE(obj);
    if (ndigits == 1 || ndigits == 2) {
        const digit *d = ((PyLongObject *)obj)->ob_digit;
        uint64_t v = d[0];
        if (ndigits == 2) {
            v |= (uint64_t)d[1] << PyLong_SHIFT;
        }
        *out = (int64_t)v; /* >= 1: CPython keeps no leading zero digit */
        return 1;
    }
#endif
    int overflow = 0;
    const long long v = PyLong_AsLongLongAndOverflow(obj, &overflow);
    if (overflow || v <= 0) {
        return 0; /* (-1 with an error set cannot happen for an exact int without overflow) */
    }
    *out = (int64_t)v;
    return 1;
}

/* One side of the book as borrowed references, checked for the exact types the book keeps. */
typedef struct {
    PyObject *sizes;  /* dict price -> size */
    PyObject *prices; /* list of prices, ascending */
} Side;

static PyObject *s_bid_sizes, *s_bid_prices, *s_ask_sizes, *s_ask_prices;

/* Looks the two containers of a side up: 1 found (new references in *side), 0 fall back (not a
 * book as this module knows it), -1 error. */
static int
get_side(PyObject *book, PyObject *sizes_name, PyObject *prices_name, Side *side)
{
    side->sizes = side->prices = NULL;
    PyObject *sizes = PyObject_GetAttr(book, sizes_name);
    if (sizes == NULL) {
        if (!PyErr_ExceptionMatches(PyExc_AttributeError)) {
            return -1;
        }
        PyErr_Clear();
        return 0;
    }
    PyObject *prices = PyObject_GetAttr(book, prices_name);
    if (prices == NULL) {
        Py_DECREF(sizes);
        if (!PyErr_ExceptionMatches(PyExc_AttributeError)) {
            return -1;
        }
        PyErr_Clear();
        return 0;
    }
    if (!PyDict_CheckExact(sizes) || !PyList_CheckExact(prices)) {
        Py_DECREF(sizes);
        Py_DECREF(prices);
        return 0;
    }
    side->sizes = sizes;
    side->prices = prices;
    return 1;
}

static void
release(Side *side)
{
    Py_XDECREF(side->sizes);
    Py_XDECREF(side->prices);
    side->sizes = side->prices = NULL;
}

/* Both sides: 1 found, 0 fall back, -1 error (nothing held on 0 and -1). */
static int
get_sides(PyObject *book, Side *bids, Side *asks)
{
    int found = get_side(book, s_bid_sizes, s_bid_prices, bids);
    if (found != 1) {
        return found;
    }
    found = get_side(book, s_ask_sizes, s_ask_prices, asks);
    if (found != 1) {
        release(bids);
    }
    return found;
}

/* The level at `index` of a side's price list: 1 with price and size, 0 fall back, -1 error.
 * The list may not be changed meanwhile (nothing here runs Python code: exact ints hash and
 * compare in C), but the index is checked against its size all the same. */
static inline int
level_at(const Side *side, Py_ssize_t index, int64_t *price, int64_t *size)
{
    if (index < 0 || index >= PyList_GET_SIZE(side->prices)) {
        return 0;
    }
    PyObject *p = PyList_GET_ITEM(side->prices, index);
    if (!positive(p, price)) {
        return 0;
    }
    PyObject *s = PyDict_GetItemWithError(side->sizes, p); /* borrowed */
    if (s == NULL) {
        return PyErr_Occurred() ? -1 : 0; /* a price without a size: the reference says why */
    }
    return positive(s, size);
}

/* Reads `n` as a non-negative Py_ssize_t and the small non-negative ints after it. */
static int
small_arg(PyObject *obj, Py_ssize_t limit, Py_ssize_t *out)
{
    if (!PyLong_CheckExact(obj)) {
        return 0;
    }
    int overflow = 0;
    const long long v = PyLong_AsLongLongAndOverflow(obj, &overflow);
    if (overflow || v < 0 || v > limit) {
        return 0;
    }
    *out = (Py_ssize_t)v;
    return 1;
}

/* Kraken's level texts kept from one checksum to the next: most of a book's top levels are the
 * same from frame to frame, and looking a text up costs a tenth of writing it (two numbers'
 * digits). A small table by a hash of (price, size): 256 entries of 64 bytes (16 KB, so that it
 * stays in the L1/L2 caches); a colliding level replaces the entry, and a text longer than
 * LEVEL_TEXT_CHARS is written every time. The key is the whole level and the zeros appended, so
 * a text found is the one that would be written. The GIL serialises access. */
#define LEVEL_SLOTS 256
#define LEVEL_TEXT_CHARS 44

typedef struct {
    int64_t price; /* 0: an empty entry (a level's price and size are > 0 here) */
    int64_t size;
    uint16_t zeros; /* price_zeros << 6 | size_zeros */
    uint8_t n;     /* the text's length */
    char text[LEVEL_TEXT_CHARS];
} LevelText;

static LevelText level_texts[LEVEL_SLOTS];

static inline LevelText *
level_text(int64_t price, int64_t size, Py_ssize_t price_zeros, Py_ssize_t size_zeros)
{
    uint64_t h = (uint64_t)price * 0x9E3779B97F4A7C15ULL ^ (uint64_t)size * 0xC2B2AE3D27D4EB4FULL;
    h ^= (uint64_t)(price_zeros * 33 + size_zeros);
    h *= 0x9E3779B97F4A7C15ULL;
    return &level_texts[h >> 56]; /* LEVEL_SLOTS == 2**8 */
}

static PyObject *
kraken(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 4) {
        PyErr_SetString(PyExc_TypeError,
                        "kraken(book, n, price_zeros, size_zeros) takes 4 arguments");
        return NULL;
    }
    Py_ssize_t n, price_zeros, size_zeros;
    if (!small_arg(args[1], PY_SSIZE_T_MAX, &n) || !small_arg(args[2], MAX_ZEROS, &price_zeros)
        || !small_arg(args[3], MAX_ZEROS, &size_zeros)) {
        Py_RETURN_NONE;
    }
    Side bids, asks;
    const int found = get_sides(args[0], &bids, &asks);
    if (found != 1) {
        if (found < 0) {
            return NULL;
        }
        Py_RETURN_NONE;
    }
    char buffer[2 * NUMBER_CHARS];
    char *const end = buffer + sizeof(buffer);
    const uint16_t zeros = (uint16_t)(price_zeros << 6 | size_zeros); /* both <= MAX_ZEROS */
    Hash hash;
    hash.used = 0;
    hash.crc = 0xFFFFFFFFU;
    int ok = 1;
    /* asks best first: the list's head; bids best first: the list's tail, backwards */
    const Py_ssize_t n_asks = Py_MIN(n, PyList_GET_SIZE(asks.prices));
    const Py_ssize_t n_bids = Py_MIN(n, PyList_GET_SIZE(bids.prices));
    const Py_ssize_t last_bid = PyList_GET_SIZE(bids.prices) - 1;
    for (Py_ssize_t i = 0; ok == 1 && i < n_asks + n_bids; i++) {
        int64_t price, size;
        ok = i < n_asks ? level_at(&asks, i, &price, &size)
                        : level_at(&bids, last_bid - (i - n_asks), &price, &size);
        if (ok != 1) {
            break;
        }
        LevelText *known = level_text(price, size, price_zeros, size_zeros);
        if (known->price == price && known->size == size && known->zeros == zeros) {
            hash_append(&hash, known->text, known->n);
            continue;
        }
        /* size then price, written backwards from the buffer's end */
        char *p = end - size_zeros;
        memcpy(p, ZEROS, (size_t)size_zeros);
        p = digits_before(p, (uint64_t)size);
        p -= price_zeros;
        memcpy(p, ZEROS, (size_t)price_zeros);
        p = digits_before(p, (uint64_t)price);
        hash_append(&hash, p, end - p);
        if (end - p <= LEVEL_TEXT_CHARS) { /* kept for the next checksums */
            known->price = price;
            known->size = size;
            known->zeros = zeros;
            known->n = (uint8_t)(end - p);
            memcpy(known->text, p, (size_t)(end - p));
        }
    }
    release(&bids);
    release(&asks);
    if (ok != 1) {
        if (ok < 0) {
            return NULL;
        }
        Py_RETURN_NONE;
    }
    return PyLong_FromUnsignedLong((unsigned long)hash_value(&hash));
}

/* OKX's minimal decimal text of value * 10**-decimals (value > 0), ending at `end`. */
static inline char *
plain_before(char *end, uint64_t value, Py_ssize_t decimals)
{
    if (decimals == 0) {
        return digits_before(end, value);
    }
    /* the fraction's digits, trailing zeros dropped */
    char *p = end;
    Py_ssize_t i = 0;
    while (i < decimals && value % 10 == 0) {
        value /= 10;
        i++;
    }
    if (i < decimals) {
        for (; i < decimals; i++) {
            *--p = (char)('0' + value % 10);
            value /= 10;
        }
        *--p = '.';
    } /* else: a whole number, already divided by 10**decimals above */
    return digits_before(p, value); /* the whole part, "0" when it is 0 */
}

static PyObject *
okx(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 5) {
        PyErr_SetString(PyExc_TypeError,
                        "okx(book, n, price_decimals, size_decimals, multiplier) takes 5 "
                        "arguments");
        return NULL;
    }
    Py_ssize_t n, price_decimals, size_decimals;
    int64_t multiplier;
    if (!small_arg(args[1], PY_SSIZE_T_MAX, &n)
        || !small_arg(args[2], MAX_DECIMALS, &price_decimals)
        || !small_arg(args[3], MAX_DECIMALS, &size_decimals) || !positive(args[4], &multiplier)) {
        Py_RETURN_NONE;
    }
    Side bids, asks;
    const int found = get_sides(args[0], &bids, &asks);
    if (found != 1) {
        if (found < 0) {
            return NULL;
        }
        Py_RETURN_NONE;
    }
    char buffer[2 * NUMBER_CHARS + 2];
    char *const end = buffer + sizeof(buffer);
    Hash hash;
    hash.used = 0;
    hash.crc = 0xFFFFFFFFU;
    int ok = 1;
    const Py_ssize_t n_bids = Py_MIN(n, PyList_GET_SIZE(bids.prices));
    const Py_ssize_t n_asks = Py_MIN(n, PyList_GET_SIZE(asks.prices));
    const Py_ssize_t last_bid = PyList_GET_SIZE(bids.prices) - 1;
    Py_ssize_t next_bid = 0, next_ask = 0;
    int first = 1;
    while (next_bid < n_bids || next_ask < n_asks) {
        /* bid, ask, bid, ask...; once a side runs out, the other goes on alone */
        const int take_bid = next_bid < n_bids && (next_bid <= next_ask || next_ask >= n_asks);
        int64_t price, size;
        ok = take_bid ? level_at(&bids, last_bid - next_bid, &price, &size)
                      : level_at(&asks, next_ask, &price, &size);
        if (ok != 1) {
            break;
        }
        if (take_bid) {
            next_bid++;
        }
        else {
            next_ask++;
        }
        char *p = plain_before(end, (uint64_t)(size / multiplier), size_decimals);
        *--p = ':';
        p = plain_before(p, (uint64_t)price, price_decimals);
        if (!first) {
            *--p = ':';
        }
        first = 0;
        hash_append(&hash, p, end - p);
    }
    release(&bids);
    release(&asks);
    if (ok != 1) {
        if (ok < 0) {
            return NULL;
        }
        Py_RETURN_NONE;
    }
    const uint32_t value = hash_value(&hash);
    return PyLong_FromLongLong(value & 0x80000000U ? (long long)value - 0x100000000LL
                                                   : (long long)value);
}

static PyMethodDef methods[] = {
    {"kraken", (PyCFunction)(void (*)(void))kraken, METH_FASTCALL,
     "kraken(book, n, price_zeros, size_zeros) -> Kraken's CRC32 of the top n levels, or None"},
    {"okx", (PyCFunction)(void (*)(void))okx, METH_FASTCALL,
     "okx(book, n, price_decimals, size_decimals, multiplier) -> OKX's signed CRC32, or None"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT,
    "orderscope._checksum",
    "Kraken's and OKX's book checksums in C, read from the book (None: use the reference).",
    -1,
    methods,
};

PyMODINIT_FUNC
PyInit__checksum(void)
{
    crc_init();
    if (s_bid_sizes == NULL) {
        s_bid_sizes = PyUnicode_InternFromString("_bid_sizes");
        s_bid_prices = PyUnicode_InternFromString("_bid_prices");
        s_ask_sizes = PyUnicode_InternFromString("_ask_sizes");
        s_ask_prices = PyUnicode_InternFromString("_ask_prices");
        if (s_bid_sizes == NULL || s_bid_prices == NULL || s_ask_sizes == NULL
            || s_ask_prices == NULL) {
            Py_CLEAR(s_bid_sizes);
            Py_CLEAR(s_bid_prices);
            Py_CLEAR(s_ask_sizes);
            Py_CLEAR(s_ask_prices);
            return NULL;
        }
    }
    return PyModule_Create(&module_def);
}
