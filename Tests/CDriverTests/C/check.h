/* A minimal check harness for the C tests: CHECK records a failure and goes on. */
#ifndef AZALIA_CHECK_H
#define AZALIA_CHECK_H
#include <stdio.h>

static int check_failures = 0;
static int check_count = 0;

#define CHECK(cond) do { check_count++; if (!(cond)) { check_failures++; \
    fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); } } while (0)
#define CHECK_STATUS(expr, want) do { long _got = (long)(expr); check_count++; if (_got != (long)(want)) { \
    check_failures++; fprintf(stderr, "%s:%d: %s returned 0x%08lx, want 0x%08lx\n", __FILE__, __LINE__, #expr, \
    (unsigned long)(unsigned)_got, (unsigned long)(unsigned)(want)); } } while (0)
#define CHECK_DONE() (printf("%d checks, %d failed\n", check_count, check_failures), check_failures == 0 ? 0 : 1)
#endif
