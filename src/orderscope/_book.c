/* orderscope._book: the L2 book's per-level operations in C (issues 2/3, replay cost).
 *
 * The references are the pure-Python functions of orderscope/book.py (always kept; they run in
 * a pure build or run): ``_apply_levels``, ``_load_levels`` and the list building of
 * ``L2Book.bids(n)`` / ``asks(n)``. These kernels work on the same representation -- per side a
 * dict price -> size and an ascending list of its prices -- so that flow/book_tracker.py, which
 * reads them directly, sees no difference.
 *
 * Exact by construction: the C loop takes only levels it fully understands -- a tuple of
 * exactly two exact ints -- and hands anything else (a list of lists, a generator, a float, a
 * bool, an int subclass) to the Python reference, which then produces the same state and the
 * same errors. Prices are compared by value: as int64 when both fit, else by
 * PyObject_RichCompareBool (what ``bisect`` does), so ints beyond int64 stay exact.
 *
 * apply_sides(bid_sizes, bid_prices, ask_sizes, ask_prices, bids, asks, reference) -> int
 *     ``(reference(bid_sizes, bid_prices, bids) if bids else 0) + (the same for asks)``:
 *     what L2Book.apply_delta applies, in one call. ``reference`` is book._apply_levels; it
 *     is called for a side that is not a list or tuple, and for the rest of a side from its
 *     first level that is not a tuple of two exact ints.
 * load_side(sizes, prices, levels) -> int | None
 *     ``_load_levels`` for a list or tuple of tuples of two exact ints (the snapshot path);
 *     None, before touching anything, for any other input: the caller runs the reference.
 * absent_deletion(bid_sizes, ask_sizes, bids, asks) -> tuple[str, int] | None | False
 *     L2Book.absent_deletion: the first level of size 0 whose price the side has not, as
 *     ("bid" | "ask", price), or None; False when a level on the way is not a tuple of two
 *     exact ints (nothing is changed here: the caller runs the reference from the start).
 * top_levels(sizes, prices, n, best_last) -> list[tuple[int, int]] | None
 *     ``bids(n)`` (best_last true: the list's end is the best) or ``asks(n)``, the same slicing
 *     rules for every int n and None; None for another n (the caller runs the reference).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>

/* An exact int's value as int64: 1 when it fits, 0 when it does not (or is not an exact int;
 * never an error). */
static inline int
small_int(PyObject *o, int64_t *out)
{
    if (!PyLong_CheckExact(o)) {
        return 0;
    }
#if PY_VERSION_HEX < 0x030C0000 && PyLong_SHIFT == 30
    /* CPython 3.11: up to two 30-bit digits read directly (a price or size of a venue fits);
     * the binary search reads one per step. Later versions changed the layout: the API. */
    const Py_ssize_t ndigits = Py_SIZE(o);
    const digit *d = ((PyLongObject *)o)->ob_digit;
    switch (ndigits) {
    case 0:
        *out = 0;
        return 1;
    case 1:
        *out = (int64_t)d[0];
        return 1;
    case -1:
        *out = -(int64_t)d[0];
        return 1;
    case 2:
        *out = (int64_t)d[0] | ((int64_t)d[1] << PyLong_SHIFT);
        return 1;
    case -2:
        *out = -((int64_t)d[0] | ((int64_t)d[1] << PyLong_SHIFT));
        return 1;
    default:
        break;
    }
#endif
    int overflow;
    const long long v = PyLong_AsLongLongAndOverflow(o, &overflow);
    if (overflow) {
        return 0;
    }
    if (v == -1 && PyErr_Occurred()) { /* not for an exact int; cleared to keep the promise */
        PyErr_Clear();
        return 0;
    }
    *out = (int64_t)v;
    return 1;
}

/* An exact int's truth: 1 or 0 (-1 on error, on versions whose layout is not read here). */
static inline int
exact_int_is_nonzero(PyObject *o)
{
#if PY_VERSION_HEX < 0x030C0000
    return Py_SIZE(o) != 0; /* 3.11's layout: the digit count, 0 for zero */
#else
    return PyObject_IsTrue(o);
#endif
}

/* a < b as Python compares them: -1 on error. ``a_small``: a's value when ``a_fits``. */
static inline int
less_than(PyObject *a, int a_fits, int64_t a_small, PyObject *b, int b_fits, int64_t b_small)
{
    if (a_fits && b_fits) {
        return a_small < b_small;
    }
    return PyObject_RichCompareBool(a, b, Py_LT);
}

/* bisect.bisect_right (right = 1, insort's position) or bisect_left (right = 0) of ``x`` in
 * the list: -1 on error. The list is re-read at every step (a comparison of objects that are
 * not ints could run Python code), each item held while it is compared. */
static Py_ssize_t
bisect(PyObject *list, PyObject *x, int right)
{
    int64_t xv = 0;
    const int x_fits = small_int(x, &xv);
    Py_ssize_t lo = 0;
    Py_ssize_t hi = PyList_GET_SIZE(list);
    while (lo < hi) {
        const Py_ssize_t mid = lo + (hi - lo) / 2;
        if (mid >= PyList_GET_SIZE(list)) {
            PyErr_SetString(PyExc_IndexError, "list index out of range");
            return -1;
        }
        PyObject *item = PyList_GET_ITEM(list, mid);
        int64_t iv = 0;
        const int item_fits = small_int(item, &iv);
        int lt;
        if (x_fits && item_fits) {
            lt = right ? xv < iv : iv < xv;
        }
        else {
            Py_INCREF(item);
            lt = right ? less_than(x, x_fits, xv, item, item_fits, iv)
                       : less_than(item, item_fits, iv, x, x_fits, xv);
            Py_DECREF(item);
            if (lt < 0) {
                return -1;
            }
        }
        if (right) {
            if (lt) {
                hi = mid;
            }
            else {
                lo = mid + 1;
            }
        }
        else {
            if (lt) {
                lo = mid + 1;
            }
            else {
                hi = mid;
            }
        }
    }
    return lo;
}

/* The dict operations of one level with the price's hash computed once (CPython <= 3.12
 * exports the known-hash variants; later versions: the public calls, which hash again). A
 * level costs two or three dict operations, and hashing a price is a fifth of each. */
#if PY_VERSION_HEX < 0x030D0000
#define PRICE_HASH(price) PyObject_Hash(price)
#define SIZE_OF(sizes, price, hash) _PyDict_GetItem_KnownHash(sizes, price, hash)
#define SET_SIZE(sizes, price, size, hash) _PyDict_SetItem_KnownHash(sizes, price, size, hash)
#define DEL_SIZE(sizes, price, hash) _PyDict_DelItem_KnownHash(sizes, price, hash)
#else
#define PRICE_HASH(price) ((Py_hash_t)0)
#define SIZE_OF(sizes, price, hash) PyDict_GetItemWithError(sizes, price)
#define SET_SIZE(sizes, price, size, hash) PyDict_SetItem(sizes, price, size)
#define DEL_SIZE(sizes, price, hash) PyDict_DelItem(sizes, price)
#endif

/* One level of _apply_levels, price and size exact ints:
 *     if size: (insort(prices, price) if price not in sizes); sizes[price] = size
 *     elif price in sizes: del sizes[price]; del prices[bisect_left(prices, price)]
 * 0 on success, -1 on error. */
static int
apply_one(PyObject *sizes, PyObject *prices, PyObject *price, PyObject *size)
{
    const int nonzero = exact_int_is_nonzero(size);
    if (nonzero < 0) {
        return -1;
    }
    const Py_hash_t hash = PRICE_HASH(price);
    if (hash == -1 && PyErr_Occurred()) {
        return -1;
    }
    /* borrowed; only its presence is used, before the dict changes */
    const int present = SIZE_OF(sizes, price, hash) != NULL;
    if (!present && PyErr_Occurred()) {
        return -1;
    }
    if (nonzero) {
        if (!present) {
            const Py_ssize_t at = bisect(prices, price, 1);
            if (at < 0 || PyList_Insert(prices, at, price) < 0) {
                return -1;
            }
        }
        return SET_SIZE(sizes, price, size, hash);
    }
    if (!present) {
        return 0;
    }
    if (DEL_SIZE(sizes, price, hash) < 0) {
        return -1;
    }
    const Py_ssize_t at = bisect(prices, price, 0);
    if (at < 0) {
        return -1;
    }
    return PySequence_DelItem(prices, at); /* IndexError past the end, as `del prices[at]` */
}

/* reference(sizes, prices, levels): its count, or -1 on error. */
static Py_ssize_t
apply_by_reference(PyObject *sizes, PyObject *prices, PyObject *levels, PyObject *reference)
{
    PyObject *got = PyObject_CallFunctionObjArgs(reference, sizes, prices, levels, NULL);
    if (got == NULL) {
        return -1;
    }
    const Py_ssize_t count = PyLong_AsSsize_t(got);
    Py_DECREF(got);
    return count; /* -1 with an error set if not an int (the reference always returns one) */
}

/* _apply_levels(sizes, prices, levels) for one side: the count, or -1 on error. */
static Py_ssize_t
apply_side(PyObject *sizes, PyObject *prices, PyObject *levels, PyObject *reference)
{
    const int is_list = PyList_CheckExact(levels);
    if (!(is_list || PyTuple_CheckExact(levels)) || !PyDict_CheckExact(sizes) ||
        !PyList_CheckExact(prices)) {
        return apply_by_reference(sizes, prices, levels, reference);
    }
    Py_ssize_t i = 0;
    /* The size is re-read at every level, as list iteration does. */
    while (i < (is_list ? PyList_GET_SIZE(levels) : PyTuple_GET_SIZE(levels))) {
        PyObject *level = is_list ? PyList_GET_ITEM(levels, i) : PyTuple_GET_ITEM(levels, i);
        if (!PyTuple_CheckExact(level) || PyTuple_GET_SIZE(level) != 2 ||
            !PyLong_CheckExact(PyTuple_GET_ITEM(level, 0)) ||
            !PyLong_CheckExact(PyTuple_GET_ITEM(level, 1))) {
            /* the rest by the reference: its values, its errors */
            PyObject *rest = is_list ? PyList_GetSlice(levels, i, PY_SSIZE_T_MAX)
                                     : PyTuple_GetSlice(levels, i, PY_SSIZE_T_MAX);
            if (rest == NULL) {
                return -1;
            }
            const Py_ssize_t more = apply_by_reference(sizes, prices, rest, reference);
            Py_DECREF(rest);
            return more < 0 ? -1 : i + more;
        }
        Py_INCREF(level); /* held: a comparison could run code that changes `levels` */
        const int failed = apply_one(sizes, prices, PyTuple_GET_ITEM(level, 0),
                                     PyTuple_GET_ITEM(level, 1));
        Py_DECREF(level);
        if (failed) {
            return -1;
        }
        i++;
    }
    return i;
}

static PyObject *
apply_sides(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 7) {
        PyErr_SetString(PyExc_TypeError,
                        "apply_sides(bid_sizes, bid_prices, ask_sizes, ask_prices, bids, asks,"
                        " reference) takes 7 arguments");
        return NULL;
    }
    Py_ssize_t total = 0;
    for (int side = 0; side < 2; side++) {
        PyObject *levels = args[4 + side];
        /* `if bids`: no call for an empty side */
        const int truthy =
            PyList_CheckExact(levels) ? PyList_GET_SIZE(levels) != 0 : PyObject_IsTrue(levels);
        if (truthy < 0) {
            return NULL;
        }
        if (truthy) {
            const Py_ssize_t n = apply_side(args[2 * side], args[2 * side + 1], levels, args[6]);
            if (n < 0) {
                return NULL;
            }
            total += n;
        }
    }
    return PyLong_FromSsize_t(total);
}

/* load_side: _load_levels for a list or tuple of (exact int, exact int) tuples, else None. */
static PyObject *
load_side(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 3) {
        PyErr_SetString(PyExc_TypeError, "load_side(sizes, prices, levels) takes 3 arguments");
        return NULL;
    }
    PyObject *sizes = args[0];
    PyObject *prices = args[1];
    PyObject *levels = args[2];
    if (!(PyList_CheckExact(levels) || PyTuple_CheckExact(levels)) || !PyDict_CheckExact(sizes) ||
        !PyList_CheckExact(prices) || PyDict_GET_SIZE(sizes) != 0) {
        Py_RETURN_NONE;
    }
    const Py_ssize_t n = PySequence_Fast_GET_SIZE(levels);
    PyObject **items = PySequence_Fast_ITEMS(levels);
    for (Py_ssize_t i = 0; i < n; i++) { /* the whole input is checked before any change */
        PyObject *level = items[i];
        if (!PyTuple_CheckExact(level) || PyTuple_GET_SIZE(level) != 2 ||
            !PyLong_CheckExact(PyTuple_GET_ITEM(level, 0)) ||
            !PyLong_CheckExact(PyTuple_GET_ITEM(level, 1))) {
            Py_RETURN_NONE;
        }
    }
    /* sizes.update(levels), then no level of size 0: exact ints, so no code runs here and
     * `levels` cannot change under the loop. Up to 3.12 the levels go into a dict made at
     * their size first, which the empty `sizes` then takes over whole (dict.update's copy of
     * a dict into an empty one): filled one by one, `sizes` would regrow through every power
     * of two on the way, rehashing what it holds each time (half a snapshot's cost). The
     * same keys, values and order either way. */
#if PY_VERSION_HEX < 0x030D0000
    PyObject *target = _PyDict_NewPresized(n);
    if (target == NULL) {
        return NULL;
    }
#else
    PyObject *target = Py_NewRef(sizes);
#endif
    int any_zero = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *level = items[i];
        const int nonzero = exact_int_is_nonzero(PyTuple_GET_ITEM(level, 1));
        if (nonzero < 0 ||
            PyDict_SetItem(target, PyTuple_GET_ITEM(level, 0), PyTuple_GET_ITEM(level, 1)) < 0) {
            Py_DECREF(target);
            return NULL;
        }
        any_zero |= !nonzero;
    }
    if (target != sizes && PyDict_Update(sizes, target) < 0) {
        Py_DECREF(target);
        return NULL;
    }
    Py_DECREF(target);
    PyObject *keys = NULL;
    PyObject *zeros = NULL;
    if (!any_zero && PyDict_GET_SIZE(sizes) == n) {
        /* the usual snapshot: no level of size 0 and no price twice, so the dict's keys are
         * the levels' prices (the same objects, in the same order) */
        keys = PyList_New(n);
        if (keys == NULL) {
            return NULL;
        }
        for (Py_ssize_t i = 0; i < n; i++) {
            PyObject *price = PyTuple_GET_ITEM(items[i], 0);
            Py_INCREF(price);
            PyList_SET_ITEM(keys, i, price);
        }
        goto sort;
    }
    /* then `del sizes[p]` for every p of size 0, as the reference does (the order of the
     * others kept), and the remaining keys to sort */
    keys = PyList_New(0);
    zeros = PyList_New(0);
    if (keys == NULL || zeros == NULL) {
        goto fail;
    }
    Py_ssize_t pos = 0;
    PyObject *key;
    PyObject *value;
    while (PyDict_Next(sizes, &pos, &key, &value)) {
        const int nonzero = PyObject_IsTrue(value);
        if (nonzero < 0 || PyList_Append(nonzero ? keys : zeros, key) < 0) {
            goto fail;
        }
    }
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(zeros); i++) {
        if (PyDict_DelItem(sizes, PyList_GET_ITEM(zeros, i)) < 0) {
            goto fail;
        }
    }
    Py_CLEAR(zeros);
sort:
    /* sorted(sizes): a snapshot arrives sorted (or reversed), a linear pass for the sort */
    if (PyList_Sort(keys) < 0) {
        goto fail;
    }
    const Py_ssize_t end = PyList_GET_SIZE(prices);
    const int extended = PyList_SetSlice(prices, end, end, keys);
    Py_DECREF(keys);
    if (extended < 0) {
        return NULL;
    }
    return PyLong_FromSsize_t(n);
fail:
    Py_XDECREF(keys);
    Py_XDECREF(zeros);
    return NULL;
}

/* replace_side(sizes, prices, levels): the side replaced by `levels` as `clear()` and
 * book._load_levels leave it (sizes == dict(levels), prices == sorted(sizes)), without emptying
 * it first: the prices the snapshot no longer has are deleted, its levels set, the sorted list
 * replaced. A venue that sends whole books (HTX every frame) mostly sends the same prices again,
 * so the dict keeps its table (no clear, no regrowth through every size on refill) and most
 * sets find their key. Taken only for levels of two exact ints whose prices fit int64 and are
 * strictly increasing or strictly decreasing (no price twice) with no size 0, over a side whose
 * prices fit int64 too: then the result is the reference's by construction (dict order, the one
 * difference, is never read). None, with nothing changed, for anything else: the caller clears
 * the side and loads it. */
static PyObject *
replace_side(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 3) {
        PyErr_SetString(PyExc_TypeError, "replace_side(sizes, prices, levels) takes 3 arguments");
        return NULL;
    }
    PyObject *sizes = args[0];
    PyObject *prices = args[1];
    PyObject *levels = args[2];
    if (!(PyList_CheckExact(levels) || PyTuple_CheckExact(levels)) || !PyDict_CheckExact(sizes) ||
        !PyList_CheckExact(prices)) {
        Py_RETURN_NONE;
    }
    const Py_ssize_t n = PySequence_Fast_GET_SIZE(levels);
    const Py_ssize_t old_n = PyList_GET_SIZE(prices);
    if (n < 2 || old_n == 0 || PyDict_GET_SIZE(sizes) != old_n) {
        Py_RETURN_NONE; /* nothing to keep, or a shape the reference handles cheaply */
    }
    PyObject **items = PySequence_Fast_ITEMS(levels);
    /* the levels' prices ascending, then the side's: each read once */
    int64_t *values = PyMem_Malloc(sizeof(int64_t) * (size_t)(n + old_n));
    if (values == NULL) {
        return PyErr_NoMemory();
    }
    int descending = 0;
    for (Py_ssize_t i = 0; i < n; i++) { /* the whole input is checked before any change */
        PyObject *level = items[i];
        int64_t v;
        if (!PyTuple_CheckExact(level) || PyTuple_GET_SIZE(level) != 2 ||
            !PyLong_CheckExact(PyTuple_GET_ITEM(level, 1)) ||
            Py_SIZE(PyTuple_GET_ITEM(level, 1)) == 0 || /* size 0: no level */
            !small_int(PyTuple_GET_ITEM(level, 0), &v)) {
            goto not_taken;
        }
        if (i == 1) {
            descending = v < values[0];
        }
        if (i >= 1 && (descending ? v >= values[i - 1] : v <= values[i - 1])) {
            goto not_taken;
        }
        values[i] = v;
    }
    if (descending) { /* the bids of a venue: best first */
        for (Py_ssize_t i = 0, j = n - 1; i < j; i++, j--) {
            const int64_t t = values[i];
            values[i] = values[j];
            values[j] = t;
        }
    }
    PyObject **old = PySequence_Fast_ITEMS(prices);
    int64_t *const old_values = values + n;
    for (Py_ssize_t i = 0; i < old_n; i++) {
        if (!small_int(old[i], &old_values[i])) {
            goto not_taken;
        }
    }
    /* From here on the side changes. The prices it no longer has (a merge of two ascending
     * sequences); then the new sorted list built before the dict changes, so that a failure
     * leaves no half-made list. */
    PyObject *ascending = PyList_New(n);
    if (ascending == NULL) {
        PyMem_Free(values);
        return NULL;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *price = PyTuple_GET_ITEM(items[descending ? n - 1 - i : i], 0);
        Py_INCREF(price);
        PyList_SET_ITEM(ascending, i, price);
    }
    Py_ssize_t k = 0;
    for (Py_ssize_t i = 0; i < old_n; i++) {
        const int64_t v = old_values[i];
        while (k < n && values[k] < v) {
            k++;
        }
        if ((k == n || values[k] != v) && PyDict_DelItem(sizes, old[i]) < 0) {
            goto fail;
        }
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *price = PyTuple_GET_ITEM(items[i], 0);
        PyObject *size = PyTuple_GET_ITEM(items[i], 1);
        /* A level the side has at this size already (the usual case) is left as it is: a
         * lookup, not a store. An equal int of another identity counts as the same size. */
        PyObject *known = PyDict_GetItemWithError(sizes, price); /* borrowed */
        if (known == NULL && PyErr_Occurred()) {
            goto fail;
        }
        int64_t was, now;
        if (known == size || (known != NULL && small_int(known, &was) &&
                              small_int(size, &now) && was == now)) {
            continue;
        }
        if (PyDict_SetItem(sizes, price, size) < 0) {
            goto fail;
        }
    }
    PyMem_Free(values);
    const int replaced = PyList_SetSlice(prices, 0, old_n, ascending);
    Py_DECREF(ascending);
    if (replaced < 0) {
        return NULL;
    }
    return PyLong_FromSsize_t(n);
fail:
    PyMem_Free(values);
    Py_DECREF(ascending);
    return NULL;
not_taken:
    PyMem_Free(values);
    Py_RETURN_NONE;
}

/* The first level of `levels` deleting a price `sizes` has not: 1 (*found set, borrowed), 0
 * when there is none, -2 when a level is not a tuple of two exact ints, -1 on error. */
static int
first_absent(PyObject *sizes, PyObject *levels, PyObject **found)
{
    if (!(PyList_CheckExact(levels) || PyTuple_CheckExact(levels)) || !PyDict_CheckExact(sizes)) {
        return -2;
    }
    /* exact ints only: no code runs, `levels` cannot change under the loop */
    const Py_ssize_t n = PySequence_Fast_GET_SIZE(levels);
    PyObject **items = PySequence_Fast_ITEMS(levels);
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *level = items[i];
        if (!PyTuple_CheckExact(level) || PyTuple_GET_SIZE(level) != 2 ||
            !PyLong_CheckExact(PyTuple_GET_ITEM(level, 0)) ||
            !PyLong_CheckExact(PyTuple_GET_ITEM(level, 1))) {
            return -2;
        }
        PyObject *price = PyTuple_GET_ITEM(level, 0);
        const int nonzero = PyObject_IsTrue(PyTuple_GET_ITEM(level, 1));
        if (nonzero < 0) {
            return -1;
        }
        if (!nonzero) {
            const int present = PyDict_Contains(sizes, price);
            if (present < 0) {
                return -1;
            }
            if (!present) {
                *found = price;
                return 1;
            }
        }
    }
    return 0;
}

static PyObject *
absent_deletion(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 4) {
        PyErr_SetString(PyExc_TypeError,
                        "absent_deletion(bid_sizes, ask_sizes, bids, asks) takes 4 arguments");
        return NULL;
    }
    static const char *names[2] = {"bid", "ask"};
    for (int side = 0; side < 2; side++) {
        PyObject *found = NULL;
        const int got = first_absent(args[side], args[2 + side], &found);
        if (got == -1) {
            return NULL;
        }
        if (got == -2) {
            Py_RETURN_FALSE;
        }
        if (got == 1) {
            return Py_BuildValue("(sO)", names[side], found);
        }
    }
    Py_RETURN_NONE;
}

/* top_levels: the best n levels, best first, as (price, sizes[price]) tuples. */
static PyObject *
top_levels(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 4) {
        PyErr_SetString(PyExc_TypeError,
                        "top_levels(sizes, prices, n, best_last) takes 4 arguments");
        return NULL;
    }
    PyObject *sizes = args[0];
    PyObject *prices = args[1];
    PyObject *n_obj = args[2];
    const int best_last = PyObject_IsTrue(args[3]);
    if (best_last < 0) {
        return NULL;
    }
    if (!PyDict_CheckExact(sizes) || !PyList_CheckExact(prices) ||
        !(n_obj == Py_None || PyLong_CheckExact(n_obj))) {
        Py_RETURN_NONE;
    }
    const Py_ssize_t len = PyList_GET_SIZE(prices);
    Py_ssize_t count = len;
    if (n_obj != Py_None) {
        /* clamped to Py_ssize_t, which every slice bound is anyway */
        const Py_ssize_t n = PyNumber_AsSsize_t(n_obj, NULL);
        if (n == -1 && PyErr_Occurred()) {
            return NULL;
        }
        if (best_last) { /* prices[: -n - 1 : -1] if n > 0 else [] */
            count = n > 0 ? (n < len ? n : len) : 0;
        }
        else { /* prices[:n] */
            count = n < 0 ? (n + len > 0 ? n + len : 0) : (n < len ? n : len);
        }
    }
    PyObject *result = PyList_New(count);
    if (result == NULL) {
        return NULL;
    }
    for (Py_ssize_t i = 0; i < count; i++) {
        PyObject *price = PyList_GET_ITEM(prices, best_last ? len - 1 - i : i);
        Py_INCREF(price);
        PyObject *size = PyDict_GetItemWithError(sizes, price); /* borrowed */
        if (size == NULL) {
            if (!PyErr_Occurred()) { /* dict's KeyError (a tuple key is wrapped, as dict does) */
                PyObject *key = PyTuple_Pack(1, price);
                if (key != NULL) {
                    PyErr_SetObject(PyExc_KeyError, key);
                    Py_DECREF(key);
                }
            }
            Py_DECREF(price);
            Py_DECREF(result);
            return NULL;
        }
        Py_INCREF(size);
        PyObject *pair = PyTuple_New(2);
        if (pair == NULL) {
            Py_DECREF(price);
            Py_DECREF(size);
            Py_DECREF(result);
            return NULL;
        }
        PyTuple_SET_ITEM(pair, 0, price);
        PyTuple_SET_ITEM(pair, 1, size);
        PyList_SET_ITEM(result, i, pair);
    }
    return result;
}

static PyMethodDef methods[] = {
    {"apply_sides", (PyCFunction)(void (*)(void))apply_sides, METH_FASTCALL,
     "Both sides of a delta, as book._apply_levels applies them; the level count."},
    {"load_side", (PyCFunction)(void (*)(void))load_side, METH_FASTCALL,
     "book._load_levels for tuples of two exact ints, else None."},
    {"replace_side", (PyCFunction)(void (*)(void))replace_side, METH_FASTCALL,
     "A side replaced by strictly sorted levels (clear() + book._load_levels), else None."},
    {"absent_deletion", (PyCFunction)(void (*)(void))absent_deletion, METH_FASTCALL,
     "L2Book.absent_deletion for tuples of two exact ints, else False."},
    {"top_levels", (PyCFunction)(void (*)(void))top_levels, METH_FASTCALL,
     "The best n levels of a side, best first (L2Book.bids/asks), or None."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef book_module = {
    PyModuleDef_HEAD_INIT,
    "orderscope._book",
    "The L2 book's per-level operations in C; orderscope/book.py holds the reference.",
    -1,
    methods,
    NULL,
    NULL,
    NULL,
    NULL,
};

PyMODINIT_FUNC
PyInit__book(void)
{
    return PyModule_Create(&book_module);
}
