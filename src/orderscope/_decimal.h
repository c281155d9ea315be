/* Decimal strings read straight from a frame's bytes, shared by the hand-written C extensions
 * (_levels.c, _coinbase.c): header-only, each includes it (static inline, no symbol exported).
 * A change here rebuilds them (setup.py `depends`, the Makefile) and makes them stale
 * (_compiled.stale). */
#ifndef ORDERSCOPE_DECIMAL_H
#define ORDERSCOPE_DECIMAL_H

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

/* INT64_MAX / 10**k, the largest value that scaled by 10**k still fits int64: a table, since
 * a division by a 10**k not known at compile time is a hardware divide (tens of cycles) on
 * every number read. */
static const uint64_t INT64_MAX_BY_POW10[20] = {
    (uint64_t)INT64_MAX / 1ULL,
    (uint64_t)INT64_MAX / 10ULL,
    (uint64_t)INT64_MAX / 100ULL,
    (uint64_t)INT64_MAX / 1000ULL,
    (uint64_t)INT64_MAX / 10000ULL,
    (uint64_t)INT64_MAX / 100000ULL,
    (uint64_t)INT64_MAX / 1000000ULL,
    (uint64_t)INT64_MAX / 10000000ULL,
    (uint64_t)INT64_MAX / 100000000ULL,
    (uint64_t)INT64_MAX / 1000000000ULL,
    (uint64_t)INT64_MAX / 10000000000ULL,
    (uint64_t)INT64_MAX / 100000000000ULL,
    (uint64_t)INT64_MAX / 1000000000000ULL,
    (uint64_t)INT64_MAX / 10000000000000ULL,
    (uint64_t)INT64_MAX / 100000000000000ULL,
    (uint64_t)INT64_MAX / 1000000000000000ULL,
    (uint64_t)INT64_MAX / 10000000000000000ULL,
    (uint64_t)INT64_MAX / 100000000000000000ULL,
    (uint64_t)INT64_MAX / 1000000000000000000ULL,
    (uint64_t)INT64_MAX / 10000000000000000000ULL,
};

/* A decimal string's content at p (just after its opening quote) up to the closing quote, read
 * in one pass: digits with at most one '.', at least one digit, no non-zero digit beyond
 * `decimals`, at most 19 digits kept (so no uint64 overflow) and a scaled value within int64.
 * The position after the closing quote and *out, or NULL for anything else (an escape, a
 * sign, an exponent, leading zeros beyond 19 digits...: parse_fixed decides those). */
static inline const unsigned char *
scan_decimal(const unsigned char *p, const unsigned char *end, Py_ssize_t decimals, int64_t *out)
{
    const unsigned char *const start = p;
    uint64_t acc = 0;
    while (p < end && (unsigned)(*p - '0') <= 9) {
        acc = acc * 10 + (unsigned)(*p - '0'); /* may wrap past 19 digits: refused below */
        p++;
    }
    Py_ssize_t kept = p - start;
    Py_ssize_t frac = 0;
    if (p < end && *p == '.') {
        const unsigned char *const digits = ++p;
        while (p < end && (unsigned)(*p - '0') <= 9) {
            p++;
        }
        frac = p - digits;
        if (frac > decimals) { /* only zeros may follow the last decimal */
            for (const unsigned char *q = digits + decimals; q < p; q++) {
                if (*q != '0') {
                    return NULL;
                }
            }
            frac = decimals;
        }
        if (kept + frac > 19) {
            return NULL;
        }
        for (const unsigned char *q = digits; q < digits + frac; q++) {
            acc = acc * 10 + (unsigned)(*q - '0');
        }
        if (kept == 0 && p == digits) {
            return NULL; /* "." */
        }
    }
    else if (kept == 0) {
        return NULL; /* "" */
    }
    if (kept + frac > 19 || p >= end || *p != '"') {
        return NULL;
    }
    const Py_ssize_t shift = decimals - frac;
    if (acc > INT64_MAX_BY_POW10[shift]) {
        return NULL;
    }
    *out = (int64_t)(acc * POW10[shift]);
    return p + 1;
}

#endif /* ORDERSCOPE_DECIMAL_H */
