#include "tests/check.h"

#include <ctype.h>
#include <stdarg.h>

unsigned tc_checks_run, tc_checks_failed;

void tc_check_fail(const char *file, int line, const char *fmt, ...)
{
    va_list ap;

    tc_checks_failed++;
    fprintf(stderr, "%s:%d: FAIL: ", file, line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

static void print_hex(const char *label, const uint8_t *p, size_t len)
{
    fprintf(stderr, "  %s ", label);
    for (size_t i = 0; i < len; i++) {
        fprintf(stderr, "%02x", p[i]);
    }
    fputc('\n', stderr);
}

void tc_check_mem_fail(const char *file, int line, const char *what, const uint8_t *got,
                       const uint8_t *want, size_t len)
{
    size_t first = 0;

    while (first < len && got[first] == want[first]) {
        first++;
    }
    tc_check_fail(file, line, "%s differs from byte %zu of %zu", what, first, len);
    print_hex("got: ", got, len);
    print_hex("want:", want, len);
}

int tc_check_exit(const char *name)
{
    printf("%s: %u checks, %u failed\n", name, tc_checks_run, tc_checks_failed);
    return tc_checks_failed == 0 && tc_checks_run > 0 ? 0 : 1;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    c = tolower(c);
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    return -1;
}

size_t tc_unhex(uint8_t *out, size_t cap, const char *hex)
{
    size_t n = 0;
    int hi = -1;

    for (const char *s = hex; *s != '\0'; s++) {
        int v;

        if (isspace((unsigned char)*s)) {
            continue;
        }
        v = hexval((unsigned char)*s);
        if (v < 0) {
            fprintf(stderr, "tc_unhex: bad character '%c'\n", *s);
            exit(2);
        }
        if (hi < 0) {
            hi = v;
            continue;
        }
        if (n == cap) {
            fprintf(stderr, "tc_unhex: more than %zu bytes\n", cap);
            exit(2);
        }
        out[n++] = (uint8_t)(hi << 4 | v);
        hi = -1;
    }
    if (hi >= 0) {
        fprintf(stderr, "tc_unhex: odd number of digits\n");
        exit(2);
    }
    return n;
}
